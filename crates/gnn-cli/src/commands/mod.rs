//! The commands of the `gnn` program, one module each, behind [`execute`]: the binary parses
//! the command line ([`crate::cli::parse`]) and hands the [`Command`] here.
//!
//! - [`train`]: `gnn train`, a run of every fold ([`crate::train::run()`]) on the chosen backend;
//! - [`eval`]: `gnn eval`, a saved model on a dataset;
//! - [`predict`]: `gnn predict`, a saved model's class probabilities for every graph (CSV or
//!   JSON), labels not needed;
//! - [`datasets`]: `gnn datasets`, the built-in and cached datasets;
//! - [`select`]: `gnn select`, per-fold model selection over runs.
//!
//! They print to stdout and return a [`CommandError`] for the binary to print (`error: ...`,
//! exit code 1). This is the top of the crate: nothing else in it depends on this module.

pub mod compare;
pub mod datasets;
pub mod eval;
pub mod predict;
pub mod select;
pub mod train;

use std::path::{Path, PathBuf};

use gnn_core::Graph;
use gnn_datasets::{
    DataError, DatasetSource, GraphDataset, TuDataset, TuOptions, ba_2motifs, load_tu_dir,
};

use crate::cli::{Command, DEFAULT_DATASET};
use crate::model_selection::SelectionError;
use crate::train::TrainError;

/// What can make a command fail once its arguments are checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The dataset or its splits could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The dataset has no graph to train on.
    #[error("dataset {name} has no graph")]
    EmptyDataset {
        /// The dataset's name.
        name: String,
    },
    /// Training, evaluating or loading a model failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The runs given to `gnn select` cannot be compared.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// A run's `metrics.json` could not be read.
    #[error("{path}: {source}")]
    Report {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An output could not be serialised as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// `--backend wgpu` in a build without the `wgpu` feature.
    #[error("this gnn was built without wgpu: rebuild with `--features wgpu`")]
    NoWgpu,
    /// `--resume` with flags whose values differ from the run's.
    #[error(
        "{flags}: not the value the run in {} was started with; a resumed run keeps its settings (drop the flag, or start a new run with --out)",
        .run.display()
    )]
    ResumeFlags {
        /// The differing flags, comma-separated (`--epochs, --lr`).
        flags: String,
        /// The run's folder.
        run: PathBuf,
    },
    /// `--devices N` with fewer devices of one kind.
    #[error("--devices {asked}: no kind of device has {asked} here (found {found})")]
    Devices {
        /// The devices asked for.
        asked: usize,
        /// What was found, per kind.
        found: String,
    },
}

impl CommandError {
    /// The process exit status for this error: 130 (as for a process ended by Ctrl-C) when a
    /// run was interrupted, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Train(TrainError::Interrupted { .. }) => 130,
            _ => 1,
        }
    }
}

/// Runs `command`, printing its output to stdout.
///
/// # Errors
/// Those of the command's module.
pub fn execute(command: Command) -> Result<(), CommandError> {
    match command {
        Command::Train(args) => train::execute(&args),
        Command::Eval(args) => eval::execute(&args),
        Command::Predict(args) => predict::execute(&args),
        Command::Datasets => datasets::execute(),
        Command::Select(args) => select::execute(&args),
        Command::Compare(args) => compare::execute(&args),
    }
}

/// Graphs as a command reads them, before they become a [`GraphDataset`] (which needs labels).
#[derive(Debug, Clone)]
pub struct LoadedGraphs {
    /// The dataset's name.
    pub name: String,
    /// The graphs, in file order (without labels for a TU folder without graph labels).
    pub graphs: Vec<Graph>,
    /// Leading node feature columns that are continuous attributes (`--use-node-attr`).
    pub attribute_columns: usize,
    /// Number of classes of the labels (0 without labels).
    pub num_classes: usize,
}

impl LoadedGraphs {
    /// The labelled dataset training and evaluation need.
    ///
    /// # Errors
    /// [`CommandError::Data`] for a graph without a label.
    pub fn into_dataset(self) -> Result<(String, usize, GraphDataset), CommandError> {
        let dataset = GraphDataset::new(self.graphs)?.with_num_classes(self.num_classes)?;
        Ok((self.name, self.attribute_columns, dataset))
    }
}

/// Loads the graphs the arguments name: the TU folder `data_dir`, else the TU dataset
/// `dataset` from the cache (downloaded when missing), else `builtin_graphs` graphs of the
/// built-in BA-2Motifs generated with `seed`.
///
/// # Errors
/// [`CommandError::Data`] for a dataset that cannot be read, downloaded or generated.
pub fn load_graphs(
    dataset: Option<&str>,
    data_dir: Option<&Path>,
    use_node_attr: bool,
    builtin_graphs: usize,
    seed: u64,
) -> Result<LoadedGraphs, CommandError> {
    let options = TuOptions::default().with_node_attributes(use_node_attr);
    let tu = |loaded: Result<TuDataset, DataError>| -> Result<LoadedGraphs, CommandError> {
        let tu = loaded?;
        Ok(LoadedGraphs {
            name: tu.name().to_string(),
            attribute_columns: tu.num_node_attributes(),
            num_classes: tu.num_classes(),
            graphs: tu.into_graphs(),
        })
    };
    match (dataset, data_dir) {
        (_, Some(dir)) => tu(load_tu_dir(dir, &options)),
        (Some(name), None) => {
            tu(DatasetSource::from_env().and_then(|source| source.load(name, &options)))
        }
        (None, None) => {
            let graphs = ba_2motifs(builtin_graphs, seed);
            let num_classes = GraphDataset::new(graphs.clone())?.num_classes();
            Ok(LoadedGraphs {
                name: DEFAULT_DATASET.to_string(),
                graphs,
                attribute_columns: 0,
                num_classes,
            })
        }
    }
}

/// [`load_graphs`] as a labelled dataset: its name, its attribute columns and its graphs.
///
/// # Errors
/// As [`load_graphs`], and [`CommandError::Data`] for a graph without a label.
pub fn load_dataset(
    dataset: Option<&str>,
    data_dir: Option<&Path>,
    use_node_attr: bool,
    builtin_graphs: usize,
    seed: u64,
) -> Result<(String, usize, GraphDataset), CommandError> {
    load_graphs(dataset, data_dir, use_node_attr, builtin_graphs, seed)?.into_dataset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_dataset_means_the_builtin_one_and_errors_read_as_before() {
        let (name, _, dataset) = load_dataset(None, None, false, 20, 0).expect("generated");
        assert_eq!(
            (name.as_str(), dataset.graphs().len()),
            (DEFAULT_DATASET, 20)
        );
        let missing = load_dataset(None, Some(Path::new("/nonexistent/TU")), false, 20, 0)
            .expect_err("no such folder");
        assert!(matches!(missing, CommandError::Data(_)));
        assert_eq!(
            CommandError::EmptyDataset { name: "X".into() }.to_string(),
            "dataset X has no graph"
        );
        assert_eq!(
            CommandError::NoWgpu.to_string(),
            "this gnn was built without wgpu: rebuild with `--features wgpu`"
        );
    }
}
