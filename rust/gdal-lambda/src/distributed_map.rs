//! Step Functions Distributed Map items, one per invocation or batched by an
//! `ItemBatcher` (`{"BatchInput": {…}, "Items": […]}`):
//!
//! - an S3 listing's (`ItemReader` on `s3:listObjectsV2`): `Key` as stored,
//!   `Etag`, `Size`, `LastModified`, `StorageClass` and no bucket, which
//!   comes from the batch's `BatchInput` (`bucket`) or an `ItemSelector`
//!   that adds `bucket`;
//! - an S3 Inventory's (`ItemReader` of a `manifest.json`, `InputType`
//!   `MANIFEST`): the inventory's columns as text, `Bucket` and `Key` always,
//!   `Size`, `ETag`, `IsLatest`, `IsDeleteMarker` when the inventory lists
//!   them. Inventories write keys URL-encoded (form encoding, `+` a space)
//!   and Step Functions passes the column as it is: the key is decoded.
//!
//! A row's own `Bucket` is what tells an inventory row from a listed object
//! (a listing has none), so an `ItemSelector` names the bucket `bucket`.

use serde_json::Value;
use stratus_aws::{decode_event_key, S3Url};

use crate::target::{preview, Backfill, Target};

/// Items of a Distributed Map, or `None` when `payload` is none.
pub fn parse(payload: &Value) -> Option<Result<Vec<Target>, String>> {
    if let Some(items) = payload.get("Items") {
        let input = payload.get("BatchInput");
        let bucket = input
            .and_then(|i| i.get("bucket").or_else(|| i.get("Bucket")))
            .and_then(Value::as_str);
        return Some(match items.as_array() {
            Some(items) => Ok(items.iter().map(|item| item_target(item, bucket)).collect()),
            None => Err(format!(
                "the Distributed Map batch's Items are not a list: {}",
                preview(&items.to_string())
            )),
        });
    }
    payload
        .get("Key")
        .and_then(Value::as_str)
        .map(|_| Ok(vec![item_target(payload, None)]))
}

/// One item as a target; `batch_bucket` is the batch's `BatchInput.bucket`.
fn item_target(item: &Value, batch_bucket: Option<&str>) -> Target {
    let text = |name: &str| item.get(name).and_then(Value::as_str);
    let raw_key = text("Key").unwrap_or_default().to_string();
    let inventory_bucket = text("Bucket");
    let bucket = inventory_bucket
        .or_else(|| text("bucket"))
        .or(batch_bucket)
        .unwrap_or_default()
        .to_string();
    if raw_key.is_empty() || bucket.is_empty() {
        let key = if raw_key.is_empty() {
            preview(&item.to_string())
        } else {
            raw_key
        };
        return Target::Invalid {
            bucket,
            key,
            message: "the item has no Key, or no bucket (an inventory row's Bucket, \
                      the item's bucket or the batch's BatchInput.bucket)"
                .into(),
        };
    }
    let key = match inventory_bucket {
        Some(_) => match decode_event_key(&raw_key) {
            Ok(key) => key,
            Err(e) => {
                return Target::Invalid {
                    bucket,
                    key: raw_key,
                    message: e.to_string(),
                }
            }
        },
        None => raw_key,
    };
    // A number in a listing, text in an inventory.
    let size = match item.get("Size") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    // An inventory of all versions lists old versions and delete markers;
    // the Item describes the object as it is now.
    if text("IsDeleteMarker") == Some("true") || text("IsLatest") == Some("false") {
        return Target::Skip {
            bucket,
            key,
            reason: "an inventory row of a noncurrent version or a delete marker".into(),
        };
    }
    if key.ends_with('/') && size == Some(0) {
        return Target::Skip {
            bucket,
            key,
            reason: "a folder marker (an empty object whose key ends in /)".into(),
        };
    }
    let etag = text("Etag")
        .or_else(|| text("ETag"))
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    Target::Object {
        url: S3Url::new(bucket, key),
        size,
        event_time: None,
        backfill: Some(Backfill { etag }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(bucket: &str, key: &str, size: Option<u64>, etag: Option<&str>) -> Target {
        Target::Object {
            url: S3Url::new(bucket, key),
            size,
            event_time: None,
            backfill: Some(Backfill {
                etag: etag.map(str::to_string),
            }),
        }
    }

    #[test]
    fn listing_items_take_the_batch_bucket_and_keep_their_keys() {
        let batch = json!({"BatchInput": {"bucket": "in-b"}, "Items": [
            {"Etag": "\"0f343b0931126a20f133d67c2b018a3b\"", "Key": "a+b%41.tif",
             "LastModified": 1_700_000_000, "Size": 1024, "StorageClass": "STANDARD"},
            {"Etag": "\"d41d8cd98f00b204e9800998ecf8427e\"", "Key": "folder/", "Size": 0},
            {"Etag": "\"x\"", "Key": "other.tif", "Size": 3, "bucket": "elsewhere"},
            {"Size": 3},
        ]});
        let t = parse(&batch).unwrap().unwrap();
        assert_eq!(
            t[0],
            object(
                "in-b",
                "a+b%41.tif",
                Some(1024),
                Some("\"0f343b0931126a20f133d67c2b018a3b\"")
            )
        );
        assert!(matches!(&t[1], Target::Skip { reason, .. } if reason.contains("folder")));
        assert_eq!(
            t[2],
            object("elsewhere", "other.tif", Some(3), Some("\"x\""))
        );
        assert!(matches!(&t[3], Target::Invalid { .. }));
    }

    #[test]
    fn inventory_rows_are_decoded_and_old_versions_skipped() {
        let row = json!({"Bucket": "inv-b", "Key": "dir/a+b%2Bc%C3%A9.tif", "Size": "2048",
                         "ETag": "0f343b0931126a20f133d67c2b018a3b", "LastModifiedDate": "2024-01-01T00:00:00.000Z"});
        assert_eq!(
            parse(&row).unwrap().unwrap(),
            vec![object(
                "inv-b",
                "dir/a b+cé.tif",
                Some(2048),
                Some("0f343b0931126a20f133d67c2b018a3b")
            )]
        );
        let old = json!({"Items": [{"Bucket": "inv-b", "Key": "k.tif", "IsLatest": "false"},
                                   {"Bucket": "inv-b", "Key": "k.tif", "IsDeleteMarker": "true"},
                                   {"Bucket": "inv-b", "Key": "bad%zz"}]});
        let t = parse(&old).unwrap().unwrap();
        assert!(matches!(&t[0], Target::Skip { .. }));
        assert!(matches!(&t[1], Target::Skip { .. }));
        assert!(matches!(&t[2], Target::Invalid { .. }));
    }

    #[test]
    fn other_payloads_are_not_items() {
        assert!(parse(&json!({"url": "s3://b/k"})).is_none());
        assert!(parse(&json!({"Items": "x"})).unwrap().is_err());
    }
}
