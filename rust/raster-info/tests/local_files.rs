//! RasterInfo and STAC Items for rasters made by GDAL on local disk.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use raster_info::stac::{self, ItemSource};
use raster_info::{read_info, samples, ErrorKind, RasterInfo};

struct Samples {
    _dir: tempfile::TempDir,
    cog: PathBuf,
    striped: PathBuf,
    png: PathBuf,
    multiband: PathBuf,
    dir: PathBuf,
}

fn samples() -> &'static Samples {
    static S: OnceLock<Samples> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_path_buf();
        Samples {
            cog: samples::cog(&p, "cog.tif", 2048, true),
            striped: samples::striped_geotiff(&p, "striped.tif"),
            png: samples::png_without_crs(&p, "plain.png"),
            multiband: samples::multiband_nodata(&p, "multi.tif"),
            dir: p,
            _dir: dir,
        }
    })
}

fn info(path: &Path) -> RasterInfo {
    read_info(&path.display().to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn item(info: &RasterInfo, id: &str) -> serde_json::Value {
    let item = stac::item(
        info,
        &ItemSource {
            id: id.to_string(),
            ..ItemSource::file(info.path.clone(), Some("2025-01-02T03:04:05Z".into()))
        },
        "2026-01-01T00:00:00Z",
    );
    samples::assert_valid_stac(&item);
    item
}

#[test]
fn cog_is_described_and_validated() {
    let info = info(&samples().cog);
    assert_eq!(info.driver, "GTiff");
    assert_eq!((info.width, info.height), (2048, 2048));
    assert_eq!(info.bands.len(), 1);
    let band = &info.bands[0];
    assert_eq!(band.data_type, "Byte");
    assert_eq!(band.block_size, [512, 512]);
    assert_eq!(band.overviews, vec![[1024, 1024], [512, 512]]);
    let crs = info.crs.as_ref().unwrap();
    assert_eq!(crs.epsg, Some(32633));
    assert!(crs.wkt2.starts_with("PROJCRS["), "{}", crs.wkt2);
    assert_eq!(crs.projjson.as_ref().unwrap()["type"], "ProjectedCRS");
    assert_eq!(
        info.geotransform,
        Some([500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0])
    );
    assert_eq!(info.bbox, Some([500000.0, 4979520.0, 520480.0, 5000000.0]));
    let [w, s, e, n] = info.wgs84_bbox.unwrap();
    // UTM 33N at x=500000 is 15°E; 5000 km north is about 45.1°N.
    assert!(
        (14.99..15.27).contains(&w) && (15.0..15.3).contains(&e),
        "{w} {e}"
    );
    assert!(
        (44.9..45.2).contains(&s) && (44.9..45.2).contains(&n) && s < n,
        "{s} {n}"
    );
    assert_eq!(info.metadata["IMAGE_STRUCTURE"]["LAYOUT"], "COG");
    // Nothing about Stratus' own probing (the poles, outside UTM's domain).
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    let cog = info.cog.as_ref().unwrap();
    assert!(cog.valid && cog.tiled, "{cog:?}");
    assert!(cog.rules.iter().all(|r| r.passed), "{cog:?}");
    assert_eq!(cog.overviews, 2);
    let ghost = cog.ghost_header.as_ref().unwrap();
    assert_eq!(ghost["LAYOUT"], "IFDS_BEFORE_DATA");

    let item = item(&info, "cog");
    assert_eq!(
        item["properties"]["datetime"], "2024-03-05T10:11:12Z",
        "TIFFTAG_DATETIME wins"
    );
    assert_eq!(
        item["properties"]["stratus:datetime_source"],
        "metadata:TIFFTAG_DATETIME"
    );
    assert_eq!(item["properties"]["proj:code"], "EPSG:32633");
    assert_eq!(
        item["properties"]["proj:shape"],
        serde_json::json!([2048, 2048])
    );
    assert_eq!(
        item["properties"]["proj:transform"],
        serde_json::json!([10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0])
    );
    assert_eq!(
        item["assets"]["data"]["type"],
        "image/tiff; application=geotiff; profile=cloud-optimized"
    );
    assert_eq!(
        item["assets"]["data"]["raster:bands"][0]["data_type"],
        "uint8"
    );
    assert_eq!(
        item["assets"]["data"]["raster:bands"][0]["spatial_resolution"],
        10.0
    );
    assert_eq!(item["geometry"]["type"], "Polygon");
    assert_eq!(item["bbox"].as_array().unwrap().len(), 4);
}

#[test]
fn striped_geotiff_is_not_a_cog() {
    let info = info(&samples().striped);
    let cog = info.cog.as_ref().unwrap();
    assert!(!cog.valid && !cog.tiled, "{cog:?}");
    let failed = |name: &str| cog.rule(name).is_some_and(|r| !r.passed);
    assert!(failed("tiled") && failed("overviews"), "{cog:#?}");
    assert!(!cog.rule("overviews").unwrap().required);
    assert_eq!(info.crs.as_ref().unwrap().epsg, Some(4326));
    assert_eq!(info.wgs84_bbox, Some([10.0, 49.0, 11.0, 50.0]));
    let item = item(&info, "striped");
    assert_eq!(
        item["assets"]["data"]["type"],
        "image/tiff; application=geotiff"
    );
    assert_eq!(
        item["properties"]["datetime"], "2025-01-02T03:04:05Z",
        "falls back to last-modified"
    );
}

#[test]
fn png_without_crs_gets_an_item_without_geometry() {
    let info = info(&samples().png);
    assert_eq!(info.driver, "PNG");
    assert!(info.crs.is_none() && info.geotransform.is_none() && info.footprint.is_none());
    assert!(info.cog.is_none());
    assert!(
        info.warnings.iter().any(|w| w.contains("no CRS")),
        "{:?}",
        info.warnings
    );
    assert_eq!(
        info.bands
            .iter()
            .map(|b| b.color_interpretation.as_str())
            .collect::<Vec<_>>(),
        ["Red", "Green", "Blue"]
    );
    let item = item(&info, "plain");
    assert!(item["geometry"].is_null());
    assert!(item.get("bbox").is_none());
    assert!(item["properties"]["proj:code"].is_null());
    assert_eq!(item["assets"]["data"]["type"], "image/png");
    assert_eq!(item["assets"]["data"]["eo:bands"][0]["common_name"], "red");
}

#[test]
fn multiband_nodata_scale_offset_units() {
    let info = info(&samples().multiband);
    assert_eq!(info.bands.len(), 4);
    for (b, name) in info.bands.iter().zip(["blue", "green", "red", "nir"]) {
        assert_eq!(b.data_type, "Float32");
        assert_eq!(b.nodata.map(|n| n.0), Some(-9999.0));
        assert_eq!(b.scale, Some(0.01));
        assert_eq!(b.offset, Some(5.0));
        assert_eq!(b.unit.as_deref(), Some("W/m2/sr/um"));
        assert_eq!(b.description.as_deref(), Some(name));
    }
    assert_eq!(info.crs.as_ref().unwrap().epsg, Some(3857));
    let item = item(&info, "multi");
    let rb = &item["assets"]["data"]["raster:bands"];
    assert_eq!(rb[0]["nodata"], -9999);
    assert_eq!(rb[0]["scale"], 0.01);
    assert_eq!(rb[0]["offset"], 5.0);
    assert_eq!(rb[3]["unit"], "W/m2/sr/um");
    assert_eq!(item["assets"]["data"]["eo:bands"][3]["name"], "nir");
    assert_eq!(
        item["properties"]["datetime"], "2023-07-01T12:00:00Z",
        "acquisition time wins"
    );
}

#[test]
fn bad_inputs_have_specific_errors() {
    let dir = &samples().dir;
    let text = dir.join("notes.txt");
    std::fs::write(&text, "just some text, not a raster\n").unwrap();
    let corrupt = dir.join("corrupt.tif");
    std::fs::write(&corrupt, samples::corrupt_tiff()).unwrap();
    let empty = dir.join("empty.tif");
    std::fs::write(&empty, b"").unwrap();
    let cases = [
        (text, ErrorKind::NotARaster),
        (corrupt, ErrorKind::CorruptRaster),
        (empty, ErrorKind::NotARaster),
        (dir.join("missing.tif"), ErrorKind::NotFound),
    ];
    for (path, kind) in cases {
        let err = read_info(&path.display().to_string()).unwrap_err();
        assert_eq!(err.kind, kind, "{}: {err}", path.display());
        assert!(!err.message.is_empty());
    }
}

#[test]
fn datetime_comes_from_the_usual_date_tags_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // An acquisition time before DATE, DATE before TIFF's DateTime; keys in any case.
        (
            &[
                "-mo",
                "date=2021/06/01",
                "-mo",
                "TIFFTAG_DATETIME=2024:03:05 10:11:12",
            ][..],
            "2021-06-01T00:00:00Z",
            "metadata:date",
        ),
        (
            &[
                "-mo",
                "DATE=2021-06-01",
                "-mo",
                "ACQUISITION_DATE=2020-01-02T03:04:05.25Z",
            ][..],
            "2020-01-02T03:04:05.25Z",
            "metadata:ACQUISITION_DATE",
        ),
        (
            &["-mo", "DATE=not a date"][..],
            "2025-01-02T03:04:05Z",
            "object",
        ),
    ];
    for (i, (tags, want, source)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("dated{i}.tif"));
        samples::Blank {
            size: [8, 8],
            data_type: "Byte",
            burn: &[1],
            srs: Some("EPSG:4326"),
            ullr: Some([10.0, 50.0, 11.0, 49.0]),
            extra: tags,
        }
        .create(&path);
        let item = item(&info(&path), "dated");
        assert_eq!(item["properties"]["datetime"], want, "{tags:?}");
        assert_eq!(
            item["properties"]["stratus:datetime_source"], source,
            "{tags:?}"
        );
    }
}

#[test]
fn file_size_and_checksum_go_to_the_asset_with_the_file_extension() {
    let info = info(&samples().striped);
    let item = stac::item(
        &info,
        &ItemSource {
            size: Some(2_098_176),
            sha256: Some([0xab; 32]),
            ..ItemSource::file(info.path.clone(), None)
        },
        "2026-01-01T00:00:00Z",
    );
    samples::assert_valid_stac(&item);
    let asset = &item["assets"]["data"];
    assert_eq!(asset["file:size"], 2_098_176);
    assert_eq!(asset["file:checksum"], format!("1220{}", "ab".repeat(32)));
    assert!(item["stac_extensions"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(stac::FILE)));
    assert_eq!(item["properties"]["stratus:datetime_source"], "processing");
}
