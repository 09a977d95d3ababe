//! AWS plumbing shared by the Stratus binaries, with no GDAL in it:
//!
//! - [`S3Url`]: parse every form of S3 URL users paste (`s3://`, virtual-hosted
//!   and path-style `https://`, custom endpoints such as a local emulator);
//! - [`Location`]: whether a location is an S3 object, another HTTP(S) URL or a
//!   local path, and [`is_url`];
//! - [`decode_event_key`]: decode the form-encoded object keys of S3 events;
//! - [`config`]: AWS SDK config and an S3 client from the environment,
//!   honouring `AWS_ENDPOINT_URL`;
//! - [`objects`]: get/put bytes and JSON on S3, gzip for `.gz` keys, and
//!   stream a large object's body; throttling and 5xx answers are retried
//!   with backoff, and every failure is classified the same way.

pub mod config;
mod error;
mod event_key;
mod location;
pub mod objects;
mod s3_url;

pub use error::{Error, Result};
pub use event_key::decode_event_key;
pub use location::{is_url, Location};
pub use s3_url::S3Url;
