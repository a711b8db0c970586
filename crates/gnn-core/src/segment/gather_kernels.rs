//! CPU kernels of [`gather_scaled`](super::gather_scaled) and its gradient: one pass over the
//! kept rows each, where the portable formulation runs a gather, a broadcast product, a second
//! gather, a product, a row sum and a scatter.

use rayon::prelude::*;

use super::kernels::Real;

/// Kept rows (times features) from which the kernels split the rows over threads.
const PARALLEL_WORK: usize = 1 << 15;

/// `x[perm[i]] · scale[i]`, `[k, F]` row-major.
///
/// # Panics
/// On an id outside `x` (slices are bounds-checked: no read past `x`).
pub(crate) fn gather_scaled<T: Real>(
    x: &[T],
    features: usize,
    perm: &[i64],
    scale: &[T],
) -> Vec<T> {
    let mut out = vec![T::ZERO; perm.len() * features];
    let fill = |(i, row): (usize, &mut [T])| {
        let from = perm[i] as usize * features;
        let s = scale[i];
        for (o, &v) in row.iter_mut().zip(&x[from..from + features]) {
            *o = v * s;
        }
    };
    if out.len() >= PARALLEL_WORK {
        out.par_chunks_mut(features).enumerate().for_each(fill);
    } else {
        out.chunks_mut(features).enumerate().for_each(fill);
    }
    out
}

/// The gradient of [`gather_scaled`] for `grad [k, F]`: `∂x [n, F]` (row `perm[i]` gets
/// `grad[i] · scale[i]`, summed in order over repeated ids) and `∂scale [k]`
/// (`grad[i] · x[perm[i]]`).
pub(crate) fn gather_scaled_backward<T: Real>(
    x: &[T],
    features: usize,
    perm: &[i64],
    scale: &[T],
    grad: &[T],
) -> (Vec<T>, Vec<T>) {
    let mut d_x = vec![T::ZERO; x.len()];
    let mut d_scale = vec![T::ZERO; perm.len()];
    let dot = |i: usize| {
        let from = perm[i] as usize * features;
        let row = &grad[i * features..(i + 1) * features];
        row.iter()
            .zip(&x[from..from + features])
            .fold(T::ZERO, |acc, (&g, &v)| acc + g * v)
    };
    if perm.len() * features >= PARALLEL_WORK {
        d_scale
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, d)| *d = dot(i));
    } else {
        d_scale
            .iter_mut()
            .enumerate()
            .for_each(|(i, d)| *d = dot(i));
    }
    // Sequential: ids may repeat (not in pooling, where they are distinct), and the rows
    // written are scattered, so this pass is memory-bound anyway.
    for (i, &id) in perm.iter().enumerate() {
        let to = id as usize * features;
        let s = scale[i];
        let row = &grad[i * features..(i + 1) * features];
        for (d, &g) in d_x[to..to + features].iter_mut().zip(row) {
            *d += g * s;
        }
    }
    (d_x, d_scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_scales_and_differentiates_by_hand() {
        // x: 3 rows of 2 features; rows 2 and 0 kept, scaled by 2 and -1.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let perm = [2, 0];
        let scale = [2.0, -1.0];
        assert_eq!(
            gather_scaled(&x, 2, &perm, &scale),
            [10.0, 12.0, -1.0, -2.0]
        );
        let grad = [1.0, 0.5, -1.0, 2.0];
        let (d_x, d_scale) = gather_scaled_backward(&x, 2, &perm, &scale, &grad);
        assert_eq!(d_x, [1.0, -2.0, 0.0, 0.0, 2.0, 1.0]);
        assert_eq!(d_scale, [5.0 + 3.0, -1.0 + 4.0]);
        // A repeated id sums its rows' gradients.
        let (d_x, _) = gather_scaled_backward(&x, 2, &[1, 1], &scale, &grad);
        assert_eq!(d_x, [0.0, 0.0, 3.0, -1.0, 0.0, 0.0]);
    }
}
