//! Feeding Cirrus: each Item as a Cirrus process payload on a Cirrus
//! process queue. The payload is a FeatureCollection of the Item with a
//! `process` list whose one definition names the configured workflow (and
//! collections and upload options, when configured), and an `id` of the form
//! Cirrus's state database keys on (`<collections>/workflow-<workflow>/<item ids>`)
//! that stays the same for the same object version: a record processed again
//! gives the same id, which Cirrus runs once. A payload too large for SQS
//! is put in S3 (`CIRRUS_PAYLOAD_URL`) and sent as `{"url": "s3://…"}`,
//! which Cirrus' process function reads from there.

use aws_sdk_sqs::error::DisplayErrorContext;
use serde_json::{json, Map, Value};

use sha2::{Digest, Sha256};
use stratus_aws::{objects, S3Url};

use crate::publish_error::{DestinationError, PublishError};

/// The largest message SQS takes (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// A Cirrus process queue and what its payloads ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CirrusQueue {
    /// The queue's URL (`CIRRUS_PROCESS_QUEUE_URL`).
    pub queue_url: String,
    /// The workflow the payloads name (`CIRRUS_WORKFLOW`).
    pub workflow: String,
    /// The collections part of payload ids (`CIRRUS_COLLECTIONS`); otherwise
    /// the Item's collection, else `none`, as Cirrus itself derives it.
    pub collections: Option<String>,
    /// The process definition's `upload_options` (`CIRRUS_UPLOAD_OPTIONS`, a JSON object).
    pub upload_options: Option<Map<String, Value>>,
    /// Where payloads too large for SQS are put (`CIRRUS_PAYLOAD_URL`,
    /// `s3://bucket/prefix/`, a location Cirrus' process function reads).
    pub payload_location: Option<S3Url>,
}

impl CirrusQueue {
    /// Read the queue's settings through `set` (a non-empty variable's value).
    pub(crate) fn from_lookup(
        set: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<CirrusQueue>, DestinationError> {
        let Some(queue_url) = set("CIRRUS_PROCESS_QUEUE_URL") else {
            return match set("CIRRUS_WORKFLOW") {
                None => Ok(None),
                Some(_) => Err(DestinationError::Invalid(
                    "CIRRUS_WORKFLOW is set but CIRRUS_PROCESS_QUEUE_URL is not: set both to feed Cirrus".into(),
                )),
            };
        };
        let workflow = set("CIRRUS_WORKFLOW").ok_or_else(|| {
            DestinationError::Invalid(
                "CIRRUS_PROCESS_QUEUE_URL is set but CIRRUS_WORKFLOW is not: name the workflow payloads run".into(),
            )
        })?;
        // Cirrus keys state on `…/workflow-<name>/…`: a slash would shift every part.
        if workflow.contains('/') {
            return Err(DestinationError::Invalid(format!(
                "CIRRUS_WORKFLOW must not contain '/', got {workflow:?}"
            )));
        }
        let upload_options = match set("CIRRUS_UPLOAD_OPTIONS") {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => Some(map),
                _ => {
                    return Err(DestinationError::Invalid(format!(
                        "CIRRUS_UPLOAD_OPTIONS must be a JSON object, got {text:?}"
                    )))
                }
            },
        };
        let payload_location = match set("CIRRUS_PAYLOAD_URL") {
            None => None,
            Some(text) => {
                let mut url = S3Url::parse(&text).map_err(|e| {
                    DestinationError::Invalid(format!("CIRRUS_PAYLOAD_URL is invalid: {e}"))
                })?;
                if !url.key.is_empty() && !url.key.ends_with('/') {
                    url.key.push('/');
                }
                Some(url)
            }
        };
        Ok(Some(CirrusQueue {
            queue_url,
            workflow,
            collections: set("CIRRUS_COLLECTIONS"),
            upload_options,
            payload_location,
        }))
    }
}

/// Send the payload of `item` to `queue`, through S3 (`s3`) when too large for SQS.
pub async fn send(
    sqs: &aws_sdk_sqs::Client,
    s3: &aws_sdk_s3::Client,
    queue: &CirrusQueue,
    item: &Value,
    source: &Source<'_>,
) -> Result<(), PublishError> {
    let payload = payload(queue, item, source);
    let mut body = payload.to_string();
    if body.len() > MAX_MESSAGE_BYTES {
        let Some(location) = &queue.payload_location else {
            return Err(PublishError::Message(format!(
                "the Cirrus payload is {} bytes, over SQS's {MAX_MESSAGE_BYTES}: set CIRRUS_PAYLOAD_URL to send it through S3",
                body.len()
            )));
        };
        let url = payload_url(location, &payload);
        objects::put_json(s3, &url, &payload)
            .await
            .map_err(|e| PublishError::Payload {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        body = json!({"url": url.to_string()}).to_string();
    }
    sqs.send_message()
        .queue_url(&queue.queue_url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| PublishError::Sqs {
            queue: queue.queue_url.clone(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
    Ok(())
}

/// The object version an Item describes.
pub struct Source<'a> {
    /// Where the object is.
    pub url: &'a S3Url,
    /// The ETag of the version read.
    pub etag: Option<&'a str>,
}

/// The first 16 hex digits of the SHA-256 of `bytes`.
pub(crate) fn hex16(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a large payload goes under `location`: named for its id (the same
/// object version, the same key), in hex so that any id makes a plain key.
fn payload_url(location: &S3Url, payload: &Value) -> S3Url {
    let id = payload["id"].as_str().unwrap_or_default();
    location.with_key(format!("{}{}.json", location.key, hex16(id.as_bytes())))
}

/// The process payload of `item`.
pub(crate) fn payload(queue: &CirrusQueue, item: &Value, source: &Source<'_>) -> Value {
    let mut process = Map::new();
    process.insert("workflow".into(), json!(queue.workflow));
    if let Some(c) = &queue.collections {
        process.insert("collections".into(), json!(c));
    }
    if let Some(u) = &queue.upload_options {
        process.insert("upload_options".into(), Value::Object(u.clone()));
    }
    json!({
        "type": "FeatureCollection",
        "id": payload_id(queue, item, source),
        "features": [item],
        "process": [process],
    })
}

/// `<collections>/workflow-<workflow>/<item id>/<version>`: Cirrus's form,
/// the Item's id, and 16 hex digits of the SHA-256 of the object's bucket,
/// key and ETag, so that a new version of the object is a new payload and
/// the same version the same one.
fn payload_id(queue: &CirrusQueue, item: &Value, source: &Source<'_>) -> String {
    let collections = queue
        .collections
        .clone()
        .or_else(|| item["collection"].as_str().map(str::to_string))
        .unwrap_or_else(|| "none".into());
    let version = format!(
        "{}\n{}\n{}",
        source.url.bucket,
        source.url.key,
        source.etag.unwrap_or_default().trim_matches('"')
    );
    format!(
        "{collections}/workflow-{}/{}/{}",
        queue.workflow,
        item["id"].as_str().unwrap_or("item"),
        hex16(version.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(vars: &[(&str, &str)]) -> Result<Option<CirrusQueue>, DestinationError> {
        CirrusQueue::from_lookup(&|k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn reads_its_settings() {
        assert_eq!(queue(&[]).unwrap(), None);
        assert!(queue(&[("CIRRUS_WORKFLOW", "wf")]).is_err());
        assert!(queue(&[("CIRRUS_PROCESS_QUEUE_URL", "https://q")]).is_err());
        assert!(queue(&[
            ("CIRRUS_PROCESS_QUEUE_URL", "q"),
            ("CIRRUS_WORKFLOW", "a/b")
        ])
        .is_err());
        let bad = [
            ("CIRRUS_PROCESS_QUEUE_URL", "q"),
            ("CIRRUS_WORKFLOW", "wf"),
            ("CIRRUS_UPLOAD_OPTIONS", "[1]"),
        ];
        assert!(queue(&bad).is_err());
        let q = queue(&[
            ("CIRRUS_PROCESS_QUEUE_URL", "q"),
            ("CIRRUS_WORKFLOW", "wf"),
            (
                "CIRRUS_UPLOAD_OPTIONS",
                r#"{"path_template": "/${collection}/${id}"}"#,
            ),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            q.upload_options.unwrap()["path_template"],
            "/${collection}/${id}"
        );
    }

    #[test]
    fn ids_follow_the_object_version() {
        let q = CirrusQueue {
            queue_url: "q".into(),
            workflow: "publish".into(),
            collections: None,
            upload_options: None,
            payload_location: None,
        };
        let item = json!({"type": "Feature", "id": "scene-0123"});
        let url = S3Url::new("in", "a/scene.tif");
        let id = |etag: &str, url: &S3Url| {
            payload(
                &q,
                &item,
                &Source {
                    url,
                    etag: Some(etag),
                },
            )["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let first = id("\"abc\"", &url);
        assert!(
            first.starts_with("none/workflow-publish/scene-0123/"),
            "{first}"
        );
        assert_eq!(first, id("abc", &url), "quotes are not part of the version");
        assert_ne!(first, id("abd", &url), "a new version is a new payload");
        assert_ne!(first, id("abc", &S3Url::new("other", "a/scene.tif")));
        let with = CirrusQueue {
            collections: Some("landsat".into()),
            ..q.clone()
        };
        let p = payload(
            &with,
            &json!({"id": "s", "collection": "c"}),
            &Source {
                url: &url,
                etag: None,
            },
        );
        assert!(p["id"]
            .as_str()
            .unwrap()
            .starts_with("landsat/workflow-publish/s/"));
        assert_eq!(
            p["process"],
            json!([{"workflow": "publish", "collections": "landsat"}])
        );
    }
}
