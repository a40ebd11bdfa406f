//! [`Circuit`]: boolean circuits in Bristol Fashion, run by `Party.runCircuit`.

use crate::convert;
use fixshare::session::{Circuit as CoreCircuit, bristol};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A boolean circuit (XOR, AND, INV gates) read from a Bristol Fashion file.
#[wasm_bindgen]
pub struct Circuit(Rc<CoreCircuit>);

impl Circuit {
    pub(crate) fn inner(&self) -> Rc<CoreCircuit> {
        self.0.clone()
    }
}

#[wasm_bindgen]
impl Circuit {
    /// Parses a Bristol Fashion circuit; a malformed file rejects with the line at fault.
    pub fn parse(text: &str) -> Result<Circuit, JsError> {
        bristol::parse(text)
            .map(|c| Circuit(Rc::new(c)))
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The width in bits of each input value.
    #[wasm_bindgen(getter, js_name = inputWidths)]
    pub fn input_widths(&self) -> Vec<u32> {
        self.0.input_widths().iter().map(|&w| w as u32).collect()
    }

    /// The width in bits of each output value.
    #[wasm_bindgen(getter, js_name = outputWidths)]
    pub fn output_widths(&self) -> Vec<u32> {
        self.0.output_widths().iter().map(|&w| w as u32).collect()
    }

    /// The number of AND gates (the garbling cost).
    #[wasm_bindgen(getter, js_name = andCount)]
    pub fn and_count(&self) -> u32 {
        self.0.and_count() as u32
    }

    /// Evaluates the circuit in the clear (the reference): all input bits in the circuit's
    /// order, each value least significant bit first; returns the output bits likewise.
    pub fn eval(&self, bits: Vec<u8>) -> Result<Vec<u8>, JsError> {
        let b = convert::bits("Circuit.eval", "bits", &bits)?;
        self.0
            .eval(&b)
            .map(|o| o.into_iter().map(u8::from).collect())
            .map_err(|e| JsError::new(&e.to_string()))
    }
}
