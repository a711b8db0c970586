//! One fold: [`check_data`] (does a dataset fit a model?), [`train_fold_with`] (burn-train's
//! `SupervisedTraining` on one train/valid/test split, fresh or resumed, then the best
//! checkpoint restored and tested) and [`evaluate`] (loss and accuracy of a model on a
//! dataset).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoaderBuilder;
use burn::optim::AdamConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::tensor::backend::AutodiffBackend;
use burn::train::logger::InMemoryMetricLogger;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{ExecutionStrategy, Interrupter, Learner, MultiDeviceOptim, SupervisedTraining};
use gnn_core::segment::{SegmentAutodiffBackend, SegmentBackend};
use gnn_core::{Graph, GraphBatch, host};
use gnn_datasets::{GraphBatcher, GraphDataset};
use gnn_models::train::{Gauge, ShardedGraphBatcher, StepMetric, classification_step};
use gnn_models::{Classifier, ClassifierConfig};

use super::checkpoint::{Recorder, check_resumable, save_model, select_checkpoint};
use super::error::{SplitPart, TrainError, io_error};
use super::interrupt::SIGNAL_MESSAGE;
use super::loader::EpochLoader;
use super::renderer::EpochRenderer;
use super::schedule::{PlateauLr, PlateauSettings};
use super::state::{
    EpochCheckpointing, EpochEarlyStopping, EpochHook, FoldState, Ledger, clear_fold,
};
use crate::config::TrainingConfig;
use crate::report::{EpochRecord, FoldReport, epoch_times, median};

/// Checks that a dataset fits a model: same node feature width (unless the dataset is empty),
/// labels below the number of classes. This is what makes the `expect`s of
/// [`classification_step`] unreachable.
///
/// # Errors
/// [`TrainError::FeatureWidth`] or [`TrainError::TooManyClasses`].
pub fn check_data(config: &ClassifierConfig, dataset: &GraphDataset) -> Result<(), TrainError> {
    check_fit(config.d_input(), config.num_classes(), dataset)
}

/// [`check_data`] for a model of input width `d_input` predicting `num_classes` classes.
fn check_fit(d_input: usize, num_classes: usize, dataset: &GraphDataset) -> Result<(), TrainError> {
    if dataset.num_features() != d_input && !dataset.graphs().is_empty() {
        return Err(TrainError::FeatureWidth {
            model: d_input,
            data: dataset.num_features(),
        });
    }
    if dataset.num_classes() > num_classes {
        return Err(TrainError::TooManyClasses {
            model: num_classes,
            data: dataset.num_classes(),
        });
    }
    Ok(())
}

/// Loss and accuracy of `model` on `dataset`, in batches of `batch_size` (no dropout: use an
/// inference model, e.g. `model.valid()`).
///
/// # Errors
/// Those of [`check_data`].
pub fn evaluate<B: SegmentBackend>(
    model: &Classifier<B>,
    dataset: &GraphDataset,
    batch_size: usize,
    device: &B::Device,
) -> Result<Evaluation, TrainError> {
    check_fit(model.d_input(), model.num_classes(), dataset)?;
    let (mut loss_sum, mut correct, mut total) = (0.0, 0usize, 0usize);
    for chunk in dataset.graphs().chunks(batch_size.max(1)) {
        let batch = GraphBatch::<B>::from_graphs(chunk, device)?;
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

/// How a fold runs, besides its data and settings: where, how loudly, and whether it continues
/// an interrupted run.
#[derive(Clone)]
pub struct FoldOptions<B: AutodiffBackend> {
    /// The devices to train on: one runs burn-train's single-device strategy; several run its
    /// `ExecutionStrategy::MultiDevice` (each device trains on its slice of every epoch, the
    /// gradients are summed on the first, which also validates). Empty means the default device.
    pub devices: Vec<B::Device>,
    /// One line per epoch (and a progress bar on a terminal).
    pub verbose: bool,
    /// Stops training after the current step (Ctrl-C, SIGTERM, or a caller's choice).
    pub interrupter: Interrupter,
    /// Continue from the fold's `state.json` and checkpoints instead of starting afresh.
    pub resume: bool,
    /// Called after each completed epoch (see [`EpochHook`]).
    pub on_epoch_end: Option<EpochHook>,
}

impl<B: AutodiffBackend> FoldOptions<B> {
    /// A fresh fold on `device`, with its own interrupter and no hook.
    pub fn on(device: &B::Device, verbose: bool) -> Self {
        Self {
            devices: vec![device.clone()],
            verbose,
            interrupter: Interrupter::new(),
            resume: false,
            on_epoch_end: None,
        }
    }
}

/// Trains one fold in `dir` with burn-train's `Learner` on `device` and returns its report and
/// the selected model (see [`train_fold_with`]).
///
/// # Errors
/// Those of [`train_fold_with`].
pub fn train_fold<B: SegmentAutodiffBackend>(
    model_config: &ClassifierConfig,
    training: &TrainingConfig,
    data: FoldData,
    dir: &Path,
    device: &B::Device,
    verbose: bool,
) -> Result<(FoldReport, Classifier<B::InnerBackend>), TrainError> {
    train_fold_with::<B>(
        model_config,
        training,
        data,
        dir,
        &FoldOptions::on(device, verbose),
    )
}

/// Trains one fold in `dir` with burn-train's `Learner` and returns its report and the selected
/// model (lowest validation loss among the kept checkpoints), saved as `dir/model.mpk`.
///
/// Adam with weight decay; after every epoch `dir/state.json` and burn-train's checkpoint of the
/// epoch (the last two and the best are kept); early stopping on the validation loss (see
/// [`super::state`]). With `options.resume` it continues from the last epoch whose state and
/// checkpoint are complete, with the model, optimizer, scheduler, early-stopping counters and
/// the epoch's shuffle and seed of the uninterrupted run.
///
/// # Errors
/// Data that does not fit the model ([`check_data`]), an empty training or validation set
/// ([`TrainError::EmptySplit`]), unusable settings ([`TrainError::Settings`]), an invalid model
/// configuration, a file that cannot be written, an unreadable state or checkpoint on resume,
/// or [`TrainError::Interrupted`] when `options.interrupter` stopped training.
pub fn train_fold_with<B: SegmentAutodiffBackend>(
    model_config: &ClassifierConfig,
    training: &TrainingConfig,
    data: FoldData,
    dir: &Path,
    options: &FoldOptions<B>,
) -> Result<(FoldReport, Classifier<B::InnerBackend>), TrainError> {
    let started = Instant::now();
    for (which, dataset) in [
        (SplitPart::Training, &data.train),
        (SplitPart::Validation, &data.valid),
        (SplitPart::Test, &data.test),
    ] {
        check_data(model_config, dataset)?;
        if dataset.graphs().is_empty() && which != SplitPart::Test {
            return Err(TrainError::EmptySplit {
                which,
                fold: data.fold,
            });
        }
    }
    training.validate()?;
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let devices = if options.devices.is_empty() {
        vec![B::Device::default()]
    } else {
        options.devices.clone()
    };
    let device = &devices[0];
    let patience = training.patience.max(1);
    let resumed = if options.resume {
        FoldState::load(dir)?.and_then(|state| state.resume_point(dir, patience, training.epochs))
    } else {
        clear_fold(dir)?;
        None
    };
    let seed = training.seed.wrapping_add(data.fold as u64);
    B::seed(device, seed);
    let model = model_config.init::<B>(device)?;
    let optim = adam(training).init();
    let start_epoch = resumed.as_ref().map_or(0, |state| state.epoch);
    if start_epoch > 0 {
        check_resumable(dir, start_epoch, &model, &optim, &training.lr, device)?;
        if options.verbose {
            println!(
                "{}resuming after epoch {start_epoch} of {}",
                fold_label(&data),
                training.epochs
            );
        }
    }

    let train_loader = Arc::new(EpochLoader::<B>::new(
        data.train.graphs().to_vec(),
        // DiffPool's batch norm needs whole batches (see `ClassifierConfig::shardable`).
        ShardedGraphBatcher::new(if model_config.shardable() {
            training.threads
        } else {
            1
        }),
        training.batch_size,
        seed,
        device.clone(),
        start_epoch + 1,
    ));
    let valid_loader =
        DataLoaderBuilder::<B::InnerBackend, Graph, GraphBatch<B::InnerBackend>>::new(GraphBatcher)
            .batch_size(training.batch_size)
            .set_device(device.clone())
            .build(data.valid.clone());

    let ledger = Ledger::new(
        resumed
            .as_ref()
            .map(|s| s.history.clone())
            .unwrap_or_default(),
    );
    let failure = Arc::new(Mutex::new(None));
    let renderer = EpochRenderer::new(
        ledger.clone(),
        fold_label(&data),
        training.epochs,
        options.verbose,
        training.batch_size,
    );
    let checkpointing = EpochCheckpointing {
        ledger: ledger.clone(),
        dir: dir.to_path_buf(),
        fold: data.fold,
        patience,
        max_epochs: training.epochs,
        interrupter: options.interrupter.clone(),
        failure: failure.clone(),
        on_epoch_end: options.on_epoch_end.clone(),
    };
    // A fold whose training was over when it was interrupted runs no epoch: burn-train restores
    // its last checkpoint and returns it.
    let num_epochs = match &resumed {
        Some(state) if state.stopped => state.epoch,
        _ => training.epochs,
    };
    let strategy = if devices.len() > 1 {
        ExecutionStrategy::MultiDevice(devices.clone(), MultiDeviceOptim::OptimMainDevice)
    } else {
        ExecutionStrategy::SingleDevice(device.clone())
    };
    let mut builder = SupervisedTraining::new(dir, train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()));
    if model_config.has_aux_loss() {
        builder = builder
            .metric_train_numeric(StepMetric::aux_loss())
            .metric_valid_numeric(StepMetric::aux_loss());
    }
    for block in 1..=model_config.gauged_blocks() {
        for gauge in [Gauge::CosineSimilarity, Gauge::DirichletEnergy] {
            builder = builder.metric_valid_numeric(StepMetric::smoothness(block, gauge));
        }
    }
    let mut builder = builder
        .with_file_checkpointer(Recorder::new())
        .with_checkpointing_strategy(checkpointing)
        .early_stopping(EpochEarlyStopping {
            ledger: ledger.clone(),
            plateau: PlateauSettings::from(training),
        })
        .with_metric_logger(InMemoryMetricLogger::new())
        .with_application_logger(None)
        .with_interrupter(options.interrupter.clone())
        .with_training_strategy(strategy.into())
        .num_epochs(num_epochs)
        .renderer(renderer);
    if start_epoch > 0 {
        builder = builder.checkpoint(start_epoch);
    }
    // The learning rate on plateau follows the fold's history (see `schedule`).
    let scheduler = PlateauLr::new(PlateauSettings::from(training), ledger.clone());
    let result = builder.launch(Learner::new(model, optim, scheduler));

    if options.interrupter.should_stop() {
        if let Some(error) = failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(error);
        }
        let message = options.interrupter.get_message().unwrap_or_default();
        if message != SIGNAL_MESSAGE && message != STOP_MESSAGE {
            // burn-train's checkpointer stops the run with the error when a save fails.
            return Err(TrainError::Checkpoint {
                path: dir.join("checkpoint"),
                message,
            });
        }
        let epoch = FoldState::load(dir)?
            .and_then(|state| state.resume_point(dir, patience, training.epochs))
            .map_or(0, |state| state.epoch);
        return Err(TrainError::Interrupted {
            fold: data.fold,
            epoch,
            out: dir.parent().unwrap_or(dir).to_path_buf(),
        });
    }

    let history: Vec<EpochRecord> = ledger.history();
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

/// The reason to give [`FoldOptions::interrupter`] when stopping a run from code (a signal
/// gives [`SIGNAL_MESSAGE`]); any other reason reads as a failure of burn-train's checkpointer.
pub const STOP_MESSAGE: &str = "stopped by the caller";

/// `fold K/N ` for runs of several folds, else nothing: the prefix of a fold's lines.
fn fold_label(data: &FoldData) -> String {
    if data.folds > 1 {
        format!("fold {}/{} ", data.fold + 1, data.folds)
    } else {
        String::new()
    }
}

/// Adam with the run's weight decay and gradient clipping.
fn adam(training: &TrainingConfig) -> AdamConfig {
    let mut adam = AdamConfig::new().with_epsilon(1e-8);
    if training.weight_decay > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(training.weight_decay as f32)));
    }
    if training.grad_clip_norm > 0.0 {
        adam = adam.with_grad_clipping(Some(GradientClippingConfig::Norm(
            training.grad_clip_norm as f32,
        )));
    }
    adam
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainingConfigError;
    use crate::train::load_model;
    use gnn_core::testing::tiny_graphs;
    use gnn_models::{
        DiffPoolClassifierConfig, GlobalClassifierConfig, GraclusClassifierConfig,
        HierarchicalClassifierConfig, MinCutClassifierConfig,
    };

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

    /// Every model kind trains through the same loop, saves and reloads.
    fn a_short_training_run_lowers_the_loss<B: SegmentAutodiffBackend>(device: &B::Device) {
        for config in [
            ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 2).with_hidden(8)),
            GlobalClassifierConfig::new(3, 2).with_hidden(8).into(),
            GraclusClassifierConfig::new(3, 2).with_hidden(8).into(),
            DiffPoolClassifierConfig::new(3, 2).with_hidden(8).into(),
            // These graphs include one-node graphs without edges (PyG's MinCut: NaN loss).
            MinCutClassifierConfig::new(3, 2)
                .with_hidden(8)
                .with_num_clusters([4, 2])
                .into(),
        ] {
            trains_saves_and_reloads::<B>(&config, device);
        }
    }

    fn trains_saves_and_reloads<B: SegmentAutodiffBackend>(
        config: &ClassifierConfig,
        device: &B::Device,
    ) {
        let dataset = labelled(24);
        let dir = tempfile::tempdir().expect("temp dir");
        // Two threads: batches cut into shards trained in parallel (DiffPool's into one).
        let training = TrainingConfig::new()
            .with_epochs(6)
            .with_batch_size(8)
            .with_lr(0.01)
            .with_patience(10)
            .with_threads(2);
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
            train_fold::<B>(config, &training, data, dir.path(), device, false).expect("trains");
        assert_eq!(report.epochs_run, 6);
        let first = report.history.first().expect("epochs").train_loss;
        let last = report.history.last().expect("epochs").train_loss;
        assert!(
            last < first,
            "{}: training loss went from {first} to {last}",
            config.kind()
        );
        assert!(
            report
                .history
                .iter()
                .all(|r| r.valid_loss.is_finite() && (0.0..=1.0).contains(&r.valid_accuracy))
        );
        assert!((1..=6).contains(&report.selected_epoch));
        // DiffPool's and MinCut's auxiliary losses reach metrics.json through burn-train's
        // metrics, every epoch; the other models record none. The sparse models record the
        // over-smoothing gauges of every block on the validation graphs.
        for record in &report.history {
            assert_eq!(record.smoothness.len(), config.gauged_blocks());
            for block in &record.smoothness {
                assert!(
                    (-1.0..=1.0).contains(&block.cosine_similarity)
                        && block.dirichlet_energy >= 0.0,
                    "{}: {block:?}",
                    config.kind()
                );
            }
            let aux = [record.train_aux_loss, record.valid_aux_loss];
            if config.has_aux_loss() {
                assert!(
                    aux.iter().all(|a| a.is_some_and(f64::is_finite)),
                    "{}: {aux:?}",
                    config.kind()
                );
            } else {
                assert_eq!(aux, [None, None], "{}", config.kind());
            }
        }
        // DiffPool's batch norm kept its running statistics (shards on other threads would
        // have updated copies: a model that then predicts one class in evaluation).
        if let Classifier::DiffPool(diffpool) = &model {
            let mean = host::floats(diffpool.gnns[0].bn1.running_mean.value());
            assert!(mean.iter().any(|m| *m != 0.0), "running mean never updated");
        }
        // The saved model reloads and computes the same outputs.
        let (reloaded, _) = load_model::<B::InnerBackend>(dir.path(), device).expect("reloads");
        let batch =
            GraphBatch::<B::InnerBackend>::from_graphs(&tiny_graphs(4), device).expect("batch");
        let a = host::floats(model.forward(batch.clone()));
        let b = host::floats(reloaded.forward(batch));
        assert_eq!(a, b);
        // The evaluation of the saved model agrees with the report.
        let test_set = dataset.subset(&[20, 21, 22, 23]).expect("subset");
        let test = evaluate(&reloaded, &test_set, 8, device).expect("fits");
        assert_eq!((test.graphs, test.accuracy), (4, report.test_accuracy));
    }

    fn rejects_data_that_does_not_fit<B: SegmentAutodiffBackend>(device: &B::Device) {
        let dataset = labelled(6);
        let wide = ClassifierConfig::from(HierarchicalClassifierConfig::new(5, 2));
        assert!(matches!(
            check_data(&wide, &dataset),
            Err(TrainError::FeatureWidth { model: 5, data: 3 })
        ));
        let one_class = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 1));
        assert!(matches!(
            check_data(&one_class, &dataset),
            Err(TrainError::TooManyClasses { model: 1, data: 2 })
        ));
        let fold = |valid: GraphDataset| FoldData {
            fold: 0,
            folds: 1,
            train: dataset.clone(),
            valid,
            test: dataset.clone(),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let config = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 2).with_hidden(4));
        let empty = dataset.subset(&[]).expect("subset");
        let result = train_fold::<B>(
            &config,
            &TrainingConfig::new(),
            fold(empty),
            dir.path(),
            device,
            false,
        );
        assert!(matches!(
            result,
            Err(TrainError::EmptySplit {
                which: SplitPart::Validation,
                fold: 0
            })
        ));
        let result = train_fold::<B>(
            &config,
            &TrainingConfig::new().with_epochs(0),
            fold(dataset.clone()),
            dir.path(),
            device,
            false,
        );
        assert!(matches!(
            result,
            Err(TrainError::Settings(TrainingConfigError::ZeroEpochs))
        ));
    }

    gnn_core::autodiff_backend_tests!(
        a_short_training_run_lowers_the_loss,
        rejects_data_that_does_not_fit
    );
}
