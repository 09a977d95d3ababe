//! Why a raster could not be read: a kind that says whether the same bytes
//! fail again, and GDAL's own words.

use thiserror::Error;

/// Why a raster could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No format we accept recognises the bytes (a text file, a PDF, a GDAL VRT …).
    NotARaster,
    /// The format was recognised but its structure is broken (truncated or corrupt).
    CorruptRaster,
    /// A format, codec or part of a format this GDAL build does not read
    /// (named in the message): the bytes may be fine.
    UnsupportedFormat,
    /// The header is past a limit (bytes to read, IFDs, bands).
    LimitExceeded,
    /// The file points at other files or URLs, which an upload may not make GDAL read.
    ExternalReference,
    /// Reading the bytes failed (network, storage, deadline): the file itself is unjudged.
    ReadFailed,
    /// GDAL could not allocate memory.
    OutOfMemory,
    /// The path or object does not exist.
    NotFound,
    /// The object has no bytes.
    EmptyObject,
    /// Anything else GDAL reported (local paths only).
    Gdal,
}

impl ErrorKind {
    /// The kind's name, as records and responses give it (`NotARaster`, …).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::NotARaster => "NotARaster",
            ErrorKind::CorruptRaster => "CorruptRaster",
            ErrorKind::UnsupportedFormat => "UnsupportedFormat",
            ErrorKind::LimitExceeded => "LimitExceeded",
            ErrorKind::ExternalReference => "ExternalReference",
            ErrorKind::ReadFailed => "ReadFailed",
            ErrorKind::OutOfMemory => "OutOfMemory",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::EmptyObject => "EmptyObject",
            ErrorKind::Gdal => "Gdal",
        }
    }

    /// Every kind, for looking one up by name.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::NotARaster,
        ErrorKind::CorruptRaster,
        ErrorKind::UnsupportedFormat,
        ErrorKind::LimitExceeded,
        ErrorKind::ExternalReference,
        ErrorKind::ReadFailed,
        ErrorKind::OutOfMemory,
        ErrorKind::NotFound,
        ErrorKind::EmptyObject,
        ErrorKind::Gdal,
    ];

    /// The kind named `name` ([`ErrorKind::name`]).
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether reading the same bytes again gives the same error for sure.
    /// Read failures, memory and unclassified GDAL errors may pass next time.
    pub fn is_permanent(self) -> bool {
        !matches!(
            self,
            ErrorKind::ReadFailed | ErrorKind::OutOfMemory | ErrorKind::Gdal
        )
    }
}

/// Error reading a raster, with GDAL's own messages.
#[derive(Debug, Error)]
#[error("{}: cannot read {path}: {message}", kind.name())]
pub struct Error {
    /// Class of failure.
    pub kind: ErrorKind,
    /// What was read (a local or GDAL path, or the object's URL).
    pub path: String,
    /// What went wrong, GDAL's messages included.
    pub message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, path: &str, message: impl Into<String>) -> Self {
        Error {
            kind,
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// An error for a local or GDAL path, classified from GDAL's messages.
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
        Error::new(kind, path, message)
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
