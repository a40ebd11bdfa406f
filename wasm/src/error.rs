//! Errors as JS `Error`s: the core's message, with the JS transport's reason where one failed.

use crate::transport::JsTransport;
use fixshare::session::{Error, ErrorKind};
use wasm_bindgen::JsError;

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

/// [`message`] as a JS error.
pub(crate) fn core_error(e: &Error, transports: &[&JsTransport]) -> JsError {
    JsError::new(&message(e, transports))
}

/// A JS error for `op` with `why`.
pub(crate) fn invalid(op: &str, why: &str) -> JsError {
    JsError::new(&format!("{op}: {why}"))
}
