//! [`TopKPooling`]: keep the best-scoring nodes of each graph (Gao & Ji; Cangea et al.).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};
use gnn_core::GraphBatch;

use crate::error::{PoolError, Result, check_width};
use crate::pooled::{Pooled, pool_kept_nodes};
use crate::select::{ScoreActivation, SelectTopK, SelectTopKConfig, Selection};

/// Configuration of [`TopKPooling`].
#[derive(Config, Debug)]
pub struct TopKPoolingConfig {
    /// Node features of the input.
    pub d_input: usize,
    /// How many nodes of each graph survive (PyG's `ratio` / `min_score`).
    pub selection: Selection,
    /// Squashing of the score in ratio and count modes (PyG's `nonlinearity`, default tanh).
    #[config(default = "ScoreActivation::Tanh")]
    pub activation: ScoreActivation,
    /// Factor applied to the pooled features (PyG's `multiplier`, default 1).
    #[config(default = 1.0)]
    pub multiplier: f64,
}

/// PyG's `TopKPooling`: Select (`SelectTopK` on the node features), Reduce (`x[perm] · score`),
/// Connect (edges between kept nodes).
///
/// `score = tanh(x·p / ‖p‖)`; per graph the best `ceil(ratio·n)` or `min(k, n)` nodes are kept,
/// or those whose per-graph softmax of `x·p` passes the min-score threshold. The output features
/// are `x[perm] · score[perm] · multiplier`, which is how gradients reach `p`.
///
/// Edge cases: an empty graph stays empty; a graph without edges keeps its selected nodes and no
/// edge; a count larger than a graph keeps the whole graph (reordered by score).
#[derive(Module, Debug)]
pub struct TopKPooling<B: Backend> {
    /// The scorer (PyG `select`).
    pub select: SelectTopK<B>,
    multiplier: f64,
}

impl TopKPoolingConfig {
    /// Builds the layer.
    ///
    /// # Errors
    /// An invalid selection (ratio outside `(0, 1]`, count 0, non-finite min score), a non-finite
    /// multiplier, or `d_input == 0`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<TopKPooling<B>> {
        if !self.multiplier.is_finite() {
            return Err(PoolError::InvalidMultiplier(self.multiplier));
        }
        let select = SelectTopKConfig::new(self.d_input, self.selection)
            .with_activation(self.activation)
            .init(device)?;
        Ok(TopKPooling { select, multiplier: self.multiplier })
    }
}

impl<B: Backend> TopKPooling<B> {
    /// Pools a batch.
    ///
    /// - `graphs`: `x [N, d_input]`, edges `[2, E]` (edge features and weights follow their edges)
    /// - returns the pooled batch with `x [K, d_input]`, `perm [K]`, `score [K]`
    ///
    /// Device reads: one in ratio and count modes (which edges survive), two in min-score mode
    /// (also which nodes survive); none for the sizes, which come from the host counts.
    ///
    /// # Errors
    /// [`PoolError::FeatureWidth`] when the batch does not have `d_input` features.
    pub fn forward(&self, graphs: GraphBatch<B>) -> Result<Pooled<B>> {
        let score_input = graphs.x().clone();
        self.forward_with_attention(graphs, score_input)
    }

    /// Pools a batch, scoring the nodes by a separate attention input `[N, d_input]` instead of
    /// their features (PyG's `attn` argument).
    ///
    /// # Errors
    /// [`PoolError::FeatureWidth`] when `attention` or the batch is not `d_input` wide.
    pub fn forward_with_attention(&self, graphs: GraphBatch<B>, attention: Tensor<B, 2>) -> Result<Pooled<B>> {
        check_width("TopKPooling", self.select.weight.dims()[1], graphs.num_features())?;
        let kept = self.select.forward(attention, graphs.segments())?;
        Ok(pool_kept_nodes(graphs, kept, self.multiplier))
    }
}
