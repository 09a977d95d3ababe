//! The runner's error type. Every variant belongs to one failure class with a
//! documented exit code and an `ErrorType` name (see [`crate::exit`]).

use std::path::PathBuf;

/// Everything that can make a run fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The function's handler reported an error (`/invocation/{id}/error`).
    #[error("{error_type}: {message}")]
    Function {
        /// `errorType` as the runtime reported it (a Python exception's class name).
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// The runtime reported a failure during initialisation (`/init/error`).
    #[error("{error_type}: {message}")]
    Init {
        /// `errorType` as the runtime reported it (e.g. `Runtime.ImportModuleError`).
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// The runtime process ended without posting a response or an error.
    #[error("{status}")]
    RuntimeExit {
        /// How the process ended (`exit status 1`, `signal 9 (SIGKILL)`…).
        status: String,
    },
    /// The runtime could not be started at all.
    #[error("cannot start the runtime {program}: {source}")]
    Spawn {
        /// What we tried to execute.
        program: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `--timeout` expired; the runtime's process tree was killed.
    #[error("Task timed out after {secs:.2} seconds")]
    Timeout {
        /// The timeout in seconds.
        secs: f64,
    },
    /// The runner was asked to stop (SIGTERM/SIGINT, e.g. the Batch job was cancelled).
    #[error("the runner received {signal}; the function was stopped")]
    Terminated {
        /// Signal name.
        signal: &'static str,
    },
    /// The function's response is not JSON (Cirrus outputs are JSON documents).
    #[error("the function's response is not JSON: {reason}")]
    InvalidResponse {
        /// The parser's message.
        reason: String,
    },
    /// Writing the response failed (after retries).
    #[error("cannot write the output to {url}: {source}")]
    Output {
        /// Where we tried to write.
        url: String,
        /// What failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The input payload is missing, not JSON, or not gzip although its key ends in `.gz`.
    #[error("{0}")]
    InvalidInput(String),
    /// The input payload could not be read (access denied, network, throttling).
    #[error("cannot read the payload: {0}")]
    PayloadUnavailable(String),
    /// `GetFunction` (or `GetLayerVersionByArn`) says the resource does not exist.
    #[error("{0}")]
    FunctionNotFound(String),
    /// The job's role may not read the function, a layer or the code.
    #[error("{0}")]
    AccessDenied(String),
    /// Any other failure of the Lambda API (after the SDK's retries).
    #[error("{0}")]
    LambdaApi(String),
    /// The code or a layer could not be downloaded or read.
    #[error("{0}")]
    CodeDownload(String),
    /// The downloaded code does not have the SHA-256 Lambda reports.
    #[error("{what} has SHA-256 {actual}, but Lambda reports {expected}{hint}")]
    ChecksumMismatch {
        /// Which archive.
        what: String,
        /// Base64 SHA-256 Lambda reported.
        expected: String,
        /// Base64 SHA-256 of what we downloaded.
        actual: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// An archive tried to escape its root, is too big, or is not a zip.
    #[error("{archive}: {reason}")]
    UnsafeArchive {
        /// Which archive.
        archive: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The function cannot be run by this runner (runtime, package type, architecture).
    #[error("{0}")]
    Unsupported(String),
    /// The image's interpreter or architecture is not the function's (`runtime_match`).
    #[error("{0}")]
    RuntimeMismatch(String),
    /// `SubmitJob` (or the payload upload before it) failed.
    #[error("{0}")]
    Submit(String),
    /// Bad arguments that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// A local I/O failure of the runner itself (work directory, files).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The runtime API server failed.
    #[error("runtime API server: {0}")]
    Server(String),
}

impl Error {
    /// An [`Error::Io`] with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
