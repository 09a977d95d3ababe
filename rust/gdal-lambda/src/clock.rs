//! Times as gdal-lambda writes them: RFC 3339 in UTC, to the second in
//! Items (`created`, a file's modification time) and to the millisecond in
//! log records, as Lambda's own JSON log lines give them.

use std::time::SystemTime;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// `t` to the second (`2026-12-01T20:00:00Z`).
pub(crate) fn seconds(t: SystemTime) -> String {
    rfc3339(OffsetDateTime::from(t).replace_nanosecond(0))
}

/// Now, to the second.
pub(crate) fn now() -> String {
    seconds(SystemTime::now())
}

/// Now, to the millisecond (`2026-12-01T20:00:00.123Z`), for log records.
pub(crate) fn log_timestamp() -> String {
    let millis =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&millis)
        .unwrap_or_default()
}

fn rfc3339(t: Result<OffsetDateTime, time::error::ComponentRange>) -> String {
    // Formatting a UTC time as RFC 3339 fails only for years past 9999.
    t.ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats() {
        let t = UNIX_EPOCH + Duration::from_millis(1_764_619_200_789);
        assert_eq!(seconds(t), "2025-12-01T20:00:00Z");
        let log = log_timestamp();
        assert_eq!(log.len(), "2026-12-01T20:00:00.123Z".len(), "{log}");
        assert!(log.ends_with('Z'));
    }
}
