//! The runtime's process, from start to end: started from its
//! [`Entrypoint`] with the environment of [`crate::environment`], alone in its
//! process group, its output copied to ours as it comes; ended with
//! everything it started: the runner is a child subreaper, so processes the
//! runtime detached (`setsid`, double forks) become the runner's children
//! when their parents die, and are killed with the rest.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::entrypoint::{Container, Entrypoint};
use crate::environment::environment;
use crate::spec::FunctionSpec;
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

/// A started runtime, alone in its process group.
pub struct RuntimeProcess {
    child: Child,
    pgid: Option<Pid>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
    early_exit_hint: Option<String>,
    /// The container of an image function, which outlives a killed docker CLI.
    container: Option<Container>,
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
) -> Result<RuntimeProcess> {
    let entrypoint = Entrypoint::for_function(spec, layout)?;
    let env = environment(spec, layout, &entrypoint, api)?;
    let (program, args) = entrypoint.command_line(spec, layout, &env.passed);
    entrypoint.install(layout)?;
    become_subreaper();
    let mut cmd = Command::new(&program);
    cmd.args(&args)
        .env_clear()
        .envs(env.process)
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
    let early_exit_hint = entrypoint.early_exit_hint();
    Ok(RuntimeProcess {
        child,
        pgid,
        forwarders,
        early_exit_hint,
        container: match entrypoint {
            Entrypoint::Container(c) => Some(c),
            _ => None,
        },
    })
}

impl RuntimeProcess {
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
        if let Some(container) = self.container.take() {
            container.remove();
        }
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

impl Drop for RuntimeProcess {
    /// A runtime dropped without [`RuntimeProcess::kill`] (the run was abandoned)
    /// must not leave its process tree behind.
    fn drop(&mut self) {
        if let Some(container) = self.container.take() {
            container.remove();
        }
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
