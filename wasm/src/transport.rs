//! A JS object with Promise-returning `send` and `recv` as a core [`Transport`].
//!
//! The object's `send(bytes: Uint8Array)` must settle once the bytes are handed to the connection,
//! `recv(n: number)` must resolve to a `Uint8Array` of exactly `n` bytes, or to `null` when the
//! connection ended (the peer closed it). A rejection, a thrown exception or a resolved value of
//! another shape fails the operation with the JS reason in its message. `close()` is optional.
//!
//! Sends are gathered and handed to `send` in one piece before every receive (and at the end of
//! every operation), so a protocol round costs one `send` call per direction. The transports of
//! one object (a party's peer and dealer connections, a data owner's or the dealer's two) form a
//! group ([`JsTransport::group`]): a receive on any of them first hands every member's gathered
//! bytes over, so that an operation waiting on one connection (a party waiting for the dealer's
//! answer) never holds back bytes another peer waits for (its input shares to the other party,
//! which the dealer needs that party's request for).

use fixshare::session::{Transport, TransportError};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Bytes gathered before they are handed to `send` even without a flush.
const GATHER: usize = 256 * 1024;

/// Transport failure codes (they appear in the core's message, the JS reason beside them).
const CODE_SEND: i32 = -1;
const CODE_RECV: i32 = -2;

/// The JS side of one connection, shared by every channel that uses it.
struct Inner {
    /// What the connection is for, in messages ("peer", "dealer", ...).
    name: &'static str,
    object: JsValue,
    send: Function,
    recv: Function,
    out: RefCell<Vec<u8>>,
    /// Why the last JS call failed, for the error message.
    note: RefCell<Option<String>>,
    /// The other transports of the same object (see [`JsTransport::group`]).
    group: RefCell<Vec<Weak<Inner>>>,
}

/// A JS transport object; clones share the connection and its send buffer.
#[derive(Clone)]
pub(crate) struct JsTransport(Rc<Inner>);

/// A readable description of a JS value thrown or rejected.
pub(crate) fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_null() {
        return "null".into();
    }
    match js_sys::JSON::stringify(v) {
        Ok(s) => s
            .as_string()
            .unwrap_or_else(|| "a non-serializable value".into()),
        Err(_) => "a non-serializable value".into(),
    }
}

/// The method `name` of `object`, if it is a function.
pub(crate) fn method(object: &JsValue, name: &str) -> Option<Function> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

impl JsTransport {
    /// Checks that `object` has `send` and `recv` methods.
    pub(crate) fn new(name: &'static str, object: JsValue) -> Result<Self, String> {
        let send = method(&object, "send");
        let recv = method(&object, "recv");
        match (send, recv) {
            (Some(send), Some(recv)) => Ok(JsTransport(Rc::new(Inner {
                name,
                object,
                send,
                recv,
                out: RefCell::new(Vec::new()),
                note: RefCell::new(None),
                group: RefCell::new(Vec::new()),
            }))),
            _ => Err(format!(
                "the {name} transport must be an object with send(Uint8Array) and recv(n) methods"
            )),
        }
    }

    /// Joins `members` into one group: a receive on any of them first hands every member's
    /// gathered bytes to its `send`.
    pub(crate) fn group(members: &[&JsTransport]) {
        for t in members {
            *t.0.group.borrow_mut() = members
                .iter()
                .filter(|o| !Rc::ptr_eq(&o.0, &t.0))
                .map(|o| Rc::downgrade(&o.0))
                .collect();
        }
    }

    /// What this transport is for.
    pub(crate) fn name(&self) -> &'static str {
        self.0.name
    }

    /// Why the last JS call failed, if it did (and forgets it).
    pub(crate) fn take_note(&self) -> Option<String> {
        self.0.note.borrow_mut().take()
    }

    fn fail(&self, code: i32, why: String) -> TransportError {
        *self.0.note.borrow_mut() = Some(why);
        TransportError::Failed(code)
    }

    /// Awaits `f` called with `arg`: a thrown exception or a rejection is an error.
    async fn call(&self, f: &Function, arg: &JsValue, what: &str) -> Result<JsValue, String> {
        let ret = f
            .call1(&self.0.object, arg)
            .map_err(|e| format!("{what} threw: {}", describe(&e)))?;
        JsFuture::from(Promise::resolve(&ret))
            .await
            .map_err(|e| format!("{what} rejected: {}", describe(&e)))
    }

    /// Hands the gathered bytes to JS `send`.
    pub(crate) async fn push(&self) -> Result<(), TransportError> {
        let bytes = {
            let mut out = self.0.out.borrow_mut();
            if out.is_empty() {
                return Ok(());
            }
            let bytes = Uint8Array::from(out.as_slice());
            out.clear();
            bytes
        };
        self.call(&self.0.send, &bytes, "send")
            .await
            .map(|_| ())
            .map_err(|why| self.fail(CODE_SEND, why))
    }

    /// Calls the object's `close()` if it has one (errors are ignored: the session is over).
    pub(crate) async fn close(&self) {
        if let Some(close) = method(&self.0.object, "close")
            && let Ok(ret) = close.call0(&self.0.object)
        {
            let _ = JsFuture::from(Promise::resolve(&ret)).await;
        }
    }
}

impl Transport for JsTransport {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        let full = {
            let mut out = self.0.out.borrow_mut();
            out.extend_from_slice(buf);
            out.len() >= GATHER
        };
        if full { self.push().await } else { Ok(()) }
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        // Whatever this side still holds must reach the peer before it can answer, and whatever
        // the object holds for its other peers (they may have to act before this one can).
        self.push().await?;
        let others: Vec<JsTransport> = self
            .0
            .group
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .map(JsTransport)
            .collect();
        for other in others {
            // A failure there fails this operation (the reason is recorded on `other`).
            other.push().await?;
        }
        let n = buf.len();
        let got = self
            .call(&self.0.recv, &JsValue::from_f64(n as f64), "recv")
            .await
            .map_err(|why| self.fail(CODE_RECV, why))?;
        if got.is_null() || got.is_undefined() {
            // Recorded so that the error names the transport (the core says "the peer" for
            // whichever connection ended: with three servers it may be the helper's).
            *self.0.note.borrow_mut() = Some(format!("recv({n}): the connection ended"));
            return Err(TransportError::Closed);
        }
        let Some(bytes) = got.dyn_ref::<Uint8Array>() else {
            return Err(self.fail(
                CODE_RECV,
                format!("recv({n}) resolved to {}, not a Uint8Array", describe(&got)),
            ));
        };
        if bytes.length() as usize != n {
            return Err(self.fail(
                CODE_RECV,
                format!("recv({n}) resolved to {} bytes", bytes.length()),
            ));
        }
        bytes.copy_to(buf);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.push().await
    }
}
