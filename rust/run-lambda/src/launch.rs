//! Starting a function's runtime process (its entrypoint: a `bootstrap`,
//! Python's or Node.js's runtime interface client), with the environment of
//! [`crate::environment`], and ending it with everything it started: the runner is a
//! child subreaper, so processes the runtime detached (`setsid`, double
//! forks) become the runner's children when their parents die, and are
//! killed with the rest.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::environment::environment;
use crate::spec::{FunctionSpec, RuntimeKind};
use crate::workdir::Layout;
use crate::{Error, Result};

/// Where the runtime's stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StdoutTo {
    /// The runner's stdout (the job's log).
    #[default]
    Stdout,
    /// The runner's stderr, keeping stdout for the response (`exec --output -`).
    Stderr,
}

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

/// How a function's runtime is started.
pub fn entrypoint(spec: &FunctionSpec, layout: &Layout) -> Result<Entrypoint> {
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

/// Node.js's flags in Lambda that change what a function can do: `global.gc`,
/// and HTTP headers up to 80 KiB. Lambda's heap limits from the memory size are
/// left out (memory is the job's to govern), and so are its switches of
/// experimental module features (`--no-experimental-require-module`, …), which
/// an interpreter that predates them refuses.
const NODE_FLAGS: &[&str] = &["--expose-gc", "--max-http-header-size=81920"];

impl Entrypoint {
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
    fn early_exit_hint(&self) -> Option<String> {
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
}

/// A runner setting from the environment, unset when empty.
fn setting(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Our launcher of `awslambdaric` (`python_bootstrap.py`: why it exists is said there).
const PYTHON_BOOTSTRAP: &str = include_str!("python_bootstrap.py");

/// Where the Python launcher goes: the runtime directory, as Lambda's `/var/runtime/bootstrap.py`.
fn python_bootstrap(layout: &Layout) -> PathBuf {
    layout.runtime_dir.join("bootstrap.py")
}

/// What Node.js preloads before the client (`node_preload.cjs`: why it exists is said there).
const NODE_PRELOAD: &str = include_str!("node_preload.cjs");

/// Where the Node.js preload goes: the runtime directory.
fn node_preload(layout: &Layout) -> PathBuf {
    layout.runtime_dir.join("preload.cjs")
}

/// Put the files the runtime starts from into the runtime directory.
fn install_runtime(entrypoint: &Entrypoint, layout: &Layout) -> Result<()> {
    let (path, content) = match entrypoint {
        Entrypoint::Bootstrap(_) => return Ok(()),
        Entrypoint::Python { .. } => (python_bootstrap(layout), PYTHON_BOOTSTRAP),
        Entrypoint::Node { .. } => (node_preload(layout), NODE_PRELOAD),
    };
    std::fs::write(&path, content).map_err(|e| Error::io(format!("writing {}", path.display()), e))
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

/// A started runtime, alone in its process group.
pub struct Runtime {
    child: Child,
    pgid: Option<Pid>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
    early_exit_hint: Option<String>,
}

/// Copy the runtime's output to ours as it comes, and end a last line left
/// unterminated, so that the runner's own last line stays a line of its own.
async fn forward(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) {
    let mut buf = vec![0u8; 1 << 16];
    let mut at_line_start = true;
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                at_line_start = buf[n - 1] == b'\n';
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                let _ = to.flush().await;
            }
        }
    }
    if !at_line_start {
        let _ = to.write_all(b"\n").await;
    }
    let _ = to.flush().await;
}

/// How long to wait, in all, for the output of killed processes to drain.
const DRAIN: Duration = Duration::from_secs(2);

/// Start the function's runtime.
pub fn spawn(
    spec: &FunctionSpec,
    layout: &Layout,
    api: SocketAddr,
    stdout: StdoutTo,
) -> Result<Runtime> {
    let entrypoint = entrypoint(spec, layout)?;
    let (program, args) = entrypoint.command_line(spec, layout);
    let env = environment(spec, layout, &entrypoint, api)?;
    install_runtime(&entrypoint, layout)?;
    become_subreaper();
    let mut cmd = Command::new(&program);
    cmd.args(&args)
        .env_clear()
        .envs(env)
        .current_dir(&layout.task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: program.clone(),
        source,
    })?;
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let mut forwarders = Vec::new();
    if let Some(out) = child.stdout.take() {
        forwarders.push(match stdout {
            StdoutTo::Stdout => tokio::spawn(forward(out, tokio::io::stdout())),
            StdoutTo::Stderr => tokio::spawn(forward(out, tokio::io::stderr())),
        });
    }
    if let Some(err) = child.stderr.take() {
        forwarders.push(tokio::spawn(forward(err, tokio::io::stderr())));
    }
    tracing::debug!(program = %program.display(), pid = ?pgid, "runtime started");
    Ok(Runtime {
        child,
        pgid,
        forwarders,
        early_exit_hint: entrypoint.early_exit_hint(),
    })
}

impl Runtime {
    /// What to suspect when the runtime exits before taking the event (its
    /// client missing or unfit for the interpreter), if anything.
    pub fn early_exit_hint(&self) -> Option<&str> {
        self.early_exit_hint.as_deref()
    }

    /// Wait for the runtime process to end; `exit status 1`, `signal 9 (SIGKILL)`…
    pub async fn wait(&mut self) -> String {
        match self.child.wait().await {
            Ok(status) => describe(status),
            Err(e) => format!("cannot wait for the runtime: {e}"),
        }
    }

    /// Kill the runtime and everything it started (its process group, then
    /// any process left over, detached or not), reap them, and let their
    /// output drain (one wait in all).
    pub async fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
        let _ = self.child.kill().await;
        kill_leftovers();
        let until = tokio::time::Instant::now() + DRAIN;
        for f in self.forwarders.drain(..) {
            let _ = tokio::time::timeout_at(until, f).await;
        }
    }
}

impl Drop for Runtime {
    /// A runtime dropped without [`Runtime::kill`] (the run was abandoned)
    /// must not leave its process tree behind.
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
            kill_leftovers();
        }
    }
}

/// Make orphaned descendants this process's children rather than init's.
fn become_subreaper() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(
            "cannot become a child subreaper ({e}): processes the function detaches may outlive it"
        );
    }
}

/// Kill and reap every child of this process (with the runtime gone, its
/// orphans are ours); their children then become ours in turn.
fn kill_leftovers() {
    let me = std::process::id();
    for _ in 0..100 {
        let children = children_of(me);
        if children.is_empty() {
            return;
        }
        for pid in children {
            let pid = Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}

/// Processes whose parent is `parent`, from `/proc`.
fn children_of(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (command, which may hold spaces and parentheses) state ppid …"
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(sig) => match Signal::try_from(sig) {
            Ok(s) => format!("signal {sig} ({})", s.as_str()),
            Err(_) => format!("signal {sig}"),
        },
        None => status.to_string(),
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
