//! Parity with PEFT 0.21.2 + torch 2.9.1 on the CPU (fixtures by
//! `scripts/golden/lora-peft.sh`): a PEFT-written adapter loads here and gives PEFT's
//! outputs, adapter on and off, and PEFT's merged weights; an adapter written here loads
//! in PEFT with the same outputs.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use whet_core::burn;
use whet_core::lora::{self, LoraConfig, LoraInit, LoraLinear, LoraModel, TargetModules};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lora")
}

struct Tensors(Vec<u8>);

impl Tensors {
    fn open(path: &Path) -> Self {
        Tensors(std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// A tensor as stored (`[out, in]` for torch weights).
    fn get<const D: usize>(&self, key: &str, device: &Device) -> Tensor<D> {
        let st = safetensors::SafeTensors::deserialize(&self.0).unwrap();
        let v = st.tensor(key).unwrap_or_else(|_| panic!("no {key}"));
        let vals: Vec<f32> = v
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Tensor::from_data(TensorData::new(vals, v.shape().to_vec()), device)
    }
}

/// The fixture's model: two layers of `up_proj(q_proj(x))`.
struct Model {
    layers: Vec<[LoraLinear; 2]>,
}

const NAMES: [&str; 2] = ["self_attn.q_proj", "mlp.up_proj"];

impl Model {
    fn from_base(device: &Device) -> Self {
        let base = Tensors::open(&golden().join("base.safetensors"));
        let layers = (0..2)
            .map(|i| {
                let w = |n: &str| {
                    base.get::<2>(&format!("model.layers.{i}.{n}.weight"), device)
                        .transpose()
                };
                let bias =
                    base.get::<1>(&format!("model.layers.{i}.self_attn.q_proj.bias"), device);
                [
                    LoraLinear::new(w(NAMES[0]), Some(bias)),
                    LoraLinear::new(w(NAMES[1]), None),
                ]
            })
            .collect();
        Model { layers }
    }

    fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for [q, up] in &self.layers {
            x = up.forward(q.forward(x));
        }
        x
    }
}

impl LoraModel for Model {
    fn lora_layers(&self) -> Vec<(String, &LoraLinear)> {
        let mut out = Vec::new();
        for (i, pair) in self.layers.iter().enumerate() {
            for (n, l) in NAMES.iter().zip(pair) {
                out.push((format!("model.layers.{i}.{n}"), l));
            }
        }
        out
    }

    fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear)> {
        let mut out = Vec::new();
        for (i, pair) in self.layers.iter_mut().enumerate() {
            for (n, l) in NAMES.iter().zip(pair.iter_mut()) {
                out.push((format!("model.layers.{i}.{n}"), l));
            }
        }
        out
    }
}

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    let (a, b) = (
        a.into_data().try_to_vec::<f32>().unwrap(),
        b.into_data().try_to_vec::<f32>().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn a_peft_adapter_gives_peft_outputs_and_merged_weights() {
    let device = Device::default();
    let peft = Tensors::open(&golden().join("peft_outputs.safetensors"));
    let x = peft.get::<2>("x", &device);
    let mut m = Model::from_base(&device);
    // layers_to_transform = [0]: two of the four projections.
    assert_eq!(
        lora::load_peft(&mut m, "peft", golden().join("peft_adapter"), &device).unwrap(),
        2
    );
    // One layer: within 1e-6 of PEFT's.
    let [q, up] = &m.layers[0];
    let q_out = q.forward(x.clone());
    let d = max_diff(q_out.clone(), peft.get("layer0.q_proj", &device));
    assert!(d < 1e-6, "q_proj with its adapter: max |difference| {d}");
    let d = max_diff(up.forward(q_out), peft.get("layer0.up_proj", &device));
    assert!(d < 1e-6, "up_proj with its adapter: max |difference| {d}");
    // The four layers in a row (outputs up to about 10): within 1e-6 relative to the
    // largest output (different summation orders of f32 products; measured 2.9e-6 absolute).
    let within = |y: Tensor<2>, key: &str| {
        let want = peft.get::<2>(key, &device);
        let scale = want.clone().abs().max().into_scalar::<f32>();
        let d = max_diff(y, want);
        assert!(
            d < 1e-6 * scale.max(1.0),
            "{key}: max |difference| {d}, largest output {scale}"
        );
    };
    within(m.forward(x.clone()), "adapter_on");
    lora::set_adapter(&mut m, None).unwrap();
    within(m.forward(x.clone()), "adapter_off");
    lora::set_adapter(&mut m, Some("peft")).unwrap();
    lora::merge(&mut m);
    for (path, layer) in m.lora_layers() {
        let merged = peft
            .get::<2>(&format!("merged.{path}.weight"), &device)
            .transpose();
        let d = max_diff(layer.effective_weight(&device), merged);
        assert!(d < 1e-6, "{path}: merged weight max |difference| {d}");
    }
    within(m.forward(x), "adapter_on");
}

/// The adapter whet-core writes for PEFT to read: fixed factors from a seed.
fn whet_adapter(device: &Device) -> (Model, Tensor<2>) {
    let mut m = Model::from_base(device);
    Device::seed(device, 7);
    let mut c = LoraConfig::new(
        2,
        8.0,
        TargetModules::Pattern(r"model\.layers\.1\..*_proj".into()),
    );
    c.init_lora_weights = LoraInit::Random;
    c.lora_dropout = 0.1;
    assert_eq!(lora::add_adapter(&mut m, "whet", &c, device).unwrap(), 2);
    let x = Tensor::<2>::random([3, 64], Distribution::Default, device);
    (m, x)
}

/// Writes `tests/golden/lora/whet_adapter` (run by `scripts/golden/lora-peft.sh` before
/// PEFT reads it).
#[test]
#[ignore = "writes the fixture PEFT reads; run by scripts/golden/lora-peft.sh"]
fn write_whet_adapter() {
    let device = Device::default();
    let (m, x) = whet_adapter(&device);
    let dir = golden().join("whet_adapter");
    lora::save_peft(&m, "whet", &dir).unwrap();
    let y = m.forward(x.clone());
    let bytes = |t: Tensor<2>| {
        let shape = t.dims().to_vec();
        let d = t.into_data();
        (
            shape,
            d.try_to_vec::<f32>()
                .unwrap()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        )
    };
    let (xs, xb) = bytes(x);
    let (ys, yb) = bytes(y);
    let views = vec![
        (
            "x",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, xs.to_vec(), &xb)
                .unwrap(),
        ),
        (
            "y",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, ys.to_vec(), &yb)
                .unwrap(),
        ),
    ];
    safetensors::serialize_to_file(views, None, &dir.join("whet_output.safetensors")).unwrap();
}

#[test]
fn peft_reads_the_adapter_written_here() {
    let device = Device::default();
    let (m, x) = whet_adapter(&device);
    let dir = tempfile::tempdir().unwrap();
    lora::save_peft(&m, "whet", dir.path()).unwrap();
    for f in ["adapter_model.safetensors", "adapter_config.json"] {
        let (now, committed) = (
            std::fs::read(dir.path().join(f)).unwrap(),
            std::fs::read(golden().join("whet_adapter").join(f)).unwrap(),
        );
        assert!(
            now == committed,
            "{f} differs from the one PEFT read: rerun scripts/golden/lora-peft.sh"
        );
    }
    let peft = Tensors::open(&golden().join("peft_reads_whet.safetensors"));
    let d = max_diff(m.forward(x), peft.get("y", &device));
    assert!(
        d < 1e-6,
        "PEFT's output on whet-core's adapter: max |difference| {d}"
    );
}
