use burn::tensor::Tensor;
use gnn_core::burn_compat::zeros_if_element_free;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::{scatter_sum, segment_max};
use gnn_core::{Segments, host};
use serde::{Deserialize, Serialize};

use crate::select::Clustering;

/// How the features of a cluster's nodes combine into its supernode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClusterReduce {
    /// Feature-wise mean (PyG `avg_pool`).
    #[default]
    Mean,
    /// Feature-wise maximum (PyG `max_pool`).
    Max,
}

/// Combines node features by cluster: `[N, F] -> [C, F]`, rows in cluster order.
pub fn reduce_clusters<B: SegmentBackend>(
    x: Tensor<B, 2>,
    clustering: &Clustering,
    reduce: ClusterReduce,
) -> Tensor<B, 2> {
    let device = x.device();
    let num_clusters = clustering.num_clusters();
    let [rows, features] = x.dims();
    if let Some(zeros) = zeros_if_element_free(&[rows], [num_clusters, features], &device) {
        return zeros;
    }
    match reduce {
        ClusterReduce::Mean => {
            let assignment = host::index_tensor::<B>(clustering.assignment(), &device);
            let inverse: Vec<f32> = clustering
                .cluster_sizes()
                .iter()
                .map(|&n| 1.0 / n as f32)
                .collect();
            scatter_sum(x, assignment, num_clusters)
                * host::float_tensor::<B>(&inverse, &device).unsqueeze_dim::<2>(1)
        }
        ClusterReduce::Max => {
            // Nodes sorted by cluster form segments, and segment_max has correct gradients.
            let mut order: Vec<usize> = (0..clustering.assignment().len()).collect();
            order.sort_by_key(|&node| clustering.assignment()[node]);
            let segments = Segments::from_counts(clustering.cluster_sizes().to_vec(), &device);
            segment_max(x.select(0, host::index_tensor(&order, &device)), &segments)
        }
    }
}
