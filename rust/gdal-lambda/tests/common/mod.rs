//! Helpers shared by gdal-lambda's integration tests.

#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset

use serde_json::{json, Value};

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
