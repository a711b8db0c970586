//! Hierarchical graph classifiers, TU datasets and training for Burn graph pooling.
#![warn(missing_docs)]

pub mod classifier;
pub mod cli;
pub mod cpu;
pub mod data;
pub mod model_selection;
pub mod parallel;
pub mod parity;
pub mod plot;
pub mod report;
pub mod train;

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
