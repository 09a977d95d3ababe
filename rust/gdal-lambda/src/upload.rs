//! An uploaded object read as a raster: its first bytes fetched with one
//! ranged GET (which also tells its size, version and age), the rest by
//! ranges pinned to that version, each read bounded by the record's
//! deadline, and every failure kept so the caller knows what it was.

use std::sync::{Arc, Mutex};

use raster_info::{Limits, Object, RangeReader, RasterInfo, HEADER_BYTES};
use stratus_aws::{objects, S3Url};
use tokio::time::Instant;

/// Why a raster could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// S3 refused or failed a read (classified by [`stratus_aws::Error`]).
    S3(stratus_aws::Error),
    /// The record's deadline came first.
    Deadline,
    /// The bytes were read, and GDAL's verdict on them is this.
    Raster(raster_info::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::S3(e) => write!(f, "{e}"),
            ReadError::Deadline => write!(f, "reading took past the record's deadline"),
            ReadError::Raster(e) => write!(f, "{}", e.message),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads ranges of one object version for GDAL's thread, on the async runtime.
struct S3Ranges {
    s3: aws_sdk_s3::Client,
    url: S3Url,
    etag: Option<String>,
    deadline: Instant,
    runtime: tokio::runtime::Handle,
    failure: Mutex<Option<ReadError>>,
}

impl S3Ranges {
    fn fail(&self, e: ReadError) -> String {
        let message = e.to_string();
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
        message
    }
}

impl RangeReader for S3Ranges {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let read = objects::get_range(
            &self.s3,
            &self.url,
            offset,
            len as u64,
            self.etag.as_deref(),
        );
        match self
            .runtime
            .block_on(tokio::time::timeout_at(self.deadline, read))
        {
            Ok(Ok(r)) => Ok(r.bytes.to_vec()),
            Ok(Err(e)) => Err(self.fail(ReadError::S3(e))),
            Err(_) => Err(self.fail(ReadError::Deadline)),
        }
    }
}

/// A raster read from S3.
#[derive(Debug)]
pub struct Raster {
    /// Its metadata.
    pub info: RasterInfo,
    /// The object's size in bytes.
    pub size: u64,
    /// The object's last-modified time, RFC 3339.
    pub last_modified: Option<String>,
}

/// Read `url` as an upload (header only, through [`raster_info::read_object_info`])
/// before `deadline`.
pub async fn read_raster(
    s3: &aws_sdk_s3::Client,
    url: &S3Url,
    deadline: Instant,
    limits: &Limits,
) -> Result<Raster, ReadError> {
    let first = objects::get_range(s3, url, 0, HEADER_BYTES as u64, None);
    let first = match tokio::time::timeout_at(deadline, first).await {
        Ok(Ok(first)) => first,
        Ok(Err(e)) => return Err(ReadError::S3(e)),
        Err(_) => return Err(ReadError::Deadline),
    };
    let ranges = Arc::new(S3Ranges {
        s3: s3.clone(),
        url: url.clone(),
        etag: first.etag,
        deadline,
        runtime: tokio::runtime::Handle::current(),
        failure: Mutex::new(None),
    });
    let object = Object {
        name: url.to_string(),
        size: first.object_size,
        head: first.bytes.to_vec(),
        reader: ranges.clone(),
    };
    let limits = *limits;
    let read = tokio::task::spawn_blocking(move || raster_info::read_object_info(object, &limits));
    match read.await {
        Ok(Ok(info)) => Ok(Raster {
            info,
            size: first.object_size,
            last_modified: first.last_modified,
        }),
        Ok(Err(e)) => {
            let failure = ranges.failure.lock().ok().and_then(|mut f| f.take());
            Err(match failure {
                Some(f) if e.kind == raster_info::ErrorKind::ReadFailed => f,
                _ => ReadError::Raster(e),
            })
        }
        // Only when GDAL's thread panicked (not in release builds, which abort).
        Err(join) => Err(ReadError::Raster(raster_info::Error {
            kind: raster_info::ErrorKind::ReadFailed,
            path: url.to_string(),
            message: format!("reading panicked: {join}"),
        })),
    }
}
