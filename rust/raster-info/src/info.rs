//! GDAL dataset → [`RasterInfo`].

use std::collections::BTreeMap;

use gdal::raster::{GdalDataType, RasterBand};
use gdal::spatial_ref::SpatialRef;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags, Metadata};
use serde::{Deserialize, Serialize};

use crate::cog::{self, CogCheck};
use crate::crs_refs;
use crate::footprint::{self, GcpTransformer, Grid};
use crate::gdal_env::{configure_gdal, take_messages};
use crate::{Error, Result};

/// Everything Stratus reports about a raster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RasterInfo {
    /// What was read: a local or GDAL path, or the uploaded object's URL.
    pub path: String,
    /// GDAL driver short name (`GTiff`, `PNG`, …).
    pub driver: String,
    /// GDAL driver long name.
    pub driver_long_name: String,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Bands in order (1-based `index`).
    pub bands: Vec<BandInfo>,
    /// Coordinate reference system, when the raster has one.
    pub crs: Option<CrsInfo>,
    /// GDAL geotransform, when the raster is georeferenced by one.
    pub geotransform: Option<[f64; 6]>,
    /// Ground control points, when the raster has them (and their CRS).
    pub gcps: Option<Gcps>,
    /// What the bounds and footprint were derived from.
    pub georeferencing: Option<Georeferencing>,
    /// Bounds in the raster's CRS (the GCPs' for a GCP raster): `[minx, miny, maxx, maxy]`.
    pub bbox: Option<[f64; 4]>,
    /// Bounds in WGS84 longitude/latitude `[west, south, east, north]`; west > east
    /// when the raster crosses the antimeridian (RFC 7946 §5.2).
    pub wgs84_bbox: Option<[f64; 4]>,
    /// Footprint in WGS84: a GeoJSON Polygon, or a MultiPolygon cut at the antimeridian.
    pub footprint: Option<serde_json::Value>,
    /// Footprint in the CRS of `bbox` (the GCPs' for a GCP raster): a GeoJSON Polygon.
    pub crs_footprint: Option<serde_json::Value>,
    /// Mean pixel size in metres at the raster's centre.
    pub resolution_m: Option<f64>,
    /// Metadata by domain (`""` is the default domain), including `IMAGE_STRUCTURE`.
    pub metadata: BTreeMap<String, BTreeMap<String, String>>,
    /// Cloud Optimized GeoTIFF check (GeoTIFFs only).
    pub cog: Option<CogCheck>,
    /// Things worth knowing that are not errors (no CRS, GDAL warnings …).
    pub warnings: Vec<String>,
}

/// A raster's ground control points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gcps {
    /// The CRS of the points' coordinates.
    pub crs: Option<CrsInfo>,
    /// The points.
    pub points: Vec<Gcp>,
}

/// One ground control point: a pixel/line position and where it is in the GCPs' CRS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gcp {
    /// Identifier, often a number.
    pub id: String,
    /// Pixel (column) position.
    pub pixel: f64,
    /// Line (row) position.
    pub line: f64,
    /// X (easting or longitude).
    pub x: f64,
    /// Y (northing or latitude).
    pub y: f64,
    /// Z (elevation).
    pub z: f64,
}

/// How the raster's pixels are placed on Earth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Georeferencing {
    /// An affine geotransform in the raster's CRS.
    Geotransform,
    /// GDAL's polynomial fit to the ground control points.
    Gcps,
}

/// One band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandInfo {
    /// 1-based band number.
    pub index: usize,
    /// GDAL data type name (`Byte`, `UInt16`, `Float32`, …).
    pub data_type: String,
    /// Nodata value (`NaN`/infinities serialised as strings).
    pub nodata: Option<Number>,
    /// Scale to apply to values.
    pub scale: Option<f64>,
    /// Offset to apply to values.
    pub offset: Option<f64>,
    /// Unit of values.
    pub unit: Option<String>,
    /// Colour interpretation (`Red`, `Gray`, `Undefined`, …).
    pub color_interpretation: String,
    /// Natural block size `[x, y]`.
    pub block_size: [usize; 2],
    /// Overview sizes `[width, height]`, largest first.
    pub overviews: Vec<[usize; 2]>,
    /// Band description.
    pub description: Option<String>,
    /// Band metadata (default domain).
    pub metadata: BTreeMap<String, String>,
}

/// A float that may be NaN or infinite: JSON has no such numbers, so those
/// are written as `"nan"`, `"inf"`, `"-inf"` (the STAC raster extension's form).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("nan")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
        } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            F(f64),
            S(String),
        }
        Ok(Number(match Raw::deserialize(d)? {
            Raw::F(f) => f,
            Raw::S(s) => match s.as_str() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => return Err(serde::de::Error::custom(format!("not a number: {other}"))),
            },
        }))
    }
}

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

/// Open a local or GDAL path (`/vsis3/…`, `/vsizip/…`), header only, with
/// every GDAL driver, and describe it. For trusted input (the command line);
/// uploads go through [`crate::read_object_info`].
pub fn read_info(path: &str) -> Result<RasterInfo> {
    configure_gdal();
    take_messages();
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER
            | GdalOpenFlags::GDAL_OF_READONLY
            | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        ..Default::default()
    };
    let ds = Dataset::open_ex(path, options)
        .map_err(|e| Error::from_gdal(path, take_messages().messages, &e))?;
    let mut info =
        describe(&ds, path).map_err(|e| Error::from_gdal(path, take_messages().messages, &e))?;
    info.warnings.extend(
        take_messages()
            .messages
            .into_iter()
            .map(|m| format!("GDAL: {m}")),
    );
    Ok(info)
}

pub(crate) fn describe(ds: &Dataset, path: &str) -> gdal::errors::Result<RasterInfo> {
    let driver = ds.driver();
    let (width, height) = ds.raster_size();
    let mut warnings = Vec::new();
    let bands = ds
        .rasterbands()
        .enumerate()
        .map(|(i, b)| b.map(|b| band_info(i + 1, &b)))
        .collect::<gdal::errors::Result<Vec<_>>>()?;
    if bands.is_empty() {
        warnings.push("the dataset has no raster bands".to_string());
    }

    let srs = ds.spatial_ref().ok();
    let crs = srs.as_ref().and_then(crs_info);
    let geotransform = ds
        .geo_transform()
        .ok()
        .filter(|gt| *gt != [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let gcp_srs = ds.gcp_spatial_ref();
    let gcps = gcps_of(ds, gcp_srs.as_ref());
    // The geotransform when there is one, else the GCPs.
    let placed = match (&srs, geotransform, &gcp_srs) {
        (Some(srs), Some(gt), _) => Some((srs, Grid::Affine(gt), Georeferencing::Geotransform)),
        (_, None, Some(gsrs)) => {
            GcpTransformer::of(ds).map(|t| (gsrs, Grid::Gcps(t), Georeferencing::Gcps))
        }
        _ => None,
    };
    let mut bbox = geotransform.map(|gt| native_bbox(&gt, width, height));
    let (mut wgs84_bbox, mut footprint, mut resolution_m, mut georeferencing) =
        (None, None, None, None);
    let mut crs_footprint = None;
    match placed {
        Some((srs, _, _)) if names_grid_files(srs) => warnings
            .push("the CRS names grid files, which are not read: no WGS84 footprint".to_string()),
        Some((srs, grid, how)) => {
            let located = footprint::locate(srs, &grid, width, height);
            georeferencing = Some(how);
            let outline = footprint::crs_outline(&grid, width, height);
            if how == Georeferencing::Gcps {
                bbox = outline.as_deref().map(envelope);
            }
            crs_footprint = outline.as_deref().map(polygon);
            match located {
                Ok(loc) => {
                    wgs84_bbox = Some(loc.wgs84.bbox);
                    footprint = Some(loc.wgs84.geometry);
                    resolution_m = loc.resolution_m;
                    warnings.extend(loc.notes);
                }
                Err(e) => {
                    if e.out_of_range {
                        (bbox, crs_footprint) = (None, None);
                    }
                    warnings.push(format!("cannot compute the WGS84 footprint: {}", e.reason));
                }
            }
        }
        None => {}
    }
    if crs.is_none() && gcps.as_ref().is_none_or(|g| g.crs.is_none()) {
        warnings.push("the raster has no CRS: the STAC Item has no geometry".to_string());
    } else if geotransform.is_none() && georeferencing.is_none() {
        warnings.push(
            "the raster has no geotransform or usable GCPs: the STAC Item has no geometry"
                .to_string(),
        );
    }

    let metadata = ds
        .metadata_domains()
        .into_iter()
        // Binary or huge XML domains are not metadata a log record should carry.
        .filter(|d| !d.starts_with("xml:") && d != "DERIVED_SUBDATASETS")
        .map(|d| {
            let items = key_values(ds.metadata_domain(&d).unwrap_or_default());
            (d, items)
        })
        .collect();
    let cog = (driver.short_name() == "GTiff").then(|| cog::check(ds));
    Ok(RasterInfo {
        path: path.to_string(),
        driver: driver.short_name(),
        driver_long_name: driver.long_name(),
        width,
        height,
        bands,
        crs,
        geotransform,
        gcps,
        georeferencing,
        bbox,
        wgs84_bbox,
        footprint,
        crs_footprint,
        resolution_m,
        metadata,
        cog,
        warnings,
    })
}

fn gcps_of(ds: &Dataset, srs: Option<&SpatialRef>) -> Option<Gcps> {
    let points: Vec<Gcp> = ds
        .gcps()
        .iter()
        .map(|g| Gcp {
            id: g.id(),
            pixel: g.pixel(),
            line: g.line(),
            x: g.x(),
            y: g.y(),
            z: g.z(),
        })
        .collect();
    (!points.is_empty()).then(|| Gcps {
        crs: srs.and_then(crs_info),
        points,
    })
}

fn key_values(items: Vec<String>) -> BTreeMap<String, String> {
    items
        .into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv, String::new()),
        })
        .collect()
}

fn band_info(index: usize, band: &RasterBand) -> BandInfo {
    let (bx, by) = band.block_size();
    let overviews = (0..band.overview_count().unwrap_or(0).max(0) as usize)
        .filter_map(|i| band.overview(i).ok().map(|o| [o.x_size(), o.y_size()]))
        .collect();
    let nodata = match band.band_type() {
        GdalDataType::UInt64 => band.no_data_value_u64().map(|v| Number(v as f64)),
        GdalDataType::Int64 => band.no_data_value_i64().map(|v| Number(v as f64)),
        _ => band.no_data_value().map(Number),
    };
    let unit = band.unit();
    let description = band.description().ok().filter(|d| !d.is_empty());
    BandInfo {
        index,
        data_type: band.band_type().name(),
        nodata,
        scale: band.scale(),
        offset: band.offset(),
        unit: (!unit.is_empty()).then_some(unit),
        color_interpretation: band.color_interpretation().name(),
        block_size: [bx, by],
        overviews,
        description,
        metadata: key_values(band.metadata_domain("").unwrap_or_default()),
    }
}

fn crs_info(srs: &SpatialRef) -> Option<CrsInfo> {
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
fn names_grid_files(srs: &SpatialRef) -> bool {
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

fn pixel_to_geo(gt: &[f64; 6], px: f64, py: f64) -> (f64, f64) {
    (
        gt[0] + px * gt[1] + py * gt[2],
        gt[3] + px * gt[4] + py * gt[5],
    )
}

fn native_bbox(gt: &[f64; 6], width: usize, height: usize) -> [f64; 4] {
    let corners = [
        (0.0, 0.0),
        (width as f64, 0.0),
        (width as f64, height as f64),
        (0.0, height as f64),
    ];
    let pts: Vec<(f64, f64)> = corners
        .iter()
        .map(|&(x, y)| pixel_to_geo(gt, x, y))
        .collect();
    envelope(&pts)
}

/// A GeoJSON Polygon of an open ring.
fn polygon(ring: &[(f64, f64)]) -> serde_json::Value {
    let mut coordinates: Vec<[f64; 2]> = ring.iter().map(|&(x, y)| [x, y]).collect();
    coordinates.extend(coordinates.first().copied());
    serde_json::json!({"type": "Polygon", "coordinates": [coordinates]})
}

fn envelope(pts: &[(f64, f64)]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for &(x, y) in pts {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_serialise_like_stac() {
        let v = serde_json::to_value([
            Number(f64::NAN),
            Number(f64::INFINITY),
            Number(-9999.0),
            Number(0.5),
        ])
        .unwrap();
        assert_eq!(v, serde_json::json!(["nan", "inf", -9999, 0.5]));
        let back: Vec<Number> = serde_json::from_value(v).unwrap();
        assert!(back[0].0.is_nan());
        assert_eq!(back[2].0, -9999.0);
    }

    #[test]
    fn bbox_of_north_up_and_rotated_grids() {
        assert_eq!(
            native_bbox(&[100.0, 10.0, 0.0, 50.0, 0.0, -10.0], 3, 2),
            [100.0, 30.0, 130.0, 50.0]
        );
        let b = native_bbox(&[0.0, 1.0, 1.0, 0.0, 1.0, -1.0], 2, 2);
        assert_eq!(b, [0.0, -2.0, 4.0, 2.0]);
    }
}
