//! `gnn train`: the dataset, its folds (k-fold, a split file, or one stratified split), the
//! classifier the flags describe, then [`crate::train::run_on`] on the chosen backend and
//! devices; `run.json` keeps the arguments for `gnn train --resume DIR`.

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, Flex, NdArray};
use gnn_datasets::{
    Fold, GraphDataset, read_errica_splits, read_index_folds, stratified_k_fold, stratified_split,
};

use super::{CommandError, load_dataset};
use crate::atomic::write_atomic;
use crate::cli::{BackendArg, TrainArgs};
use crate::report::{LeftOut, RunReport};
use crate::train::{self, RunSpec, TrainError, interrupt::signal_interrupter};

/// File name of a run's arguments inside its folder (what `--resume` reads).
pub const RUN_FILE: &str = "run.json";

/// Flags that `--resume` lets differ from the run's: they change no result.
const FREE_ON_RESUME: [&str; 2] = ["resume", "quiet"];

/// The arguments of the run in `dir` (its `run.json`), for `gnn train --resume dir`: those of
/// `current` that were given on the command line must equal the run's (`--quiet` excepted).
///
/// # Errors
/// [`TrainError::Resume`] when `dir` holds no readable `run.json`;
/// [`CommandError::ResumeFlags`] naming the flags that differ.
pub fn resumed_args(dir: &Path, current: &TrainArgs) -> Result<TrainArgs, CommandError> {
    let path = dir.join(RUN_FILE);
    let resume_error = |message: String| {
        CommandError::Train(TrainError::Resume {
            path: path.clone(),
            message,
        })
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        resume_error(if e.kind() == std::io::ErrorKind::NotFound {
            "no run here (no run.json)".to_string()
        } else {
            e.to_string()
        })
    })?;
    let stored: TrainArgs = serde_json::from_str(&text).map_err(|e| resume_error(e.to_string()))?;
    let (now, then) = (
        serde_json::to_value(current)?,
        serde_json::to_value(&stored)?,
    );
    let differing: Vec<String> = current
        .given
        .iter()
        .filter(|id| !FREE_ON_RESUME.contains(&id.as_str()))
        .filter(|id| now.get(id.as_str()) != then.get(id.as_str()))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if !differing.is_empty() {
        return Err(CommandError::ResumeFlags {
            flags: differing.join(", "),
            run: dir.to_path_buf(),
        });
    }
    Ok(TrainArgs {
        out: Some(dir.to_path_buf()),
        resume: Some(dir.to_path_buf()),
        quiet: current.quiet,
        given: current.given.clone(),
        ..stored
    })
}

/// Trains every fold the arguments describe, printing a header, one line per epoch and per
/// fold (unless `--quiet`) and the test accuracy; writes the run's files under `--out`
/// (default `runs/DATASET-MODEL-CONV`). With `--resume DIR`, continues the run in DIR with its
/// arguments. Ctrl-C or SIGTERM stops after the current step (see
/// [`crate::train::interrupt`]).
///
/// # Errors
/// A dataset or split file that cannot be read, an empty dataset, a training failure, an
/// interruption ([`TrainError::Interrupted`]), a run that cannot be resumed, or
/// `--backend wgpu` without the `wgpu` feature.
pub fn execute(args: &TrainArgs) -> Result<(), CommandError> {
    let resumed;
    let args = match &args.resume {
        Some(dir) => {
            resumed = resumed_args(dir, args)?;
            &resumed
        }
        None => args,
    };
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
    let mut training = args.training();
    if !classifier.shardable() {
        // DiffPool's batch norm needs whole batches: one shard, and the reports say so.
        training.threads = 1;
    }
    if args.resume.is_none() {
        // With the thread count resolved, so that a resume on another machine trains the same.
        let stored = TrainArgs {
            threads: Some(training.threads),
            out: Some(out.clone()),
            ..args.clone()
        };
        let path = out.join(RUN_FILE);
        let text = serde_json::to_string_pretty(&stored)?;
        write_atomic(&path, (text + "\n").as_bytes())
            .map_err(|source| CommandError::Write { path, source })?;
    }
    if !args.quiet {
        println!(
            "{}{name}: {} graphs, {} node features, {} classes | model {} conv {} hidden {} readout {} | {} fold(s), up to {} epochs, batch {}, lr {}, backend {}, {} device(s), {} thread(s) | out {}",
            if args.resume.is_some() {
                "resuming "
            } else {
                ""
            },
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
            args.devices.unwrap_or(1),
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
        interrupter: signal_interrupter(),
        resume: args.resume.is_some(),
        on_epoch_end: None,
    };
    let devices = args.devices.unwrap_or(1);
    let report = match args.backend {
        BackendArg::Flex => {
            train::run_on::<Autodiff<Flex>>(&spec, &vec![Default::default(); devices])?
        }
        BackendArg::Ndarray => {
            train::run_on::<Autodiff<NdArray<f32>>>(&spec, &vec![Default::default(); devices])?
        }
        BackendArg::Wgpu => run_wgpu(&spec, devices)?,
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
fn run_wgpu(spec: &RunSpec, devices: usize) -> Result<RunReport, CommandError> {
    let devices = wgpu_devices(devices)?;
    Ok(train::run_on::<Autodiff<burn::backend::Wgpu>>(
        spec, &devices,
    )?)
}

#[cfg(not(feature = "wgpu"))]
fn run_wgpu(_spec: &RunSpec, _devices: usize) -> Result<RunReport, CommandError> {
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

/// The first `n` Wgpu devices: the default device for one; else `n` adapters of the first kind
/// (discrete, integrated, virtual GPUs, then CPUs) that has `n`.
///
/// # Errors
/// [`CommandError::Devices`] when no kind has `n` adapters.
#[cfg(feature = "wgpu")]
pub fn wgpu_devices(n: usize) -> Result<Vec<burn::backend::wgpu::WgpuDevice>, CommandError> {
    use burn::backend::wgpu::WgpuDevice;
    use burn::tensor::backend::Backend;
    if n <= 1 {
        return Ok(vec![WgpuDevice::DefaultDevice]);
    }
    type Kind = fn(usize) -> WgpuDevice;
    let kinds: [(u16, &str, Kind); 4] = [
        (0, "discrete", WgpuDevice::DiscreteGpu),
        (1, "integrated", WgpuDevice::IntegratedGpu),
        (2, "virtual", WgpuDevice::VirtualGpu),
        (3, "CPU", |_| WgpuDevice::Cpu),
    ];
    let mut found = Vec::new();
    for (type_id, name, device) in kinds {
        let count = <burn::backend::Wgpu as Backend>::device_count(type_id);
        // A CPU adapter is one device however many handles point at it.
        if count >= n && type_id != 3 {
            return Ok((0..n).map(device).collect());
        }
        found.push(format!("{count} {name}"));
    }
    Err(CommandError::Devices {
        asked: n,
        found: found.join(", "),
    })
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
