//! gdal-lambda: for every raster uploaded to S3, read its header with GDAL
//! (ranged GETs through `/vsis3/`), log one JSON record of its metadata and
//! write a STAC Item for it.
//!
//! [`handle`] is the Lambda handler; [`Config`] is read once from the
//! environment at start, and `main` locks GDAL down to reading uploads
//! ([`raster_info::lockdown`]). Uploads are hostile input: a record is a
//! permanent failure, logged and reported without failing the invocation,
//! only when it is known to fail again (not a raster, corrupt, empty,
//! deleted, refused by a limit or for pointing elsewhere); anything else
//! (network, S3, timeouts) fails the invocation so Lambda retries it.

mod config;
mod event;
mod logging;
mod process;
mod upload;

pub use config::{Config, ConfigError};
pub use event::{parse_request, Request, Target};
pub use logging::{fit, init_tracing, log_record, MAX_RECORD_BYTES};
pub use process::{process_target, Deps, Outcome, Status};
pub use upload::{read_raster, Raster, ReadError};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

/// Time kept back from the invocation's deadline to report the outcome.
const MARGIN: Duration = Duration::from_secs(2);

/// Time for records when the invocation has no deadline (outside Lambda).
const NO_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// What the function returns: one outcome per record, in the event's order.
#[derive(Debug, Serialize)]
pub struct Response {
    /// Per-record outcomes.
    pub records: Vec<Outcome>,
}

/// Why an invocation failed (so Lambda retries it or sends it to the on-failure destination).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is neither an S3 event nor `{"url"}` / `{"urls"}`.
    #[error("{0}")]
    InvalidPayload(String),
    /// Some records failed for reasons that may pass on retry; the rest were processed.
    #[error("{failed} of {total} records failed transiently: {first}")]
    Transient {
        /// Records that failed transiently.
        failed: usize,
        /// Records in the event.
        total: usize,
        /// The first failure's message.
        first: String,
    },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let error_type = match e {
            HandlerError::InvalidPayload(_) => "InvalidPayload",
            HandlerError::Transient { .. } => "TransientFailure",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// When records must be done: the invocation's deadline less [`MARGIN`].
fn records_deadline(context: &Context) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left = match context.deadline {
        0 => NO_DEADLINE,
        deadline => Duration::from_millis(deadline.saturating_sub(now_ms)).saturating_sub(MARGIN),
    };
    Instant::now() + left
}

/// The Lambda handler: process every record of the event, at most
/// `config.concurrency` at a time, each by the invocation's deadline (less a
/// margin), so that a record that cannot finish fails alone, in time.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let request = parse_request(&event.payload).map_err(HandlerError::InvalidPayload)?;
    let targets = match request {
        Request::TestEvent => {
            tracing::info!("s3:TestEvent received: the bucket notification is configured");
            return Ok(Response { records: vec![] });
        }
        Request::Targets(t) => t,
    };
    let deadline = records_deadline(&event.context);
    // Unordered, so one slow record does not hold the others' slots.
    let mut done: Vec<(usize, Outcome)> = stream::iter(targets.into_iter().enumerate())
        .map(|(i, t)| async move { (i, process_target(t, deps, deadline).await) })
        .buffer_unordered(deps.config.concurrency)
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    let records: Vec<Outcome> = done.into_iter().map(|(_, o)| o).collect();
    let transient: Vec<&Outcome> = records
        .iter()
        .filter(|o| o.status == Status::Retry)
        .collect();
    if let Some(first) = transient.first() {
        return Err(HandlerError::Transient {
            failed: transient.len(),
            total: records.len(),
            first: first.message.clone().unwrap_or_default(),
        });
    }
    Ok(Response { records })
}
