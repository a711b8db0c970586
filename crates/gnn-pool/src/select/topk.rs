use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Int, Tensor, backend::Backend};
use gnn_core::segment::SegmentBackend;
use gnn_core::{Segments, host, segment};
use serde::{Deserialize, Serialize};

use gnn_core::burn_compat::{reshape, select_1d, sigmoid};

use crate::error::{PoolError, Result, assert_width};

/// How many nodes of each graph survive a top-k selection.
///
/// PyG overloads one `ratio` argument: a float below 1 is a fraction, anything `>= 1` a count, so
/// `ratio = 1.0` keeps a single node. Here the three modes are separate variants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Selection {
    /// Keep `ceil(ratio · n)` nodes of a graph of `n` nodes; ratio in `(0, 1]`. The product is
    /// computed in `f64` (PyG computes it in the score's dtype).
    Ratio(f64),
    /// Keep `min(k, n)` nodes; `k >= 1`.
    Count(usize),
    /// Keep the nodes whose per-graph softmax score exceeds
    /// `min(max_score_of_graph - 1e-7, min_score)` (so every non-empty graph keeps at least one).
    /// The score activation is the softmax whatever [`ScoreActivation`] says, as in PyG.
    MinScore(f64),
}

impl Selection {
    /// Checks the value range.
    ///
    /// # Errors
    /// [`PoolError::InvalidRatio`], [`PoolError::InvalidCount`] or [`PoolError::InvalidMinScore`].
    pub fn validate(&self) -> Result<()> {
        match *self {
            Selection::Ratio(r) if !(r > 0.0 && r <= 1.0) => Err(PoolError::InvalidRatio(r)),
            Selection::Count(0) => Err(PoolError::InvalidCount),
            Selection::MinScore(s) if !s.is_finite() => Err(PoolError::InvalidMinScore(s)),
            _ => Ok(()),
        }
    }

    /// Nodes kept of a graph of `n` nodes, when that is known before scoring (not in
    /// [`Selection::MinScore`] mode).
    pub fn kept(&self, n: usize) -> Option<usize> {
        match *self {
            Selection::Ratio(r) => Some(((r * n as f64).ceil() as usize).min(n)),
            Selection::Count(k) => Some(k.min(n)),
            Selection::MinScore(_) => None,
        }
    }

    /// The score of every node from its raw score `[N]` (the projection, or a scoring GNN's
    /// output): `activation(raw)` in ratio and count modes, the per-graph softmax of `raw` in
    /// min-score mode (whatever `activation` says, as in PyG).
    ///
    /// The one place the score activation is dispatched, for [`SelectTopK`] and
    /// [`SagPooling`](crate::SagPooling). Device reads: none.
    pub fn score<B: SegmentBackend>(
        &self,
        activation: ScoreActivation,
        raw: Tensor<B, 1>,
        segments: &Segments<B>,
    ) -> Tensor<B, 1> {
        match self {
            Selection::MinScore(_) => {
                let rows = raw.dims()[0];
                reshape(
                    segment::segment_softmax(reshape(raw, [rows, 1]), segments),
                    [rows],
                )
            }
            _ => activation.apply(raw),
        }
    }
}

/// The squashing applied to `x·p / ‖p‖` in ratio and count modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ScoreActivation {
    /// `tanh` (PyG's default).
    #[default]
    Tanh,
    /// The logistic sigmoid.
    Sigmoid,
}

impl ScoreActivation {
    /// Applies the squashing elementwise (the sigmoid in the backend's precision, see
    /// [`gnn_core::burn_compat::sigmoid`]).
    pub fn apply<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            ScoreActivation::Tanh => x.tanh(),
            ScoreActivation::Sigmoid => sigmoid(x),
        }
    }
}

/// The nodes a selection keeps.
#[derive(Debug, Clone)]
pub struct KeptNodes<B: Backend> {
    /// Kept node ids `[K]`, grouped by graph in ascending graph order; within a graph by score
    /// descending (ties: lower node id first), or by ascending node id in min-score mode.
    pub perm: Tensor<B, 1, Int>,
    /// Score of each kept node `[K]`, differentiable.
    pub score: Tensor<B, 1>,
    /// The kept nodes as segments: graph of each kept node and kept counts per graph.
    pub segments: Segments<B>,
}

/// Configuration of [`SelectTopK`].
#[derive(Config, Debug)]
pub struct SelectTopKConfig {
    /// Width of the score input.
    pub d_input: usize,
    /// How many nodes survive.
    pub selection: Selection,
    /// Squashing of the projection in ratio and count modes.
    #[config(default = "ScoreActivation::Tanh")]
    pub activation: ScoreActivation,
}

/// PyG's `SelectTopK`: scores nodes by a learned projection `p` and keeps the best of each graph.
///
/// Score: `activation(s·p / ‖p‖)` in ratio and count modes, `softmax_graph(s·p)` in min-score mode,
/// where `s` is the score input (the node features for TopKPooling, a GNN output for SAGPooling).
#[derive(Module, Debug)]
pub struct SelectTopK<B: Backend> {
    /// The projection `p`, `[1, d_input]` (PyG `select.weight`).
    pub weight: Param<Tensor<B, 2>>,
    #[module(skip)]
    selection: Selection,
    #[module(skip)]
    activation: ScoreActivation,
}

impl SelectTopKConfig {
    /// Builds the selector with PyG's initialisation `p ~ U(-1/√d, 1/√d)`.
    ///
    /// # Errors
    /// An invalid [`Selection`] or `d_input == 0`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<SelectTopK<B>> {
        self.selection.validate()?;
        if self.d_input == 0 {
            return Err(PoolError::ZeroWidth {
                what: "score input width",
            });
        }
        let bound = 1.0 / (self.d_input as f64).sqrt();
        let weight = Initializer::Uniform {
            min: -bound,
            max: bound,
        }
        .init([1, self.d_input], device);
        Ok(SelectTopK {
            weight,
            selection: self.selection,
            activation: self.activation,
        })
    }
}

impl<B: SegmentBackend> SelectTopK<B> {
    /// Scores every node and keeps the best of each graph.
    ///
    /// - `score_input`: `[N, d_input]`
    /// - `segments`: the graph of each node, with host counts
    ///
    /// Device reads: none in ratio and count modes; one (the kept-node mask) in min-score mode,
    /// where the number of survivors depends on the data.
    ///
    /// # Panics
    /// When `score_input` is not `d_input` wide.
    #[track_caller]
    pub fn forward(&self, score_input: Tensor<B, 2>, segments: &Segments<B>) -> KeptNodes<B> {
        let [_, width] = score_input.dims();
        assert_width("SelectTopK", self.weight.dims()[1], width);
        let weight = self.weight.val();
        // `(s · p).sum(-1)` as PyG, one pass over the input forward and one backward (no
        // `[N, d]` product; for one output column also cheaper than a matrix multiply).
        let raw = segment::row_dot(score_input, reshape(weight.clone(), [width]));
        // The projection is normalised by `‖p‖` except in min-score mode (PyG).
        let raw = match self.selection {
            Selection::MinScore(_) => raw,
            _ => raw / weight.powf_scalar(2.0).sum().sqrt(),
        };
        let score = self.selection.score(self.activation, raw, segments);
        select_top_k(score, segments, self.selection)
    }

    /// The selection rule.
    pub fn selection(&self) -> Selection {
        self.selection
    }
}

/// Keeps, per graph, the nodes with the highest `score` `[N]`, as many as `selection` says
/// (ratio or count mode; min-score mode compares the scores to the threshold instead).
///
/// Order: graphs in ascending order; within a graph by score descending, exact ties by
/// ascending node id (PyG leaves tie order undefined), NaN first
/// ([`segment_top_k`](gnn_core::segment::segment_top_k)). Device reads: none in ratio and count
/// modes, one in min-score mode.
pub fn select_top_k<B: SegmentBackend>(
    score: Tensor<B, 1>,
    segments: &Segments<B>,
    selection: Selection,
) -> KeptNodes<B> {
    let Some(kept) = segments
        .counts()
        .iter()
        .map(|&n| selection.kept(n))
        .collect::<Option<Vec<usize>>>()
    else {
        return select_min_score(score, segments, selection);
    };
    let device = score.device();
    let total: usize = kept.iter().sum();
    if total == 0 {
        return KeptNodes {
            perm: Tensor::zeros([0], &device),
            score: Tensor::zeros([0], &device),
            segments: Segments::from_counts(kept, &device),
        };
    }
    let perm = segment::segment_top_k(score.clone(), segments, &kept);
    let kept_segments =
        Segments::from_parts_unchecked(select_1d(segments.ids().clone(), perm.clone()), kept);
    KeptNodes {
        score: select_1d(score, perm.clone()),
        perm,
        segments: kept_segments,
    }
}

fn select_min_score<B: SegmentBackend>(
    score: Tensor<B, 1>,
    segments: &Segments<B>,
    selection: Selection,
) -> KeptNodes<B> {
    let Selection::MinScore(min_score) = selection else {
        unreachable!("only min-score mode has no count known in advance")
    };
    let rows = score.dims()[0];
    let device = score.device();
    let max = segment::segment_max(reshape(score.clone().detach(), [rows, 1]), segments);
    let threshold = reshape((max - 1e-7).clamp_max(min_score), [segments.num_segments()]);
    let keep = score
        .clone()
        .detach()
        .greater(select_1d(threshold, segments.ids().clone()));
    let keep = host::bools(keep);
    let perm: Vec<usize> = (0..rows).filter(|&i| keep[i]).collect();
    let counts = segments
        .offsets()
        .windows(2)
        .map(|w| keep[w[0]..w[1]].iter().filter(|&&k| k).count())
        .collect();
    let perm = host::index_tensor::<B>(&perm, &device);
    let kept_segments =
        Segments::from_parts_unchecked(select_1d(segments.ids().clone(), perm.clone()), counts);
    KeptNodes {
        score: select_1d(score, perm.clone()),
        perm,
        segments: kept_segments,
    }
}
