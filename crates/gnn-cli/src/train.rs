//! Training a [`HierarchicalClassifier`] with burn-train's `Learner`.
//!
//! The steps (burn-train's `TrainStep` / `InferenceStep`) are the model's own, from
//! `gnn_models::train`.
//! - [`train_fold`]: one train/valid/test split with `SupervisedTraining` (Adam with weight
//!   decay, checkpoints of the last epochs and of the best validation loss, early stopping on
//!   the validation loss, one progress line per epoch from [`EpochRenderer`]), then the checkpoint
//!   with the lowest validation loss is restored and evaluated on the test set.
//! - [`run`]: every fold of a dataset, then `metrics.json` and the training curves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::config::Config;
use burn::data::dataloader::DataLoaderBuilder;
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{AccuracyMetric, LossMetric, MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::{
    Learner, LearnerSummary, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining,
};
use gnn_core::{Graph, GraphBatch, host};
use gnn_pool::PoolError;

use crate::plot::plot_training_curves;
use crate::report::{EpochRecord, FoldReport, RunReport, epoch_times, median};
use gnn_datasets::{DataError, Fold, GraphBatcher, GraphDataset};
use gnn_models::train::{ShardedBatch, ShardedGraphBatcher, classification_step};
use gnn_models::{HierarchicalClassifier, HierarchicalClassifierConfig};

/// Optimisation settings.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Maximum epochs per fold.
    #[config(default = 100)]
    pub epochs: usize,
    /// Graphs per batch (PyG's example: 60).
    #[config(default = 60)]
    pub batch_size: usize,
    /// Adam learning rate (PyG's example: 5e-4).
    #[config(default = 5e-4)]
    pub lr: f64,
    /// Adam's L2 weight decay (0 disables it).
    #[config(default = 1e-4)]
    pub weight_decay: f64,
    /// Early stopping: epochs without a lower validation loss before training stops.
    #[config(default = 20)]
    pub patience: usize,
    /// Clip each parameter's gradient to this L2 norm before the Adam step (0 disables it).
    #[config(default = 0.0)]
    pub grad_clip_norm: f64,
    /// Seed of the initialisation, dropout and batch shuffling (fold `k` uses `seed + k`).
    #[config(default = 0)]
    pub seed: u64,
    /// Threads that train on shards of each batch in parallel (see
    /// `gnn_models::train::data_parallel_step`). The gradients are the batch's whatever the number, up
    /// to float rounding; a seeded run is reproducible for a given number. 1 suits GPU
    /// backends.
    #[config(default = 1)]
    pub threads: usize,
}

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The model configuration is invalid.
    #[error("model: {0}")]
    Model(#[from] PoolError),
    /// The data could not be read or split.
    #[error("data: {0}")]
    Data(#[from] DataError),
    /// The data does not fit the model or the training settings.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A checkpoint could not be saved or loaded.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that a dataset fits a model: same node feature width, labels below the number of
/// classes. This is what makes the `expect`s of [`classification_step`] unreachable.
///
/// # Errors
/// [`TrainError::Invalid`] naming the mismatch.
pub fn check_data(
    config: &HierarchicalClassifierConfig,
    dataset: &GraphDataset,
) -> Result<(), TrainError> {
    if dataset.num_features() != config.d_input && !dataset.graphs().is_empty() {
        return Err(TrainError::Invalid(format!(
            "the model expects {} node features but the dataset has {}",
            config.d_input,
            dataset.num_features()
        )));
    }
    if dataset.num_classes() > config.num_classes {
        return Err(TrainError::Invalid(format!(
            "the model predicts {} classes but the dataset has labels up to {}",
            config.num_classes,
            dataset.num_classes() - 1
        )));
    }
    Ok(())
}

/// Loss and accuracy of `model` on `dataset`, in batches of `batch_size` (no dropout: use an
/// inference model, e.g. `model.valid()`).
///
/// # Errors
/// Those of [`check_data`].
pub fn evaluate<B: Backend>(
    model: &HierarchicalClassifier<B>,
    dataset: &GraphDataset,
    batch_size: usize,
    device: &B::Device,
) -> Result<Evaluation, TrainError> {
    let config = HierarchicalClassifierConfig::new(model.d_input(), model.num_classes());
    check_data(&config, dataset)?;
    let (mut loss_sum, mut correct, mut total) = (0.0, 0usize, 0usize);
    for chunk in dataset.graphs().chunks(batch_size.max(1)) {
        let batch = GraphBatch::<B>::from_graphs(chunk, device).map_err(PoolError::from)?;
        let out = classification_step(model, batch);
        let n = chunk.len();
        loss_sum += host::floats(out.loss)[0] * n as f64;
        let predicted = host::ints(out.output.argmax(1).reshape([n]));
        let targets = host::ints(out.targets);
        correct += predicted
            .iter()
            .zip(&targets)
            .filter(|(p, t)| p == t)
            .count();
        total += n;
    }
    let total_f = total.max(1) as f64;
    Ok(Evaluation {
        loss: loss_sum / total_f,
        accuracy: correct as f64 / total_f,
        graphs: total,
    })
}

/// Result of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean NLL loss per graph.
    pub loss: f64,
    /// Fraction of graphs classified correctly.
    pub accuracy: f64,
    /// Graphs evaluated.
    pub graphs: usize,
}

/// Per-split running sums of the metrics of the current epoch.
#[derive(Debug, Default, Clone)]
struct Sums {
    values: HashMap<String, (f64, f64)>,
}

impl Sums {
    fn add(&mut self, name: &str, entry: &NumericEntry) {
        let (value, count) = match entry {
            NumericEntry::Value(v) => (*v, 1.0),
            NumericEntry::Aggregated {
                aggregated_value,
                count,
            } => (*aggregated_value, *count as f64),
        };
        let slot = self.values.entry(name.to_string()).or_insert((0.0, 0.0));
        slot.0 += value * count;
        slot.1 += count;
    }

    fn mean(&self, name: &str) -> f64 {
        self.values.get(name).map_or(
            f64::NAN,
            |(sum, n)| if *n > 0.0 { sum / n } else { f64::NAN },
        )
    }
}

/// A quiet burn-train renderer: no output per batch; at the end of every epoch it records an
/// [`EpochRecord`] (weighted means of burn-train's `Loss` and `Accuracy` metrics, training
/// seconds) and, when `verbose`, prints one line.
///
/// Epoch boundaries come from the progress burn-train reports (the last batch of a split has
/// `items_processed == items_total`). Timestamps are taken when burn-train's event thread
/// hands an event over, a few microseconds after the batch.
pub struct EpochRenderer {
    names: HashMap<MetricId, String>,
    train: Sums,
    valid: Sums,
    epoch_start: Option<Instant>,
    train_seconds: f64,
    history: Arc<Mutex<Vec<EpochRecord>>>,
    label: String,
    max_epochs: usize,
    verbose: bool,
}

impl EpochRenderer {
    /// A renderer appending to `history`; `label` prefixes its lines (e.g. `fold 2/10`).
    pub fn new(
        history: Arc<Mutex<Vec<EpochRecord>>>,
        label: impl Into<String>,
        max_epochs: usize,
        verbose: bool,
    ) -> Self {
        Self {
            names: HashMap::new(),
            train: Sums::default(),
            valid: Sums::default(),
            epoch_start: None,
            train_seconds: 0.0,
            history,
            label: label.into(),
            max_epochs,
            verbose,
        }
    }

    fn record(&mut self, state: MetricState, valid: bool) {
        if let MetricState::Numeric(entry, value) = state
            && let Some(name) = self.names.get(&entry.metric_id)
        {
            let sums = if valid {
                &mut self.valid
            } else {
                &mut self.train
            };
            sums.add(name, &value);
        }
    }

    fn split_done(item: &TrainingProgress) -> bool {
        item.progress
            .as_ref()
            .is_some_and(|p| p.items_processed >= p.items_total)
    }

    fn finish_epoch(&mut self, epoch: usize) {
        let record = EpochRecord {
            epoch,
            train_loss: self.train.mean("Loss"),
            train_accuracy: self.train.mean("Accuracy") / 100.0,
            valid_loss: self.valid.mean("Loss"),
            valid_accuracy: self.valid.mean("Accuracy") / 100.0,
            train_seconds: self.train_seconds,
        };
        if self.verbose {
            println!(
                "{}epoch {:>3}/{} | train loss {:.4} acc {:.3} | valid loss {:.4} acc {:.3} | {:.2} s",
                self.label,
                epoch,
                self.max_epochs,
                record.train_loss,
                record.train_accuracy,
                record.valid_loss,
                record.valid_accuracy,
                record.train_seconds
            );
        }
        if let Ok(mut history) = self.history.lock() {
            history.push(record);
        }
        self.train = Sums::default();
        self.valid = Sums::default();
        self.epoch_start = Some(Instant::now());
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record(state, false);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(state, true);
    }

    fn render_train(&mut self, item: TrainingProgress, _indicators: Vec<ProgressType>) {
        if Self::split_done(&item) {
            let start = *self.epoch_start.get_or_insert_with(Instant::now);
            self.train_seconds = start.elapsed().as_secs_f64();
        }
    }

    fn render_valid(&mut self, item: TrainingProgress, _indicators: Vec<ProgressType>) {
        if Self::split_done(&item) {
            self.finish_epoch(item.global_progress.items_processed);
        }
    }

    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for EpochRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}

    fn render_test(&mut self, _item: EvaluationProgress, _indicators: Vec<ProgressType>) {}

    fn on_test_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl MetricsRenderer for EpochRenderer {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.epoch_start.get_or_insert_with(Instant::now);
        self.names.insert(definition.metric_id, definition.name);
    }
}

/// The recorder of every checkpoint and saved model: full precision, so that a reloaded model
/// computes exactly what was trained.
pub type Recorder = NamedMpkFileRecorder<FullPrecisionSettings>;

/// File stem of a saved model inside a run or fold folder (`model.mpk`, `model.json`).
pub const MODEL_STEM: &str = "model";

/// Saves `model` as `DIR/model.mpk` and its configuration as `DIR/model.json`.
///
/// # Errors
/// [`TrainError::Checkpoint`] or [`TrainError::Io`].
pub fn save_model<B: Backend>(
    model: HierarchicalClassifier<B>,
    config: &HierarchicalClassifierConfig,
    dir: &Path,
) -> Result<(), TrainError> {
    let stem = dir.join(MODEL_STEM);
    model
        .save_file(&stem, &Recorder::new())
        .map_err(|e| TrainError::Checkpoint {
            path: stem.with_extension("mpk"),
            message: e.to_string(),
        })?;
    let json = dir.join(format!("{MODEL_STEM}.json"));
    config.save(&json).map_err(io_error(&json))
}

/// Loads a model saved by [`save_model`] from `dir`.
///
/// # Errors
/// [`TrainError::Io`] / [`TrainError::Checkpoint`] for missing or malformed files,
/// [`TrainError::Model`] for an invalid configuration.
pub fn load_model<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(HierarchicalClassifier<B>, HierarchicalClassifierConfig), TrainError> {
    let json = dir.join(format!("{MODEL_STEM}.json"));
    let config = HierarchicalClassifierConfig::load(&json).map_err(|e| TrainError::Checkpoint {
        path: json.clone(),
        message: e.to_string(),
    })?;
    let stem = dir.join(MODEL_STEM);
    let model = config
        .init::<B>(device)?
        .load_file(&stem, &Recorder::new(), device)
        .map_err(|e| TrainError::Checkpoint {
            path: stem.with_extension("mpk"),
            message: e.to_string(),
        })?;
    Ok((model, config))
}

/// The datasets of one fold and how to present it.
pub struct FoldData {
    /// Fold number, from 0.
    pub fold: usize,
    /// Number of folds of the run (for progress lines).
    pub folds: usize,
    /// Training graphs.
    pub train: GraphDataset,
    /// Validation graphs (early stopping and checkpoint selection).
    pub valid: GraphDataset,
    /// Test graphs.
    pub test: GraphDataset,
}

/// Trains one fold in `dir` with burn-train's `Learner` and returns its report and the selected
/// model (lowest validation loss among the kept checkpoints), saved as `dir/model.mpk`.
///
/// # Errors
/// An invalid configuration, data that does not fit the model, an empty training or validation
/// set, or a file that cannot be written.
pub fn train_fold<B: AutodiffBackend>(
    model_config: &HierarchicalClassifierConfig,
    training: &TrainingConfig,
    data: FoldData,
    dir: &Path,
    device: &B::Device,
    verbose: bool,
) -> Result<(FoldReport, HierarchicalClassifier<B::InnerBackend>), TrainError> {
    let started = Instant::now();
    for (set, dataset) in [
        ("training", &data.train),
        ("validation", &data.valid),
        ("test", &data.test),
    ] {
        check_data(model_config, dataset)?;
        if dataset.graphs().is_empty() && set != "test" {
            return Err(TrainError::Invalid(format!(
                "the {set} set of fold {} is empty",
                data.fold
            )));
        }
    }
    if training.epochs == 0 || training.batch_size == 0 {
        return Err(TrainError::Invalid(
            "epochs and batch size must be at least 1".into(),
        ));
    }
    let non_negative = |v: f64| v >= 0.0 && v.is_finite();
    let valid_lr = training.lr > 0.0 && training.lr.is_finite();
    if !valid_lr || !non_negative(training.weight_decay) || !non_negative(training.grad_clip_norm) {
        return Err(TrainError::Invalid(
            "the learning rate must be positive, the weight decay and gradient clipping non-negative"
                .into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let seed = training.seed.wrapping_add(data.fold as u64);
    B::seed(device, seed);
    let model = model_config.init::<B>(device)?;
    let mut adam = AdamConfig::new().with_epsilon(1e-8);
    if training.weight_decay > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(training.weight_decay as f32)));
    }
    if training.grad_clip_norm > 0.0 {
        adam = adam.with_grad_clipping(Some(GradientClippingConfig::Norm(
            training.grad_clip_norm as f32,
        )));
    }
    let optim = adam.init();

    let train_loader = DataLoaderBuilder::<B, Graph, ShardedBatch<B>>::new(
        ShardedGraphBatcher::new(training.threads),
    )
    .batch_size(training.batch_size)
    .shuffle(seed)
    .set_device(device.clone())
    .build(data.train.clone());
    let valid_loader =
        DataLoaderBuilder::<B::InnerBackend, Graph, GraphBatch<B::InnerBackend>>::new(GraphBatcher)
            .batch_size(training.batch_size)
            .set_device(device.clone())
            .build(data.valid.clone());

    let history = Arc::new(Mutex::new(Vec::new()));
    let label = if data.folds > 1 {
        format!("fold {}/{} ", data.fold + 1, data.folds)
    } else {
        String::new()
    };
    let renderer = EpochRenderer::new(history.clone(), label, training.epochs, verbose);
    let early_stopping = MetricEarlyStoppingStrategy::new(
        &LossMetric::<B>::new(),
        Aggregate::Mean,
        Direction::Lowest,
        Split::Valid,
        StoppingCondition::NoImprovementSince {
            n_epochs: training.patience.max(1),
        },
    );
    let result = SupervisedTraining::new(dir, train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .with_file_checkpointer(Recorder::new())
        .early_stopping(early_stopping)
        .with_application_logger(None)
        .num_epochs(training.epochs)
        .renderer(renderer)
        .launch(Learner::new(model, optim, training.lr));

    let history: Vec<EpochRecord> = history.lock().map(|h| h.clone()).unwrap_or_default();
    let (model, selected_epoch) =
        select_checkpoint::<B::InnerBackend>(result.model, model_config, &history, dir, device);
    let valid = evaluate(&model, &data.valid, training.batch_size, device)?;
    let test = evaluate(&model, &data.test, training.batch_size, device)?;
    save_model(model.clone(), model_config, dir)?;
    let report = FoldReport {
        fold: data.fold,
        train_graphs: data.train.graphs().len(),
        valid_graphs: data.valid.graphs().len(),
        test_graphs: data.test.graphs().len(),
        test_accuracy: test.accuracy,
        valid_accuracy: valid.accuracy,
        selected_epoch,
        epochs_run: history.len(),
        seconds_per_epoch: median(&epoch_times(&history)),
        seconds: started.elapsed().as_secs_f64(),
        history,
    };
    Ok((report, model))
}

/// Among the checkpoints burn-train kept in `dir/checkpoint` (`model-EPOCH.mpk`), loads the one
/// whose epoch had the lowest validation loss; falls back to `last` (the final weights) when
/// none can be read.
fn select_checkpoint<B: Backend>(
    last: HierarchicalClassifier<B>,
    config: &HierarchicalClassifierConfig,
    history: &[EpochRecord],
    dir: &Path,
    device: &B::Device,
) -> (HierarchicalClassifier<B>, usize) {
    let last_epoch = history.len();
    let checkpoints = dir.join("checkpoint");
    let mut kept: Vec<(f64, usize)> = std::fs::read_dir(&checkpoints)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let epoch: usize = name
                .strip_prefix("model-")?
                .strip_suffix(".mpk")?
                .parse()
                .ok()?;
            let loss = history.iter().find(|r| r.epoch == epoch)?.valid_loss;
            Some((if loss.is_nan() { f64::INFINITY } else { loss }, epoch))
        })
        .collect();
    kept.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, epoch) in kept {
        let Ok(fresh) = config.init::<B>(device) else {
            break;
        };
        if let Ok(model) = fresh.load_file(
            checkpoints.join(format!("model-{epoch}")),
            &Recorder::new(),
            device,
        ) {
            return (model, epoch);
        }
    }
    (last, last_epoch)
}

/// Everything a run needs besides the backend.
pub struct RunSpec {
    /// Dataset name for the report.
    pub dataset_name: String,
    /// The graphs.
    pub dataset: GraphDataset,
    /// The splits, one per fold.
    pub folds: Vec<Fold>,
    /// The classifier (its `d_input` and `num_classes` must fit the dataset).
    pub classifier: HierarchicalClassifierConfig,
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
pub fn run<B: AutodiffBackend>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use gnn_core::testing::tiny_graphs;

    fn labelled(count: usize) -> GraphDataset {
        // Two classes that the features separate: label 1 graphs have larger features.
        let graphs = tiny_graphs(count)
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let label = i % 2;
                let x = g.x().iter().map(|v| v + label as f32).collect();
                Graph::new(g.num_nodes(), g.num_features(), x, g.edges().to_vec())
                    .expect("valid")
                    .with_label(label)
            })
            .collect();
        GraphDataset::new(graphs).expect("valid dataset")
    }

    fn a_short_training_run_lowers_the_loss<B: AutodiffBackend>(device: &B::Device) {
        let dataset = labelled(24);
        let dir = tempfile::tempdir().expect("temp dir");
        let config = HierarchicalClassifierConfig::new(3, 2).with_hidden(8);
        let training = TrainingConfig::new()
            .with_epochs(6)
            .with_batch_size(8)
            .with_lr(0.01)
            .with_patience(10);
        let data = FoldData {
            fold: 0,
            folds: 1,
            train: dataset
                .subset(&(0..16).collect::<Vec<_>>())
                .expect("subset"),
            valid: dataset
                .subset(&(16..20).collect::<Vec<_>>())
                .expect("subset"),
            test: dataset
                .subset(&(20..24).collect::<Vec<_>>())
                .expect("subset"),
        };
        let (report, model) =
            train_fold::<B>(&config, &training, data, dir.path(), device, false).expect("trains");
        assert_eq!(report.epochs_run, 6);
        let first = report.history.first().expect("epochs").train_loss;
        let last = report.history.last().expect("epochs").train_loss;
        assert!(last < first, "training loss went from {first} to {last}");
        assert!(
            report
                .history
                .iter()
                .all(|r| r.valid_loss.is_finite() && (0.0..=1.0).contains(&r.valid_accuracy))
        );
        assert!((1..=6).contains(&report.selected_epoch));
        // The saved model reloads and computes the same outputs.
        let (reloaded, _) = load_model::<B::InnerBackend>(dir.path(), device).expect("reloads");
        let batch =
            GraphBatch::<B::InnerBackend>::from_graphs(&tiny_graphs(4), device).expect("batch");
        let a = host::floats(model.forward(batch.clone()));
        let b = host::floats(reloaded.forward(batch));
        assert_eq!(a, b);
    }

    fn rejects_data_that_does_not_fit<B: AutodiffBackend>(device: &B::Device) {
        let dataset = labelled(6);
        let wide = HierarchicalClassifierConfig::new(5, 2);
        assert!(matches!(
            check_data(&wide, &dataset),
            Err(TrainError::Invalid(_))
        ));
        let one_class = HierarchicalClassifierConfig::new(3, 1);
        assert!(matches!(
            check_data(&one_class, &dataset),
            Err(TrainError::Invalid(_))
        ));
        let data = FoldData {
            fold: 0,
            folds: 1,
            train: dataset.clone(),
            valid: dataset.subset(&[]).expect("subset"),
            test: dataset.clone(),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let config = HierarchicalClassifierConfig::new(3, 2).with_hidden(4);
        let result = train_fold::<B>(
            &config,
            &TrainingConfig::new(),
            data,
            dir.path(),
            device,
            false,
        );
        assert!(matches!(result, Err(TrainError::Invalid(_))));
    }

    gnn_core::autodiff_backend_tests!(
        a_short_training_run_lowers_the_loss,
        rejects_data_that_does_not_fit
    );
}
