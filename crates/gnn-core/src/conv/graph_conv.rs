use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::structure::{Aggregation, aggregate};

/// Configuration of a [`GraphConv`].
#[derive(Config, Debug)]
pub struct GraphConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// How neighbour messages are combined (PyG's `aggr`, default sum).
    #[config(default = "Aggregation::Sum")]
    pub aggregation: Aggregation,
    /// Bias of the neighbour transform (PyG's `bias`, default true).
    #[config(default = true)]
    pub bias: bool,
}

/// The graph convolution of Morris et al. (k-GNN), PyG's `GraphConv`:
/// `x'_i = W_rel · ⊕_{j → i} e_ji · x_j + b + W_root · x_i`.
#[derive(Module, Debug)]
pub struct GraphConv<B: Backend> {
    /// Transform of the aggregated neighbours (PyG `lin_rel`, with bias).
    pub lin_rel: Linear<B>,
    /// Transform of the node itself (PyG `lin_root`, no bias).
    pub lin_root: Linear<B>,
    #[module(skip)]
    aggregation: Aggregation,
}

impl GraphConvConfig {
    /// Builds the layer with PyTorch's default (Kaiming uniform) initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> GraphConv<B> {
        GraphConv {
            lin_rel: LinearConfig::new(self.d_input, self.d_output).with_bias(self.bias).init(device),
            lin_root: LinearConfig::new(self.d_input, self.d_output).with_bias(false).init(device),
            aggregation: self.aggregation,
        }
    }
}

impl<B: Backend> GraphConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional
    /// - returns `[N, d_output]`
    ///
    /// Device reads: none, except one with [`Aggregation::Max`].
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: &Tensor<B, 2, Int>,
        edge_weight: Option<&Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        let neighbours = aggregate(x.clone(), edge_index, edge_weight.cloned(), self.aggregation);
        self.lin_rel.forward(neighbours) + self.lin_root.forward(x)
    }
}
