//! An uploaded object read as a raster: its first bytes fetched with one
//! ranged GET (which also tells its size, version and age) while a HEAD asks
//! for the SHA-256 S3 may keep of it (ranged reads never carry the whole
//! object's checksum), the rest by
//! ranges pinned to that version as the parse worker asks for them, each
//! read bounded by the record's deadline, and every failure kept so the
//! caller knows what it was.

use bytes::Bytes;
use raster_info::{Limits, RasterInfo, ThumbnailRequest, HEADER_BYTES};
use stratus_aws::{objects, S3Url};
use tokio::time::Instant;

use crate::parsers::{ParseFailure, Parsed, Parsers};
use crate::protocol::{Job, RenderedThumbnail};

/// Why a raster could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// S3 refused or failed a read (classified by [`stratus_aws::Error`]).
    S3(stratus_aws::Error),
    /// The record's deadline came first.
    Deadline,
    /// The bytes were read, and the parse's verdict on them is this (a
    /// limit the worker reached included: `LimitExceeded`).
    Raster(raster_info::Error),
    /// The parse worker died or could not start: not known to repeat.
    Worker(String),
    /// The parser crashed on these bytes twice, in fresh workers: it will again.
    Crashed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::S3(e) => write!(f, "{e}"),
            ReadError::Deadline => write!(f, "reading took past the record's deadline"),
            ReadError::Raster(e) => write!(f, "{}", e.message),
            ReadError::Worker(m) | ReadError::Crashed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// A raster read from S3.
#[derive(Debug)]
pub struct Raster {
    /// Its metadata.
    pub info: RasterInfo,
    /// The object's size in bytes.
    pub size: u64,
    /// The object's last-modified time, RFC 3339.
    pub last_modified: Option<String>,
    /// The SHA-256 of the whole object, when S3 keeps one for the version read.
    pub sha256: Option<[u8; 32]>,
    /// The ETag of the version read (every range is pinned to it).
    pub etag: Option<String>,
    /// Its thumbnail, or why there is none; `None` when none was asked for.
    pub(crate) thumbnail: Option<Result<RenderedThumbnail, String>>,
}

/// Read `url` as an upload (header only, and the tiles of a `thumbnail`)
/// before `deadline`: the first bytes here, then parsed by a confined worker
/// of `parsers`, whose reads this process answers from S3.
pub async fn read_raster(
    s3: &aws_sdk_s3::Client,
    parsers: &Parsers,
    url: &S3Url,
    deadline: Instant,
    limits: &Limits,
    thumbnail: Option<ThumbnailRequest>,
) -> Result<Raster, ReadError> {
    let first = objects::get_range(s3, url, 0, HEADER_BYTES as u64, None);
    let head = objects::head(s3, url);
    let (first, head) =
        match tokio::time::timeout_at(deadline, async { tokio::join!(first, head) }).await {
            Ok((Ok(first), Ok(head))) => (first, head),
            Ok((Err(e), _) | (_, Err(e))) => return Err(ReadError::S3(e)),
            Err(_) => return Err(ReadError::Deadline),
        };
    // A checksum of another version than the one read is no checksum of it.
    let sha256 = head
        .sha256
        .filter(|_| head.etag.is_some() && head.etag == first.etag);
    let job = Job {
        name: url.to_string(),
        size: first.object_size,
        head: first.bytes.to_vec(),
        limits: *limits,
        thumbnail,
    };
    let etag = first.etag.clone();
    let pinned = etag.clone();
    let fetch = |offset: u64, len: usize| {
        let (s3, url, etag) = (s3.clone(), url.clone(), pinned.clone());
        async move {
            objects::get_range(&s3, &url, offset, len as u64, etag.as_deref())
                .await
                .map(|r| -> Bytes { r.bytes })
                .map_err(ReadError::S3)
        }
    };
    match parsers.parse(job, limits, fetch, deadline).await {
        Ok(Parsed { info, thumbnail }) => Ok(Raster {
            info,
            thumbnail,
            size: first.object_size,
            last_modified: first.last_modified,
            sha256,
            etag,
        }),
        Err(ParseFailure::Raster(e)) => Err(ReadError::Raster(e)),
        Err(ParseFailure::Read(e)) => Err(e),
        Err(ParseFailure::Limit(message)) => Err(ReadError::Raster(raster_info::Error {
            kind: raster_info::ErrorKind::LimitExceeded,
            path: url.to_string(),
            message,
        })),
        Err(ParseFailure::Deadline) => Err(ReadError::Deadline),
        Err(ParseFailure::Worker(m)) => Err(ReadError::Worker(m)),
        Err(ParseFailure::Crashed(m)) => Err(ReadError::Crashed(m)),
    }
}
