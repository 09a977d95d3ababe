//! `exec`: run local function code (a directory, a zip, a URL of a zip, or an
//! executable that is used as `bootstrap`), or a container-image function's
//! image with Docker, with no Lambda service — for local development, demos
//! and tests.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use stratus_aws::Location;

use crate::code::Shown;
use crate::extract::Limits;
use crate::install::{Expected, Installer};
use crate::invoke::{invoke, InvokeOptions, Invoked, Launch};
use crate::launch::StdoutTo;
use crate::runtime_api::{RuntimeApi, EPHEMERAL};
use crate::runtime_match::{self, OnMismatch};
use crate::spec::{FunctionSpec, Image, InitType, Runtime};
use crate::workdir::Workdir;
use crate::{Error, Result};

/// How to run local code.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The code (`None` with `image`).
    pub code: Option<Location>,
    /// A container-image function's image and `ImageConfig`, run with Docker.
    pub image: Option<Image>,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE` (SnapStart's restore routes with `snap-start`).
    pub init_type: InitType,
    /// `_HANDLER`; default `bootstrap` for provided runtimes.
    pub handler: Option<String>,
    /// Runtime; default `provided.al2023` when there is a `bootstrap`.
    pub runtime: Option<String>,
    /// `AWS_LAMBDA_FUNCTION_NAME`; default `local`.
    pub function_name: Option<String>,
    /// The function's environment variables.
    pub env: Vec<(String, String)>,
    /// Layers, in order.
    pub layers: Vec<Location>,
    /// Kill the runtime after this long.
    pub timeout: Option<Duration>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; default 128.
    pub memory_mb: Option<i32>,
    /// The function's architecture (`x86_64`, `arm64`); default this machine's.
    pub architecture: Option<String>,
    /// Work directory (default: temporary).
    pub workdir: Option<PathBuf>,
    /// Keep the temporary work directory.
    pub keep_workdir: bool,
    /// Archive limits.
    pub limits: Limits,
    /// Where the runtime's stdout goes.
    pub stdout: StdoutTo,
    /// Whether another interpreter than `runtime`'s stops the run.
    pub on_mismatch: OnMismatch,
}

/// The region for local runs: `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`.
pub fn local_region() -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// Run the code on `payload` (a JSON event) and return its response.
pub async fn exec(opts: &ExecOptions, payload: Bytes) -> Result<Invoked> {
    crate::payload::validate_json(&payload, "the event")?;
    let needs_s3 = opts
        .code
        .iter()
        .chain(&opts.layers)
        .any(|s| matches!(s, Location::S3(_)));
    let s3 = if needs_s3 {
        Some(stratus_aws::config::s3_client(
            &stratus_aws::config::sdk_config().await,
        ))
    } else {
        None
    };
    let workdir = Workdir::new(opts.workdir.as_deref(), opts.keep_workdir)?;
    let layout = workdir.layout();
    let name = opts.function_name.as_deref().unwrap_or("local");
    let mut spec = match (&opts.code, &opts.image) {
        (None, Some(image)) => {
            if !opts.layers.is_empty() || opts.runtime.is_some() || opts.handler.is_some() {
                return Err(Error::Usage(
                    "an image function has no layers, runtime or handler: its image carries them \
                     (--entrypoint, --command and --working-directory are its ImageConfig)"
                        .into(),
                ));
            }
            FunctionSpec::local(name, Runtime::image(image.clone()), "", &local_region())
        }
        (Some(code), None) => {
            let mut installer = Installer::new(&workdir, opts.limits, s3.as_ref())?;
            installer.code(code, Expected::NOTHING).await?;
            for (i, layer) in opts.layers.iter().enumerate() {
                installer
                    .layer(&format!("layer {}", i + 1), layer, Expected::NOTHING)
                    .await?;
            }
            let has_bootstrap = layout.task_root.join("bootstrap").exists()
                || layout.opt.join("bootstrap").exists();
            let runtime = match (&opts.runtime, has_bootstrap, &opts.handler) {
                (Some(r), _, _) => r.clone(),
                (None, true, _) => "provided.al2023".to_string(),
                (None, false, Some(_)) => "python3".to_string(),
                (None, false, None) => {
                    return Err(Error::Usage(format!(
                        "{} has no `bootstrap`; pass --runtime (e.g. python3.12, nodejs20.x) and --handler",
                        Shown(code)
                    )))
                }
            };
            let handler = opts
                .handler
                .clone()
                .unwrap_or_else(|| "bootstrap".to_string());
            FunctionSpec::local(name, Runtime::parse(&runtime)?, &handler, &local_region())
        }
        _ => {
            return Err(Error::Usage(
                "exec runs either code (a path or URL) or --image IMAGE".into(),
            ))
        }
    };
    spec.environment = opts.env.iter().cloned().collect();
    spec.init_type = opts.init_type;
    if let Some(m) = opts.memory_mb {
        spec.memory_mb = m;
    }
    if let Some(arch) = &opts.architecture {
        spec.architectures = vec![arch.clone()];
    }
    runtime_match::check(&spec, opts.on_mismatch)?;
    spec.runtime.warn_about_lifecycle();
    let invoke_opts = InvokeOptions {
        timeout: opts.timeout,
        stdout: opts.stdout,
    };
    let api = RuntimeApi::bind(EPHEMERAL, spec.init_type).await?;
    let invoked = invoke(&spec, api, payload, Launch::Here(&layout), &invoke_opts).await;
    drop(workdir);
    invoked
}
