//! What a location someone gives names: an S3 object, another HTTP(S)
//! resource, or a local path. Decided here once, for every binary.

use std::path::PathBuf;

use crate::s3_url::is_s3_host;
use crate::{Result, S3Url};

/// A location, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://bucket/key`, or an `https://` URL of an S3 endpoint on AWS
    /// (virtual-hosted or path-style, any region): read with the caller's credentials.
    S3(S3Url),
    /// Any other `http(s)://` URL, and presigned S3 URLs (their query carries the
    /// access; the caller's credentials might have none): a plain GET.
    Http(String),
    /// Not a URL.
    Local(PathBuf),
}

impl Location {
    /// Classify `text` (see the variants).
    pub fn parse(text: &str) -> Result<Location> {
        let trimmed = text.trim();
        if !is_url(trimmed) {
            return Ok(Location::Local(PathBuf::from(text)));
        }
        if has_scheme(trimmed, "s3://") {
            return S3Url::parse(trimmed).map(Location::S3);
        }
        let on_s3 = url::Url::parse(trimmed).ok().is_some_and(|url| {
            let presigned = url
                .query_pairs()
                .any(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Signature"));
            !presigned && url.host_str().is_some_and(is_s3_host)
        });
        if on_s3 {
            S3Url::parse(trimmed).map(Location::S3)
        } else {
            Ok(Location::Http(trimmed.to_string()))
        }
    }
}

/// Whether `text` is a URL (`s3://`, `https://`, `http://`) rather than a local path.
pub fn is_url(text: &str) -> bool {
    ["s3://", "https://", "http://"]
        .iter()
        .any(|scheme| has_scheme(text, scheme))
}

fn has_scheme(text: &str, scheme: &str) -> bool {
    text.trim_start()
        .get(..scheme.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, key: &str) -> Location {
        Location::S3(S3Url::new(bucket, key))
    }

    fn http(url: &str) -> Location {
        Location::Http(url.to_string())
    }

    #[test]
    fn s3_urls_in_every_form() {
        let cases = [
            ("s3://bucket/a/b.tif", s3("bucket", "a/b.tif")),
            ("S3://bucket/k", s3("bucket", "k")),
            // virtual-hosted: global, regional (dot and dash), dual-stack
            (
                "https://bucket.s3.amazonaws.com/a%20b.tif",
                s3("bucket", "a b.tif"),
            ),
            (
                "https://bucket.s3.us-west-2.amazonaws.com/k",
                s3("bucket", "k"),
            ),
            (
                "https://bucket.s3-us-west-2.amazonaws.com/k",
                s3("bucket", "k"),
            ),
            (
                "https://b-1.s3.dualstack.us-east-1.amazonaws.com/k",
                s3("b-1", "k"),
            ),
            // path-style: global and regional endpoints
            ("https://s3.amazonaws.com/bucket/k", s3("bucket", "k")),
            (
                "https://s3.eu-west-1.amazonaws.com/bucket/a/b",
                s3("bucket", "a/b"),
            ),
            (
                "https://s3-us-west-2.amazonaws.com/bucket/k",
                s3("bucket", "k"),
            ),
            (
                "https://bucket.s3.cn-north-1.amazonaws.com.cn/k",
                s3("bucket", "k"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Location::parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn other_http_and_presigned_urls_are_plain_gets() {
        for text in [
            "https://example.org/code.zip",
            "http://127.0.0.1:5000/bucket/code.zip",
            "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/f?X-Amz-Signature=s",
            "https://b-1.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s",
            // a host that only looks like AWS
            "https://s3.amazonaws.com.example.org/bucket/k",
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions",
        ] {
            assert_eq!(Location::parse(text).unwrap(), http(text), "{text}");
        }
    }

    #[test]
    fn local_paths() {
        for text in [
            "./code.zip",
            "code.zip",
            "/abs/dir",
            "s3-bucket/k",
            "https.zip",
            "-",
        ] {
            assert_eq!(
                Location::parse(text).unwrap(),
                Location::Local(PathBuf::from(text)),
                "{text}"
            );
            assert!(!is_url(text), "{text}");
        }
    }

    #[test]
    fn urls() {
        for text in ["s3://b/k", "HTTPS://h/k", "http://h", " s3://b/k"] {
            assert!(is_url(text), "{text}");
        }
        assert!(Location::parse("s3://").is_err());
        assert!(Location::parse("https://s3.amazonaws.com/").is_err());
    }
}
