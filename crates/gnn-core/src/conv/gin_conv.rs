use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Int, Tensor, backend::Backend};

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
            eps: self
                .train_eps
                .then(|| Param::from_tensor(Tensor::from_floats([self.eps as f32], device))),
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
        edge_index: &Tensor<B, 2, Int>,
        edge_weight: Option<&Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        let neighbours = aggregate(x.clone(), edge_index, edge_weight.cloned(), Aggregation::Sum);
        let own = match &self.eps {
            Some(eps) => x.clone() * (eps.val().unsqueeze_dim::<2>(0) + 1.0),
            None => x * (1.0 + self.fixed_eps),
        };
        let hidden = self.activation.forward(self.mlp_in.forward(own + neighbours));
        self.mlp_out.forward(hidden)
    }
}
