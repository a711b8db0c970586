//! Training curves as an SVG: loss and accuracy per epoch, training and validation, every fold.

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
    use crate::report::EpochRecord;

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
}
