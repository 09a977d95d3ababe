//! GDAL virtual file systems of ours, installed through GDAL's plugin API:
//!
//! - `/vsistratus/<id>` serves one registered uploaded object from its
//!   [`ObjectCache`] and nothing else: the object's key never reaches GDAL,
//!   so GDAL cannot rewrite it (`a/../b.tif`) into another object's name;
//! - a refusing file system put over GDAL's other prefixes (`/vsicurl/`,
//!   `/vsis3/`, `/vsizip/`, …) by [`install_guards`];
//! - a read-only local file system limited to GDAL's data files, in place of
//!   GDAL's default one, also by [`install_guards`].
//!
//! Every path refused is recorded for the thread that asked ([`take_refused`]),
//! so a read can tell "the file points elsewhere" from "the file is broken".

#![allow(unsafe_code)] // GDAL's plugin API is C callbacks

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};

use gdal_sys::{vsi_l_offset, VSIStatBufL};

use crate::object_cache::ObjectCache;

/// Where registered objects appear to GDAL.
pub(crate) const OBJECT_PREFIX: &str = "/vsistratus/";

/// Paths kept per thread and characters kept per path.
const MAX_REFUSED: usize = 16;
const MAX_PATH_CHARS: usize = 200;

thread_local! {
    static REFUSED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Paths refused on this thread since the last call (at most 16, each cut to 200 characters).
pub(crate) fn take_refused() -> Vec<String> {
    REFUSED.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

fn refuse(path: String) {
    REFUSED.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() < MAX_REFUSED {
            r.push(path.chars().take(MAX_PATH_CHARS).collect());
        }
    });
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// # Safety
/// `p` is null or a NUL-terminated string that lives for the call.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// # Safety
/// `p` is null or a NUL-terminated string.
unsafe fn read_only(access: *const c_char) -> bool {
    let a = text(access);
    !a.contains(['w', 'a', '+'])
}

// --------------------------------------------------------------- registry

/// A registered object: its cache and the name GDAL knows it by after the prefix.
struct Entry {
    cache: Arc<Mutex<ObjectCache>>,
    file_name: String,
}

static REGISTRY: OnceLock<Mutex<HashMap<u64, Entry>>> = OnceLock::new();

fn registry() -> MutexGuard<'static, HashMap<u64, Entry>> {
    lock(REGISTRY.get_or_init(Default::default))
}

/// An object GDAL can open as [`Registered::path`] until this is dropped.
pub(crate) struct Registered {
    id: u64,
    file_name: String,
    cache: Arc<Mutex<ObjectCache>>,
}

/// Characters an extension of the key may have to be passed on to GDAL.
const MAX_EXTENSION_CHARS: usize = 5;

/// The extension GDAL sees: the key's, when it is short and alphanumeric
/// (lower-cased), else none. Some drivers take it as a hint, as they would
/// for a local file of that name: the netCDF driver reads a netCDF-4 file
/// (HDF5 inside) only when it ends in `.nc`.
fn extension_of(key: &str) -> Option<String> {
    let file = key.rsplit('/').next().unwrap_or_default();
    let (_, ext) = file.rsplit_once('.')?;
    (!ext.is_empty()
        && ext.len() <= MAX_EXTENSION_CHARS
        && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then(|| ext.to_ascii_lowercase())
}

impl Registered {
    /// Register `cache` as the object named `key` (its extension is kept).
    pub(crate) fn new(cache: ObjectCache, key: &str) -> Registered {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        install_object_handler();
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let file_name = match extension_of(key) {
            Some(ext) => format!("{id}.{ext}"),
            None => id.to_string(),
        };
        let cache = Arc::new(Mutex::new(cache));
        registry().insert(
            id,
            Entry {
                cache: cache.clone(),
                file_name: file_name.clone(),
            },
        );
        Registered {
            id,
            file_name,
            cache,
        }
    }

    /// The path to give GDAL.
    pub(crate) fn path(&self) -> String {
        format!("{OBJECT_PREFIX}{}", self.file_name)
    }

    /// The object's cache (for reads of ours and its failure state).
    pub(crate) fn cache(&self) -> MutexGuard<'_, ObjectCache> {
        lock(&self.cache)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        registry().remove(&self.id);
    }
}

/// What a name under the prefix is: a registered object, a sibling GDAL
/// probes for by habit (`17.ovr`, `17.aux.xml`: absent, not worth a note),
/// or anything else (a name a file pointed at: refused and recorded).
enum Name {
    Object(Arc<Mutex<ObjectCache>>),
    Sibling,
    Other,
}

fn lookup(name: &str) -> Name {
    // GDAL versions differ: some hand plugins the whole path, some what follows the prefix.
    let name = name.strip_prefix(OBJECT_PREFIX).unwrap_or(name);
    let digits: &str = name.split('.').next().unwrap_or_default();
    let Ok(id) = digits.parse::<u64>() else {
        return Name::Other;
    };
    match registry().get(&id) {
        Some(entry) if entry.file_name == name => Name::Object(entry.cache.clone()),
        Some(_) => Name::Sibling,
        None => Name::Other,
    }
}

fn full_name(name: &str) -> String {
    if name.starts_with(OBJECT_PREFIX) {
        name.to_string()
    } else {
        format!("{OBJECT_PREFIX}{name}")
    }
}

unsafe extern "C" fn object_open(
    _user: *mut c_void,
    name: *const c_char,
    access: *const c_char,
) -> *mut c_void {
    let name = text(name);
    match lookup(&name) {
        Name::Object(cache) if read_only(access) => Handle::open(cache),
        Name::Sibling => std::ptr::null_mut(),
        _ => refused(full_name(&name)),
    }
}

/// An open refused: recorded, and no handle.
fn refused(name: String) -> *mut c_void {
    refuse(name);
    std::ptr::null_mut()
}

unsafe extern "C" fn object_stat(
    _user: *mut c_void,
    name: *const c_char,
    buf: *mut VSIStatBufL,
    _flags: c_int,
) -> c_int {
    let name = text(name);
    match lookup(&name) {
        Name::Object(cache) => {
            let size = lock(&cache).size();
            fill_stat(buf, libc::S_IFREG | 0o444, size, 0);
            0
        }
        Name::Sibling => -1,
        Name::Other => {
            if !name.is_empty() {
                refuse(full_name(&name));
            }
            -1
        }
    }
}

/// "No other files": GDAL then probes for no sidecars (`.aux.xml`, `.ovr`, `.msk`, …).
unsafe extern "C" fn no_siblings(_user: *mut c_void, _dir: *const c_char) -> *mut *mut c_char {
    gdal_sys::CPLCalloc(1, std::mem::size_of::<*mut c_char>()) as *mut *mut c_char
}

unsafe extern "C" fn no_listing(
    _user: *mut c_void,
    _dir: *const c_char,
    _max: c_int,
) -> *mut *mut c_char {
    std::ptr::null_mut()
}

/// What a handle reads from: an object's cache, or a local file.
trait Source: Send + 'static {
    fn size(&self) -> u64;
    /// Bytes at `offset` into `out`; fewer at the end or after a failure.
    fn read_at(&self, offset: u64, out: &mut [u8]) -> usize;
}

impl Source for Arc<Mutex<ObjectCache>> {
    fn size(&self) -> u64 {
        lock(self).size()
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> usize {
        lock(self).read_at(offset, out)
    }
}

impl Source for File {
    fn size(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> usize {
        use std::os::unix::fs::FileExt;
        let mut n = 0;
        while n < out.len() {
            match FileExt::read_at(self, &mut out[n..], offset + n as u64) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        n
    }
}

/// An open file as GDAL's plugin callbacks see it.
struct Handle<S> {
    source: S,
    pos: u64,
    eof: bool,
}

impl<S: Source> Handle<S> {
    fn open(source: S) -> *mut c_void {
        Box::into_raw(Box::new(Handle {
            source,
            pos: 0,
            eof: false,
        })) as *mut c_void
    }

    /// # Safety
    /// `file` came from [`Handle::open`] with this `S` and is not closed.
    unsafe fn from<'a>(file: *mut c_void) -> &'a mut Handle<S> {
        &mut *(file as *mut Handle<S>)
    }

    /// Set the callbacks of an open file.
    fn callbacks(cb: &mut gdal_sys::VSIFilesystemPluginCallbacksStruct) {
        cb.tell = Some(tell::<S>);
        cb.seek = Some(seek::<S>);
        cb.read = Some(read::<S>);
        cb.eof = Some(eof::<S>);
        cb.close = Some(close::<S>);
    }
}

unsafe extern "C" fn tell<S: Source>(file: *mut c_void) -> vsi_l_offset {
    Handle::<S>::from(file).pos
}

unsafe extern "C" fn seek<S: Source>(
    file: *mut c_void,
    offset: vsi_l_offset,
    whence: c_int,
) -> c_int {
    let f = Handle::<S>::from(file);
    f.pos = match whence {
        libc::SEEK_SET => offset,
        libc::SEEK_CUR => f.pos.saturating_add(offset),
        libc::SEEK_END => f.source.size().saturating_add(offset),
        _ => return -1,
    };
    f.eof = false;
    0
}

unsafe extern "C" fn read<S: Source>(
    file: *mut c_void,
    buf: *mut c_void,
    size: usize,
    count: usize,
) -> usize {
    let f = Handle::<S>::from(file);
    let Some(total) = size.checked_mul(count).filter(|&t| t > 0) else {
        return 0;
    };
    let out = std::slice::from_raw_parts_mut(buf as *mut u8, total);
    let n = f.source.read_at(f.pos, out);
    f.pos += n as u64;
    if n < total {
        f.eof = true;
    }
    n / size
}

unsafe extern "C" fn eof<S: Source>(file: *mut c_void) -> c_int {
    c_int::from(Handle::<S>::from(file).eof)
}

unsafe extern "C" fn close<S: Source>(file: *mut c_void) -> c_int {
    drop(Box::from_raw(file as *mut Handle<S>));
    0
}

/// # Safety
/// `buf` points at a `VSIStatBufL` (glibc's `struct stat64` on Linux, as GDAL is built).
unsafe fn fill_stat(buf: *mut VSIStatBufL, mode: libc::mode_t, size: u64, mtime: i64) {
    #[cfg(target_os = "linux")]
    let st = &mut *(buf as *mut libc::stat64);
    #[cfg(not(target_os = "linux"))]
    let st = &mut *(buf as *mut libc::stat);
    st.st_mode = mode as _;
    st.st_size = size as _;
    st.st_mtime = mtime as _;
}

fn install_object_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        install(OBJECT_PREFIX, |cb, _| {
            cb.open = Some(object_open);
            cb.stat = Some(object_stat);
            cb.sibling_files = Some(no_siblings);
            cb.read_dir = Some(no_listing);
            Handle::<Arc<Mutex<ObjectCache>>>::callbacks(cb);
        });
    });
}

/// Install a plugin file system under `prefix`; `set` fills its callbacks and
/// gets the prefix as a C string that lives as long as the process (GDAL keeps
/// the pointer, not a copy).
fn install(
    prefix: &str,
    set: impl FnOnce(&mut gdal_sys::VSIFilesystemPluginCallbacksStruct, *mut c_void),
) {
    let Ok(prefix) = CString::new(prefix) else {
        return;
    };
    let prefix = prefix.into_raw();
    // SAFETY: GDAL allocates a zeroed struct, copies it when installing, and we free ours.
    unsafe {
        let cb = gdal_sys::VSIAllocFilesystemPluginCallbacksStruct();
        if cb.is_null() {
            return;
        }
        set(&mut *cb, prefix as *mut c_void);
        gdal_sys::VSIInstallPluginHandler(prefix, cb);
        gdal_sys::VSIFreeFilesystemPluginCallbacksStruct(cb);
    }
}

// ------------------------------------------------------- refusing handlers

/// # Safety
/// `user` is the prefix given at installation.
unsafe fn denied(user: *mut c_void, name: *const c_char) {
    let (prefix, name) = (text(user as *const c_char), text(name));
    if name.starts_with(&prefix) {
        refuse(name);
    } else {
        refuse(format!("{prefix}{name}"));
    }
}

unsafe extern "C" fn deny_open(
    user: *mut c_void,
    name: *const c_char,
    _access: *const c_char,
) -> *mut c_void {
    denied(user, name);
    std::ptr::null_mut()
}

unsafe extern "C" fn deny_stat(
    user: *mut c_void,
    name: *const c_char,
    _buf: *mut VSIStatBufL,
    _flags: c_int,
) -> c_int {
    denied(user, name);
    -1
}

unsafe extern "C" fn deny_mkdir(user: *mut c_void, name: *const c_char, _mode: c_long) -> c_int {
    denied(user, name);
    -1
}

unsafe extern "C" fn deny_unlink(user: *mut c_void, name: *const c_char) -> c_int {
    denied(user, name);
    -1
}

// ------------------------------------------------------ read-only local files

static LOCAL_DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// The local directories the guards let GDAL read (canonical paths).
pub(crate) fn allowed_dirs() -> &'static [PathBuf] {
    LOCAL_DIRS.get().map_or(&[], Vec::as_slice)
}

/// The canonical path of `name` when it is inside one of the allowed
/// directories. A path that does not even name one is refused before the
/// file system is asked anything about it (a refusal never tells whether a
/// file exists).
fn allowed_local(name: &str) -> Option<PathBuf> {
    let dirs = allowed_dirs();
    let named = std::path::Path::new(name);
    if !dirs.iter().any(|d| named.starts_with(d)) {
        return None;
    }
    let path = std::fs::canonicalize(name).ok()?;
    dirs.iter().any(|d| path.starts_with(d)).then_some(path)
}

unsafe extern "C" fn local_open(
    _user: *mut c_void,
    name: *const c_char,
    access: *const c_char,
) -> *mut c_void {
    let name = text(name);
    let file = (read_only(access))
        .then(|| allowed_local(&name))
        .flatten()
        .and_then(|p| File::open(p).ok());
    match file {
        Some(file) => Handle::open(file),
        // GDAL tries a subdataset's name (`NETCDF:"/vsistratus/3.nc":tas`) as a
        // file before its driver reads it: GDAL's own syntax, refused without a note.
        None if is_subdataset_of_ours(&name) => std::ptr::null_mut(),
        None => refused(name),
    }
}

/// Whether `name` is GDAL's subdataset syntax around one of our objects
/// (`DRIVER:"/vsistratus/…":…`), not a path.
fn is_subdataset_of_ours(name: &str) -> bool {
    !name.starts_with('/') && name.contains(&format!("\"{OBJECT_PREFIX}"))
}

unsafe extern "C" fn local_stat(
    _user: *mut c_void,
    name: *const c_char,
    buf: *mut VSIStatBufL,
    _flags: c_int,
) -> c_int {
    let name = text(name);
    // Refused without a note: GDAL looks at local paths of its own (its plugin
    // directory when no driver knows a file), and a stat reads nothing.
    let Some(meta) = allowed_local(&name).and_then(|p| std::fs::metadata(p).ok()) else {
        return -1;
    };
    let mode = if meta.is_dir() {
        libc::S_IFDIR | 0o555
    } else {
        libc::S_IFREG | 0o444
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    fill_stat(buf, mode, meta.len(), mtime);
    0
}

/// Put refusing file systems over every GDAL prefix but `/vsimem/` and ours,
/// and replace the local file system with one that reads only inside
/// `local_dirs` (GDAL's and PROJ's data files). For the whole process, once.
pub(crate) fn install_guards(local_dirs: Vec<PathBuf>) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        install_object_handler();
        // Each directory as given (what GDAL and PROJ will name) and as it really is.
        let mut dirs: Vec<PathBuf> = Vec::new();
        for d in local_dirs {
            if let Ok(real) = std::fs::canonicalize(&d) {
                for form in [d, real] {
                    if !dirs.contains(&form) {
                        dirs.push(form);
                    }
                }
            }
        }
        let _ = LOCAL_DIRS.set(dirs);
        for prefix in gdal_prefixes() {
            if prefix == OBJECT_PREFIX || prefix == "/vsimem/" {
                continue;
            }
            // "/vsicurl?url=…" and the like are prefixes of their own that GDAL does not list.
            let query = format!("{}?", prefix.trim_end_matches('/'));
            for p in [prefix.clone(), query] {
                install(&p, |cb, prefix| {
                    cb.pUserData = prefix;
                    cb.open = Some(deny_open);
                    cb.stat = Some(deny_stat);
                    cb.read_dir = Some(no_listing);
                    cb.mkdir = Some(deny_mkdir);
                    cb.unlink = Some(deny_unlink);
                    cb.rmdir = Some(deny_unlink);
                });
            }
        }
        install("", |cb, _| {
            cb.open = Some(local_open);
            cb.stat = Some(local_stat);
            cb.read_dir = Some(no_listing);
            cb.mkdir = Some(deny_mkdir_local);
            cb.unlink = Some(deny_unlink_local);
            cb.rmdir = Some(deny_unlink_local);
            Handle::<File>::callbacks(cb);
        });
    });
}

unsafe extern "C" fn deny_mkdir_local(
    _user: *mut c_void,
    name: *const c_char,
    _mode: c_long,
) -> c_int {
    refuse(text(name));
    -1
}

unsafe extern "C" fn deny_unlink_local(_user: *mut c_void, name: *const c_char) -> c_int {
    refuse(text(name));
    -1
}

/// The prefixes GDAL's file systems are installed under (`/vsicurl/`, `/vsis3/`, …).
fn gdal_prefixes() -> Vec<String> {
    // SAFETY: GDAL returns a NULL-terminated list we own and free with CSLDestroy.
    unsafe {
        let list = gdal_sys::VSIGetFileSystemsPrefixes();
        if list.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut p = list;
        while !(*p).is_null() {
            out.push(text(*p));
            p = p.add(1);
        }
        gdal_sys::CSLDestroy(list);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_alphanumeric_extensions_reach_gdal() {
        assert_eq!(extension_of("s3://b/dir/scene.NC").as_deref(), Some("nc"));
        assert_eq!(extension_of("s3://b/a.tif.grb2").as_deref(), Some("grb2"));
        assert!(is_subdataset_of_ours("NETCDF:\"/vsistratus/3.nc\":tas"));
        assert!(is_subdataset_of_ours(
            "HDF4_SDS:GDAL_HDF4:\"/vsistratus/4.hdf\":0"
        ));
        assert!(!is_subdataset_of_ours("/etc/passwd"));
        assert!(!is_subdataset_of_ours("/tmp/x\"/vsistratus/1"));
        for key in [
            "s3://b/noext",
            "s3://b/x.tif/",
            "s3://b/a.b/c",
            "s3://b/x.t f",
            "s3://b/x.abcdef",
            "s3://b/x./vsi",
            "s3://b/x.",
            "s3://b/x.\"a",
        ] {
            assert_eq!(extension_of(key), None, "{key}");
        }
    }
}
