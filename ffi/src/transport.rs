//! Transports supplied by the host as C callbacks.

use crate::api::{Transport, TransportError};
use core::ffi::{c_int, c_void};

/// A callback returned success.
pub const FXS_IO_OK: c_int = 0;
/// A callback reports that the connection is closed (for `recv`: end of stream before `len`
/// bytes arrived). Any other non-zero value is a failure whose code appears in the error message.
pub const FXS_IO_CLOSED: c_int = 1;

/// Sends exactly `len` bytes from `buf`, blocking until they are handed to the connection.
///
/// Returns `FXS_IO_OK`, `FXS_IO_CLOSED`, or any other non-zero failure code (e.g. `-errno`).
/// `buf` is borrowed for the duration of the call only. `len` is never 0.
pub type fxs_send_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, buf: *const u8, len: usize) -> c_int>;

/// Receives exactly `len` bytes into `buf`, blocking until all of them arrived.
///
/// Returns `FXS_IO_OK`, `FXS_IO_CLOSED` (end of stream), or any other non-zero failure code.
/// `buf` is borrowed for the duration of the call only. `len` is never 0.
pub type fxs_recv_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, buf: *mut u8, len: usize) -> c_int>;

/// Pushes out anything the host buffered in `send` (called before fixshare waits for the peer).
///
/// Returns `FXS_IO_OK`, `FXS_IO_CLOSED`, or any other non-zero failure code.
pub type fxs_flush_fn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> c_int>;

/// A reliable, ordered, blocking byte stream to one peer (a TCP socket, a pipe, a UART), as
/// callbacks.
///
/// `send` and `recv` are required; `flush` may be NULL when `send` does not buffer. Each call
/// must complete the whole request before returning: the C ABI drives the protocols with one
/// poll (`block_on`), so non-blocking, partial or "try again" callbacks are not
/// supported (return an error instead). Callbacks must not unwind (C++: catch every exception)
/// and must not call back into the fixshare object they serve.
///
/// The struct is copied when it is handed to fixshare; `user_data` must stay valid until the
/// object that received the transport is freed or cleared. fixshare never closes a
/// connection: the host does, after freeing the object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_transport {
    /// Sends bytes; required.
    pub send: fxs_send_fn,
    /// Receives bytes; required.
    pub recv: fxs_recv_fn,
    /// Flushes buffered bytes; optional (NULL: nothing to flush).
    pub flush: fxs_flush_fn,
    /// Passed to every callback unchanged.
    pub user_data: *mut c_void,
}

/// A validated [`fxs_transport`]: the two required callbacks are present.
pub(crate) struct CTransport {
    send: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    recv: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_int,
    flush: fxs_flush_fn,
    user_data: *mut c_void,
}

impl CTransport {
    /// Checks the callbacks; `None` when `send` or `recv` is NULL.
    pub(crate) fn new(t: &fxs_transport) -> Option<CTransport> {
        Some(CTransport {
            send: t.send?,
            recv: t.recv?,
            flush: t.flush,
            user_data: t.user_data,
        })
    }
}

fn result(code: c_int) -> Result<(), TransportError> {
    match code {
        FXS_IO_OK => Ok(()),
        FXS_IO_CLOSED => Err(TransportError::Closed),
        code => Err(TransportError::Failed(code)),
    }
}

impl Transport for CTransport {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        if buf.is_empty() {
            return Ok(());
        }
        // SAFETY: the callback is non-NULL (checked in `new`); by the contract of
        // `fxs_transport` it accepts `user_data` and a buffer valid for reads of `len` bytes,
        // which `buf` is for the duration of the call.
        result(unsafe { (self.send)(self.user_data, buf.as_ptr(), buf.len()) })
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        if buf.is_empty() {
            return Ok(());
        }
        // SAFETY: as for `send`; `buf` is valid for writes of `len` bytes and not aliased
        // during the call.
        result(unsafe { (self.recv)(self.user_data, buf.as_mut_ptr(), buf.len()) })
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        match self.flush {
            // SAFETY: a non-NULL flush callback takes only `user_data` (contract of
            // `fxs_transport`).
            Some(f) => result(unsafe { f(self.user_data) }),
            None => Ok(()),
        }
    }
}

/// One connection of a party or of the dealer, named for error messages: it remembers that one
/// of its callbacks failed, so that a transport error (whose core message says "the peer"
/// whichever connection it was) can name the connection.
#[cfg(feature = "std")]
pub(crate) struct Watch {
    what: &'static str,
    failed: alloc::sync::Arc<core::sync::atomic::AtomicBool>,
}

#[cfg(feature = "std")]
impl Watch {
    /// A watch for the connection `what` (e.g. "the connection to the helper, `dealer`").
    pub(crate) fn new(what: &'static str) -> Watch {
        Watch {
            what,
            failed: alloc::sync::Arc::default(),
        }
    }

    /// `t`, reporting its failures to this watch.
    pub(crate) fn wrap(&self, t: CTransport) -> Watched {
        Watched {
            inner: t,
            failed: self.failed.clone(),
        }
    }

    /// The name of the connection if one of its callbacks failed since the last call.
    pub(crate) fn take(&self) -> Option<&'static str> {
        use core::sync::atomic::Ordering;
        self.failed
            .swap(false, Ordering::Relaxed)
            .then_some(self.what)
    }
}

/// A [`CTransport`] whose failures a [`Watch`] sees.
#[cfg(feature = "std")]
pub(crate) struct Watched {
    inner: CTransport,
    failed: alloc::sync::Arc<core::sync::atomic::AtomicBool>,
}

#[cfg(feature = "std")]
impl Watched {
    fn seen(&self, r: Result<(), TransportError>) -> Result<(), TransportError> {
        if r.is_err() {
            self.failed
                .store(true, core::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}

#[cfg(feature = "std")]
impl Transport for Watched {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        let r = self.inner.send(buf).await;
        self.seen(r)
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        let r = self.inner.recv(buf).await;
        self.seen(r)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let r = self.inner.flush().await;
        self.seen(r)
    }
}
