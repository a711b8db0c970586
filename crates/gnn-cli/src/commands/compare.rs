//! `gnn compare`: every model of `--models` trained on the same folds with the same flags, and
//! one table of test accuracy, seconds per epoch, parameters and peak memory per model.
//!
//! Each model trains into `OUT/MODEL` as `gnn train` would, so every fold's result is written
//! when it finishes. Rerunning the same command skips the models whose run finished and
//! resumes the others where they stopped (`gnn train --resume`), so a long grid can be
//! completed over several sittings.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::module::Module;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::CommandError;
use super::train::RUN_FILE;
use crate::atomic::write_atomic;
use crate::cli::{CompareArgs, TrainArgs};
use crate::model_selection::{ModelSelection, select_per_fold};
use crate::report::RunReport;
use crate::train::load_model;
use crate::train::run::METRICS_FILE;

/// File names of the comparison inside its folder.
pub const COMPARISON_FILES: [&str; 3] = ["comparison.md", "comparison.json", "comparison.svg"];

/// A model's peak resident memory during its last training sitting, kept beside its run.
const PEAK_MEMORY_FILE: &str = "peak_memory.json";

/// One model's line of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResult {
    /// `--model` name.
    pub model: String,
    /// Its run folder.
    pub run: PathBuf,
    /// Mean test accuracy over folds, in `[0, 1]` (each fold's checkpoint chosen on validation).
    pub test_accuracy_mean: f64,
    /// Its standard deviation over folds.
    pub test_accuracy_std: f64,
    /// Median training seconds per epoch.
    pub seconds_per_epoch: f64,
    /// Wall seconds of the run (all sittings).
    pub total_seconds: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Peak resident memory of the process while it trained this model, in bytes (its last
    /// sitting; `None` where the platform cannot tell: Linux only).
    pub peak_memory_bytes: Option<u64>,
}

/// What `comparison.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Dataset name.
    pub dataset: String,
    /// Folds every model trained on.
    pub folds: usize,
    /// One line per model, in `--models` order.
    pub models: Vec<ModelResult>,
    /// Per fold, the model with the best validation accuracy, and that choice's test accuracy:
    /// "which model" decided on validation folds only.
    pub selected_on_validation: ModelSelection,
}

/// Trains each model of `--models` on the same folds into `OUT/MODEL` (skipping those that
/// finished, resuming those that stopped), then writes `comparison.md`, `comparison.json` and
/// `comparison.svg` into OUT (default `runs/compare-DATASET`) and prints the table.
///
/// # Errors
/// Those of `gnn train` for each model; a run that cannot be read back; an output file that
/// cannot be written.
pub fn execute(args: &CompareArgs) -> Result<(), CommandError> {
    let out = args.train.out.clone().unwrap_or_else(|| {
        let name = args.train.dataset.clone().unwrap_or_else(|| {
            args.train
                .data_dir
                .as_ref()
                .and_then(|d| d.file_name())
                .map_or("BA-2Motifs".into(), |n| n.to_string_lossy().into_owned())
        });
        PathBuf::from("runs").join(format!("compare-{name}"))
    });
    let mut reports = Vec::with_capacity(args.models.len());
    let mut results = Vec::with_capacity(args.models.len());
    for (i, model) in args.models.iter().enumerate() {
        let dir = out.join(model.name());
        let progress = format!("compare {}/{}: {}", i + 1, args.models.len(), model.name());
        let finished = RunReport::load(&dir.join(METRICS_FILE)).is_ok_and(|r| r.finished);
        if finished {
            println!("{progress}: finished earlier, skipped ({})", dir.display());
        } else {
            let resume = dir.join(RUN_FILE).exists();
            println!(
                "{progress}: {} ({})",
                if resume { "resuming" } else { "training" },
                dir.display()
            );
            let run_args = TrainArgs {
                model: *model,
                out: (!resume).then(|| dir.clone()),
                resume: resume.then(|| dir.clone()),
                // Flags given to `compare` that a resumed run must share; the folder and the
                // model are compare's to choose.
                given: args
                    .train
                    .given
                    .iter()
                    .filter(|id| !["out", "models", "model"].contains(&id.as_str()))
                    .cloned()
                    .collect(),
                ..args.train.clone()
            };
            peak_memory::reset();
            super::train::execute(&run_args)?;
            let peak = peak_memory::read();
            let path = dir.join(PEAK_MEMORY_FILE);
            let text = serde_json::to_string(&serde_json::json!({ "peak_memory_bytes": peak }))?;
            write_atomic(&path, (text + "\n").as_bytes())
                .map_err(|source| CommandError::Write { path, source })?;
        }
        let (report, result) = read_result(model.name(), &dir)?;
        reports.push(report);
        results.push(result);
    }
    let selected_on_validation = select_per_fold(&reports)?;
    let comparison = Comparison {
        dataset: reports
            .first()
            .map_or_else(String::new, |r| r.dataset.clone()),
        folds: reports.first().map_or(0, |r| r.folds),
        models: results,
        selected_on_validation,
    };
    let table = markdown(&comparison);
    print!("{table}");
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        write_atomic(&path, bytes).map_err(|source| CommandError::Write { path, source })
    };
    write(COMPARISON_FILES[0], table.as_bytes())?;
    write(
        COMPARISON_FILES[1],
        (serde_json::to_string_pretty(&comparison)? + "\n").as_bytes(),
    )?;
    let mut svg = String::new();
    draw(&comparison, &mut svg).map_err(|e| CommandError::Write {
        path: out.join(COMPARISON_FILES[2]),
        source: std::io::Error::other(e.to_string()),
    })?;
    write(COMPARISON_FILES[2], svg.as_bytes())?;
    println!("wrote {}", out.join(COMPARISON_FILES[0]).display());
    Ok(())
}

/// A finished run's report and its line of the comparison.
fn read_result(model: &str, dir: &Path) -> Result<(RunReport, ModelResult), CommandError> {
    let path = dir.join(METRICS_FILE);
    let report = RunReport::load(&path).map_err(|source| CommandError::Report { path, source })?;
    let (classifier, _) = load_model::<Flex>(dir, &Default::default())?;
    let peak_memory_bytes = std::fs::read_to_string(dir.join(PEAK_MEMORY_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value["peak_memory_bytes"].as_u64());
    let result = ModelResult {
        model: model.to_string(),
        run: dir.to_path_buf(),
        test_accuracy_mean: report.test_accuracy_mean,
        test_accuracy_std: report.test_accuracy_std,
        seconds_per_epoch: report.seconds_per_epoch,
        total_seconds: report.total_seconds,
        parameters: classifier.num_params(),
        peak_memory_bytes,
    };
    Ok((report, result))
}

/// The comparison as a Markdown table, the validation-selected line last.
fn markdown(comparison: &Comparison) -> String {
    let mut text = format!(
        "{}, {} folds: test accuracy (mean ± std over folds; each fold's checkpoint chosen on validation)\n\n\
         | model | test accuracy (%) | s/epoch | wall s | parameters | peak memory (MiB) |\n\
         |---|---|---|---|---|---|\n",
        comparison.dataset, comparison.folds
    );
    for m in &comparison.models {
        text += &format!(
            "| `{}` | {:.1} ± {:.1} | {:.3} | {:.0} | {} | {} |\n",
            m.model,
            100.0 * m.test_accuracy_mean,
            100.0 * m.test_accuracy_std,
            m.seconds_per_epoch,
            m.total_seconds,
            m.parameters,
            m.peak_memory_bytes
                .map_or("–".into(), |b| format!("{:.0}", b as f64 / 1048576.0)),
        );
    }
    let selection = &comparison.selected_on_validation;
    let chosen: Vec<&str> = selection
        .choices
        .iter()
        .map(|c| {
            comparison
                .models
                .get(c.run)
                .map_or("?", |m| m.model.as_str())
        })
        .collect();
    text += &format!(
        "| per fold, the best on validation ({}) | {:.1} ± {:.1} | | | | |\n",
        chosen.join(", "),
        100.0 * selection.test_accuracy_mean,
        100.0 * selection.test_accuracy_std
    );
    text
}

/// Test accuracy per model as bars with ± one standard deviation.
fn draw(comparison: &Comparison, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let n = comparison.models.len().max(1);
    let root = SVGBackend::with_string(svg, (160 + 110 * n as u32, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: test accuracy over {} folds (± std)",
                comparison.dataset, comparison.folds
            ),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(20)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..n as f64, 0.0..100.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|_| String::new())
        .y_desc("test accuracy (%)")
        .draw()?;
    let bar = RGBColor(31, 119, 180);
    for (i, m) in comparison.models.iter().enumerate() {
        let (x, mean, std) = (
            i as f64,
            100.0 * m.test_accuracy_mean,
            100.0 * m.test_accuracy_std,
        );
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.15, 0.0), (x + 0.85, mean)],
            bar.mix(0.8).filled(),
        )))?;
        let (low, high) = ((mean - std).max(0.0), (mean + std).min(100.0));
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x + 0.5, low), (x + 0.5, high)],
            BLACK.stroke_width(2),
        )))?;
        for y in [low, high] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x + 0.4, y), (x + 0.6, y)],
                BLACK.stroke_width(2),
            )))?;
        }
        // The model's name and its mean above the bar.
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {mean:.1}", m.model),
            (x + 0.15, (high + 6.0).min(97.0)),
            ("sans-serif", 14),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// The process's peak resident memory, reset between models (Linux: `/proc/self/clear_refs`
/// resets `VmHWM`, which `/proc/self/status` reports).
mod peak_memory {
    /// Resets the peak to the current resident size (no effect where unsupported).
    pub fn reset() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }

    /// The peak since the last reset, in bytes.
    pub fn read() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, parse};

    /// A small comparison on the built-in dataset: every file written, one line per model
    /// plus the validation-selected line, and a second run skips what finished.
    #[test]
    fn compares_models_on_the_same_folds_and_skips_what_is_done() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("cmp");
        let command = [
            "gnn",
            "compare",
            "--models",
            "global,topk",
            "--graphs",
            "40",
            "--folds",
            "2",
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--quiet",
            "--out",
            out.to_str().expect("utf-8 path"),
        ];
        let Command::Compare(args) = parse(command).expect("parses") else {
            panic!("a compare command")
        };
        execute(&args).expect("compares");
        for name in COMPARISON_FILES {
            assert!(out.join(name).exists(), "{name}");
        }
        let text = std::fs::read_to_string(out.join("comparison.json")).expect("written");
        let comparison: Comparison = serde_json::from_str(&text).expect("reads");
        assert_eq!(comparison.folds, 2);
        let models: Vec<&str> = comparison.models.iter().map(|m| m.model.as_str()).collect();
        assert_eq!(models, ["global", "topk"]);
        for m in &comparison.models {
            assert!((0.0..=1.0).contains(&m.test_accuracy_mean));
            assert!(m.parameters > 0);
            if cfg!(target_os = "linux") {
                assert!(m.peak_memory_bytes.is_some_and(|b| b > 0));
            }
        }
        assert_eq!(comparison.selected_on_validation.choices.len(), 2);
        let table = std::fs::read_to_string(out.join("comparison.md")).expect("written");
        assert_eq!(table.lines().filter(|l| l.starts_with("| ")).count(), 4);
        assert!(
            std::fs::read_to_string(out.join("comparison.svg")).is_ok_and(|s| s.contains("topk"))
        );

        // Rerun: both runs finished, nothing retrains (their metrics are untouched).
        let stamp = |m: &str| {
            std::fs::metadata(out.join(m).join(METRICS_FILE))
                .and_then(|meta| meta.modified())
                .expect("metrics.json")
        };
        let before = (stamp("global"), stamp("topk"));
        execute(&args).expect("compares again");
        assert_eq!((stamp("global"), stamp("topk")), before);
    }
}
