//! AWS SDK configuration from the environment.
//!
//! The standard chain (env vars, profiles, SSO, container and instance roles)
//! is used as it is; `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_S3`) are
//! honoured by the SDK itself, and when an S3 endpoint is set we switch the
//! S3 client to path-style addressing, which local emulators need.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Attempts per request (first try included) for throttling, 5xx and network errors.
pub const MAX_ATTEMPTS: u32 = 5;

/// Load the SDK config from the environment, with our retry policy:
/// standard mode (exponential backoff with jitter) and [`MAX_ATTEMPTS`] attempts.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await
}

/// Load the SDK config from the environment with our retry policy and
/// [`request_timeouts`]: for clients whose requests are small (headers of
/// rasters, STAC Items), where a stalled connection must not hold a record
/// until the function's own timeout.
pub async fn sdk_config_with_timeouts() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(request_timeouts())
        .load()
        .await
}

/// Timeouts of one attempt: 3 s to connect, 10 s to the first byte of the
/// answer, 20 s in all; the retry policy then tries again.
pub fn request_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(20))
        .build()
}

/// The retry policy every Stratus client uses.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5))
}

/// The custom S3 endpoint from the environment, if any.
pub fn s3_endpoint_from_env() -> Option<String> {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

/// An S3 client for `config`; path-style when a custom endpoint is set.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let custom = config.endpoint_url().is_some() || s3_endpoint_from_env().is_some();
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(custom)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
