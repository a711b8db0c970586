//! [`EpochLoader`]: the training data loader, whose epoch `e` is a pure function of
//! (seed, `e`), so that a run resumed at epoch `e` sees what the uninterrupted run saw.
//!
//! Burn's `DataLoaderBuilder::shuffle(seed)` keeps one random generator that every epoch
//! advances (and `to_device`/`slice` fork), so a loader built afresh for a resume would replay
//! epoch 1's order. Here epoch `e` shuffles with a generator seeded from (seed, `e`) and, before
//! its first batch, seeds the backend from (seed, `e`) too (`Backend::seed`: dropout masks), so
//! neither depends on what ran before. The fold is part of the seed (`seed + fold`).

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::tensor::backend::Backend;
use gnn_core::Graph;
use gnn_models::train::{ShardedBatch, ShardedGraphBatcher};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A well-mixed 64-bit value of `x` (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of epoch `epoch` (from 1) of a run seeded with `seed`: for the shuffle, and (mixed
/// once more) for the backend.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    mix(seed ^ mix(epoch as u64))
}

/// The order in which epoch `epoch` visits `len` items: a permutation drawn from
/// [`epoch_seed`].
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(seed, epoch)));
    order
}

/// Training batches of graphs, reshuffled every epoch as a pure function of (seed, epoch), in
/// shards for [`gnn_models::train::data_parallel_step`].
///
/// Each call of `iter` is the next epoch, starting from the epoch given to [`new`](Self::new).
/// `slice` (burn-train's multi-device strategy gives each device a slice) cuts the epoch's
/// order, so the slices of one epoch partition the same permutation.
pub struct EpochLoader<B: Backend> {
    graphs: Arc<Vec<Graph>>,
    range: Range<usize>,
    batcher: ShardedGraphBatcher,
    batch_size: usize,
    seed: u64,
    device: B::Device,
    next_epoch: AtomicUsize,
}

impl<B: Backend> EpochLoader<B> {
    /// A loader of `graphs` in batches of `batch_size` (at least 1), cut in shards by
    /// `batcher`, on `device`, whose first `iter` is epoch `first_epoch` (from 1).
    pub fn new(
        graphs: Vec<Graph>,
        batcher: ShardedGraphBatcher,
        batch_size: usize,
        seed: u64,
        device: B::Device,
        first_epoch: usize,
    ) -> Self {
        let len = graphs.len();
        Self {
            graphs: Arc::new(graphs),
            range: 0..len,
            batcher,
            batch_size: batch_size.max(1),
            seed,
            device,
            next_epoch: AtomicUsize::new(first_epoch.max(1)),
        }
    }

    fn with(&self, range: Range<usize>, device: B::Device) -> Self {
        Self {
            graphs: self.graphs.clone(),
            range,
            batcher: self.batcher,
            batch_size: self.batch_size,
            seed: self.seed,
            device,
            next_epoch: AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst)),
        }
    }
}

struct EpochIter<'a, B: Backend> {
    loader: &'a EpochLoader<B>,
    order: Vec<usize>,
    position: usize,
}

impl<B: Backend> Iterator for EpochIter<'_, B> {
    type Item = ShardedBatch<B>;

    fn next(&mut self) -> Option<ShardedBatch<B>> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.loader.batch_size).min(self.order.len());
        let items = self.order[self.position..end]
            .iter()
            .map(|&i| self.loader.graphs[i].clone())
            .collect();
        self.position = end;
        Some(self.loader.batcher.batch(items, &self.loader.device))
    }
}

impl<B: Backend> DataLoaderIterator<ShardedBatch<B>> for EpochIter<'_, B> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len())
    }
}

impl<B: Backend> DataLoader<B, ShardedBatch<B>> for EpochLoader<B> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<ShardedBatch<B>> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        let order = epoch_order(self.graphs.len(), self.seed, epoch)[self.range.clone()].to_vec();
        B::seed(
            &self.device,
            mix(epoch_seed(self.seed, epoch) ^ self.range.start as u64),
        );
        Box::new(EpochIter {
            loader: self,
            order,
            position: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.range.len()
    }

    fn to_device(&self, device: &B::Device) -> Arc<dyn DataLoader<B, ShardedBatch<B>>> {
        Arc::new(self.with(self.range.clone(), device.clone()))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<B, ShardedBatch<B>>> {
        let end = end.min(self.range.len());
        let start = start.min(end);
        let range = self.range.start + start..self.range.start + end;
        Arc::new(self.with(range, self.device.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use gnn_core::testing::tiny_graphs;

    fn labels(batch: &ShardedBatch<Flex>) -> Vec<i64> {
        batch
            .shards
            .iter()
            .flat_map(|s| gnn_core::host::ints(s.y().cloned().expect("labelled")))
            .collect()
    }

    fn epoch(loader: &dyn DataLoader<Flex, ShardedBatch<Flex>>) -> Vec<Vec<i64>> {
        loader.iter().map(|b| labels(&b)).collect()
    }

    #[test]
    fn each_epoch_is_a_function_of_the_seed_and_its_number() {
        // Labels identify graphs here: relabel the graphs 0..n.
        let graphs: Vec<Graph> = tiny_graphs(10)
            .into_iter()
            .enumerate()
            .map(|(i, g)| g.with_label(i))
            .collect();
        let device = Default::default();
        let from_one =
            EpochLoader::<Flex>::new(graphs.clone(), ShardedGraphBatcher::new(2), 4, 7, device, 1);
        let epochs: Vec<_> = (0..3).map(|_| epoch(&from_one)).collect();
        // Batches of 4, 4, 2, each epoch a permutation of all graphs, epochs differ.
        for e in &epochs {
            assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
            let mut all: Vec<i64> = e.concat();
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<_>>());
        }
        assert_ne!(epochs[0], epochs[1]);
        // A loader started at epoch 3 (a resume) gives epoch 3; one moved to a device too.
        let from_three =
            EpochLoader::<Flex>::new(graphs.clone(), ShardedGraphBatcher::new(1), 4, 7, device, 3);
        assert_eq!(epoch(from_three.to_device(&device).as_ref()), epochs[2]);
        // Slices of one epoch partition its order.
        let fresh = EpochLoader::<Flex>::new(graphs, ShardedGraphBatcher::new(1), 4, 7, device, 1);
        let (a, b) = (fresh.slice(0, 5), fresh.slice(5, 10));
        assert_eq!((a.num_items(), b.num_items()), (5, 5));
        let halves = [epoch(a.as_ref()).concat(), epoch(b.as_ref()).concat()].concat();
        assert_eq!(halves, epochs[0].concat());
        assert_eq!(
            epoch_order(10, 7, 2),
            epochs[1]
                .concat()
                .iter()
                .map(|&l| l as usize)
                .collect::<Vec<_>>()
        );
    }
}
