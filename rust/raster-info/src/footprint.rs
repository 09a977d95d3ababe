//! Where a raster lies on Earth: its pixels taken to the raster's CRS by its
//! geotransform or its ground control points (GDAL's GCP transformer),
//! checked to be coordinates of that CRS (a geographic raster's within the
//! globe), reprojected to WGS84, traced to a tolerance by [`crate::outline`]
//! and made a valid GeoJSON geometry by [`crate::globe`]; and its pixel size
//! in metres.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::Dataset;

use crate::globe::{self, Pole, Shape};
use crate::outline;

/// Points per edge of the outline in the raster's CRS (`proj:geometry`,
/// and `proj:bbox` of a GCP raster): a GCP fit bends its edges.
const CRS_EDGE_POINTS: usize = 32;
/// Metres the traced outline may stray from the true one at least; else a
/// tenth of the raster's pixel size.
const MIN_TOLERANCE_M: f64 = 1.0;
/// Latitudes within this of ±90° are the pole (degrees).
const POLE_SLACK_DEG: f64 = 1e-6;

/// How pixel/line positions map to coordinates in the raster's CRS.
pub(crate) enum Grid {
    /// An affine geotransform.
    Affine([f64; 6]),
    /// A polynomial fitted to ground control points.
    Gcps(GcpTransformer),
}

impl Grid {
    /// Pixel/line → CRS coordinates, in place; false if any point failed.
    fn to_crs(&self, xs: &mut [f64], ys: &mut [f64]) -> bool {
        match self {
            Grid::Affine(gt) => {
                for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
                    (*x, *y) = (
                        gt[0] + *x * gt[1] + *y * gt[2],
                        gt[3] + *x * gt[4] + *y * gt[5],
                    );
                }
                true
            }
            Grid::Gcps(t) => t.transform(false, xs, ys),
        }
    }

    /// CRS coordinates → pixel/line.
    fn to_pixel(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self {
            Grid::Affine(gt) => {
                let det = gt[1] * gt[5] - gt[2] * gt[4];
                if det == 0.0 || !det.is_finite() {
                    return None;
                }
                let (dx, dy) = (x - gt[0], y - gt[3]);
                Some((
                    (gt[5] * dx - gt[2] * dy) / det,
                    (gt[1] * dy - gt[4] * dx) / det,
                ))
            }
            Grid::Gcps(t) => {
                let (mut xs, mut ys) = ([x], [y]);
                t.transform(true, &mut xs, &mut ys)
                    .then_some((xs[0], ys[0]))
            }
        }
    }
}

/// GDAL's polynomial GCP transformer (the one `gdalwarp` uses for GCPs).
pub(crate) struct GcpTransformer(*mut std::ffi::c_void);

impl GcpTransformer {
    /// The transformer for the dataset's GCPs, if it has enough of them.
    pub(crate) fn of(ds: &Dataset) -> Option<Self> {
        #[allow(unsafe_code)]
        // SAFETY: the GCP list belongs to the open dataset and is only read during the call;
        // GDAL copies what it needs into the transformer, which Drop destroys.
        unsafe {
            let h = ds.c_dataset();
            let n = gdal_sys::GDALGetGCPCount(h);
            if n < 3 {
                return None;
            }
            let t = gdal_sys::GDALCreateGCPTransformer(n, gdal_sys::GDALGetGCPs(h), 0, 0);
            (!t.is_null()).then_some(GcpTransformer(t))
        }
    }

    fn transform(&self, inverse: bool, xs: &mut [f64], ys: &mut [f64]) -> bool {
        let n = xs.len().min(ys.len());
        let mut zs = vec![0.0; n];
        let mut ok = vec![0; n];
        #[allow(unsafe_code)]
        // SAFETY: the arrays hold n points each; the transformer is alive.
        let all = unsafe {
            gdal_sys::GDALGCPTransform(
                self.0,
                i32::from(inverse),
                n as i32,
                xs.as_mut_ptr(),
                ys.as_mut_ptr(),
                zs.as_mut_ptr(),
                ok.as_mut_ptr(),
            )
        };
        all != 0 && ok.iter().all(|&s| s != 0) && xs.iter().chain(ys.iter()).all(|v| v.is_finite())
    }
}

impl Drop for GcpTransformer {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: created by GDALCreateGCPTransformer, destroyed once.
        unsafe {
            gdal_sys::GDALDestroyGCPTransformer(self.0)
        }
    }
}

/// What [`locate`] finds.
pub(crate) struct Location {
    /// The WGS84 geometry and bbox.
    pub wgs84: Shape,
    /// Mean pixel size in metres at the raster's centre.
    pub resolution_m: Option<f64>,
    /// What the footprint leaves out, or how it differs from the outline.
    pub notes: Vec<String>,
}

/// Why [`locate`] found no footprint.
pub(crate) struct Unlocated {
    pub reason: String,
    /// The raster's coordinates are not coordinates of its CRS (projected
    /// metres in a geographic CRS): its bbox in that CRS is nonsense too.
    pub out_of_range: bool,
}

impl From<String> for Unlocated {
    fn from(reason: String) -> Self {
        Unlocated {
            reason,
            out_of_range: false,
        }
    }
}

fn gis_order(srs: &SpatialRef) -> gdal::errors::Result<SpatialRef> {
    let mut s = SpatialRef::from_wkt(&srs.to_wkt()?)?;
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

/// The outline of a `width` × `height` raster in its CRS, by `grid`: its
/// corners for a geotransform, its edges densified for GCPs (open ring).
pub(crate) fn crs_outline(grid: &Grid, width: usize, height: usize) -> Option<Vec<(f64, f64)>> {
    let (w, h) = (width as f64, height as f64);
    let per_edge = match grid {
        Grid::Affine(_) => 1,
        Grid::Gcps(_) => CRS_EDGE_POINTS,
    };
    let corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h), (0.0, 0.0)];
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for pair in corners.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        for i in 0..per_edge {
            let t = i as f64 / per_edge as f64;
            xs.push(x0 + (x1 - x0) * t);
            ys.push(y0 + (y1 - y0) * t);
        }
    }
    grid.to_crs(&mut xs, &mut ys)
        .then(|| xs.into_iter().zip(ys).collect())
}

/// Where a `width` × `height` raster whose pixels `grid` places in `srs`
/// lies on Earth, or why it cannot be said. GDAL's and PROJ's messages about
/// points this probes (the poles, points off the Earth) are not kept.
pub(crate) fn locate(
    srs: &SpatialRef,
    grid: &Grid,
    width: usize,
    height: usize,
) -> Result<Location, Unlocated> {
    crate::gdal_env::quietly(|| locate_quietly(srs, grid, width, height))
}

fn locate_quietly(
    srs: &SpatialRef,
    grid: &Grid,
    width: usize,
    height: usize,
) -> Result<Location, Unlocated> {
    let gdal = |e: gdal::errors::GdalError| e.to_string();
    let src = gis_order(srs).map_err(gdal)?;
    let wgs84_srs = SpatialRef::from_epsg(4326)
        .and_then(|s| gis_order(&s))
        .map_err(gdal)?;
    let to_wgs84 = CoordTransform::new(&src, &wgs84_srs).map_err(gdal)?;
    let (w, h) = (width as f64, height as f64);
    let geographic = src.is_geographic();
    let deg_per_unit = if geographic {
        src.angular_units().to_degrees()
    } else {
        1.0
    };
    let range = match geographic {
        true => Some(geographic_range(grid, width, height, deg_per_unit)?),
        false => None,
    };
    let mut notes = Vec::new();
    if let Some(r) = range.as_ref().filter(|r| r.clamped) {
        notes.push(format!(
            "its outline passes ±90° latitude or {}° longitude by less than a pixel: clamped there",
            r.lon_limit
        ));
    }
    // Pixel/line → the raster's CRS (clamped to the globe) → WGS84.
    let project = |px: f64, py: f64| -> Option<(f64, f64)> {
        let (mut x, mut y) = ([px], [py]);
        if !grid.to_crs(&mut x, &mut y) {
            return None;
        }
        if let Some(r) = &range {
            let lat = 90.0 / deg_per_unit;
            let lon = r.lon_limit / deg_per_unit;
            (x[0], y[0]) = (x[0].clamp(-lon, lon), y[0].clamp(-lat, lat));
        }
        to_wgs84.transform_coords(&mut x, &mut y, &mut []).ok()?;
        let (lon, lat) = (x[0], y[0]);
        (lon.is_finite() && lat.is_finite() && lat.abs() <= 90.0 + POLE_SLACK_DEG)
            .then_some((lon, lat.clamp(-90.0, 90.0)))
    };
    let resolution_m = resolution_m(&src, &wgs84_srs, grid, w, h);
    let tolerance_m = resolution_m.map_or(MIN_TOLERANCE_M, |r| (r / 10.0).max(MIN_TOLERANCE_M));
    let traced = outline::trace(&project, w, h, tolerance_m).map_err(|e| e.to_string())?;
    if traced.partly_off_earth {
        notes.push("part of it is off the Earth: the footprint is its on-Earth part's".into());
    }
    if traced.coarse_segments > 0 {
        notes.push(format!(
            "its outline reached {} points with {} segment(s) still farther than {tolerance_m:.1} m from the true edge",
            outline::MAX_POINTS,
            traced.coarse_segments
        ));
    }
    let pole = contained_pole(&wgs84_srs, &src, grid, w, h);
    let wgs84 = globe::shape(&traced.ring, pole).ok_or_else(|| {
        "the outline is not finite or collapses to less than 1e-7° in WGS84".to_string()
    })?;
    if let Some(why) = &wgs84.invalid {
        notes.push(format!(
            "its outline is not a valid polygon ({why}): the footprint is its bounding box"
        ));
    }
    Ok(Location {
        wgs84,
        resolution_m,
        notes,
    })
}

/// How a geographic raster's outline sits in the range of longitude and latitude.
struct GeoRange {
    /// Longitudes are kept within ±this (degrees): 360, so that 0..360 grids
    /// and rasters that run past ±180° are as their files say.
    lon_limit: f64,
    /// Some coordinates were past the limits by less than a pixel.
    clamped: bool,
}

/// Checks a geographic raster's outline: past ±90° latitude, ±360°
/// longitude or 360° of width by less than a pixel it is clamped; by more,
/// its coordinates are not geographic ones (metres in a CRS mislabelled as
/// geographic, say) and there is no footprint.
fn geographic_range(
    grid: &Grid,
    width: usize,
    height: usize,
    deg_per_unit: f64,
) -> Result<GeoRange, Unlocated> {
    const LON_LIMIT: f64 = 360.0;
    let outline = crs_outline(grid, width, height)
        .ok_or("the ground control points do not place the outline".to_string())?;
    let deg: Vec<(f64, f64)> = outline
        .iter()
        .map(|&(x, y)| (x * deg_per_unit, y * deg_per_unit))
        .collect();
    // A pixel's extent in longitude and latitude at the raster's centre.
    let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
    let (mut xs, mut ys) = ([cx, cx + 1.0, cx], [cy, cy, cy + 1.0]);
    let pixel = if grid.to_crs(&mut xs, &mut ys) {
        (
            ((xs[1] - xs[0]).abs() + (xs[2] - xs[0]).abs()) * deg_per_unit,
            ((ys[1] - ys[0]).abs() + (ys[2] - ys[0]).abs()) * deg_per_unit,
        )
    } else {
        (0.0, 0.0)
    };
    let (west, south, east, north) = deg.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |b, &(x, y)| (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y)),
    );
    let lat_past = (north - 90.0).max(-90.0 - south);
    let lon_past = (east - LON_LIMIT).max(-LON_LIMIT - west);
    let wide_past = (east - west) - 360.0;
    let refuse = |what: String| Unlocated {
        reason: format!(
            "its coordinates are not geographic ones ({what}): is its CRS mislabelled? No footprint"
        ),
        out_of_range: true,
    };
    if lat_past > pixel.1 {
        return Err(refuse(format!(
            "latitudes from {south} to {north}, past ±90° by more than a pixel"
        )));
    }
    if lon_past > pixel.0 {
        return Err(refuse(format!(
            "longitudes from {west} to {east}, past ±{LON_LIMIT}° by more than a pixel"
        )));
    }
    if wide_past > pixel.0 {
        return Err(refuse(format!(
            "{}° wide, more than 360° by more than a pixel",
            east - west
        )));
    }
    Ok(GeoRange {
        lon_limit: LON_LIMIT,
        clamped: lat_past > 0.0 || lon_past > 0.0,
    })
}

/// The pole inside the raster, if any: the pole taken to the raster's CRS and
/// pixel grid lands within it. (A CRS that cannot represent the pole, such
/// as Mercator, has none inside.)
fn contained_pole(
    wgs84: &SpatialRef,
    src: &SpatialRef,
    grid: &Grid,
    w: f64,
    h: f64,
) -> Option<Pole> {
    let to_src = CoordTransform::new(wgs84, src).ok()?;
    [(Pole::North, 90.0), (Pole::South, -90.0)]
        .into_iter()
        .find(|&(_, lat)| {
            let (mut x, mut y) = ([0.0], [lat]);
            to_src.transform_coords(&mut x, &mut y, &mut []).is_ok()
                && x[0].is_finite()
                && y[0].is_finite()
                && grid
                    .to_pixel(x[0], y[0])
                    .is_some_and(|(px, py)| (0.0..=w).contains(&px) && (0.0..=h).contains(&py))
        })
        .map(|(p, _)| p)
}

/// The mean of a pixel's two sides in metres, at the raster's centre: the
/// side vectors come from the whole grid (so rotation does not shrink them),
/// in the CRS's linear unit, or for a geographic CRS from degrees on its
/// ellipsoid at the centre's latitude.
fn resolution_m(src: &SpatialRef, wgs84: &SpatialRef, grid: &Grid, w: f64, h: f64) -> Option<f64> {
    let (cx, cy) = (w / 2.0, h / 2.0);
    let mut xs = [cx, cx + 1.0, cx];
    let mut ys = [cy, cy, cy + 1.0];
    if !grid.to_crs(&mut xs, &mut ys) {
        return None;
    }
    let sides = [
        (xs[1] - xs[0], ys[1] - ys[0]),
        (xs[2] - xs[0], ys[2] - ys[0]),
    ];
    let metres = |(dx, dy): (f64, f64)| -> Option<f64> {
        if src.is_geographic() {
            // Degrees (or the CRS's angular unit) east and north at the centre's latitude.
            let to_deg = src.angular_units().to_degrees();
            let (mut lon, mut lat) = ([xs[0]], [ys[0]]);
            CoordTransform::new(src, wgs84)
                .ok()?
                .transform_coords(&mut lon, &mut lat, &mut [])
                .ok()?;
            let a = src.semi_major().ok()?;
            let b = src.semi_minor().ok()?;
            let e2 = 1.0 - (b * b) / (a * a);
            let phi = lat[0].to_radians();
            let s = 1.0 - e2 * phi.sin().powi(2);
            let n = a / s.sqrt(); // prime vertical radius
            let m = a * (1.0 - e2) / s.powf(1.5); // meridional radius
            let east = (dx * to_deg).to_radians() * n * phi.cos();
            let north = (dy * to_deg).to_radians() * m;
            Some(east.hypot(north))
        } else {
            Some(dx.hypot(dy) * src.linear_units())
        }
    };
    let (a, b) = (metres(sides[0])?, metres(sides[1])?);
    let mean = (a + b) / 2.0;
    (mean.is_finite() && mean > 0.0).then_some(mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_grid_round_trips() {
        let g = Grid::Affine([500000.0, 8.66, -5.0, 4000000.0, 5.0, 8.66]);
        let (mut xs, mut ys) = ([3.0], [7.0]);
        assert!(g.to_crs(&mut xs, &mut ys));
        let (px, py) = g.to_pixel(xs[0], ys[0]).unwrap();
        assert!((px - 3.0).abs() < 1e-9 && (py - 7.0).abs() < 1e-9);
    }
}
