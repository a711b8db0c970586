//! Cluster pooling: every cluster of nodes becomes one supernode (PyG's `avg_pool`, `max_pool`).

use gnn_core::segment::SegmentBackend;
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
pub fn cluster_pool<B: SegmentBackend>(
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
    GraphBatch::from_parts_unchecked(GraphBatchParts {
        x,
        edge_index: edges.edge_index,
        edge_attr: edges.edge_attr,
        edge_weight: edges.edge_weight,
        nodes,
        edge_counts: edges.edge_counts,
        y: parts.y,
    })
}

/// PyG's `avg_pool`: mean of each cluster's features, self loops dropped.
pub fn avg_pool<B: SegmentBackend>(
    graphs: GraphBatch<B>,
    clustering: &Clustering,
) -> GraphBatch<B> {
    cluster_pool(graphs, clustering, ClusterReduce::Mean, false)
}

/// PyG's `max_pool`: feature-wise maximum of each cluster, self loops dropped.
pub fn max_pool<B: SegmentBackend>(
    graphs: GraphBatch<B>,
    clustering: &Clustering,
) -> GraphBatch<B> {
    cluster_pool(graphs, clustering, ClusterReduce::Max, false)
}

#[cfg(test)]
mod tests {
    use burn::tensor::backend::Backend;
    use gnn_core::{Graph, GraphBatch, host};

    use super::*;
    use crate::PoolError;
    use crate::select::graclus;

    /// A 4-cycle with edge features, an empty graph, and a 2-node graph.
    fn batch<B: Backend>(device: &B::Device) -> GraphBatch<B> {
        let cycle = Graph::new(
            4,
            1,
            vec![1.0, 2.0, 3.0, 4.0],
            vec![(0, 1), (1, 2), (2, 3), (3, 0)],
        )
        .unwrap()
        .with_edge_attr(1, vec![10.0, 20.0, 30.0, 40.0])
        .unwrap();
        let empty = Graph::new(0, 1, vec![], vec![])
            .unwrap()
            .with_edge_attr(1, vec![])
            .unwrap();
        let pair = Graph::new(2, 1, vec![5.0, 7.0], vec![(0, 1)])
            .unwrap()
            .with_edge_attr(1, vec![50.0])
            .unwrap();
        GraphBatch::from_graphs(&[cycle, empty, pair], device).unwrap()
    }

    fn merges_clusters_into_supernodes<B: SegmentBackend>(device: &B::Device) {
        let graphs = batch::<B>(device);
        // Clusters {0,1}, {2,3} in the cycle, {4}, {5} in the pair; ids arbitrary but ascending.
        let clustering = Clustering::from_ids(&[3, 3, 8, 8, 10, 12], &graphs).unwrap();
        assert_eq!(clustering.assignment(), &[0, 0, 1, 1, 2, 3]);
        assert_eq!(clustering.clusters_per_graph(), &[2, 0, 2]);
        let mean = avg_pool(graphs.clone(), &clustering);
        assert_eq!(mean.node_counts(), &[2, 0, 2]);
        assert_eq!(host::floats(mean.x().clone()), vec![1.5, 3.5, 5.0, 7.0]);
        // Cycle edges 1->2 and 3->0 cross clusters; 0->1 and 2->3 become self loops and go.
        assert_eq!(
            host::ints(mean.edge_index().clone()),
            vec![0, 1, 2, 1, 0, 3]
        );
        assert_eq!(
            host::floats(mean.edge_attr().unwrap().clone()),
            vec![20.0, 40.0, 50.0]
        );
        assert_eq!(mean.edge_counts(), &[2, 0, 1]);
        let max = max_pool(graphs.clone(), &clustering);
        assert_eq!(host::floats(max.x().clone()), vec![2.0, 4.0, 5.0, 7.0]);
        let with_loops = cluster_pool(graphs, &clustering, ClusterReduce::Mean, true);
        assert_eq!(with_loops.num_edges(), 5);
    }

    fn merges_duplicate_edges<B: SegmentBackend>(device: &B::Device) {
        let graphs = batch::<B>(device);
        // {0}, {1,2,3}: edges 0->1 and 3->0 join the two clusters in both directions.
        let clustering = Clustering::from_ids(&[0, 1, 1, 1, 2, 3], &graphs).unwrap();
        let out = avg_pool(graphs, &clustering);
        assert_eq!(host::ints(out.edge_index().clone()), vec![0, 1, 2, 1, 0, 3]);
        assert_eq!(
            host::floats(out.edge_attr().unwrap().clone()),
            vec![10.0, 40.0, 50.0]
        );
    }

    fn graclus_pairs_neighbours<B: Backend>(device: &B::Device) {
        let graphs = batch::<B>(device);
        let clustering = graclus(&graphs);
        assert_eq!(clustering.assignment(), &[0, 0, 1, 1, 2, 2]);
        for (node, &c) in clustering.assignment().iter().enumerate() {
            assert!(clustering.cluster_sizes()[c] <= 2, "node {node}");
        }
    }

    fn rejects_bad_assignments<B: Backend>(device: &B::Device) {
        let graphs = batch::<B>(device);
        for ids in [
            vec![0, 0, 1, 1, 1, 2],
            vec![0, 0, 1, 1, 2],
            vec![5, 5, 6, 6, 0, 0],
            vec![0, 0, 1, 1, -1, 2],
        ] {
            assert!(
                matches!(
                    Clustering::from_ids(&ids, &graphs),
                    Err(PoolError::InvalidClusters(_))
                ),
                "{ids:?}"
            );
        }
    }

    gnn_core::backend_tests!(
        merges_clusters_into_supernodes,
        merges_duplicate_edges,
        graclus_pairs_neighbours,
        rejects_bad_assignments
    );
}
