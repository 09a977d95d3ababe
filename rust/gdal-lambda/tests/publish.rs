//! Items announced once written, through the real handler against moto: an
//! SNS topic with an SQS queue subscribed as stac-server's ingest subscribes
//! (the Item, or a reference to it when too large, with stac-server's
//! attributes), a Cirrus process queue whose payload cirrus-geo's own
//! released code (both pinned versions, `tests/cirrus/check_payload.py`)
//! validates and runs through its process function, and a publish that fails:
//! retried, the Item kept, and not skipped as current by a backfill's re-run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::handler::{aws, deps_of};
use common::s3_event;
use gdal_lambda::{Config, Deps, HandlerError, Response, Status};
use raster_info::samples;
use serde_json::{json, Value};
use stratus_aws::{objects, S3Url};

/// Pinned cirrus-geo versions, each with its environment under `.venvs/` (`just setup`).
const CIRRUS_GEO: [&str; 2] = ["1.3.2", "2.0.0"];
const CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cirrus/check_payload.py");

async fn deps(vars: &[(&str, String)]) -> Deps {
    let config =
        Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    // The clients the handler makes for its destinations read the environment, as in Lambda.
    deps_of(config, aws().s3().await)
}

async fn invoke(payload: Value, deps: &Deps) -> Response {
    common::handler::invoke(payload, deps).await.unwrap()
}

async fn sns() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&aws().sdk_config().await)
}

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&aws().sdk_config().await)
}

/// A queue: its URL and ARN.
async fn queue(name: &str) -> (String, String) {
    let sqs = sqs().await;
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    (url, arn)
}

/// A topic with a queue subscribed to it as stac-server's ingest queue is
/// (no raw delivery: each body is SNS's JSON envelope): (topic ARN, queue URL).
async fn topic_with_queue(name: &str) -> (String, String) {
    let topic = sns()
        .await
        .create_topic()
        .name(name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let (url, arn) = queue(&format!("{name}-ingest")).await;
    sns()
        .await
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .unwrap();
    (topic, url)
}

/// The messages waiting in the queue at `url` (received and deleted).
async fn drain(url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let sqs = sqs().await;
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            return out;
        }
        for m in &got {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        out.extend(got);
    }
}

async fn item_in_s3(url: &S3Url) -> Value {
    objects::get_json(&aws().s3().await, url).await.unwrap()
}

async fn item_metadata(url: &S3Url) -> std::collections::BTreeMap<String, String> {
    objects::head(&aws().s3().await, url)
        .await
        .unwrap()
        .metadata
}

/// `check_payload.py verb` under cirrus-geo `version`, given `input`.
fn cirrus_check(version: &str, verb: &str, input: &Value) -> Value {
    let out = local_aws::output_with_input(
        Command::new(local_aws::cirrus_geo_python(version))
            .arg(CHECK)
            .arg(verb)
            .envs(aws().env()),
        input.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "cirrus-geo {version} refused it:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The attributes of an SNS envelope as name → (type, value).
fn envelope_attributes(envelope: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = envelope["MessageAttributes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let s = |f: &str| v[f].as_str().unwrap().to_string();
            (k.clone(), s("Type"), s("Value"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn items_reach_stac_server_and_cirrus_once_written() {
    let aws = aws();
    let bucket = aws.new_bucket("publish").await;
    let tag = bucket.trim_start_matches("publish-").to_string();
    let (topic, ingest) = topic_with_queue(&format!("items-{tag}")).await;
    let (cirrus_url, cirrus_arn) = queue(&format!("cirrus-process-{tag}")).await;
    let dir = tempfile::tempdir().unwrap();
    let key = "scenes/dem 1.tif";
    let cog = samples::multiband_nodata(dir.path(), "scene.tif");
    let size = std::fs::metadata(&cog).unwrap().len();
    aws.put_file(&bucket, key, &cog).await;
    let deps = deps(&[
        ("OUTPUT_URL", format!("s3://{bucket}/stac/")),
        ("ITEM_TOPIC_ARN", topic.clone()),
        ("CIRRUS_PROCESS_QUEUE_URL", cirrus_url.clone()),
        ("CIRRUS_WORKFLOW", "cog-archive".into()),
        (
            "CIRRUS_UPLOAD_OPTIONS",
            r#"{"path_template": "/data/${id}", "public_assets": "ALL"}"#.into(),
        ),
    ])
    .await;
    let event = s3_event(&bucket, &[("ObjectCreated:Put", key, size)]);
    let resp = invoke(event.clone(), &deps).await;
    assert_eq!(resp.records[0].status, Status::Processed, "{resp:?}");
    let item_url = S3Url::new(&bucket, format!("stac/{key}.json"));
    let item = item_in_s3(&item_url).await;

    // SNS: the Item itself, in the envelope stac-server's ingest unwraps.
    let messages = drain(&ingest).await;
    assert_eq!(messages.len(), 1);
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    let published: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(published, item, "the message is the Item in S3");
    // The attributes subscriptions filter on, from the Item in S3.
    let bbox: Vec<f64> = serde_json::from_value(item["bbox"].clone()).unwrap();
    let datetime = item["properties"]["datetime"].as_str().unwrap();
    assert_eq!(datetime, "2023-07-01T12:00:00Z", "the file's own time");
    let number = |k: &str, v: String| (k.to_string(), "Number".to_string(), v);
    let string = |k: &str, v: &str| (k.to_string(), "String".to_string(), v.to_string());
    let instant = "2023-07-01T12:00:00.000Z";
    let ms = "1688212800000".to_string();
    let mut expected = vec![
        string("recordType", "Item"),
        number("bbox.sw_lon", bbox[0].to_string()),
        number("bbox.sw_lat", bbox[1].to_string()),
        number("bbox.ne_lon", bbox[2].to_string()),
        number("bbox.ne_lat", bbox[3].to_string()),
        string("datetime", datetime),
        string("start_datetime", instant),
        string("end_datetime", instant),
        number("start_unix_epoch_ms_offset", ms.clone()),
        number("end_unix_epoch_ms_offset", ms),
    ];
    expected.sort();
    assert_eq!(envelope_attributes(&envelope), expected);

    // Cirrus: a process payload of the Item, the configured workflow and upload options.
    let messages = drain(&cirrus_url).await;
    assert_eq!(messages.len(), 1);
    let body = messages[0].body().unwrap().to_string();
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["type"], "FeatureCollection");
    assert_eq!(payload["features"], json!([item]));
    assert_eq!(
        payload["process"],
        json!([{"workflow": "cog-archive",
                "upload_options": {"path_template": "/data/${id}", "public_assets": "ALL"}}])
    );
    std::fs::create_dir_all(docs_dir()).unwrap();
    std::fs::write(docs_dir().join("cirrus-payload.json"), &body).unwrap();
    std::fs::write(
        docs_dir().join("sns-envelope.json"),
        messages_body_pretty(&envelope),
    )
    .unwrap();

    // Both released cirrus-geo versions take it, and derive the same id
    // before the version part that keeps each object version apart.
    let id = payload["id"].as_str().unwrap();
    for version in CIRRUS_GEO {
        let checked = cirrus_check(version, "validate", &payload);
        assert_eq!(checked["cirrus_geo"], version);
        assert_eq!(checked["id"], id);
        let own = checked["own_id"].as_str().unwrap();
        assert_eq!(
            own,
            format!("none/workflow-cog-archive/{}", item["id"].as_str().unwrap())
        );
        assert!(id.starts_with(&format!("{own}/")), "{id} vs {own}");
    }
    // And its process function starts one workflow for it, however often it comes.
    let message = json!({"MessageId": messages[0].message_id(), "ReceiptHandle": messages[0].receipt_handle(),
                         "Body": body});
    for version in CIRRUS_GEO {
        let run = cirrus_check(
            version,
            "process",
            &json!({"message": message, "queue_arn": cirrus_arn}),
        );
        assert_eq!(run["started"], json!([1, 0]), "cirrus-geo {version}: {run}");
        assert_eq!(run["executions"], 1, "cirrus-geo {version}: {run}");
        assert_eq!(run["state"], "PROCESSING", "cirrus-geo {version}: {run}");
    }

    // The same object version again: the same payload id, so Cirrus runs it once.
    let again = invoke(event.clone(), &deps).await;
    assert_eq!(again.records[0].status, Status::Processed);
    let repeat: Value = serde_json::from_str(drain(&cirrus_url).await[0].body().unwrap()).unwrap();
    assert_eq!(repeat["id"], id);
    assert_eq!(drain(&ingest).await.len(), 1);
    // A new version: a new payload.
    let other = samples::cog(dir.path(), "other.tif", 64, true);
    aws.put_file(&bucket, key, &other).await;
    invoke(event, &deps).await;
    let next: Value = serde_json::from_str(drain(&cirrus_url).await[0].body().unwrap()).unwrap();
    assert_ne!(next["id"], id);
    assert_eq!(next["features"][0], item_in_s3(&item_url).await);
    assert_eq!(drain(&ingest).await.len(), 1);
}

/// Where the test leaves the messages it saw, for docs/destinations.
fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("publish")
}

fn messages_body_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// A GeoTIFF whose Item is larger than an SNS message: `bands` bands, each
/// with a long description (which the Item lists).
fn wide_raster(dir: &Path, bands: usize) -> PathBuf {
    let vrt = dir.join("wide.vrt");
    let mut xml = String::from(
        "<VRTDataset rasterXSize=\"2\" rasterYSize=\"2\"><SRS>EPSG:4326</SRS>\
         <GeoTransform>10, 0.5, 0, 50, 0, -0.5</GeoTransform>",
    );
    for b in 1..=bands {
        xml.push_str(&format!(
            "<VRTRasterBand dataType=\"Byte\" band=\"{b}\"><Description>band {b} {}</Description></VRTRasterBand>",
            "x".repeat(200)
        ));
    }
    xml.push_str("</VRTDataset>");
    std::fs::write(&vrt, xml).unwrap();
    let out = dir.join("wide.tif");
    local_aws::checked_output(
        samples::system_tool("gdal_translate")
            .args(["-q", "-of", "GTiff", "-co", "INTERLEAVE=BAND"])
            .arg(&vrt)
            .arg(&out),
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_too_large_for_a_message_goes_by_reference() {
    let aws = aws();
    let bucket = aws.new_bucket("publish-large").await;
    let tag = bucket.trim_start_matches("publish-large-").to_string();
    let (topic, ingest) = topic_with_queue(&format!("large-{tag}")).await;
    let (cirrus_url, cirrus_arn) = queue(&format!("large-cirrus-{tag}")).await;
    let payloads = aws.new_bucket("cirrus-payloads").await;
    let dir = tempfile::tempdir().unwrap();
    let raster = wide_raster(dir.path(), 1200);
    let size = std::fs::metadata(&raster).unwrap().len();
    let key = "wide/hyperspectral.tif";
    aws.put_file(&bucket, key, &raster).await;
    let deps = deps(&[
        ("OUTPUT_URL", format!("s3://{bucket}/stac/")),
        ("ITEM_TOPIC_ARN", topic),
        ("CIRRUS_PROCESS_QUEUE_URL", cirrus_url.clone()),
        ("CIRRUS_WORKFLOW", "cog-archive".into()),
        ("CIRRUS_PAYLOAD_URL", format!("s3://{payloads}/stratus/")),
    ])
    .await;
    let resp = invoke(
        s3_event(&bucket, &[("ObjectCreated:Put", key, size)]),
        &deps,
    )
    .await;
    assert_eq!(resp.records[0].status, Status::Processed, "{resp:?}");
    let item_url = S3Url::new(&bucket, format!("stac/{key}.json"));
    let item = item_in_s3(&item_url).await;
    assert!(
        item.to_string().len() > 256 * 1024,
        "the Item must pass SNS's limit"
    );
    let messages = drain(&ingest).await;
    assert_eq!(messages.len(), 1);
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    let reference: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(reference, json!({"href": item_url.to_string()}));
    std::fs::create_dir_all(docs_dir()).unwrap();
    std::fs::write(
        docs_dir().join("sns-reference.json"),
        messages_body_pretty(&envelope),
    )
    .unwrap();
    // What the ingest does with it: fetch the object the href names.
    let href = reference["href"].as_str().unwrap();
    assert_eq!(item_in_s3(&S3Url::parse(href).unwrap()).await, item);
    // Attributes are the same as for an Item sent whole.
    let attributes = envelope_attributes(&envelope);
    assert!(attributes.contains(&("bbox.sw_lon".into(), "Number".into(), "10".into())));

    // Cirrus: the payload, too large for SQS, is put in S3 and sent as {"url"}.
    let messages = drain(&cirrus_url).await;
    assert_eq!(messages.len(), 1);
    let body = messages[0].body().unwrap().to_string();
    let reference: Value = serde_json::from_str(&body).unwrap();
    let url = reference["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("s3://{payloads}/stratus/")),
        "{url}"
    );
    assert_eq!(reference.as_object().unwrap().len(), 1, "{reference}");
    let payload = item_in_s3(&S3Url::parse(url).unwrap()).await;
    assert_eq!(payload["features"], json!([item]));
    let message = json!({"MessageId": messages[0].message_id(), "ReceiptHandle": messages[0].receipt_handle(),
                         "Body": body});
    for version in CIRRUS_GEO {
        assert_eq!(
            cirrus_check(version, "validate", &payload)["id"],
            payload["id"]
        );
        let run = cirrus_check(
            version,
            "process",
            &json!({"message": message, "queue_arn": cirrus_arn}),
        );
        assert_eq!(run["started"], json!([1, 0]), "cirrus-geo {version}: {run}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_publish_is_retried_and_not_skipped_by_a_rerun() {
    let aws = aws();
    let bucket = aws.new_bucket("publish-fail").await;
    let tag = bucket.trim_start_matches("publish-fail-").to_string();
    let dir = tempfile::tempdir().unwrap();
    let cog = samples::cog(dir.path(), "cog.tif", 128, true);
    let key = "late/topic.tif";
    aws.put_file(&bucket, key, &cog).await;
    // The topic does not exist (yet).
    let name = format!("missing-{tag}");
    let topic = format!(
        "arn:aws:sns:{}:{}:{name}",
        local_aws::REGION,
        local_aws::ACCOUNT_ID
    );
    let deps = deps(&[
        ("OUTPUT_URL", format!("s3://{bucket}/stac/")),
        ("ITEM_TOPIC_ARN", topic.clone()),
        ("REPORT_BATCH_ITEM_FAILURES", "true".into()),
    ])
    .await;
    let etag = objects::head(&aws.s3().await, &S3Url::new(&bucket, key))
        .await
        .unwrap()
        .etag
        .unwrap();
    // An upload's event, through SQS: the record is to be retried, and says why.
    let upload =
        common::sqs_event(&[s3_event(&bucket, &[("ObjectCreated:Put", key, 1)]).to_string()]);
    let resp = invoke(upload, &deps).await;
    let record = &resp.records[0];
    assert_eq!(record.status, Status::Retry, "{resp:?}");
    assert_eq!(
        serde_json::to_value(&resp).unwrap()["batchItemFailures"],
        json!([{"itemIdentifier": "msg-0"}])
    );
    assert_eq!(
        serde_json::to_value(record).unwrap()["error_kind"],
        "NotPublished"
    );
    assert!(
        record.message.as_deref().unwrap().contains(&name),
        "{record:?}"
    );
    // A backfill's item (a Distributed Map listing, with its ETag) fails its batch the same way.
    let item_event = json!({"bucket": bucket, "Key": key, "Etag": etag, "Size": 1});
    match common::handler::invoke(item_event.clone(), &deps).await {
        Err(HandlerError::Transient { first, .. }) => assert!(first.contains(&name), "{first}"),
        other => panic!("expected a transient failure, got {other:?}"),
    }
    // The Item was written, but is not marked as published.
    let item_url = S3Url::new(&bucket, format!("stac/{key}.json"));
    let item = item_in_s3(&item_url).await;
    let metadata = item_metadata(&item_url).await;
    assert!(metadata.contains_key("source-etag"), "{metadata:?}");
    assert!(!metadata.contains_key("stratus-published"), "{metadata:?}");

    // The topic is fixed; the backfill's retry finds the Item unmarked, so it
    // is processed again (not "unchanged") and announced.
    let created = sns().await.create_topic().name(&name).send().await.unwrap();
    assert_eq!(created.topic_arn.unwrap(), topic);
    let (queue_url, queue_arn) = queue(&format!("{name}-ingest")).await;
    sns()
        .await
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    let resp = invoke(item_event.clone(), &deps).await;
    assert_eq!(resp.records[0].status, Status::Processed, "{resp:?}");
    let messages = drain(&queue_url).await;
    assert_eq!(messages.len(), 1);
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    let published: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(published["id"], item["id"]);
    assert_eq!(published, item_in_s3(&item_url).await);
    assert!(item_metadata(&item_url)
        .await
        .contains_key("stratus-published"));

    // Published: a further re-run leaves it alone, and sends nothing.
    let resp = invoke(item_event, &deps).await;
    assert_eq!(resp.records[0].status, Status::Unchanged, "{resp:?}");
    assert!(drain(&queue_url).await.is_empty());
}
