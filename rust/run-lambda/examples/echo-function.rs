//! A `provided.al2023` Lambda function on the real `lambda_runtime` crate,
//! for run-lambda's tests: the event's `mode` says what to do.
//!
//! - `echo` (default): return `{"echo": <event>, "context": …, "env": …, "received_at_ns": …}`;
//! - `error`: fail with error type `InvalidInput`;
//! - `panic`: panic in the handler;
//! - `exit`: exit the process mid-invocation (status 7);
//! - `sleep`: start a grandchild `sleep`, write its pid to `pid_file`, sleep `secs`;
//! - `detach`: like `sleep`, but the grandchild leaves the process group
//!   (`setsid`) and keeps the output pipes; with `secs` 0 it returns at once;
//! - `big`: print `lines` log lines and return `bytes` bytes of data;
//! - `unserializable`: return a value that cannot be serialised to JSON;
//! - `raw`: post a response that is not JSON, then wait.
//!
//! With `ECHO_FUNCTION_INIT=report` it reports an init error and exits;
//! with `ECHO_FUNCTION_INIT=exit` it exits before asking for an event.

use std::io::{Read, Write};
use std::time::Duration;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// A response whose serialisation fails.
enum Response {
    Json(Value),
    Unserializable,
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Response::Json(v) => v.serialize(s),
            Response::Unserializable => Err(serde::ser::Error::custom("cannot serialise this")),
        }
    }
}

/// POST to the Runtime API without a client library (what lambda_runtime does not expose).
fn post(path: &str, body: &str, error_type: Option<&str>) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let Ok(mut s) = std::net::TcpStream::connect(&api) else {
        return;
    };
    let extra = error_type
        .map(|t| format!("Lambda-Runtime-Function-Error-Type: {t}\r\n"))
        .unwrap_or_default();
    let _ = write!(
        s,
        "POST /2018-06-01/runtime/{path} HTTP/1.1\r\nHost: {api}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.read_to_end(&mut Vec::new());
}

async fn handle(event: LambdaEvent<Value>) -> Result<Response, Diagnostic> {
    // When the event arrived, for the runner-overhead benchmark.
    let received_at_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let (payload, ctx) = event.into_parts();
    let mode = payload["mode"].as_str().unwrap_or("echo").to_string();
    println!("echo-function: mode {mode}");
    match mode.as_str() {
        "error" => Err(Diagnostic {
            error_type: "InvalidInput".into(),
            error_message: "the payload has no features".into(),
        }),
        "panic" => panic!("the handler panicked"),
        "exit" => std::process::exit(7),
        "sleep" | "detach" => {
            let child = if mode == "detach" {
                std::process::Command::new("setsid")
                    .args(["sleep", "300"])
                    .spawn()
            } else {
                std::process::Command::new("sleep").arg("300").spawn()
            };
            if let (Ok(child), Some(file)) = (child, payload["pid_file"].as_str()) {
                let _ = std::fs::write(file, child.id().to_string());
            }
            let secs = payload["secs"].as_f64().unwrap_or(300.0);
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            Ok(Response::Json(json!({"slept": secs})))
        }
        "big" => {
            let lines = payload["lines"].as_u64().unwrap_or(1000);
            let mut out = std::io::stdout().lock();
            for i in 0..lines {
                let _ = writeln!(out, "log line {i} {}", "x".repeat(100));
            }
            let bytes = payload["bytes"].as_u64().unwrap_or(0) as usize;
            Ok(Response::Json(json!({"data": "y".repeat(bytes)})))
        }
        "unserializable" => Ok(Response::Unserializable),
        "raw" => {
            post(
                &format!("invocation/{}/response", ctx.request_id),
                "this is not JSON",
                None,
            );
            tokio::time::sleep(Duration::from_secs(300)).await;
            Ok(Response::Json(Value::Null))
        }
        _ => {
            let env: serde_json::Map<String, Value> = [
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_REGION",
                "LAMBDA_TASK_ROOT",
                "_HANDLER",
                "TZ",
                "LD_LIBRARY_PATH",
                "MY_SETTING",
            ]
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    std::env::var(k).map(Value::from).unwrap_or(Value::Null),
                )
            })
            .collect();
            Ok(Response::Json(json!({
                "echo": payload,
                "context": {
                    "request_id": ctx.request_id,
                    "invoked_function_arn": ctx.invoked_function_arn,
                    "deadline": ctx.deadline,
                    "xray_trace_id": ctx.xray_trace_id,
                },
                "env": env,
                "cwd": std::env::current_dir().ok(),
                "received_at_ns": received_at_ns,
            })))
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    match std::env::var("ECHO_FUNCTION_INIT").as_deref() {
        Ok("report") => {
            post(
                "init/error",
                r#"{"errorMessage":"missing configuration","errorType":"Runtime.InitError"}"#,
                Some("Runtime.InitError"),
            );
            std::process::exit(1);
        }
        Ok("exit") => {
            eprintln!("echo-function: exiting during init");
            std::process::exit(3);
        }
        _ => {}
    }
    lambda_runtime::run(service_fn(handle)).await
}
