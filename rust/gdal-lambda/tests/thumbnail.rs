//! Thumbnails from the header budget: COGs made by the image's GDAL tools,
//! uploaded to moto behind a proxy that counts every request. A COG with a
//! small overview gets a thumbnail whose pixels are GDAL's own rendering of
//! that overview (`gdal_translate -ovr`, `-scale`), fetched with the header
//! and one ranged GET of that overview's tiles; a COG whose smallest overview
//! is too large, a GeoTIFF that is no COG, and one whose overview tiles
//! would decode to far more than their size get an Item without one, and
//! the log says why.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::{Dataset, DatasetOptions, DriverManager, Metadata};
use gdal_lambda::{handle, Config, Deps, Status};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{CountingProxy, LocalAws};
use serde_json::Value;

/// Bytes per block of the object cache: its GETs are whole blocks.
const BLOCK: u64 = 16 * 1024;

/// A program of the GDAL build the image ships (beside its `gdalinfo`).
fn image_tool(program: &str) -> Command {
    let gdalinfo = std::env::var("STRATUS_GDALINFO")
        .expect("STRATUS_GDALINFO: run with `eval \"$(scripts/gdal/host.sh)\"`");
    Command::new(Path::new(&gdalinfo).with_file_name(program))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A GeoTIFF in UTM 33N written by the linked GDAL from per-band pixel functions.
fn source(
    out: &Path,
    (w, h): (usize, usize),
    bands: usize,
    pixel: impl Fn(usize, usize, usize) -> f64,
    nodata: Option<f64>,
    kind: &str,
) {
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let options = RasterCreationOptions::from_iter(["TILED=YES", "COMPRESS=DEFLATE"]);
    let mut ds = match kind {
        "Byte" => driver
            .create_with_band_type_with_options::<u8, _>(out, w, h, bands, &options)
            .unwrap(),
        "Float32" => driver
            .create_with_band_type_with_options::<f32, _>(out, w, h, bands, &options)
            .unwrap(),
        _ => driver
            .create_with_band_type_with_options::<f64, _>(out, w, h, bands, &options)
            .unwrap(),
    };
    ds.set_geo_transform(&[500_000.0, 10.0, 0.0, 5_000_000.0, 0.0, -10.0])
        .unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(32633).unwrap())
        .unwrap();
    for b in 0..bands {
        let mut band = ds.rasterband(b + 1).unwrap();
        band.set_no_data_value(nodata).unwrap();
        let data: Vec<f64> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| pixel(b, x, y))
            .collect();
        band.write((0, 0), (w, h), &mut Buffer::new((w, h), data))
            .unwrap();
    }
}

/// `src` as a COG by the image's `gdal_translate`, with more creation options.
fn to_cog(src: &Path, out: &Path, options: &[&str]) {
    to_cog_with(src, out, options, &[]);
}

/// [`to_cog`] with more `gdal_translate` arguments.
fn to_cog_with(src: &Path, out: &Path, options: &[&str], args: &[&str]) {
    let mut cmd = image_tool("gdal_translate");
    cmd.args(["-q", "-of", "COG", "-co", "COMPRESS=DEFLATE"])
        .args(args);
    for o in options {
        cmd.args(["-co", o]);
    }
    run(cmd.arg(src).arg(out));
}

/// A noisy RGB byte COG, 1500×1000, 256-pixel tiles, two overviews (750×500,
/// 375×250): noise, so that the smallest overview's tiles lie past the first GET.
fn rgb_cog(dir: &Path) -> PathBuf {
    let src = dir.join("rgb.src.tif");
    // SplitMix64's finaliser of the pixel's position: noise DEFLATE cannot shrink.
    let noise = |b: usize, x: usize, y: usize| {
        let mut z = ((b * 1500 * 1000 + y * 1500 + x) as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % 256) as f64
    };
    source(&src, (1500, 1000), 3, noise, None, "Byte");
    let out = dir.join("rgb.tif");
    to_cog(
        &src,
        &out,
        &[
            "BLOCKSIZE=256",
            "OVERVIEW_COUNT=2",
            "OVERVIEW_RESAMPLING=NEAREST",
        ],
    );
    out
}

/// A single-band Float32 COG, 800×600, with nodata -9999 in its upper left
/// corner and whole numbers elsewhere (so that `gdalinfo -mm` prints the
/// overview's range exactly), one overview of 400×300 in 2×2 tiles.
fn float_cog(dir: &Path) -> PathBuf {
    let src = dir.join("float.src.tif");
    let value = |_: usize, x: usize, y: usize| {
        if x < 200 && y < 150 {
            -9999.0
        } else {
            ((x * 7 + y * 13) % 1021) as f64 - 300.0
        }
    };
    source(&src, (800, 600), 1, value, Some(-9999.0), "Float32");
    let out = dir.join("float.tif");
    to_cog(
        &src,
        &out,
        &[
            "BLOCKSIZE=256",
            "OVERVIEW_COUNT=1",
            "OVERVIEW_RESAMPLING=NEAREST",
        ],
    );
    out
}

/// The bytes holding the tiles of overview `level` of `cog`, by GDAL's reading of its tile tables.
fn tile_span(cog: &Path, level: usize) -> (u64, u64) {
    let ds = Dataset::open(cog).unwrap();
    let (mut start, mut end) = (u64::MAX, 0);
    for b in 1..=ds.raster_count() {
        let band = ds.rasterband(b).unwrap().overview(level).unwrap();
        let (bw, bh) = band.block_size();
        let (w, h) = band.size();
        for y in 0..h.div_ceil(bh) {
            for x in 0..w.div_ceil(bw) {
                let item = |what: &str| -> u64 {
                    band.metadata_item(&format!("BLOCK_{what}_{x}_{y}"), "TIFF")
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                start = start.min(item("OFFSET"));
                end = end.max(item("OFFSET") + item("SIZE"));
            }
        }
    }
    (start, end)
}

/// Every band of a raster file, as bytes.
fn pixels(path: &Path) -> Vec<Vec<u8>> {
    let ds = Dataset::open(path).unwrap();
    let size = ds.raster_size();
    (1..=ds.raster_count())
        .map(|b| {
            let band = ds.rasterband(b).unwrap();
            band.read_as::<u8>((0, 0), size, size, None)
                .unwrap()
                .into_shape_and_vec()
                .1
        })
        .collect()
}

/// The byte ranges of the GETs in `requests` (`range: bytes=a-b`), as `[a, b+1)`.
fn get_ranges(requests: &[String]) -> Vec<(u64, u64)> {
    requests
        .iter()
        .filter(|r| r.starts_with("GET "))
        .map(|r| {
            let lower = r.to_ascii_lowercase();
            let at = lower.find("range: bytes=").expect("a ranged GET") + "range: bytes=".len();
            let range: String = lower[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            let (a, b) = range.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse::<u64>().unwrap() + 1)
        })
        .collect()
}

struct Run {
    item: Value,
    requests: Vec<String>,
    bytes_down: u64,
    elapsed: std::time::Duration,
}

/// Upload `file` and process it in this process with the handler, `env` read
/// as the function's configuration, through a counting proxy.
async fn process(file: &Path, key: &str, env: &[(&str, &str)]) -> (Run, String, Deps) {
    let aws = LocalAws::shared();
    let proxy = CountingProxy::start(aws.port());
    for (k, v) in aws.env() {
        std::env::set_var(k, v);
    }
    let bucket = aws.new_bucket("thumb").await;
    aws.put_file(&bucket, key, file).await;
    let s3 = local_aws::s3_client(&format!("http://{}", proxy.host_port()), None).await;
    let output = format!("s3://{bucket}/stac/");
    let config = Config::from_lookup(|k| {
        if k == "OUTPUT_URL" {
            return Some(output.clone());
        }
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let deps = Deps::new(config, s3, common::function_binary());
    deps.parsers.ensure_started().await;
    let size = std::fs::metadata(file).unwrap().len();
    let event = common::s3_event(&bucket, &[("ObjectCreated:Put", key, size)]);
    proxy.reset();
    let t = std::time::Instant::now();
    let resp = handle(LambdaEvent::new(event, Context::default()), &deps)
        .await
        .unwrap();
    let elapsed = t.elapsed();
    let record = &resp.records[0];
    assert_eq!(record.status, Status::Processed, "{record:?}");
    let traffic = proxy.traffic();
    let item_url = stratus_item_url(&bucket, key);
    let item: Value = serde_json::from_slice(&aws_get(&bucket, &item_url).await).unwrap();
    (
        Run {
            item,
            requests: traffic.requests,
            bytes_down: traffic.bytes_down,
            elapsed,
        },
        bucket,
        deps,
    )
}

fn stratus_item_url(_bucket: &str, key: &str) -> String {
    format!("stac/{key}.json")
}

async fn aws_get(bucket: &str, key: &str) -> Vec<u8> {
    let s3 = LocalAws::shared().s3().await;
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

/// The thumbnail asset's href and type, and the image's bytes.
async fn thumbnail_of(item: &Value, bucket: &str) -> (String, String, Vec<u8>) {
    let asset = &item["assets"]["thumbnail"];
    assert_eq!(asset["roles"], serde_json::json!(["thumbnail"]), "{item:#}");
    let href = asset["href"].as_str().unwrap().to_string();
    let key = href
        .strip_prefix(&format!("s3://{bucket}/"))
        .unwrap()
        .to_string();
    let bytes = aws_get(bucket, &key).await;
    (href, asset["type"].as_str().unwrap().to_string(), bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rgb_cog_gets_gdals_rendering_of_its_smallest_overview_from_its_tiles_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cog = rgb_cog(dir.path());
    let key = "scenes/rgb.tif";
    let (with, bucket, _) = process(&cog, key, &[("THUMBNAIL_FORMAT", "png")]).await;
    let (href, media_type, png) = thumbnail_of(&with.item, &bucket).await;
    assert_eq!(href, format!("s3://{bucket}/stac/{key}.thumbnail.png"));
    assert_eq!(media_type, "image/png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    raster_info::samples::assert_valid_stac(&with.item);

    // GDAL's own rendering of the same overview is the truth.
    let ours = dir.path().join("ours.png");
    std::fs::write(&ours, &png).unwrap();
    let truth = dir.path().join("truth.png");
    run(image_tool("gdal_translate")
        .args(["-q", "-of", "PNG", "-ovr", "1"])
        .arg(&cog)
        .arg(&truth));
    assert_eq!(Dataset::open(&ours).unwrap().raster_size(), (375, 250));
    assert_eq!(
        pixels(&ours),
        pixels(&truth),
        "the thumbnail is the overview"
    );

    // The header, then the overview's tiles (to whole cache blocks), and nothing else.
    let gets = get_ranges(&with.requests);
    let (start, end) = tile_span(&cog, 1);
    assert!(end > 32768, "the tiles reach past the first GET: {end}");
    let (lo, hi) = (start / BLOCK * BLOCK, end.div_ceil(BLOCK) * BLOCK);
    assert_eq!(gets[0], (0, 32768), "{:#?}", with.requests);
    assert_eq!(gets.len(), 2, "{:#?}", with.requests);
    assert!(
        gets[1].0 >= lo && gets[1].1 <= hi && gets[1].0 <= start.max(32768) && gets[1].1 >= end,
        "{:?} is the tiles' blocks {lo}..{hi} (tiles {start}..{end})",
        gets[1]
    );
    let puts: Vec<&String> = with
        .requests
        .iter()
        .filter(|r| r.starts_with("PUT "))
        .collect();
    assert_eq!(puts.len(), 2, "the thumbnail and the Item: {puts:#?}");

    // Without thumbnails, the same COG costs the header alone.
    let (without, _, _) = process(&cog, key, &[]).await;
    assert!(without.item["assets"].get("thumbnail").is_none());
    assert_eq!(get_ranges(&without.requests), vec![(0, 32768)]);
    eprintln!(
        "thumbnail: {} requests, {} bytes down, {:?}; none: {} requests, {} bytes down, {:?}",
        with.requests.len(),
        with.bytes_down,
        with.elapsed,
        without.requests.len(),
        without.bytes_down,
        without.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_float_cog_is_scaled_from_its_overview_and_its_nodata_is_transparent() {
    let dir = tempfile::tempdir().unwrap();
    let cog = float_cog(dir.path());
    let (run_, bucket, _) = process(&cog, "dem.tif", &[("THUMBNAIL_FORMAT", "png")]).await;
    let (_, media_type, png) = thumbnail_of(&run_.item, &bucket).await;
    assert_eq!(media_type, "image/png");
    raster_info::samples::assert_valid_stac(&run_.item);
    let ours = dir.path().join("ours.png");
    std::fs::write(&ours, &png).unwrap();
    let ours = pixels(&ours);
    assert_eq!(ours.len(), 2, "grey and alpha");

    // GDAL's range of the overview, and its scaling of the overview by it.
    let info = run(image_tool("gdalinfo")
        .args(["-mm", "-oo", "OVERVIEW_LEVEL=0"])
        .arg(&cog));
    let range = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("Computed Min/Max="))
        .unwrap();
    let (min, max) = range.split_once(',').unwrap();
    let truth = dir.path().join("truth.png");
    run(image_tool("gdal_translate")
        .args([
            "-q",
            "-of",
            "PNG",
            "-ot",
            "Byte",
            "-oo",
            "OVERVIEW_LEVEL=0",
            "-scale",
        ])
        .args([min, max, "0", "255"])
        .arg(&cog)
        .arg(&truth));
    let truth = pixels(&truth);
    let overview = Dataset::open_ex(
        &cog,
        DatasetOptions {
            open_options: Some(&["OVERVIEW_LEVEL=0"]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(overview.raster_size(), (400, 300));
    let values = overview
        .rasterband(1)
        .unwrap()
        .read_as::<f32>((0, 0), (400, 300), (400, 300), None)
        .unwrap()
        .into_shape_and_vec()
        .1;
    let mut nodata = 0;
    for (i, v) in values.iter().enumerate() {
        if *v == -9999.0 {
            nodata += 1;
            assert_eq!(ours[1][i], 0, "no data is transparent at {i}");
        } else {
            assert_eq!(ours[1][i], 255, "data is opaque at {i}");
            assert_eq!(ours[0][i], truth[0][i], "grey level at {i} ({v})");
        }
    }
    assert_eq!(nodata, 100 * 75);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jpeg_thumbnail_is_gdals_jpeg_of_the_overview() {
    let dir = tempfile::tempdir().unwrap();
    let cog = rgb_cog(dir.path());
    let (run_, bucket, _) = process(&cog, "rgb.tif", &[("THUMBNAIL_FORMAT", "jpeg")]).await;
    let (href, media_type, jpeg) = thumbnail_of(&run_.item, &bucket).await;
    assert!(href.ends_with("/stac/rgb.tif.thumbnail.jpg"), "{href}");
    assert_eq!(media_type, "image/jpeg");
    assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]));
    let ours = dir.path().join("ours.jpg");
    std::fs::write(&ours, &jpeg).unwrap();
    let truth = dir.path().join("truth.jpg");
    run(image_tool("gdal_translate")
        .args(["-q", "-of", "JPEG", "-ovr", "1"])
        .arg(&cog)
        .arg(&truth));
    assert_eq!(pixels(&ours), pixels(&truth));
}

/// The reason the function's log gives for a record's missing thumbnail.
fn no_thumbnail_reason(logs: &str) -> String {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|r| r["message"] == "no thumbnail")
        .and_then(|r| r["reason"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no \"no thumbnail\" record in:\n{logs}"))
}

/// Run the function binary (through run-lambda) on `file` with thumbnails on;
/// the Item and the reason logged for its missing thumbnail.
fn declined(file: &Path, key: &str, env: &[(&str, &str)]) -> (Value, String, (f64, f64)) {
    let aws = LocalAws::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bucket = rt.block_on(aws.new_bucket("nothumb"));
    rt.block_on(aws.put_file(&bucket, key, file));
    let size = std::fs::metadata(file).unwrap().len();
    let event = common::s3_event(&bucket, &[("ObjectCreated:Put", key, size)]);
    let mut vars = aws.env();
    vars.push(("THUMBNAIL_FORMAT".into(), "png".into()));
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let dir = tempfile::tempdir().unwrap();
    let rss = common::PeakRss::watch();
    let run = common::invoke_function(dir.path(), &event, &format!("s3://{bucket}/stac/"), &vars);
    let peaks = rss.stop();
    assert_eq!(
        run.response["records"][0]["status"], "processed",
        "{}",
        run.logs
    );
    let item: Value =
        serde_json::from_slice(&rt.block_on(aws_get(&bucket, &format!("stac/{key}.json"))))
            .unwrap();
    assert!(
        item["assets"].get("thumbnail").is_none(),
        "{:#}",
        item["assets"]
    );
    (item, no_thumbnail_reason(&run.logs), peaks)
}

#[test]
fn a_cog_whose_smallest_overview_is_large_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.src.tif");
    source(
        &src,
        (2400, 1800),
        1,
        |_, x, y| ((x ^ y) % 256) as f64,
        None,
        "Byte",
    );
    let cog = dir.path().join("big.tif");
    to_cog(&src, &cog, &["OVERVIEW_COUNT=1"]);
    let (_, reason, _) = declined(&cog, "big.tif", &[]);
    assert!(
        reason.contains("smallest overview") && reason.contains("1200×900"),
        "{reason}"
    );
}

#[test]
fn a_geotiff_that_is_no_cog_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let tif = raster_info::samples::striped_geotiff(dir.path(), "striped.tif");
    let (_, reason, _) = declined(&tif, "striped.tif", &[]);
    assert!(reason.contains("not a Cloud Optimized GeoTIFF"), "{reason}");
}

#[test]
fn a_cog_over_the_thumbnail_byte_limit_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let cog = rgb_cog(dir.path());
    let (_, reason, _) = declined(&cog, "rgb.tif", &[("THUMBNAIL_MAX_BYTES", "10000")]);
    assert!(
        reason.contains("more than the thumbnail limit of 10000"),
        "{reason}"
    );
}

#[test]
fn overview_tiles_that_decode_huge_stay_within_the_worker_budget() {
    // A small file: 2400×2400 zeros of Float64 in 4096-pixel tiles, whose
    // 600×600 overview is one tile that decodes to 128 MiB.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("bomb.src.tif");
    source(&src, (2400, 2400), 1, |_, _, _| 0.0, None, "Float64");
    let cog = dir.path().join("bomb.tif");
    to_cog(&src, &cog, &["BLOCKSIZE=4096", "OVERVIEW_COUNT=2"]);
    assert!(std::fs::metadata(&cog).unwrap().len() < 2 << 20);
    let (_, reason, (_, worker_mb)) = declined(&cog, "bomb.tif", &[("WORKER_MEMORY_MB", "256")]);
    assert!(reason.contains("decode to"), "{reason}");
    assert!(worker_mb < 256.0, "the worker peaked at {worker_mb} MiB");
}

#[test]
fn a_worker_that_dies_rendering_a_thumbnail_loses_the_thumbnail_only() {
    // Debug builds' worker misbehaves on purpose while it renders the
    // thumbnail of an object so named, after it has sent its verdict.
    let dir = tempfile::tempdir().unwrap();
    let cog = float_cog(dir.path());
    let aws = LocalAws::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bucket = rt.block_on(aws.new_bucket("thumbdies"));
    let keys = [
        "stratus-test-thumbnail-crash.tif",
        "stratus-test-thumbnail-spin.tif",
        "stratus-test-thumbnail-allocate.tif",
        "fine.tif",
    ];
    let size = std::fs::metadata(&cog).unwrap().len();
    for key in keys {
        rt.block_on(aws.put_file(&bucket, key, &cog));
    }
    let records: Vec<(&str, &str, u64)> = keys
        .iter()
        .map(|k| ("ObjectCreated:Put", *k, size))
        .collect();
    let mut vars = aws.env();
    for (k, v) in [
        ("THUMBNAIL_FORMAT", "png"),
        ("STRATUS_WORKER_TEST_HOOKS", "1"),
        ("WORKER_CPU_SECONDS", "1"),
        ("WORKER_MEMORY_MB", "512"),
    ] {
        vars.push((k.into(), v.into()));
    }
    let run = common::invoke_function(
        dir.path(),
        &common::s3_event(&bucket, &records),
        &format!("s3://{bucket}/stac/"),
        &vars,
    );
    let reasons: Vec<(String, String)> = run
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|r| r["message"] == "no thumbnail")
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            run.response["records"][i]["status"], "processed",
            "{key}: {}",
            run.logs
        );
        let item: Value =
            serde_json::from_slice(&rt.block_on(aws_get(&bucket, &format!("stac/{key}.json"))))
                .unwrap();
        let reason = reasons
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.as_str());
        if *key == "fine.tif" {
            assert!(
                item["assets"].get("thumbnail").is_some(),
                "{:#}",
                item["assets"]
            );
            assert_eq!(reason, None);
            continue;
        }
        assert!(
            item["assets"].get("thumbnail").is_none(),
            "{key}: {:#}",
            item["assets"]
        );
        let reason = reason.unwrap_or_else(|| panic!("{key}: no reason logged:\n{}", run.logs));
        // A spin ends at its CPU seconds, or, on a machine too busy to give
        // it those in time, at its share of the record's wall-clock time.
        let expected: &[&str] = match *key {
            "stratus-test-thumbnail-crash.tif" => &["died"],
            "stratus-test-thumbnail-spin.tif" => &["CPU seconds", "took longer than its share"],
            _ => &["memory"],
        };
        assert!(
            expected.iter().any(|e| reason.contains(e)),
            "{key}: {reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rgba_cog_keeps_its_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rgba.src.tif");
    // Colour from the position, alpha a checkerboard of 0, 128 and 255.
    let value = |b: usize, x: usize, y: usize| match b {
        3 => [0.0, 128.0, 255.0][(x / 40 + y / 40) % 3],
        _ => ((x * (b + 3) + y * (7 - b)) % 256) as f64,
    };
    source(&src, (900, 700), 4, value, None, "Byte");
    let cog = dir.path().join("rgba.tif");
    to_cog_with(
        &src,
        &cog,
        &[
            "BLOCKSIZE=256",
            "OVERVIEW_COUNT=1",
            "OVERVIEW_RESAMPLING=NEAREST",
        ],
        &["-colorinterp", "red,green,blue,alpha"],
    );
    let (run_, bucket, _) = process(&cog, "rgba.tif", &[("THUMBNAIL_FORMAT", "png")]).await;
    let (_, _, png) = thumbnail_of(&run_.item, &bucket).await;
    let ours = dir.path().join("ours.png");
    std::fs::write(&ours, &png).unwrap();
    let truth = dir.path().join("truth.png");
    run(image_tool("gdal_translate")
        .args(["-q", "-of", "PNG", "-ovr", "0"])
        .arg(&cog)
        .arg(&truth));
    let (ours, truth) = (pixels(&ours), pixels(&truth));
    assert_eq!(ours.len(), 4);
    assert!(ours[3].contains(&0) && ours[3].contains(&128) && ours[3].contains(&255));
    assert_eq!(ours, truth);
}
