//! A generated corpus of hostile uploads: valid rasters, the same damaged
//! (cut short, bytes flipped), garbage, TIFFs crafted past the limits, and
//! files that point GDAL at canaries (local files, URLs, other buckets).
//! Deterministic: the same corpus on every run.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset

use std::path::Path;

use local_aws::Canaries;
use raster_info::{format_samples, samples};

/// What an input must come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A raster: processed, with an Item.
    Raster,
    /// Damaged: processed exactly when GDAL opens the local file, else a permanent failure.
    AsGdalSays,
    /// A permanent failure of this kind.
    Failure(&'static str),
    /// It names something that must not be read: processed without it (the
    /// record's warnings say so), or refused as `ExternalReference`.
    Refers,
    /// It declares far more than it holds: refused as `LimitExceeded`, or
    /// processed within the budgets.
    Bounded,
}

/// One upload.
pub struct Input {
    /// Key under the corpus prefix.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// What it must come to.
    pub expect: Expect,
}

fn input(name: impl Into<String>, bytes: Vec<u8>, expect: Expect) -> Input {
    Input {
        name: name.into(),
        bytes,
        expect,
    }
}

/// The corpus; `other_bucket` holds an object a hostile file may point at.
pub fn build(dir: &Path, canaries: &Canaries, bucket: &str, other_bucket: &str) -> Vec<Input> {
    let mut out = Vec::new();
    let mut bases: Vec<(String, Vec<u8>)> = samples::each_format(dir, "base")
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    for (name, path) in [
        ("cog.tif", samples::cog(dir, "cog.tif", 1024, true)),
        ("striped.tif", samples::striped_geotiff(dir, "striped.tif")),
        ("multi.tif", samples::multiband_nodata(dir, "multi.tif")),
        ("plain.png", samples::png_without_crs(dir, "plain.png")),
        ("late-ovr.tif", samples::late_overviews(dir, "late-ovr.tif")),
    ] {
        bases.push((name.to_string(), std::fs::read(path).unwrap()));
    }
    // Every other format: JPEG 2000, netCDF, HDF4, GRIB, HDF5.
    for sample in format_samples::formats(&subdir(dir, "formats")) {
        bases.push((
            sample
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            std::fs::read(&sample.path).unwrap(),
        ));
    }
    for (name, bytes) in &bases {
        out.push(input(
            format!("valid/{name}"),
            bytes.clone(),
            Expect::Raster,
        ));
    }

    // Damaged copies of every base: cut short, and bytes of the header flipped.
    for (name, bytes) in &bases {
        for cut in [1, 8, 16, 100, 1000, 4096, bytes.len() / 2, bytes.len() - 1] {
            if cut < bytes.len() {
                out.push(input(
                    format!("cut/{name}.{cut}"),
                    bytes[..cut].to_vec(),
                    Expect::AsGdalSays,
                ));
            }
        }
        let mut rng = Lcg(bytes.len() as u64);
        for i in 0..14 {
            let mut b = bytes.clone();
            let span = b.len().min(1024);
            let at = rng.below(span);
            b[at] ^= 1 << rng.below(8);
            if i % 2 == 1 {
                let at2 = rng.below(span);
                b[at2] = rng.below(256) as u8;
            }
            out.push(input(format!("flip/{name}.{i}"), b, Expect::AsGdalSays));
        }
    }

    // Not rasters at all.
    let mut rng = Lcg(42);
    for size in [1usize, 100, 5000, 200_000] {
        let noise: Vec<u8> = (0..size).map(|_| rng.below(256) as u8).collect();
        out.push(input(
            format!("garbage/noise.{size}"),
            noise,
            Expect::AsGdalSays,
        ));
    }
    for (name, bytes) in [
        ("zeros.tif", vec![0u8; 70_000]),
        ("readme.txt", b"hello, not a raster\n".to_vec()),
        (
            "doc.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n".to_vec(),
        ),
        (
            "page.html",
            b"<!doctype html><html><body>hi</body></html>".to_vec(),
        ),
        (
            "data.json",
            br#"{"type": "FeatureCollection", "features": []}"#.to_vec(),
        ),
        (
            "archive.zip",
            b"PK\x03\x04\x14\x00\x00\x00\x00\x00".to_vec(),
        ),
    ] {
        out.push(input(
            format!("garbage/{name}"),
            bytes,
            Expect::Failure("NotARaster"),
        ));
    }

    // TIFFs crafted to cost far more than their size.
    out.push(input(
        "crafted/ifd-chain.tif",
        ifd_chain(100_000),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/bands-65535.tif",
        tiff(1, 1, 65535, &[]),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/sub-ifds.tif",
        tiff(1, 1, 1, &[(330, 13, 60000, 8)]),
        Expect::Failure("LimitExceeded"),
    ));
    // Declared, not stored: what GDAL would build from a small file.
    out.push(input(
        "crafted/tag-bomb.tif",
        tag_bomb(3000, 1 << 20),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/overview-bands.tif",
        overview_bands(1000, 65535),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/domains.tif",
        metadata_domains(200_000),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/ztxt-bomb.png",
        png_text_bomb(
            &std::fs::read(samples::png_without_crs(dir, "bomb-src.png")).unwrap(),
            200,
        ),
        Expect::Failure("LimitExceeded"),
    ));
    out.push(input(
        "crafted/huge.tif",
        tiff(0x7fff_ffff, 0x7fff_ffff, 1, &[]),
        Expect::AsGdalSays,
    ));
    out.push(input(
        "crafted/huge-tiled.tif",
        tiff(
            0x7fff_ffff,
            0x7fff_ffff,
            3,
            &[(322, 4, 1, 16), (323, 4, 1, 16)],
        ),
        Expect::AsGdalSays,
    ));
    out.push(input(
        "crafted/ifd-loop.tif",
        ifd_loop(),
        Expect::AsGdalSays,
    ));
    out.push(input(
        "crafted/huge.asc",
        b"ncols 2000000000\nnrows 2000000000\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n"
            .to_vec(),
        Expect::AsGdalSays,
    ));

    // Files that point elsewhere: local canaries, canary URLs, another bucket, other uploads.
    let canary = canaries.file("canary.tif").display().to_string();
    let url = canaries.url("canary.tif");
    let vrt = |src: &str, relative: u8| {
        format!(
            r#"<VRTDataset rasterXSize="64" rasterYSize="64"><VRTRasterBand dataType="Byte" band="1"><SimpleSource><SourceFilename relativeToVRT="{relative}">{src}</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"#
        )
        .into_bytes()
    };
    let refusals = [
        ("refs/local.vrt", vrt(&canary, 0)),
        ("refs/vsicurl.vrt", vrt(&format!("/vsicurl/{url}"), 0)),
        ("refs/http.vrt", vrt(&url, 0)),
        ("refs/other-bucket.vrt", vrt(&format!("/vsis3/{other_bucket}/secret.tif"), 0)),
        ("refs/sibling.vrt", vrt("../valid/cog.tif", 1)),
        ("refs/nested-1.vrt", vrt(&format!("/vsis3/{bucket}/corpus/refs/nested-2.vrt"), 0)),
        ("refs/nested-2.vrt", vrt(&format!("/vsis3/{bucket}/corpus/refs/nested-1.vrt"), 0)),
        ("refs/passwd.vrt", vrt("/etc/passwd", 0)),
        ("refs/environ.vrt", vrt("/proc/self/environ", 0)),
        (
            "refs/wms.xml",
            format!(r#"<GDAL_WMS><Service name="WMS"><Version>1.1.1</Version><ServerUrl>{url}</ServerUrl><Layers>x</Layers></Service><DataWindow><UpperLeftX>-180</UpperLeftX><UpperLeftY>90</UpperLeftY><LowerRightX>180</LowerRightX><LowerRightY>-90</LowerRightY><SizeX>256</SizeX><SizeY>128</SizeY></DataWindow></GDAL_WMS>"#).into_bytes(),
        ),
        (
            "refs/wmts.xml",
            format!(r#"<GDAL_WMTS><GetCapabilitiesUrl>{url}</GetCapabilitiesUrl></GDAL_WMTS>"#).into_bytes(),
        ),
        (
            "refs/tms.xml",
            format!(r#"<GDAL_WMS><Service name="TMS"><ServerUrl>{url}/${{z}}/${{x}}/${{y}}.png</ServerUrl></Service></GDAL_WMS>"#).into_bytes(),
        ),
    ];
    for (name, bytes) in refusals {
        out.push(input(name, bytes, Expect::Failure("NotARaster")));
    }
    out.push(input(
        "refs/grid-crs.tif",
        grid_crs_tiff(dir, &canaries.file("canary.gsb")),
        Expect::Failure("ExternalReference"),
    ));
    for (name, bytes) in crs_reference_variants(dir, canaries) {
        out.push(input(name, bytes, Expect::Failure("ExternalReference")));
    }
    out.extend(format_refusals(dir, canaries));
    out
}

/// The canary files [`format_refusals`] points at: they must exist for an open
/// of them to be seen.
pub const FORMAT_CANARIES: [&str; 4] = ["canary.h5", "canary.raw", "canary.nc", "crs.gml"];

/// Files of the container and image formats that name other files, URLs and
/// devices in each way the format allows, and small files that declare far
/// more than they hold (tests/fixtures/hostile_formats.py, written by the
/// formats' own libraries).
pub fn format_refusals(dir: &Path, canaries: &Canaries) -> Vec<Input> {
    let out_dir = subdir(dir, "hostile-formats");
    let canary_dir = canaries.file(FORMAT_CANARIES[0]);
    let listing = local_aws::checked_output(
        std::process::Command::new(local_aws::python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/hostile_formats.py"
            ))
            .arg(&out_dir)
            .arg(canary_dir.parent().unwrap())
            .arg(canaries.url("")),
    );
    String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, expect) = line.split_once(' ').unwrap();
            let expect = match expect {
                "refers" => Expect::Refers,
                "bounded" => Expect::Bounded,
                "limit" => Expect::Failure("LimitExceeded"),
                other => panic!("hostile_formats.py: unknown expectation {other}"),
            };
            input(
                format!("formats/{name}"),
                std::fs::read(out_dir.join(name)).unwrap(),
                expect,
            )
        })
        .collect()
}

fn subdir(dir: &Path, name: &str) -> std::path::PathBuf {
    let sub = dir.join(name);
    std::fs::create_dir_all(&sub).unwrap();
    sub
}

/// GeoTIFFs whose CRS (an ESRI PE string) names the canary grid, or a device,
/// written the ways PROJ still reads: white space after the comma, a line
/// break, a tab, lower case, and `/dev/stdout`, whose reads would block.
pub fn crs_reference_variants(dir: &Path, canaries: &Canaries) -> Vec<(String, Vec<u8>)> {
    let grid = canaries.file("canary.gsb").display().to_string();
    // Written naming a path one character longer, then patched in place, so
    // the GeoTIFF's tag lengths stay right.
    let written = format!("{grid}X");
    let base = grid_crs_tiff(dir, Path::new(&written));
    let named = format!(r#""PROJ4_GRIDS","{written}""#);
    let at = find(&base, named.as_bytes()).expect("the PE string names the grid");
    let patched = |replacement: String| {
        assert_eq!(replacement.len(), named.len());
        let mut b = base.clone();
        b[at..at + named.len()].copy_from_slice(replacement.as_bytes());
        b
    };
    let mut out = vec![
        (
            "refs/grid-space.tif".to_string(),
            patched(format!(r#""PROJ4_GRIDS", "{grid}""#)),
        ),
        (
            "refs/grid-newline.tif".into(),
            patched(format!("\"PROJ4_GRIDS\",\n\"{grid}\"")),
        ),
        (
            "refs/grid-tab.tif".into(),
            patched(format!("\"PROJ4_GRIDS\",\t\"{grid}\"")),
        ),
        (
            "refs/grid-lower.tif".into(),
            patched(format!(r#""proj4_grids", "{grid}""#)),
        ),
    ];
    // A device instead of a file: PROJ would read the function's own log stream.
    let device = "/dev/stdout";
    let stand_in = format!("{device}X");
    let base = grid_crs_tiff(dir, Path::new(&stand_in));
    let named = format!(r#""PROJ4_GRIDS","{stand_in}""#);
    let at = find(&base, named.as_bytes()).expect("the PE string names the device");
    let mut b = base.clone();
    let replacement = format!(r#""PROJ4_GRIDS", "{device}""#);
    assert_eq!(replacement.len(), named.len());
    b[at..at + named.len()].copy_from_slice(replacement.as_bytes());
    out.push(("refs/grid-stdout.tif".into(), b));
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A GeoTIFF whose CRS (an ESRI PE string) names a grid file.
fn grid_crs_tiff(dir: &Path, grid: &Path) -> Vec<u8> {
    let src = samples::each_format(dir, "grid-src")
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "tif"))
        .unwrap();
    let out = dir.join("grid-crs.tif");
    let _ = std::fs::remove_file(&out);
    samples::crs_naming_grid(&src, &out, grid);
    std::fs::read(out).unwrap()
}

/// A small linear congruential generator: the corpus is the same every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// A little-endian one-strip TIFF with `extra` entries (tag, type, count, value).
pub fn tiff(width: u32, height: u32, samples: u32, extra: &[(u16, u16, u32, u32)]) -> Vec<u8> {
    let mut entries: Vec<(u16, u16, u32, u32)> = vec![
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, samples),
        (278, 4, 1, height),
        (279, 4, 1, 1),
    ];
    entries.extend_from_slice(extra);
    entries.sort_by_key(|e| e.0);
    let mut f = b"II*\0".to_vec();
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&[0u8; 8]); // the one byte of "pixels", and padding
    f.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&typ.to_le_bytes());
        f.extend_from_slice(&count.to_le_bytes());
        f.extend_from_slice(&value.to_le_bytes());
    }
    f.extend_from_slice(&0u32.to_le_bytes());
    f
}

/// A TIFF of `n` chained one-pixel pages.
pub fn ifd_chain(n: u32) -> Vec<u8> {
    let mut f = b"II*\0".to_vec();
    f.extend_from_slice(&8u32.to_le_bytes());
    for i in 0..n {
        let here = 8 + i * 18;
        f.extend_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&256u16.to_le_bytes());
        f.extend_from_slice(&3u16.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        let next = if i + 1 == n { 0 } else { here + 18 };
        f.extend_from_slice(&next.to_le_bytes());
    }
    f
}

/// A one-pixel TIFF with `tags` private tags (UNDEFINED), each declaring the
/// same `len` bytes stored once after the IFD: libtiff would read each.
pub fn tag_bomb(tags: u32, len: u32) -> Vec<u8> {
    // The base TIFF has 9 entries; the data follows the IFD and its next pointer.
    let data_at = 16 + 2 + 12 * (9 + tags) + 4;
    let extra: Vec<(u16, u16, u32, u32)> = (0..tags)
        .map(|i| (40000 + i as u16, 7, len, data_at))
        .collect();
    let mut f = tiff(1, 1, 1, &extra);
    assert_eq!(f.len() as u32, data_at);
    f.resize(f.len() + len as usize, 0x55);
    f
}

/// A one-pixel TIFF whose first image has one band and whose `n` overview
/// IFDs after it each declare `bands` bands.
pub fn overview_bands(n: u32, bands: u32) -> Vec<u8> {
    let entry = |f: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        for part in [
            &tag.to_le_bytes()[..],
            &typ.to_le_bytes(),
            &count.to_le_bytes(),
            &value.to_le_bytes(),
        ] {
            f.extend_from_slice(part);
        }
    };
    let mut f = b"II*\0".to_vec();
    f.extend_from_slice(&8u32.to_le_bytes());
    for i in 0..=n {
        let here = f.len() as u32;
        let spp = if i == 0 { 1 } else { bands };
        f.extend_from_slice(&7u16.to_le_bytes());
        entry(&mut f, 254, 4, 1, u32::from(i > 0)); // NewSubfileType: reduced image
        entry(&mut f, 256, 4, 1, 1);
        entry(&mut f, 257, 4, 1, 1);
        entry(&mut f, 258, 3, 1, 8);
        entry(&mut f, 273, 4, 1, 0);
        entry(&mut f, 277, 3, 1, spp);
        entry(&mut f, 279, 4, 1, 1);
        let next = if i == n { 0 } else { here + 2 + 7 * 12 + 4 };
        f.extend_from_slice(&next.to_le_bytes());
    }
    f
}

/// A one-pixel TIFF whose GDAL metadata tag holds `domains` metadata domains.
pub fn metadata_domains(domains: u32) -> Vec<u8> {
    let items: String = (0..domains)
        .map(|i| format!(r#"<Item name="K" domain="D{i}">v</Item>"#))
        .collect();
    let xml = format!("<GDALMetadata>{items}</GDALMetadata>\0").into_bytes();
    let data_at = 16 + 2 + 12 * (9 + 1) + 4;
    let mut f = tiff(1, 1, 1, &[(42112, 2, xml.len() as u32, data_at)]);
    assert_eq!(f.len() as u32, data_at);
    f.extend_from_slice(&xml);
    f
}

/// `png` with `chunks` zTXt chunks after its header, each a few KB that
/// libpng would inflate to 8 MB before GDAL sees the image.
pub fn png_text_bomb(png: &[u8], chunks: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b'a'; 8 << 20]).unwrap();
    let compressed = z.finish().unwrap();
    let mut data = b"Comment\0\0".to_vec();
    data.extend_from_slice(&compressed);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut crc = flate2::Crc::new();
    crc.update(b"zTXt");
    crc.update(&data);
    chunk.extend_from_slice(b"zTXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc.sum().to_be_bytes());
    // After the 8-byte signature and the 25-byte IHDR chunk.
    let mut out = png[..33].to_vec();
    for _ in 0..chunks {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&png[33..]);
    out
}

/// A TIFF whose second IFD points back at the first.
fn ifd_loop() -> Vec<u8> {
    let mut f = tiff(4, 4, 1, &[]);
    let n = f.len();
    // The one IFD's next pointer (the last 4 bytes) back to the IFD itself.
    f[n - 4..].copy_from_slice(&16u32.to_le_bytes());
    f
}
