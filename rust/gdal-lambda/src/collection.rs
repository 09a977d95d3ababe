//! The STAC Collection gdal-lambda keeps current when `COLLECTION_ID` is
//! set: `collection.json` under the output location, whose extent covers
//! every Item written there, and which every Item names (`collection`, links
//! `collection` and `parent`).
//!
//! Any number of invocations update it at once, so an update is a
//! read-modify-write made safe by S3's conditional writes: read the
//! Collection and its ETag, take the union of its extent and the Item's
//! ([`extent`]), and write it back only if it is still the version read
//! (`If-Match`), or only if there still is none (`If-None-Match: *`). A
//! writer that lost the race reads again, after a jittered backoff, until
//! the record's deadline. The union is idempotent, so a record tried again
//! (by Lambda, after any failure or doubt) cannot spoil the extent.

mod extent;

use std::time::Duration;

use serde_json::{json, Value};
use stratus_aws::objects::{self, Conditional, Precondition};
use stratus_aws::S3Url;
use tokio::time::Instant;

use extent::Extent;

/// The Collection's key under an output location.
const FILE_NAME: &str = "collection.json";

/// Set on a Collection created before any Item had a bbox: its bbox (the
/// whole globe, as STAC requires one) says nothing yet, and the first Item
/// with a bbox replaces it.
const NO_BBOX_YET: &str = "stratus:no_bbox_yet";

/// The first backoff after a lost race, and the most any backoff may be:
/// "full jitter", a random wait up to `FIRST_BACKOFF * 2^(attempt - 1)`.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Where the Collection of the output location `output` lives.
pub fn url_in(output: &S3Url) -> S3Url {
    output.with_key(format!("{}{FILE_NAME}", output.key))
}

/// Make `item` a member of the Collection `id` at `url`: its `collection`
/// field and the `collection` and `parent` links STAC asks for with it.
pub fn link_item(item: &mut Value, id: &str, url: &S3Url) {
    let Some(fields) = item.as_object_mut() else {
        return;
    };
    fields.insert("collection".into(), json!(id));
    let links = fields.entry("links").or_insert_with(|| json!([]));
    if let Some(links) = links.as_array_mut() {
        links.retain(|l| !matches!(l["rel"].as_str(), Some("collection" | "parent")));
        for rel in ["collection", "parent"] {
            links.push(json!({"rel": rel, "href": url.to_string(), "type": "application/json"}));
        }
    }
}

/// How an update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// The Collection already covered the Item: nothing written.
    Covered,
    /// The Collection was written (created, or its extent widened), at the
    /// `attempt`th read-modify-write (the ones before lost a race).
    Written {
        /// 1 when no other writer came in between.
        attempt: u32,
    },
}

/// Why the Collection could not be updated; the record is tried again.
#[derive(Debug, thiserror::Error)]
pub enum NotUpdated {
    /// Other writers kept winning until the deadline.
    #[error(
        "{url} was changed by other writers at each of {attempts} attempts until the deadline"
    )]
    Contended {
        /// The Collection.
        url: S3Url,
        /// Read-modify-writes tried.
        attempts: u32,
    },
    /// S3 failed or refused (after the SDK's own retries).
    #[error("{0}")]
    S3(#[from] stratus_aws::Error),
    /// The object there is not the Collection this function keeps.
    #[error("{url} is not the STAC Collection {id:?}: {why}")]
    NotOurs {
        /// The object.
        url: S3Url,
        /// The configured id.
        id: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Widen the Collection `id` at `url` to cover `item`, creating it when
/// there is none, by `deadline`.
pub async fn include(
    s3: &aws_sdk_s3::Client,
    url: &S3Url,
    id: &str,
    item: &Value,
    deadline: Instant,
) -> Result<Update, NotUpdated> {
    let added = Extent::of_item(item);
    let mut attempt = 1;
    loop {
        let current = objects::get_json_with_etag::<Value>(s3, url).await?;
        let (old, etag) = match current {
            Some((doc, etag)) => (doc, Some(etag)),
            None => (new_collection(id, url), None),
        };
        let new = widened(&old, &added).map_err(|why| NotUpdated::NotOurs {
            url: url.clone(),
            id: id.into(),
            why,
        })?;
        if old.get("id").and_then(Value::as_str) != Some(id) {
            let why = format!("its id is {}", old["id"]);
            return Err(NotUpdated::NotOurs {
                url: url.clone(),
                id: id.into(),
                why,
            });
        }
        if etag.is_some() && new == old {
            return Ok(Update::Covered);
        }
        let precondition = etag
            .as_deref()
            .map_or(Precondition::Absent, Precondition::ETag);
        match objects::put_json_if(s3, url, &new, precondition).await? {
            Conditional::Written => return Ok(Update::Written { attempt }),
            Conditional::Conflict => {}
        }
        let wait = backoff(attempt);
        if Instant::now() + wait >= deadline {
            return Err(NotUpdated::Contended {
                url: url.clone(),
                attempts: attempt,
            });
        }
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// A random wait before the attempt after `attempt`: spread out, writers
/// that collided do not collide again.
fn backoff(attempt: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(unit_random())
}

/// A number in [0, 1), different at each call and in each process: std's
/// hasher keys are seeded from the OS and change with every `RandomState`.
/// Enough to spread retries, without a random number crate.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `doc` with its extent widened to cover `added`; every other field kept
/// (a Collection written first by hand keeps its title, license, providers).
fn widened(doc: &Value, added: &Extent) -> Result<Value, String> {
    if doc.get("type").and_then(Value::as_str) != Some("Collection") {
        return Err("its type is not \"Collection\"".into());
    }
    let spatial_known = doc.get(NO_BBOX_YET).is_none();
    let extent = doc.get("extent").unwrap_or(&Value::Null);
    let union = Extent::of_collection(extent, spatial_known).union(added);
    let mut new = doc.clone();
    if let Some(fields) = new.as_object_mut() {
        fields.insert("extent".into(), union.to_json());
        if union.has_spatial() {
            fields.remove(NO_BBOX_YET);
        } else {
            fields.insert(NO_BBOX_YET.into(), json!(true));
        }
    }
    Ok(new)
}

/// A Collection with no Item yet; [`widened`] gives it its extent.
fn new_collection(id: &str, url: &S3Url) -> Value {
    let link = |rel: &str| json!({"rel": rel, "href": url.to_string(), "type": "application/json"});
    json!({
        "type": "Collection",
        "stac_version": raster_info::stac::STAC_VERSION,
        "stac_extensions": [],
        "id": id,
        "description": "Rasters described by Stratus gdal-lambda: the extent covers every Item written under this location.",
        "license": "other",
        "extent": {},
        "links": [link("self"), link("root")],
        NO_BBOX_YET: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_link_to_their_collection_once() {
        let url = url_in(&S3Url::new("out", "stac/"));
        assert_eq!(url, S3Url::new("out", "stac/collection.json"));
        let mut item = json!({"type": "Feature", "links": []});
        link_item(&mut item, "rasters", &url);
        link_item(&mut item, "rasters", &url);
        assert_eq!(item["collection"], "rasters");
        let rels: Vec<&str> = item["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].as_str().unwrap())
            .collect();
        assert_eq!(rels, ["collection", "parent"]);
        assert_eq!(item["links"][0]["href"], "s3://out/stac/collection.json");
    }

    #[test]
    fn a_new_collection_takes_the_first_bbox_and_keeps_other_fields() {
        let url = S3Url::new("out", "collection.json");
        let no_bbox = Extent::of_item(&json!({"properties": {"datetime": "2024-01-01T00:00:00Z"}}));
        let doc = widened(&new_collection("c", &url), &no_bbox).unwrap();
        assert_eq!(doc[NO_BBOX_YET], true);
        assert_eq!(
            doc["extent"]["spatial"]["bbox"],
            json!([[-180.0, -90.0, 180.0, 90.0]])
        );
        let mut doc = doc;
        doc["title"] = json!("Mine");
        let item = json!({"bbox": [1.0, 2.0, 3.0, 4.0], "properties": {"datetime": "2024-02-01T00:00:00Z"}});
        let doc = widened(&doc, &Extent::of_item(&item)).unwrap();
        assert!(doc.get(NO_BBOX_YET).is_none());
        assert_eq!(doc["title"], "Mine");
        assert_eq!(
            doc["extent"]["spatial"]["bbox"],
            json!([[1.0, 2.0, 3.0, 4.0]])
        );
        assert_eq!(
            doc["extent"]["temporal"]["interval"],
            json!([["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"]])
        );
        assert!(widened(&json!({"type": "Feature"}), &no_bbox).is_err());
    }

    #[test]
    fn unit_randoms_spread() {
        let draws: Vec<f64> = (0..1000).map(|_| unit_random()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let low = draws.iter().filter(|x| **x < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below 0.5");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..40 {
            let ceiling = FIRST_BACKOFF * 2u32.pow((attempt - 1).min(16));
            assert!(backoff(attempt) <= ceiling.min(MAX_BACKOFF));
        }
    }
}
