//! The reliability suite (loopback only, bounded in time):
//!
//! 1. a generated corpus of hostile uploads and hostile keys goes through the
//!    real function (the binary, locked down as in Lambda, through
//!    run-lambda's Runtime API), with a recording proxy between it and S3 and
//!    canaries (local files, a URL, another bucket) that nothing may touch;
//! 2. faults between the handler and S3 (resets, 500/503, stalls, bodies cut
//!    short) over many runs: every record's Item exists, or the invocation
//!    failed so Lambda retries it;
//! 3. a record that cannot finish fails at the invocation's deadline.
//!
//! Figures are printed (`cargo test -p gdal-lambda --test reliability -- --nocapture`)
//! and kept in docs/gdal-lambda.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use common::corpus::{self, Expect};
use gdal_lambda::{handle, Config, Deps, HandlerError, Status, MAX_RECORD_BYTES};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{Canaries, Fault, FaultPlan, FaultProxy, LocalAws};
use raster_info::samples::{self, Blank};
use serde_json::Value;
use stratus_aws::{objects, S3Url};

/// One upload of the suite and what it must come to.
struct Case {
    key: String,
    expect: Expect,
    /// GDAL opens the local copy with the drivers uploads may use.
    gdal_opens: bool,
    /// The raster's `[height, width]`, when the Item must show which object was read.
    shape: Option<[u64; 2]>,
}

/// Whether GDAL itself opens and describes `path` with the allowed drivers (the truth
/// the function's verdicts are held against). Files of the container and JPEG 2000
/// formats are asked of the same GDAL build's gdalinfo in a process of its own: their
/// libraries may crash on damaged bytes, which must not take the test with them.
fn gdal_opens(path: &Path, name: &str) -> bool {
    if [".jp2", ".nc", ".hdf", ".grb2", ".h5"]
        .iter()
        .any(|ext| name.contains(ext))
    {
        let gdalinfo = std::env::var("STRATUS_GDALINFO").expect(
            "STRATUS_GDALINFO: the gdalinfo of the GDAL build the suites link (just test-rust)",
        );
        let mut cmd = std::process::Command::new(gdalinfo);
        for driver in raster_info::ALLOWED_DRIVERS {
            cmd.args(["-if", driver]);
        }
        cmd.args(["--config", "CPL_ENABLE_USERFAULTFD", "NO"])
            .arg(path);
        return cmd.output().is_ok_and(|o| o.status.success());
    }
    let options = gdal::DatasetOptions {
        open_flags: gdal::GdalOpenFlags::GDAL_OF_RASTER | gdal::GdalOpenFlags::GDAL_OF_READONLY,
        allowed_drivers: Some(raster_info::ALLOWED_DRIVERS),
        ..Default::default()
    };
    gdal::Dataset::open_ex(path, options).is_ok()
        && raster_info::read_info(&path.display().to_string()).is_ok()
}

/// Keys that are data, not paths: each names its own object, whatever GDAL or a URL parser
/// would make of it.
fn hostile_keys(canaries: &Canaries) -> Vec<String> {
    [
        "keys/a/../b.tif",
        "../escape.tif",
        "keys/./c.tif",
        "keys//double.tif",
        "/leading-slash.tif",
        "keys/sp ace+plus%2B.tif",
        "keys/ünï©ødé 日本.tif",
        "keys/q?x=1#frag.tif",
        "keys/trailing.",
        "keys/%2e%2e/encoded.tif",
        "keys/back\\slash.tif",
        "keys/b.tif",
    ]
    .iter()
    .map(|k| k.to_string())
    .chain([format!("/vsicurl/{}", canaries.url("key.tif"))])
    .collect()
}

/// A small raster `width` pixels wide, so that an Item shows which object it came from.
fn raster_of_width(dir: &Path, width: u64) -> Vec<u8> {
    let path = dir.join(format!("w{width}.tif"));
    Blank {
        size: [width as usize, 50],
        data_type: "Byte",
        burn: &[1],
        srs: Some("EPSG:4326"),
        ullr: Some([0.0, 50.0, 1.0, 49.0]),
        extra: &[],
    }
    .create(&path);
    std::fs::read(path).unwrap()
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_uploads_reach_nothing_else_and_never_lose_an_item() {
    let started = Instant::now();
    let aws = LocalAws::shared();
    let proxy = FaultProxy::start(aws.port());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let canary_tif = std::fs::read(samples::cog(d, "canary-src.tif", 64, true)).unwrap();
    let mut canary_files: Vec<(&str, &[u8])> =
        vec![("canary.tif", &canary_tif), ("canary.gsb", b"grid")];
    canary_files.extend(corpus::FORMAT_CANARIES.map(|name| (name, &b"canary"[..])));
    let canaries = Canaries::new(&canary_files);
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("hostile").await;
    let other = aws.new_bucket("secret").await;
    put(&s3, &other, "secret.tif", canary_tif.clone()).await;

    let mut cases = Vec::new();
    let truth_dir = d.join("truth");
    std::fs::create_dir(&truth_dir).unwrap();
    for (i, input) in corpus::build(d, &canaries, &bucket, &other)
        .into_iter()
        .enumerate()
    {
        let local = truth_dir.join(i.to_string());
        std::fs::write(&local, &input.bytes).unwrap();
        let key = format!("corpus/{}", input.name);
        if key.ends_with(".grb2") {
            // GRIB's index sidecar beside it, which no event names: never read.
            put(
                &s3,
                &bucket,
                &format!("{key}.idx"),
                b"1:0:d=2024010100:TMP:2 m above ground:anl:\n".to_vec(),
            )
            .await;
        }
        put(&s3, &bucket, &key, input.bytes).await;
        // GDAL's own verdict where the outcome depends on it (a bomb would cost the
        // test process what the limits spare the function).
        let gdal_opens = input.expect == Expect::AsGdalSays && gdal_opens(&local, &input.name);
        cases.push(Case {
            key,
            expect: input.expect,
            gdal_opens,
            shape: None,
        });
    }
    for (i, key) in hostile_keys(&canaries).into_iter().enumerate() {
        let width = 100 + i as u64;
        put(&s3, &bucket, &key, raster_of_width(d, width)).await;
        cases.push(Case {
            key,
            expect: Expect::Raster,
            gdal_opens: true,
            shape: Some([50, width]),
        });
    }
    let long_key = format!("keys/{}.tif", "x".repeat(1010));
    put(&s3, &bucket, &long_key, raster_of_width(d, 99)).await;
    cases.push(Case {
        key: long_key,
        expect: Expect::Failure("KeyTooLong"),
        gdal_opens: true,
        shape: None,
    });
    // Setting up (gdal_translate looking for the grid, GDAL's local reads) is not the function.
    canaries.touched();
    proxy.take_seen();

    // Through the function, 50 records an event, as S3 would deliver them.
    let mut outcomes: Vec<Value> = Vec::new();
    let mut logs = String::new();
    let mut slowest = Duration::ZERO;
    let mut env = aws.env();
    // The function's S3 client and, were it ever to try, GDAL's own /vsis3/ go through the proxy.
    env.push(("AWS_ENDPOINT_URL".into(), proxy.endpoint()));
    env.push(("AWS_S3_ENDPOINT".into(), proxy.host_port()));
    let rss = common::PeakRss::watch();
    for chunk in cases.chunks(50) {
        let records: Vec<(&str, &str, u64)> = chunk
            .iter()
            .map(|c| ("ObjectCreated:Put", c.key.as_str(), 1))
            .collect();
        let event = common::s3_event(&bucket, &records);
        let t = Instant::now();
        let run = common::invoke_function(d, &event, &format!("s3://{bucket}/stac/"), &env);
        slowest = slowest.max(t.elapsed());
        outcomes.extend(run.response["records"].as_array().unwrap().iter().cloned());
        logs.push_str(&run.logs);
    }
    let (handler_mib, worker_mib) = rss.stop();
    assert_eq!(outcomes.len(), cases.len());

    // Every verdict against GDAL's own, every Item where it belongs (and valid).
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut processed = HashSet::new();
    let mut refers = Vec::new();
    let mut items = Vec::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let status = outcome["status"].as_str().unwrap();
        let kind = outcome["error_kind"].as_str().unwrap_or("");
        let what = format!("{}: {outcome}", case.key);
        assert_eq!(outcome["key"], case.key.as_str(), "{what}");
        *kinds
            .entry(if status == "processed" {
                "processed".into()
            } else {
                kind.to_string()
            })
            .or_default() += 1;
        match case.expect {
            Expect::Raster => assert_eq!(status, "processed", "{what}"),
            Expect::Failure(expected) => {
                assert_eq!((status, kind), ("failed", expected), "{what}")
            }
            Expect::Refers => match (status, kind) {
                ("processed", _) => refers.push(case.key.clone()),
                ("failed", "ExternalReference") => {}
                _ => panic!("neither processed without what it names nor refused: {what}"),
            },
            Expect::Bounded => assert!(
                status == "processed" || kind == "LimitExceeded",
                "neither processed within the budgets nor refused by them: {what}"
            ),
            Expect::AsGdalSays => match status {
                "processed" => assert!(case.gdal_opens, "GDAL cannot open it: {what}"),
                "failed" if ["LimitExceeded", "ExternalReference"].contains(&kind) => {}
                "failed" => assert!(!case.gdal_opens, "GDAL opens it: {what}"),
                _ => panic!("{what}"),
            },
        }
        if status == "processed" {
            let item_url = S3Url::new(&bucket, format!("stac/{}.json", case.key));
            let item: Value = objects::get_json(&s3, &item_url)
                .await
                .unwrap_or_else(|e| panic!("no Item for {what}: {e}"));
            assert_eq!(
                item["assets"]["data"]["href"],
                format!("s3://{bucket}/{}", case.key)
            );
            if let Some(shape) = case.shape {
                assert_eq!(
                    item["properties"]["proj:shape"],
                    serde_json::json!(shape),
                    "{what}"
                );
            }
            processed.insert(case.key.clone());
            items.push(item);
        }
    }
    samples::assert_valid_stac_items(&items);

    // Nothing but the named objects was read, and nothing but their Items written.
    let seen = proxy.take_seen();
    for req in &seen {
        let path = req.decoded_path();
        let key = path
            .strip_prefix(&format!("/{bucket}/"))
            .unwrap_or_else(|| panic!("a request outside the bucket: {req:?}"));
        match req.method.as_str() {
            "GET" | "HEAD" => assert!(
                cases.iter().any(|c| c.key == key),
                "a {} of an object no event named: {req:?}",
                req.method
            ),
            "PUT" => assert!(
                key.strip_prefix("stac/")
                    .and_then(|k| k.strip_suffix(".json"))
                    .is_some_and(|k| processed.contains(k)),
                "a PUT of something not an Item: {req:?}"
            ),
            _ => panic!("an unexpected request: {req:?}"),
        }
    }
    let gets = seen.iter().filter(|r| r.method == "GET").count();
    assert_eq!(canaries.touched(), Vec::<String>::new(), "canaries touched");

    // One record a raster, one error record a failure, each a whole line under the limit.
    let records: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    for line in logs.lines() {
        assert!(
            line.len() <= MAX_RECORD_BYTES,
            "a log line of {} bytes",
            line.len()
        );
    }
    let metadata = records
        .iter()
        .filter(|r| r["message"] == "raster metadata")
        .count();
    let errors = records
        .iter()
        .filter(|r| r["message"] == "raster not processed")
        .count();
    assert_eq!(metadata, processed.len());
    assert_eq!(errors, cases.len() - processed.len());
    // Files naming other files were processed without them (the record says so where the
    // parser tried to follow one) or refused; the canary and request checks above show that
    // nothing was read. At least one such attempt was made and stopped.
    let noticed = refers
        .iter()
        .filter(|key| {
            records.iter().any(|r| {
                r["message"] == "raster metadata"
                    && r["key"] == key.as_str()
                    && r.to_string().contains("which were not read")
            })
        })
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| o["error_kind"] == "ExternalReference")
        .count();
    assert!(
        noticed + refused > 0,
        "no reference of the corpus was ever followed and stopped"
    );
    assert!(
        !logs.contains("/etc/passwd")
            && !logs.contains("/proc/self/environ")
            && !logs.contains("canary."),
        "a referenced path reached the log"
    );

    println!(
        "hostile uploads: {} inputs ({} corpus files, {} hostile keys), {:?}; {} GET and {} PUT requests, \
         all for the named objects; canaries untouched; slowest event of 50 records {:.1} s; \
         peak RSS: the handler {:.1} MiB, the largest worker {:.1} MiB; whole test {:.1} s",
        cases.len(),
        cases.iter().filter(|c| c.key.starts_with("corpus/")).count(),
        cases.iter().filter(|c| c.shape.is_some()).count(),
        kinds,
        gets,
        seen.len() - gets,
        slowest.as_secs_f64(),
        handler_mib,
        worker_mib,
        started.elapsed().as_secs_f64()
    );
}

/// With the string checks of CRS text turned off (debug builds), every
/// reference a CRS can carry reaches GDAL and PROJ: what stops it is the
/// worker's confinement (the kernel; and PROJ's file access through GDAL's
/// guarded file systems where the GDAL build allows it). Nothing is opened,
/// nothing blocks (`/dev/stdout` is not read), every log line stays whole.
#[tokio::test(flavor = "multi_thread")]
async fn references_past_the_string_check_are_stopped_below_it() {
    let aws = LocalAws::shared();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let canaries = Canaries::new(&[("canary.gsb", b"grid")]);
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("refs").await;
    let mut keys = Vec::new();
    for (name, bytes) in corpus::crs_reference_variants(d, &canaries) {
        put(&s3, &bucket, &name, bytes).await;
        keys.push(name);
    }
    canaries.touched();
    let records: Vec<(&str, &str, u64)> = keys
        .iter()
        .map(|k| ("ObjectCreated:Put", k.as_str(), 1))
        .collect();
    let mut env = aws.env();
    env.push(("STRATUS_TEST_SKIP_STRING_CHECKS".into(), "1".into()));
    let t = Instant::now();
    let run = common::invoke_function(
        d,
        &common::s3_event(&bucket, &records),
        &format!("s3://{bucket}/stac/"),
        &env,
    );
    let took = t.elapsed();
    // PROJ's file access through GDAL's file systems (the static GDAL the image ships):
    // each reference is refused there and named. Without it, the kernel refuses the
    // open and the grid is simply absent.
    let routed = run
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["message"] == "parse worker confinement")
        .map(|r| r["gdal"]["proj_through_vsi"] == true)
        .expect("the start-up record");
    let described: Vec<Value> = run
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["message"] == "raster metadata")
        .collect();
    for outcome in run.response["records"].as_array().unwrap() {
        let (status, kind) = (outcome["status"].as_str(), outcome["error_kind"].as_str());
        if routed {
            // Refused and recorded: a failure, or a raster described without the grid,
            // saying so.
            let said = described.iter().any(|r| {
                r["key"] == outcome["key"]
                    && r["raster"]["warnings"].as_array().is_some_and(|w| {
                        w.iter()
                            .any(|w| w.as_str().is_some_and(|w| w.contains("a local file")))
                    })
            });
            assert!(kind == Some("ExternalReference") || said, "{outcome}");
        } else {
            assert!(
                status == Some("processed") || kind == Some("ExternalReference"),
                "{outcome}"
            );
        }
    }
    assert_eq!(canaries.touched(), Vec::<String>::new(), "canaries touched");
    // (A read of /dev/stdout would block to the deadline: the record would be a Timeout.)
    for line in run.logs.lines().filter(|l| l.starts_with('{')) {
        let record: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(record.get("message").is_some(), "{line}");
    }
    println!(
        "CRS references past the string check: {} files, canaries untouched, {:.1} s",
        keys.len(),
        took.as_secs_f64()
    );

    // The control: with no kernel layer either, PROJ itself opens the canary grid,
    // unless its file access goes through GDAL's guarded file systems.
    env.push(("STRATUS_CONFINE".into(), "none".into()));
    common::invoke_function(
        d,
        &common::s3_event(&bucket, &records[..1]),
        &format!("s3://{bucket}/stac-unconfined/"),
        &env,
    );
    let touched = canaries.touched();
    if routed {
        assert_eq!(
            touched,
            Vec::<String>::new(),
            "PROJ read past GDAL's file systems"
        );
    } else {
        assert!(
            !touched.is_empty(),
            "the control opened nothing: the test proves nothing"
        );
    }
}

/// An S3 client through `endpoint` with the production retry policy and short timeouts
/// (a stall costs half a second, not ten).
async fn client_through(endpoint: &str, attempts: u32) -> aws_sdk_s3::Client {
    local_aws::s3_client_with(
        endpoint,
        Some(stratus_aws::config::retry_config().with_max_attempts(attempts)),
        Some(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .read_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(Duration::from_secs(2))
                .build(),
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_between_the_function_and_s3_never_lose_an_item() {
    let started = Instant::now();
    let aws = LocalAws::shared();
    let proxy = FaultProxy::start(aws.port());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("faults").await;
    let mut rasters: Vec<(String, Vec<u8>)> = samples::each_format(d, "r")
        .into_iter()
        .chain([
            samples::cog(d, "cog.tif", 1024, true),
            samples::late_overviews(d, "late.tif"),
            samples::multiband_nodata(d, "multi.tif"),
        ])
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    rasters.sort();
    let mut keys = Vec::new();
    for copy in 0..5 {
        for (name, bytes) in &rasters {
            let key = format!("in/{copy}/{name}");
            put(&s3, &bucket, &key, bytes.clone()).await;
            keys.push(key);
        }
    }
    let records: Vec<(&str, &str, u64)> = keys
        .iter()
        .map(|k| ("ObjectCreated:Put", k.as_str(), 1))
        .collect();
    let event = common::s3_event(&bucket, &records);

    let read_faults = FaultPlan {
        rate: 1.0,
        faults: vec![Fault::Reset, Fault::Status(503), Fault::Truncate],
        methods: vec!["GET"],
        ..FaultPlan::none()
    };
    let write_faults = FaultPlan {
        rate: 1.0,
        faults: vec![
            Fault::Reset,
            Fault::Status(500),
            Fault::Stall,
            Fault::Truncate,
        ],
        methods: vec!["PUT"],
        ..FaultPlan::none()
    };
    // (name, plan, SDK attempts per request, must an invocation get through in 6 deliveries)
    let mut plans: Vec<(String, FaultPlan, u32, bool)> = Vec::new();
    for seed in 1..=4 {
        let (low, high) = (FaultPlan::all(0.2, seed), FaultPlan::all(0.4, seed));
        plans.push((format!("all faults 20%, seed {seed}"), low, 5, true));
        // At 40% with 2 attempts an event of 40 records almost never gets through whole:
        // what matters is that no invocation succeeds without every Item.
        plans.push((format!("all faults 40%, seed {seed}"), high, 2, false));
    }
    plans.push(("every read fails".into(), read_faults, 2, false));
    plans.push(("every write fails".into(), write_faults, 2, false));

    let (mut invocations, mut failed_invocations, mut lost, mut attempts_records) = (0, 0, 0, 0);
    let mut faults = 0;
    for (run, (name, plan, sdk_attempts, must_deliver)) in plans.into_iter().enumerate() {
        let always_fails = plan.rate >= 1.0;
        proxy.set_plan(plan);
        let config = Config::from_lookup(|k| {
            (k == "OUTPUT_URL").then(|| format!("s3://{bucket}/stac-{run}/"))
        })
        .unwrap();
        let through = client_through(&proxy.endpoint(), sdk_attempts).await;
        let deps = Deps::new(config, through, common::function_binary());
        // Lambda delivers the event again until an invocation succeeds.
        let mut delivered = false;
        for _ in 0..if must_deliver || always_fails { 6 } else { 3 } {
            invocations += 1;
            attempts_records += keys.len();
            let result = handle(LambdaEvent::new(event.clone(), Context::default()), &deps).await;
            match result {
                Ok(response) => {
                    assert!(!always_fails, "{name}: an invocation succeeded");
                    for outcome in &response.records {
                        let item = S3Url::new(&bucket, format!("stac-{run}/{}.json", outcome.key));
                        let exists = objects::head(&s3, &item).await.is_ok();
                        if outcome.status != Status::Processed || !exists {
                            lost += 1;
                            eprintln!("{name}: LOST {outcome:?} (Item exists: {exists})");
                        }
                    }
                    delivered = true;
                    break;
                }
                Err(HandlerError::Transient { .. }) => failed_invocations += 1,
                Err(other) => panic!("{name}: {other}"),
            }
        }
        assert!(
            delivered || !must_deliver,
            "{name}: never delivered in 6 attempts"
        );
        faults += proxy
            .take_seen()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
    }
    assert_eq!(lost, 0, "Items lost");
    println!(
        "faults: {} records in {invocations} invocations ({failed_invocations} failed and were \
         delivered again), {faults} faults injected, Items lost: {lost}; {:.1} s",
        attempts_records,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_that_cannot_finish_fails_by_the_deadline() {
    let aws = LocalAws::shared();
    let proxy = FaultProxy::start(aws.port());
    let dir = tempfile::tempdir().unwrap();
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("deadline").await;
    let cog = std::fs::read(samples::cog(dir.path(), "cog.tif", 256, true)).unwrap();
    put(&s3, &bucket, "slow.tif", cog).await;
    // Every request hangs far longer than the invocation has.
    proxy.set_plan(FaultPlan {
        rate: 1.0,
        faults: vec![Fault::Stall],
        stall: Duration::from_secs(60),
        ..FaultPlan::none()
    });
    let config =
        Config::from_lookup(|k| (k == "OUTPUT_URL").then(|| format!("s3://{bucket}/stac/")))
            .unwrap();
    let through = local_aws::s3_client(&proxy.endpoint(), None).await;
    let deps = Deps::new(config, through, common::function_binary());
    let mut context = Context::default();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    context.deadline = now_ms + 5_000;
    let t = Instant::now();
    let err = handle(
        LambdaEvent::new(
            common::s3_event(&bucket, &[("ObjectCreated:Put", "slow.tif", 1)]),
            context,
        ),
        &deps,
    )
    .await
    .unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, HandlerError::Transient { .. }), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    // Done before the 5 s deadline (it keeps a 2 s margin), not at the stall's end.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
