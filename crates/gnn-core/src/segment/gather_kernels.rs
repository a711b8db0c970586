//! CPU kernels of [`gather_scaled`](super::gather_scaled) and its gradient: one pass over the
//! kept rows each, where the portable formulation runs a gather, a broadcast product, a second
//! gather, a product, a row sum and a scatter.

use rayon::prelude::*;

use super::kernels::Real;
use super::project_kernels::dot;

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

/// Marks a row of `x` that no id selects.
const NO_SOURCE: usize = usize::MAX;

/// For each of `rows` rows, the position in `perm` of the id that selects it (or
/// [`NO_SOURCE`]); `None` when an id repeats.
fn source_rows(perm: &[i64], rows: usize) -> Option<Vec<usize>> {
    let mut source = vec![NO_SOURCE; rows];
    for (i, &id) in perm.iter().enumerate() {
        let slot = &mut source[id as usize];
        if *slot != NO_SOURCE {
            return None;
        }
        *slot = i;
    }
    Some(source)
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
    let scale_gradient = |i: usize| {
        let from = perm[i] as usize * features;
        dot(
            &grad[i * features..(i + 1) * features],
            &x[from..from + features],
        )
    };
    if perm.len() * features >= PARALLEL_WORK {
        d_scale
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, d)| *d = scale_gradient(i));
    } else {
        d_scale
            .iter_mut()
            .enumerate()
            .for_each(|(i, d)| *d = scale_gradient(i));
    }
    // Row `perm[i]` of `∂x` is `grad[i] · scale[i]`. Pooling keeps distinct ids, so every row
    // of `∂x` has at most one source and the rows can be filled in parallel; repeated ids (not
    // from pooling) are summed in order, serially.
    let scaled = |to: &mut [T], i: usize| {
        let s = scale[i];
        for (d, &g) in to.iter_mut().zip(&grad[i * features..(i + 1) * features]) {
            *d += g * s;
        }
    };
    let distinct = (d_x.len() >= PARALLEL_WORK)
        .then(|| source_rows(perm, x.len() / features))
        .flatten();
    match distinct {
        Some(source) => d_x
            .par_chunks_mut(features)
            .zip(source.par_iter())
            .for_each(|(to, &i)| {
                if i != NO_SOURCE {
                    scaled(to, i);
                }
            }),
        None => {
            for (i, &id) in perm.iter().enumerate() {
                let to = id as usize * features;
                scaled(&mut d_x[to..to + features], i);
            }
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
