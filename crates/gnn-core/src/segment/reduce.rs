//! Sums, means and softmax over the rows of each segment, and sums by an arbitrary index.

use burn::tensor::{IndexingUpdateOp, Int, Tensor, TensorData, backend::Backend};

use super::{SegmentBackend, Segments};
use crate::burn_compat::{is_element_free, reshape, zeros_if_element_free};

fn segment_sum_into<B: Backend>(
    x: Tensor<B, 2>,
    ids: Tensor<B, 1, Int>,
    num_segments: usize,
) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    let device = x.device();
    if let Some(zeros) = zeros_if_element_free(&[rows], [num_segments, features], &device) {
        return zeros;
    }
    Tensor::zeros([num_segments, features], &device).select_assign(0, ids, x, IndexingUpdateOp::Add)
}

/// Sum of the rows of each segment: `[n, F] -> [num_segments, F]` (portable formulation: one
/// `select_assign(.., Add)`).
pub fn segment_sum<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    segment_sum_into(x, segments.ids.clone(), segments.num_segments())
}

/// Mean of the rows of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`
/// (portable formulation: the segment sum divided by the counts).
pub fn segment_mean<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let features = x.dims()[1];
    if let Some(zeros) =
        zeros_if_element_free(&[], [segments.num_segments(), features], &x.device())
    {
        return zeros;
    }
    // Divide on the device, in the backend's precision: an `f32` reciprocal (1/3 rounded to
    // 24 bits) would cost a float-64 backend seven digits. Empty segments divide 0 by 1.
    let counts: Vec<f64> = segments.counts.iter().map(|&c| c.max(1) as f64).collect();
    let counts = Tensor::<B, 1>::from_data(
        TensorData::new(counts, [segments.num_segments()]),
        &x.device(),
    );
    segment_sum(x, segments) / reshape(counts, [segments.num_segments(), 1])
}

/// Softmax over the rows of each segment, column by column: `[n, H] -> [n, H]`.
///
/// As PyG's `softmax`: `exp(x - max) / (Σ exp(x - max) + 1e-16)`, the maximum taken per segment
/// and not differentiated (it cancels out).
pub fn segment_softmax<B: SegmentBackend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    if is_element_free(&x.dims()) {
        return x;
    }
    let max = super::segment_broadcast(super::segment_max(x.clone().detach(), segments), segments);
    let exp = (x - max).exp();
    let sum = super::segment_broadcast(super::segment_sum(exp.clone(), segments), segments);
    exp / (sum + 1e-16)
}

/// Scatters rows into groups by an arbitrary (unsorted) index: `out[index[e]] += x[e]`,
/// `[E, F] -> [num_groups, F]`. The caller guarantees `index < num_groups`.
pub fn scatter_sum<B: Backend>(
    x: Tensor<B, 2>,
    index: Tensor<B, 1, Int>,
    num_groups: usize,
) -> Tensor<B, 2> {
    segment_sum_into(x, index, num_groups)
}

/// Every row takes its segment's row of `values`: `[num_segments, F] -> [n, F]` (portable
/// formulation: one `select` by the segment ids).
pub fn segment_broadcast<B: Backend>(values: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let features = values.dims()[1];
    if let Some(zeros) =
        zeros_if_element_free(&[], [segments.num_rows(), features], &values.device())
    {
        return zeros;
    }
    values.select(0, segments.ids.clone())
}
