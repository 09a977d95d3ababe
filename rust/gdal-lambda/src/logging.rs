//! Logs: `tracing` for diagnostics, and one JSON record per raster.

use std::io::Write;
use std::sync::OnceLock;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;

static JSON: OnceLock<bool> = OnceLock::new();

/// Set up `tracing`: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON` (Lambda's
/// JSON log format), plain text otherwise; level from `AWS_LAMBDA_LOG_LEVEL`
/// or `RUST_LOG` (default `info`). Logs go to stderr in CLI mode so stdout
/// carries only the command's output.
pub fn init_tracing(cli: bool) {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let _ = JSON.set(json);
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| if cli { "warn".into() } else { "info".into() })
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
    /// A record that could not be processed.
    Error,
}

/// Write one structured record: a single JSON line on stdout in JSON mode
/// (fields at the top level, as Lambda's JSON log format expects), else a
/// text line with the JSON compacted.
pub fn log_record(level: Level, record: Value) {
    if *JSON.get().unwrap_or(&false) {
        let mut line = serde_json::Map::new();
        let now = time::OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        line.insert("timestamp".into(), Value::String(now));
        line.insert(
            "level".into(),
            Value::String(
                if level == Level::Info {
                    "INFO"
                } else {
                    "ERROR"
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
            Level::Error => tracing::error!("{msg}: {record}"),
        }
    }
}
