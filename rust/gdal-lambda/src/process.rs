//! One record: read the raster's header, log its metadata, write its STAC Item.

use raster_info::stac::{self, ItemSource};
use raster_info::{ErrorKind, RasterInfo, Source};
use serde::Serialize;
use serde_json::json;
use stratus_aws::objects::{self, ObjectHead};
use stratus_aws::S3Url;
use time::format_description::well_known::Rfc3339;

use crate::event::Target;
use crate::logging::{log_record, Level};
use crate::Config;

/// What the handler needs: configuration and an S3 client.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Configuration read at start.
    pub config: Config,
    /// S3 client (reads heads on errors, writes Items).
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
    /// Cannot succeed (not a raster, corrupt, empty, deleted …): logged, not retried.
    Failed,
    /// May succeed later (S3 throttling, 5xx, network): the invocation fails so Lambda retries.
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
    /// Error class for failures (`NotARaster`, `CorruptRaster`, `EmptyObject`, `NotFound`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
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

fn s3_failure(url: &S3Url, e: stratus_aws::Error) -> Outcome {
    let status = if e.is_transient() {
        Status::Retry
    } else {
        Status::Failed
    };
    Outcome::failed(url, status, e.kind(), e.to_string())
}

/// Process one target; never panics, every path ends in an [`Outcome`].
pub async fn process_target(target: Target, deps: &Deps) -> Outcome {
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

    // Direct invocations carry no size or time: ask S3 (and fail clearly if the object is gone).
    let (size, last_modified) = match size {
        Some(size) => (size, event_time),
        None => match objects::head(&deps.s3, &url).await {
            Ok(ObjectHead {
                size,
                last_modified,
                ..
            }) => (size, last_modified),
            Err(e) => return s3_failure(&url, e),
        },
    };
    if size == 0 {
        return Outcome::failed(
            &url,
            Status::Failed,
            "EmptyObject",
            format!("{url} is empty (0 bytes)"),
        );
    }

    let source = Source::S3(url.clone());
    let info = match tokio::task::spawn_blocking(move || raster_info::read_info(&source)).await {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => return classify_read_error(&url, e, deps).await,
        Err(join) => {
            return Outcome::failed(
                &url,
                Status::Retry,
                "Panic",
                format!("reading {url} panicked: {join}"),
            )
        }
    };
    log_metadata(&url, size, &info);

    let id = stac::item_id(&url.key);
    let href = url.to_string();
    let item = stac::item(
        &info,
        &ItemSource {
            id: &id,
            href: &href,
            last_modified: last_modified.as_deref(),
        },
        &now(),
    );
    let item_url = deps.config.item_url(&url);
    if let Err(e) = objects::put_json(&deps.s3, &item_url, &item).await {
        // Losing the Item silently is worse than a retry: any write failure fails the invocation.
        let mut out = s3_failure(&url, e);
        out.status = Status::Retry;
        return out;
    }
    Outcome {
        item_url: Some(item_url.to_string()),
        ..Outcome::new(&url.bucket, &url.key, Status::Processed)
    }
}

/// GDAL could not read the object: tell "not a raster" from "gone" from
/// "S3 is having trouble" by asking S3 about the object.
async fn classify_read_error(url: &S3Url, e: raster_info::Error, deps: &Deps) -> Outcome {
    if e.kind == ErrorKind::NotFound {
        return Outcome::failed(
            url,
            Status::Failed,
            "NotFound",
            format!("{url} does not exist (deleted before processing?)"),
        );
    }
    match objects::head(&deps.s3, url).await {
        Ok(head) if head.size == 0 => Outcome::failed(
            url,
            Status::Failed,
            "EmptyObject",
            format!("{url} is empty (0 bytes)"),
        ),
        Ok(_) => Outcome::failed(url, Status::Failed, &format!("{:?}", e.kind), e.message),
        Err(s3) => s3_failure(url, s3),
    }
}

fn log_metadata(url: &S3Url, size: u64, info: &RasterInfo) {
    log_record(
        Level::Info,
        json!({"message": "raster metadata", "bucket": url.bucket, "key": url.key, "size": size, "raster": info}),
    );
}
