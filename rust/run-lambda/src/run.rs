//! `run`: run a deployed function's code on a payload from S3, the way Cirrus
//! runs a Lambda task as a Batch job, and write its response back to S3.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use stratus_aws::{Location, S3Url};

use crate::code::Shown;
use crate::entrypoint;
use crate::extract::Limits;
use crate::function::{self, Deployment};
use crate::install::{Expected, Installer};
use crate::invoke::{invoke, InvokeOptions, Launch};
use crate::launch::StdoutTo;
use crate::payload;
use crate::report::{ms, Timings};
use crate::runtime_api::{RuntimeApi, EPHEMERAL};
use crate::runtime_match::{self, OnMismatch};
use crate::spec::{Image, Runtime};
use crate::workdir::Workdir;
use crate::{Error, Result};

/// How to run a deployed function.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Function name, ARN or partial ARN, qualifier allowed.
    pub function: String,
    /// `s3://` or `https://` S3 URL of the payload.
    pub url: String,
    /// Where to write the response (default: Cirrus' `_out.json` convention).
    pub output: Option<String>,
    /// Replaces the function's code location.
    pub code: Option<Location>,
    /// Check the code against the function's `CodeSha256`.
    pub verify_code: bool,
    /// Replaces a layer's content location (`(layer version ARN, source)`).
    pub layer_code: Vec<(String, Location)>,
    /// Kill the function and fail after this long.
    pub timeout: Option<Duration>,
    /// Work directory (default: temporary).
    pub workdir: Option<PathBuf>,
    /// Keep the temporary work directory.
    pub keep_workdir: bool,
    /// Archive limits.
    pub limits: Limits,
    /// Whether another interpreter or architecture than the function's stops the run.
    pub on_mismatch: OnMismatch,
    /// Replaces a container-image function's image (its `ImageConfig` still applies).
    pub image: Option<String>,
}

impl RunOptions {
    /// Defaults for `function` on the payload at `url`.
    pub fn new(function: impl Into<String>, url: impl Into<String>) -> Self {
        RunOptions {
            function: function.into(),
            url: url.into(),
            output: None,
            code: None,
            verify_code: true,
            layer_code: Vec::new(),
            timeout: None,
            workdir: None,
            keep_workdir: false,
            limits: Limits::default(),
            on_mismatch: OnMismatch::Refuse,
            image: None,
        }
    }
}

/// What a successful run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Where the response was written.
    pub output: S3Url,
    /// How long its phases took (`--report`).
    pub(crate) timings: Timings,
}

const CODE_HINT: &str =
    "; pass --no-verify-code to run other code with this function's configuration";

/// Run the function and write its response.
pub async fn run(opts: &RunOptions) -> Result<RunReport> {
    let started = Instant::now();
    let (input, output) = payload::input_and_output(&opts.url, opts.output.as_deref())?;
    let config = stratus_aws::config::sdk_config().await;
    let s3 = stratus_aws::config::s3_client(&config);
    let lambda = function::client(&config, &opts.function);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "AWS config loaded"
    );

    let lookup_started = Instant::now();
    let (mut spec, deployment) = function::get_function(&lambda, &opts.function).await?;
    let lookup = lookup_started.elapsed();
    if let (Some(image), Some(replacement)) = (spec.runtime.image_of(), &opts.image) {
        spec.runtime = Runtime::image(Image {
            uri: replacement.clone(),
            resolved_uri: None,
            ..image.clone()
        });
    } else if opts.image.is_some() {
        return Err(Error::Usage(format!(
            "--image replaces a container-image function's image, and {} runs on {}",
            spec.name, spec.runtime
        )));
    }
    runtime_match::check(&spec, opts.on_mismatch)?;
    spec.runtime.warn_about_lifecycle();
    match spec.runtime.image_of() {
        Some(image) => {
            // Checked before anything is fetched: without Docker it cannot run here.
            entrypoint::docker(&spec.name, image)?;
            tracing::info!(function = %spec.arn, image = image.reference(), "function found");
        }
        None => tracing::info!(
            function = %spec.arn,
            runtime = %spec.runtime,
            handler = %spec.handler,
            layers = deployment.layers.len(),
            "function found"
        ),
    }

    let workdir = Workdir::new(opts.workdir.as_deref(), opts.keep_workdir)?;
    let layout = workdir.layout();
    tracing::debug!(
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "work directory ready"
    );
    // The payload and the code come from different places: fetch both at once.
    let fetch_started = Instant::now();
    let mut installer = Installer::new(&workdir, opts.limits, Some(&s3))?;
    let is_image = spec.runtime.image_of().is_some();
    let (payload, ()) = tokio::try_join!(payload::read(&s3, &input), async {
        if is_image {
            return Ok(());
        }
        install_code(opts, &deployment, &mut installer).await?;
        install_layers(opts, &lambda, &deployment, &mut installer).await
    })?;
    let fetch = fetch_started.elapsed();
    let (payload_json, payload_url) = payload;
    if payload_url != input {
        tracing::info!(payload = %payload_url, "payload resolved");
    }
    let prepared = started.elapsed();
    let invoke_opts = InvokeOptions {
        timeout: opts.timeout,
        stdout: StdoutTo::Stdout,
    };
    let body = bytes::Bytes::copy_from_slice(payload_json.get().as_bytes());
    let api = RuntimeApi::bind(EPHEMERAL, spec.init_type).await?;
    let invoked = invoke(&spec, api, body, Launch::Here(&layout), &invoke_opts).await?;
    let json = payload::response_json(&invoked.response)?;
    payload::write(&s3, &output, &json).await?;
    tracing::info!(output = %output, bytes = invoked.response.len(), "response written");
    drop(workdir);
    Ok(RunReport {
        output,
        timings: Timings {
            to_event_ms: invoked.to_event.map(|d| ms(d + prepared)),
            get_function_ms: Some(ms(lookup)),
            fetch_ms: Some(ms(fetch)),
            runtime_to_event_ms: invoked.to_event.map(ms),
        },
    })
}

async fn install_code(
    opts: &RunOptions,
    deployment: &Deployment,
    installer: &mut Installer<'_>,
) -> Result<()> {
    let (source, expected) = match &opts.code {
        Some(source) => (
            source.clone(),
            Expected {
                sha256: deployment
                    .code_sha256
                    .as_deref()
                    .filter(|_| opts.verify_code),
                hint: CODE_HINT,
            },
        ),
        None => (
            deployment.code.clone().ok_or_else(|| {
                Error::CodeDownload(
                    "GetFunction gave no code location; pass --code <s3://…|https://…|path>".into(),
                )
            })?,
            Expected {
                sha256: deployment.code_sha256.as_deref(),
                hint: "",
            },
        ),
    };
    if matches!(&source, Location::Local(p) if p.is_dir()) && expected.sha256.is_some() {
        tracing::warn!(code = %Shown(&source), "a directory cannot be checked against CodeSha256");
    }
    installer
        .code(&source, expected)
        .await
        .map_err(|e| match e {
            Error::CodeDownload(m) if opts.code.is_none() => Error::CodeDownload(format!(
            "{m} (pass --code <s3://…|https://…|path> where the code location is not reachable)"
        )),
            other => other,
        })
}

async fn install_layers(
    opts: &RunOptions,
    lambda: &aws_sdk_lambda::Client,
    deployment: &Deployment,
    installer: &mut Installer<'_>,
) -> Result<()> {
    for arn in &deployment.layers {
        let content = function::get_layer(lambda, arn).await?;
        let replaced = opts
            .layer_code
            .iter()
            .find(|(a, _)| a == arn)
            .map(|(_, s)| s.clone());
        let source = replaced.or(content.location).ok_or_else(|| {
            Error::CodeDownload(format!(
                "layer {arn} has no downloadable location; pass --layer-code {arn}=<s3://…|https://…|path>"
            ))
        })?;
        let expected = Expected {
            sha256: content.sha256.as_deref().filter(|_| opts.verify_code),
            hint: CODE_HINT,
        };
        installer
            .layer(&format!("layer {arn}"), &source, expected)
            .await?;
    }
    Ok(())
}
