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
            (x * mask.clone().expand([g, n, f]), s * mask.expand([g, n, c]))
        }
        None => (x, s),
    }
}

/// Frobenius norm of each `[.., a, b]` matrix of a batch, and of all entries together.
fn frobenius_all<B: Backend>(t: Tensor<B, 3>) -> Tensor<B, 1> {
    t.powf_scalar(2.0).sum().sqrt()
}
