//! `gnn`: train and evaluate hierarchical graph classifiers.
//!
//! ```text
//! cargo run --release -p gnn-cli -- train
//! gnn train --data-dir ../shared/datasets/TU/PROTEINS --folds 10 --out runs/proteins
//! gnn eval --checkpoint runs/proteins --data-dir ../shared/datasets/TU/PROTEINS
//! gnn datasets
//! gnn select runs/proteins-graph runs/proteins-gcn
//! ```
//!
//! Exit codes: 0 success, 1 a failure while running (unreadable data, I/O), 2 bad usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::Backend;
use gnn_cli::cli::{
    self, BackendArg, Command, DEFAULT_DATASET, EvalArgs, SelectArgs, TrainArgs,
};
use gnn_datasets::{
    DatasetSource, Fold, GraphDataset, TuDataset, TuOptions, ba_2motifs, load_tu_dir,
    read_errica_splits, read_index_folds, stratified_k_fold, stratified_split,
};
use gnn_cli::model_selection::{metrics_path, select_per_fold};
use gnn_cli::report::RunReport;
use gnn_cli::train::{self, RunSpec, evaluate, load_model};

fn main() -> ExitCode {
    gnn_core::cpu::flush_subnormals();
    gnn_core::cpu::reuse_freed_memory();
    let command = match cli::parse(std::env::args_os()) {
        Ok(command) => command,
        Err(e) => {
            if e.code == 0 {
                println!("{}", e.message);
            } else {
                eprintln!("{}", e.message);
            }
            return ExitCode::from(e.code);
        }
    };
    let outcome = match command {
        Command::Train(args) => train_command(&args),
        Command::Eval(args) => eval_command(&args),
        Command::Datasets => datasets_command(),
        Command::Select(args) => select_command(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the dataset the arguments name: a TU folder, a TU name from the cache, or the
/// built-in BA-2Motifs.
fn load_dataset(
    dataset: Option<&str>,
    data_dir: Option<&Path>,
    use_node_attr: bool,
    builtin_graphs: usize,
    seed: u64,
) -> Result<(String, GraphDataset), String> {
    let options = TuOptions::default().with_node_attributes(use_node_attr);
    let tu = |loaded: Result<TuDataset, gnn_datasets::DataError>| -> Result<(String, GraphDataset), String> {
        let tu = loaded.map_err(|e| e.to_string())?;
        let name = tu.name().to_string();
        let graphs = GraphDataset::try_from(tu).map_err(|e| e.to_string())?;
        Ok((name, graphs))
    };
    match (dataset, data_dir) {
        (_, Some(dir)) => tu(load_tu_dir(dir, &options)),
        (Some(name), None) => tu(DatasetSource::from_env().and_then(|s| s.load(name, &options))),
        (None, None) => {
            let graphs =
                GraphDataset::new(ba_2motifs(builtin_graphs, seed)).map_err(|e| e.to_string())?;
            Ok((DEFAULT_DATASET.to_string(), graphs))
        }
    }
}

fn folds(args: &TrainArgs, dataset: &GraphDataset) -> Result<Vec<Fold>, String> {
    let labels = dataset.labels();
    let result = match (&args.splits, args.folds) {
        (Some(path), _) if path.is_dir() => read_index_folds(path, labels.len()),
        (Some(path), _) => read_errica_splits(path, labels.len()),
        (None, Some(k)) => stratified_k_fold(&labels, k, 0.1, args.seed),
        (None, None) => stratified_split(&labels, 0.8, 0.1, 0.1, args.seed).map(|fold| vec![fold]),
    };
    let folds = result.map_err(|e| e.to_string())?;
    folds
        .into_iter()
        .map(|fold| with_validation(fold, &labels, args.seed))
        .collect()
}

/// Split files without a validation set (DGCNN's) get one: a stratified 10% of the training
/// graphs, for early stopping and checkpoint selection.
fn with_validation(fold: Fold, labels: &[usize], seed: u64) -> Result<Fold, String> {
    if !fold.valid.is_empty() {
        return Ok(fold);
    }
    let train_labels: Vec<usize> = fold.train.iter().map(|&i| labels[i]).collect();
    let inner = stratified_split(&train_labels, 0.9, 0.1, 0.0, seed).map_err(|e| e.to_string())?;
    Ok(Fold {
        train: inner.train.iter().map(|&i| fold.train[i]).collect(),
        valid: inner.valid.iter().map(|&i| fold.train[i]).collect(),
        test: fold.test,
    })
}

fn train_command(args: &TrainArgs) -> Result<(), String> {
    let (name, dataset) = load_dataset(
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        args.use_node_attr,
        args.graphs,
        args.seed,
    )?;
    if dataset.graphs().is_empty() {
        return Err(format!("dataset {name} has no graph"));
    }
    let folds = folds(args, &dataset)?;
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
            classifier.num_classes,
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
        folds,
        classifier,
        training,
        out: out.clone(),
        model_name: args.model.name().to_string(),
        conv_name: args.conv.name().to_string(),
        backend_name: args.backend.name().to_string(),
        verbose: !args.quiet,
    };
    let report = match args.backend {
        BackendArg::Flex => train::run::<Autodiff<Flex>>(&spec, &Default::default()),
        BackendArg::Ndarray => train::run::<Autodiff<NdArray<f32>>>(&spec, &Default::default()),
        BackendArg::Wgpu => run_wgpu(&spec),
    }
    .map_err(|e| e.to_string())?;
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
fn run_wgpu(spec: &RunSpec) -> Result<gnn_cli::report::RunReport, train::TrainError> {
    train::run::<Autodiff<burn::backend::Wgpu>>(spec, &Default::default())
}

#[cfg(not(feature = "wgpu"))]
fn run_wgpu(_spec: &RunSpec) -> Result<gnn_cli::report::RunReport, train::TrainError> {
    // `cli::parse` refuses `--backend wgpu` in a build without the feature.
    Err(train::TrainError::Invalid(
        "this gnn was built without wgpu: rebuild with `--features wgpu`".into(),
    ))
}

fn eval_on<B: Backend>(args: &EvalArgs, name: &str, dataset: &GraphDataset) -> Result<(), String> {
    let device = B::Device::default();
    let (model, _) = load_model::<B>(&args.checkpoint, &device).map_err(|e| e.to_string())?;
    let result = evaluate(&model, dataset, args.batch_size, &device).map_err(|e| e.to_string())?;
    println!(
        "{name}: accuracy {:.4} | loss {:.4} | {} graphs",
        result.accuracy, result.loss, result.graphs
    );
    Ok(())
}

fn eval_command(args: &EvalArgs) -> Result<(), String> {
    let (name, dataset) = load_dataset(
        args.dataset.as_deref(),
        args.data_dir.as_deref(),
        args.use_node_attr,
        0,
        0,
    )?;
    match args.backend {
        BackendArg::Flex => eval_on::<Flex>(args, &name, &dataset),
        BackendArg::Ndarray => eval_on::<NdArray<f32>>(args, &name, &dataset),
        BackendArg::Wgpu => eval_wgpu(args, &name, &dataset),
    }
}

#[cfg(feature = "wgpu")]
fn eval_wgpu(args: &EvalArgs, name: &str, dataset: &GraphDataset) -> Result<(), String> {
    eval_on::<burn::backend::Wgpu>(args, name, dataset)
}

#[cfg(not(feature = "wgpu"))]
fn eval_wgpu(_args: &EvalArgs, _name: &str, _dataset: &GraphDataset) -> Result<(), String> {
    Err("this gnn was built without wgpu: rebuild with `--features wgpu`".into())
}

fn datasets_command() -> Result<(), String> {
    let source = DatasetSource::from_env().map_err(|e| e.to_string())?;
    println!("{DEFAULT_DATASET:<16} built in (generated in code; the default of `gnn train`)");
    println!("cache: {}", source.cache_dir().display());
    for status in source.list() {
        let state = if status.cached {
            "cached"
        } else {
            "not cached (downloaded on first use)"
        };
        let known = if status.known {
            ""
        } else {
            " (not a known name)"
        };
        println!(
            "{:<16} {state}{known}  {}",
            status.name,
            status.path.display()
        );
    }
    Ok(())
}

fn select_command(args: &SelectArgs) -> Result<(), String> {
    let mut runs = Vec::with_capacity(args.runs.len());
    let mut names = Vec::with_capacity(args.runs.len());
    for run in &args.runs {
        let path = metrics_path(run.clone());
        let report = RunReport::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "run {}: {} | {} {} | test {:.4} ± {:.4} over {} folds",
            runs.len(),
            run.display(),
            report.model,
            report.conv,
            report.test_accuracy_mean,
            report.test_accuracy_std,
            report.folds
        );
        names.push(run.display().to_string());
        runs.push(report);
    }
    let selection = select_per_fold(&runs).map_err(|e| e.to_string())?;
    for choice in &selection.choices {
        println!(
            "fold {:>2}: run {} | valid {:.4} | test {:.4}",
            choice.fold, choice.run, choice.valid_accuracy, choice.test_accuracy
        );
    }
    println!(
        "{}: selected on validation, test accuracy {:.4} ± {:.4} over {} folds",
        selection.dataset,
        selection.test_accuracy_mean,
        selection.test_accuracy_std,
        selection.choices.len()
    );
    if let Some(out) = &args.out {
        let json = serde_json::json!({ "runs": names, "selection": selection });
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        std::fs::write(out, text + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}
