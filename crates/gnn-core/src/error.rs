//! The one error type of the crate.

use thiserror::Error;

/// Everything that can be wrong with graph data handed to this library.
///
/// Each variant names the place of the fault (which graph, which edge, which index) so that a
/// user can find it in their own data. Values are checked where they enter the library, so an
/// invalid index never reaches a tensor kernel (not every backend bounds-checks).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum GraphError {
    /// An edge refers to a node that does not exist.
    #[error(
        "edge {edge}{in_graph}: {end} index {index} is out of range for {num_nodes} nodes",
        in_graph = graph.map(|g| format!(" of graph {g}")).unwrap_or_default()
    )]
    EdgeIndexOutOfRange {
        /// The graph the edge belongs to, when known.
        graph: Option<usize>,
        /// Position of the edge (column of `edge_index`).
        edge: usize,
        /// `"source"` or `"target"`.
        end: &'static str,
        /// The offending node index.
        index: i64,
        /// Number of nodes the index must stay below.
        num_nodes: usize,
    },
    /// An edge joins nodes of two different graphs of a batch.
    #[error(
        "edge {edge} joins node {source_node} of graph {source_graph} to node {target_node} of graph {target_graph}"
    )]
    EdgeCrossesGraphs {
        /// Position of the edge.
        edge: usize,
        /// Source node id (batch-wide).
        source_node: usize,
        /// Target node id (batch-wide).
        target_node: usize,
        /// Graph of the source node.
        source_graph: usize,
        /// Graph of the target node.
        target_graph: usize,
    },
    /// Edges of a batch must be grouped by graph (all edges of graph 0 first, then graph 1, ...).
    #[error(
        "edge {edge} belongs to graph {graph} but follows edges of graph {previous_graph}: edges must be grouped by graph in ascending order"
    )]
    EdgesNotGrouped {
        /// Position of the edge.
        edge: usize,
        /// Its graph.
        graph: usize,
        /// The graph of the edge before it.
        previous_graph: usize,
    },
    /// A batch vector must be non-decreasing.
    #[error(
        "batch vector is not sorted: position {position} has graph {found} after graph {previous}"
    )]
    BatchNotSorted {
        /// Position in the batch vector.
        position: usize,
        /// Graph id at `position - 1`.
        previous: i64,
        /// Graph id at `position`.
        found: i64,
    },
    /// A batch vector must use every graph id from 0 to its largest id.
    #[error(
        "batch vector has a gap: graph id {missing} has no node (ids must be 0, 1, ..., G-1 without gaps; use GraphBatch::from_graphs for empty graphs)"
    )]
    BatchGap {
        /// The first graph id that has no node.
        missing: usize,
    },
    /// A batch vector holds a negative graph id.
    #[error("batch vector position {position} holds the negative graph id {found}")]
    NegativeGraphId {
        /// Position in the batch vector.
        position: usize,
        /// The value found.
        found: i64,
    },
    /// Two lengths or shapes that must agree do not.
    #[error("{what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// What was measured.
        what: String,
        /// The length or shape required.
        expected: String,
        /// The length or shape given.
        found: String,
    },
    /// A value is NaN or infinite where the caller asked for finite values.
    #[error("{what} holds a non-finite value ({value}) at position {position}")]
    NonFinite {
        /// Which array.
        what: &'static str,
        /// Flat position in it.
        position: usize,
        /// The value.
        value: f64,
    },
    /// Graphs of one batch must agree on their kind of data.
    #[error("graph {graph} does not match graph 0: {detail}")]
    IncompatibleGraphs {
        /// The graph that disagrees.
        graph: usize,
        /// What differs.
        detail: String,
    },
}

/// Result with [`GraphError`].
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

pub(crate) fn shape_mismatch(
    what: impl Into<String>,
    expected: impl ToString,
    found: impl ToString,
) -> GraphError {
    GraphError::ShapeMismatch {
        what: what.into(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}
