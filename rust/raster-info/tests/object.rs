//! Uploads read through our range reader: what GDAL's own local read says,
//! from the header only, and every error classified by what caused it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use raster_info::{
    read_info, read_object_info, samples, ErrorKind, Limits, Object, RangeReader, HEADER_BYTES,
};

/// An object in memory whose `fail_at`-th range read (0-based) fails, or comes back short.
struct Stored {
    data: Vec<u8>,
    requests: AtomicUsize,
    fail_at: Option<usize>,
    short: bool,
}

impl RangeReader for Stored {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let range = &self.data[offset as usize..offset as usize + len];
        match self.fail_at {
            Some(f) if f == n && self.short => Ok(range[..len / 2].to_vec()),
            Some(f) if f == n => Err("connection reset by peer".into()),
            _ => Ok(range.to_vec()),
        }
    }
}

fn upload(path: &Path, fail_at: Option<usize>, short: bool) -> (Object, Arc<Stored>) {
    let data = std::fs::read(path).unwrap();
    let stored = Arc::new(Stored {
        data,
        requests: AtomicUsize::new(0),
        fail_at,
        short,
    });
    let object = Object {
        name: format!(
            "s3://uploads/{}",
            path.file_name().unwrap().to_string_lossy()
        ),
        size: stored.data.len() as u64,
        head: stored.data[..stored.data.len().min(HEADER_BYTES)].to_vec(),
        reader: stored.clone(),
    };
    (object, stored)
}

struct Samples {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    rasters: Vec<PathBuf>,
    big_cog: PathBuf,
}

fn samples() -> &'static Samples {
    static S: OnceLock<Samples> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        let mut rasters = samples::each_format(&d, "sample");
        rasters.push(samples::striped_geotiff(&d, "striped.tif"));
        rasters.push(samples::multiband_nodata(&d, "multi.tif"));
        Samples {
            big_cog: samples::cog(&d, "big.tif", 4096, false),
            rasters,
            dir: d,
            _dir: dir,
        }
    })
}

#[test]
fn an_upload_reads_as_gdal_reads_the_file() {
    let s = samples();
    for path in s.rasters.iter().chain([&s.big_cog]) {
        let local = read_info(&path.display().to_string()).unwrap();
        let (object, stored) = upload(path, None, false);
        let name = object.name.clone();
        let read = read_object_info(object, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut a = serde_json::to_value(&local).unwrap();
        let mut b = serde_json::to_value(&read).unwrap();
        assert_eq!(b["path"], name.as_str());
        for v in [&mut a, &mut b] {
            v["path"] = serde_json::Value::Null;
        }
        assert_eq!(a, b, "{}", path.display());
        assert!(
            read.warnings.iter().all(|w| !w.contains("refers to")),
            "{}: {:?}",
            path.display(),
            read.warnings
        );
        // The 16 MB COG's header is in its first 32 KiB: no request beyond it.
        if path == &s.big_cog {
            assert_eq!(stored.requests.load(Ordering::SeqCst), 0);
        }
    }
}

#[test]
fn a_failed_read_is_never_taken_for_a_bad_file() {
    let s = samples();
    let mut cases = 0;
    // Without a prefetched head every byte GDAL needs comes through the reader.
    let headless = |path, fail_at, short| {
        let (mut object, stored) = upload(path, fail_at, short);
        object.head.clear();
        (object, stored)
    };
    for path in &s.rasters {
        let (object, stored) = headless(path, None, false);
        read_object_info(object, &Limits::default()).unwrap();
        let needed = stored.requests.load(Ordering::SeqCst);
        for fail_at in 0..needed {
            for short in [false, true] {
                let (object, _) = headless(path, Some(fail_at), short);
                let err = read_object_info(object, &Limits::default()).unwrap_err();
                assert_eq!(
                    err.kind,
                    ErrorKind::ReadFailed,
                    "{} with read {fail_at} failing (short: {short}): {err}",
                    path.display()
                );
                assert!(!err.kind.is_permanent());
                cases += 1;
            }
        }
    }
    assert!(cases >= 2 * s.rasters.len(), "only {cases} failure points");
}

#[test]
fn limits_are_typed_failures() {
    let s = samples();
    let multi = s.rasters.iter().find(|p| p.ends_with("multi.tif")).unwrap();
    let tight = Limits {
        max_bands: 3,
        ..Limits::default()
    };
    let err = read_object_info(upload(multi, None, false).0, &tight).unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("4 bands"), "{err}");

    let striped = s
        .rasters
        .iter()
        .find(|p| p.ends_with("striped.tif"))
        .unwrap();
    let few_bytes = Limits {
        max_header_bytes: 1024,
        ..Limits::default()
    };
    let (mut object, _) = upload(striped, None, false);
    object.head.truncate(512);
    let err = read_object_info(object, &few_bytes).unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded, "{err}");

    // 5,000 chained IFDs in a 90 KB file: refused before GDAL builds a dataset for each.
    let chain = s.dir.join("chain.tif");
    std::fs::write(&chain, ifd_chain(5000)).unwrap();
    let err = read_object_info(upload(&chain, None, false).0, &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded, "{err}");
    assert!(err.kind.is_permanent());
}

#[test]
fn bytes_that_are_not_an_accepted_raster() {
    let s = samples();
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        ("notes.txt", b"hello, not a raster".to_vec(), ErrorKind::NotARaster, "not a raster format"),
        (
            "mosaic.vrt",
            br#"<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1"><SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>"#.to_vec(),
            ErrorKind::NotARaster,
            "a GDAL VRT",
        ),
        ("bad.tif", samples::corrupt_tiff(), ErrorKind::CorruptRaster, "GTiff"),
        ("empty.tif", vec![], ErrorKind::EmptyObject, "empty"),
    ];
    for (name, bytes, kind, says) in cases {
        let path = s.dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_object_info(upload(&path, None, false).0, &Limits::default()).unwrap_err();
        assert_eq!(err.kind, kind, "{name}: {err}");
        assert!(err.kind.is_permanent());
        assert!(err.message.contains(says), "{name}: {err}");
        assert!(!err.message.contains("/etc/passwd"), "{name}: {err}");
        assert!(!err.message.contains("/vsistratus/"), "{name}: {err}");
    }
}

/// A little-endian TIFF of `n` chained one-pixel pages.
fn ifd_chain(n: u32) -> Vec<u8> {
    let mut f = b"II*\0".to_vec();
    f.extend_from_slice(&8u32.to_le_bytes());
    for i in 0..n {
        let here = 8 + i * 18;
        f.extend_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&256u16.to_le_bytes()); // ImageWidth
        f.extend_from_slice(&3u16.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        let next = if i + 1 == n { 0 } else { here + 18 };
        f.extend_from_slice(&next.to_le_bytes());
    }
    f
}
