use burn::tensor::Tensor;
use gnn_core::Segments;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::{segment_max, segment_mean, segment_min, segment_sum};
use serde::{Deserialize, Serialize};

/// Sum of each graph's node features: `[N, F] -> [G, F]` (PyG `global_add_pool`).
pub fn global_add_pool<B: SegmentBackend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_sum(x, graphs)
}

/// Mean of each graph's node features, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_mean_pool`).
pub fn global_mean_pool<B: SegmentBackend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_mean(x, graphs)
}

/// Feature-wise maximum per graph, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_max_pool`; with exact ties the gradient is split evenly among the tied nodes,
/// as in PyG, see [`segment_max`]).
pub fn global_max_pool<B: SegmentBackend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_max(x, graphs)
}

/// Feature-wise minimum per graph, 0 for an empty graph: `[N, F] -> [G, F]`.
pub fn global_min_pool<B: SegmentBackend>(x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
    segment_min(x, graphs)
}

/// A parameter-free readout, chosen at configuration time.
///
/// The concatenations list their parts in the order of their name: `MaxMean` is
/// `[max ‖ mean]`. Mean and max forget how many nodes a graph has; `Add` keeps it, which matters
/// on datasets where size predicts the class (D&D's enzymes, for one).
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
    /// `[global_max_pool ‖ global_add_pool]`, `[N, F] -> [G, 2F]`.
    MaxAdd,
    /// `[global_max_pool ‖ global_mean_pool ‖ global_add_pool]`, `[N, F] -> [G, 3F]`.
    MaxMeanAdd,
}

impl GlobalPool {
    /// The single readouts this one concatenates (itself when it is single).
    pub fn parts(&self) -> &'static [GlobalPool] {
        match self {
            GlobalPool::Add => &[GlobalPool::Add],
            GlobalPool::Mean => &[GlobalPool::Mean],
            GlobalPool::Max => &[GlobalPool::Max],
            GlobalPool::Min => &[GlobalPool::Min],
            GlobalPool::MaxMean => &[GlobalPool::Max, GlobalPool::Mean],
            GlobalPool::MaxAdd => &[GlobalPool::Max, GlobalPool::Add],
            GlobalPool::MaxMeanAdd => &[GlobalPool::Max, GlobalPool::Mean, GlobalPool::Add],
        }
    }

    /// Applies the readout: `[N, F] -> [G, k·F]` for `k` = [`parts`](Self::parts)`.len()`.
    pub fn apply<B: SegmentBackend>(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        match self {
            GlobalPool::Add => global_add_pool(x, graphs),
            GlobalPool::Mean => global_mean_pool(x, graphs),
            GlobalPool::Max => global_max_pool(x, graphs),
            GlobalPool::Min => global_min_pool(x, graphs),
            concatenation => Tensor::cat(
                concatenation
                    .parts()
                    .iter()
                    .map(|part| part.apply(x.clone(), graphs))
                    .collect(),
                1,
            ),
        }
    }

    /// Output width for `d_input` node features.
    pub fn output_width(&self, d_input: usize) -> usize {
        self.parts().len() * d_input
    }
}
