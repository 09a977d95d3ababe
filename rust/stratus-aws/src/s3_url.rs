//! S3 URLs in every form users paste (`s3://`, virtual-hosted and
//! path-style `https://`, custom endpoints), parsed into bucket and key.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};

use crate::{Error, Result};

/// A bucket and key, parsed from any URL form S3 users paste.
///
/// Accepted forms:
/// - `s3://bucket/key` (the key taken literally, as the AWS CLI does);
/// - virtual-hosted `https://bucket.s3.amazonaws.com/key`,
///   `https://bucket.s3.REGION.amazonaws.com/key`, `https://bucket.s3-REGION.amazonaws.com/key`;
/// - path-style `https://s3.amazonaws.com/bucket/key`, `https://s3.REGION.amazonaws.com/bucket/key`;
/// - any other `http(s)://host[:port]/bucket/key` (custom endpoints, local
///   emulators), read path-style.
///
/// Keys in `http(s)` URLs are percent-decoded; query strings (presigned URLs)
/// are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Url {
    /// Bucket name.
    pub bucket: String,
    /// Object key (may be empty for a bucket or prefix).
    pub key: String,
}

impl S3Url {
    /// A URL from its parts.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        S3Url {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// Parse any accepted form (see the type's docs).
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidUrl {
            url: text.to_string(),
            reason,
        };
        let text_trimmed = text.trim();
        if let Some(rest) = strip_prefix_ci(text_trimmed, "s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket name"));
            }
            validate_bucket(bucket).map_err(invalid)?;
            return Ok(S3Url::new(bucket, key));
        }
        let url = url::Url::parse(text_trimmed)
            .map_err(|_| invalid("neither s3:// nor an http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("scheme must be s3, https or http"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid("no host"))?
            .to_ascii_lowercase();
        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| invalid("key is not UTF-8"))
        };
        if let Some(bucket) = virtual_hosted_bucket(&host) {
            validate_bucket(bucket).map_err(invalid)?;
            return Ok(S3Url::new(bucket, decode(path)?));
        }
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket in the path"));
        }
        let bucket = decode(bucket)?;
        validate_bucket(&bucket).map_err(invalid)?;
        Ok(S3Url::new(bucket, decode(key)?))
    }

    /// The last path segment of the key.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }

    /// A URL for `key` in the same bucket.
    pub fn with_key(&self, key: impl Into<String>) -> Self {
        S3Url::new(self.bucket.clone(), key)
    }

    /// The path-style HTTP(S) URL of this object under `endpoint`
    /// (e.g. `https://s3.us-east-1.amazonaws.com`), key percent-encoded.
    pub fn http_url(&self, endpoint: &str) -> String {
        let key: Vec<String> = self
            .key
            .split('/')
            .map(|seg| utf8_percent_encode(seg, NON_ALPHANUMERIC).to_string())
            .collect();
        format!(
            "{}/{}/{}",
            endpoint.trim_end_matches('/'),
            self.bucket,
            key.join("/")
        )
    }

    /// GDAL's virtual path for this object (`/vsis3/bucket/key`).
    pub fn vsis3(&self) -> String {
        format!("/vsis3/{}/{}", self.bucket, self.key)
    }

    /// Whether the key ends in `.gz` (payloads stored gzip-compressed).
    pub fn is_gzip(&self) -> bool {
        self.key.to_ascii_lowercase().ends_with(".gz")
    }
}

/// `bucket` of `bucket.s3[.-]…amazonaws.com` hosts, `None` for path-style hosts.
fn virtual_hosted_bucket(host: &str) -> Option<&str> {
    let stem = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    // Path-style service hosts: s3, s3.REGION, s3-REGION, s3.dualstack.REGION …
    if stem == "s3" || stem.starts_with("s3.") || stem.starts_with("s3-") {
        return None;
    }
    for marker in [".s3.", ".s3-"] {
        if let Some(i) = stem.find(marker) {
            return Some(&stem[..i]);
        }
    }
    stem.strip_suffix(".s3")
}

/// Whether `host` is an S3 endpoint on AWS, virtual-hosted (`bucket.s3….amazonaws.com`)
/// or path-style (`s3.amazonaws.com`, `s3.REGION.amazonaws.com`, `s3-REGION.amazonaws.com`).
pub(crate) fn is_s3_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let Some(stem) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    stem == "s3"
        || stem.starts_with("s3.")
        || stem.starts_with("s3-")
        || virtual_hosted_bucket(&host).is_some()
}

/// The rules AWS enforces on bucket names, loosely (to reject obvious garbage
/// early with a clear message; S3 has the last word).
fn validate_bucket(bucket: &str) -> std::result::Result<(), &'static str> {
    if !(3..=63).contains(&bucket.len()) {
        return Err("bucket names are 3 to 63 characters");
    }
    if !bucket.bytes().all(|b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_'
    }) {
        return Err("bucket names use lower-case letters, digits, '-' and '.'");
    }
    Ok(())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Literal key, as the AWS CLI prints and parses s3:// URLs.
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl FromStr for S3Url {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        S3Url::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (String, String) {
        let u = S3Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (u.bucket, u.key)
    }

    fn pair(b: &str, k: &str) -> (String, String) {
        (b.into(), k.into())
    }

    #[test]
    fn s3_scheme() {
        assert_eq!(p("s3://bucket/a/b.tif"), pair("bucket", "a/b.tif"));
        assert_eq!(
            p("S3://bucket/a b+c%2B.tif"),
            pair("bucket", "a b+c%2B.tif")
        );
        assert_eq!(p("s3://bucket"), pair("bucket", ""));
        assert_eq!(p("s3://bucket/"), pair("bucket", ""));
        assert_eq!(p("  s3://bucket/k  "), pair("bucket", "k"));
    }

    #[test]
    fn virtual_hosted() {
        assert_eq!(
            p("https://my-bucket.s3.amazonaws.com/a/b%20c.tif"),
            pair("my-bucket", "a/b c.tif")
        );
        assert_eq!(
            p("https://my-bucket.s3.us-west-2.amazonaws.com/k.tif"),
            pair("my-bucket", "k.tif")
        );
        assert_eq!(
            p("https://my-bucket.s3-us-west-2.amazonaws.com/k.tif"),
            pair("my-bucket", "k.tif")
        );
        assert_eq!(
            p("https://my.dotted.bucket.s3.eu-west-1.amazonaws.com/k"),
            pair("my.dotted.bucket", "k")
        );
        assert_eq!(
            p("https://b-1.s3.dualstack.us-east-1.amazonaws.com/k"),
            pair("b-1", "k")
        );
        assert_eq!(
            p("https://b-1.s3.amazonaws.com/k.json?X-Amz-Signature=abc&X-Amz-Expires=60"),
            pair("b-1", "k.json")
        );
    }

    #[test]
    fn path_style() {
        assert_eq!(
            p("https://s3.amazonaws.com/bucket/k%2Bplus.tif"),
            pair("bucket", "k+plus.tif")
        );
        assert_eq!(
            p("https://s3.us-east-1.amazonaws.com/bucket/a/b"),
            pair("bucket", "a/b")
        );
        assert_eq!(
            p("https://s3-us-west-2.amazonaws.com/bucket/a"),
            pair("bucket", "a")
        );
        assert_eq!(
            p("http://127.0.0.1:5000/bucket/caf%C3%A9.tif"),
            pair("bucket", "café.tif")
        );
        assert_eq!(p("https://minio.example.org/bucket/k"), pair("bucket", "k"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "bucket/key",
            "s3://",
            "s3:///key",
            "ftp://host/b/k",
            "https://s3.amazonaws.com/",
            "s3://UPPER/k",
            "s3://ab/k",
        ] {
            assert!(S3Url::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_round_trips() {
        for key in ["a/b.tif", "sp ace/plus+/pct%/é.tif"] {
            let u = S3Url::new("bucket", key);
            assert_eq!(S3Url::parse(&u.to_string()).unwrap(), u);
            let http = u.http_url("http://127.0.0.1:9000/");
            assert!(!http.contains(' '), "{http}");
            assert_eq!(S3Url::parse(&http).unwrap(), u, "{http}");
        }
    }

    #[test]
    fn helpers() {
        let u = S3Url::parse("s3://b-1/dir/x.json.gz").unwrap();
        assert!(u.is_gzip());
        assert_eq!(u.file_name(), "x.json.gz");
        assert_eq!(u.vsis3(), "/vsis3/b-1/dir/x.json.gz");
        assert_eq!(u.with_key("y").key, "y");
    }
}
