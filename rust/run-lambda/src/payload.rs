//! Cirrus' I/O contract: the payload is a JSON document on S3 (gzip when the
//! key ends in `.gz`); a payload `{"url": "s3://…"}` points at the real one;
//! the output goes to the input URL with its last `.json` replaced by
//! `_out.json`, unless given. The input is never written to. `exec`'s event
//! and response may also be a local file or stdin/stdout.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use stratus_aws::{is_url, S3Url};

use crate::{Error, Result};

/// How many `{"url": …}` indirections are followed.
pub const MAX_INDIRECTIONS: usize = 4;

/// Parse an `s3://` or `https://` S3 URL given on the command line.
pub fn parse_url(text: &str) -> Result<S3Url> {
    S3Url::parse(text).map_err(|e| Error::Usage(e.to_string()))
}

/// A job's input URL and where its response goes: `output`, or Cirrus'
/// default beside the input; never the input itself.
pub fn input_and_output(url: &str, output: Option<&str>) -> Result<(S3Url, S3Url)> {
    let input = parse_url(url)?;
    let output = match output {
        Some(o) => parse_url(o)?,
        None => default_output_url(&input)?,
    };
    if output == input {
        return Err(Error::Usage(format!(
            "the output URL is the input URL ({input}); the payload is never overwritten"
        )));
    }
    Ok((input, output))
}

/// Cirrus' default output URL: the last `.json` of the key becomes `_out.json`.
pub fn default_output_url(input: &S3Url) -> Result<S3Url> {
    match input.key.rfind(".json") {
        Some(i) => Ok(input.with_key(format!(
            "{}_out.json{}",
            &input.key[..i],
            &input.key[i + ".json".len()..]
        ))),
        None => Err(Error::Usage(format!(
            "cannot derive the output URL from {input}: its key has no `.json`; pass --output"
        ))),
    }
}

/// `{"url": "…"}`: a pointer to the real payload (no `features`, one string `url`).
#[derive(Deserialize)]
struct Pointer {
    url: String,
    #[serde(default)]
    features: Option<serde::de::IgnoredAny>,
}

/// If the document is a `{"url": …}` pointer, the URL it points at: an
/// object with a string `url` naming a `.json` or `.json.gz` S3 key, and no
/// `features`. (Other functions take `{"url": …}` events that name data, such
/// as a raster; those are passed on as they are.)
pub fn pointer(json: &RawValue) -> Option<String> {
    let text = json.get().trim_start();
    if !text.starts_with('{') {
        return None;
    }
    serde_json::from_str::<Pointer>(text)
        .ok()
        .filter(|p| p.features.is_none())
        .map(|p| p.url)
        .filter(|url| {
            S3Url::parse(url).is_ok_and(|u| {
                let key = u.key.to_ascii_lowercase();
                key.ends_with(".json") || key.ends_with(".json.gz")
            })
        })
}

/// Check that bytes are one JSON document.
pub fn validate_json(bytes: &[u8], what: &str) -> Result<Box<RawValue>> {
    serde_json::from_slice::<Box<RawValue>>(bytes)
        .map_err(|e| Error::InvalidInput(format!("{what} is not valid JSON: {e}")))
}

/// Read the payload at `url`, following `{"url": …}` pointers. Returns the
/// JSON text and the URL it finally came from.
pub async fn read(s3: &aws_sdk_s3::Client, url: &S3Url) -> Result<(Box<RawValue>, S3Url)> {
    let mut current = url.clone();
    for _ in 0..=MAX_INDIRECTIONS {
        let bytes = stratus_aws::objects::get_decoded(s3, &current)
            .await
            .map_err(|e| payload_error(&current, e))?;
        let json = validate_json(&bytes, &format!("the payload at {current}"))?;
        match pointer(&json) {
            Some(next) => {
                tracing::info!(from = %current, to = %next, "payload points at another one");
                current = S3Url::parse(&next).map_err(|e| {
                    Error::InvalidInput(format!("the payload at {current} points at {e}"))
                })?;
            }
            None => return Ok((json, current)),
        }
    }
    Err(Error::InvalidInput(format!(
        "the payload at {url} points at more than {MAX_INDIRECTIONS} others in a row"
    )))
}

fn payload_error(url: &S3Url, e: stratus_aws::Error) -> Error {
    use stratus_aws::Error as E;
    match e {
        E::NotFound { .. } => Error::InvalidInput(format!("the payload {url} does not exist")),
        E::Json { .. } | E::Gzip { .. } | E::InvalidUrl { .. } => {
            Error::InvalidInput(e.to_string())
        }
        other => Error::PayloadUnavailable(other.to_string()),
    }
}

/// Attempts to write the output, on top of the SDK's own retries.
const WRITE_ATTEMPTS: u32 = 3;

/// Write the response (JSON, checked by the caller) to `url`; gzip when the
/// key ends in `.gz`. Transient failures are retried with backoff.
pub async fn write(s3: &aws_sdk_s3::Client, url: &S3Url, json: &RawValue) -> Result<()> {
    let mut attempt = 1;
    loop {
        match stratus_aws::objects::put_json(s3, url, json).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() && attempt < WRITE_ATTEMPTS => {
                tracing::warn!(attempt, error = %e, "writing the output failed; retrying");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(Error::Output {
                    url: url.to_string(),
                    source: Box::new(e),
                })
            }
        }
    }
}

/// Check that the function's response is JSON.
pub fn response_json(response: &[u8]) -> Result<Box<RawValue>> {
    serde_json::from_slice::<Box<RawValue>>(response).map_err(|e| Error::InvalidResponse {
        reason: format!("{e} (first bytes: {:?})", preview(response)),
    })
}

fn preview(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).to_string();
    s.replace('\n', " ")
}

/// An S3 client, made only when a URL needs one.
async fn s3() -> aws_sdk_s3::Client {
    stratus_aws::config::s3_client(&stratus_aws::config::sdk_config().await)
}

/// `exec`'s event: a file, `-` for stdin, or an S3 URL (`{}` when none is given).
pub async fn read_event(source: Option<&str>) -> Result<Bytes> {
    match source {
        None => Ok(Bytes::from_static(b"{}")),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| Error::io("reading the payload from stdin", e))?;
            Ok(buf.into())
        }
        Some(url) if is_url(url) => {
            let (json, _) = read(&s3().await, &parse_url(url)?).await?;
            Ok(Bytes::copy_from_slice(json.get().as_bytes()))
        }
        Some(path) => std::fs::read(path)
            .map(Bytes::from)
            .map_err(|e| Error::InvalidInput(format!("reading the payload {path}: {e}"))),
    }
}

/// `exec`'s response: to a file, `-` for stdout, or an S3 URL.
pub async fn write_response(output: &str, json: &serde_json::value::RawValue) -> Result<()> {
    if output == "-" {
        let mut out = std::io::stdout().lock();
        return writeln!(out, "{}", json.get())
            .and_then(|()| out.flush())
            .map_err(|e| Error::Output {
                url: "stdout".into(),
                source: Box::new(e),
            });
    }
    if is_url(output) {
        return write(&s3().await, &parse_url(output)?, json).await;
    }
    std::fs::write(output, json.get()).map_err(|e| Error::Output {
        url: output.to_string(),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_urls() {
        let u = S3Url::parse("s3://b-1/p/x.json").unwrap();
        assert_eq!(
            default_output_url(&u).unwrap().to_string(),
            "s3://b-1/p/x_out.json"
        );
        let u = S3Url::parse("s3://b-1/a.json/x.json.gz").unwrap();
        assert_eq!(
            default_output_url(&u).unwrap().to_string(),
            "s3://b-1/a.json/x_out.json.gz"
        );
        let u = S3Url::parse("s3://my.json.bucket/payload").unwrap();
        assert!(default_output_url(&u).is_err());
    }

    #[test]
    fn pointers() {
        let raw = |s: &str| serde_json::from_str::<Box<RawValue>>(s).unwrap();
        assert_eq!(
            pointer(&raw(r#"{"url":"s3://b-1/k.json"}"#)).as_deref(),
            Some("s3://b-1/k.json")
        );
        assert_eq!(
            pointer(&raw(
                r#"{"type":"FeatureCollection","features":[],"url":"x"}"#
            )),
            None
        );
        assert_eq!(
            pointer(&raw(r#"{"type":"FeatureCollection","features":[]}"#)),
            None
        );
        assert_eq!(pointer(&raw(r#"[1]"#)), None);
        assert_eq!(
            pointer(&raw(
                r#"{"url":"s3://b-1/p.json.gz","url_out":"s3://b-1/o.json"}"#
            ))
            .as_deref(),
            Some("s3://b-1/p.json.gz")
        );
        // A function's own {"url": …} event naming data is not a payload pointer.
        assert_eq!(pointer(&raw(r#"{"url":"s3://rasters/scene.tif"}"#)), None);
    }

    #[test]
    fn responses_must_be_json() {
        assert!(response_json(br#"{"a":1}"#).is_ok());
        assert!(response_json(b"null").is_ok());
        let err = response_json(b"not json").unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
    }
}
