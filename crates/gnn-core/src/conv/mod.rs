//! Message passing layers, one per file, each a Burn `Module` with a `Config`.
//!
//! [`dense`] holds their dense forms (PyG's `nn/dense`), on padded `[B, N, F]` batches and
//! dense adjacency matrices, re-exported here.
//!
//! [`Conv`] wraps them in one enum module so that models (and SAGPooling's scorer) can choose
//! the layer at configuration time.

pub mod dense;
mod gcn_conv;
mod gin_conv;
mod graph_conv;
mod sage_conv;

pub use dense::{
    DenseGcnConv, DenseGcnConvConfig, DenseGinConv, DenseGinConvConfig, DenseGraphConv,
    DenseGraphConvConfig, DenseSageConv, DenseSageConvConfig,
};
pub use gcn_conv::{GcnConv, GcnConvConfig};
pub use gin_conv::{GinConv, GinConvConfig};
pub use graph_conv::{GraphConv, GraphConvConfig};
pub use sage_conv::{SageConv, SageConvConfig};

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Int, Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::GraphBatch;
use crate::burn_compat::{self, zeros_if_element_free};
use crate::structure::{Aggregation, aggregate};

/// `[0, d_output]` zeros for a batch without nodes, where layers return early (no kernel runs
/// on a tensor without elements, see [`burn_compat`](crate::burn_compat)).
pub(crate) fn no_nodes<B: Backend>(x: &Tensor<B, 2>, linear: &Linear<B>) -> Option<Tensor<B, 2>> {
    let rows = x.dims()[0];
    zeros_if_element_free(&[rows], [rows, linear.weight.dims()[1]], &x.device())
}

/// `linear(⊕_{j → i} w_ji · x_j)` in the cheaper order.
///
/// A linear map commutes with sum and mean aggregation, so when it narrows the features
/// (`d_output < d_input`, e.g. SAGPooling's one-channel scorer) it is applied to the nodes first
/// and only `d_output` values per edge are gathered and scattered. Max does not commute.
pub(crate) fn linear_of_aggregate<B: Backend>(
    linear: &Linear<B>,
    x: Tensor<B, 2>,
    edge_index: Tensor<B, 2, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    aggregation: Aggregation,
) -> Tensor<B, 2> {
    let [rows, d_input] = x.dims();
    let weight = linear.weight.val();
    let d_output = weight.dims()[1];
    if d_output < d_input && rows > 0 && aggregation != Aggregation::Max {
        let aggregated = aggregate(x.matmul(weight), edge_index, edge_weight, aggregation);
        return match &linear.bias {
            Some(bias) => aggregated + bias.val().unsqueeze_dim::<2>(0),
            None => aggregated,
        };
    }
    burn_compat::linear(linear, aggregate(x, edge_index, edge_weight, aggregation))
}

/// `x'_i = lin_neighbours(⊕_{j → i} w_ji · x_j) + lin_root(x_i)`: the body of [`GraphConv`]
/// (`lin_rel`, `lin_root`) and [`SageConv`] (`lin_l`, `lin_r`), which differ only in their
/// defaults (aggregation, bias) and parameter names.
pub(crate) fn neighbours_plus_root<B: Backend>(
    lin_neighbours: &Linear<B>,
    lin_root: &Linear<B>,
    x: Tensor<B, 2>,
    edge_index: Tensor<B, 2, Int>,
    edge_weight: Option<Tensor<B, 1>>,
    aggregation: Aggregation,
) -> Tensor<B, 2> {
    if let Some(empty) = no_nodes(&x, lin_root) {
        return empty;
    }
    linear_of_aggregate(
        lin_neighbours,
        x.clone(),
        edge_index,
        edge_weight,
        aggregation,
    ) + burn_compat::linear(lin_root, x)
}

/// Runs a layer's `forward(x, edge_index, edge_weight)` on a batch's own features, edges and
/// edge weights, and puts the output in place of the features.
pub(crate) fn on_batch<B: Backend>(
    graphs: GraphBatch<B>,
    forward: impl FnOnce(Tensor<B, 2>, Tensor<B, 2, Int>, Option<Tensor<B, 1>>) -> Tensor<B, 2>,
) -> GraphBatch<B> {
    let edge_index = graphs.edge_index().clone();
    let edge_weight = graphs.edge_weight().cloned();
    graphs.map_x(|x| forward(x, edge_index, edge_weight))
}

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
            // The MLP's hidden layer is at least as wide as the input: a one-unit hidden ReLU
            // (a one-channel scorer) is easily dead from initialisation on.
            ConvKind::Gin => Conv::Gin(
                GinConvConfig::new(i, o)
                    .with_d_hidden(Some(i.max(o)))
                    .init(device),
            ),
            ConvKind::Sage => Conv::Sage(SageConvConfig::new(i, o).init(device)),
        }
    }
}

impl<B: Backend> Conv<B> {
    /// `x [N, d_input]`, `edge_index [2, E]`, optional `edge_weight [E]` → `[N, d_output]`.
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        edge_index: Tensor<B, 2, Int>,
        edge_weight: Option<Tensor<B, 1>>,
    ) -> Tensor<B, 2> {
        match self {
            Conv::Graph(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Gcn(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Gin(conv) => conv.forward(x, edge_index, edge_weight),
            Conv::Sage(conv) => conv.forward(x, edge_index, edge_weight),
        }
    }

    /// The batch with its node features replaced by [`forward`](Self::forward) of them, on the
    /// batch's own edges and edge weights: `[N, d_input] → [N, d_output]`.
    ///
    /// `let graphs = conv.forward_batch(graphs).map_x(relu);`
    pub fn forward_batch(&self, graphs: GraphBatch<B>) -> GraphBatch<B> {
        on_batch(graphs, |x, edge_index, edge_weight| {
            self.forward(x, edge_index, edge_weight)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{self, EDGES, NODES, edge_index};
    use crate::host;
    use crate::testing::assert_close;

    fn conv_dispatches_to_the_chosen_layer<B: Backend>(device: &B::Device) {
        let x = gradcheck::random_2d::<B>([NODES, 3], 1, device);
        let ei = edge_index::<B>(&EDGES, device);
        for kind in [
            ConvKind::Graph,
            ConvKind::Gcn,
            ConvKind::Gin,
            ConvKind::Sage,
        ] {
            let conv = ConvConfig::new(kind, 3, 2).init::<B>(device);
            let direct = match &conv {
                Conv::Graph(c) => {
                    (kind == ConvKind::Graph).then(|| c.forward(x.clone(), ei.clone(), None))
                }
                Conv::Gcn(c) => {
                    (kind == ConvKind::Gcn).then(|| c.forward(x.clone(), ei.clone(), None))
                }
                Conv::Gin(c) => {
                    (kind == ConvKind::Gin).then(|| c.forward(x.clone(), ei.clone(), None))
                }
                Conv::Sage(c) => {
                    (kind == ConvKind::Sage).then(|| c.forward(x.clone(), ei.clone(), None))
                }
            };
            let direct = direct.unwrap_or_else(|| panic!("{kind:?} built the wrong layer"));
            assert_close(
                conv.forward(x.clone(), ei.clone(), None),
                &host::floats(direct),
                0.0,
                0.0,
            );
        }
    }

    fn forward_batch_replaces_the_features<B: Backend>(device: &B::Device) {
        let graphs =
            crate::GraphBatch::<B>::from_graphs(&crate::testing::tiny_graphs(3), device).unwrap();
        let d = graphs.num_features();
        for kind in [
            ConvKind::Graph,
            ConvKind::Gcn,
            ConvKind::Gin,
            ConvKind::Sage,
        ] {
            let conv = ConvConfig::new(kind, d, 2).init::<B>(device);
            let direct = conv.forward(
                graphs.x().clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            );
            let before = host::device_reads();
            let out = conv.forward_batch(graphs.clone());
            assert_eq!(host::device_reads() - before, 0, "{kind:?}");
            assert_eq!(out.node_counts(), graphs.node_counts());
            assert_eq!(out.edge_counts(), graphs.edge_counts());
            assert_close(out.x().clone(), &host::floats(direct), 0.0, 0.0);
        }
    }

    crate::backend_tests!(
        conv_dispatches_to_the_chosen_layer,
        forward_batch_replaces_the_features
    );
}
