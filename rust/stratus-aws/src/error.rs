//! Errors of S3 and AWS calls, classified so callers can tell what may pass
//! on retry ([`Error::is_transient`]) from what fails again.

use thiserror::Error;

/// Errors of the AWS support crate.
#[derive(Debug, Error)]
pub enum Error {
    /// The text is not an S3 URL in any form we know.
    #[error("not an S3 URL: {url:?} ({reason})")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An S3 event key is not valid form encoding or not UTF-8.
    #[error("cannot decode S3 event key {key:?}: {reason}")]
    InvalidKey {
        /// The raw key.
        key: String,
        /// Why decoding failed.
        reason: &'static str,
    },
    /// The object (or its bucket) does not exist.
    #[error("s3://{bucket}/{key} does not exist")]
    NotFound {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// The caller may not read or write the object.
    #[error("access denied to s3://{bucket}/{key}: {message}")]
    AccessDenied {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// The service's message.
        message: String,
    },
    /// A failure that may pass if tried again later (throttling, 5xx, network).
    #[error("transient S3 failure on s3://{bucket}/{key}: {message}")]
    Transient {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// What failed.
        message: String,
    },
    /// Any other S3 failure, known to fail again (a 4xx such as `KeyTooLongError`).
    #[error("S3 request on s3://{bucket}/{key} failed: {message}")]
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// What failed.
        message: String,
    },
    /// The object is not valid JSON (or not the JSON expected).
    #[error("s3://{bucket}/{key} is not valid JSON: {source}")]
    Json {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The object ends in `.gz` but is not gzip data.
    #[error("s3://{bucket}/{key} is not valid gzip: {source}")]
    Gzip {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// The decoder's error.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Transient { .. })
    }

    /// A short machine-friendly name of the error class.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "InvalidUrl",
            Error::InvalidKey { .. } => "InvalidKey",
            Error::NotFound { .. } => "NotFound",
            Error::AccessDenied { .. } => "AccessDenied",
            Error::Transient { .. } => "Transient",
            Error::S3 { .. } => "S3Error",
            Error::Json { .. } => "InvalidJson",
            Error::Gzip { .. } => "InvalidGzip",
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
