//! Model selection on the validation folds, as in Errica et al.'s protocol.
//!
//! Given several runs of `gnn train` on the same folds (one per configuration: convolution,
//! pooling ratio, learning rate, ...), each fold takes the configuration with the highest
//! **validation** accuracy (ties: the lower validation loss of the selected checkpoint, then
//! the earlier run), and the reported figure is the mean ± std of the chosen configurations'
//! **test** accuracies. The test folds take no part in the choice.
//!
//! `gnn select RUN...` runs this on the runs' `metrics.json` files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::report::{FoldReport, RunReport, mean_std};

/// The configuration chosen for one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldChoice {
    /// Fold number.
    pub fold: usize,
    /// Index of the chosen run, in the order given.
    pub run: usize,
    /// Its validation accuracy (the criterion).
    pub valid_accuracy: f64,
    /// Its test accuracy (the reported figure).
    pub test_accuracy: f64,
}

/// The outcome of [`select_per_fold`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSelection {
    /// Dataset of the runs.
    pub dataset: String,
    /// One choice per fold.
    pub choices: Vec<FoldChoice>,
    /// Mean test accuracy of the chosen configurations.
    pub test_accuracy_mean: f64,
    /// Population standard deviation of those test accuracies.
    pub test_accuracy_std: f64,
}

/// Why runs cannot be compared fold by fold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// No run was given.
    #[error("no run to select from")]
    NoRuns,
    /// A run is on another dataset than the first.
    #[error("run {run} is on {found}, run 0 on {expected}")]
    Dataset {
        /// Index of the run.
        run: usize,
        /// The first run's dataset.
        expected: String,
        /// This run's dataset.
        found: String,
    },
    /// A run has another number of folds, or a fold of other sizes: not the same splits.
    #[error("run {run} does not use the splits of run 0: {what}")]
    Splits {
        /// Index of the run.
        run: usize,
        /// What differs.
        what: String,
    },
}

/// Chooses, fold by fold, the run with the best validation accuracy (see the
/// [module documentation](self)).
///
/// # Errors
/// [`SelectionError`] when no run is given or the runs are not on the same dataset and splits
/// (same number of folds, same train/valid/test sizes per fold).
pub fn select_per_fold(runs: &[RunReport]) -> Result<ModelSelection, SelectionError> {
    let first = runs.first().ok_or(SelectionError::NoRuns)?;
    for (run, report) in runs.iter().enumerate().skip(1) {
        if report.dataset != first.dataset {
            return Err(SelectionError::Dataset {
                run,
                expected: first.dataset.clone(),
                found: report.dataset.clone(),
            });
        }
        if report.fold_results.len() != first.fold_results.len() {
            return Err(SelectionError::Splits {
                run,
                what: format!(
                    "{} folds against {}",
                    report.fold_results.len(),
                    first.fold_results.len()
                ),
            });
        }
        for (fold, (a, b)) in first
            .fold_results
            .iter()
            .zip(&report.fold_results)
            .enumerate()
        {
            let sizes = |f: &FoldReport| (f.train_graphs, f.valid_graphs, f.test_graphs);
            if sizes(a) != sizes(b) {
                return Err(SelectionError::Splits {
                    run,
                    what: format!(
                        "fold {fold} has train/valid/test sizes {:?} against {:?}",
                        sizes(b),
                        sizes(a)
                    ),
                });
            }
        }
    }
    let choices: Vec<FoldChoice> = (0..first.fold_results.len())
        .map(|fold| {
            let (run, chosen) = runs
                .iter()
                .map(|report| &report.fold_results[fold])
                .enumerate()
                .reduce(|best, candidate| {
                    if better(candidate.1, best.1) {
                        candidate
                    } else {
                        best
                    }
                })
                .expect("at least one run");
            FoldChoice {
                fold,
                run,
                valid_accuracy: chosen.valid_accuracy,
                test_accuracy: chosen.test_accuracy,
            }
        })
        .collect();
    let tests: Vec<f64> = choices.iter().map(|c| c.test_accuracy).collect();
    let (mean, std) = mean_std(&tests);
    Ok(ModelSelection {
        dataset: first.dataset.clone(),
        choices,
        test_accuracy_mean: mean,
        test_accuracy_std: std,
    })
}

/// Higher validation accuracy, or equal accuracy and lower validation loss.
fn better(candidate: &FoldReport, best: &FoldReport) -> bool {
    if candidate.valid_accuracy != best.valid_accuracy {
        return candidate.valid_accuracy > best.valid_accuracy;
    }
    selected_valid_loss(candidate) < selected_valid_loss(best)
}

/// Validation loss of the selected checkpoint (`+inf` when the history lacks it).
fn selected_valid_loss(fold: &FoldReport) -> f64 {
    fold.history
        .iter()
        .find(|e| e.epoch == fold.selected_epoch)
        .map_or(f64::INFINITY, |e| e.valid_loss)
}

/// A run folder (holding `metrics.json`) or a `metrics.json` path.
pub fn metrics_path(run: PathBuf) -> PathBuf {
    if run.is_dir() {
        run.join("metrics.json")
    } else {
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::EpochRecord;

    fn fold(fold: usize, valid: f64, test: f64, valid_loss: f64) -> FoldReport {
        FoldReport {
            fold,
            train_graphs: 8,
            valid_graphs: 1,
            test_graphs: 1,
            test_accuracy: test,
            valid_accuracy: valid,
            selected_epoch: 2,
            epochs_run: 3,
            seconds_per_epoch: 0.1,
            seconds: 0.3,
            history: (1..=3)
                .map(|epoch| EpochRecord {
                    epoch,
                    train_loss: 0.5,
                    train_accuracy: 0.5,
                    valid_loss: if epoch == 2 { valid_loss } else { 9.0 },
                    valid_accuracy: valid,
                    train_seconds: 0.1,
                    train_aux_loss: None,
                    valid_aux_loss: None,
                    smoothness: Vec::new(),
                })
                .collect(),
        }
    }

    fn run(dataset: &str, folds: Vec<FoldReport>) -> RunReport {
        let mut report = crate::report::tests::run_report(folds);
        report.dataset = dataset.to_string();
        report
    }

    /// A run on dataset `D` with one fold per `(valid accuracy, test accuracy, valid loss)`.
    fn run_of(folds: &[(f64, f64, f64)]) -> RunReport {
        let folds = folds
            .iter()
            .enumerate()
            .map(|(k, &(valid, test, loss))| fold(k, valid, test, loss))
            .collect();
        run("D", folds)
    }

    #[test]
    fn each_fold_takes_the_best_validation_and_reports_its_test() {
        let a = run_of(&[(0.8, 0.1, 0.5), (0.6, 0.2, 0.5), (0.7, 0.3, 0.4)]);
        let b = run_of(&[(0.7, 0.9, 0.5), (0.9, 0.4, 0.5), (0.7, 0.5, 0.3)]);
        let selection = select_per_fold(&[a, b]).expect("same splits");
        let runs: Vec<usize> = selection.choices.iter().map(|c| c.run).collect();
        // Fold 0: a's validation is higher although b's test is; fold 2: a tie broken by loss.
        assert_eq!(runs, vec![0, 1, 1]);
        let tests: Vec<f64> = selection.choices.iter().map(|c| c.test_accuracy).collect();
        assert_eq!(tests, vec![0.1, 0.4, 0.5]);
        assert!((selection.test_accuracy_mean - (0.1 + 0.4 + 0.5) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn full_ties_keep_the_earlier_run() {
        let a = run("D", vec![fold(0, 0.8, 0.1, 0.5)]);
        let b = run("D", vec![fold(0, 0.8, 0.9, 0.5)]);
        assert_eq!(select_per_fold(&[a, b]).expect("ok").choices[0].run, 0);
    }

    #[test]
    fn runs_on_other_data_or_splits_are_refused() {
        assert_eq!(select_per_fold(&[]), Err(SelectionError::NoRuns));
        let a = run("D", vec![fold(0, 0.8, 0.1, 0.5)]);
        let other = run("E", vec![fold(0, 0.8, 0.1, 0.5)]);
        assert!(matches!(
            select_per_fold(&[a.clone(), other]),
            Err(SelectionError::Dataset { run: 1, .. })
        ));
        let two = run("D", vec![fold(0, 0.8, 0.1, 0.5), fold(1, 0.8, 0.1, 0.5)]);
        assert!(matches!(
            select_per_fold(&[a.clone(), two]),
            Err(SelectionError::Splits { run: 1, .. })
        ));
        let mut resized = fold(0, 0.8, 0.1, 0.5);
        resized.test_graphs = 2;
        let error = select_per_fold(&[a, run("D", vec![resized])]).expect_err("sizes differ");
        assert!(error.to_string().contains("fold 0"), "{error}");
    }
}
