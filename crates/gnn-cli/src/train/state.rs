//! What a fold needs to continue after an interruption, and the burn-train hooks that keep it.
//!
//! A fold's state after epoch `e` is:
//!
//! - the model, optimizer and learning-rate scheduler, in burn-train's checkpoints
//!   `fold-K/checkpoint/{model,optim,scheduler}-e.mpk` (written atomically by
//!   [`Recorder`](super::Recorder), restored by burn-train's `.checkpoint(e)`);
//! - the per-epoch figures so far and the early-stopping counters, in `fold-K/state.json`
//!   ([`FoldState`]);
//! - nothing for the random numbers: the shuffle and the backend seed of epoch `e` are a pure
//!   function of (seed, fold, `e`) (see [`EpochLoader`](super::loader::EpochLoader)).
//!
//! burn-train 0.21's own early stopping (`MetricEarlyStoppingStrategy`) keeps its best epoch in
//! private fields, and its metric store numbers the first epoch after `.checkpoint(e)` as epoch
//! 1 (`LogEventStore` starts every split at epoch 1), so neither survives a resume. Here the
//! decisions come from the history instead, through two hooks burn-train calls on its training
//! thread after each validation: [`EpochCheckpointing`] (which checkpoints to save and delete;
//! it also writes `state.json`) and [`EpochEarlyStopping`]. The history comes from the
//! renderer, on burn-train's event thread, through a [`Ledger`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use burn::train::EarlyStoppingStrategy;
use burn::train::Interrupter;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::EventStoreClient;
use serde::{Deserialize, Serialize};

use super::error::{TrainError, io_error};
use super::schedule::PlateauSettings;
use crate::atomic::write_atomic;
use crate::report::EpochRecord;

/// File name of a fold's [`FoldState`], inside its folder.
pub const STATE_FILE: &str = "state.json";

/// The checkpoint files of one epoch that a resume needs: burn-train's model, optimizer and
/// scheduler records.
pub const CHECKPOINT_PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// Called after each completed epoch, once its state is saved, with the fold (from 0) and the
/// epoch (from 1); for progress reporting, or to interrupt a run at a chosen point.
pub type EpochHook = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Early stopping on the validation loss, as burn-train's `MetricEarlyStoppingStrategy` with
/// `NoImprovementSince { n_epochs: patience }` decides it: the best epoch is the first with the
/// lowest validation loss (a NaN loss never improves; epoch 1 until one does), and training
/// stops once `patience` epochs passed without a lower loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping (at least 1).
    pub patience: usize,
    /// The epoch with the lowest validation loss so far (1 before any).
    pub best_epoch: usize,
    /// Its validation loss (`null`/NaN before any).
    #[serde(deserialize_with = "nan_if_null")]
    pub best_valid_loss: f64,
    /// Epochs since the best one.
    pub epochs_without_improvement: usize,
}

fn nan_if_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

impl EarlyStopping {
    /// The counters after the epochs of `history` (in order).
    pub fn after(history: &[EpochRecord], patience: usize) -> Self {
        let mut best_epoch = 1;
        let mut best = None;
        for record in history {
            // burn-train starts from `f64::MAX`; `<` is false for NaN: a NaN loss never improves.
            if record.valid_loss < best.unwrap_or(f64::MAX) {
                best = Some(record.valid_loss);
                best_epoch = record.epoch;
            }
        }
        let best = best.unwrap_or(f64::NAN);
        let last = history.last().map_or(0, |r| r.epoch);
        Self {
            patience: patience.max(1),
            best_epoch,
            best_valid_loss: best,
            epochs_without_improvement: last.saturating_sub(best_epoch),
        }
    }

    /// Whether training stops after this epoch.
    pub fn should_stop(&self) -> bool {
        self.epochs_without_improvement >= self.patience
    }
}

/// The checkpoints kept after the epochs of `history`: the last two and the best
/// ([`EarlyStopping::best_epoch`]), as burn-train's default keeps the last two and the lowest
/// validation loss.
pub fn kept_checkpoints(history: &[EpochRecord], patience: usize) -> BTreeSet<usize> {
    let Some(last) = history.last().map(|r| r.epoch) else {
        return BTreeSet::new();
    };
    let best = EarlyStopping::after(history, patience).best_epoch;
    [
        Some(last),
        last.checked_sub(1).filter(|e| *e > 0),
        Some(best),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A fold's progress, `fold-K/state.json`: written atomically after every epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldState {
    /// Epochs completed (0: none).
    pub epoch: usize,
    /// Whether training of the fold is over (early stopping fired or the last epoch ran); what
    /// remains is choosing and testing a checkpoint.
    pub stopped: bool,
    /// The early-stopping counters after `epoch`.
    pub early_stopping: EarlyStopping,
    /// The figures of epochs `1..=epoch`.
    pub history: Vec<EpochRecord>,
}

impl FoldState {
    /// The state after the epochs of `history`, for a fold of at most `max_epochs` epochs.
    pub fn after(history: Vec<EpochRecord>, patience: usize, max_epochs: usize) -> Self {
        let early_stopping = EarlyStopping::after(&history, patience);
        let epoch = history.last().map_or(0, |r| r.epoch);
        Self {
            epoch,
            stopped: epoch >= max_epochs || early_stopping.should_stop(),
            early_stopping,
            history,
        }
    }

    /// Writes `dir/state.json` atomically.
    ///
    /// # Errors
    /// [`TrainError::Io`].
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        let path = dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(std::io::Error::other)
            .map_err(io_error(&path))?;
        write_atomic(&path, (text + "\n").as_bytes()).map_err(io_error(&path))
    }

    /// Reads `dir/state.json`; `None` when the fold has not finished an epoch yet.
    ///
    /// # Errors
    /// [`TrainError::Resume`] for a file that is not a fold state.
    pub fn load(dir: &Path) -> Result<Option<Self>, TrainError> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path)(e)),
        };
        let state: Self = serde_json::from_str(&text).map_err(|e| TrainError::Resume {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let numbered = state
            .history
            .iter()
            .enumerate()
            .all(|(i, r)| r.epoch == i + 1);
        if !numbered || state.history.len() != state.epoch {
            return Err(TrainError::Resume {
                path,
                message: format!(
                    "epoch {} with {} epochs of history",
                    state.epoch,
                    state.history.len()
                ),
            });
        }
        Ok(Some(state))
    }

    /// The point a resume starts from: the last epoch whose three checkpoint files exist in
    /// `dir/checkpoint` (a run killed between writing `state.json` and its checkpoint has the
    /// previous epoch's), with the history cut there; `None` when no epoch qualifies.
    pub fn resume_point(self, dir: &Path, patience: usize, max_epochs: usize) -> Option<Self> {
        let complete = |epoch: usize| {
            CHECKPOINT_PARTS
                .iter()
                .all(|part| checkpoint_path(dir, part, epoch).is_file())
        };
        let epoch = (1..=self.epoch).rev().find(|e| complete(*e))?;
        let mut history = self.history;
        history.truncate(epoch);
        Some(Self::after(history, patience, max_epochs))
    }
}

/// `dir/checkpoint/PART-EPOCH.mpk`, where burn-train's file checkpointer keeps `PART` (model,
/// optim, scheduler) of an epoch.
pub fn checkpoint_path(dir: &Path, part: &str, epoch: usize) -> PathBuf {
    dir.join("checkpoint").join(format!("{part}-{epoch}.mpk"))
}

/// Removes what an earlier run left in a fold folder that a new run (not a resume) would
/// otherwise mix with its own: `state.json` and the checkpoints `checkpoint/PART-N.mpk`.
///
/// # Errors
/// [`TrainError::Io`] for a file that cannot be removed.
pub fn clear_fold(dir: &Path) -> Result<(), TrainError> {
    let remove = |path: &Path| match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    };
    remove(&dir.join(STATE_FILE))?;
    let checkpoints = dir.join("checkpoint");
    let Ok(entries) = std::fs::read_dir(&checkpoints) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = CHECKPOINT_PARTS.iter().any(|part| {
            name.strip_prefix(part)
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|rest| rest.strip_suffix(".mpk"))
                .is_some_and(|n| n.parse::<usize>().is_ok())
        });
        if ours {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

/// The epochs of one fold as the renderer records them (on burn-train's event thread), shared
/// with the hooks on the training thread, which wait for an epoch's record before deciding.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<LedgerInner>,
    recorded: Condvar,
}

#[derive(Debug, Default)]
struct LedgerInner {
    history: Vec<EpochRecord>,
    stop_after: BTreeMap<usize, bool>,
}

impl Ledger {
    /// A ledger holding the epochs already done (those of a resumed fold).
    pub fn new(history: Vec<EpochRecord>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(LedgerInner {
                history,
                stop_after: BTreeMap::new(),
            }),
            recorded: Condvar::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LedgerInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an epoch's record and wakes the hooks waiting for it.
    pub fn push(&self, record: EpochRecord) {
        self.lock().history.push(record);
        self.recorded.notify_all();
    }

    /// The epochs recorded so far.
    pub fn history(&self) -> Vec<EpochRecord> {
        self.lock().history.clone()
    }

    /// The history up to `epoch` once the renderer has recorded it; `None` when the run is
    /// interrupted first (the validation of `epoch` may then never complete).
    fn wait_for(&self, epoch: usize, interrupter: &Interrupter) -> Option<Vec<EpochRecord>> {
        let mut inner = self.lock();
        loop {
            if let Some(at) = inner.history.iter().position(|r| r.epoch == epoch) {
                return Some(inner.history[..=at].to_vec());
            }
            if interrupter.should_stop() {
                return None;
            }
            inner = self
                .recorded
                .wait_timeout(inner, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn decide(&self, epoch: usize, stop: bool) {
        self.lock().stop_after.insert(epoch, stop);
    }

    fn stop_after(&self, epoch: usize) -> bool {
        self.lock().stop_after.get(&epoch).copied().unwrap_or(false)
    }
}

/// burn-train's checkpointing hook for one fold: after the validation of epoch `e` it waits for
/// the epoch's record, writes `state.json`, then has burn-train save the epoch's checkpoint and
/// delete those no longer kept ([`kept_checkpoints`]). When the run is interrupted before the
/// epoch's record arrives it saves nothing: the previous epoch stays the last complete one.
pub struct EpochCheckpointing {
    /// The fold's record.
    pub ledger: Arc<Ledger>,
    /// The fold's folder (holding `state.json` and `checkpoint/`).
    pub dir: PathBuf,
    /// Fold number, from 0 (for the hook).
    pub fold: usize,
    /// Early-stopping patience.
    pub patience: usize,
    /// The fold's epoch budget.
    pub max_epochs: usize,
    /// The run's interrupter; stopped with a message when `state.json` cannot be written.
    pub interrupter: Interrupter,
    /// Where a failure to write `state.json` is left for the fold to report.
    pub failure: Arc<Mutex<Option<TrainError>>>,
    /// Called once the epoch's state is written.
    pub on_epoch_end: Option<EpochHook>,
}

/// The message an [`EpochCheckpointing`] stops the run with when it cannot write `state.json`.
pub const STATE_FAILURE: &str = "the fold state could not be written";

impl CheckpointingStrategy for EpochCheckpointing {
    fn checkpointing(
        &mut self,
        epoch: usize,
        _store: &EventStoreClient,
    ) -> Vec<CheckpointingAction> {
        let Some(history) = self.ledger.wait_for(epoch, &self.interrupter) else {
            return Vec::new();
        };
        let before = kept_checkpoints(&history[..history.len() - 1], self.patience);
        let after = kept_checkpoints(&history, self.patience);
        let state = FoldState::after(history, self.patience, self.max_epochs);
        self.ledger.decide(epoch, state.stopped);
        if let Err(e) = state.save(&self.dir) {
            *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            self.interrupter.stop(Some(STATE_FAILURE));
            return Vec::new();
        }
        let mut actions = vec![CheckpointingAction::Save];
        actions.extend(
            before
                .difference(&after)
                .map(|e| CheckpointingAction::Delete(*e)),
        );
        if let Some(hook) = &self.on_epoch_end {
            hook(self.fold, epoch);
        }
        actions
    }
}

/// burn-train's early-stopping hook for one fold: stops when [`EpochCheckpointing`] decided so
/// for the epoch (it runs just before, on the same thread), or when the learning rate on
/// plateau fell below its minimum after the epochs recorded.
#[derive(Clone)]
pub struct EpochEarlyStopping {
    /// The fold's record, holding the decisions.
    pub ledger: Arc<Ledger>,
    /// The learning-rate schedule (see [`super::schedule`]).
    pub plateau: PlateauSettings,
}

impl EarlyStoppingStrategy for EpochEarlyStopping {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        let losses = self.ledger.history().into_iter().map(|r| r.valid_loss);
        self.ledger.stop_after(epoch) || self.plateau.stops(&self.plateau.replay(losses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn history(losses: &[f64]) -> Vec<EpochRecord> {
        losses
            .iter()
            .enumerate()
            .map(|(i, l)| record(i + 1, *l))
            .collect()
    }

    #[test]
    fn early_stopping_counts_epochs_since_the_first_lowest_loss() {
        let h = history(&[0.9, 0.5, 0.7, 0.5, 0.6]);
        let stopping = EarlyStopping::after(&h, 3);
        assert_eq!((stopping.best_epoch, stopping.best_valid_loss), (2, 0.5));
        assert_eq!(stopping.epochs_without_improvement, 3);
        assert!(stopping.should_stop());
        assert!(!EarlyStopping::after(&h[..4], 3).should_stop());
        // NaN never improves; before any finite loss the best epoch is 1.
        let nan = EarlyStopping::after(&history(&[f64::NAN, f64::NAN]), 5);
        assert_eq!(nan.best_epoch, 1);
        assert!(nan.best_valid_loss.is_nan());
        let later = EarlyStopping::after(&history(&[f64::NAN, 0.4]), 5);
        assert_eq!(later.best_epoch, 2);
        assert_eq!(EarlyStopping::after(&[], 0).patience, 1);
    }

    #[test]
    fn the_last_two_and_the_best_checkpoints_are_kept() {
        let h = history(&[0.9, 0.2, 0.7, 0.8, 0.6]);
        assert_eq!(kept_checkpoints(&h, 10), BTreeSet::from([2, 4, 5]));
        assert_eq!(kept_checkpoints(&h[..1], 10), BTreeSet::from([1]));
        assert!(kept_checkpoints(&[], 10).is_empty());
    }

    #[test]
    fn states_round_trip_and_resume_from_the_last_complete_checkpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(FoldState::load(dir.path()).expect("no state"), None);
        let state = FoldState::after(history(&[0.9, f64::NAN, 0.7]), 5, 10);
        assert!(!state.stopped);
        state.save(dir.path()).expect("saved");
        let back = FoldState::load(dir.path())
            .expect("reads")
            .expect("a state");
        assert_eq!(back.epoch, 3);
        assert!(back.history[1].valid_loss.is_nan());
        // Checkpoints of epochs 1 and 2 complete, epoch 3 lacks its optimizer.
        for epoch in 1..=3 {
            for part in CHECKPOINT_PARTS {
                if (epoch, part) != (3, "optim") {
                    write_atomic(&checkpoint_path(dir.path(), part, epoch), b"x").expect("file");
                }
            }
        }
        let point = back
            .clone()
            .resume_point(dir.path(), 5, 10)
            .expect("epoch 2");
        assert_eq!((point.epoch, point.history.len()), (2, 2));
        assert!(FoldState::after(history(&[0.5, 0.6]), 1, 10).stopped);
        assert!(FoldState::after(history(&[0.5, 0.4]), 5, 2).stopped);
        // A fresh run clears the state and the checkpoints, nothing else.
        write_atomic(&dir.path().join("checkpoint").join("notes.txt"), b"x").expect("file");
        clear_fold(dir.path()).expect("cleared");
        assert_eq!(FoldState::load(dir.path()).expect("no state"), None);
        assert_eq!(back.resume_point(dir.path(), 5, 10), None);
        assert!(dir.path().join("checkpoint").join("notes.txt").is_file());
        // A state that is not one is an error naming the file.
        write_atomic(&dir.path().join(STATE_FILE), b"{\"epoch\": 2}").expect("file");
        let err = FoldState::load(dir.path()).expect_err("malformed");
        assert!(matches!(err, TrainError::Resume { .. }), "{err}");
        let inconsistent = FoldState {
            epoch: 4,
            ..FoldState::after(history(&[0.5]), 5, 10)
        };
        inconsistent.save(dir.path()).expect("saved");
        assert!(matches!(
            FoldState::load(dir.path()),
            Err(TrainError::Resume { .. })
        ));
    }
}
