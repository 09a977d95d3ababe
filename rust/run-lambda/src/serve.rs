//! `serve`: be the Runtime API of a container-image function that runs in
//! another container of the same task — a Batch multi-container job
//! (`ecsProperties`) whose containers share the task's network: this one
//! (essential) and the function's own image (not essential), started with
//! `AWS_LAMBDA_RUNTIME_API` pointing here and its `ImageConfig` applied.
//!
//! It listens first, so that the function's runtime can connect while the
//! function's configuration and the payload are fetched; then it hands out the
//! payload as the one invocation, writes the response back to S3 (or ends
//! with Cirrus' last line), and exits — which ends the task, and ECS stops
//! the function's container. A runtime that exits without answering is seen
//! through ECS's task metadata ([`crate::ecs`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::ecs::Watch;
use crate::function;
use crate::invoke::{invoke, InvokeOptions, Launch};
use crate::launch::StdoutTo;
use crate::payload;
use crate::report::{ms, Timings};
use crate::run::RunReport;
use crate::runtime_api::RuntimeApi;
use crate::runtime_match::{self, OnMismatch};
use crate::spec::InitType;
use crate::{Error, Result};

/// Where `serve` listens by default: the port Lambda's own Runtime API uses,
/// on the task's loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9001";

/// How to serve one invocation of a container-image function.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Function name, ARN or partial ARN, qualifier allowed.
    pub function: String,
    /// `s3://` or `https://` S3 URL of the payload.
    pub url: String,
    /// Where to write the response (default: Cirrus' `_out.json` convention).
    pub output: Option<String>,
    /// Where the Runtime API listens (the function's container's `AWS_LAMBDA_RUNTIME_API`).
    pub listen: SocketAddr,
    /// The job definition's name for the function's container.
    pub runtime_container: String,
    /// The function container's `AWS_LAMBDA_INITIALIZATION_TYPE`.
    pub init_type: InitType,
    /// Fail after this long.
    pub timeout: Option<Duration>,
    /// Whether another architecture than the function's stops the run.
    pub on_mismatch: OnMismatch,
}

/// Serve the invocation and write its response.
pub async fn serve(opts: &ServeOptions) -> Result<RunReport> {
    let started = Instant::now();
    let (input, output) = payload::input_and_output(&opts.url, opts.output.as_deref())?;
    // Listening before anything else: the function's container starts with ours.
    let api = RuntimeApi::bind(opts.listen, opts.init_type).await?;
    tracing::info!(listen = %api.addr(), "runtime API listening");

    let config = stratus_aws::config::sdk_config().await;
    let s3 = stratus_aws::config::s3_client(&config);
    let lambda = function::client(&config, &opts.function);
    let lookup_started = Instant::now();
    let ((mut spec, _), payload) = tokio::try_join!(
        function::get_function(&lambda, &opts.function),
        payload::read(&s3, &input)
    )?;
    let fetched = lookup_started.elapsed();
    let Some(image) = spec.runtime.image_of().cloned() else {
        return Err(Error::Usage(format!(
            "function {} runs on {}, not a container image: `serve` is for image functions; run \
             zip functions with `run`",
            spec.name, spec.runtime
        )));
    };
    spec.init_type = opts.init_type;
    runtime_match::check(&spec, opts.on_mismatch)?;
    let watch = Watch::from_env(&opts.runtime_container);
    check_image(&watch, &image).await;
    tracing::info!(
        function = %spec.arn,
        image = image.reference(),
        container = %opts.runtime_container,
        "function found"
    );
    let (payload_json, payload_url) = payload;
    if payload_url != input {
        tracing::info!(payload = %payload_url, "payload resolved");
    }
    let body = bytes::Bytes::copy_from_slice(payload_json.get().as_bytes());
    let invoke_opts = InvokeOptions {
        timeout: opts.timeout,
        stdout: StdoutTo::Stdout,
    };
    let prepared = started.elapsed();
    let invoked = invoke(&spec, api, body, Launch::Elsewhere(watch), &invoke_opts).await?;
    let json = payload::response_json(&invoked.response)?;
    payload::write(&s3, &output, &json).await?;
    tracing::info!(output = %output, bytes = invoked.response.len(), "response written");
    Ok(RunReport {
        output,
        timings: Timings {
            to_event_ms: invoked.to_event.map(|d| ms(d + prepared)),
            get_function_ms: Some(ms(fetched)),
            fetch_ms: Some(ms(fetched)),
            runtime_to_event_ms: invoked.to_event.map(ms),
        },
    })
}

/// Warn when the job runs another image than the function's: the job
/// definition was made for an earlier deployment of the function.
async fn check_image(watch: &Watch, image: &crate::spec::Image) {
    let Some(running) = watch.image().await else {
        return;
    };
    let digest = |r: &str| r.rsplit_once('@').map(|(_, d)| d.to_string());
    let same = |a: &str| a == running || (digest(a).is_some() && digest(a) == digest(&running));
    let matches = same(&image.uri) || image.resolved_uri.as_deref().is_some_and(same);
    if !matches {
        tracing::warn!(
            job_image = %running,
            function_image = image.reference(),
            "the job runs another image than the function's: its job definition was made for an \
             earlier deployment; apply it again (lambda-batch-task) to follow the function"
        );
    }
}
