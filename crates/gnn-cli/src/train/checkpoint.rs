//! Saved models and checkpoints: `model.mpk` (weights, full precision) with `model.json` (the
//! classifier's configuration), and the choice among the checkpoints burn-train kept of the
//! one with the lowest validation loss.

use gnn_core::segment::SegmentBackend;
use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use gnn_models::{Classifier, ClassifierConfig};

use super::error::{TrainError, io_error};
use crate::report::{EpochRecord, classifier_from_json};

/// The recorder of every checkpoint and saved model: full precision (f32 floats), so that a
/// reloaded model of an f32 backend computes exactly what was trained (the weights of an f64
/// backend are rounded to f32).
pub type Recorder = NamedMpkFileRecorder<FullPrecisionSettings>;

/// File stem of a saved model inside a run or fold folder (`model.mpk`, `model.json`).
pub const MODEL_STEM: &str = "model";

/// Saves `model` as `DIR/model.mpk` and its configuration as `DIR/model.json`.
///
/// # Errors
/// [`TrainError::Checkpoint`] or [`TrainError::Io`].
pub fn save_model<B: SegmentBackend>(
    model: Classifier<B>,
    config: &ClassifierConfig,
    dir: &Path,
) -> Result<(), TrainError> {
    let stem = dir.join(MODEL_STEM);
    model
        .save_file(&stem, &Recorder::new())
        .map_err(|e| TrainError::Checkpoint {
            path: stem.with_extension("mpk"),
            message: e.to_string(),
        })?;
    let json = dir.join(format!("{MODEL_STEM}.json"));
    config.save(&json).map_err(io_error(&json))
}

/// Loads a model saved by [`save_model`] from `dir`.
///
/// # Errors
/// [`TrainError::Io`] / [`TrainError::Checkpoint`] for missing or malformed files,
/// [`TrainError::Model`] for an invalid configuration.
pub fn load_model<B: SegmentBackend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(Classifier<B>, ClassifierConfig), TrainError> {
    let json = dir.join(format!("{MODEL_STEM}.json"));
    let checkpoint_error = |message: String| TrainError::Checkpoint {
        path: json.clone(),
        message,
    };
    let text = std::fs::read_to_string(&json).map_err(|e| checkpoint_error(e.to_string()))?;
    let config = serde_json::from_str(&text)
        .and_then(classifier_from_json)
        .map_err(|e| checkpoint_error(e.to_string()))?;
    let stem = dir.join(MODEL_STEM);
    let model = config
        .init::<B>(device)?
        .load_file(&stem, &Recorder::new(), device)
        .map_err(|e| TrainError::Checkpoint {
            path: stem.with_extension("mpk"),
            message: e.to_string(),
        })?;
    Ok((model, config))
}

/// Among the checkpoints burn-train kept in `dir/checkpoint` (`model-EPOCH.mpk`), loads the one
/// whose epoch had the lowest validation loss in `history` (ties: the earlier epoch; a NaN loss
/// counts as the highest), and returns it with its epoch. Falls back to `last` (the final
/// weights) and the last epoch when none can be read.
pub fn select_checkpoint<B: SegmentBackend>(
    last: Classifier<B>,
    config: &ClassifierConfig,
    history: &[EpochRecord],
    dir: &Path,
    device: &B::Device,
) -> (Classifier<B>, usize) {
    let last_epoch = history.len();
    let checkpoints = dir.join("checkpoint");
    let mut kept: Vec<(f64, usize)> = std::fs::read_dir(&checkpoints)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let epoch: usize = name
                .strip_prefix("model-")?
                .strip_suffix(".mpk")?
                .parse()
                .ok()?;
            let loss = history.iter().find(|r| r.epoch == epoch)?.valid_loss;
            Some((if loss.is_nan() { f64::INFINITY } else { loss }, epoch))
        })
        .collect();
    kept.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, epoch) in kept {
        let Ok(fresh) = config.init::<B>(device) else {
            break;
        };
        if let Ok(model) = fresh.load_file(
            checkpoints.join(format!("model-{epoch}")),
            &Recorder::new(),
            device,
        ) {
            return (model, epoch);
        }
    }
    (last, last_epoch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gnn_core::testing::tiny_graphs;
    use gnn_core::{GraphBatch, host};
    use gnn_models::HierarchicalClassifierConfig;

    fn record(epoch: usize, valid_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0,
            train_accuracy: 0.5,
            valid_loss,
            valid_accuracy: 0.5,
            train_seconds: 0.1,
        }
    }

    /// Asserts that two outputs agree to f32 rounding (saved weights are f32).
    fn assert_near(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{a:?} against {b:?}"
            );
        }
    }

    fn outputs<B: SegmentBackend>(model: &Classifier<B>, device: &B::Device) -> Vec<f64> {
        let batch = GraphBatch::<B>::from_graphs(&tiny_graphs(4), device).expect("batch");
        host::floats(model.forward(batch))
    }

    fn saved_models_reload_and_the_lowest_loss_checkpoint_wins<B: SegmentBackend>(
        device: &B::Device,
    ) {
        let config = ClassifierConfig::from(HierarchicalClassifierConfig::new(3, 2).with_hidden(4));
        let dir = tempfile::tempdir().expect("temp dir");
        let a = config.init::<B>(device).expect("model");
        let b = config.init::<B>(device).expect("model");
        // Burn initialises parameters lazily, and a clone of an untouched model initialises
        // its own (other) weights: run both once so that clones share them.
        let (a_out, b_out) = (outputs(&a, device), outputs(&b, device));
        save_model(a.clone(), &config, dir.path()).expect("saved");
        let (reloaded, reloaded_config) = load_model::<B>(dir.path(), device).expect("reloads");
        assert_near(&outputs(&reloaded, device), &a_out);
        assert_eq!(reloaded_config.to_string(), config.to_string());
        assert!(matches!(
            load_model::<B>(&dir.path().join("missing"), device),
            Err(TrainError::Checkpoint { .. })
        ));

        // Checkpoints of epochs 1 and 2; epoch 2 has the lower validation loss, epoch 3 none.
        let checkpoints = dir.path().join("checkpoint");
        std::fs::create_dir_all(&checkpoints).expect("folder");
        let recorder = Recorder::new();
        b.clone()
            .save_file(checkpoints.join("model-1"), &recorder)
            .expect("saved");
        a.clone()
            .save_file(checkpoints.join("model-2"), &recorder)
            .expect("saved");
        let history = [record(1, 0.9), record(2, 0.4), record(3, 0.1)];
        assert_ne!(a_out, b_out);
        let (selected, epoch) = select_checkpoint(b.clone(), &config, &history, dir.path(), device);
        assert_eq!(epoch, 2);
        assert_near(&outputs(&selected, device), &a_out);
        // No readable checkpoint: the last weights and the last epoch.
        let empty = tempfile::tempdir().expect("temp dir");
        let (selected, epoch) =
            select_checkpoint(b.clone(), &config, &history, empty.path(), device);
        assert_eq!(epoch, 3);
        assert_eq!(outputs(&selected, device), b_out);
    }

    gnn_core::backend_tests!(saved_models_reload_and_the_lowest_loss_checkpoint_wins);
}
