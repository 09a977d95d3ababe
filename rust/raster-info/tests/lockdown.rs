//! After `lockdown` GDAL reads uploads and nothing else: no other virtual
//! file system, no local file outside its data directory, no network. One
//! test: the lock is for the whole process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::path::Path;
use std::sync::Arc;

use local_aws::Canaries;
use raster_info::{lockdown, read_object_info, samples, ErrorKind, Limits, Object, RangeReader};

struct Stored(Vec<u8>);

impl RangeReader for Stored {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        Ok(self.0[offset as usize..offset as usize + len].to_vec())
    }
}

fn upload(path: &Path) -> Object {
    let data = std::fs::read(path).unwrap();
    Object {
        name: format!(
            "s3://uploads/{}",
            path.file_name().unwrap().to_string_lossy()
        ),
        size: data.len() as u64,
        head: Vec::new(),
        reader: Arc::new(Stored(data)),
    }
}

#[test]
fn after_lockdown_gdal_reads_uploads_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let rasters = samples::each_format(dir.path(), "sample");
    let canary_tif = std::fs::read(samples::cog(dir.path(), "canary.tif", 64, true)).unwrap();
    let canaries = Canaries::new(&[("canary.tif", &canary_tif), ("canary.gsb", b"grid")]);

    let grid_crs = dir.path().join("grid-crs.tif");
    samples::crs_naming_grid(&rasters[0], &grid_crs, &canaries.file("canary.gsb"));
    canaries.touched(); // gdal_translate itself looked for the grid

    let before: Vec<serde_json::Value> = rasters
        .iter()
        .map(|p| {
            serde_json::to_value(read_object_info(upload(p), &Limits::default()).unwrap()).unwrap()
        })
        .collect();
    // PROJ would open the grid the moment GDAL parsed that CRS: refused unopened.
    let err = read_object_info(upload(&grid_crs), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ExternalReference, "{err}");
    assert!(!err.message.contains("canary"), "{err}");
    assert_eq!(canaries.touched(), Vec::<String>::new());

    lockdown();

    // Uploads read as before (PROJ, the drivers and GDAL's data files still work).
    for (path, expected) in rasters.iter().zip(&before) {
        let info = read_object_info(upload(path), &Limits::default()).unwrap();
        assert_eq!(
            &serde_json::to_value(info).unwrap(),
            expected,
            "{}",
            path.display()
        );
    }
    let err = read_object_info(upload(&grid_crs), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ExternalReference, "{err}");

    // Anything else GDAL is asked to open is refused before a byte is read.
    let local = canaries.file("canary.tif").display().to_string();
    let url = canaries.url("canary.tif");
    let attempts = [
        local.clone(),
        format!("/vsicurl/{url}"),
        format!("/vsicurl?url={url}"),
        format!("/vsicurl_streaming/{url}"),
        "/vsis3/canary-bucket/canary.tif".to_string(),
        "/vsigs/canary-bucket/canary.tif".to_string(),
        format!("/vsisubfile/0_1000,{local}"),
        format!("/vsizip/{local}.zip/canary.tif"),
        format!("/vsigzip/{local}"),
        format!("/vsitar/{local}.tar/canary.tif"),
        format!("/vsicached?file={local}"),
        format!("/vsisparse/{local}"),
        format!("{}/../canary.tif", canaries.dir().join("sub").display()),
    ];
    for path in &attempts {
        assert!(gdal::Dataset::open(path).is_err(), "{path} was opened");
    }
    // Nor may GDAL write anywhere.
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let out = canaries.dir().join("written.tif");
    assert!(driver.create(&out, 1, 1, 1).is_err());
    assert!(!out.exists());

    assert_eq!(canaries.touched(), Vec::<String>::new());
}
