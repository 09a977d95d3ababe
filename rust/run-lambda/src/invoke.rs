//! One invocation: offer the event on the Runtime API, start the runtime (or,
//! for `serve`, watch the container it runs in), wait for its result, a crash,
//! the timeout or a stop signal, then kill the runtime's process tree (a
//! runtime in another container is left for ECS to stop with the task).
//! Shared by `run`, `exec` and `serve`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::ecs::Watch;
use crate::launch::{self, RuntimeProcess, StdoutTo};
use crate::runtime_api::{ApiEvent, Invocation, RuntimeApi};
use crate::spec::FunctionSpec;
use crate::stop::StopSignals;
use crate::workdir::Layout;
use crate::{Error, Result};

/// With no `--timeout`, the deadline the function is told (its
/// "remaining time"): far enough not to matter, as Batch's own timeout governs.
pub const NO_TIMEOUT_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How to run one invocation.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// Kill the runtime and fail after this long; `None`: no limit.
    pub timeout: Option<Duration>,
    /// Where the runtime's stdout goes.
    pub stdout: StdoutTo,
}

/// The function's response, and when the runtime took the event.
#[derive(Debug, Clone)]
pub struct Invoked {
    /// The response body, as the runtime posted it.
    pub response: Bytes,
    /// From starting the runtime to the runtime taking the event.
    pub to_event: Option<Duration>,
}

/// Where the runtime runs.
pub enum Launch<'a> {
    /// Started here from the function's files in `layout`: a process (a
    /// `bootstrap`, an interpreter, or `docker run` of the function's image).
    Here(&'a Layout),
    /// Already started elsewhere: the function's container of a multi-container
    /// Batch job, whose end `Watch` sees.
    Elsewhere(Watch),
}

/// The runtime, once started.
enum Started {
    Here(Box<RuntimeProcess>),
    Elsewhere(Watch),
}

impl Started {
    async fn wait(&mut self) -> String {
        match self {
            Started::Here(process) => process.wait().await,
            Started::Elsewhere(watch) => watch.stopped().await,
        }
    }

    fn early_exit_hint(&self) -> Option<&str> {
        match self {
            Started::Here(process) => process.early_exit_hint(),
            Started::Elsewhere(_) => Some(
                "did the function's container get AWS_LAMBDA_RUNTIME_API pointing at this runner? \
                 Its own log stream has its output",
            ),
        }
    }

    async fn end(&mut self) {
        if let Started::Here(process) = self {
            process.kill().await;
        }
    }
}

/// Offer `payload` on `api` as an invocation of `spec`, have its runtime
/// (started as `launch` says) take it, and return its response.
pub async fn invoke(
    spec: &FunctionSpec,
    mut api: RuntimeApi,
    payload: Bytes,
    launch: Launch<'_>,
    options: &InvokeOptions,
) -> Result<Invoked> {
    let start = Instant::now();
    let deadline_in = options.timeout.unwrap_or(NO_TIMEOUT_DEADLINE);
    let deadline_ms = SystemTime::now()
        .checked_add(deadline_in)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(u64::MAX);
    let invocation = Invocation::new(payload, &spec.arn, deadline_ms);
    let request_id = invocation.request_id.clone();
    let mut stop = StopSignals::listen()?;
    let mut runtime = match launch {
        Launch::Here(layout) => {
            warn_about_extensions(layout);
            Started::Here(Box::new(launch::spawn(
                spec,
                layout,
                api.addr(),
                options.stdout,
            )?))
        }
        Launch::Elsewhere(watch) => Started::Elsewhere(watch),
    };
    api.offer(invocation);
    let timeout = async {
        match options.timeout {
            Some(t) => tokio::time::sleep_until((start + t).into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);
    let mut to_event = None;
    let outcome = loop {
        tokio::select! {
            biased;
            event = api.recv() => match event {
                Some(ApiEvent::Delivered(at)) => {
                    to_event = Some(at.duration_since(start));
                    tracing::debug!(elapsed = ?to_event, "event delivered to the handler");
                }
                Some(reported) => if let Some(done) = outcome_of(reported) {
                    break done;
                },
                None => break Err(Error::Server("the runtime API stopped".into())),
            },
            status = runtime.wait() => {
                // A result posted just before the exit wins.
                if let Some(done) = api.try_recv().and_then(outcome_of) {
                    break done;
                }
                let hint = match runtime.early_exit_hint() {
                    Some(hint) if to_event.is_none() => format!(" (before taking the event: {hint})"),
                    _ => String::new(),
                };
                break Err(Error::RuntimeExit {
                    status: format!("RequestId: {request_id} Error: Runtime exited with error: {status}{hint}"),
                });
            }
            () = &mut timeout => break Err(Error::Timeout {
                secs: options.timeout.map(|t| t.as_secs_f64()).unwrap_or_default(),
            }),
            stopped = stop.recv() => break Err(stopped),
        }
    };
    // Lambda would freeze the sandbox after the result; there is no next
    // invocation here, so the runtime and anything it started are killed.
    runtime.end().await;
    drop(api);
    let total = start.elapsed();
    let response = outcome?;
    tracing::info!(
        request_id = %request_id,
        to_event_ms = to_event.map(|d| d.as_secs_f64() * 1000.0),
        total_ms = total.as_secs_f64() * 1000.0,
        bytes = response.len(),
        "function returned"
    );
    Ok(Invoked { response, to_event })
}

/// The invocation's outcome when the runtime reported one: the handler's
/// response, or the error it posted for the invocation or for its
/// initialisation. `None` for the event's delivery, which is no outcome.
fn outcome_of(reported: ApiEvent) -> Option<Result<Bytes>> {
    match reported {
        ApiEvent::Delivered(_) => None,
        ApiEvent::Response(body) => Some(Ok(body)),
        ApiEvent::FunctionError(r) => Some(Err(Error::Function {
            error_type: r.error_type,
            message: r.message,
        })),
        ApiEvent::InitError(r) | ApiEvent::RestoreError(r) => Some(Err(Error::Init {
            error_type: r.error_type,
            message: r.message,
        })),
    }
}

/// Layers may carry Lambda extensions (`/opt/extensions/*`); the runner does
/// not start them (there is no Extensions API here), so say so.
fn warn_about_extensions(layout: &Layout) {
    let dir = layout.opt.join("extensions");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !names.is_empty() {
            tracing::warn!(extensions = ?names, "layer extensions are not started by run-lambda");
        }
    }
}
