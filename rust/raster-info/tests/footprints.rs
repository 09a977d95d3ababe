//! Footprints, bboxes, pixel sizes and projection fields anywhere on Earth,
//! for rasters made by GDAL here (VRTs for large ones: no pixels needed),
//! checked against truths computed without Stratus (`footprint_truth.py`:
//! gdaltransform, shapely, pyproj: every pixel-edge sample inside the
//! footprint within the stated tolerance) and validated with the STAC
//! extension schemas.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::path::{Path, PathBuf};

use gdal::spatial_ref::SpatialRef;
use gdal::DriverManager;
use raster_info::stac::{self, ItemSource};
use raster_info::{read_info, samples, Georeferencing, RasterInfo};
use serde_json::{json, Value};

/// A 200 × 200 GeoTIFF in `srs` covering `ullr` (upper-left x/y, lower-right x/y).
fn raster(dir: &Path, name: &str, srs: &str, ullr: [f64; 4]) -> PathBuf {
    let out = dir.join(name);
    let ullr: Vec<String> = ullr.iter().map(|v| v.to_string()).collect();
    let status = samples::system_tool("gdal_create")
        .args([
            "-q", "-of", "GTiff", "-outsize", "200", "200", "-a_srs", srs, "-a_ullr",
        ])
        .args(&ullr)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "gdal_create {name}");
    out
}

fn item_of(info: &RasterInfo, path: &Path) -> Value {
    let source = ItemSource::file(path.display().to_string(), None);
    stac::item(info, &source, "2026-01-01T00:00:00Z")
}

/// The Item of `path`, valid against the STAC schemas and the truths in `expect`.
fn check(path: &Path, expect: Value) -> (RasterInfo, Value) {
    let info = read_info(&path.display().to_string()).unwrap();
    let item = item_of(&info, path);
    samples::assert_valid_stac(&item);
    let item_file = path.with_extension("item.json");
    let expect_file = path.with_extension("expect.json");
    std::fs::write(&item_file, item.to_string()).unwrap();
    std::fs::write(&expect_file, expect.to_string()).unwrap();
    let python = std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python").to_string()
    });
    let out = samples::system_tool(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/footprint_truth.py"
        ))
        .args([path, &item_file, &expect_file])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success(),
        "{}: {}{}\nItem geometry: {}\nbbox: {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        item["geometry"]
            .to_string()
            .chars()
            .take(2000)
            .collect::<String>(),
        item["bbox"]
    );
    (info, item)
}

fn expect(split: bool, pole: Option<&str>, resolution: Value) -> Value {
    json!({"split": split, "pole": pole, "resolution": resolution})
}

#[test]
fn rasters_across_the_antimeridian_are_cut_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        // Fiji in the Pacific Mercator (EPSG:3832, centred on 150°E): 177°E to 177°W.
        raster(
            d,
            "fiji-3832.tif",
            "EPSG:3832",
            [2_990_000.0, -1_700_000.0, 3_650_000.0, -2_150_000.0],
        ),
        // UTM 60 south, east past 180° (~178.9°E to 181.3°E).
        raster(
            d,
            "utm60.tif",
            "EPSG:32760",
            [700_000.0, 8_200_000.0, 950_000.0, 8_000_000.0],
        ),
        // UTM 1 north, west past -180° (at 60°N, ~178.1°E to 177.9°W).
        raster(
            d,
            "utm1.tif",
            "EPSG:32601",
            [250_000.0, 6_750_000.0, 450_000.0, 6_550_000.0],
        ),
        // Geographic, 170° to 190°.
        raster(d, "geo-190.tif", "EPSG:4326", [170.0, 10.0, 190.0, 0.0]),
        // Polar stereographic north across 180° without the pole.
        raster(
            d,
            "arctic-180.tif",
            "EPSG:3413",
            [-1_700_000.0, 1_700_000.0, -1_100_000.0, 1_100_000.0],
        ),
    ];
    for path in &cases {
        let (info, item) = check(path, expect(true, None, Value::Null));
        assert_eq!(
            item["geometry"]["type"],
            "MultiPolygon",
            "{}",
            path.display()
        );
        let b = info.wgs84_bbox.unwrap();
        assert!(b[0] > 0.0 && b[2] < 0.0, "{}: {b:?}", path.display());
    }
}

#[test]
fn geographic_rasters_past_180_are_brought_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = raster(
        dir.path(),
        "geo-east.tif",
        "EPSG:4326",
        [190.0, 10.0, 200.0, 0.0],
    );
    let (info, _) = check(&path, expect(false, None, json!("geodesic")));
    assert_eq!(info.wgs84_bbox, Some([-170.0, 0.0, -160.0, 10.0]));
}

#[test]
fn rasters_containing_a_pole_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let north = raster(
        d,
        "arctic.tif",
        "EPSG:3413",
        [-1_000_000.0, 1_000_000.0, 1_000_000.0, -1_000_000.0],
    );
    let south = raster(
        d,
        "antarctic.tif",
        "EPSG:3031",
        [-1_500_000.0, 1_000_000.0, 500_000.0, -1_000_000.0],
    );
    for (path, pole) in [(north, "north"), (south, "south")] {
        let (info, item) = check(&path, expect(false, Some(pole), Value::Null));
        assert_eq!(item["geometry"]["type"], "Polygon");
        let b = info.wgs84_bbox.unwrap();
        assert_eq!((b[0], b[2]), (-180.0, 180.0));
    }
}

#[test]
fn rotated_and_geographic_pixels_are_measured_in_metres() {
    let dir = tempfile::tempdir().unwrap();
    // 10 m pixels rotated by 30° (UTM 33N).
    let rotated = dir.path().join("rotated.tif");
    {
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<u8, _>(&rotated, 200, 200, 1)
            .unwrap();
        let (c, s) = (
            30f64.to_radians().cos() * 10.0,
            30f64.to_radians().sin() * 10.0,
        );
        ds.set_geo_transform(&[500_000.0, c, s, 5_000_000.0, s, -c])
            .unwrap();
        ds.set_spatial_ref(&SpatialRef::from_epsg(32633).unwrap())
            .unwrap();
    }
    let (info, item) = check(&rotated, expect(false, None, json!(10.0)));
    assert!(
        (info.resolution_m.unwrap() - 10.0).abs() < 1e-6,
        "{:?}",
        info.resolution_m
    );
    assert_eq!(
        item["assets"]["data"]["raster:bands"][0]["spatial_resolution"],
        10.0
    );
    // 0.001° pixels at 60°N: about 56 m east-west and 111 m north-south.
    let geo = raster(
        dir.path(),
        "geo-60.tif",
        "EPSG:4326",
        [10.0, 60.2, 10.2, 60.0],
    );
    let (info, _) = check(&geo, expect(false, None, json!("geodesic")));
    let r = info.resolution_m.unwrap();
    assert!((80.0..86.0).contains(&r), "{r}");
}

#[test]
fn rasters_placed_by_ground_control_points() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain(dir.path(), "plain.tif", 200);
    // Five GCPs of a 20 m grid in UTM 33N, slightly sheared, as an L1 product has them.
    let gcps = dir.path().join("gcps.tif");
    let mut cmd = samples::system_tool("gdal_translate");
    cmd.args(["-q", "-a_srs", "EPSG:32633"]);
    for (px, ln, x, y) in [
        (0.0, 0.0, 500_000.0, 5_000_000.0),
        (200.0, 0.0, 504_000.0, 5_000_300.0),
        (200.0, 200.0, 504_300.0, 4_996_300.0),
        (0.0, 200.0, 500_300.0, 4_996_000.0),
        (100.0, 100.0, 502_150.0, 4_998_150.0),
    ] {
        cmd.args([
            "-gcp",
            &px.to_string(),
            &ln.to_string(),
            &x.to_string(),
            &y.to_string(),
        ]);
    }
    assert!(cmd.arg(&plain).arg(&gcps).status().unwrap().success());
    let (info, item) = check(&gcps, expect(false, None, Value::Null));
    assert!(info.crs.is_none() && info.geotransform.is_none());
    let g = info.gcps.as_ref().unwrap();
    assert_eq!(g.points.len(), 5);
    assert_eq!(g.crs.as_ref().and_then(|c| c.epsg), Some(32633));
    assert_eq!(info.georeferencing, Some(Georeferencing::Gcps));
    assert_eq!(item["properties"]["proj:code"], "EPSG:32633");
    assert_eq!(item["properties"]["stratus:georeferencing"], "gcps");
    assert!(item["properties"].get("proj:transform").is_none());
    let b = item["properties"]["proj:bbox"].as_array().unwrap();
    assert_eq!(b[0], 500_000.0);
    assert_eq!(b[2], 504_300.0);
}

/// A GeoTIFF of `size` × `size` pixels with no georeferencing at all.
fn plain(dir: &Path, name: &str, size: u32) -> PathBuf {
    let out = dir.join(name);
    let size = size.to_string();
    let status = samples::system_tool("gdal_create")
        .args(["-q", "-of", "GTiff", "-outsize", &size, &size])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "gdal_create {name}");
    out
}

/// The Item of `path` is valid STAC without geometry or bbox, and the
/// metadata's warnings say why (`warning`).
fn assert_no_geometry(path: &Path, warning: &str) {
    let info = read_info(&path.display().to_string()).unwrap();
    let item = item_of(&info, path);
    samples::assert_valid_stac(&item);
    assert_eq!(item["geometry"], Value::Null);
    assert!(item.get("bbox").is_none());
    assert!(
        info.warnings.iter().any(|w| w.contains(warning)),
        "{:?}",
        info.warnings
    );
}

#[test]
fn a_raster_too_small_to_outline_has_no_geometry() {
    // 200 pixels of 1e-10°: the outline is 2e-8° wide, less than the 1e-7° of the coordinates.
    let dir = tempfile::tempdir().unwrap();
    let path = raster(
        dir.path(),
        "speck.tif",
        "EPSG:4326",
        [10.0, 50.0, 10.00000002, 49.99999998],
    );
    assert_no_geometry(&path, "collapses");
}

#[test]
fn a_raster_without_crs_has_no_geometry() {
    let dir = tempfile::tempdir().unwrap();
    assert_no_geometry(&plain(dir.path(), "nocrs.tif", 20), "no CRS");
}

#[test]
fn crs_given_as_proj_strings_are_identified() {
    let dir = tempfile::tempdir().unwrap();
    // A VRT keeps the CRS as written (GeoTIFF would store an EPSG code when it knows one).
    for (i, (srs, want)) in [
        ("+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs", Some(32633)),
        ("+proj=longlat +datum=WGS84 +no_defs", Some(4326)),
        (
            "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
            Some(3413),
        ),
        ("+proj=tmerc +lat_0=12.3 +lon_0=45.6 +k=0.9999 +x_0=100 +y_0=0 +datum=WGS84 +units=m", None),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("crs{i}.vrt"));
        std::fs::write(
            &path,
            format!(
                r#"<VRTDataset rasterXSize="8" rasterYSize="8"><SRS>{srs}</SRS>
                <GeoTransform>0, 1, 0, 0, 0, -1</GeoTransform>
                <VRTRasterBand dataType="Byte" band="1"/></VRTDataset>"#
            ),
        )
        .unwrap();
        let info = read_info(&path.display().to_string()).unwrap();
        let crs = info.crs.as_ref().unwrap();
        assert_eq!(crs.epsg, want, "{srs}: {:?}", crs.name);
        let item = item_of(&info, &path);
        let code = want.map(|c| format!("EPSG:{c}"));
        assert_eq!(item["properties"]["proj:code"], json!(code), "{srs}");
    }
}

/// A VRT of `size` pixels (no pixel data: a big raster for nothing) in
/// `srs`, placed by the geotransform `gt`.
fn vrt(dir: &Path, name: &str, srs: &str, size: [usize; 2], gt: [f64; 6]) -> PathBuf {
    let out = dir.join(name);
    let gt: Vec<String> = gt.iter().map(|v| format!("{v:.17}")).collect();
    std::fs::write(
        &out,
        format!(
            r#"<VRTDataset rasterXSize="{}" rasterYSize="{}"><SRS>{srs}</SRS>
            <GeoTransform>{}</GeoTransform><VRTRasterBand dataType="Byte" band="1"/></VRTDataset>"#,
            size[0],
            size[1],
            gt.join(", ")
        ),
    )
    .unwrap();
    out
}

fn edges(pole: Option<&str>) -> Value {
    json!({"split": false, "pole": pole, "resolution": null, "edges": true})
}

#[test]
fn curved_edges_are_traced_within_the_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Polar: 2,000 km of 1 km pixels round the north pole (EPSG:3413).
    let polar = vrt(
        d,
        "polar.vrt",
        "EPSG:3413",
        [2000, 2000],
        [-1e6, 1000.0, 0.0, 1e6, 0.0, -1000.0],
    );
    check(&polar, edges(Some("north")));
    // Near-polar: an Antarctic raster whose left edge passes 20 km from the
    // pole: its longitudes sweep through nearly 180° there.
    let near = vrt(
        d,
        "near-polar.vrt",
        "EPSG:3031",
        [1000, 1000],
        [20_000.0, 1000.0, 0.0, 500_000.0, 0.0, -1000.0],
    );
    let (info, _) = check(&near, edges(None));
    let b = info.wgs84_bbox.unwrap();
    assert!(
        b[1] < -89.8,
        "{b:?} misses the closest approach to the pole"
    );
    // Continental: Europe's equal-area grid (EPSG:3035), 4,000 km of 100 m pixels.
    let continent = vrt(
        d,
        "europe.vrt",
        "EPSG:3035",
        [40_000, 40_000],
        [2_500_000.0, 100.0, 0.0, 5_500_000.0, 0.0, -100.0],
    );
    check(&continent, edges(None));
    // Rotated: 30° in the Arctic's stereographic grid, 2,000 km of 200 m pixels.
    let (c, s) = (
        30f64.to_radians().cos() * 200.0,
        30f64.to_radians().sin() * 200.0,
    );
    let rotated = vrt(
        d,
        "rotated.vrt",
        "EPSG:3413",
        [10_000, 10_000],
        [500_000.0, c, s, -1_000_000.0, s, -c],
    );
    check(&rotated, edges(None));
}

#[test]
fn full_disk_scenes_get_their_on_earth_part() {
    let dir = tempfile::tempdir().unwrap();
    // Meteosat's full disk: 500 × 500 pixels of 22 km, corners in space.
    let disk = vrt(
        dir.path(),
        "full-disk.vrt",
        "+proj=geos +h=35785831 +lon_0=0 +datum=WGS84 +units=m +no_defs",
        [500, 500],
        [-5_568_748.0, 22_275.0, 0.0, 5_568_748.0, 0.0, -22_275.0],
    );
    let (info, item) = check(
        &disk,
        json!({"split": false, "pole": null, "resolution": null, "edges": true, "off_earth": true}),
    );
    assert_eq!(item["geometry"]["type"], "Polygon");
    let b = info.wgs84_bbox.unwrap();
    // The visible disk reaches about 81° from the point below the satellite.
    assert!(
        b[0] < -75.0 && b[2] > 75.0 && b[1] < -75.0 && b[3] > 75.0,
        "{b:?}"
    );
    assert!(
        info.warnings.iter().any(|w| w.contains("off the Earth")),
        "{:?}",
        info.warnings
    );
}

#[test]
fn coordinates_outside_the_globe_are_clamped_within_a_pixel_and_refused_beyond() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // UTM metres labelled EPSG:4326: latitudes in the millions.
    let mislabelled = raster(
        d,
        "mislabelled.tif",
        "EPSG:4326",
        [500_000.0, 5_000_000.0, 510_000.0, 4_990_000.0],
    );
    assert_no_geometry(&mislabelled, "not geographic");
    let info = read_info(&mislabelled.display().to_string()).unwrap();
    let item = item_of(&info, &mislabelled);
    assert!(item["properties"].get("proj:bbox").is_none(), "{item:#}");
    // 380° wide: more than a pixel past 360°.
    let wide = vrt(
        d,
        "too-wide.vrt",
        "EPSG:4326",
        [380, 180],
        [-190.0, 1.0, 0.0, 90.0, 0.0, -1.0],
    );
    assert_no_geometry(&wide, "360°");
    // Cells centred on the poles (2° pixels from 91°N to 91°S): clamped to ±90°, one band.
    let poles = vrt(
        d,
        "pole-centred.vrt",
        "EPSG:4326",
        [180, 91],
        [-180.0, 2.0, 0.0, 91.0, 0.0, -2.0],
    );
    let (info, _) = check(
        &poles,
        json!({"split": false, "pole": null, "resolution": null, "band": [-90, 90]}),
    );
    assert!(
        info.warnings.iter().any(|w| w.contains("clamped")),
        "{:?}",
        info.warnings
    );
}

#[test]
fn rasters_360_degrees_wide_are_one_band() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let band = |south: f64, north: f64| json!({"split": false, "pole": null, "resolution": null, "band": [south, north]});
    // A 0..360 global grid.
    let global = vrt(
        d,
        "0-360.vrt",
        "EPSG:4326",
        [360, 180],
        [0.0, 1.0, 0.0, 90.0, 0.0, -1.0],
    );
    check(&global, band(-90.0, 90.0));
    // Half a pixel past 360° in all (cell centres at ±180°).
    let centred = vrt(
        d,
        "centred.vrt",
        "EPSG:4326",
        [721, 100],
        [-180.25, 0.5, 0.0, 50.0, 0.0, -0.5],
    );
    check(&centred, band(0.0, 50.0));
    // World-wide Web Mercator.
    let m = 20_037_508.342_789_244;
    let mercator = vrt(
        d,
        "web-mercator.vrt",
        "EPSG:3857",
        [512, 512],
        [-m, 2.0 * m / 512.0, 0.0, m, 0.0, -2.0 * m / 512.0],
    );
    let (info, _) = check(&mercator, band(-85.0511288, 85.0511288));
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

#[test]
fn gcps_in_another_crs_than_the_dataset_decide_every_projection_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gcps-other-crs.vrt");
    let gcps: String = [
        (0.0, 0.0, 500_000.0, 5_000_000.0),
        (200.0, 0.0, 504_000.0, 5_000_300.0),
        (200.0, 200.0, 504_300.0, 4_996_300.0),
        (0.0, 200.0, 500_300.0, 4_996_000.0),
    ]
    .iter()
    .enumerate()
    .map(|(i, (p, l, x, y))| format!(r#"<GCP Id="{i}" Pixel="{p}" Line="{l}" X="{x}" Y="{y}"/>"#))
    .collect();
    std::fs::write(
        &path,
        format!(
            r#"<VRTDataset rasterXSize="200" rasterYSize="200"><SRS>EPSG:4326</SRS>
            <GCPList Projection="EPSG:32633">{gcps}</GCPList>
            <VRTRasterBand dataType="Byte" band="1"/></VRTDataset>"#
        ),
    )
    .unwrap();
    let (info, item) = check(&path, expect(false, None, Value::Null));
    assert_eq!(info.crs.as_ref().and_then(|c| c.epsg), Some(4326));
    let p = &item["properties"];
    assert_eq!(p["proj:code"], "EPSG:32633");
    let near = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-3;
    let b = p["proj:bbox"].as_array().unwrap();
    assert!(near(&b[0], 500_000.0) && near(&b[3], 5_000_300.0), "{b:?}");
    assert_eq!(p["proj:geometry"]["type"], "Polygon");
    let ring = p["proj:geometry"]["coordinates"][0].as_array().unwrap();
    assert!(
        near(&ring[0][0], 500_000.0) && near(&ring[0][1], 5_000_000.0),
        "{ring:?}"
    );
}
