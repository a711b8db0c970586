//! Cluster pooling: every cluster of nodes becomes one supernode (PyG's `avg_pool`, `max_pool`).

use burn::tensor::backend::Backend;
use gnn_core::{GraphBatch, GraphBatchParts, Segments, host};

use crate::connect::coarsen_edges;
use crate::reduce::{ClusterReduce, reduce_clusters};
use crate::select::Clustering;

/// Coarsens a batch by a cluster assignment: Select (the [`Clustering`]), Reduce (mean or max of
/// each cluster's features), Connect (edges between clusters, duplicates merged with their
/// features and weights summed, self loops dropped unless `keep_self_loops`).
///
/// - `graphs`: `x [N, F]`, edges `[2, E]`
/// - returns `x [C, F]`, edges `[2, E']` sorted by (source, target), graph labels unchanged
///
/// Device reads: one (the edges).
pub fn cluster_pool<B: Backend>(
    graphs: GraphBatch<B>,
    clustering: &Clustering,
    reduce: ClusterReduce,
    keep_self_loops: bool,
) -> GraphBatch<B> {
    let edges = coarsen_edges(&graphs, clustering, keep_self_loops);
    let device = graphs.device();
    let parts = graphs.into_parts();
    let x = reduce_clusters(parts.x, clustering, reduce);
    let mut cluster_graph = Vec::with_capacity(clustering.num_clusters());
    for (g, &c) in clustering.clusters_per_graph().iter().enumerate() {
        cluster_graph.extend(std::iter::repeat_n(g, c));
    }
    let nodes = Segments::from_parts_unchecked(
        host::index_tensor(&cluster_graph, &device),
        clustering.clusters_per_graph().to_vec(),
    );
    GraphBatch::from_parts(GraphBatchParts {
        x,
        edge_index: edges.edge_index,
        edge_attr: edges.edge_attr,
        edge_weight: edges.edge_weight,
        nodes,
        edge_counts: edges.edge_counts,
        y: parts.y,
    })
    .expect("cluster pooling builds the parts of a batch consistently")
}

/// PyG's `avg_pool`: mean of each cluster's features, self loops dropped.
pub fn avg_pool<B: Backend>(graphs: GraphBatch<B>, clustering: &Clustering) -> GraphBatch<B> {
    cluster_pool(graphs, clustering, ClusterReduce::Mean, false)
}

/// PyG's `max_pool`: feature-wise maximum of each cluster, self loops dropped.
pub fn max_pool<B: Backend>(graphs: GraphBatch<B>, clustering: &Clustering) -> GraphBatch<B> {
    cluster_pool(graphs, clustering, ClusterReduce::Max, false)
}
