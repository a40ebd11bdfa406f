//! # fixshare-ffi: the C ABI of fixshare
//!
//! A C or C++ program links `libfixshare` and includes `fixshare.h` (generated from this crate by
//! cbindgen) to host any role of a fixshare deployment over its own sockets:
//!
//! - a **dealer** (`fxs_dealer_serve`), the offline source of correlated randomness; the same
//!   call is the **helper** P2 of a three-server session (SecureNN), which also takes part in
//!   the non-linear layer online;
//! - an **assistant** Sa or Sb of a four-server session (PrivPy, `fxs_assistant_serve`), which
//!   computes products and sign tests for the primaries S1 and S2 on re-randomized shares;
//! - a **computing party** (`fxs_party_*`): secret sharing, reveal, arithmetic and the
//!   non-linear layer (ReLU, comparisons, sigmoids, max, argmax, max pooling and its
//!   derivative, division, exact truncation) on share matrices held in opaque `fxs_shares`
//!   handles, Bristol Fashion circuits by garbled circuits (`fxs_circuit_*`,
//!   `fxs_party_run_circuit`), and the server side of data-owner input; its offline phase comes
//!   from a dealer, from OT with the peer (`FXS_OFFLINE_OT`), or from the helper of a
//!   three-server session (`FXS_TOPOLOGY_THREE_SERVERS`, with `FXS_BACKEND_HELPER`: SecureNN's
//!   protocols on arithmetic shares), or a primary of a four-server one
//!   (`FXS_TOPOLOGY_FOUR_SERVERS`, `fxs_party_new_with_assistants`); the numerical functions
//!   (reciprocal, division, `exp`, `log`, square roots, logistic, `tanh`, select, equality,
//!   min/argmin, sum/mean/variance along an axis, broadcasting) in every topology; an opt-in
//!   precision guard (`fxs_party_config.precision_guard`, `FXS_STATUS_PRECISION_GUARD`); a
//!   promised width of the sign tests' inputs for FSS (`fxs_party_config.sign_bits`);
//!   machine learning on shares: linear and logistic regression and multilayer perceptrons by
//!   SGD (`fxs_party_train_glm`, `fxs_party_train_mlp`) and oblivious inference of networks of
//!   dense, convolution, ReLU, square and pooling layers (`fxs_party_classify`,
//!   `fxs_party_forward`, `fxs_party_classify_dense`);
//! - a **data owner** (`fxs_data_owner_*`): secret-shares readings to the two servers and
//!   reconstructs results, in caller-provided storage, without an allocator. This part also
//!   builds without `std` (`--no-default-features --features panic-handler`) as a static
//!   library for microcontrollers.
//!
//! And, with `std`, the deployment's connections and daemon (`fixshare-net`):
//!
//! - **TLS connections** (`fxs_tls_*`): a party's key from PEM files, connecting to a peer by
//!   address and pin, listening for the expected peers, TLS 1.3 with both keys pinned, the
//!   hello (session id, party ids) and timeouts on every wait; a connection's
//!   `fxs_tls_conn_transport` is an `fxs_transport` for any of the roles above;
//! - **the party daemon** (`fxs_daemon_*`): a `fixshare-party` configuration file, the session
//!   id and connections it makes, a server's, the dealer's or the helper's whole run in the
//!   caller's process (`fxs_daemon_run`), and a data owner's rows prepared as `fixshare-party
//!   owner` prepares them (`fxs_owner_data_*`, shared with `fxs_data_owner_share_part`).
//!
//! ## Conventions
//! - Every fallible function returns an [`fxs_status`]; results go through out-parameters.
//!   `fxs_last_error_message()` explains the last failure on the calling thread, naming the C
//!   function, the protocol operation and, for a transport failure, the connection (e.g.
//!   ``fxs_party_dot: dot: the peer closed the connection (the connection to the peer, `peer`)``).
//! - Handles are opaque and owned by the caller until passed to their `*_free` function;
//!   `*_free(NULL)` does nothing. Pointer arguments are borrowed for the duration of the call
//!   only, unless a function says otherwise.
//! - Every body runs inside a panic boundary: a panic inside fixshare becomes
//!   `FXS_STATUS_PANIC`; an object whose operation it interrupted half-way is unusable
//!   afterwards (`FXS_STATUS_UNUSABLE`), but can still be freed.
//! - A party has one state, kept by the core session: a call that fails after anything was sent
//!   or received poisons it, and every later call returns `FXS_STATUS_POISONED`, because the two
//!   parties can no longer be in step (it can still be freed). A call that fails before any
//!   communication (argument errors, status 100-199) leaves it usable: fix the arguments and
//!   go on. An error of that class found only after communicating is reported as
//!   `FXS_STATUS_POISONED`.
//! - A handle may move between threads, but must not be used by two threads at once.
//!
//! ## One floor of the core
//! The party functions translate `fixshare::session` (its `Session`, `AnyShares` and plain
//! types) and nothing else: types and status codes in, types and status codes out. The session
//! chooses the ring at run time, derives every seed from `fxs_party_config.seed`, and keeps the
//! one state machine.
//!
//! ## Ring width
//! Sessions run in Z_2^32, Z_2^64 or Z_2^128 (`ring_bits` in the configuration); shares carry
//! their width, and mixing widths returns `FXS_STATUS_RING_MISMATCH`.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
// The C names (fxs_status, fxs_party, ...) are part of the ABI.
#![allow(non_camel_case_types)]

#[cfg(feature = "std")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod circuit;
#[cfg(feature = "std")]
pub mod daemon;
pub mod data_owner;
#[cfg(feature = "std")]
pub mod ml;
#[cfg(feature = "std")]
pub mod nonlinear;
#[cfg(feature = "std")]
pub mod numeric;
#[cfg(feature = "std")]
pub mod party;
mod status;
#[cfg(feature = "std")]
pub mod tls;
mod transport;
#[cfg(feature = "std")]
pub mod weights;

#[cfg(all(test, feature = "std"))]
mod hardening_tests;

/// The core API: `fixshare::session`, the one module this crate imports from the core (without
/// `alloc` it holds the data owner's API, all the no_std build uses).
use fixshare::session as api;

use status::Failure;
pub use status::fxs_status;
pub use transport::{
    FXS_IO_CLOSED, FXS_IO_OK, fxs_flush_fn, fxs_recv_fn, fxs_send_fn, fxs_transport,
};

use core::ffi::c_char;

/// Runs the body of the exported function `name` inside a panic boundary (with `std`) and turns
/// its result into a status, recording the message of a failure for `fxs_last_error_message`.
pub(crate) fn run(name: &'static str, body: impl FnOnce() -> Result<(), Failure>) -> fxs_status {
    #[cfg(feature = "std")]
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(body))
        .unwrap_or(Err(Failure::Panic));
    #[cfg(not(feature = "std"))]
    let result = body();
    match result {
        Ok(()) => fxs_status::Ok,
        Err(failure) => {
            #[cfg(feature = "std")]
            last_error::set(name, &failure);
            #[cfg(not(feature = "std"))]
            let _ = name;
            failure.status()
        }
    }
}

/// Like [`run`] for functions without a status (`*_free`): swallows a panic.
#[cfg(feature = "std")]
pub(crate) fn run_void(body: impl FnOnce()) {
    let _ = std::panic::catch_unwind(core::panic::AssertUnwindSafe(body));
}

/// `len` elements at `ptr` as a slice; NULL is allowed when `len` is 0.
///
/// # Safety
/// If `len > 0` and `ptr` is not NULL, `ptr` must be valid for reads of `len` elements for `'a`,
/// and not written during `'a`.
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    what: &'static str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    check_array(ptr, len, what)?;
    // SAFETY: non-NULL, aligned, not too long (checked above); valid for `len` reads (caller).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` elements at `ptr` as a mutable slice; NULL is allowed when `len` is 0.
///
/// # Safety
/// If `len > 0` and `ptr` is not NULL, `ptr` must be valid for reads and writes of `len`
/// elements for `'a`, and not accessed otherwise during `'a`.
pub(crate) unsafe fn slice_mut<'a, T>(
    ptr: *mut T,
    len: usize,
    what: &'static str,
) -> Result<&'a mut [T], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    check_array(ptr, len, what)?;
    // SAFETY: non-NULL, aligned, not too long (checked above); valid and unaliased (caller).
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

fn check_array<T>(ptr: *const T, len: usize, what: &'static str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(
            "a buffer is misaligned for its element type",
        ));
    }
    if len > isize::MAX as usize / core::mem::size_of::<T>().max(1) {
        return Err(Failure::invalid("a buffer length is too large"));
    }
    Ok(())
}

/// The library version, e.g. `"0.1.0"` (a static NUL-terminated string; never NULL).
#[unsafe(no_mangle)]
pub extern "C" fn fxs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The name of a status code, e.g. `"FXS_STATUS_CLOSED"` (a static NUL-terminated string; never
/// NULL; `"FXS_STATUS_UNKNOWN"` for a number that is not a status).
#[unsafe(no_mangle)]
pub extern "C" fn fxs_status_name(status: u32) -> *const c_char {
    let name = status_from_u32(status).map_or("FXS_STATUS_UNKNOWN\0", status_name_nul);
    name.as_ptr().cast()
}

fn status_from_u32(v: u32) -> Option<fxs_status> {
    use fxs_status as S;
    Some(match v {
        0 => S::Ok,
        100 => S::NullPointer,
        101 => S::InvalidArgument,
        102 => S::BufferTooSmall,
        103 => S::DimensionMismatch,
        104 => S::OutOfRange,
        105 => S::Unsupported,
        106 => S::RingMismatch,
        107 => S::Capacity,
        108 => S::NotInitialized,
        109 => S::BadCircuit,
        110 => S::BadConfig,
        200 => S::Poisoned,
        201 => S::Unusable,
        202 => S::PrecisionGuard,
        300 => S::Closed,
        301 => S::Transport,
        302 => S::WouldBlock,
        303 => S::Timeout,
        304 => S::Tls,
        305 => S::Hello,
        306 => S::Unreachable,
        307 => S::JobFailed,
        400 => S::UnexpectedTag,
        401 => S::BadSequence,
        402 => S::UnexpectedLength,
        403 => S::FrameTooLarge,
        404 => S::Malformed,
        410 => S::WeightsAuthentication,
        411 => S::WeightsWrongModel,
        412 => S::WeightsWrongTrainers,
        413 => S::WeightsReplayed,
        414 => S::WeightsAhead,
        415 => S::WeightsOutOfOrder,
        416 => S::WeightsTooLarge,
        900 => S::Panic,
        901 => S::Internal,
        _ => return None,
    })
}

/// The NUL-terminated name of a status (static strings, so `fxs_status_name` needs no buffer).
fn status_name_nul(s: fxs_status) -> &'static str {
    STATUS_NAMES
        .iter()
        .find(|(v, _)| *v == s)
        .map_or("FXS_STATUS_UNKNOWN\0", |(_, n)| n)
}

const STATUS_NAMES: [(fxs_status, &str); 37] = [
    (fxs_status::Ok, "FXS_STATUS_OK\0"),
    (fxs_status::NullPointer, "FXS_STATUS_NULL_POINTER\0"),
    (fxs_status::InvalidArgument, "FXS_STATUS_INVALID_ARGUMENT\0"),
    (fxs_status::BufferTooSmall, "FXS_STATUS_BUFFER_TOO_SMALL\0"),
    (
        fxs_status::DimensionMismatch,
        "FXS_STATUS_DIMENSION_MISMATCH\0",
    ),
    (fxs_status::OutOfRange, "FXS_STATUS_OUT_OF_RANGE\0"),
    (fxs_status::Unsupported, "FXS_STATUS_UNSUPPORTED\0"),
    (fxs_status::RingMismatch, "FXS_STATUS_RING_MISMATCH\0"),
    (fxs_status::Capacity, "FXS_STATUS_CAPACITY\0"),
    (fxs_status::NotInitialized, "FXS_STATUS_NOT_INITIALIZED\0"),
    (fxs_status::BadCircuit, "FXS_STATUS_BAD_CIRCUIT\0"),
    (fxs_status::BadConfig, "FXS_STATUS_BAD_CONFIG\0"),
    (fxs_status::Poisoned, "FXS_STATUS_POISONED\0"),
    (fxs_status::Unusable, "FXS_STATUS_UNUSABLE\0"),
    (fxs_status::PrecisionGuard, "FXS_STATUS_PRECISION_GUARD\0"),
    (fxs_status::Closed, "FXS_STATUS_CLOSED\0"),
    (fxs_status::Transport, "FXS_STATUS_TRANSPORT\0"),
    (fxs_status::WouldBlock, "FXS_STATUS_WOULD_BLOCK\0"),
    (fxs_status::Timeout, "FXS_STATUS_TIMEOUT\0"),
    (fxs_status::Tls, "FXS_STATUS_TLS\0"),
    (fxs_status::Hello, "FXS_STATUS_HELLO\0"),
    (fxs_status::Unreachable, "FXS_STATUS_UNREACHABLE\0"),
    (fxs_status::JobFailed, "FXS_STATUS_JOB_FAILED\0"),
    (fxs_status::UnexpectedTag, "FXS_STATUS_UNEXPECTED_TAG\0"),
    (fxs_status::BadSequence, "FXS_STATUS_BAD_SEQUENCE\0"),
    (
        fxs_status::UnexpectedLength,
        "FXS_STATUS_UNEXPECTED_LENGTH\0",
    ),
    (fxs_status::FrameTooLarge, "FXS_STATUS_FRAME_TOO_LARGE\0"),
    (fxs_status::Malformed, "FXS_STATUS_MALFORMED\0"),
    (
        fxs_status::WeightsAuthentication,
        "FXS_STATUS_WEIGHTS_AUTHENTICATION\0",
    ),
    (
        fxs_status::WeightsWrongModel,
        "FXS_STATUS_WEIGHTS_WRONG_MODEL\0",
    ),
    (
        fxs_status::WeightsWrongTrainers,
        "FXS_STATUS_WEIGHTS_WRONG_TRAINERS\0",
    ),
    (fxs_status::WeightsReplayed, "FXS_STATUS_WEIGHTS_REPLAYED\0"),
    (fxs_status::WeightsAhead, "FXS_STATUS_WEIGHTS_AHEAD\0"),
    (
        fxs_status::WeightsOutOfOrder,
        "FXS_STATUS_WEIGHTS_OUT_OF_ORDER\0",
    ),
    (
        fxs_status::WeightsTooLarge,
        "FXS_STATUS_WEIGHTS_TOO_LARGE\0",
    ),
    (fxs_status::Panic, "FXS_STATUS_PANIC\0"),
    (fxs_status::Internal, "FXS_STATUS_INTERNAL\0"),
];

/// The message of the last failed `fxs_*` call on the calling thread, e.g.
/// ``"fxs_party_dot: dot: the peer closed the connection (the connection to the peer, `peer`)"``:
/// the C function, then the protocol operation and what went wrong, and for a transport failure
/// the connection whose callback failed (a party's `peer`, its `dealer` (the dealer or, with
/// three servers, the helper), or the dealer's `to_party0` / `to_party1`).
///
/// Returns a NUL-terminated string owned by the library, valid until the next failing `fxs_*`
/// call on the same thread (copy it to keep it); an empty string if no call failed yet. Never
/// NULL. Successful calls leave it unchanged. Each thread has its own message.
///
/// Only in the `std` build; without `std`, use `fxs_data_owner_last_error`.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub extern "C" fn fxs_last_error_message() -> *const c_char {
    last_error::get()
}

#[cfg(feature = "std")]
mod last_error {
    use super::Failure;
    use alloc::ffi::CString;
    use alloc::format;
    use core::cell::RefCell;
    use core::ffi::c_char;

    std::thread_local! {
        static MESSAGE: RefCell<CString> = RefCell::new(CString::default());
    }

    pub(crate) fn set(name: &str, failure: &Failure) {
        let text = format!("{name}: {failure}").replace('\0', " ");
        let text = CString::new(text).unwrap_or_default();
        // During thread teardown the slot may be gone: then the message is lost, nothing else.
        let _ = MESSAGE.try_with(|m| *m.borrow_mut() = text);
    }

    pub(crate) fn get() -> *const c_char {
        // The CString's heap buffer stays put until the next `set` on this thread.
        MESSAGE
            .try_with(|m| m.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    }
}

/// Without `std` and unwinding, a panic (a bug: the data-owner code returns errors instead) stops
/// the device in a spin loop, for a watchdog to reset. Only with the `panic-handler` feature, so
/// that Rust firmware linking the rlib keeps its own handler.
#[cfg(all(not(feature = "std"), feature = "panic-handler"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_match_the_header() {
        for s in fxs_status::ALL {
            let n = status_name_nul(s);
            assert!(n.starts_with("FXS_STATUS_") && n.ends_with('\0'));
            assert_eq!(status_from_u32(s as u32), Some(s));
        }
        assert_eq!(status_from_u32(7), None);
    }

    #[cfg(feature = "std")]
    #[test]
    fn panics_stop_at_the_boundary() {
        let status = run("fxs_test", || panic!("boom"));
        assert_eq!(status, fxs_status::Panic);
        // SAFETY: the pointer is a NUL-terminated string owned by this thread's slot.
        let msg = unsafe { core::ffi::CStr::from_ptr(fxs_last_error_message()) };
        let msg = msg.to_str().unwrap();
        assert!(msg.starts_with("fxs_test: internal panic"), "{msg}");
    }
}
