//! The one home of the workarounds for Burn 0.21, each with the upstream condition under which
//! it can go.
//!
//! Graph data is often empty (a batch of empty graphs, a graph without edges, a pooling that
//! keeps nothing), and a few Burn 0.21 operations misbehave on such data or lose precision.
//! Every layer of this workspace goes through the functions here instead of the Burn calls they
//! replace, so that a Burn upgrade touches one file:
//!
//! - [`reshape`]: Burn's `reshape` reads a 0 in the target shape as "keep this dimension";
//! - [`sigmoid`]: Burn's `sigmoid` computes in `f32` whatever the backend's precision;
//! - [`is_element_free`] and [`zeros_if_element_free`]: Wgpu panics when it runs a kernel on a
//!   tensor without elements, so layers return zeros of the right shape without computing;
//! - [`linear`]: NdArray's matmul divides by zero on an operand with a zero dimension;
//! - [`select_1d`] and [`select_add_1d`]: Flex's `select` and `select_assign` on a 1-D tensor
//!   compute every element's source with integer divisions (`select_assign` serially).

use burn::nn::Linear;
use burn::tensor::{BasicOps, Element, IndexingUpdateOp, Int, Shape, Tensor, backend::Backend};

/// `tensor.reshape(shape)` that also works on tensors with no element.
///
/// Burn 0.21's `reshape` reads a 0 in the target shape as "keep this dimension of the input"
/// (ONNX style), so `[1, 0] -> [0]` fails and `[0].unsqueeze_dim(0)` panics. This calls the
/// backend's reshape directly (as `flatten` does) and keeps the autodiff graph.
///
/// Can be removed (in favour of `Tensor::reshape`) once Burn's `reshape` treats a 0 in a
/// `[usize; D]` target shape as a size, as it treats every other value.
///
/// # Panics
/// When the number of elements differs.
#[track_caller]
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

/// The logistic function as `(tanh(x/2) + 1) / 2`, in the backend's precision.
///
/// Burn 0.21's `sigmoid` converts to `f32` and back whatever the backend's float type, which
/// would break float64 parity with PyTorch. Can be removed (in favour of
/// `burn::tensor::activation::sigmoid`) once Burn computes the sigmoid in the tensor's dtype.
pub fn sigmoid<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    (x * 0.5).tanh() * 0.5 + 0.5
}

/// Whether a tensor of this shape has no element (some dimension is 0).
///
/// Elementwise operations and reductions on tensors without elements panic on Wgpu
/// (burn-cubecl 0.21 launches a kernel with an empty grid), so a layer that may see such a
/// tensor answers with [`Tensor::zeros`] of the right shape, which launches nothing. The guards
/// can be removed once burn-cubecl skips kernels on element-free tensors.
pub fn is_element_free(shape: &[usize]) -> bool {
    shape.contains(&0)
}

/// `Some(zeros of shape)` when there is nothing to compute: when some size in `sizes` (the
/// sizes the computation runs over) or in `shape` (the output) is 0; `None` otherwise.
///
/// The guard of [`is_element_free`], for layers to write
/// `if let Some(out) = zeros_if_element_free(..) { return out; }`.
pub fn zeros_if_element_free<B: Backend, const D: usize>(
    sizes: &[usize],
    shape: [usize; D],
    device: &B::Device,
) -> Option<Tensor<B, D>> {
    (is_element_free(sizes) || is_element_free(&shape)).then(|| Tensor::zeros(shape, device))
}

/// `linear.forward(x)` that also accepts no rows or no input features.
///
/// NdArray's matmul divides by zero on a zero-size operand (and Wgpu panics on element-free
/// tensors), and a batch of empty graphs has no node: the result is then zeros, plus the bias
/// when there are rows. Can be removed (in favour of `Linear::forward`) once matmul accepts
/// zero-size operands on every backend.
pub fn linear<B: Backend>(linear: &Linear<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let [rows, d_input] = x.dims();
    if !is_element_free(&[rows, d_input]) {
        return linear.forward(x);
    }
    let d_output = linear.weight.val().dims()[1];
    let zeros = Tensor::zeros([rows, d_output], &x.device());
    match &linear.bias {
        Some(bias) if rows > 0 && d_output > 0 => zeros + bias.val().unsqueeze_dim::<2>(0),
        _ => zeros,
    }
}

/// `tensor.select(0, indices)` for a 1-D tensor (float, int or bool): `[n] -> [k]`; no kernel
/// runs when nothing is picked.
///
/// Burn-flex 0.21 runs `select` on a 1-D tensor through its N-d path, with two integer divisions
/// per element, and on an `[n, 1]` column through one `memcpy` call per row; its `gather` along
/// the columns of a `[1, n]` row is one plain loop, several times faster on the million-edge
/// filters of pooling (and faster there than the same gather down an `[n, 1]` column, which
/// hands every element to rayon as a task of its own). Same values and gradient on every backend (the gradient of
/// `gather` is a scatter-add, as that of `select`). Can be removed (in favour of
/// `Tensor::select`) once Flex's 1-D `select` is a direct loop.
pub fn select_1d<B: Backend, K: BasicOps<B>>(
    tensor: Tensor<B, 1, K>,
    indices: Tensor<B, 1, Int>,
) -> Tensor<B, 1, K>
where
    K::Elem: Element,
{
    let rows = tensor.dims()[0];
    let picked = indices.dims()[0];
    if picked == 0 {
        // Nothing to run (and Wgpu panics on kernels over element-free tensors).
        return Tensor::empty([0], &tensor.device());
    }
    reshape(
        reshape(tensor, [1, rows]).gather(1, reshape(indices, [1, picked])),
        [picked],
    )
}

/// `tensor.select_assign(0, indices, values, IndexingUpdateOp::Add)` for a 1-D tensor:
/// `values [k]` added into `tensor [n]` at `indices [k]` (repeated indices add up); `tensor`
/// unchanged when `k = 0`.
///
/// As [`select_1d`]: Flex's 1-D `select_assign` is a serial N-d loop with integer divisions,
/// its `scatter` on an `[n, 1]` column a plain loop. Can be removed once Flex's 1-D
/// `select_assign` is a direct loop.
pub fn select_add_1d<B: Backend, K: BasicOps<B>>(
    tensor: Tensor<B, 1, K>,
    indices: Tensor<B, 1, Int>,
    values: Tensor<B, 1, K>,
) -> Tensor<B, 1, K>
where
    K::Elem: Element,
{
    let rows = tensor.dims()[0];
    let picked = values.dims()[0];
    if picked == 0 {
        return tensor;
    }
    reshape(
        reshape(tensor, [rows, 1]).scatter(
            0,
            reshape(indices, [picked, 1]),
            reshape(values, [picked, 1]),
            IndexingUpdateOp::Add,
        ),
        [rows],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_close;

    fn workarounds_handle_element_free_tensors<B: Backend>(device: &B::Device) {
        let empty = Tensor::<B, 2>::zeros([1, 0], device);
        assert_eq!(reshape(empty, [0]).dims(), [0]);
        assert_eq!(
            reshape(Tensor::<B, 1>::zeros([0], device), [0, 3]).dims(),
            [0, 3]
        );
        assert!(is_element_free(&[3, 0]) && !is_element_free(&[3, 2]));
        assert!(zeros_if_element_free::<B, 2>(&[2, 3], [2, 3], device).is_none());
        let zeros = zeros_if_element_free::<B, 2>(&[0, 3], [2, 3], device).unwrap();
        assert_close(zeros, &[0.0; 6], 0.0, 0.0);
        // A constant initialiser: Kaiming uniform with no input (fan-in 0) is not finite.
        let lin = burn::nn::LinearConfig::new(0, 2)
            .with_initializer(burn::nn::Initializer::Constant { value: 0.5 })
            .init::<B>(device);
        let out = linear(&lin, Tensor::zeros([3, 0], device));
        assert_eq!(out.dims(), [3, 2]);
        assert_close(out, &[0.5; 6], 0.0, 0.0);
        assert_eq!(linear(&lin, Tensor::zeros([0, 0], device)).dims(), [0, 2]);
    }

    fn sigmoid_is_the_logistic_function<B: Backend>(device: &B::Device) {
        let x = Tensor::<B, 1>::from_data([-2.0, 0.0, 3.0], device);
        let expected: Vec<f64> = [-2.0f64, 0.0, 3.0]
            .iter()
            .map(|v| 1.0 / (1.0 + (-v).exp()))
            .collect();
        assert_close(sigmoid(x), &expected, 1e-6, 1e-6);
    }

    fn one_dimensional_select_and_add_match_burn<B: Backend>(device: &B::Device) {
        let values = Tensor::<B, 1>::from_data([0.5, -1.0, 2.0, 4.0], device);
        let ids = || Tensor::<B, 1, Int>::from_data([3, 0, 3, 1], device);
        let expected = crate::host::floats(values.clone().select(0, ids()));
        assert_close(select_1d(values.clone(), ids()), &expected, 0.0, 0.0);
        let ints = Tensor::<B, 1, Int>::from_data([7, 8, 9, 10], device);
        assert_eq!(
            crate::host::ints(select_1d(ints.clone(), ids())),
            crate::host::ints(ints.clone().select(0, ids()))
        );
        // Repeated ids add up, as Burn's select_assign(.., Add).
        let added = Tensor::<B, 1>::from_data([1.0, 2.0, 3.0, 4.0], device);
        let expected = crate::host::floats(values.clone().select_assign(
            0,
            ids(),
            added.clone(),
            IndexingUpdateOp::Add,
        ));
        assert_close(select_add_1d(values, ids(), added), &expected, 0.0, 0.0);
        let shifted = select_add_1d(ints.zeros_like(), ids(), ints);
        assert_eq!(crate::host::ints(shifted), [8, 10, 0, 16]);
        // Nothing picked, nothing added.
        let none = Tensor::<B, 1, Int>::zeros([0], device);
        assert_eq!(
            select_1d(Tensor::<B, 1>::ones([3], device), none.clone()).dims(),
            [0]
        );
    }

    crate::backend_tests!(
        one_dimensional_select_and_add_match_burn,
        workarounds_handle_element_free_tensors,
        sigmoid_is_the_logistic_function
    );
}
