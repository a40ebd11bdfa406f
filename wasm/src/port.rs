//! [`MessagePortTransport`]: a transport over a `MessagePort` (browsers, Web Workers, Node's
//! `worker_threads`).

use crate::transport::{describe, method};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// What arrived and who waits for it.
#[derive(Default)]
struct State {
    buf: Vec<u8>,
    start: usize,
    /// The peer closed its end (a `null` message or the port's `close` event).
    peer_closed: bool,
    /// `close()` was called here.
    closed: bool,
    /// A message that is neither bytes nor the end marker arrived.
    bad: Option<String>,
    /// The pending `recv(n)`: `n`, resolve, reject.
    waiter: Option<(usize, Function, Function)>,
    /// The pending `recv`'s timer id.
    timer: Option<JsValue>,
}

/// A kept-alive event listener.
type Listener = RefCell<Option<Closure<dyn FnMut(JsValue)>>>;

struct Shared {
    port: JsValue,
    state: RefCell<State>,
    timeout_ms: Option<f64>,
    on_message: Listener,
    on_close: Listener,
    on_timeout: RefCell<Option<Closure<dyn FnMut()>>>,
}

/// A byte-stream transport over a `MessagePort`, for [`crate::party::Party`], the dealer and
/// data owners: `send` posts the bytes, `recv(n)` resolves once `n` bytes arrived, or to `null`
/// once the peer has closed its end. `close()` tells the peer and closes the port.
///
/// Options: `{ timeoutMs }` rejects a `recv` that waits longer (for peers that may vanish
/// without closing, such as a terminated worker).
#[wasm_bindgen]
pub struct MessagePortTransport {
    shared: Rc<Shared>,
}

fn call_global(name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let global = js_sys::global();
    let f = method(&global, name).ok_or_else(|| JsValue::from_str("no such global function"))?;
    f.apply(&global, &args.iter().collect::<Array>())
}

impl Shared {
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
            Err(js_sys::Error::new("the port was closed on this side").into())
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

    fn on_message(&self, event: JsValue) {
        let data = Reflect::get(&event, &JsValue::from_str("data")).unwrap_or(JsValue::UNDEFINED);
        {
            let mut st = self.state.borrow_mut();
            if data.is_null() {
                st.peer_closed = true;
            } else if let Some(bytes) = data.dyn_ref::<Uint8Array>() {
                let at = st.buf.len();
                st.buf.resize(at + bytes.length() as usize, 0);
                bytes.copy_to(&mut st.buf[at..]);
            } else if let Some(ab) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                let bytes = Uint8Array::new(ab);
                let at = st.buf.len();
                st.buf.resize(at + bytes.length() as usize, 0);
                bytes.copy_to(&mut st.buf[at..]);
            } else if st.bad.is_none() {
                st.bad = Some(format!(
                    "the port received a message that is not bytes: {}",
                    describe(&data)
                ));
            }
        }
        self.settle();
    }

    fn on_timeout(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.timer = None;
            if st.bad.is_none() {
                st.bad = Some(format!(
                    "recv timed out after {} ms (the peer sent nothing)",
                    self.timeout_ms.unwrap_or(0.0)
                ));
            }
        }
        self.settle();
    }

    fn detach(&self) {
        for (event, slot) in [("message", &self.on_message), ("close", &self.on_close)] {
            if let Some(cb) = slot.borrow_mut().take()
                && let Some(remove) = method(&self.port, "removeEventListener")
            {
                let _ = remove.call2(&self.port, &JsValue::from_str(event), cb.as_ref());
            }
        }
    }
}

#[wasm_bindgen]
impl MessagePortTransport {
    /// Wraps `port` (a `MessagePort`, or anything with `postMessage`, `addEventListener` and
    /// `close`) and starts it. `options`: `{ timeoutMs?: number }`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "MessagePort")] port: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ timeoutMs?: number }")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<MessagePortTransport, JsError> {
        let (Some(add), Some(_)) = (
            method(&port, "addEventListener"),
            method(&port, "postMessage"),
        ) else {
            return Err(JsError::new(
                "MessagePortTransport: expected a MessagePort (postMessage and addEventListener)",
            ));
        };
        let timeout_ms = match options {
            Some(o) => {
                let t =
                    Reflect::get(&o, &JsValue::from_str("timeoutMs")).unwrap_or(JsValue::UNDEFINED);
                match t.as_f64() {
                    Some(ms) if ms > 0.0 && ms.is_finite() => Some(ms),
                    Some(_) => {
                        return Err(JsError::new(
                            "MessagePortTransport: timeoutMs must be a positive number",
                        ));
                    }
                    None if t.is_undefined() => None,
                    None => {
                        return Err(JsError::new(
                            "MessagePortTransport: timeoutMs must be a number",
                        ));
                    }
                }
            }
            None => None,
        };
        let shared = Rc::new(Shared {
            port: port.clone(),
            state: RefCell::new(State::default()),
            timeout_ms,
            on_message: RefCell::new(None),
            on_close: RefCell::new(None),
            on_timeout: RefCell::new(None),
        });
        let weak: Weak<Shared> = Rc::downgrade(&shared);
        let w = weak.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(s) = w.upgrade() {
                s.on_message(e);
            }
        });
        let w = weak.clone();
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
            if let Some(s) = w.upgrade() {
                s.state.borrow_mut().peer_closed = true;
                s.settle();
            }
        });
        let w = weak;
        let on_timeout = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = w.upgrade() {
                s.on_timeout();
            }
        });
        add.call2(&port, &JsValue::from_str("message"), on_message.as_ref())
            .map_err(|e| JsError::new(&describe(&e)))?;
        add.call2(&port, &JsValue::from_str("close"), on_close.as_ref())
            .map_err(|e| JsError::new(&describe(&e)))?;
        *shared.on_message.borrow_mut() = Some(on_message);
        *shared.on_close.borrow_mut() = Some(on_close);
        *shared.on_timeout.borrow_mut() = Some(on_timeout);
        if let Some(start) = method(&port, "start") {
            let _ = start.call0(&port);
        }
        Ok(MessagePortTransport { shared })
    }

    /// Posts a copy of `bytes` to the peer. Rejects once the port is closed on this side.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn send(&self, bytes: &Uint8Array) -> Promise {
        let s = &self.shared;
        if s.state.borrow().closed {
            return Promise::reject(&js_sys::Error::new("send: the port is closed").into());
        }
        let copy = Uint8Array::new(bytes);
        let transfer = Array::of1(&copy.buffer());
        let result = method(&s.port, "postMessage")
            .ok_or_else(|| JsValue::from_str("the port has no postMessage"))
            .and_then(|post| post.call2(&s.port, &copy, &transfer));
        match result {
            Ok(_) => Promise::resolve(&JsValue::UNDEFINED),
            Err(e) => Promise::reject(
                &js_sys::Error::new(&format!("send: postMessage failed: {}", describe(&e))).into(),
            ),
        }
    }

    /// Resolves to the next `n` bytes, or to `null` if the peer closed its end before they
    /// arrived. One `recv` at a time.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array | null>")]
    pub fn recv(&self, n: f64) -> Promise {
        let s = self.shared.clone();
        if !(n >= 0.0 && n <= u32::MAX as f64 && n.fract() == 0.0) {
            return Promise::reject(
                &js_sys::Error::new("recv: n must be a non-negative integer").into(),
            );
        }
        if s.state.borrow().waiter.is_some() {
            return Promise::reject(
                &js_sys::Error::new("recv: another recv on this port is still pending").into(),
            );
        }
        let mut slot = Some((n as usize, s.clone()));
        let promise = Promise::new(&mut |resolve, reject| {
            if let Some((n, s)) = slot.take() {
                s.state.borrow_mut().waiter = Some((n, resolve, reject));
            }
        });
        s.settle();
        let pending = s.state.borrow().waiter.is_some();
        let timer = s.on_timeout.borrow();
        if pending
            && let (Some(ms), Some(cb)) = (s.timeout_ms, timer.as_ref())
            && let Ok(id) = call_global("setTimeout", &[cb.as_ref().clone(), JsValue::from_f64(ms)])
        {
            s.state.borrow_mut().timer = Some(id);
        }
        drop(timer);
        promise
    }

    /// Tells the peer that this end is done (its pending and later `recv`s resolve to `null`),
    /// closes the port and rejects a `recv` pending here.
    pub fn close(&self) {
        let s = &self.shared;
        if s.state.borrow().closed {
            return;
        }
        s.state.borrow_mut().closed = true;
        if let Some(post) = method(&s.port, "postMessage") {
            let _ = post.call1(&s.port, &JsValue::NULL);
        }
        if let Some(close) = method(&s.port, "close") {
            let _ = close.call0(&s.port);
        }
        s.detach();
        s.settle();
    }
}

impl Drop for MessagePortTransport {
    fn drop(&mut self) {
        let timer = self.shared.state.borrow_mut().timer.take();
        if let Some(t) = timer {
            let _ = call_global("clearTimeout", &[t]);
        }
        self.shared.detach();
    }
}
