//! What a training run writes: `metrics.json`, as serde types.
//!
//! ```text
//! {
//!   "dataset": "BA-2Motifs", "model": "topk", "conv": "graph", "backend": "flex",
//!   "folds": 1, "test_accuracy_mean": 0.99, "test_accuracy_std": 0.0,
//!   "seconds_per_epoch": 0.21, "epochs": 100, "total_seconds": 25.3, "seed": 0,
//!   "classifier": { HierarchicalClassifierConfig }, "training": { TrainingConfig },
//!   "fold_results": [ { "fold": 0, "test_accuracy": 0.99, "selected_epoch": 31, ...,
//!                       "history": [ { "epoch": 1, "train_loss": 0.69, ... }, ... ] } ]
//! }
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::config::TrainingConfig;
use gnn_models::{ClassifierConfig, HierarchicalClassifierConfig};

/// One epoch of one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches, weighted by batch size (dropout on).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, in `[0, 1]` (dropout on, weights changing).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_accuracy: f64,
    /// Validation loss after the epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub valid_loss: f64,
    /// Validation accuracy after the epoch, in `[0, 1]`.
    #[serde(deserialize_with = "nan_if_null")]
    pub valid_accuracy: f64,
    /// Wall seconds of the epoch's training part (forward, backward, optimiser step, batching).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_seconds: f64,
    /// Mean weighted auxiliary loss of the epoch's training batches, included in `train_loss`
    /// (DiffPool: link + entropy; MinCut: mincut + orthogonality); absent for models without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_aux_loss: Option<f64>,
    /// The same on the validation graphs after the epoch, included in `valid_loss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_aux_loss: Option<f64>,
    /// The over-smoothing gauges of every block's convolution output on the validation graphs
    /// after the epoch, first block first (models of sparse blocks; empty for DiffPool and
    /// MinCut). See `gnn_core::oversmoothing`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smoothness: Vec<BlockSmoothness>,
}

/// The over-smoothing gauges of one block, averaged over the validation graphs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockSmoothness {
    /// Mean pairwise cosine similarity of node embeddings (graphs of two nodes or more).
    #[serde(deserialize_with = "nan_if_null")]
    pub cosine_similarity: f64,
    /// Dirichlet energy over the edges, per node (graphs with a node).
    #[serde(deserialize_with = "nan_if_null")]
    pub dirichlet_energy: f64,
}

/// One fold (one train/valid/test split) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldReport {
    /// Fold number, from 0.
    pub fold: usize,
    /// Graphs in the training set.
    pub train_graphs: usize,
    /// Graphs in the validation set.
    pub valid_graphs: usize,
    /// Graphs in the test set.
    pub test_graphs: usize,
    /// Accuracy of the selected model on the test set, in `[0, 1]`.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_accuracy: f64,
    /// Accuracy of the selected model on the validation set.
    #[serde(deserialize_with = "nan_if_null")]
    pub valid_accuracy: f64,
    /// The epoch whose checkpoint was selected: lowest validation loss among the checkpoints
    /// kept.
    pub selected_epoch: usize,
    /// Epochs trained (fewer than the maximum when early stopping fired).
    pub epochs_run: usize,
    /// Median training seconds per epoch, epochs 2.. (the first includes warm-up).
    #[serde(deserialize_with = "nan_if_null")]
    pub seconds_per_epoch: f64,
    /// Wall seconds of the whole fold (training, validation, checkpoints, testing).
    #[serde(deserialize_with = "nan_if_null")]
    pub seconds: f64,
    /// Per-epoch figures.
    pub history: Vec<EpochRecord>,
}

/// The whole run: the summary fields first, then configuration and per-fold detail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Dataset name.
    pub dataset: String,
    /// Model name as on the command line (`topk`, `sag`, `sag-global`).
    pub model: String,
    /// Convolution name as on the command line.
    pub conv: String,
    /// Backend name as on the command line.
    pub backend: String,
    /// Number of folds run.
    pub folds: usize,
    /// Mean test accuracy over the folds.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_accuracy_mean: f64,
    /// Population standard deviation of the test accuracy over the folds (0 for one fold).
    #[serde(deserialize_with = "nan_if_null")]
    pub test_accuracy_std: f64,
    /// Median training seconds per epoch over all folds, epochs 2.. of each.
    #[serde(deserialize_with = "nan_if_null")]
    pub seconds_per_epoch: f64,
    /// Maximum epochs per fold (the configured budget; see `epochs_run` per fold).
    pub epochs: usize,
    /// Wall seconds of the whole run.
    #[serde(deserialize_with = "nan_if_null")]
    pub total_seconds: f64,
    /// Seed of the run.
    pub seed: u64,
    /// The classifier's configuration.
    #[serde(deserialize_with = "deserialize_classifier")]
    pub classifier: ClassifierConfig,
    /// The training configuration.
    pub training: TrainingConfig,
    /// Graphs left out by `--max-nodes` (none in runs written before the flag).
    #[serde(default)]
    pub left_out: LeftOut,
    /// Each fold that finished.
    pub fold_results: Vec<FoldReport>,
    /// Whether the run went through every fold; `false` while it runs and after an
    /// interruption (`gnn train --resume DIR` continues it). Runs written before this field
    /// existed read as finished.
    #[serde(default = "finished_by_default")]
    pub finished: bool,
}

/// The graphs a run left out for their size (`gnn train --max-nodes`), from every fold's
/// training, validation and test sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The cap: graphs with more nodes were left out (`None`: no cap).
    pub max_nodes: Option<usize>,
    /// Positions of the graphs left out, in the dataset.
    pub graphs: Vec<usize>,
}

/// Reads a model configuration as written now (`{"Hierarchical": {...}}`, one key per model
/// kind) or as runs and checkpoints made before the models were one enum wrote it (a bare
/// hierarchical configuration), so that `gnn select` and `gnn eval` still read them.
///
/// # Errors
/// When the value is neither.
pub fn classifier_from_json(value: serde_json::Value) -> serde_json::Result<ClassifierConfig> {
    match serde_json::from_value::<ClassifierConfig>(value.clone()) {
        Ok(config) => Ok(config),
        Err(error) => serde_json::from_value::<HierarchicalClassifierConfig>(value)
            .map(ClassifierConfig::from)
            .map_err(|_| error),
    }
}

fn finished_by_default() -> bool {
    true
}

/// JSON has no NaN: serde_json writes a NaN `f64` (a diverged loss, the mean accuracy of a run
/// with no finished fold) as `null`; this reads `null` back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

fn deserialize_classifier<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<ClassifierConfig, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    classifier_from_json(value).map_err(serde::de::Error::custom)
}

impl RunReport {
    /// Fills the summary fields from `fold_results`.
    pub fn summarise(&mut self) {
        let accuracies: Vec<f64> = self.fold_results.iter().map(|f| f.test_accuracy).collect();
        let (mean, std) = mean_std(&accuracies);
        self.folds = self.fold_results.len();
        self.test_accuracy_mean = mean;
        self.test_accuracy_std = std;
        let times: Vec<f64> = self
            .fold_results
            .iter()
            .flat_map(|f| epoch_times(&f.history))
            .collect();
        self.seconds_per_epoch = median(&times);
    }

    /// Writes the report as pretty JSON, atomically ([`write_atomic`]).
    ///
    /// # Errors
    /// An I/O error (the JSON itself always serialises).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(path, (text + "\n").as_bytes())
    }

    /// Reads a report written by [`save`](Self::save).
    ///
    /// # Errors
    /// An I/O error or malformed JSON.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// Training seconds of epochs 2.. (all epochs when there is only one).
pub fn epoch_times(history: &[EpochRecord]) -> Vec<f64> {
    let skip = usize::from(history.len() > 1);
    history.iter().skip(skip).map(|e| e.train_seconds).collect()
}

/// Mean and population standard deviation; `(NaN, NaN)` for no value.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Median (mean of the two middle values for an even count); NaN for no value.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run report of the given folds, summary fields empty.
    pub(crate) fn run_report(fold_results: Vec<FoldReport>) -> RunReport {
        RunReport {
            dataset: "BA-2Motifs".into(),
            model: "topk".into(),
            conv: "graph".into(),
            backend: "flex".into(),
            folds: 0,
            test_accuracy_mean: 0.0,
            test_accuracy_std: 0.0,
            seconds_per_epoch: 0.0,
            epochs: 3,
            total_seconds: 4.0,
            seed: 7,
            classifier: HierarchicalClassifierConfig::new(8, 2).into(),
            training: TrainingConfig::new(),
            left_out: LeftOut::default(),
            fold_results,
            finished: true,
        }
    }

    fn record(epoch: usize, seconds: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            train_accuracy: 0.75,
            valid_loss: 0.25,
            valid_accuracy: 0.875,
            train_seconds: seconds,
            train_aux_loss: None,
            valid_aux_loss: None,
            smoothness: Vec::new(),
        }
    }

    fn fold(fold: usize, accuracy: f64) -> FoldReport {
        FoldReport {
            fold,
            train_graphs: 8,
            valid_graphs: 1,
            test_graphs: 1,
            test_accuracy: accuracy,
            valid_accuracy: 1.0,
            selected_epoch: 2,
            epochs_run: 3,
            seconds_per_epoch: 0.5,
            seconds: 2.0,
            history: vec![record(1, 9.0), record(2, 1.0), record(3, 2.0)],
        }
    }

    #[test]
    fn metrics_json_round_trips_with_the_required_fields() {
        let mut report = run_report(vec![fold(0, 0.5), fold(1, 1.0)]);
        report.summarise();
        assert_eq!(report.folds, 2);
        assert!((report.test_accuracy_mean - 0.75).abs() < 1e-12);
        assert!((report.test_accuracy_std - 0.25).abs() < 1e-12);
        // Epoch 1 (9 s) is warm-up: the median is over 1, 2, 1, 2.
        assert!((report.seconds_per_epoch - 1.5).abs() < 1e-12);

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("metrics.json");
        report.save(&path).expect("written");
        let back = RunReport::load(&path).expect("read back");
        assert_eq!(back.fold_results, report.fold_results);
        assert_eq!(back.classifier.to_string(), report.classifier.to_string());
        let as_json = |r: &RunReport| serde_json::to_value(r).expect("serialises");
        assert_eq!(as_json(&back), as_json(&report));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("text")).expect("json");
        for key in [
            "dataset",
            "model",
            "folds",
            "test_accuracy_mean",
            "test_accuracy_std",
            "seconds_per_epoch",
            "epochs",
        ] {
            assert!(json.get(key).is_some(), "metrics.json lacks {key}");
        }
        assert_eq!(json["fold_results"][1]["history"][2]["epoch"], 3);
    }

    #[test]
    fn statistics_of_empty_and_odd_lists() {
        assert!(median(&[]).is_nan());
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert!(mean_std(&[]).0.is_nan());
        assert_eq!(epoch_times(&[record(1, 4.0)]), vec![4.0]);
    }

    /// Runs and checkpoints written before the models were one enum hold a bare hierarchical
    /// configuration; both forms read back to the same model.
    #[test]
    fn classifier_configs_read_in_both_forms() {
        let config = HierarchicalClassifierConfig::new(8, 2).with_hidden(16);
        let current = serde_json::to_value(ClassifierConfig::from(config.clone())).unwrap();
        assert!(current.get("Hierarchical").is_some(), "{current}");
        let earlier = serde_json::to_value(&config).unwrap();
        for value in [current, earlier] {
            let Ok(ClassifierConfig::Hierarchical(read)) = classifier_from_json(value) else {
                panic!("a hierarchical configuration reads back as one")
            };
            assert_eq!((read.d_input, read.num_classes, read.hidden), (8, 2, 16));
        }
        assert!(classifier_from_json(serde_json::json!({"Unknown": {}})).is_err());
        let report = run_report(Vec::new());
        let mut json = serde_json::to_value(&report).unwrap();
        json["classifier"] = serde_json::to_value(&config).unwrap();
        let read: RunReport = serde_json::from_value(json).unwrap();
        assert_eq!(read.classifier.d_input(), 8);
    }
}
