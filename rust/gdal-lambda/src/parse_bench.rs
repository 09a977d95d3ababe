//! `gdal-lambda bench-parse FILE` (hidden; for `just bench`): the same
//! parse of a file's bytes, served from memory, in this process as the
//! handler once did it and in a confined worker as it does now, timed per
//! record, so the worker's cost per record is measured without S3.

use std::sync::Arc;
use std::time::Instant;

use raster_info::{Limits, Object, RangeReader, HEADER_BYTES};
use serde_json::json;

use crate::config::WorkerBudget;
use crate::parsers::Parsers;
use crate::protocol::Job;

/// A file's bytes, served by range.
struct Memory(Arc<Vec<u8>>);

impl RangeReader for Memory {
    fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let start = offset as usize;
        self.0
            .get(start..start + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| "past the end".to_string())
    }
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Parse `path` `runs` times each way; print the times (ms) as JSON.
pub(crate) async fn run(path: &str, runs: usize) -> anyhow::Result<()> {
    let bytes = Arc::new(std::fs::read(path)?);
    let head = bytes[..bytes.len().min(HEADER_BYTES)].to_vec();
    let limits = Limits::default();
    let name = format!("s3://bench/{path}");

    let parsers = Parsers::new(std::env::current_exe()?, WorkerBudget::default());
    let started = Instant::now();
    parsers.ensure_started().await;
    let worker_start_ms = millis(started);
    let mut worker = Vec::with_capacity(runs);
    for _ in 0..runs {
        let job = Job {
            name: name.clone(),
            size: bytes.len() as u64,
            head: head.clone(),
            limits,
            thumbnail: None,
        };
        let served = bytes.clone();
        let fetch = move |offset: u64, len: usize| {
            let served = served.clone();
            async move {
                let start = offset as usize;
                served
                    .get(start..start + len)
                    .map(bytes::Bytes::copy_from_slice)
                    .ok_or("past the end")
            }
        };
        let t = Instant::now();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        parsers
            .parse(job, &limits, fetch, deadline)
            .await
            .map_err(|e| anyhow::anyhow!("the worker's parse failed: {e:?}"))?;
        worker.push(millis(t));
    }

    // The in-process design: GDAL locked down in this process, the same reads.
    raster_info::lockdown();
    let mut in_process = Vec::with_capacity(runs);
    for _ in 0..runs {
        let object = Object {
            name: name.clone(),
            size: bytes.len() as u64,
            head: head.clone(),
            reader: Arc::new(Memory(bytes.clone())),
        };
        let t = Instant::now();
        raster_info::read_object_info(object, &limits)?;
        in_process.push(millis(t));
    }
    println!(
        "{}",
        json!({"file": path, "bytes": bytes.len(), "worker_start_ms": worker_start_ms,
               "worker_ms": worker, "in_process_ms": in_process})
    );
    Ok(())
}
