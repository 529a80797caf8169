//! `train --resume`: a run killed at any epoch (SIGKILL, or SIGINT / SIGTERM, which finish the
//! checkpoint being written) continues from its last epoch's checkpoint and ends with the
//! weights of a run that never stopped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A run long enough to be stopped midway (80 epochs of about 20 ms), with dropout, Adam and
/// early stopping that restores its best epoch: every piece of state a resume must restore.
const RUN: &[&str] = &[
    "train",
    "--dataset",
    "digits",
    "--model",
    "mlp:64-256-256-10",
    "--dropout",
    "0.2,0.5",
    "--optimizer",
    "adam",
    "--lr",
    "0.001",
    "--early-stopping",
    "50",
    "--epochs",
    "80",
    "--threads",
    "2",
    "--quiet",
];

fn with_out<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = RUN.to_vec();
    a.extend_from_slice(&["--out", out]);
    a.extend_from_slice(extra);
    a
}

fn sha(run: &Path) -> String {
    json(&run.join("record.json"))["model_sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

fn checkpoint(tmp: &Path, out: &str) -> PathBuf {
    tmp.join(format!(".{out}.checkpoint.safetensors"))
}

/// Starts the run into `out` and returns it once its first checkpoint exists.
fn start(tmp: &Path, out: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_droplab"))
        .args(with_out(out, &[]))
        .current_dir(tmp)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !checkpoint(tmp, out).exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its first checkpoint"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no checkpoint after a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A delay of 0 to 400 ms that differs from run to run: the epoch the run is stopped at.
fn random_delay() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis((nanos % 400) as u64)
}

/// The epochs a checkpoint holds, from its metadata.
fn epochs_saved(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let state: serde_json::Value =
        serde_json::from_str(header["__metadata__"]["state"].as_str().unwrap()).unwrap();
    state["epochs_done"].as_u64().unwrap()
}

#[test]
fn a_run_killed_at_a_random_epoch_resumes_to_the_uninterrupted_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(tmp.path(), &with_out("whole", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !checkpoint(tmp.path(), "whole").exists(),
        "a finished run keeps no checkpoint"
    );

    let mut child = start(tmp.path(), "cut");
    let delay = random_delay();
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    let saved = epochs_saved(&checkpoint(tmp.path(), "cut"));
    assert!(!tmp.path().join("cut").exists());

    // Without --resume the checkpoint is not overwritten: the command says how to go on.
    assert_usage_error(
        &droplab(tmp.path(), &with_out("cut", &[])),
        &["--out cut", ".cut.checkpoint.safetensors", "--resume"],
    );
    // With flags that change the config: refused, naming the setting.
    assert_usage_error(
        &droplab(tmp.path(), &["train", "--resume", "--out", "cut", "--lr", "0.01"]),
        &["--resume", "train.optimizer.lr"],
    );
    // The same command with --resume, and --resume --out alone, both continue it.
    let o = droplab(tmp.path(), &["train", "--resume", "--out", "cut"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("resuming after epoch {saved} of 80")),
        "killed after {delay:?}: {}",
        stderr(&o)
    );
    assert_eq!(
        sha(&tmp.path().join("cut")),
        sha(&tmp.path().join("whole")),
        "killed after epoch {saved}"
    );
    let history = |d: &str| {
        json(&tmp.path().join(d).join("record.json"))["history"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(history("cut"), history("whole"));
    assert!(
        !checkpoint(tmp.path(), "cut").exists(),
        "the finished run's checkpoint goes"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sigint_and_sigterm_keep_the_checkpoint_and_say_how_to_resume() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let o = droplab(tmp.path(), &with_out("whole", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let out = format!("run{signal}");
        let mut child = start(tmp.path(), &out);
        std::thread::sleep(random_delay());
        // SAFETY: `kill` with the id of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = child.wait().unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(code), "{err}");
        let ck = checkpoint(tmp.path(), &out);
        let saved = epochs_saved(&ck);
        assert!(
            err.contains(&format!("epoch {saved} is saved in"))
                && err.contains(&format!(".{out}.checkpoint.safetensors"))
                && err.contains("--resume"),
            "{err}"
        );
        // The staging directory went; the checkpoint stayed.
        let staging: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
            .collect();
        assert!(staging.is_empty(), "{staging:?}");
        let o = droplab(tmp.path(), &with_out(&out, &["--resume"]));
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            sha(&tmp.path().join(&out)),
            sha(&tmp.path().join("whole")),
            "signal {signal}"
        );
    }
}

#[test]
fn resume_needs_an_out_and_starts_over_without_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        &droplab(tmp.path(), &["train", "--resume"]),
        &["--resume needs --out"],
    );
    let short = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--resume",
        "--out",
        "fresh",
    ];
    let o = droplab(tmp.path(), &short);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no checkpoint for --out fresh"),
        "{}",
        stderr(&o)
    );
    // A finished run is not resumed: its directory exists.
    assert_usage_error(&droplab(tmp.path(), &short), &["fresh", "already exists"]);
    // tune resumes by running again; --resume is refused there.
    assert_usage_error(
        &droplab(
            tmp.path(),
            &["tune", "--dataset", "digits", "--resume", "--out", "st"],
        ),
        &["--resume is for train"],
    );
}
