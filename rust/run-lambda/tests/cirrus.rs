//! run-lambda as a Cirrus Batch task, judged by Cirrus' own released code.
//!
//! Two Python functions built on the released packages (one on stac-task's
//! `Task`, one on cirrus-geo's payload helpers) are created in moto and run by
//! `run-lambda run FUNCTION URL` on payloads that cirrus-geo's pre-batch put
//! in S3. What the job printed goes into `/aws/batch/job`, and cirrus-geo's
//! post-batch and update-state functions (`tests/cirrus/cirrus_side.py`)
//! decide what it means: the exception post-batch raises and the state
//! update-state records (SUCCEEDED, INVALID or FAILED).
//!
//! Each pinned cirrus-geo version has its Python (3.12) environment under
//! `.venvs/`, made by `just setup` from `tests/cirrus/requirements-*.txt`.

// Setup helpers in this test crate panic on failure, like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use aws_sdk_lambda::types::Runtime as LambdaRuntime;
use common::*;
use local_aws::LocalAws;
use serde_json::{json, Value};

const CIRRUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cirrus");

/// One pinned cirrus-geo version, its functions in moto and its Cirrus resources.
struct Cirrus {
    python: PathBuf,
    env: Vec<(String, String)>,
    geo_task: String,
    payload_task: String,
    code_bucket: String,
}

impl Cirrus {
    fn new(version: &str) -> Cirrus {
        let rt = rt();
        let aws = LocalAws::shared();
        let code_bucket = rt.block_on(aws.new_bucket("cirrus-code"));
        let tag = code_bucket.trim_start_matches("cirrus-code-").to_string();
        let mut env = aws.env();
        env.push((
            "CIRRUS_PAYLOAD_BUCKET".into(),
            format!("cirrus-payloads-{tag}"),
        ));
        env.push(("CIRRUS_STATE_DB".into(), format!("cirrus-state-{tag}")));
        let function = |module: &str| {
            let source = std::fs::read(format!("{CIRRUS}/{module}.py")).unwrap();
            let zip = zip_of(&[(&format!("{module}.py"), &source, 0o644)]);
            let name = format!("{}-{tag}", module.replace('_', "-"));
            rt.block_on(create_function(NewFunction {
                name: &name,
                runtime: LambdaRuntime::Python312,
                handler: &format!("{module}.handler"),
                zip: &zip,
                env: &[],
                layers: &[],
            }));
            rt.block_on(put(&code_bucket, &format!("{name}.zip"), zip));
            name
        };
        Cirrus {
            python: local_aws::cirrus_geo_python(version),
            env,
            geo_task: function("geo_task"),
            payload_task: function("payload_task"),
            code_bucket,
        }
    }

    /// `cirrus_side.py COMMAND` with `input` on stdin; its JSON answer.
    fn cirrus(&self, command: &str, input: &Value) -> Value {
        let mut child = Command::new(&self.python)
            .args([format!("{CIRRUS}/cirrus_side.py"), command.to_string()])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        serde_json::to_writer(child.stdin.take().unwrap(), input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "cirrus_side.py {command} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// pre-batch, the Batch job's command (`run FUNCTION URL`, stdout and
    /// stderr in one stream as the awslogs driver gets them), then post-batch
    /// and update-state.
    fn batch_task(&self, function: &str, payload: Value, extra: &[&str]) -> Outcome {
        self.batch_task_as(function, payload, extra, false)
    }

    /// [`Cirrus::batch_task`], the job described to post-batch as a
    /// multi-container job's when `multi_container` (a container-image
    /// function's: run-lambda serving the function's image).
    fn batch_task_as(
        &self,
        function: &str,
        payload: Value,
        extra: &[&str],
        multi_container: bool,
    ) -> Outcome {
        let urls = self.cirrus("pre-batch", &json!({ "payload": payload }));
        let url = urls["url"].as_str().unwrap();
        let code = format!("s3://{}/{function}.zip", self.code_bucket);
        let out = Command::new("sh")
            .args(["-c", r#"exec "$0" "$@" 2>&1"#, bin(), "run", function, url])
            .args(["--code", &code])
            .args(extra)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("STRATUS_PYTHON", &self.python)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        let exit_code = out.status.code().unwrap_or(-1);
        let decided = self.cirrus(
            "post-batch",
            &json!({
                "payload": payload,
                "url": url,
                "url_out": urls["url_out"],
                "function": function,
                "exit_code": exit_code,
                "log": log,
                "multi_container": multi_container,
            }),
        );
        Outcome {
            exit_code,
            log,
            decided,
        }
    }
}

struct Outcome {
    exit_code: i32,
    log: String,
    decided: Value,
}

impl Outcome {
    /// The job failed with `exit_code`, post-batch raised `error_type`, and update-state recorded `state`.
    fn assert_failed(&self, exit_code: i32, error_type: &str, state: &str) {
        let post = &self.decided["post_batch"];
        assert_eq!(
            (
                self.exit_code,
                post["error_type"].as_str(),
                self.decided["state"].as_str()
            ),
            (exit_code, Some(error_type), Some(state)),
            "{}\n--- the job's log\n{}",
            self.decided,
            self.log
        );
    }
}

fn scene_payload(parameters: Value, features: Value) -> Value {
    json!({
        "type": "FeatureCollection",
        "id": "sentinel-2-l2a/workflow-geo/S2B_10TFK_20210713_0_L2A",
        "features": features,
        "process": [{
            "workflow": "geo",
            "upload_options": {"path_template": "/${collection}/${id}"},
            "tasks": {"geo-task": parameters},
        }],
    })
}

fn scene() -> Value {
    json!([{
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "S2B_10TFK_20210713_0_L2A",
        "collection": "sentinel-2-l2a",
        "geometry": {"type": "Point", "coordinates": [-121.5, 39.8]},
        "bbox": [-121.5, 39.8, -121.5, 39.8],
        "properties": {"datetime": "2021-07-13T19:03:24Z"},
        "assets": {"data": {"href": "s3://sentinel-cogs/S2B_10TFK_20210713_0_L2A/B02.tif"}},
        "links": [],
    }])
}

/// `succeeded`: the state a successful run gets (`COMPLETED` before cirrus-geo 2).
fn cirrus_judges_run_lambda(version: &str, succeeded: &str) {
    let c = Cirrus::new(version);

    // A stac-task Task: success, then post-batch hands on the job's output.
    let ok = c.batch_task(&c.geo_task, scene_payload(json!({}), scene()), &[]);
    assert_eq!(ok.exit_code, 0, "{}", ok.log);
    let out = &ok.decided["post_batch"]["payload"];
    assert_eq!(out["features"][0]["properties"]["geo-task:processed"], true);
    assert_eq!(ok.decided["state"], succeeded);

    // stac-task's InvalidInput: INVALID, the message kept.
    let invalid = c.batch_task(&c.geo_task, scene_payload(json!({}), json!([])), &[]);
    invalid.assert_failed(3, "stactask.exceptions.InvalidInput", "INVALID");
    assert_eq!(
        invalid.decided["last_error"],
        "stactask.exceptions.InvalidInput: the payload has no features"
    );

    // The same run as a multi-container job's (a container-image function's): Batch lists the
    // attempt's containers with their log streams under TaskProperties, and post-batch reads the
    // attempt's Container only: it finds no last line, raises its own Exception, and the payload
    // is FAILED, not INVALID (docs/run-lambda.md#container-image-functions).
    let multi = c.batch_task_as(&c.geo_task, scene_payload(json!({}), json!([])), &[], true);
    multi.assert_failed(3, "Exception", "FAILED");
    assert_eq!(
        multi.decided["post_batch"]["message"],
        "Unable to get error log: Container for last Attempt is missing"
    );

    // Another exception of the task's own: FAILED.
    let corrupt = json!({"mode": "corrupt"});
    let failed = c.batch_task(&c.geo_task, scene_payload(corrupt, scene()), &[]);
    failed.assert_failed(3, "geo_task.SceneCorrupt", "FAILED");

    // The runner's timeout: FAILED.
    let sleep = json!({"mode": "sleep", "secs": 60});
    let timeout = c.batch_task(
        &c.geo_task,
        scene_payload(sleep, scene()),
        &["--timeout", "2"],
    );
    timeout.assert_failed(6, "Sandbox.Timedout", "FAILED");

    // cirrus-geo's payload helpers: success, and an Item the task cannot use.
    let payload_ok = c.batch_task(&c.payload_task, scene_payload(json!({}), scene()), &[]);
    assert_eq!(payload_ok.exit_code, 0, "{}", payload_ok.log);
    assert_eq!(payload_ok.decided["state"], succeeded);
    let out = &payload_ok.decided["post_batch"]["payload"];
    assert_eq!(
        out["features"][0]["properties"]["payload-task:checked"],
        true
    );

    let mut no_data = scene();
    no_data[0]["assets"] = json!({});
    let invalid = c.batch_task(&c.payload_task, scene_payload(json!({}), no_data), &[]);
    invalid.assert_failed(3, "stactask.exceptions.InvalidInput", "INVALID");

    // An Item without properties passes Cirrus' validation; the function's
    // own KeyError is bare, as Python prints it: FAILED.
    let mut bare = scene();
    bare[0].as_object_mut().unwrap().remove("properties");
    let failed = c.batch_task(&c.payload_task, scene_payload(json!({}), bare), &[]);
    failed.assert_failed(3, "KeyError", "FAILED");
}

#[test]
fn cirrus_geo_2_0_0_judges_run_lambda() {
    cirrus_judges_run_lambda("2.0.0", "SUCCEEDED");
}

#[test]
fn cirrus_geo_1_3_2_judges_run_lambda() {
    cirrus_judges_run_lambda("1.3.2", "COMPLETED");
}
