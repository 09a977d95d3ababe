//! One record: read the raster's header, log its metadata, write its STAC Item.

use raster_info::stac::{self, ItemSource};
use raster_info::ErrorKind;
use serde_json::json;
use stratus_aws::objects;
use stratus_aws::S3Url;
use tokio::time::Instant;

use crate::clock;
use crate::collection;
use crate::config::{self, Config};
use crate::logging::{log_record, Level};
use crate::outcome::{with_unconfined, FailureKind, Outcome};
use crate::parsers::Parsers;
use crate::protocol::RenderedThumbnail;
use crate::publish::{Publisher, Source};
use crate::target::Target;
use crate::unchanged;
use crate::upload::{read_raster, Raster, ReadError};

/// What the handler needs: configuration, an S3 client and the parse workers.
pub struct Deps {
    /// Configuration read at start.
    pub config: Config,
    /// S3 client (reads objects by range, writes Items).
    pub s3: aws_sdk_s3::Client,
    /// The confined workers that parse uploads.
    pub parsers: Parsers,
    /// Where Items are announced once written (`config.publish`).
    pub(crate) publisher: Publisher,
}

impl Deps {
    /// Dependencies whose parse workers run `worker_exe parse-worker` (the
    /// gdal-lambda binary) under the configuration's worker budget.
    pub fn new(config: Config, s3: aws_sdk_s3::Client, worker_exe: std::path::PathBuf) -> Deps {
        let parsers = Parsers::new(worker_exe, config.worker);
        let publisher = Publisher::new(config.publish.clone());
        Deps {
            config,
            s3,
            parsers,
            publisher,
        }
    }
}

/// S3 keys are at most 1,024 bytes (UTF-8).
const MAX_KEY_BYTES: usize = 1024;

/// Process one target before `deadline`, its Item going under `output` (the
/// function's `OUTPUT_URL`, or a backfill job's own); never panics, every
/// path ends in an [`Outcome`], and only failures known to repeat are
/// [`Status::Failed`].
///
/// [`Status::Failed`]: crate::outcome::Status::Failed
pub async fn process_target(
    target: Target,
    deps: &Deps,
    output: &S3Url,
    deadline: Instant,
) -> Outcome {
    let (url, size, event_time, backfill) = match target {
        Target::Object {
            url,
            size,
            event_time,
            backfill,
        } => (url, size, event_time, backfill),
        Target::Skip {
            bucket,
            key,
            reason,
        } => return Outcome::skipped(&bucket, &key, reason),
        Target::Invalid {
            bucket,
            key,
            message,
        } => {
            return Outcome::failed(
                &S3Url::new(bucket, key),
                FailureKind::InvalidRecord,
                message,
            )
        }
    };
    // Items anywhere, the function's or a job's, are never read as uploads.
    for location in [&deps.config.output, output] {
        if config::is_under(location, &url) {
            let reason = format!("under the output location {location}");
            return Outcome::skipped(&url.bucket, &url.key, reason);
        }
    }
    let item_url = config::item_url_in(output, &url);
    if item_url.key.len() > MAX_KEY_BYTES {
        return Outcome::failed(
            &url,
            FailureKind::KeyTooLong,
            format!(
                "its STAC Item's key would be {} bytes, over S3's limit of {MAX_KEY_BYTES}: shorten the key or OUTPUT_URL's prefix",
                item_url.key.len()
            ),
        );
    }
    let member = deps
        .config
        .collection_id
        .as_deref()
        .map(|id| (id, collection::url_in(output)));
    if let Some((_, collection_url)) = member.as_ref().filter(|(_, c)| *c == item_url) {
        let message = format!("its STAC Item would replace the Collection at {collection_url}");
        return Outcome::failed(&url, FailureKind::ItemIsCollection, message);
    }
    if size == Some(0) {
        return empty(&url);
    }
    let member = member.as_ref().map(|(id, url)| (*id, url));
    let work = async {
        if let Some(backfill) = &backfill {
            let etag = backfill.etag.as_deref();
            let mark = deps.publisher.mark();
            let mark = mark.as_ref().map(|(k, v)| (*k, v.as_str()));
            if unchanged::is_current(&deps.s3, &url, &item_url, etag, mark).await {
                // A run that wrote the Item may have failed to widen the Collection.
                return match member {
                    Some(member) => include_written(&url, &item_url, member, deps, deadline).await,
                    None => Outcome::unchanged(&url, &item_url),
                };
            }
        }
        read_and_write(&url, &item_url, event_time, member, deps, deadline).await
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::retry(
            &url,
            FailureKind::Timeout,
            format!("{url} was not done before the invocation's deadline"),
        ),
    }
}

fn empty(url: &S3Url) -> Outcome {
    Outcome::failed(
        url,
        FailureKind::EmptyObject,
        format!("{url} is empty (0 bytes)"),
    )
}

async fn read_and_write(
    url: &S3Url,
    item_url: &S3Url,
    event_time: Option<String>,
    member: Option<(&str, &S3Url)>,
    deps: &Deps,
    deadline: Instant,
) -> Outcome {
    let thumbnail = deps.config.thumbnail;
    let limits = &deps.config.limits;
    let read = read_raster(&deps.s3, &deps.parsers, url, deadline, limits, thumbnail).await;
    let raster = match read {
        Ok(raster) => raster,
        Err(e) => return read_failure(url, e),
    };
    log_metadata(url, &raster, &deps.parsers.unconfined());

    // S3 events carry the object's creation time; direct invocations use its last-modified time.
    let created = event_time.or(raster.last_modified);
    let source = ItemSource {
        size: Some(raster.size),
        sha256: raster.sha256,
        ..ItemSource::object(url, created)
    };
    let mut item = stac::item(&raster.info, &source, &clock::now());
    if let Some((id, collection_url)) = member {
        collection::link_item(&mut item, id, collection_url);
    }
    if let Some(made) = raster.thumbnail {
        if let Some((href, media_type)) = write_thumbnail(url, item_url, made, deps).await {
            stac::add_thumbnail(&mut item, &href, media_type);
        }
    }
    // A write fails for reasons of the deployment or of S3 (a role without
    // s3:PutObject, a KMS key, a missing bucket, throttling), never of the
    // upload: fixed, the same event must still give its Item, so it is retried
    // and, after Lambda's retries, reaches the on-failure destination.
    // The version read is recorded with the Item, so that a re-run can tell
    // it is current without reading the object.
    let metadata = raster.etag.as_deref().map(unchanged::item_metadata);
    let metadata: Vec<(&str, &str)> = metadata
        .iter()
        .flatten()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if let Err(e) = objects::put_json_with_metadata(&deps.s3, item_url, &item, &metadata).await {
        return Outcome::retry(
            url,
            FailureKind::ItemNotWritten,
            format!("cannot write its STAC Item to {item_url}: {e}"),
        );
    }
    // The Collection covers the Item before anyone is told of it.
    if let Some(member) = member {
        if let Err(failed) = widen(url, item_url, &item, member, deps, deadline).await {
            return failed;
        }
    }
    // Only a written Item is announced; an Item whose message did not leave
    // lacks the mark, so no re-run takes it as current (crate::publish).
    if let Some(mark) = deps.publisher.mark() {
        let source = Source {
            url,
            etag: raster.etag.as_deref(),
        };
        if let Err(e) = deps
            .publisher
            .publish(&deps.s3, &item, item_url, &source)
            .await
        {
            return Outcome::failure_of(
                url,
                e.is_transient(),
                FailureKind::NotPublished,
                e.to_string(),
            );
        }
        let marked = [metadata.as_slice(), &[(mark.0, mark.1.as_str())]].concat();
        if let Err(e) = objects::put_json_with_metadata(&deps.s3, item_url, &item, &marked).await {
            // Announced all the same: a re-run announces it again, which consumers take as the same.
            tracing::warn!(%item_url, "published, but the Item's mark was not written: {e}");
        }
    }
    Outcome::processed(url, item_url)
}

/// Widen the Collection to cover the Item written at `item_url`; else the
/// record's outcome: tried again.
async fn widen(
    url: &S3Url,
    item_url: &S3Url,
    item: &serde_json::Value,
    (id, collection_url): (&str, &S3Url),
    deps: &Deps,
    deadline: Instant,
) -> Result<(), Outcome> {
    match collection::include(&deps.s3, collection_url, id, item, deadline).await {
        Ok(update) => {
            tracing::debug!(%collection_url, ?update, "collection covers {item_url}");
            Ok(())
        }
        Err(e) => Err(Outcome::retry(
            url,
            FailureKind::CollectionNotUpdated,
            format!("its STAC Item is at {item_url}, but the Collection does not cover it: {e}"),
        )),
    }
}

/// A current Item, read back so that the Collection covers it.
async fn include_written(
    url: &S3Url,
    item_url: &S3Url,
    member: (&str, &S3Url),
    deps: &Deps,
    deadline: Instant,
) -> Outcome {
    match objects::get_json::<serde_json::Value>(&deps.s3, item_url).await {
        Ok(item) => match widen(url, item_url, &item, member, deps, deadline).await {
            Ok(()) => Outcome::unchanged(url, item_url),
            Err(failed) => failed,
        },
        Err(e) => Outcome::retry(
            url,
            FailureKind::CollectionNotUpdated,
            format!("cannot read its current STAC Item {item_url} for the Collection: {e}"),
        ),
    }
}

/// Write a thumbnail beside its Item; its href and media type when it is
/// written. A thumbnail that is not (declined, or the write failed) is
/// logged, and the Item is written without it.
async fn write_thumbnail(
    url: &S3Url,
    item_url: &S3Url,
    made: Result<RenderedThumbnail, String>,
    deps: &Deps,
) -> Option<(String, &'static str)> {
    let not_made = |reason: String| {
        log_record(
            Level::Info,
            json!({"message": "no thumbnail", "bucket": url.bucket, "key": url.key, "reason": reason}),
        );
        None
    };
    let thumbnail = match made {
        Ok(t) => t,
        Err(reason) => return not_made(reason),
    };
    let at = config::thumbnail_url(item_url, thumbnail.format);
    let media_type = thumbnail.format.media_type();
    let (width, height, bytes) = (thumbnail.width, thumbnail.height, thumbnail.bytes.len());
    match objects::put_bytes(&deps.s3, &at, thumbnail.bytes, media_type).await {
        Ok(()) => {
            log_record(
                Level::Info,
                json!({"message": "thumbnail written", "bucket": url.bucket, "key": url.key,
                       "thumbnail": at.to_string(), "source": thumbnail.source,
                       "width": width, "height": height, "bytes": bytes,
                       "fetched_bytes": thumbnail.fetched_bytes}),
            );
            Some((at.to_string(), media_type))
        }
        Err(e) => not_made(format!("writing it to {at} failed: {e}")),
    }
}

/// A read that failed: permanent only when S3 or GDAL said something that
/// will be said again (deleted, denied, not a raster, corrupt, past a limit).
fn read_failure(url: &S3Url, e: ReadError) -> Outcome {
    match e {
        ReadError::S3(stratus_aws::Error::NotFound { .. }) => Outcome::failed(
            url,
            FailureKind::NotFound,
            format!("{url} does not exist (deleted before processing?)"),
        ),
        ReadError::S3(e) => {
            Outcome::failure_of(url, e.is_transient(), FailureKind::of_s3(&e), e.to_string())
        }
        ReadError::Deadline => Outcome::retry(
            url,
            FailureKind::Timeout,
            format!("reading {url} did not end before the invocation's deadline"),
        ),
        ReadError::Raster(e) if e.kind == ErrorKind::EmptyObject => empty(url),
        ReadError::Raster(e) => Outcome::failure_of(
            url,
            !e.kind.is_permanent(),
            FailureKind::Raster(e.kind),
            e.message,
        ),
        ReadError::Worker(message) => Outcome::retry(url, FailureKind::WorkerFailed, message),
        ReadError::Crashed(message) => Outcome::failed(url, FailureKind::ParserCrashed, message),
    }
}

fn log_metadata(url: &S3Url, raster: &Raster, unconfined: &[String]) {
    log_record(
        Level::Info,
        with_unconfined(
            json!({"message": "raster metadata", "bucket": url.bucket, "key": url.key,
                   "size": raster.size, "raster": raster.info}),
            unconfined,
        ),
    );
}
