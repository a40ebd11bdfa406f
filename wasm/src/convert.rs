//! Checked conversions of JS arguments: every bad argument is an `Error` naming the operation.

use crate::error::invalid;
use fixshare::{Config, FixedPoint, Role, Truncation};
use js_sys::{Float64Array, Reflect};
use wasm_bindgen::{JsCast, JsError, JsValue};

/// Values given as a `Float64Array` or an array of numbers.
pub(crate) fn f64s(op: &str, what: &str, v: &JsValue) -> Result<Vec<f64>, JsError> {
    if let Some(a) = v.dyn_ref::<Float64Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Array>() {
        return a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64()
                    .ok_or_else(|| invalid(op, &format!("{what}[{i}] is not a number")))
            })
            .collect();
    }
    Err(invalid(
        op,
        &format!("{what} must be a Float64Array or an array of numbers"),
    ))
}

/// `rows * cols == len`, or an error that says what was expected.
pub(crate) fn check_len(
    op: &str,
    what: &str,
    len: usize,
    rows: u32,
    cols: u32,
) -> Result<(), JsError> {
    let n = (rows as u64) * (cols as u64);
    if n != len as u64 {
        return Err(invalid(
            op,
            &format!("{what} has {len} values, but a {rows} x {cols} matrix needs {n}"),
        ));
    }
    Ok(())
}

/// The most elements one argument or result may have (512 MiB of ring elements): larger
/// requests are refused before anything is allocated, since a failed allocation would trap.
pub(crate) const MAX_ELEMENTS: u64 = 1 << 26;

/// `rows * cols`, if it is within [`MAX_ELEMENTS`].
pub(crate) fn elements(op: &str, rows: u64, cols: u64) -> Result<usize, JsError> {
    let n = rows.saturating_mul(cols);
    if n > MAX_ELEMENTS {
        return Err(invalid(
            op,
            &format!(
                "{rows} x {cols} is more than the {MAX_ELEMENTS} elements allowed per operation"
            ),
        ));
    }
    Ok(n as usize)
}

/// Party 0 or 1.
pub(crate) fn role(op: &str, r: u32) -> Result<Role, JsError> {
    match r {
        0 => Ok(Role::P0),
        1 => Ok(Role::P1),
        _ => Err(invalid(op, &format!("role must be 0 or 1, got {r}"))),
    }
}

fn field(o: &JsValue, name: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// An optional non-negative integer option.
fn opt_uint(op: &str, o: &JsValue, name: &str) -> Result<Option<u64>, JsError> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(Some(x as u64)),
        _ => Err(invalid(
            op,
            &format!("option {name} must be a non-negative integer"),
        )),
    }
}

/// The number format from `{ fracBits }` (default 16).
pub(crate) fn fixed(op: &str, o: &JsValue) -> Result<FixedPoint, JsError> {
    match opt_uint(op, o, "fracBits")? {
        None => Ok(FixedPoint::default()),
        Some(f) => FixedPoint::new(f as u32).map_err(|e| invalid(op, &e.to_string())),
    }
}

/// Session settings from `{ fracBits, truncation: "local" | "pairs", maxFrame }`.
pub(crate) fn config(op: &str, o: &JsValue) -> Result<Config, JsError> {
    if !(o.is_undefined() || o.is_null() || o.is_object()) {
        return Err(invalid(op, "options must be an object"));
    }
    let mut c = Config {
        fixed: fixed(op, o)?,
        ..Config::default()
    };
    let t = field(o, "truncation");
    if !t.is_undefined() {
        c.truncation = match t.as_string().as_deref() {
            Some("local") => Truncation::Local,
            Some("pairs") => Truncation::Pairs,
            Some("exact") => Truncation::Exact,
            _ => {
                return Err(invalid(
                    op,
                    "option truncation must be \"local\", \"pairs\" or \"exact\"",
                ));
            }
        };
    }
    if let Some(m) = opt_uint(op, o, "maxFrame")? {
        if m < 64 {
            return Err(invalid(op, "option maxFrame must be at least 64"));
        }
        c.max_frame = m as usize;
    }
    Ok(c)
}

/// A plain JS object with numeric fields.
pub(crate) fn object(fields: &[(&str, f64)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(*v));
    }
    o
}

/// Bits given as 0/1 bytes.
pub(crate) fn bits(op: &str, what: &str, v: &[u8]) -> Result<Vec<bool>, JsError> {
    v.iter()
        .enumerate()
        .map(|(i, &b)| match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(invalid(
                op,
                &format!("{what}[{i}] is {b}, not a bit (0 or 1)"),
            )),
        })
        .collect()
}
