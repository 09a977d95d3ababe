//! Sample rasters made with GDAL's command-line tools, for tests and
//! benchmarks (nothing binary is committed). Panics on failure: test use only.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (is gdal-bin installed? `just setup`)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn create(out: &Path, args: &[&str]) {
    run(Command::new("gdal_create").args(args).arg(out));
}

fn translate(src: &Path, out: &Path, args: &[&str]) {
    run(Command::new("gdal_translate")
        .arg("-q")
        .args(args)
        .arg(src)
        .arg(out));
}

/// A georeferenced single-band byte COG of `size`×`size` pixels in UTM 33N,
/// compressed (`compress = true`) or not (to make files of a given size).
pub fn cog(dir: &Path, name: &str, size: usize, compress: bool) -> PathBuf {
    let tmp = dir.join(format!("{name}.src.tif"));
    let out = dir.join(name);
    let s = size.to_string();
    let right = (500_000 + size * 10).to_string();
    let bottom = (5_000_000 - size * 10).to_string();
    create(
        &tmp,
        &[
            "-q",
            "-of",
            "GTiff",
            "-outsize",
            &s,
            &s,
            "-bands",
            "1",
            "-ot",
            "Byte",
            "-burn",
            "7",
            "-a_srs",
            "EPSG:32633",
            "-a_ullr",
            "500000",
            "5000000",
            &right,
            &bottom,
            "-mo",
            "TIFFTAG_DATETIME=2024:03:05 10:11:12",
            "-co",
            "TILED=YES",
            "-co",
            "SPARSE_OK=NO",
        ],
    );
    let compress = if compress {
        "COMPRESS=DEFLATE"
    } else {
        "COMPRESS=NONE"
    };
    translate(
        &tmp,
        &out,
        &[
            "-of",
            "COG",
            "-co",
            compress,
            "-co",
            "BLOCKSIZE=512",
            "-co",
            "OVERVIEW_RESAMPLING=NEAREST",
        ],
    );
    let _ = std::fs::remove_file(tmp);
    out
}

/// A striped (not tiled) 1024×1024 GeoTIFF in WGS84, no overviews.
pub fn striped_geotiff(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    create(
        &out,
        &[
            "-q",
            "-of",
            "GTiff",
            "-outsize",
            "1024",
            "1024",
            "-bands",
            "1",
            "-ot",
            "UInt16",
            "-burn",
            "100",
            "-a_srs",
            "EPSG:4326",
            "-a_ullr",
            "10",
            "50",
            "11",
            "49",
        ],
    );
    out
}

/// A 64×48 RGB PNG with no CRS and no georeferencing.
pub fn png_without_crs(dir: &Path, name: &str) -> PathBuf {
    let tmp = dir.join(format!("{name}.src.tif"));
    let out = dir.join(name);
    create(
        &tmp,
        &[
            "-q", "-of", "GTiff", "-outsize", "64", "48", "-bands", "3", "-ot", "Byte", "-burn",
            "10", "-burn", "20", "-burn", "30",
        ],
    );
    translate(
        &tmp,
        &out,
        &["-of", "PNG", "-colorinterp", "red,green,blue"],
    );
    let _ = std::fs::remove_file(tmp);
    out
}

/// A 4-band Float32 COG with nodata -9999, band descriptions, scale/offset,
/// units and colour interpretation, in Web Mercator, with an acquisition time.
pub fn multiband_nodata(dir: &Path, name: &str) -> PathBuf {
    let tmp = dir.join(format!("{name}.src.tif"));
    let vrt = dir.join(format!("{name}.src.vrt"));
    let out = dir.join(name);
    create(
        &tmp,
        &[
            "-q",
            "-of",
            "GTiff",
            "-outsize",
            "300",
            "200",
            "-bands",
            "4",
            "-ot",
            "Float32",
            "-burn",
            "1",
            "-burn",
            "2",
            "-burn",
            "3",
            "-burn",
            "4",
            "-a_srs",
            "EPSG:3857",
            "-a_ullr",
            "0",
            "200000",
            "300000",
            "0",
        ],
    );
    // A VRT sets what gdal_translate has no flag for (descriptions, units).
    let mut bands = String::new();
    for (i, (name, color)) in [
        ("blue", "Blue"),
        ("green", "Green"),
        ("red", "Red"),
        ("nir", "Undefined"),
    ]
    .iter()
    .enumerate()
    {
        let n = i + 1;
        bands.push_str(&format!(
            "<VRTRasterBand dataType=\"Float32\" band=\"{n}\"><Description>{name}</Description>\
             <ColorInterp>{color}</ColorInterp><NoDataValue>-9999</NoDataValue><UnitType>W/m2/sr/um</UnitType>\
             <Offset>5</Offset><Scale>0.01</Scale><SimpleSource><SourceFilename relativeToVRT=\"0\">{src}</SourceFilename>\
             <SourceBand>{n}</SourceBand></SimpleSource></VRTRasterBand>",
            src = tmp.display()
        ));
    }
    let srs = "<SRS>EPSG:3857</SRS><GeoTransform>0, 1000, 0, 200000, 0, -1000</GeoTransform>";
    let md = "<Metadata><MDI key=\"ACQUISITIONDATETIME\">2023-07-01T12:00:00Z</MDI></Metadata>";
    std::fs::write(
        &vrt,
        format!(
            "<VRTDataset rasterXSize=\"300\" rasterYSize=\"200\">{srs}{md}{bands}</VRTDataset>"
        ),
    )
    .unwrap_or_else(|e| panic!("write {}: {e}", vrt.display()));
    translate(&vrt, &out, &["-of", "COG"]);
    let _ = std::fs::remove_file(tmp);
    let _ = std::fs::remove_file(vrt);
    out
}

/// A tiled 1024×1024 GeoTIFF whose overviews were added afterwards (`gdaladdo`),
/// so their IFDs sit at the end of the file, past the first read: a
/// common non-COG layout, read with more than one range.
pub fn late_overviews(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    create(
        &out,
        &[
            "-q",
            "-of",
            "GTiff",
            "-outsize",
            "1024",
            "1024",
            "-bands",
            "1",
            "-ot",
            "Byte",
            "-burn",
            "9",
            "-a_srs",
            "EPSG:32632",
            "-a_ullr",
            "300000",
            "5100000",
            "310240",
            "5089760",
            "-co",
            "TILED=YES",
        ],
    );
    run(Command::new("gdaladdo")
        .args(["-q", "-r", "nearest"])
        .arg(&out)
        .args(["2", "4", "8"]));
    out
}

/// One small georeferenced raster in each format uploads may use (GeoTIFF,
/// PNG, JPEG, Arc/Info ASCII grid), named `<stem>.<ext>`.
/// Formats that keep the CRS or georeferencing in a sidecar file (PNG, JPEG,
/// the ASCII grid) get none: an upload is one object.
pub fn each_format(dir: &Path, stem: &str) -> Vec<PathBuf> {
    let src = dir.join(format!("{stem}.src.tif"));
    create(
        &src,
        &[
            "-q",
            "-of",
            "GTiff",
            "-outsize",
            "96",
            "80",
            "-bands",
            "1",
            "-ot",
            "Byte",
            "-burn",
            "42",
            "-a_srs",
            "EPSG:32631",
            "-a_ullr",
            "400000",
            "5600000",
            "400960",
            "5599200",
        ],
    );
    let out: Vec<PathBuf> = [
        ("GTiff", "tif", &["-co", "TILED=YES"][..]),
        ("PNG", "png", &["-co", "WORLDFILE=NO"][..]),
        ("JPEG", "jpg", &["-co", "WORLDFILE=NO"][..]),
        ("AAIGrid", "asc", &[][..]),
    ]
    .iter()
    .map(|(format, ext, options)| {
        let out = dir.join(format!("{stem}.{ext}"));
        let mut args = vec!["-of", format];
        args.extend_from_slice(options);
        translate(&src, &out, &args);
        // Keep the upload to its one file: drop .aux.xml, .prj and world files.
        for sidecar in ["aux.xml", "prj", "wld", "pgw", "jgw"] {
            let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}.{sidecar}")));
            let _ = std::fs::remove_file(dir.join(format!("{stem}.{sidecar}")));
        }
        out
    })
    .collect();
    let _ = std::fs::remove_file(src);
    out
}

/// A copy of the GeoTIFF `src` whose CRS (an ESRI PE string in its GeoTIFF
/// keys) names the grid file `grid` by path, as a hostile upload would.
pub fn crs_naming_grid(src: &Path, out: &Path, grid: &Path) {
    translate(
        src,
        out,
        &[
            "-of",
            "GTiff",
            "-co",
            "GEOTIFF_KEYS_FLAVOR=ESRI_PE",
            "-a_srs",
            &format!(
                "+proj=longlat +ellps=GRS80 +nadgrids={} +wktext +no_defs",
                grid.display()
            ),
            "-a_ullr",
            "10",
            "50",
            "11",
            "49",
        ],
    );
    let _ = std::fs::remove_file(out.with_extension("tif.aux.xml"));
}

/// Bytes that start like a TIFF and then fall apart.
pub fn corrupt_tiff() -> Vec<u8> {
    let mut b = b"II*\x00\x08\x00\x00\x00".to_vec();
    b.extend_from_slice(&[0xff; 64]);
    b
}

/// Validate a STAC Item with `scripts/validate-stac` (stac-validator); panics
/// with the validator's message when it is invalid.
pub fn assert_valid_stac(item: &serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = tempfile_path("item.json");
    std::fs::write(&file, serde_json::to_vec_pretty(item).unwrap_or_default())
        .unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    let out = Command::new(root.join("scripts/validate-stac"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/validate-stac: {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "stac-validator rejected the Item: {}{}\n{item:#}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tempfile_path(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "stratus-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}
