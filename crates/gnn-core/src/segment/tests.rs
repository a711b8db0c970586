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

fn upload<B: SegmentBackend>(values: &[f64], rows: usize, device: &B::Device) -> Tensor<B, 2> {
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

fn reductions_match_host_reference<B: SegmentBackend>(device: &B::Device) {
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

fn softmax_matches_host_reference<B: SegmentBackend>(device: &B::Device) {
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

fn to_dense_batch_matches_host_reference<B: SegmentBackend>(device: &B::Device) {
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

fn scatter_sum_matches_host_reference<B: SegmentBackend>(device: &B::Device) {
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

fn reductions_are_invariant_under_row_permutations_within_segments<B: SegmentBackend>(
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

fn segment_ops_make_no_device_read<B: SegmentBackend>(device: &B::Device) {
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
fn empty_shapes_are_handled<B: SegmentBackend>(device: &B::Device) {
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

fn ids_are_validated<B: SegmentBackend>(device: &B::Device) {
    let ids = |v: &[i64]| {
        Tensor::<B, 1, Int>::from_data(burn::tensor::TensorData::new(v.to_vec(), [v.len()]), device)
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
fn reduction_gradients_match_closed_form<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
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
            let loss = (op(xt.clone(), &segments) * upload::<B>(&w, counts.len(), device)).sum();
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
