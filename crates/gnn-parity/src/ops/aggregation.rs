//! Learnable and sorting readouts: `AttentionalAggregation`, `Set2Set`, `SortAggregation`.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_pool::readout::{AttentionalAggregationConfig, Set2SetConfig, SortAggregationConfig};
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::Result;
use crate::fixture::{Array, NoParams, OpBody, XGrad};
use crate::report::{Checker, Leaves};
use crate::tensors::set_linear;

/// A readout's output: `x [B][..]`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReadoutOutput {
    x: Array,
}

/// A readout's gradients: of `x`, and of its weights `W`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ReadoutGrads<W> {
    x: Option<Array>,
    #[serde(flatten)]
    weights: W,
}

/// Compares `x`, backpropagates `sum(x)` and compares the gradients.
fn check_readout<B: AutodiffBackend>(
    out: Tensor<B, 2>,
    cx: &Context<'_, B>,
    want: &ReadoutOutput,
    grad_x: Option<&Array>,
    leaves: &Leaves<'_, B>,
    check: &mut Checker,
) {
    check.tensor("x", out.clone(), Some(&want.x));
    let grads = out.sum().backward();
    check.grad("x", &cx.inputs.x, &grads, grad_x);
    check.leaves(leaves, &grads);
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AttentionalSpec {}

/// `AttentionalAggregation`'s parameters (`T = Array`) or gradients (`T = Option<Array>`);
/// `nn` is optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct AttentionalWeights<T> {
    #[serde(rename = "gate_nn.weight")]
    gate_weight: T,
    #[serde(rename = "gate_nn.bias")]
    gate_bias: T,
    #[serde(rename = "nn.weight")]
    nn_weight: Option<Array>,
    #[serde(rename = "nn.bias")]
    nn_bias: Option<Array>,
}

/// `AttentionalAggregation(gate_nn = Linear(F, 1), nn = Linear(F, out))`.
pub(crate) struct Attentional;

impl ParityOp for Attentional {
    type Body = OpBody<
        AttentionalSpec,
        AttentionalWeights<Array>,
        ReadoutOutput,
        ReadoutGrads<AttentionalWeights<Option<Array>>>,
    >;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (p, g) = (&body.params, &body.grad.weights);
        let d_output = match &p.nn_weight {
            Some(w) => Some(w.rows("params.nn.weight")?),
            None => None,
        };
        let mut layer = AttentionalAggregationConfig::new(cx.inputs.features())
            .with_d_output(d_output)
            .init::<B>(cx.device)?;
        set_linear(
            &mut layer.gate_nn,
            &p.gate_weight,
            Some(&p.gate_bias),
            cx.device,
        );
        let mut leaves = Leaves::new();
        leaves.linear(
            ("gate_nn.weight", "gate_nn.bias"),
            &layer.gate_nn,
            (g.gate_weight.as_ref(), g.gate_bias.as_ref()),
        );
        if let (Some(nn), Some(w)) = (layer.nn.as_mut(), &p.nn_weight) {
            let bias = crate::fixture::required(&p.nn_bias, "params.nn.bias")?;
            set_linear(nn, w, Some(bias), cx.device);
            leaves.linear(
                ("nn.weight", "nn.bias"),
                nn,
                (g.nn_weight.as_ref(), g.nn_bias.as_ref()),
            );
        }
        let graphs = cx.graphs()?;
        let out = layer.forward(cx.inputs.x.clone(), graphs.segments())?;
        check_readout(out, cx, &body.output, body.grad.x.as_ref(), &leaves, check);
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Set2SetSpec {
    #[serde(default = "three")]
    processing_steps: usize,
}

fn three() -> usize {
    3
}

/// `Set2Set`'s LSTM parameters (`T = Array`) or gradients (`T = Option<Array>`), PyTorch's
/// `torch.nn.LSTM(2F, F)` layout (gate order i, f, g, o).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct LstmWeights<T> {
    #[serde(rename = "lstm.weight_ih_l0")]
    weight_ih: T,
    #[serde(rename = "lstm.weight_hh_l0")]
    weight_hh: T,
    #[serde(rename = "lstm.bias_ih_l0")]
    bias_ih: T,
    #[serde(rename = "lstm.bias_hh_l0")]
    bias_hh: T,
}

/// `Set2Set(F, processing_steps)`.
pub(crate) struct Set2Set;

impl ParityOp for Set2Set {
    type Body = OpBody<
        Set2SetSpec,
        LstmWeights<Array>,
        ReadoutOutput,
        ReadoutGrads<LstmWeights<Option<Array>>>,
    >;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (p, g) = (&body.params, &body.grad.weights);
        let mut layer = Set2SetConfig::new(cx.inputs.features(), body.config.processing_steps)
            .init::<B>(cx.device)?;
        set_linear(
            &mut layer.lstm_input,
            &p.weight_ih,
            Some(&p.bias_ih),
            cx.device,
        );
        set_linear(
            &mut layer.lstm_hidden,
            &p.weight_hh,
            Some(&p.bias_hh),
            cx.device,
        );
        let mut leaves = Leaves::new();
        leaves.linear(
            ("lstm.weight_ih_l0", "lstm.bias_ih_l0"),
            &layer.lstm_input,
            (g.weight_ih.as_ref(), g.bias_ih.as_ref()),
        );
        leaves.linear(
            ("lstm.weight_hh_l0", "lstm.bias_hh_l0"),
            &layer.lstm_hidden,
            (g.weight_hh.as_ref(), g.bias_hh.as_ref()),
        );
        let graphs = cx.graphs()?;
        let out = layer.forward(cx.inputs.x.clone(), graphs.segments())?;
        check_readout(out, cx, &body.output, body.grad.x.as_ref(), &leaves, check);
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SortSpec {
    #[serde(default = "one")]
    k: usize,
}

fn one() -> usize {
    1
}

/// `SortAggregation(k)`.
pub(crate) struct Sort;

impl ParityOp for Sort {
    type Body = OpBody<SortSpec, NoParams, ReadoutOutput, XGrad>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let graphs = cx.graphs()?;
        let out = SortAggregationConfig::new(body.config.k)
            .init()?
            .forward(cx.inputs.x.clone(), graphs.segments())?;
        check_readout(
            out,
            cx,
            &body.output,
            body.grad.x.as_ref(),
            &Leaves::new(),
            check,
        );
        Ok(())
    }
}
