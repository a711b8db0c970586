//! Test support: gradients against central finite differences on `Autodiff<NdArray<f64>>`, and
//! seeded random data shared by the tests of every module.

use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The float-64 autodiff backend of the gradient checks.
pub(crate) type B64 = crate::testing::F64Backend;

/// Default tolerance of a gradient check: `|autodiff − fd| <= TOL · (1 + |fd|)`.
pub(crate) const TOL: f64 = 1e-6;

/// The device of [`B64`].
pub(crate) fn device() -> burn::backend::ndarray::NdArrayDevice {
    Default::default()
}

/// `n` values uniform in `[low, high)`, from `seed`.
pub(crate) fn uniform(n: usize, low: f64, high: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(low..high)).collect()
}

/// A `[rows, cols]` tensor of values uniform in `[-1, 1)` (continuous, so no ties), from `seed`.
pub(crate) fn random_2d<B: Backend>(
    shape: [usize; 2],
    seed: u64,
    device: &B::Device,
) -> Tensor<B, 2> {
    let values = uniform(shape[0] * shape[1], -1.0, 1.0, seed);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// A tensor of host values (converted to the backend's float type).
pub(crate) fn tensor<B: Backend, const D: usize>(
    values: &[f64],
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// `Σ w ⊙ t` with fixed random weights `w` in `[-1, 1)`: a scalar loss that sees every entry.
pub(crate) fn weighted_sum<B: Backend, const D: usize>(t: Tensor<B, D>, seed: u64) -> Tensor<B, 1> {
    let shape = t.dims();
    let weights = tensor::<B, D>(
        &uniform(shape.iter().product(), -1.0, 1.0, seed),
        shape,
        &t.device(),
    );
    (t * weights).sum()
}

pub(crate) use crate::testing::check_gradient;

/// Test graph shared by the layer tests: seven nodes, node 5 with out-edges only, node 6
/// isolated, a duplicate edge, no self loop.
pub(crate) const EDGES: [(usize, usize); 9] = [
    (0, 1),
    (2, 1),
    (3, 1),
    (0, 1),
    (1, 0),
    (4, 2),
    (1, 3),
    (5, 4),
    (5, 3),
];
/// Nodes of [`EDGES`].
pub(crate) const NODES: usize = 7;

/// `edge_index` `[2, E]` of `(source, target)` pairs.
pub(crate) fn edge_index<B: Backend>(
    edges: &[(usize, usize)],
    device: &B::Device,
) -> Tensor<B, 2, burn::tensor::Int> {
    let mut flat: Vec<i64> = edges.iter().map(|&(s, _)| s as i64).collect();
    flat.extend(edges.iter().map(|&(_, t)| t as i64));
    Tensor::from_data(TensorData::new(flat, [2, edges.len()]), device)
}

/// Puts `value` (any shape with the same number of entries) into a parameter. The gradient
/// flows back through the reshape to `value` (`Param::from_tensor` would refuse a non-leaf).
pub(crate) fn param<const D: usize>(
    value: Tensor<B64, 2>,
    shape: [usize; D],
) -> burn::module::Param<Tensor<B64, D>> {
    burn::module::Param::initialized(burn::module::ParamId::new(), value.reshape(shape))
}

/// A parameter's current value as a `[1, n]` or `[rows, cols]` tensor for [`check_gradient`].
pub(crate) fn as_2d<const D: usize>(value: Tensor<B64, D>) -> Tensor<B64, 2> {
    let dims = value.dims();
    if D == 2 {
        value.reshape([dims[0], dims[D - 1]])
    } else {
        value.reshape([1, dims.iter().product::<usize>()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_check_catches_a_wrong_gradient() {
        let at = random_2d::<B64>([2, 3], 1, &device());
        // Correct: d/dx Σ x² = 2x.
        let grad = check_gradient("square", &at, |x| (x.clone() * x).sum(), TOL);
        let expected: Vec<f64> = at.to_data().iter::<f64>().map(|v| 2.0 * v).collect();
        for (g, e) in grad.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12);
        }
        // Wrong: a detached factor hides half of the gradient, and the check must say so.
        let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_gradient("detached", &at, |x| (x.clone().detach() * x).sum(), TOL);
        }));
        assert!(wrong.is_err(), "a wrong gradient passed the check");
    }
}
