//! `gnn train`: the dataset, its folds (k-fold, a split file, or one stratified split), the
//! classifier the flags describe, then [`crate::train::run()`] on the chosen backend.

use std::path::PathBuf;

use burn::backend::{Autodiff, Flex, NdArray};
use gnn_datasets::{
    Fold, GraphDataset, read_errica_splits, read_index_folds, stratified_k_fold, stratified_split,
};

use super::{CommandError, load_dataset};
use crate::cli::{BackendArg, TrainArgs};
use crate::report::{LeftOut, RunReport};
use crate::train::{self, RunSpec};

/// Trains every fold the arguments describe, printing a header, one line per epoch and per
/// fold (unless `--quiet`) and the test accuracy; writes the run's files under `--out`
/// (default `runs/DATASET-MODEL-CONV`).
///
/// # Errors
/// A dataset or split file that cannot be read, an empty dataset, a training failure, or
/// `--backend wgpu` without the `wgpu` feature.
pub fn execute(args: &TrainArgs) -> Result<(), CommandError> {
    let (name, attribute_columns, dataset) = load_dataset(
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        args.use_node_attr,
        args.graphs,
        args.seed,
    )?;
    if dataset.graphs().is_empty() {
        return Err(CommandError::EmptyDataset { name });
    }
    let folds = folds(args, &dataset)?;
    let (folds, left_out) = leave_out_large_graphs(folds, &dataset, args.max_nodes);
    if let Some(cap) = left_out.max_nodes {
        // Printed even with --quiet: graphs are never dropped silently.
        let largest = dataset
            .graphs()
            .iter()
            .map(|g| g.num_nodes())
            .max()
            .unwrap_or(0);
        println!(
            "{name}: --max-nodes {cap} leaves out {} of {} graphs (more than {cap} nodes; the largest has {largest}) from every fold's training, validation and test sets",
            left_out.graphs.len(),
            dataset.graphs().len(),
        );
    }
    let classifier = args.classifier(dataset.num_features(), dataset.num_classes().max(2));
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "{}-{}-{}",
            name,
            args.model.name(),
            args.conv.name()
        ))
    });
    let training = args.training();
    if !args.quiet {
        println!(
            "{name}: {} graphs, {} node features, {} classes | model {} conv {} hidden {} readout {} | {} fold(s), up to {} epochs, batch {}, lr {}, backend {}, {} thread(s) | out {}",
            dataset.graphs().len(),
            dataset.num_features(),
            classifier.num_classes(),
            args.model.name(),
            args.conv.name(),
            args.hidden,
            args.readout.name(),
            folds.len(),
            training.epochs,
            training.batch_size,
            training.lr,
            args.backend.name(),
            training.threads,
            out.display()
        );
    }
    let spec = RunSpec {
        dataset_name: name,
        dataset,
        attribute_columns: if args.use_node_attr {
            attribute_columns
        } else {
            0
        },
        folds,
        left_out,
        classifier,
        training,
        out: out.clone(),
        model_name: args.model.name().to_string(),
        conv_name: args.conv.name().to_string(),
        backend_name: args.backend.name().to_string(),
        verbose: !args.quiet,
    };
    let report = match args.backend {
        BackendArg::Flex => train::run::<Autodiff<Flex>>(&spec, &Default::default())?,
        BackendArg::Ndarray => train::run::<Autodiff<NdArray<f32>>>(&spec, &Default::default())?,
        BackendArg::Wgpu => run_wgpu(&spec)?,
    };
    if report.folds > 1 {
        println!(
            "test accuracy {:.4} ± {:.4} over {} folds | {:.3} s/epoch | {:.1} s | {}",
            report.test_accuracy_mean,
            report.test_accuracy_std,
            report.folds,
            report.seconds_per_epoch,
            report.total_seconds,
            out.join("metrics.json").display()
        );
    } else {
        println!(
            "test accuracy {:.4} | {:.3} s/epoch | {:.1} s | {}",
            report.test_accuracy_mean,
            report.seconds_per_epoch,
            report.total_seconds,
            out.join("metrics.json").display()
        );
    }
    Ok(())
}

#[cfg(feature = "wgpu")]
fn run_wgpu(spec: &RunSpec) -> Result<RunReport, CommandError> {
    Ok(train::run::<Autodiff<burn::backend::Wgpu>>(
        spec,
        &Default::default(),
    )?)
}

#[cfg(not(feature = "wgpu"))]
fn run_wgpu(_spec: &RunSpec) -> Result<RunReport, CommandError> {
    // `cli::parse` refuses `--backend wgpu` in a build without the feature.
    Err(CommandError::NoWgpu)
}

/// The folds without the graphs of more than `max_nodes` nodes, and which graphs those are.
pub fn leave_out_large_graphs(
    folds: Vec<Fold>,
    dataset: &GraphDataset,
    max_nodes: Option<usize>,
) -> (Vec<Fold>, LeftOut) {
    let Some(cap) = max_nodes else {
        return (folds, LeftOut::default());
    };
    let graphs = dataset.graphs();
    let keep = |indices: Vec<usize>| -> Vec<usize> {
        indices
            .into_iter()
            .filter(|&i| graphs[i].num_nodes() <= cap)
            .collect()
    };
    let left_out = LeftOut {
        max_nodes: Some(cap),
        graphs: (0..graphs.len())
            .filter(|&i| graphs[i].num_nodes() > cap)
            .collect(),
    };
    let folds = folds
        .into_iter()
        .map(|fold| Fold {
            train: keep(fold.train),
            valid: keep(fold.valid),
            test: keep(fold.test),
        })
        .collect();
    (folds, left_out)
}

/// The folds of the run: from `--splits` (a split file or a folder of index files), else
/// `--folds K` stratified folds, else one stratified 80/10/10 split; each with a validation
/// set (see [`with_validation`]).
///
/// # Errors
/// [`CommandError::Data`] for an unreadable split file or a dataset too small to split.
pub fn folds(args: &TrainArgs, dataset: &GraphDataset) -> Result<Vec<Fold>, CommandError> {
    let labels = dataset.labels();
    let folds = match (&args.splits, args.folds) {
        (Some(path), _) if path.is_dir() => read_index_folds(path, labels.len()),
        (Some(path), _) => read_errica_splits(path, labels.len()),
        (None, Some(k)) => stratified_k_fold(&labels, k, 0.1, args.seed),
        (None, None) => stratified_split(&labels, 0.8, 0.1, 0.1, args.seed).map(|fold| vec![fold]),
    }?;
    folds
        .into_iter()
        .map(|fold| with_validation(fold, &labels, args.seed))
        .collect()
}

/// Split files without a validation set (DGCNN's) get one: a stratified 10% of the training
/// graphs, for early stopping and checkpoint selection. A fold with a validation set is
/// returned as it is.
///
/// # Errors
/// [`CommandError::Data`] when the training graphs cannot be split.
pub fn with_validation(fold: Fold, labels: &[usize], seed: u64) -> Result<Fold, CommandError> {
    if !fold.valid.is_empty() {
        return Ok(fold);
    }
    let train_labels: Vec<usize> = fold.train.iter().map(|&i| labels[i]).collect();
    let inner = stratified_split(&train_labels, 0.9, 0.1, 0.0, seed)?;
    Ok(Fold {
        train: inner.train.iter().map(|&i| fold.train[i]).collect(),
        valid: inner.valid.iter().map(|&i| fold.train[i]).collect(),
        test: fold.test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_nodes_leaves_large_graphs_out_of_every_part_and_names_them() {
        let graphs = gnn_core::testing::tiny_graphs(10);
        let dataset = GraphDataset::new(graphs).expect("dataset");
        let fold = Fold {
            train: (0..6).collect(),
            valid: vec![6, 7],
            test: vec![8, 9],
        };
        // tiny_graphs: graph g has 1 + g % 7 nodes, so 4, 5, 6 have more than 4.
        let (folds, left_out) = leave_out_large_graphs(vec![fold.clone()], &dataset, Some(4));
        assert_eq!(left_out.max_nodes, Some(4));
        assert_eq!(left_out.graphs, vec![4, 5, 6]);
        assert_eq!(folds[0].train, vec![0, 1, 2, 3]);
        assert_eq!(folds[0].valid, vec![7]);
        assert_eq!(folds[0].test, vec![8, 9]);
        let (same, none) = leave_out_large_graphs(vec![fold.clone()], &dataset, None);
        assert_eq!(
            (same[0].train.clone(), none),
            (fold.train, LeftOut::default())
        );
    }

    #[test]
    fn folds_without_validation_get_a_tenth_of_the_training_graphs() {
        let labels: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let fold = Fold {
            train: (0..30).collect(),
            valid: Vec::new(),
            test: (30..40).collect(),
        };
        let split = with_validation(fold.clone(), &labels, 0).expect("splits");
        assert!(!split.valid.is_empty() && split.valid.len() < split.train.len());
        assert_eq!(split.test, fold.test);
        let mut all: Vec<usize> = split.train.iter().chain(&split.valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, fold.train);
        let kept = with_validation(split.clone(), &labels, 0).expect("kept");
        assert_eq!(kept.valid, split.valid);
    }
}
