//! `global_add_pool`, `global_mean_pool`, `global_max_pool`.

use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_pool::GlobalPool;
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::Result;
use crate::fixture::{Array, NoParams, OpBody, XGrad};
use crate::report::Checker;

#[derive(Debug, Clone, Copy, Deserialize)]
enum Kind {
    #[serde(rename = "global_add_pool")]
    Add,
    #[serde(rename = "global_mean_pool")]
    Mean,
    #[serde(rename = "global_max_pool")]
    Max,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GlobalConfig {
    op: Kind,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GlobalOutput {
    /// `[B][F]`.
    x: Array,
}

/// A global pool: per-graph sum / mean / max.
pub(crate) struct Global;

impl ParityOp for Global {
    type Body = OpBody<GlobalConfig, NoParams, GlobalOutput, XGrad>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let pool = match body.config.op {
            Kind::Add => GlobalPool::Add,
            Kind::Mean => GlobalPool::Mean,
            Kind::Max => GlobalPool::Max,
        };
        let graphs = cx.graphs()?;
        let out = pool.apply(cx.inputs.x.clone(), graphs.segments())?;
        check.tensor("x", out.clone(), Some(&body.output.x));
        let grads = out.sum().backward();
        check.grad("x", &cx.inputs.x, &grads, body.grad.x.as_ref());
        Ok(())
    }
}
