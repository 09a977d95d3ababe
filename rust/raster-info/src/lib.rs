//! Raster metadata with GDAL, for Stratus' gdal-lambda.
//!
//! [`read_info`] opens a local path or an S3 object (through `/vsis3/`, reading
//! only the header with ranged GETs, never the whole object) and returns a
//! serde [`RasterInfo`]: driver, size, bands, CRS, geotransform, bounding boxes
//! (native and WGS84), footprint, metadata domains and a Cloud Optimized
//! GeoTIFF check. [`stac::item`] turns it into a STAC Item with the projection,
//! raster and eo extensions.

mod cog;
mod error;
mod gdal_env;
mod info;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod stac;

pub use cog::CogCheck;
pub use error::{Error, ErrorKind, Result};
pub use gdal_env::{configure_gdal, Source};
pub use info::{read_info, BandInfo, CrsInfo, RasterInfo};
