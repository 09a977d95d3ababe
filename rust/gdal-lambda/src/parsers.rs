//! The handler's side of the parse workers: a pool of confined worker
//! processes ([`crate::worker`]), one per record being parsed. The handler
//! hands a worker the object's first bytes and answers its reads from S3;
//! the kernel caps what the worker may use (address space at start, CPU
//! time per record, set here with `prlimit`), and the handler kills it at
//! the record's deadline. A worker that dies, for whatever reason, takes
//! only its own record with it; its stdout and stderr reach the function's
//! log only as framed records.
//!
//! Workers are started by executing this binary again (`parse-worker`),
//! never by forking the multi-threaded handler, with an environment that
//! holds no credentials.

use std::collections::VecDeque;
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use raster_info::{Limits, RasterInfo};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::config::WorkerBudget;
use crate::logging::{log_record, Level};
use crate::protocol::{
    self, from_worker, to_worker, Hello, Job, RenderedThumbnail, ThumbnailVerdict, Verdict,
};
use crate::worker::env;

/// Records a worker parses before it is replaced by a fresh one.
const RECORDS_PER_WORKER: u32 = 100;

/// Bytes a worker may read beyond the header budget: its own cache refuses
/// at the budget; past this, it is not behaving.
const READ_SLACK: u64 = 2 << 20;

/// Time a thumbnail may take after the parse (or half of what is left of the
/// record's, if less): it waits on reads, which the CPU cap does not count.
const THUMBNAIL_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Lines of a worker's output logged over its life; the rest are counted.
const OUTPUT_LINES: usize = 100;

/// Bytes of a worker's output kept to tell how it died.
const OUTPUT_TAIL: usize = 4096;

/// The worker-side variables passed on (GDAL's and PROJ's own settings, and
/// the test knobs); nothing else of the handler's environment reaches a worker.
fn passed_on(name: &str) -> bool {
    name.starts_with("GDAL_")
        || name.starts_with("CPL_")
        || name.starts_with("PROJ_")
        || name == env::CONFINE
        || name == env::TEST_HOOKS
        || name == env::SKIP_STRING_CHECKS
}

/// Why a parse did not give a verdict on the bytes.
#[derive(Debug)]
pub(crate) enum ParseFailure<E> {
    /// GDAL's (or our checks') verdict on the bytes.
    Raster(raster_info::Error),
    /// A read the worker asked for failed: nothing is known about the file.
    Read(E),
    /// The parse went past a cap: CPU time, memory or bytes read.
    Limit(String),
    /// The record's deadline came first; the worker was stopped.
    Deadline,
    /// The worker died or could not be started (`exit`: how it ended).
    Worker(String),
    /// The parser crashed (a fatal signal) on these bytes, in two fresh
    /// workers: it will again.
    Crashed(String),
}

/// A parse's result: the raster's metadata and, when the job asked for one,
/// its thumbnail or why there is none.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The raster's metadata.
    pub(crate) info: RasterInfo,
    /// `None` when no thumbnail was asked for.
    pub(crate) thumbnail: Option<Result<RenderedThumbnail, String>>,
}

/// Why a worker stopped answering a job's frames.
enum Stop {
    /// Its socket closed: it died.
    Died,
    /// The record's deadline came.
    Deadline,
    /// It read more than the limits allow.
    Limit(String),
    /// It broke the protocol.
    Broke(String),
}

/// Signals a parser's own fault ends a worker with (a bad access, an abort on
/// a detected corruption, a forbidden system call), unlike a kill from outside.
const PARSER_FAULTS: [i32; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSYS,
];

/// A running worker.
struct Worker {
    child: Child,
    pid: u32,
    socket: UnixStream,
    output: Arc<Mutex<Output>>,
    records: u32,
}

/// What a worker printed: the end of it, and how much was logged.
#[derive(Default)]
struct Output {
    tail: VecDeque<u8>,
    lines_logged: usize,
    lines_dropped: usize,
}

impl Output {
    fn tail_text(&self) -> String {
        let bytes: Vec<u8> = self.tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }
}

/// The pool.
pub struct Parsers {
    exe: PathBuf,
    budget: WorkerBudget,
    idle: Mutex<Vec<Worker>>,
    missing: Mutex<Vec<String>>,
    /// Set once the first worker has reported (or failed to).
    started: tokio::sync::OnceCell<()>,
}

impl Parsers {
    /// Workers that run `exe parse-worker` (this binary) under `budget`.
    pub fn new(exe: PathBuf, budget: WorkerBudget) -> Parsers {
        Parsers {
            exe,
            budget,
            idle: Mutex::new(Vec::new()),
            missing: Mutex::new(Vec::new()),
            started: tokio::sync::OnceCell::new(),
        }
    }

    /// Start the first worker, once, and log what confines it; later calls
    /// wait for that first start. The function calls it as it starts,
    /// without waiting (its first record does); a failure is logged, and
    /// each record then tries a worker of its own.
    pub async fn ensure_started(&self) {
        self.started
            .get_or_init(|| async {
                if let Err(e) = self.start().await {
                    log_record(
                        Level::Error,
                        json!({"message": "parse worker did not start", "error": e}),
                    );
                }
            })
            .await;
    }

    /// Start a worker and log, as the function's first record, what
    /// confines it: the layers in force, and those the platform refused.
    async fn start(&self) -> Result<(), String> {
        let (worker, hello) = self.spawn().await?;
        let missing: Vec<String> = hello
            .kernel
            .missing()
            .into_iter()
            .map(str::to_string)
            .chain((!hello.gdal.proj_through_vsi).then(|| "proj-file-api".to_string()))
            .chain((!hello.kernel.probes.all_refused()).then(|| "probes".to_string()))
            .collect();
        let level = if missing.is_empty() {
            Level::Info
        } else {
            Level::Warn
        };
        log_record(
            level,
            json!({"message": "parse worker confinement", "unconfined": missing,
                   "kernel": hello.kernel, "gdal": hello.gdal,
                   "budget": {"memory_mb": self.budget.memory_mb, "cpu_seconds": self.budget.cpu_seconds}}),
        );
        if let Ok(mut m) = self.missing.lock() {
            *m = missing;
        }
        self.put_back(worker);
        Ok(())
    }

    /// The confinement layers not in force (empty when all are), as the
    /// start-up record listed them, for every record's log line.
    pub fn unconfined(&self) -> Vec<String> {
        self.missing.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Parse one object in a worker by `deadline`: `job` carries its first
    /// bytes, and `fetch(offset, len)` reads the rest (the caller's S3 reads).
    /// A parser that crashes is given the bytes once more, in a fresh worker:
    /// a second crash is the bytes' doing ([`ParseFailure::Crashed`]), one
    /// alone is not known to repeat.
    pub(crate) async fn parse<E, F, Fut>(
        &self,
        job: Job,
        limits: &Limits,
        mut fetch: F,
        deadline: Instant,
    ) -> Result<Parsed, ParseFailure<E>>
    where
        E: std::fmt::Display,
        F: FnMut(u64, usize) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        match self.parse_once(&job, limits, &mut fetch, deadline).await {
            Err(ParseFailure::Crashed(first)) => {
                match self.parse_once(&job, limits, &mut fetch, deadline).await {
                    Err(ParseFailure::Crashed(second)) => Err(ParseFailure::Crashed(format!(
                        "the parser crashed on these bytes in two fresh workers ({first}; then {second})"
                    ))),
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn parse_once<E, F, Fut>(
        &self,
        job: &Job,
        limits: &Limits,
        fetch: &mut F,
        deadline: Instant,
    ) -> Result<Parsed, ParseFailure<E>>
    where
        E: std::fmt::Display,
        F: FnMut(u64, usize) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        if tokio::time::timeout_at(deadline, self.ensure_started())
            .await
            .is_err()
        {
            return Err(ParseFailure::Deadline);
        }
        let mut worker = match self.take() {
            Some(w) => w,
            None => match tokio::time::timeout_at(deadline, self.spawn()).await {
                Ok(Ok((w, _))) => w,
                Ok(Err(e)) => return Err(ParseFailure::Worker(e)),
                Err(_) => return Err(ParseFailure::Deadline),
            },
        };
        // This record's CPU time, counted by the kernel from what the worker has used.
        let cpu = confine::cpu_time(worker.pid)
            .map(|t| t.as_secs() + u64::from(t.subsec_nanos() > 0))
            .and_then(|used| confine::set_cpu_seconds(worker.pid, used + self.budget.cpu_seconds));
        if let Err(e) = cpu {
            return Err(ParseFailure::Worker(format!(
                "cannot set the worker's CPU limit: {e}"
            )));
        }
        let payload = serde_json::to_vec(job).map_err(|e| ParseFailure::Worker(e.to_string()))?;
        if send(&mut worker.socket, to_worker::JOB, &payload)
            .await
            .is_err()
        {
            return Err(self.classify_death(worker, false).await);
        }
        let mut reads = Reads {
            limits,
            deadline,
            served: 0,
            failure: None,
            out_of_memory: false,
        };
        let verdict = match reads.next_frame(&mut worker, fetch).await {
            Ok((from_worker::DONE, payload)) => serde_json::from_slice::<Verdict>(&payload),
            Ok((tag, _)) => {
                let what = format!("an unexpected frame {tag:?}");
                return Err(ParseFailure::Worker(broke(worker, &what).await));
            }
            Err(stop) => return Err(self.stopped(worker, stop, reads.out_of_memory).await),
        };
        let asked = job.thumbnail.is_some() && matches!(verdict, Ok(Verdict::Info(_)));
        if !asked {
            self.done_with(worker).await;
            let info = self.verdict(verdict, reads.failure.take(), job)?;
            return Ok(Parsed {
                info,
                thumbnail: None,
            });
        }
        let info = self.verdict(verdict, reads.failure.take(), job)?;
        // The thumbnail: whatever ends it, the metadata stands, with time left to write the Item.
        let left = deadline.saturating_duration_since(Instant::now());
        reads.deadline = Instant::now() + THUMBNAIL_TIME.min(left / 2);
        let thumbnail = match reads.next_frame(&mut worker, fetch).await {
            Ok((from_worker::THUMBNAIL, payload)) => {
                self.done_with(worker).await;
                match serde_json::from_slice::<ThumbnailVerdict>(&payload) {
                    Ok(ThumbnailVerdict::Rendered(t)) => Ok(t),
                    Ok(ThumbnailVerdict::Declined(why)) => Err(why),
                    Err(e) => Err(format!("the worker's thumbnail is unreadable: {e}")),
                }
            }
            Ok((tag, _)) => Err(broke(worker, &format!("an unexpected frame {tag:?}")).await),
            Err(stop) => Err(
                match self.stopped::<E>(worker, stop, reads.out_of_memory).await {
                    ParseFailure::Deadline => format!(
                        "rendering it took longer than its share of the record's time ({} ms)",
                        THUMBNAIL_TIME.min(left / 2).as_millis()
                    ),
                    ParseFailure::Limit(m) | ParseFailure::Worker(m) | ParseFailure::Crashed(m) => {
                        m
                    }
                    ParseFailure::Raster(e) => e.message,
                    ParseFailure::Read(e) => e.to_string(),
                },
            ),
        };
        Ok(Parsed {
            info,
            thumbnail: Some(thumbnail),
        })
    }

    /// A worker that answered its job: kept for the next, unless it has served its share.
    async fn done_with(&self, mut worker: Worker) {
        worker.records += 1;
        if worker.records < RECORDS_PER_WORKER {
            self.put_back(worker);
        } else {
            kill(worker).await;
        }
    }

    /// The failure a [`Stop`] is, the worker disposed of.
    async fn stopped<E>(&self, worker: Worker, stop: Stop, out_of_memory: bool) -> ParseFailure<E> {
        match stop {
            Stop::Died => self.classify_death(worker, out_of_memory).await,
            Stop::Deadline => {
                kill(worker).await;
                ParseFailure::Deadline
            }
            Stop::Limit(message) => {
                kill(worker).await;
                ParseFailure::Limit(message)
            }
            Stop::Broke(what) => ParseFailure::Worker(broke(worker, &what).await),
        }
    }

    fn verdict<E>(
        &self,
        verdict: Result<Verdict, serde_json::Error>,
        read_failure: Option<E>,
        job: &Job,
    ) -> Result<RasterInfo, ParseFailure<E>> {
        use raster_info::ErrorKind;
        match verdict {
            Ok(Verdict::Info(info)) => Ok(*info),
            Ok(Verdict::Failed { kind, message }) => {
                let kind = ErrorKind::from_name(&kind).unwrap_or(ErrorKind::Gdal);
                match (kind, read_failure) {
                    // GDAL failed because a read did: the read's failure is the outcome.
                    (ErrorKind::ReadFailed, Some(e)) => Err(ParseFailure::Read(e)),
                    // Under the worker's cap, GDAL running out of memory is the cap.
                    (ErrorKind::OutOfMemory, _) => Err(ParseFailure::Limit(format!(
                        "the parse needs more memory than the worker's cap of {} MiB ({message})",
                        self.budget.memory_mb
                    ))),
                    (kind, _) => Err(ParseFailure::Raster(raster_info::Error {
                        kind,
                        path: job.name.clone(),
                        message,
                    })),
                }
            }
            Err(e) => Err(ParseFailure::Worker(format!(
                "the worker's verdict is unreadable: {e}"
            ))),
        }
    }

    /// A worker's death, told apart: a cap the kernel enforced is the record's
    /// limit (the same bytes reach it again); anything else is not known to repeat.
    async fn classify_death<E>(&self, worker: Worker, out_of_memory: bool) -> ParseFailure<E> {
        let output = worker.output.clone();
        let mut child = worker.child;
        drop(worker.socket);
        let status = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await;
        let tail = output.lock().map(|o| o.tail_text()).unwrap_or_default();
        let memory = out_of_memory
            || tail.contains("memory allocation of")
            || tail.contains("std::bad_alloc");
        match status {
            Ok(Ok(s)) if s.signal() == Some(libc::SIGXCPU) => ParseFailure::Limit(format!(
                "the parse used more than the limit of {} CPU seconds",
                self.budget.cpu_seconds
            )),
            Ok(Ok(_)) if memory => ParseFailure::Limit(format!(
                "the parse needs more memory than the worker's cap of {} MiB",
                self.budget.memory_mb
            )),
            Ok(Ok(s)) if s.signal().is_some_and(|sig| PARSER_FAULTS.contains(&sig)) => {
                ParseFailure::Crashed(format!("the parse worker died ({s}){}", last_words(&tail)))
            }
            Ok(Ok(s)) => {
                ParseFailure::Worker(format!("the parse worker died ({s}){}", last_words(&tail)))
            }
            _ => {
                let _ = child.start_kill();
                ParseFailure::Worker(format!(
                    "the parse worker stopped answering{}",
                    last_words(&tail)
                ))
            }
        }
    }

    fn take(&self) -> Option<Worker> {
        self.idle.lock().ok()?.pop()
    }

    fn put_back(&self, worker: Worker) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(worker);
        }
    }

    /// Start a worker and wait for its report.
    async fn spawn(&self) -> Result<(Worker, Hello), String> {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("cannot make the worker's socket: {e}"))?;
        ours.set_nonblocking(true)
            .map_err(|e| format!("cannot make the worker's socket: {e}"))?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("parse-worker")
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| passed_on(k)))
            .env(env::MEMORY_MB, self.budget.memory_mb.to_string())
            // One malloc arena: every thread's arena would reserve address space.
            .env("MALLOC_ARENA_MAX", "1")
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the parse worker {}: {e}", self.exe.display()))?;
        // The command holds the worker's end of the socket: dropped, a worker
        // that dies before reporting is an end of file at once, not a timeout.
        drop(cmd);
        let pid = child.id().unwrap_or(0);
        let output = Arc::new(Mutex::new(Output::default()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(drain(out, pid, "stdout", output.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(drain(err, pid, "stderr", output.clone()));
        }
        let mut socket = UnixStream::from_std(ours)
            .map_err(|e| format!("cannot use the worker's socket: {e}"))?;
        let hello = match tokio::time::timeout(
            std::time::Duration::from_secs(self.budget.start_seconds),
            recv(&mut socket),
        )
        .await
        {
            Ok(Ok((from_worker::HELLO, payload))) => serde_json::from_slice::<Hello>(&payload)
                .map_err(|e| format!("the worker's report is unreadable: {e}"))?,
            other => {
                // How it ended, when it ended on its own (a signal says more than its silence).
                let ended = match other {
                    Ok(Err(_)) => {
                        tokio::time::timeout(std::time::Duration::from_secs(2), child.wait())
                            .await
                            .ok()
                            .and_then(Result::ok)
                            .map(|status| format!("; it ended: {status}"))
                            .unwrap_or_default()
                    }
                    _ => String::new(),
                };
                let _ = child.start_kill();
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), child.wait()).await;
                let tail = output.lock().map(|o| o.tail_text()).unwrap_or_default();
                return Err(format!(
                    "the parse worker did not start ({}{ended}){}",
                    match other {
                        Ok(Ok((tag, _))) => format!("it sent {tag:?}"),
                        Ok(Err(e)) => e.to_string(),
                        Err(_) => "no report in time".into(),
                    },
                    last_words(&tail)
                ));
            }
        };
        Ok((
            Worker {
                child,
                pid,
                socket,
                output,
                records: 0,
            },
            hello,
        ))
    }
}

/// The handler's side of one job's reads: every read the worker asks for
/// answered from `fetch`, counted against the limits, until it sends
/// another frame.
struct Reads<'a, E> {
    limits: &'a Limits,
    deadline: Instant,
    served: u64,
    /// The first read that failed (its error is the outcome when GDAL's is "read failed").
    failure: Option<E>,
    out_of_memory: bool,
}

impl<E: std::fmt::Display> Reads<'_, E> {
    async fn next_frame<F, Fut>(
        &mut self,
        worker: &mut Worker,
        fetch: &mut F,
    ) -> Result<(u8, Vec<u8>), Stop>
    where
        F: FnMut(u64, usize) -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        loop {
            let frame = match tokio::time::timeout_at(self.deadline, recv(&mut worker.socket)).await
            {
                Ok(Ok(frame)) => frame,
                Ok(Err(_)) => return Err(Stop::Died),
                Err(_) => return Err(Stop::Deadline),
            };
            match frame {
                (from_worker::READ, payload) => {
                    let Some((offset, len)) = protocol::parse_read_request(&payload) else {
                        return Err(Stop::Broke("a malformed read request".into()));
                    };
                    self.served += u64::from(len);
                    if self.served > self.limits.max_header_bytes + READ_SLACK {
                        return Err(Stop::Limit(format!(
                            "the parse read more than the limit of {} bytes",
                            self.limits.max_header_bytes
                        )));
                    }
                    let answer =
                        match tokio::time::timeout_at(self.deadline, fetch(offset, len as usize))
                            .await
                        {
                            Ok(Ok(bytes)) => {
                                send(&mut worker.socket, to_worker::BYTES, &bytes).await
                            }
                            Ok(Err(e)) => {
                                let why = e.to_string();
                                self.failure.get_or_insert(e);
                                send(&mut worker.socket, to_worker::READ_FAILED, why.as_bytes())
                                    .await
                            }
                            Err(_) => return Err(Stop::Deadline),
                        };
                    if answer.is_err() {
                        return Err(Stop::Died);
                    }
                }
                (from_worker::OUT_OF_MEMORY, _) => self.out_of_memory = true,
                other => return Ok(other),
            }
        }
    }
}

fn last_words(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        let cut: String = tail
            .chars()
            .rev()
            .take(500)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("; its last output: {cut}")
    }
}

async fn send(socket: &mut UnixStream, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = tag;
    let len = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "frame too large"))?;
    head[1..].copy_from_slice(&len.to_le_bytes());
    socket.write_all(&head).await?;
    socket.write_all(payload).await
}

async fn recv(socket: &mut UnixStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    socket.read_exact(&mut head).await?;
    let len = protocol::frame_len(&head)?;
    let mut payload = vec![0u8; len];
    socket.read_exact(&mut payload).await?;
    Ok((head[0], payload))
}

/// Stop a worker that is not answering or no longer wanted.
async fn kill(mut worker: Worker) {
    let _ = worker.child.start_kill();
    let _ = worker.child.wait().await;
}

/// Stop a worker that broke the protocol and say so.
async fn broke(worker: Worker, what: &str) -> String {
    let tail = worker
        .output
        .lock()
        .map(|o| o.tail_text())
        .unwrap_or_default();
    kill(worker).await;
    format!("the parse worker sent {what}{}", last_words(&tail))
}

/// Log what a worker prints, line by line, as framed records (never raw on
/// the function's stdout), at most [`OUTPUT_LINES`] over its life, and keep
/// the end of it.
async fn drain(
    mut from: impl AsyncRead + Unpin,
    pid: u32,
    stream: &'static str,
    output: Arc<Mutex<Output>>,
) {
    const MAX_LINE: usize = 1000;
    let mut buf = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    let emit = |line: &mut Vec<u8>| {
        if line.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(line).into_owned();
        line.clear();
        let (log, first_dropped) = match output.lock() {
            Ok(mut o) if o.lines_logged < OUTPUT_LINES => {
                o.lines_logged += 1;
                (true, false)
            }
            Ok(mut o) => {
                o.lines_dropped += 1;
                (false, o.lines_dropped == 1)
            }
            Err(_) => (false, false),
        };
        if log {
            log_record(
                Level::Warn,
                json!({"message": "parse worker output", "worker": pid, "stream": stream, "text": text}),
            );
        } else if first_dropped {
            log_record(
                Level::Warn,
                json!({"message": "parse worker output dropped", "worker": pid,
                       "after_lines": OUTPUT_LINES}),
            );
        }
    };
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Ok(mut o) = output.lock() {
            o.tail.extend(&buf[..n]);
            while o.tail.len() > OUTPUT_TAIL {
                o.tail.pop_front();
            }
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                emit(&mut line);
            } else if line.len() < MAX_LINE {
                line.push(b);
            }
        }
    }
    emit(&mut line);
}
