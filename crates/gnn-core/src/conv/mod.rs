//! Message passing layers, one per file, each a Burn `Module` with a `Config`.
//!
//! [`Conv`] wraps them in one enum module so that models (and SAGPooling's scorer) can choose
//! the layer at configuration time.

mod gcn_conv;
mod gin_conv;
mod graph_conv;
mod sage_conv;

pub use gcn_conv::{GcnConv, GcnConvConfig};
pub use gin_conv::{GinConv, GinConvConfig};
pub use graph_conv::{GraphConv, GraphConvConfig};
pub use sage_conv::{SageConv, SageConvConfig};

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Int, Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

/// Which message passing layer to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ConvKind {
    /// [`GraphConv`] with sum aggregation.
    #[default]
    Graph,
    /// [`GcnConv`].
    Gcn,
    /// [`GinConv`].
    Gin,
    /// [`SageConv`].
    Sage,
}

/// Configuration of a [`Conv`] of any kind with the layer's defaults.
#[derive(Config, Debug)]
pub struct ConvConfig {
    /// Which layer.
    pub kind: ConvKind,
    /// Input features per node.
    pub d_input: usize,
    /// Output features per node.
    pub d_output: usize,
}

/// A message passing layer chosen at configuration time.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Conv<B: Backend> {
    /// A [`GraphConv`].
    Graph(GraphConv<B>),
    /// A [`GcnConv`].
    Gcn(GcnConv<B>),
    /// A [`GinConv`].
    Gin(GinConv<B>),
    /// A [`SageConv`].
    Sage(SageConv<B>),
}

impl ConvConfig {
    /// Builds the chosen layer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Conv<B> {
        let (i, o) = (self.d_input, self.d_output);
        match self.kind {
            ConvKind::Graph => Conv::Graph(GraphConvConfig::new(i, o).init(device)),
            ConvKind::Gcn => Conv::Gcn(GcnConvConfig::new(i, o).init(device)),
            ConvKind::Gin => Conv::Gin(GinConvConfig::new(i, o).init(device)),
            ConvKind::Sage => Conv::Sage(SageConvConfig::new(i, o).init(device)),
        }
    }
}

impl<B: Backend> Conv<B> {
    /// `x [N, d_input]`, `edge_index [2, E]`, optional `edge_weight [E]` → `[N, d_output]`.
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: &Tensor<B, 2, Int>,
        edge_weight: Option<&Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        match self {
            Conv::Graph(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Gcn(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Gin(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Sage(conv) => conv.forward(x, edge_index, edge_weight),
        }
    }
}
