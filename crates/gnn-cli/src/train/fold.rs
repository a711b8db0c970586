//! One fold: [`check_data`] (does a dataset fit a model?), [`train_fold`] (burn-train's
//! `SupervisedTraining` on one train/valid/test split, then the best checkpoint restored and
//! tested) and [`evaluate`] (loss and accuracy of a model on a dataset).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoaderBuilder;
use burn::optim::AdamConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining};
use gnn_core::segment::{SegmentAutodiffBackend, SegmentBackend};
use gnn_core::{Graph, GraphBatch, host};
use gnn_datasets::{GraphBatcher, GraphDataset};
use gnn_models::train::{ShardedBatch, ShardedGraphBatcher, classification_step};
use gnn_models::{Classifier, ClassifierConfig};

use super::checkpoint::{Recorder, save_model, select_checkpoint};
use super::error::{SplitPart, TrainError, io_error};
use super::renderer::EpochRenderer;
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

/// Trains one fold in `dir` with burn-train's `Learner` and returns its report and the selected
/// model (lowest validation loss among the kept checkpoints), saved as `dir/model.mpk`.
///
/// Adam with weight decay, checkpoints of the last epochs and of the best validation loss,
/// early stopping on the validation loss, one progress line per epoch when `verbose` (from
/// [`EpochRenderer`]).
///
/// # Errors
/// Data that does not fit the model ([`check_data`]), an empty training or validation set
/// ([`TrainError::EmptySplit`]), unusable settings ([`TrainError::Settings`]), an invalid model
/// configuration, or a file that cannot be written.
pub fn train_fold<B: SegmentAutodiffBackend>(
    model_config: &ClassifierConfig,
    training: &TrainingConfig,
    data: FoldData,
    dir: &Path,
    device: &B::Device,
    verbose: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainingConfigError;
    use crate::train::load_model;
    use gnn_core::testing::tiny_graphs;
    use gnn_models::HierarchicalClassifierConfig;

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

    fn a_short_training_run_lowers_the_loss<B: SegmentAutodiffBackend>(device: &B::Device) {
        let dataset = labelled(24);
        let dir = tempfile::tempdir().expect("temp dir");
        let config = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 2).with_hidden(8));
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
