//! Function code and layers: their streaming download, from wherever a
//! [`Location`] says, with SHA-256 (base64, as Lambda reports `CodeSha256`).

use std::fmt;
use std::path::Path;

use base64::Engine;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use stratus_aws::{objects, Location, S3Url};
use tokio::io::AsyncWriteExt;

use crate::{Error, Result};

/// A location as messages and logs show it: a presigned URL without its
/// query, which carries credentials.
pub struct Shown<'a>(pub &'a Location);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Location::S3(u) => write!(f, "{u}"),
            Location::Http(u) => write!(f, "{}", u.split('?').next().unwrap_or(u)),
            Location::Local(p) => write!(f, "{}", p.display()),
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
    source: &Location,
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
    source: &Location,
    dest: &Path,
    s3: Option<&aws_sdk_s3::Client>,
) -> std::result::Result<String, Attempt> {
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
    let mut hasher = Sha256::new();
    let what = Shown(source).to_string();
    let failed =
        |e: &dyn fmt::Display| Transient(Error::CodeDownload(format!("downloading {what}: {e}")));
    match source {
        Location::S3(url) => {
            let client = s3.ok_or_else(|| Final(Error::Usage("no S3 client".into())))?;
            let mut body = objects::get_stream(client, url)
                .await
                .map_err(|e| s3_failure(url, e))?;
            while let Some(chunk) = body.next_chunk().await.map_err(|e| s3_failure(url, e))? {
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
            }
        }
        Location::Http(url) => {
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
        Location::Local(path) => {
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

/// A failed S3 download attempt, as `objects` classified it.
fn s3_failure(url: &S3Url, e: stratus_aws::Error) -> Attempt {
    match e {
        stratus_aws::Error::AccessDenied { .. } => Final(Error::AccessDenied(format!(
            "reading code at {url}: access denied"
        ))),
        other if other.is_transient() => {
            Transient(Error::CodeDownload(format!("downloading {url}: {other}")))
        }
        other => Final(Error::CodeDownload(format!("downloading {url}: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_of_code() {
        let parse = |text| Location::parse(text).unwrap();
        assert!(matches!(parse("s3://bucket/code.zip"), Location::S3(_)));
        assert!(matches!(
            parse("https://x.s3.amazonaws.com/k?X-Amz-Signature=s"),
            Location::Http(_)
        ));
        assert!(matches!(
            parse("https://bucket.s3.amazonaws.com/code.zip"),
            Location::S3(_)
        ));
        assert!(matches!(parse("./code.zip"), Location::Local(_)));
        assert_eq!(
            Shown(&parse("https://h/b/k?X-Amz-Signature=secret")).to_string(),
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
