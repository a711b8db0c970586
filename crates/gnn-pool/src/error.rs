//! The error type of the pooling layers.

use gnn_core::GraphError;
use thiserror::Error;

/// What can be wrong with a pooling layer's configuration or input.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A ratio must lie in `(0, 1]`.
    #[error("ratio {0} is outside (0, 1]: use Selection::Count for a fixed number of nodes")]
    InvalidRatio(f64),
    /// A count must be at least 1.
    #[error("a node count of 0 would empty every graph: use a count of at least 1")]
    InvalidCount,
    /// A minimum score must be a finite number.
    #[error("min_score {0} is not a finite number")]
    InvalidMinScore(f64),
    /// A multiplier must be a finite number.
    #[error("multiplier {0} is not a finite number")]
    InvalidMultiplier(f64),
    /// A width given at configuration time is zero.
    #[error("{what} must be at least 1")]
    ZeroWidth {
        /// Which width.
        what: &'static str,
    },
    /// A readout was given node features `x` whose row count differs from the number of nodes
    /// its segments (the batch vector) describe. The batch-taking forms
    /// ([`GlobalPool::apply_batch`](crate::readout::GlobalPool::apply_batch), the readouts'
    /// `forward_batch`) cannot hit it.
    #[error(
        "{readout}: x has {rows} rows but the batch vector has {nodes} nodes (one row per node)"
    )]
    RowMismatch {
        /// The readout that was called.
        readout: &'static str,
        /// Rows of `x`.
        rows: usize,
        /// Nodes of the segments (`Segments::num_rows`).
        nodes: usize,
    },
    /// A cluster assignment does not fit the batch.
    #[error("cluster assignment: {0}")]
    InvalidClusters(String),
    /// The graph data is invalid.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Result with [`PoolError`].
pub type Result<T, E = PoolError> = std::result::Result<T, E>;

/// Panics unless a layer's input has the width the layer was built for.
///
/// A wrong width is a programming error (the model and the data disagree), so layers panic, as
/// Burn's own modules do, naming the layer and both widths.
#[track_caller]
pub(crate) fn assert_width(layer: &str, expected: usize, found: usize) {
    assert!(
        expected == found,
        "{layer} was built for {expected} input features but the input has {found}"
    );
}
