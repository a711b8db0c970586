use burn::tensor::{Int, Tensor, backend::Backend};

/// The reduction of score-based pooling: kept rows scaled by their score,
/// `x[perm] · score · multiplier`.
///
/// - `x`: `[N, F]`, `perm`: `[K]`, `score`: `[K]` → `[K, F]`
///
/// Scaling by the score is what makes the selection differentiable: the gradient reaches the
/// scoring weights through it.
pub fn gate<B: Backend>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    score: Tensor<B, 1>,
    multiplier: f64,
) -> Tensor<B, 2> {
    let gated = x.select(0, perm) * score.unsqueeze_dim::<2>(1);
    if multiplier == 1.0 {
        gated
    } else {
        gated * multiplier
    }
}
