use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Tensor, backend::Backend};

use super::{apply_mask, linear_3d, mean_aggregate, prepare};
use crate::structure::Aggregation;

/// Configuration of a [`DenseGraphConv`].
#[derive(Config, Debug)]
pub struct DenseGraphConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// How neighbours are combined (PyG's `aggr`: `add` (default), `mean` or `max`).
    #[config(default = "Aggregation::Sum")]
    pub aggregation: Aggregation,
    /// Bias of the neighbour transform (PyG's `bias`, default true).
    #[config(default = true)]
    pub bias: bool,
}

/// The dense form of [`GraphConv`](crate::conv::GraphConv), PyG's `DenseGraphConv`:
/// `x'_i = W_rel · ⊕_j a_ij x_j + b + W_root · x_i` on a dense adjacency.
///
/// - `Sum`: `A · X` (weighted by the entries of `adj`);
/// - `Mean`: `A · X / max(rowsum(A), 1)`;
/// - `Max`: as PyG, the feature-wise maximum of `x_j` over the nodes `j` with
///   `adj[j, i] ≠ 0` (the **column** of `i`, unweighted), 0 for a node without any.
#[derive(Module, Debug)]
pub struct DenseGraphConv<B: Backend> {
    /// Transform of the aggregated neighbours (PyG `lin_rel`, with bias).
    pub lin_rel: Linear<B>,
    /// Transform of the node itself (PyG `lin_root`, no bias).
    pub lin_root: Linear<B>,
    #[module(skip)]
    aggregation: Aggregation,
}

impl DenseGraphConvConfig {
    /// Builds the layer with PyTorch's default (Kaiming uniform) initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DenseGraphConv<B> {
        DenseGraphConv {
            lin_rel: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(self.bias)
                .init(device),
            lin_root: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .init(device),
            aggregation: self.aggregation,
        }
    }
}

impl<B: Backend> DenseGraphConv<B> {
    /// - `x`: `[B, N, d_input]`
    /// - `adj`: `[B, N, N]` (or `[1, N, N]`, shared by the batch)
    /// - `mask`: `[B, N]`, `true` on real nodes, optional
    /// - returns `[B, N, d_output]`, zero on padding rows when `mask` is given
    ///
    /// Device reads: none.
    ///
    /// # Panics
    /// When `x` does not have `d_input` features or the shapes disagree.
    #[track_caller]
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        adj: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let [d_input, d_output] = self.lin_root.weight.dims();
        let adj = match prepare("DenseGraphConv", d_input, d_output, &x, adj, mask.as_ref()) {
            Ok(adj) => adj,
            Err(zeros) => return zeros,
        };
        let aggregated = match self.aggregation {
            Aggregation::Sum => adj.matmul(x.clone()),
            Aggregation::Mean => mean_aggregate(adj, x.clone()),
            Aggregation::Max => max_aggregate(adj, x.clone()),
        };
        let out = linear_3d(&self.lin_rel, aggregated) + linear_3d(&self.lin_root, x);
        apply_mask(out, mask)
    }
}

/// `out[b, i, c] = max { x[b, j, c] : adj[b, j, i] ≠ 0 }`, 0 where the set is empty: PyG's
/// `x.unsqueeze(-2).repeat(1, 1, N, 1)`, masked to `-inf` where `adj == 0`, `max(dim=-3)`.
fn max_aggregate<B: Backend>(adj: Tensor<B, 3>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [b, n, f] = x.dims();
    let absent = adj.equal_elem(0.0); // [B, N (j), N (i)]
    let candidates = x.unsqueeze_dim::<4>(2).expand([b, n, n, f]).mask_fill(
        absent.clone().unsqueeze_dim::<4>(3).expand([b, n, n, f]),
        f64::NEG_INFINITY,
    );
    let max = candidates.max_dim(1).squeeze_dim::<3>(1); // [B, N (i), F]
    // A node `i` with no `j`: every candidate is -inf; PyG replaces the -inf by 0.
    let none = absent.int().sum_dim(1).equal_elem(n as i64).swap_dims(1, 2); // [B, N, 1]
    max.mask_fill(none.expand([b, n, f]), 0.0)
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::*;
    use crate::conv::dense::test_support::{SIZES, batch, rows};
    use crate::gradcheck::{self, B64, TOL, as_2d, check_gradient, param, weighted_sum};
    use crate::host;
    use crate::testing::assert_close;

    /// PyG's formula, node by node on the host.
    fn reference(
        conv: &DenseGraphConv<impl Backend>,
        x: &[Vec<f64>],
        adj: &[f64],
        aggregation: Aggregation,
    ) -> Vec<Vec<f64>> {
        let (n, f) = (4, x[0].len());
        let rel = rows2(conv.lin_rel.weight.val());
        let root = rows2(conv.lin_root.weight.val());
        let bias = host::floats(conv.lin_rel.bias.as_ref().unwrap().val());
        let mut out = Vec::new();
        for g in 0..x.len() / n {
            for i in 0..n {
                let a = |s: usize, t: usize| adj[g * n * n + s * n + t];
                let xj = |j: usize| &x[g * n + j];
                let agg: Vec<f64> = (0..f)
                    .map(|c| match aggregation {
                        Aggregation::Sum => (0..n).map(|j| a(i, j) * xj(j)[c]).sum(),
                        Aggregation::Mean => {
                            let deg: f64 = (0..n).map(|j| a(i, j)).sum();
                            (0..n).map(|j| a(i, j) * xj(j)[c]).sum::<f64>() / deg.max(1.0)
                        }
                        Aggregation::Max => {
                            let m = (0..n)
                                .filter(|&j| a(j, i) != 0.0)
                                .map(|j| xj(j)[c])
                                .fold(f64::NEG_INFINITY, f64::max);
                            if m == f64::NEG_INFINITY { 0.0 } else { m }
                        }
                    })
                    .collect();
                out.push(
                    (0..bias.len())
                        .map(|o| {
                            bias[o]
                                + (0..f)
                                    .map(|c| agg[c] * rel[c][o] + xj(i)[c] * root[c][o])
                                    .sum::<f64>()
                        })
                        .collect(),
                );
            }
        }
        out
    }

    fn rows2<B2: Backend>(w: Tensor<B2, 2>) -> Vec<Vec<f64>> {
        let cols = w.dims()[1];
        host::floats(w).chunks(cols).map(<[f64]>::to_vec).collect()
    }

    fn dense_graph_conv_matches_pyg_formula<B: Backend>(device: &B::Device) {
        let (x, adj, mask) = batch::<B>(device);
        let x_rows = rows(x.clone());
        let adj_values = host::floats(adj.clone());
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            let conv = DenseGraphConvConfig::new(3, 2)
                .with_aggregation(aggregation)
                .init::<B>(device);
            let expected = reference(&conv, &x_rows, &adj_values, aggregation);
            let before = host::device_reads();
            let out = conv.forward(x.clone(), adj.clone(), None);
            assert_eq!(host::device_reads() - before, 0);
            assert_close(out, &expected.concat(), 1e-5, 1e-5);
            // With the mask: the same rows on real nodes, zeros on padding.
            let masked: Vec<f64> = expected
                .iter()
                .enumerate()
                .flat_map(|(r, row)| {
                    let real = r % 4 < SIZES[r / 4];
                    row.iter().map(move |v| if real { *v } else { 0.0 })
                })
                .collect();
            assert_close(
                conv.forward(x.clone(), adj.clone(), Some(mask.clone())),
                &masked,
                1e-5,
                1e-5,
            );
            // One adjacency shared by the batch is broadcast, as PyG does.
            let shared = adj.clone().narrow(0, 0, 1);
            let first = conv.forward(x.clone().narrow(0, 0, 1), shared.clone(), None);
            let all = conv.forward(x.clone(), shared, None).narrow(0, 0, 1);
            assert_close(all, &host::floats(first), 1e-6, 1e-6);
        }
    }

    fn dense_graph_conv_empty_inputs_and_wrong_widths<B: Backend>(device: &B::Device) {
        let conv = DenseGraphConvConfig::new(3, 2).init::<B>(device);
        for (b, n) in [(0, 0), (2, 0), (0, 3)] {
            let out = conv.forward(
                Tensor::zeros([b, n, 3], device),
                Tensor::zeros([b, n, n], device),
                None,
            );
            assert_eq!(out.dims(), [b, n, 2]);
        }
        let message = crate::testing::panic_message(|| {
            conv.forward(
                Tensor::zeros([1, 2, 4], device),
                Tensor::zeros([1, 2, 2], device),
                None,
            )
        });
        assert_eq!(
            message,
            "DenseGraphConv was built for 3 input features but the input has 4"
        );
        let message = crate::testing::panic_message(|| {
            conv.forward(
                Tensor::zeros([2, 2, 3], device),
                Tensor::zeros([2, 3, 3], device),
                None,
            )
        });
        assert!(message.contains("adj must be [2, 2, 2]"), "{message}");
    }

    crate::backend_tests!(
        dense_graph_conv_matches_pyg_formula,
        dense_graph_conv_empty_inputs_and_wrong_widths
    );

    #[test]
    fn dense_graph_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let (x, adj, mask) = batch::<B64>(&device);
        let x = x.reshape([12, 3]);
        let a = adj.reshape([12, 4]);
        for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
            let mut conv = DenseGraphConvConfig::new(3, 2)
                .with_aggregation(aggregation)
                .init::<B64>(&device);
            conv.lin_rel.bias = Some(Param::from_tensor(
                gradcheck::random_2d::<B64>([1, 2], 8, &device).reshape([2]),
            ));
            let forward = |conv: &DenseGraphConv<B64>, x: Tensor<B64, 2>, a: Tensor<B64, 2>| {
                weighted_sum(
                    conv.forward(
                        x.reshape([3, 4, 3]),
                        a.reshape([3, 4, 4]),
                        Some(mask.clone()),
                    ),
                    6,
                )
            };
            let name = |what: &str| format!("DenseGraphConv {aggregation:?} w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x, a.clone()), TOL);
            if aggregation != Aggregation::Max {
                // Max reads adj only through `adj == 0`: no gradient, as PyG.
                check_gradient(&name("adj"), &a, |a| forward(&conv, x.clone(), a), TOL);
            }
            check_gradient(
                &name("lin_rel.weight"),
                &as_2d(conv.lin_rel.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_rel.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
            check_gradient(
                &name("lin_rel.bias"),
                &as_2d(conv.lin_rel.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_rel.bias = Some(param(v, [2]));
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
            check_gradient(
                &name("lin_root.weight"),
                &as_2d(conv.lin_root.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_root.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
        }
    }
}
