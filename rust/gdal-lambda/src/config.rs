use stratus_aws::S3Url;

/// Records processed at once unless `MAX_CONCURRENCY` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The function's configuration, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where STAC Items go: bucket and key prefix (`OUTPUT_URL=s3://bucket/prefix/`).
    /// An Item's key is the prefix followed by the source key and `.json`.
    pub output: S3Url,
    /// Records processed concurrently (`MAX_CONCURRENCY`, default 8).
    pub concurrency: usize,
}

/// A configuration the function cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `OUTPUT_URL` is missing.
    #[error("OUTPUT_URL is not set: set it to the S3 location for STAC Items, e.g. s3://my-bucket/stac/")]
    MissingOutput,
    /// `OUTPUT_URL` is not an S3 URL.
    #[error("OUTPUT_URL is invalid: {0}")]
    BadOutput(stratus_aws::Error),
    /// `MAX_CONCURRENCY` is not a positive integer.
    #[error("MAX_CONCURRENCY must be a positive integer, got {0:?}")]
    BadConcurrency(String),
}

impl Config {
    /// Read `OUTPUT_URL` and `MAX_CONCURRENCY` through `get` (the environment in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let output = get("OUTPUT_URL")
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::MissingOutput)?;
        let mut output = S3Url::parse(&output).map_err(ConfigError::BadOutput)?;
        // A prefix is a folder: "stac" and "stac/" mean the same.
        if !output.key.is_empty() && !output.key.ends_with('/') {
            output.key.push('/');
        }
        let concurrency = match get("MAX_CONCURRENCY") {
            None => DEFAULT_CONCURRENCY,
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ConfigError::BadConcurrency(v))?,
        };
        Ok(Config {
            output,
            concurrency,
        })
    }

    /// Read the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Whether an object is one of our own outputs (never processed: no trigger loops).
    pub fn is_output(&self, url: &S3Url) -> bool {
        url.bucket == self.output.bucket && url.key.starts_with(&self.output.key)
    }

    /// Where the Item for `source` goes.
    pub fn item_url(&self, source: &S3Url) -> S3Url {
        self.output
            .with_key(format!("{}{}.json", self.output.key, source.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn reads_output_and_concurrency() {
        let c = cfg(&[
            ("OUTPUT_URL", "s3://out-bucket/stac"),
            ("MAX_CONCURRENCY", "3"),
        ])
        .unwrap();
        assert_eq!(c.output, S3Url::new("out-bucket", "stac/"));
        assert_eq!(c.concurrency, 3);
        assert_eq!(
            c.item_url(&S3Url::new("in-b", "a/b c.tif")),
            S3Url::new("out-bucket", "stac/a/b c.tif.json")
        );
        assert!(c.is_output(&S3Url::new("out-bucket", "stac/x.tif")));
        assert!(!c.is_output(&S3Url::new("out-bucket", "stacked/x.tif")));
        assert!(!c.is_output(&S3Url::new("other", "stac/x.tif")));
        let root = cfg(&[("OUTPUT_URL", "s3://out-bucket")]).unwrap();
        assert!(
            root.is_output(&S3Url::new("out-bucket", "anything")),
            "whole bucket is output"
        );
        assert_eq!(root.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn rejects_bad_config() {
        assert!(matches!(cfg(&[]), Err(ConfigError::MissingOutput)));
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "not a url")]),
            Err(ConfigError::BadOutput(_))
        ));
        assert!(matches!(
            cfg(&[("OUTPUT_URL", "s3://bbb/p/"), ("MAX_CONCURRENCY", "0")]),
            Err(ConfigError::BadConcurrency(_))
        ));
    }
}
