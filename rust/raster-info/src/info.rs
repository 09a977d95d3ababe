//! GDAL dataset → [`RasterInfo`].

use std::collections::BTreeMap;

use gdal::raster::{GdalDataType, RasterBand};
use gdal::spatial_ref::SpatialRef;
use gdal::{Dataset, Metadata};
use serde::{Deserialize, Serialize};

use crate::cog::{self, CogCheck};
use crate::crs::{crs_info, names_grid_files, CrsInfo};
use crate::cube::Cube;
use crate::footprint::{self, GcpTransformer, Grid};
use crate::number::Number;

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
    /// A container's subdatasets (netCDF and HDF variables, HDF-EOS fields …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subdatasets: Vec<Subdataset>,
    /// For a container: the subdataset whose grid gives the size, CRS,
    /// georeferencing and footprint above (the first georeferenced one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Variables and dimensions, from GDAL's multidimensional API (netCDF, HDF5, HDF4, GRIB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cube: Option<Cube>,
}

/// One subdataset of a container, as GDAL names and describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subdataset {
    /// GDAL's name (`NETCDF:"s3://bucket/key.nc":temperature`).
    pub name: String,
    /// GDAL's description (`[12x180x360] temperature (32-bit floating-point)`).
    pub description: String,
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

/// One dataset as it is: a raster, or a container's own (often empty) view
/// of itself ([`crate::describe`] takes its subdatasets and variables).
/// `assumed_crs` stands in for a CRS the dataset does not have.
pub(crate) fn describe_one(
    ds: &Dataset,
    path: &str,
    assumed_crs: Option<&SpatialRef>,
) -> gdal::errors::Result<RasterInfo> {
    let driver = ds.driver();
    let (width, height) = ds.raster_size();
    let mut warnings = Vec::new();
    let bands = ds
        .rasterbands()
        .enumerate()
        .map(|(i, b)| b.map(|b| band_info(i + 1, &b)))
        .collect::<gdal::errors::Result<Vec<_>>>()?;

    let srs = ds.spatial_ref().ok().or_else(|| assumed_crs.cloned());
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
        .filter(|d| !d.starts_with("xml:") && d != "DERIVED_SUBDATASETS" && d != "SUBDATASETS")
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
        subdatasets: Vec::new(),
        grid: None,
        cube: None,
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

pub(crate) fn key_values(items: Vec<String>) -> BTreeMap<String, String> {
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
    fn bbox_of_north_up_and_rotated_grids() {
        assert_eq!(
            native_bbox(&[100.0, 10.0, 0.0, 50.0, 0.0, -10.0], 3, 2),
            [100.0, 30.0, 130.0, 50.0]
        );
        let b = native_bbox(&[0.0, 1.0, 1.0, 0.0, 1.0, -1.0], 2, 2);
        assert_eq!(b, [0.0, -2.0, 4.0, 2.0]);
    }
}
