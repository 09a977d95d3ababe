//! GDAL configuration: header-only remote reads, local S3 endpoints, and
//! GDAL's error messages routed to `tracing` and kept for our errors.

use std::cell::RefCell;
use std::sync::Once;

use gdal::config::set_config_option;
use gdal::errors::CplErrType;
use stratus_aws::S3Url;

/// What to open: a local path or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path GDAL can open directly (a file, or any `/vsi…/` path).
    Path(String),
    /// An S3 object, read through `/vsis3/`.
    S3(S3Url),
}

impl Source {
    /// `s3://` and S3 `https://` URLs become [`Source::S3`], anything else a path.
    pub fn parse(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("s3://")
            || lower.starts_with("https://")
            || lower.starts_with("http://")
        {
            if let Ok(url) = S3Url::parse(text) {
                return Source::S3(url);
            }
        }
        Source::Path(text.to_string())
    }

    /// The path handed to GDAL.
    pub fn gdal_path(&self) -> String {
        match self {
            Source::Path(p) => p.clone(),
            Source::S3(u) => u.vsis3(),
        }
    }

    /// The URL a STAC asset points at.
    pub fn href(&self) -> String {
        match self {
            Source::Path(p) => p.clone(),
            Source::S3(u) => u.to_string(),
        }
    }
}

/// Bytes GDAL reads with its first request: a COG's header (IFDs and tile
/// offsets of the main image and overviews) fits in this for all but huge
/// files, so opening costs one ranged GET.
pub const HEADER_BYTES: &str = "32768";

thread_local! {
    static MESSAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Messages GDAL reported on this thread since the last call.
pub(crate) fn take_messages() -> Vec<String> {
    MESSAGES.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// Configure GDAL once per process:
/// - header-only reads over HTTP: no directory listing on open
///   (`GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`), a first read of
///   [`HEADER_BYTES`], no sidecar probing, no auxiliary `.aux.xml` files;
/// - a custom S3 endpoint (`AWS_ENDPOINT_URL[_S3]`, e.g. a local emulator)
///   translated into GDAL's own `AWS_S3_ENDPOINT`/`AWS_HTTPS`/`AWS_VIRTUAL_HOSTING`
///   unless those are set already;
/// - GDAL errors and warnings go to `tracing` instead of stderr, and are kept
///   per thread so errors carry GDAL's most specific message.
pub fn configure_gdal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let defaults = [
            ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            ("GDAL_INGESTED_BYTES_AT_OPEN", HEADER_BYTES),
            ("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES"),
            ("GDAL_PAM_ENABLED", "NO"),
            ("CPL_VSIL_CURL_USE_HEAD", "NO"),
            ("GDAL_HTTP_MAX_RETRY", "3"),
            ("GDAL_HTTP_RETRY_DELAY", "0.5"),
        ];
        for (key, value) in defaults {
            if std::env::var_os(key).is_none() {
                set(key, value);
            }
        }
        if std::env::var_os("AWS_S3_ENDPOINT").is_none() {
            if let Some(endpoint) = stratus_aws::config::s3_endpoint_from_env() {
                let (https, host) = match endpoint.split_once("://") {
                    Some((scheme, rest)) => (scheme.eq_ignore_ascii_case("https"), rest),
                    None => (true, endpoint.as_str()),
                };
                set("AWS_S3_ENDPOINT", host.trim_end_matches('/'));
                set("AWS_HTTPS", if https { "YES" } else { "NO" });
                set("AWS_VIRTUAL_HOSTING", "FALSE");
            }
        }
        gdal::config::set_error_handler(|class, number, message| {
            match class {
                CplErrType::Failure | CplErrType::Fatal => {
                    tracing::debug!(gdal_error = number, "{message}")
                }
                CplErrType::Warning => tracing::debug!(gdal_warning = number, "{message}"),
                _ => return,
            }
            MESSAGES.with(|m| m.borrow_mut().push(message.to_string()));
        });
    });
}

fn set(key: &str, value: &str) {
    if let Err(e) = set_config_option(key, value) {
        tracing::warn!("cannot set GDAL option {key}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("s3://b-1/k.tif").gdal_path(),
            "/vsis3/b-1/k.tif"
        );
        assert_eq!(
            Source::parse("https://b-1.s3.amazonaws.com/a%20b.tif").gdal_path(),
            "/vsis3/b-1/a b.tif"
        );
        assert_eq!(
            Source::parse("/tmp/x.tif"),
            Source::Path("/tmp/x.tif".into())
        );
        assert_eq!(
            Source::parse("/vsicurl/https://x/y.tif").gdal_path(),
            "/vsicurl/https://x/y.tif"
        );
        assert_eq!(Source::parse("s3://b-1/k.tif").href(), "s3://b-1/k.tif");
    }
}
