//! Stop signals: SIGTERM (`docker stop`, a cancelled Batch job) and SIGINT
//! (Ctrl-C), and the [`Error::Terminated`] a stopped run ends with. The
//! command as a whole and an invocation in progress both listen (every
//! listener sees each signal): the invocation kills its runtime and reports,
//! and the command gives it a moment to do so.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::{Error, Result};

/// Listens for stop signals from its creation on.
pub(crate) struct StopSignals {
    term: Signal,
    int: Signal,
}

impl StopSignals {
    /// Start listening.
    pub fn listen() -> Result<Self> {
        Ok(StopSignals {
            term: signal(SignalKind::terminate())
                .map_err(|e| Error::io("installing a SIGTERM handler", e))?,
            int: signal(SignalKind::interrupt())
                .map_err(|e| Error::io("installing a SIGINT handler", e))?,
        })
    }

    /// Wait for the next stop signal; the error it ends the run with.
    pub async fn recv(&mut self) -> Error {
        let signal = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        };
        Error::Terminated { signal }
    }
}

/// How long a stop signal leaves the command to wind down by itself (an
/// invocation in progress kills its runtime and reports) before it is dropped.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Run `work` to its end, or, on a stop signal, for [`STOP_GRACE`] more and
/// then end with [`Error::Terminated`].
pub(crate) async fn until_stopped(work: impl Future<Output = Result<()>>) -> Result<()> {
    let mut stop = StopSignals::listen()?;
    tokio::pin!(work);
    let stopped = tokio::select! {
        result = &mut work => return result,
        stopped = stop.recv() => stopped,
    };
    match tokio::time::timeout(STOP_GRACE, &mut work).await {
        Ok(result) => result,
        Err(_) => Err(stopped),
    }
}
