//! CPU kernels of [`row_dot`](super::row_dot) and its gradient: one pass over `x` each, where
//! the portable formulation writes an `[n, F]` product and reduces it (and its gradient writes
//! two more).

use rayon::prelude::*;

use super::kernels::Real;

/// Elements of `x` from which the kernels split the rows over threads.
const PARALLEL_WORK: usize = 1 << 15;

/// Independent accumulators of a row's dot product: enough for the compiler to keep a vector
/// register of partial sums instead of one serial chain of additions.
const LANES: usize = 8;

/// Rows per partial sum of the weight gradient. The blocks are fixed, not one per thread, so
/// the gradient adds the same partial sums in the same order whatever the number of threads.
const BLOCK_ROWS: usize = 1024;

/// `row · weight` with [`LANES`] partial sums.
pub(crate) fn dot<T: Real>(row: &[T], weight: &[T]) -> T {
    let mut lanes = [T::ZERO; LANES];
    let (row_chunks, weight_chunks) = (row.chunks_exact(LANES), weight.chunks_exact(LANES));
    let (row_tail, weight_tail) = (row_chunks.remainder(), weight_chunks.remainder());
    for (r, w) in row_chunks.zip(weight_chunks) {
        for lane in 0..LANES {
            lanes[lane] += r[lane] * w[lane];
        }
    }
    for (lane, (&r, &w)) in row_tail.iter().zip(weight_tail).enumerate() {
        lanes[lane] += r * w;
    }
    lanes.iter().fold(T::ZERO, |acc, &v| acc + v)
}

/// `x[i] · weight` for every row of `x [n, F]` (row-major, `F = weight.len()`): `[n]`.
pub(crate) fn row_dot<T: Real>(x: &[T], weight: &[T]) -> Vec<T> {
    let features = weight.len();
    let mut out = vec![T::ZERO; x.len() / features];
    let fill = |(o, row): (&mut T, &[T])| *o = dot(row, weight);
    if x.len() >= PARALLEL_WORK {
        out.par_iter_mut()
            .zip(x.par_chunks(features))
            .for_each(fill);
    } else {
        out.iter_mut().zip(x.chunks(features)).for_each(fill);
    }
    out
}

/// The gradient of [`row_dot`] for `grad [n]`: `∂x [n, F]` (row `i` is `grad[i] · weight`) and
/// `∂weight [F]` (`Σ_i grad[i] · x[i]`, summed per block of rows, then over blocks in order).
pub(crate) fn row_dot_backward<T: Real>(x: &[T], weight: &[T], grad: &[T]) -> (Vec<T>, Vec<T>) {
    let features = weight.len();
    let mut d_x = vec![T::ZERO; x.len()];
    let scale_row = |(row, &g): (&mut [T], &T)| {
        for (d, &w) in row.iter_mut().zip(weight) {
            *d = g * w;
        }
    };
    let block_sum = |(rows, grads): (&[T], &[T])| {
        let mut partial = vec![T::ZERO; features];
        for (row, &g) in rows.chunks(features).zip(grads) {
            for (p, &v) in partial.iter_mut().zip(row) {
                *p += g * v;
            }
        }
        partial
    };
    let block = BLOCK_ROWS * features;
    let partials: Vec<Vec<T>> = if x.len() >= PARALLEL_WORK {
        d_x.par_chunks_mut(features)
            .zip(grad.par_iter())
            .for_each(scale_row);
        x.par_chunks(block)
            .zip(grad.par_chunks(BLOCK_ROWS))
            .map(block_sum)
            .collect()
    } else {
        d_x.chunks_mut(features).zip(grad).for_each(scale_row);
        x.chunks(block)
            .zip(grad.chunks(BLOCK_ROWS))
            .map(block_sum)
            .collect()
    };
    let mut d_weight = vec![T::ZERO; features];
    for partial in partials {
        for (d, p) in d_weight.iter_mut().zip(partial) {
            *d += p;
        }
    }
    (d_x, d_weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_rows_and_differentiates_by_hand() {
        // Three rows of 10 features (one block of 8 lanes and a tail of 2).
        let x: Vec<f64> = (0..30).map(|i| i as f64 - 7.0).collect();
        let weight: Vec<f64> = (0..10).map(|f| 0.5 - f as f64 * 0.25).collect();
        let expected: Vec<f64> = x
            .chunks(10)
            .map(|row| row.iter().zip(&weight).map(|(a, b)| a * b).sum())
            .collect();
        assert_eq!(row_dot(&x, &weight), expected);
        let grad = [2.0, -1.0, 0.5];
        let (d_x, d_weight) = row_dot_backward(&x, &weight, &grad);
        for (i, row) in d_x.chunks(10).enumerate() {
            let scaled: Vec<f64> = weight.iter().map(|w| grad[i] * w).collect();
            assert_eq!(row, scaled.as_slice());
        }
        let summed: Vec<f64> = (0..10)
            .map(|f| (0..3).map(|i| grad[i] * x[i * 10 + f]).sum())
            .collect();
        assert_eq!(d_weight, summed);
    }

    #[test]
    fn parallel_weight_gradient_sums_fixed_blocks_in_order() {
        // More rows than one block and more work than the parallel threshold: the parallel
        // result equals a serial sum over the same blocks, bit for bit.
        let (rows, features) = (3 * BLOCK_ROWS + 17, 11);
        let x: Vec<f32> = (0..rows * features)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let weight: Vec<f32> = (0..features).map(|f| f as f32 / 3.0 - 1.0).collect();
        let grad: Vec<f32> = (0..rows)
            .map(|i| ((i * 13 % 29) as f32 - 14.0) / 5.0)
            .collect();
        assert!(x.len() >= PARALLEL_WORK);
        let (_, parallel) = row_dot_backward(&x, &weight, &grad);
        let mut serial = vec![0.0f32; features];
        for (rows, grads) in x.chunks(BLOCK_ROWS * features).zip(grad.chunks(BLOCK_ROWS)) {
            let mut partial = vec![0.0f32; features];
            for (row, &g) in rows.chunks(features).zip(grads) {
                for (p, &v) in partial.iter_mut().zip(row) {
                    *p += g * v;
                }
            }
            for (s, p) in serial.iter_mut().zip(partial) {
                *s += p;
            }
        }
        assert_eq!(parallel, serial);
    }
}
