//! The parse worker's confinement, tried from inside: a debug build's
//! worker misbehaves on purpose when a job's bytes ask it to (with
//! `STRATUS_WORKER_TEST_HOOKS=1`), the way a parser a hostile file has
//! taken over would. Each attempt is stopped by the kernel or a budget and
//! classified, and the other records of the event finish.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use gdal_lambda::{handle, Config, Deps, HandlerError, Status};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{Canaries, LocalAws};
use raster_info::samples;
use serde_json::Value;

/// An upload whose bytes make a test-hook worker do `action`.
fn hook(action: &str) -> Vec<u8> {
    format!("STRATUS-TEST-HOOK {action}").into_bytes()
}

struct Setup {
    _dir: tempfile::TempDir,
    bucket: String,
    canaries: Canaries,
    keys: Vec<(&'static str, String)>,
}

/// Uploads: one per misbehaviour, and a COG that must still get its Item.
async fn setup(aws: &LocalAws) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let canaries = Canaries::new(&[("canary.txt", b"secret")]);
    let script = dir.path().join("touch-canary.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho x > {}\n",
            canaries.file("canary.txt").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let listener = canaries
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "cog.tif",
            std::fs::read(samples::cog(dir.path(), "cog.tif", 512, true)).unwrap(),
        ),
        ("open-passwd", hook("open /etc/passwd")),
        ("open-environ", hook("open /proc/1/environ")),
        (
            "open-canary",
            hook(&format!("open {}", canaries.file("canary.txt").display())),
        ),
        ("connect", hook(&format!("connect {listener}"))),
        ("exec", hook(&format!("exec {}", script.display()))),
        ("allocate", hook("allocate")),
        ("spin", hook("spin")),
        ("print", hook("print 300")),
    ];
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("worker").await;
    let mut keys = Vec::new();
    for (name, bytes) in cases {
        let key = format!("hooks/{name}");
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
        keys.push((name, key));
    }
    canaries.touched();
    Setup {
        _dir: dir,
        bucket,
        canaries,
        keys,
    }
}

/// The event through the real function (run-lambda's Runtime API), with the
/// worker's test hooks on and `confine` choosing its kernel layers.
fn run(aws: &LocalAws, s: &Setup, confine: Option<&str>) -> (Vec<Value>, Vec<Value>, Duration) {
    let records: Vec<(&str, &str, u64)> = s
        .keys
        .iter()
        .map(|(_, k)| ("ObjectCreated:Put", k.as_str(), 1))
        .collect();
    let mut env = aws.env();
    env.extend(
        [
            ("STRATUS_WORKER_TEST_HOOKS", "1"),
            ("WORKER_CPU_SECONDS", "1"),
            ("WORKER_MEMORY_MB", "512"),
            ("MAX_CONCURRENCY", "10"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if let Some(layers) = confine {
        env.push(("STRATUS_CONFINE".into(), layers.into()));
    }
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let invocation = common::invoke_function(
        dir.path(),
        &common::s3_event(&s.bucket, &records),
        &format!("s3://{}/stac/", s.bucket),
        &env,
    );
    let took = t.elapsed();
    // Every line the function wrote is a whole JSON record: the worker's output included.
    let mut lines = Vec::new();
    for line in invocation.logs.lines() {
        assert!(
            !line.contains("worker stdout line") || line.starts_with('{'),
            "unframed: {line}"
        );
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            lines.push(v);
        }
    }
    let outcomes = invocation.response["records"].as_array().unwrap().clone();
    (outcomes, lines, took)
}

fn outcome<'a>(outcomes: &'a [Value], s: &Setup, name: &str) -> &'a Value {
    let key = &s.keys.iter().find(|(n, _)| *n == name).unwrap().1;
    outcomes.iter().find(|o| o["key"] == key.as_str()).unwrap()
}

/// The verdicts every confinement must give, whatever layer gives them.
fn assert_stopped(outcomes: &[Value], s: &Setup) {
    let o = |name| outcome(outcomes, s, name);
    assert_eq!(o("cog.tif")["status"], "processed", "{}", o("cog.tif"));
    for name in [
        "open-passwd",
        "open-environ",
        "open-canary",
        "connect",
        "exec",
    ] {
        let out = o(name);
        let message = out["message"].as_str().unwrap();
        assert_eq!(out["status"], "failed", "{out}");
        assert!(message.contains("refused"), "{name}: {message}");
        assert!(!message.contains("DONE"), "{name}: {message}");
    }
    for (name, what) in [("allocate", "memory"), ("spin", "CPU seconds")] {
        let out = o(name);
        assert_eq!(
            (out["status"].as_str(), out["error_kind"].as_str()),
            (Some("failed"), Some("LimitExceeded")),
            "{out}"
        );
        assert!(out["message"].as_str().unwrap().contains(what), "{out}");
    }
    assert_eq!(
        s.canaries.touched(),
        Vec::<String>::new(),
        "canaries touched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misbehaving_parse_is_stopped_and_classified_and_the_others_finish() {
    let aws = LocalAws::shared();
    let s = setup(aws).await;
    let (outcomes, lines, took) = run(aws, &s, None);
    assert_stopped(&outcomes, &s);
    // The worker printed 600 lines: at most 100 reach the log, framed, then one notice.
    let printed = lines
        .iter()
        .filter(|l| {
            l["message"] == "parse worker output"
                && l["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("worker std"))
        })
        .count();
    assert!((1..=100).contains(&printed), "{printed}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "parse worker output dropped")
            .count(),
        1
    );
    // This kernel has every layer; the start-up record says so, and no record says otherwise.
    let start = lines
        .iter()
        .find(|l| l["message"] == "parse worker confinement")
        .unwrap();
    assert!(start["kernel"]["seccomp"]["on"] == true, "{start}");
    assert!(lines.iter().all(|l| l.get("unconfined").is_none_or(|u| u
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n == "landlock" || n == "proj-file-api"))));
    println!(
        "misbehaving parses: {} records in {:.1} s",
        outcomes.len(),
        took.as_secs_f64()
    );
}

/// As on a platform without Landlock: the filter alone stops the same, and
/// the start-up record and every record say what is missing.
#[tokio::test(flavor = "multi_thread")]
async fn seccomp_alone_stops_the_same_and_the_logs_say_landlock_is_missing() {
    let aws = LocalAws::shared();
    let s = setup(aws).await;
    let (outcomes, lines, _) = run(aws, &s, Some("seccomp"));
    assert_stopped(&outcomes, &s);
    let start = lines
        .iter()
        .find(|l| l["message"] == "parse worker confinement")
        .unwrap();
    assert_eq!(start["level"], "WARN", "{start}");
    let unconfined = |l: &Value| {
        l["unconfined"]
            .as_array()
            .is_some_and(|u| u.iter().any(|n| n == "landlock"))
    };
    assert!(unconfined(start), "{start}");
    let per_record: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "raster metadata" || l["message"] == "raster not processed")
        .collect();
    assert_eq!(per_record.len(), s.keys.len());
    assert!(per_record.iter().all(|l| unconfined(l)), "{per_record:?}");
}

/// A parser that crashes (a fault signal) on the same bytes in two fresh
/// workers fails its record for good (`ParserCrashed`: it will crash again); a
/// worker that dies otherwise fails its record for a retry (not known to
/// repeat). Either way, nothing else: the other records finish, and a worker
/// is there for the next one.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_fails_its_record_and_nothing_else() {
    let aws = LocalAws::shared();
    aws.export_env();
    std::env::set_var("STRATUS_WORKER_TEST_HOOKS", "1");
    let s3 = aws.s3().await;
    let bucket = aws.new_bucket("crash").await;
    let dir = tempfile::tempdir().unwrap();
    let cog = std::fs::read(samples::cog(dir.path(), "cog.tif", 256, true)).unwrap();
    for (key, bytes) in [
        ("cog.tif", cog),
        ("crash", hook("crash")),
        ("exit", hook("exit")),
    ] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    }
    let config =
        Config::from_lookup(|k| (k == "OUTPUT_URL").then(|| format!("s3://{bucket}/stac/")))
            .unwrap();
    let deps = Deps::new(config, s3.clone(), common::function_binary());

    // Crashes twice: a permanent failure of its record; the COG beside it is processed.
    let event = common::s3_event(
        &bucket,
        &[
            ("ObjectCreated:Put", "crash", 1),
            ("ObjectCreated:Put", "cog.tif", 1),
        ],
    );
    let response = handle(LambdaEvent::new(event, Context::default()), &deps)
        .await
        .unwrap();
    let crash = &response.records[0];
    assert_eq!(crash.status, Status::Failed, "{crash:?}");
    let crash_json = serde_json::to_value(crash).unwrap();
    assert_eq!(crash_json["error_kind"], "ParserCrashed", "{crash_json}");
    let message = crash_json["message"].as_str().unwrap();
    assert!(
        message.contains("two fresh workers") && message.contains("SIGABRT"),
        "{message}"
    );
    assert_eq!(response.records[1].status, Status::Processed);

    // Dies otherwise: retried (the invocation fails), the COG's Item is written all the same.
    let event = common::s3_event(
        &bucket,
        &[
            ("ObjectCreated:Put", "exit", 1),
            ("ObjectCreated:Put", "cog.tif", 1),
        ],
    );
    match handle(LambdaEvent::new(event, Context::default()), &deps).await {
        Err(HandlerError::Transient {
            failed,
            total,
            first,
        }) => {
            assert_eq!((failed, total), (1, 2));
            assert!(first.contains("died"), "{first}");
        }
        other => panic!("{other:?}"),
    }
    let item = stratus_aws::S3Url::new(&bucket, "stac/cog.tif.json");
    assert!(stratus_aws::objects::head(&s3, &item).await.is_ok());
    let cog_only = common::s3_event(&bucket, &[("ObjectCreated:Put", "cog.tif", 1)]);
    let again = handle(LambdaEvent::new(cog_only, Context::default()), &deps)
        .await
        .unwrap();
    assert_eq!(again.records[0].status, Status::Processed);
}

/// The control: without the kernel layers the same parses do reach out, so
/// the tests above could fail.
#[tokio::test(flavor = "multi_thread")]
async fn without_the_kernel_layers_the_same_parses_reach_out() {
    let aws = LocalAws::shared();
    let s = setup(aws).await;
    let (outcomes, _, _) = run(aws, &s, Some("none"));
    let passwd = outcome(&outcomes, &s, "open-passwd");
    assert!(
        passwd["message"].as_str().unwrap().ends_with("DONE"),
        "{passwd}"
    );
    assert!(
        !s.canaries.touched().is_empty(),
        "the control touched no canary"
    );
}
