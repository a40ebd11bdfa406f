//! [`Inbox`]: bytes that arrive as messages (a `MessagePort`'s, a WebSocket's), read as a
//! stream by one pending `recv(n)` at a time, with an optional timeout.

use crate::transport::{describe, method};
use js_sys::{Array, Function, Promise, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// What arrived and who waits for it.
#[derive(Default)]
struct State {
    buf: Vec<u8>,
    start: usize,
    /// The peer closed its end in order.
    peer_closed: bool,
    /// `close()` was called here.
    closed: bool,
    /// Why the connection failed (the first reason), if it did.
    bad: Option<String>,
    /// The pending `recv(n)`: `n`, resolve, reject.
    waiter: Option<(usize, Function, Function)>,
    /// The pending `recv`'s timer id.
    timer: Option<JsValue>,
}

/// The receiving side of a message-based connection.
pub(crate) struct Inbox {
    /// What the connection is, in messages: "port", "WebSocket".
    what: &'static str,
    state: RefCell<State>,
    timeout_ms: Option<f64>,
    on_timeout: RefCell<Option<Closure<dyn FnMut()>>>,
}

/// Calls the global function `name` (`setTimeout`, `clearTimeout`).
pub(crate) fn call_global(name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let global = js_sys::global();
    let f = method(&global, name).ok_or_else(|| JsValue::from_str("no such global function"))?;
    f.apply(&global, &args.iter().collect::<Array>())
}

/// The `timeoutMs` option of `options`: `None` when absent, an error when not a positive
/// number.
pub(crate) fn timeout_option(
    what: &str,
    options: Option<&js_sys::Object>,
) -> Result<Option<f64>, JsError> {
    let Some(o) = options else {
        return Ok(None);
    };
    let t = js_sys::Reflect::get(o, &JsValue::from_str("timeoutMs")).unwrap_or(JsValue::UNDEFINED);
    match t.as_f64() {
        Some(ms) if ms > 0.0 && ms.is_finite() => Ok(Some(ms)),
        Some(_) => Err(JsError::new(&format!(
            "{what}: timeoutMs must be a positive number"
        ))),
        None if t.is_undefined() => Ok(None),
        None => Err(JsError::new(&format!("{what}: timeoutMs must be a number"))),
    }
}

impl Inbox {
    /// An empty inbox of a `what` ("port"); a `recv` waiting longer than `timeout_ms` rejects.
    pub(crate) fn new(what: &'static str, timeout_ms: Option<f64>) -> Rc<Inbox> {
        let inbox = Rc::new(Inbox {
            what,
            state: RefCell::new(State::default()),
            timeout_ms,
            on_timeout: RefCell::new(None),
        });
        let weak: Weak<Inbox> = Rc::downgrade(&inbox);
        let on_timeout = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = weak.upgrade() {
                s.timed_out();
            }
        });
        *inbox.on_timeout.borrow_mut() = Some(on_timeout);
        inbox
    }

    /// Bytes arrived.
    pub(crate) fn push(&self, bytes: &Uint8Array) {
        {
            let mut st = self.state.borrow_mut();
            let at = st.buf.len();
            st.buf.resize(at + bytes.length() as usize, 0);
            bytes.copy_to(&mut st.buf[at..]);
        }
        self.settle();
    }

    /// A message's data: a `Uint8Array` or an `ArrayBuffer` is bytes; anything else fails the
    /// connection.
    pub(crate) fn push_data(&self, data: &JsValue) {
        if let Some(bytes) = data.dyn_ref::<Uint8Array>() {
            self.push(bytes);
        } else if let Some(ab) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            self.push(&Uint8Array::new(ab));
        } else {
            self.fail(format!(
                "the {} received a message that is not bytes: {}",
                self.what,
                describe(data)
            ));
        }
    }

    /// The peer ended the connection in order: a `recv` it cannot satisfy resolves to `null`.
    pub(crate) fn end(&self) {
        self.state.borrow_mut().peer_closed = true;
        self.settle();
    }

    /// The connection failed: a `recv` it cannot satisfy rejects with `why` (the first reason
    /// is kept).
    pub(crate) fn fail(&self, why: String) {
        {
            let mut st = self.state.borrow_mut();
            if st.bad.is_none() {
                st.bad = Some(why);
            }
        }
        self.settle();
    }

    /// `close()` was called here: a pending `recv` rejects.
    pub(crate) fn close_here(&self) {
        self.state.borrow_mut().closed = true;
        self.settle();
    }

    /// Whether `close()` was called here.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Whether the connection failed or ended.
    pub(crate) fn is_over(&self) -> bool {
        let st = self.state.borrow();
        st.closed || st.peer_closed || st.bad.is_some()
    }

    fn timed_out(&self) {
        self.state.borrow_mut().timer = None;
        self.fail(format!(
            "recv timed out after {} ms (the peer sent nothing)",
            self.timeout_ms.unwrap_or(0.0)
        ));
    }

    /// Settles the pending `recv` if it can be settled now.
    fn settle(&self) {
        let mut st = self.state.borrow_mut();
        let Some((n, _, _)) = st.waiter.as_ref() else {
            return;
        };
        let n = *n;
        let available = st.buf.len() - st.start;
        let outcome: Result<JsValue, JsValue> = if available >= n {
            let bytes = Uint8Array::from(&st.buf[st.start..st.start + n]);
            st.start += n;
            if st.start == st.buf.len() {
                st.buf.clear();
                st.start = 0;
            } else if st.start > 64 * 1024 && st.start * 2 > st.buf.len() {
                let start = st.start;
                st.buf.drain(..start);
                st.start = 0;
            }
            Ok(bytes.into())
        } else if let Some(why) = st.bad.clone() {
            Err(js_sys::Error::new(&why).into())
        } else if st.closed {
            Err(js_sys::Error::new(&format!("the {} was closed on this side", self.what)).into())
        } else if st.peer_closed {
            Ok(JsValue::NULL)
        } else {
            return;
        };
        let Some((_, resolve, reject)) = st.waiter.take() else {
            return;
        };
        let timer = st.timer.take();
        drop(st);
        if let Some(t) = timer {
            let _ = call_global("clearTimeout", &[t]);
        }
        let _ = match outcome {
            Ok(v) => resolve.call1(&JsValue::UNDEFINED, &v),
            Err(e) => reject.call1(&JsValue::UNDEFINED, &e),
        };
    }

    /// Resolves to the next `n` bytes, or to `null` if the peer closed its end in order before
    /// they arrived; rejects if the connection failed or timed out. One `recv` at a time.
    pub(crate) fn recv(self: &Rc<Inbox>, n: f64) -> Promise {
        if !(n >= 0.0 && n <= u32::MAX as f64 && n.fract() == 0.0) {
            return Promise::reject(
                &js_sys::Error::new("recv: n must be a non-negative integer").into(),
            );
        }
        if self.state.borrow().waiter.is_some() {
            return Promise::reject(
                &js_sys::Error::new(&format!(
                    "recv: another recv on this {} is still pending",
                    self.what
                ))
                .into(),
            );
        }
        let mut slot = Some((n as usize, self.clone()));
        let promise = Promise::new(&mut |resolve, reject| {
            if let Some((n, s)) = slot.take() {
                s.state.borrow_mut().waiter = Some((n, resolve, reject));
            }
        });
        self.settle();
        let pending = self.state.borrow().waiter.is_some();
        let timer = self.on_timeout.borrow();
        if pending
            && let (Some(ms), Some(cb)) = (self.timeout_ms, timer.as_ref())
            && let Ok(id) = call_global("setTimeout", &[cb.as_ref().clone(), JsValue::from_f64(ms)])
        {
            self.state.borrow_mut().timer = Some(id);
        }
        drop(timer);
        promise
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        if let Some(t) = self.state.get_mut().timer.take() {
            let _ = call_global("clearTimeout", &[t]);
        }
    }
}
