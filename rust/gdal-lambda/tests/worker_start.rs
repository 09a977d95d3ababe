//! A worker that ends before it reports in is seen at once, with its last
//! words, not waited for until its start timeout. Its own test binary: the
//! hook that makes the worker exit is a process-wide variable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::handler::{aws, config, deps_of, invoke};
use gdal_lambda::HandlerError;
use raster_info::samples;

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_exits_before_reporting_is_seen_at_once() {
    let aws = aws();
    std::env::set_var("STRATUS_WORKER_TEST_HOOKS", "exit-at-start");
    let bucket = aws.new_bucket("nostart").await;
    let dir = tempfile::tempdir().unwrap();
    aws.put_file(
        &bucket,
        "cog.tif",
        &samples::cog(dir.path(), "cog.tif", 256, true),
    )
    .await;
    let output = format!("s3://{bucket}/stac/");
    let deps = deps_of(
        config(&output, &[("WORKER_START_SECONDS", "600")]),
        aws.s3().await,
    );
    let event = common::s3_event(&bucket, &[("ObjectCreated:Put", "cog.tif", 1)]);
    let started = Instant::now();
    match invoke(event, &deps).await {
        Err(HandlerError::Transient { first, .. }) => {
            assert!(first.contains("did not start"), "{first}");
            assert!(!first.contains("no report in time"), "{first}");
            assert!(first.contains("test hook"), "its last words: {first}");
            assert!(first.contains("it ended: exit status: 1"), "{first}");
        }
        other => panic!("{other:?}"),
    }
    // Far inside the 600 s it was given: its end was noticed, not waited out.
    assert!(started.elapsed() < Duration::from_secs(300));
}
