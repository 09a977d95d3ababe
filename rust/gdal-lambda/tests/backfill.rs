//! Backfills through the real handler against moto S3: S3 Batch Operations
//! invocations (schemas 1.0 and 2.0) answered with their response schema,
//! Step Functions Distributed Map items (a listing's, an inventory's,
//! batched), and re-runs that leave current Items alone, counted in requests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use common::event_key;
use common::handler::{aws, client_failing_puts_to, config, deps_of, invoke};
use gdal_lambda::{Deps, HandlerError, Response, Status};
use local_aws::{Fault, FaultPlan, FaultProxy};
use raster_info::samples;
use serde_json::{json, Value};
use stratus_aws::{objects, S3Url};

fn deps_for(output: &str, s3: aws_sdk_s3::Client) -> Deps {
    deps_of(config(output, &[]), s3)
}

/// An S3 Batch Operations invocation of `schema` with one task per key, as
/// the job's manifest carries it (URL-encoded); task ids `task-<n>`.
fn batch_invocation(schema: &str, bucket: &str, keys: &[&str], arguments: Option<Value>) -> Value {
    let tasks: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut task = json!({"taskId": format!("task-{i}"), "s3Key": event_key(key), "s3VersionId": null});
            match schema {
                "1.0" => task["s3BucketArn"] = json!(format!("arn:aws:s3:::{bucket}")),
                _ => task["s3Bucket"] = json!(bucket),
            }
            task
        })
        .collect();
    let mut job = json!({"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"});
    if let Some(arguments) = arguments {
        job["userArguments"] = arguments;
    }
    json!({"invocationSchemaVersion": schema, "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
           "job": job, "tasks": tasks})
}

/// The (taskId, resultCode, resultString) of an answer, as S3 reads it.
fn results(response: &Response) -> Vec<(String, String, String)> {
    let json = serde_json::to_value(response).unwrap();
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("taskId"), s("resultCode"), s("resultString"))
        })
        .collect()
}

async fn etag(s3: &aws_sdk_s3::Client, url: &S3Url) -> String {
    objects::head(s3, url).await.unwrap().etag.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_batch_operations_tasks_are_answered_with_their_result_codes() {
    let aws = aws();
    let bucket = aws.new_bucket("batchops").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 256, true);
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"not a raster").unwrap();
    let (odd, flaky, text) = ("old/a b+c é%41.tif", "old/flaky.tif", "old/notes.txt");
    for (key, file) in [(odd, &cog), (flaky, &cog), (text, &notes)] {
        aws.put_file(&bucket, key, file).await;
    }
    // The flaky key's Item cannot be written: its PUTs all fail.
    let (_proxy, s3) = client_failing_puts_to("flaky").await;
    let deps = deps_for(&format!("s3://{bucket}/stac/"), s3.clone());
    let keys = [odd, flaky, text, "old/deleted.tif", "stac/old/x.tif.json"];

    for schema in ["1.0", "2.0"] {
        let event = batch_invocation(schema, &bucket, &keys, None);
        // One task failing, for now or for good, never fails the invocation.
        let resp = invoke(event, &deps).await.unwrap();
        let json = serde_json::to_value(&resp).unwrap();
        let mut fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "invocationId",
                "invocationSchemaVersion",
                "results",
                "treatMissingKeysAs"
            ],
            "only the response schema's fields: {json:#}"
        );
        assert_eq!(json["invocationSchemaVersion"], schema);
        assert_eq!(
            json["invocationId"],
            "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"
        );
        assert_eq!(json["treatMissingKeysAs"], "PermanentFailure");
        let r = results(&resp);
        let ids: Vec<&str> = r.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(ids, ["task-0", "task-1", "task-2", "task-3", "task-4"]);
        let item = format!("s3://{bucket}/stac/{odd}.json");
        // A re-run (the second schema's) finds the first run's Item current.
        let first = if schema == "1.0" {
            item.clone()
        } else {
            format!("unchanged: {item}")
        };
        assert_eq!(
            (r[0].1.as_str(), r[0].2.as_str()),
            ("Succeeded", first.as_str()),
            "{r:?}"
        );
        assert_eq!(r[1].1, "TemporaryFailure", "{r:?}");
        assert!(r[1].2.starts_with("ItemNotWritten: "), "{r:?}");
        assert_eq!(r[2].1, "PermanentFailure", "{r:?}");
        assert!(r[2].2.starts_with("NotARaster: "), "{r:?}");
        assert_eq!(r[3].1, "PermanentFailure", "{r:?}");
        assert!(r[3].2.starts_with("NotFound: "), "{r:?}");
        assert_eq!(r[4].1, "Succeeded", "{r:?}");
        assert!(
            r[4].2.starts_with("skipped: under the output location"),
            "{r:?}"
        );
    }
    // The Item describes the object under its decoded key, and records its version.
    let item_url = S3Url::new(&bucket, format!("stac/{odd}.json"));
    let item: Value = objects::get_json(&s3, &item_url).await.unwrap();
    samples::assert_valid_stac(&item);
    assert_eq!(
        item["assets"]["data"]["href"],
        format!("s3://{bucket}/{odd}")
    );
    let head = objects::head(&s3, &item_url).await.unwrap();
    let source_etag = etag(&s3, &S3Url::new(&bucket, odd)).await;
    assert_eq!(
        head.metadata.get("source-etag").map(String::as_str),
        Some(source_etag.trim_matches('"'))
    );
    assert!(head.metadata["stratus-writer"].starts_with("gdal-lambda/"));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_arguments_may_move_the_items_and_do_nothing_else() {
    let aws = aws();
    let bucket = aws.new_bucket("batchargs").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 256, true);
    aws.put_file(&bucket, "in/a.tif", &cog).await;
    let s3 = aws.s3().await;
    let deps = deps_for(&format!("s3://{bucket}/stac/"), s3.clone());

    let moved = json!({"OUTPUT_URL": format!("s3://{bucket}/backfill-items")});
    let resp = invoke(
        batch_invocation("2.0", &bucket, &["in/a.tif"], Some(moved)),
        &deps,
    )
    .await
    .unwrap();
    let item = format!("s3://{bucket}/backfill-items/in/a.tif.json");
    assert_eq!(results(&resp)[0].2, item);
    objects::get_json::<Value>(&s3, &S3Url::parse(&item).unwrap())
        .await
        .unwrap();
    // The job's Items are outputs too: never read as uploads.
    let again = json!({"OUTPUT_URL": format!("s3://{bucket}/backfill-items/")});
    let resp = invoke(
        batch_invocation(
            "2.0",
            &bucket,
            &["backfill-items/in/a.tif.json"],
            Some(again),
        ),
        &deps,
    )
    .await
    .unwrap();
    assert!(results(&resp)[0].2.starts_with("skipped: "), "{resp:?}");

    for arguments in [
        json!({"OUTPUT_URL": "https://example.com/x"}),
        json!({"OUTPUT_URL": format!("s3://{bucket}/x"), "MAX_CONCURRENCY": "64"}),
    ] {
        let resp = invoke(
            batch_invocation("2.0", &bucket, &["in/a.tif"], Some(arguments.clone())),
            &deps,
        )
        .await
        .unwrap();
        let r = results(&resp);
        assert_eq!(r[0].1, "PermanentFailure", "{arguments}: {r:?}");
        assert!(
            r[0].2.starts_with("InvalidArguments: "),
            "{arguments}: {r:?}"
        );
    }
    assert!(
        objects::head(&s3, &S3Url::new(&bucket, "x/in/a.tif.json"))
            .await
            .is_err(),
        "a refused job writes nothing"
    );
    // An invocation that cannot be answered is refused whole.
    let unknown =
        json!({"invocationSchemaVersion": "9.9", "invocationId": "i", "job": {}, "tasks": []});
    assert!(matches!(
        invoke(unknown, &deps).await,
        Err(HandlerError::InvalidPayload(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn distributed_map_items_are_answered_item_by_item() {
    let aws = aws();
    let bucket = aws.new_bucket("dmap").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 256, true);
    let (listed, inventoried) = ("prefix/listed +%41.tif", "prefix/in inventory é+.tif");
    for key in [listed, inventoried] {
        aws.put_file(&bucket, key, &cog).await;
    }
    let s3 = aws.s3().await;
    let size = std::fs::metadata(&cog).unwrap().len();
    let listed_etag = etag(&s3, &S3Url::new(&bucket, listed)).await;
    let inventory_etag = etag(&s3, &S3Url::new(&bucket, inventoried)).await;
    // A listing's items as the ListObjectsV2 reader gives them (the key as
    // stored, the ETag quoted), batched with the bucket in BatchInput; an
    // inventory's rows as its manifest reader gives them (all text, the key
    // URL-encoded as S3 Inventory writes it, the ETag bare).
    let batch = json!({"BatchInput": {"bucket": bucket}, "Items": [
        {"Etag": listed_etag, "Key": listed, "LastModified": 1_733_600_000, "Size": size, "StorageClass": "STANDARD"},
        {"Bucket": bucket, "Key": event_key(inventoried), "Size": size.to_string(),
         "LastModifiedDate": "2024-12-07T00:00:00.000Z", "ETag": inventory_etag.trim_matches('"')},
        {"Etag": "\"d41d8cd98f00b204e9800998ecf8427e\"", "Key": "prefix/", "Size": 0, "StorageClass": "STANDARD"},
        {"Bucket": bucket, "Key": "prefix/gone.tif", "Size": "9", "IsLatest": "true"},
    ]});
    let proxy = FaultProxy::start(aws.port());
    let counted = local_aws::s3_client(&proxy.endpoint(), None).await;
    let deps = deps_for(&format!("s3://{bucket}/stac/"), counted);
    let resp = invoke(batch.clone(), &deps).await.unwrap();
    let got: Vec<(&str, Status, Option<&str>)> = resp
        .records
        .iter()
        .map(|r| (r.key.as_str(), r.status, r.error_kind.map(|k| k.name())))
        .collect();
    assert_eq!(
        got,
        [
            (listed, Status::Processed, None),
            (inventoried, Status::Processed, None),
            ("prefix/", Status::Skipped, None),
            ("prefix/gone.tif", Status::Failed, Some("NotFound")),
        ]
    );
    // What a ResultWriter stores: the per-item list.
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(
        json["records"][1]["item_url"],
        format!("s3://{bucket}/stac/{inventoried}.json")
    );
    assert_eq!(json["records"][3]["error_kind"], "NotFound");

    // The same batch again: the items the engines listed with their ETags
    // cost one HEAD of their Item each, and nothing is read or written.
    proxy.take_seen();
    let again = invoke(batch.clone(), &deps).await.unwrap();
    let statuses: Vec<Status> = again.records.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Unchanged,
            Status::Unchanged,
            Status::Skipped,
            Status::Failed
        ]
    );
    let seen: Vec<(String, String)> = proxy
        .take_seen()
        .into_iter()
        .map(|s| (s.method.clone(), s.decoded_path()))
        .collect();
    let mut unchanged: Vec<(String, String)> = seen
        .iter()
        .filter(|(_, path)| !path.contains("gone.tif"))
        .cloned()
        .collect();
    unchanged.sort();
    assert_eq!(
        unchanged,
        [
            (
                "HEAD".to_string(),
                format!("/{bucket}/stac/{inventoried}.json")
            ),
            ("HEAD".to_string(), format!("/{bucket}/stac/{listed}.json")),
        ],
        "{seen:?}"
    );

    // A new version is described again; a single item (an ItemSelector's) too.
    let other = samples::cog(dir.path(), "other.tif", 128, true);
    aws.put_file(&bucket, listed, &other).await;
    let new_etag = etag(&s3, &S3Url::new(&bucket, listed)).await;
    assert_ne!(new_etag, listed_etag);
    let single = json!({"bucket": bucket, "Key": listed, "Etag": new_etag, "Size": 1});
    let resp = invoke(single, &deps).await.unwrap();
    assert_eq!(resp.records[0].status, Status::Processed, "{resp:?}");
    let item: Value = objects::get_json(&s3, &S3Url::new(&bucket, format!("stac/{listed}.json")))
        .await
        .unwrap();
    assert_eq!(item["properties"]["proj:shape"], json!([128, 128]));

    // A transient failure fails the batch, so that the map retries it.
    proxy.set_plan(FaultPlan {
        rate: 1.0,
        faults: vec![Fault::Status(500)],
        methods: vec!["PUT"],
        targets: vec!["inventory".to_string()],
        ..FaultPlan::none()
    });
    let item_url = S3Url::new(&bucket, format!("stac/{inventoried}.json"));
    s3.delete_object()
        .bucket(&item_url.bucket)
        .key(&item_url.key)
        .send()
        .await
        .unwrap();
    match invoke(batch, &deps).await {
        Err(HandlerError::Transient { failed, total, .. }) => assert_eq!((failed, total), (1, 4)),
        other => panic!("expected the batch to fail transiently, got {other:?}"),
    }
}
