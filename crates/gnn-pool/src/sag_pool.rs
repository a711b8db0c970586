//! [`SagPooling`]: top-k pooling scored by a graph neural network (Lee et al., SAGPool).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::conv::{Conv, ConvConfig, ConvKind};

use crate::error::{PoolError, Result, check_width};
use crate::pooled::{Pooled, pool_kept_nodes};
use crate::select::{ScoreActivation, SelectTopK, SelectTopKConfig, Selection};

/// Configuration of [`SagPooling`].
#[derive(Config, Debug)]
pub struct SagPoolingConfig {
    /// Node features of the input.
    pub d_input: usize,
    /// How many nodes of each graph survive.
    pub selection: Selection,
    /// The one-channel GNN that scores the nodes (PyG default `GraphConv`; the SAGPool paper
    /// uses `GCNConv`).
    #[config(default = "ConvKind::Graph")]
    pub scorer: ConvKind,
    /// Whether the GNN output goes through PyG's extra 1×1 `select.weight` `s`, i.e.
    /// `score = tanh(gnn(x) · s/|s|)`. `s/|s|` is ±1 and gets gradient 0: it only fixes the sign
    /// at initialisation. On (default) for PyG parity; off gives the paper's `tanh(gnn(x))`.
    #[config(default = true)]
    pub sign_weight: bool,
    /// Squashing of the score in ratio and count modes (default tanh).
    #[config(default = "ScoreActivation::Tanh")]
    pub activation: ScoreActivation,
    /// Factor applied to the pooled features (default 1).
    #[config(default = 1.0)]
    pub multiplier: f64,
}

/// PyG's `SAGPooling`: the score of each node is a one-channel GNN of the graph, so the
/// selection sees the structure; then top-k selection, `x[perm] · score`, and edge filtering as
/// [`TopKPooling`](crate::TopKPooling). The batch's edge weights, when present, reach the scorer
/// (PyG passes none).
#[derive(Module, Debug)]
pub struct SagPooling<B: Backend> {
    /// The scoring GNN, `d_input → 1` (PyG `gnn`).
    pub gnn: Conv<B>,
    /// PyG's 1×1 `select` (present when `sign_weight`).
    pub select: Option<SelectTopK<B>>,
    #[module(skip)]
    selection: Selection,
    #[module(skip)]
    activation: ScoreActivation,
    multiplier: f64,
    d_input: usize,
}

impl SagPoolingConfig {
    /// Builds the layer.
    ///
    /// # Errors
    /// An invalid selection, a non-finite multiplier, or `d_input == 0`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<SagPooling<B>> {
        self.selection.validate()?;
        if !self.multiplier.is_finite() {
            return Err(PoolError::InvalidMultiplier(self.multiplier));
        }
        if self.d_input == 0 {
            return Err(PoolError::ZeroWidth { what: "SAGPooling input width" });
        }
        let select = if self.sign_weight {
            Some(SelectTopKConfig::new(1, self.selection).with_activation(self.activation).init(device)?)
        } else {
            None
        };
        Ok(SagPooling {
            gnn: ConvConfig::new(self.scorer, self.d_input, 1).init(device),
            select,
            selection: self.selection,
            activation: self.activation,
            multiplier: self.multiplier,
            d_input: self.d_input,
        })
    }
}

impl<B: Backend> SagPooling<B> {
    /// Pools a batch.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]`, optional edge weights (used by the scorer)
    /// - returns the pooled batch with `x [K, d_input]`, `perm [K]`, `score [K]`
    ///
    /// Device reads: as [`TopKPooling::forward`](crate::TopKPooling::forward), plus one when the
    /// scorer is a GraphConv with max aggregation.
    ///
    /// # Errors
    /// [`PoolError::FeatureWidth`] when the batch does not have `d_input` features.
    pub fn forward(&self, graphs: GraphBatch<B>) -> Result<Pooled<B>> {
        check_width("SAGPooling", self.d_input, graphs.num_features())?;
        let gnn_out = self.gnn.forward(graphs.x().clone(), graphs.edge_index(), graphs.edge_weight());
        let kept = match &self.select {
            Some(select) => select.forward(gnn_out, graphs.segments())?,
            None => {
                let rows = gnn_out.dims()[0];
                let raw = gnn_out.reshape([rows]);
                let score = match self.selection {
                    Selection::MinScore(_) => gnn_core::segment::segment_softmax(raw.reshape([rows, 1]), graphs.segments()).reshape([rows]),
                    _ => match self.activation {
                        ScoreActivation::Tanh => raw.tanh(),
                        ScoreActivation::Sigmoid => crate::select::sigmoid(raw),
                    },
                };
                crate::select::select_top_k(score, graphs.segments(), self.selection)
            }
        };
        Ok(pool_kept_nodes(graphs, kept, self.multiplier))
    }
}
