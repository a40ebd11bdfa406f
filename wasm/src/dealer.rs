//! [`Dealer`]: the third party that hands out correlated randomness.

use crate::convert;
use crate::entropy::fresh_seed;
use crate::error::{core_error, invalid};
use crate::transport::JsTransport;
use fixshare::session::{Dealer as CoreDealer, Seed};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// A trusted dealer for two parties (`Party.withDealer`): it learns nothing about their inputs
/// but knows every correlation, so it must not collude with either party. Its seed comes from
/// `crypto.getRandomValues`.
///
/// The same object is the helper P2 of a three-server session (SecureNN, `Party.withHelper`): it
/// has no program of its own; `serve` deals and answers the online steps of the helper's
/// protocols. It holds no shares, and must not collude with either party.
#[wasm_bindgen]
pub struct Dealer {
    seed: RefCell<Option<Seed>>,
}

#[wasm_bindgen]
impl Dealer {
    /// A dealer with a fresh seed.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Dealer, JsError> {
        let seed = fresh_seed().map_err(|e| invalid("Dealer", &e))?;
        Ok(Dealer {
            seed: RefCell::new(Some(seed)),
        })
    }

    /// Serves party 0 over `toParty0` and party 1 over `toParty1` until both close their
    /// connections between requests (as dealer or, for `Party.withHelper`, as helper). Resolves
    /// to the traffic `{ bytesToParty0, bytesToParty1 }`; rejects (naming the transport) if a
    /// party leaves while the other waits on a request. A dealer serves one session.
    #[wasm_bindgen(unchecked_return_type = "{ bytesToParty0: number, bytesToParty1: number }")]
    pub async fn serve(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Transport")] to_party0: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] to_party1: JsValue,
    ) -> Result<js_sys::Object, JsError> {
        let op = "Dealer.serve";
        let t0 = JsTransport::new("party 0", to_party0).map_err(|e| invalid(op, &e))?;
        let t1 = JsTransport::new("party 1", to_party1).map_err(|e| invalid(op, &e))?;
        JsTransport::group(&[&t0, &t1]);
        let seed = self
            .seed
            .borrow_mut()
            .take()
            .ok_or_else(|| invalid(op, "this dealer has already served a session"))?;
        let (s0, s1) = CoreDealer::new(seed, t0.clone(), t1.clone())
            .serve()
            .await
            .map_err(|e| core_error(&e, &[&t0, &t1]))?;
        Ok(convert::object(&[
            ("bytesToParty0", s0.bytes_sent as f64),
            ("bytesToParty1", s1.bytes_sent as f64),
        ]))
    }
}
