use burn::tensor::{Int, Tensor};
use gnn_core::segment::{SegmentBackend, gather_scaled};

/// The reduction of score-based pooling: kept rows scaled by their score,
/// `x[perm] · score · multiplier`.
///
/// - `x`: `[N, F]`, `perm`: `[K]`, `score`: `[K]` → `[K, F]`
///
/// Scaling by the score is what makes the selection differentiable: the gradient reaches the
/// scoring weights through it. One fused gather-and-scale ([`gather_scaled`]): a native kernel
/// forward and backward where the backend has one.
pub fn gate<B: SegmentBackend>(
    x: Tensor<B, 2>,
    perm: Tensor<B, 1, Int>,
    score: Tensor<B, 1>,
    multiplier: f64,
) -> Tensor<B, 2> {
    let gated = gather_scaled(x, perm, score);
    if multiplier == 1.0 {
        gated
    } else {
        gated * multiplier
    }
}
