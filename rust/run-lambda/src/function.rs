//! `GetFunction` and `GetLayerVersionByArn`: a function's configuration, code
//! location and layers, as [`FunctionSpec`] and [`Deployment`].

use std::collections::BTreeMap;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::types::{PackageType, SnapStartOptimizationStatus};

use stratus_aws::Location;

use crate::spec::{FunctionSpec, Image, InitType, Runtime};
use crate::{Error, Result};

/// Where a function's code and layers are, and their checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The code archive (`Code.Location`, a presigned URL).
    pub code: Option<Location>,
    /// `CodeSha256`.
    pub code_sha256: Option<String>,
    /// Layer version ARNs, in order.
    pub layers: Vec<String>,
}

/// A layer's archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerContent {
    /// `Content.Location`.
    pub location: Option<Location>,
    /// `Content.CodeSha256`.
    pub sha256: Option<String>,
}

/// The region of a function ARN (`arn:aws:lambda:REGION:…`), if the name is one.
pub fn arn_region(function: &str) -> Option<&str> {
    let mut parts = function.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("lambda"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// A Lambda client for `function`: in the ARN's region when it is an ARN.
pub fn client(config: &aws_config::SdkConfig, function: &str) -> aws_sdk_lambda::Client {
    let mut builder = aws_sdk_lambda::config::Builder::from(config);
    if let Some(region) = arn_region(function) {
        builder = builder.region(aws_config::Region::new(region.to_string()));
    }
    aws_sdk_lambda::Client::from_conf(builder.build())
}

/// Map a Lambda SDK error: not found, access denied, or anything else.
fn lambda_error<E>(
    what: &str,
    err: SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_string();
    let message = match (err.message(), status) {
        (Some(m), _) => m.to_string(),
        (None, Some(s)) => format!("HTTP {s}"),
        (None, None) => aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(),
    };
    if status == Some(404) || code == "ResourceNotFoundException" {
        Error::FunctionNotFound(format!("{what} not found: {message}"))
    } else if status == Some(403) || code.contains("AccessDenied") {
        Error::AccessDenied(format!("{what}: access denied: {message}"))
    } else {
        Error::LambdaApi(format!(
            "{what}: {}{message}",
            if code.is_empty() {
                String::new()
            } else {
                format!("{code}: ")
            }
        ))
    }
}

/// `GetFunction` for a name, ARN or partial ARN, qualifier allowed.
pub async fn get_function(
    client: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<(FunctionSpec, Deployment)> {
    let out = client
        .get_function()
        .function_name(function)
        .send()
        .await
        .map_err(|e| lambda_error(&format!("function {function}"), e))?;
    let conf = out
        .configuration()
        .ok_or_else(|| Error::LambdaApi(format!("GetFunction {function}: no configuration")))?;
    let runtime = if conf.package_type() == Some(&PackageType::Image) {
        let code = out.code();
        let image_config = conf.image_config_response().and_then(|r| r.image_config());
        Runtime::image(Image {
            uri: code
                .and_then(|c| c.image_uri())
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    Error::LambdaApi(format!(
                        "GetFunction {function}: an image function without an image URI"
                    ))
                })?
                .to_string(),
            resolved_uri: code
                .and_then(|c| c.resolved_image_uri())
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            entry_point: image_config
                .map(|c| c.entry_point().to_vec())
                .unwrap_or_default(),
            command: image_config
                .map(|c| c.command().to_vec())
                .unwrap_or_default(),
            working_directory: image_config
                .and_then(|c| c.working_directory())
                .filter(|d| !d.is_empty())
                .map(str::to_string),
        })
    } else {
        Runtime::parse(conf.runtime().map(|r| r.as_str()).unwrap_or_default())?
    };
    // A published version with SnapStart on starts from a snapshot: its runtime
    // is told so, and may call the restore hooks' endpoints.
    let init_type = match conf.snap_start().and_then(|s| s.optimization_status()) {
        Some(SnapStartOptimizationStatus::On) => InitType::SnapStart,
        _ => InitType::OnDemand,
    };
    let name = conf
        .function_name()
        .unwrap_or_else(|| function.rsplit(':').next().unwrap_or(function))
        .to_string();
    let version = conf.version().unwrap_or("$LATEST").to_string();
    let base_arn = conf.function_arn().unwrap_or_default().to_string();
    // The invoked ARN carries the qualifier the caller used, as in Lambda.
    let arn = match qualifier(function) {
        Some(q) if !base_arn.ends_with(&format!(":{q}")) => format!("{base_arn}:{q}"),
        _ => base_arn.clone(),
    };
    let region = arn_region(&base_arn)
        .map(str::to_string)
        .or_else(|| client.config().region().map(|r| r.to_string()))
        .unwrap_or_else(|| "us-east-1".to_string());
    let environment: BTreeMap<String, String> = conf
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let logging = conf.logging_config();
    let spec = FunctionSpec {
        log_group: logging
            .and_then(|l| l.log_group())
            .map(str::to_string)
            .unwrap_or_else(|| format!("/aws/lambda/{name}")),
        name,
        arn,
        version,
        runtime,
        handler: conf.handler().unwrap_or_default().to_string(),
        init_type,
        environment,
        memory_mb: conf.memory_size().unwrap_or(128),
        region,
        architectures: conf
            .architectures()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        log_format: logging
            .and_then(|l| l.log_format())
            .map(|f| f.as_str().to_string()),
        log_level: logging
            .and_then(|l| l.application_log_level())
            .map(|f| f.as_str().to_string()),
    };
    let deployment = Deployment {
        code: out
            .code()
            .and_then(|c| c.location())
            .filter(|l| !l.is_empty())
            .map(|l| Location::Http(l.to_string())),
        code_sha256: conf.code_sha256().map(str::to_string),
        layers: conf
            .layers()
            .iter()
            .filter_map(|l| l.arn().map(str::to_string))
            .collect(),
    };
    Ok((spec, deployment))
}

/// The qualifier (`:alias` or `:version`) of a function name or ARN, if any.
pub fn qualifier(function: &str) -> Option<&str> {
    let parts: Vec<&str> = function.split(':').collect();
    match parts.as_slice() {
        // name:qualifier
        [_, q] => Some(q),
        // account:function:name:qualifier
        [_, "function", _, q] => Some(q),
        // arn:aws:lambda:region:account:function:name:qualifier
        [_, _, _, _, _, "function", _, q] => Some(q),
        _ => None,
    }
}

/// A layer version's archive location and checksum.
///
/// This is `GetLayerVersion` with the layer ARN and version number split from
/// the version ARN: the same answer and IAM action (`lambda:GetLayerVersion`)
/// as `GetLayerVersionByArn`, which local emulators such as moto lack.
pub async fn get_layer(client: &aws_sdk_lambda::Client, arn: &str) -> Result<LayerContent> {
    let (layer, version) = split_layer_version_arn(arn).ok_or_else(|| {
        Error::LambdaApi(format!(
            "{arn:?} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
        ))
    })?;
    let out = client
        .get_layer_version()
        .layer_name(layer)
        .version_number(version)
        .send()
        .await
        .map_err(|e| lambda_error(&format!("layer {arn}"), e))?;
    let content = out.content();
    Ok(LayerContent {
        location: content
            .and_then(|c| c.location())
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
            .map(|l| Location::Http(l.to_string())),
        sha256: content.and_then(|c| c.code_sha256()).map(str::to_string),
    })
}

/// `arn:…:layer:NAME:VERSION` → (`arn:…:layer:NAME`, VERSION).
pub fn split_layer_version_arn(arn: &str) -> Option<(&str, i64)> {
    let (layer, version) = arn.rsplit_once(':')?;
    let version = version.parse().ok()?;
    layer.contains(":layer:").then_some((layer, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert_eq!(
            arn_region("arn:aws:lambda:eu-west-1:123456789012:function:f"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("f"), None);
        assert_eq!(qualifier("f"), None);
        assert_eq!(qualifier("f:prod"), Some("prod"));
        assert_eq!(qualifier("123456789012:function:f"), None);
        assert_eq!(qualifier("123456789012:function:f:3"), Some("3"));
        assert_eq!(
            qualifier("arn:aws:lambda:us-east-1:123456789012:function:f"),
            None
        );
        assert_eq!(
            split_layer_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:gdal:7"),
            Some(("arn:aws:lambda:us-east-1:123456789012:layer:gdal", 7))
        );
        assert_eq!(
            split_layer_version_arn("arn:aws:lambda:us-east-1:1:layer:gdal"),
            None
        );
        assert_eq!(
            qualifier("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"),
            Some("$LATEST")
        );
    }
}
