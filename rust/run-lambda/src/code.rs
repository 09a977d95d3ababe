//! Function code and layers: where they come from, and their streaming
//! download with SHA-256 (base64, as Lambda reports `CodeSha256`).

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use stratus_aws::{Location, S3Url};
use tokio::io::AsyncWriteExt;

use crate::{Error, Result};

/// Where code (or a layer, or a payload for `exec`) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `s3://bucket/key` (or an S3 `https://` URL): read with the job's credentials.
    S3(S3Url),
    /// Another `https://…` URL, or a presigned one (e.g. the `Code.Location` of
    /// `GetFunction`): a plain GET.
    Http(String),
    /// A local zip, directory or executable.
    Path(PathBuf),
}

impl Source {
    /// `s3://…` or an S3 `https://` URL, another (or presigned) `http(s)://…`
    /// URL, or a local path, as [`Location`] classifies them.
    pub fn parse(text: &str) -> Result<Source> {
        match Location::parse(text).map_err(|e| Error::Usage(e.to_string()))? {
            Location::S3(url) => Ok(Source::S3(url)),
            Location::Http(url) => Ok(Source::Http(url)),
            Location::Local(path) => Ok(Source::Path(path)),
        }
    }
}

impl std::str::FromStr for Source {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Source::parse(s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::S3(u) => write!(f, "{u}"),
            // Presigned URLs carry credentials in the query: never print it.
            Source::Http(u) => write!(f, "{}", u.split('?').next().unwrap_or(u)),
            Source::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A SHA-256 digest in base64, as Lambda reports `CodeSha256`.
fn lambda_sha256(digest: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Attempts for a download that fails on the network or with a 5xx answer.
const DOWNLOAD_ATTEMPTS: u32 = 3;

/// Download `source` to `dest`, streaming, and return its base64 SHA-256.
/// Network failures and 5xx answers are retried (the S3 client retries on
/// its own as well).
pub async fn download(
    source: &Source,
    dest: &Path,
    s3: Option<&aws_sdk_s3::Client>,
) -> Result<String> {
    let mut attempt = 1;
    loop {
        match download_once(source, dest, s3).await {
            Err(Transient(e)) if attempt < DOWNLOAD_ATTEMPTS => {
                tracing::warn!(attempt, error = %e, "download failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt)))
                    .await;
                attempt += 1;
            }
            Err(Transient(e)) | Err(Final(e)) => return Err(e),
            Ok(sha) => return Ok(sha),
        }
    }
}

/// A failed download attempt: worth retrying or not.
enum Attempt {
    Transient(Error),
    Final(Error),
}
use Attempt::{Final, Transient};

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        Final(e)
    }
}

fn http_client() -> std::result::Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .read_timeout(std::time::Duration::from_secs(120))
        .build()
}

async fn download_once(
    source: &Source,
    dest: &Path,
    s3: Option<&aws_sdk_s3::Client>,
) -> std::result::Result<String, Attempt> {
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
    let mut hasher = Sha256::new();
    let what = source.to_string();
    let failed =
        |e: &dyn fmt::Display| Transient(Error::CodeDownload(format!("downloading {what}: {e}")));
    match source {
        Source::S3(url) => {
            let client = s3.ok_or_else(|| Final(Error::Usage("no S3 client".into())))?;
            let out = client
                .get_object()
                .bucket(&url.bucket)
                .key(&url.key)
                .send()
                .await
                .map_err(|e| match stratus_aws::objects::classify(url, e) {
                    stratus_aws::Error::AccessDenied { .. } => Final(Error::AccessDenied(format!(
                        "reading code at {url}: access denied"
                    ))),
                    other if other.is_transient() => {
                        Transient(Error::CodeDownload(format!("downloading {url}: {other}")))
                    }
                    other => Final(Error::CodeDownload(format!("downloading {url}: {other}"))),
                })?;
            let mut body = out.body;
            while let Some(chunk) = body.try_next().await.map_err(|e| failed(&e))? {
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            }
        }
        Source::Http(url) => {
            let client = http_client().map_err(|e| Final(Error::CodeDownload(e.to_string())))?;
            let resp = client
                .get(url)
                .send()
                .await
                .map_err(|e| failed(&e.without_url()))?;
            let status = resp.status();
            if status == reqwest::StatusCode::FORBIDDEN {
                return Err(Final(Error::AccessDenied(format!(
                    "downloading {what}: 403 Forbidden (an expired presigned URL?)"
                ))));
            }
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Err(failed(&status));
            }
            if !status.is_success() {
                return Err(Final(Error::CodeDownload(format!(
                    "downloading {what}: {status}"
                ))));
            }
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| failed(&e.without_url()))?;
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            }
        }
        Source::Path(path) => {
            let mut src = tokio::fs::File::open(path).await.map_err(|e| {
                Final(Error::CodeDownload(format!(
                    "reading {}: {e}",
                    path.display()
                )))
            })?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                use tokio::io::AsyncReadExt;
                let n = src.read(&mut buf).await.map_err(|e| {
                    Final(Error::CodeDownload(format!(
                        "reading {}: {e}",
                        path.display()
                    )))
                })?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n])
                    .await
                    .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            }
        }
    }
    file.flush()
        .await
        .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
    Ok(lambda_sha256(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert!(matches!(
            Source::parse("s3://bucket/code.zip").unwrap(),
            Source::S3(_)
        ));
        assert!(matches!(
            Source::parse("https://x.s3.amazonaws.com/k?X-Amz-Signature=s").unwrap(),
            Source::Http(_)
        ));
        assert!(matches!(
            Source::parse("https://bucket.s3.amazonaws.com/code.zip").unwrap(),
            Source::S3(_)
        ));
        assert!(matches!(
            Source::parse("./code.zip").unwrap(),
            Source::Path(_)
        ));
        assert_eq!(
            Source::parse("https://h/b/k?X-Amz-Signature=secret")
                .unwrap()
                .to_string(),
            "https://h/b/k"
        );
    }

    #[test]
    fn sha_is_base64_like_lambda() {
        // echo -n hello | sha256sum | xxd -r -p | base64
        assert_eq!(
            lambda_sha256(Sha256::digest(b"hello")),
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        );
    }
}
