use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Bool, Tensor, backend::Backend};

use super::{apply_mask, linear_3d, prepare};

/// Configuration of a [`DenseGcnConv`].
#[derive(Config, Debug)]
pub struct DenseGcnConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Self loops of weight 2 instead of 1 (PyG's `improved`, default false).
    #[config(default = false)]
    pub improved: bool,
    /// Set the diagonal of `adj` to the self-loop weight before normalising (PyG's `add_loop`
    /// argument of `forward`, default true).
    #[config(default = true)]
    pub add_loop: bool,
    /// Learnable bias added after propagation (PyG default true, initialised to 0).
    #[config(default = true)]
    pub bias: bool,
}

/// The dense form of [`GcnConv`](crate::conv::GcnConv), PyG's `DenseGCNConv`:
/// `X' = D^-1/2 Â D^-1/2 X W + b` with `Â` the adjacency whose diagonal is **set** to 1 (2 when
/// `improved`; left alone without `add_loop`) and `D = diag(max(rowsum(Â), 1))`.
#[derive(Module, Debug)]
pub struct DenseGcnConv<B: Backend> {
    /// The feature transform `W` (PyG `lin`, no bias, Glorot initialisation).
    pub lin: Linear<B>,
    /// The bias `[d_output]` (PyG `bias`).
    pub bias: Option<Param<Tensor<B, 1>>>,
    improved: bool,
    add_loop: bool,
}

impl DenseGcnConvConfig {
    /// Builds the layer: Glorot (Xavier uniform) weight and zero bias, as PyG.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DenseGcnConv<B> {
        DenseGcnConv {
            lin: LinearConfig::new(self.d_input, self.d_output)
                .with_bias(false)
                .with_initializer(Initializer::XavierUniform { gain: 1.0 })
                .init(device),
            bias: self
                .bias
                .then(|| Param::from_tensor(Tensor::zeros([self.d_output], device))),
            improved: self.improved,
            add_loop: self.add_loop,
        }
    }
}

impl<B: Backend> DenseGcnConv<B> {
    /// - `x`: `[B, N, d_input]`
    /// - `adj`: `[B, N, N]` (or `[1, N, N]`, shared by the batch)
    /// - `mask`: `[B, N]`, `true` on real nodes, optional
    /// - returns `[B, N, d_output]`, zero on padding rows when `mask` is given
    ///
    /// With `add_loop`, the diagonal of `adj` gets no gradient (it is overwritten, as in PyG).
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
        let [d_input, d_output] = self.lin.weight.dims();
        let adj = match prepare("DenseGCNConv", d_input, d_output, &x, adj, mask.as_ref()) {
            Ok(adj) => adj,
            Err(zeros) => return zeros,
        };
        let [b, n, _] = adj.dims();
        let adj = if self.add_loop {
            let diagonal = Tensor::<B, 2>::eye(n, &adj.device())
                .bool()
                .unsqueeze_dim::<3>(0)
                .expand([b, n, n]);
            adj.mask_fill(diagonal, if self.improved { 2.0 } else { 1.0 })
        } else {
            adj
        };
        let d = adj.clone().sum_dim(2).clamp_min(1.0).powf_scalar(-0.5); // [B, N, 1]
        let norm = adj * d.clone().expand([b, n, n]) * d.swap_dims(1, 2).expand([b, n, n]);
        let out = norm.matmul(linear_3d(&self.lin, x));
        let out = match &self.bias {
            Some(bias) => {
                out + bias
                    .val()
                    .unsqueeze_dim::<2>(0)
                    .unsqueeze_dim::<3>(0)
                    .expand([b, n, d_output])
            }
            None => out,
        };
        apply_mask(out, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::dense::test_support::{SIZES, batch, rows};
    use crate::gradcheck::{self, B64, TOL, as_2d, check_gradient, param, weighted_sum};
    use crate::host;
    use crate::testing::assert_close;

    fn dense_gcn_conv_matches_pyg_formula<B: Backend>(device: &B::Device) {
        let (x, adj, mask) = batch::<B>(device);
        let x_rows = rows(x.clone());
        let a = host::floats(adj.clone());
        for (improved, add_loop) in [(false, true), (true, true), (false, false)] {
            let mut conv = DenseGcnConvConfig::new(3, 2)
                .with_improved(improved)
                .with_add_loop(add_loop)
                .init::<B>(device);
            conv.bias = Some(Param::from_tensor(Tensor::from_data([0.25, -0.5], device)));
            let w = host::floats(conv.lin.weight.val());
            let h: Vec<Vec<f64>> = x_rows
                .iter()
                .map(|r| {
                    (0..2)
                        .map(|o| (0..3).map(|c| r[c] * w[c * 2 + o]).sum())
                        .collect()
                })
                .collect();
            let entry = |g: usize, i: usize, j: usize| match (add_loop, i == j) {
                (true, true) => {
                    if improved {
                        2.0
                    } else {
                        1.0
                    }
                }
                _ => a[g * 16 + i * 4 + j],
            };
            let d = |g: usize, i: usize| {
                (0..4)
                    .map(|j| entry(g, i, j))
                    .sum::<f64>()
                    .max(1.0)
                    .powf(-0.5)
            };
            let mut expected = Vec::new();
            for r in 0..12 {
                let (g, i) = (r / 4, r % 4);
                for (o, b) in [0.25, -0.5].into_iter().enumerate() {
                    let v: f64 = b
                        + (0..4)
                            .map(|j| d(g, i) * entry(g, i, j) * d(g, j) * h[g * 4 + j][o])
                            .sum::<f64>();
                    expected.push(if i < SIZES[g] { v } else { 0.0 });
                }
            }
            let before = host::device_reads();
            let out = conv.forward(x.clone(), adj.clone(), Some(mask.clone()));
            assert_eq!(host::device_reads() - before, 0);
            assert_close(out, &expected, 1e-5, 1e-5);
        }
        let conv = DenseGcnConvConfig::new(3, 2).init::<B>(device);
        assert_eq!(host::floats(conv.bias.unwrap().val()), vec![0.0, 0.0]);
        let out = conv_empty::<B>(device);
        assert_eq!(out.dims(), [2, 0, 2]);
    }

    fn conv_empty<B: Backend>(device: &B::Device) -> Tensor<B, 3> {
        DenseGcnConvConfig::new(3, 2).init::<B>(device).forward(
            Tensor::zeros([2, 0, 3], device),
            Tensor::zeros([2, 0, 0], device),
            Some(Tensor::<B, 2>::zeros([2, 0], device).bool()),
        )
    }

    crate::backend_tests!(dense_gcn_conv_matches_pyg_formula);

    #[test]
    fn dense_gcn_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let (x, adj, mask) = batch::<B64>(&device);
        let x = x.reshape([12, 3]);
        let a = adj.reshape([12, 4]);
        for (improved, add_loop) in [(false, true), (true, true), (false, false)] {
            let mut conv = DenseGcnConvConfig::new(3, 2)
                .with_improved(improved)
                .with_add_loop(add_loop)
                .init::<B64>(&device);
            conv.bias = Some(param(gradcheck::random_2d([1, 2], 5, &device), [2]));
            let forward = |conv: &DenseGcnConv<B64>, x: Tensor<B64, 2>, a: Tensor<B64, 2>| {
                weighted_sum(
                    conv.forward(
                        x.reshape([3, 4, 3]),
                        a.reshape([3, 4, 4]),
                        Some(mask.clone()),
                    ),
                    6,
                )
            };
            let name = |what: &str| {
                format!("DenseGCNConv (improved {improved}, add_loop {add_loop}) w.r.t. {what}")
            };
            check_gradient(&name("x"), &x, |x| forward(&conv, x, a.clone()), TOL);
            // With loops of weight 1, the one-node graph's degree is exactly 1, the kink of
            // `clamp(min = 1)`, where finite differences average both sides.
            if improved || !add_loop {
                let grad = check_gradient(&name("adj"), &a, |a| forward(&conv, x.clone(), a), TOL);
                if add_loop {
                    for (k, g) in grad.iter().enumerate() {
                        let (i, j) = ((k / 4) % 4, k % 4);
                        assert!(i != j || *g == 0.0, "diagonal entry {k} gets gradient {g}");
                    }
                }
            }
            check_gradient(
                &name("lin.weight"),
                &as_2d(conv.lin.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.lin.weight = param(v, [3, 2]);
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
            check_gradient(
                &name("bias"),
                &as_2d(conv.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.bias = Some(param(v, [2]));
                    forward(&conv, x.clone(), a.clone())
                },
                TOL,
            );
        }
    }
}
