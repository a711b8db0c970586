use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::structure::{Aggregation, aggregate};

/// Configuration of a [`SageConv`].
#[derive(Config, Debug)]
pub struct SageConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Neighbour aggregation (PyG default mean).
    #[config(default = "Aggregation::Mean")]
    pub aggregation: Aggregation,
}

/// GraphSAGE of Hamilton et al., PyG's `SAGEConv` (default settings):
/// `x'_i = W_l · mean_{j → i} x_j + b + W_r · x_i`.
#[derive(Module, Debug)]
pub struct SageConv<B: Backend> {
    /// Transform of the aggregated neighbours (PyG `lin_l`, with bias).
    pub lin_l: Linear<B>,
    /// Transform of the node itself (PyG `lin_r`, no bias).
    pub lin_r: Linear<B>,
    #[module(skip)]
    aggregation: Aggregation,
}

impl SageConvConfig {
    /// Builds the layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SageConv<B> {
        SageConv {
            lin_l: LinearConfig::new(self.d_input, self.d_output).init(device),
            lin_r: LinearConfig::new(self.d_input, self.d_output).with_bias(false).init(device),
            aggregation: self.aggregation,
        }
    }
}

impl<B: Backend> SageConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional (PyG's SAGEConv takes none; here they scale messages)
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
        self.lin_l.forward(neighbours) + self.lin_r.forward(x)
    }
}
