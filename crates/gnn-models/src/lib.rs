//! Hierarchical graph classifiers, TU datasets and training for Burn graph pooling.
#![warn(missing_docs)]

pub mod classifier;
pub mod cli;
pub mod data;
pub mod parity;
pub mod plot;
pub mod report;
pub mod train;
