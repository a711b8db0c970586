//! Training steps for burn-train (feature `train`): [`TrainStep`] and [`InferenceStep`] for the
//! classifiers, with the negative log-likelihood loss wrapped in a [`ClassificationOutput`] so
//! that burn-train's accuracy and loss metrics apply, and data-parallel steps over a
//! [`ShardedBatch`] on CPU threads.

mod parallel;
mod shards;

use burn::tensor::backend::AutodiffBackend;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use gnn_core::GraphBatch;
use gnn_core::segment::SegmentBackend;

use crate::classifier::Classifier;
use crate::loss::nll_loss;

pub use parallel::data_parallel_step;
pub use shards::{ShardedBatch, ShardedGraphBatcher, shard_ranges};

/// One forward pass on a labelled batch: NLL loss, log-probabilities and targets.
///
/// # Panics
/// When the batch has no labels, or not the model's input width. Burn's step traits cannot
/// return an error, so a training program checks its data once before training (the `gnn`
/// program does); batches of a checked `gnn_datasets::GraphDataset` always carry labels.
pub fn classification_step<B: SegmentBackend>(
    model: &Classifier<B>,
    batch: GraphBatch<B>,
) -> ClassificationOutput<B> {
    let targets = batch
        .y()
        .cloned()
        .expect("a training batch carries labels (GraphDataset checks every graph has one)");
    let log_probs = model.forward(batch);
    let loss = nll_loss(log_probs.clone(), targets.clone());
    ClassificationOutput::new(loss, log_probs, targets)
}

/// A training step on a batch collated in shards: the shards run in parallel, one thread each
/// (see [`data_parallel_step`]); one shard is an ordinary step.
impl<B: AutodiffBackend + SegmentBackend> TrainStep for Classifier<B> {
    type Input = ShardedBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: ShardedBatch<B>) -> TrainOutput<ClassificationOutput<B>> {
        data_parallel_step(self, batch)
    }
}

impl<B: SegmentBackend> InferenceStep for Classifier<B> {
    type Input = GraphBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: GraphBatch<B>) -> ClassificationOutput<B> {
        classification_step(self, batch)
    }
}
