//! [`TrainError`]: what can stop training, evaluating or saving a model, with a typed variant
//! for each way the data can fail to fit the model.

use std::fmt;
use std::path::{Path, PathBuf};

use gnn_core::GraphError;
use gnn_datasets::DataError;
use gnn_models::ModelError;

use crate::config::TrainingConfigError;

/// One of the three parts of a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitPart {
    /// The training graphs.
    Training,
    /// The validation graphs (early stopping, checkpoint selection).
    Validation,
    /// The test graphs.
    Test,
}

impl fmt::Display for SplitPart {
    /// `training`, `validation` or `test`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitPart::Training => "training",
            SplitPart::Validation => "validation",
            SplitPart::Test => "test",
        })
    }
}

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The model configuration is invalid.
    #[error("model: {0}")]
    Model(#[from] ModelError),
    /// Graphs could not be batched together.
    #[error("graphs: {0}")]
    Graph(#[from] GraphError),
    /// The data could not be read or split.
    #[error("data: {0}")]
    Data(#[from] DataError),
    /// The optimisation settings cannot be followed.
    #[error(transparent)]
    Settings(#[from] TrainingConfigError),
    /// The dataset's graphs have another node feature width than the model's input.
    #[error("the model expects {model} node features but the dataset has {data}")]
    FeatureWidth {
        /// The model's input width (`d_input`).
        model: usize,
        /// The dataset's node feature width.
        data: usize,
    },
    /// The dataset has more classes than the model predicts.
    #[error(
        "the model predicts {model} classes but the dataset has labels up to {}",
        .data.saturating_sub(1)
    )]
    TooManyClasses {
        /// The model's number of classes.
        model: usize,
        /// The dataset's number of classes (labels `0..data`).
        data: usize,
    },
    /// A part of a fold that training needs has no graph.
    #[error("the {which} set of fold {fold} is empty")]
    EmptySplit {
        /// The empty part.
        which: SplitPart,
        /// The fold, from 0.
        fold: usize,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A checkpoint could not be saved or loaded.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM, or a programmatic stop): the last completed
    /// epoch's checkpoint, `state.json` and a `metrics.json` marked unfinished are kept.
    #[error(
        "interrupted in fold {} after epoch {epoch} (its checkpoint is kept); resume with `gnn train --resume {}`",
        .fold + 1,
        .out.display()
    )]
    Interrupted {
        /// The fold that was running, from 0.
        fold: usize,
        /// Its last completed epoch (0: none; the fold restarts).
        epoch: usize,
        /// The run's folder, to pass to `--resume`.
        out: PathBuf,
    },
    /// A run cannot be resumed from its folder.
    #[error("cannot resume from {path}: {message}")]
    Resume {
        /// The file that stops the resume.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// `--resume` of a run that already went through every fold.
    #[error("the run in {out} is finished: nothing to resume (train again with --out)")]
    AlreadyFinished {
        /// The run's folder.
        out: PathBuf,
    },
}

/// Wraps an I/O error on `path` as [`TrainError::Io`].
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_read_as_before() {
        let width = TrainError::FeatureWidth { model: 5, data: 3 };
        assert_eq!(
            width.to_string(),
            "the model expects 5 node features but the dataset has 3"
        );
        let classes = TrainError::TooManyClasses { model: 1, data: 2 };
        assert_eq!(
            classes.to_string(),
            "the model predicts 1 classes but the dataset has labels up to 1"
        );
        let empty = TrainError::EmptySplit {
            which: SplitPart::Validation,
            fold: 3,
        };
        assert_eq!(empty.to_string(), "the validation set of fold 3 is empty");
        let interrupted = TrainError::Interrupted {
            fold: 0,
            epoch: 4,
            out: PathBuf::from("runs/x"),
        };
        assert_eq!(
            interrupted.to_string(),
            "interrupted in fold 1 after epoch 4 (its checkpoint is kept); resume with `gnn train --resume runs/x`"
        );
    }
}
