//! [`RasterInfo`] → STAC Item (1.1) with the projection (v2), raster and eo
//! extensions, and the file extension when the object's size or checksum is known.

use serde_json::{json, Map, Value};
use stratus_aws::S3Url;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::crs::CrsInfo;
use crate::cube::Cube;
use crate::info::{BandInfo, Georeferencing, RasterInfo};

/// STAC version of the Items we write.
pub const STAC_VERSION: &str = "1.1.0";
/// Projection extension schema.
pub const PROJECTION: &str = "https://stac-extensions.github.io/projection/v2.0.0/schema.json";
/// Raster extension schema.
pub const RASTER: &str = "https://stac-extensions.github.io/raster/v1.1.0/schema.json";
/// Electro-optical extension schema.
pub const EO: &str = "https://stac-extensions.github.io/eo/v1.1.0/schema.json";
/// Datacube extension schema.
pub const DATACUBE: &str = "https://stac-extensions.github.io/datacube/v2.3.0/schema.json";
/// File info extension schema.
pub const FILE: &str = "https://stac-extensions.github.io/file/v2.1.0/schema.json";

/// What the Item says about where the raster lives: its id, its asset's
/// href and the object's time. Made by [`ItemSource::object`] for an S3
/// object and [`ItemSource::file`] for a local or GDAL path, so every Item
/// of the same object gets the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSource {
    /// Item id ([`item_id`] of the key or path).
    pub id: String,
    /// The asset's href (the object's `s3://` URL or a path).
    pub href: String,
    /// Last-modified time of the object (RFC 3339), used when the file has no date.
    pub last_modified: Option<String>,
    /// The object's size in bytes (`file:size`), when known.
    pub size: Option<u64>,
    /// The SHA-256 of the whole object (`file:checksum`), when its store keeps one.
    pub sha256: Option<[u8; 32]>,
}

impl ItemSource {
    /// An S3 object: its id from its key, its href its `s3://` URL.
    pub fn object(url: &S3Url, last_modified: Option<String>) -> ItemSource {
        ItemSource {
            id: item_id(&url.key),
            href: url.to_string(),
            last_modified,
            size: None,
            sha256: None,
        }
    }

    /// A file by its path (absolute, or a GDAL `/vsi…/` path): id and href from the path.
    pub fn file(path: String, last_modified: Option<String>) -> ItemSource {
        ItemSource {
            id: item_id(&path),
            href: path,
            last_modified,
            size: None,
            sha256: None,
        }
    }
}

/// Item id of the object at `key` (or of the file at an absolute path): its
/// file name without the extension, `-`, and the first 16 hex digits of the
/// SHA-256 of the whole key. Readable, the same on every run, and different
/// for `a/scene.tif`, `b/scene.tif` and `a/scene.png`; free of `/`, so it
/// fits in a STAC API's item URL.
pub fn item_id(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let name = key.rsplit('/').next().unwrap_or(key);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let digest = Sha256::digest(key.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    if stem.is_empty() {
        hash
    } else {
        format!("{stem}-{hash}")
    }
}

/// Media type for the driver (and COG-ness) of a raster.
pub fn media_type(info: &RasterInfo) -> &'static str {
    match info.driver.as_str() {
        "GTiff" | "COG" if info.cog.as_ref().is_some_and(|c| c.valid) => {
            "image/tiff; application=geotiff; profile=cloud-optimized"
        }
        "GTiff" | "COG" => "image/tiff; application=geotiff",
        "PNG" => "image/png",
        "JPEG" => "image/jpeg",
        "JP2OpenJPEG" | "JP2ECW" | "JP2KAK" | "JPEG2000" => "image/jp2",
        "WEBP" => "image/webp",
        "GIF" => "image/gif",
        "netCDF" => "application/x-netcdf",
        "HDF5" | "HDF5Image" => "application/x-hdf5",
        "HDF4" | "HDF4Image" => "application/x-hdf",
        "GRIB" => "application/x-grib",
        "HFA" => "application/x-erdas-hfa",
        "AAIGrid" => "text/plain",
        "GPKG" => "application/geopackage+sqlite3",
        "Zarr" => "application/vnd+zarr",
        "VRT" => "application/xml",
        _ => "application/octet-stream",
    }
}

/// Metadata keys that say when the data was acquired or made, in the order
/// they are trusted (acquisition first, TIFF's DateTime, the file's own
/// writing time, last), matched without regard to case.
const DATE_KEYS: [&str; 10] = [
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "ACQUISITION_DATE",
    "ACQUISITION_TIME",
    "DATE_ACQUIRED",
    "SENSING_TIME",
    "DATETIME",
    "DATE_TIME",
    "DATE",
    "TIFFTAG_DATETIME",
];

/// Metadata domains searched for them: the default one, and GDAL's
/// `IMAGERY` domain (what it reads from satellite products' sidecar files).
const DATE_DOMAINS: [&str; 2] = ["", "IMAGERY"];

/// The time the file's metadata gives, as RFC 3339 (UTC when no zone is
/// given), and the key it came from (`IMAGERY:` before keys of that domain).
pub fn file_datetime(info: &RasterInfo) -> Option<(String, String)> {
    DATE_KEYS.iter().find_map(|key| {
        DATE_DOMAINS.iter().find_map(|domain| {
            let items = info.metadata.get(*domain)?;
            let (k, v) = items.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
            let at = parse_datetime(v)?;
            let name = if domain.is_empty() {
                k.clone()
            } else {
                format!("{domain}:{k}")
            };
            Some((at, name))
        })
    })
}

/// Parse the date forms found in raster metadata: RFC 3339, `YYYY:MM:DD HH:MM:SS`
/// (TIFF), `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DDTHH:MM:SS` (fractions of a
/// second allowed), `YYYY-MM-DD`, `YYYY:MM:DD` and `YYYY/MM/DD`.
pub fn parse_datetime(text: &str) -> Option<String> {
    let t = text.trim();
    if let Ok(dt) = OffsetDateTime::parse(t, &Rfc3339) {
        return format(dt);
    }
    let forms = [
        format_description!("[year]:[month]:[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
    ];
    for f in forms {
        if let Ok(dt) = PrimitiveDateTime::parse(t, &f) {
            return format(dt.assume_utc());
        }
    }
    let dates = [
        format_description!("[year]-[month]-[day]"),
        format_description!("[year]:[month]:[day]"),
        format_description!("[year]/[month]/[day]"),
    ];
    dates
        .iter()
        .find_map(|f| time::Date::parse(t, f).ok())
        .and_then(|d| format(d.midnight().assume_utc()))
}

fn format(dt: OffsetDateTime) -> Option<String> {
    dt.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

fn stac_data_type(gdal: &str) -> &'static str {
    match gdal {
        "Byte" => "uint8",
        "Int8" => "int8",
        "UInt16" => "uint16",
        "Int16" => "int16",
        "UInt32" => "uint32",
        "Int32" => "int32",
        "UInt64" => "uint64",
        "Int64" => "int64",
        "Float32" => "float32",
        "Float64" => "float64",
        "CInt16" => "cint16",
        "CInt32" => "cint32",
        "CFloat32" => "cfloat32",
        "CFloat64" => "cfloat64",
        _ => "other",
    }
}

fn common_name(color: &str) -> Option<&'static str> {
    Some(match color {
        "Red" => "red",
        "Green" => "green",
        "Blue" => "blue",
        "NIR" | "NIRBand" => "nir",
        "Pan" | "PanBand" => "pan",
        "Coastal" | "CoastalBand" => "coastal",
        "RedEdge" | "RedEdgeBand" => "rededge",
        "SWIR" | "SWIRBand" => "swir16",
        _ => return None,
    })
}

fn raster_band(info: &RasterInfo, band: &BandInfo) -> Value {
    let mut b = Map::new();
    b.insert("data_type".into(), json!(stac_data_type(&band.data_type)));
    if let Some(nodata) = band.nodata {
        b.insert("nodata".into(), json!(nodata));
    }
    if let Some(m) = info.resolution_m {
        b.insert("spatial_resolution".into(), json!((m * 1e4).round() / 1e4));
    }
    if let Some(v) = band.scale.filter(|s| *s != 1.0) {
        b.insert("scale".into(), json!(v));
    }
    if let Some(v) = band.offset.filter(|o| *o != 0.0) {
        b.insert("offset".into(), json!(v));
    }
    if let Some(unit) = &band.unit {
        b.insert("unit".into(), json!(unit));
    }
    let sampling = info
        .metadata
        .get("")
        .and_then(|m| m.get("AREA_OR_POINT"))
        .map(|v| v.to_ascii_lowercase());
    if let Some(s) = sampling.filter(|s| s == "area" || s == "point") {
        b.insert("sampling".into(), json!(s));
    }
    Value::Object(b)
}

fn eo_band(band: &BandInfo) -> Value {
    let mut b = Map::new();
    b.insert(
        "name".into(),
        json!(band
            .description
            .clone()
            .unwrap_or_else(|| format!("b{}", band.index))),
    );
    if let Some(c) = common_name(&band.color_interpretation) {
        b.insert("common_name".into(), json!(c));
    }
    Value::Object(b)
}

/// Build the STAC Item for `info`. `now` is used as `datetime` when neither
/// the file nor the object says when it was made (so callers control it).
pub fn item(info: &RasterInfo, source: &ItemSource, now: &str) -> Value {
    // The file's own date, else the object's time, else now; and which.
    let (datetime, datetime_source) = file_datetime(info)
        .map(|(at, key)| (at, format!("metadata:{key}")))
        .or_else(|| {
            let at = source.last_modified.as_deref().and_then(parse_datetime)?;
            Some((at, "object".to_string()))
        })
        .unwrap_or_else(|| (now.to_string(), "processing".to_string()));

    let mut props = Map::new();
    props.insert("datetime".into(), json!(datetime));
    props.insert("stratus:datetime_source".into(), json!(datetime_source));
    props.insert("created".into(), json!(now));
    match georeferencing_crs(info) {
        Some(crs) => {
            props.insert(
                "proj:code".into(),
                json!(crs.epsg.map(|c| format!("EPSG:{c}"))),
            );
            if crs.epsg.is_none() {
                props.insert("proj:wkt2".into(), json!(crs.wkt2));
                if let Some(pj) = &crs.projjson {
                    props.insert("proj:projjson".into(), pj.clone());
                }
            }
        }
        // No CRS: the projection extension's way to say so.
        None => {
            props.insert("proj:code".into(), Value::Null);
        }
    }
    // A container without a georeferenced grid has no shape to give.
    if info.width > 0 && info.height > 0 {
        props.insert("proj:shape".into(), json!([info.height, info.width]));
    }
    if let Some(grid) = &info.grid {
        // The container's subdataset whose grid the projection fields and geometry describe.
        props.insert("stratus:grid".into(), json!(grid));
    }
    let mut extensions = vec![PROJECTION];
    if let Some(cube) = &info.cube {
        props.insert("cube:dimensions".into(), cube_dimensions(cube, info));
        props.insert("cube:variables".into(), cube_variables(cube));
        extensions.push(DATACUBE);
    }
    if info.georeferencing == Some(Georeferencing::Gcps) {
        // The geometry and proj:bbox come from a fit to the GCPs, not from a geotransform.
        props.insert("stratus:georeferencing".into(), json!("gcps"));
    }
    if let Some(gt) = info.geotransform {
        props.insert(
            "proj:transform".into(),
            json!([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]),
        );
    }
    if let Some(b) = info.bbox {
        props.insert("proj:bbox".into(), json!(b));
    }
    if let Some(g) = &info.crs_footprint {
        props.insert("proj:geometry".into(), g.clone());
    }

    let mut asset = Map::new();
    asset.insert("href".into(), json!(source.href));
    asset.insert("type".into(), json!(media_type(info)));
    asset.insert("roles".into(), json!(["data"]));
    // Bands are listed when the asset has them; a container's variables are the cube's.
    if !info.bands.is_empty() {
        asset.insert(
            "raster:bands".into(),
            Value::Array(info.bands.iter().map(|b| raster_band(info, b)).collect()),
        );
        asset.insert(
            "eo:bands".into(),
            Value::Array(info.bands.iter().map(eo_band).collect()),
        );
        extensions.extend([RASTER, EO]);
    }

    if let Some(size) = source.size {
        asset.insert("file:size".into(), json!(size));
    }
    if let Some(digest) = source.sha256 {
        asset.insert("file:checksum".into(), json!(sha256_multihash(&digest)));
    }
    if source.size.is_some() || source.sha256.is_some() {
        extensions.push(FILE);
    }

    let mut item = Map::new();
    item.insert("type".into(), json!("Feature"));
    item.insert("stac_version".into(), json!(STAC_VERSION));
    item.insert("stac_extensions".into(), json!(extensions));
    item.insert("id".into(), json!(source.id));
    match (&info.footprint, info.wgs84_bbox) {
        (Some(geometry), Some(bbox)) => {
            item.insert("geometry".into(), geometry.clone());
            item.insert("bbox".into(), json!(bbox));
        }
        _ => {
            item.insert("geometry".into(), Value::Null);
        }
    }
    item.insert("properties".into(), Value::Object(props));
    item.insert("links".into(), json!([]));
    item.insert("assets".into(), json!({ "data": asset }));
    Value::Object(item)
}

/// List a thumbnail among `item`'s assets (the `thumbnail` asset, STAC's
/// `thumbnail` role) at `href`, of `media_type`.
pub fn add_thumbnail(item: &mut Value, href: &str, media_type: &str) {
    if let Some(assets) = item.get_mut("assets").and_then(Value::as_object_mut) {
        assets.insert(
            "thumbnail".into(),
            json!({"href": href, "type": media_type, "roles": ["thumbnail"]}),
        );
    }
}

/// A cube name without the root group's slash (`/lat` → `lat`).
fn cube_name(name: &str) -> &str {
    name.strip_prefix('/').unwrap_or(name)
}

/// `cube:dimensions`: x and y (with the grid's CRS), vertical and time where
/// GDAL tells them, every other dimension by its kind; an extent from the
/// coordinate variable, or else the range of positions.
fn cube_dimensions(cube: &Cube, info: &RasterInfo) -> Value {
    let reference = |dim: &str| -> Option<Value> {
        let from_variable = cube
            .variables
            .iter()
            .filter(|v| v.dimensions.iter().any(|d| d == dim))
            .find_map(|v| v.crs.as_ref().and_then(|c| c.epsg));
        match (from_variable, &info.crs) {
            (Some(code), _) => Some(json!(code)),
            (None, Some(crs)) => Some(crs.epsg.map_or_else(|| json!(crs.wkt2), |c| json!(c))),
            (None, None) => None,
        }
    };
    let mut out = Map::new();
    for d in &cube.dimensions {
        let positions = json!([0, d.size.saturating_sub(1)]);
        let mut o = Map::new();
        match (d.kind.as_deref(), d.extent) {
            (Some(k @ ("HORIZONTAL_X" | "HORIZONTAL_Y")), Some(extent)) => {
                o.insert("type".into(), json!("spatial"));
                o.insert(
                    "axis".into(),
                    json!(if k == "HORIZONTAL_X" { "x" } else { "y" }),
                );
                o.insert("extent".into(), json!(extent));
                if let Some(r) = reference(&d.name) {
                    o.insert("reference_system".into(), r);
                }
            }
            (Some("VERTICAL"), Some(extent)) => {
                o.insert("type".into(), json!("spatial"));
                o.insert("axis".into(), json!("z"));
                o.insert("extent".into(), json!(extent));
            }
            (Some("TEMPORAL"), _) => {
                o.insert("type".into(), json!("temporal"));
                match &d.time_extent {
                    Some(t) => o.insert("extent".into(), json!(t)),
                    None => o.insert("extent".into(), json!([null, null])),
                };
            }
            (kind, extent) => {
                let kind = kind
                    .map(str::to_ascii_lowercase)
                    .filter(|k| !k.is_empty() && !k.starts_with("horizontal") && k != "vertical")
                    .unwrap_or_else(|| "other".into());
                o.insert("type".into(), json!(kind));
                match extent {
                    Some(e) => o.insert("extent".into(), json!(e)),
                    None => {
                        o.insert(
                            "description".into(),
                            json!("positions (no coordinate variable)"),
                        );
                        o.insert("extent".into(), positions)
                    }
                };
            }
        }
        if let Some(unit) = d
            .unit
            .as_ref()
            .filter(|_| d.kind.as_deref() != Some("TEMPORAL"))
        {
            if o["type"] != "spatial" || o.get("axis") == Some(&json!("z")) {
                o.insert("unit".into(), json!(unit));
            }
        }
        out.insert(cube_name(&d.name).to_string(), Value::Object(o));
    }
    Value::Object(out)
}

/// `cube:variables`: each variable with its dimensions, type, unit, nodata;
/// coordinate variables as auxiliary.
fn cube_variables(cube: &Cube) -> Value {
    let mut out = Map::new();
    for v in &cube.variables {
        let mut o = Map::new();
        o.insert(
            "dimensions".into(),
            json!(v
                .dimensions
                .iter()
                .map(|d| cube_name(d))
                .collect::<Vec<_>>()),
        );
        o.insert(
            "variable_type".into(),
            json!(if v.coordinate { "auxiliary" } else { "data" }),
        );
        o.insert("data_type".into(), json!(stac_data_type(&v.data_type)));
        if let Some(u) = &v.unit {
            o.insert("unit".into(), json!(u));
        }
        if let Some(d) = &v.description {
            o.insert("description".into(), json!(d));
        }
        if let Some(n) = v.nodata {
            o.insert("nodata".into(), json!(n));
        }
        out.insert(cube_name(&v.name).to_string(), Value::Object(o));
    }
    Value::Object(out)
}

/// The CRS the raster's georeferencing uses, which `proj:code`, `proj:bbox`,
/// `proj:geometry` and the footprint share: its GCPs' for a raster placed
/// by GCPs (or with nothing but GCPs), else its own.
fn georeferencing_crs(info: &RasterInfo) -> Option<&CrsInfo> {
    let gcp_crs = info.gcps.as_ref().and_then(|g| g.crs.as_ref());
    match (info.georeferencing, info.geotransform) {
        (Some(Georeferencing::Gcps), _) | (None, None) => gcp_crs.or(info.crs.as_ref()),
        _ => info.crs.as_ref(),
    }
}

/// A SHA-256 digest as a multihash (the file extension's `file:checksum`):
/// the sha2-256 code 0x12, the length 0x20, the digest, in hex.
fn sha256_multihash(digest: &[u8; 32]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("1220{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        // The digests are sha256sum's: printf %s 'a/b/scene 1.tif' | sha256sum
        assert_eq!(item_id("a/b/scene 1.tif"), "scene 1-e44323ad322669be");
        assert_ne!(item_id("a/scene.tif"), item_id("b/scene.tif"));
        assert_ne!(item_id("a/scene.tif"), item_id("a/scene.png"));
        assert!(item_id("x.tar.gz").starts_with("x.tar-"));
        assert!(item_id(".hidden").starts_with(".hidden-"));
        assert_eq!(item_id("dir/").len(), 16);
    }

    #[test]
    fn checksums_are_sha2_256_multihashes() {
        // sha256 of "" (printf '' | sha256sum).
        let digest: [u8; 32] = [
            0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
            0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
            0x78, 0x52, 0xb8, 0x55,
        ];
        assert_eq!(
            sha256_multihash(&digest),
            "1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            parse_datetime("2024:03:05 10:11:12").as_deref(),
            Some("2024-03-05T10:11:12Z")
        );
        assert_eq!(
            parse_datetime("2024-03-05T10:11:12+02:00").as_deref(),
            Some("2024-03-05T08:11:12Z")
        );
        assert_eq!(
            parse_datetime("2024-03-05").as_deref(),
            Some("2024-03-05T00:00:00Z")
        );
        assert_eq!(
            parse_datetime("2024/03/05").as_deref(),
            Some("2024-03-05T00:00:00Z")
        );
        assert_eq!(
            parse_datetime("2024-03-05T10:11:12.5").as_deref(),
            Some("2024-03-05T10:11:12.5Z")
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
