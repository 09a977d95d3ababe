//! GDAL configuration: header-only remote reads, local S3 endpoints, and
//! GDAL's error messages routed to `tracing` and kept (bounded) for our errors.

use std::cell::RefCell;
use std::sync::Once;

use gdal::config::set_config_option;
use gdal::errors::CplErrType;

/// Messages kept per read, and characters kept per message: a crafted file
/// can make GDAL warn without end.
const MAX_MESSAGES: usize = 20;

/// The start of the netCDF driver's message about /vsi paths and userfaultfd.
const NETCDF_VSI_NOTICE: &str =
    "Opening a /vsi file with the netCDF driver requires Linux userfaultfd";
const MAX_MESSAGE_CHARS: usize = 500;

/// Bytes fetched with the first request: a COG's header (IFDs and tile
/// offsets of the main image and overviews) fits in this for all but huge
/// files, so opening costs one ranged GET. GDAL ingests as much at open.
pub const HEADER_BYTES: usize = 32 * 1024;

/// CPLE_OutOfMemory: GDAL could not allocate.
const CPLE_OUT_OF_MEMORY: i32 = 2;

/// What GDAL reported on one thread.
#[derive(Debug, Default)]
pub(crate) struct GdalMessages {
    /// Errors and warnings in order (the first [`MAX_MESSAGES`], each cut short).
    pub(crate) messages: Vec<String>,
    /// An allocation failed.
    pub(crate) out_of_memory: bool,
}

thread_local! {
    static MESSAGES: RefCell<GdalMessages> = RefCell::new(GdalMessages::default());
}

/// What GDAL reported on this thread since the last call.
pub(crate) fn take_messages() -> GdalMessages {
    MESSAGES.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// Run `f`, keeping out of this thread's messages what GDAL says meanwhile
/// (probes of ours that are expected to fail, such as a pole outside a
/// projection's domain); an allocation failure is still kept.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let before = take_messages();
    let out = f();
    let during = take_messages();
    MESSAGES.with(|m| {
        *m.borrow_mut() = GdalMessages {
            out_of_memory: before.out_of_memory || during.out_of_memory,
            ..before
        }
    });
    out
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
pub(crate) fn configure_gdal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let header_bytes = HEADER_BYTES.to_string();
        let defaults = [
            ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
            ("GDAL_INGESTED_BYTES_AT_OPEN", header_bytes.as_str()),
            ("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES"),
            ("GDAL_PAM_ENABLED", "NO"),
            ("CPL_VSIL_CURL_USE_HEAD", "NO"),
            ("GDAL_HTTP_MAX_RETRY", "3"),
            ("GDAL_HTTP_RETRY_DELAY", "0.5"),
            // netCDF on a /vsi path: nc_open on the path (its I/O routed through
            // GDAL's file systems in the build we ship), not userfaultfd.
            ("CPL_ENABLE_USERFAULTFD", "NO"),
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
            // The netCDF driver says this of every /vsi path before it opens it with
            // nc_open, whose file access the GDAL build routes through GDAL's file
            // systems (scripts/gdal/vsi_io.c): not a failure there.
            if message.starts_with(NETCDF_VSI_NOTICE) {
                return;
            }
            match class {
                CplErrType::Failure | CplErrType::Fatal => {
                    tracing::debug!(gdal_error = number, "{message}")
                }
                CplErrType::Warning => tracing::debug!(gdal_warning = number, "{message}"),
                _ => return,
            }
            MESSAGES.with(|m| {
                let mut m = m.borrow_mut();
                m.out_of_memory |= number == CPLE_OUT_OF_MEMORY;
                if m.messages.len() < MAX_MESSAGES {
                    m.messages
                        .push(message.chars().take(MAX_MESSAGE_CHARS).collect());
                }
            });
        });
    });
}

fn set(key: &str, value: &str) {
    if let Err(e) = set_config_option(key, value) {
        tracing::warn!("cannot set GDAL option {key}: {e}");
    }
}
