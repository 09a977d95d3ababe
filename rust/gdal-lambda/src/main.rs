//! `gdal-lambda`: the Lambda function when started by a Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` set), a command-line tool otherwise.

use std::process::ExitCode;

use clap::Parser;
use gdal_lambda::cli::{self, Cli};
use gdal_lambda::worker::{self, CapAwareAllocator};
use gdal_lambda::{handle, init_tracing, Config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// In a parse worker, an allocation that fails at the memory cap is reported
/// to the handler before the process aborts.
#[global_allocator]
static ALLOCATOR: CapAwareAllocator = CapAwareAllocator;

fn main() -> ExitCode {
    // The parse worker the handler starts (this binary again): no runtime, no logs of its own.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "parse-worker")
    {
        return worker::run();
    }
    let in_lambda =
        std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() == 1;
    init_tracing(!in_lambda);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gdal-lambda: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if in_lambda {
        runtime.block_on(run_lambda())
    } else {
        runtime.block_on(cli::run(Cli::parse()))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gdal-lambda: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_lambda() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let sdk = stratus_aws::config::sdk_config_with_timeouts().await;
    let s3 = stratus_aws::config::s3_client(&sdk);
    // The handler serves for the life of the process.
    let deps: &'static Deps = Box::leak(Box::new(Deps::new(config, s3, std::env::current_exe()?)));
    // Uploads are parsed by confined workers; this process runs no GDAL. The
    // first worker starts while the function asks for its first event.
    tokio::spawn(deps.parsers.ensure_started());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handle(event, deps)
    }))
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}
