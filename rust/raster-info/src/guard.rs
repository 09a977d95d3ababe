//! Locking GDAL down in a process that reads only uploads (gdal-lambda in Lambda).

use std::path::PathBuf;

use crate::gdal_env::configure_gdal;
use crate::vsi;

/// For the rest of the process, GDAL can read uploaded objects
/// ([`crate::read_object_info`]), its own in-memory files and its data files
/// (`GDAL_DATA`), and nothing else: every other virtual file system
/// (`/vsicurl/`, `/vsis3/`, `/vsizip/`, …) refuses, the local file system
/// opens only GDAL's data files, read-only, and PROJ's network access is off.
/// Call it once at start, before any record is read.
pub fn lockdown() {
    configure_gdal();
    gdal::DriverManager::register_all();
    #[allow(unsafe_code)]
    // SAFETY: a plain setter of GDAL's global PROJ settings.
    unsafe {
        gdal_sys::OSRSetPROJEnableNetwork(0);
    }
    vsi::install_guards(gdal_data_dir().into_iter().collect());
}

/// Where GDAL finds its data files: `GDAL_DATA`, else where GDAL was built to look.
fn gdal_data_dir() -> Option<PathBuf> {
    let configured = gdal::config::get_config_option("GDAL_DATA", "")
        .ok()
        .filter(|d| !d.is_empty());
    if let Some(dir) = configured {
        return Some(PathBuf::from(dir));
    }
    let (class, file) = (c"gdal", c"gdalvrt.xsd");
    #[allow(unsafe_code)]
    // SAFETY: CPLFindFile returns null or a string owned by GDAL, copied at once.
    let found = unsafe {
        let p = gdal_sys::CPLFindFile(class.as_ptr(), file.as_ptr());
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    };
    found.and_then(|f| PathBuf::from(f).parent().map(PathBuf::from))
}
