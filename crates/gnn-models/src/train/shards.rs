//! Batches cut into shards of whole graphs, for data-parallel training steps
//! ([`data_parallel_step`](super::data_parallel_step)).

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::backend::Backend;
use gnn_core::{Graph, GraphBatch};

/// One batch of graphs collated as several consecutive shards, each a [`GraphBatch`], for
/// training on the shards in parallel (see [`data_parallel_step`](super::data_parallel_step)).
///
/// The shards hold the batch's graphs in order; together they are the batch.
#[derive(Debug, Clone)]
pub struct ShardedBatch<B: Backend> {
    /// The shards, in graph order; none is empty unless the batch is.
    pub shards: Vec<GraphBatch<B>>,
}

impl<B: Backend> ShardedBatch<B> {
    /// Graphs in the whole batch.
    pub fn num_graphs(&self) -> usize {
        self.shards.iter().map(GraphBatch::num_graphs).sum()
    }
}

/// Collates graphs into a [`ShardedBatch`] of at most `shards` shards of similar work.
///
/// Shards are consecutive runs of graphs balanced by nodes + edges (see [`shard_ranges`]), so a
/// 600-node graph does not land with half of the batch's other graphs. `shards = 1` gives one
/// batch of all graphs.
///
/// # Panics
/// When the graphs of a batch cannot be batched together (different feature widths, a missing
/// label): Burn's `Batcher::batch` cannot return an error. Graphs drawn from a checked dataset
/// (`gnn_datasets::GraphDataset`) never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardedGraphBatcher {
    shards: usize,
}

impl ShardedGraphBatcher {
    /// A batcher cutting each batch into at most `shards` shards (0 is taken as 1).
    pub fn new(shards: usize) -> Self {
        Self {
            shards: shards.max(1),
        }
    }

    /// Shards per batch (fewer when a batch has fewer graphs).
    pub fn shards(&self) -> usize {
        self.shards
    }
}

impl<B: Backend> Batcher<B, Graph, ShardedBatch<B>> for ShardedGraphBatcher {
    fn batch(&self, items: Vec<Graph>, device: &B::Device) -> ShardedBatch<B> {
        let work: Vec<usize> = items
            .iter()
            .map(|g| g.num_nodes() + g.num_edges())
            .collect();
        let shards = shard_ranges(&work, self.shards)
            .into_iter()
            .map(|range| {
                GraphBatch::from_graphs(&items[range], device).unwrap_or_else(|e| {
                    panic!("graphs cannot be batched together ({e}); check them first, as gnn_datasets::GraphDataset::new does")
                })
            })
            .collect();
        ShardedBatch { shards }
    }
}

/// Cuts `0..work.len()` into at most `shards` consecutive, non-empty ranges of similar total
/// `work`: a range ends once the running total reaches its share. No range is empty (there
/// are `min(shards, work.len())` of them, and one empty range for no items).
pub fn shard_ranges(work: &[usize], shards: usize) -> Vec<std::ops::Range<usize>> {
    let items = work.len();
    let shards = shards.clamp(1, items.max(1));
    // +1 per item: graphs without nodes still cost a little, and all-zero work still splits.
    let total: usize = work.iter().map(|w| w + 1).sum();
    let mut ranges = Vec::with_capacity(shards);
    let (mut start, mut running) = (0, 0);
    for (i, w) in work.iter().enumerate() {
        running += w + 1;
        let cut = ranges.len() + 1;
        let left_after = items - i - 1;
        let shards_after = shards - cut;
        // Cut when this shard has its share, or when each remaining shard needs one item.
        if cut < shards && (running * shards >= total * cut || left_after == shards_after) {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    ranges.push(start..items);
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnn_core::testing::tiny_graphs;

    proptest::proptest! {
        /// Ranges cover the items in order, none is empty, and no shard exceeds its share by
        /// more than one item.
        #[test]
        fn shard_ranges_cover_in_order_and_balance(
            work in proptest::collection::vec(0usize..50, 0..40),
            shards in 1usize..6,
        ) {
            let ranges = shard_ranges(&work, shards);
            proptest::prop_assert_eq!(ranges.len(), shards.min(work.len()).max(1));
            let mut next = 0;
            for range in &ranges {
                proptest::prop_assert_eq!(range.start, next);
                proptest::prop_assert!(range.end > range.start || work.is_empty());
                next = range.end;
            }
            proptest::prop_assert_eq!(next, work.len());
            let cost = |r: &std::ops::Range<usize>| work[r.clone()].iter().map(|w| w + 1).sum::<usize>();
            let total: usize = work.iter().map(|w| w + 1).sum();
            let largest = work.iter().map(|w| w + 1).max().unwrap_or(0);
            for range in &ranges {
                proptest::prop_assert!(cost(range) <= total.div_ceil(ranges.len()) + largest);
            }
        }
    }

    fn sharded_batches_hold_the_batch_in_order<B: Backend>(device: &B::Device) {
        let graphs = tiny_graphs(9);
        let sharded: ShardedBatch<B> = ShardedGraphBatcher::new(4).batch(graphs.clone(), device);
        assert_eq!(sharded.shards.len(), 4);
        assert_eq!(sharded.num_graphs(), 9);
        let labels: Vec<i64> = sharded
            .shards
            .iter()
            .flat_map(|s| gnn_core::host::ints(s.y().cloned().expect("labelled")))
            .collect();
        let expected: Vec<i64> = graphs.iter().map(|g| g.label().unwrap() as i64).collect();
        assert_eq!(labels, expected);
        let one: ShardedBatch<B> = ShardedGraphBatcher::new(0).batch(graphs, device);
        assert_eq!(one.shards.len(), 1);
    }

    gnn_core::backend_tests!(sharded_batches_hold_the_batch_in_order);
}
