//! What starts a function's runtime: its code's (or a layer's) `bootstrap`,
//! Python's runtime interface client (`awslambdaric`, through our launcher
//! `entrypoint/python_bootstrap.py`) or Node.js's (`aws-lambda-ric`, with
//! `entrypoint/node_preload.cjs` preloaded), decided once per run from the
//! function's runtime and the runner's settings, and the files those start from.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::spec::{host_architecture, FunctionSpec, Image, RuntimeKind};
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
    /// A container-image function: `docker run` of its image.
    Container(Container),
}

/// A container-image function's image as Docker runs it, on this machine's
/// network (its Runtime API is the runner's, on loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The docker CLI (`$DOCKER_CLI`, else `docker`).
    pub docker: PathBuf,
    /// The container's name, to remove it when the invocation ends.
    pub name: String,
    /// `linux/arm64` or `linux/amd64`: the function's architecture.
    pub platform: String,
    /// The image and its `ImageConfig`.
    pub image: Image,
    /// The image's own `CMD`, when `ImageConfig` replaces the entry point but
    /// not the command (Docker drops the image's `CMD` then; Lambda keeps it).
    pub image_cmd: Vec<String>,
}

/// The docker CLI run-lambda runs images with: `$DOCKER_CLI`, else `docker`
/// on `PATH`; an error saying what to do instead when there is none.
pub fn docker(function: &str, image: &Image) -> Result<PathBuf> {
    let cli = setting("DOCKER_CLI").unwrap_or_else(|| PathBuf::from("docker"));
    let found = if cli.components().count() > 1 {
        cli.is_file()
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(&cli).is_file()))
            .unwrap_or(false)
    };
    if found {
        Ok(cli)
    } else {
        Err(Error::Unsupported(format!(
            "function {function} is packaged as a container image ({}): run-lambda runs its image \
             with Docker, and there is no docker CLI here ({}; set DOCKER_CLI). In AWS Batch, run it \
             as a multi-container job whose containers are `run-lambda serve` and the function's \
             image (the lambda-batch-task module makes that job definition)",
            image.reference(),
            cli.display()
        )))
    }
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
            RuntimeKind::Image(image) => {
                let docker = docker(&spec.name, image)?;
                let image_cmd = if !image.entry_point.is_empty() && image.command.is_empty() {
                    image_cmd(&docker, image.reference())?
                } else {
                    Vec::new()
                };
                let arch = spec
                    .architectures
                    .first()
                    .map(String::as_str)
                    .unwrap_or(host_architecture());
                Ok(Entrypoint::Container(Container {
                    docker,
                    name: format!(
                        "run-lambda-{}",
                        &uuid::Uuid::new_v4().simple().to_string()[..12]
                    ),
                    platform: format!("linux/{}", if arch == "x86_64" { "amd64" } else { arch }),
                    image: image.clone(),
                    image_cmd,
                }))
            }
        }
    }

    /// The program and arguments that start the runtime; `passed` names the
    /// variables a container gets from the process's environment.
    pub fn command_line(
        &self,
        spec: &FunctionSpec,
        layout: &Layout,
        passed: &[String],
    ) -> (PathBuf, Vec<OsString>) {
        match self {
            Entrypoint::Container(c) => (c.docker.clone(), c.run_arguments(passed)),
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
            Entrypoint::Container(c) => Some(format!(
                "did the image {} start? (docker's own message is above; a Lambda image's \
                 entrypoint must be its runtime interface client)",
                c.image.reference()
            )),
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
            Entrypoint::Bootstrap(_) | Entrypoint::Container(_) => return Ok(()),
            Entrypoint::Python { .. } => (python_bootstrap(layout), PYTHON_BOOTSTRAP),
            Entrypoint::Node { .. } => (node_preload(layout), NODE_PRELOAD),
        };
        std::fs::write(&path, content)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }
}

impl Container {
    /// `docker run` of the image: removed when it ends, on the host's network,
    /// the variables of `passed` given by name (their values stay out of the
    /// command line), the `ImageConfig` overrides applied as Lambda applies them.
    fn run_arguments(&self, passed: &[String]) -> Vec<OsString> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--rm".into(),
            "--name".into(),
            self.name.clone(),
            "--network".into(),
            "host".into(),
            "--platform".into(),
            self.platform.clone(),
        ];
        for name in passed {
            args.push("--env".into());
            args.push(name.clone());
        }
        let image = &self.image;
        // Docker takes one program as --entrypoint; the rest of Lambda's
        // EntryPoint list goes before the command.
        let mut rest = Vec::new();
        if let Some((program, more)) = image.entry_point.split_first() {
            args.push("--entrypoint".into());
            args.push(program.clone());
            rest.extend(more.iter().cloned());
            if image.command.is_empty() {
                rest.extend(self.image_cmd.iter().cloned());
            }
        }
        if let Some(dir) = &image.working_directory {
            args.push("--workdir".into());
            args.push(dir.clone());
        }
        args.push(image.reference().to_string());
        args.extend(rest);
        args.extend(image.command.iter().cloned());
        args.into_iter().map(OsString::from).collect()
    }

    /// Remove the container (the invocation is over, or abandoned).
    pub fn remove(&self) {
        let _ = std::process::Command::new(&self.docker)
            .args(["rm", "--force", &self.name])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The image's own `CMD` (`docker image inspect`; pulled first when missing).
fn image_cmd(docker: &Path, image: &str) -> Result<Vec<String>> {
    let inspect = || {
        std::process::Command::new(docker)
            .args([
                "image",
                "inspect",
                "--format",
                "{{json .Config.Cmd}}",
                image,
            ])
            .stdin(std::process::Stdio::null())
            .output()
    };
    let mut out = inspect().map_err(|e| Error::io(format!("running {}", docker.display()), e))?;
    if !out.status.success() {
        let pulled = std::process::Command::new(docker)
            .args(["pull", "--quiet", image])
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|e| Error::io(format!("running {}", docker.display()), e))?;
        if pulled.success() {
            out = inspect().map_err(|e| Error::io(format!("running {}", docker.display()), e))?;
        }
    }
    if !out.status.success() {
        return Err(Error::Init {
            error_type: "Runtime.InvalidEntrypoint".to_string(),
            message: format!(
                "cannot inspect the image {image}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(serde_json::from_slice::<Option<Vec<String>>>(&out.stdout)
        .ok()
        .flatten()
        .unwrap_or_default())
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

    fn container(entry_point: &[&str], command: &[&str], image_cmd: &[&str]) -> Container {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Container {
            docker: "docker".into(),
            name: "run-lambda-x".into(),
            platform: "linux/arm64".into(),
            image: Image {
                uri: "r.example/f:1".into(),
                resolved_uri: Some("r.example/f@sha256:ab".into()),
                entry_point: owned(entry_point),
                command: owned(command),
                working_directory: None,
            },
            image_cmd: owned(image_cmd),
        }
    }

    fn args(c: &Container) -> Vec<String> {
        c.run_arguments(&["AWS_LAMBDA_RUNTIME_API".into()])
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn image_config_is_applied_as_lambda_applies_it() {
        let head = "run --rm --name run-lambda-x --network host --platform linux/arm64 --env AWS_LAMBDA_RUNTIME_API";
        // No overrides: the image's own entrypoint and command, by Lambda's digest.
        assert_eq!(
            args(&container(&[], &[], &[])).join(" "),
            format!("{head} r.example/f@sha256:ab")
        );
        // A command alone keeps the image's entrypoint.
        assert_eq!(
            args(&container(&[], &["app.handler"], &[])).join(" "),
            format!("{head} r.example/f@sha256:ab app.handler")
        );
        // An entry point of several words, and the image's CMD kept when no command replaces it.
        assert_eq!(
            args(&container(&["/bin/sh", "-c"], &[], &["exec app"])).join(" "),
            format!("{head} --entrypoint /bin/sh r.example/f@sha256:ab -c exec app")
        );
        let mut c = container(&["/entry"], &["a", "b"], &["ignored"]);
        c.image.working_directory = Some("/work".into());
        c.image.uri = "r.example/f@sha256:cd".into();
        assert_eq!(
            args(&c).join(" "),
            format!("{head} --entrypoint /entry --workdir /work r.example/f@sha256:cd a b")
        );
    }

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
