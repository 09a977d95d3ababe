//! What the runner needs to know about a function to run it, wherever that
//! came from (`GetFunction` for `run`, the command line for `exec`).

use std::collections::BTreeMap;

use crate::lifecycle::Lifecycle;
use crate::{Error, Result};

/// A function's configuration, as far as running it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Function name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// The ARN the function was invoked by (with its qualifier, if any).
    pub arn: String,
    /// `$LATEST` or a version number (`AWS_LAMBDA_FUNCTION_VERSION`).
    pub version: String,
    /// The runtime, parsed where the spec is made.
    pub runtime: Runtime,
    /// Handler (`_HANDLER`), e.g. `task.handler`; empty for an image function.
    pub handler: String,
    /// How the execution environment is initialised (`AWS_LAMBDA_INITIALIZATION_TYPE`).
    pub init_type: InitType,
    /// The function's own environment variables.
    pub environment: BTreeMap<String, String>,
    /// Memory in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: i32,
    /// AWS region of the function.
    pub region: String,
    /// `x86_64` and/or `arm64`.
    pub architectures: Vec<String>,
    /// `JSON` or `Text` (`AWS_LAMBDA_LOG_FORMAT`), when configured.
    pub log_format: Option<String>,
    /// Application log level (`AWS_LAMBDA_LOG_LEVEL`), when configured.
    pub log_level: Option<String>,
    /// CloudWatch log group the function would log to.
    pub log_group: String,
}

impl FunctionSpec {
    /// A spec for local code with Lambda's defaults (`exec`).
    pub fn local(name: &str, runtime: Runtime, handler: &str, region: &str) -> Self {
        FunctionSpec {
            name: name.to_string(),
            arn: format!("arn:aws:lambda:{region}:000000000000:function:{name}"),
            version: "$LATEST".to_string(),
            runtime,
            handler: handler.to_string(),
            init_type: InitType::OnDemand,
            environment: BTreeMap::new(),
            memory_mb: 128,
            region: region.to_string(),
            architectures: vec![host_architecture().to_string()],
            log_format: None,
            log_level: None,
            log_group: format!("/aws/lambda/{name}"),
        }
    }
}

/// How Lambda initialised the execution environment, as its runtime is told
/// (`AWS_LAMBDA_INITIALIZATION_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitType {
    /// A cold start for an invocation.
    #[default]
    OnDemand,
    /// A snapshot of an initialised environment, restored (a published
    /// version with SnapStart): the runtime may call `/runtime/restore/next`
    /// and `/runtime/restore/error`.
    SnapStart,
    /// Provisioned concurrency: initialised ahead of invocations.
    ProvisionedConcurrency,
}

impl InitType {
    /// The value of `AWS_LAMBDA_INITIALIZATION_TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            InitType::OnDemand => "on-demand",
            InitType::SnapStart => "snap-start",
            InitType::ProvisionedConcurrency => "provisioned-concurrency",
        }
    }

    /// Parse `--init-type`.
    pub fn parse(s: &str) -> Result<InitType> {
        [
            InitType::OnDemand,
            InitType::SnapStart,
            InitType::ProvisionedConcurrency,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--init-type is on-demand, snap-start or provisioned-concurrency, not {s:?}"
            ))
        })
    }
}

/// A Lambda runtime: its identifier, the family that says how to start it, and
/// where Lambda has it in its lifecycle. A container-image function's runtime
/// is its image (Lambda reports no runtime for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    name: String,
    kind: RuntimeKind,
    lifecycle: Lifecycle,
}

impl Runtime {
    /// Parse a Lambda runtime identifier (`python3.12`, `nodejs20.x`, `provided.al2023`).
    pub fn parse(name: &str) -> Result<Runtime> {
        Ok(Runtime {
            kind: RuntimeKind::of(name)?,
            name: name.to_string(),
            lifecycle: Lifecycle::of(name),
        })
    }

    /// The runtime of a container-image function: its image.
    pub fn image(image: Image) -> Runtime {
        Runtime {
            name: String::new(),
            kind: RuntimeKind::Image(image),
            lifecycle: Lifecycle::Current,
        }
    }

    /// The identifier, as Lambda spells it (empty for an image function).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to start it.
    pub fn kind(&self) -> &RuntimeKind {
        &self.kind
    }

    /// The image of a container-image function.
    pub fn image_of(&self) -> Option<&Image> {
        match &self.kind {
            RuntimeKind::Image(image) => Some(image),
            _ => None,
        }
    }

    /// Say so when the runtime is deprecated or a preview (every run, so the
    /// job's log names the date).
    pub fn warn_about_lifecycle(&self) {
        if let Some(warning) = self
            .lifecycle
            .warning(&self.name, crate::lifecycle::today())
        {
            tracing::warn!("{warning}");
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            RuntimeKind::Image(_) => f.write_str("its container image"),
            _ => f.write_str(&self.name),
        }
    }
}

/// A container-image function's image and its `ImageConfig` overrides of the
/// image's own `ENTRYPOINT`, `CMD` and `WORKDIR` (empty: the image's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// `Code.ImageUri`: the image the function was deployed with.
    pub uri: String,
    /// `Code.ResolvedImageUri`: that image by digest, as Lambda resolved it.
    pub resolved_uri: Option<String>,
    /// `ImageConfig.EntryPoint`.
    pub entry_point: Vec<String>,
    /// `ImageConfig.Command`.
    pub command: Vec<String>,
    /// `ImageConfig.WorkingDirectory`.
    pub working_directory: Option<String>,
}

impl Image {
    /// The image to run, as Lambda runs it: by digest. That is the image URI
    /// itself when it is pinned by digest, else the digest Lambda resolved its
    /// tag to when the function was deployed, else the URI as it is.
    pub fn reference(&self) -> &str {
        if self.uri.contains("@sha256:") {
            return &self.uri;
        }
        self.resolved_uri.as_deref().unwrap_or(&self.uri)
    }
}

/// The runtime families the runner can start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `provided`, `provided.al2`, `provided.al2023`: the code's (or a layer's) `bootstrap`.
    Provided,
    /// `python3.x`: the Python runtime interface client (`awslambdaric`).
    Python {
        /// `python3.12` → `3.12` (for `/opt/python/lib/python3.12/site-packages`).
        version: String,
    },
    /// `nodejsNN.x`: the Node.js runtime interface client (`aws-lambda-ric`).
    Node {
        /// `nodejs20.x` → 20 (for `/opt/nodejs/node20/node_modules`, and to compare
        /// with the interpreter's version).
        major: u32,
    },
    /// A container-image function: its image's own entrypoint is the runtime.
    Image(Image),
}

impl RuntimeKind {
    /// Parse a Lambda runtime identifier.
    fn of(runtime: &str) -> Result<RuntimeKind> {
        if runtime == "provided" || runtime.starts_with("provided.") {
            return Ok(RuntimeKind::Provided);
        }
        if let Some(version) = runtime.strip_prefix("python") {
            if version.starts_with('3') {
                return Ok(RuntimeKind::Python {
                    version: version.to_string(),
                });
            }
        }
        if let Some(major) = runtime
            .strip_prefix("nodejs")
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok())
        {
            return Ok(RuntimeKind::Node { major });
        }
        let advice = if runtime.is_empty() {
            "the function has no runtime (is it packaged as a container image?)".to_string()
        } else {
            format!("runtime {runtime:?} is not supported by run-lambda")
        };
        Err(Error::Unsupported(format!(
            "{advice}; run-lambda runs provided.al2/provided.al2023 (a `bootstrap`), python3.x and \
             nodejsNN.x functions. Build the function for provided.al2023, or run its code in a \
             Batch job definition whose image carries that runtime"
        )))
    }
}

/// This machine's architecture in Lambda's words (`x86_64`, `arm64`).
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert_eq!(
            RuntimeKind::of("provided.al2023").unwrap(),
            RuntimeKind::Provided
        );
        assert_eq!(RuntimeKind::of("provided").unwrap(), RuntimeKind::Provided);
        assert_eq!(
            RuntimeKind::of("python3.12").unwrap(),
            RuntimeKind::Python {
                version: "3.12".into()
            }
        );
        assert_eq!(
            RuntimeKind::of("nodejs20.x").unwrap(),
            RuntimeKind::Node { major: 20 }
        );
        assert_eq!(
            RuntimeKind::of("nodejs24.x").unwrap(),
            RuntimeKind::Node { major: 24 }
        );
        let err = RuntimeKind::of("java21").unwrap_err().to_string();
        assert!(
            err.contains("java21") && err.contains("provided.al2023"),
            "{err}"
        );
        assert!(RuntimeKind::of("python2.7").is_err());
        assert!(RuntimeKind::of("nodejs").is_err());
        assert!(RuntimeKind::of("nodejs.x").is_err());
    }
}
