//! [`EpochRenderer`]: a quiet burn-train renderer that turns burn-train's per-batch metric
//! events into one [`EpochRecord`] (and optionally one printed line) per epoch.
//!
//! burn-train's default renderer without a terminal prints one `Debug` line per batch and no
//! metric value (see `BURN-0.21.md`, section 6); this one prints nothing per batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::LearnerSummary;
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};

use crate::report::EpochRecord;

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

    fn mean(&self, name: &str) -> f64 {
        self.values.get(name).map_or(
            f64::NAN,
            |(sum, n)| if *n > 0.0 { sum / n } else { f64::NAN },
        )
    }
}

/// A quiet burn-train renderer: no output per batch; at the end of every epoch it records an
/// [`EpochRecord`] (weighted means of burn-train's `Loss` and `Accuracy` metrics, training
/// seconds) and, when `verbose`, prints one line.
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
    history: Arc<Mutex<Vec<EpochRecord>>>,
    label: String,
    max_epochs: usize,
    verbose: bool,
}

impl EpochRenderer {
    /// A renderer appending to `history`; `label` prefixes its lines (e.g. `fold 2/10`).
    pub fn new(
        history: Arc<Mutex<Vec<EpochRecord>>>,
        label: impl Into<String>,
        max_epochs: usize,
        verbose: bool,
    ) -> Self {
        Self {
            names: HashMap::new(),
            train: Sums::default(),
            valid: Sums::default(),
            epoch_start: None,
            train_seconds: 0.0,
            history,
            label: label.into(),
            max_epochs,
            verbose,
        }
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
        let record = EpochRecord {
            epoch,
            train_loss: self.train.mean("Loss"),
            train_accuracy: self.train.mean("Accuracy") / 100.0,
            valid_loss: self.valid.mean("Loss"),
            valid_accuracy: self.valid.mean("Accuracy") / 100.0,
            train_seconds: self.train_seconds,
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
        }
        if let Ok(mut history) = self.history.lock() {
            history.push(record);
        }
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
        if Self::split_done(&item) {
            let start = *self.epoch_start.get_or_insert_with(Instant::now);
            self.train_seconds = start.elapsed().as_secs_f64();
        }
    }

    fn render_valid(&mut self, item: TrainingProgress, _indicators: Vec<ProgressType>) {
        if Self::split_done(&item) {
            self.finish_epoch(item.global_progress.items_processed);
        }
    }

    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
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
