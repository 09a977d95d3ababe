//! The command line: `gdal-lambda stac` of a local file given by a relative path.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::process::Command;

use raster_info::samples::Blank;
use serde_json::Value;

#[test]
fn a_relative_path_gives_an_absolute_href() {
    let dir = tempfile::tempdir().unwrap();
    Blank {
        size: [8, 8],
        data_type: "Byte",
        burn: &[0],
        srs: Some("EPSG:32633"),
        ullr: Some([500_000.0, 5_000_080.0, 500_080.0, 5_000_000.0]),
        extra: &[],
    }
    .create(&dir.path().join("scene.tif"));
    let out = local_aws::checked_output(
        Command::new(env!("CARGO_BIN_EXE_gdal-lambda"))
            .args(["stac", "scene.tif"])
            .current_dir(dir.path()),
    );
    let item: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = dir.path().join("scene.tif").display().to_string();
    assert_eq!(item["assets"]["data"]["href"], path.as_str());
    let id = item["id"].as_str().unwrap();
    assert!(
        id.starts_with("scene-") && id.len() == "scene-".len() + 16,
        "{id}"
    );
}
