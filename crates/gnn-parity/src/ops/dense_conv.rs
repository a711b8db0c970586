//! Dense message-passing layers: `DenseGraphConv`, `DenseSAGEConv`, `DenseGCNConv`,
//! `DenseGINConv`.
//!
//! Each is built from the fixture's weights and run once on the input densified with
//! `to_dense_batch` / `to_dense_adj` (edge weights as the adjacency's values when the op uses
//! them), with the mask when `config.mask`; checked on `sum(output.x)`, its gradients reaching
//! `x` and `edge_weight` through the densification.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use gnn_core::conv::{
    DenseGcnConvConfig, DenseGinConvConfig, DenseGraphConvConfig, DenseSageConvConfig,
};
use gnn_core::segment::to_dense_batch;
use gnn_core::structure::Aggregation;
use gnn_pool::dense::to_dense_adj;
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::fixture::{Array, OpBody};
use crate::report::{Checker, Leaf, Leaves};
use crate::tensors::{param, set_linear};
use crate::{ParityError, Result};

#[derive(Debug, Clone, Copy, Deserialize)]
enum Kind {
    #[serde(rename = "DenseGraphConv")]
    Graph,
    #[serde(rename = "DenseSAGEConv")]
    Sage,
    #[serde(rename = "DenseGCNConv")]
    Gcn,
    #[serde(rename = "DenseGINConv")]
    Gin,
}

/// The constructor (and `forward`) arguments of the four layers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseConvConfig {
    op: Kind,
    out_channels: usize,
    /// Whether the mask of `to_dense_batch` is passed.
    mask: bool,
    /// DenseGraphConv: `"add"`, `"mean"` or `"max"`.
    aggr: Option<String>,
    /// DenseSAGEConv.
    #[serde(default)]
    normalize: bool,
    /// DenseGCNConv.
    #[serde(default)]
    improved: bool,
    /// DenseGCNConv, DenseGINConv (PyG default true).
    add_loop: Option<bool>,
    /// DenseGINConv: the MLP's hidden width.
    d_hidden: Option<usize>,
    /// DenseGINConv.
    eps: Option<f64>,
    /// DenseGINConv.
    #[serde(default)]
    train_eps: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseConvOutput {
    /// `[B][N][out]`.
    x: Array,
}

/// Parameters and gradients by PyG name (the names depend on the layer).
pub(crate) type Named = BTreeMap<String, Array>;

/// The four dense convolutions.
pub(crate) struct DenseConv;

fn get<'a>(map: &'a Named, name: &str) -> Result<&'a Array> {
    map.get(name)
        .ok_or_else(|| ParityError::Missing(format!("params.{name}")))
}

impl ParityOp for DenseConv {
    type Body = OpBody<DenseConvConfig, Named, DenseConvOutput, Named>;

    fn run<B: AutodiffBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let (config, p, g) = (&body.config, &body.params, &body.grad);
        let device = cx.device;
        let graphs = cx.graphs()?;
        let (x, mask) = to_dense_batch(graphs.x().clone(), graphs.segments());
        let adj = to_dense_adj(
            graphs.edge_index().clone(),
            graphs.segments(),
            graphs.edge_weight().cloned(),
        );
        let mask = config.mask.then_some(mask);
        let (d_in, d_out) = (cx.inputs.features(), config.out_channels);
        let mut leaves = Leaves::new();
        let out: Tensor<B, 3> = match config.op {
            Kind::Graph => {
                let aggregation = match config.aggr.as_deref().unwrap_or("add") {
                    "add" => Aggregation::Sum,
                    "mean" => Aggregation::Mean,
                    "max" => Aggregation::Max,
                    other => {
                        return Err(ParityError::Unsupported(format!(
                            "DenseGraphConv aggr {other}"
                        )));
                    }
                };
                let mut conv = DenseGraphConvConfig::new(d_in, d_out)
                    .with_aggregation(aggregation)
                    .init::<B>(device);
                let bias = p.get("lin_rel.bias");
                set_linear(&mut conv.lin_rel, get(p, "lin_rel.weight")?, bias, device);
                set_linear(&mut conv.lin_root, get(p, "lin_root.weight")?, None, device);
                let names = ("lin_rel.weight", "lin_rel.bias");
                leaves.linear(names, &conv.lin_rel, (g.get(names.0), g.get(names.1)));
                let root = "lin_root.weight";
                leaves.linear((root, ""), &conv.lin_root, (g.get(root), None));
                conv.forward(x, adj, mask)
            }
            Kind::Sage => {
                let mut conv = DenseSageConvConfig::new(d_in, d_out)
                    .with_normalize(config.normalize)
                    .init::<B>(device);
                set_linear(&mut conv.lin_rel, get(p, "lin_rel.weight")?, None, device);
                let bias = p.get("lin_root.bias");
                set_linear(&mut conv.lin_root, get(p, "lin_root.weight")?, bias, device);
                let rel = "lin_rel.weight";
                leaves.linear((rel, ""), &conv.lin_rel, (g.get(rel), None));
                let names = ("lin_root.weight", "lin_root.bias");
                leaves.linear(names, &conv.lin_root, (g.get(names.0), g.get(names.1)));
                conv.forward(x, adj, mask)
            }
            Kind::Gcn => {
                let mut conv = DenseGcnConvConfig::new(d_in, d_out)
                    .with_improved(config.improved)
                    .with_add_loop(config.add_loop.unwrap_or(true))
                    .init::<B>(device);
                set_linear(&mut conv.lin, get(p, "lin.weight")?, None, device);
                conv.bias = p.get("bias").map(|b| param(b, device));
                leaves.linear(("lin.weight", ""), &conv.lin, (g.get("lin.weight"), None));
                if let Some(bias) = &conv.bias {
                    leaves.push("bias", Leaf::Vector(bias.val()), g.get("bias"));
                }
                conv.forward(x, adj, mask)
            }
            Kind::Gin => {
                let hidden = get(p, "nn.0.weight")?.rows("params.nn.0.weight")?;
                if config.d_hidden.is_some_and(|h| h != hidden) {
                    return Err(ParityError::Unsupported("DenseGINConv nn widths".into()));
                }
                let mut conv = DenseGinConvConfig::new(d_in, d_out)
                    .with_d_hidden(Some(hidden))
                    .with_eps(config.eps.unwrap_or(0.0))
                    .with_train_eps(config.train_eps)
                    .with_add_loop(config.add_loop.unwrap_or(true))
                    .init::<B>(device);
                set_linear(
                    &mut conv.mlp_in,
                    get(p, "nn.0.weight")?,
                    p.get("nn.0.bias"),
                    device,
                );
                set_linear(
                    &mut conv.mlp_out,
                    get(p, "nn.2.weight")?,
                    p.get("nn.2.bias"),
                    device,
                );
                if let Some(eps) = p.get("eps") {
                    let eps = Tensor::<B, 1>::from_data(
                        TensorData::new(eps.values.clone(), [eps.values.len()]),
                        device,
                    );
                    conv.eps = Some(Param::from_tensor(eps));
                }
                for (names, linear) in [
                    (("nn.0.weight", "nn.0.bias"), &conv.mlp_in),
                    (("nn.2.weight", "nn.2.bias"), &conv.mlp_out),
                ] {
                    leaves.linear(names, linear, (g.get(names.0), g.get(names.1)));
                }
                if let Some(eps) = &conv.eps {
                    leaves.push("eps", Leaf::Vector(eps.val()), g.get("eps"));
                }
                conv.forward(x, adj, mask)
            }
        };
        check.tensor("x", out.clone(), Some(&body.output.x));
        let grads = out.sum().backward();
        check.grad("x", &cx.inputs.x, &grads, g.get("x"));
        if let Some(w) = graphs.edge_weight() {
            check.grad("edge_weight", w, &grads, g.get("edge_weight"));
        }
        check.leaves(&leaves, &grads);
        Ok(())
    }
}
