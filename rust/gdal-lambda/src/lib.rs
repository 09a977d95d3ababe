//! gdal-lambda: for every raster uploaded to S3, read its header with GDAL
//! (ranged GETs, header only), log one JSON record of its metadata and
//! write a STAC Item for it.
//!
//! [`handle`] is the Lambda handler; [`Config`] is read once from the
//! environment at start, and `main` locks GDAL down to reading uploads
//! ([`raster_info::lockdown`]). Uploads are hostile input: a record is a
//! permanent failure, logged and reported without failing the invocation,
//! only when it is known to fail again (not a raster, corrupt, empty,
//! deleted, refused by a limit or for pointing elsewhere); anything else
//! (network, S3, timeouts) fails the invocation so Lambda retries it.
//!
//! Modules: [`cli`] (the command line), `handler` (an invocation: records, deadline, response), `event`
//! (what a payload asks for), `target` (one record of work), `process` (one record), `upload` (an object
//! read as a raster), `parsers` and [`worker`] (the confined processes that
//! parse uploads, and the frames of `protocol` between them), `outcome`
//! (how a record ended), `config`, `logging` (the JSON records), `clock`
//! (timestamps), `summary` (what `info` prints for a person). Backfills:
//! `batch_operations` (S3 Batch Operations' invocations and their answers),
//! `distributed_map` (Step Functions' items) and `unchanged` (what an Item
//! records so that a re-run leaves it alone). `publish` (with `publish_sns`
//! and `publish_cirrus`): each Item announced once written. [`collection`]:
//! the STAC Collection kept current with every Item (`COLLECTION_ID`).

mod batch_operations;
pub mod cli;
mod clock;
pub mod collection;
mod config;
mod distributed_map;
mod event;
mod handler;
mod logging;
mod outcome;
mod parse_bench;
mod parsers;
mod process;
mod protocol;
mod publish;
mod publish_cirrus;
mod publish_error;
mod publish_sns;
mod summary;
mod target;
mod unchanged;
mod upload;
pub mod worker;

pub use batch_operations::{Answer, ResultCode, TaskResult};
pub use config::Config;
pub use handler::{handle, HandlerError, Response};
pub use logging::{init_tracing, MAX_RECORD_BYTES};
pub use outcome::{FailureKind, Outcome, Status};
pub use parsers::Parsers;
pub use process::Deps;
