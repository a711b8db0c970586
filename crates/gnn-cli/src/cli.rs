//! The command line of the `gnn` program: clap definitions and checked parsing.
//!
//! [`parse`] turns arguments into a [`Command`] or a [`CliError`] whose message is one line and
//! whose exit code is 2 for any bad flag or value (0 for `--help` / `--version`, which carry
//! their text in the message). The binary only dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gnn_core::conv::ConvKind;
use gnn_pool::{GlobalPool, Selection};

use crate::config::TrainingConfig;
use gnn_models::{Architecture, HierarchicalClassifierConfig, PoolKind};

/// Name of the built-in default dataset.
pub const DEFAULT_DATASET: &str = "BA-2Motifs";

/// Graphs in the built-in dataset unless `--graphs` says otherwise.
pub const DEFAULT_DATASET_GRAPHS: usize = 1000;

/// Hierarchical graph classification with Burn: train, evaluate, list datasets.
#[derive(Debug, Parser)]
#[command(name = "gnn", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a classifier (default: the built-in BA-2Motifs dataset) and report test accuracy.
    Train(TrainArgs),
    /// Evaluate a saved model on a TU dataset.
    Eval(EvalArgs),
    /// List the known TU datasets and which are cached.
    Datasets,
    /// Model selection: per fold, the run with the best validation accuracy; reports the
    /// chosen runs' test accuracy (runs of `gnn train` on the same folds).
    Select(SelectArgs),
}

/// Model kinds on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Hierarchical TopK pooling (PyG's proteins_topk_pool example).
    Topk,
    /// Hierarchical SAG pooling (SAGPool_h).
    Sag,
    /// Global SAG pooling (SAGPool_g): concatenated layers, one pooling.
    SagGlobal,
}

/// Convolutions on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvArg {
    /// GraphConv (sum aggregation).
    Graph,
    /// GCNConv.
    Gcn,
    /// GINConv.
    Gin,
    /// SAGEConv.
    Sage,
}

/// Readouts on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadoutArg {
    /// `[max ‖ mean]` (PyG's example, SAGPool).
    MaxMean,
    /// `[max ‖ sum]`: keeps the graph's size.
    MaxAdd,
    /// `[max ‖ mean ‖ sum]`.
    MaxMeanAdd,
    /// Sum.
    Add,
    /// Mean.
    Mean,
    /// Maximum.
    Max,
}

impl ReadoutArg {
    /// The name written in reports: the flag's value.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_owned())
    }

    /// The readout.
    pub fn pool(self) -> GlobalPool {
        match self {
            ReadoutArg::MaxMean => GlobalPool::MaxMean,
            ReadoutArg::MaxAdd => GlobalPool::MaxAdd,
            ReadoutArg::MaxMeanAdd => GlobalPool::MaxMeanAdd,
            ReadoutArg::Add => GlobalPool::Add,
            ReadoutArg::Mean => GlobalPool::Mean,
            ReadoutArg::Max => GlobalPool::Max,
        }
    }
}

/// Backends on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Burn's NdArray CPU backend.
    Ndarray,
    /// Burn's Flex CPU backend (the default, fastest here).
    Flex,
    /// Burn's Wgpu backend (builds with the `wgpu` feature only).
    Wgpu,
}

impl ModelArg {
    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelArg::Topk => "topk",
            ModelArg::Sag => "sag",
            ModelArg::SagGlobal => "sag-global",
        }
    }
}

impl ConvArg {
    /// The layer kind.
    pub fn kind(self) -> ConvKind {
        match self {
            ConvArg::Graph => ConvKind::Graph,
            ConvArg::Gcn => ConvKind::Gcn,
            ConvArg::Gin => ConvKind::Gin,
            ConvArg::Sage => ConvKind::Sage,
        }
    }

    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            ConvArg::Graph => "graph",
            ConvArg::Gcn => "gcn",
            ConvArg::Gin => "gin",
            ConvArg::Sage => "sage",
        }
    }
}

impl BackendArg {
    /// The name written in reports.
    pub fn name(self) -> &'static str {
        match self {
            BackendArg::Ndarray => "ndarray",
            BackendArg::Flex => "flex",
            BackendArg::Wgpu => "wgpu",
        }
    }
}

/// Arguments of `gnn train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// TU dataset by name, from the cache (`GNN_DATA_DIR`), downloaded when missing.
    #[arg(long, value_name = "NAME", conflicts_with = "data_dir")]
    pub dataset: Option<String>,
    /// TU dataset folder holding NAME_A.txt and friends.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Graphs of the built-in BA-2Motifs dataset (when no dataset is given).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_DATASET_GRAPHS)]
    pub graphs: usize,
    /// Keep TU node attributes (PyG's use_node_attr).
    #[arg(long)]
    pub use_node_attr: bool,
    /// Pooling architecture.
    #[arg(long, value_enum, default_value_t = ModelArg::Topk)]
    pub model: ModelArg,
    /// Message passing layer.
    #[arg(long, value_enum, default_value_t = ConvArg::Graph)]
    pub conv: ConvArg,
    /// Readout of the pooled graphs (after every block, or once for sag-global).
    #[arg(long, value_enum, default_value_t = ReadoutArg::MaxMean)]
    pub readout: ReadoutArg,
    /// Hidden width of the convolutions.
    #[arg(long, value_name = "H", default_value_t = 128)]
    pub hidden: usize,
    /// Number of blocks (convolutions).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub blocks: usize,
    /// Fraction of nodes each pooling keeps, in (0, 1].
    #[arg(long, value_name = "R", default_value_t = 0.8)]
    pub ratio: f64,
    /// Dropout of the head, in [0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.5)]
    pub dropout: f64,
    /// Maximum epochs per fold (early stopping usually ends a fold sooner).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,
    /// Graphs per batch.
    #[arg(long, value_name = "B", default_value_t = 60)]
    pub batch_size: usize,
    /// Adam learning rate (PyG's example: 5e-4).
    #[arg(long, value_name = "LR", default_value_t = 5e-4)]
    pub lr: f64,
    /// Adam weight decay.
    #[arg(long, value_name = "W", default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Clip each parameter's gradient to this L2 norm (0: no clipping).
    #[arg(long, value_name = "NORM", default_value_t = 0.0)]
    pub grad_clip: f64,
    /// Early stopping: epochs without a lower validation loss.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub patience: usize,
    /// Threads training on shards of each batch in parallel (default: the CPU cores for
    /// ndarray and flex, 1 for wgpu). Same gradients up to float rounding.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stratified k-fold cross-validation with K folds (default: one stratified 80/10/10 split).
    #[arg(long, value_name = "K", conflicts_with = "splits")]
    pub folds: Option<usize>,
    /// Split file of Errica et al. (e.g. NCI1_splits.json), one fold per outer split, or a folder
    /// of per-fold index files (see `data::read_index_folds`).
    #[arg(long, value_name = "FILE")]
    pub splits: Option<PathBuf>,
    /// Seed of splits, initialisation, dropout and shuffling.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Tensor backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
    /// Output folder [default: runs/DATASET-MODEL-CONV].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No per-epoch lines.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `gnn eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Folder of a saved model (model.json + model.mpk): a run's `--out` or one of its fold-K.
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// TU dataset folder to evaluate on (every graph).
    #[arg(long, value_name = "DIR", required_unless_present = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// TU dataset by name instead of a folder.
    #[arg(long, value_name = "NAME", conflicts_with = "data_dir")]
    pub dataset: Option<String>,
    /// Keep TU node attributes (must match training).
    #[arg(long)]
    pub use_node_attr: bool,
    /// Graphs per batch.
    #[arg(long, value_name = "B", default_value_t = 60)]
    pub batch_size: usize,
    /// Tensor backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Flex)]
    pub backend: BackendArg,
}

/// Arguments of `gnn select`.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Runs to choose from: `gnn train --out` folders (or their metrics.json), one per
    /// configuration, all on the same dataset and folds.
    #[arg(value_name = "RUN", required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Also write the selection as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A parse failure: one line to print and the process exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The message (one line, except the text of `--help`/`--version`).
    pub message: String,
    /// 2 for bad usage, 0 for `--help` / `--version`.
    pub code: u8,
}

impl CliError {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
}

/// Parses the arguments (the first is the program name) and checks every value.
///
/// # Errors
/// [`CliError`] with code 2 for an unknown flag, a malformed or out-of-range value, conflicting
/// flags, or a backend this build lacks; code 0 with the help or version text.
pub fn parse<I, T>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let code = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                };
                CliError {
                    message: e.to_string().trim_end().to_string(),
                    code,
                }
            }
            _ => CliError::usage(first_line(&e.to_string())),
        }
    })?;
    match &cli.command {
        Command::Train(args) => check_train(args)?,
        Command::Eval(args) => {
            check_backend(args.backend)?;
            positive("--batch-size", args.batch_size)?;
        }
        Command::Datasets | Command::Select(_) => {}
    }
    Ok(cli.command)
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("error: invalid arguments")
        .trim()
        .to_string()
}

fn positive(flag: &str, value: usize) -> Result<(), CliError> {
    if value == 0 {
        Err(CliError::usage(format!("error: {flag} must be at least 1")))
    } else {
        Ok(())
    }
}

/// Refuses a backend this build does not include.
///
/// # Errors
/// [`CliError`] (code 2) for `wgpu` without the `wgpu` feature.
pub fn check_backend(backend: BackendArg) -> Result<(), CliError> {
    if backend == BackendArg::Wgpu && !cfg!(feature = "wgpu") {
        return Err(CliError::usage(
            "error: this gnn was built without the wgpu backend: rebuild with `--features wgpu` (cargo run --release -p gnn-cli --features wgpu -- ...)",
        ));
    }
    Ok(())
}

fn check_train(args: &TrainArgs) -> Result<(), CliError> {
    check_backend(args.backend)?;
    positive("--hidden", args.hidden)?;
    positive("--blocks", args.blocks)?;
    positive("--batch-size", args.batch_size)?;
    positive("--graphs", args.graphs)?;
    if let Some(threads) = args.threads {
        positive("--threads", threads)?;
    }
    if args.hidden < 2 {
        return Err(CliError::usage(
            "error: --hidden must be at least 2 (the head halves it)",
        ));
    }
    positive("--epochs", args.epochs)?;
    positive("--patience", args.patience)?;
    if !(args.ratio > 0.0 && args.ratio <= 1.0) {
        return Err(CliError::usage(format!(
            "error: --ratio {} is outside (0, 1]",
            args.ratio
        )));
    }
    if !(0.0..1.0).contains(&args.dropout) {
        return Err(CliError::usage(format!(
            "error: --dropout {} is outside [0, 1)",
            args.dropout
        )));
    }
    if !(args.lr > 0.0 && args.lr.is_finite()) {
        return Err(CliError::usage(format!(
            "error: --lr {} must be a positive number",
            args.lr
        )));
    }
    if !(args.weight_decay >= 0.0 && args.weight_decay.is_finite()) {
        return Err(CliError::usage(format!(
            "error: --weight-decay {} must be a non-negative number",
            args.weight_decay
        )));
    }
    if !(args.grad_clip >= 0.0 && args.grad_clip.is_finite()) {
        return Err(CliError::usage(format!(
            "error: --grad-clip {} must be a non-negative number",
            args.grad_clip
        )));
    }
    if let Some(k) = args.folds
        && k < 2
    {
        return Err(CliError::usage(format!(
            "error: --folds {k}: cross-validation needs at least 2 folds"
        )));
    }
    if args.splits.is_some() && args.dataset.is_none() && args.data_dir.is_none() {
        return Err(CliError::usage(
            "error: --splits needs --dataset or --data-dir (split files index a TU dataset)",
        ));
    }
    if let Some(name) = &args.dataset
        && gnn_datasets::validate_name(name).is_err()
    {
        return Err(CliError::usage(format!(
            "error: --dataset {name:?} is not a valid dataset name"
        )));
    }
    Ok(())
}

impl TrainArgs {
    /// Whether the run uses the built-in dataset.
    pub fn uses_default_dataset(&self) -> bool {
        self.dataset.is_none() && self.data_dir.is_none()
    }

    /// The classifier for `d_input` features and `num_classes` classes.
    pub fn classifier(&self, d_input: usize, num_classes: usize) -> HierarchicalClassifierConfig {
        let (pool, architecture) = match self.model {
            ModelArg::Topk => (PoolKind::TopK, Architecture::Hierarchical),
            ModelArg::Sag => (PoolKind::Sag, Architecture::Hierarchical),
            ModelArg::SagGlobal => (PoolKind::Sag, Architecture::Global),
        };
        HierarchicalClassifierConfig::new(d_input, num_classes)
            .with_hidden(self.hidden)
            .with_num_blocks(self.blocks)
            .with_conv(self.conv.kind())
            .with_pool(pool)
            .with_architecture(architecture)
            .with_selection(Selection::Ratio(self.ratio))
            .with_readout(self.readout.pool())
            .with_dropout(self.dropout)
    }

    /// The optimisation settings.
    pub fn training(&self) -> TrainingConfig {
        TrainingConfig::new()
            .with_epochs(self.epochs)
            .with_lr(self.lr)
            .with_batch_size(self.batch_size)
            .with_weight_decay(self.weight_decay)
            .with_patience(self.patience)
            .with_grad_clip_norm(self.grad_clip)
            .with_seed(self.seed)
            .with_threads(self.threads())
    }

    /// Threads per training step: `--threads`, else every core on a CPU backend and one on
    /// Wgpu (a GPU runs one shard's kernels in parallel already).
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| match self.backend {
            BackendArg::Wgpu => 1,
            BackendArg::Flex | BackendArg::Ndarray => {
                std::thread::available_parallelism().map_or(1, usize::from)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(args: &[&str]) -> Result<TrainArgs, CliError> {
        let all = ["gnn", "train"].iter().chain(args).copied();
        match parse(all)? {
            Command::Train(a) => Ok(a),
            other => panic!("not a train command: {other:?}"),
        }
    }

    #[test]
    fn no_arguments_train_on_the_builtin_dataset_with_pygs_model() {
        let args = train(&[]).expect("parses");
        assert!(args.uses_default_dataset());
        assert_eq!(
            (args.model, args.conv, args.backend),
            (ModelArg::Topk, ConvArg::Graph, BackendArg::Flex)
        );
        let config = args.classifier(8, 2);
        assert_eq!((config.hidden, config.num_blocks), (128, 3));
        assert_eq!(config.selection, Selection::Ratio(0.8));
        assert_eq!(config.readout, GlobalPool::MaxMean);
        let training = args.training();
        assert_eq!(
            (training.epochs, training.batch_size, training.lr),
            (100, 60, 5e-4)
        );
        let tu = train(&[
            "--data-dir",
            "x",
            "--model",
            "sag-global",
            "--conv",
            "gin",
            "--readout",
            "max-mean-add",
            "--folds",
            "10",
        ])
        .expect("parses");
        assert!(!tu.uses_default_dataset());
        assert_eq!(tu.classifier(3, 2).architecture, Architecture::Global);
        assert_eq!(tu.classifier(3, 2).readout, GlobalPool::MaxMeanAdd);
        assert_eq!(tu.readout.name(), "max-mean-add");
    }

    #[test]
    fn bad_flags_and_values_exit_2_with_one_line() {
        for bad in [
            &["--frobnicate"][..],
            &["--hidden", "many"],
            &["--hidden", "0"],
            &["--hidden", "-3"],
            &["--ratio", "1.5"],
            &["--ratio", "0"],
            &["--ratio", "NaN"],
            &["--lr", "-1"],
            &["--dropout", "1"],
            &["--epochs", "0"],
            &["--folds", "1"],
            &["--model", "diffpool"],
            &["--conv", "gat"],
            &["--readout", "set2set"],
            &["--backend", "cuda"],
            &["--dataset", "A", "--data-dir", "B"],
            &["--folds", "3", "--splits", "f.json", "--data-dir", "d"],
            &["--splits", "f.json"],
            &["--dataset", "../etc"],
            &["--batch-size", "0"],
            &["--threads", "0"],
            &["--threads", "two"],
        ] {
            let err = train(bad).expect_err(&format!("{bad:?} should be refused"));
            assert_eq!(err.code, 2, "{bad:?}: {}", err.message);
            assert_eq!(err.message.lines().count(), 1, "{bad:?}: {}", err.message);
            assert!(err.message.starts_with("error"), "{bad:?}: {}", err.message);
        }
        let err = parse(["gnn", "evaluate"]).expect_err("unknown subcommand");
        assert_eq!(err.code, 2);
        let err = parse(["gnn", "eval", "--data-dir", "d"]).expect_err("missing --checkpoint");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
        assert_eq!(parse(["gnn", "--help"]).expect_err("help").code, 0);
        assert_eq!(parse(["gnn"]).expect_err("no subcommand").code, 2);
        let err = parse(["gnn", "select"]).expect_err("no run");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
    }

    #[test]
    fn threads_default_to_the_cores_on_cpu_and_one_on_wgpu() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(train(&[]).expect("parses").training().threads, cores);
        assert_eq!(
            train(&["--threads", "3"])
                .expect("parses")
                .training()
                .threads,
            3
        );
        let mut wgpu = train(&[]).expect("parses");
        wgpu.backend = BackendArg::Wgpu;
        assert_eq!(wgpu.threads(), 1);
        let Command::Select(select) = parse(["gnn", "select", "a", "b"]).expect("parses") else {
            panic!("not select");
        };
        assert_eq!(select.runs.len(), 2);
    }

    #[test]
    fn wgpu_needs_the_feature() {
        let result = train(&["--backend", "wgpu"]);
        if cfg!(feature = "wgpu") {
            assert!(result.is_ok());
        } else {
            let err = result.expect_err("no wgpu in this build");
            assert_eq!(err.code, 2);
            assert!(err.message.contains("--features wgpu"));
        }
    }
}
