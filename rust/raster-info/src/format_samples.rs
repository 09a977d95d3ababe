//! Sample files in every format and codec gdal-lambda reads, made on the
//! spot (nothing binary is committed): GeoTIFFs and COGs in each
//! compression, JPEG 2000, netCDF (classic and netCDF-4), HDF4, GRIB by the
//! system's GDAL tools; JPEG-XL and 12-bit JPEG GeoTIFFs, which the system's
//! GDAL does not write, by the tools of the GDAL build the suites link
//! (`STRATUS_GDALINFO`'s directory); HDF5 and CF netCDF-4 with a time
//! dimension by h5py and netCDF4 (the project's venv). Test use only: panics.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::samples::{system_tool, Blank};

/// One sample file.
#[derive(Debug, Clone)]
pub struct Sample {
    /// A short name (`gtiff-zstd`, `netcdf4-cf`, …).
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// The GDAL driver that must read it.
    pub driver: &'static str,
    /// The GeoTIFF compression it uses, for the codec list.
    pub codec: Option<&'static str>,
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tool of the GDAL build the suites link (next to `STRATUS_GDALINFO`).
fn shipped_tool(program: &str) -> Option<Command> {
    let gdalinfo = std::env::var_os("STRATUS_GDALINFO")?;
    let tool = Path::new(&gdalinfo).parent()?.join(program);
    tool.exists().then(|| Command::new(tool))
}

fn python() -> String {
    std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python").to_string()
    })
}

/// Every sample, in `dir`: [`codecs`] and [`formats`].
pub fn all(dir: &Path) -> Vec<Sample> {
    let mut out = codecs(dir);
    out.extend(formats(dir));
    out
}

/// The two rasters the samples are made from: a 3-band Byte image in UTM
/// and a Float32 one in geographic coordinates.
fn sources(dir: &Path) -> (PathBuf, PathBuf) {
    let base = dir.join("base.tif");
    Blank {
        size: [300, 200],
        data_type: "Byte",
        burn: &[40, 90, 160],
        srs: Some("EPSG:32632"),
        ullr: Some([400_000.0, 5_200_000.0, 403_000.0, 5_198_000.0]),
        extra: &["-mo", "TIFFTAG_DATETIME=2024:06:01 10:00:00"],
    }
    .create(&base);
    let float = dir.join("float.tif");
    Blank {
        size: [120, 80],
        data_type: "Float32",
        burn: &[273],
        srs: Some("EPSG:4326"),
        ullr: Some([5.0, 48.0, 6.2, 47.2]),
        extra: &[],
    }
    .create(&float);
    (base, float)
}

/// `src` translated by the system's `gdal_translate` with `args` to `dir/name.ext`, alone
/// (no sidecar).
fn translate(dir: &Path, src: &Path, name: &str, ext: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(format!("{name}.{ext}"));
    run(system_tool("gdal_translate")
        .arg("-q")
        .args(args)
        .arg(src)
        .arg(&path));
    let _ = std::fs::remove_file(dir.join(format!("{name}.{ext}.aux.xml")));
    path
}

/// A GeoTIFF or COG in every compression the GDAL build reads. The JPEG-XL
/// and 12-bit JPEG ones are made only where the linked GDAL build's tools
/// are known (`STRATUS_GDALINFO`).
pub fn codecs(dir: &Path) -> Vec<Sample> {
    let mut out = Vec::new();
    let (base, float) = sources(dir);
    let codecs: [(&str, &str, &str, &[&str]); 13] = [
        (
            "DEFLATE",
            "GTiff",
            "tif",
            &["-co", "COMPRESS=DEFLATE", "-co", "TILED=YES"],
        ),
        ("LZW", "GTiff", "tif", &["-co", "COMPRESS=LZW"]),
        ("PACKBITS", "GTiff", "tif", &["-co", "COMPRESS=PACKBITS"]),
        (
            "JPEG",
            "GTiff",
            "tif",
            &["-co", "COMPRESS=JPEG", "-co", "TILED=YES"],
        ),
        ("LZMA", "GTiff", "tif", &["-co", "COMPRESS=LZMA"]),
        (
            "ZSTD",
            "GTiff",
            "tif",
            &["-co", "COMPRESS=ZSTD", "-co", "TILED=YES"],
        ),
        (
            "WEBP",
            "GTiff",
            "tif",
            &["-co", "COMPRESS=WEBP", "-co", "TILED=YES"],
        ),
        ("LERC", "GTiff", "tif", &["-co", "COMPRESS=LERC"]),
        (
            "LERC_DEFLATE",
            "GTiff",
            "tif",
            &["-co", "COMPRESS=LERC_DEFLATE"],
        ),
        ("LERC_ZSTD", "GTiff", "tif", &["-co", "COMPRESS=LERC_ZSTD"]),
        (
            "ZSTD",
            "COG",
            "tif",
            &["-of", "COG", "-co", "COMPRESS=ZSTD"],
        ),
        (
            "WEBP",
            "COG",
            "tif",
            &["-of", "COG", "-co", "COMPRESS=WEBP"],
        ),
        (
            "LERC_ZSTD",
            "COG",
            "tif",
            &["-of", "COG", "-co", "COMPRESS=LERC_ZSTD"],
        ),
    ];
    for (codec, kind, ext, args) in codecs {
        let name = format!(
            "{}-{}",
            kind.to_ascii_lowercase(),
            codec.to_ascii_lowercase()
        );
        out.push(Sample {
            path: translate(dir, &base, &name, ext, args),
            name,
            driver: "GTiff",
            codec: Some(codec),
        });
    }
    // What the system's GDAL cannot write: JPEG-XL, and 12-bit JPEG.
    for (codec, src, args) in [
        (
            "JXL",
            &base,
            &["-co", "COMPRESS=JXL", "-co", "TILED=YES"][..],
        ),
        (
            "JPEG12",
            &float,
            &[
                "-ot",
                "UInt16",
                "-scale",
                "0",
                "300",
                "0",
                "4095",
                "-co",
                "COMPRESS=JPEG",
                "-co",
                "NBITS=12",
                "-co",
                "TILED=YES",
            ][..],
        ),
    ] {
        let Some(mut tool) = shipped_tool("gdal_translate") else {
            continue;
        };
        let name = format!("gtiff-{}", codec.to_ascii_lowercase());
        let path = dir.join(format!("{name}.tif"));
        run(tool.arg("-q").args(args).arg(src).arg(&path));
        out.push(Sample {
            name,
            path,
            driver: "GTiff",
            codec: Some(codec),
        });
    }
    out
}

/// One file in each format besides GeoTIFF: JPEG 2000, netCDF (classic, and
/// netCDF-4 with several variables), HDF4, GRIB 2, and HDF5 and CF netCDF-4
/// written by h5py and netCDF4.
pub fn formats(dir: &Path) -> Vec<Sample> {
    let mut out = Vec::new();
    let (base, float) = sources(dir);
    for (name, driver, ext, src, args) in [
        (
            "jp2",
            "JP2OpenJPEG",
            "jp2",
            &base,
            &["-of", "JP2OpenJPEG"][..],
        ),
        (
            "netcdf-classic",
            "netCDF",
            "nc",
            &float,
            &["-of", "netCDF"][..],
        ),
        (
            "netcdf-multi",
            "netCDF",
            "nc",
            &base,
            &["-of", "netCDF", "-co", "FORMAT=NC4"][..],
        ),
        (
            "hdf4",
            "HDF4Image",
            "hdf",
            &float,
            &["-of", "HDF4Image"][..],
        ),
        ("grib2", "GRIB", "grb2", &float, &["-of", "GRIB"][..]),
    ] {
        out.push(Sample {
            path: translate(dir, src, name, ext, args),
            name: name.to_string(),
            driver,
            codec: None,
        });
    }
    // Written by the formats' own libraries.
    let script = r#"
import sys, numpy as np, h5py, netCDF4
d = sys.argv[1]
with h5py.File(f"{d}/h5py.h5", "w") as f:
    g = f.create_group("science")
    lat = g.create_dataset("lat", data=np.linspace(60, 50, 20))
    lon = g.create_dataset("lon", data=np.linspace(0, 15, 30))
    t = g.create_dataset("temperature", data=np.full((20, 30), 280.5, dtype="f4"))
    t.attrs["units"] = "K"
    t.attrs["long_name"] = "air temperature"
    lat.make_scale("lat"); lon.make_scale("lon")
    t.dims[0].attach_scale(lat); t.dims[1].attach_scale(lon)
with netCDF4.Dataset(f"{d}/cf.nc", "w", format="NETCDF4") as n:
    n.Conventions = "CF-1.8"
    n.createDimension("time", 3); n.createDimension("lat", 18); n.createDimension("lon", 36)
    t = n.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"; t.calendar = "standard"; t[:] = [0, 31, 60]
    t.standard_name = "time"; t.axis = "T"
    la = n.createVariable("lat", "f4", ("lat",)); la.units = "degrees_north"; la.standard_name = "latitude"; la[:] = np.linspace(85, -85, 18)
    lo = n.createVariable("lon", "f4", ("lon",)); lo.units = "degrees_east"; lo.standard_name = "longitude"; lo[:] = np.linspace(-175, 175, 36)
    for name, value in (("tas", 280.0), ("pr", 0.5)):
        v = n.createVariable(name, "f4", ("time", "lat", "lon"), fill_value=-9999.0)
        v.units = "K" if name == "tas" else "mm/day"; v.long_name = name; v[:] = value
"#;
    run(Command::new(python()).args(["-c", script]).arg(dir));
    out.push(Sample {
        name: "hdf5-h5py".into(),
        path: dir.join("h5py.h5"),
        // One 2-D dataset: GDAL opens it as the raster, not as a container.
        driver: "HDF5Image",
        codec: None,
    });
    out.push(Sample {
        name: "netcdf4-cf".into(),
        path: dir.join("cf.nc"),
        driver: "netCDF",
        codec: None,
    });
    out
}
