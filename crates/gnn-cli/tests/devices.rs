//! Training on several devices through burn-train's `ExecutionStrategy::MultiDevice`: two
//! device handles train as well as one. On Wgpu (feature `test-wgpu`) the two handles are
//! `WgpuDevice::Cpu` and `WgpuDevice::DefaultDevice`, two devices for Burn (each its own queue)
//! on one adapter, which is what a machine without two GPUs (Mesa's lavapipe in CI) offers; on
//! Flex the two handles are the one CPU device twice.

use gnn_cli::config::TrainingConfig;
use gnn_cli::report::FoldReport;
use gnn_cli::train::{FoldData, FoldOptions, train_fold_with};
use gnn_core::Graph;
use gnn_core::segment::SegmentAutodiffBackend;
use gnn_core::testing::tiny_graphs;
use gnn_datasets::GraphDataset;
use gnn_models::{ClassifierConfig, HierarchicalClassifierConfig};

/// Two classes that the features separate: label 1 graphs have larger features.
fn labelled(count: usize) -> GraphDataset {
    let graphs = tiny_graphs(count)
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let label = i % 2;
            let x = g.x().iter().map(|v| v + 2.0 * label as f32).collect();
            Graph::new(g.num_nodes(), g.num_features(), x, g.edges().to_vec())
                .expect("valid")
                .with_label(label)
        })
        .collect();
    GraphDataset::new(graphs).expect("valid dataset")
}

fn fold_on<B: SegmentAutodiffBackend>(devices: Vec<B::Device>) -> FoldReport {
    let dataset = labelled(40);
    let part = |r: std::ops::Range<usize>| dataset.subset(&r.collect::<Vec<_>>()).expect("subset");
    let data = FoldData {
        fold: 0,
        folds: 1,
        train: part(0..28),
        valid: part(28..34),
        test: part(34..40),
    };
    let config = ClassifierConfig::from(
        HierarchicalClassifierConfig::new(3, 2)
            .with_hidden(8)
            .with_num_blocks(1)
            .with_dropout(0.0),
    );
    let training = TrainingConfig::new()
        .with_epochs(12)
        .with_batch_size(7)
        .with_lr(0.02)
        .with_patience(12)
        .with_threads(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let options = FoldOptions {
        devices,
        ..FoldOptions::on(&Default::default(), false)
    };
    let (report, _) =
        train_fold_with::<B>(&config, &training, data, dir.path(), &options).expect("trains");
    report
}

/// Two devices learn the separable task as one does: the training loss falls, and the selected
/// model's validation accuracy is as good.
fn two_devices_train_as_well_as_one<B: SegmentAutodiffBackend>(
    one: B::Device,
    two: [B::Device; 2],
) {
    let single = fold_on::<B>(vec![one]);
    let multi = fold_on::<B>(two.to_vec());
    for report in [&single, &multi] {
        assert_eq!(report.epochs_run, 12);
        let first = report.history.first().expect("epochs").train_loss;
        let last = report.history.last().expect("epochs").train_loss;
        assert!(last < first, "training loss went from {first} to {last}");
    }
    assert!(
        multi.valid_accuracy >= single.valid_accuracy - 1.0 / 6.0,
        "two devices: valid accuracy {} against {} on one",
        multi.valid_accuracy,
        single.valid_accuracy
    );
    assert!(multi.valid_accuracy >= 0.8, "{}", multi.valid_accuracy);
}

#[test]
fn two_flex_handles_train_as_well_as_one() {
    use burn::backend::{Autodiff, Flex};
    let device = Default::default();
    two_devices_train_as_well_as_one::<Autodiff<Flex>>(device, [device, device]);
}

#[cfg(feature = "test-wgpu")]
#[test]
fn two_wgpu_devices_train_as_well_as_one() {
    use burn::backend::wgpu::WgpuDevice;
    use burn::backend::{Autodiff, Wgpu};
    two_devices_train_as_well_as_one::<Autodiff<Wgpu>>(
        WgpuDevice::DefaultDevice,
        [WgpuDevice::Cpu, WgpuDevice::DefaultDevice],
    );
}
