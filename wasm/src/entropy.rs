//! Seeds from the host's cryptographic generator, `crypto.getRandomValues` (browsers, workers,
//! Node 19 and later).

use crate::transport::{describe, method};
use fixshare::session::Seed;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use zeroize::Zeroize;

/// 32 fresh bytes from `globalThis.crypto.getRandomValues`.
pub(crate) fn fresh_seed() -> Result<Seed, String> {
    let crypto =
        Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(|e| describe(&e))?;
    let get = method(&crypto, "getRandomValues")
        .ok_or("crypto.getRandomValues is not available in this environment")?;
    let buf = Uint8Array::new_with_length(32);
    get.call1(&crypto, &buf)
        .map_err(|e| format!("crypto.getRandomValues failed: {}", describe(&e)))?;
    let mut bytes = [0u8; 32];
    buf.copy_to(&mut bytes);
    buf.fill(0, 0, 32);
    let seed = Seed::from_bytes(bytes);
    bytes.zeroize();
    Ok(seed)
}
