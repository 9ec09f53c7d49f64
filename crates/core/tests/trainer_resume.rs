//! A run killed at step k and resumed reaches the same weights at step n as an
//! uninterrupted run, bit for bit on the CPU.
//!
//! The kill is real: a child process (this test binary, re-executed) trains and calls
//! `std::process::abort()` in the middle of a run, between checkpoints.

mod common;

use std::process::Command;

use burn::module::Module;
use burn::tensor::Device;
use common::*;
use whet_core::Seed;
use whet_core::run::{RunDir, RunStatus};
use whet_core::train::Control;

const CHILD: &str = "WHET_TEST_RESUME_CHILD";
const STEPS: usize = 40;
const KILL_AT: usize = 27;

fn train(run: RunDir, abort_at: Option<usize>) -> Vec<Vec<f32>> {
    let device = Device::flex().autodiff();
    Seed::new(3).apply(&device);
    let model = Net::new(&device);
    let before = valid_mse(&model.valid())["mse"];
    let data = dataset(200);
    let mut trainer = trainer(config(STEPS), run).on_step(move |report| {
        if Some(report.step) == abort_at {
            std::process::abort();
        }
        Control::Continue
    });
    let outcome = trainer
        .fit(model, &data, &batcher, &step, Some(&valid_mse))
        .unwrap();
    assert_eq!(outcome.state.step, STEPS);
    let after = valid_mse(&outcome.model.valid())["mse"];
    assert!(
        after < before * 0.5,
        "training should work: mse {before} -> {after}"
    );
    weights(&outcome.model)
}

/// The child process: trains and aborts part-way. Only
/// `killed_and_resumed_run_is_bit_identical` runs it.
#[test]
#[ignore = "run by killed_and_resumed_run_is_bit_identical as a child process"]
fn resume_child() {
    let dir = std::env::var_os(CHILD).expect("run as a child process, with its run folder");
    let run = RunDir::create(dir, "resume", "killed").unwrap();
    train(run, Some(KILL_AT));
    unreachable!("the child aborts before finishing");
}

#[test]
fn killed_and_resumed_run_is_bit_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = train(
        RunDir::create(tmp.path().join("a"), "resume", "straight").unwrap(),
        None,
    );

    let root = tmp.path().join("b");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "resume_child", "--ignored", "--test-threads=1"])
        .env(CHILD, &root)
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have been killed");

    // Find the killed run and check where its last checkpoint is.
    let exp = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap() != "0")
        .unwrap();
    let run_path = std::fs::read_dir(&exp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let run = RunDir::open(&run_path).unwrap();
    assert_eq!(
        run.status().unwrap(),
        RunStatus::Running,
        "a killed run cannot say so"
    );
    let latest = std::fs::read_to_string(run.artifacts().join("checkpoints/latest")).unwrap();
    assert_eq!(latest, "step-00000020");

    let resumed = train(run, None);
    assert_eq!(bits(&resumed), bits(&reference));

    // The logs were cut back to the checkpoint: each logged step appears once.
    let log = std::fs::read_to_string(run_path.join("metrics/train/loss")).unwrap();
    let steps: Vec<u64> = log
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        steps,
        (1..=STEPS as u64 / 5).map(|k| k * 5).collect::<Vec<_>>()
    );
    assert_eq!(
        RunDir::open(&run_path).unwrap().status().unwrap(),
        RunStatus::Finished
    );
}
