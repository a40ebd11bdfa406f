//! [`WebSocketTransport`]: a transport over a browser `WebSocket`, its byte stream carried by
//! binary messages (what a `fixshare-party` server's WebSocket listener speaks).

use crate::inbox::{Inbox, call_global, timeout_option};
use crate::transport::{describe, method};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The largest message sent: the byte stream is cut into messages of at most 64 KiB (a
/// `fixshare-party` server accepts up to 1 MiB).
const MESSAGE: u32 = 64 * 1024;

/// While the browser holds more than this many bytes not yet sent (`bufferedAmount`), `send`
/// waits: a WebSocket has no back-pressure of its own, and a large table would otherwise sit
/// in the page's memory whole.
const HIGH_WATER: f64 = 4.0 * 1024.0 * 1024.0;

/// Resolves after `ms` milliseconds.
async fn sleep(ms: f64) {
    let wait = Promise::new(&mut |resolve, _| {
        let _ = call_global("setTimeout", &[resolve.into(), JsValue::from_f64(ms)]);
    });
    let _ = JsFuture::from(wait).await;
}

/// Waits until the browser holds at most [`HIGH_WATER`] unsent bytes; fails if the WebSocket
/// ends first.
async fn drained(s: Rc<Shared>) -> Result<JsValue, JsValue> {
    loop {
        let buffered = Shared::prop(&s.ws, "bufferedAmount")
            .as_f64()
            .unwrap_or(0.0);
        if buffered <= HIGH_WATER {
            return Ok(JsValue::UNDEFINED);
        }
        if s.inbox.is_over() {
            return Err(js_sys::Error::new(&format!(
                "send: the WebSocket to {} ended with {buffered} bytes not sent",
                s.url
            ))
            .into());
        }
        sleep(10.0).await;
    }
}

/// A kept-alive event listener.
type Listener = Closure<dyn FnMut(JsValue)>;

struct Shared {
    ws: JsValue,
    url: String,
    inbox: Rc<Inbox>,
    /// While the socket opens: the open Promise's resolve and reject.
    opening: RefCell<Option<(Function, Function)>>,
    listeners: RefCell<Vec<(&'static str, Listener)>>,
}

impl Shared {
    fn prop(event: &JsValue, name: &str) -> JsValue {
        Reflect::get(event, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    fn on_open(&self) {
        if let Some((resolve, _)) = self.opening.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// The connection failed or ended: `why` rejects the opening, or ends the inbox.
    fn on_end(&self, why: String, clean: bool) {
        if let Some((_, reject)) = self.opening.borrow_mut().take() {
            let _ = reject.call1(&JsValue::UNDEFINED, &js_sys::Error::new(&why).into());
        }
        if clean {
            self.inbox.end();
        } else {
            self.inbox.fail(why);
        }
    }

    fn on_event(&self, kind: &str, event: JsValue) {
        match kind {
            "open" => self.on_open(),
            "message" => self.inbox.push_data(&Shared::prop(&event, "data")),
            "error" => self.on_end(
                format!(
                    "the WebSocket to {} failed (the browser does not say why: no server there, \
                     a certificate it does not trust, a refused upgrade, ...)",
                    self.url
                ),
                false,
            ),
            _ => {
                let code = Shared::prop(&event, "code").as_f64().unwrap_or(0.0);
                let reason = Shared::prop(&event, "reason")
                    .as_string()
                    .unwrap_or_default();
                let clean = Shared::prop(&event, "wasClean").as_bool().unwrap_or(false);
                let why = format!(
                    "the WebSocket to {} closed{} (code {code}{})",
                    self.url,
                    if clean {
                        ""
                    } else {
                        " without a close handshake"
                    },
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                );
                self.on_end(why, clean);
            }
        }
    }

    fn detach(&self) {
        let remove = method(&self.ws, "removeEventListener");
        for (event, cb) in self.listeners.borrow_mut().drain(..) {
            if let Some(remove) = &remove {
                let _ = remove.call2(&self.ws, &JsValue::from_str(event), cb.as_ref());
            }
        }
    }
}

/// A byte-stream transport over a `WebSocket`: `send` cuts the bytes into binary messages of at
/// most 64 KiB, `recv(n)` resolves once `n` bytes arrived, or to `null` once the server has
/// closed the WebSocket in order; a WebSocket that fails (or closes without a close handshake)
/// rejects the pending and later `recv`s. `close()` closes it.
///
/// Options of `connect`: `{ protocol?: string, timeoutMs?: number }`; `timeoutMs` rejects a
/// `recv` that waits longer.
#[wasm_bindgen]
pub struct WebSocketTransport {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl WebSocketTransport {
    /// Opens a WebSocket to `url` (`wss://...`), asking for the subprotocol `protocol` if given,
    /// and resolves once it is open; rejects if it cannot be opened.
    pub async fn connect(
        url: String,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ protocol?: string, timeoutMs?: number }"
        )]
        options: Option<js_sys::Object>,
    ) -> Result<WebSocketTransport, JsError> {
        let op = "WebSocketTransport.connect";
        let timeout_ms = timeout_option(op, options.as_ref())?;
        let protocol = match &options {
            Some(o) => {
                let p =
                    Reflect::get(o, &JsValue::from_str("protocol")).unwrap_or(JsValue::UNDEFINED);
                match p.as_string() {
                    Some(p) => Some(p),
                    None if p.is_undefined() => None,
                    None => return Err(JsError::new(&format!("{op}: protocol must be a string"))),
                }
            }
            None => None,
        };
        let ctor = Reflect::get(&js_sys::global(), &JsValue::from_str("WebSocket"))
            .ok()
            .and_then(|c| c.dyn_into::<Function>().ok())
            .ok_or_else(|| JsError::new(&format!("{op}: this environment has no WebSocket")))?;
        let args = match &protocol {
            Some(p) => Array::of2(&JsValue::from_str(&url), &JsValue::from_str(p)),
            None => Array::of1(&JsValue::from_str(&url)),
        };
        let ws = Reflect::construct(&ctor, &args)
            .map_err(|e| JsError::new(&format!("{op}: {}", describe(&e))))?;
        let _ = Reflect::set(
            &ws,
            &JsValue::from_str("binaryType"),
            &JsValue::from_str("arraybuffer"),
        );
        let shared = Rc::new(Shared {
            ws: ws.clone(),
            url: url.clone(),
            inbox: Inbox::new("WebSocket", timeout_ms),
            opening: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });
        let opened = Promise::new(&mut |resolve, reject| {
            *shared.opening.borrow_mut() = Some((resolve, reject));
        });
        let add = method(&ws, "addEventListener")
            .ok_or_else(|| JsError::new(&format!("{op}: not a WebSocket")))?;
        let weak: Weak<Shared> = Rc::downgrade(&shared);
        for kind in ["open", "message", "error", "close"] {
            let w = weak.clone();
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                if let Some(s) = w.upgrade() {
                    s.on_event(kind, e);
                }
            });
            add.call2(&ws, &JsValue::from_str(kind), cb.as_ref())
                .map_err(|e| JsError::new(&describe(&e)))?;
            shared.listeners.borrow_mut().push((kind, cb));
        }
        let transport = WebSocketTransport { shared };
        JsFuture::from(opened)
            .await
            .map_err(|e| JsError::new(&format!("{op}: {}", describe(&e))))?;
        if let Some(p) = protocol {
            let got = Reflect::get(&ws, &JsValue::from_str("protocol"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            if got != p {
                transport.close();
                return Err(JsError::new(&format!(
                    "{op}: {url} did not accept the subprotocol {p:?}"
                )));
            }
        }
        Ok(transport)
    }

    /// Sends `bytes` as binary messages of at most 64 KiB; settles once the browser holds at
    /// most 4 MiB not yet sent (back-pressure). Rejects once the WebSocket is closed or has
    /// failed, or if it ends while the browser still holds more than that.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn send(&self, bytes: &Uint8Array) -> Promise {
        let s = &self.shared;
        if s.inbox.is_over() {
            return Promise::reject(
                &js_sys::Error::new("send: the WebSocket is closed or has failed").into(),
            );
        }
        let Some(send) = method(&s.ws, "send") else {
            return Promise::reject(&js_sys::Error::new("send: not a WebSocket").into());
        };
        let mut at = 0;
        while at < bytes.length() {
            let end = (at + MESSAGE).min(bytes.length());
            if let Err(e) = send.call1(&s.ws, &bytes.subarray(at, end)) {
                return Promise::reject(
                    &js_sys::Error::new(&format!("send: {}", describe(&e))).into(),
                );
            }
            at = end;
        }
        wasm_bindgen_futures::future_to_promise(drained(s.clone()))
    }

    /// Resolves to the next `n` bytes, or to `null` if the server closed the WebSocket in order
    /// before they arrived. One `recv` at a time.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array | null>")]
    pub fn recv(&self, n: f64) -> Promise {
        self.shared.inbox.recv(n)
    }

    /// Closes the WebSocket (a close handshake) and rejects a `recv` pending here.
    pub fn close(&self) {
        let s = &self.shared;
        if s.inbox.is_closed() {
            return;
        }
        s.inbox.close_here();
        if let Some(close) = method(&s.ws, "close") {
            let _ = close.call0(&s.ws);
        }
        s.detach();
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        self.shared.detach();
    }
}
