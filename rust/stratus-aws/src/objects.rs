//! Objects on S3: bytes and JSON, gzip-transparent for `.gz` keys, and
//! bodies streamed as they arrive.
//!
//! Retries of throttling, 5xx and network failures happen inside the SDK
//! (see [`crate::config::retry_config`]); what still fails after them is
//! reported as [`Error::Transient`] so callers can decide to fail and be retried.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, ChecksumType};
use aws_sdk_s3::Client;
use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Result, S3Url};

/// What `HeadObject` tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// Size in bytes.
    pub size: u64,
    /// Last-modified time, RFC 3339.
    pub last_modified: Option<String>,
    /// ETag exactly as S3 returned it, quotes included (RFC 9110 entity-tag).
    pub etag: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// The SHA-256 of the whole object, when S3 keeps one ([`full_object_sha256`]).
    pub sha256: Option<[u8; 32]>,
    /// User metadata (`x-amz-meta-*`), by name without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// S3 error codes that may pass when tried again, whatever their HTTP status
/// (`RequestTimeout` and `ExpiredToken` come as 400, `SlowDown` as 503).
const TRANSIENT_CODES: [&str; 8] = [
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "OperationAborted",
];

/// Map an SDK error to ours, classifying it for retry decisions: what is
/// known to fail again is permanent (a 4xx such as `AccessDenied`,
/// `KeyTooLongError`, `NoSuchBucket`, or a request that could not be built);
/// network failures, timeouts, throttling, 5xx, a changed object (412) and
/// anything unrecognised are transient.
fn classify<E>(url: &S3Url, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let bucket = url.bucket.clone();
    let key = url.key.clone();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let message = match (&code, err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&err)
        ),
    };
    let transient_code = code
        .as_deref()
        .is_some_and(|c| TRANSIENT_CODES.contains(&c) || c.contains("Throttl"));
    match (&err, status, code.as_deref()) {
        (
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_),
            _,
            _,
        ) => Error::Transient {
            bucket,
            key,
            message,
        },
        _ if transient_code => Error::Transient {
            bucket,
            key,
            message,
        },
        (SdkError::ConstructionFailure(_), _, _) => Error::S3 {
            bucket,
            key,
            message,
        },
        (_, Some(404), _) | (_, _, Some("NoSuchKey" | "NoSuchBucket" | "NotFound")) => {
            Error::NotFound { bucket, key }
        }
        (_, Some(403), _) | (_, _, Some("AccessDenied")) => Error::AccessDenied {
            bucket,
            key,
            message,
        },
        (_, Some(s), _) if (400..500).contains(&s) && s != 408 && s != 412 && s != 429 => {
            Error::S3 {
                bucket,
                key,
                message,
            }
        }
        _ => Error::Transient {
            bucket,
            key,
            message,
        },
    }
}

/// Bytes of an object read by range, and what S3 said about the object.
#[derive(Debug, Clone)]
pub struct RangeRead {
    /// The bytes (fewer than asked only at the object's end).
    pub bytes: Bytes,
    /// The whole object's size.
    pub object_size: u64,
    /// ETag exactly as S3 returned it, quotes included (RFC 9110 entity-tag),
    /// to pin later reads to this version with `If-Match`.
    pub etag: Option<String>,
    /// Last-modified time, RFC 3339.
    pub last_modified: Option<String>,
}

/// Tries of a ranged read whose body is cut short: the SDK retries requests
/// and answers, not the body streamed after them.
const BODY_ATTEMPTS: u32 = 3;

/// `len` bytes at `offset` with a ranged `GetObject`, only if the object's
/// ETag still is `if_match` (when given). An empty object reads as zero bytes
/// of a zero-byte object. A body cut short is read again, up to
/// [`BODY_ATTEMPTS`] times, then a transient error.
pub async fn get_range(
    client: &Client,
    url: &S3Url,
    offset: u64,
    len: u64,
    if_match: Option<&str>,
) -> Result<RangeRead> {
    let mut attempt = 1;
    loop {
        match get_range_once(client, url, offset, len, if_match).await {
            Err(BodyCut(e)) if attempt < BODY_ATTEMPTS => {
                tracing::debug!(%url, attempt, "ranged read cut short: {e}");
                attempt += 1;
            }
            Err(BodyCut(e)) => return Err(e),
            Ok(read) => return read,
        }
    }
}

/// A body that did not arrive whole.
struct BodyCut(Error);

async fn get_range_once(
    client: &Client,
    url: &S3Url,
    offset: u64,
    len: u64,
    if_match: Option<&str>,
) -> std::result::Result<Result<RangeRead>, BodyCut> {
    let last = offset + len.max(1) - 1;
    let sent = client
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .range(format!("bytes={offset}-{last}"))
        .set_if_match(if_match.map(str::to_string))
        .send()
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(e) if offset == 0 && e.code() == Some("InvalidRange") => {
            // S3 answers 416 to any range of an empty object.
            return Ok(Ok(RangeRead {
                bytes: Bytes::new(),
                object_size: 0,
                etag: None,
                last_modified: None,
            }));
        }
        Err(e) => return Ok(Err(classify(url, e))),
    };
    let transient = |message: String| Error::Transient {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        message,
    };
    let length = out
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    // "bytes 0-32767/1234567"; a whole small object may come without one.
    let object_size = match out.content_range().and_then(|r| r.rsplit_once('/')) {
        Some((_, total)) => match total.parse() {
            Ok(size) => size,
            Err(_) => {
                return Ok(Err(transient(format!(
                    "unreadable Content-Range {total:?}"
                ))))
            }
        },
        None if offset == 0 && length <= len => length,
        None => return Ok(Err(transient("the server ignored the Range header".into()))),
    };
    let etag = out.e_tag().map(str::to_string);
    let last_modified = out
        .last_modified()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
    let bytes = match out.body.collect().await {
        Ok(body) => body.into_bytes(),
        Err(e) => return Err(BodyCut(transient(format!("reading the body: {e}")))),
    };
    let expected = len.min(object_size.saturating_sub(offset));
    if bytes.len() as u64 != expected {
        return Err(BodyCut(transient(format!(
            "got {} bytes of the {expected} asked for at {offset}",
            bytes.len()
        ))));
    }
    Ok(Ok(RangeRead {
        bytes,
        object_size,
        etag,
        last_modified,
    }))
}

/// The SHA-256 S3 keeps of a whole object (`x-amz-checksum-sha256` with
/// `ChecksumMode=ENABLED`), only when it is one: a checksum whose type is
/// `FULL_OBJECT`, or, where no type is given (older stores, emulators),
/// one of an object not uploaded in parts. A multipart upload's COMPOSITE
/// checksum is a checksum of its parts' checksums, not of the object.
fn full_object_sha256(
    checksum: Option<&str>,
    checksum_type: Option<&ChecksumType>,
    etag: Option<&str>,
) -> Option<[u8; 32]> {
    let whole = match checksum_type {
        Some(ChecksumType::FullObject) => true,
        Some(_) => false,
        // A multipart upload's ETag ends in "-<parts>".
        None => etag.is_none_or(|e| !e.trim_matches('"').contains('-')),
    };
    let digest = aws_smithy_types::base64::decode(checksum?).ok()?;
    whole.then(|| digest.try_into().ok()).flatten()
}

/// `HeadObject`, with the object's checksums asked for.
pub async fn head(client: &Client, url: &S3Url) -> Result<ObjectHead> {
    let out = client
        .head_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .map_err(|e| classify(url, e))?;
    Ok(ObjectHead {
        size: out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        last_modified: out
            .last_modified()
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        etag: out.e_tag().map(str::to_string),
        content_type: out.content_type().map(str::to_string),
        sha256: full_object_sha256(out.checksum_sha256(), out.checksum_type(), out.e_tag()),
        metadata: out
            .metadata()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// An object's body as it arrives, for objects too large to hold in memory
/// (function code, layers). A body cut short is an [`Error::Transient`].
#[derive(Debug)]
pub struct ObjectStream {
    url: S3Url,
    body: ByteStream,
}

impl ObjectStream {
    /// The next chunk of the body; `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        self.body
            .try_next()
            .await
            .map_err(|e| body_failed(&self.url, e))
    }

    /// The rest of the body, at once.
    pub async fn collect(self) -> Result<Bytes> {
        match self.body.collect().await {
            Ok(body) => Ok(body.into_bytes()),
            Err(e) => Err(body_failed(&self.url, e)),
        }
    }
}

/// A body that could not be read to its end.
fn body_failed(url: &S3Url, e: impl std::fmt::Display) -> Error {
    Error::Transient {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        message: format!("reading the body: {e}"),
    }
}

/// `GetObject`, streaming: the whole object, as stored, as it arrives. The
/// request's failures are classified as every call's here.
pub async fn get_stream(client: &Client, url: &S3Url) -> Result<ObjectStream> {
    let out = client
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| classify(url, e))?;
    Ok(ObjectStream {
        url: url.clone(),
        body: out.body,
    })
}

/// The whole object, as stored (no decompression).
pub async fn get_bytes(client: &Client, url: &S3Url) -> Result<Bytes> {
    get_stream(client, url).await?.collect().await
}

/// The object's bytes, gunzipped when the key ends in `.gz`.
pub async fn get_decoded(client: &Client, url: &S3Url) -> Result<Vec<u8>> {
    let raw = get_bytes(client, url).await?;
    if !url.is_gzip() {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::new();
    GzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|source| Error::Gzip {
            bucket: url.bucket.clone(),
            key: url.key.clone(),
            source,
        })?;
    Ok(out)
}

/// The object parsed as JSON (gunzipped first for `.gz` keys).
pub async fn get_json<T: DeserializeOwned>(client: &Client, url: &S3Url) -> Result<T> {
    let bytes = get_decoded(client, url).await?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        source,
    })
}

/// Store bytes with a content type.
pub async fn put_bytes(
    client: &Client,
    url: &S3Url,
    body: Vec<u8>,
    content_type: &str,
) -> Result<()> {
    put_object(client, url, body, content_type, &[]).await
}

async fn put_object(
    client: &Client,
    url: &S3Url,
    body: Vec<u8>,
    content_type: &str,
    metadata: &[(&str, &str)],
) -> Result<()> {
    let metadata = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    client
        .put_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .content_type(content_type)
        .set_metadata(metadata)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| classify(url, e))?;
    Ok(())
}

/// Store a value as JSON; gzip-compressed (with `Content-Encoding: gzip`
/// left off, so clients get the stored bytes) when the key ends in `.gz`.
pub async fn put_json<T: Serialize + ?Sized>(
    client: &Client,
    url: &S3Url,
    value: &T,
) -> Result<()> {
    put_json_with_metadata(client, url, value, &[]).await
}

/// [`put_json`] with user metadata (`x-amz-meta-<name>`), which a HEAD of
/// the object reads back ([`ObjectHead::metadata`]) without its body.
pub async fn put_json_with_metadata<T: Serialize + ?Sized>(
    client: &Client,
    url: &S3Url,
    value: &T,
    metadata: &[(&str, &str)],
) -> Result<()> {
    let json = serde_json::to_vec(value).map_err(|source| Error::Json {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        source,
    })?;
    if url.is_gzip() {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        let gz = enc
            .write_all(&json)
            .and_then(|()| enc.finish())
            .map_err(|source| Error::Gzip {
                bucket: url.bucket.clone(),
                key: url.key.clone(),
                source,
            })?;
        put_object(client, url, gz, "application/gzip", metadata).await
    } else {
        put_object(client, url, json, "application/json", metadata).await
    }
}

/// What a conditional write requires of the object it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// No object may exist at the key (`If-None-Match: *`).
    Absent,
    /// The object must still have this ETag, quotes included as S3 gave it (`If-Match`).
    ETag(&'a str),
}

/// How a conditional write ended when S3 answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// The object was written.
    Written,
    /// The precondition did not hold: the object was created, replaced or
    /// deleted since it was read (412 `PreconditionFailed`, 409
    /// `ConditionalRequestConflict` for a write racing another, or 404 for an
    /// `If-Match` on an object deleted since). Read it again and retry.
    Conflict,
}

/// The object parsed as JSON, with its ETag exactly as S3 returned it, to
/// write it back with [`put_json_if`]; `None` when there is no object.
pub async fn get_json_with_etag<T: DeserializeOwned>(
    client: &Client,
    url: &S3Url,
) -> Result<Option<(T, String)>> {
    let out = match client
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            return match classify(url, e) {
                Error::NotFound { .. } => Ok(None),
                e => Err(e),
            }
        }
    };
    let etag = out.e_tag().map(str::to_string).ok_or_else(|| Error::S3 {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        message: "GetObject gave no ETag".into(),
    })?;
    let bytes = ObjectStream {
        url: url.clone(),
        body: out.body,
    }
    .collect()
    .await?;
    let value = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        source,
    })?;
    Ok(Some((value, etag)))
}

/// Store a value as JSON only if `precondition` holds (S3 conditional
/// writes): a read-modify-write that loses no concurrent update. A failed
/// precondition is [`Conditional::Conflict`], not an error.
pub async fn put_json_if<T: Serialize + ?Sized>(
    client: &Client,
    url: &S3Url,
    value: &T,
    precondition: Precondition<'_>,
) -> Result<Conditional> {
    let json = serde_json::to_vec(value).map_err(|source| Error::Json {
        bucket: url.bucket.clone(),
        key: url.key.clone(),
        source,
    })?;
    let request = client
        .put_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .content_type("application/json")
        .body(ByteStream::from(json));
    let request = match precondition {
        Precondition::Absent => request.if_none_match("*"),
        Precondition::ETag(etag) => request.if_match(etag),
    };
    match request.send().await {
        Ok(_) => Ok(Conditional::Written),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let deleted = matches!(precondition, Precondition::ETag(_))
                && status == Some(404)
                && e.code() == Some("NoSuchKey");
            if matches!(status, Some(409 | 412)) || deleted {
                Ok(Conditional::Conflict)
            } else {
                Err(classify(url, e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_object_sha256_checksums_are_kept() {
        // sha256 of "" (printf '' | sha256sum | xxd -r -p | base64).
        let value = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let digest =
            full_object_sha256(Some(value), Some(&ChecksumType::FullObject), None).unwrap();
        assert_eq!(digest[..4], [0xe3, 0xb0, 0xc4, 0x42]);
        assert_eq!(
            full_object_sha256(Some(value), None, Some("\"d41d8cd9\"")),
            Some(digest)
        );
        // COMPOSITE, or a multipart ETag with no type: not the object's SHA-256.
        assert_eq!(
            full_object_sha256(Some(value), Some(&ChecksumType::Composite), None),
            None
        );
        assert_eq!(
            full_object_sha256(Some(value), None, Some("\"3858f622-2\"")),
            None
        );
        assert_eq!(
            full_object_sha256(Some(&format!("{value}-2")), None, None),
            None
        );
        assert_eq!(
            full_object_sha256(None, Some(&ChecksumType::FullObject), None),
            None
        );
    }
}
