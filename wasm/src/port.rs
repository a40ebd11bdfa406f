//! [`MessagePortTransport`]: a transport over a `MessagePort` (browsers, Web Workers, Node's
//! `worker_threads`).

use crate::inbox::{Inbox, timeout_option};
use crate::transport::{describe, method};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// A kept-alive event listener.
type Listener = RefCell<Option<Closure<dyn FnMut(JsValue)>>>;

struct Shared {
    port: JsValue,
    inbox: Rc<Inbox>,
    on_message: Listener,
    on_close: Listener,
}

impl Shared {
    fn on_message(&self, event: JsValue) {
        let data = Reflect::get(&event, &JsValue::from_str("data")).unwrap_or(JsValue::UNDEFINED);
        if data.is_null() {
            self.inbox.end();
        } else {
            self.inbox.push_data(&data);
        }
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
        let timeout_ms = timeout_option("MessagePortTransport", options.as_ref())?;
        let shared = Rc::new(Shared {
            port: port.clone(),
            inbox: Inbox::new("port", timeout_ms),
            on_message: RefCell::new(None),
            on_close: RefCell::new(None),
        });
        let weak: Weak<Shared> = Rc::downgrade(&shared);
        let w = weak.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(s) = w.upgrade() {
                s.on_message(e);
            }
        });
        let w = weak;
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| {
            if let Some(s) = w.upgrade() {
                s.inbox.end();
            }
        });
        add.call2(&port, &JsValue::from_str("message"), on_message.as_ref())
            .map_err(|e| JsError::new(&describe(&e)))?;
        add.call2(&port, &JsValue::from_str("close"), on_close.as_ref())
            .map_err(|e| JsError::new(&describe(&e)))?;
        *shared.on_message.borrow_mut() = Some(on_message);
        *shared.on_close.borrow_mut() = Some(on_close);
        if let Some(start) = method(&port, "start") {
            let _ = start.call0(&port);
        }
        Ok(MessagePortTransport { shared })
    }

    /// Posts a copy of `bytes` to the peer. Rejects once the port is closed on this side.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn send(&self, bytes: &Uint8Array) -> Promise {
        let s = &self.shared;
        if s.inbox.is_closed() {
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
        self.shared.inbox.recv(n)
    }

    /// Tells the peer that this end is done (its pending and later `recv`s resolve to `null`),
    /// closes the port and rejects a `recv` pending here.
    pub fn close(&self) {
        let s = &self.shared;
        if s.inbox.is_closed() {
            return;
        }
        s.inbox.close_here();
        if let Some(post) = method(&s.port, "postMessage") {
            let _ = post.call1(&s.port, &JsValue::NULL);
        }
        if let Some(close) = method(&s.port, "close") {
            let _ = close.call0(&s.port);
        }
        s.detach();
    }
}

impl Drop for MessagePortTransport {
    fn drop(&mut self) {
        self.shared.detach();
    }
}
