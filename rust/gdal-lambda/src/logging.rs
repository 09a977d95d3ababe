//! Logs: `tracing` for diagnostics, and one JSON record per raster.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::Value;

use crate::clock;

static JSON: OnceLock<bool> = OnceLock::new();

tokio::task_local! {
    /// The request id of the invocation being handled.
    static REQUEST_ID: String;
}

/// Run `f` with `request_id` added to every log line it writes in JSON mode
/// (Lambda's JSON log format has `requestId` at the top level).
pub async fn with_request_id<F: std::future::Future>(request_id: String, f: F) -> F::Output {
    REQUEST_ID.scope(request_id, f).await
}

fn request_id() -> Option<String> {
    REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .filter(|id| !id.is_empty())
}

/// Stdout, with the invocation's `requestId` put first in each JSON line:
/// `tracing`'s JSON formatter writes one whole line per event.
struct RequestIdStdout;

impl Write for RequestIdStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = std::io::stdout().lock();
        match (request_id(), buf.first()) {
            (Some(id), Some(b'{')) => {
                let field = serde_json::to_string(&id).unwrap_or_default();
                out.write_all(b"{\"requestId\":")?;
                out.write_all(field.as_bytes())?;
                if buf.get(1) != Some(&b'}') {
                    out.write_all(b",")?;
                }
                out.write_all(&buf[1..])?;
            }
            _ => out.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

/// Set up `tracing`: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (Lambda's
/// JSON log format), plain text otherwise; level from `AWS_LAMBDA_LOG_LEVEL`
/// or `RUST_LOG` (default `info`). Logs go to stderr in CLI mode so stdout
/// carries only the command's output.
pub fn init_tracing(cli: bool) {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let _ = JSON.set(json);
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        // On the command line, the SDK's own warnings (an instance metadata
        // lookup that failed, with its debug dump) give way to our one-line
        // configuration errors.
        .unwrap_or_else(|_| {
            if cli {
                "warn,aws_config=error".into()
            } else {
                "info".into()
            }
        })
        .to_lowercase();
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match (json, cli) {
        (true, _) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(|| RequestIdStdout)
            .try_init(),
        (false, true) => builder
            .with_writer(std::io::stderr)
            .without_time()
            .try_init(),
        (false, false) => builder.without_time().with_ansi(false).try_init(),
    };
    drop(result); // already initialised (tests): keep the first
}

/// Severity of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal operation.
    Info,
    /// Something to look at that is not a failure (a confinement layer missing, a worker's output).
    Warn,
    /// A record that could not be processed.
    Error,
}

/// Largest record written. CloudWatch Logs splits events above 256 KiB, and
/// a record must stay one event: larger ones are shortened (see [`fit`]).
pub const MAX_RECORD_BYTES: usize = 200 * 1024;

/// Write one structured record: a single JSON line on stdout in JSON mode
/// (fields at the top level, as Lambda's JSON log format expects), else a
/// text line with the JSON compacted; never more than [`MAX_RECORD_BYTES`].
pub fn log_record(level: Level, record: Value) {
    let record = fit(record, MAX_RECORD_BYTES);
    if *JSON.get().unwrap_or(&false) {
        let mut line = serde_json::Map::new();
        line.insert("timestamp".into(), Value::String(clock::log_timestamp()));
        if let Some(id) = request_id() {
            line.insert("requestId".into(), Value::String(id));
        }
        line.insert(
            "level".into(),
            Value::String(
                match level {
                    Level::Info => "INFO",
                    Level::Warn => "WARN",
                    Level::Error => "ERROR",
                }
                .into(),
            ),
        );
        if let Value::Object(fields) = record {
            line.extend(fields);
        }
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, &Value::Object(line));
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    } else {
        let msg = record
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("record")
            .to_string();
        match level {
            Level::Info => tracing::info!("{msg}: {record}"),
            Level::Warn => tracing::warn!("{msg}: {record}"),
            Level::Error => tracing::error!("{msg}: {record}"),
        }
    }
}

/// Shortens one field of a record.
type Cut = fn(&mut Value);

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// `record` made to fit in `max` bytes of JSON, shortened in order of what
/// matters least, each cut noted in the record: the band list first down to
/// half the budget (the first bands kept, `bands_logged` of `band_count`),
/// then the GCP list, metadata domains other than `IMAGE_STRUCTURE`, the
/// CRS's long forms (WKT2, PROJJSON), warnings, the footprints (WGS84 and
/// the CRS's), then the bands again; and if that is not enough, every field's text cut short.
pub fn fit(mut record: Value, max: usize) -> Value {
    if json_len(&record) <= max {
        return record;
    }
    let total = record
        .pointer("/raster/bands")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let bands_len = |r: &Value| r.pointer("/raster/bands").map_or(0, json_len);
    let cut_bands = |r: &mut Value, budget: usize| {
        while bands_len(r) > budget {
            let Some(bands) = r.pointer_mut("/raster/bands").and_then(Value::as_array_mut) else {
                break;
            };
            if bands.len() <= 1 {
                break;
            }
            let keep = bands.len() / 2;
            bands.truncate(keep);
        }
    };
    cut_bands(&mut record, max / 2);
    let cuts: [(&str, Cut); 6] = [
        // Thousands of GCPs (L1 products): the first ones say what they are.
        ("gcps", |g| {
            if let Some(points) = g.get_mut("points").and_then(Value::as_array_mut) {
                points.truncate(16);
            }
        }),
        ("metadata", |m| {
            if let Some(domains) = m.as_object_mut() {
                domains.retain(|d, _| d == "IMAGE_STRUCTURE");
            }
        }),
        ("crs", |c| {
            if let Some(crs) = c.as_object_mut() {
                crs.remove("wkt2");
                crs.remove("projjson");
            }
        }),
        ("warnings", |w| {
            if let Some(list) = w.as_array_mut() {
                list.truncate(5);
            }
        }),
        ("footprint", |f| *f = Value::Null),
        ("crs_footprint", |f| *f = Value::Null),
    ];
    let mut shortened = Vec::new();
    for (field, cut) in cuts {
        if json_len(&record) <= max {
            break;
        }
        if let Some(v) = record.pointer_mut(&format!("/raster/{field}")) {
            cut(v);
            shortened.push(Value::from(field));
        }
    }
    let band_list = |r: &Value| {
        r.pointer("/raster/bands")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    while json_len(&record) > max && band_list(&record) > 1 {
        let budget = bands_len(&record) / 2;
        cut_bands(&mut record, budget);
    }
    if let Some(raster) = record.get_mut("raster").and_then(Value::as_object_mut) {
        let logged = raster
            .get("bands")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if logged < total {
            raster.insert("band_count".into(), total.into());
            raster.insert("bands_logged".into(), logged.into());
        }
        if !shortened.is_empty() {
            raster.insert("shortened".into(), Value::Array(shortened));
        }
    }
    let mut limit = 4096;
    while json_len(&record) > max && limit > 16 {
        cut_strings(&mut record, limit);
        limit /= 4;
    }
    record
}

/// Cut every string in `v` to `limit` characters.
fn cut_strings(v: &mut Value, limit: usize) {
    match v {
        Value::String(s) if s.chars().count() > limit => {
            *s = s.chars().take(limit).chain("…".chars()).collect();
        }
        Value::Array(items) => items.iter_mut().for_each(|i| cut_strings(i, limit)),
        Value::Object(fields) => fields.values_mut().for_each(|f| cut_strings(f, limit)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_fit_whole() {
        let band = json!({"index": 1, "data_type": "Float32", "description": "x".repeat(200)});
        let small = json!({"message": "raster metadata", "raster": {"bands": [band]}});
        assert_eq!(fit(small.clone(), 10_000), small);

        let bands: Vec<Value> = (0..5000).map(|_| band.clone()).collect();
        let domains: serde_json::Map<String, Value> = (0..200)
            .map(|i| (format!("D{i}"), json!({"k": "v".repeat(1000)})))
            .chain([("IMAGE_STRUCTURE".to_string(), json!({"LAYOUT": "COG"}))])
            .collect();
        let big = json!({"message": "raster metadata", "key": "k.tif", "raster": {
            "driver": "GTiff", "bands": bands, "metadata": domains,
            "crs": {"epsg": 4326, "wkt2": "W".repeat(50_000)}}});
        let fitted = fit(big, MAX_RECORD_BYTES);
        assert!(json_len(&fitted) <= MAX_RECORD_BYTES);
        let r = &fitted["raster"];
        assert_eq!(r["band_count"], 5000);
        let logged = r["bands_logged"].as_u64().unwrap();
        assert_eq!(r["bands"].as_array().unwrap().len() as u64, logged);
        assert!(logged >= 100, "{logged}");
        assert_eq!(r["metadata"], json!({"IMAGE_STRUCTURE": {"LAYOUT": "COG"}}));
        assert_eq!(fitted["key"], "k.tif");

        // Whatever it holds, a record comes out whole and under the limit.
        for huge in [
            json!({"message": "x", "error": "e".repeat(1_000_000), "raster": {"bands": []}}),
            json!({"message": "x", "raster": {"bands": [{"description": "d".repeat(300_000)}]}}),
        ] {
            let fitted = fit(huge, 10_000);
            assert!(json_len(&fitted) <= 10_000);
            assert_eq!(fitted["message"], "x");
        }
    }
}
