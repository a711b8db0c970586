//! The command line of the `gnn` program: clap definitions and checked parsing.
//!
//! [`parse`] turns arguments into a [`Command`] or a [`CliError`] whose message is one line and
//! whose exit code is 2 for any bad flag or value (0 for `--help` / `--version`, which carry
//! their text in the message). The binary only dispatches.
//!
//! - [`values`]: the values of the enumerated flags ([`ModelArg`], [`ConvArg`], [`ReadoutArg`],
//!   [`BackendArg`]);
//! - [`args`]: the arguments of each subcommand ([`TrainArgs`], [`EvalArgs`], [`PredictArgs`],
//!   [`SelectArgs`]).

pub mod args;
pub mod values;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use args::{CompareArgs, EvalArgs, PredictArgs, SelectArgs, TrainArgs};
pub use values::{BackendArg, ConvArg, ModelArg, ReadoutArg};

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
// Parsed once per process: the size of `TrainArgs` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a classifier (default: the built-in BA-2Motifs dataset) and report test accuracy.
    Train(TrainArgs),
    /// Evaluate a saved model on a TU dataset.
    Eval(EvalArgs),
    /// Predict the class of every graph of a TU dataset with a saved model (CSV or JSON).
    Predict(PredictArgs),
    /// List the known TU datasets and which are cached.
    Datasets,
    /// Model selection: per fold, the run with the best validation accuracy; reports the
    /// chosen runs' test accuracy (runs of `gnn train` on the same folds).
    Select(SelectArgs),
    /// Train several models on the same folds and compare them: test accuracy, seconds per
    /// epoch, parameters and peak memory (comparison.md / .json / .svg); rerunning skips what
    /// finished.
    // `--model` and `--resume` come with the flattened `gnn train` flags but are compare's to
    // set per model (giving either is a usage error), so its help leaves them out.
    #[command(mut_arg("model", |arg| arg.hide(true)), mut_arg("resume", |arg| arg.hide(true)))]
    Compare(CompareArgs),
}

/// A parse failure: one line to print and the process exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
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
    let clap_error = |e: clap::Error| {
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
    };
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(clap_error)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(clap_error)?;
    let given = |sub: &clap::ArgMatches| {
        sub.ids()
            .filter(|id| sub.value_source(id.as_str()) == Some(ValueSource::CommandLine))
            .map(|id| id.as_str().to_string())
            .collect::<Vec<_>>()
    };
    match (&mut cli.command, matches.subcommand()) {
        (Command::Train(args), Some(("train", sub))) => args.given = given(sub),
        (Command::Compare(args), Some(("compare", sub))) => args.train.given = given(sub),
        _ => {}
    }
    match &cli.command {
        Command::Train(args) => check_train(args)?,
        Command::Eval(args) => {
            check_backend(args.backend)?;
            positive("--batch-size", args.batch_size)?;
        }
        Command::Predict(args) => {
            check_backend(args.backend)?;
            positive("--batch-size", args.batch_size)?;
        }
        Command::Compare(args) => {
            check_train(&args.train)?;
            for (flag, given) in [
                ("--model", args.train.given.iter().any(|id| id == "model")),
                ("--resume", args.train.resume.is_some()),
            ] {
                if given {
                    return Err(CliError::usage(format!(
                        "error: gnn compare takes --models, not {flag} (rerun the same command to resume)"
                    )));
                }
            }
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
    if let Some(max_nodes) = args.max_nodes {
        positive("--max-nodes", max_nodes)?;
    }
    if let Some(devices) = args.devices {
        positive("--devices", devices)?;
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
    // The settings the flags above do not cover (--lr-factor, --min-lr), named as
    // `TrainingConfig` names them.
    if let Err(e) = args.training().validate() {
        return Err(CliError::usage(format!("error: {e}")));
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

#[cfg(test)]
mod tests {
    use super::*;
    use gnn_models::Architecture;
    use gnn_pool::{GlobalPool, Selection};

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
        let config = args.hierarchical(8, 2);
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
        assert_eq!(tu.hierarchical(3, 2).architecture, Architecture::Global);
        assert_eq!(tu.hierarchical(3, 2).readout, GlobalPool::MaxMeanAdd);
        assert_eq!(tu.readout.name(), "max-mean-add");
        for (model, kind) in [
            ("global", "global"),
            ("graclus", "graclus"),
            ("topk", "hierarchical"),
            ("sag", "hierarchical"),
        ] {
            let args = train(&["--model", model, "--blocks", "2"]).expect("parses");
            let config = args.classifier(3, 2);
            assert_eq!((config.kind(), args.model.name()), (kind, model));
            assert_eq!((config.d_input(), config.num_classes()), (3, 2));
        }
    }

    #[test]
    fn dense_pooling_models_are_chosen_by_name() {
        for (name, kind) in [
            ("diffpool", "diffpool"),
            ("mincut", "mincut"),
            ("topk", "hierarchical"),
        ] {
            let args = train(&["--model", name]).expect("parses");
            assert_eq!(args.model.name(), name);
            let config = args.classifier(3, 2);
            assert_eq!(
                (config.kind(), config.d_input(), config.num_classes()),
                (kind, 3, 2)
            );
        }
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
            &["--model", "unet"],
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
            &["--lr-factor", "1.5"],
            &["--max-nodes", "0"],
            &["--min-lr", "-1"],
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
        let err = parse(["gnn", "predict", "--checkpoint", "c"]).expect_err("no data");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
        let err = parse(["gnn", "predict", "--data-dir", "d"]).expect_err("no checkpoint");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
        let err = parse([
            "gnn",
            "predict",
            "--checkpoint",
            "c",
            "--data-dir",
            "d",
            "--batch-size",
            "0",
        ])
        .expect_err("empty batches");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
        let err = parse(["gnn", "select"]).expect_err("no run");
        assert_eq!((err.code, err.message.lines().count()), (2, 1));
    }

    #[test]
    fn compare_help_lists_models_but_not_the_flags_it_sets_itself() {
        let help = parse(["gnn", "compare", "--help"]).expect_err("help");
        assert_eq!(help.code, 0);
        assert!(
            help.message.contains("--models <MODELS>"),
            "{}",
            help.message
        );
        assert!(help.message.contains("--epochs"), "{}", help.message);
        for hidden in ["--model <MODEL>", "--resume"] {
            assert!(
                !help.message.contains(hidden),
                "{hidden} in: {}",
                help.message
            );
        }
        for given in [["--model", "sag"], ["--resume", "runs/x"]] {
            let args = [
                "gnn",
                "compare",
                "--models",
                "global,sag",
                given[0],
                given[1],
            ];
            let err = parse(args).expect_err("compare sets these itself");
            assert_eq!(
                (err.code, err.message.lines().count()),
                (2, 1),
                "{}",
                err.message
            );
        }
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
