//! Dense pooling: graphs padded to `[G, max_n, ...]` tensors and soft cluster assignments
//! (PyG's `to_dense_adj`, `dense_diff_pool`, `dense_mincut_pool`).
//!
//! Pair with [`gnn_core::segment::to_dense_batch`] for the node features and mask. Memory is
//! `O(G · max_n²)`: meant for small graphs (molecules, proteins), as in PyG.

mod adjacency;
mod diff_pool;
mod mincut_pool;

pub use adjacency::to_dense_adj;
pub use diff_pool::{DiffPoolOutput, dense_diff_pool};
pub use mincut_pool::{MinCutPoolOutput, dense_mincut_pool};

use burn::tensor::{Bool, Tensor, activation::softmax, backend::Backend};

/// Softmax of the assignment logits over clusters, zeroed on padding nodes, and the masked
/// features: `(x · mask, softmax(s) · mask)`.
fn masked_assignment<B: Backend>(
    x: Tensor<B, 3>,
    s: Tensor<B, 3>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let s = softmax(s, 2);
    match mask {
        Some(mask) => {
            let mask = mask.float().unsqueeze_dim::<3>(2);
            let [g, n, f] = x.dims();
            let c = s.dims()[2];
            (
                x * mask.clone().expand([g, n, f]),
                s * mask.expand([g, n, c]),
            )
        }
        None => (x, s),
    }
}

/// Frobenius norm of a whole batch of matrices `[G, a, b]`: one value over all `G · a · b`
/// entries together (PyG's `torch.norm(t, p=2)`), not one norm per matrix.
fn frobenius_all<B: Backend>(t: Tensor<B, 3>) -> Tensor<B, 1> {
    t.powf_scalar(2.0).sum().sqrt()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorData, backend::Backend};
    use gnn_core::segment::to_dense_batch;
    use gnn_core::{Graph, GraphBatch, host};

    use super::*;

    fn dense_pools_have_cluster_shapes<B: Backend>(device: &B::Device) {
        let graphs = [
            Graph::new(3, 2, vec![1.0; 6], vec![(0, 1), (1, 0), (1, 2), (2, 1)]).unwrap(),
            Graph::new(2, 2, vec![2.0; 4], vec![(0, 1), (1, 0)]).unwrap(),
        ];
        let graphs = GraphBatch::<B>::from_graphs(&graphs, device).unwrap();
        let adj = to_dense_adj(graphs.edge_index().clone(), graphs.segments(), None);
        assert_eq!(
            host::floats(adj.clone()),
            vec![
                0., 1., 0., 1., 0., 1., 0., 1., 0., 0., 1., 0., 1., 0., 0., 0., 0., 0.
            ]
        );
        let (x, mask) = to_dense_batch(graphs.x().clone(), graphs.segments());
        let s = Tensor::<B, 3>::from_data(
            TensorData::new(
                (0..12).map(|i| (i as f32).sin()).collect::<Vec<_>>(),
                [2, 3, 2],
            ),
            device,
        );
        let diff = dense_diff_pool(x.clone(), adj.clone(), s.clone(), Some(mask.clone()));
        assert_eq!(diff.x.dims(), [2, 2, 2]);
        assert_eq!(diff.adj.dims(), [2, 2, 2]);
        // Each node's assignment sums to 1, so the pooled features of graph 1 sum to 2 · 2.
        let pooled = host::floats(diff.x);
        assert!((pooled[4] + pooled[6] - 4.0).abs() < 1e-5);
        let mincut = dense_mincut_pool(x, adj, s, Some(mask));
        assert_eq!(mincut.adj.dims(), [2, 2, 2]);
        let adj = host::floats(mincut.adj);
        assert!(adj[0] == 0.0 && adj[3] == 0.0, "zero diagonal");
        assert!(host::floats(mincut.mincut_loss)[0].is_finite());
    }

    gnn_core::backend_tests!(dense_pools_have_cluster_shapes);
}
