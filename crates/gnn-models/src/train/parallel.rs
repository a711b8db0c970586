//! Data-parallel training steps: the shards of one batch run forward and backward in parallel
//! on rayon's thread pool (one CPU core each), and their gradients are summed.
//!
//! The auxiliary losses of DiffPool and MinCut are added to each shard's NLL with the shard's
//! share. MinCut's are means over graphs, so shards change nothing but rounding there; DiffPool's
//! batch normalisation and link loss are batch-wide, so each shard trains as its own batch.
//!
//! Pooling and readouts act graph by graph, so the loss of a batch is a sum over its graphs and
//! splitting a batch into shards of whole graphs changes nothing but the order of float
//! additions: each shard's loss is its graphs' share of the batch mean, and the shards'
//! gradients add up to the batch's gradient.
//!
//! Why threads: on CPU, Burn's backends run most tensor operations on one core, and the
//! operations of a graph network are small (tens of thousands of values), so a second core
//! mostly waits. Two shards on two threads use both (PROTEINS, batch 60, Flex: 0.33 s → 0.16 s
//! per epoch on a 2-core CPU). On a GPU backend one shard is the right choice.
//!
//! Why not burn-train's `ExecutionStrategy::MultiDevice` (which `gnn train --devices N` uses):
//! it trains each device on its own batch and sums the N batches' gradients per step, which
//! changes the optimisation (N times the batch per step), where this runner splits one batch and
//! keeps its gradient. Timed on PROTEINS (release, Flex, 8 epochs, four interleaved runs each) on
//! the 2-core machine while other builds held its load average near 7, `--threads 2` took
//! 0.65–0.89 s per epoch, `--threads 1 --devices 2` 0.36–0.58 s and `--threads 1` 0.32–0.40 s:
//! with no core free neither parallel form helps, and the spread exceeds the differences, so
//! that comparison decides nothing; the quiet-machine figures above stand.
//!
//! Only on backends whose tensors may cross threads
//! ([`SegmentBackend::PARALLEL_SHARDS`]: NdArray and Flex): elsewhere (Wgpu) the shards run one
//! after another on the calling thread, with the same result.
//!
//! Each shard works on its own copy of the model with fresh autodiff leaves (the same parameter
//! values and ids), so the shards' autodiff graphs share no node and Burn runs them without
//! contending for one graph's lock. The head's dropout mask is drawn once per batch on the
//! calling thread, so that a seeded run is reproducible whatever the threads' timing.

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use burn::train::TrainOutput;
use gnn_core::GraphBatch;
use gnn_core::segment::SegmentBackend;
use rayon::prelude::*;

use super::{GraphClassificationOutput, ShardedBatch};
use crate::classifier::Classifier;
use crate::loss::nll_loss;

/// Forward and backward of a [`ShardedBatch`], the shards in parallel, gradients summed.
///
/// The returned loss is the mean negative log-likelihood over the whole batch, and the
/// output and targets are the shards' rows in batch order, as
/// [`classification_step`](super::classification_step) gives for one batch.
///
/// # Panics
/// As [`classification_step`](super::classification_step): never on batches of a
/// checked `gnn_datasets::GraphDataset`. Also when a model that is not
/// [`shardable`](Classifier::shardable) (DiffPool's batch norm) gets more than one shard: cut
/// its batches into one shard.
pub fn data_parallel_step<B: AutodiffBackend + SegmentBackend>(
    model: &Classifier<B>,
    batch: ShardedBatch<B>,
) -> TrainOutput<GraphClassificationOutput<B>> {
    let mask = batch
        .shards
        .first()
        .and_then(|shard| model.head_dropout_mask(batch.num_graphs(), &shard.device()));
    data_parallel_step_with_mask(model, batch, mask)
}

/// As [`data_parallel_step`], with the head's dropout mask `[G, hidden]` of the whole batch
/// given (`None`: no dropout); `mask` must have one row per graph of `batch`.
pub(crate) fn data_parallel_step_with_mask<B: AutodiffBackend + SegmentBackend>(
    model: &Classifier<B>,
    batch: ShardedBatch<B>,
    mask: Option<Tensor<B, 2>>,
) -> TrainOutput<GraphClassificationOutput<B>> {
    assert!(
        batch.shards.len() <= 1 || model.shardable(),
        "this model's batch norm needs whole batches: batch it into one shard"
    );
    let total = batch.num_graphs();
    let mut shards = batch.shards.into_iter();
    let Some(first) = shards.next() else {
        // Nothing to learn from: zero loss, no gradient.
        let device = Default::default();
        return TrainOutput {
            grads: GradientsParams::new(),
            item: GraphClassificationOutput::new(
                Tensor::zeros([1], &device),
                Tensor::zeros([0, model.num_classes()], &device),
                Tensor::zeros([0], &device),
                None,
            ),
        };
    };
    if shards.len() == 0 {
        // One shard: the ordinary step, on the model itself.
        let (grads, item) = shard_step(model, first, mask, total);
        return TrainOutput { grads, item };
    }
    // Each shard's rows of the head's dropout mask.
    let mut start = 0;
    let jobs: Vec<_> = std::iter::once(first)
        .chain(shards)
        .map(|shard| {
            let rows = shard.num_graphs();
            let shard_mask = mask.clone().map(|m| m.narrow(0, start, rows));
            start += rows;
            (shard, shard_mask)
        })
        .collect();
    let results: Vec<_> = if B::PARALLEL_SHARDS {
        // Copies are made here, on one thread; rayon's workers (which `cpu::flush_subnormals`
        // configured) run the shards, and `collect` keeps the shards' order.
        jobs.into_iter()
            .map(|(shard, mask)| (Classifier::from_inner(model.valid()), shard, mask))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(copy, shard, mask)| shard_step(&copy, shard, mask, total))
            .collect()
    } else {
        // A backend whose tensors must stay on their thread (`SegmentBackend::PARALLEL_SHARDS`):
        // the shards one after another, on this thread.
        jobs.into_iter()
            .map(|(shard, mask)| shard_step(model, shard, mask, total))
            .collect()
    };
    let mut accumulator = GradientsAccumulator::new();
    let (mut losses, mut aux_losses, mut outputs, mut targets) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (grads, item) in results {
        accumulator.accumulate(model, grads);
        losses.push(item.loss);
        aux_losses.push(item.aux_loss);
        outputs.push(item.output);
        targets.push(item.targets);
    }
    let sum = |parts: Vec<Tensor<B, 1>>| parts.into_iter().reduce(|a, b| a + b);
    let loss = sum(losses).expect("at least two shards");
    TrainOutput {
        grads: accumulator.grads(),
        item: GraphClassificationOutput::new(
            loss,
            Tensor::cat(outputs, 0),
            Tensor::cat(targets, 0),
            sum(aux_losses),
        ),
    }
}

/// A shard's gradients and its detached output; its loss is its share of the batch mean.
fn shard_step<B: AutodiffBackend + SegmentBackend>(
    model: &Classifier<B>,
    shard: GraphBatch<B>,
    mask: Option<Tensor<B, 2>>,
    batch_graphs: usize,
) -> (GradientsParams, GraphClassificationOutput<B>) {
    let rows = shard.num_graphs();
    let targets = shard
        .y()
        .cloned()
        .expect("GraphDataset guarantees a label on every graph");
    let (log_probs, aux_loss) = model.forward_with_head_mask(shard, mask);
    let share = rows as f64 / batch_graphs.max(1) as f64;
    let aux_loss = aux_loss.map(|aux| aux * share);
    let loss = nll_loss(log_probs.clone(), targets.clone()) * share;
    let loss = match &aux_loss {
        Some(aux) => loss + aux.clone(),
        None => loss,
    };
    let grads = GradientsParams::from_grads(loss.backward(), model);
    (
        grads,
        GraphClassificationOutput::new(
            loss.detach(),
            log_probs.detach(),
            targets,
            aux_loss.map(Tensor::detach),
        ),
    )
}

#[cfg(test)]
mod tests {
    use burn::data::dataloader::batcher::Batcher;
    use burn::tensor::Distribution;
    use gnn_core::host;

    use super::*;
    use crate::models::hierarchical::HierarchicalClassifierConfig;
    use crate::train::ShardedGraphBatcher;
    use gnn_core::testing::tiny_graphs;

    fn gradients<B: AutodiffBackend>(
        model: &Classifier<B>,
        grads: &GradientsParams,
    ) -> Vec<Vec<f64>> {
        gnn_core::testing::parameter_gradients(model, grads)
    }

    fn assert_near(actual: &[f64], expected: &[f64], what: &str) {
        assert_eq!(actual.len(), expected.len(), "{what}");
        for (a, e) in actual.iter().zip(expected) {
            assert!(
                (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                "{what}: {a} vs {e}"
            );
        }
    }

    /// Shards of any number give the batch's loss, outputs and gradients, dropout included.
    fn sharded_step_matches_one_batch<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
        let graphs = tiny_graphs(13);
        let model = Classifier::from(
            HierarchicalClassifierConfig::new(3, 3)
                .with_hidden(8)
                .init::<B>(device)
                .expect("valid config"),
        );
        let mask =
            Some(Tensor::<B, 2>::random([13, 8], Distribution::Bernoulli(0.5), device) * 2.0);
        let batch = GraphBatch::<B>::from_graphs(&graphs, device).expect("batch");
        let targets = batch.y().cloned().expect("labelled");
        let (log_probs, _) = model.forward_with_head_mask(batch, mask.clone());
        let loss = nll_loss(log_probs.clone(), targets);
        let reference = GradientsParams::from_grads(loss.backward(), &model);
        let expected_grads = gradients(&model, &reference);
        assert!(expected_grads.iter().flatten().any(|g| *g != 0.0));
        let expected_loss = host::floats(loss.detach());
        let expected_output = host::floats(log_probs.detach());
        for shards in [1, 2, 3, 5, 13] {
            let sharded: ShardedBatch<B> =
                ShardedGraphBatcher::new(shards).batch(graphs.clone(), device);
            assert_eq!(sharded.shards.len(), shards);
            let out = data_parallel_step_with_mask(&model, sharded, mask.clone());
            let what = format!("{shards} shards");
            assert_near(&host::floats(out.item.loss), &expected_loss, &what);
            assert_near(&host::floats(out.item.output), &expected_output, &what);
            let targets = host::ints(out.item.targets);
            let labels: Vec<i64> = graphs.iter().map(|g| g.label().unwrap() as i64).collect();
            assert_eq!(targets, labels, "{what}");
            let actual = gradients(&model, &out.grads);
            assert_eq!(actual.len(), expected_grads.len());
            for (a, e) in actual.iter().zip(&expected_grads) {
                assert_near(a, e, &what);
            }
        }
    }

    /// The same batch gives bit-identical results run after run, whatever the threads' timing.
    fn sharded_step_is_reproducible<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
        let graphs = tiny_graphs(11);
        let model = Classifier::from(
            HierarchicalClassifierConfig::new(3, 3)
                .with_hidden(8)
                .with_dropout(0.0)
                .init::<B>(device)
                .expect("valid config"),
        );
        let run = || {
            let batch = ShardedGraphBatcher::new(3).batch(graphs.clone(), device);
            let out = data_parallel_step(&model, batch);
            gradients(&model, &out.grads)
        };
        let first = run();
        for _ in 0..3 {
            assert_eq!(run(), first);
        }
    }

    /// A batch without shards is a step without gradient, not a panic.
    fn empty_batch_has_no_gradient<B: AutodiffBackend + SegmentBackend>(device: &B::Device) {
        let model = Classifier::from(
            HierarchicalClassifierConfig::new(3, 3)
                .with_hidden(8)
                .init::<B>(device)
                .expect("valid config"),
        );
        let out = data_parallel_step(&model, ShardedBatch { shards: Vec::new() });
        assert!(gradients(&model, &out.grads).iter().all(Vec::is_empty));
        assert_eq!(host::floats(out.item.loss), vec![0.0]);
        assert_eq!(out.item.output.dims(), [0, 3]);
    }

    gnn_core::autodiff_backend_tests!(
        sharded_step_matches_one_batch,
        sharded_step_is_reproducible,
        empty_batch_has_no_gradient
    );
}
