//! Training any [`Classifier`](gnn_models::Classifier) with burn-train's `Learner`, along the
//! data flow:
//!
//! - [`fold`]: [`check_data`] (does the data fit the model?), [`train_fold`] (one
//!   train/valid/test split with `SupervisedTraining`, then the checkpoint with the lowest
//!   validation loss restored and tested) and [`evaluate`];
//! - [`schedule`]: the learning rate on a plateau of the validation loss and early stopping,
//!   one state shared by burn-train's scheduler and stopping hooks ([`schedule::Plateau`]);
//! - [`renderer`]: [`EpochRenderer`], burn-train's per-batch events turned into one
//!   [`EpochRecord`](crate::report::EpochRecord) per epoch;
//! - [`checkpoint`]: `model.mpk`/`model.json` ([`save_model`], [`load_model`]) and the
//!   choice among burn-train's checkpoints ([`select_checkpoint`]);
//! - [`preprocess`]: [`Preprocessing`], the node attributes standardised with a fold's training
//!   statistics, saved beside the model;
//! - [`run`](mod@run): every fold of a dataset ([`run()`]), then `metrics.json` and the
//!   training curves;
//! - [`error`]: what can stop a run, [`TrainError`].
//!
//! The steps (burn-train's `TrainStep` / `InferenceStep`) are the model's own, from
//! `gnn_models::train`. This module depends on [`crate::config`], [`crate::report`] and
//! [`crate::plot`]; none of them depends on it.

pub mod checkpoint;
pub mod error;
pub mod fold;
pub mod preprocess;
pub mod renderer;
pub mod run;
pub mod schedule;

pub use crate::config::TrainingConfig;
pub use checkpoint::{MODEL_STEM, Recorder, load_model, save_model, select_checkpoint};
pub use error::{SplitPart, TrainError};
pub use fold::{Evaluation, FoldData, check_data, evaluate, train_fold};
pub use preprocess::{PREPROCESSING_FILE, Preprocessing};
pub use renderer::EpochRenderer;
pub use run::{RunSpec, run};
