//! Training steps for burn-train (feature `train`): [`TrainStep`] and [`InferenceStep`] for the
//! classifiers, with the loss wrapped in a [`GraphClassificationOutput`] so that burn-train's
//! accuracy and loss metrics apply (and [`StepMetric`] to the auxiliary losses and gauges), and
//! data-parallel steps over a [`ShardedBatch`] on CPU threads.

mod output;
mod parallel;
mod shards;

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use gnn_core::GraphBatch;
use gnn_core::segment::SegmentBackend;

use crate::classifier::Classifier;
use crate::loss::nll_loss;

pub use output::{AUX_LOSS_METRIC, Gauge, GraphClassificationOutput, StepMetric, StepScalars};
pub use parallel::data_parallel_step;
pub use shards::{ShardedBatch, ShardedGraphBatcher, shard_ranges};

/// One forward pass on a labelled batch: loss (the NLL plus the model's weighted auxiliary
/// loss, see [`Classifier::forward_with_aux_loss`]), log-probabilities, targets and the
/// auxiliary loss alone.
///
/// # Panics
/// When the batch has no labels, or not the model's input width. Burn's step traits cannot
/// return an error, so a training program checks its data once before training (the `gnn`
/// program does); batches of a checked `gnn_datasets::GraphDataset` always carry labels.
pub fn classification_step<B: SegmentBackend>(
    model: &Classifier<B>,
    batch: GraphBatch<B>,
) -> GraphClassificationOutput<B> {
    let targets = batch
        .y()
        .cloned()
        .expect("a training batch carries labels (GraphDataset checks every graph has one)");
    let (log_probs, aux_loss) = model.forward_with_aux_loss(batch);
    output(log_probs, targets, aux_loss)
}

/// The step's output: the NLL plus the auxiliary loss, with what the metrics read.
fn output<B: SegmentBackend>(
    log_probs: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
    aux_loss: Option<Tensor<B, 1>>,
) -> GraphClassificationOutput<B> {
    let loss = nll_loss(log_probs.clone(), targets.clone());
    let loss = match &aux_loss {
        Some(aux) => loss + aux.clone(),
        None => loss,
    };
    GraphClassificationOutput::new(loss, log_probs, targets, aux_loss)
}

/// [`classification_step`] for validation: the same output, plus the mean over-smoothing
/// gauges of every block over the batch's graphs (see [`Classifier::forward_gauged`] and
/// [`StepMetric::smoothness`]).
///
/// # Panics
/// As [`classification_step`].
pub fn validation_step<B: SegmentBackend>(
    model: &Classifier<B>,
    batch: GraphBatch<B>,
) -> GraphClassificationOutput<B> {
    let targets = batch
        .y()
        .cloned()
        .expect("a validation batch carries labels (GraphDataset checks every graph has one)");
    let (log_probs, aux_loss, gauges) = model.forward_gauged(batch);
    let smoothness = gauges
        .iter()
        .flat_map(|gauge| {
            let (cosine, energy) = gauge.mean_over_graphs();
            [cosine, energy]
        })
        .collect();
    output(log_probs, targets, aux_loss).with_smoothness(smoothness)
}

/// A training step on a batch collated in shards: the shards run in parallel, one thread each
/// (see [`data_parallel_step`]); one shard is an ordinary step.
impl<B: AutodiffBackend + SegmentBackend> TrainStep for Classifier<B> {
    type Input = ShardedBatch<B>;
    type Output = GraphClassificationOutput<B>;

    fn step(&self, batch: ShardedBatch<B>) -> TrainOutput<GraphClassificationOutput<B>> {
        data_parallel_step(self, batch)
    }
}

impl<B: SegmentBackend> InferenceStep for Classifier<B> {
    type Input = GraphBatch<B>;
    type Output = GraphClassificationOutput<B>;

    fn step(&self, batch: GraphBatch<B>) -> GraphClassificationOutput<B> {
        validation_step(self, batch)
    }
}
