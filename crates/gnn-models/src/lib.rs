//! Graph classifiers built from the pooling layers of `gnn-pool`.
//!
//! - [`Classifier`] and [`ClassifierConfig`]: the one type that training, evaluation and
//!   prediction use, with one variant per model.
//! - [`models`]: the classifiers, one file each ([`GlobalClassifier`] without local pooling,
//!   [`HierarchicalClassifier`] with TopK or SAG pooling, [`GraclusClassifier`] with graclus
//!   supernodes, [`DiffPoolClassifier`] and [`MinCutClassifier`] with dense learned
//!   clusterings); the first three share one [`MlpHead`].
//! - [`ModelError`]: what can be wrong with a model's configuration.
//! - [`loss`]: the negative log-likelihood of the classifiers' log-probabilities.
//! - `train` (feature `train`): burn-train's `TrainStep` and `InferenceStep` for the models,
//!   and data-parallel steps over batches cut into shards.
#![warn(missing_docs)]

pub mod classifier;
pub mod error;
pub mod loss;
pub mod models;
#[cfg(feature = "train")]
pub mod train;

pub use classifier::{Classifier, ClassifierConfig};
pub use error::ModelError;
pub use loss::nll_loss;
pub use models::{
    Architecture, BlockPool, ClassifierTrace, DIFFPOOL_GNNS, DiffPoolClassifier,
    DiffPoolClassifierConfig, DiffPoolClassifierOutput, DiffPoolGnn, GlobalClassifier,
    GlobalClassifierConfig, GraclusClassifier, GraclusClassifierConfig, HierarchicalClassifier,
    HierarchicalClassifierConfig, MinCutClassifier, MinCutClassifierConfig, MinCutClassifierOutput,
    MlpHead, MlpHeadConfig, PoolKind, PoolTrace,
};

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
