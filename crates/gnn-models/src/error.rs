//! The error type of the models' configurations.

use gnn_pool::PoolError;
use thiserror::Error;

/// What can be wrong with a model's configuration.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A size of the model is below its minimum.
    #[error("{what} must be at least {min}, got {value}")]
    TooSmall {
        /// Which size.
        what: &'static str,
        /// The smallest allowed value.
        min: usize,
        /// The value given.
        value: usize,
    },
    /// A dropout probability must lie in `[0, 1)`.
    #[error("dropout {0} is outside [0, 1)")]
    InvalidDropout(f64),
    /// A weight of an auxiliary loss must be finite and not negative.
    #[error("auxiliary loss weight {0} must be finite and not negative")]
    InvalidLossWeight(f64),
    /// A pooling layer's configuration is invalid.
    #[error(transparent)]
    Pool(#[from] PoolError),
}

/// Result with [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
