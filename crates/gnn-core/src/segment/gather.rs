//! Rows gathered by index and scaled, `x[perm] · scale`: the reduction of score-based pooling
//! (TopK, SAG), where scaling by the score is what carries the gradient to the scoring weights.

use burn::tensor::{IndexingUpdateOp, Int, Tensor, backend::Backend};

/// `x [n, F]`, `perm [k]`, `scale [k]` → `x[perm[i]] · scale[i]`, `[k, F]`.
pub fn gather_scaled<B: Backend>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    scale: Tensor<B, 1>,
) -> Tensor<B, 2> {
    x.select(0, perm) * scale.unsqueeze_dim::<2>(1)
}

/// The gradient of [`gather_scaled`] for `grad [k, F]`: `(∂x [n, F], ∂scale [k])`, where row
/// `perm[i]` of `∂x` receives `grad[i] · scale[i]` (summed over repeated ids) and
/// `∂scale[i] = grad[i] · x[perm[i]]`.
pub fn gather_scaled_backward<B: Backend>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    scale: Tensor<B, 1>,
    grad: Tensor<B, 2>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let [k, _] = grad.dims();
    let d_scale = (grad.clone() * x.clone().select(0, perm.clone()))
        .sum_dim(1)
        .reshape([k]);
    let d_x = x.zeros_like().select_assign(
        0,
        perm,
        grad * scale.unsqueeze_dim::<2>(1),
        IndexingUpdateOp::Add,
    );
    (d_x, d_scale)
}
