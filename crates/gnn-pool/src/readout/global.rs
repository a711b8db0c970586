use burn::tensor::{Tensor, backend::Backend};
use gnn_core::Segments;
use gnn_core::segment::{segment_max, segment_mean, segment_min, segment_sum};
use serde::{Deserialize, Serialize};

/// Sum of each graph's node features: `[N, F] -> [G, F]` (PyG `global_add_pool`).
pub fn global_add_pool<B: Backend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_sum(x, graphs)
}

/// Mean of each graph's node features, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_mean_pool`).
pub fn global_mean_pool<B: Backend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_mean(x, graphs)
}

/// Feature-wise maximum per graph, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_max_pool`; with exact ties the gradient goes to one node, PyG splits it).
pub fn global_max_pool<B: Backend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_max(x, graphs)
}

/// Feature-wise minimum per graph, 0 for an empty graph: `[N, F] -> [G, F]`.
pub fn global_min_pool<B: Backend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_min(x, graphs)
}

/// A parameter-free readout, chosen at configuration time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GlobalPool {
    /// [`global_add_pool`].
    Add,
    /// [`global_mean_pool`].
    Mean,
    /// [`global_max_pool`].
    Max,
    /// [`global_min_pool`].
    Min,
    /// `[global_max_pool ‖ global_mean_pool]`, `[N, F] -> [G, 2F]` (PyG's TopK example).
    MaxMean,
}

impl GlobalPool {
    /// Applies the readout: `[N, F] -> [G, F]` (`[G, 2F]` for `MaxMean`).
    pub fn apply<B: Backend>(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        match self {
            GlobalPool::Add => global_add_pool(x, graphs),
            GlobalPool::Mean => global_mean_pool(x, graphs),
            GlobalPool::Max => global_max_pool(x, graphs),
            GlobalPool::Min => global_min_pool(x, graphs),
            GlobalPool::MaxMean => Tensor::cat(
                vec![
                    global_max_pool(x.clone(), graphs),
                    global_mean_pool(x, graphs),
                ],
                1,
            ),
        }
    }

    /// Output width for `d_input` node features.
    pub fn output_width(&self, d_input: usize) -> usize {
        if *self == GlobalPool::MaxMean {
            2 * d_input
        } else {
            d_input
        }
    }
}
