//! Message-passing layers: `GraphConv`, `GCNConv`, `GINConv`, `SAGEConv`.
//!
//! Each is built from the fixture's weights, run once on `(x, edge_index, edge_weight if used)`
//! (the one layer call per op is the closure passed to `check_conv`), and checked on
//! `sum(output.x)`.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::conv::{GcnConvConfig, GinConvConfig, GraphConvConfig, SageConvConfig};
use gnn_core::segment::SegmentBackend;
use gnn_core::structure::Aggregation;
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::Result;
use crate::fixture::{Array, OpBody, required};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::{param, set_linear};

/// The output of a conv: `x [N][out]`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ConvOutput {
    x: Array,
}

/// A conv's gradients: of the inputs, and of its weights `W` (all `Option`s).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ConvGrads<W> {
    x: Option<Array>,
    edge_weight: Option<Array>,
    #[serde(flatten)]
    weights: W,
}

/// Runs the conv (`forward` gets the input batch) and compares `x` and every gradient.
fn check_conv<B: AutodiffBackend, W>(
    cx: &Context<'_, B>,
    want: &ConvOutput,
    grad: &ConvGrads<W>,
    leaves: &Leaves<'_, B>,
    check: &mut Checker,
    forward: impl FnOnce(&gnn_core::GraphBatch<B>) -> Tensor<B, 2>,
) -> Result<()> {
    let graphs = cx.graphs()?;
    let out = forward(&graphs);
    check.tensor("x", out.clone(), Some(&want.x));
    let grads = out.sum().backward();
    check.grad("x", &cx.inputs.x, &grads, grad.x.as_ref());
    if let Some(w) = &cx.inputs.edge_weight {
        check.grad("edge_weight", w, &grads, grad.edge_weight.as_ref());
    }
    check.leaves(leaves, &grads);
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GraphConvSpec {
    /// `"add"` (default), `"mean"`, `"max"`.
    aggr: Option<String>,
}

/// `GraphConv`'s parameters (`T = Array`) or gradients (`T = Option<Array>`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct GraphConvWeights<T> {
    #[serde(rename = "lin_rel.weight")]
    lin_rel_weight: T,
    #[serde(rename = "lin_rel.bias")]
    lin_rel_bias: T,
    #[serde(rename = "lin_root.weight")]
    lin_root_weight: T,
}

/// `GraphConv(F, out, aggr)`: `lin_rel(aggr_j w_ji x_j) + lin_root(x_i)`.
pub(crate) struct GraphConv;

impl ParityOp for GraphConv {
    type Body = OpBody<
        GraphConvSpec,
        GraphConvWeights<Array>,
        ConvOutput,
        ConvGrads<GraphConvWeights<Option<Array>>>,
    >;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (p, g) = (&body.params, &body.grad.weights);
        let aggregation = match body.config.aggr.as_deref() {
            Some("mean") => Aggregation::Mean,
            Some("max") => Aggregation::Max,
            _ => Aggregation::Sum,
        };
        let mut conv = GraphConvConfig::new(
            cx.inputs.features(),
            p.lin_rel_weight.rows("params.lin_rel.weight")?,
        )
        .with_aggregation(aggregation)
        .init::<B>(cx.device);
        set_linear(
            &mut conv.lin_rel,
            &p.lin_rel_weight,
            Some(&p.lin_rel_bias),
            cx.device,
        );
        set_linear(&mut conv.lin_root, &p.lin_root_weight, None, cx.device);
        let mut leaves = Leaves::new();
        leaves.linear(
            ("lin_rel.weight", "lin_rel.bias"),
            &conv.lin_rel,
            (g.lin_rel_weight.as_ref(), g.lin_rel_bias.as_ref()),
        );
        leaves.linear(
            ("lin_root.weight", ""),
            &conv.lin_root,
            (g.lin_root_weight.as_ref(), None),
        );
        check_conv(cx, &body.output, &body.grad, &leaves, check, |graphs| {
            conv.forward(
                cx.inputs.x.clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            )
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GcnSpec {
    out_channels: Option<usize>,
}

/// `GCNConv`'s parameters (`T = Array`) or gradients (`T = Option<Array>`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct GcnWeights<T> {
    #[serde(rename = "lin.weight")]
    lin_weight: T,
    bias: T,
}

/// `GCNConv(F, out)`: symmetric normalisation with self loops, then `+ bias`.
pub(crate) struct GcnConv;

impl ParityOp for GcnConv {
    type Body =
        OpBody<GcnSpec, GcnWeights<Array>, ConvOutput, ConvGrads<GcnWeights<Option<Array>>>>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (p, g) = (&body.params, &body.grad.weights);
        let out_channels = body
            .config
            .out_channels
            .unwrap_or(p.lin_weight.rows("params.lin.weight")?);
        let mut conv = GcnConvConfig::new(cx.inputs.features(), out_channels).init::<B>(cx.device);
        set_linear(&mut conv.lin, &p.lin_weight, None, cx.device);
        conv.bias = Some(param(&p.bias, cx.device));
        let mut leaves = Leaves::new();
        leaves.linear(("lin.weight", ""), &conv.lin, (g.lin_weight.as_ref(), None));
        let bias = conv.bias.as_ref().expect("set above").val();
        leaves.push("bias", Leaf::Vector(bias), g.bias.as_ref());
        check_conv(cx, &body.output, &body.grad, &leaves, check, |graphs| {
            conv.forward(
                cx.inputs.x.clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            )
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GinSpec {
    /// Fixed eps (when not `train_eps`).
    eps: Option<f64>,
    #[serde(default)]
    train_eps: bool,
}

/// `GINConv`'s parameters (`T = Array`) or gradients (`T = Option<Array>`): the MLP
/// `Linear → ReLU → Linear`, and `eps` when trained.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct GinWeights<T> {
    #[serde(rename = "nn.0.weight")]
    nn0_weight: T,
    #[serde(rename = "nn.0.bias")]
    nn0_bias: T,
    #[serde(rename = "nn.2.weight")]
    nn2_weight: T,
    #[serde(rename = "nn.2.bias")]
    nn2_bias: T,
    eps: Option<Array>,
}

/// `GINConv(nn, eps, train_eps)`: `nn((1 + eps) x_i + Σ_j x_j)`.
pub(crate) struct GinConv;

impl ParityOp for GinConv {
    type Body =
        OpBody<GinSpec, GinWeights<Array>, ConvOutput, ConvGrads<GinWeights<Option<Array>>>>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (config, p, g) = (&body.config, &body.params, &body.grad.weights);
        let eps = if config.train_eps {
            required(&p.eps, "params.eps")?.values[0]
        } else {
            config.eps.unwrap_or(0.0)
        };
        let mut conv = GinConvConfig::new(
            cx.inputs.features(),
            p.nn2_weight.rows("params.nn.2.weight")?,
        )
        .with_d_hidden(Some(p.nn0_weight.rows("params.nn.0.weight")?))
        .with_eps(eps)
        .with_train_eps(config.train_eps)
        .init::<B>(cx.device);
        set_linear(
            &mut conv.mlp_in,
            &p.nn0_weight,
            Some(&p.nn0_bias),
            cx.device,
        );
        set_linear(
            &mut conv.mlp_out,
            &p.nn2_weight,
            Some(&p.nn2_bias),
            cx.device,
        );
        let mut leaves = Leaves::new();
        if config.train_eps {
            conv.eps = Some(param(required(&p.eps, "params.eps")?, cx.device));
            let eps = conv.eps.as_ref().expect("set above").val();
            leaves.push("eps", Leaf::Vector(eps), g.eps.as_ref());
        }
        leaves.linear(
            ("nn.0.weight", "nn.0.bias"),
            &conv.mlp_in,
            (g.nn0_weight.as_ref(), g.nn0_bias.as_ref()),
        );
        leaves.linear(
            ("nn.2.weight", "nn.2.bias"),
            &conv.mlp_out,
            (g.nn2_weight.as_ref(), g.nn2_bias.as_ref()),
        );
        check_conv(cx, &body.output, &body.grad, &leaves, check, |graphs| {
            conv.forward(
                cx.inputs.x.clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            )
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SageSpec {}

/// `SAGEConv`'s parameters (`T = Array`) or gradients (`T = Option<Array>`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SageWeights<T> {
    #[serde(rename = "lin_l.weight")]
    lin_l_weight: T,
    #[serde(rename = "lin_l.bias")]
    lin_l_bias: T,
    #[serde(rename = "lin_r.weight")]
    lin_r_weight: T,
}

/// `SAGEConv(F, out)`: `lin_l(mean_j x_j) + lin_r(x_i)`.
pub(crate) struct SageConv;

impl ParityOp for SageConv {
    type Body =
        OpBody<SageSpec, SageWeights<Array>, ConvOutput, ConvGrads<SageWeights<Option<Array>>>>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (p, g) = (&body.params, &body.grad.weights);
        let mut conv = SageConvConfig::new(
            cx.inputs.features(),
            p.lin_l_weight.rows("params.lin_l.weight")?,
        )
        .init::<B>(cx.device);
        set_linear(
            &mut conv.lin_l,
            &p.lin_l_weight,
            Some(&p.lin_l_bias),
            cx.device,
        );
        set_linear(&mut conv.lin_r, &p.lin_r_weight, None, cx.device);
        let mut leaves = Leaves::new();
        leaves.linear(
            ("lin_l.weight", "lin_l.bias"),
            &conv.lin_l,
            (g.lin_l_weight.as_ref(), g.lin_l_bias.as_ref()),
        );
        leaves.linear(
            ("lin_r.weight", ""),
            &conv.lin_r,
            (g.lin_r_weight.as_ref(), None),
        );
        check_conv(cx, &body.output, &body.grad, &leaves, check, |graphs| {
            conv.forward(
                cx.inputs.x.clone(),
                graphs.edge_index().clone(),
                graphs.edge_weight().cloned(),
            )
        })
    }
}
