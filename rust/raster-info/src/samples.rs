//! Sample rasters made with GDAL's command-line tools, for tests and
//! benchmarks (nothing binary is committed). Panics on failure: test use only.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A command-line tool of the system's GDAL (Debian's `gdal-bin`), which
/// makes the fixtures and computes truths: run with the system's own data,
/// not the `GDAL_DATA`/`PROJ_DATA` of the GDAL build the suites link.
pub fn system_tool(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in ["GDAL_DATA", "PROJ_DATA", "PROJ_LIB"] {
        cmd.env_remove(var);
    }
    cmd
}

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

/// A new GeoTIFF as `gdal_create` makes it: `width`×`height` pixels of
/// `data_type`, one band per value in `burn` (each filled with it), in `srs`
/// over `ullr` (`[ulx, uly, lrx, lry]`) when given, with more `gdal_create`
/// arguments in `extra` (creation options, metadata).
#[derive(Debug, Clone, Copy)]
pub struct Blank<'a> {
    /// Width and height in pixels.
    pub size: [usize; 2],
    /// GDAL data type (`Byte`, `UInt16`, `Float32`, …).
    pub data_type: &'a str,
    /// The value of each band.
    pub burn: &'a [u32],
    /// CRS (`EPSG:32633`, a PROJ string …).
    pub srs: Option<&'a str>,
    /// Corners: upper left x and y, lower right x and y.
    pub ullr: Option<[f64; 4]>,
    /// More `gdal_create` arguments.
    pub extra: &'a [&'a str],
}

impl Blank<'_> {
    /// Write it to `out`.
    pub fn create(&self, out: &Path) {
        let mut cmd = system_tool("gdal_create");
        cmd.args(["-q", "-of", "GTiff", "-outsize"])
            .args(self.size.map(|n| n.to_string()))
            .args([
                "-bands",
                &self.burn.len().to_string(),
                "-ot",
                self.data_type,
            ]);
        for value in self.burn {
            cmd.args(["-burn", &value.to_string()]);
        }
        if let Some(srs) = self.srs {
            cmd.args(["-a_srs", srs]);
        }
        if let Some(ullr) = self.ullr {
            cmd.arg("-a_ullr").args(ullr.map(|v| v.to_string()));
        }
        run(cmd.args(self.extra).arg(out));
    }
}

fn translate(src: &Path, out: &Path, args: &[&str]) {
    run(system_tool("gdal_translate")
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
    let edge = (size * 10) as f64;
    Blank {
        size: [size, size],
        data_type: "Byte",
        burn: &[7],
        srs: Some("EPSG:32633"),
        ullr: Some([500_000.0, 5_000_000.0, 500_000.0 + edge, 5_000_000.0 - edge]),
        extra: &[
            "-mo",
            "TIFFTAG_DATETIME=2024:03:05 10:11:12",
            "-co",
            "TILED=YES",
            "-co",
            "SPARSE_OK=NO",
        ],
    }
    .create(&tmp);
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
    Blank {
        size: [1024, 1024],
        data_type: "UInt16",
        burn: &[100],
        srs: Some("EPSG:4326"),
        ullr: Some([10.0, 50.0, 11.0, 49.0]),
        extra: &[],
    }
    .create(&out);
    out
}

/// A 64×48 RGB PNG with no CRS and no georeferencing.
pub fn png_without_crs(dir: &Path, name: &str) -> PathBuf {
    let tmp = dir.join(format!("{name}.src.tif"));
    let out = dir.join(name);
    Blank {
        size: [64, 48],
        data_type: "Byte",
        burn: &[10, 20, 30],
        srs: None,
        ullr: None,
        extra: &[],
    }
    .create(&tmp);
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
    Blank {
        size: [300, 200],
        data_type: "Float32",
        burn: &[1, 2, 3, 4],
        srs: Some("EPSG:3857"),
        ullr: Some([0.0, 200000.0, 300000.0, 0.0]),
        extra: &[],
    }
    .create(&tmp);
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
    Blank {
        size: [1024, 1024],
        data_type: "Byte",
        burn: &[9],
        srs: Some("EPSG:32632"),
        ullr: Some([300000.0, 5100000.0, 310240.0, 5089760.0]),
        extra: &["-co", "TILED=YES"],
    }
    .create(&out);
    run(system_tool("gdaladdo")
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
    Blank {
        size: [96, 80],
        data_type: "Byte",
        burn: &[42],
        srs: Some("EPSG:32631"),
        ullr: Some([400000.0, 5600000.0, 400960.0, 5599200.0]),
        extra: &[],
    }
    .create(&src);
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

/// Validate a STAC Item with `scripts/validate-stac` (stac-validator against
/// core and every extension schema it declares, offline, and its geometry's
/// OGC validity); panics with the validator's message when it is invalid.
pub fn assert_valid_stac(item: &serde_json::Value) {
    assert_valid_stac_items(std::slice::from_ref(item));
}

/// [`assert_valid_stac`] for many Items with one run of the validator.
pub fn assert_valid_stac_items(items: &[serde_json::Value]) {
    if items.is_empty() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files: Vec<PathBuf> = items
        .iter()
        .map(|item| {
            let file = tempfile_path("item.json");
            std::fs::write(&file, serde_json::to_vec_pretty(item).unwrap_or_default())
                .unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
            file
        })
        .collect();
    let out = Command::new(root.join("scripts/validate-stac"))
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/validate-stac: {e}"));
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    assert!(
        out.status.success(),
        "scripts/validate-stac rejected an Item: {}{}\n{:#}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        serde_json::Value::Array(items.to_vec())
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
