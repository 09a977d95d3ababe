//! One record: read the raster's header, log its metadata, write its STAC Item.

use raster_info::stac::{self, ItemSource};
use raster_info::ErrorKind;
use serde::Serialize;
use serde_json::json;
use stratus_aws::objects;
use stratus_aws::S3Url;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::event::Target;
use crate::logging::{log_record, Level};
use crate::upload::{read_raster, Raster, ReadError};
use crate::Config;

/// What the handler needs: configuration and an S3 client.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Configuration read at start.
    pub config: Config,
    /// S3 client (reads objects by range, writes Items).
    pub s3: aws_sdk_s3::Client,
}

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Metadata logged and Item written.
    Processed,
    /// Deliberately not processed (not a creation, our own output …).
    Skipped,
    /// Known to fail again (not a raster, corrupt, empty, deleted, refused,
    /// an Item S3 will not take …): logged, not retried.
    Failed,
    /// Anything else (S3 throttling, 5xx, network, timeouts, memory): the
    /// invocation fails so Lambda retries it.
    Retry,
}

/// Outcome of one record, as listed in the function's response.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Bucket of the object.
    pub bucket: String,
    /// Key of the object (decoded).
    pub key: String,
    /// How it ended.
    pub status: Status,
    /// Where the STAC Item was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_url: Option<String>,
    /// Error class for failures (`NotARaster`, `CorruptRaster`, `EmptyObject`, `NotFound`,
    /// `LimitExceeded`, `ExternalReference`, `Timeout`, `Transient`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The SQS message it came in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

impl Outcome {
    fn new(bucket: &str, key: &str, status: Status) -> Self {
        Outcome {
            bucket: bucket.into(),
            key: key.into(),
            status,
            item_url: None,
            error_kind: None,
            message: None,
            message_id: None,
        }
    }

    fn failed(url: &S3Url, status: Status, kind: &str, message: String) -> Self {
        log_record(
            Level::Error,
            json!({"message": "raster not processed", "bucket": url.bucket, "key": url.key,
                   "error_kind": kind, "error": message, "retry": status == Status::Retry}),
        );
        Outcome {
            error_kind: Some(kind.into()),
            message: Some(message),
            ..Outcome::new(&url.bucket, &url.key, status)
        }
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// S3 keys are at most 1,024 bytes (UTF-8).
const MAX_KEY_BYTES: usize = 1024;

/// Process one target before `deadline`; never panics, every path ends in an
/// [`Outcome`], and only failures known to repeat are [`Status::Failed`].
pub async fn process_target(target: Target, deps: &Deps, deadline: Instant) -> Outcome {
    let (url, size, event_time) = match target {
        Target::Object {
            url,
            size,
            event_time,
        } => (url, size, event_time),
        Target::Skip {
            bucket,
            key,
            reason,
        } => {
            tracing::info!(%bucket, %key, "skipped: {reason}");
            return Outcome {
                message: Some(reason),
                ..Outcome::new(&bucket, &key, Status::Skipped)
            };
        }
        Target::Invalid {
            bucket,
            key,
            message,
        } => {
            return Outcome::failed(
                &S3Url::new(bucket, key),
                Status::Failed,
                "InvalidRecord",
                message,
            )
        }
    };
    if deps.config.is_output(&url) {
        let reason = format!("under the output location {}", deps.config.output);
        tracing::info!(bucket = %url.bucket, key = %url.key, "skipped: {reason}");
        return Outcome {
            message: Some(reason),
            ..Outcome::new(&url.bucket, &url.key, Status::Skipped)
        };
    }
    let item_url = deps.config.item_url(&url);
    if item_url.key.len() > MAX_KEY_BYTES {
        return Outcome::failed(
            &url,
            Status::Failed,
            "KeyTooLong",
            format!(
                "its STAC Item's key would be {} bytes, over S3's limit of {MAX_KEY_BYTES}: shorten the key or OUTPUT_URL's prefix",
                item_url.key.len()
            ),
        );
    }
    if size == Some(0) {
        return empty(&url);
    }
    let work = read_and_write(&url, &item_url, event_time, deps, deadline);
    match tokio::time::timeout_at(deadline, work).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::failed(
            &url,
            Status::Retry,
            "Timeout",
            format!("{url} was not done before the invocation's deadline"),
        ),
    }
}

fn empty(url: &S3Url) -> Outcome {
    Outcome::failed(
        url,
        Status::Failed,
        "EmptyObject",
        format!("{url} is empty (0 bytes)"),
    )
}

async fn read_and_write(
    url: &S3Url,
    item_url: &S3Url,
    event_time: Option<String>,
    deps: &Deps,
    deadline: Instant,
) -> Outcome {
    let raster = match read_raster(&deps.s3, url, deadline, &deps.config.limits).await {
        Ok(raster) => raster,
        Err(e) => return read_failure(url, e),
    };
    log_metadata(url, &raster);

    let id = stac::item_id(&url.key);
    let href = url.to_string();
    // S3 events carry the object's creation time; direct invocations use its last-modified time.
    let created = event_time.or(raster.last_modified);
    let item = stac::item(
        &raster.info,
        &ItemSource {
            id: &id,
            href: &href,
            last_modified: created.as_deref(),
        },
        &now(),
    );
    if let Err(e) = objects::put_json(&deps.s3, item_url, &item).await {
        let status = if e.is_transient() {
            Status::Retry
        } else {
            Status::Failed
        };
        return Outcome::failed(
            url,
            status,
            "ItemNotWritten",
            format!("cannot write its STAC Item to {item_url}: {e}"),
        );
    }
    Outcome {
        item_url: Some(item_url.to_string()),
        ..Outcome::new(&url.bucket, &url.key, Status::Processed)
    }
}

/// A read that failed: permanent only when S3 or GDAL said something that
/// will be said again (deleted, denied, not a raster, corrupt, past a limit).
fn read_failure(url: &S3Url, e: ReadError) -> Outcome {
    match e {
        ReadError::S3(stratus_aws::Error::NotFound { .. }) => Outcome::failed(
            url,
            Status::Failed,
            "NotFound",
            format!("{url} does not exist (deleted before processing?)"),
        ),
        ReadError::S3(e) => {
            let status = if e.is_transient() {
                Status::Retry
            } else {
                Status::Failed
            };
            Outcome::failed(url, status, e.kind(), e.to_string())
        }
        ReadError::Deadline => Outcome::failed(
            url,
            Status::Retry,
            "Timeout",
            format!("reading {url} did not end before the invocation's deadline"),
        ),
        ReadError::Raster(e) if e.kind == ErrorKind::EmptyObject => empty(url),
        ReadError::Raster(e) => {
            let status = if e.kind.is_permanent() {
                Status::Failed
            } else {
                Status::Retry
            };
            Outcome::failed(url, status, &format!("{:?}", e.kind), e.message)
        }
    }
}

fn log_metadata(url: &S3Url, raster: &Raster) {
    log_record(
        Level::Info,
        json!({"message": "raster metadata", "bucket": url.bucket, "key": url.key,
               "size": raster.size, "raster": raster.info}),
    );
}
