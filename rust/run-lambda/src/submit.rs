//! `submit`: upload a payload and submit a Batch job that runs a function on
//! it — what a Lambda calls when its work is too big for Lambda (Cirrus' old
//! `submit_batch_job`). The job definition's command is expected to be
//! `["run", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out"]`.

use stratus_aws::S3Url;

use crate::payload;
use crate::{Error, Result};

/// What to submit.
#[derive(Debug, Clone)]
pub struct SubmitOptions {
    /// Function name, ARN or partial ARN (`lambda_function` parameter).
    pub function: String,
    /// A local file (`-` for stdin) or an S3 URL of the payload.
    pub payload: String,
    /// Batch job queue (name or ARN).
    pub job_queue: String,
    /// Batch job definition (name, name:revision or ARN).
    pub job_definition: String,
    /// Where local payloads are uploaded (`s3://bucket/prefix`).
    pub payload_url_prefix: Option<String>,
    /// Output URL (default: Cirrus' `_out.json` convention).
    pub output: Option<String>,
    /// Job name (default: `run-lambda-<function name>`).
    pub job_name: Option<String>,
}

/// A submitted job.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Submitted {
    /// Batch job id.
    #[serde(rename = "jobId")]
    pub job_id: String,
    /// Batch job name.
    #[serde(rename = "jobName")]
    pub job_name: String,
    /// The payload URL (`url` parameter).
    pub url: String,
    /// The output URL (`url_out` parameter).
    pub url_out: String,
}

/// A valid Batch job name for a function: letters, digits, `-` and `_`, at most 128.
pub fn job_name_for(function: &str) -> String {
    let name = function
        .rsplit_once(":function:")
        .map(|(_, n)| n)
        .unwrap_or(function);
    let name = name.split(':').next().unwrap_or(name);
    let cleaned: String = format!("run-lambda-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    cleaned
}

/// Upload the payload if it is local, then `SubmitJob`.
pub async fn submit(opts: &SubmitOptions) -> Result<Submitted> {
    let config = stratus_aws::config::sdk_config().await;
    let s3 = stratus_aws::config::s3_client(&config);
    let url = if stratus_aws::is_url(&opts.payload) {
        let url = payload::parse_url(&opts.payload)?;
        stratus_aws::objects::head(&s3, &url)
            .await
            .map_err(|e| match e {
                stratus_aws::Error::NotFound { .. } => {
                    Error::InvalidInput(format!("the payload {url} does not exist"))
                }
                other => Error::Submit(format!("checking the payload: {other}")),
            })?;
        url
    } else {
        let bytes = if opts.payload == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| Error::io("reading the payload from stdin", e))?;
            buf
        } else {
            std::fs::read(&opts.payload)
                .map_err(|e| Error::InvalidInput(format!("reading {}: {e}", opts.payload)))?
        };
        let json = payload::validate_json(&bytes, &format!("the payload {}", opts.payload))?;
        let prefix = opts.payload_url_prefix.as_deref().ok_or_else(|| {
            Error::Usage(
                "a local payload needs --payload-url-prefix s3://bucket/prefix to be uploaded to"
                    .into(),
            )
        })?;
        let prefix = payload::parse_url(prefix)?;
        let key = format!(
            "{}{}.json",
            match prefix.key.trim_end_matches('/') {
                "" => String::new(),
                p => format!("{p}/"),
            },
            uuid::Uuid::new_v4()
        );
        let url = prefix.with_key(key);
        stratus_aws::objects::put_json(&s3, &url, &json)
            .await
            .map_err(|e| Error::Submit(format!("uploading the payload: {e}")))?;
        tracing::info!(payload = %url, "payload uploaded");
        url
    };
    let url_out: S3Url = match &opts.output {
        Some(o) => payload::parse_url(o)?,
        None => payload::default_output_url(&url)?,
    };
    let job_name = opts
        .job_name
        .clone()
        .unwrap_or_else(|| job_name_for(&opts.function));
    let batch = aws_sdk_batch::Client::new(&config);
    let out = batch
        .submit_job()
        .job_name(&job_name)
        .job_queue(&opts.job_queue)
        .job_definition(&opts.job_definition)
        .parameters("lambda_function", &opts.function)
        .parameters("url", url.to_string())
        .parameters("url_out", url_out.to_string())
        .send()
        .await
        .map_err(|e| {
            Error::Submit(format!(
                "SubmitJob to {}: {}",
                opts.job_queue,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ))
        })?;
    Ok(Submitted {
        job_id: out.job_id().unwrap_or_default().to_string(),
        job_name: out.job_name().unwrap_or(&job_name).to_string(),
        url: url.to_string(),
        url_out: url_out.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names() {
        assert_eq!(job_name_for("my.func"), "run-lambda-my_func");
        assert_eq!(
            job_name_for("arn:aws:lambda:us-east-1:123456789012:function:task:prod"),
            "run-lambda-task"
        );
        assert!(job_name_for(&"x".repeat(300)).len() <= 128);
    }
}
