//! Graph classifiers built from the pooling layers of `gnn-pool`.
//!
//! - [`models`]: the classifiers, one file each ([`HierarchicalClassifier`]).
//! - [`loss`]: the negative log-likelihood of the classifiers' log-probabilities.
//! - `train` (feature `train`): burn-train's `TrainStep` and `InferenceStep` for the models,
//!   and data-parallel steps over batches cut into shards.
#![warn(missing_docs)]

pub mod loss;
pub mod models;
#[cfg(feature = "train")]
pub mod train;

pub use loss::nll_loss;
pub use models::{
    Architecture, BlockPool, ClassifierTrace, HierarchicalClassifier, HierarchicalClassifierConfig,
    PoolKind, PoolTrace,
};

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
