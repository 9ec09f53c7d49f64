//! The registry folder and its locked, atomic updates.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use rand::Rng;

use super::index::{
    Alias, Event, EventKind, ModelIndex, ModelVersion, NewVersion, PromotionDecision, PromotionRule,
};
use crate::data::{Fingerprint, atomic_write};
use crate::error::{Error, Result};
use crate::run::now_ms;

/// A registry rooted at a folder. Cheap to clone; holds no open files.
#[derive(Debug, Clone)]
pub struct Registry {
    root: PathBuf,
}

/// An exclusive lock on one model's index, released on drop.
struct Locked {
    _file: File,
}

impl Registry {
    /// Opens (creating if needed) the registry at `root`.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| Error::file(&root, e))?;
        Ok(Registry { root })
    }

    /// The registry folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn model_dir(&self, name: &str) -> Result<PathBuf> {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !name.starts_with('.');
        if !ok {
            return Err(self.refuse(format!(
                "model name {name:?} must be letters, digits, '_', '-' or '.', not starting with '.'"
            )));
        }
        Ok(self.root.join(name))
    }

    fn refuse(&self, reason: String) -> Error {
        Error::Registry {
            path: self.root.clone(),
            reason,
        }
    }

    /// The folder holding version `version` of `name`.
    ///
    /// # Errors
    /// [`Error::Registry`] for an invalid name.
    pub fn version_dir(&self, name: &str, version: u32) -> Result<PathBuf> {
        Ok(self
            .model_dir(name)?
            .join("versions")
            .join(version.to_string()))
    }

    fn lock(&self, name: &str) -> Result<Locked> {
        let dir = self.model_dir(name)?;
        fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
        let path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        file.lock().map_err(|e| Error::file(&path, e))?;
        Ok(Locked { _file: file })
    }

    fn read_index(&self, name: &str) -> Result<ModelIndex> {
        let path = self.model_dir(name)?.join("index.json");
        match fs::read(&path) {
            Ok(bytes) => {
                let index: ModelIndex =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Format {
                        path: path.clone(),
                        line: e.line(),
                        reason: e.to_string(),
                    })?;
                if index.format != ModelIndex::FORMAT {
                    return Err(Error::Format {
                        path,
                        line: 0,
                        reason: format!(
                            "index format {} is not the supported {}",
                            index.format,
                            ModelIndex::FORMAT
                        ),
                    });
                }
                Ok(index)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ModelIndex::new(name)),
            Err(e) => Err(Error::file(path, e)),
        }
    }

    fn write_index(&self, index: &ModelIndex) -> Result<()> {
        let path = self.model_dir(&index.name)?.join("index.json");
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| Error::Format {
            path: path.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        atomic_write(path, &bytes)
    }

    /// Runs `change` on the freshly read index under the model's lock, then saves it.
    fn update<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut ModelIndex) -> Result<T>,
    ) -> Result<T> {
        let _lock = self.lock(name)?;
        let mut index = self.read_index(name)?;
        let out = change(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
    }

    /// The model's index (versions, aliases, history); empty for an unknown model.
    ///
    /// # Errors
    /// [`Error::Format`] for a damaged index, [`Error::File`].
    pub fn index(&self, name: &str) -> Result<ModelIndex> {
        self.read_index(name)
    }

    /// Every version of `name`, oldest first.
    ///
    /// # Errors
    /// As [`Registry::index`].
    pub fn versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        Ok(self.read_index(name)?.versions)
    }

    /// The version an alias points at.
    ///
    /// # Errors
    /// As [`Registry::index`].
    pub fn alias(&self, name: &str, alias: &Alias) -> Result<Option<ModelVersion>> {
        Ok(self.read_index(name)?.resolve(alias).cloned())
    }

    /// Registers `files` (a file, or a folder copied recursively) as the next version of
    /// `name`. The copy is made before the lock is taken, then renamed into place.
    ///
    /// # Errors
    /// [`Error::File`] when the files cannot be copied; [`Error::Registry`] for an
    /// invalid name or a parent version that does not exist.
    pub fn register(&self, name: &str, files: &Path, meta: NewVersion) -> Result<ModelVersion> {
        let versions = self.model_dir(name)?.join("versions");
        fs::create_dir_all(&versions).map_err(|e| Error::file(&versions, e))?;
        let staging = versions.join(format!(".staging-{:016x}", rand::rng().random::<u64>()));
        let copied = copy_into(files, &staging);
        let copied = match copied {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let content = Fingerprint::of_dir(&staging)?;
        let result = self.update(name, |index| {
            if let Some(parent) = meta.parent
                && index.get(parent).is_none()
            {
                return Err(self.refuse(format!("{name}: parent version {parent} does not exist")));
            }
            let version = index.next_version();
            let dir = versions.join(version.to_string());
            fs::rename(&staging, &dir).map_err(|e| Error::file(&dir, e))?;
            let entry = ModelVersion {
                version,
                created_ms: now_ms(),
                files: copied.clone(),
                content,
                meta: meta.clone(),
            };
            index.versions.push(entry.clone());
            index.history.push(Event {
                time_ms: entry.created_ms,
                kind: EventKind::Register,
                version,
                alias: None,
                previous: None,
                reason: format!("registered {} file(s), {}", copied.len(), content.short()),
            });
            Ok(entry)
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        let entry = result?;
        tracing::info!(
            model = name,
            version = entry.version,
            "registered model version"
        );
        Ok(entry)
    }

    /// Registers the files `write` puts in the folder it is handed (a model's `save`, say)
    /// as the next version of `name`, as [`Registry::register`] does; the folder is a
    /// hidden one inside the registry, removed afterwards whatever happens.
    ///
    /// ```
    /// # let root = tempfile::tempdir().unwrap();
    /// use whet_core::registry::{NewVersion, Registry};
    /// let registry = Registry::open(root.path())?;
    /// let v = registry.register_written("notes", NewVersion::new(), |dir| {
    ///     whet_core::data::atomic_write(dir.join("model.txt"), b"weights")
    /// })?;
    /// assert_eq!((v.version, v.files.clone()), (1, vec!["model.txt".to_string()]));
    /// # Ok::<(), whet_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// What `write` returns; as [`Registry::register`].
    pub fn register_written<E: From<Error>>(
        &self,
        name: &str,
        meta: NewVersion,
        write: impl FnOnce(&Path) -> std::result::Result<(), E>,
    ) -> std::result::Result<ModelVersion, E> {
        let versions = self.model_dir(name)?.join("versions");
        let dir = versions.join(format!(".written-{:016x}", rand::rng().random::<u64>()));
        fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
        let result = write(&dir).and_then(|()| Ok(self.register(name, &dir, meta)?));
        let _ = fs::remove_dir_all(&dir);
        result
    }

    /// Points `alias` at `version` (recorded in the history).
    ///
    /// # Errors
    /// [`Error::Registry`] when the version does not exist.
    pub fn set_alias(&self, name: &str, alias: Alias, version: u32, reason: &str) -> Result<()> {
        self.update(name, |index| {
            if index.get(version).is_none() {
                return Err(self.refuse(format!("{name}: version {version} does not exist")));
            }
            let previous = index.aliases.insert(alias.clone(), version);
            index.history.push(Event {
                time_ms: now_ms(),
                kind: EventKind::SetAlias,
                version,
                alias: Some(alias),
                previous,
                reason: reason.to_owned(),
            });
            Ok(())
        })
    }

    /// The deploy rule: makes `candidate` the production version when its `rule.metric`
    /// is not worse than production's by more than `rule.tolerance`; the first candidate
    /// (no production yet) is always promoted. The decision and its reason are recorded
    /// either way; a refused candidate keeps the `candidate` alias.
    ///
    /// # Errors
    /// [`Error::Registry`] when the candidate does not exist or lacks the metric, or
    /// production lacks it.
    pub fn promote_if_improved(
        &self,
        name: &str,
        candidate: u32,
        rule: &PromotionRule,
    ) -> Result<PromotionDecision> {
        let decision = self.update(name, |index| {
            let cand = index.get(candidate).ok_or_else(|| {
                self.refuse(format!("{name}: version {candidate} does not exist"))
            })?;
            let value = *cand.meta.metrics.get(&rule.metric).ok_or_else(|| {
                self.refuse(format!(
                    "{name}: version {candidate} has no metric {:?}",
                    rule.metric
                ))
            })?;
            let baseline = match index.resolve(&Alias::Production) {
                None => None,
                Some(prod) => {
                    let b = *prod.meta.metrics.get(&rule.metric).ok_or_else(|| {
                        self.refuse(format!(
                            "{name}: production version {} has no metric {:?}",
                            prod.version, rule.metric
                        ))
                    })?;
                    Some((prod.version, b))
                }
            };
            let (promoted, reason) = match baseline {
                None if value.is_finite() => {
                    (true, format!("first version: {} = {value}", rule.metric))
                }
                None => (false, format!("{} = {value} is not a number", rule.metric)),
                Some((v, b)) => {
                    let ok = rule.accepts(value, b);
                    let cmp = match rule.goal {
                        crate::goal::Goal::Maximize => ">=",
                        crate::goal::Goal::Minimize => "<=",
                    };
                    let sign = match rule.goal {
                        crate::goal::Goal::Maximize => '-',
                        crate::goal::Goal::Minimize => '+',
                    };
                    let verdict = if ok { "holds" } else { "fails" };
                    (
                        ok,
                        format!(
                            "{m} {value} {cmp} {b} (v{v}) {sign} {t} {verdict}",
                            m = rule.metric,
                            t = rule.tolerance
                        ),
                    )
                }
            };
            let previous = index.aliases.get(&Alias::Production).copied();
            if promoted {
                index.aliases.insert(Alias::Production, candidate);
                if index.aliases.get(&Alias::Candidate) == Some(&candidate) {
                    index.aliases.remove(&Alias::Candidate);
                }
            } else {
                index.aliases.insert(Alias::Candidate, candidate);
            }
            index.history.push(Event {
                time_ms: now_ms(),
                kind: if promoted {
                    EventKind::Promote
                } else {
                    EventKind::Reject
                },
                version: candidate,
                alias: Some(Alias::Production),
                previous,
                reason: reason.clone(),
            });
            Ok(PromotionDecision {
                promoted,
                candidate,
                candidate_value: value,
                baseline,
                reason,
            })
        })?;
        tracing::info!(model = name, candidate, promoted = decision.promoted, reason = %decision.reason, "promotion decision");
        Ok(decision)
    }

    /// Points production back at `version` (any registered version); nothing is deleted.
    ///
    /// # Errors
    /// [`Error::Registry`] when the version does not exist.
    pub fn rollback(&self, name: &str, version: u32, reason: &str) -> Result<()> {
        self.update(name, |index| {
            if index.get(version).is_none() {
                return Err(self.refuse(format!("{name}: version {version} does not exist")));
            }
            let previous = index.aliases.insert(Alias::Production, version);
            index.history.push(Event {
                time_ms: now_ms(),
                kind: EventKind::Rollback,
                version,
                alias: Some(Alias::Production),
                previous,
                reason: reason.to_owned(),
            });
            Ok(())
        })?;
        tracing::warn!(model = name, version, reason, "rolled back production");
        Ok(())
    }
}

/// Copies a file or a folder into the new folder `dest`; returns the relative paths.
fn copy_into(src: &Path, dest: &Path) -> Result<Vec<String>> {
    fs::create_dir_all(dest).map_err(|e| Error::file(dest, e))?;
    let meta = fs::metadata(src).map_err(|e| Error::file(src, e))?;
    let mut files = Vec::new();
    if meta.is_file() {
        let name = src
            .file_name()
            .ok_or_else(|| Error::file(src, std::io::Error::other("not a file name")))?;
        fs::copy(src, dest.join(name)).map_err(|e| Error::file(src, e))?;
        files.push(name.to_string_lossy().into_owned());
    } else {
        copy_dir(src, dest, "", &mut files)?;
    }
    for f in &files {
        let p = dest.join(f);
        File::open(&p)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::file(&p, e))?;
    }
    files.sort();
    Ok(files)
}

fn copy_dir(src: &Path, dest: &Path, rel: &str, files: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(src).map_err(|e| Error::file(src, e))? {
        let entry = entry.map_err(|e| Error::file(src, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let from = entry.path();
        let to = dest.join(&name);
        let rel_name = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if fs::metadata(&from)
            .map_err(|e| Error::file(&from, e))?
            .is_dir()
        {
            fs::create_dir_all(&to).map_err(|e| Error::file(&to, e))?;
            copy_dir(&from, &to, &rel_name, files)?;
        } else {
            fs::copy(&from, &to).map_err(|e| Error::file(&from, e))?;
            files.push(rel_name);
        }
    }
    Ok(())
}
