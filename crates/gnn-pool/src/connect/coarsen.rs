use burn::tensor::{Int, Tensor, TensorData, backend::Backend};
use gnn_core::burn_compat::{reshape, zeros_if_element_free};
use gnn_core::segment::scatter_sum;
use gnn_core::{GraphBatch, host};

use crate::select::Clustering;

/// The edges between clusters.
#[derive(Debug, Clone)]
pub struct CoarsenedEdges<B: Backend> {
    /// Edges between clusters `[2, E']`, sorted by (source, target), without duplicates.
    pub edge_index: Tensor<B, 2, Int>,
    /// Summed features of the merged edges `[E', D]`.
    pub edge_attr: Option<Tensor<B, 2>>,
    /// Summed weights of the merged edges `[E']`.
    pub edge_weight: Option<Tensor<B, 1>>,
    /// Coarse edges per graph.
    pub edge_counts: Vec<usize>,
}

/// PyG's `pool_edge`: maps every edge to the clusters of its ends, drops the edges inside a
/// cluster unless `keep_self_loops`, merges duplicates (summing their features and weights) and
/// sorts by (source, target). Reads the edges once.
pub fn coarsen_edges<B: Backend>(
    graphs: &GraphBatch<B>,
    clustering: &Clustering,
    keep_self_loops: bool,
) -> CoarsenedEdges<B> {
    let device = graphs.device();
    let e = graphs.num_edges();
    let edges = if e == 0 {
        Vec::new()
    } else {
        host::ints(graphs.edge_index().clone())
    };
    let cluster = clustering.assignment();
    let mut mapped: Vec<(usize, usize, usize)> = (0..e)
        .map(|edge| {
            (
                cluster[edges[edge] as usize],
                cluster[edges[e + edge] as usize],
                edge,
            )
        })
        .filter(|&(s, t, _)| keep_self_loops || s != t)
        .collect();
    mapped.sort_unstable();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut group = Vec::with_capacity(mapped.len());
    for &(s, t, _) in &mapped {
        if pairs.last() != Some(&(s, t)) {
            pairs.push((s, t));
        }
        group.push(pairs.len() - 1);
    }
    let mut graph_of_cluster = Vec::with_capacity(clustering.num_clusters());
    for (g, &c) in clustering.clusters_per_graph().iter().enumerate() {
        graph_of_cluster.extend(std::iter::repeat_n(g, c));
    }
    let mut edge_counts = vec![0; graphs.num_graphs()];
    for &(s, _) in &pairs {
        edge_counts[graph_of_cluster[s]] += 1;
    }
    let num_pairs = pairs.len();
    let flat: Vec<i64> = pairs
        .iter()
        .map(|p| p.0 as i64)
        .chain(pairs.iter().map(|p| p.1 as i64))
        .collect();
    let edge_index = Tensor::from_data(TensorData::new(flat, [2, num_pairs]), &device);
    let source_edges: Vec<usize> = mapped.iter().map(|m| m.2).collect();
    let merge = |values: Tensor<B, 2>| -> Tensor<B, 2> {
        if let Some(zeros) =
            zeros_if_element_free(&[mapped.len()], [num_pairs, values.dims()[1]], &device)
        {
            return zeros;
        }
        let picked = values.select(0, host::index_tensor(&source_edges, &device));
        scatter_sum(picked, host::index_tensor(&group, &device), num_pairs)
    };
    CoarsenedEdges {
        edge_index,
        edge_attr: graphs.edge_attr().map(|a| merge(a.clone())),
        edge_weight: graphs
            .edge_weight()
            .map(|w| reshape(merge(w.clone().unsqueeze_dim::<2>(1)), [num_pairs])),
        edge_counts,
    }
}
