//! Interrupting and resuming a run: a seeded run interrupted twice (in its first fold, then in
//! its second) and resumed each time ends with the same losses, checkpoints, models and test
//! accuracy as the uninterrupted run; resuming what cannot be resumed is a typed error.
//!
//! This is its own test binary on purpose: Flex keeps one random generator per process, and
//! tests running in parallel in one process would draw from it between a seed and its use.

use std::path::Path;
use std::sync::Arc;

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use gnn_cli::config::TrainingConfig;
use gnn_cli::report::RunReport;
use gnn_cli::train::Recorder;
use gnn_cli::train::{EpochHook, FoldState, Interrupter, RunSpec, STOP_MESSAGE, TrainError, run};
use gnn_core::{GraphBatch, host};
use gnn_datasets::{GraphDataset, ba_2motifs, stratified_k_fold};
use gnn_models::{ClassifierConfig, HierarchicalClassifierConfig};

type B = Autodiff<Flex>;

fn spec(out: &Path, interrupter: Interrupter, resume: bool, hook: Option<EpochHook>) -> RunSpec {
    let dataset = GraphDataset::new(ba_2motifs(40, 3)).expect("dataset");
    let folds = stratified_k_fold(&dataset.labels(), 2, 0.2, 3).expect("folds");
    let classifier = ClassifierConfig::from(
        HierarchicalClassifierConfig::new(dataset.num_features(), 2)
            .with_hidden(8)
            .with_num_blocks(2)
            .with_dropout(0.5),
    );
    RunSpec {
        dataset_name: "BA-2Motifs".into(),
        dataset,
        attribute_columns: 0,
        folds,
        left_out: Default::default(),
        classifier,
        // With a learning rate on plateau, which a resume must restore too.
        training: TrainingConfig::new()
            .with_epochs(7)
            .with_batch_size(6)
            .with_lr(0.01)
            .with_patience(4)
            .with_lr_patience(1)
            .with_seed(11)
            .with_threads(1),
        out: out.to_path_buf(),
        model_name: "topk".into(),
        conv_name: "graph".into(),
        backend_name: "flex".into(),
        verbose: false,
        interrupter,
        resume,
        on_epoch_end: hook,
    }
}

/// A hook that stops `interrupter` once fold `fold` has completed epoch `epoch`.
fn stop_at(interrupter: &Interrupter, fold: usize, epoch: usize) -> EpochHook {
    let interrupter = interrupter.clone();
    Arc::new(move |f, e| {
        if (f, e) == (fold, epoch) {
            interrupter.stop(Some(STOP_MESSAGE));
        }
    })
}

/// What a saved model computes on a fixed batch (the files themselves differ: Burn gives
/// every parameter a random id when a model is built).
fn outputs(stem: &Path, config: &ClassifierConfig) -> Vec<f64> {
    let device = Default::default();
    let model = config
        .init::<Flex>(&device)
        .expect("model")
        .load_file(stem, &Recorder::new(), &device)
        .unwrap_or_else(|e| panic!("{}: {e}", stem.display()));
    let graphs = ba_2motifs(6, 99);
    let batch = GraphBatch::<Flex>::from_graphs(&graphs, &device).expect("batch");
    host::floats(model.forward(batch))
}

/// The checkpoint files of a fold, by name, and what each model checkpoint computes.
fn checkpoints(fold: &Path, config: &ClassifierConfig) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut names: Vec<String> = std::fs::read_dir(fold.join("checkpoint"))
        .expect("checkpoint folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let models = names
        .iter()
        .filter_map(|n| n.strip_suffix(".mpk").filter(|n| n.starts_with("model-")))
        .map(|n| outputs(&fold.join("checkpoint").join(n), config))
        .collect();
    (names, models)
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * (1.0 + a.abs())
}

#[test]
fn an_interrupted_run_resumed_twice_ends_as_the_uninterrupted_one() {
    let whole = tempfile::tempdir().expect("temp dir");
    let report = run::<B>(
        &spec(whole.path(), Interrupter::new(), false, None),
        &Default::default(),
    )
    .expect("trains");
    assert!(report.finished);
    assert_eq!(report.fold_results.len(), 2);

    let pieces = tempfile::tempdir().expect("temp dir");
    let out = pieces.path();
    // First session: stopped after epoch 2 of fold 0.
    let interrupter = Interrupter::new();
    let first = run::<B>(
        &spec(
            out,
            interrupter.clone(),
            false,
            Some(stop_at(&interrupter, 0, 2)),
        ),
        &Default::default(),
    );
    match first {
        Err(TrainError::Interrupted {
            fold: 0,
            epoch: 2,
            out: o,
        }) => assert_eq!(o, out),
        other => panic!("expected an interruption after epoch 2: {other:?}"),
    }
    let partial = RunReport::load(&out.join("metrics.json")).expect("metrics.json");
    assert!(!partial.finished && partial.fold_results.is_empty());
    let state = FoldState::load(&out.join("fold-0"))
        .expect("state")
        .expect("state");
    assert_eq!(state.epoch, 2);

    // Second session: resumed, stopped again after epoch 3 of fold 1.
    let interrupter = Interrupter::new();
    let second = run::<B>(
        &spec(
            out,
            interrupter.clone(),
            true,
            Some(stop_at(&interrupter, 1, 3)),
        ),
        &Default::default(),
    );
    assert!(
        matches!(
            second,
            Err(TrainError::Interrupted {
                fold: 1,
                epoch: 3,
                ..
            })
        ),
        "{second:?}"
    );
    let partial = RunReport::load(&out.join("metrics.json")).expect("metrics.json");
    assert!(!partial.finished);
    assert_eq!(partial.fold_results.len(), 1);

    // Third session: resumed to the end.
    let resumed = run::<B>(
        &spec(out, Interrupter::new(), true, None),
        &Default::default(),
    )
    .expect("finishes");
    assert!(resumed.finished);
    let config = resumed.classifier.clone();
    for (a, b) in report.fold_results.iter().zip(&resumed.fold_results) {
        assert_eq!(
            (
                a.selected_epoch,
                a.epochs_run,
                a.test_accuracy,
                a.valid_accuracy
            ),
            (
                b.selected_epoch,
                b.epochs_run,
                b.test_accuracy,
                b.valid_accuracy
            ),
            "fold {}",
            a.fold
        );
        assert_eq!(a.history.len(), b.history.len());
        for (x, y) in a.history.iter().zip(&b.history) {
            for (u, v) in [
                (x.train_loss, y.train_loss),
                (x.train_accuracy, y.train_accuracy),
                (x.valid_loss, y.valid_loss),
                (x.valid_accuracy, y.valid_accuracy),
            ] {
                assert!(close(u, v), "fold {} epoch {}: {u} vs {v}", a.fold, x.epoch);
            }
        }
        let fold = format!("fold-{}", a.fold);
        let (names, models) = checkpoints(&whole.path().join(&fold), &config);
        assert!(names.len() >= 6, "{names:?}");
        assert_eq!(
            (names, models),
            checkpoints(&out.join(&fold), &config),
            "{fold}"
        );
        assert_eq!(
            outputs(&whole.path().join(&fold).join("model"), &config),
            outputs(&out.join(&fold).join("model"), &config)
        );
    }
    assert_eq!(
        outputs(&whole.path().join("model"), &config),
        outputs(&out.join("model"), &config)
    );
    assert_eq!(report.test_accuracy_mean, resumed.test_accuracy_mean);

    // A checkpoint that does not load is an error naming it, not a panic inside burn-train.
    let broken = tempfile::tempdir().expect("temp dir");
    let interrupter = Interrupter::new();
    let stopped = run::<B>(
        &spec(
            broken.path(),
            interrupter.clone(),
            false,
            Some(stop_at(&interrupter, 0, 1)),
        ),
        &Default::default(),
    );
    assert!(
        matches!(stopped, Err(TrainError::Interrupted { epoch: 1, .. })),
        "{stopped:?}"
    );
    let optim = broken
        .path()
        .join("fold-0")
        .join("checkpoint")
        .join("optim-1.mpk");
    std::fs::write(&optim, b"not a checkpoint").expect("overwritten");
    match run::<B>(
        &spec(broken.path(), Interrupter::new(), true, None),
        &Default::default(),
    ) {
        Err(TrainError::Checkpoint { path, .. }) => assert_eq!(path, optim),
        other => panic!("expected a checkpoint error: {other:?}"),
    }

    // A finished run has nothing to resume.
    let again = run::<B>(
        &spec(out, Interrupter::new(), true, None),
        &Default::default(),
    );
    assert!(
        matches!(again, Err(TrainError::AlreadyFinished { .. })),
        "{again:?}"
    );
}

#[test]
fn what_cannot_be_resumed_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nothing = run::<B>(
        &spec(dir.path(), Interrupter::new(), true, None),
        &Default::default(),
    );
    match nothing {
        Err(TrainError::Resume { path, message }) => {
            assert!(
                path.ends_with("metrics.json") && message.contains("no run"),
                "{message}"
            );
        }
        other => panic!("expected a resume error: {other:?}"),
    }
    // Interrupted at once (before any epoch), then resumed with another learning rate.
    let interrupter = Interrupter::new();
    interrupter.stop(Some(STOP_MESSAGE));
    let stopped = run::<B>(
        &spec(dir.path(), interrupter, false, None),
        &Default::default(),
    );
    assert!(
        matches!(
            stopped,
            Err(TrainError::Interrupted {
                fold: 0,
                epoch: 0,
                ..
            })
        ),
        "{stopped:?}"
    );
    let mut other = spec(dir.path(), Interrupter::new(), true, None);
    other.training = other.training.clone().with_lr(0.5);
    let refused = run::<B>(&other, &Default::default());
    match refused {
        Err(TrainError::Resume { message, .. }) => {
            assert!(message.contains("training"), "{message}")
        }
        other => panic!("expected a resume error: {other:?}"),
    }
}
