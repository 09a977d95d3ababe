//! Cloud Optimized GeoTIFF check, from the header GDAL already read.
//!
//! A GeoTIFF is a COG when readers can fetch any part of it with few ranged
//! reads: the main image is tiled (for images larger than one 512 px tile),
//! overviews are internal, and the file is laid out headers first: the main
//! image's IFD, then the overviews' IFDs in decreasing size, then the data of
//! the smallest overview first and the full-resolution data last.

use gdal::{Dataset, Metadata};
use serde::{Deserialize, Serialize};

/// Result of the COG check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CogCheck {
    /// All requirements hold.
    pub valid: bool,
    /// The main image is tiled.
    pub tiled: bool,
    /// Number of internal overview levels.
    pub overviews: usize,
    /// `LAYOUT=COG` in `IMAGE_STRUCTURE`: written by GDAL's COG driver, with its ghost header.
    pub cog_layout: bool,
    /// What breaks COG-ness (empty when valid).
    pub errors: Vec<String>,
    /// What is not ideal but allowed.
    pub warnings: Vec<String>,
}

/// Images at most this large in both dimensions need neither tiles nor overviews.
const SMALL: usize = 512;

fn offset(band: &gdal::raster::RasterBand, item: &str) -> Option<u64> {
    band.metadata_item(item, "TIFF")
        .and_then(|v| v.parse().ok())
}

pub(crate) fn check(ds: &Dataset) -> CogCheck {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let cog_layout = ds.metadata_item("LAYOUT", "IMAGE_STRUCTURE").as_deref() == Some("COG");
    let (width, height) = ds.raster_size();
    let Ok(band) = ds.rasterband(1) else {
        return CogCheck {
            valid: false,
            tiled: false,
            overviews: 0,
            cog_layout,
            errors: vec!["no raster band".into()],
            warnings,
        };
    };
    let (bx, by) = band.block_size();
    // Strips span the full width; TIFF tiles are squares-ish multiples of 16.
    let tiled = bx != width || (bx == by && bx % 16 == 0);
    let large = width > SMALL || height > SMALL;
    if large && !tiled {
        errors.push(format!(
            "the main image is not tiled (blocks of {bx}x{by} px)"
        ));
    }
    let n_ovr = band.overview_count().unwrap_or(0).max(0) as usize;
    if large && n_ovr == 0 {
        errors.push(format!(
            "the image is larger than {SMALL}x{SMALL} px but has no overviews"
        ));
    }
    let files = ds_file_list(ds);
    if files
        .iter()
        .any(|f| f.to_ascii_lowercase().ends_with(".ovr"))
    {
        errors.push("overviews are in an external .ovr file".into());
    }

    // Data offsets live in the tile index, which for large files lies past the
    // header GDAL read at open: reading them costs more ranged GETs. Files with
    // GDAL's COG layout marker were written data-ordered by construction, so
    // only unmarked files have their data order checked.
    let data_offset = |b: &gdal::raster::RasterBand| {
        (!cog_layout)
            .then(|| offset(b, "BLOCK_OFFSET_0_0"))
            .flatten()
    };
    // IFDs (from the header): main first, then overviews in order.
    let main_ifd = offset(&band, "IFD_OFFSET");
    let mut ifds = vec![main_ifd];
    let mut data = vec![data_offset(&band)];
    for i in 0..n_ovr {
        if let Ok(ovr) = band.overview(i) {
            let (obx, oby) = ovr.block_size();
            if ovr.x_size() > SMALL && obx == ovr.x_size() {
                errors.push(format!(
                    "overview {i} is not tiled (blocks of {obx}x{oby} px)"
                ));
            }
            ifds.push(offset(&ovr, "IFD_OFFSET"));
            data.push(data_offset(&ovr));
        }
    }
    if let Some(main) = main_ifd {
        if ifds.iter().flatten().any(|&o| o < main) {
            errors.push("the main image's IFD is not the first one in the file".into());
        }
        if main > 16_384 {
            warnings.push(format!(
                "the first IFD starts at byte {main}, past the first 16 KiB"
            ));
        }
    }
    let ifd_list: Vec<u64> = ifds.iter().flatten().copied().collect();
    if ifd_list.windows(2).any(|w| w[0] > w[1]) {
        errors.push("overview IFDs are not ordered from largest to smallest".into());
    }
    // Data: smallest overview first, full resolution last.
    let data_list: Vec<u64> = data.iter().flatten().copied().filter(|&o| o > 0).collect();
    if data_list.windows(2).any(|w| w[0] < w[1]) {
        errors.push(
            "image data is not ordered from the smallest overview to the full resolution".into(),
        );
    }
    if let (Some(&last_ifd), Some(&first_data)) = (ifd_list.iter().max(), data_list.iter().min()) {
        if first_data < last_ifd {
            warnings.push("some image data comes before the last IFD".into());
        }
    }
    if !cog_layout && errors.is_empty() {
        warnings.push("valid COG structure, but not written with GDAL's COG layout marker".into());
    }
    CogCheck {
        valid: errors.is_empty(),
        tiled,
        overviews: n_ovr,
        cog_layout,
        errors,
        warnings,
    }
}

fn ds_file_list(ds: &Dataset) -> Vec<String> {
    #[allow(unsafe_code)]
    // SAFETY: GDALGetFileList returns a NULL-terminated string list we own and free with CSLDestroy.
    unsafe {
        let list = gdal_sys::GDALGetFileList(ds.c_dataset());
        if list.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut p = list;
        while !(*p).is_null() {
            out.push(std::ffi::CStr::from_ptr(*p).to_string_lossy().into_owned());
            p = p.add(1);
        }
        gdal_sys::CSLDestroy(list);
        out
    }
}
