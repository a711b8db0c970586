//! PyG's dense-pooling example models, whole: `examples/proteins_diff_pool.py`
//! ([`DiffPoolClassifier`](gnn_models::DiffPoolClassifier), training mode: batch norm on the
//! batch's statistics) and `examples/proteins_mincut_pool.py`
//! ([`MinCutClassifier`](gnn_models::MinCutClassifier)), checked on the log-probabilities, the
//! NLL and auxiliary losses, and the gradients of `config.loss_terms` summed w.r.t. `x` and
//! every parameter.

use std::collections::BTreeMap;

use burn::nn::{BatchNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::conv::{DenseGraphConv, DenseSageConv};
use gnn_core::segment::SegmentBackend;
use gnn_models::{
    DIFFPOOL_GNNS, DiffPoolClassifierConfig, DiffPoolGnn, MinCutClassifierConfig, nll_loss,
};
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::fixture::{Array, OpBody};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::{param, set_linear};
use crate::{ParityError, Result};

#[derive(Debug, Clone, Copy, Deserialize)]
enum Kind {
    DiffPoolClassifier,
    MinCutClassifier,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseModelConfig {
    op: Kind,
    hidden: usize,
    num_clusters: [usize; 2],
    num_classes: usize,
    /// The losses summed into the loss whose gradients are recorded: `nll`, `link`,
    /// `entropy`, `mincut`, `ortho`.
    loss_terms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseModelOutput {
    /// `[B][classes]`.
    log_probs: Array,
    nll_loss: Array,
    link_loss: Option<Array>,
    entropy_loss: Option<Array>,
    mincut_loss: Option<Array>,
    ortho_loss: Option<Array>,
}

/// Parameters and gradients by PyG name.
pub(crate) type Named = BTreeMap<String, Array>;

/// Both example models.
pub(crate) struct DenseModel;

/// Loads PyG's parameters into Burn modules and records their leaves, by PyG name.
struct Loader<'a, 'd, B: AutodiffBackend> {
    params: &'a Named,
    grads: &'a Named,
    leaves: Leaves<'a, B>,
    device: &'d B::Device,
}

impl<'a, B: AutodiffBackend> Loader<'a, '_, B> {
    fn get(&self, name: &str) -> Result<&'a Array> {
        self.params
            .get(name)
            .ok_or_else(|| ParityError::Missing(format!("params.{name}")))
    }

    fn linear(&mut self, prefix: &str, linear: &mut Linear<B>) -> Result<()> {
        let (w, b) = (format!("{prefix}.weight"), format!("{prefix}.bias"));
        let bias = match &linear.bias {
            Some(_) => Some(self.get(&b)?),
            None => None,
        };
        set_linear(linear, self.get(&w)?, bias, self.device);
        let grads = (self.grads.get(&w), self.grads.get(&b));
        self.leaves.linear((&w, &b), linear, grads);
        Ok(())
    }

    fn vector(
        &mut self,
        name: String,
        value: &mut burn::module::Param<Tensor<B, 1>>,
    ) -> Result<()> {
        *value = param(self.get(&name)?, self.device);
        let expected = self.grads.get(&name);
        self.leaves.push(name, Leaf::Vector(value.val()), expected);
        Ok(())
    }

    fn batch_norm(&mut self, prefix: &str, bn: &mut BatchNorm<B>) -> Result<()> {
        self.vector(format!("{prefix}.weight"), &mut bn.gamma)?;
        self.vector(format!("{prefix}.bias"), &mut bn.beta)
    }

    fn sage(&mut self, prefix: &str, conv: &mut DenseSageConv<B>) -> Result<()> {
        self.linear(&format!("{prefix}.lin_rel"), &mut conv.lin_rel)?;
        self.linear(&format!("{prefix}.lin_root"), &mut conv.lin_root)
    }

    fn graph_conv(&mut self, prefix: &str, conv: &mut DenseGraphConv<B>) -> Result<()> {
        self.linear(&format!("{prefix}.lin_rel"), &mut conv.lin_rel)?;
        self.linear(&format!("{prefix}.lin_root"), &mut conv.lin_root)
    }

    fn gnn(&mut self, prefix: &str, gnn: &mut DiffPoolGnn<B>) -> Result<()> {
        self.sage(&format!("{prefix}.conv1"), &mut gnn.conv1)?;
        self.batch_norm(&format!("{prefix}.bn1"), &mut gnn.bn1)?;
        self.sage(&format!("{prefix}.conv2"), &mut gnn.conv2)?;
        self.batch_norm(&format!("{prefix}.bn2"), &mut gnn.bn2)?;
        self.sage(&format!("{prefix}.conv3"), &mut gnn.conv3)?;
        self.batch_norm(&format!("{prefix}.bn3"), &mut gnn.bn3)?;
        if let Some(lin) = &mut gnn.lin {
            self.linear(&format!("{prefix}.lin"), lin)?;
        }
        Ok(())
    }
}

impl ParityOp for DenseModel {
    type Body = OpBody<DenseModelConfig, Named, DenseModelOutput, Named>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (config, want) = (&body.config, &body.output);
        let device = cx.device;
        let mut load = Loader {
            params: &body.params,
            grads: &body.grad,
            leaves: Leaves::new(),
            device,
        };
        let y = cx
            .inputs
            .y
            .clone()
            .ok_or_else(|| ParityError::Missing("input.y".into()))?;
        let graphs = cx.graphs()?;
        let features = cx.inputs.features();
        let (log_probs, losses) = match config.op {
            Kind::DiffPoolClassifier => {
                let mut model = DiffPoolClassifierConfig::new(features, config.num_classes)
                    .with_hidden(config.hidden)
                    .with_num_clusters(config.num_clusters)
                    .init::<B>(device)?;
                for (name, gnn) in DIFFPOOL_GNNS.iter().zip(&mut model.gnns) {
                    load.gnn(name, gnn)?;
                }
                load.linear("lin1", &mut model.lin1)?;
                load.linear("lin2", &mut model.lin2)?;
                let out = model.forward(graphs);
                let losses = vec![
                    ("link", "link_loss", out.link_loss, &want.link_loss),
                    (
                        "entropy",
                        "entropy_loss",
                        out.entropy_loss,
                        &want.entropy_loss,
                    ),
                ];
                (out.log_probs, losses)
            }
            Kind::MinCutClassifier => {
                let mut model = MinCutClassifierConfig::new(features, config.num_classes)
                    .with_hidden(config.hidden)
                    .with_num_clusters(config.num_clusters)
                    .init::<B>(device)?;
                load.linear("conv1.lin", &mut model.conv1.lin)?;
                if let Some(bias) = &mut model.conv1.bias {
                    load.vector("conv1.bias".into(), bias)?;
                }
                load.linear("pool1", &mut model.pool1)?;
                load.graph_conv("conv2", &mut model.conv2)?;
                load.linear("pool2", &mut model.pool2)?;
                load.graph_conv("conv3", &mut model.conv3)?;
                load.linear("lin1", &mut model.lin1)?;
                load.linear("lin2", &mut model.lin2)?;
                let out = model.forward(graphs);
                let losses = vec![
                    ("mincut", "mincut_loss", out.mincut_loss, &want.mincut_loss),
                    ("ortho", "ortho_loss", out.ortho_loss, &want.ortho_loss),
                ];
                (out.log_probs, losses)
            }
        };
        let nll = nll_loss(log_probs.clone(), y);
        check.tensor("log_probs", log_probs, Some(&want.log_probs));
        check.tensor("nll_loss", nll.clone(), Some(&want.nll_loss));
        let wanted = |term: &str| config.loss_terms.iter().any(|t| t == term);
        let mut loss = if wanted("nll") {
            nll
        } else {
            Tensor::zeros([1], device)
        };
        for (term, name, value, expected) in losses {
            check.tensor(name, value.clone(), expected.as_ref());
            if wanted(term) {
                loss = loss + value;
            }
        }
        let grads = loss.backward();
        check.grad("x", &cx.inputs.x, &grads, body.grad.get("x"));
        check.leaves(&load.leaves, &grads);
        Ok(())
    }
}
