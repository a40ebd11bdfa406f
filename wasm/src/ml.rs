//! Machine learning on shares, as methods of [`Party`]: SecureML's training of linear and
//! logistic regression ([`Party::train_glm`]) and of a multilayer perceptron
//! ([`Party::train_mlp`]), and MiniONN's oblivious inference over a list of layers
//! ([`Party::forward`], [`Party::classify`]). The session runs them; this module translates the
//! JS options into the core's plain types (`SgdParams`, `GlmModel`, `Mlp`, `MlpParams`,
//! `Network`, `Layer`).

use crate::convert::{self, MAX_ELEMENTS, field};
use crate::error::invalid;
use crate::party::{Party, Res, Shares, op};
use fixshare::session::{Layer, Mlp, Network, Progress, Role};
use js_sys::{Array, Float64Array, Function};
use wasm_bindgen::prelude::*;

/// Calls `on_epoch(epoch, progress)` after each epoch if given, `progress` the core's
/// [`Progress`] as `{ epoch, epochs, bytesSent, bytesReceived, framesSent, rounds,
/// offlineBytesSent, offlineBytesReceived }` (the session's traffic so far). What the callback
/// returns or throws is ignored: training cannot stop half-way without leaving the peer out of
/// step.
fn epoch_callback(on_epoch: Option<Function>) -> impl FnMut(&Progress) {
    move |p| {
        if let Some(f) = &on_epoch {
            let progress = convert::object(&[
                ("epoch", p.epoch as f64),
                ("epochs", p.epochs as f64),
                ("bytesSent", p.online.bytes_sent as f64),
                ("bytesReceived", p.online.bytes_received as f64),
                ("framesSent", p.online.frames_sent as f64),
                ("rounds", p.online.rounds as f64),
                ("offlineBytesSent", p.offline.bytes_sent as f64),
                ("offlineBytesReceived", p.offline.bytes_received as f64),
            ]);
            let epoch = JsValue::from_f64(p.epoch as f64);
            let _ = f.call2(&JsValue::UNDEFINED, &epoch, &progress);
        }
    }
}

/// Fails unless `n` is within [`MAX_ELEMENTS`] (sizes computed in `u64`, saturating, so that
/// nothing overflows the 32-bit `usize` of wasm32 later).
fn within(op: &str, what: &str, n: u64) -> Res<()> {
    if n > MAX_ELEMENTS {
        return Err(invalid(
            op,
            &format!("{what} has more than the {MAX_ELEMENTS} elements allowed per operation"),
        ));
    }
    Ok(())
}

/// Refuses a network whose weights, activations or rearranged inputs for `rows` rows would
/// exceed [`MAX_ELEMENTS`], before anything is allocated. Shapes that do not chain are left to
/// the session, which names them.
fn check_network_size(op: &str, net: &Network, rows: u64) -> Res<()> {
    let m = |a: u64, b: u64| a.saturating_mul(b);
    let u = |v: usize| v as u64;
    within(op, "the input", m(rows, u(net.input)))?;
    for (i, layer) in net.layers.iter().enumerate() {
        let what = format!("layer {i}");
        match *layer {
            Layer::Dense { inputs, outputs } => {
                within(op, &what, m(u(inputs) + 1, u(outputs)))?;
                within(op, &what, m(rows, u(outputs) + 1))?;
            }
            Layer::Conv {
                input,
                filters,
                kernel,
                stride,
                padding,
            } => {
                let (c, h, w) = (u(input.channels), u(input.height), u(input.width));
                let (k, s, p) = (u(kernel), u(stride), u(padding));
                within(op, &what, m(m(c, h), w))?;
                let patch = m(m(c, k), k).saturating_add(1);
                within(op, &what, m(patch, u(filters)))?;
                let (ph, pw) = (h.saturating_add(m(2, p)), w.saturating_add(m(2, p)));
                within(op, &what, ph.max(pw))?;
                if k >= 1 && s >= 1 && ph >= k && pw >= k {
                    let positions = m((ph - k) / s + 1, (pw - k) / s + 1);
                    within(op, &what, m(m(rows, positions), patch))?;
                    within(op, &what, m(m(rows, positions), u(filters)))?;
                }
            }
            Layer::MeanPool { input, window } => {
                let len = m(m(u(input.channels), u(input.height)), u(input.width));
                within(op, &what, m(rows, len))?;
                within(op, &what, u(window))?;
            }
            Layer::MaxPool {
                input,
                window,
                stride,
            } => {
                let len = m(m(u(input.channels), u(input.height)), u(input.width));
                within(op, &what, m(rows, len))?;
                let (wd, s) = (u(window), u(stride).max(1));
                let (h, w) = (u(input.height), u(input.width));
                if wd >= 1 && h >= wd && w >= wd {
                    let out = m((h - wd) / s + 1, (w - wd) / s + 1);
                    let cmp = m(m(m(rows, u(input.channels)), out), m(wd, wd));
                    within(op, &what, cmp)?;
                }
            }
            Layer::Relu | Layer::Square => {}
        }
    }
    Ok(())
}

/// Refuses layer widths whose weights or activations for `rows` rows would exceed
/// [`MAX_ELEMENTS`].
fn check_mlp_size(op: &str, sizes: &[usize], rows: u64) -> Res<()> {
    let mut total = 0u64;
    for io in sizes.windows(2) {
        let n = (io[0] as u64 + 1).saturating_mul(io[1] as u64);
        total = total.saturating_add(n);
        within(op, "the weights", total)?;
    }
    let widest = sizes.iter().max().map_or(0, |&w| w as u64 + 1);
    within(op, "a layer's activations", rows.saturating_mul(widest))
}

/// The model owner's weights (one matrix per layer that has weights), or `None`.
type Weights = Option<Vec<Vec<f64>>>;

/// The weights or the input this party brings to inference: `{ weights }` for the model owner,
/// `{ input }` for the client.
fn private_argument(op: &str, own: &JsValue) -> Res<(Weights, Option<Vec<f64>>)> {
    if !own.is_object() {
        return Err(invalid(
            op,
            "the last argument must be { weights } (model owner) or { input } (client)",
        ));
    }
    let w = field(own, "weights");
    let x = field(own, "input");
    let weights = match w.is_undefined() || w.is_null() {
        true => None,
        false => Some(convert::matrices(op, "weights", &w)?),
    };
    let input = match x.is_undefined() || x.is_null() {
        true => None,
        false => Some(convert::f64s(op, "input", &x)?),
    };
    Ok((weights, input))
}

/// The network, the model owner and this party's weights or input, checked for size.
type Inference = (Network, Role, Weights, Option<Vec<f64>>);

fn inference_args(
    op: &str,
    network: &JsValue,
    model_owner: u32,
    rows: u32,
    own: &JsValue,
) -> Res<Inference> {
    let net = convert::network(op, network)?;
    let owner = convert::role(op, model_owner)?;
    check_network_size(op, &net, rows.into())?;
    let (w, x) = private_argument(op, own)?;
    Ok((net, owner, w, x))
}

#[wasm_bindgen]
impl Party {
    /// Trains linear or logistic regression by mini-batch SGD on shared features `x` (`n x d`)
    /// and targets `y` (`n x 1`), from zero weights; resolves to the shares of the `d + 1`
    /// weights (`(d + 1) x 1`, the bias last). `options`: `{ model: "linear" | "logistic",
    /// sigmoid?: "piecewise" | "accurate" (logistic; default "piecewise", SecureML's), epochs?:
    /// number (10), batch?: number (32), learningRate?: number (0.1) }`. Batches are consecutive
    /// rows; each step subtracts `learningRate / batch` times the summed gradient.
    /// `onEpoch(epoch, progress)` is called after each epoch (1, 2, ...) with the session's
    /// traffic so far in `progress`; its result and exceptions are ignored (there is no loss to
    /// report: it would have to be opened).
    #[wasm_bindgen(js_name = trainGlm)]
    pub async fn train_glm(
        &self,
        x: &Shares,
        y: &Shares,
        #[wasm_bindgen(unchecked_param_type = "GlmOptions")] options: JsValue,
        #[wasm_bindgen(js_name = onEpoch, unchecked_optional_param_type = "(epoch: number, progress: TrainingProgress) => void")]
        on_epoch: Option<Function>,
    ) -> Res<Shares> {
        let (model, sgd) = convert::glm("trainGlm", &options)?;
        let cb = epoch_callback(on_epoch);
        op!(self, "train_glm", |s| s
            .train_glm(&x.0, &y.0, model, &sgd, cb))
        .map(Shares)
    }

    /// Trains a multilayer perceptron (dense layers, ReLU between them, a linear output layer)
    /// by mini-batch SGD on shared inputs `x` (`n x sizes[0]`) and one-hot targets `y`
    /// (`n x sizes[last]`); resolves to the shares of each layer's weights, `(inputs + 1) x
    /// outputs` with the bias last. `options`: `{ sizes: number[], weights?: Float64Array[]
    /// (public initial weights, one matrix per layer, as mlpInit returns them), seed?: number |
    /// bigint (else: the initial weights mlpInit(sizes, seed) makes), loss?: "squared" |
    /// "reluSoftmax", epochs?, batch?, learningRate? }`. `onEpoch` as for `trainGlm`.
    #[wasm_bindgen(js_name = trainMlp, unchecked_return_type = "Shares[]")]
    pub async fn train_mlp(
        &self,
        x: &Shares,
        y: &Shares,
        #[wasm_bindgen(unchecked_param_type = "MlpOptions")] options: JsValue,
        #[wasm_bindgen(js_name = onEpoch, unchecked_optional_param_type = "(epoch: number, progress: TrainingProgress) => void")]
        on_epoch: Option<Function>,
    ) -> Res<Array> {
        let op = "trainMlp";
        if !options.is_object() {
            return Err(invalid(op, "options must be an object with sizes"));
        }
        let sizes = convert::sizes(op, &field(&options, "sizes"))?;
        check_mlp_size(op, &sizes, x.0.shape().0 as u64)?;
        let weights = field(&options, "weights");
        let seed = field(&options, "seed");
        let (init, init_seed) = match (weights.is_undefined(), seed.is_undefined()) {
            (false, true) => {
                let layers = convert::matrices(op, "weights", &weights)?;
                (Mlp { sizes, layers }, 0)
            }
            (true, false) => {
                let seed = convert::seed_u64(op, "seed", &seed)?;
                (Mlp::init(&sizes, seed), seed)
            }
            _ => return Err(invalid(op, "give either weights or seed")),
        };
        let params = convert::mlp_params(op, &options, init_seed)?;
        let cb = epoch_callback(on_epoch);
        let w = op!(self, "train_mlp", |s| s
            .train_mlp(&x.0, &y.0, &init, &params, cb))?;
        Ok(w.into_iter().map(|s| JsValue::from(Shares(s))).collect())
    }

    /// MiniONN oblivious inference: runs `network` (`{ input: number, layers: Layer[] }`, the
    /// same on both parties) on `rows` input rows. The model owner (party `modelOwner`) passes
    /// `{ weights }`: one matrix per dense or convolution layer (`(inputs + 1) x outputs`, or
    /// `(channels * kernel^2 + 1) x filters` with row `(c * kernel + ky) * kernel + kx`; the bias
    /// last); the client passes `{ input }` (`rows x network.input`, images channel-major).
    /// Resolves to this party's shares of the output (`rows x` the output width).
    pub async fn forward(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Network")] network: JsValue,
        #[wasm_bindgen(js_name = modelOwner)] model_owner: u32,
        rows: u32,
        #[wasm_bindgen(
            unchecked_param_type = "{ weights: (Float64Array | number[])[] } | { input: Float64Array | number[] }"
        )]
        own: JsValue,
    ) -> Res<Shares> {
        let (net, owner, w, x) = inference_args("forward", &network, model_owner, rows, &own)?;
        op!(self, "forward", |s| s.forward(
            &net,
            owner,
            w.as_deref(),
            x.as_deref(),
            rows as usize
        ))
        .map(Shares)
    }

    /// `forward`, then the argmax of each output row, opened to the client only: the client
    /// gets the class of each row, the model owner `undefined`.
    pub async fn classify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Network")] network: JsValue,
        #[wasm_bindgen(js_name = modelOwner)] model_owner: u32,
        rows: u32,
        #[wasm_bindgen(
            unchecked_param_type = "{ weights: (Float64Array | number[])[] } | { input: Float64Array | number[] }"
        )]
        own: JsValue,
    ) -> Res<Option<Vec<u32>>> {
        let (net, owner, w, x) = inference_args("classify", &network, model_owner, rows, &own)?;
        let classes = op!(self, "classify", |s| s.classify(
            &net,
            owner,
            w.as_deref(),
            x.as_deref(),
            rows as usize
        ))?;
        Ok(classes.map(|c| c.into_iter().map(|v| v as u32).collect()))
    }
}

/// The public initial weights of a perceptron with layer widths `sizes`, deterministic in
/// `seed` (uniform in +-sqrt(6 / inputs), bias 0): one `Float64Array` per layer, `(inputs + 1) x
/// outputs`, row-major, the bias last. `trainMlp` with `{ seed }` starts from these.
#[wasm_bindgen(js_name = mlpInit, unchecked_return_type = "Float64Array[]")]
pub fn mlp_init(
    #[wasm_bindgen(unchecked_param_type = "number[]")] sizes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | bigint")] seed: JsValue,
) -> Res<Array> {
    let op = "mlpInit";
    let sizes = convert::sizes(op, &sizes)?;
    check_mlp_size(op, &sizes, 0)?;
    let seed = convert::seed_u64(op, "seed", &seed)?;
    let mlp = Mlp::init(&sizes, seed);
    Ok(mlp
        .layers
        .iter()
        .map(|l| JsValue::from(Float64Array::from(l.as_slice())))
        .collect())
}
