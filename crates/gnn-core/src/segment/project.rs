//! Every row dotted with one weight vector, `x · w`: the projection that scores nodes in TopK
//! pooling (PyG's `(x * weight).sum(-1)`).

use burn::tensor::{Tensor, backend::Backend};

use crate::burn_compat::reshape;

/// `x [n, F]`, `weight [F]` → `x[i] · weight`, `[n]`.
pub fn row_dot<B: Backend>(x: Tensor<B, 2>, weight: Tensor<B, 1>) -> Tensor<B, 1> {
    let [rows, _] = x.dims();
    reshape((x * weight.unsqueeze_dim::<2>(0)).sum_dim(1), [rows])
}

/// The gradient of [`row_dot`] for `grad [n]`: `(∂x [n, F], ∂weight [F])`, where row `i` of `∂x`
/// is `grad[i] · weight` and `∂weight = Σ_i grad[i] · x[i]`.
pub fn row_dot_backward<B: Backend>(
    x: Tensor<B, 2>,
    weight: Tensor<B, 1>,
    grad: Tensor<B, 1>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let [rows, features] = x.dims();
    let grad = reshape(grad, [rows, 1]);
    let d_x = grad.clone() * weight.unsqueeze_dim::<2>(0);
    let d_weight = reshape((grad * x).sum_dim(0), [features]);
    (d_x, d_weight)
}
