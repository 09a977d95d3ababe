//! The parse worker: `gdal-lambda parse-worker`, started by the handler
//! with a socket on its stdin and nothing else. It locks GDAL and PROJ down,
//! opens the data files they need, confines itself ([`confine`]: resource
//! limits, a seccomp filter, Landlock where the kernel has it), reports
//! what is in force, and then parses one job at a time: every byte it
//! reads is asked of the handler ([`crate::protocol`]), which does all S3
//! I/O. Its environment holds no credentials, and it can open no file,
//! socket or program: what a hostile upload makes GDAL or PROJ attempt
//! fails at the kernel, and what it makes them consume ends at the caps.

#![allow(unsafe_code)] // the allocator hook and three system calls at start

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use raster_info::{Object, OpenObject, RangeReader, RasterInfo};

use crate::protocol::{self, from_worker, to_worker, Hello, Job, ThumbnailVerdict, Verdict};

/// Environment variables the handler sets for the worker.
pub(crate) mod env {
    /// The address space cap in MiB.
    pub(crate) const MEMORY_MB: &str = "STRATUS_WORKER_MEMORY_MB";
    /// Debug builds only: which kernel layers to apply (`seccomp`,
    /// `landlock`, `none`; both when unset), for tests that show what one
    /// layer does alone, and what happens with none.
    pub(crate) const CONFINE: &str = "STRATUS_CONFINE";
    /// Debug builds only: `1` lets jobs whose bytes start with [`super::TEST_HOOK`] misbehave,
    /// and thumbnails of objects named with `super::THUMBNAIL_TEST_HOOK`; `exit-at-start`
    /// makes the worker exit before it reports in.
    pub(crate) const TEST_HOOKS: &str = "STRATUS_WORKER_TEST_HOOKS";
    /// Debug builds only: `1` turns raster-info's string checks of CRS text
    /// off, to show what the layers below them stop on their own.
    pub(crate) const SKIP_STRING_CHECKS: &str = "STRATUS_TEST_SKIP_STRING_CHECKS";
}

/// The protocol socket, for the allocator hook (-1 outside a worker).
static PROTOCOL_FD: AtomicI32 = AtomicI32::new(-1);

/// The system allocator, which in a worker tells the handler when an
/// allocation fails at the memory cap, before the process aborts: the
/// handler then knows the cap, not a bug, ended the parse.
pub struct CapAwareAllocator;

impl CapAwareAllocator {
    fn failed() {
        let fd = PROTOCOL_FD.load(Ordering::Relaxed);
        if fd >= 0 {
            let frame = [from_worker::OUT_OF_MEMORY, 0, 0, 0, 0];
            // SAFETY: write(2) of a stack buffer; nothing is allocated on this path.
            unsafe {
                libc::write(fd, frame.as_ptr().cast(), frame.len());
            }
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the hook only writes.
unsafe impl GlobalAlloc for CapAwareAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if p.is_null() {
            Self::failed();
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if p.is_null() {
            Self::failed();
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            Self::failed();
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Take the protocol socket off stdin (fd 0 becomes /dev/null, so nothing
/// reads the protocol by accident) and die with the handler.
fn take_protocol_socket() -> io::Result<File> {
    let socket = io::stdin().as_fd().try_clone_to_owned()?;
    let null = File::open("/dev/null")?;
    // SAFETY: dup2 onto fd 0 of a descriptor we hold; prctl with integer arguments.
    unsafe {
        if libc::dup2(null.as_raw_fd(), 0) < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
    Ok(File::from(socket))
}

/// Reads of the object, asked of the handler over the socket.
struct HandlerReads {
    socket: Arc<Mutex<File>>,
}

impl RangeReader for HandlerReads {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let mut socket = self
            .socket
            .lock()
            .map_err(|_| "socket poisoned".to_string())?;
        let len32 = u32::try_from(len).map_err(|_| format!("a read of {len} bytes"))?;
        protocol::write_frame(
            &mut *socket,
            from_worker::READ,
            &protocol::read_request(offset, len32),
        )
        .map_err(|e| format!("asking the handler: {e}"))?;
        match protocol::read_frame(&mut *socket) {
            Ok((to_worker::BYTES, bytes)) => Ok(bytes),
            Ok((to_worker::READ_FAILED, why)) => Err(String::from_utf8_lossy(&why).into_owned()),
            Ok((tag, _)) => Err(format!("unexpected frame {tag:?}")),
            Err(e) => Err(format!("the handler's answer: {e}")),
        }
    }
}

/// The worker's main: returns when the handler closes the socket.
pub fn run() -> ExitCode {
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parse worker: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> io::Result<()> {
    if cfg!(debug_assertions) && std::env::var(env::TEST_HOOKS).as_deref() == Ok("exit-at-start") {
        return Err(io::Error::other("exiting before reporting in (test hook)"));
    }
    let mut socket = take_protocol_socket()?;
    let memory_mb: u64 = std::env::var(env::MEMORY_MB)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    // Everything GDAL and PROJ will read is opened here, before confinement.
    let gdal = raster_info::lockdown();
    let asked = std::env::var(env::CONFINE)
        .ok()
        .filter(|_| cfg!(debug_assertions));
    let layers = match asked.as_deref() {
        Some(only) => confine::Layers {
            seccomp: only == "seccomp",
            landlock: only == "landlock",
        },
        None => confine::Layers::default(),
    };
    let kernel = confine::confine(
        &confine::Limits {
            address_space: memory_mb << 20,
            open_files: 64,
        },
        layers,
    );
    PROTOCOL_FD.store(socket.as_raw_fd(), Ordering::Relaxed);
    let hello = serde_json::to_vec(&Hello { kernel, gdal }).map_err(io::Error::other)?;
    protocol::write_frame(&mut socket, from_worker::HELLO, &hello)?;
    let socket = Arc::new(Mutex::new(socket));
    loop {
        let frame = {
            let mut s = socket
                .lock()
                .map_err(|_| io::Error::other("socket poisoned"))?;
            protocol::read_frame(&mut *s)
        };
        let job: Job = match frame {
            Ok((to_worker::JOB, payload)) => {
                serde_json::from_slice(&payload).map_err(io::Error::other)?
            }
            Ok((tag, _)) => return Err(io::Error::other(format!("unexpected frame {tag:?}"))),
            // The handler closed the socket: done.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let request = job.thumbnail;
        let name = job.name.clone();
        let (verdict, opened) = parse(job, &socket);
        send(&socket, from_worker::DONE, &verdict)?;
        // The verdict is with the handler before the thumbnail's first read:
        // whatever the rendering meets (a cap, a crash), the Item is not lost.
        if let (Some(request), Some((object, info))) = (request, opened) {
            thumbnail_test_hook(&name);
            let thumbnail = match object.thumbnail(&info, &request) {
                Ok(t) => ThumbnailVerdict::Rendered(t.into()),
                Err(reason) => ThumbnailVerdict::Declined(reason),
            };
            drop(object);
            send(&socket, from_worker::THUMBNAIL, &thumbnail)?;
        }
    }
}

fn send(socket: &Arc<Mutex<File>>, tag: u8, value: &impl serde::Serialize) -> io::Result<()> {
    let payload = serde_json::to_vec(value).map_err(io::Error::other)?;
    let mut s = socket
        .lock()
        .map_err(|_| io::Error::other("socket poisoned"))?;
    protocol::write_frame(&mut *s, tag, &payload)
}

/// The job's verdict and, when it describes a raster, the dataset still open.
fn parse(job: Job, socket: &Arc<Mutex<File>>) -> (Verdict, Option<(OpenObject, RasterInfo)>) {
    if let Some(verdict) = test_hook(&job) {
        return (verdict, None);
    }
    let object = Object {
        name: job.name,
        size: job.size,
        head: job.head,
        reader: Arc::new(HandlerReads {
            socket: socket.clone(),
        }),
    };
    match raster_info::open_object(object, &job.limits) {
        Ok((info, opened)) => {
            let kept = job.thumbnail.map(|_| (opened, info.clone()));
            (Verdict::Info(Box::new(info)), kept)
        }
        Err(e) => (
            Verdict::Failed {
                kind: e.kind.name().to_string(),
                message: e.message,
            },
            None,
        ),
    }
}

/// What a job's bytes start with to make a debug build's worker misbehave
/// on purpose (with [`env::TEST_HOOKS`] set), followed by what to do.
#[cfg(debug_assertions)]
pub(crate) const TEST_HOOK: &[u8] = b"STRATUS-TEST-HOOK ";

/// A deliberately misbehaving parse, for the suites that prove the
/// confinement: never compiled into release builds.
#[cfg(debug_assertions)]
fn test_hook(job: &Job) -> Option<Verdict> {
    if std::env::var(env::TEST_HOOKS).as_deref() != Ok("1") {
        return None;
    }
    let action = job.head.strip_prefix(TEST_HOOK)?;
    let action = String::from_utf8_lossy(action);
    let action = action.trim_end_matches('\0').trim();
    let (verb, arg) = action.split_once(' ').unwrap_or((action, ""));
    let said = |what: &str, result: io::Result<()>| Verdict::Failed {
        kind: raster_info::ErrorKind::ExternalReference.name().to_string(),
        message: format!(
            "test hook: {what}: {}",
            match result {
                Ok(()) => "DONE".to_string(),
                Err(e) => format!("refused ({e})"),
            }
        ),
    };
    Some(match verb {
        "open" => said(&format!("open {arg}"), File::open(arg).map(drop)),
        "connect" => said(
            &format!("connect {arg}"),
            std::net::TcpStream::connect(arg).map(drop),
        ),
        "exec" => said(
            &format!("exec {arg}"),
            std::process::Command::new(arg).status().map(drop),
        ),
        "allocate" => {
            // Past any cap: touched, so the pages are really wanted.
            let mut v: Vec<u8> = Vec::with_capacity(64 << 30);
            v.resize(64 << 30, 1);
            said("allocate", Ok(()))
        }
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "print" => {
            for i in 0..arg.parse().unwrap_or(10) {
                println!("worker stdout line {i}");
                eprintln!("worker stderr line {i}");
            }
            said("print", Ok(()))
        }
        "crash" => std::process::abort(),
        // A death that is no parser fault (as when the process is stopped from outside).
        "exit" => std::process::exit(3),
        _ => return None,
    })
}

#[cfg(not(debug_assertions))]
fn test_hook(_: &Job) -> Option<Verdict> {
    None
}

/// What an object's name contains to make a debug build's worker misbehave
/// while it renders the thumbnail (with [`env::TEST_HOOKS`] set), followed
/// by what to do: `crash`, `spin` or `allocate`.
#[cfg(debug_assertions)]
const THUMBNAIL_TEST_HOOK: &str = "stratus-test-thumbnail-";

/// A deliberately misbehaving thumbnail, after the verdict was sent: never
/// compiled into release builds.
#[cfg(debug_assertions)]
fn thumbnail_test_hook(name: &str) {
    if std::env::var(env::TEST_HOOKS).as_deref() != Ok("1") {
        return;
    }
    let Some(at) = name.find(THUMBNAIL_TEST_HOOK) else {
        return;
    };
    let verb = &name[at + THUMBNAIL_TEST_HOOK.len()..];
    if verb.starts_with("crash") {
        std::process::abort();
    } else if verb.starts_with("spin") {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    } else if verb.starts_with("allocate") {
        let mut v: Vec<u8> = Vec::with_capacity(64 << 30);
        v.resize(64 << 30, 1);
    }
}

#[cfg(not(debug_assertions))]
fn thumbnail_test_hook(_: &str) {}
