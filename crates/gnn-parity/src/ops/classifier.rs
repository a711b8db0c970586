//! PyG's whole hierarchical TopK classifier (`examples/proteins_topk_pool.py`, eval mode):
//! blocks of GraphConv → ReLU → TopKPooling, summed `[max ‖ mean]` readouts, a 3-layer head and
//! `log_softmax`, checked on the log-probabilities, the NLL loss, each block's `perm` and sizes,
//! and every gradient.

use gnn_core::segment::SegmentBackend;
use std::collections::BTreeMap;

use burn::tensor::backend::AutodiffBackend;
use gnn_core::conv::Conv;
use gnn_models::{BlockPool, HierarchicalClassifierConfig, nll_loss};
use serde::Deserialize;

use super::topk::selection;
use super::{Context, ParityOp};
use crate::fixture::{Array, IntArray, OpBody};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::{param, set_linear};
use crate::{ParityError, Result};

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClassifierConfig {
    /// Hidden width of the convs.
    hidden: usize,
    /// Number of classes.
    num_classes: usize,
    /// Widths of the head `[readout, hidden, hidden / 2, classes]`, if given.
    #[serde(default)]
    mlp: Vec<usize>,
    /// The conv of each block (`"GraphConv(add)"`).
    conv: Option<String>,
    /// TopK keep ratio of each block.
    ratio: Option<f64>,
    ratio_type: Option<String>,
    min_score: Option<f64>,
}

/// One block's parameters: `conv{i}.lin_rel.{weight,bias}`, `conv{i}.lin_root.weight`,
/// `pool{i}.select.weight`.
#[derive(Debug, Clone)]
pub(crate) struct BlockParams {
    rel_weight: Array,
    rel_bias: Array,
    root_weight: Array,
    select_weight: Array,
}

/// The classifier's parameters under PyG's names: blocks `1..=n` (as many as the file has
/// `conv{i}.lin_rel.weight` for) and the head `lin1..lin3`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "BTreeMap<String, Array>")]
pub(crate) struct ClassifierParams {
    blocks: Vec<BlockParams>,
    /// `(weight, bias)` of `lin1`, `lin2`, `lin3`.
    head: Vec<(Array, Array)>,
}

impl TryFrom<BTreeMap<String, Array>> for ClassifierParams {
    type Error = String;

    fn try_from(mut map: BTreeMap<String, Array>) -> std::result::Result<Self, String> {
        let mut take = |name: String| map.remove(&name).ok_or(format!("missing param {name}"));
        let mut blocks = Vec::new();
        for i in 1.. {
            let Ok(rel_weight) = take(format!("conv{i}.lin_rel.weight")) else {
                break;
            };
            blocks.push(BlockParams {
                rel_weight,
                rel_bias: take(format!("conv{i}.lin_rel.bias"))?,
                root_weight: take(format!("conv{i}.lin_root.weight"))?,
                select_weight: take(format!("pool{i}.select.weight"))?,
            });
        }
        let head = (1..=3)
            .map(|i| {
                Ok((
                    take(format!("lin{i}.weight"))?,
                    take(format!("lin{i}.bias"))?,
                ))
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Self { blocks, head })
    }
}

/// One block's recorded outputs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BlockOutput {
    /// Kept node ids (into the block's input).
    perm: Option<IntArray>,
    /// Nodes after pooling.
    num_nodes: Option<i64>,
    /// Edges after pooling.
    num_edges: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClassifierOutput {
    /// `[B][classes]`.
    log_probs: Array,
    /// The mean NLL of `input.y`.
    nll_loss: Array,
    #[serde(default)]
    blocks: Vec<BlockOutput>,
}

/// Gradients by PyG parameter name (`x`, `conv{i}.…`, `pool{i}.…`, `lin{i}.…`): the names
/// depend on the number of blocks, so this is a map.
pub(crate) type ClassifierGrads = BTreeMap<String, Array>;

/// The hierarchical TopK classifier.
pub(crate) struct Classifier;

impl ParityOp for Classifier {
    type Body = OpBody<ClassifierConfig, ClassifierParams, ClassifierOutput, ClassifierGrads>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (config, p, g) = (&body.config, &body.params, &body.grad);
        let conv = config.conv.as_deref().unwrap_or("GraphConv(add)");
        if !conv.starts_with("GraphConv") {
            return Err(ParityError::Unsupported(format!(
                "classifier with conv {conv}"
            )));
        }
        if p.blocks.is_empty() {
            return Err(ParityError::Unsupported("classifier without blocks".into()));
        }
        let selection = selection(config.ratio, config.ratio_type.as_deref(), config.min_score)?;
        let classifier =
            HierarchicalClassifierConfig::new(cx.inputs.features(), config.num_classes)
                .with_hidden(config.hidden)
                .with_num_blocks(p.blocks.len())
                .with_selection(selection)
                .with_dropout(0.0);
        let head = [
            classifier.readout_width(),
            config.hidden,
            config.hidden / 2,
            config.num_classes,
        ];
        if !config.mlp.is_empty() && config.mlp != head {
            return Err(ParityError::Unsupported(format!(
                "classifier head {:?}",
                config.mlp
            )));
        }
        let device = cx.device;
        let mut model = classifier.init::<B>(device)?;
        let mut leaves = Leaves::new();
        for (i, (block, want)) in model.convs.iter_mut().zip(&p.blocks).enumerate() {
            let Conv::Graph(conv) = block else {
                return Err(ParityError::Unsupported("classifier conv".into()));
            };
            let name = |s: &str| format!("conv{}.{s}", i + 1);
            set_linear(
                &mut conv.lin_rel,
                &want.rel_weight,
                Some(&want.rel_bias),
                device,
            );
            set_linear(&mut conv.lin_root, &want.root_weight, None, device);
            let (rel_w, rel_b) = (name("lin_rel.weight"), name("lin_rel.bias"));
            let root_w = name("lin_root.weight");
            leaves.linear(
                (&rel_w, &rel_b),
                &conv.lin_rel,
                (g.get(&rel_w), g.get(&rel_b)),
            );
            leaves.linear((&root_w, ""), &conv.lin_root, (g.get(&root_w), None));
        }
        for (i, (pool, want)) in model.pools.iter_mut().zip(&p.blocks).enumerate() {
            let BlockPool::TopK(pool) = pool else {
                return Err(ParityError::Unsupported("classifier pool".into()));
            };
            pool.select.weight = param(&want.select_weight, device);
            let name = format!("pool{}.select.weight", i + 1);
            let expected = g.get(&name);
            leaves.push(name, Leaf::Matrix(pool.select.weight.val()), expected);
        }
        for (i, (linear, (w, b))) in [&mut model.lin1, &mut model.lin2, &mut model.lin3]
            .into_iter()
            .zip(&p.head)
            .enumerate()
        {
            set_linear(linear, w, Some(b), device);
            let (w, b) = (format!("lin{}.weight", i + 1), format!("lin{}.bias", i + 1));
            leaves.linear((&w, &b), linear, (g.get(&w), g.get(&b)));
        }
        let y = cx
            .inputs
            .y
            .clone()
            .ok_or_else(|| ParityError::Missing("input.y".into()))?;
        let trace = model.forward_traced(cx.graphs()?);
        let loss = nll_loss(trace.log_probs.clone(), y);
        let want = &body.output;
        check.tensor("log_probs", trace.log_probs.clone(), Some(&want.log_probs));
        check.tensor("nll_loss", loss.clone(), Some(&want.nll_loss));
        let count = |n: i64| IntArray::scalar(n);
        let blocks = count(want.blocks.len() as i64);
        check.ints("blocks", vec![trace.pools.len() as i64], Some(&blocks));
        for (i, (block, want)) in trace.pools.iter().zip(&want.blocks).enumerate() {
            let i = i + 1;
            check.int_tensor(
                &format!("block{i}.perm"),
                block.perm.clone(),
                want.perm.as_ref(),
            );
            let nodes: usize = block.node_counts.iter().sum();
            let edges: usize = block.edge_counts.iter().sum();
            let (want_nodes, want_edges) = (want.num_nodes.map(count), want.num_edges.map(count));
            check.ints(
                &format!("block{i}.num_nodes"),
                vec![nodes as i64],
                want_nodes.as_ref(),
            );
            check.ints(
                &format!("block{i}.num_edges"),
                vec![edges as i64],
                want_edges.as_ref(),
            );
        }
        let grads = loss.backward();
        check.grad("x", &cx.inputs.x, &grads, g.get("x"));
        check.leaves(&leaves, &grads);
        Ok(())
    }
}
