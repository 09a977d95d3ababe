//! An Item on SNS in the form stac-server's ingest reads: the Item itself as
//! the message or, when it would pass SNS's size limit, `{"href":
//! "s3://bucket/key"}`, which the ingest fetches from S3. The message
//! attributes are the ones stac-server gives its own post-ingest messages,
//! so that subscriptions filter both alike: `recordType`, `collection`,
//! `bbox.sw_lon` / `bbox.sw_lat` / `bbox.ne_lon` / `bbox.ne_lat`,
//! `datetime`, `start_datetime` / `end_datetime` and their
//! `*_unix_epoch_ms_offset`.

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::{json, Value};
use stratus_aws::S3Url;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::publish_error::PublishError;

/// The largest message SNS takes, attributes included (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The topic Items go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTopic {
    /// Its ARN.
    pub topic_arn: String,
}

/// A message attribute: its name, SNS data type and value.
type Attribute = (&'static str, &'static str, String);

/// Publish `item` (written at `item_url`) to `topic`.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic: &ItemTopic,
    item: &Value,
    item_url: &S3Url,
) -> Result<(), PublishError> {
    let attributes = attributes(item);
    let body = message(item, item_url, &attributes)?;
    let mut request = sns.publish().topic_arn(&topic.topic_arn).message(body);
    for (name, data_type, value) in attributes {
        let value = MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
            .map_err(|e| PublishError::Message(e.to_string()))?;
        request = request.message_attributes(name, value);
    }
    request.send().await.map_err(|e| PublishError::Sns {
        topic: topic.topic_arn.clone(),
        message: DisplayErrorContext(&e).to_string(),
    })?;
    Ok(())
}

/// The message: the Item, or a reference to it when the Item and the
/// attributes would pass [`MAX_MESSAGE_BYTES`] (SNS counts both).
pub(crate) fn message(
    item: &Value,
    item_url: &S3Url,
    attributes: &[Attribute],
) -> Result<String, PublishError> {
    let attribute_bytes: usize = attributes
        .iter()
        .map(|(n, t, v)| n.len() + t.len() + v.len())
        .sum();
    let whole = item.to_string();
    if whole.len() + attribute_bytes <= MAX_MESSAGE_BYTES {
        return Ok(whole);
    }
    // The ingest reads the key as the URL parser leaves the path, undecoded:
    // a key the parser would change cannot be referred to.
    if !href_keeps_key(&item_url.key) {
        return Err(PublishError::Message(format!(
            "the Item is {} bytes, over SNS's {MAX_MESSAGE_BYTES}, and its key {:?} has characters a reference cannot carry to stac-server's ingest",
            whole.len(),
            item_url.key
        )));
    }
    Ok(json!({"href": item_url.to_string()}).to_string())
}

/// Whether an `s3://` URL's path is the key itself once a WHATWG URL parser
/// (the ingest's) has read it: printable ASCII outside the path
/// percent-encode set, and no `.` or `..` segments, which it resolves.
fn href_keeps_key(key: &str) -> bool {
    let plain = key
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && !b"\"#<>?`{}".contains(&b));
    plain && key.split('/').all(|s| s != "." && s != "..")
}

/// The attributes stac-server's post-ingest messages carry, for an Item.
pub(crate) fn attributes(item: &Value) -> Vec<Attribute> {
    let mut out: Vec<Attribute> = vec![("recordType", "String", "Item".into())];
    if let Some(c) = item["collection"].as_str().filter(|c| !c.is_empty()) {
        out.push(("collection", "String", c.into()));
    }
    // A 3D bbox has its two heights after each corner.
    if let Some(b) = item["bbox"].as_array().filter(|b| matches!(b.len(), 4 | 6)) {
        let half = b.len() / 2;
        let corners = [
            ("bbox.sw_lon", &b[0]),
            ("bbox.sw_lat", &b[1]),
            ("bbox.ne_lon", &b[half]),
            ("bbox.ne_lat", &b[half + 1]),
        ];
        for (name, v) in corners {
            if let Some(n) = v.as_f64() {
                out.push((name, "Number", n.to_string()));
            }
        }
    }
    let props = &item["properties"];
    if let Some(dt) = props["datetime"].as_str() {
        out.push(("datetime", "String", dt.into()));
    }
    // A range when the Item has both ends, else the instant at both.
    let (start, end) = match (
        props["start_datetime"].as_str(),
        props["end_datetime"].as_str(),
    ) {
        (Some(s), Some(e)) => (Some(s), Some(e)),
        _ => (props["datetime"].as_str(), props["datetime"].as_str()),
    };
    for (name, offset_name, at) in [
        ("start_datetime", "start_unix_epoch_ms_offset", start),
        ("end_datetime", "end_unix_epoch_ms_offset", end),
    ] {
        if let Some((iso, ms)) = at.and_then(instant) {
            out.push((name, "String", iso));
            out.push((offset_name, "Number", ms.to_string()));
        }
    }
    out
}

/// An RFC 3339 time as stac-server writes it (UTC, milliseconds, `Z`) and
/// its milliseconds since the Unix epoch.
fn instant(text: &str) -> Option<(String, i128)> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .ok()?
        .to_offset(UtcOffset::UTC);
    let iso = at
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .ok()?;
    Some((iso, at.unix_timestamp_nanos() / 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_stac_server() {
        let item = json!({"type": "Feature", "id": "a", "collection": "dem",
            "bbox": [-10.5, 40.0, -9.25, 41.0],
            "properties": {"datetime": "2024-03-01T12:00:00+02:00"}});
        let attrs = attributes(&item);
        let get = |n: &str| attrs.iter().find(|a| a.0 == n).map(|a| (a.1, a.2.as_str()));
        assert_eq!(get("recordType"), Some(("String", "Item")));
        assert_eq!(get("collection"), Some(("String", "dem")));
        assert_eq!(get("bbox.sw_lon"), Some(("Number", "-10.5")));
        assert_eq!(get("bbox.ne_lat"), Some(("Number", "41")));
        assert_eq!(
            get("datetime"),
            Some(("String", "2024-03-01T12:00:00+02:00"))
        );
        assert_eq!(
            get("start_datetime"),
            Some(("String", "2024-03-01T10:00:00.000Z"))
        );
        assert_eq!(
            get("end_unix_epoch_ms_offset"),
            Some(("Number", "1709287200000"))
        );
        // No collection, no bbox: those attributes are left out (SNS takes no empty value).
        let bare = attributes(&json!({"properties": {"datetime": null,
            "start_datetime": "2020-01-01T00:00:00Z", "end_datetime": "2020-12-31T00:00:00Z"}}));
        let names: Vec<&str> = bare.iter().map(|a| a.0).collect();
        assert_eq!(
            names,
            [
                "recordType",
                "start_datetime",
                "start_unix_epoch_ms_offset",
                "end_datetime",
                "end_unix_epoch_ms_offset"
            ]
        );
    }

    #[test]
    fn large_items_go_by_reference() {
        let small = json!({"id": "a"});
        let url = S3Url::new("out", "stac/a b.tif.json");
        assert_eq!(message(&small, &url, &[]).unwrap(), small.to_string());
        let big = json!({"id": "x".repeat(MAX_MESSAGE_BYTES)});
        let url = S3Url::new("out", "stac/dir/a+b%20(1).tif.json");
        assert_eq!(
            message(&big, &url, &[]).unwrap(),
            r#"{"href":"s3://out/stac/dir/a+b%20(1).tif.json"}"#
        );
        // Attributes count towards the limit.
        let edge = json!({"id": "x".repeat(MAX_MESSAGE_BYTES - 20)});
        assert!(!message(&edge, &url, &[]).unwrap().contains("href"));
        let attrs = [("collection", "String", "c".repeat(20))];
        assert!(message(&edge, &url, &attrs).unwrap().contains("href"));
        for key in [
            "stac/a b.json",
            "stac/é.json",
            "stac/a#b.json",
            "stac/../x.json",
        ] {
            assert!(
                message(&big, &S3Url::new("out", key), &[]).is_err(),
                "{key}"
            );
        }
    }
}
