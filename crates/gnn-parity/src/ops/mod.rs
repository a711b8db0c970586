//! One handler per op family, and the registry mapping a fixture's `config.op` to its handler.
//!
//! A new fixture kind is a new file here with a type implementing [`ParityOp`] (its typed body
//! and how to run it) plus one line in [`with_handler`].

use gnn_core::segment::SegmentBackend;
use std::any::Any;

use burn::tensor::backend::AutodiffBackend;
use gnn_core::GraphBatch;
use serde::de::DeserializeOwned;

use crate::report::Checker;
use crate::tensors::Inputs;
use crate::{ParityError, Result};

mod aggregation;
mod classifier;
mod cluster;
mod conv;
mod dense;
mod dense_conv;
mod dense_models;
mod readout;
mod sag;
mod topk;

/// Calls `visitor` with the handler of op kind `kind`; `None` for kinds this library lacks.
/// **Register a new op kind here** (one line).
fn with_handler<V: Visitor>(kind: &str, visitor: V) -> Option<V::Output> {
    Some(match kind {
        "TopKPooling" => visitor.visit::<topk::TopK>(),
        "SAGPooling" => visitor.visit::<sag::Sag>(),
        "global_add_pool" | "global_mean_pool" | "global_max_pool" => {
            visitor.visit::<readout::Global>()
        }
        "GraphConv" => visitor.visit::<conv::GraphConv>(),
        "GCNConv" => visitor.visit::<conv::GcnConv>(),
        "GINConv" => visitor.visit::<conv::GinConv>(),
        "SAGEConv" => visitor.visit::<conv::SageConv>(),
        "avg_pool" | "max_pool" => visitor.visit::<cluster::ClusterPool>(),
        "AttentionalAggregation" => visitor.visit::<aggregation::Attentional>(),
        "Set2Set" => visitor.visit::<aggregation::Set2Set>(),
        "SortAggregation" => visitor.visit::<aggregation::Sort>(),
        "to_dense_batch" => visitor.visit::<dense::ToDenseBatch>(),
        "to_dense_adj" => visitor.visit::<dense::ToDenseAdj>(),
        "dense_diff_pool" | "dense_mincut_pool" => visitor.visit::<dense::DensePool>(),
        "HierarchicalClassifier" => visitor.visit::<classifier::Classifier>(),
        "DenseGraphConv" | "DenseSAGEConv" | "DenseGCNConv" | "DenseGINConv" => {
            visitor.visit::<dense_conv::DenseConv>()
        }
        "DiffPoolClassifier" | "MinCutClassifier" => visitor.visit::<dense_models::DenseModel>(),
        _ => return None,
    })
}

/// What one op is given to run.
pub(crate) struct Context<'a, B: AutodiffBackend> {
    /// The fixture's input as fresh tensors.
    pub inputs: Inputs<B>,
    /// The optional inputs the op reads (`config.uses`).
    pub uses: &'a [String],
    /// The device to run on.
    pub device: &'a B::Device,
}

impl<B: AutodiffBackend> Context<'_, B> {
    /// The input batch with the optional inputs the op uses.
    pub fn graphs(&self) -> Result<GraphBatch<B>> {
        self.inputs.graphs(self.uses)
    }
}

/// A family of fixture ops: its typed body and how to check it.
pub(crate) trait ParityOp: 'static {
    /// The op's body (config, params, output, grad), decoded when the fixture is parsed.
    type Body: DeserializeOwned + Send + Sync + 'static;

    /// Runs the op on the fixture's input and records every comparison in `check`.
    fn run<B: AutodiffBackend + SegmentBackend>(
        body: &Self::Body,
        cx: &Context<'_, B>,
        check: &mut Checker,
    ) -> Result<()>;
}

/// Something done with an op handler's type.
trait Visitor {
    type Output;
    fn visit<O: ParityOp>(self) -> Self::Output;
}

struct Decode(serde_json::Value);

impl Visitor for Decode {
    type Output = std::result::Result<Box<dyn Any + Send + Sync>, serde_json::Error>;
    fn visit<O: ParityOp>(self) -> Self::Output {
        crate::fixture::decode::<O::Body>(self.0)
    }
}

struct Run<'a, 'c, B: AutodiffBackend> {
    body: &'a (dyn Any + Send + Sync),
    cx: &'a Context<'c, B>,
    check: &'a mut Checker,
}

impl<B: AutodiffBackend + SegmentBackend> Visitor for Run<'_, '_, B> {
    type Output = Result<()>;
    fn visit<O: ParityOp>(self) -> Self::Output {
        let body = self
            .body
            .downcast_ref::<O::Body>()
            .ok_or_else(|| ParityError::Unsupported("op body decoded for another kind".into()))?;
        O::run(body, self.cx, self.check)
    }
}

/// Decodes an op body into its kind's typed form; `None` for kinds this library lacks.
pub(crate) fn decode(
    kind: &str,
    body: serde_json::Value,
) -> Option<std::result::Result<Box<dyn Any + Send + Sync>, serde_json::Error>> {
    with_handler(kind, Decode(body))
}

/// Runs an op whose body [`decode`] produced.
pub(crate) fn run<B: AutodiffBackend + SegmentBackend>(
    kind: &str,
    body: &(dyn Any + Send + Sync),
    cx: &Context<'_, B>,
    check: &mut Checker,
) -> Result<()> {
    with_handler(kind, Run { body, cx, check })
        .unwrap_or_else(|| Err(ParityError::Unsupported(format!("op kind {kind}"))))
}
