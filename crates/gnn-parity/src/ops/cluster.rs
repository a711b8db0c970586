//! Cluster pooling: `avg_pool` / `max_pool` over `input.cluster`.

use burn::tensor::backend::AutodiffBackend;
use gnn_core::segment::SegmentBackend;
use gnn_pool::{Clustering, avg_pool, max_pool};
use serde::Deserialize;

use super::{Context, ParityOp};
use crate::fixture::{Array, IntArray, NoParams, OpBody};
use crate::report::Checker;
use crate::{ParityError, Result};

#[derive(Debug, Clone, Copy, Deserialize)]
enum Kind {
    #[serde(rename = "avg_pool")]
    Avg,
    #[serde(rename = "max_pool")]
    Max,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClusterConfig {
    op: Kind,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ClusterOutput {
    /// One row per cluster.
    x: Array,
    /// Coarsened edges, sorted by (source, target).
    edge_index: IntArray,
    /// Summed edge features of merged edges.
    edge_attr: Option<Array>,
    /// Graph of each cluster.
    batch: IntArray,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ClusterGrads {
    x: Option<Array>,
    edge_attr: Option<Array>,
}

/// `avg_pool(cluster, data)` / `max_pool(cluster, data)`.
pub(crate) struct ClusterPool;

impl ParityOp for ClusterPool {
    type Body = OpBody<ClusterConfig, NoParams, ClusterOutput, ClusterGrads>;

    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()> {
        let want = &body.output;
        let graphs = cx.graphs()?;
        let cluster = cx
            .inputs
            .cluster
            .as_ref()
            .ok_or_else(|| ParityError::Missing("input.cluster".into()))?;
        let clustering = Clustering::from_ids(cluster, &graphs)?;
        let out = match body.config.op {
            Kind::Avg => avg_pool(graphs, &clustering),
            Kind::Max => max_pool(graphs, &clustering),
        };
        let mut loss = out.x().clone().sum();
        check.tensor("x", out.x().clone(), Some(&want.x));
        check.int_tensor(
            "edge_index",
            out.edge_index().clone(),
            Some(&want.edge_index),
        );
        check.int_tensor("batch", out.batch().clone(), Some(&want.batch));
        if let Some(attr) = out.edge_attr() {
            check.tensor("edge_attr", attr.clone(), want.edge_attr.as_ref());
            loss = loss + attr.clone().sum();
        }
        let grads = loss.backward();
        check.grad("x", &cx.inputs.x, &grads, body.grad.x.as_ref());
        if let Some(attr) = &cx.inputs.edge_attr {
            check.grad("edge_attr", attr, &grads, body.grad.edge_attr.as_ref());
        }
        Ok(())
    }
}
