//! `gdal-lambda`: the Lambda function when started by a Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` set), a command-line tool otherwise.

use std::process::ExitCode;

use clap::Parser;
use gdal_lambda::cli::{self, Cli};
use gdal_lambda::{handle, init_tracing, Config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

fn main() -> ExitCode {
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
    // Every GDAL read from here on is of an upload: nothing else may be opened.
    raster_info::lockdown();
    let sdk = stratus_aws::config::sdk_config_with_timeouts().await;
    let deps = Deps {
        config,
        s3: stratus_aws::config::s3_client(&sdk),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handle(event, deps)
    }))
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}
