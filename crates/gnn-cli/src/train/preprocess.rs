//! [`Preprocessing`]: what a model expects of its graphs beyond their width — whether the TU
//! node attributes were read, and their standardisation fitted on the training graphs —
//! saved as `preprocessing.json` beside `model.json` so that `gnn eval` and `gnn predict`
//! prepare new graphs exactly as training did.

use std::path::Path;

use gnn_core::Graph;
use gnn_datasets::{GraphDataset, GraphTransform, Standardize};
use serde::{Deserialize, Serialize};

use super::error::{TrainError, io_error};
use crate::atomic::write_atomic;

/// File name of the saved [`Preprocessing`] in a model folder.
pub const PREPROCESSING_FILE: &str = "preprocessing.json";

/// How graphs are prepared for a model (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Preprocessing {
    /// The TU node attributes were read (`--use-node-attr`): the first feature columns.
    pub use_node_attributes: bool,
    /// The standardisation of those columns, fitted on the training graphs (`None`: raw).
    pub standardize: Option<Standardize>,
}

impl Preprocessing {
    /// Fits the standardisation of the first `attribute_columns` columns on `train` when
    /// `standardize` is on and there are attribute columns.
    ///
    /// # Errors
    /// [`TrainError::Data`] for a training graph with a non-finite attribute.
    pub fn fit(
        train: &GraphDataset,
        use_node_attributes: bool,
        attribute_columns: usize,
        standardize: bool,
    ) -> Result<Self, TrainError> {
        let standardize = if standardize && use_node_attributes && attribute_columns > 0 {
            Some(Standardize::fit(train.graphs(), attribute_columns)?)
        } else {
            None
        };
        Ok(Self {
            use_node_attributes,
            standardize,
        })
    }

    /// The graphs prepared for the model.
    ///
    /// # Errors
    /// [`TrainError::Data`] for graphs narrower than the standardised columns.
    pub fn apply_graphs(&self, graphs: Vec<Graph>) -> Result<Vec<Graph>, TrainError> {
        Ok(match &self.standardize {
            Some(scaler) => scaler.apply_all(graphs)?,
            None => graphs,
        })
    }

    /// A dataset prepared for the model, its number of classes kept.
    ///
    /// # Errors
    /// As [`apply_graphs`](Self::apply_graphs).
    pub fn apply(&self, dataset: GraphDataset) -> Result<GraphDataset, TrainError> {
        if self.standardize.is_none() {
            return Ok(dataset);
        }
        let num_classes = dataset.num_classes();
        let graphs = self.apply_graphs(dataset.into_graphs())?;
        Ok(GraphDataset::new(graphs)?.with_num_classes(num_classes)?)
    }

    /// Writes `DIR/preprocessing.json` (through a temporary file, renamed into place).
    ///
    /// # Errors
    /// [`TrainError::Io`].
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let path = dir.join(PREPROCESSING_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| TrainError::Checkpoint {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, text.as_bytes()).map_err(io_error(&path))
    }

    /// Reads `DIR/preprocessing.json`; a model saved before the file existed (none there)
    /// read its graphs as they are, which is the default.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] for a file that cannot be read or parsed.
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join(PREPROCESSING_FILE);
        if !path.exists() {
            return Ok(Self::default());
        }
        let checkpoint_error = |message: String| TrainError::Checkpoint {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| checkpoint_error(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| checkpoint_error(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(values: &[f32]) -> GraphDataset {
        let graphs = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                Graph::new(1, 2, vec![v, 1.0], vec![])
                    .expect("graph")
                    .with_label(i % 2)
            })
            .collect();
        GraphDataset::new(graphs).expect("dataset")
    }

    #[test]
    fn fitted_on_training_graphs_saved_and_applied_to_others() {
        let train = dataset(&[10.0, 20.0, 30.0]);
        let fitted = Preprocessing::fit(&train, true, 1, true).expect("fits");
        let scaler = fitted.standardize.clone().expect("standardised");
        assert_eq!(scaler.mean, vec![20.0]);
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            Preprocessing::load(dir.path()).expect("absent"),
            Preprocessing::default()
        );
        fitted.save(dir.path()).expect("saves");
        let read = Preprocessing::load(dir.path()).expect("reads");
        assert_eq!(read, fitted);
        let test = read.apply(dataset(&[20.0, 40.0])).expect("applies");
        let first: Vec<f32> = test.graphs().iter().map(|g| g.x()[0]).collect();
        assert!(first[0].abs() < 1e-6 && first[1] > 2.0, "{first:?}");
        assert_eq!(test.graphs()[1].x()[1], 1.0);
        assert_eq!(test.num_classes(), 2);
        // Off, or without attributes: nothing is fitted and graphs pass unchanged.
        for (attributes, on) in [(true, false), (false, true)] {
            let none = Preprocessing::fit(&train, attributes, 1, on).expect("fits");
            assert_eq!(none.standardize, None);
            assert_eq!(
                none.apply(train.clone()).expect("same").graphs(),
                train.graphs()
            );
        }
        std::fs::write(dir.path().join(PREPROCESSING_FILE), "{oops").expect("writes");
        assert!(matches!(
            Preprocessing::load(dir.path()),
            Err(TrainError::Checkpoint { .. })
        ));
    }
}
