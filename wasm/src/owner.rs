//! Data owners: [`DataOwner`] (the device or page that owns the numbers) and [`OwnerLink`] (a
//! server's connection to one data owner, used by `Party.receiveOwnerInput` and
//! `Party.sendOwnerOutput`).

use crate::convert::{self, f64s};
use crate::entropy::fresh_seed;
use crate::error::{invalid, message};
use crate::transport::JsTransport;
use fixshare::session::{
    Backend, DEFAULT_MAX_FRAME, DataOwner as CoreOwner, Error, ErrorKind, FixedPoint, Offline,
    OwnerLink as CoreLink, Role, SessionConfig, State,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// An object used by one operation at a time, lent out of its cell while the operation runs (a
/// call made meanwhile is refused). The data owner's state (ready, poisoned after a failure
/// that followed communication) is the core's; an owner link has none of its own in the core,
/// so a failure on it is recorded here.
pub(crate) enum Slot<T> {
    Ready(T),
    Busy,
    Failed(String),
    Closed,
}

impl<T> Slot<T> {
    pub(crate) fn take(cell: &RefCell<Slot<T>>, op: &str, what: &str) -> Result<T, JsError> {
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
}

/// A server's connection to one data owner, for `Party.receiveOwnerInput` and
/// `Party.sendOwnerOutput`. A failure on it poisons the party (as any failure after
/// communicating) and the link.
#[wasm_bindgen]
pub struct OwnerLink {
    transport: JsTransport,
    link: RefCell<Slot<CoreLink<JsTransport>>>,
}

impl OwnerLink {
    /// The link, lent to one operation of a party.
    pub(crate) fn take(&self, op: &str) -> Result<CoreLink<JsTransport>, JsError> {
        Slot::take(&self.link, op, "owner link")
    }

    /// Gives the link back after the operation: usable again unless `failure` is given.
    pub(crate) fn give_back(&self, link: CoreLink<JsTransport>, failure: Option<String>) {
        *self.link.borrow_mut() = match failure {
            None => Slot::Ready(link),
            Some(why) => Slot::Failed(why),
        };
    }

    /// The JS transport (for the reason of a failure).
    pub(crate) fn transport(&self) -> &JsTransport {
        &self.transport
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
            link: RefCell::new(Slot::Ready(CoreLink::with_max_frame(t.clone(), max))),
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
    owner: CoreOwner,
    s0: CoreLink<JsTransport>,
    s1: CoreLink<JsTransport>,
}

/// A data owner: secret-shares its numbers to the two servers and reconstructs the results
/// they send back. Server 0 receives a 40-byte seed per batch, server 1 the masked values; each
/// alone learns nothing as long as the servers do not collude. Its seed comes from
/// `crypto.getRandomValues`.
#[wasm_bindgen]
pub struct DataOwner {
    t0: JsTransport,
    t1: JsTransport,
    /// The servers' ring width: 32, 64 or 128.
    ring_bits: u32,
    state: RefCell<Slot<Box<OwnerState>>>,
}

/// Runs `$body` with `$R` bound to the ring type of `$bits` (32, 64 or 128, as checked by the
/// session config).
macro_rules! on_ring {
    ($bits:expr, $R:ident => $body:expr) => {
        match $bits {
            32 => {
                type $R = u32;
                $body
            }
            128 => {
                type $R = u128;
                $body
            }
            _ => {
                type $R = u64;
                $body
            }
        }
    };
}

impl DataOwner {
    /// Puts the owner back after an operation, in the state the core left it (ready after a
    /// value out of range, poisoned after a failure that followed communication), and converts
    /// the error, with the transports' reasons or what poisoned the owner.
    fn settle<V>(&self, st: Box<OwnerState>, r: Result<V, Error>) -> Result<V, JsError> {
        let r = r.map_err(|e| {
            let mut msg = message(&e, &[&self.t0, &self.t1]);
            if let (ErrorKind::Poisoned, State::Poisoned(cause)) = (e.kind(), st.owner.state()) {
                msg.push_str(&format!(" ({cause})"));
            }
            JsError::new(&msg)
        });
        *self.state.borrow_mut() = Slot::Ready(st);
        r
    }
}

#[wasm_bindgen]
impl DataOwner {
    /// A data owner connected to server 0 and server 1. `options`: `{ ringBits?: 32 | 64 | 128,
    /// fracBits?: number }`, the servers' (defaults 64 and 16).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Transport")] server0: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] server1: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ ringBits?: 32 | 64 | 128, fracBits?: number }"
        )]
        options: Option<js_sys::Object>,
    ) -> Result<DataOwner, JsError> {
        let op = "DataOwner";
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        // The servers' format, checked as their session checks it.
        let mut config = convert::session_config(
            op,
            SessionConfig::two_servers(Role::P0, Offline::Dealer),
            &options,
        )?;
        // The servers' backend (or topology) is no concern of an owner: only the format is.
        config.backend = Backend::Auto;
        let (_, checked) = config.check().map_err(|e| invalid(op, &e.to_string()))?;
        let fixed: FixedPoint = checked.fixed;
        let t0 = JsTransport::new("server 0", server0).map_err(|e| invalid(op, &e))?;
        let t1 = JsTransport::new("server 1", server1).map_err(|e| invalid(op, &e))?;
        JsTransport::group(&[&t0, &t1]);
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        Ok(DataOwner {
            state: RefCell::new(Slot::Ready(Box::new(OwnerState {
                owner: CoreOwner::new(seed, fixed),
                s0: CoreLink::new(t0.clone()),
                s1: CoreLink::new(t1.clone()),
            }))),
            ring_bits: config.ring_bits,
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
        let r =
            on_ring!(self.ring_bits, R => s.owner.share::<R, _, _>(&v, &mut s.s0, &mut s.s1).await);
        self.settle(st, r)
    }

    /// Receives both servers' shares of `n` results (`Party.sendOwnerOutput`) and reconstructs
    /// them.
    pub async fn reconstruct(&self, n: u32) -> Result<Vec<f64>, JsError> {
        convert::elements("reconstruct", n.into(), 1)?;
        let mut st = Slot::take(&self.state, "reconstruct", "data owner")?;
        let s = &mut *st;
        let mut out = vec![0.0; n as usize];
        let r = on_ring!(self.ring_bits, R => s
            .owner
            .reconstruct::<R, _, _>(&mut s.s0, &mut s.s1, &mut out)
            .await);
        self.settle(st, r)?;
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
