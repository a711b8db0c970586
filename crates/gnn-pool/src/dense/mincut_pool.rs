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
    /// Mean over graphs of `−tr(Sᵀ A S) / tr(Sᵀ D S)`, `[1]`; a graph whose `tr(Sᵀ D S)` is 0
    /// (no edges, or no nodes) contributes 0 (PyG: `0 / 0 = NaN` for the whole batch).
    pub mincut_loss: Tensor<B, 1>,
    /// Mean over graphs of `‖SᵀS/‖SᵀS‖_F − I/√C‖_F`, `[1]`: both Frobenius norms are taken per
    /// graph, over that graph's `[C, C]` matrix (PyG's `torch.norm(.., dim=(-1, -2))`); a graph
    /// without nodes contributes 0 (PyG: NaN).
    pub ortho_loss: Tensor<B, 1>,
}

/// Spectral clustering pooling of Bianchi et al., PyG's `dense_mincut_pool` (temperature 1).
///
/// Same values and gradients as PyG wherever PyG's are finite. Where PyG divides `0 / 0` or
/// differentiates `√` at 0 we do better, so that one graph without edges does not turn a whole
/// batch's loss and every gradient into NaN (which stops training):
/// - a graph without edges (or without nodes) has no cut to minimise: its mincut term is 0;
/// - a graph without nodes has no assignment: its orthogonality term is 0;
/// - the degree normalisation of the pooled adjacency divides by `√deg + 1e-15` as PyG, but
///   by 1 where `deg = 0` (a cluster linked to no other: in a graph without edges, whose
///   entries are all 0 either way), so no `1e15` derivatives chain into `∞ · 0 = NaN`;
/// - `√` is differentiated as 0 at 0 in the orthogonality norm (where `SᵀS/‖SᵀS‖ = I/√C`
///   exactly, `C = 1`), not as `∞`.
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
    let mincut_loss = ratio_or_zero(numerator, denominator).neg().mean();

    let ss = s_t.matmul(s);
    // ‖SᵀS‖ is 0 only for a graph without nodes (each node's assignment sums to 1).
    let ss_norm = sqrt_or_zero(ss.clone().powf_scalar(2.0).sum_dim(2).sum_dim(1)); // [G, 1, 1]
    let no_nodes = ss_norm.clone().equal_elem(0.0);
    let target = eye_c.clone() / (clusters as f64).sqrt();
    let ss_normalised = ss
        / ss_norm
            .mask_fill(no_nodes.clone(), 1.0)
            .expand([graphs, clusters, clusters]);
    let ortho = sqrt_or_zero(
        (ss_normalised - target)
            .powf_scalar(2.0)
            .sum_dim(2)
            .sum_dim(1),
    )
    .mask_fill(no_nodes, 0.0);
    let ortho_loss = reshape(ortho, [graphs]).mean();

    let off_diagonal = pooled_adj.mask_fill(eye_c.equal_elem(1.0), 0.0);
    // PyG: √rowsum + 1e-15. A row sum of 0 (a graph without edges: every entry of its
    // `SᵀAS` is 0, softmax being positive) is normalised by 1 instead: the same zeros, but
    // without a 1e15 derivative per pooling, which two poolings chain to 1e60 (∞ in f32, and
    // then `0 · ∞ = NaN` in the gradients).
    let row_sum = off_diagonal.clone().sum_dim(2); // [G, C, 1]
    let isolated = row_sum.clone().equal_elem(0.0);
    let d = (row_sum.mask_fill(isolated.clone(), 1.0).sqrt() + 1e-15).mask_fill(isolated, 1.0);
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

/// `numerator / denominator` elementwise, 0 where the denominator is 0, with finite gradients
/// (the quotient is taken against 1 there, so no `0 / 0` reaches the backward pass either).
fn ratio_or_zero<B: Backend, const D: usize>(
    numerator: Tensor<B, D>,
    denominator: Tensor<B, D>,
) -> Tensor<B, D> {
    let undefined = denominator.clone().equal_elem(0.0);
    (numerator / denominator.mask_fill(undefined.clone(), 1.0)).mask_fill(undefined, 0.0)
}

/// `√t` elementwise, whose gradient at `t = 0` is 0 instead of `∞` (so `0 · ∞ = NaN` never
/// reaches the inputs).
fn sqrt_or_zero<B: Backend, const D: usize>(t: Tensor<B, D>) -> Tensor<B, D> {
    let zero = t.clone().equal_elem(0.0);
    t.mask_fill(zero.clone(), 1.0).sqrt().mask_fill(zero, 0.0)
}

#[cfg(test)]
mod tests {
    use burn::tensor::backend::AutodiffBackend;
    use burn::tensor::{Distribution, Tensor};
    use gnn_core::segment::to_dense_batch;
    use gnn_core::{Graph, GraphBatch, host};

    use super::*;
    use crate::dense::to_dense_adj;

    /// `(mincut_loss, ortho_loss)` of a batch of `graphs` with assignment logits `s`, and the
    /// gradient of their sum with respect to `s`.
    fn losses_and_grad<B: AutodiffBackend>(
        graphs: &[Graph],
        s: Tensor<B, 3>,
        device: &B::Device,
    ) -> (f64, f64, Vec<f64>) {
        let batch = GraphBatch::<B>::from_graphs(graphs, device).unwrap();
        let (x, mask) = to_dense_batch(batch.x().clone(), batch.segments());
        let adj = to_dense_adj(batch.edge_index().clone(), batch.segments(), None);
        let s = s.require_grad();
        let out = dense_mincut_pool(x, adj, s.clone(), Some(mask));
        let loss = out.mincut_loss.clone() + out.ortho_loss.clone() + out.adj.sum();
        let grads = loss.backward();
        let grad = s.grad(&grads).expect("s is used");
        (
            host::floats(out.mincut_loss)[0],
            host::floats(out.ortho_loss)[0],
            host::floats(grad),
        )
    }

    /// A graph without edges and a graph without nodes contribute 0 to both means (PyG:
    /// NaN), and every gradient stays finite; the graph with edges is unchanged.
    fn graphs_without_edges_or_nodes_contribute_zero<B: AutodiffBackend>(device: &B::Device) {
        let triangle = Graph::new(
            3,
            2,
            vec![1.0, 0.5, -1.0, 2.0, 0.0, 1.0],
            vec![(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)],
        )
        .unwrap();
        let isolated = Graph::new(2, 2, vec![1.0, 2.0, 3.0, 4.0], vec![]).unwrap();
        let empty = Graph::new(0, 2, vec![], vec![]).unwrap();
        let s = Tensor::<B, 3>::random([3, 3, 2], Distribution::Normal(0.0, 1.0), device);
        let first = |t: Tensor<B, 3>| t.slice([0..1, 0..3, 0..2]);
        let second = |t: Tensor<B, 3>| t.slice([1..2, 0..2, 0..2]);
        let (mincut_alone, ortho_alone, _) =
            losses_and_grad(std::slice::from_ref(&triangle), first(s.clone()), device);
        let (_, ortho_isolated, grad_isolated) =
            losses_and_grad(std::slice::from_ref(&isolated), second(s.clone()), device);
        assert!(mincut_alone < 0.0 && ortho_alone > 0.0);
        assert!(
            grad_isolated.iter().all(|g| g.is_finite()),
            "{grad_isolated:?}"
        );

        let (mincut, ortho, grad) = losses_and_grad(&[triangle, isolated, empty], s, device);
        assert!(
            (mincut - mincut_alone / 3.0).abs() < 1e-5,
            "{mincut} {mincut_alone}"
        );
        assert!(
            (ortho - (ortho_alone + ortho_isolated) / 3.0).abs() < 1e-5,
            "{ortho} {ortho_alone} {ortho_isolated}"
        );
        assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
        // The empty graph's (padding) logits get no gradient.
        assert!(grad[12..].iter().all(|&g| g == 0.0), "{grad:?}");
    }

    gnn_core::autodiff_backend_tests!(graphs_without_edges_or_nodes_contribute_zero);
}
