//! What an invocation asks for. S3 reaches the function directly, through
//! SNS, through SQS (its message bodies: an S3 notification, an SNS
//! notification of one, an EventBridge event, or a direct request), or as an
//! EventBridge "Object Created" event; a direct invocation names URLs. A
//! backfill arrives from S3 Batch Operations ([`crate::batch_operations`]) or
//! a Step Functions Distributed Map ([`crate::distributed_map`]).

use aws_lambda_events::event::s3::S3Event;
use serde_json::Value;
use stratus_aws::{decode_event_key, Location, S3Url};

use crate::batch_operations::{self, Invocation};
use crate::distributed_map;
use crate::target::{preview, Target};

/// A parsed invocation payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The `s3:TestEvent` S3 sends when a notification is configured.
    TestEvent,
    /// Objects to look at (or records to skip), in order.
    Targets(Vec<Target>),
    /// An SQS batch: each message and what it asks for (never another batch).
    Batch(Vec<Message>),
    /// An S3 Batch Operations invocation, answered with its response schema.
    BatchOperations(Invocation),
}

/// One SQS message of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The message id, which a partial batch response names.
    pub id: String,
    /// What its body asks for, or why it cannot be read (it never will be).
    pub request: Result<Request, String>,
}

const EXPECTED: &str =
    "expected an S3 notification (\"Records\" from aws:s3), one delivered by SNS or SQS, \
an EventBridge \"Object Created\" event, {\"url\": \"s3://…\"} or {\"urls\": [\"s3://…\"]}, \
an S3 Batch Operations invocation or Step Functions Distributed Map items";

/// Parse an invocation's payload.
pub fn parse_request(payload: &Value) -> Result<Request, String> {
    match record_source(payload).as_deref() {
        Some("aws:sqs") => Ok(Request::Batch(sqs_messages(payload)?)),
        Some("aws:sns") => {
            let mut targets = Vec::new();
            for (i, rec) in records(payload)?.iter().enumerate() {
                let message = rec
                    .pointer("/Sns/Message")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("SNS record {i} has no Sns.Message string"))?;
                if let Request::Targets(t) = parse_text(message, "the SNS message")? {
                    targets.extend(t);
                }
            }
            Ok(Request::Targets(targets))
        }
        _ => parse_body(payload),
    }
}

/// The event source of a `Records` payload (`aws:s3`, `aws:sqs`, `aws:sns`), if it is one.
fn record_source(payload: &Value) -> Option<String> {
    let first = payload.get("Records")?.as_array()?.first()?;
    first
        .get("eventSource")
        .or_else(|| first.get("EventSource"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn records(payload: &Value) -> Result<&Vec<Value>, String> {
    payload
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| "\"Records\" is not a list".to_string())
}

fn sqs_messages(payload: &Value) -> Result<Vec<Message>, String> {
    records(payload)?
        .iter()
        .enumerate()
        .map(|(i, rec)| {
            let id = rec
                .get("messageId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| format!("SQS record {i} has no messageId"))?;
            let request = match rec.get("body").and_then(Value::as_str) {
                Some(body) => parse_text(body, "the message body"),
                None => Err("the message has no body".to_string()),
            };
            Ok(Message {
                id: id.to_string(),
                request,
            })
        })
        .collect()
}

/// A message carried as text (an SQS body, an SNS message): JSON of an S3
/// notification, an SNS notification of one (SNS to SQS without raw
/// delivery), an EventBridge event or a direct request.
fn parse_text(text: &str, what: &str) -> Result<Request, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("{what} is not JSON ({e}): {}", preview(text)))?;
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        if let Some(inner) = value.get("Message").and_then(Value::as_str) {
            return parse_text(inner, "the SNS message");
        }
    }
    if matches!(
        record_source(&value).as_deref(),
        Some("aws:sqs" | "aws:sns")
    ) {
        return Err(format!(
            "{what} is itself an SQS or SNS event, which is not delivered that way"
        ));
    }
    match parse_body(&value)? {
        Request::BatchOperations(_) => Err(format!(
            "{what} is an S3 Batch Operations invocation, which S3 sends to the function itself"
        )),
        request => Ok(request),
    }
}

/// An S3 notification, an EventBridge event, a direct request or a backfill's.
fn parse_body(payload: &Value) -> Result<Request, String> {
    if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Request::TestEvent);
    }
    if batch_operations::is_invocation(payload) {
        return batch_operations::parse(payload).map(Request::BatchOperations);
    }
    if let Some(items) = distributed_map::parse(payload) {
        return items.map(Request::Targets);
    }
    if payload.get("Records").is_some() {
        if let Some(source) = record_source(payload).filter(|s| s != "aws:s3") {
            return Err(format!(
                "unsupported payload: records from {source:?}; {EXPECTED}"
            ));
        }
        let event: S3Event = serde_json::from_value(payload.clone())
            .map_err(|e| format!("not a valid S3 event: {e}"))?;
        return Ok(Request::Targets(
            event.records.iter().map(record_target).collect(),
        ));
    }
    if payload.get("detail-type").is_some() {
        return eventbridge_target(payload).map(|t| Request::Targets(vec![t]));
    }
    let urls: Vec<&Value> = match (payload.get("url"), payload.get("urls")) {
        (Some(u), None) => vec![u],
        (None, Some(Value::Array(us))) => us.iter().collect(),
        _ => {
            return Err(format!(
                "unsupported payload: {EXPECTED}; received {}",
                describe(payload)
            ))
        }
    };
    let targets = urls
        .into_iter()
        .map(|u| {
            let text = u
                .as_str()
                .ok_or_else(|| format!("URL is not a string: {u}"))?;
            let url = match Location::parse(text).map_err(|e| e.to_string())? {
                Location::S3(url) => url,
                // Another host is not S3, whatever its path looks like: reading it as
                // s3://<first segment>/<rest> would read an object nobody named.
                Location::Http(_) | Location::Local(_) => {
                    return Err(format!(
                        "{} is not an S3 URL: give s3://bucket/key or an https:// URL of an S3 endpoint",
                        preview(text)
                    ))
                }
            };
            Ok(Target::Object {
                url,
                size: None,
                event_time: None,
                backfill: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Request::Targets(targets))
}

/// An EventBridge event from S3 (`source: aws.s3`). Its key is the plain key,
/// not form-encoded as in S3 notifications.
fn eventbridge_target(ev: &Value) -> Result<Target, String> {
    let source = ev.get("source").and_then(Value::as_str).unwrap_or_default();
    let kind = ev
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if source != "aws.s3" {
        return Err(format!(
            "unsupported payload: an EventBridge event from {source:?} ({kind:?}); {EXPECTED}"
        ));
    }
    let text = |p: &str| {
        ev.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (bucket, key) = (text("/detail/bucket/name"), text("/detail/object/key"));
    if kind != "Object Created" {
        return Ok(Target::Skip {
            bucket,
            key,
            reason: format!("event {kind:?} is not an object creation"),
        });
    }
    if bucket.is_empty() || key.is_empty() {
        return Ok(Target::Invalid {
            bucket,
            key,
            message: "the event has no detail.bucket.name or detail.object.key".into(),
        });
    }
    Ok(Target::Object {
        url: S3Url::new(bucket, key),
        size: ev.pointer("/detail/object/size").and_then(Value::as_u64),
        event_time: ev.get("time").and_then(Value::as_str).map(str::to_string),
        backfill: None,
    })
}

/// What a payload looked like, for the error message.
fn describe(payload: &Value) -> String {
    match payload {
        Value::Object(m) if m.is_empty() => "an empty object".into(),
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).take(8).collect();
            format!("an object with keys {}", keys.join(", "))
        }
        Value::Array(a) => format!("a list of {} items", a.len()),
        other => format!("{} {}", kind_of(other), preview(&other.to_string())),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
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
            backfill: None,
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
                event_time: Some("2024-05-06T07:08:09+00:00".into()),
                backfill: None,
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
                event_time: None,
                backfill: None,
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
            json!({"url": "http://attacker.example/rasters/key.tif"}),
            json!({"url": "https://127.0.0.1:9000/rasters/key.tif"}),
            json!({"Records": "x"}),
            json!([1]),
        ] {
            assert!(parse_request(&bad).is_err(), "{bad}");
        }
    }
}
