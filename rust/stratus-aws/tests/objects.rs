//! S3 object helpers against moto and against a deliberately flaky server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use local_aws::LocalAws;
use serde_json::{json, Value};
use stratus_aws::{config, objects, S3Url};

async fn client(aws: &LocalAws) -> aws_sdk_s3::Client {
    local_aws::s3_client(&aws.endpoint(), Some(config::retry_config())).await
}

#[tokio::test]
async fn json_round_trip_plain_and_gzip() {
    let aws = LocalAws::shared();
    let s3 = client(aws).await;
    let bucket = aws.new_bucket("objects").await;
    let doc = json!({"type": "FeatureCollection", "features": [], "process": {"workflow": "x"}});
    for key in ["p/payload.json", "p/payload é+.json.gz"] {
        let url = S3Url::new(&bucket, key);
        objects::put_json(&s3, &url, &doc).await.unwrap();
        let back: Value = objects::get_json(&s3, &url).await.unwrap();
        assert_eq!(back, doc, "{key}");
        let head = objects::head(&s3, &url).await.unwrap();
        assert!(head.size > 0);
        assert!(head.last_modified.is_some());
    }
    // The .gz object really is gzip on S3.
    let raw = objects::get_bytes(&s3, &S3Url::new(&bucket, "p/payload é+.json.gz"))
        .await
        .unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b]);
}

#[tokio::test]
async fn metadata_written_with_json_is_read_back_by_head() {
    let aws = LocalAws::shared();
    let s3 = client(aws).await;
    let bucket = aws.new_bucket("metadata").await;
    let url = S3Url::new(&bucket, "items/a b.json");
    objects::put_json_with_metadata(&s3, &url, &json!({"id": 1}), &[("source-etag", "\"abc\"")])
        .await
        .unwrap();
    let head = objects::head(&s3, &url).await.unwrap();
    assert_eq!(
        head.metadata.get("source-etag").map(String::as_str),
        Some("\"abc\"")
    );
    assert_eq!(head.metadata.len(), 1, "{:?}", head.metadata);
    let plain = S3Url::new(&bucket, "items/plain.json");
    objects::put_json(&s3, &plain, &json!({})).await.unwrap();
    assert!(objects::head(&s3, &plain)
        .await
        .unwrap()
        .metadata
        .is_empty());
}

#[tokio::test]
async fn missing_objects_and_bad_content_are_classified() {
    let aws = LocalAws::shared();
    let s3 = client(aws).await;
    let bucket = aws.new_bucket("errors").await;
    let missing = S3Url::new(&bucket, "nope.json");
    let err = objects::get_json::<Value>(&s3, &missing).await.unwrap_err();
    assert_eq!(err.kind(), "NotFound", "{err}");
    assert!(!err.is_transient());
    let err = objects::head(&s3, &missing).await.unwrap_err();
    assert_eq!(err.kind(), "NotFound", "{err}");
    let err = objects::get_json::<Value>(&s3, &S3Url::new("no-such-bucket-x", "k"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "NotFound", "{err}");

    let text = S3Url::new(&bucket, "not-json.json");
    objects::put_bytes(&s3, &text, b"hello".to_vec(), "text/plain")
        .await
        .unwrap();
    let err = objects::get_json::<Value>(&s3, &text).await.unwrap_err();
    assert_eq!(err.kind(), "InvalidJson", "{err}");

    let fake_gz = S3Url::new(&bucket, "fake.json.gz");
    objects::put_bytes(&s3, &fake_gz, b"{}".to_vec(), "application/gzip")
        .await
        .unwrap();
    let err = objects::get_json::<Value>(&s3, &fake_gz).await.unwrap_err();
    assert_eq!(err.kind(), "InvalidGzip", "{err}");
}

#[tokio::test]
async fn a_streamed_object_arrives_whole_and_its_errors_are_classified() {
    let aws = LocalAws::shared();
    let s3 = client(aws).await;
    let bucket = aws.new_bucket("stream").await;
    let url = S3Url::new(&bucket, "code/function.zip");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    objects::put_bytes(&s3, &url, data.clone(), "application/zip")
        .await
        .unwrap();
    let mut stream = objects::get_stream(&s3, &url).await.unwrap();
    let (mut got, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = stream.next_chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert_eq!(got, data);
    assert!(chunks > 1, "{chunks} chunk");
    let missing = S3Url::new(&bucket, "code/missing.zip");
    let err = objects::get_stream(&s3, &missing).await.unwrap_err();
    assert_eq!(err.kind(), "NotFound", "{err}");
}

/// A loopback server answering the n-th request (0-based) with `answer(n)`,
/// an HTTP response without its `Content-Length` and final blank line.
fn server(answer: impl Fn(usize) -> (String, String) + Send + 'static) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut conn = conn.unwrap();
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            let (head, body) = answer(h.fetch_add(1, Ordering::SeqCst));
            let resp = format!(
                "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(resp.as_bytes());
        }
    });
    (port, hits)
}

/// An S3 error answer.
fn s3_error(status: u16, code: &str) -> (String, String) {
    (
        format!("HTTP/1.1 {status} {code}\r\nContent-Type: application/xml"),
        format!("<Error><Code>{code}</Code><Message>{code}</Message></Error>"),
    )
}

/// 503 SlowDown `failures` times, then 200 with `body`.
fn flaky_server(failures: usize, body: &'static str) -> (u16, Arc<AtomicUsize>) {
    server(move |n| {
        if n < failures {
            s3_error(503, "SlowDown")
        } else {
            (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json".into(),
                body.into(),
            )
        }
    })
}

async fn client_for(port: u16) -> aws_sdk_s3::Client {
    local_aws::s3_client(
        &format!("http://127.0.0.1:{port}"),
        Some(config::retry_config()),
    )
    .await
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    let (port, hits) = flaky_server(2, r#"{"ok":true}"#);
    let s3 = client_for(port).await;
    let v: Value = objects::get_json(&s3, &S3Url::new("bucket", "k.json"))
        .await
        .unwrap();
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(hits.load(Ordering::SeqCst), 3, "two 503s then a success");
}

#[tokio::test]
async fn persistent_5xx_is_transient_after_all_attempts() {
    let (port, hits) = flaky_server(usize::MAX, "");
    let s3 = client_for(port).await;
    let err = objects::get_json::<Value>(&s3, &S3Url::new("bucket", "k.json"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), config::MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn write_errors_known_to_repeat_are_permanent_the_rest_transient() {
    let cases = [
        (400, "KeyTooLongError", false),
        (403, "AccessDenied", false),
        (404, "NoSuchBucket", false),
        (400, "InvalidArgument", false),
        (400, "RequestTimeout", true),
        (400, "ExpiredToken", true),
        (409, "OperationAborted", true),
        (412, "PreconditionFailed", true),
        (429, "TooManyRequests", true),
        (500, "InternalError", true),
        (503, "SlowDown", true),
        (400, "KMS.ThrottlingException", true),
    ];
    for (status, code, transient) in cases {
        let (port, hits) = server(move |_| s3_error(status, code));
        let s3 = client_for(port).await;
        let err = objects::put_json(&s3, &S3Url::new("bucket", "stac/k.json"), &json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.is_transient(), transient, "{status} {code}: {err}");
        // What is known to repeat is not tried again (the SDK's own retries
        // of transient ones depend on the code: ExpiredToken waits for new credentials).
        if !transient {
            assert_eq!(hits.load(Ordering::SeqCst), 1, "{code} was retried");
        }
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept, read, say nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let s3 = local_aws::s3_client_with(
        &format!("http://127.0.0.1:{port}"),
        Some(config::retry_config().with_max_attempts(2)),
        Some(
            aws_config::timeout::TimeoutConfig::builder()
                .read_timeout(std::time::Duration::from_millis(300))
                .build(),
        ),
    )
    .await;
    let err = objects::put_json(&s3, &S3Url::new("bucket", "k.json"), &json!({}))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    // And the timeouts gdal-lambda uses are set.
    let t = config::request_timeouts();
    assert!(t.connect_timeout().is_some() && t.read_timeout().is_some());
}

#[tokio::test]
async fn ranged_reads_pin_the_version_and_know_empty_objects() {
    let aws = LocalAws::shared();
    let s3 = client(aws).await;
    let bucket = aws.new_bucket("ranges").await;
    let url = S3Url::new(&bucket, "a/../b c+d.bin");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    objects::put_bytes(&s3, &url, data.clone(), "application/octet-stream")
        .await
        .unwrap();
    let first = objects::get_range(&s3, &url, 0, 32768, None).await.unwrap();
    assert_eq!(&first.bytes[..], &data[..32768]);
    assert_eq!(first.object_size, 100_000);
    let etag = first.etag.clone().unwrap();
    // If-Match carries the entity-tag as S3 gave it, quotes and all (RFC 9110).
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    assert!(first.last_modified.is_some());
    let tail = objects::get_range(&s3, &url, 99_000, 16384, Some(&etag))
        .await
        .unwrap();
    assert_eq!(&tail.bytes[..], &data[99_000..]);
    // The object changed under us: transient, so the record is tried again.
    let err = objects::get_range(&s3, &url, 0, 10, Some("\"0123456789abcdef\""))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    // The key is data: "a/../b c+d.bin" is its own object, not "b c+d.bin".
    let err = objects::get_range(&s3, &S3Url::new(&bucket, "b c+d.bin"), 0, 10, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "NotFound", "{err}");

    let empty = S3Url::new(&bucket, "empty.tif");
    objects::put_bytes(&s3, &empty, vec![], "image/tiff")
        .await
        .unwrap();
    let read = objects::get_range(&s3, &empty, 0, 32768, None)
        .await
        .unwrap();
    assert_eq!((read.object_size, read.bytes.len()), (0, 0));
}
