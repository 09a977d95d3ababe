//! What an invocation asks for: S3 event records or direct URLs.

use aws_lambda_events::event::s3::S3Event;
use serde_json::Value;
use stratus_aws::{decode_event_key, S3Url};

/// A parsed invocation payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The `s3:TestEvent` S3 sends when a notification is configured.
    TestEvent,
    /// Objects to look at (or records to skip), in order.
    Targets(Vec<Target>),
}

/// One record of work.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An object to process.
    Object {
        /// Where it is.
        url: S3Url,
        /// Size from the event (`None` for direct invocations).
        size: Option<u64>,
        /// Event time (RFC 3339), the object's creation time for S3 events.
        event_time: Option<String>,
    },
    /// A record to skip, with why.
    Skip {
        /// Bucket and raw key, for the outcome.
        bucket: String,
        /// The key as given.
        key: String,
        /// Why it is skipped.
        reason: String,
    },
    /// A record that cannot be processed (e.g. an undecodable key).
    Invalid {
        /// Bucket, for the outcome.
        bucket: String,
        /// The key as given.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Parse an S3 event (`Records`), `{"url": …}` or `{"urls": […]}`.
pub fn parse_request(payload: &Value) -> Result<Request, String> {
    if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Request::TestEvent);
    }
    if payload.get("Records").is_some() {
        let event: S3Event = serde_json::from_value(payload.clone())
            .map_err(|e| format!("not a valid S3 event: {e}"))?;
        return Ok(Request::Targets(
            event.records.iter().map(record_target).collect(),
        ));
    }
    let urls: Vec<&Value> = match (payload.get("url"), payload.get("urls")) {
        (Some(u), None) => vec![u],
        (None, Some(Value::Array(us))) => us.iter().collect(),
        _ => {
            return Err(
                "unsupported payload: expected an S3 event (\"Records\"), {\"url\": \"s3://…\"} or {\"urls\": [\"s3://…\"]}"
                    .into(),
            )
        }
    };
    let targets = urls
        .into_iter()
        .map(|u| {
            let text = u
                .as_str()
                .ok_or_else(|| format!("URL is not a string: {u}"))?;
            let url = S3Url::parse(text).map_err(|e| e.to_string())?;
            Ok(Target::Object {
                url,
                size: None,
                event_time: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Request::Targets(targets))
}

fn record_target(rec: &aws_lambda_events::event::s3::S3EventRecord) -> Target {
    let bucket = rec.s3.bucket.name.clone().unwrap_or_default();
    let raw_key = rec.s3.object.key.clone().unwrap_or_default();
    let name = rec.event_name.clone().unwrap_or_default();
    // Event names come as "ObjectCreated:Put" (and "s3:ObjectCreated:Put" in some sources).
    if !name.trim_start_matches("s3:").starts_with("ObjectCreated:") {
        return Target::Skip {
            bucket,
            key: raw_key,
            reason: format!("event {name:?} is not an object creation"),
        };
    }
    if bucket.is_empty() || raw_key.is_empty() {
        return Target::Invalid {
            bucket,
            key: raw_key,
            message: "the record has no bucket name or object key".into(),
        };
    }
    match decode_event_key(&raw_key) {
        Ok(key) => Target::Object {
            url: S3Url::new(bucket, key),
            size: rec.s3.object.size.and_then(|s| u64::try_from(s).ok()),
            event_time: Some(rec.event_time.to_rfc3339()),
        },
        Err(e) => Target::Invalid {
            bucket,
            key: raw_key,
            message: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, key: &str, size: i64) -> Value {
        json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2024-05-06T07:08:09.000Z", "eventName": name,
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "raster-upload",
                   "bucket": {"name": "in-bucket", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::in-bucket"},
                   "object": {"key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}}
        })
    }

    #[test]
    fn s3_events() {
        let ev = json!({"Records": [
            record("ObjectCreated:Put", "a+b%2Bc+%C3%A9.tif", 42),
            record("ObjectRemoved:Delete", "gone.tif", 0),
            record("ObjectCreated:CompleteMultipartUpload", "bad%zz", 1),
        ]});
        let Request::Targets(t) = parse_request(&ev).unwrap() else {
            panic!("targets expected")
        };
        assert_eq!(
            t[0],
            Target::Object {
                url: S3Url::new("in-bucket", "a b+c é.tif"),
                size: Some(42),
                event_time: Some("2024-05-06T07:08:09+00:00".into())
            }
        );
        assert!(matches!(&t[1], Target::Skip { reason, .. } if reason.contains("ObjectRemoved")));
        assert!(matches!(&t[2], Target::Invalid { .. }));
    }

    #[test]
    fn test_event_and_direct_urls() {
        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-01-01T00:00:00.000Z", "Bucket": "in-bucket", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"});
        assert_eq!(parse_request(&test_event).unwrap(), Request::TestEvent);
        let one = parse_request(&json!({"url": "s3://b-1/k.tif"})).unwrap();
        assert_eq!(
            one,
            Request::Targets(vec![Target::Object {
                url: S3Url::new("b-1", "k.tif"),
                size: None,
                event_time: None
            }])
        );
        let many = parse_request(
            &json!({"urls": ["s3://b-1/a.tif", "https://b-2.s3.amazonaws.com/b%20c.tif"]}),
        )
        .unwrap();
        let Request::Targets(t) = many else { panic!() };
        assert_eq!(t.len(), 2);
        for bad in [
            json!({}),
            json!({"url": 3}),
            json!({"url": "nope"}),
            json!({"Records": "x"}),
            json!([1]),
        ] {
            assert!(parse_request(&bad).is_err(), "{bad}");
        }
    }
}
