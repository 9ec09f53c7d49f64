//! NaN/Inf handling under both policies, failed checkpoint writes, early stopping,
//! best-checkpoint tracking, freezing and gradient accumulation.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::{Device, Tensor};
use common::*;
use whet_core::Error;
use whet_core::Seed;
use whet_core::run::{RunDir, RunStatus};
use whet_core::train::{
    Goal, Metrics, Monitor, NonFinitePolicy, OptimizerConfig, ScheduleConfig, StepOutput,
    StopReason, TrainConfig, freeze_where, list_params,
};

fn model() -> Net {
    let device = Device::flex().autodiff();
    Seed::new(5).apply(&device);
    Net::new(&device)
}

fn new_run(tmp: &tempfile::TempDir, name: &str) -> RunDir {
    RunDir::create(tmp.path().join("mlruns"), "faults", name).unwrap()
}

/// A step that returns a NaN loss on the calls listed.
fn nan_on<'a>(
    calls: &'static [usize],
    counter: &'a AtomicUsize,
) -> impl Fn(&Net, (Tensor<2>, Tensor<2>)) -> StepOutput + 'a {
    move |m, b| {
        let call = counter.fetch_add(1, Ordering::SeqCst);
        let out = step(m, b);
        if calls.contains(&call) {
            StepOutput::new(out.loss * f32::NAN)
        } else {
            out
        }
    }
}

/// A step whose loss stays finite but whose gradient is infinite on call `at`:
/// d/dw sqrt(w - w') at w = w' is 1 / 0.
fn inf_gradient_on(
    at: usize,
    counter: &AtomicUsize,
) -> impl Fn(&Net, (Tensor<2>, Tensor<2>)) -> StepOutput + '_ {
    move |m, b| {
        let out = step(m, b);
        if counter.fetch_add(1, Ordering::SeqCst) == at {
            let w = m.second.bias.as_ref().unwrap().val();
            StepOutput::new(out.loss + (w.clone() - w.detach()).sum().sqrt())
        } else {
            out
        }
    }
}

#[test]
fn skip_policy_skips_and_counts_nan_losses() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(30);
    cfg.grad_accum = 1;
    let calls = AtomicUsize::new(0);
    let step_fn = nan_on(&[4, 9, 10], &calls);
    let mut trainer = trainer(cfg, new_run(&tmp, "skip"));
    let out = trainer
        .fit(model(), &dataset(200), &batcher, &step_fn, None)
        .unwrap();
    assert_eq!(out.state.step, 30, "skipped batches do not count as steps");
    assert_eq!(out.state.skipped_batches, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 33);
    assert!(weights(&out.model).iter().flatten().all(|w| w.is_finite()));
    assert_eq!(out.stop, StopReason::MaxSteps);
}

#[test]
fn skip_policy_gives_up_after_too_many_in_a_row() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(30);
    cfg.grad_accum = 1;
    let calls = AtomicUsize::new(0);
    let step_fn = nan_on(&[6, 7, 8, 9, 10, 11], &calls);
    let run = new_run(&tmp, "give-up");
    let run_path = run.path().to_owned();
    let mut trainer = trainer(cfg, run);
    let err = trainer
        .fit(model(), &dataset(200), &batcher, &step_fn, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFinite {
                what: "loss",
                step: 6,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        RunDir::open(&run_path).unwrap().status().unwrap(),
        RunStatus::Failed
    );
}

#[test]
fn non_finite_gradient_is_detected() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(20);
    cfg.grad_accum = 1;
    cfg.clip_grad_norm = None;
    let calls = AtomicUsize::new(0);
    let step_fn = inf_gradient_on(3, &calls);
    let mut trainer = trainer(cfg, new_run(&tmp, "grad"));
    let out = trainer
        .fit(model(), &dataset(200), &batcher, &step_fn, None)
        .unwrap();
    assert_eq!(out.state.skipped_batches, 1);
    assert!(weights(&out.model).iter().flatten().all(|w| w.is_finite()));
}

#[test]
fn gradient_check_can_be_turned_off() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(20);
    cfg.grad_accum = 1;
    cfg.clip_grad_norm = None;
    cfg.check_grads = false;
    let calls = AtomicUsize::new(0);
    let step_fn = inf_gradient_on(3, &calls);
    let mut trainer = trainer(cfg, new_run(&tmp, "unchecked"));
    let err = trainer
        .fit(model(), &dataset(200), &batcher, &step_fn, None)
        .unwrap_err();
    // Unchecked, the infinite gradient of step 3 reaches the optimiser and poisons the
    // weights; every later loss is NaN and the skip policy gives up. With the check (the
    // default, `non_finite_gradient_is_detected`) the same run skips one batch and ends.
    assert!(
        matches!(
            err,
            Error::NonFinite {
                what: "loss",
                step: 4,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rollback_policy_restores_the_last_good_checkpoint() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(40);
    cfg.non_finite = NonFinitePolicy::Rollback;
    let calls = AtomicUsize::new(0);
    // With 2 batches per step, call 50 is in step index 25.
    let step_fn = nan_on(&[50], &calls);
    let run = new_run(&tmp, "rollback");
    let run_path = run.path().to_owned();
    let mut trainer = trainer(cfg, run);
    let out = trainer
        .fit(model(), &dataset(200), &batcher, &step_fn, Some(&valid_mse))
        .unwrap();
    assert_eq!(
        out.stop,
        StopReason::NonFinite {
            step: 25,
            rolled_back_to: 20
        }
    );
    let ckpt = trainer.checkpoints().latest().unwrap().unwrap();
    assert!(ckpt.dir().ends_with("step-00000020"));
    let from_disk = ckpt.load_model(model()).unwrap();
    assert_eq!(bits(&weights(&out.model)), bits(&weights(&from_disk)));
    assert_eq!(out.state.step, 20);
    assert_eq!(
        RunDir::open(&run_path).unwrap().status().unwrap(),
        RunStatus::Failed
    );
}

#[test]
fn failed_save_keeps_the_previous_checkpoint() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let run = new_run(&tmp, "disk-trouble");
    let ckpts = run.artifacts().join("checkpoints");
    std::fs::create_dir_all(&ckpts).unwrap();
    // The step-20 checkpoint cannot be staged: a file sits where its folder must go.
    std::fs::write(ckpts.join(".step-00000020.partial"), b"in the way").unwrap();
    let mut trainer = trainer(config(40), run);
    let err = trainer
        .fit(model(), &dataset(200), &batcher, &step, None)
        .unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err}");
    let latest = trainer.checkpoints().latest().unwrap().unwrap();
    assert!(
        latest.dir().ends_with("step-00000010"),
        "{}",
        latest.dir().display()
    );
    assert_eq!(latest.state().unwrap().step, 10);
    latest.load_model(model()).unwrap();
    assert!(!ckpts.join("step-00000020").exists());
}

/// Validation scores 5, 4, 3, 3.5, 3, 3.2 at steps 5, 10, ..., 30 with patience 3: the
/// run stops at step 30; returns the best's value and step.
fn early_stopped_best(ties_to_later: bool) -> (f64, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(100);
    cfg.valid_every = Some(5);
    cfg.monitor = Some(Monitor {
        metric: "score".into(),
        goal: Goal::Minimize,
        patience: Some(3),
        min_delta: 0.0,
        ties_to_later,
    });
    let scores = [5.0, 4.0, 3.0, 3.5, 3.0, 3.2, 9.0, 1.0];
    let calls = AtomicUsize::new(0);
    let valid = |_: &Net| -> Metrics {
        let i = calls.fetch_add(1, Ordering::SeqCst);
        Metrics::from([("score".to_owned(), scores[i.min(scores.len() - 1)])])
    };
    let mut trainer = trainer(cfg, new_run(&tmp, "early"));
    let out = trainer
        .fit(model(), &dataset(200), &batcher, &step, Some(&valid))
        .unwrap();
    // 3.5, 3.0 (not better, a tie at most), 3.2: three stale validations.
    assert_eq!(out.stop, StopReason::EarlyStopped { step: 30 });
    let best = out.state.best.clone().unwrap();
    let best_ckpt = out.best_checkpoint.unwrap();
    assert!(best_ckpt.dir().ends_with(format!("step-{:08}", best.step)));
    assert_eq!(best_ckpt.state().unwrap().step, best.step);
    // Pruning kept the best checkpoint although it is older than the newest three.
    assert!(best_ckpt.dir().exists());
    (best.value, best.step)
}

#[test]
fn early_stopping_and_best_checkpoint() {
    let _serial = serial();
    // The first 3.0 (step 15) stays the best; with ties to the later, the second (25).
    assert_eq!(early_stopped_best(false), (3.0, 15));
    assert_eq!(early_stopped_best(true), (3.0, 25));
}

#[test]
fn frozen_parameters_do_not_move() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (net, frozen) = freeze_where(model(), &|path: &str| path.starts_with("first."));
    assert_eq!(frozen, 2);
    let info = list_params(&net);
    let paths: Vec<&str> = info.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["first.weight", "first.bias", "second.weight", "second.bias"]
    );
    assert_eq!(
        info.iter().map(|p| p.trainable).collect::<Vec<_>>(),
        [false, false, true, true]
    );
    let before = weights(&net);
    let mut trainer = trainer(config(20), new_run(&tmp, "frozen"));
    let out = trainer
        .fit(net, &dataset(200), &batcher, &step, None)
        .unwrap();
    let after = weights(&out.model);
    assert_eq!(bits(&after[..2]), bits(&before[..2]));
    assert_ne!(bits(&after[2..]), bits(&before[2..]));
}

#[test]
fn accumulating_two_half_batches_equals_one_full_batch() {
    let _serial = serial();
    // Plain SGD at a constant rate, no clipping, and a step without dropout: the mean
    // of two half-batch gradients is the full-batch gradient (up to rounding).
    let run_with = |grad_accum: usize, batch: usize, name: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let mut cfg = TrainConfig::new(OptimizerConfig::sgd(0.05, 0.0), 10, batch);
        cfg.grad_accum = grad_accum;
        cfg.schedule = ScheduleConfig::Constant;
        let mut trainer = trainer(cfg, new_run(&tmp, name));
        let no_dropout = |m: &Net, (x, y): (Tensor<2>, Tensor<2>)| {
            let h = m.act.forward(m.first.forward(x));
            StepOutput::new((m.second.forward(h) - y).powi_scalar(2).mean())
        };
        let out = trainer
            .fit(model(), &dataset(160), &batcher, &no_dropout, None)
            .unwrap();
        weights(&out.model)
    };
    let full = run_with(1, 16, "full");
    let halves = run_with(2, 8, "halves");
    for (a, b) in full.iter().flatten().zip(halves.iter().flatten()) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}
