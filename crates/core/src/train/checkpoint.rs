//! Checkpoints: everything needed to continue a run exactly where it stopped.
//!
//! ```text
//! checkpoints/
//!   latest                 name of the newest complete checkpoint (replaced atomically)
//!   best                   name of the best checkpoint by the monitored metric
//!   step-00000500/
//!     model.safetensors    weights (burn-store; loadable by any safetensors reader):
//!                          every parameter, or only what training changes
//!     weights.json         which: {"content": "all" | "trainable", "paths": [...]}
//!     optimizer.bpk        optimiser state (burn's burnpack record)
//!     param_ids.json       parameter path -> burn id (optimiser state is keyed by id)
//!     state.json           step, data position, counters, best metric, log sizes
//!     config.json          the TrainConfig and the caller's own config
//! ```
//!
//! A checkpoint is written into a hidden `.step-XXXXXXXX.partial` folder, flushed, then
//! renamed into place, and only then does `latest` move: a failure at any point (disk
//! full, I/O error, the process killed) leaves the previous checkpoint intact and
//! `latest` pointing at it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::config::CheckpointWeights;
use super::params::{changing_params, param_ids, restore_param_ids};
use crate::data::atomic_write;
use crate::error::{Error, Result};

/// Where the data loader stands: the next batch to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataCursor {
    /// 0-based epoch.
    pub epoch: usize,
    /// Index of the next batch within the epoch's shuffled order.
    pub batch: usize,
}

/// The best validation result so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestMetric {
    /// The monitored metric's value.
    pub value: f64,
    /// The optimiser step it was measured after.
    pub step: usize,
    /// Name of the checkpoint holding those weights.
    pub checkpoint: String,
}

/// The training loop's own state, saved as `state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainState {
    /// Optimiser steps applied.
    pub step: usize,
    /// Next batch to read.
    pub cursor: DataCursor,
    /// Samples consumed (skipped batches included).
    pub samples_seen: u64,
    /// Batches skipped under the skip policy, in total.
    pub skipped_batches: usize,
    /// The best monitored validation result.
    pub best: Option<BestMetric>,
    /// Validations since the monitored metric last improved.
    pub stale_validations: usize,
    /// Sizes of the run's metric logs when the checkpoint was taken.
    pub log_sizes: BTreeMap<String, u64>,
}

/// What a checkpoint's weights file holds (`weights.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WeightsManifest {
    content: CheckpointWeights,
    /// The parameter paths saved, for `trainable`.
    #[serde(default)]
    paths: Vec<String>,
}

/// The name of the checkpoint taken after `step` optimiser steps.
pub fn checkpoint_name(step: usize) -> String {
    format!("step-{step:08}")
}

/// A checkpoint folder on disk.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
}

impl Checkpoint {
    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The weights file.
    pub fn model_path(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }

    /// Reads `state.json`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when it is missing or malformed.
    pub fn state(&self) -> Result<TrainState> {
        read_json(&self.dir.join("state.json"))
    }

    /// Reads `config.json` (`{"train": ..., "user": ...}`).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when it is missing or malformed.
    pub fn config(&self) -> Result<serde_json::Value> {
        read_json(&self.dir.join("config.json"))
    }

    /// Loads the weights into `model` (which must have the same structure) and restores
    /// the parameter ids recorded with them.
    ///
    /// A checkpoint of [`CheckpointWeights::Trainable`] holds only what training changed:
    /// `model` must then be the base the run started from (the pretrained weights with
    /// the same adapters added), and every other parameter keeps its value.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the file is unreadable or does not fit the model.
    pub fn load_model<M: Module>(&self, model: M) -> Result<M> {
        let path = self.model_path();
        let fail = |reason: String| Error::Checkpoint {
            path: path.clone(),
            reason,
        };
        let manifest = self.weights_manifest()?;
        let partial = manifest.content == CheckpointWeights::Trainable;
        let mut model = model;
        let mut store = SafetensorsStore::from_file(&path).allow_partial(partial);
        let applied = model
            .load_from(&mut store)
            .map_err(|e| fail(format!("cannot load weights: {e}")))?;
        let missing: Vec<&String> = applied
            .missing
            .iter()
            .map(|(path, _)| path)
            .filter(|m| !partial || manifest.paths.contains(m))
            .collect();
        if !applied.errors.is_empty() || !missing.is_empty() || !applied.unused.is_empty() {
            return Err(fail(format!(
                "weights do not fit the model: {} errors {:?}, missing {:?}, unused {:?}",
                applied.errors.len(),
                applied
                    .errors
                    .iter()
                    .take(3)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>(),
                missing.iter().take(5).collect::<Vec<_>>(),
                applied.unused.iter().take(5).collect::<Vec<_>>(),
            )));
        }
        let ids: BTreeMap<String, u64> = read_json(&self.dir.join("param_ids.json"))?;
        let (model, _) = restore_param_ids(model, &ids);
        Ok(model)
    }

    /// Whether the weights file holds every parameter or only the trainable ones.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `weights.json` is malformed.
    pub fn weights(&self) -> Result<CheckpointWeights> {
        Ok(self.weights_manifest()?.content)
    }

    fn weights_manifest(&self) -> Result<WeightsManifest> {
        let path = self.dir.join("weights.json");
        if !path.exists() {
            // Checkpoints written before `weights.json` existed hold every parameter.
            return Ok(WeightsManifest {
                content: CheckpointWeights::All,
                paths: Vec::new(),
            });
        }
        read_json(&path)
    }

    /// Loads the optimiser state into `optim`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the record is unreadable.
    pub fn load_optimizer(&self, optim: ModuleOptimizer) -> Result<ModuleOptimizer> {
        let path = self.dir.join("optimizer.bpk");
        let bytes = fs::read(&path).map_err(|e| Error::file(&path, e))?;
        optim
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| Error::Checkpoint {
                path,
                reason: format!("cannot read optimiser state: {e}"),
            })
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(|e| Error::file(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Checkpoint {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    atomic_write(path, &bytes)
}

/// The `checkpoints/` folder of a run.
#[derive(Debug, Clone)]
pub struct CheckpointDir {
    root: PathBuf,
    weights: CheckpointWeights,
}

impl CheckpointDir {
    /// Uses (and creates) `root`.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| Error::file(&root, e))?;
        Ok(CheckpointDir {
            root,
            weights: CheckpointWeights::All,
        })
    }

    /// Sets what the checkpoints written from now on hold.
    #[must_use]
    pub fn with_weights(mut self, weights: CheckpointWeights) -> Self {
        self.weights = weights;
        self
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn pointer(&self, name: &str) -> Result<Option<Checkpoint>> {
        let path = self.root.join(name);
        match fs::read_to_string(&path) {
            Ok(target) => {
                let target = target.trim();
                let dir = self.root.join(target);
                if target.is_empty() || target.contains('/') || !dir.is_dir() {
                    return Err(Error::Checkpoint {
                        path,
                        reason: format!("points at {target:?}, which is not a checkpoint"),
                    });
                }
                Ok(Some(Checkpoint { dir }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::file(path, e)),
        }
    }

    /// The newest complete checkpoint, if any.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `latest` points nowhere.
    pub fn latest(&self) -> Result<Option<Checkpoint>> {
        self.pointer("latest")
    }

    /// The best checkpoint by the monitored metric, if any.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `best` points nowhere.
    pub fn best(&self) -> Result<Option<Checkpoint>> {
        self.pointer("best")
    }

    /// Writes a checkpoint after `state.step` steps and makes it `latest`.
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::Checkpoint`]; the previous checkpoint stays intact.
    pub fn save<M: Module>(
        &self,
        model: &M,
        optim: &ModuleOptimizer,
        state: &TrainState,
        config: &serde_json::Value,
    ) -> Result<Checkpoint> {
        let name = checkpoint_name(state.step);
        let partial = self.root.join(format!(".{name}.partial"));
        let fin = self.root.join(&name);
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(|e| Error::file(&partial, e))?;
        }
        fs::create_dir(&partial).map_err(|e| Error::file(&partial, e))?;
        let result = (|| {
            let manifest = match self.weights {
                CheckpointWeights::All => WeightsManifest {
                    content: CheckpointWeights::All,
                    paths: Vec::new(),
                },
                CheckpointWeights::Trainable => WeightsManifest {
                    content: CheckpointWeights::Trainable,
                    paths: changing_params(model),
                },
            };
            let mut store = SafetensorsStore::from_file(partial.join("model.safetensors"))
                .metadata("format", "pt")
                .metadata("whetstone.step", state.step.to_string());
            if manifest.content == CheckpointWeights::Trainable {
                store = store.with_full_paths(manifest.paths.iter().cloned());
            }
            model.save_into(&mut store).map_err(|e| Error::Checkpoint {
                path: partial.join("model.safetensors"),
                reason: e.to_string(),
            })?;
            let optim_bytes = optim.into_bytes().map_err(|e| Error::Checkpoint {
                path: partial.join("optimizer.bpk"),
                reason: e.to_string(),
            })?;
            atomic_write(partial.join("optimizer.bpk"), &optim_bytes)?;
            write_json(&partial.join("param_ids.json"), &param_ids(model))?;
            write_json(&partial.join("weights.json"), &manifest)?;
            write_json(&partial.join("state.json"), state)?;
            write_json(&partial.join("config.json"), config)?;
            // The safetensors file was written by burn-store: flush it too.
            let weights = partial.join("model.safetensors");
            fs::File::open(&weights)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::file(&weights, e))?;
            if fin.exists() {
                fs::remove_dir_all(&fin).map_err(|e| Error::file(&fin, e))?;
            }
            fs::rename(&partial, &fin).map_err(|e| Error::file(&fin, e))?;
            fs::File::open(&self.root)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::file(&self.root, e))?;
            atomic_write(self.root.join("latest"), name.as_bytes())
        })();
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&partial);
            tracing::error!(checkpoint = %name, error = %e, "checkpoint failed; the previous one is intact");
            return Err(e);
        }
        tracing::debug!(checkpoint = %name, "checkpoint written");
        Ok(Checkpoint { dir: fin })
    }

    /// Marks `checkpoint` as the best one.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn set_best(&self, checkpoint: &Checkpoint) -> Result<()> {
        let name = checkpoint
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        atomic_write(self.root.join("best"), name.as_bytes())
    }

    /// Deletes periodic checkpoints beyond the newest `keep`, never `latest` or `best`.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn prune(&self, keep: usize) -> Result<()> {
        let protect: Vec<PathBuf> = [self.latest()?, self.best()?]
            .into_iter()
            .flatten()
            .map(|c| c.dir)
            .collect();
        let mut all: Vec<PathBuf> = fs::read_dir(&self.root)
            .map_err(|e| Error::file(&self.root, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("step-"))
            })
            .collect();
        all.sort();
        let excess = all.len().saturating_sub(keep);
        for dir in all.into_iter().take(excess) {
            if !protect.contains(&dir) {
                fs::remove_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
            }
        }
        Ok(())
    }
}
