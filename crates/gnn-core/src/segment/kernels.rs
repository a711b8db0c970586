//! Segment kernels over host slices: the CPU backends' native implementations.
//!
//! Every function takes row-major values `[n, F]` and the segment offsets (PyG's `ptr`,
//! `num_segments + 1` non-decreasing values ending at `n`), loops directly over the rows of each
//! segment with no padding, and runs the segments in parallel (rayon) once the work is large
//! enough to pay for the threads. Results do not depend on the number of threads: each output
//! row is computed by one thread, in row order.

use std::cmp::Ordering;

use rayon::prelude::*;

/// Work (values touched) below which a kernel stays on the calling thread.
const PARALLEL_WORK: usize = 1 << 15;

/// The float element types the CPU kernels run on.
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + 'static
{
    const ZERO: Self;
    const INFINITY: Self;
    /// The lowest finite `f32`, in this type: the sort key of `-inf` scores.
    const F32_MIN: Self;
    fn from_usize(value: usize) -> Self;
    fn is_nan(self) -> bool;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f32::INFINITY;
    const F32_MIN: Self = f32::MIN;
    fn from_usize(value: usize) -> Self {
        value as f32
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f64::INFINITY;
    const F32_MIN: Self = f32::MIN as f64;
    fn from_usize(value: usize) -> Self {
        value as f64
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// Runs `body(segment, output_row)` for every segment, with `out` cut into `width`-wide rows,
/// in parallel when `work` is large.
fn per_segment<T: Send>(
    out: &mut [T],
    width: usize,
    work: usize,
    body: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    if width == 0 {
        return;
    }
    if work >= PARALLEL_WORK {
        out.par_chunks_mut(width)
            .enumerate()
            .for_each(|(s, row)| body(s, row));
    } else {
        out.chunks_mut(width)
            .enumerate()
            .for_each(|(s, row)| body(s, row));
    }
}

/// Runs `body(segment, rows)` for every segment, with `out` `[n, F]` cut at the offsets,
/// in parallel when `work` is large.
fn per_segment_rows<T: Send>(
    out: &mut [T],
    features: usize,
    offsets: &[usize],
    body: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let mut pieces = Vec::with_capacity(offsets.len().saturating_sub(1));
    let mut rest = out;
    for w in offsets.windows(2) {
        let (piece, tail) = rest.split_at_mut((w[1] - w[0]) * features);
        pieces.push(piece);
        rest = tail;
    }
    if out_len(offsets) * features >= PARALLEL_WORK {
        pieces
            .into_par_iter()
            .enumerate()
            .for_each(|(s, rows)| body(s, rows));
    } else {
        pieces
            .into_iter()
            .enumerate()
            .for_each(|(s, rows)| body(s, rows));
    }
}

fn out_len(offsets: &[usize]) -> usize {
    offsets.last().copied().unwrap_or(0)
}

/// Sum (or mean, dividing by the row count) of the rows of each segment: `[n, F] -> [G, F]`.
/// An empty segment gives 0.
pub(crate) fn sum<T: Real>(x: &[T], features: usize, offsets: &[usize], mean: bool) -> Vec<T> {
    let segments = offsets.len() - 1;
    let mut out = vec![T::ZERO; segments * features];
    per_segment(&mut out, features, x.len(), |s, acc| {
        let (start, end) = (offsets[s], offsets[s + 1]);
        for row in x[start * features..end * features].chunks_exact(features) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = *a + v;
            }
        }
        if mean && end > start {
            let count = T::from_usize(end - start);
            for a in acc.iter_mut() {
                *a = *a / count;
            }
        }
    });
    out
}

/// Maximum (or minimum) of the rows of each segment, feature by feature: `[n, F] -> [G, F]`.
/// A NaN wins (as PyTorch's `amax`); an empty segment gives 0.
pub(crate) fn extremum<T: Real>(x: &[T], features: usize, offsets: &[usize], max: bool) -> Vec<T> {
    let segments = offsets.len() - 1;
    let mut out = vec![T::ZERO; segments * features];
    per_segment(&mut out, features, x.len(), |s, best| {
        let (start, end) = (offsets[s], offsets[s + 1]);
        if start == end {
            return;
        }
        best.copy_from_slice(&x[start * features..(start + 1) * features]);
        for row in x[(start + 1) * features..end * features].chunks_exact(features) {
            for (b, &v) in best.iter_mut().zip(row) {
                let better = if max { v > *b } else { v < *b };
                if better || v.is_nan() {
                    *b = v;
                }
            }
        }
    });
    out
}

/// The gradient of [`extremum`]: `grad [G, F]` goes to the rows equal to the extremum of their
/// segment, split evenly among exact ties (PyG's `scatter_reduce(amax)`). `[n, F]`.
pub(crate) fn extremum_backward<T: Real>(
    x: &[T],
    extremum: &[T],
    grad: &[T],
    features: usize,
    offsets: &[usize],
) -> Vec<T> {
    let mut out = vec![T::ZERO; x.len()];
    per_segment_rows(&mut out, features, offsets, |s, rows| {
        let start = offsets[s];
        let best = &extremum[s * features..(s + 1) * features];
        let g = &grad[s * features..(s + 1) * features];
        let mut ties = vec![0usize; features];
        let x_rows = &x[start * features..start * features + rows.len()];
        for row in x_rows.chunks_exact(features) {
            for ((t, &v), &b) in ties.iter_mut().zip(row).zip(best) {
                *t += usize::from(v == b);
            }
        }
        let share: Vec<T> = g
            .iter()
            .zip(&ties)
            .map(|(&g, &t)| g / T::from_usize(t.max(1)))
            .collect();
        for (out_row, row) in rows
            .chunks_exact_mut(features)
            .zip(x_rows.chunks_exact(features))
        {
            for (((o, &v), &b), &share) in out_row.iter_mut().zip(row).zip(best).zip(&share) {
                if v == b {
                    *o = share;
                }
            }
        }
    });
    out
}

/// Every row takes its segment's value (divided by the segment's row count for a mean's
/// gradient): `[G, F] -> [n, F]`.
pub(crate) fn broadcast<T: Real>(
    values: &[T],
    features: usize,
    offsets: &[usize],
    mean: bool,
) -> Vec<T> {
    let mut out = vec![T::ZERO; out_len(offsets) * features];
    per_segment_rows(&mut out, features, offsets, |s, rows| {
        let value = &values[s * features..(s + 1) * features];
        let count = T::from_usize((offsets[s + 1] - offsets[s]).max(1));
        for out_row in rows.chunks_exact_mut(features) {
            if mean {
                for (o, &v) in out_row.iter_mut().zip(value) {
                    *o = v / count;
                }
            } else {
                out_row.copy_from_slice(value);
            }
        }
    });
    out
}

/// The sort key of a score: NaN ranks first (as `+inf`, PyTorch's descending sort), `-inf`
/// as the lowest finite `f32` (as the portable formulation, which keeps `-inf` for padding).
fn key<T: Real>(score: T) -> T {
    if score.is_nan() {
        T::INFINITY
    } else if score == -T::INFINITY {
        T::F32_MIN
    } else {
        score
    }
}

/// The first `kept[s]` rows of each segment by score descending, exact ties by ascending row:
/// the selected row ids, grouped by segment in ascending order.
pub(crate) fn top_k<T: Real>(score: &[T], offsets: &[usize], kept: &[usize]) -> Vec<i64> {
    let total: usize = kept.iter().sum();
    let mut perm = vec![0i64; total];
    let mut starts = Vec::with_capacity(kept.len() + 1);
    starts.push(0);
    for &k in kept {
        starts.push(starts.last().copied().unwrap_or(0) + k);
    }
    per_segment_rows(&mut perm, 1, &starts, |s, out| {
        let k = out.len();
        if k == 0 {
            return;
        }
        let (start, end) = (offsets[s], offsets[s + 1]);
        let mut rows: Vec<(T, usize)> = (start..end).map(|i| (key(score[i]), i)).collect();
        // Keys hold no NaN, so the order is total; the row id breaks exact ties.
        let order = |a: &(T, usize), b: &(T, usize)| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        };
        if k < rows.len() {
            rows.select_nth_unstable_by(k - 1, order);
            rows.truncate(k);
        }
        rows.sort_unstable_by(order);
        for (o, (_, i)) in out.iter_mut().zip(rows) {
            *o = i as i64;
        }
    });
    perm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_on_a_small_batch() {
        // Segments [2, 0, 3]: rows [1, 5], [3, 5] | - | [-1, 2], [-1, 2], [0, NaN].
        let x = [1.0, 5.0, 3.0, 5.0, -1.0, 2.0, -1.0, 2.0, 0.0, f64::NAN];
        let offsets = [0, 2, 2, 5];
        assert_eq!(
            sum(&x[..8], 2, &[0, 2, 2, 4], false),
            [4.0, 10.0, 0.0, 0.0, -2.0, 4.0]
        );
        assert_eq!(
            sum(&x[..8], 2, &[0, 2, 2, 4], true),
            [2.0, 5.0, 0.0, 0.0, -1.0, 2.0]
        );
        let max = extremum(&x, 2, &offsets, true);
        assert_eq!(max[..5], [3.0, 5.0, 0.0, 0.0, 0.0]);
        assert!(max[5].is_nan());
        let min = extremum(&x, 2, &offsets, false);
        assert_eq!(min[..5], [1.0, 5.0, 0.0, 0.0, -1.0]);
        assert!(min[5].is_nan());
        let grad = extremum_backward(&x, &min, &[1.0; 6], 2, &offsets);
        assert_eq!(
            grad,
            [1.0, 0.5, 0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0],
            "ties split, NaN extremum passes nothing"
        );
        assert_eq!(
            broadcast(&[1.0, 2.0, 0.0, 0.0, 3.0, 6.0], 2, &offsets, true),
            [0.5, 1.0, 0.5, 1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
        );
        let score = [
            0.5,
            f64::NAN,
            0.5,
            f64::NEG_INFINITY,
            2.0,
            2.0,
            f64::INFINITY,
        ];
        assert_eq!(
            top_k(&score, &[0, 4, 4, 7], &[3, 0, 2]),
            [1, 0, 2, 6, 4],
            "NaN first, ties by row"
        );
    }
}
