//! Helpers shared by gdal-lambda's integration tests.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset

pub mod corpus;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

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
