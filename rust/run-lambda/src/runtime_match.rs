//! Whether this image can run a function as Lambda would: Lambda runs a
//! `python3.13` function on Python 3.13, a `nodejs22.x` one on Node.js 22, and
//! an `arm64` one on Graviton. Code that uses a newer language, or ships
//! compiled packages built for its own interpreter or architecture, fails on
//! any other, so a mismatch stops the run before the code is fetched, naming
//! the image to use; `--allow-runtime-mismatch` runs it anyway, with a warning.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::entrypoint;
use crate::spec::{host_architecture, FunctionSpec, RuntimeKind};
use crate::{Error, Result};

/// What a mismatch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMismatch {
    /// Stop with [`Error::RuntimeMismatch`].
    #[default]
    Refuse,
    /// Warn and run anyway (`--allow-runtime-mismatch`).
    Warn,
}

/// The tag suffix of the run-lambda image built for `runtime`:
/// `python3.13` → `python3.13`, `nodejs22.x` → `nodejs22`.
pub fn image_suffix(runtime: &str) -> &str {
    runtime.strip_suffix(".x").unwrap_or(runtime)
}

/// Check the function's runtime and architecture against this machine's
/// interpreter and architecture.
pub fn check(spec: &FunctionSpec, on_mismatch: OnMismatch) -> Result<()> {
    let kind = spec.runtime.kind();
    let host = host_architecture();
    if !spec.architectures.is_empty() && !spec.architectures.iter().any(|a| a == host) {
        let wanted = spec.architectures.join(", ");
        let why = format!(
            "function {} is built for {wanted} but this machine is {host}",
            spec.name
        );
        // A provided function's bootstrap is a binary of its architecture: it cannot start here.
        if *kind == RuntimeKind::Provided {
            return Err(Error::Unsupported(format!(
                "{why}; run the job on a {wanted} compute environment"
            )));
        }
        let advice = if let RuntimeKind::Image(_) = kind {
            format!(
                "{why}; run the job on a {wanted} compute environment (with \
                 --allow-runtime-mismatch, Docker runs the image under emulation where the machine \
                 has it)"
            )
        } else {
            format!(
                "{why}; run the job with the {wanted} image of run-lambda on a {wanted} compute \
                 environment (its Python packages and Node.js addons are built for {wanted})"
            )
        };
        mismatch(on_mismatch, advice)?;
    }
    let (interpreter, program, wanted) = match kind {
        RuntimeKind::Provided | RuntimeKind::Image(_) => return Ok(()),
        // `exec --runtime python3` asks for no particular version.
        RuntimeKind::Python { version } if !version.contains('.') => return Ok(()),
        RuntimeKind::Python { version } => ("Python", entrypoint::python(), version.clone()),
        RuntimeKind::Node { major } => ("Node.js", entrypoint::node(), major.to_string()),
    };
    let found = match kind {
        RuntimeKind::Node { .. } => node_major(&program),
        _ => python_version(&program),
    };
    let image = format!(
        "run it with the run-lambda image built for {} (tagged …-{}), or pass \
         --allow-runtime-mismatch",
        spec.runtime,
        image_suffix(spec.runtime.name())
    );
    let what = match found {
        Some(found) if found == wanted => return Ok(()),
        Some(found) => format!("this image's {interpreter} is {found}"),
        None => format!(
            "this image has no {interpreter} ({} cannot be started)",
            program.display()
        ),
    };
    mismatch(
        on_mismatch,
        format!(
            "function {} runs on {}, but {what}; {image}",
            spec.name, spec.runtime
        ),
    )
}

fn mismatch(on_mismatch: OnMismatch, message: String) -> Result<()> {
    match on_mismatch {
        OnMismatch::Refuse => Err(Error::RuntimeMismatch(message)),
        OnMismatch::Warn => {
            tracing::warn!("--allow-runtime-mismatch: {message}");
            Ok(())
        }
    }
}

/// `3.13` for a Python 3.13 interpreter (isolated: no site, no PYTHONPATH).
fn python_version(python: &Path) -> Option<String> {
    ask(
        python,
        &[
            "-I",
            "-S",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ],
    )
}

/// `22` for Node.js v22.x.
fn node_major(node: &Path) -> Option<String> {
    let version = ask(node, &["--version"])?;
    let major = version.trim_start_matches('v').split('.').next()?;
    major.parse::<u32>().ok().map(|m| m.to_string())
}

fn ask(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success());
    match out {
        Some(out) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        None => {
            tracing::debug!(program = %program.display(), "cannot ask the interpreter for its version");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Runtime;

    #[test]
    fn image_suffixes() {
        assert_eq!(image_suffix("python3.13"), "python3.13");
        assert_eq!(image_suffix("nodejs22.x"), "nodejs22");
    }

    fn spec(runtime: &str, arch: &str) -> FunctionSpec {
        let mut spec = FunctionSpec::local("f", Runtime::parse(runtime).unwrap(), "h", "us-east-1");
        spec.architectures = vec![arch.to_string()];
        spec
    }

    #[test]
    fn another_architecture_is_refused_or_warned() {
        let other = if host_architecture() == "arm64" {
            "x86_64"
        } else {
            "arm64"
        };
        let s = spec("provided.al2023", other);
        let err = check(&s, OnMismatch::Warn).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let s = spec("python3", other);
        let err = check(&s, OnMismatch::Refuse).unwrap_err();
        assert!(
            matches!(&err, Error::RuntimeMismatch(m) if m.contains(&format!("built for {other}"))),
            "{err}"
        );
        check(&s, OnMismatch::Warn).unwrap();
    }
}
