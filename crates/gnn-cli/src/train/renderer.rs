//! [`EpochRenderer`]: a burn-train renderer that turns burn-train's per-batch metric events
//! into one [`EpochRecord`] (and optionally one printed line) per epoch, with a progress bar
//! over the epoch's batches when stdout is a terminal.
//!
//! burn-train's default renderer without a terminal prints one `Debug` line per batch and no
//! metric value (see `BURN-0.21.md`, section 6); this one prints nothing per batch.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use burn::train::LearnerSummary;
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};

use gnn_models::train::{AUX_LOSS_METRIC as AUX_LOSS, Gauge};

use super::state::Ledger;
use crate::report::{BlockSmoothness, EpochRecord};

/// Per-split running sums of the metrics of the current epoch.
#[derive(Debug, Default, Clone)]
struct Sums {
    values: HashMap<String, (f64, f64)>,
}

impl Sums {
    fn add(&mut self, name: &str, entry: &NumericEntry) {
        let (value, count) = match entry {
            NumericEntry::Value(v) => (*v, 1.0),
            NumericEntry::Aggregated {
                aggregated_value,
                count,
            } => (*aggregated_value, *count as f64),
        };
        let slot = self.values.entry(name.to_string()).or_insert((0.0, 0.0));
        slot.0 += value * count;
        slot.1 += count;
    }

    /// The mean of a metric only some models report (`None` when it was not registered).
    fn mean_if_reported(&self, name: &str) -> Option<f64> {
        self.values.contains_key(name).then(|| self.mean(name))
    }

    fn mean(&self, name: &str) -> f64 {
        self.values.get(name).map_or(
            f64::NAN,
            |(sum, n)| if *n > 0.0 { sum / n } else { f64::NAN },
        )
    }
}

/// A burn-train renderer: at the end of every epoch it records an [`EpochRecord`] (weighted
/// means of burn-train's `Loss` and `Accuracy` metrics and of our `StepMetric`s when the
/// model has one, training seconds) in the fold's
/// [`Ledger`] and, when `verbose`, prints one line. When `verbose` and stdout is a terminal it
/// also draws a progress bar over the epoch's batches (elapsed time, ETA), cleared before the
/// epoch's line; elsewhere (a file, a pipe) nothing is printed per batch.
///
/// Epoch boundaries come from the progress burn-train reports (the last batch of a split has
/// `items_processed == items_total`). Timestamps are taken when burn-train's event thread
/// hands an event over, a few microseconds after the batch.
pub struct EpochRenderer {
    names: HashMap<MetricId, String>,
    train: Sums,
    valid: Sums,
    epoch_start: Option<Instant>,
    train_seconds: f64,
    ledger: Arc<Ledger>,
    label: String,
    max_epochs: usize,
    verbose: bool,
    batch_size: usize,
    show_bar: bool,
    bar: Option<ProgressBar>,
}

impl EpochRenderer {
    /// A renderer recording into `ledger`; `label` prefixes its lines (e.g. `fold 2/10 `),
    /// `batch_size` turns burn-train's item counts into batches for the progress bar.
    pub fn new(
        ledger: Arc<Ledger>,
        label: impl Into<String>,
        max_epochs: usize,
        verbose: bool,
        batch_size: usize,
    ) -> Self {
        Self {
            names: HashMap::new(),
            train: Sums::default(),
            valid: Sums::default(),
            epoch_start: None,
            train_seconds: 0.0,
            ledger,
            label: label.into(),
            max_epochs,
            verbose,
            batch_size: batch_size.max(1),
            show_bar: verbose && std::io::stdout().is_terminal(),
            bar: None,
        }
    }

    /// Moves the progress bar (created at an epoch's first batch) to `item`'s batch.
    fn advance_bar(&mut self, item: &TrainingProgress, stage: &'static str) {
        if !self.show_bar {
            return;
        }
        let Some(progress) = &item.progress else {
            return;
        };
        let (done, total) = (
            progress.items_processed.div_ceil(self.batch_size) as u64,
            progress.items_total.div_ceil(self.batch_size) as u64,
        );
        let epoch = item.global_progress.items_processed;
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
            let template =
                "{prefix}epoch {msg} [{bar:30}] {pos}/{len} batches | {elapsed} elapsed, ETA {eta}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.set_prefix(self.label.clone());
        bar.set_message(format!("{epoch:>3}/{} {stage}", self.max_epochs));
        bar.set_length(total);
        bar.set_position(done);
    }

    fn record(&mut self, state: MetricState, valid: bool) {
        if let MetricState::Numeric(entry, value) = state
            && let Some(name) = self.names.get(&entry.metric_id)
        {
            let sums = if valid {
                &mut self.valid
            } else {
                &mut self.train
            };
            sums.add(name, &value);
        }
    }

    fn split_done(item: &TrainingProgress) -> bool {
        item.progress
            .as_ref()
            .is_some_and(|p| p.items_processed >= p.items_total)
    }

    fn finish_epoch(&mut self, epoch: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let record = EpochRecord {
            epoch,
            train_loss: self.train.mean("Loss"),
            train_accuracy: self.train.mean("Accuracy") / 100.0,
            valid_loss: self.valid.mean("Loss"),
            valid_accuracy: self.valid.mean("Accuracy") / 100.0,
            train_seconds: self.train_seconds,
            train_aux_loss: self.train.mean_if_reported(AUX_LOSS),
            valid_aux_loss: self.valid.mean_if_reported(AUX_LOSS),
            smoothness: (1..)
                .map_while(|block| {
                    Some(BlockSmoothness {
                        cosine_similarity: self
                            .valid
                            .mean_if_reported(&Gauge::CosineSimilarity.metric_name(block))?,
                        dirichlet_energy: self
                            .valid
                            .mean_if_reported(&Gauge::DirichletEnergy.metric_name(block))?,
                    })
                })
                .collect(),
        };
        if self.verbose {
            println!(
                "{}epoch {:>3}/{} | train loss {:.4} acc {:.3} | valid loss {:.4} acc {:.3} | {:.2} s",
                self.label,
                epoch,
                self.max_epochs,
                record.train_loss,
                record.train_accuracy,
                record.valid_loss,
                record.valid_accuracy,
                record.train_seconds
            );
            if let (Some(train), Some(valid)) = (record.train_aux_loss, record.valid_aux_loss) {
                println!(
                    "{}          auxiliary loss (in the losses above): train {train:.4} | valid {valid:.4}",
                    self.label
                );
            }
        }
        self.ledger.push(record);
        self.train = Sums::default();
        self.valid = Sums::default();
        self.epoch_start = Some(Instant::now());
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record(state, false);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(state, true);
    }

    fn render_train(&mut self, item: TrainingProgress, _indicators: Vec<ProgressType>) {
        self.advance_bar(&item, "train");
        if Self::split_done(&item) {
            let start = *self.epoch_start.get_or_insert_with(Instant::now);
            self.train_seconds = start.elapsed().as_secs_f64();
        }
    }

    fn render_valid(&mut self, item: TrainingProgress, _indicators: Vec<ProgressType>) {
        self.advance_bar(&item, "valid");
        if Self::split_done(&item) {
            self.finish_epoch(item.global_progress.items_processed);
        }
    }

    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        // An interrupted epoch leaves its bar: clear it before the run's last lines.
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        Ok(())
    }
}

impl MetricsRendererEvaluation for EpochRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}

    fn render_test(&mut self, _item: EvaluationProgress, _indicators: Vec<ProgressType>) {}

    fn on_test_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl MetricsRenderer for EpochRenderer {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.epoch_start.get_or_insert_with(Instant::now);
        self.names.insert(definition.metric_id, definition.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_means_are_weighted_by_batch_size() {
        let mut sums = Sums::default();
        sums.add("Loss", &NumericEntry::Value(2.0));
        sums.add(
            "Loss",
            &NumericEntry::Aggregated {
                aggregated_value: 4.0,
                count: 3,
            },
        );
        assert_eq!(sums.mean("Loss"), 3.5);
        assert!(sums.mean("Accuracy").is_nan());
    }
}
