//! Safe extraction of code and layer zips.
//!
//! An archive is untrusted input: entries must stay inside the root (no `..`,
//! no absolute paths, no writing through a link that leads out), symbolic
//! links must point inside the root, and the archive must not expand past
//! [`Limits`] — counted on the bytes actually written, not on what the
//! headers claim. Several archives may be extracted into one root in order
//! (layers into `/opt`): later files replace earlier ones, as in Lambda.

use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// How far an archive may expand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries in one archive.
    pub max_entries: usize,
    /// Most bytes written for all archives extracted into one root.
    pub max_total_bytes: u64,
    /// Largest uncompressed/compressed ratio of an entry bigger than [`Limits::RATIO_FLOOR`].
    pub max_ratio: u64,
}

impl Limits {
    /// Entries smaller than this are not checked for their ratio (tiny files compress absurdly well).
    pub const RATIO_FLOOR: u64 = 1 << 20;
}

impl Default for Limits {
    /// 100 000 entries, 4 GiB (sixteen times Lambda's 250 MB), ratio 200.
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_total_bytes: 4 << 30,
            max_ratio: 200,
        }
    }
}

/// Extracts archives into one root, keeping the running totals.
#[derive(Debug)]
pub struct Extractor {
    root: PathBuf,
    limits: Limits,
    written: u64,
    links: Vec<PathBuf>,
}

impl Extractor {
    /// Extract into `root` (created if missing).
    pub fn new(root: &Path, limits: Limits) -> Result<Self> {
        fs::create_dir_all(root)
            .map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
        let root = root
            .canonicalize()
            .map_err(|e| Error::io(format!("resolving {}", root.display()), e))?;
        Ok(Extractor {
            root,
            limits,
            written: 0,
            links: Vec::new(),
        })
    }

    /// The (canonical) root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Extract the zip at `zip_path`; `what` names it in errors.
    pub fn extract(&mut self, zip_path: &Path, what: &str) -> Result<()> {
        let unsafe_archive = |reason: String| Error::UnsafeArchive {
            archive: what.to_string(),
            reason,
        };
        let file = fs::File::open(zip_path)
            .map_err(|e| Error::io(format!("opening {}", zip_path.display()), e))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| unsafe_archive(format!("not a readable zip archive: {e}")))?;
        if zip.len() > self.limits.max_entries {
            return Err(unsafe_archive(format!(
                "{} entries, more than the limit of {}",
                zip.len(),
                self.limits.max_entries
            )));
        }
        let mut links = Vec::new();
        for i in 0..zip.len() {
            let mut entry = zip
                .by_index(i)
                .map_err(|e| unsafe_archive(format!("entry {i}: {e}")))?;
            let name = entry.name().to_string();
            let rel = relative_path(&name)
                .map_err(|reason| unsafe_archive(format!("entry {name:?} {reason}")))?;
            if rel.as_os_str().is_empty() {
                continue;
            }
            if entry.is_symlink() {
                let mut target = String::new();
                entry
                    .by_ref()
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|e| unsafe_archive(format!("link {name:?}: {e}")))?;
                links.push((rel, target));
                continue;
            }
            if entry.is_dir() {
                self.make_dirs(&rel, &name, what)?;
                continue;
            }
            let declared = entry.size();
            let compressed = entry.compressed_size().max(1);
            if declared > Limits::RATIO_FLOOR && declared / compressed > self.limits.max_ratio {
                return Err(unsafe_archive(format!(
                    "entry {name:?} expands {declared} bytes from {compressed} (ratio above {}): a zip bomb?",
                    self.limits.max_ratio
                )));
            }
            let remaining = self.limits.max_total_bytes.saturating_sub(self.written);
            if declared > remaining {
                return Err(self.too_big(what));
            }
            let parent = match rel.parent() {
                Some(p) if !p.as_os_str().is_empty() => self.make_dirs(p, &name, what)?,
                _ => self.root.clone(),
            };
            let file_name = rel
                .file_name()
                .ok_or_else(|| unsafe_archive(format!("entry {name:?} has no file name")))?;
            let dest = parent.join(file_name);
            // Never write through an existing link or onto a directory.
            if let Ok(meta) = fs::symlink_metadata(&dest) {
                if meta.is_dir() {
                    return Err(unsafe_archive(format!(
                        "entry {name:?} replaces a directory"
                    )));
                }
                fs::remove_file(&dest)
                    .map_err(|e| Error::io(format!("replacing {}", dest.display()), e))?;
            }
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dest)
                .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
            // One byte more than allowed tells a lying header from an honest one.
            let allowed = declared.min(remaining);
            let copied = std::io::copy(&mut entry.by_ref().take(allowed + 1), &mut out)
                .map_err(|e| unsafe_archive(format!("entry {name:?}: {e}")))?;
            if copied > declared {
                return Err(unsafe_archive(format!(
                    "entry {name:?} is larger than its header says ({declared} bytes)"
                )));
            }
            self.written += copied;
            out.flush()
                .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            set_mode(&dest, entry.unix_mode())?;
        }
        // Links last, so that no entry of this archive is written through one.
        for (rel, target) in links {
            self.link(&rel, &target, what)?;
        }
        self.check_links(what)
    }

    fn too_big(&self, what: &str) -> Error {
        Error::UnsafeArchive {
            archive: what.to_string(),
            reason: format!(
                "expands past the limit of {} bytes (set --max-unzipped-bytes to allow more)",
                self.limits.max_total_bytes
            ),
        }
    }

    /// Create `rel` (a directory) under the root, component by component,
    /// following only links that stay inside the root. Returns its real path.
    fn make_dirs(&self, rel: &Path, name: &str, what: &str) -> Result<PathBuf> {
        let mut dir = self.root.clone();
        for part in rel.components() {
            let next = dir.join(part);
            match fs::symlink_metadata(&next) {
                Err(_) => {
                    fs::create_dir(&next)
                        .map_err(|e| Error::io(format!("creating {}", next.display()), e))?;
                    dir = next;
                }
                Ok(m) if m.is_dir() => dir = next,
                Ok(m) if m.file_type().is_symlink() => {
                    let real = next
                        .canonicalize()
                        .ok()
                        .filter(|r| r.starts_with(&self.root) && r.is_dir());
                    dir = real.ok_or_else(|| Error::UnsafeArchive {
                        archive: what.to_string(),
                        reason: format!(
                            "entry {name:?} goes through a link that leads out of the root"
                        ),
                    })?;
                }
                Ok(_) => {
                    return Err(Error::UnsafeArchive {
                        archive: what.to_string(),
                        reason: format!(
                            "entry {name:?} needs {} to be a directory",
                            next.display()
                        ),
                    })
                }
            }
        }
        Ok(dir)
    }

    fn link(&mut self, rel: &Path, target: &str, what: &str) -> Result<()> {
        let escapes = || Error::UnsafeArchive {
            archive: what.to_string(),
            reason: format!(
                "link {:?} -> {target:?} points outside the extraction root",
                rel.display().to_string()
            ),
        };
        let target_path = Path::new(target);
        if target.is_empty() || target_path.is_absolute() || target.contains('\0') {
            return Err(escapes());
        }
        // Resolve lexically against the link's own directory.
        let mut depth: Vec<Component> = rel
            .parent()
            .map(|p| p.components().collect())
            .unwrap_or_default();
        for c in target_path.components() {
            match c {
                Component::Normal(_) => depth.push(c),
                Component::CurDir => {}
                Component::ParentDir => {
                    if depth.pop().is_none() {
                        return Err(escapes());
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(escapes()),
            }
        }
        let parent = match rel.parent() {
            Some(p) if !p.as_os_str().is_empty() => self.make_dirs(p, target, what)?,
            _ => self.root.clone(),
        };
        let file_name = rel.file_name().ok_or_else(escapes)?;
        let dest = parent.join(file_name);
        if let Ok(meta) = fs::symlink_metadata(&dest) {
            if meta.is_dir() {
                return Err(Error::UnsafeArchive {
                    archive: what.to_string(),
                    reason: format!("link {:?} replaces a directory", rel.display().to_string()),
                });
            }
            fs::remove_file(&dest)
                .map_err(|e| Error::io(format!("replacing {}", dest.display()), e))?;
        }
        std::os::unix::fs::symlink(target_path, &dest)
            .map_err(|e| Error::io(format!("creating link {}", dest.display()), e))?;
        self.links.push(dest);
        Ok(())
    }

    /// Every link made so far that resolves must resolve inside the root
    /// (links through links can escape where each one alone does not).
    fn check_links(&self, what: &str) -> Result<()> {
        for link in &self.links {
            if let Ok(real) = link.canonicalize() {
                if !real.starts_with(&self.root) {
                    let _ = fs::remove_file(link);
                    return Err(Error::UnsafeArchive {
                        archive: what.to_string(),
                        reason: format!(
                            "link {} resolves to {}, outside the extraction root",
                            link.display(),
                            real.display()
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The entry name as a relative path, or why it is refused.
fn relative_path(name: &str) -> std::result::Result<PathBuf, &'static str> {
    if name.contains('\0') {
        return Err("contains a NUL byte");
    }
    let name = name.replace('\\', "/");
    let path = Path::new(&name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("escapes the extraction root (`..`)"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(out)
}

/// Keep the permission bits of the archive (executables must stay executable),
/// always readable by the owner; `0644` when the archive has none (Windows zips).
fn set_mode(path: &Path, mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = mode.map(|m| (m & 0o777) | 0o400).unwrap_or(0o644);
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(format!("setting permissions of {}", path.display()), e))
}

/// Whether the file starts like a zip archive.
pub fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map(|()| &magic == b"PK\x03\x04" || &magic == b"PK\x05\x06")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn make_zip(dir: &Path, build: impl FnOnce(&mut zip::ZipWriter<fs::File>)) -> PathBuf {
        let path = dir.join(format!("{}.zip", uuid::Uuid::new_v4()));
        let mut w = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        build(&mut w);
        w.finish().unwrap();
        path
    }

    fn opts() -> SimpleFileOptions {
        SimpleFileOptions::default().unix_permissions(0o755)
    }

    fn extract(dir: &Path, zip: &Path, limits: Limits) -> Result<PathBuf> {
        let root = dir.join("root");
        let mut x = Extractor::new(&root, limits)?;
        x.extract(zip, "test.zip")?;
        Ok(root)
    }

    #[test]
    fn extracts_files_dirs_modes_and_inner_links() {
        let tmp = tempfile::tempdir().unwrap();
        let z = make_zip(tmp.path(), |w| {
            w.add_directory("lib/", opts()).unwrap();
            w.start_file("bootstrap", opts()).unwrap();
            w.write_all(b"#!/bin/sh\n").unwrap();
            w.start_file(
                "lib/libx.so.1",
                SimpleFileOptions::default().unix_permissions(0o644),
            )
            .unwrap();
            w.write_all(b"elf").unwrap();
            w.add_symlink("lib/libx.so", "libx.so.1", opts()).unwrap();
            w.add_symlink("up/x", "../lib/libx.so.1", opts()).unwrap();
        });
        let root = extract(tmp.path(), &z, Limits::default()).unwrap();
        assert!(crate::install::is_executable(&root.join("bootstrap")));
        assert_eq!(fs::read(root.join("lib/libx.so")).unwrap(), b"elf");
        assert_eq!(fs::read(root.join("up/x")).unwrap(), b"elf");
    }

    #[test]
    fn rejects_path_traversal() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["../evil", "a/../../evil", "/etc/evil", "..\\evil"] {
            let z = make_zip(tmp.path(), |w| {
                w.start_file(name, opts()).unwrap();
                w.write_all(b"x").unwrap();
            });
            let err = extract(tmp.path(), &z, Limits::default()).unwrap_err();
            assert!(matches!(err, Error::UnsafeArchive { .. }), "{name}: {err}");
            assert!(!tmp.path().join("evil").exists());
        }
    }

    #[test]
    fn rejects_links_out_of_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        for target in ["/etc", "../..", "a/../../x"] {
            let z = make_zip(tmp.path(), |w| {
                w.add_symlink("link", target, opts()).unwrap();
            });
            let err = extract(tmp.path(), &z, Limits::default()).unwrap_err();
            assert!(err.to_string().contains("outside"), "{target}: {err}");
        }
        // A chain of links each harmless alone: d/l2 -> .. is the root, l1 -> d/l2/.. is above it.
        let z = make_zip(tmp.path(), |w| {
            w.add_directory("d/", opts()).unwrap();
            w.add_symlink("d/l2", "..", opts()).unwrap();
            w.add_symlink("l1", "d/l2/..", opts()).unwrap();
        });
        let err = extract(tmp.path(), &z, Limits::default()).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }

    #[test]
    fn rejects_writing_through_links_of_an_earlier_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let root = tmp.path().join("root");
        fs::create_dir(&root).unwrap();
        // As if a previous layer had left a link pointing out.
        std::os::unix::fs::symlink(&outside, root.join("lib")).unwrap();
        let z = make_zip(tmp.path(), |w| {
            w.start_file("lib/evil", opts()).unwrap();
            w.write_all(b"x").unwrap();
        });
        let mut x = Extractor::new(&root, Limits::default()).unwrap();
        let err = x.extract(&z, "layer.zip").unwrap_err();
        assert!(err.to_string().contains("leads out"), "{err}");
        assert!(!outside.join("evil").exists());
    }

    #[test]
    fn rejects_zip_bombs_and_oversized_archives() {
        let tmp = tempfile::tempdir().unwrap();
        let deflate =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let bomb = make_zip(tmp.path(), |w| {
            w.start_file("zeros", deflate).unwrap();
            w.write_all(&vec![0u8; 8 << 20]).unwrap();
        });
        let err = extract(tmp.path(), &bomb, Limits::default()).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");

        let big = make_zip(tmp.path(), |w| {
            for i in 0..3 {
                w.start_file(format!("f{i}"), SimpleFileOptions::default())
                    .unwrap();
                w.write_all(&[7u8; 1000]).unwrap();
            }
        });
        let limits = Limits {
            max_total_bytes: 2500,
            ..Limits::default()
        };
        let err = extract(&tmp.path().join("b"), &big, limits).unwrap_err();
        assert!(err.to_string().contains("expands past the limit"), "{err}");
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let err = extract(&tmp.path().join("c"), &big, limits).unwrap_err();
        assert!(err.to_string().contains("entries"), "{err}");
    }

    #[test]
    fn rejects_non_zips() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.zip");
        fs::write(&p, b"not a zip").unwrap();
        assert!(!is_zip(&p));
        let err = extract(tmp.path(), &p, Limits::default()).unwrap_err();
        assert!(err.to_string().contains("not a readable zip"), "{err}");
    }
}
