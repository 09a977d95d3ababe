//! PROJ's file access routed through GDAL's virtual file systems.
//!
//! PROJ opens the grid and init files a CRS names (`+nadgrids=/path`, an
//! ESRI `PROJ4_GRIDS` extension, a WKT2 `PARAMETERFILE`, `+init=file:id`) by
//! itself, with the C library, outside GDAL's file systems: a string check
//! of the CRS text is the only thing between an upload and those paths, and
//! a space defeats a string check. With [`route_through_vsi`] every file
//! PROJ opens or tests goes through `VSIFOpenL`/`VSIStatL` instead, where
//! the lockdown's file systems decide ([`crate::lockdown`]): a path outside
//! GDAL's and PROJ's data is refused and recorded, like any file GDAL is
//! asked for, whatever the CRS text looks like.
//!
//! The PROJ context is GDAL's own for the calling thread (GDAL keeps one per
//! thread); the worker that parses uploads does all its GDAL work on one.
//! proj.db is read by SQLite, not through this API; it is opened before any
//! upload is parsed.

#![allow(unsafe_code)] // PROJ's file API is C callbacks

/// Route this thread's PROJ file access through GDAL's file systems.
#[cfg(static_gdal)]
pub(crate) fn route_through_vsi() -> Result<(), String> {
    use std::ffi::{c_char, c_int, c_longlong, c_ulonglong, c_void};

    use gdal_sys::{VSIFCloseL, VSIFOpenL, VSIFReadL, VSIFSeekL, VSIFTellL, VSIStatL, VSILFILE};

    type Ctx = c_void;
    type Handle = c_void;

    #[repr(C)]
    struct ProjFileApi {
        version: c_int,
        open: unsafe extern "C" fn(*mut Ctx, *const c_char, c_int, *mut c_void) -> *mut Handle,
        read: unsafe extern "C" fn(*mut Ctx, *mut Handle, *mut c_void, usize, *mut c_void) -> usize,
        write:
            unsafe extern "C" fn(*mut Ctx, *mut Handle, *const c_void, usize, *mut c_void) -> usize,
        seek: unsafe extern "C" fn(*mut Ctx, *mut Handle, c_longlong, c_int, *mut c_void) -> c_int,
        tell: unsafe extern "C" fn(*mut Ctx, *mut Handle, *mut c_void) -> c_ulonglong,
        close: unsafe extern "C" fn(*mut Ctx, *mut Handle, *mut c_void),
        exists: unsafe extern "C" fn(*mut Ctx, *const c_char, *mut c_void) -> c_int,
        mkdir: unsafe extern "C" fn(*mut Ctx, *const c_char, *mut c_void) -> c_int,
        unlink: unsafe extern "C" fn(*mut Ctx, *const c_char, *mut c_void) -> c_int,
        rename: unsafe extern "C" fn(*mut Ctx, *const c_char, *const c_char, *mut c_void) -> c_int,
    }

    extern "C" {
        // A C++ function of GDAL's (ogr_proj_p.h, no extern "C"): its mangled name,
        // the same under the Itanium ABI on x86_64 and aarch64.
        #[link_name = "_Z20OSRGetProjTLSContextv"]
        fn OSRGetProjTLSContext() -> *mut Ctx;
        fn proj_context_set_fileapi(
            ctx: *mut Ctx,
            api: *const ProjFileApi,
            user_data: *mut c_void,
        ) -> c_int;
    }

    /// PROJ_OPEN_ACCESS_READ_ONLY: the only access granted.
    const READ_ONLY: c_int = 0;

    unsafe extern "C" fn open(
        _: *mut Ctx,
        name: *const c_char,
        access: c_int,
        _: *mut c_void,
    ) -> *mut Handle {
        if access != READ_ONLY || name.is_null() {
            return std::ptr::null_mut();
        }
        VSIFOpenL(name, c"rb".as_ptr()).cast()
    }
    unsafe extern "C" fn read(
        _: *mut Ctx,
        f: *mut Handle,
        buf: *mut c_void,
        size: usize,
        _: *mut c_void,
    ) -> usize {
        VSIFReadL(buf, 1, size, f as *mut VSILFILE)
    }
    unsafe extern "C" fn write(
        _: *mut Ctx,
        _: *mut Handle,
        _: *const c_void,
        _: usize,
        _: *mut c_void,
    ) -> usize {
        0
    }
    unsafe extern "C" fn seek(
        _: *mut Ctx,
        f: *mut Handle,
        offset: c_longlong,
        whence: c_int,
        _: *mut c_void,
    ) -> c_int {
        // PROJ's contract is TRUE on success; VSIFSeekL's is 0.
        let Ok(offset) = u64::try_from(offset) else {
            return 0;
        };
        c_int::from(VSIFSeekL(f as *mut VSILFILE, offset, whence) == 0)
    }
    unsafe extern "C" fn tell(_: *mut Ctx, f: *mut Handle, _: *mut c_void) -> c_ulonglong {
        VSIFTellL(f as *mut VSILFILE)
    }
    unsafe extern "C" fn close(_: *mut Ctx, f: *mut Handle, _: *mut c_void) {
        VSIFCloseL(f as *mut VSILFILE);
    }
    unsafe extern "C" fn exists(_: *mut Ctx, name: *const c_char, _: *mut c_void) -> c_int {
        if name.is_null() {
            return 0;
        }
        let mut stat: gdal_sys::VSIStatBufL = std::mem::zeroed();
        c_int::from(VSIStatL(name, &mut stat) == 0)
    }
    unsafe extern "C" fn refuse(_: *mut Ctx, _: *const c_char, _: *mut c_void) -> c_int {
        0
    }
    unsafe extern "C" fn refuse_rename(
        _: *mut Ctx,
        _: *const c_char,
        _: *const c_char,
        _: *mut c_void,
    ) -> c_int {
        0
    }

    let api = ProjFileApi {
        version: 1,
        open,
        read,
        write,
        seek,
        tell,
        close,
        exists,
        mkdir: refuse,
        unlink: refuse,
        rename: refuse_rename,
    };
    // SAFETY: GDAL hands out this thread's PROJ context; PROJ copies the struct.
    let ok = unsafe {
        let ctx = OSRGetProjTLSContext();
        !ctx.is_null() && proj_context_set_fileapi(ctx, &api, std::ptr::null_mut()) != 0
    };
    if ok {
        Ok(())
    } else {
        Err("PROJ refused the file API".into())
    }
}

/// Without the static GDAL build, GDAL's PROJ context is not reachable.
#[cfg(not(static_gdal))]
pub(crate) fn route_through_vsi() -> Result<(), String> {
    Err("needs the static GDAL build the image ships (GDAL's PROJ context is private in a shared libgdal)".into())
}
