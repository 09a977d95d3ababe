//! Confinement of a worker process by the kernel, for code that parses
//! hostile bytes: resource limits (`setrlimit`, everywhere), a seccomp
//! filter (no files opened, no sockets, no programs, no forks; needs only
//! `PR_SET_NO_NEW_PRIVS`) and Landlock where the kernel has it. [`confine`]
//! applies every layer the platform allows and then tries what the layers
//! forbid, so its [`Report`] says what is in force, not what was asked for.
//!
//! Call it once, after the process has opened every file it will need.

mod landlock;
mod limits;
mod seccomp;

pub use limits::{cpu_time, set_cpu_seconds, Limits};
use serde::{Deserialize, Serialize};

/// One layer of confinement: in force or not, and what it does or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// The layer is in force.
    pub on: bool,
    /// What it enforces, or why it is not in force.
    pub detail: String,
}

impl Layer {
    fn of(result: Result<String, String>) -> Layer {
        match result {
            Ok(detail) => Layer { on: true, detail },
            Err(detail) => Layer { on: false, detail },
        }
    }
}

/// What was tried after confinement, and what the kernel answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probes {
    /// Opening a file that exists (`/proc/self/stat`).
    pub open: String,
    /// Making a TCP connection to loopback.
    pub connect: String,
    /// Starting a program.
    pub exec: String,
}

impl Probes {
    /// Every probe was refused.
    pub fn all_refused(&self) -> bool {
        [&self.open, &self.connect, &self.exec]
            .iter()
            .all(|p| p.starts_with("refused"))
    }
}

/// What confines the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Resource limits.
    pub limits: Layer,
    /// The seccomp filter.
    pub seccomp: Layer,
    /// Landlock.
    pub landlock: Layer,
    /// What the probes met.
    pub probes: Probes,
}

impl Report {
    /// The layers not in force, by name (`["landlock"]` on a kernel without it).
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("limits", &self.limits),
            ("seccomp", &self.seccomp),
            ("landlock", &self.landlock),
        ]
        .into_iter()
        .filter(|(_, l)| !l.on)
        .map(|(name, _)| name)
        .collect()
    }
}

/// Which kernel layers to apply besides the limits: both, unless a test
/// wants to see what one does alone (as on a platform without the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    /// Install the seccomp filter.
    pub seccomp: bool,
    /// Restrict with Landlock.
    pub landlock: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Layers {
            seccomp: true,
            landlock: true,
        }
    }
}

/// Confine this process for the rest of its life with `limits` and `layers`, then probe.
pub fn confine(limits: &Limits, layers: Layers) -> Report {
    let skipped = || Err("not applied (STRATUS_CONFINE)".to_string());
    let emulator = emulator();
    let limits =
        Layer::of(limits::apply(limits, emulator.is_some()).map_err(|e| format!("refused: {e}")));
    let landlock = Layer::of(if layers.landlock {
        landlock::restrict()
    } else {
        skipped()
    });
    let seccomp = Layer::of(if let Some(emulator) = &emulator {
        // The filter would judge the emulator's own (host) system calls.
        Err(format!(
            "not applied under the user-mode emulator {emulator}"
        ))
    } else if layers.seccomp {
        seccomp::install()
            .map(|()| {
                "no files opened, no sockets, no programs or forks, no executable memory".into()
            })
            .map_err(|e| format!("refused by the platform: {e}"))
    } else {
        skipped()
    });
    Report {
        limits,
        seccomp,
        landlock,
        probes: probe(),
    }
}

/// The user-mode emulator (qemu) this process runs under, if any. Never so
/// on Lambda; so on an x86_64 machine testing an arm64 image. qemu answers
/// for the program's own `/proc/self/exe` and `uname`, but not for
/// `/proc/cpuinfo`, which still describes the x86 CPU (`vendor_id`).
fn emulator() -> Option<String> {
    if !cfg!(target_arch = "aarch64") {
        return None;
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpu.lines()
        .any(|l| l.starts_with("vendor_id"))
        .then(|| "(an aarch64 program on an x86 CPU)".to_string())
}

fn verdict(result: std::io::Result<()>, done: &str) -> String {
    match result {
        Ok(()) => done.to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => format!("refused ({e})"),
        Err(e) => format!("not refused: {e}"),
    }
}

/// Try what the confinement forbids, harmlessly: open a file that exists,
/// connect to loopback's discard port, start a program that does not exist
/// (if it ran, it would fail for not existing).
fn probe() -> Probes {
    let open = verdict(
        std::fs::File::open("/proc/self/stat").map(drop),
        "not refused: opened",
    );
    let connect = verdict(
        std::net::TcpStream::connect(("127.0.0.1", 9)).map(drop),
        "not refused: connected",
    );
    let exec = match std::process::Command::new("/nonexistent/stratus-confine-probe")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(mut child) => {
            let _ = child.kill();
            "not refused: started".into()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!("not refused: {e}"),
        Err(e) => format!("refused ({e})"),
    };
    Probes {
        open,
        connect,
        exec,
    }
}
