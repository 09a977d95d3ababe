//! Starting a function's runtime process with the environment a Lambda
//! function sees, and ending it with everything it started: the runner is a
//! child subreaper, so processes the runtime detached (`setsid`, double
//! forks) become the runner's children when their parents die, and are
//! killed with the rest.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::spec::{FunctionSpec, RuntimeKind};
use crate::{Error, Result};

/// Variables Lambda reserves: a function cannot set them, so neither can its
/// configuration here. Credentials are the job's, never the function's.
pub const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Where the function's files are.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `LAMBDA_TASK_ROOT` (Lambda's `/var/task`): the function's code.
    pub task_root: PathBuf,
    /// Lambda's `/opt`: the layers, extracted in order.
    pub opt: PathBuf,
    /// `LAMBDA_RUNTIME_DIR` (Lambda's `/var/runtime`).
    pub runtime_dir: PathBuf,
}

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

/// The environment of the runtime: the runner's own (the image's settings and
/// the job role's credentials), minus anything Lambda-specific left over, plus
/// what Lambda sets, plus the function's variables (reserved names ignored).
pub fn environment(
    spec: &FunctionSpec,
    layout: &Layout,
    entrypoint: &Entrypoint,
    api: SocketAddr,
) -> Result<Vec<(OsString, OsString)>> {
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            !(k.starts_with("AWS_LAMBDA_")
                || k == "_HANDLER"
                || k == "_X_AMZN_TRACE_ID"
                || k == "LAMBDA_TASK_ROOT"
                || k == "LAMBDA_RUNTIME_DIR"
                || k == "AWS_EXECUTION_ENV")
        })
        .collect();
    let mut set = |k: &str, v: OsString| {
        env.insert(OsString::from(k), v);
    };
    let task = layout.task_root.as_os_str().to_owned();
    let opt = &layout.opt;
    set("AWS_LAMBDA_RUNTIME_API", api.to_string().into());
    set("_HANDLER", spec.handler.clone().into());
    set("LAMBDA_TASK_ROOT", task);
    set(
        "LAMBDA_RUNTIME_DIR",
        layout.runtime_dir.as_os_str().to_owned(),
    );
    set("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone().into());
    set("AWS_LAMBDA_FUNCTION_VERSION", spec.version.clone().into());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        spec.memory_mb.to_string().into(),
    );
    set("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone().into());
    set("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name(spec).into());
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
    set(
        "AWS_EXECUTION_ENV",
        format!("AWS_Lambda_{}", spec.runtime).into(),
    );
    set("AWS_REGION", spec.region.clone().into());
    set("AWS_DEFAULT_REGION", spec.region.clone().into());
    set("TZ", ":UTC".into());
    if let Some(format) = &spec.log_format {
        set("AWS_LAMBDA_LOG_FORMAT", format.clone().into());
    }
    if let Some(level) = &spec.log_level {
        set("AWS_LAMBDA_LOG_LEVEL", level.clone().into());
    }
    // Lambda's search paths: the system's first, then the code, then the layers.
    let inherited = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let path = join_paths(
        split(inherited("PATH"))
            .into_iter()
            .chain([opt.join("bin")])
            .collect(),
    )?;
    set("PATH", path);
    let ld = join_paths(
        split(inherited("LD_LIBRARY_PATH"))
            .into_iter()
            .chain([
                layout.task_root.clone(),
                layout.task_root.join("lib"),
                opt.join("lib"),
            ])
            .collect(),
    )?;
    set("LD_LIBRARY_PATH", ld);
    match entrypoint {
        Entrypoint::Bootstrap(_) => {}
        Entrypoint::Python { version, .. } => {
            let py = join_paths(
                [
                    layout.task_root.clone(),
                    opt.join("python"),
                    opt.join(format!("python/lib/python{version}/site-packages")),
                ]
                .into_iter()
                .chain(split(inherited("PYTHONPATH")))
                .collect(),
            )?;
            set("PYTHONPATH", py);
        }
        // Lambda's order: the layers' modules for this Node.js version, the
        // layers' modules, the runtime's, the runtime, the code. A function's own
        // NODE_PATH (set below) replaces it, as in Lambda.
        Entrypoint::Node { major, client, .. } => {
            let node_path = join_paths(
                [
                    opt.join(format!("nodejs/node{major}/node_modules")),
                    opt.join("nodejs/node_modules"),
                    client.modules.clone(),
                    client.dir.clone(),
                    layout.task_root.clone(),
                ]
                .into_iter()
                .chain(split(inherited("NODE_PATH")))
                .collect(),
            )?;
            set("NODE_PATH", node_path);
        }
    }
    for (k, v) in &spec.environment {
        if RESERVED.contains(&k.as_str()) {
            tracing::warn!(variable = %k, "ignoring a reserved variable in the function's environment");
            continue;
        }
        env.insert(k.into(), v.into());
    }
    Ok(env.into_iter().collect())
}

fn split(v: Option<OsString>) -> Vec<PathBuf> {
    v.map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

fn join_paths(paths: Vec<PathBuf>) -> Result<OsString> {
    std::env::join_paths(paths).map_err(|e| {
        Error::Usage(format!(
            "a search path contains ':' and cannot be used: {e}"
        ))
    })
}

/// `2026/11/21/[$LATEST]0123…`, the form of Lambda's log stream names.
fn log_stream_name(spec: &FunctionSpec) -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[{}]{}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        spec.version,
        uuid::Uuid::new_v4().simple()
    )
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

/// Whether `path` is an executable regular file.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Runtime;

    fn env_of(
        spec: &FunctionSpec,
        layout: &Layout,
        entrypoint: &Entrypoint,
        api: SocketAddr,
    ) -> BTreeMap<String, String> {
        environment(spec, layout, entrypoint, api)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect()
    }

    #[test]
    fn environment_is_lambdas() {
        let mut spec = FunctionSpec::local(
            "f",
            Runtime::parse("python3.12").unwrap(),
            "app.handler",
            "eu-west-1",
        );
        spec.environment
            .insert("AWS_ACCESS_KEY_ID".into(), "from-function".into());
        spec.environment.insert("MY_VAR".into(), "1".into());
        let layout = Layout {
            task_root: "/w/task".into(),
            opt: "/w/opt".into(),
            runtime_dir: "/w/runtime".into(),
        };
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let python = Entrypoint::Python {
            python: "python3".into(),
            version: "3.12".into(),
        };
        let env = env_of(&spec, &layout, &python, api);
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(env["_HANDLER"], "app.handler");
        assert_eq!(env["LAMBDA_TASK_ROOT"], "/w/task");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert_eq!(env["MY_VAR"], "1");
        assert_ne!(
            env.get("AWS_ACCESS_KEY_ID").map(String::as_str),
            Some("from-function")
        );
        assert!(env["PYTHONPATH"]
            .starts_with("/w/task:/w/opt/python:/w/opt/python/lib/python3.12/site-packages"));
        assert!(env["LD_LIBRARY_PATH"].ends_with("/w/task:/w/task/lib:/w/opt/lib"));
        assert!(env["PATH"].ends_with(":/w/opt/bin"));
        assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"].contains("/[$LATEST]"));
    }

    fn layout() -> Layout {
        Layout {
            task_root: "/w/task".into(),
            opt: "/w/opt".into(),
            runtime_dir: "/w/runtime".into(),
        }
    }

    #[test]
    fn node_path_is_lambdas_with_our_opt() {
        let spec = FunctionSpec::local(
            "f",
            Runtime::parse("nodejs22.x").unwrap(),
            "index.handler",
            "eu-west-1",
        );
        let node = Entrypoint::Node {
            node: "node".into(),
            major: 22,
            client: NodeClient {
                entry: "/var/runtime/index.mjs".into(),
                dir: "/var/runtime".into(),
                modules: "/var/runtime/node_modules".into(),
            },
        };
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let env = env_of(&spec, &layout(), &node, api);
        assert!(
            env["NODE_PATH"].starts_with(
                "/w/opt/nodejs/node22/node_modules:/w/opt/nodejs/node_modules:\
                 /var/runtime/node_modules:/var/runtime:/w/task"
            ),
            "{}",
            env["NODE_PATH"]
        );
        assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs22.x");
        assert!(!env.contains_key("PYTHONPATH"));
        // A function's own NODE_PATH wins, as in Lambda.
        let mut spec = spec;
        spec.environment.insert("NODE_PATH".into(), "/mine".into());
        assert_eq!(env_of(&spec, &layout(), &node, api)["NODE_PATH"], "/mine");
        let (program, args) = node.command_line(&spec, &layout());
        assert_eq!(program, PathBuf::from("node"));
        assert_eq!(
            args,
            [
                "--expose-gc",
                "--max-http-header-size=81920",
                "--require",
                "/w/runtime/preload.cjs",
                "/var/runtime/index.mjs",
                "index.handler"
            ]
            .map(OsString::from)
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
