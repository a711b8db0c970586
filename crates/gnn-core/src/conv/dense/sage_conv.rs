use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Tensor, backend::Backend};

use super::{apply_mask, linear_3d, mean_aggregate, prepare};

/// Configuration of a [`DenseSageConv`].
#[derive(Config, Debug)]
pub struct DenseSageConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// L2-normalise every output row (PyG's `normalize`, default false).
    #[config(default = false)]
    pub normalize: bool,
    /// Bias of the root transform (PyG's `bias`, default true).
    #[config(default = true)]
    pub bias: bool,
}

/// The dense form of [`SageConv`](crate::conv::SageConv), PyG's `DenseSAGEConv`:
/// `x'_i = W_rel · (Σ_j a_ij x_j / max(Σ_j a_ij, 1)) + W_root · x_i + b`, then optionally
/// `x'_i / max(‖x'_i‖₂, 1e-12)`.
///
/// As in PyG, the bias sits on the **root** transform here (on the neighbour transform in the
/// sparse `SAGEConv`), and the layer is meant for binary adjacency matrices (weights enter the
/// sum and the degree alike).
#[derive(Module, Debug)]
pub struct DenseSageConv<B: Backend> {
    /// Transform of the neighbours' mean (PyG `lin_rel`, no bias).
    pub lin_rel: Linear<B>,
    /// Transform of the node itself (PyG `lin_root`, with bias).
    pub lin_root: Linear<B>,
    normalize: bool,
}

impl DenseSageConvConfig {
    /// Builds the layer with PyTorch's default (Kaiming uniform) initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DenseSageConv<B> {
        DenseSageConv {
            lin_rel: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .init(device),
            lin_root: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(self.bias)
                .init(device),
            normalize: self.normalize,
        }
    }
}

impl<B: Backend> DenseSageConv<B> {
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
        let adj = match prepare("DenseSAGEConv", d_input, d_output, &x, adj, mask.as_ref()) {
            Ok(adj) => adj,
            Err(zeros) => return zeros,
        };
        let out =
            linear_3d(&self.lin_rel, mean_aggregate(adj, x.clone())) + linear_3d(&self.lin_root, x);
        let out = if self.normalize {
            // F.normalize(out, p=2, dim=-1): out / max(‖out‖, eps) with eps = 1e-12.
            let [b, n, f] = out.dims();
            let norm = out.clone().square().sum_dim(2).sqrt().clamp_min(1e-12);
            out / norm.expand([b, n, f])
        } else {
            out
        };
        apply_mask(out, mask)
    }

    /// Whether output rows are L2-normalised.
    pub fn normalize(&self) -> bool {
        self.normalize
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::*;
    use crate::conv::dense::test_support::{SIZES, batch, rows};
    use crate::gradcheck::{self, B64, TOL, as_2d, check_gradient, param, weighted_sum};
    use crate::host;
    use crate::testing::assert_close;

    fn dense_sage_conv_matches_pyg_formula<B: Backend>(device: &B::Device) {
        let (x, adj, mask) = batch::<B>(device);
        let x_rows = rows(x.clone());
        let a = host::floats(adj.clone());
        for normalize in [false, true] {
            let conv = DenseSageConvConfig::new(3, 2)
                .with_normalize(normalize)
                .init::<B>(device);
            let w_rel = host::floats(conv.lin_rel.weight.val());
            let w_root = host::floats(conv.lin_root.weight.val());
            let bias = host::floats(conv.lin_root.bias.as_ref().unwrap().val());
            let mut expected = Vec::new();
            for (r, xi) in x_rows.iter().enumerate() {
                let (g, i) = (r / 4, r % 4);
                let deg: f64 = (0..4).map(|j| a[g * 16 + i * 4 + j]).sum::<f64>().max(1.0);
                let mean: Vec<f64> = (0..3)
                    .map(|c| {
                        (0..4)
                            .map(|j| a[g * 16 + i * 4 + j] * x_rows[g * 4 + j][c])
                            .sum::<f64>()
                            / deg
                    })
                    .collect();
                let mut row: Vec<f64> = (0..2)
                    .map(|o| {
                        bias[o]
                            + (0..3)
                                .map(|c| mean[c] * w_rel[c * 2 + o] + xi[c] * w_root[c * 2 + o])
                                .sum::<f64>()
                    })
                    .collect();
                if normalize {
                    let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
                    row.iter_mut().for_each(|v| *v /= norm);
                }
                if i >= SIZES[g] {
                    row = vec![0.0; 2];
                }
                expected.extend(row);
            }
            let before = host::device_reads();
            let out = conv.forward(x.clone(), adj.clone(), Some(mask.clone()));
            assert_eq!(host::device_reads() - before, 0);
            assert_eq!(conv.normalize(), normalize);
            assert_close(out, &expected, 1e-5, 1e-5);
        }
        let conv = DenseSageConvConfig::new(3, 2).init::<B>(device);
        let out = conv.forward(
            Tensor::zeros([0, 5, 3], device),
            Tensor::zeros([0, 5, 5], device),
            None,
        );
        assert_eq!(out.dims(), [0, 5, 2]);
        let message = crate::testing::panic_message(|| {
            conv.forward(x.clone(), adj.clone(), Some(mask.clone().narrow(0, 0, 2)))
        });
        assert!(
            message.contains("DenseSAGEConv: mask must be [3, 4]"),
            "{message}"
        );
    }

    crate::backend_tests!(dense_sage_conv_matches_pyg_formula);

    #[test]
    fn dense_sage_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let (x, adj, mask) = batch::<B64>(&device);
        let x = x.reshape([12, 3]);
        let a = adj.reshape([12, 4]);
        for normalize in [false, true] {
            let mut conv = DenseSageConvConfig::new(3, 2)
                .with_normalize(normalize)
                .init::<B64>(&device);
            conv.lin_root.bias = Some(Param::from_tensor(
                gradcheck::random_2d::<B64>([1, 2], 9, &device).reshape([2]),
            ));
            let forward = |conv: &DenseSageConv<B64>, x: Tensor<B64, 2>, a: Tensor<B64, 2>| {
                weighted_sum(
                    conv.forward(
                        x.reshape([3, 4, 3]),
                        a.reshape([3, 4, 4]),
                        Some(mask.clone()),
                    ),
                    6,
                )
            };
            let name = |what: &str| format!("DenseSAGEConv (normalize {normalize}) w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x, a.clone()), TOL);
            check_gradient(&name("adj"), &a, |a| forward(&conv, x.clone(), a), TOL);
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
                &name("lin_root.weight"),
                &as_2d(conv.lin_root.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_root.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
            check_gradient(
                &name("lin_root.bias"),
                &as_2d(conv.lin_root.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin_root.bias = Some(param(v, [2]));
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
        }
    }
}
