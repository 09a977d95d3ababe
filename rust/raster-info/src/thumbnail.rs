//! A thumbnail of an uploaded COG from the header budget: its smallest
//! overview (or the whole image when that is small and has none), read at
//! its own size, tile bytes counted before a byte is fetched, and encoded as
//! PNG or JPEG by GDAL into memory. Anything that would cost more than the
//! request allows (an overview too large, too many bytes, tiles that decode
//! to too much, not a COG, a band layout with no obvious picture) is a
//! reason, not an error: the caller writes the Item without a thumbnail.

use std::collections::BTreeMap;

use gdal::raster::{ColorInterpretation, GdalDataType, RasterBand, RasterCreationOptions};
use gdal::Metadata;
use gdal::{Dataset, DriverManager};
use serde::{Deserialize, Serialize};

use crate::info::RasterInfo;
use crate::object_cache::Failure;
use crate::vsi::Registered;

/// Pixels of the longest side of a thumbnail, at most (STAC's convention for `thumbnail`).
pub const MAX_SIDE: usize = 600;

/// Bytes the decoded tiles of the overview may take in the worker: 512-pixel
/// tiles of a 600-pixel overview, four bands of 64-bit values, and no more.
const MAX_DECODED_BYTES: u64 = 2 * 2 * 512 * 512 * 4 * 8;

/// Tiles of the overview, over all bands: each is looked up in the tile tables
/// and decoded apart, so a file declaring tiny tiles costs time, not bytes.
const MAX_TILES: usize = 1024;

/// Bytes GDAL reads on either side of a COG tile: the size it is led by and
/// the copy of its last bytes that trails it (`BLOCK_LEADER`, `BLOCK_TRAILER`).
const TILE_GHOST_BYTES: u64 = 4;

/// The image format of a thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThumbnailFormat {
    /// PNG: lossless, with transparency where the raster has no data.
    Png,
    /// JPEG: smaller for photographs, no transparency.
    Jpeg,
}

impl ThumbnailFormat {
    /// Its media type, as the Item's asset gives it.
    pub fn media_type(self) -> &'static str {
        match self {
            ThumbnailFormat::Png => "image/png",
            ThumbnailFormat::Jpeg => "image/jpeg",
        }
    }

    /// Its file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ThumbnailFormat::Png => "png",
            ThumbnailFormat::Jpeg => "jpg",
        }
    }

    fn driver(self) -> &'static str {
        match self {
            ThumbnailFormat::Png => "PNG",
            ThumbnailFormat::Jpeg => "JPEG",
        }
    }
}

/// What a thumbnail may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailRequest {
    /// The image format.
    pub format: ThumbnailFormat,
    /// Bytes of tiles it may fetch (within the object's own byte limit, which counts them too).
    pub max_bytes: u64,
}

/// A rendered thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: ThumbnailFormat,
    /// Its size in pixels.
    pub width: usize,
    /// Its size in pixels.
    pub height: usize,
    /// What it shows ("overview 4 of 4", "the full image").
    pub source: String,
    /// Bytes of the object fetched for it (the overview's tiles, to whole cache blocks).
    pub fetched_bytes: u64,
}

/// How the bands become a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
}

/// The overview (or image) to draw, its bands and what reading it costs.
struct Plan<'a> {
    layout: Layout,
    bands: Vec<RasterBand<'a>>,
    width: usize,
    height: usize,
    source: String,
    /// Bytes `[start, end)` of the object holding every tile (and its ghost bytes).
    span: (u64, u64),
}

/// Render `ds` (the object `info` describes, served from `object`'s cache)
/// as a thumbnail, or say why not. The cache is locked only between GDAL's
/// calls: GDAL's reads lock it too.
pub(crate) fn render(
    ds: &Dataset,
    info: &RasterInfo,
    object: &Registered,
    request: &ThumbnailRequest,
) -> Result<Thumbnail, String> {
    let plan = plan(ds, info)?;
    let cost = plan.span.1 - plan.span.0;
    if cost > request.max_bytes {
        return Err(format!(
            "its {} takes {cost} bytes to read, more than the thumbnail limit of {}",
            plan.source, request.max_bytes
        ));
    }
    let (before, budget) = {
        let cache = object.cache();
        (cache.fetched(), cache.budget())
    };
    if before + cost > budget {
        return Err(format!(
            "reading its {} ({cost} bytes) after the header ({before} bytes) would pass the object's limit of {budget} bytes",
            plan.source,
        ));
    }
    // One request for the tiles, so GDAL's reads of them are served from the cache.
    {
        let mut cache = object.cache();
        cache.prefetch(plan.span.0, plan.span.1);
        if let Some(failure) = cache.failure() {
            return Err(describe_failure(failure));
        }
    }
    let pixels = read_pixels(&plan);
    // GDAL's reads past the prefetched span are fetched (and counted) too; a failure among them is final.
    if let Some(failure) = object.cache().failure() {
        return Err(describe_failure(failure));
    }
    let channels = pixels?;
    let bytes = encode(request.format, plan.width, plan.height, channels)?;
    Ok(Thumbnail {
        bytes,
        format: request.format,
        width: plan.width,
        height: plan.height,
        source: plan.source,
        fetched_bytes: object.cache().fetched() - before,
    })
}

fn describe_failure(failure: &Failure) -> String {
    match failure {
        Failure::Read(why) => format!("reading its tiles failed: {why}"),
        Failure::Budget(budget) => {
            format!("reading its tiles takes more than the object's limit of {budget} bytes")
        }
    }
}

fn plan<'a>(ds: &'a Dataset, info: &RasterInfo) -> Result<Plan<'a>, String> {
    if info.driver != "GTiff" || !info.cog.as_ref().is_some_and(|c| c.valid) {
        return Err("it is not a Cloud Optimized GeoTIFF".into());
    }
    let count = ds.raster_count();
    let full: Vec<RasterBand<'a>> = (1..=count)
        .map(|i| ds.rasterband(i).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let alpha_last = full
        .last()
        .is_some_and(|b| b.color_interpretation() == ColorInterpretation::AlphaBand);
    let layout = match (count, alpha_last) {
        (1, _) => Layout::Grey,
        (2, true) => Layout::GreyAlpha,
        (3, _) => Layout::Rgb,
        (4, true) => Layout::Rgba,
        _ => {
            return Err(format!(
                "its {count} bands have no obvious picture (thumbnails are drawn from 1 band, grey and alpha, RGB or RGBA)"
            ))
        }
    };
    let kind = full[0].band_type();
    if full.iter().any(|b| b.band_type() != kind) {
        return Err("its bands differ in data type".into());
    }
    let byte = kind == GdalDataType::UInt8;
    if !(kind.is_integer() || kind.is_floating()) {
        return Err(format!("its {} values have no grey level", kind.name()));
    }
    if !byte && matches!(layout, Layout::GreyAlpha | Layout::Rgba) {
        return Err(format!("an alpha band of {} values", kind.name()));
    }
    if full[0].color_table().is_some() {
        return Err("its colours come from a palette, which thumbnails do not expand".into());
    }

    // The smallest overview every band has (the full image when there are none).
    let overviews = full[0].overview_count().map_err(|e| e.to_string())?.max(0) as usize;
    let (bands, source) = if overviews == 0 {
        (full, "full image".to_string())
    } else {
        let smallest = (0..overviews)
            .min_by_key(|&i| full[0].overview(i).map_or(usize::MAX, |o| o.x_size()))
            .unwrap_or(0);
        let bands = full
            .iter()
            .map(|b| b.overview(smallest).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        (bands, format!("overview {} of {overviews}", smallest + 1))
    };
    let (width, height) = bands[0].size();
    if bands.iter().any(|b| b.size() != (width, height)) {
        return Err(format!("the bands of its {source} differ in size"));
    }
    if width.max(height) > MAX_SIDE || width == 0 || height == 0 {
        return Err(format!(
            "its smallest overview ({source}) is {width}×{height} pixels, over {MAX_SIDE} on a side"
        ));
    }
    let (tile_w, tile_h) = bands[0].block_size();
    let (across, down) = (
        width.div_ceil(tile_w.max(1)),
        height.div_ceil(tile_h.max(1)),
    );
    if across * down * bands.len() > MAX_TILES {
        return Err(format!(
            "its {source} is {} tiles of {tile_w}×{tile_h} pixels, more than {MAX_TILES}",
            across * down * bands.len()
        ));
    }
    let decoded = (across * down * tile_w * tile_h * bands.len()) as u64 * u64::from(kind.bytes());
    if decoded > MAX_DECODED_BYTES {
        return Err(format!(
            "the tiles of its {source} decode to {decoded} bytes, more than {MAX_DECODED_BYTES}"
        ));
    }
    let span = tile_span(&bands, across, down)?;
    Ok(Plan {
        layout,
        bands,
        width,
        height,
        source,
        span,
    })
}

/// The bytes holding every tile of `bands` (empty tiles hold none), from
/// GDAL's own reading of the TIFF tile tables.
fn tile_span(bands: &[RasterBand], across: usize, down: usize) -> Result<(u64, u64), String> {
    let mut tiles: BTreeMap<u64, u64> = BTreeMap::new();
    for band in bands {
        for y in 0..down {
            for x in 0..across {
                let item = |what: &str| {
                    band.metadata_item(&format!("BLOCK_{what}_{x}_{y}"), "TIFF")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                };
                match (item("OFFSET"), item("SIZE")) {
                    (Some(offset), Some(size)) if offset > 0 && size > 0 => {
                        tiles.insert(offset, size);
                    }
                    // A tile without data is drawn as GDAL's empty tile: nothing to read.
                    _ => {}
                }
            }
        }
    }
    let start = tiles.keys().next().copied();
    let end = tiles.iter().map(|(o, s)| o.saturating_add(*s)).max();
    match (start, end) {
        (Some(start), Some(end)) => Ok((
            start.saturating_sub(TILE_GHOST_BYTES),
            end.saturating_add(TILE_GHOST_BYTES),
        )),
        _ => Ok((0, 0)),
    }
}

/// One 8-bit channel per output band: bytes as they are, other types
/// stretched from the overview's own minimum and maximum to 0–255 (as
/// `gdal_translate -scale` does with the exact range), and no data made transparent.
fn read_pixels(plan: &Plan) -> Result<Vec<Vec<u8>>, String> {
    let shape = (plan.width, plan.height);
    let read_err = |e: gdal::errors::GdalError| format!("GDAL could not read its tiles: {e}");
    let colour_bands = match plan.layout {
        Layout::Grey | Layout::GreyAlpha => 1,
        Layout::Rgb | Layout::Rgba => 3,
    };
    let mut channels = Vec::new();
    let mut valid = vec![false; plan.width * plan.height];
    let mut any_nodata = false;
    for band in &plan.bands[..colour_bands] {
        let nodata = band.no_data_value();
        any_nodata |= nodata.is_some();
        let values = band
            .read_as::<f64>((0, 0), shape, shape, None)
            .map_err(read_err)?
            .into_shape_and_vec()
            .1;
        let is_data = |v: f64| v.is_finite() && nodata.is_none_or(|n| v != n);
        for (ok, v) in valid.iter_mut().zip(&values) {
            *ok |= is_data(*v);
        }
        let channel = if band.band_type() == GdalDataType::UInt8 {
            values.iter().map(|v| *v as u8).collect()
        } else {
            stretch(&values, is_data)
        };
        channels.push(channel);
    }
    match plan.layout {
        Layout::GreyAlpha | Layout::Rgba => {
            let alpha = &plan.bands[colour_bands];
            let values = alpha
                .read_as::<u8>((0, 0), shape, shape, None)
                .map_err(read_err)?;
            channels.push(values.into_shape_and_vec().1);
        }
        // A pixel is transparent when no band holds data there.
        _ if any_nodata => {
            channels.push(valid.iter().map(|ok| if *ok { 255 } else { 0 }).collect())
        }
        _ => {}
    }
    Ok(channels)
}

/// `values` mapped linearly from the range of those that are data to 0–255,
/// rounded to the nearest level (no data becomes 0).
fn stretch(values: &[f64], is_data: impl Fn(f64) -> bool) -> Vec<u8> {
    let (min, max) = values
        .iter()
        .copied()
        .filter(|v| is_data(*v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    // GDAL's scaling: value × ratio + offset, the ratio 255 over the range.
    let ratio = if max > min { 255.0 / (max - min) } else { 0.0 };
    let offset = -min * ratio;
    values
        .iter()
        .map(|&v| {
            if is_data(v) {
                (v * ratio + offset + 0.5).floor().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        })
        .collect()
}

/// Encode 8-bit channels with GDAL's PNG or JPEG driver into memory. JPEG
/// has no transparency: an alpha channel is left out.
fn encode(
    format: ThumbnailFormat,
    width: usize,
    height: usize,
    mut channels: Vec<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    if format == ThumbnailFormat::Jpeg && matches!(channels.len(), 2 | 4) {
        channels.pop();
    }
    let fail = |e: gdal::errors::GdalError| format!("encoding it failed: {e}");
    let mem = DriverManager::get_driver_by_name("MEM").map_err(fail)?;
    let ds = mem
        .create_with_band_type::<u8, _>("", width, height, channels.len())
        .map_err(fail)?;
    for (i, channel) in channels.into_iter().enumerate() {
        let mut band = ds.rasterband(i + 1).map_err(fail)?;
        let mut buffer = gdal::raster::Buffer::new((width, height), channel);
        band.write((0, 0), (width, height), &mut buffer)
            .map_err(fail)?;
    }
    let driver = DriverManager::get_driver_by_name(format.driver()).map_err(fail)?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = format!("/vsimem/thumbnail-{n}.{}", format.extension());
    let written = ds
        .create_copy(&driver, &path, &RasterCreationOptions::new())
        .map_err(fail);
    drop(written?);
    let bytes = gdal::vsi::get_vsi_mem_file_bytes_owned(&path).map_err(fail);
    let _ = gdal::vsi::unlink_mem_file(&path);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretch_maps_the_data_range_to_the_full_scale() {
        let nodata = -9999.0;
        let values = [10.0, 20.0, 15.0, nodata, f64::NAN, 12.5];
        let out = stretch(&values, |v| v.is_finite() && v != nodata);
        assert_eq!(out, vec![0, 255, 128, 0, 0, 64]);
        // A flat overview is all black rather than a division by zero.
        assert_eq!(stretch(&[3.0, 3.0], |_| true), vec![0, 0]);
    }
}
