//! `run-lambda submit` against moto Batch: the payload is uploaded, the job
//! carries `lambda_function`, `url` and `url_out`, and running the job's
//! command (`run Ref::lambda_function Ref::url --output Ref::url_out`) on
//! those parameters round-trips a Cirrus payload.

// Setup helpers in this test crate panic on failure, like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ContainerProperties, JobDefinitionType, JqState,
    ResourceRequirement, ResourceType,
};
use common::*;
use local_aws::LocalAws;
use serde_json::Value;

struct Queue {
    queue: String,
    definition: String,
}

async fn batch_queue(name: &str) -> Queue {
    let batch = aws_sdk_batch::Client::new(&LocalAws::shared().sdk_config().await);
    let ce = batch
        .create_compute_environment()
        .compute_environment_name(format!("{name}-ce"))
        .r#type(CeType::Unmanaged)
        .service_role(role_arn())
        .state(CeState::Enabled)
        .send()
        .await
        .unwrap();
    let queue = batch
        .create_job_queue()
        .job_queue_name(format!("{name}-q"))
        .state(JqState::Enabled)
        .priority(1)
        .compute_environment_order(
            ComputeEnvironmentOrder::builder()
                .order(1)
                .compute_environment(ce.compute_environment_arn().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let def = batch
        .register_job_definition()
        .job_definition_name(format!("{name}-run-lambda"))
        .r#type(JobDefinitionType::Container)
        .container_properties(
            ContainerProperties::builder()
                .image("run-lambda:latest")
                .resource_requirements(
                    ResourceRequirement::builder()
                        .r#type(ResourceType::Vcpu)
                        .value("1")
                        .build(),
                )
                .resource_requirements(
                    ResourceRequirement::builder()
                        .r#type(ResourceType::Memory)
                        .value("2048")
                        .build(),
                )
                .set_command(Some(
                    [
                        "run",
                        "Ref::lambda_function",
                        "Ref::url",
                        "--output",
                        "Ref::url_out",
                    ]
                    .map(String::from)
                    .to_vec(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    Queue {
        queue: queue.job_queue_arn().unwrap().to_string(),
        definition: def.job_definition_arn().unwrap().to_string(),
    }
}

impl Queue {
    /// `run-lambda submit FUNCTION --payload PAYLOAD` to this queue and job
    /// definition, with `extra` arguments.
    fn submit(&self, function: &str, payload: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "submit",
            function,
            "--payload",
            payload,
            "--job-queue",
            &self.queue,
            "--job-definition",
            &self.definition,
        ];
        args.extend_from_slice(extra);
        run_lambda(&args, &[], None)
    }
}

async fn job_parameters(job_id: &str) -> std::collections::HashMap<String, String> {
    let batch = aws_sdk_batch::Client::new(&LocalAws::shared().sdk_config().await);
    let out = batch.describe_jobs().jobs(job_id).send().await.unwrap();
    out.jobs()[0].parameters().cloned().unwrap_or_default()
}

#[test]
fn submit_uploads_the_payload_and_the_job_runs_it() {
    let rt = rt();
    let name = format!("submit-{}", std::process::id());
    let q = rt.block_on(batch_queue(&name));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("submit"));
    let zip = python_zip();
    let function = format!("{name}-task");
    rt.block_on(create_function(NewFunction::python(&function, &zip)));
    let code = rt.block_on(put(&bucket, "code/task.zip", zip));
    let payload_file = format!("{FIXTURES}/cirrus-payload.json");
    let prefix = format!("s3://{bucket}/batch/cog");
    let r = q.submit(&function, &payload_file, &["--payload-url-prefix", &prefix]);
    r.assert_code(0);
    let submitted: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let job_id = submitted["jobId"].as_str().unwrap();
    let params = rt.block_on(job_parameters(job_id));
    assert_eq!(params["lambda_function"], function);
    let url = &params["url"];
    assert!(
        url.starts_with(&format!("{prefix}/")) && url.ends_with(".json"),
        "{url}"
    );
    assert_eq!(params["url_out"], url.replace(".json", "_out.json"));
    assert_eq!(submitted["url"], url.as_str());
    assert_eq!(submitted["jobName"], format!("run-lambda-{function}"));

    // The uploaded payload is the file.
    let key = url.strip_prefix(&format!("s3://{bucket}/")).unwrap();
    let uploaded: Value = serde_json::from_slice(&rt.block_on(get(&bucket, key)).unwrap()).unwrap();
    let original: Value = serde_json::from_slice(&std::fs::read(&payload_file).unwrap()).unwrap();
    assert_eq!(uploaded, original);

    // What the Batch job runs, with its parameters substituted.
    let r = run_lambda(
        &[
            "run",
            &params["lambda_function"],
            url,
            "--output",
            &params["url_out"],
            "--code",
            &code,
        ],
        &[],
        None,
    );
    r.assert_code(0);
    let out_key = params["url_out"]
        .strip_prefix(&format!("s3://{bucket}/"))
        .unwrap();
    let out: Value = serde_json::from_slice(&rt.block_on(get(&bucket, out_key)).unwrap()).unwrap();
    assert_eq!(out["process"], original["process"]);
    assert_eq!(out["features"][0]["properties"]["processed"], true);
}

#[test]
fn submit_an_s3_payload_as_it_is() {
    let rt = rt();
    let name = format!("submit-s3-{}", std::process::id());
    let q = rt.block_on(batch_queue(&name));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("submit-s3"));
    let url = rt.block_on(put(&bucket, "p/in.json", b"{}".to_vec()));
    let r = q.submit("some-function", &url, &[]);
    r.assert_code(0);
    let submitted: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let params = rt.block_on(job_parameters(submitted["jobId"].as_str().unwrap()));
    assert_eq!(params["url"], url);
    assert_eq!(params["url_out"], format!("s3://{bucket}/p/in_out.json"));

    // A missing payload, and a local one with nowhere to go.
    let missing = format!("s3://{bucket}/p/missing.json");
    let r = q.submit("f", &missing, &[]);
    r.assert_code(9);
    let local = format!("{FIXTURES}/cirrus-payload.json");
    let r = q.submit("f", &local, &[]);
    r.assert_code(2);
    r.assert_last_line_contains("--payload-url-prefix");
}
