//! The learning rate on a plateau of the validation loss, and when to stop: [`Plateau`].
//!
//! Burn 0.21 has no plateau scheduler (its `LrScheduler::step` sees no metric), so this module
//! shares one state between the two hooks burn-train gives: [`PlateauStopping`], burn-train's
//! early-stopping strategy, reads the epoch's validation loss in the training loop after
//! validation and updates the state; [`PlateauLr`], the learner's scheduler, reads it on every
//! step. PyTorch's `ReduceLROnPlateau` (mode `min`, no threshold, no cooldown): after more than
//! `lr_patience` epochs without a lower validation loss, the rate is multiplied by `lr_factor`.
//! Training stops after `patience` epochs without a lower validation loss (today's early
//! stopping) or once the rate falls below `min_lr` (Errica et al.'s rule), whichever is first.
//! With `lr_patience = 0` the rate stays constant.

use std::sync::{Arc, Mutex, PoisonError};

use burn::optim::LearningRate;
use burn::optim::lr_scheduler::LrScheduler;
use burn::tensor::backend::Backend;
use burn::train::EarlyStoppingStrategy;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use burn::train::metric::{LossMetric, Metric, MetricName};

use crate::config::TrainingConfig;

/// The settings of a [`Plateau`], from a [`TrainingConfig`].
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
    /// Training stops after this many epochs without improvement.
    pub patience: usize,
}

impl From<&TrainingConfig> for PlateauSettings {
    fn from(training: &TrainingConfig) -> Self {
        Self {
            lr: training.lr,
            lr_patience: training.lr_patience,
            lr_factor: training.lr_factor,
            min_lr: training.min_lr,
            patience: training.patience.max(1),
        }
    }
}

/// What the validation losses so far imply: the record a resumed run restores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauState {
    /// Lowest validation loss so far (`f64::MAX` before the first epoch).
    pub best: f64,
    /// Epochs since the last reduction (or the best epoch) without improvement.
    pub bad_epochs: usize,
    /// Epochs since the best one.
    pub since_best: usize,
    /// Reductions so far: the rate is `lr * lr_factor^reductions`.
    pub reductions: u32,
}

impl Default for PlateauState {
    fn default() -> Self {
        Self {
            best: f64::MAX,
            bad_epochs: 0,
            since_best: 0,
            reductions: 0,
        }
    }
}

/// The shared schedule (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct Plateau {
    settings: PlateauSettings,
    state: Arc<Mutex<PlateauState>>,
}

impl Plateau {
    /// A schedule at its start.
    pub fn new(settings: PlateauSettings) -> Self {
        Self {
            settings,
            state: Arc::new(Mutex::new(PlateauState::default())),
        }
    }

    /// The learner's scheduler, sharing this state.
    pub fn scheduler(&self) -> PlateauLr {
        PlateauLr(self.clone())
    }

    /// The early-stopping strategy, sharing this state.
    pub fn stopping(&self) -> PlateauStopping {
        PlateauStopping {
            plateau: self.clone(),
            loss: LossMetric::<burn::backend::NdArray>::new().name(),
        }
    }

    /// The rate now.
    pub fn lr(&self) -> f64 {
        self.rate(&self.state())
    }

    /// The state now.
    pub fn state(&self) -> PlateauState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn rate(&self, state: &PlateauState) -> f64 {
        self.settings.lr * self.settings.lr_factor.powi(state.reductions as i32)
    }

    /// Takes the validation loss of an epoch; returns whether training should stop.
    pub fn observe(&self, valid_loss: f64) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // A NaN loss is never an improvement.
        if valid_loss < state.best {
            *state = PlateauState {
                best: valid_loss,
                bad_epochs: 0,
                since_best: 0,
                reductions: state.reductions,
            };
            return false;
        }
        state.bad_epochs += 1;
        state.since_best += 1;
        let lr_patience = self.settings.lr_patience;
        if lr_patience > 0 && state.bad_epochs > lr_patience {
            state.reductions += 1;
            state.bad_epochs = 0;
        }
        let below_min = lr_patience > 0 && self.rate(&state) < self.settings.min_lr;
        state.since_best >= self.settings.patience || below_min
    }

    fn restore(&self, record: PlateauState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = record;
    }
}

/// The learner's side of a [`Plateau`]: the current rate on every step.
#[derive(Debug, Clone)]
pub struct PlateauLr(Plateau);

impl LrScheduler for PlateauLr {
    /// `(best, bad_epochs, since_best, reductions)` of [`PlateauState`].
    type Record<B: Backend> = (f64, usize, usize, u32);

    fn step(&mut self) -> LearningRate {
        self.0.lr()
    }

    fn to_record<B: Backend>(&self) -> Self::Record<B> {
        let s = self.0.state();
        (s.best, s.bad_epochs, s.since_best, s.reductions)
    }

    fn load_record<B: Backend>(self, record: Self::Record<B>) -> Self {
        let (best, bad_epochs, since_best, reductions) = record;
        self.0.restore(PlateauState {
            best,
            bad_epochs,
            since_best,
            reductions,
        });
        self
    }
}

/// burn-train's side of a [`Plateau`]: reads the epoch's mean validation loss after
/// validation, and stops training as the [module documentation](self) says.
#[derive(Clone)]
pub struct PlateauStopping {
    plateau: Plateau,
    loss: MetricName,
}

impl EarlyStoppingStrategy for PlateauStopping {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        match store.find_metric(&self.loss, epoch, Aggregate::Mean, &Split::Valid) {
            Some(loss) => self.plateau.observe(loss),
            // burn-train records the loss of every validation epoch; without one, nothing is
            // learnt about the plateau.
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lr_patience: usize, patience: usize) -> PlateauSettings {
        PlateauSettings {
            lr: 0.01,
            lr_patience,
            lr_factor: 0.5,
            min_lr: 0.002,
            patience,
        }
    }

    #[test]
    fn the_rate_halves_after_the_patience_and_training_stops_below_the_minimum() {
        let plateau = Plateau::new(settings(2, 100));
        let mut scheduler = plateau.scheduler();
        let mut rates = Vec::new();
        let mut stops = Vec::new();
        for loss in [
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
        ] {
            stops.push(plateau.observe(loss));
            rates.push(scheduler.step());
        }
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
        let state = plateau.state();
        assert_eq!(
            (state.best, state.reductions, state.since_best),
            (0.8, 3, 7)
        );
    }

    #[test]
    fn without_lr_patience_it_is_early_stopping_at_a_constant_rate() {
        let plateau = Plateau::new(settings(0, 3));
        let stops: Vec<bool> = [1.0, 2.0, 3.0, 0.5, 0.6, 0.7, 0.8]
            .into_iter()
            .map(|loss| plateau.observe(loss))
            .collect();
        assert_eq!(stops, [false, false, false, false, false, false, true]);
        assert_eq!(plateau.scheduler().step(), 0.01);
    }

    #[test]
    fn the_record_restores_the_state() {
        type B = burn::backend::NdArray;
        let plateau = Plateau::new(settings(1, 100));
        for loss in [1.0, 2.0, 2.0] {
            plateau.observe(loss);
        }
        let record = plateau.scheduler().to_record::<B>();
        let resumed = Plateau::new(settings(1, 100));
        let mut scheduler = resumed.scheduler().load_record::<B>(record);
        assert_eq!(resumed.state(), plateau.state());
        assert_eq!(scheduler.step(), 0.005);
    }
}
