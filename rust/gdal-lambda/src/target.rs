//! One record of work, whatever brought it: an object to process, a record
//! to skip or one that names no object; and how a payload is quoted in the
//! messages about it.

use stratus_aws::S3Url;

/// One record of work.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An object to process.
    Object {
        /// Where it is.
        url: S3Url,
        /// Size from the event (`None` for direct invocations).
        size: Option<u64>,
        /// Event time (RFC 3339), the object's creation time for S3 events.
        event_time: Option<String>,
        /// A backfill's record: the object is left alone when its Item
        /// already describes the version it lists ([`crate::unchanged`]).
        backfill: Option<Backfill>,
    },
    /// A record to skip, with why.
    Skip {
        /// Bucket and raw key, for the outcome.
        bucket: String,
        /// The key as given.
        key: String,
        /// Why it is skipped.
        reason: String,
    },
    /// A record that cannot be processed (e.g. an undecodable key).
    Invalid {
        /// Bucket, for the outcome.
        bucket: String,
        /// The key as given.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// What a backfill engine says of an object besides where it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backfill {
    /// The ETag the engine listed (a listing or an inventory has it; an S3
    /// Batch Operations task does not), which saves asking S3.
    pub etag: Option<String>,
}

/// The start of `text`, for a message about it.
pub(crate) fn preview(text: &str) -> String {
    let cut: String = text.chars().take(120).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
