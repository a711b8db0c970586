//! `SAGPooling` with a GraphConv (schema 1) or GCNConv (schema 2) scorer.

use burn::tensor::backend::AutodiffBackend;
use gnn_core::conv::{Conv, ConvKind};
use gnn_core::segment::SegmentBackend;
use gnn_pool::SagPoolingConfig;
use serde::Deserialize;

use super::topk::{InputGrads, PooledOutput, SelectConfig, check_pooled};
use super::{Context, ParityOp};
use crate::fixture::{Array, OpBody, required};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::{param, set_linear};
use crate::{ParityError, Result};

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SagConfig {
    #[serde(flatten)]
    select: SelectConfig,
    /// The scorer, e.g. `"GraphConv(F,1,aggr='add')"` or `"GCNConv(F,1)"`.
    #[serde(rename = "GNN")]
    gnn: Option<String>,
}

/// `SAGPooling`'s parameters (`T = Array`) or gradients (`T = Option<Array>`); the scorer's
/// weights depend on its kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SagWeights<T> {
    #[serde(rename = "gnn.lin_rel.weight")]
    lin_rel_weight: Option<Array>,
    #[serde(rename = "gnn.lin_rel.bias")]
    lin_rel_bias: Option<Array>,
    #[serde(rename = "gnn.lin_root.weight")]
    lin_root_weight: Option<Array>,
    #[serde(rename = "gnn.lin.weight")]
    lin_weight: Option<Array>,
    #[serde(rename = "gnn.bias")]
    bias: Option<Array>,
    /// The 1×1 selection weight `s`.
    #[serde(rename = "select.weight")]
    select_weight: T,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SagGrads {
    #[serde(flatten)]
    inputs: InputGrads,
    #[serde(flatten)]
    weights: SagWeights<Option<Array>>,
}

/// `SAGPooling(F, ratio, GNN)`.
pub(crate) struct Sag;

impl ParityOp for Sag {
    type Body = OpBody<SagConfig, SagWeights<Array>, PooledOutput, SagGrads>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (config, p, g) = (&body.config, &body.params, &body.grad.weights);
        let gnn = config.gnn.as_deref().unwrap_or("GraphConv");
        let scorer = if gnn.starts_with("GCNConv") {
            ConvKind::Gcn
        } else {
            ConvKind::Graph
        };
        let mut layer = SagPoolingConfig::new(cx.inputs.features(), config.select.selection()?)
            .with_scorer(scorer)
            .with_activation(config.select.activation())
            .with_multiplier(config.select.multiplier)
            .init::<B>(cx.device)?;
        let device = cx.device;
        let mut leaves = Leaves::new();
        match &mut layer.gnn {
            Conv::Graph(conv) => {
                let rel_w = required(&p.lin_rel_weight, "params.gnn.lin_rel.weight")?;
                let rel_b = required(&p.lin_rel_bias, "params.gnn.lin_rel.bias")?;
                let root_w = required(&p.lin_root_weight, "params.gnn.lin_root.weight")?;
                set_linear(&mut conv.lin_rel, rel_w, Some(rel_b), device);
                set_linear(&mut conv.lin_root, root_w, None, device);
                leaves.linear(
                    ("gnn.lin_rel.weight", "gnn.lin_rel.bias"),
                    &conv.lin_rel,
                    (g.lin_rel_weight.as_ref(), g.lin_rel_bias.as_ref()),
                );
                leaves.linear(
                    ("gnn.lin_root.weight", ""),
                    &conv.lin_root,
                    (g.lin_root_weight.as_ref(), None),
                );
            }
            Conv::Gcn(conv) => {
                let w = required(&p.lin_weight, "params.gnn.lin.weight")?;
                set_linear(&mut conv.lin, w, None, device);
                conv.bias = Some(param(required(&p.bias, "params.gnn.bias")?, device));
                leaves.linear(
                    ("gnn.lin.weight", ""),
                    &conv.lin,
                    (g.lin_weight.as_ref(), None),
                );
                let bias = conv.bias.as_ref().expect("set above").val();
                leaves.push("gnn.bias", Leaf::Vector(bias), g.bias.as_ref());
            }
            _ => {
                return Err(ParityError::Unsupported(format!(
                    "SAGPooling with GNN {gnn}"
                )));
            }
        }
        let select = layer
            .select
            .as_mut()
            .expect("PyG's SAGPooling has a select weight");
        select.weight = param(&p.select_weight, device);
        let weight = select.weight.val();
        leaves.push(
            "select.weight",
            Leaf::Matrix(weight),
            g.select_weight.as_ref(),
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
