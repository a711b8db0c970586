//! The `gnn` program as a library: command-line types, the training loop over folds, reports,
//! plots and model selection. The binary (`src/main.rs`) wires them to the backends.
//!
//! - [`cli`]: the command line (clap), checked where the values enter;
//! - [`train`]: burn-train's `SupervisedTraining` per fold, checkpoints, evaluation, the run;
//! - [`report`]: `metrics.json` (per epoch and per fold);
//! - [`plot`]: training curves as SVG;
//! - [`model_selection`]: per-fold selection of runs on validation accuracy.
#![warn(missing_docs)]

pub mod cli;
pub mod model_selection;
pub mod plot;
pub mod report;
pub mod train;
