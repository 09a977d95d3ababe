//! Locking GDAL down in a process that reads only uploads (gdal-lambda's
//! parse worker): what GDAL and PROJ may open from then on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::gdal_env::configure_gdal;
use crate::{proj_files, vsi};

/// What the lockdown put in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockdown {
    /// The only local directories GDAL and PROJ may read (their data), read-only.
    pub local_dirs: Vec<String>,
    /// PROJ's own file access goes through GDAL's guarded file systems.
    pub proj_through_vsi: bool,
    /// Why it does not, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proj_detail: Option<String>,
}

/// For the rest of the process, GDAL can read uploaded objects
/// ([`crate::read_object_info`]), its own in-memory files and the data files
/// of GDAL and PROJ, and nothing else: every other virtual file system
/// (`/vsicurl/`, `/vsis3/`, `/vsizip/`, …) refuses, the local file system
/// opens only those data directories, read-only, PROJ's network access is
/// off, and PROJ's own file access (the grid and init files a CRS names)
/// goes through the same file systems. Call it once at start, before any
/// upload is read, on the thread that will read them (PROJ's context is
/// per thread).
pub fn lockdown() -> Lockdown {
    configure_gdal();
    gdal::DriverManager::register_all();
    #[allow(unsafe_code)]
    // SAFETY: a plain setter of GDAL's global PROJ settings.
    unsafe {
        gdal_sys::OSRSetPROJEnableNetwork(0);
    }
    initialize_netcdf();
    let dirs: Vec<PathBuf> = gdal_data_dir()
        .into_iter()
        .chain(proj_data_dirs())
        .collect();
    vsi::install_guards(dirs);
    let proj = proj_files::route_through_vsi();
    open_proj_database();
    Lockdown {
        local_dirs: vsi::allowed_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
        proj_through_vsi: proj.is_ok(),
        proj_detail: proj.err(),
    }
}

/// Let netCDF-C read its own settings now, once per process: it looks for
/// `.ncrc`, `.dodsrc` and `~/.aws/config` the first time a file is opened,
/// which an upload's read would otherwise see refused (and a confined
/// process cannot do). Only with the GDAL build the image ships, which links
/// netCDF-C into the binary; a system GDAL (a developer's `just demo`) keeps
/// netCDF-C inside its shared library, out of the linker's reach.
#[cfg(not(static_gdal))]
fn initialize_netcdf() {}

#[cfg(static_gdal)]
fn initialize_netcdf() {
    #[allow(unsafe_code)]
    extern "C" {
        fn nc_initialize() -> std::ffi::c_int;
    }
    #[allow(unsafe_code)]
    // SAFETY: netCDF-C's own once-only initialisation; no arguments.
    let status = unsafe { nc_initialize() };
    if status != 0 {
        tracing::warn!(status, "netCDF-C did not initialise");
    }
}

/// Make PROJ open its database (proj.db, which it keeps open) now, on this
/// thread's context: a process confined afterwards can open no file.
fn open_proj_database() {
    // One lookup by code opens the database; the operations a record's CRS
    // needs are looked up in it then (searching them now costs 15 ms).
    if gdal::spatial_ref::SpatialRef::from_epsg(4326).is_err() {
        tracing::warn!("PROJ's database could not be read at start");
    }
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

/// Where PROJ finds its data (proj.db, grids by bare name): GDAL's view of PROJ's search path.
fn proj_data_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    #[allow(unsafe_code)]
    // SAFETY: GDAL returns a NULL-terminated list we own and free with CSLDestroy.
    unsafe {
        let list = gdal_sys::OSRGetPROJSearchPaths();
        if list.is_null() {
            return dirs;
        }
        let mut p = list;
        while !(*p).is_null() {
            dirs.push(PathBuf::from(
                std::ffi::CStr::from_ptr(*p).to_string_lossy().into_owned(),
            ));
            p = p.add(1);
        }
        gdal_sys::CSLDestroy(list);
    }
    dirs
}
