//! Raster metadata with GDAL, for Stratus' gdal-lambda.
//!
//! [`read_object_info`] reads an uploaded object as hostile input: through
//! range reads of ours (header only, never the whole object), by a short
//! list of drivers that follow no references, within [`Limits`], with every
//! error classified as permanent or not; [`lockdown`] then keeps GDAL from
//! reading anything else at all. [`read_info`] opens a trusted local or GDAL
//! path. Both return a serde [`RasterInfo`]: driver, size, bands, CRS,
//! geotransform, bounding boxes (native and WGS84), footprint, metadata
//! domains and a Cloud Optimized GeoTIFF check. [`stac::item`] turns it into
//! a STAC Item with the projection, raster and eo extensions. [`open_object`]
//! keeps the object open after its description, for [`OpenObject::thumbnail`]:
//! a PNG or JPEG of a COG's smallest overview, its tiles counted against the
//! same byte budget.

mod cog;
mod crs;
mod crs_refs;
mod cube;
mod describe;
mod error;
mod footprint;
#[cfg(any(test, feature = "samples"))]
pub mod format_samples;
mod gdal_env;
mod globe;
mod guard;
mod info;
mod limits;
mod number;
mod object;
mod object_cache;
mod outline;
mod png_check;
mod proj_files;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod stac;
#[cfg(test)]
mod test_support;
mod thumbnail;
mod tiff_check;
mod tiff_ifds;
mod union;
mod validity;
mod vsi;

pub use cog::CogCheck;
pub use crs::CrsInfo;
pub use cube::{CrsName, Cube, CubeDimension, CubeVariable};
pub use describe::read_info;
pub use error::{Error, ErrorKind, Result};
pub use gdal_env::HEADER_BYTES;
pub use guard::{lockdown, Lockdown};
pub use info::{BandInfo, Gcp, Gcps, Georeferencing, RasterInfo, Subdataset};
pub use limits::Limits;
pub use object::{open_object, read_object_info, Object, OpenObject, ALLOWED_DRIVERS};
pub use object_cache::RangeReader;
pub use thumbnail::{Thumbnail, ThumbnailFormat, ThumbnailRequest, MAX_SIDE as THUMBNAIL_MAX_SIDE};
