//! A whole run: every fold of a dataset ([`run`], described by a [`RunSpec`]), then
//! `metrics.json` (written after each fold), the first fold's model and the training curves.

use std::path::PathBuf;
use std::time::Instant;

use gnn_core::segment::SegmentAutodiffBackend;
use gnn_datasets::{Fold, GraphDataset};
use gnn_models::ClassifierConfig;

use super::checkpoint::save_model;
use super::error::{TrainError, io_error};
use super::fold::{FoldData, check_data, train_fold};
use crate::config::TrainingConfig;
use crate::plot::plot_training_curves;
use crate::report::RunReport;

/// Everything a run needs besides the backend.
pub struct RunSpec {
    /// Dataset name for the report.
    pub dataset_name: String,
    /// The graphs.
    pub dataset: GraphDataset,
    /// The splits, one per fold.
    pub folds: Vec<Fold>,
    /// The classifier (its `d_input` and `num_classes` must fit the dataset).
    pub classifier: ClassifierConfig,
    /// Optimisation settings.
    pub training: TrainingConfig,
    /// Output folder: `metrics.json`, `training_curves.svg`, `model.mpk`/`model.json` (the model
    /// of the first fold) and `fold-K/` (checkpoints and model of fold K).
    pub out: PathBuf,
    /// Model name for the report (`topk`, `sag`, `sag-global`).
    pub model_name: String,
    /// Convolution name for the report.
    pub conv_name: String,
    /// Backend name for the report.
    pub backend_name: String,
    /// Print one line per epoch and a summary per fold.
    pub verbose: bool,
}

/// Trains every fold of `spec` on backend `B`, writes `metrics.json`, `training_curves.svg` and
/// the models, and returns the report.
///
/// # Errors
/// Those of [`train_fold`], and output files that cannot be written.
pub fn run<B: SegmentAutodiffBackend>(
    spec: &RunSpec,
    device: &B::Device,
) -> Result<RunReport, TrainError> {
    let started = Instant::now();
    check_data(&spec.classifier, &spec.dataset)?;
    spec.classifier.validate()?;
    std::fs::create_dir_all(&spec.out).map_err(io_error(&spec.out))?;
    let mut report = RunReport {
        dataset: spec.dataset_name.clone(),
        model: spec.model_name.clone(),
        conv: spec.conv_name.clone(),
        backend: spec.backend_name.clone(),
        folds: spec.folds.len(),
        test_accuracy_mean: f64::NAN,
        test_accuracy_std: f64::NAN,
        seconds_per_epoch: f64::NAN,
        epochs: spec.training.epochs,
        total_seconds: 0.0,
        seed: spec.training.seed,
        classifier: spec.classifier.clone(),
        training: spec.training.clone(),
        fold_results: Vec::new(),
    };
    for (k, fold) in spec.folds.iter().enumerate() {
        let (train, valid, test) = spec.dataset.split(fold)?;
        let data = FoldData {
            fold: k,
            folds: spec.folds.len(),
            train,
            valid,
            test,
        };
        let dir = spec.out.join(format!("fold-{k}"));
        let (fold_report, model) = train_fold::<B>(
            &spec.classifier,
            &spec.training,
            data,
            &dir,
            device,
            spec.verbose,
        )?;
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
        if k == 0 {
            save_model(model, &spec.classifier, &spec.out)?;
        }
        report.fold_results.push(fold_report);
        report.summarise();
        report.total_seconds = started.elapsed().as_secs_f64();
        // Written after every fold, so that a long run interrupted keeps what it finished.
        let metrics = spec.out.join("metrics.json");
        report.save(&metrics).map_err(io_error(&metrics))?;
    }
    let plot = spec.out.join("training_curves.svg");
    let title = format!(
        "{} · {} · {}",
        spec.dataset_name, spec.model_name, spec.conv_name
    );
    plot_training_curves(&report.fold_results, &title, &plot).map_err(io_error(&plot))?;
    Ok(report)
}
