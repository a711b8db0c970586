//! Dense message passing layers, PyG's `nn/dense`: graphs padded to a batch of dense
//! adjacency matrices.
//!
//! Every layer takes `x [B, N, F]`, `adj [B, N, N]` (or `[1, N, N]`, shared by the batch, as
//! PyG broadcasts it) and an optional `mask [B, N]` (`true` on real nodes, as from
//! [`to_dense_batch`](crate::segment::to_dense_batch)), and returns `[B, N, d_output]` with the
//! rows of padding nodes zeroed when a mask is given. A padding node has no edge in `adj`, so it
//! never reaches a real node; only its own output row, which the mask zeroes, depends on it.
//!
//! Memory is `O(B · N²)`: meant for small graphs (molecules, proteins) and for the coarse
//! graphs of dense pooling (DiffPool, MinCut), as in PyG. A batch without nodes (`B = 0` or
//! `N = 0`) gives zeros `[B, N, d_output]` without computing.
//!
//! | layer | PyG | parameters (PyG names) |
//! |---|---|---|
//! | [`DenseGraphConv`] | `DenseGraphConv` | `lin_rel` (bias), `lin_root` |
//! | [`DenseSageConv`] | `DenseSAGEConv` | `lin_rel`, `lin_root` (bias) |
//! | [`DenseGcnConv`] | `DenseGCNConv` | `lin`, `bias` |
//! | [`DenseGinConv`] | `DenseGINConv` with `nn = Linear → ReLU → Linear` | `mlp_in` (`nn.0`), `mlp_out` (`nn.2`), `eps` |

mod gcn_conv;
mod gin_conv;
mod graph_conv;
mod sage_conv;

pub use gcn_conv::{DenseGcnConv, DenseGcnConvConfig};
pub use gin_conv::{DenseGinConv, DenseGinConvConfig};
pub use graph_conv::{DenseGraphConv, DenseGraphConvConfig};
pub use sage_conv::{DenseSageConv, DenseSageConvConfig};

use burn::nn::Linear;
use burn::tensor::{Bool, Tensor, backend::Backend};

use crate::burn_compat::{self, reshape, zeros_if_element_free};

/// Checks the shapes of a dense layer's inputs and broadcasts a shared `adj [1, N, N]` to the
/// batch; `Err(zeros)` when the batch has no node (nothing to compute).
///
/// # Panics
/// When `x` does not have `d_input` features, or `adj` / `mask` do not match `x`.
#[track_caller]
pub(crate) fn prepare<B: Backend>(
    layer: &str,
    d_input: usize,
    d_output: usize,
    x: &Tensor<B, 3>,
    adj: Tensor<B, 3>,
    mask: Option<&Tensor<B, 2, Bool>>,
) -> Result<Tensor<B, 3>, Tensor<B, 3>> {
    let [b, n, f] = x.dims();
    assert!(
        f == d_input,
        "{layer} was built for {d_input} input features but the input has {f}"
    );
    let [ab, an, am] = adj.dims();
    assert!(
        an == n && am == n && (ab == b || ab == 1),
        "{layer}: adj must be [{b}, {n}, {n}] (or [1, {n}, {n}]) for x of shape [{b}, {n}, {f}], \
         it is [{ab}, {an}, {am}]"
    );
    if let Some(mask) = mask {
        assert!(
            mask.dims() == [b, n],
            "{layer}: mask must be [{b}, {n}] for x of shape [{b}, {n}, {f}], it is {:?}",
            mask.dims()
        );
    }
    if let Some(zeros) = zeros_if_element_free(&[b, n], [b, n, d_output], &x.device()) {
        return Err(zeros);
    }
    Ok(if ab == b { adj } else { adj.expand([b, n, n]) })
}

/// `linear` applied to every row of `[B, N, F]`.
pub(crate) fn linear_3d<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [b, n, f] = x.dims();
    let d_output = linear.weight.dims()[1];
    reshape(
        burn_compat::linear(linear, reshape(x, [b * n, f])),
        [b, n, d_output],
    )
}

/// `out · mask` (PyG's `out * mask.view(B, N, 1)`): padding rows zeroed.
pub(crate) fn apply_mask<B: Backend>(
    out: Tensor<B, 3>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> Tensor<B, 3> {
    match mask {
        Some(mask) => {
            let [b, n, f] = out.dims();
            out * mask.float().unsqueeze_dim::<3>(2).expand([b, n, f])
        }
        None => out,
    }
}

/// `adj · x / max(rowsum(adj), 1)`: the mean over neighbours of PyG's dense layers.
pub(crate) fn mean_aggregate<B: Backend>(adj: Tensor<B, 3>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [b, n, f] = x.dims();
    let degree = adj.clone().sum_dim(2).clamp_min(1.0); // [B, N, 1]
    adj.matmul(x) / degree.expand([b, n, f])
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Inputs shared by the dense layers' tests: a batch of three graphs padded to 4 nodes.

    use burn::tensor::{Bool, Tensor, TensorData, backend::Backend};

    /// Nodes per graph of [`batch`]: 4, 1 (no edge) and 3.
    pub(crate) const SIZES: [usize; 3] = [4, 1, 3];

    /// `(x [3, 4, 3], adj [3, 4, 4], mask [3, 4])`: graph 0 a weighted 4-cycle with a chord,
    /// graph 1 a single node without edges, graph 2 a directed 3-cycle of weights 1.5, 0.75, 2
    /// (no row sum is exactly 1, the kink of PyG's `clamp(min=1)`). Padding rows of `x` hold
    /// nonzero values (a layer must not let them leak).
    pub(crate) fn batch<B: Backend>(
        device: &B::Device,
    ) -> (Tensor<B, 3>, Tensor<B, 3>, Tensor<B, 2, Bool>) {
        let x: Vec<f64> = (0..36)
            .map(|i| ((i * 7 % 13) as f64) / 6.5 - 1.0 + 0.01 * i as f64)
            .collect();
        let mut adj = vec![0.0; 48];
        let mut edge = |g: usize, s: usize, t: usize, w: f64| adj[g * 16 + s * 4 + t] = w;
        for (s, t, w) in [
            (0, 1, 1.0),
            (1, 2, 0.5),
            (2, 3, 1.5),
            (3, 0, 1.0),
            (0, 2, 2.0),
        ] {
            edge(0, s, t, w);
            edge(0, t, s, w);
        }
        edge(2, 0, 1, 1.5);
        edge(2, 1, 2, 0.75);
        edge(2, 2, 0, 2.0);
        let mask: Vec<bool> = SIZES
            .iter()
            .flat_map(|&n| (0..4).map(move |i| i < n))
            .collect();
        (
            Tensor::from_data(TensorData::new(x, [3, 4, 3]), device),
            Tensor::from_data(TensorData::new(adj, [3, 4, 4]), device),
            Tensor::from_data(TensorData::new(mask, [3, 4]), device),
        )
    }

    /// Rows `[B · N][F]` of a dense output.
    pub(crate) fn rows<B: Backend>(t: Tensor<B, 3>) -> Vec<Vec<f64>> {
        let f = t.dims()[2];
        crate::host::floats(t)
            .chunks(f)
            .map(<[f64]>::to_vec)
            .collect()
    }
}
