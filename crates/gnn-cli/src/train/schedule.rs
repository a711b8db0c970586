//! The learning rate on a plateau of the validation loss: [`PlateauLr`].
//!
//! Burn 0.21 has no plateau scheduler (its `LrScheduler::step` sees no metric). Here the rate
//! is a function of the fold's validation losses so far, which the [`Ledger`] holds (the
//! checkpointing hook waits for each epoch's record before the next epoch starts, so every
//! step of epoch `e + 1` sees epochs `1..=e`), and a resumed fold, whose ledger starts with
//! its history, gets its rate back with nothing else saved. The rule is PyTorch's
//! `ReduceLROnPlateau` (mode `min`, no threshold, no cooldown): after more than `lr_patience`
//! epochs without a lower validation loss, the rate is multiplied by `lr_factor`. Training
//! stops once the rate falls below `min_lr` (Errica et al.'s rule; [`PlateauSettings::stops`],
//! checked by the early-stopping hook beside `patience`). With `lr_patience = 0` the rate stays
//! constant.

use std::sync::Arc;

use burn::optim::LearningRate;
use burn::optim::lr_scheduler::LrScheduler;
use burn::tensor::backend::Backend;

use super::state::Ledger;
use crate::config::TrainingConfig;

/// The settings of the schedule, from a [`TrainingConfig`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauSettings {
    /// The initial learning rate.
    pub lr: f64,
    /// Epochs without improvement tolerated before the rate is reduced (0: never reduced).
    pub lr_patience: usize,
    /// Factor of each reduction, in `(0, 1)`.
    pub lr_factor: f64,
    /// Training stops once the rate falls below this.
    pub min_lr: f64,
}

impl From<&TrainingConfig> for PlateauSettings {
    fn from(training: &TrainingConfig) -> Self {
        Self {
            lr: training.lr,
            lr_patience: training.lr_patience,
            lr_factor: training.lr_factor,
            min_lr: training.min_lr,
        }
    }
}

/// Where the schedule stands after some epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauState {
    /// Lowest validation loss so far (`f64::MAX` before the first epoch).
    pub best: f64,
    /// Epochs since the last reduction (or the best epoch) without improvement.
    pub bad_epochs: usize,
    /// Reductions so far: the rate is `lr * lr_factor^reductions`.
    pub reductions: u32,
}

impl PlateauSettings {
    /// The state after the validation losses `losses`, in epoch order (a NaN loss never
    /// improves).
    pub fn replay(&self, losses: impl IntoIterator<Item = f64>) -> PlateauState {
        let mut state = PlateauState {
            best: f64::MAX,
            bad_epochs: 0,
            reductions: 0,
        };
        for loss in losses {
            if loss < state.best {
                state.best = loss;
                state.bad_epochs = 0;
                continue;
            }
            state.bad_epochs += 1;
            if self.lr_patience > 0 && state.bad_epochs > self.lr_patience {
                state.reductions += 1;
                state.bad_epochs = 0;
            }
        }
        state
    }

    /// The learning rate in `state`.
    pub fn lr(&self, state: &PlateauState) -> f64 {
        self.lr * self.lr_factor.powi(state.reductions as i32)
    }

    /// Whether training stops in `state`: a schedule is on and the rate fell below `min_lr`.
    pub fn stops(&self, state: &PlateauState) -> bool {
        self.lr_patience > 0 && self.lr(state) < self.min_lr
    }
}

/// The learner's scheduler: the rate after the fold's validation losses so far.
#[derive(Debug, Clone)]
pub struct PlateauLr {
    settings: PlateauSettings,
    ledger: Arc<Ledger>,
}

impl PlateauLr {
    /// The scheduler of the fold whose epochs `ledger` records.
    pub fn new(settings: PlateauSettings, ledger: Arc<Ledger>) -> Self {
        Self { settings, ledger }
    }
}

impl LrScheduler for PlateauLr {
    /// Nothing: the state is the fold's history, which a resume restores.
    type Record<B: Backend> = ();

    fn step(&mut self) -> LearningRate {
        let losses = self.ledger.history().into_iter().map(|r| r.valid_loss);
        let state = self.settings.replay(losses);
        self.settings.lr(&state)
    }

    fn to_record<B: Backend>(&self) -> Self::Record<B> {}

    fn load_record<B: Backend>(self, _record: Self::Record<B>) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lr_patience: usize) -> PlateauSettings {
        PlateauSettings {
            lr: 0.01,
            lr_patience,
            lr_factor: 0.5,
            min_lr: 0.002,
        }
    }

    #[test]
    fn the_rate_halves_after_the_patience_and_training_stops_below_the_minimum() {
        let settings = settings(2);
        let losses = [
            1.0,
            0.9,
            0.95,
            0.92,
            0.91,
            0.8,
            0.85,
            f64::NAN,
            0.9,
            0.9,
            0.9,
            0.9,
            0.9,
        ];
        let rates: Vec<f64> = (1..=losses.len())
            .map(|n| settings.lr(&settings.replay(losses[..n].iter().copied())))
            .collect();
        let stops: Vec<bool> = (1..=losses.len())
            .map(|n| settings.stops(&settings.replay(losses[..n].iter().copied())))
            .collect();
        // Bad epochs: 0.95, 0.92, 0.91 (third: > 2 → halve); 0.8 best; 0.85, NaN, 0.9 (halve),
        // 0.9, 0.9, 0.9 (halve: 0.00125 < 0.002 → stop).
        assert_eq!(
            rates,
            [
                0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.0025,
                0.00125, 0.00125
            ]
        );
        assert_eq!(stops.iter().position(|&s| s), Some(11));
        let state = settings.replay(losses);
        assert_eq!(
            (state.best, state.reductions, state.bad_epochs),
            (0.8, 3, 1)
        );
    }

    #[test]
    fn without_lr_patience_the_rate_is_constant_and_never_stops_training() {
        let settings = settings(0);
        let state = settings.replay([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(settings.lr(&state), 0.01);
        assert!(!settings.stops(&state));
    }

    #[test]
    fn the_scheduler_follows_the_ledger() {
        let ledger = Ledger::new(Vec::new());
        let mut scheduler = PlateauLr::new(settings(1), ledger.clone());
        assert_eq!(scheduler.step(), 0.01);
        for (epoch, loss) in [(1, 1.0), (2, 2.0), (3, 2.0)] {
            ledger.push(crate::report::EpochRecord {
                epoch,
                train_loss: 1.0,
                train_accuracy: 0.5,
                valid_loss: loss,
                valid_accuracy: 0.5,
                train_seconds: 0.1,
                train_aux_loss: None,
                valid_aux_loss: None,
                smoothness: Vec::new(),
            });
        }
        assert_eq!(scheduler.step(), 0.005);
    }
}
