//! Exit codes and the last line of output.
//!
//! Cirrus' post-batch step reads the last event of the Batch job's log stream
//! and matches it with `^(?:([\.\w]+):)?\s*(.*)`: the error type is the run
//! of word characters and dots before the first `:`, the rest the message.
//! update-state then records the payload INVALID only for the full names
//! `stactask.exceptions.InvalidInput` and `cirrus.lib.errors.InvalidInput`,
//! FAILED otherwise. So on failure the runner's last line is always
//! `ErrorType: message` on a single line short enough for the log driver to
//! keep whole, the type a Python function's error being the exception's name
//! as Python prints it (`python_bootstrap.py`), and the exit code tells the
//! failure class (table in `docs/run-lambda.md`, kept in sync with
//! [`ExitClass::ALL`] by a test).

use crate::Error;

/// A documented class of outcome, with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// The function succeeded and its response was written.
    Success,
    /// A failure of the runner itself (local I/O, the runtime API server).
    Internal,
    /// Bad command-line arguments.
    Usage,
    /// The handler reported an error.
    FunctionError,
    /// The runtime failed to initialise (`/runtime/init/error`) or could not be started.
    InitError,
    /// The runtime exited without a response.
    RuntimeExit,
    /// `--timeout` expired.
    Timeout,
    /// The response is not JSON.
    InvalidResponse,
    /// The response could not be written.
    OutputError,
    /// The payload is missing or not (gzipped) JSON.
    InvalidInput,
    /// The payload could not be read (access, network).
    PayloadUnavailable,
    /// The function or a layer does not exist.
    FunctionNotFound,
    /// The job's role may not read the function, a layer or the code.
    AccessDenied,
    /// Code download, checksum or archive failure.
    CodeError,
    /// Runtime, package type or architecture this runner cannot run.
    Unsupported,
    /// Another Lambda API failure.
    LambdaApi,
    /// The image's interpreter or architecture is not the function's.
    RuntimeMismatch,
    /// `submit` could not upload the payload or submit the job.
    SubmitError,
    /// Stopped by SIGTERM/SIGINT.
    Terminated,
}

impl ExitClass {
    /// Every class, in table order.
    pub const ALL: [ExitClass; 19] = [
        ExitClass::Success,
        ExitClass::Internal,
        ExitClass::Usage,
        ExitClass::FunctionError,
        ExitClass::InitError,
        ExitClass::RuntimeExit,
        ExitClass::Timeout,
        ExitClass::InvalidResponse,
        ExitClass::OutputError,
        ExitClass::InvalidInput,
        ExitClass::PayloadUnavailable,
        ExitClass::FunctionNotFound,
        ExitClass::AccessDenied,
        ExitClass::CodeError,
        ExitClass::Unsupported,
        ExitClass::LambdaApi,
        ExitClass::SubmitError,
        ExitClass::RuntimeMismatch,
        ExitClass::Terminated,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Success => 0,
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::FunctionError => 3,
            ExitClass::InitError => 4,
            ExitClass::RuntimeExit => 5,
            ExitClass::Timeout => 6,
            ExitClass::InvalidResponse => 7,
            ExitClass::OutputError => 8,
            ExitClass::InvalidInput => 9,
            ExitClass::PayloadUnavailable => 10,
            ExitClass::FunctionNotFound => 11,
            ExitClass::AccessDenied => 12,
            ExitClass::CodeError => 13,
            ExitClass::Unsupported => 14,
            ExitClass::LambdaApi => 15,
            ExitClass::SubmitError => 16,
            ExitClass::RuntimeMismatch => 17,
            ExitClass::Terminated => 143,
        }
    }
}

/// The class, `ErrorType` and message of an error.
pub fn classify(err: &Error) -> (ExitClass, String, String) {
    let own = |class, ty: &str| (class, ty.to_string(), err.to_string());
    match err {
        Error::Function {
            error_type,
            message,
        } => (
            ExitClass::FunctionError,
            error_type.clone(),
            message.clone(),
        ),
        Error::Init {
            error_type,
            message,
        } => (ExitClass::InitError, error_type.clone(), message.clone()),
        Error::RuntimeExit { .. } => own(ExitClass::RuntimeExit, "Runtime.ExitError"),
        Error::Spawn { .. } => own(ExitClass::InitError, "Runtime.InvalidEntrypoint"),
        Error::Timeout { .. } => own(ExitClass::Timeout, "Sandbox.Timedout"),
        Error::Terminated { .. } => own(ExitClass::Terminated, "Runner.Terminated"),
        Error::InvalidResponse { .. } => own(ExitClass::InvalidResponse, "Runtime.InvalidResponse"),
        Error::Output { .. } => own(ExitClass::OutputError, "OutputWriteError"),
        Error::InvalidInput(_) => own(ExitClass::InvalidInput, "InvalidInput"),
        Error::PayloadUnavailable(_) => own(ExitClass::PayloadUnavailable, "PayloadUnavailable"),
        Error::FunctionNotFound(_) => own(ExitClass::FunctionNotFound, "ResourceNotFound"),
        Error::AccessDenied(_) => own(ExitClass::AccessDenied, "AccessDenied"),
        Error::LambdaApi(_) => own(ExitClass::LambdaApi, "LambdaApiError"),
        Error::CodeDownload(_) => own(ExitClass::CodeError, "CodeDownloadError"),
        Error::ChecksumMismatch { .. } => own(ExitClass::CodeError, "CodeChecksumMismatch"),
        Error::UnsafeArchive { .. } => own(ExitClass::CodeError, "UnsafeArchive"),
        Error::Unsupported(_) => own(ExitClass::Unsupported, "UnsupportedFunction"),
        Error::RuntimeMismatch(_) => own(ExitClass::RuntimeMismatch, "RuntimeMismatch"),
        Error::Submit(_) => own(ExitClass::SubmitError, "SubmitError"),
        Error::Usage(_) => own(ExitClass::Usage, "UsageError"),
        Error::Io { .. } | Error::Server(_) => own(ExitClass::Internal, "Runner.Error"),
    }
}

/// The longest last line, in bytes: log drivers split longer lines into
/// several log events (Docker's copier at 16 KiB where the driver does not
/// raise it, as in awslogs' non-blocking mode), and the last of them would
/// have lost the type.
pub const MAX_LAST_LINE: usize = 16_000;

/// The single line `ErrorType: message` (newlines in the message folded into
/// spaces, so that it stays the last line of the log; a message too long for
/// one log event is cut).
pub fn last_line(err: &Error) -> String {
    let (_, ty, message) = classify(err);
    let ty = one_line(&ty);
    let message = one_line(&message);
    if message.is_empty() {
        return ty;
    }
    let mut line = format!("{ty}: {message}");
    if line.len() > MAX_LAST_LINE {
        const CUT: &str = " [cut]";
        let mut end = MAX_LAST_LINE - CUT.len();
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push_str(CUT);
    }
    line
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// A command-line error clap found, as a [`Error::Usage`] whose message is
/// clap's first line (`unexpected argument '--x' found`).
pub fn usage_error(e: &clap::Error) -> Error {
    // clap's first paragraph is the whole error ("the following required arguments
    // were not provided:" and the arguments on the lines below); usage and tips follow.
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let message = message.join(" ");
    let message = message.trim_start_matches("error:").trim();
    Error::Usage(if message.is_empty() {
        e.kind().to_string()
    } else {
        message.to_string()
    })
}

/// Print the last line to stderr and return the exit code for `err`.
pub fn report(err: &Error) -> u8 {
    use std::io::Write;
    let (class, _, _) = classify(err);
    let line = last_line(err);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.flush();
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
    let _ = stderr.flush();
    class.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut codes: Vec<u8> = ExitClass::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ExitClass::ALL.len());
    }

    /// The documented table lists every class with its code and `ErrorType`.
    #[test]
    fn docs_table_matches() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/run-lambda.md"
        ))
        .unwrap();
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| ")).collect();
        let samples = [
            Error::Io {
                context: "x".into(),
                source: std::io::Error::other("x"),
            },
            Error::Usage("x".into()),
            Error::RuntimeExit { status: "x".into() },
            Error::Spawn {
                program: "x".into(),
                source: std::io::Error::other("x"),
            },
            Error::Timeout { secs: 1.0 },
            Error::InvalidResponse { reason: "x".into() },
            Error::Output {
                url: "x".into(),
                source: "x".into(),
            },
            Error::InvalidInput("x".into()),
            Error::PayloadUnavailable("x".into()),
            Error::FunctionNotFound("x".into()),
            Error::AccessDenied("x".into()),
            Error::CodeDownload("x".into()),
            Error::ChecksumMismatch {
                what: "x".into(),
                expected: "x".into(),
                actual: "x".into(),
                hint: "",
            },
            Error::UnsafeArchive {
                archive: "x".into(),
                reason: "x".into(),
            },
            Error::Unsupported("x".into()),
            Error::RuntimeMismatch("x".into()),
            Error::LambdaApi("x".into()),
            Error::Submit("x".into()),
            Error::Terminated { signal: "SIGTERM" },
        ];
        for err in &samples {
            let (class, ty, _) = classify(err);
            let prefix = format!("| {} |", class.code());
            let row = rows
                .iter()
                .find(|r| r.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no row for exit code {}", class.code()));
            assert!(row.contains(&format!("`{ty}`")), "{ty} missing from {row}");
        }
        for class in ExitClass::ALL {
            let prefix = format!("| {} |", class.code());
            assert!(rows.iter().any(|r| r.starts_with(&prefix)), "{class:?}");
        }
    }

    #[test]
    fn function_errors_keep_their_type() {
        let e = Error::Function {
            error_type: "InvalidInput".into(),
            message: "no features\nin payload".into(),
        };
        assert_eq!(last_line(&e), "InvalidInput: no features in payload");
        assert_eq!(classify(&e).0.code(), 3);
    }

    #[test]
    fn long_messages_are_cut_to_one_log_event() {
        let e = Error::Function {
            error_type: "stactask.exceptions.InvalidInput".into(),
            message: "é".repeat(20_000),
        };
        let line = last_line(&e);
        assert!(line.len() <= MAX_LAST_LINE, "{}", line.len());
        assert!(line.starts_with("stactask.exceptions.InvalidInput: éé"));
        assert!(line.ends_with(" [cut]"));
    }

    #[test]
    fn usage_errors_end_with_a_typed_line() {
        use clap::Parser;
        let e = crate::cli::Cli::try_parse_from(["run-lambda", "run", "--bogus"]).unwrap_err();
        let line = last_line(&usage_error(&e));
        assert!(
            line.starts_with("UsageError: unexpected argument '--bogus'"),
            "{line}"
        );
        assert_eq!(classify(&usage_error(&e)).0.code(), 2);
        // A message on several lines is kept whole: which arguments are missing.
        let e = crate::cli::Cli::try_parse_from(["run-lambda", "run"]).unwrap_err();
        let line = last_line(&usage_error(&e));
        assert!(
            line.starts_with(
                "UsageError: the following required arguments were not provided: <FUNCTION>"
            ),
            "{line}"
        );
        assert!(!line.contains("Usage:") && !line.contains('\n'), "{line}");
    }

    #[test]
    fn runner_errors_have_a_type() {
        let e = Error::InvalidInput("s3://b/k.json is not valid JSON".into());
        assert_eq!(
            last_line(&e),
            "InvalidInput: s3://b/k.json is not valid JSON"
        );
        let e = Error::Timeout { secs: 2.0 };
        assert_eq!(
            last_line(&e),
            "Sandbox.Timedout: Task timed out after 2.00 seconds"
        );
    }
}
