//! S3 Batch Operations' `LambdaInvoke`: the invocation S3 sends for each
//! task of a job (schema 1.0 names the bucket by ARN; 2.0 by name, and may
//! carry the job's `userArguments`) and the response S3 reads back, one
//! result per task. The result code decides what S3 does: `TemporaryFailure`
//! is retried by S3, `PermanentFailure` goes to the completion report with
//! its message, `Succeeded` with the Item's URL. One task's failure never
//! fails the invocation: S3 would count it against the whole job.

use serde::Serialize;
use serde_json::Value;
use stratus_aws::{decode_event_key, S3Url};

use crate::config::parse_output;
use crate::outcome::{Outcome, Status};
use crate::target::{preview, Backfill, Target};

/// The schemas S3 Batch Operations invokes functions with.
const SCHEMAS: [&str; 2] = ["1.0", "2.0"];

/// The only `userArguments` a job may give: where its Items go.
pub const OUTPUT_ARGUMENT: &str = "OUTPUT_URL";

/// One invocation of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `invocationSchemaVersion`, answered in kind.
    pub schema_version: String,
    /// `invocationId`, echoed in the response.
    pub invocation_id: String,
    /// The job's id, for the logs.
    pub job_id: String,
    /// Where the job's Items go when its `userArguments` say (`None`: the
    /// function's `OUTPUT_URL`), or why the arguments are refused.
    pub output: Result<Option<S3Url>, String>,
    /// The tasks (S3 sends one per invocation today; any number is answered).
    pub tasks: Vec<Task>,
}

/// One task: an object of the job's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `taskId`, echoed in its result.
    pub id: String,
    /// The object, or why the task names none.
    pub target: Target,
}

/// Whether `payload` is an S3 Batch Operations invocation.
pub fn is_invocation(payload: &Value) -> bool {
    payload.get("invocationSchemaVersion").is_some() && payload.get("tasks").is_some()
}

/// Parse an invocation. Only what makes it unanswerable (no ids, an unknown
/// schema) is an error; a task that names no object gets a failed result.
pub fn parse(payload: &Value) -> Result<Invocation, String> {
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    let schema_version = text(payload, "invocationSchemaVersion").unwrap_or_default();
    if !SCHEMAS.contains(&schema_version.as_str()) {
        return Err(format!(
            "S3 Batch Operations invocation schema {schema_version:?} is not known: 1.0 and 2.0 are"
        ));
    }
    let invocation_id = text(payload, "invocationId")
        .filter(|id| !id.is_empty())
        .ok_or("the S3 Batch Operations invocation has no invocationId")?;
    let job = payload.get("job").cloned().unwrap_or_default();
    let tasks = payload
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or("the S3 Batch Operations invocation's tasks are not a list")?
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let id = text(task, "taskId")
                .filter(|id| !id.is_empty())
                .ok_or_else(|| format!("S3 Batch Operations task {i} has no taskId"))?;
            Ok(Task {
                id,
                target: task_target(task),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Invocation {
        schema_version,
        invocation_id,
        job_id: text(&job, "id").unwrap_or_default(),
        output: user_output(job.get("userArguments")),
        tasks,
    })
}

/// The object of a task: its bucket by name (2.0) or ARN (1.0), its key
/// URL-encoded as in the manifest (S3 manifests and inventories encode keys
/// as form data: `+` a space, `%2B` a plus).
fn task_target(task: &Value) -> Target {
    let field = |name: &str| task.get(name).and_then(Value::as_str).unwrap_or_default();
    // arn:aws:s3:::bucket (the region and account fields are empty for buckets).
    let bucket = match (field("s3Bucket"), field("s3BucketArn")) {
        ("", arn) => arn.rsplit(':').next().unwrap_or_default(),
        (name, _) => name,
    }
    .to_string();
    let raw_key = field("s3Key").to_string();
    if bucket.is_empty() || raw_key.is_empty() {
        return Target::Invalid {
            bucket,
            key: raw_key,
            message: "the task has no s3Bucket or s3BucketArn, or no s3Key".into(),
        };
    }
    match decode_event_key(&raw_key) {
        Ok(key) => Target::Object {
            url: S3Url::new(bucket, key),
            size: None,
            event_time: None,
            backfill: Some(Backfill::default()),
        },
        Err(e) => Target::Invalid {
            bucket,
            key: raw_key,
            message: e.to_string(),
        },
    }
}

/// The output location a job's `userArguments` give, checked as `OUTPUT_URL`
/// is; any other argument is refused rather than ignored, so that a job
/// cannot believe it changed something it did not.
fn user_output(arguments: Option<&Value>) -> Result<Option<S3Url>, String> {
    let arguments = match arguments {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "userArguments is not an object: {}",
                preview(&other.to_string())
            ))
        }
    };
    let others: Vec<&String> = arguments.keys().filter(|k| *k != OUTPUT_ARGUMENT).collect();
    if !others.is_empty() {
        return Err(format!(
            "userArguments may only give {OUTPUT_ARGUMENT}, not {}",
            others
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match arguments.get(OUTPUT_ARGUMENT) {
        None => Ok(None),
        Some(Value::String(url)) => parse_output(url)
            .map(Some)
            .map_err(|e| format!("userArguments: {e}")),
        Some(other) => Err(format!(
            "userArguments {OUTPUT_ARGUMENT} is not a string: {other}"
        )),
    }
}

/// The response S3 reads: the invocation's schema and id, and one result per task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// The invocation's schema version.
    pub invocation_schema_version: String,
    /// A task without a result failed for good (none is ever left out).
    pub treat_missing_keys_as: ResultCode,
    /// The invocation's id.
    pub invocation_id: String,
    /// One result per task, in the invocation's order.
    pub results: Vec<TaskResult>,
}

/// What S3 records (and does) for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultCode {
    /// Done: the completion report lists it with its result string.
    Succeeded,
    /// S3 invokes the function for it again, up to the job's retries.
    TemporaryFailure,
    /// Reported as failed, not retried.
    PermanentFailure,
}

/// One task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// The task's id.
    pub task_id: String,
    /// What S3 does with it.
    pub result_code: ResultCode,
    /// What the completion report says of it.
    pub result_string: String,
}

/// The answer to `invocation`, whose tasks ended as `outcomes` (in order).
pub fn answer(invocation: &Invocation, outcomes: &[Outcome]) -> Answer {
    Answer {
        invocation_schema_version: invocation.schema_version.clone(),
        treat_missing_keys_as: ResultCode::PermanentFailure,
        invocation_id: invocation.invocation_id.clone(),
        results: invocation
            .tasks
            .iter()
            .zip(outcomes)
            .map(|(task, outcome)| {
                let (result_code, result_string) = result_of(outcome);
                TaskResult {
                    task_id: task.id.clone(),
                    result_code,
                    result_string,
                }
            })
            .collect(),
    }
}

/// A record's outcome as a task result: every status has its code, and the
/// string keeps what the outcome says (the Item's URL, or the kind and message).
pub fn result_of(outcome: &Outcome) -> (ResultCode, String) {
    let message = outcome.message.clone().unwrap_or_default();
    let kind = outcome.error_kind.map(|k| k.name()).unwrap_or("Failed");
    let item = outcome.item_url.clone().unwrap_or_default();
    match outcome.status {
        Status::Processed => (ResultCode::Succeeded, item),
        Status::Unchanged => (ResultCode::Succeeded, format!("unchanged: {item}")),
        Status::Skipped => (ResultCode::Succeeded, format!("skipped: {message}")),
        Status::Failed => (ResultCode::PermanentFailure, format!("{kind}: {message}")),
        Status::Retry => (ResultCode::TemporaryFailure, format!("{kind}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_1_names_the_bucket_by_arn_and_2_by_name() {
        let v1 = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv-1",
            "job": {"id": "job-1"},
            "tasks": [{"taskId": "t1", "s3Key": "a+b%2Bc%C3%A9.tif", "s3VersionId": "1",
                       "s3BucketArn": "arn:aws:s3:::in-bucket"}]});
        let inv = parse(&v1).unwrap();
        assert_eq!(inv.tasks[0].id, "t1");
        assert_eq!(
            inv.tasks[0].target,
            Target::Object {
                url: S3Url::new("in-bucket", "a b+cé.tif"),
                size: None,
                event_time: None,
                backfill: Some(Backfill::default()),
            }
        );
        assert_eq!(inv.output, Ok(None));
        let v2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "inv-2",
            "job": {"id": "job-2", "userArguments": {"OUTPUT_URL": "s3://other/items"}},
            "tasks": [{"taskId": "t2", "s3Key": "k.tif", "s3VersionId": null, "s3Bucket": "b-2"},
                      {"taskId": "t3", "s3Key": "bad%zz", "s3Bucket": "b-2"}]});
        let inv = parse(&v2).unwrap();
        assert_eq!(inv.output, Ok(Some(S3Url::new("other", "items/"))));
        assert!(
            matches!(&inv.tasks[0].target, Target::Object { url, .. } if *url == S3Url::new("b-2", "k.tif"))
        );
        assert!(matches!(&inv.tasks[1].target, Target::Invalid { .. }));
    }

    #[test]
    fn arguments_other_than_the_output_are_refused() {
        for (arguments, wanted) in [
            (json!({"OUTPUT_URL": "not a url"}), "OUTPUT_URL"),
            (
                json!({"OUTPUT_URL": "s3://o/p", "MAX_BANDS": "9"}),
                "\"MAX_BANDS\"",
            ),
            (json!({"OUTPUT_URL": 3}), "not a string"),
            (json!(["x"]), "not an object"),
        ] {
            let err = user_output(Some(&arguments)).unwrap_err();
            assert!(err.contains(wanted), "{arguments}: {err}");
        }
        assert_eq!(user_output(Some(&json!({}))), Ok(None));
    }

    #[test]
    fn unanswerable_invocations_are_errors() {
        for bad in [
            json!({"invocationSchemaVersion": "3.0", "invocationId": "i", "tasks": []}),
            json!({"invocationSchemaVersion": "1.0", "tasks": []}),
            json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "tasks": [{"s3Key": "k"}]}),
            json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "tasks": {}}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }
}
