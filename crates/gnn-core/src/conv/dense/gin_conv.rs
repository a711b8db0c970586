use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Bool, Tensor, TensorData, backend::Backend};

use super::{apply_mask, linear_3d, prepare};

/// Configuration of a [`DenseGinConv`].
#[derive(Config, Debug)]
pub struct DenseGinConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Width of the hidden layer of the MLP `nn` (defaults to `d_output`).
    pub d_hidden: Option<usize>,
    /// Initial `eps` (PyG default 0).
    #[config(default = 0.0)]
    pub eps: f64,
    /// Whether `eps` is learned (PyG default false).
    #[config(default = false)]
    pub train_eps: bool,
    /// Add the node's own `(1 + eps) · x_i` (PyG's `add_loop` argument of `forward`, default
    /// true).
    #[config(default = true)]
    pub add_loop: bool,
}

/// The dense form of [`GinConv`](crate::conv::GinConv), PyG's `DenseGINConv` with the MLP
/// `nn = Linear → ReLU → Linear`: `X' = nn((1 + eps) · X + A · X)` (without `add_loop`:
/// `nn(A · X)`).
#[derive(Module, Debug)]
pub struct DenseGinConv<B: Backend> {
    /// First MLP layer (PyG `nn.0`).
    pub mlp_in: Linear<B>,
    /// Second MLP layer (PyG `nn.2`).
    pub mlp_out: Linear<B>,
    /// Learned `eps` `[1]`, when `train_eps`.
    pub eps: Option<Param<Tensor<B, 1>>>,
    fixed_eps: f64,
    add_loop: bool,
    activation: Relu,
}

impl DenseGinConvConfig {
    /// Builds the layer with PyTorch's default initialisation of the MLP.
    pub fn init<B: Backend>(&self, device: &B::Device) -> DenseGinConv<B> {
        let hidden = self.d_hidden.unwrap_or(self.d_output);
        DenseGinConv {
            mlp_in: LinearConfig::new(self.d_input, hidden).init(device),
            mlp_out: LinearConfig::new(hidden, self.d_output).init(device),
            eps: self.train_eps.then(|| {
                Param::from_tensor(Tensor::from_data(
                    TensorData::new(vec![self.eps], [1]),
                    device,
                ))
            }),
            fixed_eps: self.eps,
            add_loop: self.add_loop,
            activation: Relu::new(),
        }
    }
}

impl<B: Backend> DenseGinConv<B> {
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
        let d_input = self.mlp_in.weight.dims()[0];
        let d_output = self.mlp_out.weight.dims()[1];
        let adj = match prepare("DenseGINConv", d_input, d_output, &x, adj, mask.as_ref()) {
            Ok(adj) => adj,
            Err(zeros) => return zeros,
        };
        let out = adj.matmul(x.clone());
        let out = match (self.add_loop, &self.eps) {
            (false, _) => out,
            (true, Some(eps)) => {
                x * (eps.val().unsqueeze_dim::<2>(0).unsqueeze_dim::<3>(0) + 1.0) + out
            }
            (true, None) => x * (1.0 + self.fixed_eps) + out,
        };
        let hidden = self.activation.forward(linear_3d(&self.mlp_in, out));
        apply_mask(linear_3d(&self.mlp_out, hidden), mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::dense::test_support::{SIZES, batch};
    use crate::gradcheck::{self, B64, TOL, as_2d, check_gradient, param, weighted_sum};
    use crate::host;
    use crate::testing::assert_close;

    fn dense_gin_conv_is_an_mlp_of_the_eps_weighted_sum<B: Backend>(device: &B::Device) {
        let (x, adj, mask) = batch::<B>(device);
        for (train_eps, add_loop) in [(false, true), (true, true), (false, false)] {
            let conv = DenseGinConvConfig::new(3, 2)
                .with_d_hidden(Some(5))
                .with_eps(0.25)
                .with_train_eps(train_eps)
                .with_add_loop(add_loop)
                .init::<B>(device);
            assert_eq!(conv.eps.is_some(), train_eps);
            let own = if add_loop { 1.25 } else { 0.0 };
            let summed = x.clone() * own + adj.clone().matmul(x.clone());
            let hidden = conv.mlp_in.forward(summed).clamp_min(0.0);
            let expected: Vec<f64> = host::floats(conv.mlp_out.forward(hidden))
                .chunks(2)
                .enumerate()
                .flat_map(|(r, row)| {
                    let real = r % 4 < SIZES[r / 4];
                    row.iter().map(move |v| if real { *v } else { 0.0 })
                })
                .collect();
            let before = host::device_reads();
            let out = conv.forward(x.clone(), adj.clone(), Some(mask.clone()));
            assert_eq!(host::device_reads() - before, 0);
            assert_close(out, &expected, 1e-5, 1e-5);
        }
        let conv = DenseGinConvConfig::new(3, 2).init::<B>(device);
        let out = conv.forward(
            Tensor::zeros([0, 0, 3], device),
            Tensor::zeros([0, 0, 0], device),
            None,
        );
        assert_eq!(out.dims(), [0, 0, 2]);
    }

    crate::backend_tests!(dense_gin_conv_is_an_mlp_of_the_eps_weighted_sum);

    #[test]
    fn dense_gin_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let (x, adj, mask) = batch::<B64>(&device);
        let x = x.reshape([12, 3]);
        let a = adj.reshape([12, 4]);
        for train_eps in [false, true] {
            let mut conv = DenseGinConvConfig::new(3, 2)
                .with_d_hidden(Some(4))
                .with_eps(0.3)
                .with_train_eps(train_eps)
                .init::<B64>(&device);
            // Fixed weights: no hidden ReLU input within the finite-difference step of its kink.
            conv.mlp_in.weight =
                Param::from_tensor(gradcheck::random_2d::<B64>([3, 4], 31, &device));
            conv.mlp_out.weight =
                Param::from_tensor(gradcheck::random_2d::<B64>([4, 2], 32, &device));
            conv.mlp_in.bias = Some(Param::from_tensor(
                gradcheck::random_2d::<B64>([1, 4], 33, &device).reshape([4]),
            ));
            let forward = |conv: &DenseGinConv<B64>, x: Tensor<B64, 2>, a: Tensor<B64, 2>| {
                weighted_sum(
                    conv.forward(
                        x.reshape([3, 4, 3]),
                        a.reshape([3, 4, 4]),
                        Some(mask.clone()),
                    ),
                    6,
                )
            };
            let name = |what: &str| format!("DenseGINConv (train_eps {train_eps}) w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x, a.clone()), TOL);
            check_gradient(&name("adj"), &a, |a| forward(&conv, x.clone(), a), TOL);
            if train_eps {
                let grad = check_gradient(
                    &name("eps"),
                    &as_2d(conv.eps.as_ref().unwrap().val()),
                    |v| {
                        let mut conv = conv.clone();
                        conv.eps = Some(param(v, [1]));
                        forward(&conv, x.clone(), a.clone())
                    },
                    TOL,
                );
                assert!(grad[0] != 0.0, "eps must receive a gradient");
            }
            for what in ["mlp_in", "mlp_out"] {
                fn layer<'a>(c: &'a mut DenseGinConv<B64>, what: &str) -> &'a mut Linear<B64> {
                    if what == "mlp_in" {
                        &mut c.mlp_in
                    } else {
                        &mut c.mlp_out
                    }
                }
                let mut probe = conv.clone();
                let (w, b) = {
                    let l = layer(&mut probe, what);
                    (l.weight.val(), l.bias.as_ref().unwrap().val())
                };
                let (shape, len) = (w.dims(), b.dims()[0]);
                check_gradient(
                    &name(&format!("{what}.weight")),
                    &as_2d(w),
                    |v| {
                        let mut c = conv.clone();
                        layer(&mut c, what).weight = param(v, shape);
                        forward(&c, x.clone(), a.clone())
                    },
                    TOL,
                );
                check_gradient(
                    &name(&format!("{what}.bias")),
                    &as_2d(b),
                    |v| {
                        let mut c = conv.clone();
                        layer(&mut c, what).bias = Some(param(v, [len]));
                        forward(&c, x.clone(), a.clone())
                    },
                    TOL,
                );
            }
        }
    }
}
