//! Re-runs that cost requests, not work. Every Item is written with two
//! pieces of S3 user metadata, which a HEAD of the Item reads without its
//! body: the ETag of the object version it describes (`source-etag`) and
//! what wrote it (`stratus-writer`, this crate and its version). A backfill
//! record whose Item has both current is left alone: one HEAD of the Item,
//! and one of the object when the engine did not list its ETag.

use stratus_aws::{objects, S3Url};

/// The Item's metadata naming the ETag of the object it describes.
pub const SOURCE_ETAG: &str = "source-etag";
/// The Item's metadata naming what wrote it: another writer's Item is rewritten.
pub const WRITER: &str = "stratus-writer";

/// What writes Items here.
pub fn writer() -> String {
    format!("gdal-lambda/{}", env!("CARGO_PKG_VERSION"))
}

/// The metadata an Item of the object version `etag` is written with.
pub fn item_metadata(etag: &str) -> [(&'static str, String); 2] {
    [(SOURCE_ETAG, bare(etag).to_string()), (WRITER, writer())]
}

/// An ETag without its quotes: listings, inventories and HEADs spell it
/// differently (`"abc"`, `abc`), and weak tags never describe S3 objects.
fn bare(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// Whether the Item at `item_url` already describes the current version of
/// `url` (whose ETag a listing gave as `listed_etag`) and was written by
/// this writer, and, when Items are published, carries `mark` (the
/// destinations it was published to: [`crate::publish`]). Any doubt (no
/// Item, no metadata, a failed HEAD) is a no: the record is then processed
/// as any other, which is always correct.
pub async fn is_current(
    s3: &aws_sdk_s3::Client,
    url: &S3Url,
    item_url: &S3Url,
    listed_etag: Option<&str>,
    mark: Option<(&str, &str)>,
) -> bool {
    let item = match objects::head(s3, item_url).await {
        Ok(head) => head,
        Err(e) => {
            // NotFound for a first run; AccessDenied when the role may not read Items.
            tracing::debug!(%item_url, "no Item to compare: {e}");
            return false;
        }
    };
    let (Some(recorded), Some(written_by)) =
        (item.metadata.get(SOURCE_ETAG), item.metadata.get(WRITER))
    else {
        return false;
    };
    if *written_by != writer() {
        return false;
    }
    // Written, but its message may never have left.
    if let Some((name, value)) = mark {
        if item.metadata.get(name).map(String::as_str) != Some(value) {
            return false;
        }
    }
    let current = match listed_etag {
        Some(etag) => etag.to_string(),
        None => match objects::head(s3, url).await {
            Ok(head) => match head.etag {
                Some(etag) => etag,
                None => return false,
            },
            Err(_) => return false,
        },
    };
    bare(&current) == bare(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_without_quotes() {
        assert_eq!(bare("\"abc-2\""), "abc-2");
        assert_eq!(bare("abc"), "abc");
        let [(k1, v1), (k2, v2)] = item_metadata("\"0f34\"");
        assert_eq!((k1, v1.as_str()), (SOURCE_ETAG, "0f34"));
        assert_eq!(k2, WRITER);
        assert!(v2.starts_with("gdal-lambda/"));
    }
}
