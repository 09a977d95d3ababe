//! A raster's CRS in the forms STAC and users need (EPSG code, name, WKT2,
//! PROJJSON), identified against PROJ's database where the file gives no code.

use gdal::spatial_ref::SpatialRef;
use serde::{Deserialize, Serialize};

use crate::crs_refs;

/// A coordinate reference system in the forms STAC and users need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrsInfo {
    /// EPSG code when the CRS is (or is identified as) an EPSG one.
    pub epsg: Option<u32>,
    /// Name of the CRS.
    pub name: Option<String>,
    /// WKT2 (2019) text.
    pub wkt2: String,
    /// PROJJSON.
    pub projjson: Option<serde_json::Value>,
}

/// [`crs_info`] of a CRS handle GDAL gave (copied; the handle stays the caller's).
///
/// # Safety
/// `srs` is a live spatial reference handle.
#[allow(unsafe_code)]
pub(crate) unsafe fn crs_info_of(srs: gdal_sys::OGRSpatialReferenceH) -> Option<CrsInfo> {
    SpatialRef::from_c_obj(srs).ok().as_ref().and_then(crs_info)
}

pub(crate) fn crs_info(srs: &SpatialRef) -> Option<CrsInfo> {
    let wkt2 = srs.to_wkt().ok().filter(|w| !w.is_empty())?;
    let epsg = epsg_code(srs);
    Some(CrsInfo {
        epsg,
        name: srs.name(),
        wkt2: wkt2_of(srs).unwrap_or(wkt2),
        projjson: srs
            .to_projjson()
            .ok()
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

/// Whether the CRS names files by path (see [`crate::crs_refs`]): PROJ would
/// open them when transforming, and a file's CRS is as untrusted as its pixels.
pub(crate) fn names_grid_files(srs: &SpatialRef) -> bool {
    [srs.to_proj4().ok(), srs.to_wkt().ok()]
        .iter()
        .flatten()
        .any(|t| crs_refs::names_files(t))
}

/// The EPSG code of `srs`, identifying it when the file does not say.
fn epsg_code(srs: &SpatialRef) -> Option<u32> {
    if srs.auth_name().as_deref() == Some("EPSG") {
        return srs.auth_code().ok().and_then(|c| u32::try_from(c).ok());
    }
    identify_epsg(srs)
}

/// The EPSG CRS that PROJ finds equivalent to `srs` (a PROJ string, a WKT
/// without codes): GDAL's `OSRFindMatches` with a confidence of at least 70
/// ("equivalent, only the names differ"), when one EPSG code alone has the
/// best confidence.
fn identify_epsg(srs: &SpatialRef) -> Option<u32> {
    const EQUIVALENT: i32 = 70;
    let mut found: Vec<(i32, u32)> = Vec::new();
    #[allow(unsafe_code)]
    // SAFETY: OSRFindMatches returns an array of n handles and n confidences (or NULL), which we
    // read and then free with OSRFreeSRSArray and VSIFree; authority strings belong to the handles.
    unsafe {
        let mut n: std::os::raw::c_int = 0;
        let mut confidence: *mut std::os::raw::c_int = std::ptr::null_mut();
        let matches = gdal_sys::OSRFindMatches(
            srs.to_c_hsrs(),
            std::ptr::null_mut(),
            &mut n,
            &mut confidence,
        );
        if matches.is_null() {
            return None;
        }
        for i in 0..usize::try_from(n).unwrap_or(0) {
            let h = *matches.add(i);
            let text = |p: *const std::os::raw::c_char| {
                (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
            };
            let auth = text(gdal_sys::OSRGetAuthorityName(h, std::ptr::null()));
            let code = text(gdal_sys::OSRGetAuthorityCode(h, std::ptr::null()));
            if let (Some("EPSG"), Some(Ok(code))) = (auth.as_deref(), code.map(|c| c.parse())) {
                found.push((*confidence.add(i), code));
            }
        }
        gdal_sys::OSRFreeSRSArray(matches);
        gdal_sys::VSIFree(confidence.cast());
    }
    let best = found
        .iter()
        .map(|m| m.0)
        .max()
        .filter(|&c| c >= EQUIVALENT)?;
    let mut codes: Vec<u32> = found.iter().filter(|m| m.0 == best).map(|m| m.1).collect();
    codes.dedup();
    match codes.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// WKT2:2019 (the crate's `to_wkt` gives GDAL's default WKT1 flavour).
fn wkt2_of(srs: &SpatialRef) -> Option<String> {
    #[allow(unsafe_code)]
    // SAFETY: OSRExportToWktEx allocates a C string we free with VSIFree; options are a valid NULL-terminated list.
    unsafe {
        let opt = std::ffi::CString::new("FORMAT=WKT2_2019").ok()?;
        let mut opts = [
            opt.as_ptr() as *mut std::os::raw::c_char,
            std::ptr::null_mut(),
        ];
        let mut out: *mut std::os::raw::c_char = std::ptr::null_mut();
        let err = gdal_sys::OSRExportToWktEx(srs.to_c_hsrs(), &mut out, opts.as_mut_ptr() as _);
        if out.is_null() {
            return None;
        }
        let text = std::ffi::CStr::from_ptr(out).to_string_lossy().into_owned();
        gdal_sys::VSIFree(out as *mut std::ffi::c_void);
        (err == gdal_sys::OGRErr::OGRERR_NONE && !text.is_empty()).then_some(text)
    }
}
