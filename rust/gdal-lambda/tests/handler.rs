//! The handler against moto S3, with events shaped like AWS's documented samples.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_sdk_s3::primitives::ByteStream;
use common::s3_event;
use gdal_lambda::{handle, Config, Deps, FailureKind, HandlerError, Response, Status};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{Fault, FaultPlan, FaultProxy, LocalAws};
use raster_info::samples;
use serde_json::{json, Value};
use stratus_aws::{objects, S3Url};

struct Rasters {
    _dir: tempfile::TempDir,
    cog: PathBuf,
    png: PathBuf,
    multi: PathBuf,
    /// Overviews added afterwards: its IFDs lie past the first read.
    late: PathBuf,
}

fn rasters() -> &'static Rasters {
    static R: OnceLock<Rasters> = OnceLock::new();
    R.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_path_buf();
        Rasters {
            cog: samples::cog(&p, "cog.tif", 1024, true),
            png: samples::png_without_crs(&p, "plain.png"),
            multi: samples::multiband_nodata(&p, "multi.tif"),
            late: samples::late_overviews(&p, "late.tif"),
            _dir: dir,
        }
    })
}

/// moto, with GDAL and the SDK pointed at it (before any GDAL use).
fn aws() -> &'static LocalAws {
    let aws = LocalAws::shared();
    aws.export_env();
    aws
}

async fn deps(output: &str) -> Deps {
    let config = Config::from_lookup(|k| (k == "OUTPUT_URL").then(|| output.to_string())).unwrap();
    Deps::new(config, aws().s3().await, common::function_binary())
}

async fn upload(bucket: &str, key: &str, body: Vec<u8>) -> u64 {
    let len = body.len() as u64;
    aws()
        .s3()
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
    len
}

async fn invoke(payload: Value, deps: &Deps) -> Result<Response, HandlerError> {
    handle(LambdaEvent::new(payload, Context::default()), deps).await
}

#[tokio::test(flavor = "multi_thread")]
async fn rasters_with_odd_keys_get_items_and_bad_input_does_not_fail_the_invocation() {
    let aws = aws();
    let bucket = aws.new_bucket("in").await;
    let out_bucket = aws.new_bucket("out").await;
    let deps = deps(&format!("s3://{out_bucket}/stac/")).await;
    let r = rasters();

    let cog_key = "scenes/my scene+1 %2B é 日本.tif";
    let png_key = "plain/picture.png";
    let multi_key = "multi/4 bands.tif";
    let cog_size = upload(&bucket, cog_key, std::fs::read(&r.cog).unwrap()).await;
    let png_size = upload(&bucket, png_key, std::fs::read(&r.png).unwrap()).await;
    let multi_size = upload(&bucket, multi_key, std::fs::read(&r.multi).unwrap()).await;
    let corrupt_size = upload(&bucket, "bad/corrupt.tif", samples::corrupt_tiff()).await;
    upload(&bucket, "bad/empty.tif", vec![]).await;
    let text_size = upload(&bucket, "bad/readme.txt", b"hello, not a raster".to_vec()).await;

    let event = s3_event(
        &bucket,
        &[
            ("ObjectCreated:Put", cog_key, cog_size),
            ("ObjectCreated:CompleteMultipartUpload", png_key, png_size),
            ("ObjectCreated:Copy", multi_key, multi_size),
            ("ObjectCreated:Put", "bad/corrupt.tif", corrupt_size),
            ("ObjectCreated:Put", "bad/empty.tif", 0),
            ("ObjectCreated:Put", "bad/readme.txt", text_size),
            (
                "ObjectCreated:Put",
                "bad/deleted before processing.tif",
                5000,
            ),
            ("ObjectRemoved:Delete", "scenes/old.tif", 0),
        ],
    );
    let resp = invoke(event, &deps)
        .await
        .expect("bad input must not fail the invocation");
    let got: Vec<(&str, Status, Option<&str>)> = resp
        .records
        .iter()
        .map(|o| {
            (
                o.key.as_str(),
                o.status,
                o.error_kind.map(FailureKind::name),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (cog_key, Status::Processed, None),
            (png_key, Status::Processed, None),
            (multi_key, Status::Processed, None),
            ("bad/corrupt.tif", Status::Failed, Some("CorruptRaster")),
            ("bad/empty.tif", Status::Failed, Some("EmptyObject")),
            ("bad/readme.txt", Status::Failed, Some("NotARaster")),
            (
                "bad/deleted before processing.tif",
                Status::Failed,
                Some("NotFound")
            ),
            ("scenes/old.tif", Status::Skipped, None),
        ]
    );

    let s3 = aws.s3().await;
    let item_url = S3Url::new(&out_bucket, format!("stac/{cog_key}.json"));
    assert_eq!(
        resp.records[0].item_url.as_deref(),
        Some(item_url.to_string().as_str())
    );
    let item: Value = objects::get_json(&s3, &item_url).await.unwrap();
    samples::assert_valid_stac(&item);
    // The file name without extension and the key's SHA-256 (docs/gdal-lambda.md), by sha256sum.
    assert_eq!(
        item["id"],
        format!("my scene+1 %2B é 日本-{}", sha256sum_16(cog_key))
    );
    assert_eq!(
        item["assets"]["data"]["href"],
        format!("s3://{bucket}/{cog_key}")
    );
    assert_eq!(item["properties"]["proj:code"], "EPSG:32633");
    for key in [png_key, multi_key] {
        let item: Value =
            objects::get_json(&s3, &S3Url::new(&out_bucket, format!("stac/{key}.json")))
                .await
                .unwrap();
        samples::assert_valid_stac(&item);
    }
    let png_item: Value = objects::get_json(
        &s3,
        &S3Url::new(&out_bucket, format!("stac/{png_key}.json")),
    )
    .await
    .unwrap();
    assert!(png_item["geometry"].is_null());
    assert_eq!(
        png_item["properties"]["datetime"], "2024-05-06T07:08:09.123Z",
        "event time for undated files"
    );
    // No Item for what failed or was skipped.
    let listed = s3
        .list_objects_v2()
        .bucket(&out_bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_are_never_processed_and_test_events_are_acknowledged() {
    let aws = aws();
    let bucket = aws.new_bucket("same").await;
    let deps = deps(&format!("s3://{bucket}/stac")).await;
    let key = "stac/scenes/x.tif.json";
    let size = upload(&bucket, key, b"{}".to_vec()).await;
    let resp = invoke(
        s3_event(&bucket, &[("ObjectCreated:Put", key, size)]),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(resp.records[0].status, Status::Skipped);
    assert!(resp.records[0]
        .message
        .as_deref()
        .unwrap()
        .contains("output location"));

    let test_event: Value =
        serde_json::from_str(include_str!("fixtures/s3-test-event.json")).unwrap();
    let resp = invoke(test_event, &deps).await.unwrap();
    assert!(resp.records.is_empty());

    let err = invoke(json!({"hello": "world"}), &deps).await.unwrap_err();
    assert!(matches!(err, HandlerError::InvalidPayload(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_invocation_with_urls() {
    let aws = aws();
    let bucket = aws.new_bucket("direct").await;
    let out_bucket = aws.new_bucket("direct-out").await;
    let deps = deps(&format!("s3://{out_bucket}/items/")).await;
    upload(&bucket, "a.tif", std::fs::read(&rasters().cog).unwrap()).await;
    let one = invoke(json!({"url": format!("s3://{bucket}/a.tif")}), &deps)
        .await
        .unwrap();
    assert_eq!(one.records[0].status, Status::Processed);
    let item: Value = objects::get_json(
        &aws.s3().await,
        &S3Url::new(&out_bucket, "items/a.tif.json"),
    )
    .await
    .unwrap();
    samples::assert_valid_stac(&item);
    // The object's last-modified time is not used: the COG carries TIFFTAG_DATETIME.
    assert_eq!(item["properties"]["datetime"], "2024-03-05T10:11:12Z");
    assert_eq!(
        item["properties"]["stratus:datetime_source"],
        "metadata:TIFFTAG_DATETIME"
    );
    let many = invoke(
        json!({"urls": [format!("https://{bucket}.s3.amazonaws.com/a.tif"), format!("s3://{bucket}/missing.tif")]}),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(many.records[0].status, Status::Processed);
    assert_eq!(
        (
            many.records[1].status,
            many.records[1].error_kind.map(FailureKind::name)
        ),
        (Status::Failed, Some("NotFound"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn item_writes_that_fail_are_retried_whatever_s3_says() {
    let aws = aws();
    let bucket = aws.new_bucket("writes").await;
    upload(&bucket, "a.tif", std::fs::read(&rasters().late).unwrap()).await;
    let event = s3_event(&bucket, &[("ObjectCreated:Put", "a.tif", 10)]);
    let item = S3Url::new(&bucket, "stac/a.tif.json");
    let s3 = aws.s3().await;

    // A PUT of the Item dropped or refused, as a network, S3, an IAM policy without
    // s3:PutObject or a disabled KMS key refuse it: the fault is the deployment's (or
    // S3's), not the upload's, so the invocation fails and Lambda tries it again; once
    // the deployment is fixed, the same event gives its Item.
    let proxy = FaultProxy::start(aws.port());
    let through = local_aws::s3_client(
        &proxy.endpoint(),
        Some(stratus_aws::config::retry_config().with_max_attempts(2)),
    )
    .await;
    let config =
        Config::from_lookup(|k| (k == "OUTPUT_URL").then(|| format!("s3://{bucket}/stac/")))
            .unwrap();
    let faulty = Deps::new(config, through, common::function_binary());
    for fault in [
        Fault::Reset,
        Fault::Status(500),
        Fault::Error(403, "AccessDenied"),
        Fault::Error(400, "KMS.DisabledException"),
        Fault::Error(403, "KMS.KMSInvalidStateException"),
    ] {
        proxy.set_plan(FaultPlan {
            rate: 1.0,
            faults: vec![fault],
            methods: vec!["PUT"],
            ..FaultPlan::none()
        });
        match invoke(event.clone(), &faulty).await.unwrap_err() {
            HandlerError::Transient { failed, total, .. } => {
                assert_eq!((failed, total), (1, 1), "{fault:?}")
            }
            other => panic!("{fault:?}: expected a transient failure, got {other}"),
        }
        assert!(objects::head(&s3, &item).await.is_err(), "{fault:?}");
    }
    // Fixed: the event delivered again gives its Item.
    proxy.set_plan(FaultPlan::none());
    let resp = invoke(event.clone(), &faulty).await.unwrap();
    assert_eq!(resp.records[0].status, Status::Processed);
    assert!(objects::head(&s3, &item).await.is_ok());
    // Every read after the first was pinned to the version read first, with S3's
    // entity-tag exactly as S3 returned it, quotes included.
    let pinned: Vec<_> = proxy
        .take_seen()
        .into_iter()
        .filter_map(|r| r.if_match)
        .collect();
    assert!(!pinned.is_empty());
    assert!(
        pinned
            .iter()
            .all(|t| t.len() > 2 && t.starts_with('"') && t.ends_with('"')),
        "{pinned:?}"
    );

    // An output bucket that does not exist: retried too (a deployment to fix), never a
    // record lost as "failed".
    let missing = deps("s3://no-such-output-bucket/stac/").await;
    match invoke(event, &missing).await.unwrap_err() {
        HandlerError::Transient { first, .. } => {
            assert!(first.contains("no-such-output-bucket"), "{first}")
        }
        other => panic!("expected a transient failure, got {other}"),
    }
}

/// The first 16 hex digits of `text`'s SHA-256, as coreutils' sha256sum gives them.
fn sha256sum_16(text: &str) -> String {
    let out = local_aws::output_with_input(
        &mut std::process::Command::new("sha256sum"),
        text.as_bytes(),
    );
    String::from_utf8(out.stdout).unwrap()[..16].to_string()
}

/// `sha256sum`'s digest of a file, as the file extension's multihash.
fn sha256_multihash(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    let hex = String::from_utf8_lossy(&out.stdout);
    format!("1220{}", hex.split_whitespace().next().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn items_carry_the_size_and_only_a_whole_object_sha256() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
    let aws = aws();
    let bucket = aws.new_bucket("sums").await;
    let deps = deps(&format!("s3://{bucket}/stac/")).await;
    let s3 = aws.s3().await;
    let dir = tempfile::tempdir().unwrap();
    let cog = &rasters().cog;
    let bytes = std::fs::read(cog).unwrap();
    // One PUT with a SHA-256 checksum; one without.
    s3.put_object()
        .bucket(&bucket)
        .key("sha256.tif")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .unwrap();
    upload(&bucket, "plain.tif", bytes.clone()).await;
    // A multipart upload with SHA-256 checksums: S3 keeps a checksum of the parts' checksums.
    let big = samples::cog(dir.path(), "big.tif", 2400, false);
    let big_bytes = std::fs::read(&big).unwrap();
    let split = 5 * 1024 * 1024;
    let up = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("multipart.tif")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();
    let mut parts = Vec::new();
    for (n, chunk) in [&big_bytes[..split], &big_bytes[split..]]
        .iter()
        .enumerate()
    {
        let part = s3
            .upload_part()
            .bucket(&bucket)
            .key("multipart.tif")
            .upload_id(up.upload_id().unwrap())
            .part_number(n as i32 + 1)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n as i32 + 1)
                .set_e_tag(part.e_tag().map(str::to_string))
                .set_checksum_sha256(part.checksum_sha256().map(str::to_string))
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(&bucket)
        .key("multipart.tif")
        .upload_id(up.upload_id().unwrap())
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let keys = ["sha256.tif", "plain.tif", "multipart.tif"];
    let urls: Vec<String> = keys.iter().map(|k| format!("s3://{bucket}/{k}")).collect();
    let resp = invoke(json!({ "urls": urls }), &deps).await.unwrap();
    assert!(
        resp.records.iter().all(|r| r.status == Status::Processed),
        "{:?}",
        resp.records
    );
    let mut items = Vec::new();
    for key in keys {
        let item: Value = objects::get_json(&s3, &S3Url::new(&bucket, format!("stac/{key}.json")))
            .await
            .unwrap();
        assert!(
            item["stac_extensions"]
                .as_array()
                .unwrap()
                .contains(&json!(raster_info::stac::FILE)),
            "{key}"
        );
        items.push(item);
    }
    let asset = |i: usize| &items[i]["assets"]["data"];
    assert_eq!(asset(0)["file:size"], bytes.len() as u64);
    assert_eq!(asset(0)["file:checksum"], sha256_multihash(cog));
    assert_eq!(asset(1)["file:size"], bytes.len() as u64);
    assert!(asset(1).get("file:checksum").is_none(), "{}", asset(1));
    assert_eq!(asset(2)["file:size"], big_bytes.len() as u64);
    assert!(asset(2).get("file:checksum").is_none(), "{}", asset(2));
    samples::assert_valid_stac_items(&items);
}
