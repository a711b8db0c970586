//! Graphs as Burn tensors: the foundation of graph pooling for Burn.
//!
//! - [`Graph`]: one graph on the host, validated when built.
//! - [`GraphBatch`]: a disjoint union of graphs on a device (PyG's `Batch`), with per-graph node
//!   and edge counts kept on the host so that no layer reads the device to learn a size.
//! - [`segment`]: differentiable sums, means, maxima, minima, softmax and top-k over the graphs
//!   of a batch, exact on empty graphs and correct on every backend, as a backend extension
//!   ([`segment::SegmentBackend`]) with native kernels on the CPU backends.
//! - [`structure`]: degrees, self loops, GCN normalisation, neighbourhood aggregation.
//! - [`conv`]: the message passing layers pooling needs (GraphConv, GCNConv, GINConv, SAGEConv).
//! - [`oversmoothing`]: the over-smoothing gauge (mean pairwise cosine similarity, Dirichlet
//!   energy) of any node embeddings, per graph.
//! - [`host`]: the only place the library reads tensors back to the host, counted.
//! - [`burn_compat`]: the workarounds for Burn 0.21 (reshape of empty tensors, a sigmoid in the
//!   backend's precision, guards for tensors without elements), each with its removal condition.
//!
//! Cargo features (none on by default; the library itself needs no backend):
//! - `ndarray`, `flex`, `wgpu`, `autodiff`: [`segment::SegmentBackend`] for that backend (native
//!   kernels on NdArray and Flex, CubeCL kernels on Wgpu, a hand-written backward for
//!   `Autodiff<B>`); any other backend gets it with an empty `impl SegmentBackend for MyBackend {}`
//!   in its own crate;
//! - `testing`: the `testing` module, backend-generic test macros, a float64 finite-difference
//!   gradient check and bounded fuzzing (`testing::fuzz`, on proptest) for crates built on this
//!   one (brings NdArray and Flex);
//! - `test-wgpu`: the same tests on Wgpu too;
//! - `cpu-settings`: `cpu`, process-wide CPU settings for a training program.
#![warn(missing_docs)]

pub mod batch;
pub mod burn_compat;
pub mod conv;
#[cfg(feature = "cpu-settings")]
pub mod cpu;
pub mod error;
#[cfg(test)]
pub(crate) mod gradcheck;
pub mod graph;
pub mod host;
pub mod oversmoothing;
pub mod segment;
pub mod structure;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use batch::{GraphBatch, GraphBatchParts};
pub use error::{GraphError, Result};
pub use graph::{EdgeAttr, Graph};
pub use segment::{Segments, reshape};
