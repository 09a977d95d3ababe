//! gdal-lambda: for every raster uploaded to S3, read its header with GDAL
//! (ranged GETs through `/vsis3/`), log one JSON record of its metadata and
//! write a STAC Item for it.
//!
//! [`handle`] is the Lambda handler; [`Config`] is read once from the
//! environment at start. Bad input (not a raster, corrupt, empty, deleted) is
//! logged and reported as a failed record without failing the invocation, so
//! Lambda does not retry what cannot succeed; transient S3 failures fail the
//! invocation so Lambda retries it.

mod config;
mod event;
mod logging;
mod process;

pub use config::{Config, ConfigError};
pub use event::{parse_request, Request, Target};
pub use logging::{init_tracing, log_record};
pub use process::{process_target, Deps, Outcome, Status};

use futures::stream::{self, StreamExt};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

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

/// The Lambda handler: process every record of the event, at most
/// `config.concurrency` at a time.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let request = parse_request(&event.payload).map_err(HandlerError::InvalidPayload)?;
    let targets = match request {
        Request::TestEvent => {
            tracing::info!("s3:TestEvent received: the bucket notification is configured");
            return Ok(Response { records: vec![] });
        }
        Request::Targets(t) => t,
    };
    let records: Vec<Outcome> = stream::iter(targets)
        .map(|t| process_target(t, deps))
        .buffered(deps.config.concurrency)
        .collect()
        .await;
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
