//! What one upload may cost to read: bytes fetched, and what the file
//! declares (bands, IFDs, tag bytes, metadata domains, text), each counted
//! before GDAL builds it.

/// How much one upload may cost to read, counted on what the file declares
/// before GDAL builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Bytes fetched from the object in all (the header GDAL needs, not the pixels).
    pub max_header_bytes: u64,
    /// Bands (of every image of a TIFF).
    pub max_bands: usize,
    /// Image file directories of a TIFF (overviews, masks, pages).
    pub max_tiff_ifds: usize,
    /// Bytes of tag values a TIFF declares, over all its IFDs, counting a value
    /// every time a tag points at it (strip and tile offsets aside).
    pub max_tag_bytes: u64,
    /// Metadata domains in GDAL's metadata tag.
    pub max_metadata_domains: usize,
    /// Bytes of text a PNG's text chunks hold once decompressed.
    pub max_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024 * 1024,
            max_bands: 2000,
            max_tiff_ifds: 1024,
            max_tag_bytes: 16 * 1024 * 1024,
            max_metadata_domains: 1024,
            max_text_bytes: 16 * 1024 * 1024,
        }
    }
}
