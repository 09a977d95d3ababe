//! Uploaded objects, read as hostile input: through `/vsistratus/` only (GDAL
//! never sees the object's name), by the drivers of [`ALLOWED_DRIVERS`] only,
//! within [`Limits`], and classified so that an error is called permanent
//! only when the bytes themselves cause it.

use std::sync::Arc;

use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::describe::describe;
use crate::gdal_env::{configure_gdal, take_messages, GdalMessages};
use crate::info::RasterInfo;
use crate::limits::Limits;
use crate::object_cache::{Failure, ObjectCache, RangeReader};
use crate::png_check;
use crate::thumbnail::{Thumbnail, ThumbnailRequest};
use crate::tiff_check::{self, Refusal};
use crate::vsi::{take_refused, Registered, OBJECT_PREFIX};
use crate::{Error, ErrorKind, Result};

/// GDAL drivers an upload may be opened with: single-file raster formats
/// that never follow references to other files or URLs (VRT, WMS, WMTS and
/// the like do, and are refused).
/// Erdas Imagine (HFA) is left out: its projection is an ESRI PE string that
/// GDAL parses at open, and PROJ opens any grid file that string names.
pub const ALLOWED_DRIVERS: &[&str] = &[
    "GTiff",
    "PNG",
    "JPEG",
    "AAIGrid",
    "JP2OpenJPEG",
    "netCDF",
    "HDF5",
    "HDF5Image",
    "HDF4",
    "HDF4Image",
    "GRIB",
];

/// The accepted formats, as the "not a raster" message names them.
const ACCEPTED: &str =
    "GeoTIFF/COG, PNG, JPEG, Arc/Info ASCII grid, JPEG 2000, netCDF, HDF5, HDF4 and GRIB";

/// An uploaded object to read.
pub struct Object {
    /// Its name in messages and in [`RasterInfo::path`] (e.g. `s3://bucket/key`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes, already fetched (up to [`crate::HEADER_BYTES`]).
    pub head: Vec<u8>,
    /// Fetches the rest, by ranges.
    pub reader: Arc<dyn RangeReader>,
}

/// What GDAL made of the object before its I/O was judged.
enum Opened {
    Info(Box<RasterInfo>, Dataset),
    Limit(String),
    /// Refused unopened: its CRS names files PROJ would open.
    NamesFiles,
    Failed(gdal::errors::GdalError),
}

/// Describe an uploaded object (header only). Errors are classified in this
/// order: a failed read ([`ErrorKind::ReadFailed`]: nothing is known about
/// the file), a limit, out of memory, a refused reference to another file,
/// then from the bytes: corrupt when an allowed driver recognises them, else
/// not a raster.
pub fn read_object_info(object: Object, limits: &Limits) -> Result<RasterInfo> {
    open_object(object, limits).map(|(info, _)| info)
}

/// An uploaded object GDAL has opened and described, kept open for a
/// thumbnail ([`OpenObject::thumbnail`]): its reads go on drawing from the
/// same cache and the same byte budget.
pub struct OpenObject {
    // Closed before the object is unregistered.
    ds: Dataset,
    registered: Registered,
}

impl OpenObject {
    /// A thumbnail of the object `info` describes (as [`open_object`] gave
    /// it), or why there is none.
    pub fn thumbnail(
        &self,
        info: &RasterInfo,
        request: &ThumbnailRequest,
    ) -> std::result::Result<Thumbnail, String> {
        take_messages();
        let made = crate::thumbnail::render(&self.ds, info, &self.registered, request);
        let messages = take_messages();
        made.map_err(|why| match messages.messages.first() {
            Some(m) if messages.out_of_memory => format!("{why} (GDAL: {m})"),
            _ => why,
        })
    }
}

/// [`read_object_info`], keeping the dataset open when it could be described.
pub fn open_object(object: Object, limits: &Limits) -> Result<(RasterInfo, OpenObject)> {
    configure_gdal();
    let name = object.name.clone();
    if object.size == 0 {
        return Err(Error::new(
            ErrorKind::EmptyObject,
            &name,
            format!("{name} is empty (0 bytes)"),
        ));
    }
    let registered = Registered::new(
        ObjectCache::new(
            object.reader,
            object.size,
            &object.head,
            limits.max_header_bytes,
        ),
        &name,
    );
    let path = registered.path();
    take_messages();
    take_refused();

    let over = {
        let mut cache = registered.cache();
        let mut read = |offset: u64, buf: &mut [u8]| cache.read_at(offset, buf);
        tiff_check::refusal(&mut read, limits)
            .or_else(|| png_check::refusal(&mut read, limits).map(Refusal::Limit))
    };
    let opened = match over {
        Some(Refusal::Limit(message)) => Opened::Limit(message),
        Some(Refusal::NamesFiles) => Opened::NamesFiles,
        None => open(&path, &name, limits),
    };
    let messages = take_messages();
    let refused = take_refused();
    if !refused.is_empty() {
        tracing::debug!(object = %name, ?refused, "GDAL was refused other files");
    }
    let identified = match &opened {
        Opened::Failed(_) if !messages.out_of_memory && refused.is_empty() => identify(&path),
        _ => None,
    };
    let failure = registered.cache().failure().cloned();
    let gdal_said = |m: &GdalMessages| sanitize(&m.messages, &path, &name, &refused);

    match failure {
        Some(Failure::Read(why)) => {
            return Err(Error::new(
                ErrorKind::ReadFailed,
                &name,
                format!("reading {name} failed: {why}"),
            ))
        }
        Some(Failure::Budget(budget)) => {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                &name,
                format!("reading its header takes more than the limit of {budget} bytes"),
            ))
        }
        None => {}
    }
    match opened {
        Opened::Info(mut info, ds) => {
            if !refused.is_empty() {
                info.warnings.push(format!(
                    "it refers to {}, which were not read",
                    describe_refused(&refused)
                ));
            }
            info.warnings.extend(
                gdal_said(&messages)
                    .into_iter()
                    .map(|m| format!("GDAL: {m}")),
            );
            Ok((*info, OpenObject { ds, registered }))
        }
        Opened::Limit(message) => Err(Error::new(ErrorKind::LimitExceeded, &name, message)),
        Opened::NamesFiles => Err(Error::new(
            ErrorKind::ExternalReference,
            &name,
            "its CRS names grid or init files by path or URL, which PROJ would open",
        )),
        Opened::Failed(e) => {
            let detail = gdal_said(&messages);
            let detail = if detail.is_empty() {
                e.to_string()
            } else {
                detail.join("; ")
            };
            let (kind, message) = if messages.out_of_memory {
                (ErrorKind::OutOfMemory, detail)
            } else if !refused.is_empty() {
                (
                    ErrorKind::ExternalReference,
                    format!(
                        "it refers to {}, which an upload may not make GDAL read",
                        describe_refused(&refused)
                    ),
                )
            } else if let Some(driver) = identified {
                match missing_support(&detail) {
                    Some(what) => (
                        ErrorKind::UnsupportedFormat,
                        format!("{driver}: this build has no support for {what} ({detail})"),
                    ),
                    None => (ErrorKind::CorruptRaster, format!("{driver}: {detail}")),
                }
            } else if let Some(what) = unsupported_format(&registered) {
                (
                    ErrorKind::UnsupportedFormat,
                    format!("{what}: not among the formats uploads may use ({ACCEPTED})"),
                )
            } else {
                (ErrorKind::NotARaster, not_a_raster(&registered))
            };
            Err(Error::new(kind, &name, message))
        }
    }
}

fn open(path: &str, name: &str, limits: &Limits) -> Opened {
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER
            | GdalOpenFlags::GDAL_OF_READONLY
            | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        allowed_drivers: Some(ALLOWED_DRIVERS),
        ..Default::default()
    };
    let ds = match Dataset::open_ex(path, options) {
        Ok(ds) => ds,
        Err(e) => return Opened::Failed(e),
    };
    if ds.raster_count() > limits.max_bands {
        return Opened::Limit(format!(
            "it has {} bands, more than the limit of {}",
            ds.raster_count(),
            limits.max_bands
        ));
    }
    match describe(&ds, path, name, Some(ALLOWED_DRIVERS)) {
        Ok(info) => Opened::Info(Box::new(info), ds),
        Err(e) => Opened::Failed(e),
    }
}

/// The allowed driver that recognises the object's bytes, if any.
fn identify(path: &str) -> Option<String> {
    let c_path = std::ffi::CString::new(path).ok()?;
    let names: Vec<std::ffi::CString> = ALLOWED_DRIVERS
        .iter()
        .filter_map(|d| std::ffi::CString::new(*d).ok())
        .collect();
    let mut list: Vec<*const std::ffi::c_char> = names.iter().map(|n| n.as_ptr()).collect();
    list.push(std::ptr::null());
    #[allow(unsafe_code)]
    // SAFETY: the path and the NULL-terminated driver list outlive the call; the driver
    // handle GDAL returns is owned by its driver manager.
    unsafe {
        let driver = gdal_sys::GDALIdentifyDriverEx(
            c_path.as_ptr(),
            GdalOpenFlags::GDAL_OF_RASTER.bits(),
            list.as_ptr(),
            std::ptr::null(),
        );
        if driver.is_null() {
            return None;
        }
        let name = gdal_sys::GDALGetDriverShortName(driver);
        (!name.is_null()).then(|| {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        })
    }
}

/// GDAL's messages with our internal path replaced by the object's name and
/// refused paths left out: a message about a file never echoes another's name.
fn sanitize(messages: &[String], path: &str, name: &str, refused: &[String]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            let mut m = m.clone();
            for r in refused {
                m = m.replace(r.as_str(), "[refused path]");
            }
            m.replace(path, name)
        })
        .collect()
}

/// "2 other file(s) or URL(s): a local file, a URL", without echoing them.
fn describe_refused(refused: &[String]) -> String {
    let mut kinds: Vec<&str> = refused
        .iter()
        .map(|r| {
            if r.starts_with(OBJECT_PREFIX) {
                "another object"
            } else if r.starts_with("/vsi") {
                "a URL or remote object"
            } else {
                "a local file"
            }
        })
        .collect();
    kinds.dedup();
    format!(
        "{} other file(s) or URL(s) ({})",
        refused.len(),
        kinds.join(", ")
    )
}

/// What GDAL's message says the build lacks (a codec, a compression, a
/// feature of the format library), if it says so.
fn missing_support(detail: &str) -> Option<String> {
    let lower = detail.to_ascii_lowercase();
    if let Some(at) = lower.find("missing codec") {
        let codec: String = detail[at + "missing codec".len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        return Some(if codec.is_empty() {
            "the file's compression".into()
        } else {
            format!("the {codec} compression")
        });
    }
    [
        (
            "not configured",
            "a part of the format GDAL was built without",
        ),
        (
            "not built with",
            "a part of the format GDAL was built without",
        ),
        (
            "not supported in this build",
            "a part of the format GDAL was built without",
        ),
        ("unsupported compression", "the file's compression"),
        ("compression scheme", "the file's compression"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, what)| what.to_string())
}

/// A format some tool would read but this function does not: by a driver
/// GDAL has but uploads may not use, or by its signature.
fn unsupported_format(registered: &Registered) -> Option<String> {
    let mut head = [0u8; 64];
    let n = registered.cache().read_at(0, &mut head);
    let head = &head[..n];
    let starts = |magic: &[u8]| head.starts_with(magic);
    let signatures: [(bool, &str); 10] = [
        (
            starts(b"EHFA_HEADER_TAG"),
            "an Erdas Imagine (HFA) file, whose projection PROJ would resolve to grid files",
        ),
        (starts(b"msid"), "a MrSID file"),
        (
            starts(b"\0\0\0\x0cJXL \r\n\x87\n") || starts(&[0xff, 0x0a]),
            "a JPEG XL image",
        ),
        (
            head.len() > 12 && starts(b"RIFF") && &head[8..12] == b"WEBP",
            "a WebP image",
        ),
        (starts(b"GIF87a") || starts(b"GIF89a"), "a GIF image"),
        (starts(b"BM") && head.len() >= 14, "a BMP image"),
        (starts(b"NITF") || starts(b"NSIF"), "a NITF file"),
        (
            starts(b"SQLite format 3\0"),
            "an SQLite database (a GeoPackage?)",
        ),
        (starts(b"SIMPLE  ="), "a FITS file"),
        (
            starts(b"ECW") || starts(&[0x65, 0x02, 0x01, 0x02]),
            "an ECW file",
        ),
    ];
    signatures
        .iter()
        .find(|(hit, _)| *hit)
        .map(|(_, what)| what.to_string())
}

/// Why the bytes are not a raster, naming formats that point elsewhere.
fn not_a_raster(registered: &Registered) -> String {
    let mut head = [0u8; 512];
    let n = registered.cache().read_at(0, &mut head);
    let text = String::from_utf8_lossy(&head[..n]);
    let referencing = [
        ("<VRTDataset", "a GDAL VRT"),
        ("<GDAL_WMS", "a GDAL WMS description"),
        ("<GDAL_WMTS", "a GDAL WMTS description"),
        ("<GDAL_TMS", "a GDAL TMS description"),
    ];
    match referencing.iter().find(|(tag, _)| text.contains(tag)) {
        Some((_, what)) => {
            format!("{what}, which points at other files or URLs: uploads may be {ACCEPTED}")
        }
        None => format!("not a raster format uploads may use ({ACCEPTED})"),
    }
}
