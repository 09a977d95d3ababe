//! The COG verdict on a generated matrix of TIFF structures (tiled or in
//! strips, IFDs before or after the data, overviews or none, internal or
//! external, masks, BigTIFF, sizes below and above one tile), compared with
//! GDAL's `validate_cloud_optimized_geotiff` (osgeo_utils, Debian's GDAL) and
//! rio-cogeo (rasterio's own GDAL). Every case where Stratus differs from
//! either says why, and the table in docs/gdal-lambda.md lists them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use raster_info::{read_info, read_object_info, samples, CogCheck, Limits, Object, RangeReader};
use serde_json::Value;

/// An upload held in memory.
struct InMemory(Vec<u8>);

impl RangeReader for InMemory {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        Ok(self.0[offset as usize..offset as usize + len].to_vec())
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `size` GeoTIFF of one byte band made by `gdal_create` with `options`.
fn create(dir: &Path, name: &str, size: [usize; 2], options: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let [w, h] = size;
    samples::Blank {
        size,
        data_type: "Byte",
        burn: &[7],
        srs: Some("EPSG:32633"),
        ullr: Some([
            500_000.0,
            5_000_000.0,
            500_000.0 + 10.0 * w as f64,
            5_000_000.0 - 10.0 * h as f64,
        ]),
        extra: options,
    }
    .create(&out);
    out
}

fn translate(dir: &Path, src: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    run(samples::system_tool("gdal_translate")
        .arg("-q")
        .args(args)
        .arg(src)
        .arg(&out));
    out
}

fn addo(path: &Path, args: &[&str]) {
    run(samples::system_tool("gdaladdo")
        .args(["-q", "-r", "nearest"])
        .args(args)
        .arg(path)
        .args(["2", "4"]));
}

/// `gdal_edit` adds a metadata item: GDAL rewrites the grown IFD at the end of the file.
fn edit(path: &Path) {
    run(samples::system_tool("gdal_edit.py")
        .args(["-mo", "EDITED=later"])
        .arg(path));
}

/// How one validator judged one file.
#[derive(Debug)]
struct Verdict {
    valid: bool,
    errors: Vec<String>,
}

/// The verdicts of GDAL's validator (`gdal`) or rio-cogeo (`rio`) on `files`.
fn truths(which: &str, files: &[PathBuf]) -> Vec<Verdict> {
    let python = match which {
        "gdal" => "/usr/bin/python3".to_string(),
        _ => std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python").to_string()
        }),
    };
    let out = samples::system_tool(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cog_truth.py"))
        .arg(which)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cog_truth.py {which}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.iter()
        .map(|v| Verdict {
            valid: v["valid"].as_bool().unwrap(),
            errors: v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

/// One structure of the matrix and what each validator is expected to say.
struct Case {
    file: PathBuf,
    /// Stratus' verdict, and the required rules it fails (none when valid).
    fails: &'static [&'static str],
    /// Recommendations it does not meet.
    advises: Vec<&'static str>,
    gdal: bool,
    rio: bool,
    /// Why Stratus differs from GDAL's validator or rio-cogeo, when it does.
    why: &'static str,
}

/// Files in strips are not COGs whatever their size (OGC 21-026
/// /req/geotiff-format/tiling has no exception): GDAL's validator lets
/// strips pass up to 1024 px wide and rio-cogeo up to 512 px in either dimension.
const STRIPS: &str = "strips are never a COG (OGC /req/geotiff-format/tiling); GDAL's validator allows them up to 1024 px wide, rio-cogeo up to 512 px";

/// A case: the file, the required rules Stratus fails and the
/// recommendations it makes, GDAL's and rio-cogeo's verdicts, and why
/// Stratus differs (empty when it does not).
fn case(
    file: PathBuf,
    fails: &'static [&'static str],
    advises: &[&'static str],
    (gdal, rio): (bool, bool),
    why: &'static str,
) -> Case {
    Case {
        file,
        fails,
        advises: advises.to_vec(),
        gdal,
        rio,
        why,
    }
}

/// An external `.ovr` is another object: never read.
const SIDECAR: &str = "sidecar files are never read (an upload is one object): the .tif alone is a COG without overviews; GDAL's validator and rio-cogeo refuse its external .ovr";

fn cases(d: &Path) -> Vec<Case> {
    let src = create(d, "src.tif", [1024, 1024], &["-co", "TILED=YES"]);
    let small = create(d, "small-src.tif", [200, 200], &[]);
    let narrow = create(d, "narrow-src.tif", [256, 1024], &[]);
    addo(&narrow, &[]);
    let with_ovr = create(d, "ovr-src.tif", [1024, 1024], &["-co", "TILED=YES"]);
    addo(&with_ovr, &[]);
    let masked = translate(d, &src, "masked-src.tif", &["-mask", "1"]);
    let deflate = ["-co", "COMPRESS=DEFLATE"];
    let cog = |src: &Path, name: &str, more: &[&str]| {
        let mut args = vec!["-of", "COG", "-co", "COMPRESS=DEFLATE"];
        args.extend_from_slice(more);
        translate(d, src, name, &args)
    };
    let edited_cog = cog(&src, "edited-cog.tif", &[]);
    edit(&edited_cog);
    let edited_tiled = create(d, "edited-tiled.tif", [1024, 1024], &["-co", "TILED=YES"]);
    edit(&edited_tiled);
    let external = create(d, "external-ovr.tif", [1024, 1024], &["-co", "TILED=YES"]);
    addo(&external, &["-ro"]);
    let tiles_512x256 = translate(
        d,
        &with_ovr,
        "tiles-512x256.tif",
        &[
            "-co",
            "TILED=YES",
            "-co",
            "BLOCKXSIZE=512",
            "-co",
            "BLOCKYSIZE=256",
            "-co",
            "COPY_SRC_OVERVIEWS=YES",
            "-co",
            "COMPRESS=DEFLATE",
        ],
    );
    let strips_overviews = translate(
        d,
        &narrow,
        "strips-256-overviews.tif",
        &["-co", "COPY_SRC_OVERVIEWS=YES", "-co", "COMPRESS=DEFLATE"],
    );
    let tiled = create(
        d,
        "tiled-no-overviews.tif",
        [1024, 1024],
        &["-co", "TILED=YES"],
    );
    let strips_2048 = create(d, "strips-2048.tif", [2048, 2048], &deflate);
    let ovr = ["overviews"];
    let both = (true, true);
    let neither = (false, false);
    vec![
        case(cog(&src, "cog.tif", &[]), &[], &[], both, ""),
        case(
            cog(&src, "cog-no-ovr.tif", &["-co", "OVERVIEWS=NONE"]),
            &[],
            &ovr,
            both,
            "",
        ),
        case(
            cog(&src, "cog-bigtiff.tif", &["-co", "BIGTIFF=YES"]),
            &[],
            &["classic-tiff"],
            both,
            "",
        ),
        case(cog(&masked, "cog-mask.tif", &[]), &[], &[], both, ""),
        case(cog(&small, "cog-one-tile.tif", &[]), &[], &[], both, ""),
        case(tiles_512x256, &[], &[], both, ""),
        case(tiled, &[], &ovr, both, ""),
        case(
            translate(d, &small, "strips-one-tile.tif", &deflate),
            &["tiled"],
            &[],
            both,
            STRIPS,
        ),
        case(
            translate(d, &src, "strips-1024.tif", &["-co", "TILED=NO"]),
            &["tiled"],
            &ovr,
            (true, false),
            STRIPS,
        ),
        case(strips_2048, &["tiled"], &ovr, neither, ""),
        case(strips_overviews, &["tiled"], &[], (true, false), STRIPS),
        case(
            with_ovr,
            &["ifds-before-data", "data-smallest-overview-first"],
            &[],
            neither,
            "",
        ),
        case(
            edited_cog,
            &["ifds-before-data", "not-edited"],
            &["first-ifd-after-header"],
            neither,
            "",
        ),
        case(
            edited_tiled,
            &["ifds-before-data"],
            &["overviews", "first-ifd-after-header"],
            neither,
            "",
        ),
        case(external, &[], &ovr, neither, SIDECAR),
    ]
}

fn failing(cog: &CogCheck, required: bool) -> Vec<&str> {
    cog.rules
        .iter()
        .filter(|r| !r.passed && r.required == required)
        .map(|r| r.rule.as_str())
        .collect()
}

/// The verdict on the file read as an upload, through range reads.
fn as_upload(path: &Path) -> CogCheck {
    let data = std::fs::read(path).unwrap();
    let object = Object {
        name: "s3://uploads/case.tif".into(),
        size: data.len() as u64,
        head: data[..data.len().min(raster_info::HEADER_BYTES)].to_vec(),
        reader: Arc::new(InMemory(data)),
    };
    read_object_info(object, &Limits::default())
        .unwrap()
        .cog
        .unwrap()
}

#[test]
fn cog_verdicts_agree_with_gdal_and_rio_cogeo_or_say_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(dir.path());
    let files: Vec<PathBuf> = cases.iter().map(|c| c.file.clone()).collect();
    let (gdal, rio) = (truths("gdal", &files), truths("rio", &files));
    let mut differences = 0;
    for ((case, gdal), rio) in cases.iter().zip(&gdal).zip(&rio) {
        let name = case.file.file_name().unwrap().to_string_lossy();
        let info = read_info(&case.file.display().to_string()).unwrap();
        let cog = info.cog.as_ref().unwrap();
        // Every rule is reported, passed or not, with where it comes from.
        assert!(
            cog.rules.len() == 8 && cog.rules.iter().all(|r| !r.source.is_empty()),
            "{name}: {cog:#?}"
        );
        assert_eq!(failing(cog, true), case.fails, "{name}: {cog:#?}");
        assert_eq!(failing(cog, false), case.advises, "{name}: {cog:#?}");
        assert_eq!(cog.valid, case.fails.is_empty(), "{name}");
        assert_eq!(
            (gdal.valid, rio.valid),
            (case.gdal, case.rio),
            "{name}: GDAL says {:?}, rio-cogeo {:?}",
            gdal.errors,
            rio.errors
        );
        let differs = cog.valid != gdal.valid || cog.valid != rio.valid;
        assert_eq!(differs, !case.why.is_empty(), "{name}: why we differ");
        differences += usize::from(differs);
        assert_eq!(&as_upload(&case.file), cog, "{name}: as an upload");
    }
    eprintln!(
        "{} structures, Stratus differs from GDAL's validator or rio-cogeo on {differences}",
        cases.len()
    );
}
