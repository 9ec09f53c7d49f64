use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::Serialize;

use crate::data::{JsonlAppender, atomic_write};
use crate::error::{Error, Result};

/// MLflow's run states, stored as integers in `meta.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// In progress (or killed without a chance to say so).
    Running = 1,
    /// Completed.
    Finished = 3,
    /// Stopped by an error.
    Failed = 4,
    /// Stopped on purpose before completion.
    Killed = 5,
}

impl RunStatus {
    fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => RunStatus::Running,
            3 => RunStatus::Finished,
            4 => RunStatus::Failed,
            5 => RunStatus::Killed,
            _ => return None,
        })
    }
}

/// One run's folder: params, tags, metrics and artifacts.
///
/// ```
/// use whet_core::run::{RunDir, RunStatus};
/// # let tmp = tempfile::tempdir()?;
/// let mut run = RunDir::create(tmp.path().join("mlruns"), "receipts-ocr", "baseline")?;
/// run.log_param("lr", "0.001")?;
/// run.log_metric("loss", 0.25, 10)?;
/// run.finish(RunStatus::Finished)?;
/// let again = RunDir::open(run.path())?;
/// assert_eq!(again.run_name(), "baseline");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    experiment_id: String,
    run_id: String,
    run_name: String,
    start_time: i64,
    jsonl: Option<JsonlAppender>,
}

/// Milliseconds since the Unix epoch, MLflow's timestamps.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Keys become file names: MLflow allows alphanumerics, `_ - . space /`.
fn check_key(kind: &'static str, key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && !key.starts_with('/')
        && !key
            .split('/')
            .any(|part| part == ".." || part == "." || part.is_empty())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::Config {
            field: kind,
            reason: format!("{key:?} is not a valid MLflow key (letters, digits, _ - . space /)"),
        })
    }
}

/// Reads the flat `key: value` YAML MLflow writes (scalars only; `tags: []`).
fn read_meta(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(Error::Format {
                path: path.to_owned(),
                line: i + 1,
                reason: "expected `key: value`".into(),
            });
        };
        let value = value.trim();
        let value = if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
        {
            inner.replace("''", "'")
        } else {
            value.to_owned()
        };
        out.insert(key.trim().to_owned(), value);
    }
    Ok(out)
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

impl RunDir {
    /// Creates a new run in experiment `experiment` (created if missing) under the
    /// MLflow root `mlruns`.
    ///
    /// # Errors
    /// [`Error::File`] for I/O failures, [`Error::Format`] for an unreadable experiment.
    pub fn create(mlruns: impl AsRef<Path>, experiment: &str, run_name: &str) -> Result<Self> {
        let root = absolute(mlruns.as_ref())?;
        let experiment_id = ensure_experiment(&root, experiment)?;
        let run_id = random_hex(16);
        let path = root.join(&experiment_id).join(&run_id);
        for sub in ["params", "tags", "metrics", "artifacts"] {
            fs::create_dir_all(path.join(sub)).map_err(|e| Error::file(&path, e))?;
        }
        let mut run = RunDir {
            path,
            experiment_id,
            run_id,
            run_name: run_name.to_owned(),
            start_time: now_ms(),
            jsonl: None,
        };
        run.write_meta(RunStatus::Running, None)?;
        run.set_tag("mlflow.runName", run_name)?;
        run.set_tag("mlflow.source.type", "LOCAL")?;
        run.set_tag("mlflow.source.name", "whetstone")?;
        if let Ok(user) = std::env::var("USER") {
            run.set_tag("mlflow.user", &user)?;
        }
        tracing::info!(run = %run.path.display(), "created run");
        Ok(run)
    }

    /// The newest run called `run_name` in experiment `experiment` under `mlruns`, by
    /// start time; `None` when there is none.
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::Format`] when the folders cannot be read.
    pub fn find(
        mlruns: impl AsRef<Path>,
        experiment: &str,
        run_name: &str,
    ) -> Result<Option<Self>> {
        let root = absolute(mlruns.as_ref())?;
        if !root.exists() {
            return Ok(None);
        }
        let experiment_id = ensure_experiment(&root, experiment)?;
        let dir = root.join(&experiment_id);
        let mut best: Option<RunDir> = None;
        for entry in fs::read_dir(&dir).map_err(|e| Error::file(&dir, e))? {
            let path = entry.map_err(|e| Error::file(&dir, e))?.path();
            if !path.join("meta.yaml").exists() {
                continue;
            }
            let run = RunDir::open(&path)?;
            if run.run_name == run_name
                && best
                    .as_ref()
                    .is_none_or(|b| (run.start_time, &run.run_id) > (b.start_time, &b.run_id))
            {
                best = Some(run);
            }
        }
        Ok(best)
    }

    /// The run to train into: the newest run called `run_name` if it did not finish (the
    /// process was killed, or training was stopped on request), so that
    /// [`Trainer::fit`](crate::train::Trainer::fit) resumes it from its last checkpoint;
    /// otherwise a new run.
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::Format`].
    pub fn resume_or_create(
        mlruns: impl AsRef<Path>,
        experiment: &str,
        run_name: &str,
    ) -> Result<Self> {
        if let Some(run) = RunDir::find(&mlruns, experiment, run_name)?
            && matches!(run.status()?, RunStatus::Running | RunStatus::Killed)
        {
            tracing::info!(run = %run.path.display(), "resuming an unfinished run");
            return Ok(run);
        }
        RunDir::create(mlruns, experiment, run_name)
    }

    /// Opens an existing run folder (to resume it or read it).
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::Format`] when `meta.yaml` is missing or unreadable.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = absolute(path.as_ref())?;
        let meta_path = path.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        let field = |key: &str| {
            meta.get(key).cloned().ok_or_else(|| Error::Format {
                path: meta_path.clone(),
                line: 0,
                reason: format!("missing `{key}`"),
            })
        };
        Ok(RunDir {
            experiment_id: field("experiment_id")?,
            run_id: field("run_id")?,
            run_name: field("run_name")?,
            start_time: field("start_time")?.parse().unwrap_or_else(|_| now_ms()),
            path,
            jsonl: None,
        })
    }

    /// The run folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// MLflow's run id (32 hex digits).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }
    /// The experiment's id.
    pub fn experiment_id(&self) -> &str {
        &self.experiment_id
    }
    /// The human-readable run name.
    pub fn run_name(&self) -> &str {
        &self.run_name
    }
    /// `artifacts/`: checkpoints, metrics.jsonl, plots, anything else.
    pub fn artifacts(&self) -> PathBuf {
        self.path.join("artifacts")
    }

    /// The status recorded in `meta.yaml`.
    ///
    /// # Errors
    /// [`Error::Format`] when it is missing or unknown.
    pub fn status(&self) -> Result<RunStatus> {
        let meta_path = self.path.join("meta.yaml");
        let meta = read_meta(&meta_path)?;
        meta.get("status")
            .and_then(|s| s.parse().ok())
            .and_then(RunStatus::from_code)
            .ok_or_else(|| Error::Format {
                path: meta_path,
                line: 0,
                reason: "missing or unknown `status`".into(),
            })
    }

    fn write_meta(&self, status: RunStatus, end_time: Option<i64>) -> Result<()> {
        let meta = format!(
            "artifact_uri: {}\nend_time: {}\nentry_point_name: ''\nexperiment_id: {}\n\
             lifecycle_stage: active\nrun_id: {}\nrun_name: {}\nsource_name: ''\n\
             source_type: 4\nsource_version: ''\nstart_time: {}\nstatus: {}\ntags: []\n\
             user_id: {}\n",
            file_uri(&self.artifacts()),
            end_time.map_or("null".to_owned(), |t| t.to_string()),
            yaml_str(&self.experiment_id),
            self.run_id,
            yaml_str(&self.run_name),
            self.start_time,
            status as i64,
            yaml_str(&std::env::var("USER").unwrap_or_else(|_| "whetstone".into())),
        );
        atomic_write(self.path.join("meta.yaml"), meta.as_bytes())
    }

    /// Marks the run as running again (after a resume).
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn reopen(&mut self) -> Result<()> {
        self.write_meta(RunStatus::Running, None)
    }

    /// Records the final status and end time.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn finish(&mut self, status: RunStatus) -> Result<()> {
        if let Some(j) = self.jsonl.as_mut() {
            j.sync()?;
        }
        self.write_meta(status, Some(now_ms()))
    }

    /// Records a parameter (MLflow params are write-once; rewriting the same value is fine).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid key, [`Error::File`].
    pub fn log_param(&mut self, key: &str, value: &str) -> Result<()> {
        check_key("param", key)?;
        let path = self.path.join("params").join(key);
        ensure_parent(&path)?;
        atomic_write(&path, value.as_bytes())
    }

    /// Records every leaf of a JSON value as a parameter, keys joined with `.`
    /// (`optimizer.lr`), arrays by index.
    ///
    /// # Errors
    /// As [`RunDir::log_param`].
    pub fn log_params_json(&mut self, prefix: &str, value: &serde_json::Value) -> Result<()> {
        let mut flat = Vec::new();
        flatten(prefix, value, &mut flat);
        for (k, v) in flat {
            self.log_param(&k, &v)?;
        }
        Ok(())
    }

    /// Sets a tag.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid key, [`Error::File`].
    pub fn set_tag(&mut self, key: &str, value: &str) -> Result<()> {
        check_key("tag", key)?;
        let path = self.path.join("tags").join(key);
        ensure_parent(&path)?;
        atomic_write(&path, value.as_bytes())
    }

    /// Appends one metric value at `step`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid key, [`Error::File`].
    pub fn log_metric(&mut self, key: &str, value: f64, step: u64) -> Result<()> {
        check_key("metric", key)?;
        let path = self.path.join("metrics").join(key);
        ensure_parent(&path)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        // Python's repr of floats, as MLflow writes them: `nan`, `inf`, shortest digits.
        let v = if value.is_nan() {
            "nan".to_owned()
        } else if value.is_infinite() {
            if value > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        } else {
            format!("{value:?}")
        };
        let line = format!("{} {v} {step}\n", now_ms());
        file.write_all(line.as_bytes())
            .map_err(|e| Error::file(&path, e))
    }

    /// Appends a record to `artifacts/metrics.jsonl`.
    ///
    /// # Errors
    /// [`Error::File`] or [`Error::JsonlEncode`].
    pub fn append_jsonl<T: Serialize>(&mut self, record: &T) -> Result<()> {
        if self.jsonl.is_none() {
            self.jsonl = Some(JsonlAppender::open(self.artifacts().join("metrics.jsonl"))?);
        }
        match self.jsonl.as_mut() {
            Some(j) => j.append(record),
            None => Ok(()),
        }
    }

    /// Sizes of the append-only logs (metric files and `metrics.jsonl`), recorded with a
    /// checkpoint so a resumed run can cut off what was logged after it.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn log_sizes(&self) -> Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for path in self.log_files()? {
            let len = fs::metadata(&path)
                .map_err(|e| Error::file(&path, e))?
                .len();
            out.insert(self.rel(&path), len);
        }
        Ok(out)
    }

    /// Truncates the logs to the sizes [`RunDir::log_sizes`] returned (files absent from
    /// `sizes` are emptied), so a resumed run does not log the same steps twice.
    ///
    /// # Errors
    /// [`Error::File`].
    pub fn truncate_logs(&mut self, sizes: &BTreeMap<String, u64>) -> Result<()> {
        self.jsonl = None;
        for path in self.log_files()? {
            let keep = sizes.get(&self.rel(&path)).copied().unwrap_or(0);
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::file(&path, e))?;
            let len = file.metadata().map_err(|e| Error::file(&path, e))?.len();
            if len > keep {
                file.set_len(keep).map_err(|e| Error::file(&path, e))?;
            }
        }
        Ok(())
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.path)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    fn log_files(&self) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        collect(&self.path.join("metrics"), &mut files)?;
        let jsonl = self.artifacts().join("metrics.jsonl");
        if jsonl.exists() {
            files.push(jsonl);
        }
        Ok(files)
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).map_err(|e| Error::file(dir, e))? {
        let path = entry.map_err(|e| Error::file(dir, e))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        serde_json::Value::Null => out.push((prefix.to_owned(), "None".to_owned())),
        serde_json::Value::Number(n) if n.is_f64() => {
            out.push((
                prefix.to_owned(),
                python_float(n.as_f64().unwrap_or(f64::NAN)),
            ));
        }
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// A float as Python's `repr` writes it, which is how MLflow stores params and metrics
/// logged from Python: shortest round-trip digits, fixed notation for
/// `1e-4 <= |x| < 1e16` (always with a fractional part), otherwise `1.5e-05` style.
pub(crate) fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let frac = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{frac}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent).map_err(|e| Error::file(parent, e)),
        None => Ok(()),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::file(path, e))
}

/// Finds the experiment called `name` under `root`, or creates it (and MLflow's
/// `Default` experiment `0` when the root is new). Returns its id.
fn ensure_experiment(root: &Path, name: &str) -> Result<String> {
    fs::create_dir_all(root).map_err(|e| Error::file(root, e))?;
    if !root.join("0").join("meta.yaml").exists() {
        write_experiment(root, "0", "Default")?;
    }
    for entry in fs::read_dir(root).map_err(|e| Error::file(root, e))? {
        let dir = entry.map_err(|e| Error::file(root, e))?.path();
        let meta = dir.join("meta.yaml");
        if !meta.exists() {
            continue;
        }
        let fields = read_meta(&meta)?;
        if fields.get("name").map(String::as_str) == Some(name)
            && fields.get("lifecycle_stage").map(String::as_str) != Some("deleted")
            && let Some(id) = fields.get("experiment_id")
        {
            return Ok(id.clone());
        }
    }
    // MLflow's file store uses random 18-digit ids for new experiments.
    let id = rand::rng()
        .random_range(100_000_000_000_000_000u64..1_000_000_000_000_000_000)
        .to_string();
    write_experiment(root, &id, name)?;
    Ok(id)
}

fn write_experiment(root: &Path, id: &str, name: &str) -> Result<()> {
    let dir = root.join(id);
    fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
    let now = now_ms();
    let meta = format!(
        "artifact_location: {}\ncreation_time: {now}\neffective_trace_archival_retention: null\n\
         experiment_id: {}\nlast_update_time: {now}\nlifecycle_stage: active\nname: {}\n\
         trace_location: null\nworkspace: default\n",
        file_uri(&dir),
        yaml_str(id),
        yaml_str(name),
    );
    atomic_write(dir.join("meta.yaml"), meta.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_repr() {
        // Expected strings are Python 3's repr() of the same values.
        let cases = [
            (0.01, "0.01"),
            (1e-8, "1e-08"),
            (1.5e-5, "1.5e-05"),
            (1e-4, "0.0001"),
            (1e16, "1e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (-2.5, "-2.5"),
            (9999999999999998.0, "9999999999999998.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (0.9983333333333332, "0.9983333333333332"),
            (f64::from(0.1f32), "0.10000000149011612"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float(x), want, "{x:e}");
        }
    }

    #[test]
    fn layout_and_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("mlruns");
        let mut run = RunDir::create(&root, "exp's", "first").unwrap();
        run.log_param("optimizer.lr", "0.001").unwrap();
        run.log_metric("train/loss", 0.5, 1).unwrap();
        run.log_metric("train/loss", f64::NAN, 2).unwrap();
        run.set_tag("note", "hello").unwrap();
        let text = fs::read_to_string(run.path().join("metrics/train/loss")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with(" 0.5 1") && lines[1].ends_with(" nan 2"),
            "{text}"
        );
        // Same experiment name: same experiment.
        let second = RunDir::create(&root, "exp's", "second").unwrap();
        assert_eq!(second.experiment_id(), run.experiment_id());
        assert_ne!(second.run_id(), run.run_id());
        run.finish(RunStatus::Finished).unwrap();
        let back = RunDir::open(run.path()).unwrap();
        assert_eq!(back.run_name(), "first");
        assert_eq!(back.status().unwrap(), RunStatus::Finished);
        assert!(root.join("0/meta.yaml").exists());
        assert!(run.log_param("../escape", "x").is_err());
    }

    #[test]
    fn resume_or_create_picks_up_only_unfinished_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("mlruns");
        let first = RunDir::resume_or_create(&root, "e", "r").unwrap();
        // Still running (the process was killed): resumed.
        let again = RunDir::resume_or_create(&root, "e", "r").unwrap();
        assert_eq!(again.run_id(), first.run_id());
        // Another name or experiment: a new run.
        assert_ne!(
            RunDir::resume_or_create(&root, "e", "other")
                .unwrap()
                .run_id(),
            first.run_id()
        );
        assert_ne!(
            RunDir::resume_or_create(&root, "f", "r").unwrap().run_id(),
            first.run_id()
        );
        // Finished: a new run, which `find` then returns.
        let mut done = again;
        done.finish(RunStatus::Finished).unwrap();
        // Runs are ordered by start time (milliseconds).
        std::thread::sleep(std::time::Duration::from_millis(5));
        let next = RunDir::resume_or_create(&root, "e", "r").unwrap();
        assert_ne!(next.run_id(), first.run_id());
        assert_eq!(
            RunDir::find(&root, "e", "r").unwrap().unwrap().run_id(),
            next.run_id()
        );
    }

    #[test]
    fn truncation_cuts_what_came_after_the_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let mut run = RunDir::create(tmp.path(), "e", "r").unwrap();
        run.log_metric("loss", 1.0, 1).unwrap();
        run.append_jsonl(&serde_json::json!({"step": 1})).unwrap();
        let sizes = run.log_sizes().unwrap();
        run.log_metric("loss", 2.0, 2).unwrap();
        run.log_metric("acc", 0.5, 2).unwrap();
        run.append_jsonl(&serde_json::json!({"step": 2})).unwrap();
        run.truncate_logs(&sizes).unwrap();
        let loss = fs::read_to_string(run.path().join("metrics/loss")).unwrap();
        assert_eq!(loss.lines().count(), 1);
        assert_eq!(
            fs::read_to_string(run.path().join("metrics/acc")).unwrap(),
            ""
        );
        let jsonl = fs::read_to_string(run.artifacts().join("metrics.jsonl")).unwrap();
        assert_eq!(jsonl, "{\"step\":1}\n");
    }
}
