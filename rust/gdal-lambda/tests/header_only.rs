//! What the handler fetches for a large COG: one ranged GET of the header,
//! one HEAD for the checksum S3 may keep of it (and the PUT of its Item),
//! counted by a proxy in front of moto that the handler's S3 client goes
//! through (GDAL reads only through it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use gdal_lambda::{handle, Config, Deps, Status};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{CountingProxy, LocalAws};
use raster_info::samples;

#[tokio::test(flavor = "multi_thread")]
async fn a_large_cog_costs_one_ranged_get() {
    let aws = LocalAws::shared();
    let proxy = CountingProxy::start(aws.port());
    for (k, v) in aws.env() {
        std::env::set_var(k, v);
    }
    let via_proxy = format!("http://{}", proxy.host_port());

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let cog = tokio::task::spawn_blocking(move || samples::cog(&d, "big.tif", 10240, false))
        .await
        .unwrap();
    let size = std::fs::metadata(&cog).unwrap().len();
    assert!(size > 100_000_000, "{size}");
    let bucket = aws.new_bucket("big").await;
    let key = "scenes/big one.tif";
    aws.put_file(&bucket, key, &cog).await;

    let s3 = local_aws::s3_client(&via_proxy, None).await;
    let config =
        Config::from_lookup(|k| (k == "OUTPUT_URL").then(|| format!("s3://{bucket}/stac/")))
            .unwrap();
    let deps = Deps::new(config, s3, common::function_binary());

    let event = common::s3_event(&bucket, &[("ObjectCreated:Put", key, size)]);
    proxy.reset();
    let resp = handle(LambdaEvent::new(event, Context::default()), &deps)
        .await
        .unwrap();
    assert_eq!(
        resp.records[0].status,
        Status::Processed,
        "{:?}",
        resp.records[0]
    );

    let traffic = proxy.traffic();
    let gets: Vec<&String> = traffic
        .requests
        .iter()
        .filter(|r| r.starts_with("GET "))
        .collect();
    let heads: Vec<&String> = traffic
        .requests
        .iter()
        .filter(|r| r.starts_with("HEAD "))
        .collect();
    let others: Vec<&String> = traffic
        .requests
        .iter()
        .filter(|r| !r.starts_with("GET ") && !r.starts_with("HEAD "))
        .collect();
    assert_eq!(heads.len(), 1, "one HEAD: {:#?}", traffic.requests);
    assert!(
        heads[0].contains("/scenes/big%20one.tif")
            && heads[0]
                .to_ascii_lowercase()
                .contains("x-amz-checksum-mode: enabled"),
        "{}",
        heads[0]
    );
    assert_eq!(gets.len(), 1, "one GET: {:#?}", traffic.requests);
    assert!(
        gets[0].contains("/scenes/big%20one.tif")
            && gets[0]
                .to_ascii_lowercase()
                .contains("range: bytes=0-32767"),
        "{}",
        gets[0]
    );
    assert_eq!(
        others.len(),
        1,
        "and the PUT of the Item: {:#?}",
        traffic.requests
    );
    assert!(
        others[0].starts_with("PUT ") && others[0].contains("/stac/scenes/big%20one.tif.json"),
        "{}",
        others[0]
    );
    // 32 KiB of header, the PUT's small answer and HTTP headers; not the 100+ MB object.
    assert!(
        traffic.bytes_down < 40 * 1024,
        "fetched {} bytes",
        traffic.bytes_down
    );
}
