//! `gdal-lambda`: the Lambda function when started by a Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` set), a command-line tool otherwise.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gdal_lambda::{handle, init_tracing, Config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};
use raster_info::stac::{self, ItemSource};
use raster_info::Source;
use serde_json::Value;

/// Raster metadata and STAC Items with GDAL.
///
/// In Lambda (AWS_LAMBDA_RUNTIME_API is set) this binary is the function:
/// for each raster in an S3 event (or {"url": ...} / {"urls": [...]}) it reads
/// the header over ranged GETs, logs one JSON record of the metadata and writes
/// a STAC Item to OUTPUT_URL (s3://bucket/prefix/; MAX_CONCURRENCY records at
/// once, default 8). Anywhere else it is this command-line tool.
#[derive(Parser)]
#[command(name = "gdal-lambda", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the raster's metadata (RasterInfo) as JSON.
    Info {
        /// A local path, a GDAL path (/vsi…/) or an S3 URL (s3://bucket/key, https://…).
        source: String,
    },
    /// Print the raster's STAC Item as JSON.
    Stac {
        /// A local path, a GDAL path (/vsi…/) or an S3 URL (s3://bucket/key, https://…).
        source: String,
    },
}

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
        runtime.block_on(run_cli(Cli::parse()))
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
    let sdk = stratus_aws::config::sdk_config().await;
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

async fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let (source_text, want_item) = match &cli.command {
        Command::Info { source } => (source.clone(), false),
        Command::Stac { source } => (source.clone(), true),
    };
    let source = Source::parse(&source_text);
    let read = source.clone();
    let info = tokio::task::spawn_blocking(move || raster_info::read_info(&read)).await??;
    let out = if want_item {
        let last_modified = last_modified(&source).await;
        let id = stac::item_id(&match &source {
            Source::S3(u) => u.key.clone(),
            Source::Path(p) => p.clone(),
        });
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)?
            .format(&time::format_description::well_known::Rfc3339)?;
        let href = source.href();
        stac::item(
            &info,
            &ItemSource {
                id: &id,
                href: &href,
                last_modified: last_modified.as_deref(),
            },
            &now,
        )
    } else {
        serde_json::to_value(&info)?
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// The object's or file's last-modified time, for Items of undated rasters.
async fn last_modified(source: &Source) -> Option<String> {
    match source {
        Source::S3(url) => {
            let sdk = stratus_aws::config::sdk_config().await;
            stratus_aws::objects::head(&stratus_aws::config::s3_client(&sdk), url)
                .await
                .ok()?
                .last_modified
        }
        Source::Path(p) => {
            let modified = std::fs::metadata(p).ok()?.modified().ok()?;
            time::OffsetDateTime::from(modified)
                .replace_nanosecond(0)
                .ok()?
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        }
    }
}
