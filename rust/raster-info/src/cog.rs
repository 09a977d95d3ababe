//! Cloud Optimized GeoTIFF verdict, read from the TIFF's own structure (its
//! IFD chain, [`crate::tiff_ifds`]), as OGC 21-026 and GDAL's COG layout
//! define a COG: every image tiled (TileWidth/TileLength tags), the full
//! resolution image first and its overviews after it in decreasing size,
//! every IFD before the image data (so one read at the start of the file
//! gets all of them), the smallest overview's data first, and no edit that
//! GDAL marked as breaking the layout. Overviews
//! themselves, a first IFD right after the header and classic TIFF under
//! 4 GiB are recommendations. Every rule checked is reported, passed or not.

use std::collections::BTreeMap;

use gdal::{Dataset, Metadata};
use serde::{Deserialize, Serialize};

use crate::tiff_ifds::{
    Ifd, ReadAt, Tiff, TAG_IMAGE_LENGTH, TAG_IMAGE_WIDTH, TAG_NEW_SUBFILE_TYPE,
    TAG_STRIP_BYTE_COUNTS, TAG_STRIP_OFFSETS, TAG_TILE_BYTE_COUNTS, TAG_TILE_LENGTH,
    TAG_TILE_OFFSETS, TAG_TILE_WIDTH,
};

/// Result of the COG check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CogCheck {
    /// Every required rule passed.
    pub valid: bool,
    /// The full-resolution image has TileWidth and TileLength tags.
    pub tiled: bool,
    /// Reduced-resolution images (overviews) of the full-resolution image.
    pub overviews: usize,
    /// BigTIFF (64-bit offsets).
    pub bigtiff: bool,
    /// GDAL's structural metadata at the start of the file (its "ghost
    /// header": `LAYOUT`, `BLOCK_ORDER`, `BLOCK_LEADER`, `BLOCK_TRAILER`,
    /// `KNOWN_INCOMPATIBLE_EDITION`, `MASK_INTERLEAVED_WITH_IMAGERY`), when present.
    pub ghost_header: Option<BTreeMap<String, String>>,
    /// Every rule checked, in order.
    pub rules: Vec<CogRule>,
}

impl CogCheck {
    /// The rule named `rule`, if it was checked.
    pub fn rule(&self, rule: &str) -> Option<&CogRule> {
        self.rules.iter().find(|r| r.rule == rule)
    }
}

/// One rule of the COG definition and how the file fares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CogRule {
    /// Short name (`tiled`, `ifds-before-data`, …).
    pub rule: String,
    /// Where the rule is defined: an OGC 21-026 requirement or recommendation
    /// (`/req/…`, `/rec/…`), or GDAL's COG layout.
    pub source: String,
    /// A COG must meet it (else it is a recommendation).
    pub required: bool,
    /// The file meets it.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// Images larger than this in either dimension are recommended overviews
/// (GDAL's validator and rio-cogeo say so too).
const OVERVIEWS_ABOVE: u64 = 512;
/// Classic TIFF addresses this many bytes.
const CLASSIC_TIFF_BYTES: u64 = 1 << 32;
/// IFDs walked at most (uploads are refused past their own limit before this).
const MAX_IFDS: usize = 1024;
/// Strile offsets read per image to find where its data starts.
const FIRST_STRILES: usize = 64;
/// GDAL's ghost header: this line at the end of the TIFF header, then as
/// many bytes of `KEY=VALUE` lines.
const GHOST_PREFIX: &[u8] = b"GDAL_STRUCTURAL_METADATA_SIZE=";
/// Ghost header bytes read at most.
const MAX_GHOST: usize = 4096;

const SOURCE_TILING: &str = "OGC 21-026 /req/geotiff-format/tiling";
const SOURCE_OVERVIEWS: &str = "OGC 21-026 /req/geotiff-overviews/overviews";
const SOURCE_LAYOUT: &str =
    "GDAL COG layout (LAYOUT=IFDS_BEFORE_DATA); OGC 21-026 /rec/geotiff-overviews/ifd-order";
const SOURCE_EDITION: &str = "GDAL COG layout (KNOWN_INCOMPATIBLE_EDITION)";
const SOURCE_RECOMMEND_OVERVIEWS: &str =
    "GDAL COG validator (overviews above 512 px); OGC 21-026 /req/optimized_geotiff/number";
const SOURCE_FIRST_IFD: &str =
    "GDAL COG validator (main IFD offset); OGC 21-026 /rec/geotiff-overviews/ifd-order";
const SOURCE_CLASSIC: &str = "OGC 21-026 /rec/geotiff-format/use-geotiff";

/// The check of the GeoTIFF GDAL opened as `ds`, read from its file alone
/// (sidecar files, such as an external `.ovr`, are never read).
pub(crate) fn check(ds: &Dataset) -> CogCheck {
    match VsiFile::open(&ds.description().unwrap_or_default()) {
        Some(mut file) => {
            let size = file.size();
            let mut read = |offset: u64, buf: &mut [u8]| file.read_at(offset, buf);
            structure(&mut read, size)
        }
        None => unreadable("GDAL cannot read the file's bytes"),
    }
}

fn unreadable(why: &str) -> CogCheck {
    CogCheck {
        valid: false,
        tiled: false,
        overviews: 0,
        bigtiff: false,
        ghost_header: None,
        rules: vec![CogRule {
            rule: "tiff-structure".into(),
            source: "TIFF 6.0 / BigTIFF".into(),
            required: true,
            passed: false,
            detail: why.into(),
        }],
    }
}

/// What one IFD is, as the COG rules see it.
struct Image {
    ifd: Ifd,
    /// Bit 0 of NewSubfileType: a reduced-resolution image (an overview).
    reduced: bool,
    /// Bit 2: a transparency mask.
    mask: bool,
    size: (u64, u64),
    tiled: bool,
    /// Offset of its first data (the smallest of its first strile offsets
    /// with bytes), if it has any.
    data_start: Option<u64>,
}

fn image(tiff: &Tiff, read: &mut ReadAt, ifd: Ifd) -> Image {
    let int = |read: &mut ReadAt, tag| ifd.entry(tag).and_then(|e| tiff.integer(read, e));
    let subfile = int(read, TAG_NEW_SUBFILE_TYPE).unwrap_or(0);
    let size = (
        int(read, TAG_IMAGE_WIDTH).unwrap_or(0),
        int(read, TAG_IMAGE_LENGTH).unwrap_or(0),
    );
    let tiled = ifd.entry(TAG_TILE_WIDTH).is_some() && ifd.entry(TAG_TILE_LENGTH).is_some();
    let (offsets, counts) = if tiled {
        (TAG_TILE_OFFSETS, TAG_TILE_BYTE_COUNTS)
    } else {
        (TAG_STRIP_OFFSETS, TAG_STRIP_BYTE_COUNTS)
    };
    let data_start = match (ifd.entry(offsets), ifd.entry(counts)) {
        (Some(o), Some(c)) => {
            let offsets = tiff.integers(read, o, FIRST_STRILES);
            let counts = tiff.integers(read, c, FIRST_STRILES);
            offsets
                .iter()
                .zip(&counts)
                .filter(|(&o, &c)| o > 0 && c > 0)
                .map(|(&o, _)| o)
                .min()
        }
        _ => None,
    };
    Image {
        ifd,
        reduced: subfile & 1 != 0,
        mask: subfile & 4 != 0,
        size,
        tiled,
        data_start,
    }
}

/// GDAL's ghost header right after the TIFF header, as key/value pairs, and
/// where the first IFD is expected after it.
fn ghost_header(tiff: &Tiff, read: &mut ReadAt) -> (Option<BTreeMap<String, String>>, u64) {
    let at = tiff.header_size();
    // "GDAL_STRUCTURAL_METADATA_SIZE=000140 bytes\n"
    let mut line = [0u8; 43];
    if read(at, &mut line) < line.len() || !line.starts_with(GHOST_PREFIX) {
        return (None, at);
    }
    let digits = &line[GHOST_PREFIX.len()..GHOST_PREFIX.len() + 6];
    let Some(size) = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<usize>().ok())
    else {
        return (None, at);
    };
    let mut text = vec![0u8; size.min(MAX_GHOST)];
    let got = read(at + line.len() as u64, &mut text);
    let flags = String::from_utf8_lossy(&text[..got])
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let end = at + line.len() as u64 + size as u64;
    // IFDs start on a word boundary.
    (Some(flags), end + end % 2)
}

/// The verdict on the TIFF whose bytes `read` copies (`size` bytes in all).
pub(crate) fn structure(read: &mut ReadAt, size: u64) -> CogCheck {
    let Some(tiff) = Tiff::header(read) else {
        return unreadable("not a TIFF or BigTIFF header");
    };
    let (ifds, whole) = tiff.chain(read, MAX_IFDS);
    if !whole || ifds.is_empty() {
        return unreadable("the chain of image file directories cannot be read to its end");
    }
    let (ghost, expected_first) = ghost_header(&tiff, read);
    let images: Vec<Image> = ifds.into_iter().map(|i| image(&tiff, read, i)).collect();
    let main = &images[0];
    // Overviews (and the mask's) in chain order, numbered from 0 as GDAL does.
    let overviews: Vec<&Image> = images.iter().filter(|i| i.reduced && !i.mask).collect();
    let mut rules = Vec::new();
    let mut rule = |rule: &str, source: &str, required: bool, passed: bool, detail: String| {
        rules.push(CogRule {
            rule: rule.into(),
            source: source.into(),
            required,
            passed,
            detail,
        })
    };

    // Names as messages give them: overviews of the image and of the mask
    // are numbered from 0 in chain order, as GDAL numbers them.
    let names: Vec<String> = {
        let mut counts = [0usize; 2];
        images
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let kind = if i.mask { "mask" } else { "image" };
                match (i.reduced, i.mask) {
                    (false, false) if k > 0 => format!("image {k} (another full-resolution image)"),
                    (false, _) => format!("the full-resolution {kind}"),
                    (true, _) => {
                        let n = &mut counts[usize::from(i.mask)];
                        *n += 1;
                        format!("overview {} of the {kind}", *n - 1)
                    }
                }
            })
            .collect()
    };

    let stripped: Vec<&str> = images
        .iter()
        .zip(&names)
        .filter(|(i, _)| !i.tiled)
        .map(|(_, n)| n.as_str())
        .collect();
    rule(
        "tiled",
        SOURCE_TILING,
        true,
        stripped.is_empty(),
        if stripped.is_empty() {
            "every image has TileWidth and TileLength tags".into()
        } else {
            format!("in strips, not tiles: {}", stripped.join(", "))
        },
    );

    // The first image is the full-resolution one; each reduced-resolution
    // image is smaller than the one before it of its kind (image or mask).
    let mut order = Vec::new();
    if main.reduced || main.mask {
        order.push("the first image file directory is not a full-resolution image".to_string());
    }
    for kind in [false, true] {
        let mut previous: Option<(u64, u64)> = None;
        for (i, name) in images.iter().zip(&names).filter(|(i, _)| i.mask == kind) {
            if let Some(p) = previous.filter(|_| i.reduced) {
                if i.size.0 >= p.0 && i.size.1 >= p.1 {
                    order.push(format!(
                        "{name} ({}x{} px) is not smaller than the image before it ({}x{} px)",
                        i.size.0, i.size.1, p.0, p.1
                    ));
                }
            }
            previous = Some(i.size);
        }
    }
    rule(
        "overview-order",
        SOURCE_OVERVIEWS,
        true,
        order.is_empty(),
        if order.is_empty() {
            format!(
                "the full-resolution image first, then {} overview(s) in decreasing size",
                overviews.len()
            )
        } else {
            order.join("; ")
        },
    );

    let data_start = images.iter().filter_map(|i| i.data_start).min();
    let late: Vec<String> = images
        .iter()
        .zip(&names)
        .filter(|(i, _)| data_start.is_some_and(|d| i.ifd.offset > d))
        .map(|(i, n)| format!("{n}'s IFD at byte {}", i.ifd.offset))
        .collect();
    rule(
        "ifds-before-data",
        SOURCE_LAYOUT,
        true,
        late.is_empty(),
        if late.is_empty() {
            "every IFD comes before the image data".into()
        } else {
            format!(
                "image data starts at byte {}, before {}: a reader needs more requests before any data",
                data_start.unwrap_or_default(),
                late.join(", ")
            )
        },
    );

    // Data of the smallest overview first, the full resolution's last.
    let chain: Vec<(&Image, &String)> = images
        .iter()
        .zip(&names)
        .filter(|(i, _)| !i.mask && (i.reduced || std::ptr::eq(*i, main)))
        .collect();
    let misplaced: Vec<String> = chain
        .windows(2)
        .filter_map(|w| match (w[0].0.data_start, w[1].0.data_start) {
            (Some(a), Some(b)) if a < b => Some(format!(
                "{}'s data (byte {a}) comes before {}'s (byte {b})",
                w[0].1, w[1].1
            )),
            _ => None,
        })
        .collect();
    rule(
        "data-smallest-overview-first",
        SOURCE_LAYOUT,
        true,
        misplaced.is_empty(),
        if misplaced.is_empty() {
            "image data runs from the smallest overview to the full resolution".into()
        } else {
            misplaced.join("; ")
        },
    );

    let edited = ghost
        .as_ref()
        .and_then(|g| g.get("KNOWN_INCOMPATIBLE_EDITION"))
        .is_some_and(|v| v == "YES");
    rule(
        "not-edited",
        SOURCE_EDITION,
        true,
        !edited,
        if edited {
            "KNOWN_INCOMPATIBLE_EDITION=YES: the file was changed after it was written as a COG, breaking its layout".into()
        } else {
            "no edit is known to have broken the layout".into()
        },
    );

    let large = main.size.0 > OVERVIEWS_ABOVE || main.size.1 > OVERVIEWS_ABOVE;
    rule(
        "overviews",
        SOURCE_RECOMMEND_OVERVIEWS,
        false,
        !large || !overviews.is_empty(),
        match (large, overviews.len()) {
            (_, n) if n > 0 => format!("{n} internal overview(s)"),
            (true, _) => format!(
                "no overviews: recommended for images larger than {OVERVIEWS_ABOVE} px ({}x{} px)",
                main.size.0, main.size.1
            ),
            (false, _) => format!("no overviews, none needed at {OVERVIEWS_ABOVE} px or less"),
        },
    );

    rule(
        "first-ifd-after-header",
        SOURCE_FIRST_IFD,
        false,
        tiff.first_ifd == expected_first,
        format!(
            "the first IFD is at byte {}{}",
            tiff.first_ifd,
            if tiff.first_ifd == expected_first {
                String::new()
            } else {
                format!(", not right after the header (byte {expected_first})")
            }
        ),
    );

    rule(
        "classic-tiff",
        SOURCE_CLASSIC,
        false,
        !tiff.big || size >= CLASSIC_TIFF_BYTES,
        match (tiff.big, size >= CLASSIC_TIFF_BYTES) {
            (false, _) => "classic TIFF".into(),
            (true, true) => "BigTIFF, needed past 4 GiB".into(),
            (true, false) => {
                format!("BigTIFF for {size} bytes: classic TIFF is recommended under 4 GiB")
            }
        },
    );

    let valid = rules.iter().all(|r| r.passed || !r.required);
    CogCheck {
        valid,
        tiled: main.tiled,
        overviews: overviews.len(),
        bigtiff: tiff.big,
        ghost_header: ghost,
        rules,
    }
}

/// A file read through GDAL's virtual file systems (a local file, or an
/// upload's `/vsistratus/` path, whose reads go through its cache).
struct VsiFile(*mut gdal_sys::VSILFILE);

impl VsiFile {
    fn open(path: &str) -> Option<VsiFile> {
        let path = std::ffi::CString::new(path).ok()?;
        #[allow(unsafe_code)]
        // SAFETY: both strings outlive the call; the handle is closed by Drop.
        let h = unsafe { gdal_sys::VSIFOpenL(path.as_ptr(), c"rb".as_ptr()) };
        (!h.is_null()).then_some(VsiFile(h))
    }

    fn size(&mut self) -> u64 {
        #[allow(unsafe_code)]
        // SAFETY: the handle is open.
        unsafe {
            gdal_sys::VSIFSeekL(self.0, 0, libc::SEEK_END);
            gdal_sys::VSIFTellL(self.0)
        }
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> usize {
        #[allow(unsafe_code)]
        // SAFETY: the handle is open and `buf` has room for `buf.len()` bytes.
        unsafe {
            if gdal_sys::VSIFSeekL(self.0, offset, libc::SEEK_SET) != 0 {
                return 0;
            }
            gdal_sys::VSIFReadL(buf.as_mut_ptr().cast(), 1, buf.len(), self.0)
        }
    }
}

impl Drop for VsiFile {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: opened by VSIFOpenL, closed once.
        unsafe {
            gdal_sys::VSIFCloseL(self.0);
        }
    }
}
