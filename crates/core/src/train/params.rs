//! Parameters by path: listing, freezing by a predicate, and restoring parameter ids.
//!
//! A parameter's path is the dotted field path burn's `Module` derive gives it (the same
//! keys burn-store writes to safetensors), e.g. `encoder.layers.0.attn.query.weight`.

use std::collections::BTreeMap;

use std::collections::BTreeSet;

use burn::module::{Flag, Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Bool, Int, Tensor};

/// One parameter of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    /// Dotted path, e.g. `layers.0.weight`.
    pub path: String,
    /// burn's id of the parameter (the key of optimiser state).
    pub id: ParamId,
    /// Number of elements.
    pub numel: usize,
    /// Shape.
    pub shape: Vec<usize>,
    /// Whether it receives gradients (is not frozen).
    pub trainable: bool,
}

#[derive(Default)]
struct PathStack(Vec<String>);

impl PathStack {
    fn push(&mut self, name: &str) {
        self.0.push(name.to_owned());
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    fn joined(&self) -> String {
        self.0.join(".")
    }
}

struct Lister {
    path: PathStack,
    out: Vec<ParamInfo>,
}

impl ModuleVisitor for Lister {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(ParamInfo {
            path: self.path.joined(),
            id: param.id,
            numel: param.lazy_shape().num_elements(),
            shape: param.lazy_shape().to_vec(),
            trainable: param.val().is_require_grad(),
        });
    }
    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        self.out.push(ParamInfo {
            path: self.path.joined(),
            id: param.id,
            numel: param.lazy_shape().num_elements(),
            shape: param.lazy_shape().to_vec(),
            trainable: false,
        });
    }
    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
        self.out.push(ParamInfo {
            path: self.path.joined(),
            id: param.id,
            numel: param.lazy_shape().num_elements(),
            shape: param.lazy_shape().to_vec(),
            trainable: false,
        });
    }
}

struct ActiveFlags {
    path: PathStack,
    modules: BTreeSet<String>,
}

impl ModuleVisitor for ActiveFlags {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_flag(&mut self, flag: &Param<Flag>) {
        if flag.val().is_enabled() {
            self.modules.insert(parent(&self.path.joined()).to_owned());
        }
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(p, _)| p)
}

/// The paths of the parameters training can change: trainable float parameters, and any
/// parameter of a module with an enabled training flag (batch-norm statistics, which
/// the forward pass updates). Everything else is the frozen base.
pub fn changing_params<M: Module>(module: &M) -> Vec<String> {
    let mut flags = ActiveFlags {
        path: PathStack::default(),
        modules: BTreeSet::new(),
    };
    module.visit(&mut flags);
    list_params(module)
        .into_iter()
        .filter(|p| p.trainable || flags.modules.contains(parent(&p.path)))
        .map(|p| p.path)
        .collect()
}

/// Every tensor parameter of `module`, in visiting order.
pub fn list_params<M: Module>(module: &M) -> Vec<ParamInfo> {
    let mut lister = Lister {
        path: PathStack::default(),
        out: Vec::new(),
    };
    module.visit(&mut lister);
    lister.out
}

struct Freezer<'a> {
    path: PathStack,
    predicate: &'a dyn Fn(&str) -> bool,
    frozen: usize,
}

impl ModuleMapper for Freezer<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if (self.predicate)(&self.path.joined()) {
            self.frozen += 1;
            param.set_require_grad(false)
        } else {
            param
        }
    }
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        // A frozen layer's training behaviour goes too: batch norm keeps its running
        // statistics instead of re-estimating them from the fine-tuning batches.
        if (self.predicate)(&self.path.joined()) {
            flag.with_value(false)
        } else {
            flag
        }
    }
}

/// Freezes (stops gradients for) every float parameter whose path satisfies `predicate`;
/// returns the module and how many parameters were frozen.
///
/// Frozen parameters get no gradient, so the optimiser leaves them untouched; LoRA
/// freezes everything but the adapters this way. Training flags under a frozen path are
/// turned off as burn's own `Module::freeze` does, so a frozen batch norm normalises with
/// its running statistics and does not update them: without that, fine-tuning a head on
/// new data silently re-estimates the frozen backbone's statistics on that data and
/// degrades the model everywhere else.
pub fn freeze_where<M: Module>(module: M, predicate: &dyn Fn(&str) -> bool) -> (M, usize) {
    let mut freezer = Freezer {
        path: PathStack::default(),
        predicate,
        frozen: 0,
    };
    let module = module.map(&mut freezer);
    let frozen = freezer.frozen;
    (module, frozen)
}

struct StatisticsFreezer;

impl ModuleMapper for StatisticsFreezer {
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        flag.with_value(false)
    }
}

/// Turns off every training flag of `module` while its parameters stay trainable: batch
/// norms normalise with their running statistics and keep them, as when fine-tuning on
/// few or differently distributed samples (synthetic documents, say) whose batch
/// statistics would otherwise replace the pretrained ones.
pub fn freeze_statistics<M: Module>(module: M) -> M {
    module.map(&mut StatisticsFreezer)
}

struct IdSetter<'a> {
    path: PathStack,
    ids: &'a BTreeMap<String, u64>,
    set: usize,
}

impl IdSetter<'_> {
    fn apply<T: burn::module::ParameterValue>(&mut self, mut param: Param<T>) -> Param<T> {
        if let Some(&id) = self.ids.get(&self.path.joined()) {
            param.id = ParamId::from(id);
            self.set += 1;
        }
        param
    }
}

impl ModuleMapper for IdSetter<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.apply(param)
    }
    fn map_int<const D: usize>(&mut self, param: Param<Tensor<D, Int>>) -> Param<Tensor<D, Int>> {
        self.apply(param)
    }
    fn map_bool<const D: usize>(
        &mut self,
        param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        self.apply(param)
    }
}

/// `path -> id` of every parameter, for saving next to a checkpoint.
pub(crate) fn param_ids<M: Module>(module: &M) -> BTreeMap<String, u64> {
    list_params(module)
        .into_iter()
        .map(|p| (p.path, p.id.val()))
        .collect()
}

/// Gives the parameters at the given paths the given ids; returns how many were set.
///
/// Safetensors files carry no parameter identity, while optimiser state is keyed by it, so
/// a resumed run restores the ids its checkpoint recorded before loading optimiser state.
pub(crate) fn restore_param_ids<M: Module>(module: M, ids: &BTreeMap<String, u64>) -> (M, usize) {
    let mut setter = IdSetter {
        path: PathStack::default(),
        ids,
        set: 0,
    };
    let module = module.map(&mut setter);
    let set = setter.set;
    (module, set)
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::{BatchNorm, BatchNormConfig};
    use burn::tensor::{Device, Tensor, TensorData};

    use super::freeze_where;

    #[derive(Module, Debug)]
    struct TwoNorms {
        frozen: BatchNorm,
        trained: BatchNorm,
    }

    #[test]
    fn a_frozen_batch_norm_keeps_its_running_statistics() {
        let device = Device::flex().autodiff();
        let net = TwoNorms {
            frozen: BatchNormConfig::new(2).init(&device),
            trained: BatchNormConfig::new(2).init(&device),
        };
        let (net, frozen) = freeze_where(net, &|path: &str| path.starts_with("frozen"));
        assert_eq!(frozen, 4, "gamma, beta and the two running statistics");
        let x = Tensor::<4>::from_data(
            TensorData::new(
                (0..16).map(|v| v as f32 * 3.0 + 5.0).collect(),
                [2, 2, 2, 2],
            ),
            &device,
        );
        let _ = net.frozen.forward(x.clone());
        let _ = net.trained.forward(x);
        let mean = |bn: &BatchNorm| -> Vec<f32> {
            bn.running_mean
                .value_sync()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(mean(&net.frozen), [0.0, 0.0], "frozen statistics moved");
        assert!(
            mean(&net.trained).iter().all(|&m| m > 0.5),
            "{:?}",
            mean(&net.trained)
        );
    }
}
