//! How a record ended, as a value: its [`Status`] (which decides whether
//! the invocation fails and is retried), a typed [`FailureKind`] and a
//! message. Outcomes are logged once, by [`Outcome::log`], when they are final.

use serde::{Serialize, Serializer};
use serde_json::json;
use stratus_aws::S3Url;

use crate::logging::{log_record, Level};

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Metadata logged and Item written.
    Processed,
    /// A backfill's record whose Item already describes the object's
    /// current version: left alone ([`crate::unchanged`]).
    Unchanged,
    /// Deliberately not processed (not a creation, our own output …).
    Skipped,
    /// Known to fail again (not a raster, corrupt, empty, deleted, refused,
    /// an Item S3 will not take …): logged, not retried.
    Failed,
    /// Anything else (S3 throttling, 5xx, network, timeouts, memory): the
    /// invocation fails so Lambda retries it.
    Retry,
}

/// Why a record failed; serialised as its name (`NotARaster`, `Timeout`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The record names no object (no bucket or key, an undecodable key).
    InvalidRecord,
    /// A backfill job's arguments (S3 Batch Operations' `userArguments`)
    /// are refused: every task of the job fails the same way.
    InvalidArguments,
    /// An SQS message whose body is not a request (logged, never an outcome).
    InvalidMessage,
    /// The Item's key would be longer than S3 allows.
    KeyTooLong,
    /// The object has no bytes.
    EmptyObject,
    /// The object does not exist (any more).
    NotFound,
    /// S3 refused access to the object.
    AccessDenied,
    /// S3 failed in a way that may pass (throttling, 5xx, network).
    Transient,
    /// Any other S3 refusal.
    S3Error,
    /// The record did not finish before the invocation's deadline.
    Timeout,
    /// The Item could not be written (a fault of the deployment or of S3,
    /// never of the upload: always retried).
    ItemNotWritten,
    /// The parse worker died or could not start: not known to repeat.
    WorkerFailed,
    /// The format's parser crashed on the object's bytes in two fresh
    /// workers (a fault of the library, confined to the worker): it will again.
    ParserCrashed,
    /// GDAL's verdict on the bytes read.
    Raster(raster_info::ErrorKind),
    /// The Item was written but its message did not reach a configured
    /// destination (SNS topic, Cirrus queue): retried, the Item stays.
    NotPublished,
    /// The Item was written but the STAC Collection could not be widened to
    /// cover it (other writers won until the deadline, S3 failed, the object
    /// there is not the Collection): always retried.
    CollectionNotUpdated,
    /// The object's Item would have the STAC Collection's key (a source key
    /// `collection` at the root of the watched location).
    ItemIsCollection,
}

impl FailureKind {
    /// The name responses and records give.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::InvalidRecord => "InvalidRecord",
            FailureKind::InvalidArguments => "InvalidArguments",
            FailureKind::InvalidMessage => "InvalidMessage",
            FailureKind::KeyTooLong => "KeyTooLong",
            FailureKind::EmptyObject => "EmptyObject",
            FailureKind::NotFound => "NotFound",
            FailureKind::AccessDenied => "AccessDenied",
            FailureKind::Transient => "Transient",
            FailureKind::S3Error => "S3Error",
            FailureKind::Timeout => "Timeout",
            FailureKind::ItemNotWritten => "ItemNotWritten",
            FailureKind::WorkerFailed => "WorkerFailed",
            FailureKind::ParserCrashed => "ParserCrashed",
            FailureKind::Raster(kind) => kind.name(),
            FailureKind::NotPublished => "NotPublished",
            FailureKind::CollectionNotUpdated => "CollectionNotUpdated",
            FailureKind::ItemIsCollection => "ItemIsCollection",
        }
    }

    /// The kind of an S3 failure.
    pub fn of_s3(e: &stratus_aws::Error) -> FailureKind {
        match e {
            stratus_aws::Error::NotFound { .. } => FailureKind::NotFound,
            stratus_aws::Error::AccessDenied { .. } => FailureKind::AccessDenied,
            stratus_aws::Error::Transient { .. } => FailureKind::Transient,
            _ => FailureKind::S3Error,
        }
    }
}

impl Serialize for FailureKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
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
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<FailureKind>,
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

    /// The Item of `url` was written to `item_url`.
    pub(crate) fn processed(url: &S3Url, item_url: &S3Url) -> Self {
        Outcome {
            item_url: Some(item_url.to_string()),
            ..Outcome::new(&url.bucket, &url.key, Status::Processed)
        }
    }

    /// The Item at `item_url` already describes `url` as it is.
    pub(crate) fn unchanged(url: &S3Url, item_url: &S3Url) -> Self {
        Outcome {
            item_url: Some(item_url.to_string()),
            ..Outcome::new(&url.bucket, &url.key, Status::Unchanged)
        }
    }

    /// The record is deliberately not processed, for `reason`.
    pub(crate) fn skipped(bucket: &str, key: &str, reason: String) -> Self {
        Outcome {
            message: Some(reason),
            ..Outcome::new(bucket, key, Status::Skipped)
        }
    }

    /// The record failed for good: the same bytes fail again.
    pub(crate) fn failed(url: &S3Url, kind: FailureKind, message: String) -> Self {
        Outcome::failure(url, Status::Failed, kind, message)
    }

    /// The record failed for now: it may pass when the invocation is retried.
    pub(crate) fn retry(url: &S3Url, kind: FailureKind, message: String) -> Self {
        Outcome::failure(url, Status::Retry, kind, message)
    }

    /// A failure whose permanence `transient` decides.
    pub(crate) fn failure_of(
        url: &S3Url,
        transient: bool,
        kind: FailureKind,
        message: String,
    ) -> Self {
        let status = if transient {
            Status::Retry
        } else {
            Status::Failed
        };
        Outcome::failure(url, status, kind, message)
    }

    fn failure(url: &S3Url, status: Status, kind: FailureKind, message: String) -> Self {
        Outcome {
            error_kind: Some(kind),
            message: Some(message),
            ..Outcome::new(&url.bucket, &url.key, status)
        }
    }

    /// Log the final outcome: a line for a skipped record, an `ERROR` record
    /// for a failure (with `retry` saying whether the invocation is retried);
    /// a processed record has logged its metadata already.
    /// `unconfined` names the parse worker's confinement layers the platform
    /// refused (every record says so when any is missing).
    pub(crate) fn log(&self, unconfined: &[String]) {
        match self.status {
            Status::Processed => {}
            Status::Unchanged => tracing::info!(
                bucket = %self.bucket,
                key = %self.key,
                "unchanged: {} describes this version",
                self.item_url.as_deref().unwrap_or_default()
            ),
            Status::Skipped => tracing::info!(
                bucket = %self.bucket,
                key = %self.key,
                "skipped: {}",
                self.message.as_deref().unwrap_or_default()
            ),
            Status::Failed | Status::Retry => log_record(
                Level::Error,
                with_unconfined(
                    json!({"message": "raster not processed", "bucket": self.bucket, "key": self.key,
                           "error_kind": self.error_kind, "error": self.message,
                           "retry": self.status == Status::Retry}),
                    unconfined,
                ),
            ),
        }
    }
}

/// `record` with `unconfined` added when a confinement layer is missing.
pub(crate) fn with_unconfined(
    mut record: serde_json::Value,
    unconfined: &[String],
) -> serde_json::Value {
    if !unconfined.is_empty() {
        record["unconfined"] = json!(unconfined);
    }
    record
}
