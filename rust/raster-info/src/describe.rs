//! What a dataset is: one raster, or a container (netCDF, HDF) of
//! subdatasets and variables. A container's Item takes its grid (size, CRS,
//! footprint) from its first georeferenced subdataset and its variables from
//! GDAL's multidimensional API ([`crate::cube`]).

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags, Metadata};

use crate::cube::{self, Cube};
use crate::gdal_env::{configure_gdal, take_messages};
use crate::info::{describe_one, key_values, RasterInfo, Subdataset};
use crate::{Error, Result};

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
    let mut info = describe(&ds, path, path, None)
        .map_err(|e| Error::from_gdal(path, take_messages().messages, &e))?;
    info.warnings.extend(
        take_messages()
            .messages
            .into_iter()
            .map(|m| format!("GDAL: {m}")),
    );
    Ok(info)
}

/// Drivers whose files GDAL also opens as multidimensional data.
const MULTIDIM_DRIVERS: [&str; 5] = ["netCDF", "HDF5", "HDF5Image", "HDF4", "GRIB"];

/// Subdatasets of a container tried for a grid.
const GRID_CANDIDATES: usize = 16;

/// Describe `ds`, opened from `gdal_path` (named `shown` in what is
/// returned), with `drivers` (all when `None`) for its subdatasets and its
/// multidimensional view.
pub(crate) fn describe(
    ds: &Dataset,
    gdal_path: &str,
    shown: &str,
    drivers: Option<&[&str]>,
) -> gdal::errors::Result<RasterInfo> {
    let mut info = describe_one(ds, shown, None)?;
    info.subdatasets = subdatasets(ds, gdal_path, shown);
    if MULTIDIM_DRIVERS.contains(&info.driver.as_str()) {
        info.cube = cube::read(gdal_path, drivers);
    }
    let geographic = info.cube.as_ref().is_some_and(has_latitude_longitude_axes);
    if info.bands.is_empty() && !info.subdatasets.is_empty() {
        adopt_grid(&mut info, gdal_path, shown, drivers, geographic);
    } else if geographic && needs_crs(&info) {
        let placed = RasterInfo {
            subdatasets: std::mem::take(&mut info.subdatasets),
            cube: info.cube.take(),
            ..describe_one(ds, shown, Some(&wgs84()?))?
        };
        info = assumed_geographic(placed);
    }
    Ok(info)
}

/// The container's subdatasets, named as `shown`.
fn subdatasets(ds: &Dataset, gdal_path: &str, shown: &str) -> Vec<Subdataset> {
    let items = key_values(ds.metadata_domain("SUBDATASETS").unwrap_or_default());
    let mut out = Vec::new();
    for i in 1.. {
        let (Some(name), description) = (
            items.get(&format!("SUBDATASET_{i}_NAME")),
            items.get(&format!("SUBDATASET_{i}_DESC")),
        ) else {
            break;
        };
        out.push(Subdataset {
            name: name.replace(gdal_path, shown),
            description: description.cloned().unwrap_or_default(),
        });
    }
    out
}

/// A subdataset name GDAL made of the container's path and a name from the
/// file: opened only when the file's part cannot name another file.
fn safe_subdataset(name: &str, gdal_path: &str) -> bool {
    let quoted = format!("\"{gdal_path}\"");
    match name.split_once(&quoted) {
        Some((prefix, rest)) => {
            prefix.ends_with(':')
                && !prefix.contains('"')
                && !rest.contains('"')
                && !rest.contains("/vsi")
                && !rest.contains(gdal_path)
        }
        None => false,
    }
}

/// Take a container's size, CRS, georeferencing and footprint from its first
/// georeferenced subdataset; with none, the container has no grid (size 0).
fn adopt_grid(
    info: &mut RasterInfo,
    gdal_path: &str,
    shown: &str,
    drivers: Option<&[&str]>,
    geographic: bool,
) {
    let options = || DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
        allowed_drivers: drivers,
        ..Default::default()
    };
    (info.width, info.height) = (0, 0);
    let names: Vec<String> = info
        .subdatasets
        .iter()
        .take(GRID_CANDIDATES)
        .map(|s| s.name.replace(shown, gdal_path))
        .collect();
    for name in names {
        if !safe_subdataset(&name, gdal_path) {
            info.warnings.push(format!(
                "subdataset {} not opened: its name is not plain",
                name.replace(gdal_path, shown)
            ));
            continue;
        }
        let Ok(sub) = Dataset::open_ex(&name, options()) else {
            continue;
        };
        let Ok(mut grid) = describe_one(&sub, shown, None) else {
            continue;
        };
        if geographic && needs_crs(&grid) {
            let Ok(placed) = wgs84().and_then(|w| describe_one(&sub, shown, Some(&w))) else {
                continue;
            };
            grid = assumed_geographic(placed);
        }
        if grid.georeferencing.is_none() {
            continue;
        }
        info.grid = Some(name.replace(gdal_path, shown));
        (info.width, info.height) = (grid.width, grid.height);
        info.crs = grid.crs;
        info.geotransform = grid.geotransform;
        info.gcps = grid.gcps;
        info.georeferencing = grid.georeferencing;
        info.bbox = grid.bbox;
        info.wgs84_bbox = grid.wgs84_bbox;
        info.footprint = grid.footprint;
        info.crs_footprint = grid.crs_footprint;
        info.resolution_m = grid.resolution_m;
        info.warnings
            .retain(|w| !w.contains("the STAC Item has no geometry"));
        info.warnings.extend(
            grid.warnings
                .into_iter()
                .filter(|w| w.starts_with(CF_ASSUMED)),
        );
        return;
    }
}

/// The start of the warning a CRS taken from CF coordinates gives.
const CF_ASSUMED: &str = "no CRS in the file";

/// Whether the file's x and y are CF longitude and latitude: coordinate
/// variables in `degrees_east` and `degrees_north` (CF: latitude and
/// longitude on an unnamed datum; ERA5's and most climate files' case).
fn has_latitude_longitude_axes(cube: &Cube) -> bool {
    let unit_of = |kind: &str| {
        cube.dimensions
            .iter()
            .filter(|d| d.kind.as_deref() == Some(kind))
            .filter_map(|d| d.unit.as_deref())
            .map(|u| u.to_ascii_lowercase().replace(['_', ' '], ""))
            .collect::<Vec<_>>()
    };
    let east = unit_of("HORIZONTAL_X");
    let north = unit_of("HORIZONTAL_Y");
    east.iter().any(|u| {
        matches!(
            u.as_str(),
            "degreeseast" | "degreeeast" | "degreese" | "degreee"
        )
    }) && north.iter().any(|u| {
        matches!(
            u.as_str(),
            "degreesnorth" | "degreenorth" | "degreesn" | "degreen"
        )
    })
}

/// A grid placed by a geotransform but without a CRS.
fn needs_crs(info: &RasterInfo) -> bool {
    info.crs.is_none() && info.geotransform.is_some()
}

/// WGS 84 in longitude, latitude order.
fn wgs84() -> gdal::errors::Result<SpatialRef> {
    let mut srs = SpatialRef::from_epsg(4326)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// A grid without a CRS whose axes are CF longitude and latitude, described
/// again as WGS 84 (EPSG:4326), says so (GDAL itself leaves it without one).
fn assumed_geographic(mut info: RasterInfo) -> RasterInfo {
    info.warnings.push(format!(
        "{CF_ASSUMED}: its CF longitude and latitude coordinates are taken as WGS 84 (EPSG:4326)"
    ));
    info
}
