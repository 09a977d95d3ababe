//! Helpers shared by gdal-lambda's integration tests.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset

pub mod corpus;
pub mod handler;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

/// The gdal-lambda binary, which the handler under test starts as its parse workers.
pub fn function_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gdal-lambda"))
}

/// The run-lambda binary of this workspace (built on demand: `cargo test -p gdal-lambda` alone does not build it).
pub fn run_lambda() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_BIN_EXE_gdal-lambda"))
        .parent()
        .unwrap()
        .to_path_buf();
    let bin = target.join("run-lambda");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "run-lambda"])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build run-lambda");
    }
    bin
}

/// What the function said to one event.
pub struct Invocation {
    /// Its response.
    pub response: Value,
    /// Its logs (stdout and stderr, as run-lambda passed them on).
    pub logs: String,
}

/// Deliver `event` to the gdal-lambda binary as Lambda would, through
/// run-lambda's Runtime API (120 s timeout), writing Items to `output`, with
/// `env` for the function (after the given AWS environment); panics when the
/// invocation fails.
pub fn invoke_function(
    dir: &std::path::Path,
    event: &Value,
    output: &str,
    env: &[(String, String)],
) -> Invocation {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let event_file = dir.join(format!("event-{n}.json"));
    std::fs::write(&event_file, event.to_string()).unwrap();
    let response_file = dir.join(format!("response-{n}.json"));
    let out = Command::new(run_lambda())
        .args([
            "exec",
            env!("CARGO_BIN_EXE_gdal-lambda"),
            "--runtime",
            "provided.al2023",
        ])
        .args(["--timeout", "120", "--payload"])
        .arg(&event_file)
        .arg("--output")
        .arg(&response_file)
        .args(["--env", &format!("OUTPUT_URL={output}")])
        .args(["--env", "AWS_LAMBDA_LOG_FORMAT=JSON"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let logs = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the invocation failed:\n{logs}");
    let response = serde_json::from_slice(&std::fs::read(&response_file).unwrap()).unwrap();
    Invocation { response, logs }
}

/// Form-encode a key the way S3 event notifications do (`+` for a space).
pub fn event_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'*' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An S3 event with one record per (event name, decoded key, size), each
/// record shaped like AWS's documented sample (`fixtures/s3-put.json`).
pub fn s3_event(bucket: &str, records: &[(&str, &str, u64)]) -> Value {
    let sample: Value = serde_json::from_str(include_str!("../fixtures/s3-put.json")).unwrap();
    let template = &sample["Records"][0];
    let recs: Vec<Value> = records
        .iter()
        .map(|(name, key, size)| {
            let mut r = template.clone();
            r["eventName"] = json!(name);
            r["s3"]["bucket"]["name"] = json!(bucket);
            r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
            r["s3"]["object"]["key"] = json!(event_key(key));
            r["s3"]["object"]["size"] = json!(size);
            r
        })
        .collect();
    json!({ "Records": recs })
}

/// An SQS batch, one message per body, each record shaped like AWS's
/// documented sample (`fixtures/sqs-receive.json`); message ids `msg-<n>`.
pub fn sqs_event(bodies: &[String]) -> Value {
    let sample: Value = serde_json::from_str(include_str!("../fixtures/sqs-receive.json")).unwrap();
    let template = &sample["Records"][0];
    let recs: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut r = template.clone();
            r["messageId"] = json!(format!("msg-{i}"));
            r["body"] = json!(body);
            r
        })
        .collect();
    json!({ "Records": recs })
}

/// `message` as SNS delivers it to Lambda (`fixtures/sns-notification.json`).
pub fn sns_event(message: &Value) -> Value {
    let mut ev: Value =
        serde_json::from_str(include_str!("../fixtures/sns-notification.json")).unwrap();
    ev["Records"][0]["Sns"]["Message"] = json!(message.to_string());
    ev
}

/// `message` as SNS delivers it to an SQS queue without raw delivery: the body
/// of the SQS message (`fixtures/sns-to-sqs-body.json`).
pub fn sns_sqs_body(message: &Value) -> String {
    let mut body: Value =
        serde_json::from_str(include_str!("../fixtures/sns-to-sqs-body.json")).unwrap();
    body["Message"] = json!(message.to_string());
    body.to_string()
}

/// An EventBridge event from S3 (`fixtures/eventbridge-object-created.json`):
/// the key as it is, not form-encoded.
pub fn eventbridge_event(detail_type: &str, bucket: &str, key: &str, size: u64) -> Value {
    let mut ev: Value =
        serde_json::from_str(include_str!("../fixtures/eventbridge-object-created.json")).unwrap();
    ev["detail-type"] = json!(detail_type);
    ev["resources"] = json!([format!("arn:aws:s3:::{bucket}")]);
    ev["detail"]["bucket"]["name"] = json!(bucket);
    ev["detail"]["object"]["key"] = json!(key);
    ev["detail"]["object"]["size"] = json!(size);
    ev
}

/// The peak resident memory of the gdal-lambda processes running while it
/// watches: the handler's own and its parse workers' largest, from each
/// process's `VmHWM` in /proc, read every 20 ms.
pub struct PeakRss {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl PeakRss {
    /// Watch processes of the gdal-lambda binary from now on.
    pub fn watch() -> PeakRss {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let exe = std::fs::canonicalize(function_binary()).unwrap();
        let thread = std::thread::spawn(move || {
            let (mut handler, mut worker) = (0u64, 0u64);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let dir = entry.path();
                    if std::fs::read_link(dir.join("exe")).ok().as_deref() != Some(exe.as_path()) {
                        continue;
                    }
                    let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
                    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
                    let kb = status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                        .unwrap_or(0);
                    if String::from_utf8_lossy(&cmdline).contains("parse-worker") {
                        worker = worker.max(kb);
                    } else {
                        handler = handler.max(kb);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            (handler, worker)
        });
        PeakRss { stop, thread }
    }

    /// Stop; the peaks in MiB: (the handler, the largest worker).
    pub fn stop(self) -> (f64, f64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (h, w) = self.thread.join().unwrap();
        (h as f64 / 1024.0, w as f64 / 1024.0)
    }
}
