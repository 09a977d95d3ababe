//! The work directory of one run: `task/` (the task root), `opt/` (layers)
//! and `runtime/`; temporary and removed afterwards unless asked to keep it.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A work directory.
#[derive(Debug)]
pub struct Workdir {
    path: PathBuf,
    /// Removes a temporary directory when dropped.
    _temp: Option<tempfile::TempDir>,
}

impl Workdir {
    /// Use `dir` (created if needed; kept), or a new temporary directory that
    /// is removed on drop unless `keep`.
    pub fn new(dir: Option<&Path>, keep: bool) -> Result<Workdir> {
        let (path, temp) = match dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| Error::io(format!("creating {}", d.display()), e))?;
                (d.to_path_buf(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("run-lambda-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a temporary work directory", e))?;
                if keep {
                    let p = t.keep();
                    (p, None)
                } else {
                    (t.path().to_path_buf(), Some(t))
                }
            }
        };
        let path = path
            .canonicalize()
            .map_err(|e| Error::io(format!("resolving {}", path.display()), e))?;
        for sub in ["task", "opt", "runtime", "download"] {
            let p = path.join(sub);
            if p.exists() && dir.is_some() {
                // A reused --workdir must not mix old code with new.
                std::fs::remove_dir_all(&p)
                    .map_err(|e| Error::io(format!("emptying {}", p.display()), e))?;
            }
            std::fs::create_dir_all(&p)
                .map_err(|e| Error::io(format!("creating {}", p.display()), e))?;
        }
        if temp.is_none() {
            tracing::info!(workdir = %path.display(), "work directory kept");
        }
        Ok(Workdir { path, _temp: temp })
    }

    /// Where downloads go before extraction.
    pub fn downloads(&self) -> PathBuf {
        self.path.join("download")
    }

    /// Task root, layers and runtime directory.
    pub fn layout(&self) -> Layout {
        Layout {
            task_root: self.path.join("task"),
            opt: self.path.join("opt"),
            runtime_dir: self.path.join("runtime"),
        }
    }
}

/// Where the function's files are.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `LAMBDA_TASK_ROOT` (Lambda's `/var/task`): the function's code.
    pub task_root: PathBuf,
    /// Lambda's `/opt`: the layers, extracted in order.
    pub opt: PathBuf,
    /// `LAMBDA_RUNTIME_DIR` (Lambda's `/var/runtime`).
    pub runtime_dir: PathBuf,
}
