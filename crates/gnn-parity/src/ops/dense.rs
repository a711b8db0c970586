//! Dense helpers and dense pooling: `to_dense_batch`, `to_dense_adj`, `dense_diff_pool`,
//! `dense_mincut_pool`.

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_core::segment::to_dense_batch;
use gnn_pool::dense::{dense_diff_pool, dense_mincut_pool, to_dense_adj};
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::Result;
use crate::fixture::{Array, IntArray, NoParams, OpBody, XGrad};
use crate::report::Checker;
use crate::tensors::float_tensor;

/// Configs the dense helpers need nothing from.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseSpec {}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseBatchOutput {
    /// `[B][max_n][F]`, zero-padded.
    x: Array,
    /// `[B][max_n]`, true for real nodes.
    mask: IntArray,
}

/// `to_dense_batch(x, batch)`.
pub(crate) struct ToDenseBatch;

impl ParityOp for ToDenseBatch {
    type Body = OpBody<DenseSpec, NoParams, DenseBatchOutput, XGrad>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let graphs = cx.graphs()?;
        let (dense, mask) = to_dense_batch(cx.inputs.x.clone(), graphs.segments());
        check.tensor("x", dense, Some(&body.output.x));
        check.int_tensor("mask", mask.int(), Some(&body.output.mask));
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DenseAdjOutput {
    /// `[B][max_n][max_n]`.
    adj: Array,
}

/// `to_dense_adj(edge_index, batch, edge_weight)`.
pub(crate) struct ToDenseAdj;

impl ParityOp for ToDenseAdj {
    type Body = OpBody<DenseSpec, NoParams, DenseAdjOutput, XGrad>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let graphs = cx.graphs()?;
        let adj = to_dense_adj(
            graphs.edge_index().clone(),
            graphs.segments(),
            graphs.edge_weight().cloned(),
        );
        check.tensor("adj", adj, Some(&body.output.adj));
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
enum Kind {
    #[serde(rename = "dense_diff_pool")]
    DiffPool,
    #[serde(rename = "dense_mincut_pool")]
    MinCut,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DensePoolConfig {
    op: Kind,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DensePoolParams {
    /// Assignment logits `[B][max_n][C]`.
    s: Array,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DensePoolOutput {
    /// `[B][C][F]`.
    x: Array,
    /// `[B][C][C]`.
    adj: Array,
    /// DiffPool's link loss.
    link_loss: Option<Array>,
    /// DiffPool's entropy loss.
    ent_loss: Option<Array>,
    /// MinCut's cut loss (NaN in PyG when a graph has no edge).
    mincut_loss: Option<Array>,
    /// MinCut's orthogonality loss.
    ortho_loss: Option<Array>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct DensePoolGrads {
    x: Option<Array>,
    edge_weight: Option<Array>,
    s: Option<Array>,
}

/// `dense_diff_pool(x, adj, s, mask)` / `dense_mincut_pool(x, adj, s, mask)` on the densified
/// input; the loss is `sum(x) + sum(adj) + both auxiliary losses`.
pub(crate) struct DensePool;

impl ParityOp for DensePool {
    type Body = OpBody<DensePoolConfig, DensePoolParams, DensePoolOutput, DensePoolGrads>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let want = &body.output;
        let graphs = cx.graphs()?;
        let (dense_x, mask) = to_dense_batch(cx.inputs.x.clone(), graphs.segments());
        let adj = to_dense_adj(
            graphs.edge_index().clone(),
            graphs.segments(),
            graphs.edge_weight().cloned(),
        );
        let s: Tensor<B, 3> = float_tensor(&body.params.s, cx.device).require_grad();
        let (x, adj, losses) = match body.config.op {
            Kind::DiffPool => {
                let out = dense_diff_pool(dense_x, adj, s.clone(), Some(mask));
                let losses = [
                    ("link_loss", out.link_loss, &want.link_loss),
                    ("ent_loss", out.entropy_loss, &want.ent_loss),
                ];
                (out.x, out.adj, losses)
            }
            Kind::MinCut => {
                // PyG's mincut loss is NaN when a graph has no edge, and so is the gradient
                // it reaches; ours is defined there (see `dense_mincut_pool`), and checked
                // against PyG-based figures on the project's `f_dense` fixture.
                check.defined_where_pyg_is_nan(&["mincut_loss", "grad.s", "grad.x"]);
                let out = dense_mincut_pool(dense_x, adj, s.clone(), Some(mask));
                let losses = [
                    ("mincut_loss", out.mincut_loss, &want.mincut_loss),
                    ("ortho_loss", out.ortho_loss, &want.ortho_loss),
                ];
                (out.x, out.adj, losses)
            }
        };
        check.tensor("x", x.clone(), Some(&want.x));
        check.tensor("adj", adj.clone(), Some(&want.adj));
        let mut loss = x.sum() + adj.sum();
        for (name, value, expected) in losses {
            check.tensor(name, value.clone(), expected.as_ref());
            loss = loss + value;
        }
        let grads = loss.backward();
        let grad = &body.grad;
        check.grad("x", &cx.inputs.x, &grads, grad.x.as_ref());
        if let Some(w) = &cx.inputs.edge_weight {
            check.grad("edge_weight", w, &grads, grad.edge_weight.as_ref());
        }
        check.grad("s", &s, &grads, grad.s.as_ref());
        Ok(())
    }
}
