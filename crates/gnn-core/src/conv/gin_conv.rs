use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::GraphBatch;
use crate::burn_compat;
use crate::structure::{Aggregation, aggregate};

/// Configuration of a [`GinConv`].
#[derive(Config, Debug)]
pub struct GinConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Width of the hidden layer of the two-layer MLP (defaults to `d_output`).
    pub d_hidden: Option<usize>,
    /// Initial `eps` (PyG default 0).
    #[config(default = 0.0)]
    pub eps: f64,
    /// Whether `eps` is learned (PyG default false).
    #[config(default = false)]
    pub train_eps: bool,
}

/// The graph isomorphism network layer of Xu et al., PyG's `GINConv` with the usual MLP
/// `Linear → ReLU → Linear`: `x'_i = MLP((1 + eps) · x_i + Σ_{j → i} x_j)`.
#[derive(Module, Debug)]
pub struct GinConv<B: Backend> {
    /// First MLP layer (PyG `nn.0`).
    pub mlp_in: Linear<B>,
    /// Second MLP layer (PyG `nn.2`).
    pub mlp_out: Linear<B>,
    /// Learned `eps` `[1]`, when `train_eps`.
    pub eps: Option<Param<Tensor<B, 1>>>,
    fixed_eps: f64,
    activation: Relu,
}

impl GinConvConfig {
    /// Builds the layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> GinConv<B> {
        let hidden = self.d_hidden.unwrap_or(self.d_output);
        GinConv {
            mlp_in: LinearConfig::new(self.d_input, hidden).init(device),
            mlp_out: LinearConfig::new(hidden, self.d_output).init(device),
            eps: self.train_eps.then(|| {
                Param::from_tensor(Tensor::from_data(
                    TensorData::new(vec![self.eps], [1]),
                    device,
                ))
            }),
            fixed_eps: self.eps,
            activation: Relu::new(),
        }
    }
}

impl<B: Backend> GinConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional (PyG's GINConv ignores weights; here they scale messages)
    /// - returns `[N, d_output]`
    ///
    /// Device reads: none.
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: Tensor<B, 2, Int>,
        edge_weight: Option<Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        if let Some(empty) = super::no_nodes(&x, &self.mlp_out) {
            return empty;
        }
        let neighbours = aggregate(x.clone(), edge_index, edge_weight, Aggregation::Sum);
        let own = match &self.eps {
            Some(eps) => x.clone() * (eps.val().unsqueeze_dim::<2>(0) + 1.0),
            None => x * (1.0 + self.fixed_eps),
        };
        let hidden = self
            .activation
            .forward(burn_compat::linear(&self.mlp_in, own + neighbours));
        burn_compat::linear(&self.mlp_out, hidden)
    }

    /// The batch with its node features replaced by [`forward`](Self::forward) of them, on the
    /// batch's own edges and edge weights: `[N, d_input] → [N, d_output]`.
    pub fn forward_batch(&self, graphs: GraphBatch<B>) -> GraphBatch<B> {
        super::on_batch(graphs, |x, edge_index, edge_weight| {
            self.forward(x, edge_index, edge_weight)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{
        self, B64, EDGES, NODES, TOL, as_2d, check_gradient, edge_index, param, weighted_sum,
    };
    use crate::host;
    use crate::structure::{Aggregation, aggregate};
    use crate::testing::assert_close;

    fn gin_conv_is_an_mlp_of_the_eps_weighted_sum<B: Backend>(device: &B::Device) {
        let x = gradcheck::random_2d::<B>([NODES, 3], 1, device);
        let ei = edge_index::<B>(&EDGES, device);
        for train_eps in [false, true] {
            let conv = GinConvConfig::new(3, 2)
                .with_d_hidden(Some(5))
                .with_eps(0.25)
                .with_train_eps(train_eps)
                .init::<B>(device);
            assert_eq!(conv.eps.is_some(), train_eps);
            let before = host::device_reads();
            let out = conv.forward(x.clone(), ei.clone(), None);
            assert_eq!(host::device_reads() - before, 0);
            let summed =
                x.clone() * 1.25 + aggregate(x.clone(), ei.clone(), None, Aggregation::Sum);
            let hidden = conv.mlp_in.forward(summed).clamp_min(0.0);
            assert_eq!(hidden.dims(), [NODES, 5]);
            assert_close(out, &host::floats(conv.mlp_out.forward(hidden)), 1e-6, 1e-6);
        }
        let conv = GinConvConfig::new(3, 2).init::<B>(device);
        assert_eq!(
            conv.forward(Tensor::zeros([0, 3], device), edge_index(&[], device), None)
                .dims(),
            [0, 2]
        );
    }

    #[test]
    fn trained_eps_starts_at_the_configured_value_in_float64() {
        let conv = GinConvConfig::new(2, 2)
            .with_eps(0.1)
            .with_train_eps(true)
            .init::<B64>(&gradcheck::device());
        assert_eq!(
            host::floats(conv.eps.unwrap().val()),
            vec![0.1],
            "eps rounded through f32"
        );
    }

    crate::backend_tests!(gin_conv_is_an_mlp_of_the_eps_weighted_sum);

    #[test]
    fn gin_conv_gradients_match_finite_differences() {
        let device = gradcheck::device();
        let ei = edge_index::<B64>(&EDGES, &device);
        let x = gradcheck::random_2d::<B64>([NODES, 3], 3, &device);
        for train_eps in [false, true] {
            let mut conv = GinConvConfig::new(3, 2)
                .with_d_hidden(Some(4))
                .with_eps(0.3)
                .with_train_eps(train_eps)
                .init::<B64>(&device);
            // Fixed weights: with the global RNG (shared by parallel tests) a hidden ReLU input
            // could land within the finite-difference step of its kink.
            conv.mlp_in.weight =
                burn::module::Param::from_tensor(gradcheck::random_2d::<B64>([3, 4], 31, &device));
            conv.mlp_out.weight =
                burn::module::Param::from_tensor(gradcheck::random_2d::<B64>([4, 2], 32, &device));
            conv.mlp_in.bias = Some(burn::module::Param::from_tensor(
                gradcheck::random_2d::<B64>([1, 4], 33, &device).reshape([4]),
            ));
            let forward = |conv: &GinConv<B64>, x: Tensor<B64, 2>| {
                weighted_sum(conv.forward(x, ei.clone(), None), 6)
            };
            let name = |what: &str| format!("GinConv (train_eps: {train_eps}) w.r.t. {what}");
            check_gradient(&name("x"), &x, |x| forward(&conv, x), TOL);
            if train_eps {
                let grad = check_gradient(
                    &name("eps"),
                    &as_2d(conv.eps.as_ref().unwrap().val()),
                    |v| {
                        let mut conv = conv.clone();
                        conv.eps = Some(param(v, [1]));
                        forward(&conv, x.clone())
                    },
                    TOL,
                );
                assert!(grad[0] != 0.0, "eps must receive a gradient");
            }
            check_gradient(
                &name("mlp_in.weight"),
                &as_2d(conv.mlp_in.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.mlp_in.weight = param(v, [3, 4]);
                    forward(&conv, x.clone())
                },
                TOL,
            );
            check_gradient(
                &name("mlp_in.bias"),
                &as_2d(conv.mlp_in.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.mlp_in.bias = Some(param(v, [4]));
                    forward(&conv, x.clone())
                },
                TOL,
            );
            check_gradient(
                &name("mlp_out.weight"),
                &as_2d(conv.mlp_out.weight.val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.mlp_out.weight = param(v, [4, 2]);
                    forward(&conv, x.clone())
                },
                TOL,
            );
            check_gradient(
                &name("mlp_out.bias"),
                &as_2d(conv.mlp_out.bias.as_ref().unwrap().val()),
                |v| {
                    let mut conv = conv.clone();
                    conv.mlp_out.bias = Some(param(v, [2]));
                    forward(&conv, x.clone())
                },
                TOL,
            );
        }
    }
}
