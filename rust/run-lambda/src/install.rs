//! The one preparation step of `run` and `exec`: putting a function's code
//! (in the task root) and layers (in `/opt`, in order) into its work directory.
//! A zip, local or remote, is checked and extracted; a local directory is
//! linked in; a local executable that is not a zip becomes `bootstrap`.

use std::path::{Path, PathBuf};

use stratus_aws::Location;

use crate::code::{download, Shown};
use crate::extract::{is_zip, Extractor, Limits};
use crate::workdir::Workdir;
use crate::{Error, Result};

/// What to check a downloaded archive against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// Base64 SHA-256 from Lambda (`None`: not checked).
    pub sha256: Option<&'a str>,
    /// Advice appended to a mismatch error.
    pub hint: &'static str,
}

impl Expected<'_> {
    /// Nothing to check (local code for `exec`).
    pub const NOTHING: Expected<'static> = Expected {
        sha256: None,
        hint: "",
    };
}

/// Installs code and layers into one work directory; the layers share one
/// running total of the archive limits, as they share `/opt`.
pub(crate) struct Installer<'a> {
    fetch: Fetch<'a>,
    task: Extractor,
    opt: Extractor,
}

/// Where archives are downloaded to, and with which S3 client.
struct Fetch<'a> {
    downloads: PathBuf,
    s3: Option<&'a aws_sdk_s3::Client>,
}

impl<'a> Installer<'a> {
    /// An installer into `workdir`; `s3` reads `s3://` sources.
    pub fn new(
        workdir: &Workdir,
        limits: Limits,
        s3: Option<&'a aws_sdk_s3::Client>,
    ) -> Result<Self> {
        let layout = workdir.layout();
        Ok(Installer {
            fetch: Fetch {
                downloads: workdir.downloads(),
                s3,
            },
            task: Extractor::new(&layout.task_root, limits)?,
            opt: Extractor::new(&layout.opt, limits)?,
        })
    }

    /// Put the function's code into the task root.
    pub async fn code(&mut self, source: &Location, expected: Expected<'_>) -> Result<()> {
        self.fetch
            .put(source, &mut self.task, expected, "code")
            .await
    }

    /// Put a layer into `/opt`, over the layers before it; `name` names it in messages.
    pub async fn layer(
        &mut self,
        name: &str,
        source: &Location,
        expected: Expected<'_>,
    ) -> Result<()> {
        self.fetch.put(source, &mut self.opt, expected, name).await
    }
}

impl Fetch<'_> {
    /// Put `source` in place under `into`'s root; `what` names it in messages.
    async fn put(
        &self,
        source: &Location,
        into: &mut Extractor,
        expected: Expected<'_>,
        what: &str,
    ) -> Result<()> {
        if let Location::Local(path) = source {
            let meta = std::fs::metadata(path)
                .map_err(|e| Error::CodeDownload(format!("{what} {}: {e}", path.display())))?;
            if meta.is_dir() {
                return link_dir(path, into.root());
            }
            if !is_zip(path) {
                if is_executable(path) {
                    let abs = path
                        .canonicalize()
                        .map_err(|e| Error::io(format!("resolving {}", path.display()), e))?;
                    let dest = into.root().join("bootstrap");
                    let _ = std::fs::remove_file(&dest);
                    return std::os::unix::fs::symlink(&abs, &dest)
                        .map_err(|e| Error::io(format!("linking {}", dest.display()), e));
                }
                return Err(Error::UnsafeArchive {
                    archive: path.display().to_string(),
                    reason: "neither a zip archive, a directory nor an executable".into(),
                });
            }
        }
        let archive = self
            .downloads
            .join(format!("{}.zip", uuid::Uuid::new_v4().simple()));
        let started = std::time::Instant::now();
        let actual = download(source, &archive, self.s3).await?;
        tracing::info!(
            source = %Shown(source),
            sha256 = %actual,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "{what} downloaded"
        );
        if let Some(expected_sha) = expected.sha256.filter(|s| !s.is_empty()) {
            if expected_sha != actual {
                let _ = std::fs::remove_file(&archive);
                return Err(Error::ChecksumMismatch {
                    what: format!("{what} at {}", Shown(source)),
                    expected: expected_sha.to_string(),
                    actual,
                    hint: expected.hint,
                });
            }
        }
        let result = into.extract(&archive, &format!("{what} ({})", Shown(source)));
        let _ = std::fs::remove_file(&archive);
        result
    }
}

/// Whether `path` is an executable regular file.
pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Link every top-level entry of `dir` into `root` (a local directory is used
/// in place, not copied).
fn link_dir(dir: &Path, root: &Path) -> Result<()> {
    let abs = dir
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
    let entries =
        std::fs::read_dir(&abs).map_err(|e| Error::io(format!("reading {}", abs.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", abs.display()), e))?;
        let dest = root.join(entry.file_name());
        if std::fs::symlink_metadata(&dest).is_ok() {
            // Merge directories of several layers the simple way: later wins.
            if dest.is_dir() && !dest.is_symlink() {
                std::fs::remove_dir_all(&dest)
                    .map_err(|e| Error::io(format!("replacing {}", dest.display()), e))?;
            } else {
                std::fs::remove_file(&dest)
                    .map_err(|e| Error::io(format!("replacing {}", dest.display()), e))?;
            }
        }
        std::os::unix::fs::symlink(entry.path(), &dest)
            .map_err(|e| Error::io(format!("linking {}", dest.display()), e))?;
    }
    Ok(())
}
