//! The optimisation settings of a run, [`TrainingConfig`], and what makes them unusable,
//! [`TrainingConfigError`].
//!
//! This module is the bottom of the crate: the command line ([`crate::cli`]) builds a
//! [`TrainingConfig`], the report ([`crate::report`]) records it, and the training loop
//! ([`crate::train`]) follows it. It depends on no other module of the crate.

use burn::config::Config;

/// Optimisation settings.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Maximum epochs per fold.
    #[config(default = 100)]
    pub epochs: usize,
    /// Graphs per batch (PyG's example: 60).
    #[config(default = 60)]
    pub batch_size: usize,
    /// Adam learning rate (PyG's example: 5e-4).
    #[config(default = 5e-4)]
    pub lr: f64,
    /// Adam's L2 weight decay (0 disables it).
    #[config(default = 1e-4)]
    pub weight_decay: f64,
    /// Early stopping: epochs without a lower validation loss before training stops.
    #[config(default = 20)]
    pub patience: usize,
    /// Learning rate on plateau: epochs without a lower validation loss tolerated before the
    /// rate is multiplied by `lr_factor` (PyTorch's `ReduceLROnPlateau`); 0 keeps the rate
    /// constant. See `train::schedule`.
    #[config(default = 0)]
    pub lr_patience: usize,
    /// Factor of each learning-rate reduction, in `(0, 1)`.
    #[config(default = 0.5)]
    pub lr_factor: f64,
    /// With a plateau schedule, training stops once the rate falls below this.
    #[config(default = 1e-5)]
    pub min_lr: f64,
    /// Standardise the continuous node attributes (`--use-node-attr`) with the mean and
    /// standard deviation of each fold's training graphs, saved with the model.
    #[config(default = true)]
    pub standardize_attributes: bool,
    /// Clip each parameter's gradient to this L2 norm before the Adam step (0 disables it).
    #[config(default = 0.0)]
    pub grad_clip_norm: f64,
    /// Seed of the initialisation, dropout and batch shuffling (fold `k` uses `seed + k`).
    #[config(default = 0)]
    pub seed: u64,
    /// Threads that train on shards of each batch in parallel (see
    /// `gnn_models::train::data_parallel_step`). The gradients are the batch's whatever the number, up
    /// to float rounding; a seeded run is reproducible for a given number. 1 suits GPU
    /// backends.
    #[config(default = 1)]
    pub threads: usize,
}

/// A [`TrainingConfig`] that training cannot follow.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TrainingConfigError {
    /// `epochs` is 0.
    #[error("epochs must be at least 1")]
    ZeroEpochs,
    /// `batch_size` is 0.
    #[error("the batch size must be at least 1")]
    ZeroBatchSize,
    /// `lr` is not a positive finite number.
    #[error("the learning rate must be a positive number, not {lr}")]
    LearningRate {
        /// The configured learning rate.
        lr: f64,
    },
    /// `weight_decay` is negative or not finite.
    #[error("the weight decay must be a non-negative number, not {weight_decay}")]
    WeightDecay {
        /// The configured weight decay.
        weight_decay: f64,
    },
    /// `lr_factor` is not in `(0, 1)`.
    #[error("the learning-rate factor must lie in (0, 1), not {factor}")]
    LrFactor {
        /// The configured factor.
        factor: f64,
    },
    /// `min_lr` is negative or not finite.
    #[error("the minimum learning rate must be a non-negative number, not {min_lr}")]
    MinLr {
        /// The configured minimum.
        min_lr: f64,
    },
    /// `grad_clip_norm` is negative or not finite.
    #[error("the gradient clipping norm must be a non-negative number, not {norm}")]
    GradClipNorm {
        /// The configured norm.
        norm: f64,
    },
}

impl TrainingConfig {
    /// Checks that training can follow these settings: at least one epoch and one graph per
    /// batch, a positive learning rate, a non-negative weight decay and clipping norm.
    ///
    /// # Errors
    /// The first [`TrainingConfigError`] found.
    pub fn validate(&self) -> Result<(), TrainingConfigError> {
        let non_negative = |v: f64| v >= 0.0 && v.is_finite();
        if self.epochs == 0 {
            return Err(TrainingConfigError::ZeroEpochs);
        }
        if self.batch_size == 0 {
            return Err(TrainingConfigError::ZeroBatchSize);
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(TrainingConfigError::LearningRate { lr: self.lr });
        }
        if !non_negative(self.weight_decay) {
            return Err(TrainingConfigError::WeightDecay {
                weight_decay: self.weight_decay,
            });
        }
        if !non_negative(self.grad_clip_norm) {
            return Err(TrainingConfigError::GradClipNorm {
                norm: self.grad_clip_norm,
            });
        }
        if !(self.lr_factor > 0.0 && self.lr_factor < 1.0) {
            return Err(TrainingConfigError::LrFactor {
                factor: self.lr_factor,
            });
        }
        if !non_negative(self.min_lr) {
            return Err(TrainingConfigError::MinLr {
                min_lr: self.min_lr,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_each_bad_setting_is_named() {
        assert_eq!(TrainingConfig::new().validate(), Ok(()));
        let cases = [
            (
                TrainingConfig::new().with_epochs(0),
                TrainingConfigError::ZeroEpochs,
            ),
            (
                TrainingConfig::new().with_batch_size(0),
                TrainingConfigError::ZeroBatchSize,
            ),
            (
                TrainingConfig::new().with_lr(0.0),
                TrainingConfigError::LearningRate { lr: 0.0 },
            ),
            (
                TrainingConfig::new().with_weight_decay(-1.0),
                TrainingConfigError::WeightDecay { weight_decay: -1.0 },
            ),
            (
                TrainingConfig::new().with_grad_clip_norm(f64::INFINITY),
                TrainingConfigError::GradClipNorm {
                    norm: f64::INFINITY,
                },
            ),
        ];
        let cases = cases.into_iter().chain([
            (
                TrainingConfig::new().with_lr_factor(1.0),
                TrainingConfigError::LrFactor { factor: 1.0 },
            ),
            (
                TrainingConfig::new().with_min_lr(-1e-3),
                TrainingConfigError::MinLr { min_lr: -1e-3 },
            ),
        ]);
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected));
        }
        assert!(
            TrainingConfig::new()
                .with_lr(f64::NAN)
                .validate()
                .is_err_and(|e| e.to_string().contains("learning rate"))
        );
    }
}
