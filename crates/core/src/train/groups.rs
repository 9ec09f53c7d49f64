//! Parameter groups: which learning rate and weight decay each trainable parameter gets.

use std::collections::BTreeMap;

use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::Serialize;

use super::config::TrainConfig;
use super::params::list_params;
use crate::error::Result;

/// The learning rate and weight decay one parameter trains with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamSettings {
    /// Dotted path.
    pub path: String,
    /// The group that matched last (`None`: the optimiser's defaults).
    pub group: Option<String>,
    /// Multiple of the optimiser's learning rate.
    pub lr_scale: f64,
    /// Weight decay.
    pub weight_decay: f32,
}

/// What every trainable parameter of `model` trains with under `config`: its group (the
/// last of `config.param_groups` that matches its path), learning-rate multiple and
/// weight decay (none for rank-1 parameters, norms and biases, unless
/// `config.decay_norms_and_biases`).
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an invalid group pattern.
pub fn param_settings<M: Module>(model: &M, config: &TrainConfig) -> Result<Vec<ParamSettings>> {
    let base_decay = config.optimizer.weight_decay();
    let mut out = Vec::new();
    for p in list_params(model).into_iter().filter(|p| p.trainable) {
        let mut settings = ParamSettings {
            path: p.path.clone(),
            group: None,
            lr_scale: 1.0,
            weight_decay: base_decay,
        };
        for g in &config.param_groups {
            if g.matches(&p.path)? {
                settings.group = Some(g.name.clone());
                settings.lr_scale = g.lr_scale;
                settings.weight_decay = g.weight_decay.unwrap_or(base_decay);
            }
        }
        if p.shape.len() < 2 && !config.decay_norms_and_biases {
            settings.weight_decay = 0.0;
        }
        out.push(settings);
    }
    Ok(out)
}

/// burn's optimiser and scheduler with the groups of `settings`: paths sharing a
/// non-default decay get one optimiser, paths sharing a non-default rate one schedule.
pub(crate) fn grouped_optim(
    config: &TrainConfig,
    settings: &[ParamSettings],
) -> Result<(ModuleOptimizer, ModuleLrScheduler)> {
    let base_decay = config.optimizer.weight_decay();
    let mut by_decay: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut by_rate: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for s in settings {
        if s.weight_decay != base_decay {
            by_decay
                .entry(s.weight_decay.to_bits())
                .or_default()
                .push(s.path.clone());
        }
        if s.lr_scale != 1.0 {
            by_rate
                .entry(s.lr_scale.to_bits())
                .or_default()
                .push(s.path.clone());
        }
    }
    let decays: Vec<(f32, Vec<String>)> = by_decay
        .into_iter()
        .map(|(bits, paths)| (f32::from_bits(bits), paths))
        .collect();
    let rates: Vec<(f64, Vec<String>)> = by_rate
        .into_iter()
        .map(|(bits, paths)| (f64::from_bits(bits), paths))
        .collect();
    let optim = config.optimizer.init_grouped(&decays);
    let scheduler =
        config
            .schedule
            .init_grouped(config.optimizer.lr(), config.max_steps, &rates)?;
    Ok((optim, scheduler))
}
