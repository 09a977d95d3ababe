//! `gdal-lambda`: the Lambda function when started by a Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` set), a command-line tool otherwise.

use std::process::ExitCode;

use std::time::Duration;

use clap::{Parser, Subcommand};
use gdal_lambda::{handle, init_tracing, read_raster, Config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};
use raster_info::stac::{self, ItemSource};
use raster_info::Limits;
use serde_json::Value;
use stratus_aws::Location;
use time::format_description::well_known::Rfc3339;

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

async fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let (source, want_item) = match cli.command {
        Command::Info { source } => (source, false),
        Command::Stac { source } => (source, true),
    };
    // S3 objects are read exactly as the function reads uploads; a local path is
    // opened by GDAL itself.
    let s3_url = match Location::parse(&source)? {
        Location::S3(url) => Some(url),
        Location::Local(_) => None,
        Location::Http(url) => anyhow::bail!(
            "{url} is not an S3 URL: give an s3:// URL, an S3 https:// URL or a local path"
        ),
    };
    let (info, id, href, last_modified) = match s3_url {
        Some(url) => {
            let sdk = stratus_aws::config::sdk_config_with_timeouts().await;
            let s3 = stratus_aws::config::s3_client(&sdk);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            let raster = read_raster(&s3, &url, deadline, &Limits::default()).await?;
            let id = stac::item_id(&url.key);
            (raster.info, id, url.to_string(), raster.last_modified)
        }
        None => {
            // A local file's Item points at it from anywhere: its absolute path. GDAL
            // paths (/vsi…/) stay as given.
            let href = if source.starts_with("/vsi") {
                source.clone()
            } else {
                std::path::absolute(&source)?.display().to_string()
            };
            let path = source.clone();
            let info = tokio::task::spawn_blocking(move || raster_info::read_info(&path)).await??;
            (info, stac::item_id(&href), href, file_modified(&source))
        }
    };
    let out = if want_item {
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)?
            .format(&Rfc3339)?;
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

/// A local file's last-modified time, for Items of undated rasters.
fn file_modified(path: &str) -> Option<String> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    time::OffsetDateTime::from(modified)
        .replace_nanosecond(0)
        .ok()?
        .format(&Rfc3339)
        .ok()
}
