//! [`SagPooling`]: top-k pooling scored by a graph neural network (Lee et al., SAGPool).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use gnn_core::GraphBatch;
use gnn_core::burn_compat::reshape;
use gnn_core::conv::{Conv, ConvConfig, ConvKind};
use gnn_core::segment::SegmentBackend;

use crate::error::{PoolError, Result, assert_width};
use crate::pooled::{Pooled, pool_kept_nodes};
use crate::select::{ScoreActivation, SelectTopK, SelectTopKConfig, Selection, select_top_k};

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
            return Err(PoolError::ZeroWidth {
                what: "SAGPooling input width",
            });
        }
        let select = if self.sign_weight {
            Some(
                SelectTopKConfig::new(1, self.selection)
                    .with_activation(self.activation)
                    .init(device)?,
            )
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

impl<B: SegmentBackend> SagPooling<B> {
    /// Pools a batch.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]`, optional edge weights (used by the scorer)
    /// - returns the pooled batch with `x [K, d_input]`, `perm [K]`, `score [K]`
    ///
    /// Device reads: as [`TopKPooling::forward`](crate::TopKPooling::forward), plus one when the
    /// scorer is a GraphConv with max aggregation.
    ///
    /// # Panics
    /// When the batch does not have `d_input` features.
    #[track_caller]
    pub fn forward(&self, graphs: GraphBatch<B>) -> Pooled<B> {
        assert_width("SAGPooling", self.d_input, graphs.num_features());
        let gnn_out = self.gnn.forward(
            graphs.x().clone(),
            graphs.edge_index().clone(),
            graphs.edge_weight().cloned(),
        );
        let kept = match &self.select {
            Some(select) => select.forward(gnn_out, graphs.segments()),
            None => {
                let raw = reshape(gnn_out.clone(), [gnn_out.dims()[0]]);
                let score = self
                    .selection
                    .score(self.activation, raw, graphs.segments());
                select_top_k(score, graphs.segments(), self.selection)
            }
        };
        pool_kept_nodes(graphs, kept, self.multiplier)
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, backend::Backend};
    use gnn_core::{Graph, GraphBatch, host};

    use super::*;

    fn two_graphs<B: Backend>(weights: [f32; 6], device: &B::Device) -> GraphBatch<B> {
        let x: Vec<f32> = (0..5 * 3).map(|i| (i as f32 * 0.53).cos()).collect();
        let g0 = Graph::new(3, 3, x[..9].to_vec(), vec![(0, 1), (1, 0), (1, 2), (2, 1)])
            .unwrap()
            .with_edge_weight(weights[..4].to_vec())
            .unwrap();
        let g1 = Graph::new(2, 3, x[9..].to_vec(), vec![(0, 1), (1, 0)])
            .unwrap()
            .with_edge_weight(weights[4..].to_vec())
            .unwrap();
        GraphBatch::from_graphs(&[g0, g1], device).unwrap()
    }

    fn pools_with_every_scorer<B: SegmentBackend>(device: &B::Device) {
        for scorer in [
            ConvKind::Graph,
            ConvKind::Gcn,
            ConvKind::Gin,
            ConvKind::Sage,
        ] {
            for sign_weight in [true, false] {
                let pool = SagPoolingConfig::new(3, Selection::Ratio(0.5))
                    .with_scorer(scorer)
                    .with_sign_weight(sign_weight)
                    .init::<B>(device)
                    .unwrap();
                let out = pool.forward(two_graphs([1.0; 6], device));
                assert_eq!(out.graphs.node_counts(), &[2, 1], "{scorer:?}");
                assert_eq!(out.graphs.x().dims(), [3, 3]);
                assert_eq!(out.score.dims(), [3]);
                let score = host::floats(out.score);
                assert!(
                    score.iter().all(|s| s.abs() <= 1.0),
                    "tanh scores: {score:?}"
                );
            }
        }
    }

    fn edge_weights_reach_the_scorer<B: SegmentBackend>(device: &B::Device) {
        let pool = SagPoolingConfig::new(3, Selection::Count(3))
            .with_scorer(ConvKind::Gcn)
            .init::<B>(device)
            .unwrap();
        let light = pool.forward(two_graphs([1.0; 6], device));
        let heavy = pool.forward(two_graphs([5.0, 0.1, 3.0, 0.2, 1.0, 1.0], device));
        let diff: Tensor<B, 1> = (light.score - heavy.score).abs().sum();
        assert!(
            host::floats(diff)[0] > 1e-4,
            "the scores must depend on the edge weights"
        );
    }

    fn rejects_bad_configuration_and_input<B: SegmentBackend>(device: &B::Device) {
        assert_eq!(
            SagPoolingConfig::new(3, Selection::Ratio(2.0))
                .init::<B>(device)
                .unwrap_err(),
            PoolError::InvalidRatio(2.0)
        );
        assert_eq!(
            SagPoolingConfig::new(3, Selection::Count(0))
                .init::<B>(device)
                .unwrap_err(),
            PoolError::InvalidCount
        );
        let pool = SagPoolingConfig::new(4, Selection::Ratio(0.5))
            .init::<B>(device)
            .unwrap();
        let message =
            gnn_core::testing::panic_message(|| pool.forward(two_graphs([1.0; 6], device)));
        assert!(
            message.contains("SAGPooling was built for 4 input features but the input has 3"),
            "{message}"
        );
    }

    gnn_core::backend_tests!(
        pools_with_every_scorer,
        edge_weights_reach_the_scorer,
        rejects_bad_configuration_and_input
    );
}
