//! Data owners: [`DataOwner`] (the device or page that owns the numbers) and [`OwnerLink`] (a
//! server's connection to one data owner).

use crate::convert::{self, f64s};
use crate::entropy::fresh_seed;
use crate::error::{core_error, invalid};
use crate::transport::JsTransport;
use fixshare::data_owner::{receive_shares, send_output};
use fixshare::transport::DEFAULT_MAX_FRAME;
use fixshare::{Error, Link, Role};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The state of a connection used by one operation at a time (data owners have no core session
/// state machine: this is the binding's own).
enum Slot<T> {
    Ready(T),
    Busy,
    Failed(String),
    Closed,
}

impl<T> Slot<T> {
    fn take(cell: &RefCell<Slot<T>>, op: &str, what: &str) -> Result<T, JsError> {
        let mut slot = cell.borrow_mut();
        match std::mem::replace(&mut *slot, Slot::Busy) {
            Slot::Ready(t) => Ok(t),
            Slot::Busy => Err(invalid(
                op,
                &format!(
                    "the {what} is busy with another operation (await each call before the next)"
                ),
            )),
            Slot::Failed(why) => {
                let e = invalid(op, &format!("the {what} failed earlier ({why})"));
                *slot = Slot::Failed(why);
                Err(e)
            }
            Slot::Closed => {
                *slot = Slot::Closed;
                Err(invalid(op, &format!("the {what} is closed")))
            }
        }
    }

    /// Puts `t` back, or records the failure and converts it.
    fn settle<V>(
        cell: &RefCell<Slot<T>>,
        t: T,
        r: Result<V, Error>,
        transports: &[&JsTransport],
    ) -> Result<V, JsError> {
        match r {
            Ok(v) => {
                *cell.borrow_mut() = Slot::Ready(t);
                Ok(v)
            }
            Err(e) => {
                let js = core_error(&e, transports);
                *cell.borrow_mut() = Slot::Failed(e.to_string());
                Err(js)
            }
        }
    }
}

/// A server's connection to one data owner, for `Party.receiveOwnerInput` and
/// `Party.sendOwnerOutput`. A failure poisons the link (not the party).
#[wasm_bindgen]
pub struct OwnerLink {
    transport: JsTransport,
    link: RefCell<Slot<Link<JsTransport>>>,
}

impl OwnerLink {
    pub(crate) async fn receive(&self, role: Role, n: usize) -> Result<Vec<u64>, JsError> {
        let op = "receiveOwnerInput";
        let mut link = Slot::take(&self.link, op, "owner link")?;
        let mut v = vec![0u64; n];
        let r = receive_shares(role, &mut link, &mut v).await;
        Slot::settle(&self.link, link, r, &[&self.transport])?;
        Ok(v)
    }

    pub(crate) async fn send(&self, shares: &[u64]) -> Result<(), JsError> {
        let mut link = Slot::take(&self.link, "sendOwnerOutput", "owner link")?;
        let r = send_output(&mut link, shares).await;
        Slot::settle(&self.link, link, r, &[&self.transport])
    }
}

#[wasm_bindgen]
impl OwnerLink {
    /// A link over `transport` (to the data owner). `maxFrame`: the largest frame accepted
    /// (default 64 MiB).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Transport")] transport: JsValue,
        max_frame: Option<u32>,
    ) -> Result<OwnerLink, JsError> {
        let t = JsTransport::new("data owner", transport).map_err(|e| invalid("OwnerLink", &e))?;
        let max = max_frame.map_or(DEFAULT_MAX_FRAME, |m| m as usize);
        Ok(OwnerLink {
            link: RefCell::new(Slot::Ready(Link::with_max_frame(t.clone(), max))),
            transport: t,
        })
    }

    /// Closes the link (calls the transport's `close()`).
    pub async fn close(&self) {
        let prev = std::mem::replace(&mut *self.link.borrow_mut(), Slot::Closed);
        if let Slot::Busy = prev {
            *self.link.borrow_mut() = Slot::Busy;
            return;
        }
        self.transport.close().await;
    }
}

struct OwnerState {
    owner: fixshare::DataOwner,
    s0: Link<JsTransport>,
    s1: Link<JsTransport>,
}

/// A data owner: secret-shares its numbers to the two servers and reconstructs the results
/// they send back. Server 0 receives a 40-byte seed per batch, server 1 the masked values; each
/// alone learns nothing as long as the servers do not collude. Its seed comes from
/// `crypto.getRandomValues`.
#[wasm_bindgen]
pub struct DataOwner {
    t0: JsTransport,
    t1: JsTransport,
    state: RefCell<Slot<Box<OwnerState>>>,
}

#[wasm_bindgen]
impl DataOwner {
    /// A data owner connected to server 0 and server 1. `options`: `{ fracBits?: number }`
    /// (the servers' format, default 16).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Transport")] server0: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] server1: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ fracBits?: number }")] options: Option<
            js_sys::Object,
        >,
    ) -> Result<DataOwner, JsError> {
        let op = "DataOwner";
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let fixed = convert::fixed(op, &options)?;
        let t0 = JsTransport::new("server 0", server0).map_err(|e| invalid(op, &e))?;
        let t1 = JsTransport::new("server 1", server1).map_err(|e| invalid(op, &e))?;
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        Ok(DataOwner {
            state: RefCell::new(Slot::Ready(Box::new(OwnerState {
                owner: fixshare::DataOwner::new(seed, fixed),
                s0: Link::new(t0.clone()),
                s1: Link::new(t1.clone()),
            }))),
            t0,
            t1,
        })
    }

    /// Encodes and secret-shares `values` (a `Float64Array` or an array of numbers) to the two
    /// servers (each calls `Party.receiveOwnerInput` with a shape of `values.length` elements).
    /// Rejects before sending anything if a value is out of the fixed-point range.
    pub async fn share(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] values: JsValue,
    ) -> Result<(), JsError> {
        let v = f64s("share", "values", &values)?;
        let mut st = Slot::take(&self.state, "share", "data owner")?;
        let s = &mut *st;
        let r = s.owner.share::<u64, _, _>(&v, &mut s.s0, &mut s.s1).await;
        Slot::settle(&self.state, st, r, &[&self.t0, &self.t1])
    }

    /// Receives both servers' shares of `n` results (`Party.sendOwnerOutput`) and reconstructs
    /// them.
    pub async fn reconstruct(&self, n: u32) -> Result<Vec<f64>, JsError> {
        convert::elements("reconstruct", n.into(), 1)?;
        let mut st = Slot::take(&self.state, "reconstruct", "data owner")?;
        let s = &mut *st;
        let mut out = vec![0.0; n as usize];
        let r = s
            .owner
            .reconstruct::<u64, _, _>(&mut s.s0, &mut s.s1, &mut out)
            .await;
        Slot::settle(&self.state, st, r, &[&self.t0, &self.t1])?;
        Ok(out)
    }

    /// Closes both connections (calls the transports' `close()`).
    pub async fn close(&self) {
        let prev = std::mem::replace(&mut *self.state.borrow_mut(), Slot::Closed);
        if let Slot::Busy = prev {
            *self.state.borrow_mut() = Slot::Busy;
            return;
        }
        self.t0.close().await;
        self.t1.close().await;
    }
}
