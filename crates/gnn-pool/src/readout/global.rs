use burn::tensor::Tensor;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::{segment_max, segment_mean, segment_min, segment_sum};
use gnn_core::{GraphBatch, Segments};
use serde::{Deserialize, Serialize};

use super::check_rows;
#[cfg(doc)]
use crate::error::PoolError;
use crate::error::Result;

/// Sum of each graph's node features: `[N, F] -> [G, F]` (PyG `global_add_pool`).
///
/// # Errors
/// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the host,
/// no device read). [`GlobalPool::apply_batch`] takes a [`GraphBatch`] instead and cannot fail.
pub fn global_add_pool<B: SegmentBackend>(
    x: Tensor<B, 2>,
    graphs: &Segments<B>,
) -> Result<Tensor<B, 2>> {
    check_rows("global_add_pool", &x, graphs)?;
    Ok(segment_sum(x, graphs))
}

/// Mean of each graph's node features, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_mean_pool`).
///
/// # Errors
/// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the host,
/// no device read). [`GlobalPool::apply_batch`] takes a [`GraphBatch`] instead and cannot fail.
pub fn global_mean_pool<B: SegmentBackend>(
    x: Tensor<B, 2>,
    graphs: &Segments<B>,
) -> Result<Tensor<B, 2>> {
    check_rows("global_mean_pool", &x, graphs)?;
    Ok(segment_mean(x, graphs))
}

/// Feature-wise maximum per graph, 0 for an empty graph: `[N, F] -> [G, F]`
/// (PyG `global_max_pool`; with exact ties the gradient is split evenly among the tied nodes,
/// as in PyG, see [`segment_max`]).
///
/// # Errors
/// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the host,
/// no device read). [`GlobalPool::apply_batch`] takes a [`GraphBatch`] instead and cannot fail.
pub fn global_max_pool<B: SegmentBackend>(
    x: Tensor<B, 2>,
    graphs: &Segments<B>,
) -> Result<Tensor<B, 2>> {
    check_rows("global_max_pool", &x, graphs)?;
    Ok(segment_max(x, graphs))
}

/// Feature-wise minimum per graph, 0 for an empty graph: `[N, F] -> [G, F]`.
///
/// # Errors
/// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the host,
/// no device read). [`GlobalPool::apply_batch`] takes a [`GraphBatch`] instead and cannot fail.
pub fn global_min_pool<B: SegmentBackend>(
    x: Tensor<B, 2>,
    graphs: &Segments<B>,
) -> Result<Tensor<B, 2>> {
    check_rows("global_min_pool", &x, graphs)?;
    Ok(segment_min(x, graphs))
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

    /// Applies the readout to a batch's node features: `x [N, F] -> [G, k·F]` for `k` =
    /// [`parts`](Self::parts)`.len()`. Cannot fail: a [`GraphBatch`] holds one row of `x` per
    /// node by construction.
    pub fn apply_batch<B: SegmentBackend>(&self, graphs: &GraphBatch<B>) -> Tensor<B, 2> {
        self.read(graphs.x().clone(), graphs.segments())
    }

    /// Applies the readout to node features given apart from their graphs:
    /// `[N, F] -> [G, k·F]` for `k` = [`parts`](Self::parts)`.len()`.
    ///
    /// # Errors
    /// [`PoolError::RowMismatch`] unless `x` has one row per node of `graphs` (checked on the
    /// host, no device read).
    pub fn apply<B: SegmentBackend>(
        &self,
        x: Tensor<B, 2>,
        graphs: &Segments<B>,
    ) -> Result<Tensor<B, 2>> {
        check_rows(self.name(), &x, graphs)?;
        Ok(self.read(x, graphs))
    }

    /// The name of the readout, as errors give it.
    fn name(&self) -> &'static str {
        match self {
            GlobalPool::Add => "global_add_pool",
            GlobalPool::Mean => "global_mean_pool",
            GlobalPool::Max => "global_max_pool",
            GlobalPool::Min => "global_min_pool",
            GlobalPool::MaxMean => "GlobalPool::MaxMean",
            GlobalPool::MaxAdd => "GlobalPool::MaxAdd",
            GlobalPool::MaxMeanAdd => "GlobalPool::MaxMeanAdd",
        }
    }

    /// The readout of rows already checked against `graphs`.
    fn read<B: SegmentBackend>(&self, x: Tensor<B, 2>, graphs: &Segments<B>) -> Tensor<B, 2> {
        match self {
            GlobalPool::Add => segment_sum(x, graphs),
            GlobalPool::Mean => segment_mean(x, graphs),
            GlobalPool::Max => segment_max(x, graphs),
            GlobalPool::Min => segment_min(x, graphs),
            concatenation => Tensor::cat(
                concatenation
                    .parts()
                    .iter()
                    .map(|part| part.read(x.clone(), graphs))
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
