//! Differentiable reductions over segments of rows: the nodes of each graph in a batch.
//!
//! A [`Segments`] value is PyG's `batch` vector together with the per-segment counts kept on the
//! host, so no operation here reads the device to learn a size. Segments may be empty: an empty
//! segment reduces to 0 and passes gradient 0, and trailing empty segments are kept (the number
//! of segments comes from the counts, never from `max(batch) + 1`).
//!
//! Every reduction is an operation of [`SegmentBackend`], a backend extension: the free
//! functions here guard empty inputs and dispatch to the backend, whose default method is the
//! portable tensor formulation in [`portable`] and whose override (NdArray, Flex) is a native
//! kernel looping over each segment's rows, with no padding. `Autodiff` runs the inner backend's
//! kernel forward and a hand-written backward. Maxima and minima give their gradient to the
//! extremal rows, split evenly among exact ties as PyG's.
//!
//! The portable formulation works around Burn 0.21: it implements only `IndexingUpdateOp::Add`
//! for `select_assign`/`scatter`, and the backward of `scatter_nd(.., Max)` is wrong with
//! repeated indices (its forward is wrong on Wgpu too). So [`portable::segment_max`] finds the
//! maxima by folding padded pieces of the segments with elementwise maxima and differentiates
//! through a masked segment sum.
//!
//! The code follows the data flow: [`Segments`] (this file) describes the rows of each segment,
//! `reduce` sums, averages and normalises over them, `max` takes their maxima and minima, and
//! `dense` pads them into a `[num_segments, width, F]` batch, `topk` selects the best rows of
//! each, `gather` scales the selected rows (the gate of score-based pooling), `project` dots every row
//! with one weight vector (the TopK score), `backend` declares [`SegmentBackend`], `kernels`,
//! `gather_kernels` and `project_kernels` hold the CPU kernels and `cpu`, `autodiff`
//! and `cube` implement the trait for each backend.

#[cfg(feature = "autodiff")]
mod autodiff;
mod backend;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod cpu;
#[cfg(feature = "wgpu")]
mod cube;
mod dense;
mod gather;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod gather_kernels;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod kernels;
mod max;
mod project;
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod project_kernels;
mod reduce;
mod topk;

use burn::tensor::{Int, Tensor, backend::Backend};

use crate::burn_compat::zeros_if_element_free;
use crate::error::{GraphError, Result};
use crate::host;

pub use crate::burn_compat::reshape;
pub use backend::{SegmentAutodiffBackend, SegmentBackend};
pub use dense::{DenseLayout, to_dense_batch};
pub use reduce::{scatter_sum, segment_softmax};

/// The portable formulations of the segment operations: plain Burn tensor operations, correct on
/// every backend and differentiable through any autodiff wrapper. They are the defaults of
/// [`SegmentBackend`] and the reference the native kernels are tested against.
pub mod portable {
    pub use super::gather::{gather_scaled, gather_scaled_backward};
    pub use super::max::{segment_extremum_backward, segment_max, segment_min};
    pub use super::project::{row_dot, row_dot_backward};
    pub use super::reduce::{segment_broadcast, segment_mean, segment_sum};
    pub use super::topk::segment_top_k;
}

/// Sum of the rows of each segment: `[n, F] -> [num_segments, F]`.
pub fn segment_sum<B: SegmentBackend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    match zeros_if_element_free(&[rows], [segments.num_segments(), features], &x.device()) {
        Some(zeros) => zeros,
        None => B::segment_sum(x, segments),
    }
}

/// Mean of the rows of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
pub fn segment_mean<B: SegmentBackend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    match zeros_if_element_free(&[rows], [segments.num_segments(), features], &x.device()) {
        Some(zeros) => zeros,
        None => B::segment_mean(x, segments),
    }
}

/// Feature-wise maximum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
///
/// The gradient goes to the maximal row of each (segment, feature), split evenly among exactly
/// tied rows, as PyG's `scatter_reduce(amax)`. A NaN in a segment makes its maximum NaN on the
/// native kernels (as PyTorch); the portable formulation's NaN handling is the backend's.
pub fn segment_max<B: SegmentBackend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    match zeros_if_element_free(&[rows], [segments.num_segments(), features], &x.device()) {
        Some(zeros) => zeros,
        None => B::segment_max(x, segments),
    }
}

/// Feature-wise minimum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`,
/// with the gradient of [`segment_max`].
pub fn segment_min<B: SegmentBackend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    match zeros_if_element_free(&[rows], [segments.num_segments(), features], &x.device()) {
        Some(zeros) => zeros,
        None => B::segment_min(x, segments),
    }
}

/// Every row takes its segment's row of `values`: `[num_segments, F] -> [n, F]`; the gradient
/// is the segment sum.
pub fn segment_broadcast<B: SegmentBackend>(
    values: Tensor<B, 2>,
    segments: &Segments<B>,
) -> Tensor<B, 2> {
    let features = values.dims()[1];
    match zeros_if_element_free(
        &[segments.num_segments()],
        [segments.num_rows(), features],
        &values.device(),
    ) {
        Some(zeros) => zeros,
        None => B::segment_broadcast(values, segments),
    }
}

/// Rows `perm [k]` of `x [n, F]`, each scaled by its `scale [k]`: `x[perm[i]] · scale[i]`,
/// `[k, F]`; the reduction of score-based pooling (TopK, SAG). Differentiable in `x` and
/// `scale`, with one native kernel forward and one backward on the CPU backends. Device reads:
/// none.
///
/// # Panics
/// When `perm` and `scale` differ in length. `perm`'s ids must be below `n`: layers pass the
/// ids of [`segment_top_k`]; a CPU kernel panics on an id out of range rather than read past
/// `x`.
#[track_caller]
pub fn gather_scaled<B: SegmentBackend>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    scale: Tensor<B, 1>,
) -> Tensor<B, 2> {
    let [k] = perm.dims();
    assert_eq!(scale.dims()[0], k, "gather_scaled: one scale per id");
    let [rows, features] = x.dims();
    match zeros_if_element_free(&[k, rows, features], [k, features], &x.device()) {
        Some(zeros) => zeros,
        None => B::gather_scaled(x, perm, scale),
    }
}

/// Every row of `x [n, F]` dotted with `weight [F]`: `x[i] · weight`, `[n]`; the projection
/// that scores the nodes of TopK pooling (PyG's `(x * weight).sum(-1)`). Differentiable in `x`
/// and `weight`, with one native kernel forward and one backward on the CPU backends, where
/// the portable formulation writes and reduces an `[n, F]` product. Device reads: none.
///
/// # Panics
/// When `weight` is not as wide as `x`.
#[track_caller]
pub fn row_dot<B: SegmentBackend>(x: Tensor<B, 2>, weight: Tensor<B, 1>) -> Tensor<B, 1> {
    let [rows, features] = x.dims();
    assert_eq!(
        weight.dims()[0],
        features,
        "row_dot: one weight per feature"
    );
    match zeros_if_element_free(&[rows, features], [rows], &x.device()) {
        Some(zeros) => zeros,
        None => B::row_dot(x, weight),
    }
}

/// The first `kept[s]` rows of each segment `s` by `score [n]` descending, exact ties by
/// ascending row, NaN first (PyTorch's descending sort), grouped by segment in ascending order:
/// the selected row ids `[Σ kept]`. Device reads: none.
///
/// # Panics
/// When `kept` does not have one entry per segment or asks a segment for more rows than it has
/// (no invalid index reaches a kernel).
#[track_caller]
pub fn segment_top_k<B: SegmentBackend>(
    score: Tensor<B, 1>,
    segments: &Segments<B>,
    kept: &[usize],
) -> Tensor<B, 1, Int> {
    assert_eq!(
        kept.len(),
        segments.num_segments(),
        "segment_top_k: one count per segment"
    );
    assert!(
        kept.iter().zip(segments.counts()).all(|(k, n)| k <= n),
        "segment_top_k: a segment cannot keep more rows than it has"
    );
    assert_eq!(
        score.dims()[0],
        segments.num_rows(),
        "segment_top_k: one score per row"
    );
    if kept.iter().all(|&k| k == 0) {
        return Tensor::zeros([0], &score.device());
    }
    B::segment_top_k(score, segments, kept)
}

/// Rows `0..n` split into consecutive segments (graphs), with the segment id of every row on the
/// device and the segment sizes on the host.
#[derive(Debug, Clone)]
pub struct Segments<B: Backend> {
    ids: Tensor<B, 1, Int>,
    counts: Vec<usize>,
    offsets: Vec<usize>,
}

impl<B: Backend> Segments<B> {
    /// Segments of the given sizes; the id vector is built on the host and uploaded once.
    pub fn from_counts(counts: Vec<usize>, device: &B::Device) -> Self {
        let ids: Vec<usize> = counts
            .iter()
            .enumerate()
            .flat_map(|(segment, &count)| std::iter::repeat_n(segment, count))
            .collect();
        let ids = host::index_tensor(&ids, device);
        Self::from_parts_unchecked(ids, counts)
    }

    /// Validates a batch vector read from the device (one read): it must be non-decreasing and
    /// use every id from 0 to its largest. With `num_segments` larger than `max + 1`, trailing
    /// empty segments are added.
    ///
    /// # Errors
    /// [`GraphError::BatchNotSorted`], [`GraphError::BatchGap`], [`GraphError::NegativeGraphId`],
    /// or [`GraphError::ShapeMismatch`] when an id is `>= num_segments`.
    pub fn from_ids(ids: Tensor<B, 1, Int>, num_segments: Option<usize>) -> Result<Self> {
        let values = host::ints(ids.clone());
        let counts = counts_from_batch_vector(&values, num_segments)?;
        Ok(Self::from_parts_unchecked(ids, counts))
    }

    /// Trusts that `ids` is the non-decreasing id vector of `counts`.
    ///
    /// For layers that build the id vector themselves; a wrong `counts` gives wrong results.
    pub fn from_parts_unchecked(ids: Tensor<B, 1, Int>, counts: Vec<usize>) -> Self {
        let offsets = std::iter::once(0)
            .chain(counts.iter().scan(0, |sum, &c| {
                *sum += c;
                Some(*sum)
            }))
            .collect();
        Self {
            ids,
            counts,
            offsets,
        }
    }

    /// Segment id of every row, `[n]`.
    pub fn ids(&self) -> &Tensor<B, 1, Int> {
        &self.ids
    }
    /// Rows per segment.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }
    /// Start row of each segment, and the total at the end (PyG's `ptr`), `num_segments + 1` values.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }
    /// Number of segments.
    pub fn num_segments(&self) -> usize {
        self.counts.len()
    }
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        *self.offsets.last().unwrap_or(&0)
    }
    /// Size of the largest segment (0 when there is none).
    pub fn max_count(&self) -> usize {
        self.counts.iter().copied().max().unwrap_or(0)
    }
    /// The device the ids live on.
    pub fn device(&self) -> B::Device {
        self.ids.device()
    }

    /// The padded layout `[num_segments, max_count]` used by dense reductions.
    pub fn dense_layout(&self) -> DenseLayout<B> {
        DenseLayout::new(&self.counts, &self.device())
    }
}

/// Counts per segment of a non-decreasing batch vector, checked.
pub(crate) fn counts_from_batch_vector(
    ids: &[i64],
    num_segments: Option<usize>,
) -> Result<Vec<usize>> {
    let mut counts: Vec<usize> = Vec::new();
    for (position, &id) in ids.iter().enumerate() {
        if id < 0 {
            return Err(GraphError::NegativeGraphId {
                position,
                found: id,
            });
        }
        if position > 0 && id < ids[position - 1] {
            return Err(GraphError::BatchNotSorted {
                position,
                previous: ids[position - 1],
                found: id,
            });
        }
        let id = id as usize;
        if id >= counts.len() {
            if id > counts.len() {
                return Err(GraphError::BatchGap {
                    missing: counts.len(),
                });
            }
            counts.push(0);
        }
        counts[id] += 1;
    }
    if let Some(n) = num_segments {
        if n < counts.len() {
            return Err(crate::error::shape_mismatch(
                "number of graphs",
                format!("more than the largest graph id {}", counts.len() - 1),
                n,
            ));
        }
        counts.resize(n, 0);
    }
    Ok(counts)
}

#[cfg(test)]
mod native_tests;
#[cfg(test)]
mod tests;
