//! Checked conversions of JS arguments: every bad argument is an `Error` naming the operation.
//! Only the JS shapes are checked here (a number where a number belongs, an integer where an
//! integer does); what the values mean (ring widths, fractional bits, layer shapes, SGD
//! settings) is for the session to check.

use crate::error::invalid;
use fixshare::session::{
    Backend, GlmModel, Image, Layer, MlpLoss, MlpParams, Network, Role, SessionConfig, SgdParams,
    Sigmoid, Truncation,
};
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

/// The most elements one argument or result may have: larger requests are refused before
/// anything is allocated, since a failed allocation would trap (and leave the Promise pending).
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

/// Field `name` of `o` (undefined if `o` is not an object).
pub(crate) fn field(o: &JsValue, name: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// An optional non-negative integer field (at most 2^53).
pub(crate) fn opt_uint(op: &str, o: &JsValue, name: &str) -> Result<Option<u64>, JsError> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 => {
            Ok(Some(x as u64))
        }
        _ => Err(invalid(
            op,
            &format!("{name} must be a non-negative integer"),
        )),
    }
}

/// A required non-negative integer field that fits `usize`.
fn uint(op: &str, o: &JsValue, name: &str) -> Result<usize, JsError> {
    match opt_uint(op, o, name)? {
        Some(v) if v <= u32::MAX as u64 => Ok(v as usize),
        Some(_) => Err(invalid(op, &format!("{name} is too large"))),
        None => Err(invalid(op, &format!("{name} is missing"))),
    }
}

/// An optional `u32` field.
fn opt_u32(op: &str, o: &JsValue, name: &str) -> Result<Option<u32>, JsError> {
    match opt_uint(op, o, name)? {
        Some(v) if v <= u32::MAX as u64 => Ok(Some(v as u32)),
        Some(_) => Err(invalid(op, &format!("{name} is too large"))),
        None => Ok(None),
    }
}

/// An optional string field, one of `allowed`.
fn opt_choice<'a>(
    op: &str,
    o: &JsValue,
    name: &str,
    allowed: &[&'a str],
) -> Result<Option<&'a str>, JsError> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let s = v.as_string();
    match allowed.iter().find(|a| Some(**a) == s.as_deref()) {
        Some(a) => Ok(Some(a)),
        None => {
            let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
            Err(invalid(
                op,
                &format!("{name} must be {}", list.join(" or ")),
            ))
        }
    }
}

/// Checks that `o` is an object, `undefined` or `null`.
fn options_object(op: &str, o: &JsValue, what: &str) -> Result<(), JsError> {
    if o.is_undefined() || o.is_null() || o.is_object() {
        Ok(())
    } else {
        Err(invalid(op, &format!("{what} must be an object")))
    }
}

/// The session settings `base` (its topology, party and offline source) with `{ ringBits,
/// fracBits, truncation, backend, precisionGuard, signBits, maxFrame }` from `o` (the defaults
/// are `base`'s; `precisionGuard` absent or `null` leaves the guard off, `signBits` absent or
/// `null` leaves the sign tests on the whole ring). The session checks the values when it
/// connects.
pub(crate) fn session_config(
    op: &str,
    base: SessionConfig,
    o: &JsValue,
) -> Result<SessionConfig, JsError> {
    options_object(op, o, "options")?;
    let mut c = base;
    if let Some(r) = opt_u32(op, o, "ringBits").map_err(|_| option_error(op, "ringBits"))? {
        c.ring_bits = r;
    }
    if let Some(f) = opt_u32(op, o, "fracBits").map_err(|_| option_error(op, "fracBits"))? {
        c.frac_bits = f;
    }
    let t = opt_choice(op, o, "truncation", &["local", "pairs", "exact"]).map_err(|_| {
        invalid(
            op,
            "option truncation must be \"local\", \"pairs\" or \"exact\"",
        )
    })?;
    c.truncation = match t {
        None => c.truncation,
        Some("pairs") => Truncation::Pairs,
        Some("exact") => Truncation::Exact,
        Some(_) => Truncation::Local,
    };
    let b = opt_choice(op, o, "backend", &["auto", "gc", "fss", "helper"]).map_err(|_| {
        invalid(
            op,
            "option backend must be \"auto\", \"gc\", \"fss\" or \"helper\"",
        )
    })?;
    c.backend = match b {
        None | Some("auto") => Backend::Auto,
        Some("gc") => Backend::GarbledCircuits,
        Some("fss") => Backend::Fss,
        Some(_) => Backend::Helper,
    };
    if let Some(h) =
        opt_u32(op, o, "precisionGuard").map_err(|_| option_error(op, "precisionGuard"))?
    {
        // The session refuses a headroom of ringBits - 2 or more.
        c.precision_guard = Some(h);
    }
    if let Some(b) = opt_u32(op, o, "signBits").map_err(|_| sign_bits_error(op, c.ring_bits))? {
        // The session refuses a width outside 2 to ringBits, with its own message.
        c.sign_bits = Some(b);
    }
    if let Some(m) = opt_u32(op, o, "maxFrame").map_err(|_| option_error(op, "maxFrame"))? {
        if m < 64 {
            return Err(invalid(op, "option maxFrame must be at least 64"));
        }
        c.max_frame = m as usize;
    }
    Ok(c)
}

fn option_error(op: &str, name: &str) -> JsError {
    invalid(op, &format!("option {name} must be a non-negative integer"))
}

/// The error of a `signBits` option that is not a width the session takes in a ring of
/// `ring_bits` bits.
fn sign_bits_error(op: &str, ring_bits: u32) -> JsError {
    invalid(
        op,
        &format!("option signBits must be an integer from 2 to ringBits ({ring_bits})"),
    )
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

/// SGD settings from `{ epochs, batch, learningRate }` (defaults: [`SgdParams::default`]).
fn sgd(op: &str, o: &JsValue) -> Result<SgdParams, JsError> {
    let mut p = SgdParams::default();
    if let Some(e) = opt_uint(op, o, "epochs")? {
        p.epochs = e as usize;
    }
    if let Some(b) = opt_uint(op, o, "batch")? {
        p.batch = b as usize;
    }
    let lr = field(o, "learningRate");
    if !lr.is_undefined() && !lr.is_null() {
        p.learning_rate = lr
            .as_f64()
            .ok_or_else(|| invalid(op, "learningRate must be a number"))?;
    }
    Ok(p)
}

/// The model and SGD settings of `trainGlm` from `{ model, sigmoid, epochs, batch,
/// learningRate }`.
pub(crate) fn glm(op: &str, o: &JsValue) -> Result<(GlmModel, SgdParams), JsError> {
    options_object(op, o, "options")?;
    let sigmoid = match opt_choice(op, o, "sigmoid", &["piecewise", "accurate"])? {
        Some("accurate") => Sigmoid::Accurate,
        _ => Sigmoid::Piecewise,
    };
    let model = match opt_choice(op, o, "model", &["linear", "logistic"])? {
        Some("linear") => GlmModel::Linear,
        Some(_) => GlmModel::Logistic(sigmoid),
        None => return Err(invalid(op, "model is missing (\"linear\" or \"logistic\")")),
    };
    Ok((model, sgd(op, o)?))
}

/// The MLP settings of `trainMlp` from `{ loss, epochs, batch, learningRate }`, with the seed of
/// the initial weights.
pub(crate) fn mlp_params(op: &str, o: &JsValue, init_seed: u64) -> Result<MlpParams, JsError> {
    let loss = match opt_choice(op, o, "loss", &["squared", "reluSoftmax"])? {
        Some("reluSoftmax") => MlpLoss::ReluSoftmax,
        _ => MlpLoss::Squared,
    };
    Ok(MlpParams {
        sgd: sgd(op, o)?,
        init_seed,
        loss,
    })
}

/// A seed given as a non-negative safe integer or a `bigint` below 2^64.
pub(crate) fn seed_u64(op: &str, what: &str, v: &JsValue) -> Result<u64, JsError> {
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| invalid(op, &format!("{what} must be a bigint in 0..2^64")));
    }
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 => Ok(x as u64),
        _ => Err(invalid(
            op,
            &format!("{what} must be a non-negative safe integer or a bigint"),
        )),
    }
}

/// Layer widths given as an array of non-negative integers.
pub(crate) fn sizes(op: &str, v: &JsValue) -> Result<Vec<usize>, JsError> {
    let a = v
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| invalid(op, "sizes must be an array of layer widths"))?;
    a.iter()
        .enumerate()
        .map(|(i, x)| match x.as_f64() {
            Some(w) if w >= 0.0 && w.fract() == 0.0 && w <= u32::MAX as f64 => Ok(w as usize),
            _ => Err(invalid(
                op,
                &format!("sizes[{i}] is not a non-negative integer"),
            )),
        })
        .collect()
}

/// One matrix per element of an array of `Float64Array`s or arrays of numbers.
pub(crate) fn matrices(op: &str, what: &str, v: &JsValue) -> Result<Vec<Vec<f64>>, JsError> {
    let a = v
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| invalid(op, &format!("{what} must be an array of Float64Arrays")))?;
    a.iter()
        .enumerate()
        .map(|(i, m)| f64s(op, &format!("{what}[{i}]"), &m))
        .collect()
}

/// An image shape `{ channels, height, width }`.
fn image(op: &str, o: &JsValue) -> Result<Image, JsError> {
    if !o.is_object() {
        return Err(invalid(
            op,
            "input must be an image shape { channels, height, width }",
        ));
    }
    Ok(Image {
        channels: uint(op, o, "channels")?,
        height: uint(op, o, "height")?,
        width: uint(op, o, "width")?,
    })
}

/// A layer: `{ type: "dense", inputs, outputs }`, `{ type: "conv", input, filters, kernel,
/// stride, padding }`, `{ type: "relu" }`, `{ type: "square" }`, `{ type: "meanPool", input,
/// window }` or `{ type: "maxPool", input, window, stride }` (the fields of [`Layer`]).
fn layer(op: &str, o: &JsValue) -> Result<Layer, JsError> {
    let kinds = ["dense", "conv", "relu", "square", "meanPool", "maxPool"];
    let kind = opt_choice(op, o, "type", &kinds)?.ok_or_else(|| invalid(op, "type is missing"))?;
    Ok(match kind {
        "dense" => Layer::Dense {
            inputs: uint(op, o, "inputs")?,
            outputs: uint(op, o, "outputs")?,
        },
        "conv" => Layer::Conv {
            input: image(op, &field(o, "input"))?,
            filters: uint(op, o, "filters")?,
            kernel: uint(op, o, "kernel")?,
            stride: uint(op, o, "stride")?,
            padding: uint(op, o, "padding")?,
        },
        "relu" => Layer::Relu,
        "square" => Layer::Square,
        "meanPool" => Layer::MeanPool {
            input: image(op, &field(o, "input"))?,
            window: uint(op, o, "window")?,
        },
        _ => Layer::MaxPool {
            input: image(op, &field(o, "input"))?,
            window: uint(op, o, "window")?,
            stride: uint(op, o, "stride")?,
        },
    })
}

/// A network `{ input, layers }` (the fields of [`Network`]).
pub(crate) fn network(op: &str, o: &JsValue) -> Result<Network, JsError> {
    if !o.is_object() {
        return Err(invalid(op, "network must be an object { input, layers }"));
    }
    let input = uint(op, o, "input")?;
    let layers = field(o, "layers");
    let layers = layers
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| invalid(op, "layers must be an array"))?;
    let layers = layers
        .iter()
        .enumerate()
        .map(|(i, l)| layer(&format!("{op}: layers[{i}]"), &l))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Network { input, layers })
}
