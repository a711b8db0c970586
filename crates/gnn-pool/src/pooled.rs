//! [`Pooled`]: what a score-based pooling layer returns.

use burn::tensor::{Int, Tensor, backend::Backend};
use gnn_core::{GraphBatch, GraphBatchParts};

use crate::connect::filter_edges;
use crate::reduce::gate;
use crate::select::KeptNodes;

/// The output of a local (hierarchical) pooling layer: a smaller batch of graphs, and which
/// nodes of the input it came from.
#[derive(Debug, Clone)]
pub struct Pooled<B: Backend> {
    /// The pooled graphs: kept nodes, their gated features, the edges between them, the same
    /// graph labels, and the kept node and edge counts on the host.
    pub graphs: GraphBatch<B>,
    /// Input node id of each output node `[K]` (PyG's `perm`).
    pub perm: Tensor<B, 1, Int>,
    /// Score of each output node `[K]`.
    pub score: Tensor<B, 1>,
}

/// Select → Reduce (gate) → Connect (filter) for a score-based selection.
pub(crate) fn pool_kept_nodes<B: gnn_core::segment::SegmentBackend>(
    graphs: GraphBatch<B>,
    kept: KeptNodes<B>,
    multiplier: f64,
) -> Pooled<B> {
    let edges = filter_edges(&graphs, &kept.perm);
    let parts = graphs.into_parts();
    let x = gate(parts.x, kept.perm.clone(), kept.score.clone(), multiplier);
    let graphs = GraphBatch::from_parts_unchecked(GraphBatchParts {
        x,
        edge_index: edges.edge_index,
        edge_attr: edges.edge_attr,
        edge_weight: edges.edge_weight,
        nodes: kept.segments,
        edge_counts: edges.edge_counts,
        y: parts.y,
    });
    Pooled {
        graphs,
        perm: kept.perm,
        score: kept.score,
    }
}
