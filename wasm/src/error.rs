//! Errors as JS `Error`s: the core's message, with the JS transport's reason where one failed,
//! and a stable `code` naming the kind of failure (see [`code`]).

use crate::transport::JsTransport;
use fixshare::session::{Error, ErrorKind};
use js_sys::Reflect;
use wasm_bindgen::{JsError, JsValue};

/// The stable `code` of an error of `kind`, set on every JS `Error` that carries a core error
/// (and `"invalidArgument"` on the bindings' own argument errors). The names never change; new
/// kinds only add names:
///
/// - refused before anything was sent (the party stays usable): `"invalidArgument"`,
///   `"dimensionMismatch"`, `"outOfRange"`, `"ringMismatch"`, `"tooLarge"`, `"unsupported"`,
///   `"badCircuit"`;
/// - the session cannot be used any more: `"poisoned"` (an earlier failure), `"busy"` (another
///   call is pending), `"sessionClosed"` (`close()` was called), `"precisionGuard"` (the
///   precision guard stopped this operation; the error also has `headroom`);
/// - a connection failed: `"closed"` (it ended), `"transport"` (a JS `send`/`recv` failed);
/// - a peer sent what the protocol did not expect: `"protocol"`;
/// - anything else: `"other"`.
pub(crate) fn code(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Closed => "closed",
        ErrorKind::Transport(_) | ErrorKind::WouldBlock => "transport",
        ErrorKind::UnexpectedTag { .. }
        | ErrorKind::UnexpectedChannel { .. }
        | ErrorKind::BadSequence { .. }
        | ErrorKind::UnexpectedLength { .. }
        | ErrorKind::FrameTooLarge { .. }
        | ErrorKind::Malformed(_)
        | ErrorKind::InvalidPoint(_) => "protocol",
        ErrorKind::DimensionMismatch { .. } => "dimensionMismatch",
        ErrorKind::OutOfRange { .. } => "outOfRange",
        ErrorKind::Capacity { .. } | ErrorKind::TooLarge { .. } => "tooLarge",
        ErrorKind::InvalidArgument(_) => "invalidArgument",
        ErrorKind::Poisoned => "poisoned",
        ErrorKind::Busy => "busy",
        ErrorKind::SessionClosed => "sessionClosed",
        ErrorKind::RingMismatch { .. } => "ringMismatch",
        ErrorKind::Unsupported(_) => "unsupported",
        ErrorKind::PrecisionGuard { .. } => "precisionGuard",
        ErrorKind::BadCircuit { .. } => "badCircuit",
        _ => "other",
    }
}

/// A JS `Error` with message `msg` and `code` (and, for the precision guard, its `headroom`)
/// from `kind`.
pub(crate) fn coded(msg: &str, kind: &ErrorKind) -> JsError {
    let e = JsError::new(msg);
    let v: JsValue = e.clone().into();
    let _ = Reflect::set(&v, &"code".into(), &code(kind).into());
    if let ErrorKind::PrecisionGuard { headroom } = kind {
        let _ = Reflect::set(&v, &"headroom".into(), &(*headroom).into());
    }
    e
}

/// The core's message for `e`, with the reasons any of `transports` recorded (a rejected
/// Promise, a short `recv`) appended for a transport failure. Every recorded reason is consumed.
pub(crate) fn message(e: &Error, transports: &[&JsTransport]) -> String {
    let mut msg = e.to_string();
    let io = matches!(e.kind(), ErrorKind::Transport(_) | ErrorKind::Closed);
    for t in transports {
        if let Some(note) = t.take_note()
            && io
        {
            msg.push_str(&format!(" ({} transport: {note})", t.name()));
        }
    }
    msg
}

/// [`message`] as a JS error, with its `code`.
pub(crate) fn core_error(e: &Error, transports: &[&JsTransport]) -> JsError {
    coded(&message(e, transports), e.kind())
}

/// A JS error for `op` with `why` (code `"invalidArgument"`).
pub(crate) fn invalid(op: &str, why: &str) -> JsError {
    coded(
        &format!("{op}: {why}"),
        &ErrorKind::InvalidArgument("binding"),
    )
}
