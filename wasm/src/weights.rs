//! Training by sharing sealed weights (Phong–Phuong): a browser tab or a Node process as a
//! trainer. [`FloatModel`] is one trainer's plaintext model (train on its rows, seal the weights
//! for the next trainer, open what the previous one sealed); [`WeightLink`] moves sealed weights
//! over a JS transport (FNT ring passes, SNT uploads and fetches), in the core's wire format, so
//! JS trainers take part beside Rust and C ones. Thin translations of
//! `fixshare::session::weights`: the sealing (AES-256-GCM), the checks of model, round and
//! trainer, and the training are the core's.

use crate::convert::{f64s, field, opt_uint};
use crate::entropy::fresh_seed;
use crate::error::{invalid, message};
use crate::owner::Slot;
use crate::transport::JsTransport;
use fixshare::session::weights::{
    Activation, Expect, KEY_LEN, LocalModel, Loss, ModelId, Optimizer, Rejection, Rows, Spec,
    WeightKey, deliver, pass, receive, wait_for,
};
use fixshare::session::{DEFAULT_MAX_FRAME, Error, OwnerLink as CoreLink, Seed};
use js_sys::{Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use zeroize::Zeroize;

#[wasm_bindgen(typescript_custom_section)]
const TS_WEIGHTS: &'static str = r#"
/** A network and how a trainer trains it; every trainer of a model uses the same. */
export interface FloatSpec {
  /** Layer widths, inputs first, outputs last (at least two). */
  sizes: number[];
  /** Hidden activation (default "relu"). */
  activation?: "identity" | "relu" | "leaky-relu" | "sigmoid" | "tanh" | "softplus";
  /** Slope below 0 of "leaky-relu" (default 0.01). */
  leakySlope?: number;
  /** Dropout rate after each hidden layer (default none). */
  dropout?: number[];
  /** Output and loss (default: "bce" for one output, "softmax" for more). */
  loss?: "bce" | "softmax" | "squared";
  /** "sgd" (default) or "adam". */
  optimizer?: "sgd" | "adam";
  /** Learning rate / Adam's step size (default 0.05). */
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Rows per mini-batch (default 32). */
  batch?: number;
  /** Passes over the trainer's rows per turn (default 1). */
  localEpochs?: number;
}

/** A round of the agreed schedule: step s (trainer s mod L, central epoch floor(s / L)) opens
 * version s and seals version s + 1; version 0 is the initial weights. */
export interface WeightsRound {
  /** The model's id: 16 bytes, or a string of at most 16 UTF-8 bytes (zero-padded). */
  modelId: Uint8Array | string;
  /** The number of trainers L. */
  trainers: number;
  /** The version sealed or expected. */
  version: number | bigint;
}
"#;

const REJECTIONS: [(Rejection, &str); 8] = [
    (Rejection::Malformed, "malformed"),
    (Rejection::WrongModel, "wrongModel"),
    (Rejection::WrongTrainers, "wrongTrainers"),
    (Rejection::Replayed, "replayed"),
    (Rejection::Ahead, "ahead"),
    (Rejection::OutOfOrder, "outOfOrder"),
    (Rejection::Authentication, "authentication"),
    (Rejection::TooLarge, "tooLarge"),
];

/// A JS `Error` for a core error, with `rejection` set to why sealed weights were refused
/// ("authentication", "wrongModel", "wrongTrainers", "replayed", "ahead", "outOfOrder",
/// "malformed", "tooLarge") when they were.
fn weights_error(op: &str, e: &Error, transports: &[&JsTransport]) -> JsValue {
    let err = js_sys::Error::new(&format!("{op}: {}", message(e, transports)));
    if let Some(r) = Rejection::of(e)
        && let Some((_, name)) = REJECTIONS.iter().find(|(x, _)| *x == r)
    {
        let _ = Reflect::set(&err, &"rejection".into(), &(*name).into());
    }
    err.into()
}

fn js(e: JsError) -> JsValue {
    e.into()
}

/// An optional number field, `default` when absent.
fn opt_f64(op: &str, o: &JsValue, name: &str, default: f64) -> Result<f64, JsError> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    v.as_f64()
        .ok_or_else(|| invalid(op, &format!("{name} must be a number")))
}

/// An optional string field.
fn opt_str(op: &str, o: &JsValue, name: &str) -> Result<Option<String>, JsError> {
    let v = field(o, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| invalid(op, &format!("{name} must be a string")))
}

/// The core spec a JS spec describes (the core checks the values).
fn spec_of(op: &str, o: &JsValue) -> Result<Spec, JsError> {
    if !o.is_object() {
        return Err(invalid(op, "spec must be an object with sizes"));
    }
    let sizes = crate::convert::sizes(op, &field(o, "sizes"))?;
    let slope = opt_f64(op, o, "leakySlope", 0.01)?;
    let activation = match opt_str(op, o, "activation")?.as_deref() {
        None | Some("relu") => Activation::Relu,
        Some("leaky-relu") => Activation::LeakyRelu(slope),
        Some(name) => Activation::parse(name).ok_or_else(|| {
            invalid(
                op,
                "activation must be \"identity\", \"relu\", \"leaky-relu\", \"sigmoid\", \"tanh\" or \"softplus\"",
            )
        })?,
    };
    let dropout = match field(o, "dropout") {
        v if v.is_undefined() || v.is_null() => Vec::new(),
        v => f64s(op, "dropout", &v)?,
    };
    let outputs = sizes.last().copied().unwrap_or(0);
    let loss = match opt_str(op, o, "loss")?.as_deref() {
        None if outputs == 1 => Loss::BinaryCrossEntropy,
        None => Loss::SoftmaxCrossEntropy,
        Some("bce") => Loss::BinaryCrossEntropy,
        Some("softmax") => Loss::SoftmaxCrossEntropy,
        Some("squared") => Loss::Squared,
        Some(_) => {
            return Err(invalid(
                op,
                "loss must be \"bce\", \"softmax\" or \"squared\"",
            ));
        }
    };
    let lr = opt_f64(op, o, "learningRate", 0.05)?;
    let optimizer = match opt_str(op, o, "optimizer")?.as_deref() {
        None | Some("sgd") => Optimizer::Sgd { lr },
        Some("adam") => Optimizer::Adam {
            lr,
            beta1: opt_f64(op, o, "beta1", 0.9)?,
            beta2: opt_f64(op, o, "beta2", 0.999)?,
            eps: opt_f64(op, o, "epsilon", 1e-8)?,
        },
        Some(_) => return Err(invalid(op, "optimizer must be \"sgd\" or \"adam\"")),
    };
    let count = |name, default| -> Result<usize, JsError> {
        match opt_uint(op, o, name)? {
            None => Ok(default),
            Some(v) => usize::try_from(v).map_err(|_| invalid(op, &format!("{name} is too large"))),
        }
    };
    let spec = Spec {
        sizes,
        activation,
        dropout,
        loss,
        optimizer,
        batch: count("batch", 32)?,
        local_epochs: count("localEpochs", 1)?,
    };
    spec.validate().map_err(|e| invalid(op, &e.to_string()))?;
    Ok(spec)
}

/// Exactly `N` bytes.
fn exact<const N: usize>(op: &str, what: &str, b: &[u8]) -> Result<[u8; N], JsError> {
    <[u8; N]>::try_from(b).map_err(|_| {
        invalid(
            op,
            &format!("{what} must be {N} bytes (a Uint8Array), got {}", b.len()),
        )
    })
}

fn key_of(op: &str, key: &[u8]) -> Result<WeightKey, JsError> {
    let mut k = exact::<KEY_LEN>(op, "key", key)?;
    let key = WeightKey::from_bytes(k);
    k.zeroize();
    Ok(key)
}

fn seed_of(op: &str, what: &str, seed: &[u8]) -> Result<Seed, JsError> {
    let mut s = exact::<32>(op, what, seed)?;
    let seed = Seed::from_bytes(s);
    s.zeroize();
    Ok(seed)
}

/// A model id: 16 bytes, or a string of at most 16 UTF-8 bytes, zero-padded.
fn model_id(op: &str, v: &JsValue) -> Result<ModelId, JsError> {
    let bytes = if let Some(s) = v.as_string() {
        s.into_bytes()
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(invalid(
            op,
            "round.modelId must be a Uint8Array or a string",
        ));
    };
    if bytes.len() > 16 || (v.is_object() && bytes.len() != 16) {
        return Err(invalid(
            op,
            "round.modelId must be 16 bytes, or a string of at most 16 UTF-8 bytes",
        ));
    }
    let mut id = [0u8; 16];
    id[..bytes.len()].copy_from_slice(&bytes);
    Ok(ModelId(id))
}

/// A non-negative integer given as a number (at most 2^53 - 1) or a bigint.
fn u64_of(op: &str, what: &str, v: &JsValue) -> Result<u64, JsError> {
    crate::convert::seed_u64(op, what, v)
}

/// `{ modelId, trainers, version }`.
fn round_of(op: &str, round: &JsValue) -> Result<(ModelId, u32, u64), JsError> {
    if !round.is_object() {
        return Err(invalid(
            op,
            "round must be an object { modelId, trainers, version }",
        ));
    }
    let id = model_id(op, &field(round, "modelId"))?;
    let trainers = match opt_uint(op, round, "trainers")? {
        Some(t) if t <= u64::from(u32::MAX) => t as u32,
        _ => return Err(invalid(op, "round.trainers must be an integer in 1..2^32")),
    };
    let version = u64_of(op, "round.version", &field(round, "version"))?;
    Ok((id, trainers, version))
}

/// One trainer's plaintext model: the network, its weights and optimizer state, and the nonce
/// generator of its seals (seeded from `crypto.getRandomValues`).
///
/// Every method checks its arguments before it changes anything: a method that throws leaves
/// the weights as they were. A refused `open` throws an `Error` whose `rejection` says why.
#[wasm_bindgen]
pub struct FloatModel {
    inner: RefCell<LocalModel>,
}

#[wasm_bindgen]
impl FloatModel {
    /// A model of `spec` (`FloatSpec`) with fresh weights from `initSeed` (32 bytes: trainers that
    /// must reproduce centralized training use the first trainer's training seed; default: fresh
    /// from `crypto.getRandomValues`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FloatSpec")] spec: JsValue,
        #[wasm_bindgen(js_name = initSeed)] init_seed: Option<Vec<u8>>,
    ) -> Result<FloatModel, JsError> {
        const OP: &str = "FloatModel";
        let spec = spec_of(OP, &spec)?;
        let init = match init_seed {
            Some(mut s) => {
                let seed = seed_of(OP, "initSeed", &s);
                s.zeroize();
                seed?
            }
            None => fresh_seed().map_err(|e| invalid(OP, &e))?,
        };
        let nonces = fresh_seed().map_err(|e| invalid(OP, &e))?;
        let inner =
            LocalModel::new(spec, &init, &nonces).map_err(|e| invalid(OP, &e.to_string()))?;
        Ok(FloatModel {
            inner: RefCell::new(inner),
        })
    }

    /// The number of weights and biases.
    #[wasm_bindgen(getter, js_name = paramCount)]
    pub fn param_count(&self) -> usize {
        self.inner.borrow().params().len()
    }

    /// The length of the weights sealed: what `open` and `WeightLink.receive` accept.
    #[wasm_bindgen(getter, js_name = sealedLength)]
    pub fn sealed_length(&self) -> usize {
        self.inner.borrow().sealed_len()
    }

    /// One turn of local training on `x` (row-major, the input width per row) and labels `y`
    /// (one per row: 0/1 for "bce", class numbers for "softmax"), in central epoch
    /// `centralEpoch` (floor(s / L) at step s), shuffles and dropout from `seed` (this trainer's
    /// 32-byte training seed). Deterministic: the same on every machine as in Rust and C.
    pub fn train(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] y: JsValue,
        seed: &[u8],
        #[wasm_bindgen(js_name = centralEpoch, unchecked_param_type = "number | bigint")]
        central_epoch: JsValue,
    ) -> Result<(), JsError> {
        const OP: &str = "train";
        let x = f64s(OP, "x", &x)?;
        let y = f64s(OP, "y", &y)?;
        let seed = seed_of(OP, "seed", seed)?;
        let epoch = u64_of(OP, "centralEpoch", &central_epoch)?;
        let mut m = self.inner.borrow_mut();
        let features = m.spec().sizes[0];
        m.train(
            Rows {
                x: &x,
                y: &y,
                features,
            },
            &seed,
            epoch,
        )
        .map_err(|e| invalid(OP, &e.to_string()))
    }

    /// The network's outputs for the rows of `x` (no dropout): probabilities for "bce" and
    /// "softmax", linear outputs for "squared".
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] x: JsValue,
    ) -> Result<Vec<f64>, JsError> {
        let x = f64s("predict", "x", &x)?;
        self.inner
            .borrow()
            .predict(&x)
            .map_err(|e| invalid("predict", &e.to_string()))
    }

    /// Seals the weights and optimizer state with AES-256-GCM under `key` (32 bytes) as
    /// `round.version` of `round.modelId` for `round.trainers` trainers, sealed by trainer
    /// `trainer` (its position in the agreed order).
    pub fn seal(
        &self,
        key: &[u8],
        #[wasm_bindgen(unchecked_param_type = "WeightsRound")] round: JsValue,
        trainer: u32,
    ) -> Result<Vec<u8>, JsError> {
        const OP: &str = "seal";
        let key = key_of(OP, key)?;
        let (id, trainers, version) = round_of(OP, &round)?;
        self.inner
            .borrow_mut()
            .seal(&key, id, trainers, trainer, version)
            .map_err(|e| invalid(OP, &e.to_string()))
    }

    /// Opens `sealed` into the model: it must be `round.version` of `round.modelId` for
    /// `round.trainers` trainers, sealed under `key` by the trainer whose turn produced that
    /// version, for a network of this spec. On success the weights and optimizer state are
    /// replaced; otherwise they are unchanged and the thrown `Error`'s `rejection` says why:
    /// "authentication" (the wrong key, or modified bytes), "wrongModel", "wrongTrainers",
    /// "replayed" (an older version), "ahead" (a later one), "outOfOrder" (sealed by a trainer
    /// whose turn it was not), "malformed" (truncated, padded, a bad header) or none for another
    /// network's weights.
    pub fn open(
        &self,
        key: &[u8],
        #[wasm_bindgen(unchecked_param_type = "WeightsRound")] round: JsValue,
        sealed: &[u8],
    ) -> Result<(), JsValue> {
        const OP: &str = "open";
        let key = key_of(OP, key).map_err(js)?;
        let (model, trainers, version) = round_of(OP, &round).map_err(js)?;
        let expect = Expect {
            model,
            trainers,
            version,
        };
        self.inner
            .borrow_mut()
            .open(&key, &expect, sealed)
            .map_err(|e| weights_error(OP, &e, &[]))
    }

    /// The weights and biases (layer by layer: the `out x in` row-major weight matrix, then the
    /// `out` biases).
    pub fn params(&self) -> Vec<f64> {
        self.inner.borrow().params().to_vec()
    }

    /// Replaces the weights and biases (exactly `paramCount` finite numbers); the optimizer's
    /// state is kept.
    #[wasm_bindgen(js_name = setParams)]
    pub fn set_params(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] params: JsValue,
    ) -> Result<(), JsError> {
        let p = f64s("setParams", "params", &params)?;
        self.inner
            .borrow_mut()
            .set_params(&p)
            .map_err(|e| invalid("setParams", &e.to_string()))
    }

    /// The weights and optimizer state in the clear, in the payload format of sealed weights
    /// (the format `fixshare-snt train --out` writes).
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&self) -> Vec<u8> {
        self.inner.borrow().export()
    }

    /// Replaces the weights and optimizer state with an export of a model of the same spec.
    #[wasm_bindgen(js_name = importWeights)]
    pub fn import_weights(&self, bytes: &[u8]) -> Result<(), JsError> {
        self.inner
            .borrow_mut()
            .import(bytes)
            .map_err(|e| invalid("importWeights", &e.to_string()))
    }
}

/// A framed connection that carries sealed weights: to the next or previous trainer of an FNT
/// ring, or to the SNT server. Keep one per connection (frames carry sequence numbers); a
/// failure after communicating makes it unusable.
#[wasm_bindgen]
pub struct WeightLink {
    transport: JsTransport,
    link: RefCell<Slot<CoreLink<JsTransport>>>,
}

impl WeightLink {
    /// Runs `f` on the link, lent out for the call; a failure after communicating is kept.
    async fn with<V, F>(&self, op: &str, f: F) -> Result<V, JsValue>
    where
        F: AsyncFnOnce(&mut CoreLink<JsTransport>) -> Result<V, Error>,
    {
        let mut link = Slot::take(&self.link, op, "weight link").map_err(js)?;
        let before = link.activity();
        let r = f(&mut link).await;
        let failed = match &r {
            Err(e) if link.activity() != before => Some(e.to_string()),
            _ => None,
        };
        *self.link.borrow_mut() = match failed {
            None => Slot::Ready(link),
            Some(why) => Slot::Failed(why),
        };
        r.map_err(|e| weights_error(op, &e, &[&self.transport]))
    }
}

#[wasm_bindgen]
impl WeightLink {
    /// A link over `transport`. `maxFrame`: the largest frame sent or accepted (default 64 MiB;
    /// sealed weights travel in frames of at most this size).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Transport")] transport: JsValue,
        #[wasm_bindgen(js_name = maxFrame)] max_frame: Option<u32>,
    ) -> Result<WeightLink, JsError> {
        let t = JsTransport::new("weights", transport).map_err(|e| invalid("WeightLink", &e))?;
        let max = max_frame.map_or(DEFAULT_MAX_FRAME, |m| m as usize);
        Ok(WeightLink {
            link: RefCell::new(Slot::Ready(CoreLink::with_max_frame(t.clone(), max))),
            transport: t,
        })
    }

    /// FNT: sends sealed weights to the next trainer.
    pub async fn pass(&self, sealed: Vec<u8>) -> Result<(), JsValue> {
        self.with("pass", async |l| pass(l, &sealed).await).await
    }

    /// FNT: receives sealed weights of exactly `length` bytes (`FloatModel.sealedLength`) from
    /// the previous trainer (another announced length rejects before anything is allocated).
    pub async fn receive(&self, length: u32) -> Result<Vec<u8>, JsValue> {
        self.with("receive", async |l| receive(l, length as usize).await)
            .await
    }

    /// SNT: uploads sealed weights as trainer `trainer` until they are known to be stored. The
    /// server refuses an upload that is not the successor of what it holds (`rejection`:
    /// "replayed", "ahead", "outOfOrder", "wrongModel", "wrongTrainers", "malformed",
    /// "tooLarge").
    pub async fn upload(&self, trainer: u32, sealed: Vec<u8>) -> Result<(), JsValue> {
        self.with("upload", async |l| deliver(l, trainer, &sealed).await)
            .await
    }

    /// SNT: fetches `round.version` of `round.modelId` as trainer `trainer`, asking again while
    /// it is not there yet: exactly `length` bytes (`FloatModel.sealedLength`). Not opened: pass
    /// the bytes to `FloatModel.open`, which checks them.
    pub async fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WeightsRound")] round: JsValue,
        trainer: u32,
        length: u32,
    ) -> Result<Vec<u8>, JsValue> {
        let (model, _, version) = round_of("fetch", &round).map_err(js)?;
        self.with("fetch", async |l| {
            wait_for(l, model, trainer, version, length as usize).await
        })
        .await
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
