//! The gdal-lambda binary as a Lambda function: its `lambda_runtime` client
//! talks to run-lambda's local Runtime API, reads from moto S3 and writes there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use aws_sdk_s3::primitives::ByteStream;
use local_aws::LocalAws;
use raster_info::samples;
use serde_json::Value;
use stratus_aws::{objects, S3Url};

#[tokio::test(flavor = "multi_thread")]
async fn s3_event_through_the_runtime_api() {
    let aws = LocalAws::shared();
    let bucket = aws.new_bucket("e2e").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "scene.tif", 1024, true);
    let key = "uploads/e2e scene+1.tif";
    let s3 = aws.s3().await;
    aws.put_file(&bucket, key, &cog).await;
    s3.put_object()
        .bucket(&bucket)
        .key("uploads/notes.txt")
        .body(ByteStream::from_static(b"text"))
        .send()
        .await
        .unwrap();

    let size = std::fs::metadata(&cog).unwrap().len();
    let event = common::s3_event(
        &bucket,
        &[
            ("ObjectCreated:Put", key, size),
            ("ObjectCreated:Put", "uploads/notes.txt", 4),
        ],
    );
    let run = common::invoke_function(
        dir.path(),
        &event,
        &format!("s3://{bucket}/stac/"),
        &aws.env(),
    );
    let response = run.response;
    assert_eq!(
        response["records"][0]["status"], "processed",
        "{response:#}"
    );
    assert_eq!(response["records"][1]["status"], "failed");
    assert_eq!(response["records"][1]["error_kind"], "NotARaster");

    // Exactly one JSON metadata record per raster, and one error record for the text file.
    let logs = run.logs;
    let records: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let meta: Vec<&Value> = records
        .iter()
        .filter(|r| r["message"] == "raster metadata")
        .collect();
    assert_eq!(meta.len(), 1, "{logs}");
    assert_eq!(meta[0]["key"], key);
    assert_eq!(meta[0]["size"], size);
    assert_eq!(meta[0]["raster"]["crs"]["epsg"], 32633);
    // Every line the function logs names the invocation (Lambda's JSON log format),
    // by the request id run-lambda's Runtime API gave it.
    assert_logs_name_the_request(&logs, 2);
    let errors: Vec<&Value> = records.iter().filter(|r| r["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{logs}");
    assert_eq!(errors[0]["error_kind"], "NotARaster");

    let item: Value = objects::get_json(&s3, &S3Url::new(&bucket, format!("stac/{key}.json")))
        .await
        .unwrap();
    samples::assert_valid_stac(&item);
    assert_eq!(
        item["assets"]["data"]["href"],
        format!("s3://{bucket}/{key}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sqs_batch_through_the_runtime_api() {
    let aws = LocalAws::shared();
    let bucket = aws.new_bucket("e2e-sqs").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "scene.tif", 256, true);
    let key = "uploads/queued scene.tif";
    aws.put_file(&bucket, key, &cog).await;
    let size = std::fs::metadata(&cog).unwrap().len();
    // What a new S3 -> SQS setup delivers first (a test event), then an upload.
    let event = common::sqs_event(&[
        include_str!("fixtures/s3-test-event.json").to_string(),
        common::s3_event(&bucket, &[("ObjectCreated:Put", key, size)]).to_string(),
    ]);
    let mut env = aws.env();
    env.push(("REPORT_BATCH_ITEM_FAILURES".into(), "true".into()));
    let run = common::invoke_function(dir.path(), &event, &format!("s3://{bucket}/stac/"), &env);
    assert_eq!(
        run.response["batchItemFailures"],
        serde_json::json!([]),
        "{:#}",
        run.response
    );
    assert_eq!(run.response["records"][0]["message_id"], "msg-1");
    assert_eq!(run.response["records"][0]["status"], "processed");
    // The test event's diagnostic line and the metadata record both name the invocation.
    assert!(run.logs.contains("s3:TestEvent received"), "{}", run.logs);
    assert_logs_name_the_request(&run.logs, 2);
}

/// Each JSON line of the function's invocation carries `requestId`, the id
/// run-lambda reports for it; at least `min` such lines. The function's
/// start (its parse worker's confinement record, once) may come before the
/// first invocation, without one.
fn assert_logs_name_the_request(logs: &str, min: usize) {
    let served = logs
        .lines()
        .find_map(|l| l.split("function returned request_id=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("run-lambda logs the request id");
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r.get("level").is_some())
        .collect();
    let (start, lines): (Vec<Value>, Vec<Value>) = lines
        .into_iter()
        .partition(|r| r["message"] == "parse worker confinement");
    assert_eq!(start.len(), 1, "one start-up record: {logs}");
    assert!(lines.len() >= min, "{logs}");
    for line in &lines {
        assert_eq!(line["requestId"], served, "{line}");
    }
}
