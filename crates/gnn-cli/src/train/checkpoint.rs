//! Saved models and checkpoints: `model.mpk` (weights, full precision) with `model.json` (the
//! classifier's configuration), the atomic [`Recorder`] of every model and checkpoint, the
//! check that a checkpoint loads before a resume ([`check_resumable`]), and the choice among
//! the checkpoints burn-train kept of the one with the lowest validation loss.

use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::optim::lr_scheduler::LrScheduler;
use burn::record::{
    FileRecorder, FullPrecisionSettings, NamedMpkBytesRecorder, NamedMpkFileRecorder,
    Recorder as BurnRecorder, RecorderError,
};
use burn::tensor::backend::{AutodiffBackend, Backend};
use gnn_core::segment::SegmentBackend;
use gnn_models::{Classifier, ClassifierConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{TrainError, io_error};
use super::state::checkpoint_path;
use crate::atomic::write_atomic;
use crate::report::{EpochRecord, classifier_from_json};

/// The recorder of every checkpoint and saved model: Burn's named MessagePack format
/// (`.mpk`, as `NamedMpkFileRecorder`) at full precision (f32 floats), so that a reloaded model
/// of an f32 backend computes exactly what was trained (the weights of an f64 backend are
/// rounded to f32), written atomically ([`write_atomic`]): a run killed while burn-train saves
/// a checkpoint leaves the previous file or the complete new one, never a truncated file.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    bytes: NamedMpkBytesRecorder<FullPrecisionSettings>,
    file: NamedMpkFileRecorder<FullPrecisionSettings>,
}

impl Recorder {
    /// The recorder.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<B: Backend> burn::record::Recorder<B> for Recorder {
    type Settings = FullPrecisionSettings;
    type RecordArgs = PathBuf;
    type RecordOutput = ();
    type LoadArgs = PathBuf;

    fn save_item<I: Serialize>(&self, item: I, mut file: PathBuf) -> Result<(), RecorderError> {
        let bytes = burn::record::Recorder::<B>::save_item(&self.bytes, item, ())?;
        file.set_extension(<Self as FileRecorder<B>>::file_extension());
        write_atomic(&file, &bytes)
            .map_err(|e| RecorderError::Unknown(format!("{}: {e}", file.display())))
    }

    fn load_item<I: DeserializeOwned>(&self, file: &mut PathBuf) -> Result<I, RecorderError> {
        burn::record::Recorder::<B>::load_item(&self.file, file)
    }
}

impl<B: Backend> FileRecorder<B> for Recorder {
    fn file_extension() -> &'static str {
        "mpk"
    }
}

/// File stem of a saved model inside a run or fold folder (`model.mpk`, `model.json`).
pub const MODEL_STEM: &str = "model";

/// Saves `model` as `DIR/model.mpk` and its configuration as `DIR/model.json`, each atomically.
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
    write_atomic(&json, config.to_string().as_bytes()).map_err(io_error(&json))
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

/// Reads the checkpoint of `epoch` in `dir/checkpoint` as burn-train will on resume, so that a file it cannot load
/// is a [`TrainError::Checkpoint`] here rather than a panic inside burn-train. `model`, `optim`
/// and `scheduler` only name the record types.
///
/// # Errors
/// [`TrainError::Checkpoint`] naming the file that does not load.
pub fn check_resumable<B, M, O, S>(
    dir: &Path,
    epoch: usize,
    _model: &M,
    _optim: &O,
    _scheduler: &S,
    device: &B::Device,
) -> Result<(), TrainError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
    S: LrScheduler,
{
    let recorder = Recorder::new();
    let error = |part: &str| {
        let path = checkpoint_path(dir, part, epoch);
        move |e: RecorderError| TrainError::Checkpoint {
            path,
            message: e.to_string(),
        }
    };
    let stem = |part: &str| checkpoint_path(dir, part, epoch).with_extension("");
    BurnRecorder::<B>::load::<M::Record>(&recorder, stem("model"), device)
        .map_err(error("model"))?;
    BurnRecorder::<B>::load::<O::Record>(&recorder, stem("optim"), device)
        .map_err(error("optim"))?;
    BurnRecorder::<B>::load::<S::Record<B>>(&recorder, stem("scheduler"), device)
        .map_err(error("scheduler"))?;
    Ok(())
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
            train_aux_loss: None,
            valid_aux_loss: None,
            smoothness: Vec::new(),
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
