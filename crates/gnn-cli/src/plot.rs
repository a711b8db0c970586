//! Training curves as an SVG: loss and accuracy per epoch, training and validation, every fold;
//! and the over-smoothing gauges per block and epoch.

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::write_atomic;
use crate::report::FoldReport;

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALID: RGBColor = RGBColor(214, 39, 40);

/// Draws `folds`' histories into `path` (SVG, 1000 × 420): loss on the left, accuracy on the
/// right; training in blue, validation in red, one line per fold. The SVG is drawn in memory
/// and written atomically ([`write_atomic`]).
///
/// # Errors
/// An I/O error writing the file, or a drawing error (as [`std::io::Error`]).
pub fn plot_training_curves(folds: &[FoldReport], title: &str, path: &Path) -> std::io::Result<()> {
    let mut svg = String::new();
    draw(folds, title, &mut svg)
        .map_err(|e| std::io::Error::other(format!("plotting {}: {e}", path.display())))?;
    write_atomic(path, svg.as_bytes())
}

type Series = Vec<(f64, f64)>;

/// Colours of blocks 1, 2, … (repeating).
const BLOCKS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws the over-smoothing gauges of `folds`' histories into `path` (SVG, 1000 × 420): mean
/// pairwise cosine similarity on the left, Dirichlet energy per node on the right, one line
/// per block, each the mean over the folds that reached that epoch. Returns `false` and writes
/// nothing when no epoch recorded a gauge (DiffPool, MinCut).
///
/// # Errors
/// As [`plot_training_curves`].
pub fn plot_smoothness(folds: &[FoldReport], title: &str, path: &Path) -> std::io::Result<bool> {
    let series = smoothness_series(folds);
    if series.is_empty() {
        return Ok(false);
    }
    let mut svg = String::new();
    draw_smoothness(&series, title, &mut svg)
        .map_err(|e| std::io::Error::other(format!("plotting {}: {e}", path.display())))?;
    write_atomic(path, svg.as_bytes())?;
    Ok(true)
}

/// Per block: (cosine, energy) series, each point the mean over folds at that epoch.
fn smoothness_series(folds: &[FoldReport]) -> Vec<(Series, Series)> {
    let blocks = folds
        .iter()
        .flat_map(|f| f.history.iter().map(|e| e.smoothness.len()))
        .max()
        .unwrap_or(0);
    let max_epoch = folds
        .iter()
        .flat_map(|f| f.history.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(0);
    (0..blocks)
        .map(|block| {
            let mean_at = |epoch: usize, pick: fn(&crate::report::BlockSmoothness) -> f64| {
                let values: Vec<f64> = folds
                    .iter()
                    .filter_map(|f| f.history.iter().find(|e| e.epoch == epoch))
                    .filter_map(|e| e.smoothness.get(block).map(pick))
                    .filter(|v| v.is_finite())
                    .collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            let series = |pick: fn(&crate::report::BlockSmoothness) -> f64| {
                (1..=max_epoch)
                    .filter_map(|epoch| mean_at(epoch, pick).map(|v| (epoch as f64, v)))
                    .collect::<Series>()
            };
            (
                series(|b| b.cosine_similarity),
                series(|b| b.dirichlet_energy),
            )
        })
        .collect()
}

fn draw_smoothness(
    series: &[(Series, Series)],
    title: &str,
    svg: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let max_epoch = series
        .iter()
        .flat_map(|(c, _)| c.iter().map(|p| p.0))
        .fold(2.0f64, f64::max);
    let root = SVGBackend::with_string(svg, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let (left, right) = root.split_horizontally(500);
    let max_energy = series
        .iter()
        .flat_map(|(_, e)| e.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    for (area, what, range, energy) in [
        (&left, "cosine similarity", 0.0..1.0, false),
        (&right, "Dirichlet energy / node", 0.0..max_energy, true),
    ] {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(1.0..max_epoch, range)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("epoch (validation graphs, mean over folds)")
            .y_desc(what)
            .draw()?;
        for (block, (cosine, dirichlet)) in series.iter().enumerate() {
            let colour = BLOCKS[block % BLOCKS.len()];
            let points = if energy { dirichlet } else { cosine };
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(format!("block {}", block + 1))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn draw(
    folds: &[FoldReport],
    title: &str,
    svg: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let max_epoch = folds
        .iter()
        .flat_map(|f| f.history.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    let root = SVGBackend::with_string(svg, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let (left, right) = root.split_horizontally(500);

    let losses: Vec<(Series, Series)> = folds
        .iter()
        .map(|f| {
            let train = f
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.train_loss))
                .collect();
            let valid = f
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.valid_loss))
                .collect();
            (train, valid)
        })
        .collect();
    let max_loss = losses
        .iter()
        .flat_map(|(t, v)| t.iter().chain(v).map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    panel(&left, "loss", max_epoch, 0.0..max_loss, &losses)?;

    let accuracies: Vec<(Series, Series)> = folds
        .iter()
        .map(|f| {
            let train = f
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.train_accuracy))
                .collect();
            let valid = f
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.valid_accuracy))
                .collect();
            (train, valid)
        })
        .collect();
    panel(&right, "accuracy", max_epoch, 0.0..1.0, &accuracies)?;
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    what: &str,
    max_epoch: f64,
    y_range: std::ops::Range<f64>,
    series: &[(Series, Series)],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(1.0..max_epoch, y_range)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("epoch")
        .y_desc(what)
        .draw()?;
    for (i, (train, valid)) in series.iter().enumerate() {
        let finite = |s: &Series| {
            s.iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect::<Vec<_>>()
        };
        let drawn = chart.draw_series(LineSeries::new(finite(train), TRAIN.stroke_width(2)))?;
        if i == 0 {
            drawn.label(format!("train {what}")).legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], TRAIN.stroke_width(2))
            });
        }
        let drawn = chart.draw_series(LineSeries::new(finite(valid), VALID.stroke_width(2)))?;
        if i == 0 {
            drawn.label(format!("valid {what}")).legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], VALID.stroke_width(2))
            });
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{BlockSmoothness, EpochRecord};

    #[test]
    fn writes_an_svg_with_both_panels() {
        let history = (1..=5)
            .map(|epoch| EpochRecord {
                epoch,
                train_loss: 1.0 / epoch as f64,
                train_accuracy: 0.5 + 0.08 * epoch as f64,
                valid_loss: 1.2 / epoch as f64,
                valid_accuracy: 0.45 + 0.08 * epoch as f64,
                train_seconds: 0.1,
                train_aux_loss: None,
                valid_aux_loss: None,
                smoothness: Vec::new(),
            })
            .collect();
        let fold = FoldReport {
            fold: 0,
            train_graphs: 8,
            valid_graphs: 1,
            test_graphs: 1,
            test_accuracy: 1.0,
            valid_accuracy: 1.0,
            selected_epoch: 5,
            epochs_run: 5,
            seconds_per_epoch: 0.1,
            seconds: 1.0,
            history,
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("curves.svg");
        plot_training_curves(&[fold], "test run", &path).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("polyline") || svg.contains("path"));
        assert!(svg.contains("valid loss") && svg.contains("train accuracy"));
    }

    fn fold(fold: usize, history: Vec<EpochRecord>) -> FoldReport {
        FoldReport {
            fold,
            train_graphs: 8,
            valid_graphs: 1,
            test_graphs: 1,
            test_accuracy: 1.0,
            valid_accuracy: 1.0,
            selected_epoch: 1,
            epochs_run: history.len(),
            seconds_per_epoch: 0.1,
            seconds: 1.0,
            history,
        }
    }

    fn record(epoch: usize, smoothness: Vec<BlockSmoothness>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0,
            train_accuracy: 0.5,
            valid_loss: 1.0,
            valid_accuracy: 0.5,
            train_seconds: 0.1,
            train_aux_loss: None,
            valid_aux_loss: None,
            smoothness,
        }
    }

    #[test]
    fn smoothness_is_averaged_over_folds_per_block_and_epoch() {
        let gauge = |c, d| BlockSmoothness {
            cosine_similarity: c,
            dirichlet_energy: d,
        };
        let folds = [
            fold(
                0,
                vec![
                    record(1, vec![gauge(0.2, 4.0), gauge(0.6, 1.0)]),
                    record(2, vec![gauge(0.4, 2.0), gauge(0.8, 0.5)]),
                ],
            ),
            // A fold stopped after one epoch.
            fold(1, vec![record(1, vec![gauge(0.4, 2.0), gauge(0.8, 3.0)])]),
        ];
        let series = smoothness_series(&folds);
        assert_eq!(series.len(), 2);
        let close = |a: &Series, b: &[(f64, f64)]| {
            assert_eq!(a.len(), b.len(), "{a:?}");
            for (p, q) in a.iter().zip(b) {
                assert!(
                    (p.0 - q.0).abs() < 1e-12 && (p.1 - q.1).abs() < 1e-12,
                    "{a:?}"
                );
            }
        };
        close(&series[0].0, &[(1.0, 0.3), (2.0, 0.4)]);
        close(&series[1].1, &[(1.0, 2.0), (2.0, 0.5)]);

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("smoothness.svg");
        assert!(plot_smoothness(&folds, "gauges", &path).expect("drawn"));
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.contains("block 2") && svg.contains("cosine similarity"));
        // Models without gauges get no plot.
        let none = [fold(0, vec![record(1, Vec::new())])];
        let path = dir.path().join("none.svg");
        assert!(!plot_smoothness(&none, "gauges", &path).expect("nothing to draw"));
        assert!(!path.exists());
    }
}
