//! The STAC Collection under concurrent writers, against moto's S3, whose
//! PutObject honours `If-Match` and `If-None-Match: *` (moto 5.2.5).
//!
//! moto checks a condition and then stores the object in two steps with no
//! lock between them, so two requests arriving together could both pass a
//! check. S3 makes the check and the write one step; so does the moto run
//! here, which takes one request at a time ([`Moto`]). The writers race each
//! other all the same: each reads, merges and writes in separate requests.
//! The same writers against a moto that ignores the conditions lose updates,
//! which shows the checks below can fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers panic on setup failure

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use gdal_lambda::collection::{self, NotUpdated, Update};
use gdal_lambda::{handle, Config, Deps, FailureKind, Status};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{free_port, python, s3_client};
use raster_info::samples::{self, Blank};
use serde_json::{json, Value};
use stratus_aws::objects::{self, Conditional, Precondition};
use stratus_aws::S3Url;

/// Whether the moto server honours conditional writes.
#[derive(Clone, Copy, PartialEq)]
enum Conditions {
    Honoured,
    /// `If-Match` and `If-None-Match` are taken off every request: plain PUTs.
    Ignored,
}

/// moto on a loopback port, one request at a time; it exits when this test
/// process ends (it watches its stdin, a pipe held here).
struct Moto {
    endpoint: String,
    _child: Child,
}

impl Moto {
    fn start(conditions: Conditions) -> Moto {
        let port = free_port();
        let strip = conditions == Conditions::Ignored;
        let script = format!(
            r#"
import os, sys, threading
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
import moto.server
serve = DomainDispatcherApplication.__call__
one_at_a_time = threading.Lock()
def call(self, environ, start_response):
    if {strip}:
        environ.pop("HTTP_IF_MATCH", None)
        environ.pop("HTTP_IF_NONE_MATCH", None)
    with one_at_a_time:
        return list(serve(self, environ, start_response))
DomainDispatcherApplication.__call__ = call
moto.server.main(["-H", "127.0.0.1", "-p", "{port}"])
"#,
            strip = if strip { "True" } else { "False" }
        );
        let child = Command::new(python())
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let endpoint = format!("http://127.0.0.1:{port}");
        let ready = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < ready, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            endpoint,
            _child: child,
        }
    }

    async fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.endpoint, None).await
    }

    async fn bucket(&self, name: &str) -> String {
        self.s3()
            .await
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap();
        name.to_string()
    }
}

/// The Items of the race: disjoint, 0.2° wide, 0.4° apart eastwards from
/// 120.3°E, so that the 150th crosses the antimeridian and the last ends
/// near 160°W; each an hour after the one before.
fn race_items(n: usize) -> Vec<Value> {
    let wrap = |lon: f64| if lon > 180.0 { lon - 360.0 } else { lon };
    (0..n)
        .map(|i| {
            let west = 120.3 + 0.4 * i as f64;
            let bbox = [
                wrap(west),
                -10.0 - (i % 7) as f64,
                wrap(west + 0.2),
                10.0 + (i % 5) as f64,
            ];
            let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::hours(473_352 + i as i64);
            let datetime = at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            json!({"type": "Feature", "id": format!("item-{i}"), "bbox": bbox,
                   "properties": {"datetime": datetime}})
        })
        .collect()
}

/// The longitude intervals of a bbox, split at the antimeridian.
fn intervals(bbox: &Value) -> Vec<[f64; 4]> {
    let b: Vec<f64> = bbox
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    if b[0] <= b[2] {
        vec![[b[0], b[1], b[2], b[3]]]
    } else {
        vec![[b[0], b[1], 180.0, b[3]], [-180.0, b[1], b[2], b[3]]]
    }
}

/// Whether `inner` lies within `outer` on the globe (either may cross the antimeridian).
fn within(inner: &Value, outer: &Value) -> bool {
    let outer = intervals(outer);
    intervals(inner).iter().all(|i| {
        outer
            .iter()
            .any(|o| o[0] <= i[0] && i[2] <= o[2] && o[1] <= i[1] && i[3] <= o[3])
    })
}

/// Items whose bbox the Collection's closer description (its bboxes after
/// the first) leaves out: lost updates.
fn lost(collection: &Value, items: &[Value]) -> Vec<String> {
    let spans: Vec<Value> = collection["extent"]["spatial"]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .cloned()
        .collect();
    items
        .iter()
        .filter(|item| {
            intervals(&item["bbox"])
                .iter()
                .any(|part| !spans.iter().any(|s| within(&json!(part), s)))
        })
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

/// What the writers of a race did.
struct Race {
    collection: Value,
    results: Vec<Result<Update, NotUpdated>>,
    elapsed: Duration,
}

/// `items.len()` writers at once, each with its own client (as separate
/// invocations have), widening the Collection at `url` with its Item, each
/// by `within` from now.
async fn run_race(moto: &Moto, url: &S3Url, items: &[Value], within: Duration) -> Race {
    let mut clients = Vec::new();
    for _ in items {
        clients.push(moto.s3().await);
    }
    let start = tokio::sync::Barrier::new(items.len());
    let start = std::sync::Arc::new(start);
    let began = Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    let tasks: Vec<_> = items
        .iter()
        .cloned()
        .zip(clients)
        .map(|(item, s3)| {
            let (url, start) = (url.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                collection::include(&s3, &url, "rasters", &item, deadline).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let elapsed = began.elapsed();
    let collection = objects::get_json(&moto.s3().await, url).await.unwrap();
    Race {
        collection,
        results,
        elapsed,
    }
}

fn attempts(results: &[Result<Update, NotUpdated>]) -> Vec<u32> {
    let mut a: Vec<u32> = results
        .iter()
        .filter_map(|r| match r {
            Ok(Update::Written { attempt }) => Some(*attempt),
            _ => None,
        })
        .collect();
    a.sort_unstable();
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_writers_lose_no_update() {
    let moto = Moto::start(Conditions::Honoured);
    let bucket = moto.bucket("race-honoured").await;
    let url = collection::url_in(&S3Url::new(&bucket, "stac/"));
    let items = race_items(200);
    let race = run_race(&moto, &url, &items, Duration::from_secs(240)).await;

    for r in &race.results {
        assert!(matches!(r, Ok(Update::Written { .. })), "{r:?}");
    }
    assert_eq!(lost(&race.collection, &items), Vec::<String>::new());
    // The extent, worked out here: the first Item's west to the last one's
    // east, across the antimeridian (the widest gap is east of the last).
    let south = items
        .iter()
        .map(|t| t["bbox"][1].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let north = items
        .iter()
        .map(|t| t["bbox"][3].as_f64().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    let overall = json!([items[0]["bbox"][0], south, items[199]["bbox"][2], north]);
    let bboxes = race.collection["extent"]["spatial"]["bbox"]
        .as_array()
        .unwrap();
    assert_eq!(bboxes[0], overall);
    assert!(
        bboxes[0][0].as_f64() > bboxes[0][2].as_f64(),
        "crosses the antimeridian"
    );
    // One closer bbox per Item, and two for the one across the antimeridian.
    let mut expected: Vec<[f64; 4]> = items.iter().flat_map(|i| intervals(&i["bbox"])).collect();
    expected.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let got: Vec<Value> = bboxes[1..].to_vec();
    assert_eq!(got, expected.iter().map(|b| json!(b)).collect::<Vec<_>>());
    assert_eq!(
        race.collection["extent"]["temporal"]["interval"],
        json!([[
            items[0]["properties"]["datetime"],
            items[199]["properties"]["datetime"]
        ]])
    );
    samples::assert_valid_stac(&race.collection);

    let a = attempts(&race.results);
    eprintln!(
        "200 writers, conditions honoured: all written in {:.1} s; attempts per writer median {}, p90 {}, max {}, total {}",
        race.elapsed.as_secs_f64(),
        a[a.len() / 2],
        a[a.len() * 9 / 10],
        a[a.len() - 1],
        a.iter().sum::<u32>()
    );

    // The same Items again (Lambda's retries, a re-run): covered, nothing written.
    let again = run_race(&moto, &url, &items, Duration::from_secs(240)).await;
    for r in &again.results {
        assert!(matches!(r, Ok(Update::Covered)), "{r:?}");
    }
    assert_eq!(again.collection, race.collection);
    eprintln!(
        "200 writers of Items already covered: all done in {:.1} s, none written",
        again.elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_the_conditions_the_same_writers_lose_updates() {
    let moto = Moto::start(Conditions::Ignored);
    let bucket = moto.bucket("race-ignored").await;
    let url = collection::url_in(&S3Url::new(&bucket, "stac/"));
    let items = race_items(200);
    let race = run_race(&moto, &url, &items, Duration::from_secs(240)).await;
    let lost = lost(&race.collection, &items);
    eprintln!(
        "200 writers, conditions ignored: {} of 200 Items missing from the Collection",
        lost.len()
    );
    assert!(
        !lost.is_empty(),
        "plain PUTs lost nothing: the race did not race"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_writes_refuse_stale_and_existing_objects() {
    let moto = Moto::start(Conditions::Honoured);
    let s3 = moto.s3().await;
    let bucket = moto.bucket("conditional").await;
    let url = S3Url::new(&bucket, "c.json");
    assert!(objects::get_json_with_etag::<Value>(&s3, &url)
        .await
        .unwrap()
        .is_none());
    let put = |value: Value, p: Precondition<'static>| {
        let (s3, url) = (s3.clone(), url.clone());
        async move { objects::put_json_if(&s3, &url, &value, p).await.unwrap() }
    };
    assert_eq!(
        put(json!(1), Precondition::Absent).await,
        Conditional::Written
    );
    assert_eq!(
        put(json!(2), Precondition::Absent).await,
        Conditional::Conflict
    );
    let (v, etag) = objects::get_json_with_etag::<Value>(&s3, &url)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v, json!(1));
    let etag: &'static str = Box::leak(etag.into_boxed_str());
    assert_eq!(
        put(json!(3), Precondition::ETag(etag)).await,
        Conditional::Written
    );
    // The ETag read before that write is stale now.
    assert_eq!(
        put(json!(4), Precondition::ETag(etag)).await,
        Conditional::Conflict
    );
    // An If-Match on an object deleted since it was read is a conflict too.
    s3.delete_object()
        .bucket(&bucket)
        .key("c.json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        put(json!(5), Precondition::ETag(etag)).await,
        Conditional::Conflict
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collection_that_is_not_ours_fails_the_update() {
    let moto = Moto::start(Conditions::Honoured);
    let s3 = moto.s3().await;
    let bucket = moto.bucket("not-ours").await;
    let url = collection::url_in(&S3Url::new(&bucket, ""));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let item = &race_items(1)[0];
    objects::put_json(&s3, &url, &json!({"type": "Catalog", "id": "x"}))
        .await
        .unwrap();
    let e = collection::include(&s3, &url, "rasters", item, deadline).await;
    assert!(matches!(e, Err(NotUpdated::NotOurs { .. })), "{e:?}");
    let theirs = S3Url::new(&bucket, "b.json");
    let first = collection::include(&s3, &theirs, "other", item, deadline).await;
    assert!(matches!(first, Ok(Update::Written { attempt: 1 })));
    let wrong_id = collection::include(&s3, &theirs, "rasters", item, deadline).await;
    assert!(matches!(wrong_id, Err(NotUpdated::NotOurs { .. })));
    // Covered already: read, nothing written.
    let again = collection::include(&s3, &theirs, "other", item, deadline).await;
    assert!(matches!(again, Ok(Update::Covered)));
}

/// Uploads of GeoTIFFs in WGS 84, each over its own 2°×2° cell in 10°E–40°E
/// and with its own date, processed by concurrent invocations of the
/// handler: every Item names the Collection, whose extent is the union of
/// the Items' bboxes and datetimes as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_from_concurrent_invocations_make_up_the_collection() {
    const PER_INVOCATION: usize = 8;
    const INVOCATIONS: usize = 3;
    let moto = Moto::start(Conditions::Honoured);
    let s3 = moto.s3().await;
    let bucket = moto.bucket("uploads").await;
    let out = moto.bucket("stac-out").await;
    let dir = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    for n in 0..INVOCATIONS {
        let mut records = Vec::new();
        for k in 0..PER_INVOCATION {
            let i = n * PER_INVOCATION + k;
            let (west, north) = (10.0 + 2.5 * (i % 12) as f64, 50.0 - 3.0 * (i / 12) as f64);
            let path = dir.path().join(format!("r{i}.tif"));
            let date = format!(
                "TIFFTAG_DATETIME=2024:{:02}:{:02} 10:00:00",
                1 + i % 12,
                1 + i
            );
            Blank {
                size: [32, 32],
                data_type: "Byte",
                burn: &[1],
                srs: Some("EPSG:4326"),
                ullr: Some([west, north, west + 2.0, north - 2.0]),
                extra: &["-mo", &date],
            }
            .create(&path);
            let body = std::fs::read(&path).unwrap();
            let key = format!("tiles/r{i}.tif");
            records.push((key.clone(), body.len() as u64));
            s3.put_object()
                .bucket(&bucket)
                .key(&key)
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
        }
        events.push(records);
    }
    // A source whose Item would take the Collection's key.
    s3.put_object()
        .bucket(&bucket)
        .key("collection")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    events[0].push(("collection".into(), 1));

    let config = Config::from_lookup(|k| match k {
        "OUTPUT_URL" => Some(format!("s3://{out}/")),
        "COLLECTION_ID" => Some("rasters".into()),
        "MAX_CONCURRENCY" => Some(PER_INVOCATION.to_string()),
        _ => None,
    })
    .unwrap();
    let deps = Deps::new(config, s3.clone(), common::function_binary());
    let invocations = events.iter().map(|records| {
        let records: Vec<(&str, &str, u64)> = records
            .iter()
            .map(|(k, size)| ("ObjectCreated:Put", k.as_str(), *size))
            .collect();
        let event = common::s3_event(&bucket, &records);
        handle(LambdaEvent::new(event, Context::default()), &deps)
    });
    let responses = futures::future::join_all(invocations).await;
    let outcomes: Vec<_> = responses
        .into_iter()
        .flat_map(|r| r.unwrap().records)
        .collect();
    let clash = outcomes.iter().find(|o| o.key == "collection").unwrap();
    assert_eq!(clash.status, Status::Failed);
    assert_eq!(clash.error_kind, Some(FailureKind::ItemIsCollection));

    let collection_url = S3Url::new(&out, "collection.json");
    let mut items = Vec::new();
    for o in outcomes.iter().filter(|o| o.key != "collection") {
        assert_eq!(o.status, Status::Processed, "{o:?}");
        let item: Value =
            objects::get_json(&s3, &S3Url::parse(o.item_url.as_deref().unwrap()).unwrap())
                .await
                .unwrap();
        assert_eq!(item["collection"], "rasters");
        for rel in ["collection", "parent"] {
            let link = item["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == rel)
                .unwrap();
            assert_eq!(link["href"], collection_url.to_string());
        }
        items.push(item);
    }
    assert_eq!(items.len(), INVOCATIONS * PER_INVOCATION);
    let collection: Value = objects::get_json(&s3, &collection_url).await.unwrap();
    assert_eq!(collection["id"], "rasters");
    // The union, worked out here from the Items as written (all in one hemisphere).
    let edge = |k: usize, min: bool| {
        let values = items.iter().map(|i| i["bbox"][k].as_f64().unwrap());
        if min {
            values.fold(f64::INFINITY, f64::min)
        } else {
            values.fold(f64::NEG_INFINITY, f64::max)
        }
    };
    let overall = json!([edge(0, true), edge(1, true), edge(2, false), edge(3, false)]);
    assert_eq!(collection["extent"]["spatial"]["bbox"][0], overall);
    let utc = |t: &Value| {
        let t = time::OffsetDateTime::parse(
            t.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        );
        t.unwrap().to_offset(time::UtcOffset::UTC)
    };
    let times: Vec<_> = items
        .iter()
        .map(|i| utc(&i["properties"]["datetime"]))
        .collect();
    let interval = &collection["extent"]["temporal"]["interval"][0];
    assert_eq!(utc(&interval[0]), *times.iter().min().unwrap());
    assert_eq!(utc(&interval[1]), *times.iter().max().unwrap());
    let mut all = items.clone();
    all.push(collection);
    samples::assert_valid_stac_items(&all);
}

/// A record whose Item was written but whose Collection update failed is
/// retried: an S3 event is processed again; a backfill's re-run finds the
/// Item current and reads it back to cover it.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_update_is_retried_and_a_backfill_rerun_covers_the_item() {
    let moto = Moto::start(Conditions::Honoured);
    let s3 = moto.s3().await;
    let bucket = moto.bucket("rerun").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.tif");
    Blank {
        size: [16, 16],
        data_type: "Byte",
        burn: &[1],
        srs: Some("EPSG:4326"),
        ullr: Some([-70.0, -30.0, -68.0, -32.0]),
        extra: &[],
    }
    .create(&path);
    let body = std::fs::read(&path).unwrap();
    let size = body.len() as u64;
    s3.put_object()
        .bucket(&bucket)
        .key("in/r.tif")
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
    let collection_url = S3Url::new(&bucket, "stac/collection.json");
    // Something that is not the Collection is in its place.
    objects::put_json(
        &s3,
        &collection_url,
        &json!({"type": "Catalog", "id": "rasters"}),
    )
    .await
    .unwrap();
    let config = Config::from_lookup(|k| match k {
        "OUTPUT_URL" => Some(format!("s3://{bucket}/stac/")),
        "COLLECTION_ID" => Some("rasters".into()),
        _ => None,
    })
    .unwrap();
    let deps = Deps::new(config, s3.clone(), common::function_binary());
    let invoke = |payload: Value| handle(LambdaEvent::new(payload, Context::default()), &deps);

    let event = common::s3_event(&bucket, &[("ObjectCreated:Put", "in/r.tif", size)]);
    let e = invoke(event).await.unwrap_err().to_string();
    assert!(e.contains("does not cover it"), "{e}");
    let item_url = S3Url::new(&bucket, "stac/in/r.tif.json");
    let item: Value = objects::get_json(&s3, &item_url).await.unwrap();
    assert_eq!(item["collection"], "rasters");

    // Fixed; a Distributed Map re-run lists the object with its ETag.
    s3.delete_object()
        .bucket(&bucket)
        .key("stac/collection.json")
        .send()
        .await
        .unwrap();
    let etag = objects::head(&s3, &S3Url::new(&bucket, "in/r.tif"))
        .await
        .unwrap()
        .etag
        .unwrap();
    let batch = json!({"BatchInput": {"bucket": bucket}, "Items": [
        {"Etag": etag, "Key": "in/r.tif", "Size": size, "StorageClass": "STANDARD"}]});
    let resp = invoke(batch).await.unwrap();
    assert_eq!(
        resp.records[0].status,
        Status::Unchanged,
        "{:?}",
        resp.records[0]
    );
    let collection: Value = objects::get_json(&s3, &collection_url).await.unwrap();
    assert_eq!(
        collection["extent"]["spatial"]["bbox"],
        json!([item["bbox"]])
    );
    assert_eq!(
        collection["extent"]["temporal"]["interval"][0][0],
        collection["extent"]["temporal"]["interval"][0][1]
    );
}

/// Writers that keep losing give up at their deadline, saying so, and no
/// writer says it wrote what the Collection lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_that_keep_losing_give_up_at_the_deadline() {
    let moto = Moto::start(Conditions::Honoured);
    let bucket = moto.bucket("deadline").await;
    let url = collection::url_in(&S3Url::new(&bucket, "stac/"));
    let items = race_items(60);
    let race = run_race(&moto, &url, &items, Duration::from_millis(300)).await;
    let gave_up = race
        .results
        .iter()
        .filter(|r| matches!(r, Err(NotUpdated::Contended { .. })))
        .count();
    let written: Vec<Value> = items
        .iter()
        .zip(&race.results)
        .filter(|(_, r)| matches!(r, Ok(Update::Written { .. })))
        .map(|(i, _)| i.clone())
        .collect();
    eprintln!(
        "60 writers with 300 ms each: {} written, {gave_up} gave up",
        written.len()
    );
    assert!(gave_up > 0, "nobody lost a race in 300 ms");
    assert_eq!(written.len() + gave_up, items.len());
    assert!(race.elapsed < Duration::from_secs(10), "{:?}", race.elapsed);
    assert_eq!(lost(&race.collection, &written), Vec::<String>::new());
}
