//! Every [`SegmentBackend`] method of each backend against the portable formulation it
//! overrides, on random batches with empty segments (first, last, in the middle), 1-row
//! segments, one huge segment among tiny ones, NaN, ±inf and exact ties; forward and gradients.

use burn::tensor::backend::AutodiffBackend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::gradcheck::{self, B64, TOL, check_gradient, weighted_sum};

/// Features of the cross-checks: one register block of the kernels (16) and a tail.
const F: usize = 20;
/// Features of the finite-difference checks (two evaluations per entry).
const FD_F: usize = 3;

/// Segment sizes: empty segments first, last and in the middle, 1-row segments, one huge
/// segment among tiny ones, and random ones.
fn batches() -> Vec<Vec<usize>> {
    let mut batches = vec![
        vec![0, 3, 1, 0, 4, 0],
        vec![0, 0, 2, 5],
        vec![6, 2, 0, 0],
        vec![1, 1, 1, 1, 1],
        vec![1],
        vec![2, 1, 2100, 1, 0, 3, 1],
    ];
    let mut rng = StdRng::seed_from_u64(13);
    for _ in 0..4 {
        let segments = rng.random_range(1..12);
        batches.push(
            (0..segments)
                .map(|_| [0, 1, 2, 3, 9, 17][rng.random_range(0..6)])
                .collect(),
        );
    }
    batches
}

/// What the values of a batch look like.
#[derive(Debug, Clone, Copy)]
enum Values {
    /// Continuous, no ties.
    Random,
    /// Few distinct values: many exact ties.
    Ties,
    /// Every value equal.
    AllEqual,
    /// Ties plus NaN and ±inf sprinkled in.
    Special,
}

const VALUES: [Values; 4] = [
    Values::Random,
    Values::Ties,
    Values::AllEqual,
    Values::Special,
];

fn values(n: usize, kind: Values, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| match kind {
            Values::Random => rng.random_range(-2.0..2.0f32) as f64,
            Values::Ties => rng.random_range(-2..=2) as f64 * 0.5,
            Values::AllEqual => 0.25,
            Values::Special => match rng.random_range(0..12) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                _ => rng.random_range(-2..=2) as f64,
            },
        })
        .collect()
}

fn upload<B: Backend, const D: usize>(
    values: &[f64],
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    gradcheck::tensor(values, shape, device)
}

/// Whether column `f` of segment `s` holds a NaN.
fn has_nan(x: &[f64], offsets: &[usize], s: usize, f: usize) -> bool {
    (offsets[s]..offsets[s + 1]).any(|r| x[r * F + f].is_nan())
}

/// `actual` equals `expected` entry by entry (NaN equals NaN), within `tol` relative.
#[track_caller]
fn assert_same(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: number of values");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let same = (a.is_nan() && e.is_nan())
            || a == e
            || (a - e).abs() <= tol * (1.0 + e.abs().min(1e30));
        assert!(
            same,
            "{what}: entry {i} is {a}, the portable formulation gives {e}"
        );
    }
}

/// The gradients of both inputs of a two-input operation, `(output, ∂first, ∂second)` as
/// `run` gives them, native against portable.
fn assert_same_gradients(
    native: (Vec<f64>, Vec<f64>, Vec<f64>),
    portable: (Vec<f64>, Vec<f64>, Vec<f64>),
    inputs: [&str; 2],
    tol: f64,
    what: &str,
) {
    let gradient = |input: &str| format!("{what}: gradient of {input}");
    assert_same(&native.1, &portable.1, tol, &gradient(inputs[0]));
    assert_same(&native.2, &portable.2, tol, &gradient(inputs[1]));
}

fn kernels_match_the_portable_formulation<B: SegmentBackend>(device: &B::Device) {
    for (b, counts) in batches().into_iter().enumerate() {
        let segments = Segments::<B>::from_counts(counts.clone(), device);
        let (n, g) = (segments.num_rows(), segments.num_segments());
        if n == 0 {
            continue;
        }
        for (v, kind) in VALUES.into_iter().enumerate() {
            let seed = (100 * b + v) as u64;
            let what = |op: &str| format!("{op} of {counts:?}, {kind:?} values");
            let x = values(n * F, kind, seed);
            let xt = || upload::<B, 2>(&x, [n, F], device);
            let finite = !matches!(kind, Values::Special);
            if finite {
                // Finite values only (with infinities of both signs either order gives NaN). The
                // kernels add a huge segment block by block: float32 rounding differs a little.
                let native = host::floats(B::segment_sum(xt(), &segments));
                let portable = host::floats(portable::segment_sum(xt(), &segments));
                assert_same(&native, &portable, 1e-5, &what("sum"));
                let native = host::floats(B::segment_mean(xt(), &segments));
                let portable = host::floats(portable::segment_mean(xt(), &segments));
                assert_same(&native, &portable, 1e-5, &what("mean"));
            }
            for (name, max) in [("max", true), ("min", false)] {
                let native = host::floats(if max {
                    B::segment_max(xt(), &segments)
                } else {
                    B::segment_min(xt(), &segments)
                });
                let portable = host::floats(if max {
                    portable::segment_max(xt(), &segments)
                } else {
                    portable::segment_min(xt(), &segments)
                });
                for s in 0..g {
                    for f in 0..F {
                        let (a, e) = (native[s * F + f], portable[s * F + f]);
                        if has_nan(&x, segments.offsets(), s, f) {
                            // Native kernels: PyTorch's amax, a NaN wins (`kernels` tests it);
                            // the portable fold's NaN is the backend's (Wgpu runs it here).
                            assert!(
                                a.is_nan() || a == e,
                                "{}: NaN neither propagated nor as portable",
                                what(name)
                            );
                        } else {
                            assert!(
                                a == e || (a - e).abs() <= 1e-6 * (1.0 + e.abs()),
                                "{}: segment {s} feature {f} is {a}, portable {e}",
                                what(name)
                            );
                        }
                    }
                }
                // The backward of the native result, against the portable backward.
                let grad = values(g * F, Values::Random, seed + 7);
                let extremum = upload::<B, 2>(&native, [g, F], device);
                let grad = upload::<B, 2>(&grad, [g, F], device);
                let native = host::floats(B::segment_extremum_backward(
                    xt(),
                    extremum.clone(),
                    grad.clone(),
                    &segments,
                ));
                let portable = host::floats(portable::segment_extremum_backward(
                    xt(),
                    extremum,
                    grad,
                    &segments,
                ));
                assert_same(&native, &portable, 1e-6, &what(&format!("{name} backward")));
            }
            let per_segment = values(g * F, kind, seed + 11);
            let native = host::floats(B::segment_broadcast(
                upload::<B, 2>(&per_segment, [g, F], device),
                &segments,
            ));
            let portable = host::floats(portable::segment_broadcast(
                upload::<B, 2>(&per_segment, [g, F], device),
                &segments,
            ));
            assert_same(&native, &portable, 0.0, &what("broadcast"));

            // Top-k: exact ids, for every kept fraction (NaN first, ties by row).
            let score = values(n, kind, seed + 13);
            for ratio in [0.1, 0.5, 1.0] {
                let kept: Vec<usize> = counts
                    .iter()
                    .map(|&c| ((c as f64 * ratio).ceil() as usize).min(c))
                    .collect();
                if kept.iter().all(|&k| k == 0) {
                    continue;
                }
                let native = host::ints(B::segment_top_k(
                    upload::<B, 1>(&score, [n], device),
                    &segments,
                    &kept,
                ));
                let portable = host::ints(portable::segment_top_k(
                    upload::<B, 1>(&score, [n], device),
                    &segments,
                    &kept,
                ));
                assert_eq!(native, portable, "{} at ratio {ratio}", what("top-k"));
            }
        }
    }
}

/// Gradients through the backend's methods (its autodiff implementation) against gradients
/// through the portable formulation (Burn's autodiff of plain tensor operations).
fn gradients_match_the_portable_formulation<B: AutodiffBackend + SegmentBackend>(
    device: &B::Device,
) {
    type Op<B> = fn(Tensor<B, 2>, &Segments<B>) -> Tensor<B, 2>;
    let ops: [(&str, Op<B>, Op<B>); 5] = [
        ("sum", B::segment_sum, portable::segment_sum),
        ("mean", B::segment_mean, portable::segment_mean),
        ("max", B::segment_max, portable::segment_max),
        ("min", B::segment_min, portable::segment_min),
        (
            "broadcast",
            B::segment_broadcast,
            portable::segment_broadcast,
        ),
    ];
    for (b, counts) in batches().into_iter().enumerate() {
        let segments = Segments::<B>::from_counts(counts.clone(), device);
        let (n, g) = (segments.num_rows(), segments.num_segments());
        if n == 0 {
            continue;
        }
        for (v, kind) in [Values::Random, Values::Ties, Values::AllEqual]
            .into_iter()
            .enumerate()
        {
            let seed = (100 * b + v) as u64;
            for (name, native, reference) in ops {
                let rows = if name == "broadcast" { g } else { n };
                let out_rows = if name == "broadcast" { n } else { g };
                let x = values(rows * F, kind, seed);
                let w = values(out_rows * F, Values::Random, seed + 1);
                let grad = |op: Op<B>| {
                    let xt = upload::<B, 2>(&x, [rows, F], device).require_grad();
                    let loss = (op(xt.clone(), &segments)
                        * upload::<B, 2>(&w, [out_rows, F], device))
                    .sum();
                    xt.grad(&loss.backward())
                        .map(host::floats)
                        .unwrap_or_else(|| vec![0.0; rows * F])
                };
                assert_same(
                    &grad(native),
                    &grad(reference),
                    1e-5,
                    &format!("gradient of {name} of {counts:?}, {kind:?} values"),
                );
            }
        }
    }
}

/// The scaled gather of each backend (forward on the inner backend, gradients of both inputs
/// through its autodiff) against the portable formulation: distinct ids as pooling gives them,
/// repeated ids, every row and no row of a huge input.
fn gather_scaled_matches_the_portable_formulation<B: AutodiffBackend + SegmentBackend>(
    device: &B::Device,
) {
    let mut rng = StdRng::seed_from_u64(29);
    let distinct: Vec<usize> = (0..2100).filter(|_| rng.random_bool(0.4)).collect();
    let repeated: Vec<usize> = (0..300).map(|_| rng.random_range(0..7)).collect();
    let cases: [(usize, Vec<usize>); 4] = [
        (2100, distinct),
        (7, repeated),
        (9, (0..9).rev().collect()),
        (5, vec![3]),
    ];
    for (case, (rows, perm)) in cases.into_iter().enumerate() {
        let k = perm.len();
        let seed = 500 + case as u64;
        let x = values(rows * F, Values::Random, seed);
        let scale = values(k, Values::Random, seed + 1);
        let w = values(k * F, Values::Random, seed + 2);
        let what = format!("gather_scaled of {k} ids into {rows} rows");
        let ids = || host::index_tensor::<B>(&perm, device);
        let run = |native: bool| {
            let xt = upload::<B, 2>(&x, [rows, F], device).require_grad();
            let st = upload::<B, 1>(&scale, [k], device).require_grad();
            let out = if native {
                B::gather_scaled(xt.clone(), ids(), st.clone())
            } else {
                portable::gather_scaled(xt.clone(), ids(), st.clone())
            };
            let values = host::floats(out.clone().inner());
            let grads = (out * upload::<B, 2>(&w, [k, F], device)).sum().backward();
            let d_x = xt.grad(&grads).map(host::floats).expect("x is tracked");
            let d_s = st.grad(&grads).map(host::floats).expect("scale is tracked");
            (values, d_x, d_s)
        };
        let (native, portable) = (run(true), run(false));
        assert_same(&native.0, &portable.0, 0.0, &what);
        assert_same_gradients(native, portable, ["x", "scale"], 1e-5, &what);
    }
}

/// The row projection of each backend (forward on the inner backend, gradients of both inputs
/// through its autodiff) against the portable formulation: a huge input (past the parallel
/// threshold and the kernels' blocks of rows), one row, one feature, a width that is not a
/// multiple of the kernels' lanes, and NaN and ±inf.
fn row_dot_matches_the_portable_formulation<B: AutodiffBackend + SegmentBackend>(
    device: &B::Device,
) {
    let cases = [
        (2100, F, Values::Random),
        (1, 5, Values::Random),
        (7, 1, Values::Ties),
        (300, 17, Values::Random),
        (40, 9, Values::Special),
    ];
    for (case, (rows, features, kind)) in cases.into_iter().enumerate() {
        let seed = 700 + case as u64;
        let x = values(rows * features, kind, seed);
        let weight = values(features, Values::Random, seed + 1);
        let w = values(rows, Values::Random, seed + 2);
        let what = format!("row_dot of [{rows}, {features}], {kind:?} values");
        let run = |native: bool| {
            let xt = upload::<B, 2>(&x, [rows, features], device).require_grad();
            let wt = upload::<B, 1>(&weight, [features], device).require_grad();
            let out = if native {
                B::row_dot(xt.clone(), wt.clone())
            } else {
                portable::row_dot(xt.clone(), wt.clone())
            };
            let values = host::floats(out.clone().inner());
            let grads = (out * upload::<B, 1>(&w, [rows], device)).sum().backward();
            let d_x = xt.grad(&grads).map(host::floats).expect("x is tracked");
            let d_w = wt
                .grad(&grads)
                .map(host::floats)
                .expect("weight is tracked");
            (values, d_x, d_w)
        };
        let (native, portable) = (run(true), run(false));
        // The kernels add in another order than the portable row sum.
        assert_same(&native.0, &portable.0, 1e-5, &what);
        if matches!(kind, Values::Special) {
            continue; // NaN and inf make the gradients NaN in any order of summation
        }
        assert_same_gradients(native, portable, ["x", "the weight"], 1e-4, &what);
    }
}

crate::backend_tests!(kernels_match_the_portable_formulation);
crate::autodiff_backend_tests!(
    gradients_match_the_portable_formulation,
    gather_scaled_matches_the_portable_formulation,
    row_dot_matches_the_portable_formulation
);

/// The hand-written backward against float-64 finite differences, on the native kernels of
/// `NdArray<f64>`, with exact ties (split among the tied rows, PyG's gradient) and a huge segment.
#[test]
fn native_backward_matches_finite_differences() {
    let device = gradcheck::device();
    for (seed, counts) in [vec![0, 3, 1, 0, 4, 0], vec![2, 1, 300, 1, 0]]
        .into_iter()
        .enumerate()
    {
        let seed = seed as u64;
        let segments = Segments::<B64>::from_counts(counts.clone(), &device);
        let n = segments.num_rows();
        let at = gradcheck::random_2d::<B64>([n, FD_F], 900 + seed, &device);
        type Op = fn(Tensor<B64, 2>, &Segments<B64>) -> Tensor<B64, 2>;
        let ops: [(&str, Op); 4] = [
            ("sum", B64::segment_sum),
            ("mean", B64::segment_mean),
            ("max", B64::segment_max),
            ("min", B64::segment_min),
        ];
        for (name, op) in ops {
            check_gradient(
                &format!("native {name} of {counts:?}"),
                &at,
                |x| weighted_sum(op(x, &segments), seed),
                TOL,
            );
        }
        let values = gradcheck::random_2d::<B64>([counts.len(), FD_F], 950 + seed, &device);
        check_gradient(
            &format!("native broadcast of {counts:?}"),
            &values,
            |v| weighted_sum(B64::segment_broadcast(v, &segments), seed),
            TOL,
        );
    }
    // The scaled gather, in both inputs, with a repeated id.
    let x = gradcheck::random_2d::<B64>([5, FD_F], 970, &device);
    let scale = gradcheck::random_2d::<B64>([4, 1], 971, &device).reshape([4]);
    let perm = || host::index_tensor::<B64>(&[4, 0, 2, 0], &device);
    check_gradient(
        "native gather_scaled, rows",
        &x,
        |x| weighted_sum(B64::gather_scaled(x, perm(), scale.clone()), 3),
        TOL,
    );
    check_gradient(
        "native gather_scaled, scales",
        &scale.clone().reshape([4, 1]),
        |s| weighted_sum(B64::gather_scaled(x.clone(), perm(), s.reshape([4])), 3),
        TOL,
    );
    // The row projection, in both inputs (11 features: one block of lanes and a tail).
    let x = gradcheck::random_2d::<B64>([6, 11], 980, &device);
    let weight = gradcheck::random_2d::<B64>([11, 1], 981, &device).reshape([11]);
    check_gradient(
        "native row_dot, rows",
        &x,
        |x| B64::row_dot(x, weight.clone()).powf_scalar(2.0).sum(),
        TOL,
    );
    check_gradient(
        "native row_dot, weight",
        &weight.clone().reshape([11, 1]),
        |w| {
            B64::row_dot(x.clone(), w.reshape([11]))
                .powf_scalar(2.0)
                .sum()
        },
        TOL,
    );
    // Exact ties: finite differences see a kink, so the split is checked in closed form.
    let segments = Segments::<B64>::from_counts(vec![3], &device);
    let x = upload::<B64, 2>(&[1.0, 2.0, 0.0, 0.0, 1.0, 2.0], [3, 2], &device).require_grad();
    let grads = B64::segment_max(x.clone(), &segments).sum().backward();
    assert_eq!(
        host::floats(x.grad(&grads).expect("tracked")),
        [0.5, 0.5, 0.0, 0.0, 0.5, 0.5]
    );
}

/// Shards train on parallel threads on the CPU backends only, with or without autodiff; Wgpu's
/// tensors stay on their thread (see `SegmentBackend::PARALLEL_SHARDS`).
#[test]
fn parallel_shards_only_on_the_cpu_backends() {
    use burn::backend::{Autodiff, Flex, NdArray};
    fn parallel<B: SegmentBackend>() -> bool {
        B::PARALLEL_SHARDS
    }
    assert!(parallel::<NdArray<f32>>());
    assert!(parallel::<Flex>());
    assert!(parallel::<Autodiff<Flex>>());
    #[cfg(feature = "wgpu")]
    {
        use burn::backend::Wgpu;
        assert!(!parallel::<Wgpu>());
        assert!(!parallel::<Autodiff<Wgpu>>());
    }
}
