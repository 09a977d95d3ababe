//! `--report FILE`: the timings of a successful `run` or `exec`, written as
//! one JSON object at the end, for benchmarks to read (`just
//! run-lambda-overhead`, `scripts/images/startup.sh`) instead of scraping logs.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::{Error, Result};

/// Milliseconds of a run's phases; a phase the command does not have is left out.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Timings {
    /// To the runtime taking the event: from the runner's start for `run`,
    /// from starting the runtime for `exec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_event_ms: Option<f64>,
    /// `GetFunction` (`run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get_function_ms: Option<f64>,
    /// Fetching the payload, code and layers, concurrently (`run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_ms: Option<f64>,
    /// From starting the runtime to it taking the event (`run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_to_event_ms: Option<f64>,
}

/// A duration in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Timings {
    /// Write the report to `path`, when one was asked for.
    pub fn write_to(&self, path: Option<&Path>) -> Result<()> {
        let Some(path) = path else {
            return Ok(());
        };
        let json = serde_json::to_string(self).map_err(|e| Error::Output {
            url: path.display().to_string(),
            source: Box::new(e),
        })?;
        std::fs::write(path, json + "\n").map_err(|e| Error::Output {
            url: path.display().to_string(),
            source: Box::new(e),
        })
    }
}
