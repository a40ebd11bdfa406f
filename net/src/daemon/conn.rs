//! The daemon's connections: a transport (TLS, or a data owner's WebSocket) that knows which
//! peer it leads to and, when it
//! fails, records what happened (the transport's own error, which the core's error code alone
//! does not carry), so that the daemon's last word names the peer and the cause.
//!
//! How a connection ends says how its party's job ended: when the job is done, every
//! connection is closed in order (TLS close_notify); when it failed, every connection is cut
//! without one ([`AnyTransport::abort`]), so that a peer which would otherwise take the end of
//! the conversation for a normal one (the dealer, whose servers close between requests) knows
//! that its party did not finish.

use crate::any::AnyTransport;
use fixshare::{Transport, TransportError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a process's connections saw, shared by all of them: the failures in the order they
/// happened, and whether the job is done.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    failures: Arc<Mutex<Vec<String>>>,
    done: Arc<AtomicBool>,
}

impl Faults {
    fn record(&self, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    /// The first failure, if any (a peer's orderly close is none).
    pub(crate) fn first(&self) -> Option<String> {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first()
            .cloned()
    }

    /// The job is done: connections dropped from now on close in order.
    pub(crate) fn done(&self) {
        self.done.store(true, Ordering::Release);
    }
}

/// A connection to a named peer.
pub(crate) struct Conn {
    inner: AnyTransport,
    peer: String,
    faults: Faults,
    failed: bool,
}

impl Conn {
    /// `inner`, leading to `peer` (`server1`, `owner 0`, ...).
    pub(crate) fn new(
        inner: impl Into<AnyTransport>,
        peer: impl Into<String>,
        faults: &Faults,
    ) -> Conn {
        Conn {
            inner: inner.into(),
            peer: peer.into(),
            faults: faults.clone(),
            failed: false,
        }
    }

    /// How many bytes of a device's opened message are still unread (`None`: not a device).
    pub(crate) fn unread(&self) -> Option<usize> {
        match &self.inner {
            AnyTransport::Sealed(r) => Some(r.remaining()),
            _ => None,
        }
    }

    /// The idle limits from now on.
    pub(crate) fn set_timeouts(&mut self, read: Duration, write: Duration) {
        self.inner.set_timeouts(read, write);
    }

    fn note<T>(&mut self, r: Result<T, TransportError>) -> Result<T, TransportError> {
        if r.is_err() && !self.failed {
            self.failed = true;
            match self.inner.last_error() {
                Some(e) if e.is_orderly_close() => {}
                e => {
                    let addr = self
                        .inner
                        .peer_addr()
                        .map(|a| format!(" at {a}"))
                        .unwrap_or_default();
                    let why = match e {
                        Some(e) => e.to_string(),
                        None => "the connection failed".into(),
                    };
                    self.faults.record(format!("{}{addr}: {why}", self.peer));
                }
            }
        }
        r
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.failed {
            return;
        }
        if self.faults.done.load(Ordering::Acquire) {
            // Bounded by the write timeout.
            let _ = self.inner.close();
        } else {
            self.inner.abort();
        }
    }
}

impl Transport for Conn {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        let r = self.inner.send(buf).await;
        self.note(r)
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        let r = self.inner.recv(buf).await;
        self.note(r)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let r = self.inner.flush().await;
        self.note(r)
    }

    fn send_window(&self) -> usize {
        self.inner.send_window()
    }
}
