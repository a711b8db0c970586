use burn::tensor::{Bool, Tensor, backend::Backend};

use super::{frobenius_all, masked_assignment};

/// The outputs of [`dense_diff_pool`].
#[derive(Debug, Clone)]
pub struct DiffPoolOutput<B: Backend> {
    /// Cluster features `Sᵀ X`, `[G, C, F]`.
    pub x: Tensor<B, 3>,
    /// Cluster adjacency `Sᵀ A S`, `[G, C, C]`.
    pub adj: Tensor<B, 3>,
    /// Link prediction loss `‖A − S Sᵀ‖_F / numel(A)`, `[1]`.
    pub link_loss: Tensor<B, 1>,
    /// Entropy of the assignments, mean over all (padded) node slots, `[1]`.
    pub entropy_loss: Tensor<B, 1>,
}

/// The differentiable pooling of Ying et al., PyG's `dense_diff_pool` (normalised link loss).
///
/// - `x`: `[G, N, F]`, `adj`: `[G, N, N]`, `s`: assignment logits `[G, N, C]`,
///   `mask`: `[G, N]` (`true` on real nodes), as from `to_dense_batch` / `to_dense_adj`
pub fn dense_diff_pool<B: Backend>(
    x: Tensor<B, 3>,
    adj: Tensor<B, 3>,
    s: Tensor<B, 3>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> DiffPoolOutput<B> {
    let (x, s) = masked_assignment(x, s, mask);
    let s_t = s.clone().swap_dims(1, 2);
    let pooled_x = s_t.clone().matmul(x);
    let pooled_adj = s_t.matmul(adj.clone()).matmul(s.clone());
    let numel = adj.dims().iter().product::<usize>() as f64;
    let link_loss = frobenius_all(adj - s.clone().matmul(s.clone().swap_dims(1, 2))) / numel;
    let entropy_loss = (s.clone().neg() * (s + 1e-15).log()).sum_dim(2).mean();
    DiffPoolOutput {
        x: pooled_x,
        adj: pooled_adj,
        link_loss,
        entropy_loss,
    }
}
