//! The `gnn` program under signals: Ctrl-C (SIGINT) stops a run after the current step with
//! exit status 130, a line saying how to resume, the last epoch's state and a `metrics.json`
//! marked unfinished; `--resume` finishes it. A run killed outright (SIGKILL) at any moment
//! leaves every file it wrote readable, and resumes.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use burn::backend::Flex;
use gnn_cli::report::RunReport;
use gnn_cli::train::{FoldState, load_model};

/// A small run of the built-in dataset: about 30 ms per epoch in a debug build.
fn train(out: &Path, epochs: usize) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gnn"));
    command.args([
        "train",
        "--graphs",
        "60",
        "--hidden",
        "8",
        "--batch-size",
        "10",
    ]);
    command.args(["--threads", "1", "--epochs", &epochs.to_string()]);
    command.args(["--patience", &epochs.to_string(), "--out"]);
    command.arg(out);
    command
}

fn resume(out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gnn"))
        .args(["train", "--quiet", "--resume"])
        .arg(out)
        .args(extra)
        .output()
        .expect("gnn runs")
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on the child we spawned and have not waited for yet.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

#[test]
fn ctrl_c_keeps_the_last_epoch_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    let mut child = train(&out, 40)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gnn starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.contains("epoch   3/40") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("reads") > 0,
            "no epoch 3"
        );
    }
    signal(&child, libc::SIGINT);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("reads");
    let status = child.wait().expect("exits");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("reads");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "resume with `gnn train --resume {}`",
            out.display()
        )),
        "{stderr}"
    );
    let report = RunReport::load(&out.join("metrics.json")).expect("metrics.json");
    assert!(!report.finished && report.fold_results.is_empty());
    let state = FoldState::load(&out.join("fold-0"))
        .expect("reads")
        .expect("a state");
    assert!(
        (3..40).contains(&state.epoch),
        "stopped after epoch {}",
        state.epoch
    );

    // A flag that changes the run is refused; the same value is not.
    let refused = resume(&out, &["--epochs", "50", "--seed", "0"]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{message}");
    assert!(
        message.contains("--epochs:") && !message.contains("--seed"),
        "{message}"
    );

    let resumed = resume(&out, &["--epochs", "40"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let report = RunReport::load(&out.join("metrics.json")).expect("metrics.json");
    assert!(report.finished);
    let epochs: Vec<usize> = report.fold_results[0]
        .history
        .iter()
        .map(|r| r.epoch)
        .collect();
    assert_eq!(epochs, (1..=40).collect::<Vec<_>>());

    let again = resume(&out, &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is finished"));
}

/// Every file of the run in `out` that exists reads back: the JSON files parse as what they
/// are, and each saved model loads with its configuration.
fn assert_readable(out: &Path) {
    if out.join("metrics.json").exists() {
        RunReport::load(&out.join("metrics.json")).expect("metrics.json parses");
    }
    if out.join("run.json").exists() {
        let text = std::fs::read_to_string(out.join("run.json")).expect("run.json");
        serde_json::from_str::<serde_json::Value>(&text).expect("run.json parses");
    }
    for dir in [out.to_path_buf(), out.join("fold-0")] {
        FoldState::load(&dir).expect("state.json parses");
        if dir.join("model.json").exists() && dir.join("model.mpk").exists() {
            load_model::<Flex>(&dir, &Default::default()).expect("the saved model loads");
        }
    }
}

#[test]
fn a_run_killed_at_any_moment_leaves_readable_files_and_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    for delay in [30, 120, 250, 400, 600, 850] {
        let mut command = if out.join("metrics.json").exists() {
            let mut command = Command::new(env!("CARGO_BIN_EXE_gnn"));
            command.args(["train", "--resume"]).arg(&out);
            command
        } else {
            train(&out, 60)
        };
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnn starts");
        std::thread::sleep(Duration::from_millis(delay));
        // SIGKILL: no handler runs.
        let _ = child.kill();
        child.wait().expect("exits");
        assert_readable(&out);
    }
    let finished = resume(&out, &[]);
    let message = String::from_utf8_lossy(&finished.stderr);
    // The kills may have come after the run's end: then there is nothing left to resume.
    assert!(
        finished.status.success() || message.contains("is finished"),
        "{message}"
    );
    let report = RunReport::load(&out.join("metrics.json")).expect("metrics.json");
    assert!(report.finished);
    assert_readable(&out);
}
