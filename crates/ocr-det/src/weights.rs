//! Fine-tuned weights on disk: burn modules as safetensors (PyTorch layout metadata),
//! written atomically.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use crate::error::{Error, Result};

/// Writes `module`'s parameters to `path` (through a temporary file and a rename).
///
/// # Errors
/// [`Error::Weights`] when burn-store cannot write, [`Error::Core`] when the file cannot
/// be moved into place.
pub(crate) fn save<M: Module + Clone>(module: &M, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| whet_core::Error::file(dir, e))?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "weights".into(), |n| n.to_string_lossy());
    let partial = path.with_file_name(format!(".{name}.partial"));
    let mut store = SafetensorsStore::from_file(&partial)
        .metadata("format", "pt")
        .skip_enum_variants(true);
    module
        .clone()
        .save_into(&mut store)
        .map_err(|e| Error::weights(&partial, e.to_string()))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| whet_core::Error::file(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| whet_core::Error::file(path, e))?;
    Ok(())
}

/// Loads parameters saved by [`save`] into `module` (same structure).
///
/// # Errors
/// [`Error::Core`] for a missing file, [`Error::Weights`] when the file does not fit.
pub(crate) fn load<M: Module>(mut module: M, path: &Path) -> Result<M> {
    if !path.exists() {
        return Err(whet_core::Error::file(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such weights file"),
        )
        .into());
    }
    let mut store = SafetensorsStore::from_file(path).skip_enum_variants(true);
    let applied = module
        .load_from(&mut store)
        .map_err(|e| Error::weights(path, e.to_string()))?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() {
        return Err(Error::weights(
            path,
            format!(
                "weights do not fit the model: {} errors, missing {:?}",
                applied.errors.len(),
                applied.missing.iter().take(3).collect::<Vec<_>>()
            ),
        ));
    }
    Ok(module)
}
