//! The Lambda handler: every record of an invocation processed, at most
//! `MAX_CONCURRENCY` at a time, by the invocation's deadline; the response
//! (per-record outcomes, an SQS partial batch response) and whether the
//! invocation fails so that Lambda retries it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::batch_operations::{self, Invocation};
use crate::event::{parse_request, Message, Request};
use crate::logging::{self, log_record, Level};
use crate::outcome::{FailureKind, Outcome, Status};
use crate::process::{process_target, Deps};
use crate::target::Target;
use stratus_aws::S3Url;

/// Time kept back from the invocation's deadline to report the outcome.
const MARGIN: Duration = Duration::from_secs(2);

/// Time for records when the invocation has no deadline (outside Lambda).
const NO_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// What the function returns: one outcome per record, in the event's order,
/// and for an SQS batch (with `REPORT_BATCH_ITEM_FAILURES`) the messages to
/// deliver again: SQS's partial batch response. To S3 Batch Operations it
/// returns only the response its schema has ([`batch_operations::Answer`]).
#[derive(Debug, Default)]
pub struct Response {
    /// Per-record outcomes.
    pub records: Vec<Outcome>,
    /// The SQS messages that failed transiently (only those are retried).
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
    /// The answer to an S3 Batch Operations invocation.
    pub batch_operations: Option<batch_operations::Answer>,
}

impl Serialize for Response {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if let Some(answer) = &self.batch_operations {
            return answer.serialize(s);
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("records", &self.records)?;
        if let Some(failures) = &self.batch_item_failures {
            map.serialize_entry("batchItemFailures", failures)?;
        }
        map.end()
    }
}

/// One message of a partial batch response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    /// The SQS message id.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
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
/// margin), so that a record that cannot finish fails alone, in time. Every
/// log line of the invocation carries its request id.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let request_id = event.context.request_id.clone();
    logging::with_request_id(request_id, handle_event(event, deps)).await
}

async fn handle_event(event: LambdaEvent<Value>, deps: &Deps) -> Result<Response, HandlerError> {
    let request = parse_request(&event.payload).map_err(HandlerError::InvalidPayload)?;
    let deadline = records_deadline(&event.context);
    let targets = match request {
        Request::TestEvent => {
            tracing::info!("s3:TestEvent received: the bucket notification is configured");
            return Ok(Response::default());
        }
        Request::Targets(t) => t,
        Request::Batch(messages) => return batch(messages, deps, deadline).await,
        Request::BatchOperations(invocation) => {
            return Ok(batch_operations_job(invocation, deps, deadline).await)
        }
    };
    let output = &deps.config.output;
    let records = process_all(
        targets.into_iter().map(|t| (None, t)),
        deps,
        output,
        deadline,
    )
    .await;
    fail_on_retry(&records)?;
    Ok(Response {
        records,
        ..Response::default()
    })
}

/// An S3 Batch Operations invocation: its tasks processed, each answered
/// with its result code; the invocation itself never fails for a task.
async fn batch_operations_job(invocation: Invocation, deps: &Deps, deadline: Instant) -> Response {
    tracing::info!(job_id = %invocation.job_id, invocation_id = %invocation.invocation_id,
                   tasks = invocation.tasks.len(), "S3 Batch Operations invocation");
    let records = match &invocation.output {
        Ok(output) => {
            let output = output.as_ref().unwrap_or(&deps.config.output);
            let targets = invocation.tasks.iter().map(|t| (None, t.target.clone()));
            process_all(targets, deps, output, deadline).await
        }
        Err(message) => invocation
            .tasks
            .iter()
            .map(|task| {
                let outcome = refused(&task.target, message);
                outcome.log(&deps.parsers.unconfined());
                outcome
            })
            .collect(),
    };
    let answer = batch_operations::answer(&invocation, &records);
    Response {
        records,
        batch_item_failures: None,
        batch_operations: Some(answer),
    }
}

/// A task of a job whose arguments are refused.
fn refused(target: &Target, message: &str) -> Outcome {
    let (bucket, key) = match target {
        Target::Object { url, .. } => (url.bucket.clone(), url.key.clone()),
        Target::Skip { bucket, key, .. } | Target::Invalid { bucket, key, .. } => {
            (bucket.clone(), key.clone())
        }
    };
    Outcome::failed(
        &S3Url::new(bucket, key),
        FailureKind::InvalidArguments,
        message.to_string(),
    )
}

/// The targets' outcomes in their order, tagged with their SQS message,
/// their Items under `output`.
async fn process_all(
    targets: impl Iterator<Item = (Option<String>, Target)>,
    deps: &Deps,
    output: &S3Url,
    deadline: Instant,
) -> Vec<Outcome> {
    // Unordered, so one slow record does not hold the others' slots.
    let mut done: Vec<(usize, Outcome)> = stream::iter(targets.enumerate())
        .map(|(i, (message_id, t))| async move {
            let mut outcome = process_target(t, deps, output, deadline).await;
            outcome.message_id = message_id;
            outcome.log(&deps.parsers.unconfined());
            (i, outcome)
        })
        .buffer_unordered(deps.config.concurrency)
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

/// The invocation fails (and is retried whole) when a record may pass on retry.
fn fail_on_retry(records: &[Outcome]) -> Result<(), HandlerError> {
    let transient: Vec<&Outcome> = records
        .iter()
        .filter(|o| o.status == Status::Retry)
        .collect();
    match transient.first() {
        Some(first) => Err(HandlerError::Transient {
            failed: transient.len(),
            total: records.len(),
            first: first.message.clone().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// An SQS batch: every message's records, and the messages with a record to
/// retry listed for SQS to deliver again. A message that can never be read
/// is logged and not listed (it would only come back until the dead-letter
/// queue). Without `REPORT_BATCH_ITEM_FAILURES` a failure fails the batch.
async fn batch(
    messages: Vec<Message>,
    deps: &Deps,
    deadline: Instant,
) -> Result<Response, HandlerError> {
    let mut targets = Vec::new();
    for m in &messages {
        match &m.request {
            Ok(Request::Targets(t)) => {
                targets.extend(t.iter().map(|t| (Some(m.id.clone()), t.clone())))
            }
            Ok(Request::TestEvent) => {
                tracing::info!(message_id = %m.id, "s3:TestEvent received: the queue notification is configured");
            }
            // parse_request never nests batches; a message that did would be invalid.
            Ok(Request::Batch(_)) => invalid_message(&m.id, "the body is itself an SQS batch"),
            Ok(Request::BatchOperations(_)) => invalid_message(
                &m.id,
                "the body is an S3 Batch Operations invocation, which S3 sends to the function itself",
            ),
            Err(e) => invalid_message(&m.id, e),
        }
    }
    let records = process_all(targets.into_iter(), deps, &deps.config.output, deadline).await;
    if !deps.config.report_batch_item_failures {
        fail_on_retry(&records)?;
    }
    let failures = messages
        .iter()
        .filter(|m| {
            records
                .iter()
                .any(|r| r.status == Status::Retry && r.message_id.as_deref() == Some(&m.id))
        })
        .map(|m| BatchItemFailure {
            item_identifier: m.id.clone(),
        })
        .collect();
    Ok(Response {
        records,
        batch_item_failures: Some(failures),
        batch_operations: None,
    })
}

fn invalid_message(id: &str, error: &str) {
    log_record(
        Level::Error,
        serde_json::json!({"message": "SQS message not processed", "message_id": id,
                           "error_kind": FailureKind::InvalidMessage, "error": error, "retry": false}),
    );
}
