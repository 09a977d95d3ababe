//! `run-lambda`: see the library's documentation and `docs/run-lambda.md`.

use std::process::ExitCode;

use clap::Parser;
use run_lambda::cli::Cli;
use run_lambda::exit;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own text (usage, hints; --help and --version too), then for
            // a real error the documented last line.
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            return ExitCode::from(exit::report(&exit::usage_error(&e)));
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("RUN_LAMBDA_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let err = run_lambda::Error::io("starting the async runtime", e);
            return ExitCode::from(exit::report(&err));
        }
    };
    match runtime.block_on(run_lambda::cli::execute_until_stopped(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(exit::report(&err)),
    }
}
