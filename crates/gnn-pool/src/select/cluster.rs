use burn::tensor::{Int, Tensor, backend::Backend};
use gnn_core::{GraphBatch, host};

use crate::error::{PoolError, Result};

/// A cluster assignment of the nodes of a batch, relabelled to `0..C` in ascending order of the
/// given ids (PyG's `consecutive_cluster`), held on the host.
///
/// Each cluster must lie inside one graph, and clusters must follow the graph order (so the
/// pooled batch is again grouped by graph); an assignment that breaks either is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clustering {
    assignment: Vec<usize>,
    cluster_sizes: Vec<usize>,
    clusters_per_graph: Vec<usize>,
}

impl Clustering {
    /// Relabels arbitrary non-negative cluster ids, one per node of `graphs`.
    ///
    /// # Errors
    /// [`PoolError::InvalidClusters`] for a wrong length, a negative id, a cluster spanning two
    /// graphs, or clusters out of graph order.
    pub fn from_ids<B: Backend>(ids: &[i64], graphs: &GraphBatch<B>) -> Result<Self> {
        let invalid = |m: String| Err(PoolError::InvalidClusters(m));
        if ids.len() != graphs.num_nodes() {
            return invalid(format!(
                "{} cluster ids for {} nodes",
                ids.len(),
                graphs.num_nodes()
            ));
        }
        if let Some((node, id)) = ids.iter().enumerate().find(|(_, id)| **id < 0) {
            return invalid(format!("node {node} has the negative cluster id {id}"));
        }
        let mut distinct: Vec<i64> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let relabel = |id: i64| {
            distinct
                .binary_search(&id)
                .expect("id is among the distinct ids")
        };
        let assignment: Vec<usize> = ids.iter().map(|&id| relabel(id)).collect();

        let mut graph_of_cluster = vec![usize::MAX; distinct.len()];
        let mut cluster_sizes = vec![0; distinct.len()];
        for (g, window) in graphs.node_offsets().windows(2).enumerate() {
            for (node, &c) in assignment
                .iter()
                .enumerate()
                .take(window[1])
                .skip(window[0])
            {
                cluster_sizes[c] += 1;
                if graph_of_cluster[c] == usize::MAX {
                    graph_of_cluster[c] = g;
                } else if graph_of_cluster[c] != g {
                    return invalid(format!(
                        "cluster {} holds nodes of graph {} and graph {g} (node {node})",
                        distinct[c], graph_of_cluster[c]
                    ));
                }
            }
        }
        if let Some(c) = graph_of_cluster.windows(2).position(|w| w[1] < w[0]) {
            return invalid(format!(
                "cluster {} (graph {}) comes after cluster {} (graph {}): cluster ids must ascend with the graphs",
                distinct[c + 1],
                graph_of_cluster[c + 1],
                distinct[c],
                graph_of_cluster[c]
            ));
        }
        let mut clusters_per_graph = vec![0; graphs.num_graphs()];
        for &g in &graph_of_cluster {
            clusters_per_graph[g] += 1;
        }
        Ok(Self {
            assignment,
            cluster_sizes,
            clusters_per_graph,
        })
    }

    /// As [`Clustering::from_ids`], reading the ids from a device tensor `[N]` (one read).
    ///
    /// # Errors
    /// As [`Clustering::from_ids`].
    pub fn from_tensor<B: Backend>(ids: Tensor<B, 1, Int>, graphs: &GraphBatch<B>) -> Result<Self> {
        Self::from_ids(&host::ints(ids), graphs)
    }

    /// Cluster of each node, `0..num_clusters`.
    pub fn assignment(&self) -> &[usize] {
        &self.assignment
    }
    /// Nodes per cluster.
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.cluster_sizes
    }
    /// Clusters per graph.
    pub fn clusters_per_graph(&self) -> &[usize] {
        &self.clusters_per_graph
    }
    /// Number of clusters.
    pub fn num_clusters(&self) -> usize {
        self.cluster_sizes.len()
    }
}
