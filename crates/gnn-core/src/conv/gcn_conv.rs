use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::structure::{Aggregation, aggregate, gcn_norm};

/// Configuration of a [`GcnConv`].
#[derive(Config, Debug)]
pub struct GcnConvConfig {
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
    /// Learnable bias added after propagation (PyG default true, initialised to 0).
    #[config(default = true)]
    pub bias: bool,
}

/// The graph convolution of Kipf & Welling, PyG's `GCNConv` (default settings):
/// `x' = D^-1/2 (A + I) D^-1/2 X W + b`, with edge weights in `A` when given.
#[derive(Module, Debug)]
pub struct GcnConv<B: Backend> {
    /// The feature transform `W` (PyG `lin`, no bias).
    pub lin: Linear<B>,
    /// The bias `[d_output]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
}

impl GcnConvConfig {
    /// Builds the layer: Glorot-like Kaiming uniform weight as PyTorch, zero bias as PyG.
    pub fn init<B: Backend>(&self, device: &B::Device) -> GcnConv<B> {
        GcnConv {
            lin: LinearConfig::new(self.d_input, self.d_output).with_bias(false).init(device),
            bias: self.bias.then(|| Param::from_tensor(Tensor::zeros([self.d_output], device))),
        }
    }
}

impl<B: Backend> GcnConv<B> {
    /// - `x`: `[N, d_input]`
    /// - `edge_index`: `[2, E]`, valid node ids
    /// - `edge_weight`: `[E]`, optional (1 for every edge when absent)
    /// - returns `[N, d_output]`
    ///
    /// Device reads: none.
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: &Tensor<B, 2, Int>,
        edge_weight: Option<&Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        let num_nodes = x.dims()[0];
        let (edge_index, norm) = gcn_norm(edge_index.clone(), edge_weight.cloned(), num_nodes);
        let out = aggregate(self.lin.forward(x), &edge_index, Some(norm), Aggregation::Sum);
        match &self.bias {
            Some(bias) => out + bias.val().unsqueeze_dim::<2>(0),
            None => out,
        }
    }
}
