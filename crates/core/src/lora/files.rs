//! Adapter files users already have: PEFT's `adapter_config.json` +
//! `adapter_model.safetensors`, and llama.cpp's GGUF LoRA adapters.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{LoraConfig, LoraModel};
use crate::data::atomic_write;
use crate::error::{Error, Result};
use crate::gguf::{Gguf, GgufWriter, Value};
use crate::quant::GgmlType;

/// PEFT's prefix of every key (`PeftModel` wraps `LoraModel` wraps the base model).
const PEFT_PREFIX: &str = "base_model.model.";
/// PEFT's file names.
pub const PEFT_CONFIG: &str = "adapter_config.json";
/// PEFT's file names.
pub const PEFT_WEIGHTS: &str = "adapter_model.safetensors";

fn lora_err(adapter: &str, reason: impl Into<String>) -> Error {
    Error::Lora {
        adapter: adapter.into(),
        reason: reason.into(),
    }
}

fn host(t: Tensor<2>, adapter: &str) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| lora_err(adapter, format!("cannot read a factor back: {e:?}")))
}

/// The factors `(A [r, in], B [out, r])` of adapter `name`, row-major, per layer path, in
/// PEFT's layout.
#[allow(clippy::type_complexity)]
fn factors(
    model: &impl LoraModel,
    name: &str,
) -> Result<(LoraConfig, Vec<(String, [usize; 3], Vec<f32>, Vec<f32>)>)> {
    let mut config = None;
    let mut out = Vec::new();
    for (path, layer) in model.lora_layers() {
        let Some(adapter) = layer.adapter(name) else {
            continue;
        };
        let [inp, outp] = layer.dims();
        let r = adapter.rank();
        let a = host(adapter.a.val().transpose(), name)?;
        let b = host(adapter.b.val().transpose(), name)?;
        config.get_or_insert_with(|| adapter.config.clone());
        out.push((path, [r, inp, outp], a, b));
    }
    let config = config.ok_or_else(|| lora_err(name, "no layer has an adapter of that name"))?;
    Ok((config, out))
}

fn le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes adapter `name` as PEFT does: `adapter_config.json` and
/// `adapter_model.safetensors` (f32; keys `base_model.model.<path>.lora_A.weight`, A
/// `[r, in]`, B `[out, r]`) in `dir`, created if missing. PEFT's `PeftModel.from_pretrained`
/// loads it.
///
/// # Errors
/// [`Error::Lora`] when no layer has the adapter; [`Error::File`] when a file cannot be
/// written.
pub fn save_peft(model: &impl LoraModel, name: &str, dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    let (config, layers) = factors(model, name)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (path, [r, inp, outp], a, b) in layers {
        tensors.insert(
            format!("{PEFT_PREFIX}{path}.lora_A.weight"),
            (vec![r, inp], le_bytes(&a)),
        );
        tensors.insert(
            format!("{PEFT_PREFIX}{path}.lora_B.weight"),
            (vec![outp, r], le_bytes(&b)),
        );
    }
    let views = tensors
        .iter()
        .map(|(k, (shape, bytes))| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map_err(|e| lora_err(name, e.to_string()))?;
            Ok((k.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes =
        safetensors::serialize(views, Some(metadata)).map_err(|e| lora_err(name, e.to_string()))?;
    atomic_write(dir.join(PEFT_WEIGHTS), &bytes)?;
    let json = serde_json::to_vec_pretty(&config).map_err(|e| lora_err(name, e.to_string()))?;
    atomic_write(dir.join(PEFT_CONFIG), &json)?;
    Ok(())
}

fn view_f32(view: &TensorView<'_>, key: &str, file: &Path) -> Result<Vec<f32>> {
    let d = view.data();
    let vals: Vec<f32> = match view.dtype() {
        Dtype::F32 => d
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => d
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        Dtype::BF16 => d
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        other => {
            return Err(lora_err(
                &file.display().to_string(),
                format!("{key}: dtype {other:?} (F32, F16 or BF16 expected)"),
            ));
        }
    };
    Ok(vals)
}

/// Loads a PEFT adapter folder (`adapter_config.json` + `adapter_model.safetensors`, as
/// `PeftModel.save_pretrained` writes it) into `model` as adapter `name`, and makes it
/// active. Returns how many layers it adapts.
///
/// # Errors
/// [`Error::File`] for a missing file; [`Error::Config`] for a config this implementation
/// would compute differently from PEFT (DoRA, biases, per-module ranks...);
/// [`Error::Lora`] naming the key when a targeted layer has no factors in the file, a
/// factor has the wrong shape, or the file holds factors for layers the model lacks.
pub fn load_peft(
    model: &mut impl LoraModel,
    name: &str,
    dir: impl AsRef<Path>,
    device: &Device,
) -> Result<usize> {
    let dir = dir.as_ref();
    let config_path = dir.join(PEFT_CONFIG);
    let text = std::fs::read(&config_path).map_err(|e| Error::file(&config_path, e))?;
    let config: LoraConfig = serde_json::from_slice(&text).map_err(|e| Error::Format {
        path: config_path.clone(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    config.validate()?;
    let weights_path = dir.join(PEFT_WEIGHTS);
    let bytes = std::fs::read(&weights_path).map_err(|e| Error::file(&weights_path, e))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        lora_err(
            &weights_path.display().to_string(),
            format!("not safetensors: {e}"),
        )
    })?;
    let mut unused: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
    let mut n = 0;
    for (path, layer) in model.lora_layers_mut() {
        if !config.matches(&path)? {
            continue;
        }
        let [inp, outp] = layer.dims();
        let mut get = |suffix: &str, shape: [usize; 2]| -> Result<Tensor<2>> {
            let key = format!("{PEFT_PREFIX}{path}.{suffix}");
            let view = file.tensor(&key).map_err(|_| {
                lora_err(name, format!("{}: no tensor {key}", weights_path.display()))
            })?;
            if view.shape() != shape {
                return Err(lora_err(
                    name,
                    format!("{key}: shape {:?}, expected {shape:?}", view.shape()),
                ));
            }
            unused.retain(|k| *k != key);
            let vals = view_f32(&view, &key, &weights_path)?;
            Ok(Tensor::from_data(TensorData::new(vals, shape), device))
        };
        let a = get("lora_A.weight", [config.r, inp])?;
        let b = get("lora_B.weight", [outp, config.r])?;
        layer.insert(name, a.transpose(), b.transpose(), &config)?;
        n += 1;
    }
    if let Some(key) = unused.first() {
        return Err(lora_err(
            name,
            format!(
                "{}: {key} (and {} more) fit no layer the config targets",
                weights_path.display(),
                unused.len() - 1
            ),
        ));
    }
    if n == 0 {
        return Err(lora_err(name, "the config targets no layer of the model"));
    }
    super::set_adapter(model, Some(name))?;
    Ok(n)
}

/// Writes adapter `name` as a llama.cpp GGUF LoRA adapter: `general.type = adapter`,
/// `adapter.type = lora`, `adapter.lora.alpha`, and f32 tensors `<base>.lora_a`
/// (`[r, in]`) and `<base>.lora_b` (`[out, r]`) named by the model's
/// [`LoraModel::gguf_tensor_name`]. llama.cpp scales by `alpha / r`; an rsLoRA adapter is
/// written with the alpha that gives its own scale.
///
/// # Errors
/// [`Error::Lora`] when the model names no GGUF architecture or tensor for a layer;
/// [`Error::File`] when the file cannot be written.
pub fn save_gguf(model: &impl LoraModel, name: &str, path: impl AsRef<Path>) -> Result<()> {
    let (config, layers) = factors(model, name)?;
    let arch = model
        .gguf_architecture()
        .ok_or_else(|| lora_err(name, "the model has no GGUF architecture"))?;
    let mut w = GgufWriter::new();
    w.set("general.type", Value::String("adapter".into()))
        .set("general.architecture", Value::String(arch))
        .set("adapter.type", Value::String("lora".into()))
        .set(
            "adapter.lora.alpha",
            Value::F32((config.scaling() * config.r as f64) as f32),
        );
    for (path, [r, inp, outp], a, b) in layers {
        let base = model
            .gguf_tensor_name(&path)
            .ok_or_else(|| lora_err(name, format!("layer {path} has no GGUF name")))?;
        let device = Default::default();
        let b = Tensor::<2>::from_data(TensorData::new(b, [outp, r]), &device);
        let b = host(
            model.gguf_lora_b(&path, b.transpose(), true).transpose(),
            name,
        )?;
        w.add_tensor(
            format!("{base}.lora_a"),
            &[inp as u64, r as u64],
            GgmlType::F32,
            le_bytes(&a),
        )?;
        w.add_tensor(
            format!("{base}.lora_b"),
            &[r as u64, outp as u64],
            GgmlType::F32,
            le_bytes(&b),
        )?;
    }
    w.write(path)
}

/// Loads a llama.cpp GGUF LoRA adapter into `model` as adapter `name` (every layer whose
/// GGUF base tensor has `.lora_a` / `.lora_b` in the file), and makes it active. Returns
/// how many layers it adapts. The factors may be stored in any type the GGUF reader
/// decodes (llama.cpp writes f32, f16 or q8_0).
///
/// # Errors
/// [`Error::Gguf`] for a file that is not a LoRA adapter or is malformed; [`Error::Lora`]
/// for factors that do not fit their layer, or that name no layer of the model.
pub fn load_gguf(
    model: &mut impl LoraModel,
    name: &str,
    path: impl AsRef<Path>,
    device: &Device,
) -> Result<usize> {
    let path = path.as_ref();
    let file = Gguf::open(path)?;
    let fail = |at: &str, reason: String| Error::Gguf {
        path: path.to_owned(),
        at: at.into(),
        reason,
    };
    if file.str("general.type")? != "adapter" || file.str("adapter.type")? != "lora" {
        return Err(fail("metadata general.type", "not a LoRA adapter".into()));
    }
    let alpha = file.f64("adapter.lora.alpha")?;
    let names: Vec<(String, Option<String>)> = model
        .lora_layers()
        .into_iter()
        .map(|(p, _)| {
            let g = model.gguf_tensor_name(&p);
            (p, g)
        })
        .collect();
    let mut unused: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
    let mut loaded = Vec::new();
    for (path_in_model, gguf) in names {
        let Some(base) = gguf else { continue };
        let (ka, kb) = (format!("{base}.lora_a"), format!("{base}.lora_b"));
        if file.tensor(&ka).is_err() && file.tensor(&kb).is_err() {
            continue;
        }
        let dims = |k: &str| -> Result<[usize; 2]> {
            match file.tensor(k)?.dims[..] {
                [a, b] => Ok([b as usize, a as usize]),
                ref d => Err(fail(&format!("tensor {k}"), format!("{d:?} is not 2-D"))),
            }
        };
        let ([r, inp], [outp, rb]) = (dims(&ka)?, dims(&kb)?);
        if r != rb {
            return Err(fail(
                &format!("tensor {kb}"),
                format!("rank {rb}, but {ka} has rank {r}"),
            ));
        }
        let a = Tensor::<2>::from_data(TensorData::new(file.tensor_f32(&ka)?, [r, inp]), device);
        let b = Tensor::<2>::from_data(TensorData::new(file.tensor_f32(&kb)?, [outp, r]), device);
        unused.retain(|k| *k != ka && *k != kb);
        let b = model.gguf_lora_b(&path_in_model, b.transpose(), false);
        loaded.push((path_in_model, r, a.transpose(), b));
    }
    if let Some(k) = unused.first() {
        return Err(lora_err(
            name,
            format!("{}: tensor {k} fits no layer of the model", path.display()),
        ));
    }
    let Some(r) = loaded.first().map(|l| l.1) else {
        return Err(lora_err(
            name,
            format!("{}: no factors for any layer of the model", path.display()),
        ));
    };
    let targets: Vec<String> = loaded.iter().map(|l| l.0.clone()).collect();
    let mut config = LoraConfig::new(r, alpha, super::TargetModules::Names(targets));
    config.base_model_name_or_path = file.get("general.name").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    });
    let n = loaded.len();
    let mut by_path: HashMap<String, (usize, Tensor<2>, Tensor<2>)> = loaded
        .into_iter()
        .map(|(p, r, a, b)| (p, (r, a, b)))
        .collect();
    for (p, layer) in model.lora_layers_mut() {
        if let Some((r_layer, a, b)) = by_path.remove(&p) {
            let layer_config = LoraConfig {
                r: r_layer,
                ..config.clone()
            };
            layer.insert(name, a, b, &layer_config)?;
        }
    }
    super::set_adapter(model, Some(name))?;
    Ok(n)
}
