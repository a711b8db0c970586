//! Differentiable graph pooling for Burn, with PyTorch Geometric's semantics.
//!
//! Pooling is **Select → Reduce → Connect** (Grattarola et al., *Understanding Pooling in Graph
//! Neural Networks*; PyG's `nn/pool/select` and `nn/pool/connect`):
//!
//! - [`select`]: which nodes survive ([`SelectTopK`], a [`Selection`] rule) or which cluster
//!   each node joins ([`Clustering`], [`graclus`]);
//! - [`reduce`]: how features combine (the score [`gate`](reduce::gate), cluster mean or max);
//! - [`connect`]: how edges follow ([`filter_edges`](connect::filter_edges) between kept nodes,
//!   [`coarsen_edges`](connect::coarsen_edges) between clusters).
//!
//! Layers assemble them: [`TopKPooling`] and [`SagPooling`] (score-based), [`cluster_pool()`]
//! ([`avg_pool`], [`max_pool`]). Local pooling maps a batch of graphs to a smaller batch of graphs
//! (`GraphBatch → Pooled`); global pooling, in [`readout`], maps it to one vector per graph
//! (`[N, F] → [G, F']`): the types say which is which.
//!
//! The readouts take PyG's arguments, node features and the batch's [`Segments`](gnn_core::Segments)
//! (`global_max_pool(x, &segments)`), and return [`PoolError::RowMismatch`] when `x` does not
//! have one row per node (checked from the shapes, no device read); their batch forms
//! ([`GlobalPool::apply_batch`], `forward_batch(&graphs)`) read a [`GraphBatch`](gnn_core::GraphBatch),
//! whose features and segments agree by construction, and cannot fail.
#![warn(missing_docs)]

pub mod cluster_pool;
pub mod connect;
pub mod dense;
pub mod error;
mod pooled;
pub mod readout;
pub mod reduce;
pub mod sag_pool;
pub mod select;
pub mod topk_pool;

#[cfg(test)]
mod determinism_tests;
#[cfg(test)]
mod gradient_tests;

/// The Burn this crate is built against (0.21), for dependents that name no other.
pub use burn;
/// Graphs as tensors: [`GraphBatch`](gnn_core::GraphBatch), segments, convolutions.
pub use gnn_core;

pub use cluster_pool::{avg_pool, cluster_pool, max_pool};
pub use error::{PoolError, Result};
pub use pooled::Pooled;
pub use readout::GlobalPool;
pub use sag_pool::{SagPooling, SagPoolingConfig};
pub use select::{Clustering, ScoreActivation, SelectTopK, SelectTopKConfig, Selection, graclus};
pub use topk_pool::{TopKPooling, TopKPoolingConfig};
