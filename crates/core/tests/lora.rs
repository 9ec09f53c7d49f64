//! LoRA layers: PEFT's forward, init, merge and unmerge, hot-swapped adapters, a base kept
//! quantised while adapters train over it, and adapter files that round-trip.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use proptest::prelude::*;
use whet_core::burn;
use whet_core::lora::{self, LoraConfig, LoraInit, LoraLinear, LoraModel, TargetModules};
use whet_core::quant::GgmlType;

/// Two projections named as in a Llama block.
#[derive(Module, Debug)]
struct Block {
    q_proj: LoraLinear,
    up_proj: LoraLinear,
}

impl Block {
    fn new(device: &Device, seed: u64) -> Self {
        Device::seed(device, seed);
        let w = |i, o| Tensor::<2>::random([i, o], Distribution::Normal(0.0, 0.5), device);
        Block {
            q_proj: LoraLinear::new(
                w(64, 32),
                Some(Tensor::random([32], Distribution::Default, device)),
            ),
            up_proj: LoraLinear::new(w(32, 64), None),
        }
    }

    /// The same base weights, without adapters (seeding again is not enough: tests run in
    /// parallel and share the device's generator).
    fn base_copy(&self, device: &Device) -> Self {
        Block {
            q_proj: LoraLinear::new(
                self.q_proj.base_weight(device),
                self.q_proj.bias.as_ref().map(|b| b.val()),
            ),
            up_proj: LoraLinear::new(self.up_proj.base_weight(device), None),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.up_proj.forward(self.q_proj.forward(x))
    }
}

impl LoraModel for Block {
    fn lora_layers(&self) -> Vec<(String, &LoraLinear)> {
        vec![
            ("model.layers.0.self_attn.q_proj".into(), &self.q_proj),
            ("model.layers.0.mlp.up_proj".into(), &self.up_proj),
        ]
    }

    fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)> {
        vec![
            ("model.layers.0.self_attn.q_proj".into(), &mut self.q_proj),
            ("model.layers.0.mlp.up_proj".into(), &mut self.up_proj),
        ]
    }

    fn gguf_architecture(&self) -> Option<String> {
        Some("llama".into())
    }

    fn gguf_tensor_name(&self, path: &str) -> Option<String> {
        let short = if path.ends_with("q_proj") {
            "attn_q"
        } else {
            "ffn_up"
        };
        Some(format!("blk.0.{short}.weight"))
    }
}

fn vals(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    vals(a)
        .iter()
        .zip(vals(b))
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn config(r: usize, alpha: f64) -> LoraConfig {
    let mut c = LoraConfig::new(
        r,
        alpha,
        TargetModules::Names(vec!["q_proj".into(), "up_proj".into()]),
    );
    c.init_lora_weights = LoraInit::Random; // B non-zero: the adapter changes the output
    c
}

#[test]
fn forward_is_base_plus_scaled_adapter_and_disabling_gives_the_base() {
    let device = Device::default();
    let mut m = Block::new(&device, 1);
    let x = Tensor::<2>::random([5, 64], Distribution::Default, &device);
    let base = m.forward(x.clone());
    lora::add_adapter(&mut m, "a", &config(4, 8.0), &device).unwrap();
    let with = m.forward(x.clone());
    let q = &m.q_proj;
    let ad = q.adapter("a").unwrap();
    assert_eq!(ad.scale, 2.0);
    let expected_q = x.clone().matmul(q.base_weight(&device))
        + q.bias.as_ref().unwrap().val().unsqueeze()
        + x.clone()
            .matmul(ad.a.val())
            .matmul(ad.b.val())
            .mul_scalar(2.0);
    assert!(max_diff(q.forward(x.clone()), expected_q) < 1e-5);
    assert!(
        max_diff(with.clone(), base.clone()) > 1e-2,
        "a random B changes the output"
    );
    lora::set_adapter(&mut m, None).unwrap();
    assert_eq!(
        vals(m.forward(x.clone())),
        vals(base),
        "disabled: exactly the base model"
    );
    lora::set_adapter(&mut m, Some("a")).unwrap();
    assert_eq!(vals(m.forward(x)), vals(with));
}

#[test]
fn init_follows_peft() {
    let device = Device::default();
    let mut m = Block::new(&device, 2);
    let mut c = LoraConfig::new(8, 16.0, TargetModules::Pattern(r".*\.q_proj".into()));
    assert_eq!(lora::add_adapter(&mut m, "k", &c, &device).unwrap(), 1);
    assert!(m.up_proj.adapter("k").is_none(), "only the targeted layer");
    let ad = m.q_proj.adapter("k").unwrap();
    let a = vals(ad.a.val());
    let bound = 1.0 / 64f32.sqrt(); // kaiming_uniform(a = sqrt(5)) on A [r, in = 64]
    assert!(a.iter().all(|v| v.abs() <= bound));
    assert!(
        a.iter().any(|v| v.abs() > 0.9 * bound),
        "spread over the whole range"
    );
    assert!(
        vals(ad.b.val()).iter().all(|&v| v == 0.0),
        "B starts at zero"
    );
    c.init_lora_weights = LoraInit::Gaussian;
    c.use_rslora = true;
    lora::add_adapter(&mut m, "g", &c, &device).unwrap();
    let ad = m.q_proj.adapter("g").unwrap();
    assert_eq!(ad.scale, 16.0 / 8f64.sqrt());
    let a = vals(ad.a.val());
    let std = (a.iter().map(|v| v * v).sum::<f32>() / a.len() as f32).sqrt();
    assert!((std - 1.0 / 8.0).abs() < 0.02, "N(0, 1/r): std {std}");
    assert!(
        lora::add_adapter(&mut m, "g", &c, &device).is_err(),
        "a duplicate name"
    );
    let none = LoraConfig::new(8, 8.0, TargetModules::Names(vec!["o_proj".into()]));
    assert!(
        lora::add_adapter(&mut m, "x", &none, &device).is_err(),
        "targets nothing"
    );
}

#[test]
fn adapters_hot_swap_over_one_base() {
    let device = Device::default();
    let mut m = Block::new(&device, 3);
    let x = Tensor::<2>::random([3, 64], Distribution::Default, &device);
    lora::add_adapter(&mut m, "receipts", &config(4, 8.0), &device).unwrap();
    let receipts = m.forward(x.clone());
    lora::add_adapter(&mut m, "invoices", &config(2, 4.0), &device).unwrap();
    let invoices = m.forward(x.clone());
    assert!(max_diff(receipts.clone(), invoices.clone()) > 1e-2);
    assert_eq!(lora::adapter_names(&m), ["receipts", "invoices"]);
    lora::set_adapter(&mut m, Some("receipts")).unwrap();
    assert_eq!(vals(m.forward(x.clone())), vals(receipts));
    assert!(lora::set_adapter(&mut m, Some("nope")).is_err());
    assert_eq!(lora::remove_adapter(&mut m, "receipts"), 2);
    lora::set_adapter(&mut m, Some("invoices")).unwrap();
    assert_eq!(vals(m.forward(x)), vals(invoices));
}

#[test]
fn a_quantised_base_stays_packed_and_its_adapter_trains() {
    let device = Device::default().autodiff();
    Device::seed(&device, 4);
    let w = Tensor::<2>::random([64, 16], Distribution::Normal(0.0, 0.5), &device);
    let float = LoraLinear::new(w.clone(), None);
    let packed = LoraLinear::new(w, None)
        .quantize_base(GgmlType::Q4_0)
        .unwrap();
    assert!(matches!(packed.base(), lora::BaseWeight::Packed(p) if p.ty() == GgmlType::Q4_0));
    let x = Tensor::<2>::random([8, 64], Distribution::Default, &device);
    // The product is with the decoded blocks, and close to the float layer's (Q4_0 moves a
    // weight by at most an eighth of its block's largest magnitude).
    let decoded = x.clone().matmul(packed.base_weight(&device));
    assert!(max_diff(packed.forward(x.clone()), decoded) < 1e-5);
    let (q, f) = (
        vals(packed.forward(x.clone())),
        vals(float.forward(x.clone())),
    );
    let err: f32 = q
        .iter()
        .zip(&f)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f32>()
        .sqrt();
    let norm: f32 = f.iter().map(|a| a * a).sum::<f32>().sqrt();
    assert!(err < 0.15 * norm, "Q4_0 error {err} of {norm}");
    let mut layer = packed;
    let mut c = LoraConfig::new(4, 4.0, TargetModules::Pattern(".*".into()));
    c.init_lora_weights = LoraInit::Random;
    layer.add_adapter("q", &c, &device).unwrap();
    let target = x.clone().matmul(Tensor::random(
        [64, 16],
        Distribution::Normal(0.0, 0.5),
        &device,
    ));
    let loss = |l: &LoraLinear| {
        (l.forward(x.clone()) - target.clone())
            .powi_scalar(2)
            .mean()
    };
    let before = loss(&layer).into_scalar::<f32>();
    for _ in 0..50 {
        let grads = loss(&layer).backward();
        let ad = &mut layer.adapters[0];
        let ga = ad.a.grad(&grads).expect("A trains");
        let gb = ad.b.grad(&grads).expect("B trains");
        let (a, b) = (
            ad.a.val().inner() - ga.mul_scalar(0.02),
            ad.b.val().inner() - gb.mul_scalar(0.02),
        );
        ad.a = burn::module::Param::from_tensor(a.autodiff());
        ad.b = burn::module::Param::from_tensor(b.autodiff());
    }
    let after = loss(&layer).into_scalar::<f32>();
    assert!(after < 0.7 * before, "QLoRA step: loss {before} -> {after}");
    assert!(
        matches!(layer.base(), lora::BaseWeight::Packed(_)),
        "the base never left its blocks"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn merge_then_unmerge_restores_the_base(seed in 0u64..1000, r in 1usize..6, alpha in 1.0f64..32.0) {
        let device = Device::default();
        let mut m = Block::new(&device, seed);
        let x = Tensor::<2>::random([4, 64], Distribution::Default, &device);
        let base_w = m.q_proj.base_weight(&device);
        lora::add_adapter(&mut m, "a", &config(r, alpha), &device).unwrap();
        let unmerged = m.forward(x.clone());
        lora::merge(&mut m);
        prop_assert!(m.q_proj.is_merged());
        prop_assert!(max_diff(m.forward(x.clone()), unmerged) < 1e-3);
        lora::unmerge(&mut m);
        prop_assert!(max_diff(m.q_proj.base_weight(&device), base_w) < 1e-5);
        lora::set_adapter(&mut m, None).unwrap();
        lora::merge(&mut m); // nothing active: nothing to merge
        prop_assert!(!m.q_proj.is_merged());
    }
}

#[test]
fn peft_and_gguf_files_round_trip() {
    let device = Device::default();
    let dir = tempfile::tempdir().unwrap();
    let mut m = Block::new(&device, 5);
    let x = Tensor::<2>::random([3, 64], Distribution::Default, &device);
    let mut c = config(4, 16.0);
    c.use_rslora = true;
    c.task_type = Some("CAUSAL_LM".into());
    lora::add_adapter(&mut m, "a", &c, &device).unwrap();
    let out = m.forward(x.clone());
    lora::save_peft(&m, "a", dir.path().join("peft")).unwrap();
    lora::save_gguf(&m, "a", dir.path().join("a.gguf")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("peft/adapter_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (json["peft_type"].as_str(), json["r"].as_u64()),
        (Some("LORA"), Some(4))
    );
    let bytes = std::fs::read(dir.path().join("peft/adapter_model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let a = st
        .tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
        .unwrap();
    let b = st
        .tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")
        .unwrap();
    assert_eq!((a.shape(), b.shape()), (&[4, 64][..], &[32, 4][..]));

    for file in ["peft", "a.gguf"] {
        let mut fresh = m.base_copy(&device);
        let path = dir.path().join(file);
        let n = if file == "peft" {
            lora::load_peft(&mut fresh, "b", &path, &device).unwrap()
        } else {
            lora::load_gguf(&mut fresh, "b", &path, &device).unwrap()
        };
        assert_eq!(n, 2);
        assert!(
            max_diff(fresh.forward(x.clone()), out.clone()) < 1e-5,
            "{file}"
        );
    }
    // A factor that does not fit is named.
    let mut other = m.base_copy(&device);
    other.q_proj = LoraLinear::new(Tensor::zeros([64, 48], &device), None);
    let e = lora::load_peft(&mut other, "b", dir.path().join("peft"), &device)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("q_proj.lora_B.weight") && e.contains("shape"),
        "{e}"
    );
}
