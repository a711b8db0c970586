use burn::tensor::{Bool, Tensor, backend::Backend};

use gnn_core::burn_compat::reshape;

use super::masked_assignment;

/// The outputs of [`dense_mincut_pool`].
#[derive(Debug, Clone)]
pub struct MinCutPoolOutput<B: Backend> {
    /// Cluster features `Sᵀ X`, `[G, C, F]`.
    pub x: Tensor<B, 3>,
    /// Cluster adjacency `Sᵀ A S` with a zero diagonal, symmetrically degree-normalised, `[G, C, C]`.
    pub adj: Tensor<B, 3>,
    /// Mean over graphs of `−tr(Sᵀ A S) / tr(Sᵀ D S)`, `[1]` (NaN for a graph without edges, as PyG).
    pub mincut_loss: Tensor<B, 1>,
    /// Mean over graphs of `‖SᵀS/‖SᵀS‖_F − I/√C‖_F`, `[1]`: both Frobenius norms are taken per
    /// graph, over that graph's `[C, C]` matrix (PyG's `torch.norm(.., dim=(-1, -2))`).
    pub ortho_loss: Tensor<B, 1>,
}

/// Spectral clustering pooling of Bianchi et al., PyG's `dense_mincut_pool` (temperature 1).
///
/// - `x`: `[G, N, F]`, `adj`: `[G, N, N]`, `s`: assignment logits `[G, N, C]`,
///   `mask`: `[G, N]` (`true` on real nodes)
pub fn dense_mincut_pool<B: Backend>(
    x: Tensor<B, 3>,
    adj: Tensor<B, 3>,
    s: Tensor<B, 3>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> MinCutPoolOutput<B> {
    let [graphs, nodes, _] = adj.dims();
    let clusters = s.dims()[2];
    let device = x.device();
    let (x, s) = masked_assignment(x, s, mask);
    let s_t = s.clone().swap_dims(1, 2);
    let pooled_x = s_t.clone().matmul(x);
    let pooled_adj = s_t.clone().matmul(adj.clone()).matmul(s.clone());

    let eye_n = Tensor::<B, 2>::eye(nodes, &device)
        .unsqueeze_dim::<3>(0)
        .expand([graphs, nodes, nodes]);
    let eye_c = Tensor::<B, 2>::eye(clusters, &device)
        .unsqueeze_dim::<3>(0)
        .expand([graphs, clusters, clusters]);
    let trace =
        |m: Tensor<B, 3>, eye: Tensor<B, 3>| reshape((m * eye).sum_dim(2).sum_dim(1), [graphs]);
    let degree = adj.sum_dim(2); // [G, N, 1]
    let degree_matrix = eye_n.clone() * degree.expand([graphs, nodes, nodes]);
    let numerator = trace(pooled_adj.clone(), eye_c.clone());
    let denominator = trace(
        s_t.clone().matmul(degree_matrix).matmul(s.clone()),
        eye_c.clone(),
    );
    let mincut_loss = (numerator / denominator).neg().mean();

    let ss = s_t.matmul(s);
    let ss_norm = ss.clone().powf_scalar(2.0).sum_dim(2).sum_dim(1).sqrt(); // [G, 1, 1]
    let target = eye_c.clone() / (clusters as f64).sqrt();
    let ortho = (ss / ss_norm.expand([graphs, clusters, clusters]) - target)
        .powf_scalar(2.0)
        .sum_dim(2)
        .sum_dim(1)
        .sqrt();
    let ortho_loss = reshape(ortho, [graphs]).mean();

    let off_diagonal = pooled_adj.mask_fill(eye_c.equal_elem(1.0), 0.0);
    let d = off_diagonal.clone().sum_dim(2).sqrt() + 1e-15; // [G, C, 1]
    let adj = off_diagonal
        / d.clone()
            .swap_dims(1, 2)
            .expand([graphs, clusters, clusters])
        / d.expand([graphs, clusters, clusters]);
    MinCutPoolOutput {
        x: pooled_x,
        adj,
        mincut_loss,
        ortho_loss,
    }
}
