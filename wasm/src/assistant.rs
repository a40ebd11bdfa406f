//! [`Assistant`]: PrivPy's assistants Sa and Sb of a four-server session.

use crate::convert;
use crate::entropy::fresh_seed;
use crate::error::{core_error, invalid};
use crate::party::CoreSession;
use crate::transport::JsTransport;
use fixshare::session::{PartyId, Seed};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// An assistant of a four-server session (PrivPy): Sa (S1's own assistant) or Sb (S2's). The
/// primaries S1 and S2 hold the shares (`Party.withAssistants`); an assistant holds none and sees
/// only re-randomized ones. It computes the cross terms of the primaries' products (no triples)
/// and, with the other assistant, the sign tests behind comparisons, ReLU, max and the rest (a
/// garbled circuit: Sa garbles, Sb evaluates, OT between them). It has no configuration: ring
/// and format come with the primaries' requests. Its seed comes from `crypto.getRandomValues`.
///
/// It must not collude with any other server.
#[wasm_bindgen]
pub struct Assistant {
    me: PartyId,
    seed: RefCell<Option<Seed>>,
}

#[wasm_bindgen]
impl Assistant {
    /// Assistant `role`: `"Sa"` or `"Sb"`, with a fresh seed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "\"Sa\" | \"Sb\"")] role: JsValue,
    ) -> Result<Assistant, JsError> {
        let op = "Assistant";
        let me = match role.as_string().as_deref() {
            Some("Sa") => PartyId(2),
            Some("Sb") => PartyId(3),
            _ => return Err(invalid(op, "role must be \"Sa\" or \"Sb\"")),
        };
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        Ok(Assistant {
            me,
            seed: RefCell::new(Some(seed)),
        })
    }

    /// `"Sa"` or `"Sb"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"Sa\" | \"Sb\"")]
    pub fn role(&self) -> String {
        if self.me == PartyId(2) { "Sa" } else { "Sb" }.into()
    }

    /// Serves primary S1 over `toS1`, S2 over `toS2` and the other assistant over `toOther`:
    /// receives its own primary's seed, sets up OT with the other assistant, reports ready to
    /// both primaries, then answers their products and sign tests until both primaries close
    /// their connections between requests. Resolves to the traffic over all three connections,
    /// `{ bytesSent, bytesReceived, framesSent, rounds }`; rejects (`code: "closed"`, naming the
    /// transport: `"S1 transport"`, `"S2 transport"`, `"other assistant transport"`) if a
    /// primary leaves while the other waits on a request. An assistant serves one session.
    #[wasm_bindgen(
        unchecked_return_type = "{ bytesSent: number, bytesReceived: number, framesSent: number, rounds: number }"
    )]
    pub async fn serve(
        &self,
        #[wasm_bindgen(js_name = toS1, unchecked_param_type = "Transport")] to_s1: JsValue,
        #[wasm_bindgen(js_name = toS2, unchecked_param_type = "Transport")] to_s2: JsValue,
        #[wasm_bindgen(js_name = toOther, unchecked_param_type = "Transport")] to_other: JsValue,
    ) -> Result<js_sys::Object, JsError> {
        let op = "Assistant.serve";
        let t1 = JsTransport::new("S1", to_s1).map_err(|e| invalid(op, &e))?;
        let t2 = JsTransport::new("S2", to_s2).map_err(|e| invalid(op, &e))?;
        let to = JsTransport::new("other assistant", to_other).map_err(|e| invalid(op, &e))?;
        JsTransport::group(&[&t1, &t2, &to]);
        let seed = self
            .seed
            .borrow_mut()
            .take()
            .ok_or_else(|| invalid(op, "this assistant has already served a session"))?;
        let s = CoreSession::serve_assistant(self.me, t1.clone(), t2.clone(), to.clone(), seed)
            .await
            .map_err(|e| core_error(&e, &[&t1, &t2, &to]))?;
        Ok(convert::object(&[
            ("bytesSent", s.bytes_sent as f64),
            ("bytesReceived", s.bytes_received as f64),
            ("framesSent", s.frames_sent as f64),
            ("rounds", s.rounds as f64),
        ]))
    }
}
