//! What starts a function's runtime: its code's (or a layer's) `bootstrap`,
//! Python's runtime interface client (`awslambdaric`, through our launcher
//! `entrypoint/python_bootstrap.py`) or Node.js's (`aws-lambda-ric`, with
//! `entrypoint/node_preload.cjs` preloaded), decided once per run from the
//! function's runtime and the runner's settings, and the files those start from.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::spec::{FunctionSpec, RuntimeKind};
use crate::workdir::Layout;
use crate::{Error, Result};

/// What starts a function's runtime, decided once per run from the function's
/// runtime and the runner's settings (`STRATUS_PYTHON`, `STRATUS_NODE`,
/// `STRATUS_NODE_RIC`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entrypoint {
    /// `provided.*`: the code's (or a layer's) executable `bootstrap`.
    Bootstrap(PathBuf),
    /// `python3.x`: the interpreter, running our launcher of `awslambdaric`.
    Python {
        /// `$STRATUS_PYTHON`, else `python3`.
        python: PathBuf,
        /// The runtime's Python version (`3.12`).
        version: String,
    },
    /// `nodejsNN.x`: the interpreter, running the Node.js runtime interface client.
    Node {
        /// `$STRATUS_NODE`, else `node`.
        node: PathBuf,
        /// The runtime's Node.js major version (20 for `nodejs20.x`).
        major: u32,
        /// Where the client is.
        client: NodeClient,
    },
}

/// Where the Node.js runtime interface client is: Lambda's `/var/runtime` in
/// AWS's Node.js base images, or an installed `aws-lambda-ric` package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeClient {
    /// The script that starts it: the package's `bin` (`bin/index.mjs` in
    /// aws-lambda-ric 3.x), else `index.mjs` (Lambda's `/var/runtime/index.mjs`).
    pub entry: PathBuf,
    /// Its directory (Lambda's `/var/runtime`).
    pub dir: PathBuf,
    /// The modules that come with it (Lambda's `/var/runtime/node_modules`, where
    /// the AWS SDK is), or, for a package installed by npm, the `node_modules`
    /// it was installed into.
    pub modules: PathBuf,
}

/// The client's directory when `STRATUS_NODE_RIC` is not set: where AWS's
/// Node.js base images have it.
const NODE_CLIENT_DEFAULT: &str = "/var/runtime";

/// The package name of the Node.js runtime interface client on npm.
const NODE_CLIENT_PACKAGE: &str = "aws-lambda-ric";

impl NodeClient {
    /// The client in `dir`; an error naming what to install or set when there is none.
    pub fn locate(dir: &Path, runtime: &str) -> Result<NodeClient> {
        let missing = |why: String| client_missing(runtime, &why);
        let dir = dir
            .canonicalize()
            .map_err(|e| missing(format!("{} cannot be read ({e})", dir.display())))?;
        if !dir.is_dir() {
            return Err(missing(format!("{} is not a directory", dir.display())));
        }
        let entry = declared_bin(&dir).unwrap_or_else(|| dir.join("index.mjs"));
        if !entry.is_file() {
            return Err(missing(format!("{} is missing", entry.display())));
        }
        let modules = match dir.parent() {
            Some(parent) if parent.file_name().is_some_and(|n| n == "node_modules") => {
                parent.to_path_buf()
            }
            _ => dir.join("node_modules"),
        };
        Ok(NodeClient {
            entry,
            dir,
            modules,
        })
    }
}

/// The init error for a Node.js client that is not where it should be.
fn client_missing(runtime: &str, why: &str) -> Error {
    Error::Init {
        error_type: "Runtime.InvalidEntrypoint".to_string(),
        message: format!(
            "{runtime} functions are started by the Node.js runtime interface client \
             ({NODE_CLIENT_PACKAGE} on npm), but {why}; set STRATUS_NODE_RIC to its directory (an \
             installed {NODE_CLIENT_PACKAGE} package, or /var/runtime of AWS's Node.js base images)"
        ),
    }
}

/// The script a package in `dir` declares as its command (`package.json`'s `bin`).
fn declared_bin(dir: &Path) -> Option<PathBuf> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("package.json")).ok()?).ok()?;
    let bin = match manifest.get("bin")? {
        serde_json::Value::String(s) => s.as_str(),
        serde_json::Value::Object(map) => map.get(NODE_CLIENT_PACKAGE)?.as_str()?,
        _ => return None,
    };
    Some(dir.join(bin))
}

/// Node.js's flags in Lambda that change what a function can do: `global.gc`,
/// and HTTP headers up to 80 KiB. Lambda's heap limits from the memory size are
/// left out (memory is the job's to govern), and so are its switches of
/// experimental module features (`--no-experimental-require-module`, …), which
/// an interpreter that predates them refuses.
const NODE_FLAGS: &[&str] = &["--expose-gc", "--max-http-header-size=81920"];

impl Entrypoint {
    /// How `spec`'s runtime is started from `layout`.
    pub fn for_function(spec: &FunctionSpec, layout: &Layout) -> Result<Entrypoint> {
        match spec.runtime.kind() {
            RuntimeKind::Provided => {
                for dir in [&layout.task_root, &layout.opt] {
                    let bootstrap = dir.join("bootstrap");
                    if bootstrap.is_file() {
                        return Ok(Entrypoint::Bootstrap(bootstrap));
                    }
                }
                Err(Error::Init {
                    error_type: "Runtime.InvalidEntrypoint".to_string(),
                    message: format!(
                        "{} functions need an executable `bootstrap` at the root of their code or of a layer; none found in {}",
                        spec.runtime,
                        layout.task_root.display()
                    ),
                })
            }
            RuntimeKind::Python { version } => Ok(Entrypoint::Python {
                python: python(),
                version: version.clone(),
            }),
            RuntimeKind::Node { major } => {
                let dir = setting("STRATUS_NODE_RIC").unwrap_or_else(|| NODE_CLIENT_DEFAULT.into());
                let client = NodeClient::locate(&dir, spec.runtime.name())?;
                Ok(Entrypoint::Node {
                    node: node(),
                    major: *major,
                    client,
                })
            }
        }
    }

    /// The program and arguments that start the runtime.
    pub fn command_line(&self, spec: &FunctionSpec, layout: &Layout) -> (PathBuf, Vec<OsString>) {
        match self {
            Entrypoint::Bootstrap(bootstrap) => (bootstrap.clone(), Vec::new()),
            Entrypoint::Python { python, .. } => (
                python.clone(),
                vec![
                    python_bootstrap(layout).into_os_string(),
                    spec.handler.clone().into(),
                ],
            ),
            // The client's working directory is the task root. aws-lambda-ric 3.x
            // takes the handler as its argument; Lambda's own client (and 4.x)
            // reads `_HANDLER` and `LAMBDA_TASK_ROOT`, which are set as well.
            Entrypoint::Node { node, client, .. } => (
                node.clone(),
                NODE_FLAGS
                    .iter()
                    .map(OsString::from)
                    .chain([
                        "--require".into(),
                        node_preload(layout).into_os_string(),
                        client.entry.clone().into_os_string(),
                        spec.handler.clone().into(),
                    ])
                    .collect(),
            ),
        }
    }

    /// What to suspect when the runtime exits before taking the event.
    pub fn early_exit_hint(&self) -> Option<String> {
        match self {
            Entrypoint::Bootstrap(_) => None,
            Entrypoint::Python { python, .. } => Some(format!(
                "does {} have awslambdaric? set STRATUS_PYTHON to an interpreter that does",
                python.display()
            )),
            Entrypoint::Node { node, client, .. } => Some(format!(
                "can {} run the runtime interface client in {}? Its native part is built for one \
                 Node.js version; set STRATUS_NODE and STRATUS_NODE_RIC to a pair that fits",
                node.display(),
                client.dir.display()
            )),
        }
    }

    /// Put the files the runtime starts from into the runtime directory.
    pub fn install(&self, layout: &Layout) -> Result<()> {
        let (path, content) = match self {
            Entrypoint::Bootstrap(_) => return Ok(()),
            Entrypoint::Python { .. } => (python_bootstrap(layout), PYTHON_BOOTSTRAP),
            Entrypoint::Node { .. } => (node_preload(layout), NODE_PRELOAD),
        };
        std::fs::write(&path, content)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }
}

/// A runner setting from the environment, unset when empty.
fn setting(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Our launcher of `awslambdaric` (`python_bootstrap.py`: why it exists is said there).
const PYTHON_BOOTSTRAP: &str = include_str!("entrypoint/python_bootstrap.py");

/// Where the Python launcher goes: the runtime directory, as Lambda's `/var/runtime/bootstrap.py`.
fn python_bootstrap(layout: &Layout) -> PathBuf {
    layout.runtime_dir.join("bootstrap.py")
}

/// What Node.js preloads before the client (`node_preload.cjs`: why it exists is said there).
const NODE_PRELOAD: &str = include_str!("entrypoint/node_preload.cjs");

/// Where the Node.js preload goes: the runtime directory.
fn node_preload(layout: &Layout) -> PathBuf {
    layout.runtime_dir.join("preload.cjs")
}

/// The Python interpreter that runs `awslambdaric`: `$STRATUS_PYTHON`, else `python3`.
pub fn python() -> PathBuf {
    setting("STRATUS_PYTHON").unwrap_or_else(|| PathBuf::from("python3"))
}

/// The Node.js interpreter that runs the runtime interface client:
/// `$STRATUS_NODE`, else `node` (on `PATH`; `/var/lang/bin/node` in AWS's images).
/// A relative path is taken from the runner's directory, not the task root the
/// runtime starts in.
pub fn node() -> PathBuf {
    match setting("STRATUS_NODE") {
        Some(p) if p.components().count() > 1 => std::path::absolute(&p).unwrap_or(p),
        Some(p) => p,
        None => PathBuf::from("node"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_client_is_found_where_it_is_installed() {
        let tmp = tempfile::tempdir().unwrap();
        // Lambda's /var/runtime: index.mjs, and the SDK in node_modules beside it.
        let runtime = tmp.path().join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::write(runtime.join("index.mjs"), "").unwrap();
        let client = NodeClient::locate(&runtime, "nodejs22.x").unwrap();
        let runtime = runtime.canonicalize().unwrap();
        assert_eq!(client.entry, runtime.join("index.mjs"));
        assert_eq!(client.modules, runtime.join("node_modules"));
        // An npm-installed aws-lambda-ric 3.x: the command its package.json declares.
        let package = tmp.path().join("node_modules/aws-lambda-ric");
        std::fs::create_dir_all(package.join("bin")).unwrap();
        std::fs::write(package.join("bin/index.mjs"), "").unwrap();
        std::fs::write(
            package.join("package.json"),
            r#"{"name": "aws-lambda-ric", "bin": {"aws-lambda-ric": "bin/index.mjs"}}"#,
        )
        .unwrap();
        let client = NodeClient::locate(&package, "nodejs20.x").unwrap();
        let package = package.canonicalize().unwrap();
        assert_eq!(client.entry, package.join("bin/index.mjs"));
        assert_eq!(client.modules, package.parent().unwrap());
        // Nothing there: an init error that says what to set.
        let err = NodeClient::locate(&tmp.path().join("none"), "nodejs20.x").unwrap_err();
        assert!(
            matches!(&err, Error::Init { error_type, message }
                if error_type == "Runtime.InvalidEntrypoint" && message.contains("STRATUS_NODE_RIC")),
            "{err}"
        );
    }
}
