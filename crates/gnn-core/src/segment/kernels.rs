//! Segment kernels over host slices: the CPU backends' native implementations.
//!
//! Every function takes row-major values `[n, F]` and the segment offsets (PyG's `ptr`,
//! `num_segments + 1` non-decreasing values ending at `n`), loops directly over the rows of each
//! segment with no padding, and runs the segments in parallel (rayon) once the work is large
//! enough to pay for the threads. Results do not depend on the number of threads: each output
//! row is computed by one thread, in row order.

use std::cmp::Ordering;
use std::mem::MaybeUninit;

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
    + std::ops::AddAssign
    + std::ops::Mul<Output = Self>
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

/// Rows of one block: segments longer than this are cut into several blocks, so that one huge
/// graph is reduced in parallel too. Blocks depend on the offsets only, never on the number of
/// threads, so results are the same on any machine.
const BLOCK_ROWS: usize = 256;

/// The segments cut into blocks of at most [`BLOCK_ROWS`] rows: `(segment, start, end)` in row
/// order (an empty segment has no block), and the first block of each segment (`G + 1` values).
struct Blocks {
    spans: Vec<(usize, usize, usize)>,
    first: Vec<usize>,
}

impl Blocks {
    fn new(offsets: &[usize]) -> Self {
        let mut spans = Vec::with_capacity(offsets.len());
        let mut first = Vec::with_capacity(offsets.len());
        for (s, w) in offsets.windows(2).enumerate() {
            first.push(spans.len());
            let mut start = w[0];
            while start < w[1] {
                let end = w[1].min(start + BLOCK_ROWS);
                spans.push((s, start, end));
                start = end;
            }
        }
        first.push(spans.len());
        Blocks { spans, first }
    }
}

/// Runs `body(block, output)` for every block, `out` cut into pieces of `width(block)` values
/// in block order, in parallel when `work` (values touched) is large.
fn per_block<T: Send>(
    out: &mut [T],
    blocks: &Blocks,
    width: impl Fn(&(usize, usize, usize)) -> usize,
    work: usize,
    body: impl Fn(&(usize, usize, usize), &mut [T]) + Sync + Send,
) {
    let mut pieces = Vec::with_capacity(blocks.spans.len());
    let mut rest = out;
    for span in &blocks.spans {
        let (piece, tail) = rest.split_at_mut(width(span));
        pieces.push((span, piece));
        rest = tail;
    }
    if work >= PARALLEL_WORK {
        pieces
            .into_par_iter()
            .for_each(|(span, piece)| body(span, piece));
    } else {
        pieces
            .into_iter()
            .for_each(|(span, piece)| body(span, piece));
    }
}

/// Combines the per-block rows `partial [blocks, F]` of each segment with `fold`, in block
/// order: `[G, F]`, 0 for an empty segment.
fn combine<T: Real>(
    partial: Vec<T>,
    blocks: &Blocks,
    features: usize,
    fold: impl Fn(&mut [T], &[T]),
) -> Vec<T> {
    let segments = blocks.first.len() - 1;
    if blocks.first.windows(2).all(|w| w[1] == w[0] + 1) {
        // Exactly one block per segment: the partials are the answer.
        return partial;
    }
    let mut out = vec![T::ZERO; segments * features];
    for (s, row) in out.chunks_exact_mut(features).enumerate() {
        let (first, last) = (blocks.first[s], blocks.first[s + 1]);
        if first == last {
            continue;
        }
        row.copy_from_slice(&partial[first * features..(first + 1) * features]);
        for b in first + 1..last {
            fold(row, &partial[b * features..(b + 1) * features]);
        }
    }
    out
}

#[inline(always)]
fn add_rows<T: Real>(acc: &mut [T], row: &[T]) {
    for (a, &v) in acc.iter_mut().zip(row) {
        *a += v;
    }
}

/// Whether this CPU runs AVX2 (checked once by the standard library, then cached).
fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Features folded at once by [`fold_block`], in registers.
const LANES: usize = 16;

/// Folds the rows of `rows` (`[r, F]`, `r >= 1`) into `acc` `[F]` entry by entry with `fold`,
/// starting from the first row. `LANES` features at a time, accumulated in a local array: kept
/// in registers, so the loop stores nothing (a fold into `acc` in memory compiles to masked
/// stores for the maxima, several times slower).
#[inline(always)]
fn fold_block<T: Real>(acc: &mut [T], rows: &[T], fold: impl Fn(T, T) -> T) {
    let features = acc.len();
    let count = rows.len() / features;
    let mut f0 = 0;
    while f0 + LANES <= features {
        let mut local: [T; LANES] = rows[f0..f0 + LANES].try_into().expect("LANES values");
        for r in 1..count {
            let row = &rows[r * features + f0..r * features + f0 + LANES];
            for (l, &v) in local.iter_mut().zip(row) {
                *l = fold(*l, v);
            }
        }
        acc[f0..f0 + LANES].copy_from_slice(&local);
        f0 += LANES;
    }
    for f in f0..features {
        let mut a = rows[f];
        for r in 1..count {
            a = fold(a, rows[r * features + f]);
        }
        acc[f] = a;
    }
}

/// [`fold_block`] compiled for AVX2 (the crate is built for the baseline x86-64, SSE2).
///
/// # Safety
/// The CPU must run AVX2 ([`avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_block_avx2<T: Real>(acc: &mut [T], rows: &[T], fold: impl Fn(T, T) -> T) {
    fold_block(acc, rows, fold)
}

/// [`fold_block`], with AVX2 where the CPU has it.
fn fold_block_fast<T: Real>(acc: &mut [T], rows: &[T], fold: impl Fn(T, T) -> T) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU runs AVX2.
        return unsafe { fold_block_avx2(acc, rows, fold) };
    }
    fold_block(acc, rows, fold)
}

#[inline(always)]
fn add<T: Real>(a: T, v: T) -> T {
    a + v
}

/// The larger value; a NaN wins (as PyTorch's `amax`). Compare and select, no branch.
#[inline(always)]
fn max_nan<T: Real>(a: T, v: T) -> T {
    #[allow(clippy::eq_op)]
    let nan = v != v;
    if (v > a) | nan { v } else { a }
}

/// The smaller value; a NaN wins.
#[inline(always)]
fn min_nan<T: Real>(a: T, v: T) -> T {
    #[allow(clippy::eq_op)]
    let nan = v != v;
    if (v < a) | nan { v } else { a }
}

/// Sum (or mean, dividing by the row count) of the rows of each segment: `[n, F] -> [G, F]`.
/// An empty segment gives 0.
pub(crate) fn sum<T: Real>(x: &[T], features: usize, offsets: &[usize], mean: bool) -> Vec<T> {
    let blocks = Blocks::new(offsets);
    let mut partial = vec![T::ZERO; blocks.spans.len() * features];
    per_block(
        &mut partial,
        &blocks,
        |_| features,
        x.len(),
        |&(_, start, end), acc| fold_block_fast(acc, &x[start * features..end * features], add),
    );
    let mut out = combine(partial, &blocks, features, add_rows);
    if mean {
        for (row, w) in out.chunks_exact_mut(features).zip(offsets.windows(2)) {
            if w[1] > w[0] {
                let count = T::from_usize(w[1] - w[0]);
                for a in row.iter_mut() {
                    *a = *a / count;
                }
            }
        }
    }
    out
}

/// Maximum (or minimum) of the rows of each segment, feature by feature: `[n, F] -> [G, F]`.
/// A NaN wins (as PyTorch's `amax`); an empty segment gives 0.
pub(crate) fn extremum<T: Real>(x: &[T], features: usize, offsets: &[usize], max: bool) -> Vec<T> {
    let blocks = Blocks::new(offsets);
    let mut partial = vec![T::ZERO; blocks.spans.len() * features];
    per_block(
        &mut partial,
        &blocks,
        |_| features,
        x.len(),
        |&(_, start, end), best| {
            let rows = &x[start * features..end * features];
            if max {
                fold_block_fast(best, rows, max_nan)
            } else {
                fold_block_fast(best, rows, min_nan)
            }
        },
    );
    let fold = if max { max_nan::<T> } else { min_nan::<T> };
    combine(partial, &blocks, features, |best, row| {
        for (b, &v) in best.iter_mut().zip(row) {
            *b = fold(*b, v);
        }
    })
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
    let blocks = Blocks::new(offsets);
    // Ties per (block, feature), then per segment.
    let mut ties = vec![0usize; blocks.spans.len() * features];
    per_block(
        &mut ties,
        &blocks,
        |_| features,
        x.len(),
        |&(s, start, end), ties| {
            let best = &extremum[s * features..(s + 1) * features];
            for row in x[start * features..end * features].chunks_exact(features) {
                for ((t, &v), &b) in ties.iter_mut().zip(row).zip(best) {
                    *t += usize::from(v == b);
                }
            }
        },
    );
    let segments = offsets.len() - 1;
    let mut share = vec![T::ZERO; segments * features];
    for (s, row) in share.chunks_exact_mut(features).enumerate() {
        let mut total = vec![0usize; features];
        for b in blocks.first[s]..blocks.first[s + 1] {
            for (t, &c) in total
                .iter_mut()
                .zip(&ties[b * features..(b + 1) * features])
            {
                *t += c;
            }
        }
        let g = &grad[s * features..(s + 1) * features];
        for ((out, &g), &t) in row.iter_mut().zip(g).zip(&total) {
            *out = g / T::from_usize(t.max(1));
        }
    }
    filled(x.len(), |out| {
        per_block(
            out,
            &blocks,
            |&(_, start, end)| (end - start) * features,
            x.len(),
            |&(s, start, end), rows| {
                let best = &extremum[s * features..(s + 1) * features];
                let share = &share[s * features..(s + 1) * features];
                let x_rows = x[start * features..end * features].chunks_exact(features);
                for (out_row, row) in rows.chunks_exact_mut(features).zip(x_rows) {
                    for (((o, &v), &b), &share) in out_row.iter_mut().zip(row).zip(best).zip(share)
                    {
                        o.write(if v == b { share } else { T::ZERO });
                    }
                }
            },
        )
    })
}

/// A vector of `len` values, every one written by `fill` (the `[n, F]` outputs: no zeroing
/// pass over memory that is overwritten anyway).
fn filled<T: Real>(len: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: every caller's `fill` writes each of the `len` values (the blocks cover every
    // row of every segment, and each row is written whole).
    unsafe { out.set_len(len) };
    out
}

/// Every row takes its segment's value: `[G, F] -> [n, F]`.
pub(crate) fn broadcast<T: Real>(values: &[T], features: usize, offsets: &[usize]) -> Vec<T> {
    let blocks = Blocks::new(offsets);
    let rows = offsets.last().copied().unwrap_or(0);
    filled(rows * features, |out| {
        per_block(
            out,
            &blocks,
            |&(_, start, end)| (end - start) * features,
            rows * features,
            |&(s, _, _), out_rows| {
                let value = &values[s * features..(s + 1) * features];
                for out_row in out_rows.chunks_exact_mut(features) {
                    for (o, &v) in out_row.iter_mut().zip(value) {
                        o.write(v);
                    }
                }
            },
        )
    })
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
    let mut pieces = Vec::with_capacity(kept.len());
    let mut rest = &mut perm[..];
    for (s, &k) in kept.iter().enumerate() {
        let (piece, tail) = rest.split_at_mut(k);
        if k > 0 {
            pieces.push((s, piece));
        }
        rest = tail;
    }
    let select = |(s, out): (usize, &mut [i64])| {
        let k = out.len();
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
    };
    if score.len() >= PARALLEL_WORK / 8 {
        pieces.into_par_iter().for_each(select);
    } else {
        pieces.into_iter().for_each(select);
    }
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
            broadcast(&[1.0, 2.0, 0.0, 0.0, 3.0, 6.0], 2, &offsets),
            [1.0, 2.0, 1.0, 2.0, 3.0, 6.0, 3.0, 6.0, 3.0, 6.0]
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
