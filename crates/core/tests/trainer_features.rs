//! The Trainer's features for language models: token-weighted accumulation, parameter
//! groups, trainable-only checkpoints, seeded batchers and tensor metrics.

mod common;

use std::sync::Mutex;

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use common::*;
use rand::Rng;
use whet_core::Seed;
use whet_core::run::RunDir;
use whet_core::train::{
    BatchRng, CheckpointWeights, Control, OptimizerConfig, ParamGroupConfig, StepOutput,
    TrainConfig, changing_params, freeze_where, param_settings, seeded,
};

/// A sample with a variable number of "tokens": `len` rows of 4 features, each a target.
type Seq = (Vec<[f32; 4]>, Vec<f32>);

fn sequences(n: usize) -> Vec<Seq> {
    (0..n)
        .map(|i| {
            let len = 1 + (i * 7) % 9; // 1..=9 tokens: batches are uneven
            let rows: Vec<[f32; 4]> = (0..len)
                .map(|t| {
                    std::array::from_fn(|k| (((i * 13 + t * 5 + k * 3) % 17) as f32) / 8.0 - 1.0)
                })
                .collect();
            let ys = rows
                .iter()
                .map(|r| r[0] - 0.5 * r[1] + r[2] * r[3])
                .collect();
            (rows, ys)
        })
        .collect()
}

/// Every token of every sequence flattened: `([tokens, 4], [tokens, 1])`.
fn seq_batcher(items: Vec<Seq>, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let x: Vec<f32> = items
        .iter()
        .flat_map(|(r, _)| r.iter().flatten().copied())
        .collect();
    let y: Vec<f32> = items.iter().flat_map(|(_, y)| y.iter().copied()).collect();
    let n = y.len();
    (
        Tensor::from_data(TensorData::new(x, [n, 4]), device),
        Tensor::from_data(TensorData::new(y, [n, 1]), device),
    )
}

fn linear(device: &Device) -> Linear {
    Seed::new(5).apply(device);
    LinearConfig::new(4, 1).init(device)
}

fn linear_weights(model: &Linear) -> Vec<f32> {
    let mut w = model
        .weight
        .val()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    w.extend(
        model
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap(),
    );
    w
}

fn train_tokens(batch: usize, accum: usize, weighted: bool) -> Vec<f32> {
    let _guard = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut config = TrainConfig::new(OptimizerConfig::sgd(0.05, 0.0), 4, batch);
    config.grad_accum = accum;
    config.seed = 3;
    let run = RunDir::create(tmp.path(), "tokens", "t").unwrap();
    let mut trainer = trainer(config, run);
    let model = linear(trainer.device());
    let step = move |m: &Linear, (x, y): (Tensor<2>, Tensor<2>)| {
        let n = x.dims()[0];
        let sq = (m.forward(x) - y).powi_scalar(2).sum();
        if weighted {
            let w = Tensor::<1>::from_data(TensorData::new(vec![n as f32], [1]), &sq.device());
            StepOutput::summed(sq, w)
        } else {
            StepOutput::new(sq.div_scalar(n as f64))
        }
    };
    let outcome = trainer
        .fit(model, &sequences(64), &seq_batcher, &step, None)
        .unwrap();
    linear_weights(&outcome.model)
}

#[test]
fn token_weighted_accumulation_equals_one_batch_of_both() {
    // Micro-batches of 2 sequences with different token counts, accumulated in pairs,
    // read the same 4 sequences per step as batches of 4 (same seeded order).
    let one_batch = train_tokens(4, 1, true);
    let accumulated = train_tokens(2, 2, true);
    for (a, b) in accumulated.iter().zip(&one_batch) {
        assert!((a - b).abs() <= 1e-6, "{accumulated:?} vs {one_batch:?}");
    }
    // Averaging per-micro-batch means (the bug) gives another model: the test can fail.
    let mean_of_means = train_tokens(2, 2, false);
    let gap = mean_of_means
        .iter()
        .zip(&one_batch)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(gap > 1e-4, "mean of means should differ, gap {gap}");
}

#[test]
fn parameter_groups_apply_their_own_rates_and_decay() {
    let _guard = serial();
    let device = Device::flex().autodiff();
    let run_one = |groups: Vec<ParamGroupConfig>| -> (Net, Net) {
        let tmp = tempfile::tempdir().unwrap();
        let mut config = TrainConfig::new(OptimizerConfig::sgd(0.1, 0.0), 1, 8);
        config.param_groups = groups;
        config.check_grads = false;
        let run = RunDir::create(tmp.path(), "groups", "g").unwrap();
        let mut trainer = trainer(config, run);
        Seed::new(9).apply(&device);
        let model = Net::new(&device);
        let before = model.clone();
        let no_dropout = |m: &Net, (x, y): (Tensor<2>, Tensor<2>)| {
            let h = m.act.forward(m.first.forward(x));
            StepOutput::new((m.second.forward(h) - y).powi_scalar(2).mean())
        };
        let outcome = trainer
            .fit(model, &dataset(64), &batcher, &no_dropout, None)
            .unwrap();
        (before, outcome.model)
    };
    let (b0, plain) = run_one(Vec::new());
    let (b1, grouped) = run_one(vec![
        ParamGroupConfig::new("first", r"^first\.").with_lr_scale(0.25),
    ]);
    assert_eq!(bits(&weights(&b0)), bits(&weights(&b1)), "same start");
    let delta = |a: &Net, b: &Net| -> Vec<Vec<f32>> {
        weights(a)
            .iter()
            .zip(weights(b))
            .map(|(x, y)| x.iter().zip(&y).map(|(p, q)| q - p).collect())
            .collect()
    };
    let d_plain = delta(&b0, &plain);
    let d_grouped = delta(&b1, &grouped);
    // Visiting order: first.weight, first.bias, second.weight, second.bias.
    for (i, scale) in [(0, 0.25f32), (1, 0.25), (2, 1.0), (3, 1.0)] {
        for (g, p) in d_grouped[i].iter().zip(&d_plain[i]) {
            assert!(
                (g - p * scale).abs() <= 1e-6 + 1e-5 * p.abs(),
                "param {i}: {g} vs {p} * {scale}"
            );
        }
        assert!(
            d_plain[i].iter().any(|v| v.abs() > 1e-6),
            "param {i} did not move"
        );
    }

    // Weight decay: none on biases (rank 1) by default; a group's own otherwise.
    let model = Net::new(&device);
    let mut config = TrainConfig::new(OptimizerConfig::adamw(1e-3), 1, 8);
    config.param_groups =
        vec![ParamGroupConfig::new("second", r"^second\.").with_weight_decay(0.5)];
    let settings = param_settings(&model, &config).unwrap();
    let decay = |path: &str| {
        settings
            .iter()
            .find(|s| s.path == path)
            .unwrap()
            .weight_decay
    };
    assert_eq!(decay("first.weight"), 0.01);
    assert_eq!(decay("first.bias"), 0.0);
    assert_eq!(decay("second.weight"), 0.5);
    assert_eq!(decay("second.bias"), 0.0);
    config.decay_norms_and_biases = true;
    let settings = param_settings(&model, &config).unwrap();
    assert_eq!(
        settings
            .iter()
            .find(|s| s.path == "first.bias")
            .unwrap()
            .weight_decay,
        0.01
    );
}

/// A run of `steps` steps on `run`, stopping after `stop_at`; returns its weights and
/// the fingerprint (sum) of every batch its steps saw.
fn train_frozen(run: RunDir, stop_at: Option<usize>, augment: bool) -> (Vec<Vec<f32>>, Vec<f32>) {
    let device = Device::flex().autodiff();
    Seed::new(3).apply(&device);
    let (model, frozen) = freeze_where(Net::new(&device), &|p: &str| p.starts_with("first"));
    assert_eq!(frozen, 2);
    let mut config = config(20);
    config.checkpoint_weights = CheckpointWeights::Trainable;
    let mut trainer = trainer(config, run).on_step(move |r| {
        if Some(r.step) == stop_at {
            Control::Stop
        } else {
            Control::Continue
        }
    });
    let seen = Mutex::new(Vec::new());
    let step = |m: &Net, (x, y): (Tensor<2>, Tensor<2>)| {
        seen.lock()
            .unwrap()
            .push(x.clone().sum().into_scalar::<f32>());
        common::step(m, (x, y))
    };
    let noisy = seeded(
        move |items: Vec<Sample>, rng: &mut BatchRng, device: &Device| {
            let items = items
                .into_iter()
                .map(|(x, y)| {
                    let jitter = if augment {
                        rng.random_range(-0.05..0.05)
                    } else {
                        0.0
                    };
                    (x.map(|v| v + jitter), y)
                })
                .collect();
            batcher(items, device)
        },
    );
    let outcome = trainer
        .fit(model, &dataset(200), &noisy, &step, None)
        .unwrap();
    let sums = seen.into_inner().unwrap();
    (weights(&outcome.model), sums)
}

#[test]
fn trainable_only_checkpoints_resume_bit_exact_with_the_same_augmentations() {
    let _guard = serial();
    let tmp = tempfile::tempdir().unwrap();
    let (straight, sums) = train_frozen(
        RunDir::create(tmp.path(), "e", "straight").unwrap(),
        None,
        true,
    );
    let run = RunDir::create(tmp.path(), "e", "stopped").unwrap();
    let path = run.path().to_owned();
    let (_, first_half) = train_frozen(run, Some(10), true);
    // The checkpoint holds the trainable layer, not the frozen one.
    let ckpt = path.join("artifacts/checkpoints/step-00000010");
    let listed = std::fs::read_to_string(ckpt.join("weights.json")).unwrap();
    assert!(
        listed.contains("second.weight") && !listed.contains("first.weight"),
        "{listed}"
    );
    let (resumed, second_half) = train_frozen(RunDir::open(&path).unwrap(), None, true);
    assert_eq!(bits(&resumed), bits(&straight), "resumed weights differ");
    let both: Vec<f32> = first_half.into_iter().chain(second_half).collect();
    assert_eq!(
        both, sums,
        "the batcher's augmentations differ after resume"
    );
    // And they are augmentations: without them the batches differ.
    let (plain_weights, plain) = train_frozen(
        RunDir::create(tmp.path(), "e", "plain").unwrap(),
        None,
        false,
    );
    assert_ne!(plain, sums);
    // The frozen layer never changed, and only the trainable one is listed as changing.
    assert_eq!(bits(&straight[..1]), bits(&plain_weights[..1]));
    let device = Device::flex().autodiff();
    let (net, _) = freeze_where(Net::new(&device), &|p: &str| p.starts_with("first"));
    assert_eq!(changing_params(&net), ["second.weight", "second.bias"]);
}

#[test]
fn tensor_metrics_are_logged_with_the_loss() {
    let _guard = serial();
    let tmp = tempfile::tempdir().unwrap();
    let run = RunDir::create(tmp.path(), "e", "metrics").unwrap();
    let seen = Mutex::new(Vec::new());
    let mut trainer = trainer(config(10), run).on_step(|r| {
        seen.lock().unwrap().push(r.metrics.get("abs_err").copied());
        Control::Continue
    });
    let device = trainer.device().clone();
    let step = |m: &Net, (x, y): (Tensor<2>, Tensor<2>)| {
        let err = (m.forward(x.clone()) - y.clone()).abs().mean();
        common::step(m, (x, y)).with_metric_tensor("abs_err", err)
    };
    trainer
        .fit(Net::new(&device), &dataset(200), &batcher, &step, None)
        .unwrap();
    drop(trainer);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 10);
    assert!(
        seen.iter()
            .all(|v| v.is_some_and(|v| v.is_finite() && v > 0.0)),
        "{seen:?}"
    );
}
