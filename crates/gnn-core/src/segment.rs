//! Differentiable reductions over segments of rows: the nodes of each graph in a batch.
//!
//! A [`Segments`] value is PyG's `batch` vector together with the per-segment counts kept on the
//! host, so no operation here reads the device to learn a size. Segments may be empty: an empty
//! segment reduces to 0 and passes gradient 0, and trailing empty segments are kept (the number
//! of segments comes from the counts, never from `max(batch) + 1`).
//!
//! Burn 0.21 implements only `IndexingUpdateOp::Add` for `select_assign`/`scatter`, and the
//! backward of `scatter_nd(.., Max)` is wrong with repeated indices (its forward is wrong on Wgpu
//! too). So [`segment_max`] finds the maxima by folding padded pieces of the segments with
//! elementwise maxima and differentiates through a masked segment sum, which is correct on every
//! backend and splits the gradient among ties as PyG does.

use burn::tensor::{
    BasicOps, Bool, IndexingUpdateOp, Int, Shape, Tensor, TensorData, backend::Backend,
};

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

/// Where each slot of a padded `[num_segments, width]` layout takes its row from.
#[derive(Debug, Clone)]
pub struct DenseLayout<B: Backend> {
    /// Row index for every slot, `[num_segments * width]`; padding slots hold `n` (the number
    /// of rows), the index of the fill row [`DenseLayout::densify`] appends.
    pub gather: Tensor<B, 1, Int>,
    /// Rows per segment.
    pub counts: Vec<usize>,
    /// Slots per segment: the largest segment size.
    pub width: usize,
}

impl<B: Backend> DenseLayout<B> {
    /// The layout of consecutive segments of the given sizes (rows `0..Σ counts`).
    pub fn new(counts: &[usize], device: &B::Device) -> Self {
        let width = counts.iter().copied().max().unwrap_or(0);
        let rows: usize = counts.iter().sum();
        let mut gather = Vec::with_capacity(counts.len() * width);
        let mut start = 0;
        for &count in counts {
            // Padding slots point one past the last row, where `densify` appends the fill row.
            gather.extend((0..width).map(|slot| if slot < count { start + slot } else { rows }));
            start += count;
        }
        DenseLayout {
            gather: host::index_tensor(&gather, device),
            counts: counts.to_vec(),
            width,
        }
    }

    /// Gathers rows `[n, F]` into `[num_segments, width, F]`, padding slots filled with `fill`.
    ///
    /// One gather from `x` with a fill row appended: no mask is built or broadcast, and the
    /// padding gets no gradient.
    pub fn densify(&self, x: Tensor<B, 2>, fill: f64) -> Tensor<B, 3> {
        let num_segments = self.counts.len();
        let features = x.dims()[1];
        if num_segments * self.width * features == 0 {
            return Tensor::zeros([num_segments, self.width, features], &x.device());
        }
        let fill_row = Tensor::full([1, features], fill, &x.device());
        let extended = Tensor::cat(vec![x, fill_row], 0);
        reshape(
            extended.select(0, self.gather.clone()),
            [num_segments, self.width, features],
        )
    }

    /// `[num_segments, width]` mask, `true` on padding slots (built on the host, uploaded).
    pub fn padding(&self, device: &B::Device) -> Tensor<B, 2, Bool> {
        let mask = self
            .counts
            .iter()
            .flat_map(|&count| (0..self.width).map(move |slot| slot >= count))
            .collect();
        host::bool_tensor(mask, [self.counts.len(), self.width], device)
    }
}

/// `tensor.reshape(shape)` that also works on tensors with no element.
///
/// Burn 0.21's `reshape` reads a 0 in the target shape as "keep this dimension of the input"
/// (ONNX style), so `[1, 0] -> [0]` fails and `[0].unsqueeze_dim(0)` panics. Graph data is often
/// empty (a batch of empty graphs, no edges, no features), so every reshape here goes through
/// this function, which calls the backend's reshape directly (as `flatten` does) and keeps the
/// autodiff graph.
pub fn reshape<B: Backend, const D: usize, const D2: usize, K: BasicOps<B>>(
    tensor: Tensor<B, D, K>,
    shape: [usize; D2],
) -> Tensor<B, D2, K> {
    assert_eq!(
        tensor.shape().num_elements(),
        shape.iter().product::<usize>(),
        "reshape of {:?} to {shape:?}",
        tensor.dims()
    );
    Tensor::from_primitive(K::reshape(tensor.into_primitive(), Shape::new(shape)))
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

fn segment_sum_into<B: Backend>(
    x: Tensor<B, 2>,
    ids: Tensor<B, 1, Int>,
    num_segments: usize,
) -> Tensor<B, 2> {
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
    let features = x.dims()[1];
    if segments.num_segments() * features == 0 {
        // Elementwise ops on tensors without elements panic on Wgpu (burn-cubecl 0.21).
        return Tensor::zeros([segments.num_segments(), features], &x.device());
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

/// Feature-wise maximum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
///
/// The gradient goes to the maximal row of each (segment, feature), split evenly among exactly
/// tied rows, as PyG's `scatter_reduce(amax)`. The maximum itself is found without gradient,
/// by folding pieces of at most 8 rows of each segment with elementwise maxima, level after
/// level (backends reduce a middle axis with `max_dim` several times more slowly); the
/// differentiable part is `Σ_i x_i·[x_i = max] / #ties`, a masked segment sum whose backward
/// is one gather.
pub fn segment_max<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    let num_segments = segments.num_segments();
    if rows == 0 || features == 0 {
        return Tensor::zeros([num_segments, features], &x.device());
    }
    let device = x.device();
    let max = detached_segment_max(x.clone().detach(), &segments.counts);
    let empty = segments.counts.contains(&0).then(|| {
        let empty = segments.counts.iter().map(|&c| c == 0).collect();
        host::bool_tensor(empty, [num_segments, 1], &device).expand([num_segments, features])
    });
    if !B::ad_enabled(&device) {
        // Inference: the maximum is the answer; the masked sum below only routes the gradient
        // (tracked-ness of a non-leaf tensor is not visible, so autodiff backends always take it).
        return match empty {
            Some(empty) => max.mask_fill(empty, 0.0),
            None => max,
        };
    }
    let not_max = x
        .clone()
        .detach()
        .not_equal(max.select(0, segments.ids.clone()));
    let counts = segments
        .counts
        .iter()
        .map(|&c| c as f32)
        .collect::<Vec<_>>();
    let counts = host::float_tensor::<B>(&counts, &device).reshape([num_segments, 1]);
    // Ties per (segment, feature); an empty segment gets 1 (its sum is 0 anyway).
    let ties = (counts - segment_sum(not_max.clone().float(), segments)).clamp_min(1.0);
    // mask_fill, not a product with the indicator: a -inf that is not a maximum would give NaN.
    segment_sum(x.mask_fill(not_max, 0.0), segments) / ties
}

/// Rows reduced at once by one level of [`detached_segment_max`].
const MAX_PIECE: usize = 8;

/// Maxima of consecutive segments `[n, F] -> [num_segments, F]`, without gradient; an empty
/// segment's row is arbitrary (callers mask it).
///
/// Backends reduce a middle or leading axis (`max_dim`) far more slowly than they compare two
/// contiguous tensors (Flex: 0.68 ms against 0.22 ms for `[220, 18, 128]`), and one padded
/// `[num_segments, largest, F]` tensor wastes memory when one graph is much larger than the
/// rest (PROTEINS batches mix 4- and 600-node graphs). So each level cuts the segments into
/// pieces of at most [`MAX_PIECE`] rows, gathers them slot-major into `[MAX_PIECE, pieces, F]`
/// and folds the slots with elementwise maxima; the pieces' maxima feed the next level until
/// every segment is one piece. Values touched: `O(n·F + levels · num_segments · MAX_PIECE · F)`.
fn detached_segment_max<B: Backend>(x: Tensor<B, 2>, counts: &[usize]) -> Tensor<B, 2> {
    let mut x = x;
    let mut counts = counts.to_vec();
    loop {
        let width = counts.iter().copied().max().unwrap_or(0);
        if width <= MAX_PIECE {
            return fold_slots(x, &counts, width);
        }
        let pieces: Vec<usize> = counts
            .iter()
            .flat_map(|&n| {
                (0..n.div_ceil(MAX_PIECE)).map(move |k| MAX_PIECE.min(n - k * MAX_PIECE))
            })
            .collect();
        x = fold_slots(x, &pieces, MAX_PIECE);
        for count in &mut counts {
            *count = count.div_ceil(MAX_PIECE);
        }
    }
}

/// Row-wise maxima of consecutive groups of at most `width` rows: `[n, F] -> [groups, F]`.
/// An empty group's row is arbitrary (callers mask it).
fn fold_slots<B: Backend>(x: Tensor<B, 2>, counts: &[usize], width: usize) -> Tensor<B, 2> {
    let device = x.device();
    let [rows, features] = x.dims();
    let groups = counts.len();
    if groups == 0 || width == 0 || rows == 0 {
        return Tensor::full([groups, features], f64::NEG_INFINITY, &device);
    }
    let mut starts = Vec::with_capacity(groups);
    let mut start = 0;
    for &count in counts {
        starts.push(start.min(rows - 1));
        start += count;
    }
    // Slot-major: slot k of every group, then slot k + 1. A missing slot repeats the group's
    // first row, which leaves its maximum unchanged (and needs no padded copy of `x`).
    let gather: Vec<usize> = (0..width)
        .flat_map(|slot| {
            counts
                .iter()
                .zip(&starts)
                .map(move |(&count, &start)| if slot < count { start + slot } else { start })
        })
        .collect();
    let dense = reshape(
        x.select(0, host::index_tensor(&gather, &device)),
        [width, groups, features],
    );
    let mut max = dense.clone().narrow(0, 0, 1);
    for slot in 1..width {
        max = max.max_pair(dense.clone().narrow(0, slot, 1));
    }
    reshape(max, [groups, features])
}

/// Feature-wise minimum of each segment, 0 for an empty segment: `[n, F] -> [num_segments, F]`.
pub fn segment_min<B: Backend>(x: Tensor<B, 2>, segments: &Segments<B>) -> Tensor<B, 2> {
    let [rows, features] = x.dims();
    if rows * features == 0 {
        return Tensor::zeros([segments.num_segments(), features], &x.device());
    }
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
pub fn scatter_sum<B: Backend>(
    x: Tensor<B, 2>,
    index: Tensor<B, 1, Int>,
    num_groups: usize,
) -> Tensor<B, 2> {
    segment_sum_into(x, index, num_groups)
}

/// Pads the rows of each segment into a dense batch, PyG's `to_dense_batch`:
/// `[n, F] -> ([num_segments, max_count, F], mask [num_segments, max_count])`, padding rows are
/// 0 and the mask is `true` on real rows.
pub fn to_dense_batch<B: Backend>(
    x: Tensor<B, 2>,
    segments: &Segments<B>,
) -> (Tensor<B, 3>, Tensor<B, 2, Bool>) {
    let features = x.dims()[1];
    let layout = segments.dense_layout();
    let mask = layout.padding(&x.device()).bool_not();
    if layout.width == 0 {
        return (
            Tensor::zeros([segments.num_segments(), 0, features], &x.device()),
            mask,
        );
    }
    (layout.densify(x, 0.0), mask)
}

#[cfg(test)]
mod tests {
    use burn::tensor::backend::AutodiffBackend;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::gradcheck::{self, B64, TOL, check_gradient, weighted_sum};
    use crate::testing::assert_close;

    const F: usize = 3;

    /// A segment reduction `[n, F] -> [num_segments, F]`.
    type Op<B> = fn(Tensor<B, 2>, &Segments<B>) -> Tensor<B, 2>;
    /// Its host reference on one column of one segment.
    type Reference = fn(&[f64]) -> f64;

    /// Segment sizes to test: leading, inner and trailing empty segments, 1-row segments, a
    /// single segment, and random ones.
    fn count_patterns() -> Vec<Vec<usize>> {
        let mut patterns = vec![
            vec![0, 3, 1, 0, 4, 0],
            vec![2, 1, 1, 3],
            vec![1],
            vec![5],
            vec![0, 0, 2],
            vec![3, 0, 0],
            // One segment much larger than the others: several levels of the maximum.
            vec![3, 40, 1, 0, 5, 2, 0],
            vec![0, 100, 0, 0, 0, 0, 2],
        ];
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..4 {
            let segments = rng.random_range(1..8);
            patterns.push(
                (0..segments)
                    .map(|_| [0, 0, 1, 2, 3, 6][rng.random_range(0..6)])
                    .collect(),
            );
        }
        patterns
    }

    /// `n × F` values exactly representable in `f32`, row-major.
    fn random_rows(n: usize, seed: u64) -> Vec<f64> {
        gradcheck::uniform(n * F, -2.0, 2.0, seed)
            .into_iter()
            .map(|v| v as f32 as f64)
            .collect()
    }

    fn upload<B: Backend>(values: &[f64], rows: usize, device: &B::Device) -> Tensor<B, 2> {
        gradcheck::tensor(
            values,
            [rows, values.len().checked_div(rows).unwrap_or(F)],
            device,
        )
    }

    /// Host reduction of each (segment, feature) with `reduce`, 0 for an empty segment.
    fn reference(counts: &[usize], x: &[f64], reduce: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut start = 0;
        for &count in counts {
            for f in 0..F {
                let column: Vec<f64> = (start..start + count).map(|r| x[r * F + f]).collect();
                out.push(if count == 0 { 0.0 } else { reduce(&column) });
            }
            start += count;
        }
        out
    }

    fn sum(v: &[f64]) -> f64 {
        v.iter().sum()
    }
    fn mean(v: &[f64]) -> f64 {
        sum(v) / v.len() as f64
    }
    fn max(v: &[f64]) -> f64 {
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
    fn min(v: &[f64]) -> f64 {
        v.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn reductions_match_host_reference<B: Backend>(device: &B::Device) {
        for (seed, counts) in count_patterns().into_iter().enumerate() {
            let n: usize = counts.iter().sum();
            let x = random_rows(n, seed as u64);
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let xt = upload::<B>(&x, n, device);
            let g = counts.len();
            let ops: [(&str, Op<B>, Reference); 4] = [
                ("sum", segment_sum, sum),
                ("mean", segment_mean, mean),
                ("max", segment_max, max),
                ("min", segment_min, min),
            ];
            for (name, op, reduce) in ops {
                let out = op(xt.clone(), &segments);
                assert_eq!(out.dims(), [g, F], "{name} of {counts:?}");
                assert_close(out, &reference(&counts, &x, reduce), 1e-5, 1e-5);
            }
        }
    }

    fn softmax_matches_host_reference<B: Backend>(device: &B::Device) {
        for (seed, counts) in count_patterns().into_iter().enumerate() {
            let n: usize = counts.iter().sum();
            let x = random_rows(n, 100 + seed as u64);
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let out = segment_softmax(upload::<B>(&x, n, device), &segments);
            let mut expected = vec![0.0; n * F];
            let mut start = 0;
            for &count in &counts {
                for f in 0..F {
                    let rows = start..start + count;
                    let top = rows
                        .clone()
                        .map(|r| x[r * F + f])
                        .fold(f64::NEG_INFINITY, f64::max);
                    let total: f64 = rows.clone().map(|r| (x[r * F + f] - top).exp()).sum();
                    for r in rows {
                        expected[r * F + f] = (x[r * F + f] - top).exp() / total;
                    }
                }
                start += count;
            }
            assert_eq!(out.dims(), [n, F]);
            assert_close(out, &expected, 1e-6, 1e-5);
        }
    }

    fn to_dense_batch_matches_host_reference<B: Backend>(device: &B::Device) {
        for (seed, counts) in count_patterns().into_iter().enumerate() {
            let n: usize = counts.iter().sum();
            let x = random_rows(n, 200 + seed as u64);
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let (dense, mask) = to_dense_batch(upload::<B>(&x, n, device), &segments);
            let width = counts.iter().copied().max().unwrap();
            assert_eq!(dense.dims(), [counts.len(), width, F]);
            assert_eq!(mask.dims(), [counts.len(), width]);
            let (mut expected, mut expected_mask) = (Vec::new(), Vec::new());
            let mut start = 0;
            for &count in &counts {
                for slot in 0..width {
                    expected_mask.push(slot < count);
                    for f in 0..F {
                        expected.push(if slot < count {
                            x[(start + slot) * F + f]
                        } else {
                            0.0
                        });
                    }
                }
                start += count;
            }
            assert_close(dense, &expected, 0.0, 0.0);
            assert_eq!(host::bools(mask), expected_mask);
        }
    }

    fn scatter_sum_matches_host_reference<B: Backend>(device: &B::Device) {
        let mut rng = StdRng::seed_from_u64(3);
        for case in 0..6 {
            let rows = [0, 1, 4, 9, 13, 20][case];
            let groups = rng.random_range(1..7);
            // Unsorted, repeated indices that leave some groups (often the last) empty.
            let index: Vec<usize> = (0..rows)
                .map(|_| rng.random_range(0..groups.max(2) - 1))
                .collect();
            let x = random_rows(rows, 300 + case as u64);
            let out = scatter_sum(
                upload::<B>(&x, rows, device),
                host::index_tensor(&index, device),
                groups,
            );
            let mut expected = vec![0.0; groups * F];
            for (r, &i) in index.iter().enumerate() {
                for f in 0..F {
                    expected[i * F + f] += x[r * F + f];
                }
            }
            assert_eq!(out.dims(), [groups, F]);
            assert_close(out, &expected, 1e-5, 1e-5);
        }
    }

    fn reductions_are_invariant_under_row_permutations_within_segments<B: Backend>(
        device: &B::Device,
    ) {
        let mut rng = StdRng::seed_from_u64(11);
        for (seed, counts) in count_patterns().into_iter().enumerate() {
            let n: usize = counts.iter().sum();
            let x = random_rows(n, 400 + seed as u64);
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let mut order: Vec<usize> = Vec::with_capacity(n);
            for (start, &count) in segments.offsets().iter().zip(&counts) {
                let mut rows: Vec<usize> = (*start..start + count).collect();
                rows.shuffle(&mut rng);
                order.extend(rows);
            }
            let permuted: Vec<f64> = order
                .iter()
                .flat_map(|&r| x[r * F..(r + 1) * F].to_vec())
                .collect();
            let ops: [(Op<B>, f64); 4] = [
                (segment_sum, 1e-5),
                (segment_mean, 1e-5),
                (segment_max, 0.0),
                (segment_min, 0.0),
            ];
            for (op, tolerance) in ops {
                let original = host::floats(op(upload::<B>(&x, n, device), &segments));
                assert_close(
                    op(upload::<B>(&permuted, n, device), &segments),
                    &original,
                    tolerance,
                    tolerance,
                );
            }
        }
    }

    fn segment_ops_make_no_device_read<B: Backend>(device: &B::Device) {
        let segments = Segments::<B>::from_counts(vec![0, 3, 1, 0, 4, 0], device);
        let x = upload::<B>(&random_rows(8, 5), 8, device);
        let before = host::device_reads();
        let outputs = [
            segment_sum(x.clone(), &segments),
            segment_mean(x.clone(), &segments),
            segment_max(x.clone(), &segments),
            segment_min(x.clone(), &segments),
            segment_softmax(x.clone(), &segments),
            scatter_sum(x.clone(), segments.ids().clone(), 7),
            to_dense_batch(x.clone(), &segments).0.reshape([24, F]),
        ];
        assert_eq!(
            host::device_reads() - before,
            0,
            "segment operations must not read the device"
        );
        assert_eq!(outputs.len(), 7);
        let from_ids = Segments::<B>::from_ids(
            Segments::<B>::from_counts(vec![2, 1, 3], device)
                .ids()
                .clone(),
            Some(4),
        );
        assert_eq!(
            host::device_reads() - before,
            1,
            "from_ids reads the ids once"
        );
        assert_eq!(from_ids.unwrap().counts(), &[2, 1, 3, 0]);
        // Leading or inner empty segments cannot come from a batch vector: it has a gap.
        let gappy = Segments::<B>::from_ids(segments.ids().clone(), Some(6)).unwrap_err();
        assert_eq!(gappy, GraphError::BatchGap { missing: 0 });
    }

    /// N = 0 (every segment empty), no segment at all, and F = 0.
    fn empty_shapes_are_handled<B: Backend>(device: &B::Device) {
        let ops: [Op<B>; 4] = [segment_sum, segment_mean, segment_max, segment_min];
        for (counts, rows, features) in [
            (vec![0, 0, 0], 0, F),
            (vec![], 0, F),
            (vec![2, 0, 1], 3, 0),
            (vec![0, 0], 0, 0),
        ] {
            let g = counts.len();
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let x = Tensor::<B, 2>::ones([rows, features], device);
            for op in ops {
                let out = op(x.clone(), &segments);
                assert_eq!(out.dims(), [g, features], "{counts:?}, F = {features}");
                assert_close(out, &vec![0.0; g * features], 0.0, 0.0);
            }
            assert_eq!(
                segment_softmax(x.clone(), &segments).dims(),
                [rows, features]
            );
            assert_eq!(
                scatter_sum(x.clone(), segments.ids().clone(), g).dims(),
                [g, features]
            );
            let (dense, mask) = to_dense_batch(x, &segments);
            let width = segments.max_count();
            assert_eq!(dense.dims(), [g, width, features]);
            assert_eq!(host::bools(mask).len(), g * width);
        }
        // F = 0 with rows: sums of nothing, shape [G, 0].
        let segments = Segments::<B>::from_counts(vec![2, 0, 1], device);
        let x = Tensor::<B, 2>::ones([3, 0], device);
        assert_eq!(host::floats(segment_max(x, &segments)).len(), 0);
    }

    fn ids_are_validated<B: Backend>(device: &B::Device) {
        let ids = |v: &[i64]| {
            Tensor::<B, 1, Int>::from_data(
                burn::tensor::TensorData::new(v.to_vec(), [v.len()]),
                device,
            )
        };
        let segments = Segments::from_ids(ids(&[0, 0, 1, 2, 2]), Some(5)).unwrap();
        assert_eq!(segments.counts(), &[2, 1, 2, 0, 0]);
        assert_eq!(segments.offsets(), &[0, 2, 3, 5, 5, 5]);
        assert_eq!(
            (
                segments.num_segments(),
                segments.num_rows(),
                segments.max_count()
            ),
            (5, 5, 2)
        );
        assert_eq!(
            Segments::from_ids(ids(&[0, 1, 1, 0]), None).unwrap_err(),
            GraphError::BatchNotSorted {
                position: 3,
                previous: 1,
                found: 0
            }
        );
        assert_eq!(
            Segments::from_ids(ids(&[0, 2]), None).unwrap_err(),
            GraphError::BatchGap { missing: 1 }
        );
        assert_eq!(
            Segments::from_ids(ids(&[-1, 0]), None).unwrap_err(),
            GraphError::NegativeGraphId {
                position: 0,
                found: -1
            }
        );
        let err = Segments::from_ids(ids(&[0, 1, 2]), Some(2)).unwrap_err();
        assert!(matches!(err, GraphError::ShapeMismatch { .. }));
        assert!(err.to_string().starts_with("number of graphs"), "{err}");
        let empty = Segments::from_ids(ids(&[]), Some(3)).unwrap();
        assert_eq!(empty.counts(), &[0, 0, 0]);
    }

    /// On each backend's autodiff: the gradient of `Σ w ⊙ op(x)` is known in closed form.
    fn reduction_gradients_match_closed_form<B: AutodiffBackend>(device: &B::Device) {
        for (seed, counts) in count_patterns().into_iter().enumerate() {
            let n: usize = counts.iter().sum();
            let x = random_rows(n, 500 + seed as u64);
            let w = random_rows(counts.len(), 600 + seed as u64);
            let segments = Segments::<B>::from_counts(counts.clone(), device);
            let segment_of: Vec<usize> = counts
                .iter()
                .enumerate()
                .flat_map(|(s, &c)| std::iter::repeat_n(s, c))
                .collect();
            let ops: [(&str, Op<B>); 4] = [
                ("sum", segment_sum),
                ("mean", segment_mean),
                ("max", segment_max),
                ("min", segment_min),
            ];
            for (name, op) in ops {
                let xt = upload::<B>(&x, n, device).require_grad();
                let loss =
                    (op(xt.clone(), &segments) * upload::<B>(&w, counts.len(), device)).sum();
                let grad = xt
                    .grad(&loss.backward())
                    .map(host::floats)
                    .unwrap_or_else(|| vec![0.0; n * F]);
                let expected: Vec<f64> = (0..n * F)
                    .map(|i| {
                        let (r, f) = (i / F, i % F);
                        let s = segment_of[r];
                        let start = segments.offsets()[s];
                        let column = (start..start + counts[s]).map(|q| x[q * F + f]);
                        let picked = match name {
                            "sum" => 1.0,
                            "mean" => 1.0 / counts[s] as f64,
                            "max" => f64::from(column.fold(f64::NEG_INFINITY, f64::max) == x[i]),
                            _ => f64::from(column.fold(f64::INFINITY, f64::min) == x[i]),
                        };
                        picked * w[s * F + f]
                    })
                    .collect();
                assert_eq!(grad.len(), expected.len());
                for (i, (g, e)) in grad.iter().zip(&expected).enumerate() {
                    assert!(
                        (g - e).abs() <= 1e-5,
                        "{name} of {counts:?}: gradient entry {i} is {g}, expected {e}"
                    );
                }
            }
        }
    }

    crate::backend_tests!(
        reductions_match_host_reference,
        softmax_matches_host_reference,
        to_dense_batch_matches_host_reference,
        scatter_sum_matches_host_reference,
        reductions_are_invariant_under_row_permutations_within_segments,
        segment_ops_make_no_device_read,
        empty_shapes_are_handled,
        ids_are_validated,
    );
    crate::autodiff_backend_tests!(reduction_gradients_match_closed_form);

    fn f64_segments(counts: &[usize]) -> Segments<B64> {
        Segments::from_counts(counts.to_vec(), &gradcheck::device())
    }

    #[test]
    fn segment_op_gradients_match_finite_differences() {
        for (seed, counts) in [
            vec![0, 3, 1, 0, 4, 0],
            vec![2, 1, 5],
            vec![1],
            vec![3, 20, 1, 0, 2, 1],
        ]
        .into_iter()
        .enumerate()
        {
            let seed = seed as u64;
            let n: usize = counts.iter().sum();
            let segments = f64_segments(&counts);
            let g = counts.len();
            let at = gradcheck::random_2d::<B64>([n, F], 700 + seed, &gradcheck::device());
            let what = |op: &str| format!("{op} of {counts:?}");
            check_gradient(
                &what("segment_sum"),
                &at,
                |x| weighted_sum(segment_sum(x, &segments), seed),
                TOL,
            );
            check_gradient(
                &what("segment_mean"),
                &at,
                |x| weighted_sum(segment_mean(x, &segments), seed),
                TOL,
            );
            check_gradient(
                &what("segment_max"),
                &at,
                |x| weighted_sum(segment_max(x, &segments), seed),
                TOL,
            );
            check_gradient(
                &what("segment_min"),
                &at,
                |x| weighted_sum(segment_min(x, &segments), seed),
                TOL,
            );
            check_gradient(
                &what("segment_softmax"),
                &at,
                |x| weighted_sum(segment_softmax(x, &segments), seed),
                TOL,
            );
            check_gradient(
                &what("to_dense_batch"),
                &at,
                |x| weighted_sum(to_dense_batch(x, &segments).0, seed),
                TOL,
            );
            let index: Vec<usize> = (0..n).map(|r| (r * 7 + 3) % (g + 1)).collect();
            check_gradient(
                &what("scatter_sum"),
                &at,
                |x| {
                    weighted_sum(
                        scatter_sum(x, host::index_tensor(&index, &gradcheck::device()), g + 2),
                        seed,
                    )
                },
                TOL,
            );
        }
    }

    #[test]
    fn segment_mean_is_exact_in_float64() {
        // Counts 3 and 7 have no exact f32 reciprocal: the mean must divide in the backend's
        // precision (an f32 reciprocal was off by ~1e-8 relative on NdArray<f64>).
        type B = burn::backend::NdArray<f64>;
        let device = Default::default();
        let values: Vec<f64> = (0..10).map(|i| 0.1 + i as f64 / 7.0).collect();
        let segments = Segments::<B>::from_counts(vec![3, 7], &device);
        let mean = segment_mean(
            gradcheck::tensor::<B, 2>(&values, [10, 1], &device),
            &segments,
        );
        let expected = [
            values[..3].iter().sum::<f64>() / 3.0,
            values[3..].iter().sum::<f64>() / 7.0,
        ];
        assert_close(mean, &expected, 1e-15, 1e-15);
    }

    #[test]
    fn empty_segments_give_zero_and_gradient_zero() {
        let counts = [0, 3, 0, 1, 0];
        let empty = host::index_tensor::<B64>(&[0, 2, 4], &gradcheck::device());
        let segments = f64_segments(&counts);
        let at = gradcheck::random_2d::<B64>([4, F], 9, &gradcheck::device());
        let ops: [(&str, Op<B64>); 4] = [
            ("sum", segment_sum),
            ("mean", segment_mean),
            ("max", segment_max),
            ("min", segment_min),
        ];
        for (name, op) in ops {
            let out = op(at.clone(), &segments).select(0, empty.clone());
            assert_eq!(
                host::floats(out),
                vec![0.0; 3 * F],
                "{name} of an empty segment"
            );
            let grad = check_gradient(
                name,
                &at,
                |x| weighted_sum(op(x, &segments).select(0, empty.clone()), 1),
                TOL,
            );
            assert!(
                grad.iter().all(|&g| g == 0.0),
                "{name}: an empty segment passed gradient {grad:?}"
            );
        }
    }
}
