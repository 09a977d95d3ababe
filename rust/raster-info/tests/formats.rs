//! Every format and codec gdal-lambda reads, through the upload path (our
//! reads, the allowed drivers, GDAL locked down), on the GDAL build the image
//! ships, each Item held against `gdalinfo -json` of the local copy run by the
//! same build (`STRATUS_GDALINFO`; `just test-rust` sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use raster_info::format_samples::{self, Sample};
use raster_info::stac::{self, ItemSource};
use raster_info::{lockdown, read_object_info, samples, Limits, Object, RangeReader, HEADER_BYTES};
use serde_json::Value;

struct Memory(Vec<u8>);

impl RangeReader for Memory {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let start = offset as usize;
        Ok(self.0[start..start + len].to_vec())
    }
}

fn gdalinfo() -> String {
    std::env::var("STRATUS_GDALINFO")
        .expect("STRATUS_GDALINFO: the gdalinfo of the GDAL build the suites link (just test-rust)")
}

fn gdalinfo_json(path: &str) -> Value {
    let out = Command::new(gdalinfo())
        .args(["-json", "--config", "CPL_ENABLE_USERFAULTFD", "NO", path])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gdalinfo {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn upload(sample: &Sample) -> Object {
    let name = sample.path.file_name().unwrap().to_string_lossy();
    upload_bytes(&name, std::fs::read(&sample.path).unwrap())
}

fn upload_bytes(name: &str, bytes: Vec<u8>) -> Object {
    Object {
        name: format!("s3://formats/{name}"),
        size: bytes.len() as u64,
        head: bytes[..bytes.len().min(HEADER_BYTES)].to_vec(),
        reader: Arc::new(Memory(bytes)),
    }
}

/// `sample` read as an upload, and its Item (held against the schemas).
fn item_of(sample: &Sample) -> (raster_info::RasterInfo, Value) {
    let object = upload(sample);
    let shown = object.name.clone();
    let info = read_object_info(object, &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", sample.name));
    let item = stac::item(
        &info,
        &ItemSource::file(shown, None),
        "2026-01-01T00:00:00Z",
    );
    samples::assert_valid_stac(&item);
    (info, item)
}

/// The GeoTIFF compressions the GDAL build reports (its manifest).
fn build_codecs() -> Vec<String> {
    let manifest = Path::new(&gdalinfo())
        .parent()
        .unwrap()
        .join("../gdal-build.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    m["gtiff_codecs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_format_and_codec_reads_as_gdalinfo_of_the_same_build_says() {
    let dir = tempfile::tempdir().unwrap();
    let all = format_samples::all(dir.path());
    let report = lockdown();
    assert!(report.proj_through_vsi, "{report:?}");
    let mut seen_codecs = Vec::new();
    for sample in &all {
        let (info, item) = item_of(sample);
        let shown = upload(sample).name;
        assert_eq!(info.driver, sample.driver, "{}", sample.name);
        // The truth: gdalinfo of the local file (for a container, of its grid).
        let local = sample.path.display().to_string();
        let truth_path = info
            .grid
            .as_deref()
            .map_or(local.clone(), |g| g.replace(&shown, &local));
        let truth = gdalinfo_json(&truth_path);
        let stac_truth = &truth["stac"];
        let props = &item["properties"];
        let what = format!("{}: ours {props:#}\ntruth {stac_truth:#}", sample.name);
        // GDAL leaves CF latitude/longitude grids without a CRS; Stratus takes them as WGS 84, and says so.
        let assumed = info
            .warnings
            .iter()
            .any(|w| w.starts_with("no CRS in the file"));
        match stac_truth.get("proj:epsg").and_then(Value::as_u64) {
            Some(code) => assert_eq!(props["proj:code"], format!("EPSG:{code}"), "{what}"),
            None if assumed => assert_eq!(props["proj:code"], "EPSG:4326", "{what}"),
            None => assert!(
                props.get("proj:code").is_none_or(Value::is_null)
                    || stac_truth.get("proj:wkt2").is_some(),
                "{what}"
            ),
        }
        if let Some(shape) = stac_truth.get("proj:shape") {
            assert_eq!(&props["proj:shape"], shape, "{what}");
        }
        if let Some(t) = stac_truth.get("proj:transform").and_then(Value::as_array) {
            let ours = props["proj:transform"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}"));
            for (a, b) in ours.iter().zip(t) {
                assert!(
                    (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9,
                    "{what}"
                );
            }
        }
        if info.grid.is_none() {
            let bands = item["assets"]["data"]["raster:bands"].as_array();
            let truth_bands = stac_truth["raster:bands"].as_array();
            match (bands, truth_bands) {
                (Some(ours), Some(truth)) => {
                    assert_eq!(ours.len(), truth.len(), "{what}");
                    for (o, t) in ours.iter().zip(truth) {
                        assert_eq!(o["data_type"], t["data_type"], "{what}");
                    }
                }
                (None, None) => {}
                (ours, truth) => panic!("bands {ours:?} vs {truth:?}: {what}"),
            }
        } else {
            // A container's asset lists no bands: its variables are the cube's.
            assert!(
                item["assets"]["data"].get("raster:bands").is_none(),
                "{what}"
            );
        }
        if let Some(codec) = sample.codec {
            let compression = info
                .metadata
                .get("IMAGE_STRUCTURE")
                .and_then(|m| m.get("COMPRESSION"))
                .cloned()
                .unwrap_or_default();
            let truth_compression = truth["metadata"]["IMAGE_STRUCTURE"]["COMPRESSION"]
                .as_str()
                .unwrap_or("");
            assert_eq!(compression, truth_compression, "{}", sample.name);
            seen_codecs.push(codec.trim_end_matches("12").to_string());
        }
    }
    // Every GeoTIFF compression the build has is read (CCITT's fax codecs aside: bilevel only).
    for codec in build_codecs() {
        let codec = codec.to_ascii_uppercase();
        if codec != "CCITT" {
            assert!(seen_codecs.contains(&codec), "no sample for {codec}");
        }
    }
}

#[test]
fn multidimensional_files_get_datacube_items() {
    let dir = tempfile::tempdir().unwrap();
    let all = format_samples::all(dir.path());
    lockdown();
    let by_name = |n: &str| all.iter().find(|s| s.name == n).unwrap();

    // CF netCDF-4: time, latitude and longitude; two variables on one grid.
    let cf = by_name("netcdf4-cf");
    let (info, item) = item_of(cf);
    let props = &item["properties"];
    let dims = &props["cube:dimensions"];
    assert_eq!(dims["time"]["type"], "temporal", "{dims:#}");
    assert_eq!(
        dims["time"]["extent"],
        serde_json::json!(["2000-01-01T00:00:00Z", "2000-03-01T00:00:00Z"])
    );
    assert_eq!(dims["lon"]["axis"], "x");
    assert_eq!(dims["lat"]["axis"], "y");
    let vars = &props["cube:variables"];
    for (name, unit) in [("tas", "K"), ("pr", "mm/day")] {
        assert_eq!(
            vars[name]["dimensions"],
            serde_json::json!(["time", "lat", "lon"]),
            "{vars:#}"
        );
        assert_eq!(vars[name]["unit"], unit);
        assert_eq!(vars[name]["variable_type"], "data");
        assert_eq!(vars[name]["nodata"], -9999);
    }
    assert_eq!(vars["time"]["variable_type"], "auxiliary");
    assert!(
        item["geometry"].is_object(),
        "a georeferenced grid gives a footprint: {:?} {:?}",
        info.grid,
        info.warnings
    );

    // Generic HDF5: a variable with dimension scales, and no georeferencing GDAL knows.
    let h5 = by_name("hdf5-h5py");
    let (_, item) = item_of(h5);
    let vars = &item["properties"]["cube:variables"];
    assert_eq!(vars["science/temperature"]["unit"], "K", "{vars:#}");
    assert_eq!(
        vars["science/temperature"]["description"],
        "air temperature"
    );
    assert_eq!(
        vars["science/temperature"]["dimensions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // No empty band list; a shape only where there is a raster (GDAL opens this
    // file's one 2-D dataset as the raster itself).
    let asset = &item["assets"]["data"];
    match asset.get("raster:bands") {
        Some(bands) => {
            assert!(!bands.as_array().unwrap().is_empty(), "{item:#}");
            assert_eq!(
                item["properties"]["proj:shape"],
                serde_json::json!([20, 30])
            );
        }
        None => assert!(item["properties"].get("proj:shape").is_none(), "{item:#}"),
    }
}

/// `tiff` (classic little-endian) with its first IFD's Compression set to `code`.
fn with_compression(mut tiff: Vec<u8>, code: u16) -> Vec<u8> {
    assert_eq!(&tiff[..4], b"II*\0", "a classic little-endian TIFF");
    let ifd = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
    let entries = u16::from_le_bytes(tiff[ifd..ifd + 2].try_into().unwrap()) as usize;
    for i in 0..entries {
        let at = ifd + 2 + 12 * i;
        if u16::from_le_bytes(tiff[at..at + 2].try_into().unwrap()) == 259 {
            tiff[at + 8..at + 10].copy_from_slice(&code.to_le_bytes());
            return tiff;
        }
    }
    panic!("no Compression tag");
}

#[test]
fn what_the_build_lacks_is_unsupported_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    lockdown();
    let tif = dir.path().join("plain.tif");
    samples::Blank {
        size: [16, 16],
        data_type: "Byte",
        burn: &[1],
        srs: Some("EPSG:4326"),
        ullr: Some([0.0, 1.0, 1.0, 0.0]),
        extra: &[],
    }
    .create(&tif);
    // JPEG 2000 inside a TIFF (Aperio's compression 33003), which libtiff has no codec for.
    let jp2_in_tiff = with_compression(std::fs::read(&tif).unwrap(), 33003);
    let e =
        read_object_info(upload_bytes("aperio.tif", jp2_in_tiff), &Limits::default()).unwrap_err();
    assert_eq!(e.kind, raster_info::ErrorKind::UnsupportedFormat, "{e}");
    assert!(e.message.contains("compression"), "{e}");
    // Formats the build has no driver for, or that uploads may not use: said, never "corrupt".
    let img = dir.path().join("erdas.img");
    let out = samples::system_tool("gdal_translate")
        .args(["-q", "-of", "HFA"])
        .arg(&tif)
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success());
    for (name, bytes, what) in [
        ("erdas.img", std::fs::read(&img).unwrap(), "Erdas Imagine"),
        (
            "anim.gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "GIF",
        ),
    ] {
        let e = read_object_info(upload_bytes(name, bytes), &Limits::default()).unwrap_err();
        assert_eq!(
            e.kind,
            raster_info::ErrorKind::UnsupportedFormat,
            "{name}: {e}"
        );
        assert!(e.message.contains(what), "{name}: {e}");
    }
}
