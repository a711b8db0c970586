//! Differentiable reductions over segments of rows: the nodes of each graph in a batch.
//!
//! A [`Segments`] value is PyG's `batch` vector together with the per-segment counts kept on the
//! host, so no operation here reads the device to learn a size. Segments may be empty: an empty
//! segment reduces to 0 and passes gradient 0, and trailing empty segments are kept (the number
//! of segments comes from the counts, never from `max(batch) + 1`).
//!
//! Burn 0.21 implements only `IndexingUpdateOp::Add` for `select_assign`/`scatter`, and the
//! backward of `scatter_nd(.., Max)` is wrong with repeated indices (its forward is wrong on Wgpu
//! too). So [`segment_max`] gathers each segment into a padded dense tensor and takes `max_dim`,
//! which is correct on every backend; ties give the whole gradient to one row.

use burn::tensor::{Bool, IndexingUpdateOp, Int, Tensor, backend::Backend};

use crate::error::{GraphError, Result};
use crate::host;

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
        Self { ids, counts, offsets }
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
        let width = self.max_count();
        let device = self.device();
        let mut gather = Vec::with_capacity(self.num_segments() * width);
        let mut padding = Vec::with_capacity(self.num_segments() * width);
        for (segment, &count) in self.counts.iter().enumerate() {
            let start = self.offsets[segment];
            for slot in 0..width {
                // Padding slots point at row 0; their values are masked out and get no gradient.
                gather.push(if slot < count { start + slot } else { 0 });
                padding.push(slot >= count);
            }
        }
        DenseLayout {
            gather: host::index_tensor(&gather, &device),
            padding: host::bool_tensor(padding, [self.num_segments(), width], &device),
            width,
        }
    }

    /// `[num_segments, 1]` mask of the empty segments.
    fn empty_mask(&self) -> Tensor<B, 2, Bool> {
        let empty = self.counts.iter().map(|&c| c == 0).collect();
        host::bool_tensor(empty, [self.num_segments(), 1], &self.device())
    }
}

/// Where each slot of a padded `[num_segments, width]` layout takes its row from.
#[derive(Debug, Clone)]
pub struct DenseLayout<B: Backend> {
    /// Row index for every slot, `[num_segments * width]` (padding slots point at row 0).
    pub gather: Tensor<B, 1, Int>,
    /// `true` on padding slots, `[num_segments, width]`.
    pub padding: Tensor<B, 2, Bool>,
    /// Slots per segment: the largest segment size.
    pub width: usize,
}

impl<B: Backend> DenseLayout<B> {
    /// Gathers rows `[n, F]` into `[num_segments, width, F]`, padding slots filled with `fill`.
    pub fn densify(&self, x: Tensor<B, 2>, fill: f64) -> Tensor<B, 3> {
        let [num_segments, width] = self.padding.dims();
        let features = x.dims()[1];
        let dense = x.select(0, self.gather.clone()).reshape([num_segments, width, features]);
        let padding = self
            .padding
            .clone()
            .unsqueeze_dim::<3>(2)
            .expand([num_segments, width, features]);
        dense.mask_fill(padding, fill)
    }
}

/// Counts per segment of a non-decreasing batch vector, checked.
pub(crate) fn counts_from_batch_vector(ids: &[i64], num_segments: Option<usize>) -> Result<Vec<usize>> {
    let mut counts: Vec<usize> = Vec::new();
    for (position, &id) in ids.iter().enumerate() {
        if id < 0 {
            return Err(GraphError::NegativeGraphId { position, found: id });
        }
        if position > 0 && id < ids[position - 1] {
            return Err(GraphError::BatchNotSorted { position, previous: ids[position - 1], found: id });
        }
        let id = id as usize;
        if id >= counts.len() {
            if id > counts.len() {
                return Err(GraphError::BatchGap { missing: counts.len() });
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

fn segment_sum_into<B: Backend>(x: Tensor<B, 2>, ids: Tensor<B, 1, Int>, num_segments: usize) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    let zeros = Tensor::zeros([num_segments, features], &x.device());
    if rows == 0 {
        return zeros;
    }
    zeros.select_assign(0, ids, x, IndexingUpdateOp::Add)
}

/// Sum of the rows of each segment: `[n, F] -> [num_segments, F]`.
pub fn segment_sum<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    segment_sum_into(x, segments.ids.clone(), segments.num_segments())
}

/// Mean of the rows of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
pub fn segment_mean<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let inverse: Vec<f32> = segments
        .counts
        .iter()
        .map(|&c| if c == 0 { 0.0 } else { 1.0 / c as f32 })
        .collect();
    let inverse = host::float_tensor::<B>(&inverse, &x.device()).unsqueeze_dim::<2>(1);
    segment_sum(x, segments) * inverse
}

/// Feature-wise maximum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
///
/// The gradient goes to the maximal row of each (segment, feature); among exactly tied rows to
/// one of them (PyG splits it evenly among them).
pub fn segment_max<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    let num_segments = segments.num_segments();
    if rows == 0 {
        return Tensor::zeros([num_segments, features], &x.device());
    }
    let dense = segments.dense_layout().densify(x, f64::NEG_INFINITY);
    let max = dense.max_dim(1).reshape([num_segments, features]);
    if segments.counts.contains(&0) {
        max.mask_fill(segments.empty_mask().expand([num_segments, features]), 0.0)
    } else {
        max
    }
}

/// Feature-wise minimum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
pub fn segment_min<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    segment_max(x.neg(), segments).neg()
}

/// Softmax over the rows of each segment, column by column: `[n, H] -> [n, H]`.
///
/// As PyG's `softmax`: `exp(x - max) / (Σ exp(x - max) + 1e-16)`, the maximum taken per segment
/// and not differentiated (it cancels out).
pub fn segment_softmax<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    if x.dims()[0] == 0 {
        return x;
    }
    let max = segment_max(x.clone().detach(), segments).select(0, segments.ids.clone());
    let exp = (x - max).exp();
    let sum = segment_sum(exp.clone(), segments).select(0, segments.ids.clone());
    exp / (sum + 1e-16)
}

/// Scatters rows into groups by an arbitrary (unsorted) index: `out[index[e]] += x[e]`,
/// `[E, F] -> [num_groups, F]`. The caller guarantees `index < num_groups`.
pub fn scatter_sum<B: Backend>(x: Tensor<B, 2>, index: Tensor<B, 1, Int>, num_groups: usize) -> Tensor<B, 2> {
    segment_sum_into(x, index, num_groups)
}

/// Pads the rows of each segment into a dense batch, PyG's `to_dense_batch`:
/// `[n, F] -> ([num_segments, max_count, F], mask [num_segments, max_count])`, padding rows are
/// 0 and the mask is `true` on real rows.
pub fn to_dense_batch<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> (Tensor<B, 3>, Tensor<B, 2, Bool>) {
    let features = x.dims()[1];
    let layout = segments.dense_layout();
    let mask = layout.padding.clone().bool_not();
    if layout.width == 0 {
        return (Tensor::zeros([segments.num_segments(), 0, features], &x.device()), mask);
    }
    (layout.densify(x, 0.0), mask)
}
