//! The command line: `gdal-lambda info|stac <source>` reads a raster the way
//! the function does (an S3 object through the same ranged reads) or, for a
//! local path, with GDAL directly, and prints its metadata or STAC Item.

use std::time::Duration;

use clap::{Parser, Subcommand};
use raster_info::stac::{self, ItemSource};
use raster_info::Limits;
use stratus_aws::Location;

use crate::clock;
use crate::parsers::Parsers;
use crate::summary::summary;
use crate::upload::read_raster;

/// Raster metadata and STAC Items with GDAL.
///
/// In Lambda (AWS_LAMBDA_RUNTIME_API is set) this binary is the function:
/// for each raster in an S3 event (or {"url": ...} / {"urls": [...]}) it reads
/// the header over ranged GETs, logs one JSON record of the metadata and writes
/// a STAC Item to OUTPUT_URL (s3://bucket/prefix/; MAX_CONCURRENCY records at
/// once, default 8). Anywhere else it is this command-line tool.
#[derive(Parser)]
#[command(name = "gdal-lambda", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a summary of the raster's metadata (--json: the full record the function logs).
    Info {
        /// A local path, a GDAL path (/vsi…/) or an S3 URL (s3://bucket/key, https://…).
        source: String,
        /// Print the full metadata record (RasterInfo) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the raster's STAC Item as JSON.
    Stac {
        /// A local path, a GDAL path (/vsi…/) or an S3 URL (s3://bucket/key, https://…).
        source: String,
    },
    /// Time parses of FILE in a worker and in this process (for `just bench`).
    #[command(hide = true)]
    BenchParse {
        /// A local raster.
        file: String,
        /// Parses each way.
        #[arg(long, default_value_t = 100)]
        runs: usize,
    },
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let (source, shown) = match cli.command {
        Command::Info { source, json } => (source, if json { Shown::Json } else { Shown::Summary }),
        Command::Stac { source } => (source, Shown::Item),
        Command::BenchParse { file, runs } => return crate::parse_bench::run(&file, runs).await,
    };
    // S3 objects are read exactly as the function reads uploads; a local path is
    // opened by GDAL itself.
    let s3_url = match Location::parse(&source)? {
        Location::S3(url) if url.key.is_empty() || url.key.ends_with('/') => anyhow::bail!(
            "{source} names a bucket or a prefix, not an object: give s3://bucket/key"
        ),
        Location::S3(url) => Some(url),
        Location::Local(_) => None,
        Location::Http(url) => anyhow::bail!(
            "{url} is not an S3 URL: give an s3:// URL, an S3 https:// URL or a local path"
        ),
    };
    let (info, source) = match s3_url {
        Some(url) => {
            let sdk = stratus_aws::config::sdk_config_with_timeouts().await;
            configured(&sdk).await?;
            let s3 = stratus_aws::config::s3_client(&sdk);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            // Parsed as the function parses uploads: in a confined worker, with its budget.
            let parsers = Parsers::new(std::env::current_exe()?, Default::default());
            let raster =
                read_raster(&s3, &parsers, &url, deadline, &Limits::default(), None).await?;
            let source = ItemSource {
                size: Some(raster.size),
                sha256: raster.sha256,
                ..ItemSource::object(&url, raster.last_modified)
            };
            (raster.info, source)
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
            let size = std::fs::metadata(&source).ok().map(|m| m.len());
            (
                info,
                ItemSource {
                    size,
                    ..ItemSource::file(href, file_modified(&source))
                },
            )
        }
    };
    match shown {
        Shown::Summary => print!("{}", summary(&info)),
        Shown::Json => println!("{}", serde_json::to_string_pretty(&info)?),
        Shown::Item => println!(
            "{}",
            serde_json::to_string_pretty(&stac::item(&info, &source, &clock::now()))?
        ),
    }
    Ok(())
}

/// What a command prints.
enum Shown {
    Summary,
    Json,
    Item,
}

/// A missing region or missing credentials is the user's configuration to
/// fix, said in one line before any request (not a failed read, and not
/// "transient").
async fn configured(sdk: &aws_config::SdkConfig) -> anyhow::Result<()> {
    use aws_credential_types::provider::ProvideCredentials;
    if sdk.region().is_none() {
        anyhow::bail!(
            "no AWS region configured: set AWS_REGION (or AWS_PROFILE naming a profile with a region)"
        );
    }
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow::anyhow!("no AWS credentials provider configured"))?;
    if let Err(e) = provider.provide_credentials().await {
        anyhow::bail!(
            "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role): {}",
            first_line(&e.to_string())
        );
    }
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// A local file's last-modified time, for Items of undated rasters.
fn file_modified(path: &str) -> Option<String> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(clock::seconds(modified))
}
