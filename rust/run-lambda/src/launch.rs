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

/// The program and arguments that start the runtime.
pub fn command_line(spec: &FunctionSpec, layout: &Layout) -> Result<(PathBuf, Vec<String>)> {
    match spec.runtime_kind()? {
        RuntimeKind::Provided => {
            for dir in [&layout.task_root, &layout.opt] {
                let bootstrap = dir.join("bootstrap");
                if bootstrap.is_file() {
                    return Ok((bootstrap, Vec::new()));
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
        RuntimeKind::Python { .. } => Ok((
            python(),
            vec![
                python_bootstrap(layout).to_string_lossy().into_owned(),
                spec.handler.clone(),
            ],
        )),
    }
}

/// Our launcher of `awslambdaric` (`python_bootstrap.py`: why it exists is said there).
const PYTHON_BOOTSTRAP: &str = include_str!("python_bootstrap.py");

/// Where the Python launcher goes: the runtime directory, as Lambda's `/var/runtime/bootstrap.py`.
fn python_bootstrap(layout: &Layout) -> PathBuf {
    layout.runtime_dir.join("bootstrap.py")
}

/// Put the files the runtime starts from into the runtime directory.
fn install_runtime(spec: &FunctionSpec, layout: &Layout) -> Result<()> {
    if let RuntimeKind::Python { .. } = spec.runtime_kind()? {
        let path = python_bootstrap(layout);
        std::fs::write(&path, PYTHON_BOOTSTRAP)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    }
    Ok(())
}

/// The Python interpreter that runs `awslambdaric`: `$STRATUS_PYTHON`, else `python3`.
pub fn python() -> PathBuf {
    std::env::var_os("STRATUS_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// The environment of the runtime: the runner's own (the image's settings and
/// the job role's credentials), minus anything Lambda-specific left over, plus
/// what Lambda sets, plus the function's variables (reserved names ignored).
pub fn environment(
    spec: &FunctionSpec,
    layout: &Layout,
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
    if let RuntimeKind::Python { version } = spec.runtime_kind()? {
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
    let (program, args) = command_line(spec, layout)?;
    let env = environment(spec, layout, api)?;
    install_runtime(spec, layout)?;
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
    })
}

impl Runtime {
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

    #[test]
    fn environment_is_lambdas() {
        let mut spec = FunctionSpec::local("f", "python3.12", "app.handler", "eu-west-1");
        spec.environment
            .insert("AWS_ACCESS_KEY_ID".into(), "from-function".into());
        spec.environment.insert("MY_VAR".into(), "1".into());
        let layout = Layout {
            task_root: "/w/task".into(),
            opt: "/w/opt".into(),
            runtime_dir: "/w/runtime".into(),
        };
        let api: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let env: BTreeMap<String, String> = environment(&spec, &layout, api)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
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
}
