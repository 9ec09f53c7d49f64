//! `LoraConfig`: PEFT's `adapter_config.json`, and which layers it adapts.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which modules an adapter targets, as PEFT's `target_modules` says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TargetModules {
    /// Module names: a path matches when it is one of them or ends with `.` + one of them
    /// (`"q_proj"` matches `model.layers.3.self_attn.q_proj`).
    Names(Vec<String>),
    /// A regular expression the whole path must match (Python's `re.fullmatch`); the
    /// special value `"all-linear"` means every adaptable linear layer except `lm_head`.
    Pattern(String),
}

/// Which layers, by index (`layers_to_transform`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LayerIndexes {
    /// One layer.
    One(usize),
    /// Several.
    Many(Vec<usize>),
}

impl LayerIndexes {
    fn contains(&self, i: usize) -> bool {
        match self {
            LayerIndexes::One(j) => *j == i,
            LayerIndexes::Many(v) => v.contains(&i),
        }
    }
}

/// How the `A` factor starts (`B` starts at zero either way, so a new adapter changes
/// nothing until it trains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoraInit {
    /// PEFT's default (`init_lora_weights = true`): `kaiming_uniform_(a = sqrt(5))`, that is
    /// `U(-1/sqrt(in), 1/sqrt(in))`.
    #[default]
    KaimingUniform,
    /// `init_lora_weights = "gaussian"`: `N(0, 1/r)` (standard deviation `1/r`).
    Gaussian,
    /// `init_lora_weights = false`: `A` as the default but `B` random too, so the adapter
    /// changes the output from the start (PEFT uses it in tests).
    Random,
}

impl Serialize for LoraInit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            LoraInit::KaimingUniform => s.serialize_bool(true),
            LoraInit::Gaussian => s.serialize_str("gaussian"),
            LoraInit::Random => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for LoraInit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(LoraInit::KaimingUniform),
            Raw::Bool(false) => Ok(LoraInit::Random),
            Raw::Name(n) if n == "gaussian" => Ok(LoraInit::Gaussian),
            Raw::Name(n) => Err(serde::de::Error::custom(format!(
                "init_lora_weights {n:?} is not supported here (true, false or \"gaussian\")"
            ))),
        }
    }
}

fn default_r() -> usize {
    8
}

fn default_alpha() -> f64 {
    8.0
}

fn default_bias() -> String {
    "none".into()
}

fn default_peft_type() -> String {
    "LORA".into()
}

/// A LoRA adapter's settings, with PEFT's field names and defaults, so it reads and
/// writes PEFT's `adapter_config.json`: `y = W x + s * B(A(dropout(x)))`, `s = alpha / r`
/// (`alpha / sqrt(r)` with rsLoRA).
///
/// ```
/// use whet_core::lora::{LoraConfig, TargetModules};
/// let config = LoraConfig::new(16, 32.0, TargetModules::Names(vec!["q_proj".into(), "v_proj".into()]));
/// assert!(config.matches("model.layers.3.self_attn.q_proj")?);
/// assert!(!config.matches("model.layers.3.self_attn.k_proj")?);
/// assert_eq!(config.scaling(), 2.0);
/// # Ok::<(), whet_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    /// Always `"LORA"`.
    #[serde(default = "default_peft_type")]
    pub peft_type: String,
    /// The base model's name or path, as PEFT records it.
    #[serde(default)]
    pub base_model_name_or_path: Option<String>,
    /// Rank (8).
    #[serde(default = "default_r")]
    pub r: usize,
    /// Scale numerator (8).
    #[serde(default = "default_alpha")]
    pub lora_alpha: f64,
    /// Dropout on the adapter's input while training (0).
    #[serde(default)]
    pub lora_dropout: f64,
    /// Which modules.
    pub target_modules: TargetModules,
    /// Modules never adapted, by the same rules as `target_modules`.
    #[serde(default)]
    pub exclude_modules: Option<TargetModules>,
    /// Only these layer indexes (the first number after a `.name.` in the path, or after
    /// one of `layers_pattern`).
    #[serde(default)]
    pub layers_to_transform: Option<LayerIndexes>,
    /// The name before the layer index (`"layers"`); any when absent.
    #[serde(default)]
    pub layers_pattern: Option<TargetModules>,
    /// Scale `alpha / sqrt(r)` (rank-stabilised LoRA) instead of `alpha / r`.
    #[serde(default)]
    pub use_rslora: bool,
    /// How `A` starts.
    #[serde(default)]
    pub init_lora_weights: LoraInit,
    /// PEFT's bias training; only `"none"` is supported.
    #[serde(default = "default_bias")]
    pub bias: String,
    /// PEFT's weight-decomposed LoRA; not supported.
    #[serde(default)]
    pub use_dora: bool,
    /// GPT-2 `Conv1D` layout; not supported.
    #[serde(default)]
    pub fan_in_fan_out: bool,
    /// The PEFT task (`"CAUSAL_LM"`), recorded as given.
    #[serde(default)]
    pub task_type: Option<String>,
    /// Per-module ranks; must be empty here.
    #[serde(default)]
    pub rank_pattern: serde_json::Map<String, serde_json::Value>,
    /// Per-module alphas; must be empty here.
    #[serde(default)]
    pub alpha_pattern: serde_json::Map<String, serde_json::Value>,
    /// Modules trained in full beside the adapter; must be empty here.
    #[serde(default)]
    pub modules_to_save: Option<Vec<String>>,
    /// Every other field of the file, kept so it is written back as read; any that
    /// would change the computation ([`LoraConfig::validate`]) is refused.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Fields of PEFT's config that do not change what an adapter computes.
const HARMLESS: &[&str] = &[
    "auto_mapping",
    "peft_version",
    "inference_mode",
    "revision",
    "megatron_core",
    "qalora_group_size",
];

impl LoraConfig {
    /// Rank `r`, `lora_alpha`, on `target_modules`; PEFT's defaults otherwise.
    pub fn new(r: usize, lora_alpha: f64, target_modules: TargetModules) -> Self {
        LoraConfig {
            peft_type: default_peft_type(),
            base_model_name_or_path: None,
            r,
            lora_alpha,
            lora_dropout: 0.0,
            target_modules,
            exclude_modules: None,
            layers_to_transform: None,
            layers_pattern: None,
            use_rslora: false,
            init_lora_weights: LoraInit::default(),
            bias: default_bias(),
            use_dora: false,
            fan_in_fan_out: false,
            task_type: None,
            rank_pattern: Default::default(),
            alpha_pattern: Default::default(),
            modules_to_save: None,
            other: Default::default(),
        }
    }

    /// The factor the adapter's output is multiplied by: `alpha / r`, or `alpha / sqrt(r)`
    /// with rsLoRA.
    pub fn scaling(&self) -> f64 {
        if self.use_rslora {
            self.lora_alpha / (self.r as f64).sqrt()
        } else {
            self.lora_alpha / self.r as f64
        }
    }

    /// Refuses what this implementation would compute differently from PEFT.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        let refuse = |field: &'static str, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.into(),
            })
        };
        if self.peft_type != "LORA" {
            return refuse("peft_type", &format!("{:?} is not LORA", self.peft_type));
        }
        if self.r == 0 {
            return refuse("r", "must be at least 1");
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return refuse("lora_dropout", "must be in [0, 1)");
        }
        if self.bias != "none" {
            return refuse("bias", "only \"none\" is supported");
        }
        if self.use_dora {
            return refuse("use_dora", "DoRA is not supported");
        }
        if self.fan_in_fan_out {
            return refuse("fan_in_fan_out", "Conv1D layouts are not supported");
        }
        if !self.rank_pattern.is_empty() || !self.alpha_pattern.is_empty() {
            return refuse(
                "rank_pattern",
                "per-module ranks and alphas are not supported",
            );
        }
        if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
            return refuse(
                "modules_to_save",
                "fully trained extra modules are not supported",
            );
        }
        for (k, v) in &self.other {
            let unset = match v {
                serde_json::Value::Null | serde_json::Value::Bool(false) => true,
                serde_json::Value::Object(m) => m.is_empty(),
                serde_json::Value::Array(a) => a.is_empty(),
                _ => false,
            };
            if !unset && !HARMLESS.contains(&k.as_str()) {
                return Err(Error::Config {
                    field: "adapter_config",
                    reason: format!("{k} = {v} is a PEFT feature not supported here"),
                });
            }
        }
        Ok(())
    }

    /// Whether the module at `path` (`model.layers.3.self_attn.q_proj`) gets an adapter,
    /// by PEFT's rules (`check_target_module_exists`).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid regular expression.
    pub fn matches(&self, path: &str) -> Result<bool> {
        if let Some(ex) = &self.exclude_modules
            && names_match(ex, path)?
        {
            return Ok(false);
        }
        let names = match &self.target_modules {
            TargetModules::Pattern(p) if p == "all-linear" => {
                return Ok(path != "lm_head" && !path.ends_with(".lm_head"));
            }
            TargetModules::Pattern(p) => return full_match(p, path),
            TargetModules::Names(names) => names,
        };
        if names.iter().any(|n| n == path) {
            return Ok(true);
        }
        if !names.iter().any(|n| path.ends_with(&format!(".{n}"))) {
            return Ok(false);
        }
        let Some(wanted) = &self.layers_to_transform else {
            return Ok(true);
        };
        let patterns: Vec<String> = match &self.layers_pattern {
            None => vec![r"[^.]*".into()],
            Some(TargetModules::Pattern(p)) if p.is_empty() => vec![r"[^.]*".into()],
            Some(TargetModules::Names(v)) if v.is_empty() => vec![r"[^.]*".into()],
            Some(TargetModules::Pattern(p)) => vec![p.clone()],
            Some(TargetModules::Names(v)) => v.clone(),
        };
        for p in patterns {
            let re = regex(&format!(r"^.*?\.{p}\.(\d+)\."))?;
            if let Some(c) = re.captures(path) {
                return Ok(c[1].parse::<usize>().is_ok_and(|i| wanted.contains(i)));
            }
        }
        Ok(false)
    }
}

fn regex(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| Error::Config {
        field: "target_modules",
        reason: format!("{pattern:?}: {e}"),
    })
}

fn full_match(pattern: &str, path: &str) -> Result<bool> {
    Ok(regex(&format!("^(?:{pattern})$"))?.is_match(path))
}

fn names_match(t: &TargetModules, path: &str) -> Result<bool> {
    match t {
        TargetModules::Pattern(p) => full_match(p, path),
        TargetModules::Names(v) => Ok(v
            .iter()
            .any(|n| n == path || path.ends_with(&format!(".{n}")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> TargetModules {
        TargetModules::Names(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn matches_as_peft_does() {
        let mut c = LoraConfig::new(8, 8.0, names(&["q_proj", "v_proj"]));
        assert!(c.matches("model.layers.0.self_attn.q_proj").unwrap());
        assert!(c.matches("q_proj").unwrap());
        assert!(!c.matches("model.layers.0.self_attn.qq_proj").unwrap());
        c.layers_to_transform = Some(LayerIndexes::Many(vec![1, 3]));
        assert!(!c.matches("model.layers.0.self_attn.q_proj").unwrap());
        assert!(c.matches("model.layers.3.self_attn.q_proj").unwrap());
        // The first numbered segment is the layer, not a nested index.
        assert!(c.matches("model.layers.1.experts.0.q_proj").unwrap());
        c.layers_pattern = Some(TargetModules::Pattern("h".into()));
        assert!(!c.matches("model.layers.1.self_attn.q_proj").unwrap());
        c.target_modules = TargetModules::Pattern(r".*\.layers\.[0-2]\..*_proj".into());
        assert!(c.matches("model.layers.2.mlp.up_proj").unwrap());
        assert!(!c.matches("model.layers.2.mlp.up_proj.x").unwrap());
        c.target_modules = TargetModules::Pattern("all-linear".into());
        assert!(c.matches("model.layers.2.mlp.up_proj").unwrap());
        assert!(!c.matches("lm_head").unwrap());
        c.exclude_modules = Some(names(&["up_proj"]));
        assert!(!c.matches("model.layers.2.mlp.up_proj").unwrap());
    }

    #[test]
    fn reads_peft_json_and_refuses_what_it_cannot_do() {
        let json = r#"{"peft_type": "LORA", "r": 4, "lora_alpha": 16, "target_modules": ["q_proj"],
            "init_lora_weights": "gaussian", "use_rslora": true, "task_type": "CAUSAL_LM",
            "megatron_config": null, "revision": null}"#;
        let c: LoraConfig = serde_json::from_str(json).unwrap();
        assert_eq!(
            (c.r, c.init_lora_weights, c.scaling()),
            (4, LoraInit::Gaussian, 8.0)
        );
        c.validate().unwrap();
        let dora = LoraConfig {
            use_dora: true,
            ..c.clone()
        };
        assert!(
            dora.validate()
                .unwrap_err()
                .to_string()
                .contains("use_dora")
        );
        let mut bias = c.clone();
        bias.other
            .insert("lora_bias".into(), serde_json::Value::Bool(true));
        assert!(
            bias.validate()
                .unwrap_err()
                .to_string()
                .contains("lora_bias")
        );
        let back: LoraConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
