use serde::Serialize;
use thiserror::Error;

/// Why a raster could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// GDAL recognises no raster format in the bytes (a text file, a PDF …).
    NotARaster,
    /// The format was recognised but its structure is broken (truncated or corrupt).
    CorruptRaster,
    /// The path or object does not exist.
    NotFound,
    /// The object has no bytes.
    EmptyObject,
    /// Anything else GDAL reported.
    Gdal,
}

/// Error reading a raster, with GDAL's own messages.
#[derive(Debug, Error)]
#[error("{kind:?}: cannot read {path}: {message}")]
pub struct Error {
    /// Class of failure.
    pub kind: ErrorKind,
    /// What was opened (a local path or a `/vsis3/` path).
    pub path: String,
    /// GDAL's messages, most specific first.
    pub message: String,
}

impl Error {
    pub(crate) fn from_gdal(
        path: &str,
        messages: Vec<String>,
        fallback: &gdal::errors::GdalError,
    ) -> Self {
        let message = if messages.is_empty() {
            fallback.to_string()
        } else {
            messages.join("; ")
        };
        let lower = message.to_ascii_lowercase();
        let kind = if lower.contains("no such file")
            || lower.contains("does not exist")
            || lower.contains("http response code: 404")
        {
            ErrorKind::NotFound
        } else if lower.contains("not recognized as") || lower.contains("not recognised as") {
            ErrorKind::NotARaster
        } else if lower.contains("tiff")
            || lower.contains("corrupt")
            || lower.contains("truncated")
            || lower.contains("cannot read")
            || lower.contains("not a ")
        {
            ErrorKind::CorruptRaster
        } else {
            ErrorKind::Gdal
        };
        Error {
            kind,
            path: path.to_string(),
            message,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
