//! Every way S3 events reach the handler, against moto S3: through SQS (with
//! SQS's partial batch response), SNS and EventBridge, with events shaped like
//! AWS's documented samples and odd keys.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use common::handler::{aws, client_failing_puts_to, config, deps_of, invoke};
use common::{eventbridge_event, s3_event, sns_event, sns_sqs_body, sqs_event};
use gdal_lambda::{HandlerError, Status};
use raster_info::samples;
use serde_json::{json, Value};
use stratus_aws::{objects, S3Url};

/// Whether the Item of `key` was written (and then, that it is valid).
async fn item_exists(bucket: &str, key: &str) -> bool {
    let url = S3Url::new(bucket, format!("stac/{key}.json"));
    match objects::get_json::<Value>(&aws().s3().await, &url).await {
        Ok(item) => {
            samples::assert_valid_stac(&item);
            true
        }
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sqs_batch_lists_only_the_messages_to_retry() {
    let aws = aws();
    let bucket = aws.new_bucket("sqs").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 256, true);
    let size = std::fs::metadata(&cog).unwrap().len();
    let keys = [
        "sqs/direct 1+1.tif",
        "sqs/flaky é.tif",
        "sqs/eb+plus %41.tif",
        "sqs/via sns.tif",
    ];
    for key in keys {
        aws.put_file(&bucket, key, &cog).await;
    }
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"not a raster").unwrap();
    aws.put_file(&bucket, "sqs/notes.txt", &notes).await;
    let test_event = include_str!("fixtures/s3-test-event.json").to_string();
    let s3 = |key: &str, size: u64| s3_event(&bucket, &[("ObjectCreated:Put", key, size)]);
    let event = sqs_event(&[
        s3(keys[0], size).to_string(), // processed
        s3(keys[1], size).to_string(), // its Item's PUT fails: retried
        eventbridge_event("Object Created", &bucket, keys[2], size).to_string(), // key not encoded
        sns_sqs_body(&s3(keys[3], size)), // SNS to SQS
        test_event,                    // acknowledged
        "not json {".to_string(),      // never readable: logged, dropped
        s3("sqs/notes.txt", 12).to_string(), // not a raster: permanent
    ]);

    // The flaky key's Item cannot be written: its PUTs all fail.
    let (_proxy, s3_client) = client_failing_puts_to("flaky").await;
    let output = format!("s3://{bucket}/stac/");
    let report = [("REPORT_BATCH_ITEM_FAILURES", "true")];
    let deps = deps_of(config(&output, &report), s3_client.clone());
    let resp = invoke(event.clone(), &deps).await.unwrap();
    let failures: Vec<&str> = resp
        .batch_item_failures
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failures, ["msg-1"], "{resp:#?}");
    let outcomes: Vec<(Option<&str>, &str, Status)> = resp
        .records
        .iter()
        .map(|r| (r.message_id.as_deref(), r.key.as_str(), r.status))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some("msg-0"), keys[0], Status::Processed),
            (Some("msg-1"), keys[1], Status::Retry),
            (Some("msg-2"), keys[2], Status::Processed),
            (Some("msg-3"), keys[3], Status::Processed),
            (Some("msg-6"), "sqs/notes.txt", Status::Failed),
        ]
    );
    for key in [keys[0], keys[2], keys[3]] {
        assert!(item_exists(&bucket, key).await, "{key}");
    }
    assert!(!item_exists(&bucket, keys[1]).await);
    // The response is SQS's partial batch response.
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(
        json["batchItemFailures"],
        json!([{"itemIdentifier": "msg-1"}])
    );

    // Without REPORT_BATCH_ITEM_FAILURES (an event source mapping that may ignore the list),
    // the batch fails whole, so nothing is deleted from the queue.
    let deps = deps_of(config(&output, &[]), s3_client);
    match invoke(event, &deps).await.unwrap_err() {
        HandlerError::Transient { failed, .. } => assert_eq!(failed, 1),
        other => panic!("expected a transient failure, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_and_eventbridge_deliver_uploads() {
    let aws = aws();
    let bucket = aws.new_bucket("fanout").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 256, true);
    let size = std::fs::metadata(&cog).unwrap().len();
    let output = format!("s3://{bucket}/stac/");
    let deps = deps_of(config(&output, &[]), aws.s3().await);

    let sns_key = "sns/a b+c é.tif";
    aws.put_file(&bucket, sns_key, &cog).await;
    let resp = invoke(
        sns_event(&s3_event(&bucket, &[("ObjectCreated:Put", sns_key, size)])),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(
        (resp.records[0].key.as_str(), resp.records[0].status),
        (sns_key, Status::Processed)
    );
    assert!(item_exists(&bucket, sns_key).await);
    // The notification S3 sends through SNS when it is configured.
    let test = serde_json::from_str::<Value>(include_str!("fixtures/s3-test-event.json")).unwrap();
    assert!(invoke(sns_event(&test), &deps)
        .await
        .unwrap()
        .records
        .is_empty());

    // EventBridge keys are not form-encoded: "+" is a plus, "%41" is three characters.
    let eb_key = "eb/x+y %41.tif";
    aws.put_file(&bucket, eb_key, &cog).await;
    let resp = invoke(
        eventbridge_event("Object Created", &bucket, eb_key, size),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(
        (resp.records[0].key.as_str(), resp.records[0].status),
        (eb_key, Status::Processed)
    );
    assert!(item_exists(&bucket, eb_key).await);
    let resp = invoke(
        eventbridge_event("Object Deleted", &bucket, eb_key, 0),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(resp.records[0].status, Status::Skipped);

    // Anything else is an InvalidPayload naming what came.
    let kinesis = json!({"Records": [{"eventSource": "aws:kinesis", "kinesis": {"data": "e30="}}]});
    for (payload, said) in [
        (kinesis, "aws:kinesis"),
        (
            json!({"detail-type": "Scheduled Event", "source": "aws.events"}),
            "aws.events",
        ),
        (json!({"hello": "world"}), "keys hello"),
    ] {
        match invoke(payload, &deps).await.unwrap_err() {
            HandlerError::InvalidPayload(m) => assert!(m.contains(said), "{m}"),
            other => panic!("expected InvalidPayload, got {other}"),
        }
    }
}
