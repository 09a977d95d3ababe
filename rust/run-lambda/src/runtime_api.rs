//! A Lambda Runtime API (`2018-06-01`) server for exactly one invocation.
//!
//! It listens on an ephemeral port of 127.0.0.1 and answers the way Lambda
//! answers a runtime:
//!
//! - `GET  /2018-06-01/runtime/invocation/next`: the event, with the
//!   `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`
//!   and `-Trace-Id` headers. Later calls wait forever (Lambda would freeze
//!   the sandbox; we stop the runtime instead).
//! - `POST …/invocation/{id}/response`: the result, `202`. Streamed responses
//!   (`Lambda-Runtime-Function-Response-Mode: streaming`) are collected, and
//!   an error in the trailers is reported as a function error.
//! - `POST …/invocation/{id}/error`: `{"errorMessage","errorType","stackTrace"}`,
//!   or just the `Lambda-Runtime-Function-Error-Type` header, `202`.
//! - `POST /2018-06-01/runtime/init/error`: initialisation failed, `202`.
//! - With the SnapStart init type only (as in Lambda, where these routes exist
//!   only for SnapStart environments): `GET /2018-06-01/runtime/restore/next`
//!   before the first `next`, answered `200` with an empty body at once (there
//!   is no snapshot here: the environment is "restored" as soon as the runtime
//!   is ready for it, so its before-snapshot and after-restore hooks run back to
//!   back), and `POST /2018-06-01/runtime/restore/error` after it, `202`, which
//!   fails the run like an init error.
//! - an unknown request id is `400 InvalidRequestID`, a second result for the
//!   invocation, an init error after it started, or a restore call out of turn
//!   `403 InvalidStateTransition`, anything else `404` (or `405` for a known
//!   path with the wrong method).
//!
//! The server listens before it knows the invocation ([`RuntimeApi::bind`]),
//! so that a runtime in another container can connect while the payload is
//! still being fetched; `next` waits until [`RuntimeApi::offer`].
//! What happened is sent to the owner as [`ApiEvent`]s.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::spec::InitType;
use crate::{Error, Result};

/// The path prefix of the Runtime API (its version, 2018-06-01).
const PREFIX: &str = "/2018-06-01/runtime";

/// The headers of the Runtime API (lower case, as `http` stores header names).
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
const INVOKED_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
const TRACE_ID: &str = "lambda-runtime-trace-id";
const FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";
/// A streamed response's trailer carrying a mid-stream failure (base64).
const FUNCTION_ERROR_BODY: &str = "lambda-runtime-function-error-body";

/// The invocation the server hands out.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event (JSON).
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
}

impl Invocation {
    /// A new invocation of `function_arn` with a fresh request id and trace id,
    /// due `deadline_ms` (Unix epoch milliseconds).
    pub fn new(payload: Bytes, function_arn: &str, deadline_ms: u64) -> Self {
        Invocation {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload,
            deadline_ms,
            invoked_function_arn: function_arn.to_string(),
            trace_id: new_trace_id(),
        }
    }
}

/// An X-Ray trace header value, as Lambda sends it (not sampled).
pub fn new_trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

/// An error as a runtime reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// `errorType` (or the `Lambda-Runtime-Function-Error-Type` header).
    pub error_type: String,
    /// `errorMessage`.
    pub message: String,
    /// `stackTrace` lines, when given.
    pub stack_trace: Vec<String>,
}

/// What the runtime did.
#[derive(Debug)]
pub enum ApiEvent {
    /// The runtime took the event (`next` answered).
    Delivered(Instant),
    /// The handler's result.
    Response(Bytes),
    /// The handler failed.
    FunctionError(ErrorReport),
    /// Initialisation failed.
    InitError(ErrorReport),
    /// The runtime's after-restore hooks failed (`/runtime/restore/error`).
    RestoreError(ErrorReport),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    /// SnapStart: `/runtime/restore/next` answered, the first `next` not yet asked.
    Restored,
    Invoking,
    Done,
}

struct State {
    init_type: InitType,
    invocation: watch::Receiver<Option<Invocation>>,
    phase: Mutex<Phase>,
    events: mpsc::UnboundedSender<ApiEvent>,
}

impl State {
    /// The invocation, once offered.
    fn offered(&self) -> Option<Invocation> {
        self.invocation.borrow().clone()
    }
}

/// The running server; stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<ApiEvent>,
    offer: watch::Sender<Option<Invocation>>,
    task: tokio::task::JoinHandle<()>,
}

/// Where `run` and `exec` listen: a port of the loopback interface chosen by the system.
pub const EPHEMERAL: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

impl RuntimeApi {
    /// Listen on `addr` for a runtime initialised as `init_type`; `next` waits
    /// for [`RuntimeApi::offer`].
    pub async fn bind(addr: SocketAddr, init_type: InitType) -> Result<RuntimeApi> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Server(format!("cannot listen on {addr}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Server(e.to_string()))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (offer, invocation) = watch::channel(None);
        let state = Arc::new(State {
            init_type,
            invocation,
            phase: Mutex::new(Phase::Init),
            events: tx,
        });
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // E.g. out of file descriptors: do not spin.
                        tracing::warn!(error = %e, "runtime API: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                // Reap finished connections so the set does not grow.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(RuntimeApi {
            addr,
            events: rx,
            offer,
            task,
        })
    }

    /// Hand out `invocation` to the runtime's `next` (at once if it is waiting).
    pub fn offer(&self, invocation: Invocation) {
        self.offer.send_replace(Some(invocation));
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next thing the runtime did (`None` once the server is gone).
    pub async fn recv(&mut self) -> Option<ApiEvent> {
        self.events.recv().await
    }

    /// A result already received, without waiting.
    pub fn try_recv(&mut self) -> Option<ApiEvent> {
        self.events.try_recv().ok()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Aborting the accept loop drops the JoinSet, which aborts every connection.
        self.task.abort();
    }
}

type Resp = Response<Full<Bytes>>;

fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Resp {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    json(status, body.to_string())
}

fn accepted() -> Resp {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn handle(state: &State, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return api_error(StatusCode::NOT_FOUND, "NotFound", "unknown path");
    };
    let method = req.method().clone();
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["", "invocation", "next"] => {
            if method != Method::GET {
                return method_not_allowed();
            }
            next(state).await
        }
        ["", "invocation", id, kind @ ("response" | "error")] => {
            if method != Method::POST {
                return method_not_allowed();
            }
            if state.offered().is_none_or(|inv| *id != inv.request_id) {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestID",
                    "Invalid request ID",
                );
            }
            let is_error = *kind == "error";
            result(state, req, is_error).await
        }
        ["", "init", "error"] => {
            if method != Method::POST {
                return method_not_allowed();
            }
            init_error(state, req).await
        }
        // Lambda routes these for SnapStart environments only.
        ["", "restore", "next"] if state.init_type == InitType::SnapStart => {
            if method != Method::GET {
                return method_not_allowed();
            }
            restore_next(state)
        }
        ["", "restore", "error"] if state.init_type == InitType::SnapStart => {
            if method != Method::POST {
                return method_not_allowed();
            }
            restore_error(state, req).await
        }
        _ => api_error(StatusCode::NOT_FOUND, "NotFound", "unknown path"),
    }
}

fn method_not_allowed() -> Resp {
    api_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "method not allowed",
    )
}

fn invalid_state() -> Resp {
    api_error(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        "State transition is not allowed",
    )
}

/// Move from `from` to `to`; false when the phase is another one.
fn transition(state: &State, from: Phase, to: Phase) -> bool {
    let Ok(mut phase) = state.phase.lock() else {
        return false;
    };
    if *phase == from {
        *phase = to;
        true
    } else {
        false
    }
}

async fn next(state: &State) -> Resp {
    let first = transition(state, Phase::Init, Phase::Invoking)
        || transition(state, Phase::Restored, Phase::Invoking);
    if !first {
        // One invocation only: Lambda would freeze the sandbox here.
        std::future::pending::<()>().await;
    }
    // Not offered yet (the payload is still being fetched): wait for it.
    let mut offered = state.invocation.clone();
    let inv = match offered.wait_for(Option::is_some).await {
        Ok(inv) => inv.clone(),
        Err(_) => None,
    };
    let Some(inv) = inv else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the runner stopped before the invocation was ready",
        );
    };
    let _ = state.events.send(ApiEvent::Delivered(Instant::now()));
    let mut resp = json(StatusCode::OK, inv.payload.clone());
    let headers = resp.headers_mut();
    let pairs = [
        (REQUEST_ID, inv.request_id.clone()),
        (DEADLINE_MS, inv.deadline_ms.to_string()),
        (INVOKED_FUNCTION_ARN, inv.invoked_function_arn.clone()),
        (TRACE_ID, inv.trace_id.clone()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    resp
}

/// SnapStart's restore: the runtime ran its before-snapshot hooks and is ready
/// for the snapshot. There is none to take or restore, so it is answered at once
/// and the runtime goes on to its after-restore hooks.
fn restore_next(state: &State) -> Resp {
    if !transition(state, Phase::Init, Phase::Restored) {
        return invalid_state();
    }
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::OK;
    resp
}

async fn restore_error(state: &State, req: Request<Incoming>) -> Resp {
    // Lambda names a restore failure by the header; the body is the hook's error.
    phase_error(
        state,
        req,
        Phase::Restored,
        |t, _| !t.is_empty(),
        ApiEvent::RestoreError,
    )
    .await
}

async fn result(state: &State, req: Request<Incoming>, is_error: bool) -> Resp {
    let header_type = header(&req, FUNCTION_ERROR_TYPE);
    let collected = match req.into_body().collect().await {
        Ok(c) => c,
        Err(e) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                &format!("cannot read the body: {e}"),
            )
        }
    };
    // A streamed response reports a mid-stream failure in its trailers.
    let trailer_error = collected.trailers().and_then(|t| {
        let ty = t
            .get(FUNCTION_ERROR_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)?;
        let body = t
            .get(FUNCTION_ERROR_BODY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .unwrap_or_default();
        Some(parse_error(&body, Some(ty)))
    });
    let body = collected.to_bytes();
    if !transition(state, Phase::Invoking, Phase::Done) {
        return invalid_state();
    }
    let event = match (is_error, trailer_error) {
        (true, _) => ApiEvent::FunctionError(parse_error(&body, header_type)),
        (false, Some(report)) => ApiEvent::FunctionError(report),
        (false, None) => ApiEvent::Response(body),
    };
    let _ = state.events.send(event);
    accepted()
}

async fn init_error(state: &State, req: Request<Incoming>) -> Resp {
    // A runtime names the phase that failed in the header when it is its own
    // (awslambdaric: `Runtime.BeforeSnapshotError` for a SnapStart hook, over
    // the hook's exception in the body), as Lambda reports it.
    let own = |t: &str, r: &ErrorReport| t.starts_with("Runtime.") && t != r.error_type;
    phase_error(state, req, Phase::Init, own, ApiEvent::InitError).await
}

/// An error reported by the runtime in phase `from` (init or restore): the
/// body's report, typed by the header where `header_names` says the header
/// names it, sent to the owner as `event`.
async fn phase_error(
    state: &State,
    req: Request<Incoming>,
    from: Phase,
    header_names: impl Fn(&str, &ErrorReport) -> bool,
    event: fn(ErrorReport) -> ApiEvent,
) -> Resp {
    let header_type = header(&req, FUNCTION_ERROR_TYPE);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    if !transition(state, from, Phase::Done) {
        return invalid_state();
    }
    let mut report = parse_error(&body, header_type.clone());
    if let Some(t) = header_type.filter(|t| header_names(t, &report)) {
        report.error_type = t;
    }
    let _ = state.events.send(event(report));
    accepted()
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    stack_trace: Option<serde_json::Value>,
}

/// Read an error body; tolerate anything (a runtime may post plain text).
fn parse_error(body: &[u8], header_type: Option<String>) -> ErrorReport {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (message, body_type, stack) = match parsed {
        Some(b) => (
            b.error_message.unwrap_or_default(),
            b.error_type,
            b.stack_trace,
        ),
        None => (String::from_utf8_lossy(body).trim().to_string(), None, None),
    };
    let error_type = body_type
        .filter(|t| !t.is_empty())
        .or(header_type.filter(|t| !t.is_empty()))
        .unwrap_or_else(|| "Unhandled".to_string());
    let stack_trace = match stack {
        Some(serde_json::Value::Array(lines)) => lines
            .into_iter()
            .map(|l| match l {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Some(serde_json::Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    ErrorReport {
        error_type,
        message,
        stack_trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let r = parse_error(
            br#"{"errorMessage":"bad","errorType":"ValueError","stackTrace":["a","b"]}"#,
            Some("Runtime.Other".into()),
        );
        assert_eq!(r.error_type, "ValueError");
        assert_eq!(r.message, "bad");
        assert_eq!(r.stack_trace, vec!["a", "b"]);
        let r = parse_error(b"plain text", Some("Custom".into()));
        assert_eq!(
            (r.error_type.as_str(), r.message.as_str()),
            ("Custom", "plain text")
        );
        let r = parse_error(b"", None);
        assert_eq!(r.error_type, "Unhandled");
    }

    /// One HTTP/1.1 request on a fresh connection: (status, lower-cased head, body).
    async fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_string())
    }

    /// A server on an ephemeral port with `inv` offered.
    async fn start(inv: Invocation) -> RuntimeApi {
        let api = RuntimeApi::bind(EPHEMERAL, InitType::OnDemand)
            .await
            .unwrap();
        api.offer(inv);
        api
    }

    #[tokio::test]
    async fn answers_like_lambda() {
        let inv = Invocation::new(
            Bytes::from_static(b"{\"k\":1}"),
            "arn:aws:lambda:r:1:function:f",
            42,
        );
        let id = inv.request_id.clone();
        let mut api = start(inv).await;
        let addr = api.addr();
        assert!(addr.ip().is_loopback());
        let base = "/2018-06-01/runtime";
        let (status, _, _) = request(addr, "GET", "/nope", "").await;
        assert_eq!(status, 404);
        let (status, _, _) = request(addr, "POST", &format!("{base}/invocation/next"), "").await;
        assert_eq!(status, 405);
        let (status, head, body) =
            request(addr, "GET", &format!("{base}/invocation/next"), "").await;
        assert_eq!(status, 200);
        assert_eq!(body, r#"{"k":1}"#);
        assert!(
            head.contains(&format!("lambda-runtime-aws-request-id: {id}")),
            "{head}"
        );
        assert!(head.contains("lambda-runtime-deadline-ms: 42"), "{head}");
        assert!(head.contains("lambda-runtime-invoked-function-arn: arn:aws:lambda:r:1:function:f"));
        assert!(head.contains("lambda-runtime-trace-id: root=1-"), "{head}");
        assert!(matches!(api.recv().await, Some(ApiEvent::Delivered(_))));
        let (status, _, body) = request(
            addr,
            "POST",
            &format!("{base}/invocation/other/response"),
            "{}",
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.contains("InvalidRequestID"), "{body}");
        // Too late for an init error.
        let (status, _, _) = request(addr, "POST", &format!("{base}/init/error"), "{}").await;
        assert_eq!(status, 403);
        let (status, _, _) = request(
            addr,
            "POST",
            &format!("{base}/invocation/{id}/response"),
            "[1]",
        )
        .await;
        assert_eq!(status, 202);
        match api.recv().await {
            Some(ApiEvent::Response(b)) => assert_eq!(&b[..], b"[1]"),
            other => panic!("{other:?}"),
        }
        // One result per invocation.
        let (status, _, body) =
            request(addr, "POST", &format!("{base}/invocation/{id}/error"), "{}").await;
        assert_eq!(status, 403);
        assert!(body.contains("InvalidStateTransition"), "{body}");
    }

    #[tokio::test]
    async fn error_type_header_alone_is_enough() {
        let inv = Invocation::new(Bytes::from_static(b"{}"), "arn", 0);
        let id = inv.request_id.clone();
        let mut api = start(inv).await;
        let addr = api.addr();
        request(addr, "GET", "/2018-06-01/runtime/invocation/next", "").await;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Error-Type: Custom.Type\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        s.read_to_string(&mut String::new()).await.unwrap();
        let _delivered = api.recv().await;
        match api.recv().await {
            Some(ApiEvent::FunctionError(r)) => {
                assert_eq!(
                    (r.error_type.as_str(), r.message.as_str()),
                    ("Custom.Type", "oops")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn streamed_responses_and_their_error_trailers() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for (trailer, expect_error) in [("", false), ("with error", true)] {
            let inv = Invocation::new(Bytes::from_static(b"{}"), "arn", 0);
            let id = inv.request_id.clone();
            let mut api = start(inv).await;
            let addr = api.addr();
            request(addr, "GET", "/2018-06-01/runtime/invocation/next", "").await;
            let trailers = if trailer.is_empty() {
                String::new()
            } else {
                let body = base64::engine::general_purpose::STANDARD
                    .encode(r#"{"errorMessage":"broke mid-stream","errorType":"Stream.Broken"}"#);
                format!(
                    "Lambda-Runtime-Function-Error-Type: Stream.Broken\r\nLambda-Runtime-Function-Error-Body: {body}\r\n"
                )
            };
            let req = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
                 Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
                 Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\
                 Connection: close\r\n\r\n3\r\n[1,\r\n2\r\n2]\r\n0\r\n{trailers}\r\n"
            );
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
            let _delivered = api.recv().await;
            match (api.recv().await, expect_error) {
                (Some(ApiEvent::Response(b)), false) => assert_eq!(&b[..], b"[1,2]"),
                (Some(ApiEvent::FunctionError(r)), true) => {
                    assert_eq!(r.error_type, "Stream.Broken");
                    assert_eq!(r.message, "broke mid-stream");
                }
                (other, _) => panic!("{trailer}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn next_waits_for_the_invocation() {
        let mut api = RuntimeApi::bind(EPHEMERAL, InitType::OnDemand)
            .await
            .unwrap();
        let addr = api.addr();
        let asked = tokio::spawn(async move {
            request(addr, "GET", "/2018-06-01/runtime/invocation/next", "").await
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            !asked.is_finished(),
            "next answered before the invocation was offered"
        );
        // A result for an invocation not offered yet has no valid request id.
        let (status, _, _) = request(
            addr,
            "POST",
            "/2018-06-01/runtime/invocation/x/response",
            "{}",
        )
        .await;
        assert_eq!(status, 400);
        api.offer(Invocation::new(Bytes::from_static(b"[7]"), "arn", 1));
        let (status, _, body) = asked.await.unwrap();
        assert_eq!((status, body.as_str()), (200, "[7]"));
        assert!(matches!(api.recv().await, Some(ApiEvent::Delivered(_))));
    }

    #[tokio::test]
    async fn restore_routes_exist_for_snapstart_only() {
        let base = "/2018-06-01/runtime";
        // On demand, Lambda has no such routes.
        let api = start(Invocation::new(Bytes::from_static(b"{}"), "arn", 1)).await;
        let (status, _, _) = request(api.addr(), "GET", &format!("{base}/restore/next"), "").await;
        assert_eq!(status, 404);
        let (status, _, _) =
            request(api.addr(), "POST", &format!("{base}/restore/error"), "{}").await;
        assert_eq!(status, 404);

        // SnapStart: restore/next once, before next; restore/error after it.
        let api = RuntimeApi::bind(EPHEMERAL, InitType::SnapStart)
            .await
            .unwrap();
        api.offer(Invocation::new(Bytes::from_static(b"{}"), "arn", 1));
        let addr = api.addr();
        let (status, _, _) = request(addr, "POST", &format!("{base}/restore/error"), "{}").await;
        assert_eq!(status, 403, "a restore error before restore/next");
        let (status, _, body) = request(addr, "GET", &format!("{base}/restore/next"), "").await;
        assert_eq!((status, body.as_str()), (200, ""));
        let (status, _, _) = request(addr, "GET", &format!("{base}/restore/next"), "").await;
        assert_eq!(status, 403, "restore/next twice");
        let (status, _, _) = request(addr, "GET", &format!("{base}/invocation/next"), "").await;
        assert_eq!(status, 200);
        let (status, _, _) = request(addr, "GET", &format!("{base}/restore/next"), "").await;
        assert_eq!(status, 403, "restore/next after next");

        // An after-restore hook's failure, named by the header.
        let mut api = RuntimeApi::bind(EPHEMERAL, InitType::SnapStart)
            .await
            .unwrap();
        let addr = api.addr();
        request(addr, "GET", &format!("{base}/restore/next"), "").await;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = r#"{"errorMessage":"no db","errorType":"ConnectionError"}"#;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST {base}/restore/error HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Error-Type: Runtime.AfterRestoreError\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        match api.recv().await {
            Some(ApiEvent::RestoreError(r)) => {
                assert_eq!(
                    (r.error_type.as_str(), r.message.as_str()),
                    ("Runtime.AfterRestoreError", "no db")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trace_ids_look_like_xray() {
        let t = new_trace_id();
        assert!(t.starts_with("Root=1-"), "{t}");
        assert!(t.ends_with(";Sampled=0"), "{t}");
    }
}
