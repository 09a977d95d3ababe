//! What the runner needs to know about a function to run it, wherever that
//! came from (`GetFunction` for `run`, the command line for `exec`).

use std::collections::BTreeMap;

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
    /// Handler (`_HANDLER`), e.g. `task.handler`.
    pub handler: String,
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

/// A Lambda runtime: its identifier and the family that says how to start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    name: String,
    kind: RuntimeKind,
}

impl Runtime {
    /// Parse a Lambda runtime identifier (`python3.12`, `nodejs20.x`, `provided.al2023`).
    pub fn parse(name: &str) -> Result<Runtime> {
        Ok(Runtime {
            kind: RuntimeKind::of(name)?,
            name: name.to_string(),
        })
    }

    /// The identifier, as Lambda spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to start it.
    pub fn kind(&self) -> &RuntimeKind {
        &self.kind
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
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
