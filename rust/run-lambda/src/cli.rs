//! The command line: `run`, `exec`, `serve` and `submit`, parsed into the commands' options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use stratus_aws::Location;

use crate::exec::ExecOptions;
use crate::extract::Limits;
use crate::launch::StdoutTo;
use crate::report::{ms, Timings};
use crate::run::RunOptions;
use crate::runtime_match::OnMismatch;
use crate::serve::ServeOptions;
use crate::spec::{Image, InitType};
use crate::submit::SubmitOptions;
use crate::{payload, Error, Result};

/// Run any AWS Lambda function's code as a Batch job, through a local Lambda Runtime API.
#[derive(Debug, Parser)]
#[command(name = "run-lambda", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a deployed function on the JSON payload at URL and write its response to URL_OUT.
    Run(RunArgs),
    /// Run local function code (directory, zip, URL of a zip, or an executable used as `bootstrap`),
    /// or a container-image function's image with Docker (`--image`).
    Exec(ExecArgs),
    /// Be the Runtime API of a container-image function running in another container of this
    /// task (a Batch multi-container job): one invocation on the payload at URL.
    Serve(ServeArgs),
    /// Upload a payload and submit a Batch job that runs FUNCTION on it.
    Submit(SubmitArgs),
}

/// Options shared by `run` and `exec`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Kill the function and fail after SECS seconds (default: no limit; Batch's timeout governs).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Work directory for the code and layers (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Keep the temporary work directory.
    #[arg(long)]
    pub keep_workdir: bool,
    /// Run the function even when this image's Python or Node.js version, or the machine's
    /// architecture, is not the function's runtime's (a warning instead of exit 17).
    #[arg(long)]
    pub allow_runtime_mismatch: bool,
    /// Write the run's timings to FILE as JSON at the end (for benchmarks).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Largest total size the code and layer archives may expand to.
    #[arg(long, value_name = "BYTES", env = "RUN_LAMBDA_MAX_UNZIPPED_BYTES", default_value_t = Limits::default().max_total_bytes)]
    pub max_unzipped_bytes: u64,
}

/// `--timeout SECS` as a duration.
fn timeout(secs: Option<f64>) -> Result<Option<Duration>> {
    match secs {
        None => Ok(None),
        Some(t) if t.is_finite() && t > 0.0 => Ok(Some(Duration::from_secs_f64(t))),
        Some(t) => Err(Error::Usage(format!("--timeout must be positive, not {t}"))),
    }
}

/// `--allow-runtime-mismatch`.
fn on_mismatch(allow: bool) -> OnMismatch {
    if allow {
        OnMismatch::Warn
    } else {
        OnMismatch::Refuse
    }
}

impl CommonArgs {
    fn timeout(&self) -> Result<Option<Duration>> {
        timeout(self.timeout)
    }

    fn on_mismatch(&self) -> OnMismatch {
        on_mismatch(self.allow_runtime_mismatch)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.max_unzipped_bytes,
            ..Limits::default()
        }
    }
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Function name, ARN or partial ARN; a qualifier (`:alias`, `:version`) is allowed.
    pub function: String,
    /// `s3://` or `https://` S3 URL of the JSON payload (gzip when the key ends in `.gz`).
    pub url: String,
    /// Where to write the response (default: URL with its last `.json` replaced by `_out.json`).
    #[arg(long, value_name = "URL_OUT")]
    pub output: Option<String>,
    /// Use this code instead of the function's code location (s3://…, https://…, or a path).
    #[arg(long, value_name = "SOURCE", value_parser = Location::parse)]
    pub code: Option<Location>,
    /// Do not check the code (and layers) against the SHA-256 Lambda reports.
    #[arg(long)]
    pub no_verify_code: bool,
    /// Use SOURCE for the layer version ARN (repeatable): `--layer-code ARN=SOURCE`.
    #[arg(long, value_name = "ARN=SOURCE")]
    pub layer_code: Vec<String>,
    /// A container-image function: run this image instead of the function's (with its ImageConfig).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The container-image function: name, ARN or partial ARN; a qualifier is allowed.
    pub function: String,
    /// `s3://` or `https://` S3 URL of the JSON payload (gzip when the key ends in `.gz`).
    pub url: String,
    /// Where to write the response (default: URL with its last `.json` replaced by `_out.json`).
    #[arg(long, value_name = "URL_OUT")]
    pub output: Option<String>,
    /// Where the Runtime API listens: the function container's AWS_LAMBDA_RUNTIME_API.
    #[arg(long, value_name = "ADDR", default_value = crate::serve::DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// The job definition's name for the function's container (watched through ECS's task metadata).
    #[arg(long, value_name = "NAME", default_value = "function")]
    pub runtime_container: String,
    /// The function container's AWS_LAMBDA_INITIALIZATION_TYPE (on-demand, snap-start).
    #[arg(long, value_name = "TYPE", default_value = "on-demand")]
    pub init_type: String,
    /// Fail after SECS seconds (default: no limit; Batch's timeout governs).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Run the function even when it is built for another architecture than this machine's.
    #[arg(long)]
    pub allow_runtime_mismatch: bool,
    /// Write the run's timings to FILE as JSON at the end.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// `exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The code: a directory, a zip, an s3:// or https:// URL of a zip, or an executable (run as `bootstrap`).
    #[arg(value_parser = Location::parse, required_unless_present = "image", conflicts_with = "image")]
    pub code: Option<Location>,
    /// A container-image function's image, run with Docker (on the host's network).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// With --image: ImageConfig's EntryPoint (repeatable: one argument each).
    #[arg(
        long,
        value_name = "ARG",
        requires = "image",
        allow_hyphen_values = true
    )]
    pub entrypoint: Vec<String>,
    /// With --image: ImageConfig's Command (repeatable: one argument each).
    #[arg(
        long,
        value_name = "ARG",
        requires = "image",
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
    /// With --image: ImageConfig's WorkingDirectory.
    #[arg(long, value_name = "DIR", requires = "image")]
    pub working_directory: Option<String>,
    /// AWS_LAMBDA_INITIALIZATION_TYPE: on-demand, snap-start (SnapStart's restore hooks run) or
    /// provisioned-concurrency.
    #[arg(long, value_name = "TYPE", default_value = "on-demand")]
    pub init_type: String,
    /// Handler (`_HANDLER`), e.g. `app.handler` for Python, `index.handler` for Node.js.
    #[arg(long)]
    pub handler: Option<String>,
    /// Runtime, e.g. `python3.12`, `nodejs20.x` or `provided.al2023` (default: provided.al2023 when there is a bootstrap).
    #[arg(long)]
    pub runtime: Option<String>,
    /// The event: a file, an s3:// or https:// S3 URL, or `-` for stdin (default: `{}`).
    #[arg(long, value_name = "FILE|URL|-")]
    pub payload: Option<String>,
    /// Where the response goes: a file, an S3 URL, or `-` for stdout.
    #[arg(long, value_name = "FILE|URL|-", default_value = "-")]
    pub output: String,
    /// A function environment variable (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// A layer: directory, zip or URL of a zip (repeatable, in order).
    #[arg(long, value_name = "SOURCE", value_parser = Location::parse)]
    pub layer: Vec<Location>,
    /// Function name the code sees (`AWS_LAMBDA_FUNCTION_NAME`).
    #[arg(long, default_value = "local")]
    pub function_name: String,
    /// Memory size the code sees (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    #[arg(long, value_name = "MB")]
    pub memory: Option<i32>,
    /// The function's architecture (default: this machine's); with --image, the platform
    /// its container runs on.
    #[arg(long, value_parser = ["x86_64", "arm64"])]
    pub architecture: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// `submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Function name, ARN or partial ARN (the job's `lambda_function` parameter).
    pub function: String,
    /// The payload: a local file (`-` for stdin) or an s3:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub payload: String,
    /// Batch job queue.
    #[arg(long, value_name = "Q")]
    pub job_queue: String,
    /// Batch job definition.
    #[arg(long, value_name = "D")]
    pub job_definition: String,
    /// Where a local payload is uploaded: s3://bucket/prefix.
    #[arg(long, value_name = "S3_URL")]
    pub payload_url_prefix: Option<String>,
    /// Output URL (default: the payload URL with `_out.json`).
    #[arg(long, value_name = "URL_OUT")]
    pub output: Option<String>,
    /// Job name (default: run-lambda-<function name>).
    #[arg(long)]
    pub job_name: Option<String>,
}

fn key_value(s: &str, what: &str) -> Result<(String, String)> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| Error::Usage(format!("{what} expects K=V, not {s:?}")))
}

/// [`execute`], stopped by SIGTERM/SIGINT at any stage (`docker stop`, a
/// cancelled Batch job) with [`Error::Terminated`].
pub async fn execute_until_stopped(cli: Cli) -> Result<()> {
    crate::stop::until_stopped(execute(cli)).await
}

/// Execute a parsed command line.
pub async fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => {
            let opts = RunOptions {
                timeout: args.common.timeout()?,
                limits: args.common.limits(),
                on_mismatch: args.common.on_mismatch(),
                workdir: args.common.workdir.clone(),
                keep_workdir: args.common.keep_workdir,
                output: args.output,
                code: args.code,
                verify_code: !args.no_verify_code,
                layer_code: args
                    .layer_code
                    .iter()
                    .map(|s| {
                        let (arn, source) = key_value(s, "--layer-code")?;
                        let location =
                            Location::parse(&source).map_err(|e| Error::Usage(e.to_string()))?;
                        Ok((arn, location))
                    })
                    .collect::<Result<_>>()?,
                image: args.image,
                ..RunOptions::new(args.function, args.url)
            };
            let done = crate::run::run(&opts).await?;
            let t = &done.timings;
            tracing::info!(
                output = %done.output,
                to_event_ms = t.to_event_ms,
                get_function_ms = t.get_function_ms,
                fetch_ms = t.fetch_ms,
                runtime_to_event_ms = t.runtime_to_event_ms,
                "done"
            );
            t.write_to(args.common.report.as_deref())
        }
        Command::Exec(args) => {
            let env = args
                .env
                .iter()
                .map(|s| key_value(s, "--env"))
                .collect::<Result<Vec<_>>>()?;
            let stdout = if args.output == "-" {
                StdoutTo::Stderr
            } else {
                StdoutTo::Stdout
            };
            let image = args.image.map(|uri| Image {
                uri,
                resolved_uri: None,
                entry_point: args.entrypoint,
                command: args.command,
                working_directory: args.working_directory,
            });
            let opts = ExecOptions {
                code: args.code,
                image,
                init_type: InitType::parse(&args.init_type)?,
                handler: args.handler,
                runtime: args.runtime,
                function_name: Some(args.function_name),
                env,
                layers: args.layer,
                timeout: args.common.timeout()?,
                memory_mb: args.memory,
                architecture: args.architecture,
                workdir: args.common.workdir.clone(),
                keep_workdir: args.common.keep_workdir,
                limits: args.common.limits(),
                on_mismatch: args.common.on_mismatch(),
                stdout,
            };
            let event = payload::read_event(args.payload.as_deref()).await?;
            let invoked = crate::exec::exec(&opts, event).await?;
            let json = payload::response_json(&invoked.response)?;
            payload::write_response(&args.output, &json).await?;
            let timings = Timings {
                to_event_ms: invoked.to_event.map(ms),
                ..Timings::default()
            };
            timings.write_to(args.common.report.as_deref())
        }
        Command::Serve(args) => {
            let done = crate::serve::serve(&ServeOptions {
                function: args.function,
                url: args.url,
                output: args.output,
                listen: args.listen,
                runtime_container: args.runtime_container,
                init_type: InitType::parse(&args.init_type)?,
                timeout: timeout(args.timeout)?,
                on_mismatch: on_mismatch(args.allow_runtime_mismatch),
            })
            .await?;
            let t = &done.timings;
            tracing::info!(
                output = %done.output,
                to_event_ms = t.to_event_ms,
                get_function_ms = t.get_function_ms,
                "done"
            );
            t.write_to(args.report.as_deref())
        }
        Command::Submit(args) => {
            let submitted = crate::submit::submit(&SubmitOptions {
                function: args.function,
                payload: args.payload,
                job_queue: args.job_queue,
                job_definition: args.job_definition,
                payload_url_prefix: args.payload_url_prefix,
                output: args.output,
                job_name: args.job_name,
            })
            .await?;
            let line = serde_json::to_string(&submitted)
                .map_err(|e| Error::Submit(format!("printing the job: {e}")))?;
            println!("{line}");
            Ok(())
        }
    }
}
