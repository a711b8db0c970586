//! `gnn select`: per-fold model selection on validation accuracy over runs of `gnn train`
//! (see [`crate::model_selection`]).

use super::CommandError;
use crate::cli::SelectArgs;
use crate::model_selection::{metrics_path, select_per_fold};
use crate::report::RunReport;

/// Reads each run's `metrics.json`, prints the runs, the choice per fold and the selected
/// test accuracy, and writes the selection as JSON to `args.out` when given.
///
/// # Errors
/// A `metrics.json` that cannot be read ([`CommandError::Report`]), runs on other datasets or
/// splits ([`CommandError::Selection`]), or an output file that cannot be written.
pub fn execute(args: &SelectArgs) -> Result<(), CommandError> {
    let mut runs = Vec::with_capacity(args.runs.len());
    let mut names = Vec::with_capacity(args.runs.len());
    for run in &args.runs {
        let path = metrics_path(run.clone());
        let report = RunReport::load(&path).map_err(|source| CommandError::Report {
            path: path.clone(),
            source,
        })?;
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
    let selection = select_per_fold(&runs)?;
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
        let text = serde_json::to_string_pretty(&json)?;
        crate::atomic::write_atomic(out, (text + "\n").as_bytes()).map_err(|source| {
            CommandError::Write {
                path: out.clone(),
                source,
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_missing_run_names_its_metrics_file() {
        let args = SelectArgs {
            runs: vec![PathBuf::from("/nonexistent/run/metrics.json")],
            out: None,
        };
        let error = execute(&args).expect_err("no such run");
        assert!(matches!(error, CommandError::Report { .. }));
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/run/metrics.json: "),
            "{error}"
        );
    }
}
