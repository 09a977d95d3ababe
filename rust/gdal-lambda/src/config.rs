//! The function's configuration, read once from the environment at start:
//! where Items go, how many records run at once, what an upload may cost,
//! and how SQS batch failures are reported.

use raster_info::{Limits, ThumbnailFormat, ThumbnailRequest};
use stratus_aws::S3Url;

use crate::publish::{DestinationError, Destinations};

/// Records processed at once unless `MAX_CONCURRENCY` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What a parse worker may use: kernel-enforced caps, per worker and per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerBudget {
    /// Address space of the worker in MiB (`RLIMIT_AS`): allocations past it fail.
    pub memory_mb: u64,
    /// CPU seconds one record's parse may use (`RLIMIT_CPU`, to the second).
    pub cpu_seconds: u64,
    /// Seconds a new worker may take to report in (GDAL's start and the
    /// confinement's self-test; far longer under an emulated CPU).
    pub start_seconds: u64,
}

/// Outside Lambda (the CLI, benchmarks): the defaults with 1,024 MiB.
impl Default for WorkerBudget {
    fn default() -> Self {
        WorkerBudget {
            memory_mb: default_worker_memory_mb(None),
            cpu_seconds: DEFAULT_WORKER_CPU_SECONDS,
            start_seconds: DEFAULT_WORKER_START_SECONDS,
        }
    }
}

/// Seconds a new worker may take to report in unless `WORKER_START_SECONDS`
/// says otherwise: it takes tens of milliseconds on Lambda.
pub const DEFAULT_WORKER_START_SECONDS: u64 = 10;

/// CPU seconds a record's parse may use unless `WORKER_CPU_SECONDS` says
/// otherwise: a thousand times what a COG's header takes.
pub const DEFAULT_WORKER_CPU_SECONDS: u64 = 5;

/// A worker's address space unless `WORKER_MEMORY_MB` says otherwise: half
/// the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), at least 256
/// MiB; 1,024 MiB outside Lambda. Room for any header GDAL reads within the
/// byte limits, far below what a memory bomb takes.
pub fn default_worker_memory_mb(function_memory_mb: Option<u64>) -> u64 {
    function_memory_mb.map_or(1024, |m| (m / 2).max(256))
}

/// Bytes of overview tiles a thumbnail may fetch unless `THUMBNAIL_MAX_BYTES`
/// says otherwise: a 600-pixel overview of a COG's usual compressed 512-pixel tiles.
pub const DEFAULT_THUMBNAIL_MAX_BYTES: u64 = 1 << 20;

/// The function's configuration, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where STAC Items go: bucket and key prefix (`OUTPUT_URL=s3://bucket/prefix/`).
    /// An Item's key is the prefix followed by the source key and `.json`.
    pub output: S3Url,
    /// Records processed concurrently (`MAX_CONCURRENCY`, default 8).
    pub concurrency: usize,
    /// What one upload may cost to read (`MAX_HEADER_BYTES`, `MAX_BANDS`,
    /// `MAX_TIFF_IFDS`, `MAX_TAG_BYTES`, `MAX_METADATA_DOMAINS`,
    /// `MAX_TEXT_BYTES`; defaults: [`Limits::default`]).
    pub limits: Limits,
    /// What the worker that parses one record may use (`WORKER_MEMORY_MB`,
    /// `WORKER_CPU_SECONDS`).
    pub worker: WorkerBudget,
    /// Whether an SQS batch's failures are reported per message
    /// (`REPORT_BATCH_ITEM_FAILURES=true`). Only set it where the event source
    /// mapping has `ReportBatchItemFailures`: without it Lambda ignores the
    /// list and deletes the whole batch. Unset, a batch with a failure fails
    /// whole, so every message is delivered again.
    pub report_batch_item_failures: bool,
    /// Where each Item is announced once written (`ITEM_TOPIC_ARN`,
    /// `CIRRUS_PROCESS_QUEUE_URL` …; none by default): [`crate::publish`].
    pub publish: Destinations,
    /// The id of the STAC Collection kept at the output location
    /// (`COLLECTION_ID`; unset or empty: none), which every Item names and
    /// whose extent covers them all ([`crate::collection`]).
    pub collection_id: Option<String>,
    /// The thumbnail each COG gets from its smallest overview
    /// (`THUMBNAIL_FORMAT=png` or `jpeg`, `THUMBNAIL_MAX_BYTES`); `None`
    /// (the default, `THUMBNAIL_FORMAT=none`) for none.
    pub thumbnail: Option<ThumbnailRequest>,
}

/// A configuration the function cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `OUTPUT_URL` is missing.
    #[error("OUTPUT_URL is not set: set it to the S3 location for STAC Items, e.g. s3://my-bucket/stac/")]
    MissingOutput,
    /// `OUTPUT_URL` is not an S3 URL.
    #[error("OUTPUT_URL is invalid: {0}")]
    BadOutput(stratus_aws::Error),
    /// A count (`MAX_CONCURRENCY`, a limit) is not a positive integer.
    #[error("{0} must be a positive integer, got {1:?}")]
    NotPositive(&'static str, String),
    /// A switch is not `true` or `false`.
    #[error("{0} must be true or false, got {1:?}")]
    NotBool(&'static str, String),
    /// A publishing destination is half configured or malformed.
    #[error(transparent)]
    Publish(#[from] DestinationError),
    /// `COLLECTION_ID` is not an id a STAC Collection can have here.
    #[error("COLLECTION_ID must be 1 to {MAX_COLLECTION_ID} letters, digits, '.', '_' or '-', got {0:?}")]
    BadCollectionId(String),
    /// `THUMBNAIL_FORMAT` is not one of its values.
    #[error("THUMBNAIL_FORMAT must be none, png or jpeg, got {0:?}")]
    BadThumbnailFormat(String),
}

impl Config {
    /// Read `OUTPUT_URL` and `MAX_CONCURRENCY` through `get` (the environment in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let output = get("OUTPUT_URL")
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::MissingOutput)?;
        let output = parse_output(&output)?;
        let positive = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::NotPositive(name, v)),
        };
        let size = |name, default: usize| {
            positive(name, default as u64).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let report = match get("REPORT_BATCH_ITEM_FAILURES") {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" | "" => false,
                _ => return Err(ConfigError::NotBool("REPORT_BATCH_ITEM_FAILURES", v)),
            },
        };
        let thumbnail_format = match get("THUMBNAIL_FORMAT") {
            None => None,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "none" => None,
                "png" => Some(ThumbnailFormat::Png),
                "jpeg" | "jpg" => Some(ThumbnailFormat::Jpeg),
                _ => return Err(ConfigError::BadThumbnailFormat(v)),
            },
        };
        let thumbnail_max_bytes = positive("THUMBNAIL_MAX_BYTES", DEFAULT_THUMBNAIL_MAX_BYTES)?;
        let defaults = Limits::default();
        Ok(Config {
            output,
            concurrency: size("MAX_CONCURRENCY", DEFAULT_CONCURRENCY)?,
            limits: Limits {
                max_header_bytes: positive("MAX_HEADER_BYTES", defaults.max_header_bytes)?,
                max_bands: size("MAX_BANDS", defaults.max_bands)?,
                max_tiff_ifds: size("MAX_TIFF_IFDS", defaults.max_tiff_ifds)?,
                max_tag_bytes: positive("MAX_TAG_BYTES", defaults.max_tag_bytes)?,
                max_metadata_domains: size("MAX_METADATA_DOMAINS", defaults.max_metadata_domains)?,
                max_text_bytes: positive("MAX_TEXT_BYTES", defaults.max_text_bytes)?,
            },
            worker: WorkerBudget {
                memory_mb: positive(
                    "WORKER_MEMORY_MB",
                    default_worker_memory_mb(
                        get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|m| m.trim().parse().ok()),
                    ),
                )?,
                cpu_seconds: positive("WORKER_CPU_SECONDS", DEFAULT_WORKER_CPU_SECONDS)?,
                start_seconds: positive("WORKER_START_SECONDS", DEFAULT_WORKER_START_SECONDS)?,
            },
            report_batch_item_failures: report,
            publish: Destinations::from_lookup(&get)?,
            collection_id: parse_collection_id(get("COLLECTION_ID"))?,
            thumbnail: thumbnail_format.map(|format| ThumbnailRequest {
                format,
                max_bytes: thumbnail_max_bytes,
            }),
        })
    }

    /// Read the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Whether an object is one of our own outputs (never processed: no trigger loops).
    pub fn is_output(&self, url: &S3Url) -> bool {
        is_under(&self.output, url)
    }

    /// Where the Item for `source` goes.
    pub fn item_url(&self, source: &S3Url) -> S3Url {
        item_url_in(&self.output, source)
    }
}

/// An output location (`OUTPUT_URL`, or a backfill job's own): an S3 URL
/// whose key, when there is one, is a folder ("stac" and "stac/" mean the same).
pub fn parse_output(text: &str) -> Result<S3Url, ConfigError> {
    let mut output = S3Url::parse(text).map_err(ConfigError::BadOutput)?;
    if !output.key.is_empty() && !output.key.ends_with('/') {
        output.key.push('/');
    }
    Ok(output)
}

/// The longest `COLLECTION_ID`.
pub const MAX_COLLECTION_ID: usize = 128;

/// A Collection id (unset or blank: none) of the characters ids of STAC
/// APIs and URL paths take without escaping.
fn parse_collection_id(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(id) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.len() > MAX_COLLECTION_ID || !id.chars().all(allowed) {
        return Err(ConfigError::BadCollectionId(id));
    }
    Ok(Some(id))
}

/// Whether `url` is under the output location `output`.
pub fn is_under(output: &S3Url, url: &S3Url) -> bool {
    url.bucket == output.bucket && url.key.starts_with(&output.key)
}

/// Where the thumbnail of `source` goes, beside its Item (`item_url`):
/// `<prefix><key>.thumbnail.<png|jpg>`, under the output location so that it
/// is never read as an upload, and named after the Item so that both are
/// found, listed and removed together.
pub fn thumbnail_url(item_url: &S3Url, format: ThumbnailFormat) -> S3Url {
    let stem = item_url.key.strip_suffix(".json").unwrap_or(&item_url.key);
    item_url.with_key(format!("{stem}.thumbnail.{}", format.extension()))
}

/// Where the Item for `source` goes under the output location `output`:
/// the prefix followed by the source key and `.json`.
pub fn item_url_in(output: &S3Url, source: &S3Url) -> S3Url {
    output.with_key(format!("{}{}.json", output.key, source.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn reads_output_and_concurrency() {
        let c = cfg(&[
            ("OUTPUT_URL", "s3://out-bucket/stac"),
            ("MAX_CONCURRENCY", "3"),
        ])
        .unwrap();
        assert_eq!(c.output, S3Url::new("out-bucket", "stac/"));
        assert_eq!(c.concurrency, 3);
        assert_eq!(
            c.item_url(&S3Url::new("in-b", "a/b c.tif")),
            S3Url::new("out-bucket", "stac/a/b c.tif.json")
        );
        assert!(c.is_output(&S3Url::new("out-bucket", "stac/x.tif")));
        assert!(!c.is_output(&S3Url::new("out-bucket", "stacked/x.tif")));
        assert!(!c.is_output(&S3Url::new("other", "stac/x.tif")));
        let root = cfg(&[("OUTPUT_URL", "s3://out-bucket")]).unwrap();
        assert!(
            root.is_output(&S3Url::new("out-bucket", "anything")),
            "whole bucket is output"
        );
        assert_eq!(root.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn rejects_bad_config() {
        assert!(matches!(cfg(&[]), Err(ConfigError::MissingOutput)));
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "not a url")]),
            Err(ConfigError::BadOutput(_))
        ));
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("MAX_CONCURRENCY", "0")]),
            Err(ConfigError::NotPositive("MAX_CONCURRENCY", _))
        ));
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("MAX_BANDS", "many")]),
            Err(ConfigError::NotPositive("MAX_BANDS", _))
        ));
        let c = cfg(&[
            ("OUTPUT_URL", "s3://bbb/p/"),
            ("MAX_HEADER_BYTES", "1048576"),
        ])
        .unwrap();
        assert_eq!(c.limits.max_header_bytes, 1 << 20);
        assert_eq!(c.limits.max_bands, Limits::default().max_bands);
        assert_eq!(c.worker.start_seconds, DEFAULT_WORKER_START_SECONDS);
        let slow = cfg(&[
            ("OUTPUT_URL", "s3://bbb/p/"),
            ("WORKER_START_SECONDS", "300"),
        ]);
        assert_eq!(slow.unwrap().worker.start_seconds, 300);
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("WORKER_START_SECONDS", "0")]),
            Err(ConfigError::NotPositive("WORKER_START_SECONDS", _))
        ));
        assert!(!c.report_batch_item_failures);
        let on = cfg(&[
            ("OUTPUT_URL", "s3://bbb/p/"),
            ("REPORT_BATCH_ITEM_FAILURES", "True"),
        ]);
        assert!(on.unwrap().report_batch_item_failures);
        assert!(matches!(
            cfg(&[
                ("OUTPUT_URL", "s3://bbb/p/"),
                ("REPORT_BATCH_ITEM_FAILURES", "yes")
            ]),
            Err(ConfigError::NotBool(..))
        ));
        assert_eq!(c.collection_id, None);
        let with = |id: &str| cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("COLLECTION_ID", id)]);
        assert_eq!(with(" ").unwrap().collection_id, None);
        assert_eq!(
            with("my-rasters_v1.0").unwrap().collection_id.as_deref(),
            Some("my-rasters_v1.0")
        );
        for bad in ["a/b", "a b", "é", &"x".repeat(MAX_COLLECTION_ID + 1)] {
            assert!(
                matches!(with(bad), Err(ConfigError::BadCollectionId(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn thumbnails_are_off_unless_asked_for() {
        let off = cfg(&[("OUTPUT_URL", "s3://bbb/p/")]).unwrap();
        assert_eq!(off.thumbnail, None);
        let none = cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("THUMBNAIL_FORMAT", "none")]).unwrap();
        assert_eq!(none.thumbnail, None);
        let png = cfg(&[
            ("OUTPUT_URL", "s3://bbb/p/"),
            ("THUMBNAIL_FORMAT", "PNG"),
            ("THUMBNAIL_MAX_BYTES", "65536"),
        ])
        .unwrap();
        assert_eq!(
            png.thumbnail,
            Some(ThumbnailRequest {
                format: ThumbnailFormat::Png,
                max_bytes: 65536
            })
        );
        let jpeg = cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("THUMBNAIL_FORMAT", "jpeg")]).unwrap();
        assert_eq!(
            jpeg.thumbnail.map(|t| (t.format, t.max_bytes)),
            Some((ThumbnailFormat::Jpeg, DEFAULT_THUMBNAIL_MAX_BYTES))
        );
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("THUMBNAIL_FORMAT", "gif")]),
            Err(ConfigError::BadThumbnailFormat(_))
        ));
        let item = png.item_url(&S3Url::new("in", "a/b.tif"));
        assert_eq!(
            thumbnail_url(&item, ThumbnailFormat::Png),
            S3Url::new("bbb", "p/a/b.tif.thumbnail.png")
        );
    }
}
