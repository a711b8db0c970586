//! Training any [`Classifier`](gnn_models::Classifier) with burn-train's `Learner`, along the
//! data flow:
//!
//! - [`fold`]: [`check_data`] (does the data fit the model?), [`train_fold_with`] (one
//!   train/valid/test split with `SupervisedTraining`, fresh or resumed, on one device or
//!   several, then the checkpoint with the lowest validation loss restored and tested) and
//!   [`evaluate`];
//! - [`loader`]: [`EpochLoader`], training batches whose epoch `e` depends only on (seed, `e`);
//! - [`state`]: what a resume needs per fold ([`FoldState`], `state.json`) and the burn-train
//!   hooks that keep it (checkpointing, early stopping);
//! - [`schedule`]: the learning rate on a plateau of the validation loss
//!   ([`schedule::PlateauLr`]), a function of the fold's history;
//! - [`renderer`]: [`EpochRenderer`], burn-train's per-batch events turned into one
//!   [`EpochRecord`](crate::report::EpochRecord) per epoch, with a progress bar on a terminal;
//! - [`checkpoint`]: `model.mpk`/`model.json` ([`save_model`], [`load_model`]), the atomic
//!   [`Recorder`], and the choice among burn-train's checkpoints ([`select_checkpoint`]);
//! - [`interrupt`]: Ctrl-C and SIGTERM as a stop of burn-train's `Interrupter`;
//! - [`preprocess`]: [`Preprocessing`], the node attributes standardised with a fold's training
//!   statistics, saved beside the model;
//! - [`run`](mod@run): every fold of a dataset ([`run()`], [`run_on`]), fresh or resumed, then
//!   `metrics.json` and the training curves;
//! - [`error`]: what can stop a run, [`TrainError`].
//!
//! The steps (burn-train's `TrainStep` / `InferenceStep`) are the model's own, from
//! `gnn_models::train`. This module depends on [`crate::config`], [`crate::report`] and
//! [`crate::plot`]; none of them depends on it.

pub mod checkpoint;
pub mod error;
pub mod fold;
pub mod interrupt;
pub mod loader;
pub mod preprocess;
pub mod renderer;
pub mod run;
pub mod schedule;
pub mod state;

pub use crate::config::TrainingConfig;
pub use burn::train::Interrupter;
pub use checkpoint::{MODEL_STEM, Recorder, load_model, save_model, select_checkpoint};
pub use error::{SplitPart, TrainError};
pub use fold::{
    Evaluation, FoldData, FoldOptions, STOP_MESSAGE, check_data, evaluate, train_fold,
    train_fold_with,
};
pub use interrupt::{SIGNAL_MESSAGE, stop_on_signals};
pub use loader::EpochLoader;
pub use preprocess::{PREPROCESSING_FILE, Preprocessing};
pub use renderer::EpochRenderer;
pub use run::{RunSpec, run, run_on};
pub use state::{EpochHook, FoldState};
