//! The `gnn` program as a library: command-line types, the training loop over folds, reports,
//! plots, model selection and the commands. The binary (`src/main.rs`) parses the command line
//! and calls [`commands::execute`].
//!
//! Modules, each depending only on those listed before it:
//!
//! - [`atomic`]: atomic file writes (temporary file, then rename), for every file written;
//! - [`config`]: [`TrainingConfig`](config::TrainingConfig), the optimisation settings;
//! - [`cli`]: the command line (clap), checked where the values enter;
//! - [`report`]: `metrics.json` (per epoch and per fold);
//! - [`plot`]: training curves as SVG;
//! - [`model_selection`]: per-fold selection of runs on validation accuracy;
//! - [`train`]: burn-train's `SupervisedTraining` per fold, checkpoints, evaluation, the run;
//! - [`commands`]: `gnn train`, `gnn eval`, `gnn datasets`, `gnn select`.
#![warn(missing_docs)]

pub mod atomic;
pub mod cli;
pub mod commands;
pub mod config;
pub mod model_selection;
pub mod plot;
pub mod report;
pub mod train;
