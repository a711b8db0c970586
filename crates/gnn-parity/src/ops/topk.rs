//! `TopKPooling`, and what it shares with `SAGPooling`: the selection config, the pooled outputs
//! and their comparison.

use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_pool::{Pooled, ScoreActivation, Selection, TopKPoolingConfig};
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::Result;
use crate::fixture::{Array, IntArray, OpBody};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::param;

/// The selection part of a TopK / SAG config.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SelectConfig {
    /// Keep ratio, or node count (`ratio_type: "int"`, or any ratio >= 1).
    pub ratio: Option<f64>,
    /// `"float"`, `"int"` (schema 1; schema 2 infers from the value).
    pub ratio_type: Option<String>,
    /// Min-score mode threshold (then `ratio` is ignored).
    pub min_score: Option<f64>,
    /// Output scale.
    #[serde(default = "one")]
    pub multiplier: f64,
    /// `"tanh"` (default), `"sigmoid"`; softmax in min-score mode.
    pub nonlinearity: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl SelectConfig {
    pub fn selection(&self) -> Result<Selection> {
        selection(self.ratio, self.ratio_type.as_deref(), self.min_score)
    }

    pub fn activation(&self) -> ScoreActivation {
        match self.nonlinearity.as_deref() {
            Some("sigmoid") => ScoreActivation::Sigmoid,
            _ => ScoreActivation::Tanh,
        }
    }
}

/// PyG's selection rule: min-score mode if `min_score` is set; else an int ratio, or any ratio
/// >= 1, is a node count, and a float ratio < 1 a fraction.
pub(super) fn selection(
    ratio: Option<f64>,
    ratio_type: Option<&str>,
    min_score: Option<f64>,
) -> Result<Selection> {
    if let Some(min_score) = min_score {
        return Ok(Selection::MinScore(min_score));
    }
    let ratio = ratio.ok_or_else(|| crate::ParityError::Missing("config.ratio".into()))?;
    Ok(if ratio_type == Some("int") || ratio >= 1.0 {
        Selection::Count(ratio as usize)
    } else {
        Selection::Ratio(ratio)
    })
}

/// The outputs of a pooling op (TopK, SAG).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PooledOutput {
    pub x: Array,
    pub score: Array,
    pub perm: IntArray,
    pub batch: IntArray,
    pub edge_index: IntArray,
    pub k_per_graph: IntArray,
    /// Surviving edge features (when the op uses `edge_attr`).
    pub edge_attr: Option<Array>,
}

/// Compares a pooling op's outputs, backpropagates `sum(x) [+ sum(edge_attr)]` and compares the
/// gradients of the inputs and of `leaves`.
pub(super) fn check_pooled<B: AutodiffBackend>(
    pooled: Pooled<B>,
    want: &PooledOutput,
    grad_x: Option<&Array>,
    grad_edge_attr: Option<&Array>,
    leaves: &Leaves<'_, B>,
    cx: &Context<'_, B>,
    check: &mut Checker,
) {
    let out = &pooled.graphs;
    let mut loss = out.x().clone().sum();
    if let Some(attr) = out.edge_attr() {
        loss = loss + attr.clone().sum();
    }
    check.tensor("x", out.x().clone(), Some(&want.x));
    check.tensor("score", pooled.score.clone(), Some(&want.score));
    check.int_tensor("perm", pooled.perm.clone(), Some(&want.perm));
    check.int_tensor("batch", out.batch().clone(), Some(&want.batch));
    check.int_tensor(
        "edge_index",
        out.edge_index().clone(),
        Some(&want.edge_index),
    );
    let counts: Vec<i64> = out.node_counts().iter().map(|&c| c as i64).collect();
    check.ints("k_per_graph", counts, Some(&want.k_per_graph));
    if let Some(attr) = out.edge_attr() {
        check.tensor("edge_attr", attr.clone(), want.edge_attr.as_ref());
    }
    let grads = loss.backward();
    check.grad("x", &cx.inputs.x, &grads, grad_x);
    if let Some(attr) = &cx.inputs.edge_attr {
        check.grad("edge_attr", attr, &grads, grad_edge_attr);
    }
    check.leaves(leaves, &grads);
}

/// `TopKPooling`'s parameters (and gradients, as `Option`s).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct TopKWeights<T> {
    /// The projection vector `p`, `[1][F]`.
    #[serde(rename = "select.weight")]
    pub select_weight: T,
}

/// Gradients of the pooling inputs.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct InputGrads {
    pub x: Option<Array>,
    pub edge_attr: Option<Array>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct TopKGrads {
    #[serde(flatten)]
    inputs: InputGrads,
    #[serde(flatten)]
    weights: TopKWeights<Option<Array>>,
}

/// `TopKPooling(F, ratio | min_score, multiplier, nonlinearity)`.
pub(crate) struct TopK;

impl ParityOp for TopK {
    type Body = OpBody<SelectConfig, TopKWeights<Array>, PooledOutput, TopKGrads>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let config = &body.config;
        let mut layer = TopKPoolingConfig::new(cx.inputs.features(), config.selection()?)
            .with_activation(config.activation())
            .with_multiplier(config.multiplier)
            .init::<B>(cx.device)?;
        layer.select.weight = param(&body.params.select_weight, cx.device);
        let mut leaves = Leaves::new();
        let weight = layer.select.weight.val();
        leaves.push(
            "select.weight",
            Leaf::Matrix(weight),
            body.grad.weights.select_weight.as_ref(),
        );
        let pooled = layer.forward(cx.graphs()?);
        let grad = &body.grad.inputs;
        check_pooled(
            pooled,
            &body.output,
            grad.x.as_ref(),
            grad.edge_attr.as_ref(),
            &leaves,
            cx,
            check,
        );
        Ok(())
    }
}
