//! The handler in-process against the shared local AWS: configuration,
//! dependencies, one invocation, and an S3 client whose Item writes fail.

use gdal_lambda::{handle, Config, Deps, HandlerError, Response};
use lambda_runtime::{Context, LambdaEvent};
use local_aws::{Fault, FaultPlan, FaultProxy, LocalAws};
use serde_json::Value;

/// The shared local AWS, its endpoint exported for the SDK.
pub fn aws() -> &'static LocalAws {
    let aws = LocalAws::shared();
    aws.export_env();
    aws
}

/// The function's configuration: `OUTPUT_URL` = `output`, plus `env`.
pub fn config(output: &str, env: &[(&str, &str)]) -> Config {
    Config::from_lookup(|k| {
        if k == "OUTPUT_URL" {
            return Some(output.to_string());
        }
        env.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// Dependencies with `config`, `s3` and this crate's binary as the parse worker.
pub fn deps_of(config: Config, s3: aws_sdk_s3::Client) -> Deps {
    Deps::new(config, s3, super::function_binary())
}

/// One invocation of the handler with `payload`.
pub async fn invoke(payload: Value, deps: &Deps) -> Result<Response, HandlerError> {
    handle(LambdaEvent::new(payload, Context::default()), deps).await
}

/// An S3 client through a fault proxy where every PUT whose path contains
/// `target` fails with a 500 (two attempts each); keep the proxy alive.
pub async fn client_failing_puts_to(target: &str) -> (FaultProxy, aws_sdk_s3::Client) {
    let proxy = FaultProxy::start(aws().port());
    proxy.set_plan(FaultPlan {
        rate: 1.0,
        faults: vec![Fault::Status(500)],
        methods: vec!["PUT"],
        targets: vec![target.to_string()],
        ..FaultPlan::none()
    });
    let s3 = local_aws::s3_client(
        &proxy.endpoint(),
        Some(stratus_aws::config::retry_config().with_max_attempts(2)),
    )
    .await;
    (proxy, s3)
}
