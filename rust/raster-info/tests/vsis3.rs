//! Reading rasters on S3 (moto) through /vsis3/: header only, whatever the size.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

use local_aws::{CountingProxy, LocalAws};
use raster_info::{read_info, samples, ErrorKind, Source};
use stratus_aws::S3Url;

/// Largest first read GDAL makes (`GDAL_INGESTED_BYTES_AT_OPEN`) plus room for HTTP headers.
const MAX_BYTES: u64 = 32 * 1024 + 2048;

#[tokio::test(flavor = "multi_thread")]
async fn large_cog_costs_one_small_ranged_get() {
    let aws = LocalAws::shared();
    let proxy = CountingProxy::start(aws.port());
    // GDAL reaches S3 only through the proxy, so every request is counted.
    std::env::set_var("AWS_S3_ENDPOINT", proxy.host_port());
    for (k, v) in aws
        .env()
        .into_iter()
        .filter(|(k, _)| k != "AWS_S3_ENDPOINT")
    {
        std::env::set_var(k, v);
    }

    let dir = tempfile::tempdir().unwrap();
    let path = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || samples::cog(&d, "big.tif", 10240, false)
    })
    .await
    .unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size >= 100 * 1024 * 1024, "sample is {size} bytes");

    let bucket = aws.new_bucket("vsis3").await;
    let key = "scenes/big scene+1.tif";
    aws.put_file(&bucket, key, &path).await;

    proxy.reset();
    let url = S3Url::new(&bucket, key);
    let info = tokio::task::spawn_blocking(move || read_info(&Source::S3(url)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.width, info.height), (10240, 10240));
    assert!(info.cog.as_ref().unwrap().valid, "{:?}", info.cog);
    assert_eq!(info.bands[0].overviews.len(), 5);

    let traffic = proxy.traffic();
    assert_eq!(
        traffic.requests.len(),
        1,
        "one request only: {:#?}",
        traffic.requests
    );
    let req = &traffic.requests[0];
    assert!(
        req.starts_with("GET ") && req.to_ascii_lowercase().contains("range: bytes=0-"),
        "{req}"
    );
    assert!(
        traffic.bytes_down <= MAX_BYTES,
        "fetched {} bytes of a {size}-byte object",
        traffic.bytes_down
    );

    // A missing object is NotFound, not a crash or a full listing.
    let missing = S3Url::new(&bucket, "scenes/missing.tif");
    let err = tokio::task::spawn_blocking(move || read_info(&Source::S3(missing)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}
