//! A whole run: every fold of a dataset ([`run_on`], described by a [`RunSpec`]), then
//! `metrics.json` (written after each fold and on interruption), the first fold's model and the
//! training curves. A run interrupted part-way continues with [`RunSpec::resume`].
//! Each fold's graphs are prepared by a [`Preprocessing`] fitted on its training graphs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::train::Interrupter;
use gnn_core::segment::SegmentAutodiffBackend;
use gnn_datasets::{Fold, GraphDataset};
use gnn_models::ClassifierConfig;

use super::checkpoint::save_model;
use super::error::{TrainError, io_error};
use super::fold::{FoldData, FoldOptions, check_data, train_fold_with};
use super::preprocess::Preprocessing;
use super::state::EpochHook;
use crate::config::TrainingConfig;
use crate::plot::{plot_smoothness, plot_training_curves};
use crate::report::{LeftOut, RunReport};

/// File name of a run's over-smoothing plot inside its folder (models of sparse blocks).
pub const SMOOTHNESS_PLOT: &str = "smoothness.svg";

/// File name of a run's report inside its folder.
pub const METRICS_FILE: &str = "metrics.json";

/// Everything a run needs besides the backend.
pub struct RunSpec {
    /// Dataset name for the report.
    pub dataset_name: String,
    /// The graphs.
    pub dataset: GraphDataset,
    /// Leading node feature columns that are continuous attributes (`--use-node-attr`; 0
    /// without): standardised per fold with the training graphs' statistics when
    /// [`TrainingConfig::standardize_attributes`] is on, and recorded with the models.
    pub attribute_columns: usize,
    /// Graphs the folds no longer hold because of their size (`--max-nodes`), for the report.
    pub left_out: LeftOut,
    /// The splits, one per fold.
    pub folds: Vec<Fold>,
    /// The classifier (its `d_input` and `num_classes` must fit the dataset).
    pub classifier: ClassifierConfig,
    /// Optimisation settings.
    pub training: TrainingConfig,
    /// Output folder: `metrics.json`, `training_curves.svg`, `model.mpk`/`model.json` (the model
    /// of the first fold) and `fold-K/` (checkpoints, `state.json` and model of fold K).
    pub out: PathBuf,
    /// Model name for the report (`topk`, `sag`, `sag-global`).
    pub model_name: String,
    /// Convolution name for the report.
    pub conv_name: String,
    /// Backend name for the report.
    pub backend_name: String,
    /// Print one line per epoch and a summary per fold.
    pub verbose: bool,
    /// Stops the run after the current step (see [`super::stop_on_signals`]); the run then
    /// returns [`TrainError::Interrupted`] with `metrics.json` marked unfinished.
    pub interrupter: Interrupter,
    /// Continue the interrupted run in `out` (same settings): finished folds are kept, the
    /// interrupted fold continues from its last complete epoch.
    pub resume: bool,
    /// Called after each completed epoch of each fold.
    pub on_epoch_end: Option<EpochHook>,
}

/// Trains every fold of `spec` on backend `B` on `device` (see [`run_on`]).
///
/// # Errors
/// Those of [`run_on`].
pub fn run<B: SegmentAutodiffBackend>(
    spec: &RunSpec,
    device: &B::Device,
) -> Result<RunReport, TrainError> {
    run_on::<B>(spec, std::slice::from_ref(device))
}

/// Trains every fold of `spec` on backend `B` on `devices` (several: burn-train's multi-device
/// strategy), writes `metrics.json`, `training_curves.svg` and the models, and returns the
/// report.
///
/// # Errors
/// Those of [`train_fold_with`]; output files that cannot be written; on resume,
/// [`TrainError::Resume`] when `out` holds no interrupted run and
/// [`TrainError::AlreadyFinished`] when its run is complete. When interrupted,
/// [`TrainError::Interrupted`] after writing `metrics.json` with the finished folds.
pub fn run_on<B: SegmentAutodiffBackend>(
    spec: &RunSpec,
    devices: &[B::Device],
) -> Result<RunReport, TrainError> {
    let started = Instant::now();
    check_data(&spec.classifier, &spec.dataset)?;
    spec.classifier.validate()?;
    std::fs::create_dir_all(&spec.out).map_err(io_error(&spec.out))?;
    let metrics = spec.out.join(METRICS_FILE);
    let mut report = if spec.resume {
        let report = unfinished_report(&metrics, &spec.out)?;
        same_settings(&report, spec, &metrics)?;
        report
    } else {
        // Written at once, unfinished, so that a run killed in its first fold can be resumed.
        let report = new_report(spec);
        report.save(&metrics).map_err(io_error(&metrics))?;
        report
    };
    let earlier_seconds = report.total_seconds;
    for (k, fold) in spec
        .folds
        .iter()
        .enumerate()
        .skip(report.fold_results.len())
    {
        let (train, valid, test) = spec.dataset.split(fold)?;
        // Statistics of this fold's training graphs only: the others must not leak into them.
        let preprocessing = Preprocessing::fit(
            &train,
            spec.attribute_columns > 0,
            spec.attribute_columns,
            spec.training.standardize_attributes,
        )?;
        let data = FoldData {
            fold: k,
            folds: spec.folds.len(),
            train: preprocessing.apply(train)?,
            valid: preprocessing.apply(valid)?,
            test: preprocessing.apply(test)?,
        };
        let dir = spec.out.join(format!("fold-{k}"));
        let options = FoldOptions {
            devices: devices.to_vec(),
            verbose: spec.verbose,
            interrupter: spec.interrupter.clone(),
            resume: spec.resume,
            on_epoch_end: spec.on_epoch_end.clone(),
        };
        let trained = if spec.interrupter.should_stop() {
            Err(TrainError::Interrupted {
                fold: k,
                epoch: 0,
                out: spec.out.clone(),
            })
        } else {
            train_fold_with::<B>(&spec.classifier, &spec.training, data, &dir, &options)
        };
        let (fold_report, model) = match trained {
            Ok(trained) => trained,
            Err(TrainError::Interrupted { fold, epoch, .. }) => {
                report.total_seconds = earlier_seconds + started.elapsed().as_secs_f64();
                report.save(&metrics).map_err(io_error(&metrics))?;
                return Err(TrainError::Interrupted {
                    fold,
                    epoch,
                    out: spec.out.clone(),
                });
            }
            Err(e) => return Err(e),
        };
        if spec.verbose {
            println!(
                "{}test accuracy {:.4} (checkpoint of epoch {}, valid accuracy {:.4}, {} epochs, {:.3} s/epoch)",
                if spec.folds.len() > 1 {
                    format!("fold {}/{}: ", k + 1, spec.folds.len())
                } else {
                    String::new()
                },
                fold_report.test_accuracy,
                fold_report.selected_epoch,
                fold_report.valid_accuracy,
                fold_report.epochs_run,
                fold_report.seconds_per_epoch
            );
        }
        preprocessing.save(&dir)?;
        if k == 0 {
            save_model(model, &spec.classifier, &spec.out)?;
            preprocessing.save(&spec.out)?;
        }
        report.fold_results.push(fold_report);
        report.summarise();
        report.total_seconds = earlier_seconds + started.elapsed().as_secs_f64();
        // Written after every fold, so that a long run interrupted keeps what it finished.
        report.save(&metrics).map_err(io_error(&metrics))?;
    }
    let plot = spec.out.join("training_curves.svg");
    let title = format!(
        "{} · {} · {}",
        spec.dataset_name, spec.model_name, spec.conv_name
    );
    plot_training_curves(&report.fold_results, &title, &plot).map_err(io_error(&plot))?;
    let gauges = spec.out.join(SMOOTHNESS_PLOT);
    plot_smoothness(
        &report.fold_results,
        &format!("{title} · over-smoothing per block"),
        &gauges,
    )
    .map_err(io_error(&gauges))?;
    report.finished = true;
    report.total_seconds = earlier_seconds + started.elapsed().as_secs_f64();
    report.save(&metrics).map_err(io_error(&metrics))?;
    Ok(report)
}

/// The report of a run starting now: no fold yet.
fn new_report(spec: &RunSpec) -> RunReport {
    RunReport {
        dataset: spec.dataset_name.clone(),
        model: spec.model_name.clone(),
        conv: spec.conv_name.clone(),
        backend: spec.backend_name.clone(),
        folds: 0,
        test_accuracy_mean: f64::NAN,
        test_accuracy_std: f64::NAN,
        seconds_per_epoch: f64::NAN,
        epochs: spec.training.epochs,
        total_seconds: 0.0,
        seed: spec.training.seed,
        classifier: spec.classifier.clone(),
        training: spec.training.clone(),
        left_out: spec.left_out.clone(),
        fold_results: Vec::new(),
        finished: false,
    }
}

/// Checks that `spec` describes the run `report` records: same dataset, model, settings and
/// folds (the command line checks its flags first; this guards other callers).
fn same_settings(report: &RunReport, spec: &RunSpec, metrics: &Path) -> Result<(), TrainError> {
    let differs = |what: &str| {
        Err(TrainError::Resume {
            path: metrics.to_path_buf(),
            message: format!("the run has another {what} than the one asked for"),
        })
    };
    if report.dataset != spec.dataset_name {
        return differs("dataset");
    }
    if report.classifier.to_string() != spec.classifier.to_string() {
        return differs("model");
    }
    if report.training.to_string() != spec.training.to_string() {
        return differs("training configuration");
    }
    if report.fold_results.len() > spec.folds.len() {
        return differs("number of folds");
    }
    Ok(())
}

/// The report of the interrupted run in `out`, read from its `metrics.json`.
fn unfinished_report(metrics: &Path, out: &Path) -> Result<RunReport, TrainError> {
    let report = RunReport::load(metrics).map_err(|e| TrainError::Resume {
        path: metrics.to_path_buf(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "no run here (no metrics.json)".to_string()
        } else {
            e.to_string()
        },
    })?;
    if report.finished {
        return Err(TrainError::AlreadyFinished {
            out: out.to_path_buf(),
        });
    }
    Ok(report)
}
