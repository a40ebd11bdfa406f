//! Training by sharing sealed weights (Phong–Phuong): a trainer's plaintext model
//! (`fxs_float_model`), sealing and opening its weights, and moving sealed weights over a link
//! (FNT ring passes, SNT uploads and fetches). Thin translations of
//! `fixshare::session::weights` (`LocalModel` and the ring and server steps): the sealing, the
//! checks of model, round and trainer, and the training are the core's.

use crate::party::{fxs_link, link_mut, on_link, out_ptr};
use crate::status::Failure;
use crate::{fxs_status, run, run_void, slice, slice_mut};
use alloc::boxed::Box;
use fixshare::session::weights::{
    Activation, Expect, KEY_LEN, LocalModel, Loss, ModelId, Optimizer, Rows, Spec, WeightKey,
    deliver, pass, receive, wait_for,
};
use fixshare::session::{Seed, block_on};
use zeroize::Zeroize;

/// Hidden activation `z`.
pub const FXS_ACTIVATION_IDENTITY: u32 = 0;
/// Hidden activation `max(z, 0)`.
pub const FXS_ACTIVATION_RELU: u32 = 1;
/// Hidden activation `z` above 0, `leaky_slope * z` below.
pub const FXS_ACTIVATION_LEAKY_RELU: u32 = 2;
/// Hidden activation `1 / (1 + e^-z)`.
pub const FXS_ACTIVATION_SIGMOID: u32 = 3;
/// Hidden activation `tanh z`.
pub const FXS_ACTIVATION_TANH: u32 = 4;
/// Hidden activation `ln(1 + e^z)`.
pub const FXS_ACTIVATION_SOFTPLUS: u32 = 5;

/// One sigmoid output, binary cross-entropy; labels 0 or 1.
pub const FXS_LOSS_BINARY_CROSS_ENTROPY: u32 = 0;
/// Softmax over `k >= 2` outputs, cross-entropy; labels are class numbers `0 .. k-1`.
pub const FXS_LOSS_SOFTMAX_CROSS_ENTROPY: u32 = 1;
/// Linear outputs, squared loss: with one output the label is the value, with `k >= 2` outputs
/// the class number (one-hot target).
pub const FXS_LOSS_SQUARED: u32 = 2;

/// Mini-batch SGD: `w -= learning_rate * gradient`.
pub const FXS_OPTIMIZER_SGD: u32 = 0;
/// Adam with bias correction (`beta1`, `beta2`, `epsilon`); its moments travel with the weights.
pub const FXS_OPTIMIZER_ADAM: u32 = 1;

/// Bytes of a weights key (`key` arguments).
pub const FXS_WEIGHTS_KEY_LEN: usize = 32;
/// Bytes of a model id (`fxs_weights_round.model_id`).
pub const FXS_WEIGHTS_MODEL_ID_LEN: usize = 16;

/// A network and how each trainer trains it locally; fill it with `fxs_float_spec_init` first.
/// Every trainer of a model uses the same spec.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_float_spec {
    /// Layer widths, inputs first, outputs last (at least two; borrowed for the call).
    pub sizes: *const usize,
    /// Number of entries of `sizes`.
    pub n_sizes: usize,
    /// `FXS_ACTIVATION_*` of every hidden layer (default `FXS_ACTIVATION_RELU`).
    pub activation: u32,
    /// The slope below 0 of `FXS_ACTIVATION_LEAKY_RELU` (default 0.01).
    pub leaky_slope: f64,
    /// Dropout rate after each hidden layer, in `[0, 1)`: NULL (and 0) for none, otherwise
    /// `n_sizes - 2` rates.
    pub dropout: *const f64,
    /// Number of entries of `dropout`.
    pub n_dropout: usize,
    /// `FXS_LOSS_*` (default `FXS_LOSS_SOFTMAX_CROSS_ENTROPY`).
    pub loss: u32,
    /// `FXS_OPTIMIZER_SGD` (default) or `FXS_OPTIMIZER_ADAM`.
    pub optimizer: u32,
    /// The learning rate (Adam: the step size), positive and finite (default 0.05).
    pub learning_rate: f64,
    /// Adam's first-moment decay (default 0.9).
    pub beta1: f64,
    /// Adam's second-moment decay (default 0.999).
    pub beta2: f64,
    /// Adam's epsilon (default 1e-8).
    pub epsilon: f64,
    /// Rows per mini-batch, at least 1 (default 32).
    pub batch: usize,
    /// Passes a trainer makes over its rows in one turn, at least 1 (default 1).
    pub local_epochs: usize,
}

/// A round of the agreed schedule: which sealed weights a seal makes or an open accepts.
///
/// With `L = trainers`, step `s` is taken by trainer `s mod L` in central epoch `s / L`; it opens
/// version `s` and seals version `s + 1`. Version 0 is the initial weights, sealed by trainer 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_weights_round {
    /// The model's id, agreed by the trainers (not secret).
    pub model_id: [u8; 16],
    /// The number of trainers `L` (1 to 65536).
    pub trainers: u32,
    /// The version sealed or expected.
    pub version: u64,
}

/// One trainer's plaintext model (opaque): the spec, the weights and optimizer state, and the
/// nonce generator of its seals. Create with `fxs_float_model_new`, free with
/// `fxs_float_model_free`.
///
/// Every call checks its arguments before it changes anything: a failed call (any status but
/// 200-299 and 900-999) leaves the weights as they were. A refused open returns a code of
/// 400-499 naming why (`FXS_STATUS_WEIGHTS_*`, `FXS_STATUS_MALFORMED`) and the model stays
/// usable.
pub struct fxs_float_model {
    inner: LocalModel,
    /// Set while a call runs: still set afterwards only if that call panicked half-way.
    busy: bool,
}

/// Fills `spec` with the defaults (documented per field); `sizes` stays NULL.
///
/// # Safety
/// `spec` is NULL (nothing happens) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_spec_init(spec: *mut fxs_float_spec) {
    // SAFETY: NULL or writable (caller).
    if let Some(s) = unsafe { spec.as_mut() } {
        *s = fxs_float_spec {
            sizes: core::ptr::null(),
            n_sizes: 0,
            activation: FXS_ACTIVATION_RELU,
            leaky_slope: 0.01,
            dropout: core::ptr::null(),
            n_dropout: 0,
            loss: FXS_LOSS_SOFTMAX_CROSS_ENTROPY,
            optimizer: FXS_OPTIMIZER_SGD,
            learning_rate: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            batch: 32,
            local_epochs: 1,
        };
    }
}

/// The core spec a C spec describes (checked by the core when the model is made).
///
/// # Safety
/// `spec.sizes` and `spec.dropout` are NULL or readable for their counts.
unsafe fn spec_of(spec: &fxs_float_spec) -> Result<Spec, Failure> {
    if spec.sizes.is_null() {
        return Err(Failure::null("`spec->sizes` is NULL"));
    }
    // SAFETY: readable for `n_sizes` values (caller).
    let sizes = unsafe { slice(spec.sizes, spec.n_sizes, "`spec->sizes` is NULL") }?;
    // SAFETY: NULL with 0, or readable for `n_dropout` values (caller).
    let dropout = unsafe { slice(spec.dropout, spec.n_dropout, "`spec->dropout` is NULL") }?;
    let activation = match spec.activation {
        FXS_ACTIVATION_IDENTITY => Activation::Identity,
        FXS_ACTIVATION_RELU => Activation::Relu,
        FXS_ACTIVATION_LEAKY_RELU => Activation::LeakyRelu(spec.leaky_slope),
        FXS_ACTIVATION_SIGMOID => Activation::Sigmoid,
        FXS_ACTIVATION_TANH => Activation::Tanh,
        FXS_ACTIVATION_SOFTPLUS => Activation::Softplus,
        _ => {
            return Err(Failure::invalid(
                "`spec->activation` is not an FXS_ACTIVATION_*",
            ));
        }
    };
    let loss = match spec.loss {
        FXS_LOSS_BINARY_CROSS_ENTROPY => Loss::BinaryCrossEntropy,
        FXS_LOSS_SOFTMAX_CROSS_ENTROPY => Loss::SoftmaxCrossEntropy,
        FXS_LOSS_SQUARED => Loss::Squared,
        _ => return Err(Failure::invalid("`spec->loss` is not an FXS_LOSS_*")),
    };
    let optimizer = match spec.optimizer {
        FXS_OPTIMIZER_SGD => Optimizer::Sgd {
            lr: spec.learning_rate,
        },
        FXS_OPTIMIZER_ADAM => Optimizer::Adam {
            lr: spec.learning_rate,
            beta1: spec.beta1,
            beta2: spec.beta2,
            eps: spec.epsilon,
        },
        _ => {
            return Err(Failure::invalid(
                "`spec->optimizer` is not an FXS_OPTIMIZER_*",
            ));
        }
    };
    let spec = Spec {
        sizes: sizes.to_vec(),
        activation,
        dropout: dropout.to_vec(),
        loss,
        optimizer,
        batch: spec.batch,
        local_epochs: spec.local_epochs,
    };
    spec.validate()?;
    Ok(spec)
}

/// `N` bytes at `p` (`what` names the argument).
///
/// # Safety
/// `p` is NULL or readable for `N` bytes.
unsafe fn bytes_arg<const N: usize>(p: *const u8, what: &'static str) -> Result<[u8; N], Failure> {
    // SAFETY: NULL or readable for N bytes (caller).
    let s = unsafe { slice(p, N, what) }?;
    let mut out = [0u8; N];
    out.copy_from_slice(s);
    Ok(out)
}

/// The key at `key` (32 bytes); the copy is erased once the AEAD holds it.
///
/// # Safety
/// `key` is NULL or readable for 32 bytes.
unsafe fn key_arg(key: *const u8) -> Result<WeightKey, Failure> {
    // SAFETY: NULL or readable for 32 bytes (caller).
    let mut bytes = unsafe { bytes_arg::<KEY_LEN>(key, "`key` is NULL") }?;
    let key = WeightKey::from_bytes(bytes);
    bytes.zeroize();
    Ok(key)
}

/// The seed at `seed` (32 bytes).
///
/// # Safety
/// `seed` is NULL or readable for 32 bytes.
unsafe fn seed_arg(seed: *const u8, what: &'static str) -> Result<Seed, Failure> {
    // SAFETY: NULL or readable for 32 bytes (caller).
    let mut bytes = unsafe { bytes_arg::<32>(seed, what) }?;
    let seed = Seed::from_bytes(bytes);
    bytes.zeroize();
    Ok(seed)
}

fn round_arg(round: Option<&fxs_weights_round>) -> Result<&fxs_weights_round, Failure> {
    round.ok_or(Failure::null("`round` is NULL"))
}

/// Runs `f` on a model the caller passed (`None`: NULL) that no earlier call left half-way.
fn with_model(
    name: &'static str,
    model: Option<&mut fxs_float_model>,
    f: impl FnOnce(&mut LocalModel) -> Result<(), Failure>,
) -> fxs_status {
    run(name, || {
        let m = model.ok_or(Failure::null("`model` is NULL"))?;
        if m.busy {
            return Err(Failure::Unusable);
        }
        m.busy = true;
        let r = f(&mut m.inner);
        m.busy = false;
        r
    })
}

/// Creates a model of `spec` with fresh weights from `init_seed` (32 bytes: Glorot or He
/// uniform weights, zero biases, as the core's `Model::init`), sealing with nonces from
/// `nonce_seed` (32 bytes of fresh entropy, never reused with the same key).
///
/// Trainers that must reproduce centralized training start from the same initial weights: the
/// first trainer's training seed as `init_seed`, or the weights it sealed as version 0.
///
/// # Safety
/// `spec` is NULL or a readable spec whose arrays are readable for their counts; the seeds are
/// NULL or readable for 32 bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_new(
    spec: *const fxs_float_spec,
    init_seed: *const u8,
    nonce_seed: *const u8,
    out: *mut *mut fxs_float_model,
) -> fxs_status {
    run("fxs_float_model_new", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or readable (caller).
        let spec = unsafe { spec.as_ref() }.ok_or(Failure::null("`spec` is NULL"))?;
        // SAFETY: the arrays are readable for their counts (caller).
        let spec = unsafe { spec_of(spec) }?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let init = unsafe { seed_arg(init_seed, "`init_seed` is NULL") }?;
        // SAFETY: as above.
        let nonces = unsafe { seed_arg(nonce_seed, "`nonce_seed` is NULL") }?;
        let inner = LocalModel::new(spec, &init, &nonces)?;
        *out = Box::into_raw(Box::new(fxs_float_model { inner, busy: false }));
        Ok(())
    })
}

/// Frees a model (its weights are not secret key material and are not erased). NULL is fine.
///
/// # Safety
/// `model` is NULL or a live model, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_free(model: *mut fxs_float_model) {
    if model.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in `fxs_float_model_new`, freed once (caller).
    let model = unsafe { Box::from_raw(model) };
    run_void(move || drop(model));
}

/// The number of weights and biases (`*n`). Layer `l` holds a `sizes[l+1] x sizes[l]` row-major
/// weight matrix (row `o`: the weights into unit `o`), then its `sizes[l+1]` biases.
///
/// # Safety
/// `model` is NULL or a live model; `n` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_param_count(
    model: *mut fxs_float_model,
    n: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, n) = unsafe { (model.as_mut(), n.as_mut()) };
    with_model("fxs_float_model_param_count", model, |m| {
        *n.ok_or(Failure::null("`n` is NULL"))? = m.params().len();
        Ok(())
    })
}

/// Copies the weights and biases into `out` (at least `fxs_float_model_param_count` doubles;
/// `FXS_STATUS_BUFFER_TOO_SMALL` otherwise).
///
/// # Safety
/// `model` is NULL or a live model; `out` is NULL or writable for `out_len` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_get_params(
    model: *mut fxs_float_model,
    out: *mut f64,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live model (caller).
    let model = unsafe { model.as_mut() };
    with_model("fxs_float_model_get_params", model, |m| {
        let p = m.params();
        if out_len < p.len() {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than the number of weights",
            ));
        }
        // SAFETY: NULL or writable for `out_len` doubles (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        out[..p.len()].copy_from_slice(p);
        Ok(())
    })
}

/// Replaces the weights and biases with `params` (exactly `fxs_float_model_param_count` finite
/// doubles); the optimizer's state is kept.
///
/// # Safety
/// `model` is NULL or a live model; `params` is NULL or readable for `n` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_set_params(
    model: *mut fxs_float_model,
    params: *const f64,
    n: usize,
) -> fxs_status {
    // SAFETY: NULL or a live model (caller).
    let model = unsafe { model.as_mut() };
    with_model("fxs_float_model_set_params", model, |m| {
        if params.is_null() {
            return Err(Failure::null("`params` is NULL"));
        }
        // SAFETY: readable for `n` doubles (caller).
        let p = unsafe { slice(params, n, "`params` is NULL") }?;
        Ok(m.set_params(p)?)
    })
}

/// One turn of local training: `spec.local_epochs` passes over the `rows` rows of `x`
/// (row-major, `features` values per row, `features` = the input width) with labels `y` (`rows`
/// values: 0/1 for binary cross-entropy, class numbers for softmax and for squared loss with
/// several outputs, values for squared loss with one output), in central epoch
/// `central_epoch` (`s / L` at step `s`), each pass in a fresh order with fresh dropout masks
/// from `seed` (this trainer's 32-byte training seed). Deterministic: the same call gives the
/// same weights on every machine. Bad shapes, labels that do not fit the loss and features that
/// are not finite are refused before any weight changes.
///
/// # Safety
/// `model` is NULL or a live model; `x` is NULL or readable for `rows * features` doubles, `y`
/// for `rows` doubles; `seed` is NULL or readable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_train(
    model: *mut fxs_float_model,
    x: *const f64,
    rows: usize,
    features: usize,
    y: *const f64,
    seed: *const u8,
    central_epoch: u64,
) -> fxs_status {
    // SAFETY: NULL or a live model (caller).
    let model = unsafe { model.as_mut() };
    with_model("fxs_float_model_train", model, |m| {
        let n = rows.checked_mul(features).ok_or(Failure::Arg(
            fxs_status::Capacity,
            "`rows * features` overflows",
        ))?;
        if rows > 0 && (x.is_null() || y.is_null()) {
            return Err(Failure::null("`x` or `y` is NULL"));
        }
        // SAFETY: readable for `rows * features` doubles (caller).
        let x = unsafe { slice(x, n, "`x` is NULL") }?;
        // SAFETY: readable for `rows` doubles (caller).
        let y = unsafe { slice(y, rows, "`y` is NULL") }?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let seed = unsafe { seed_arg(seed, "`seed` is NULL") }?;
        Ok(m.train(Rows { x, y, features }, &seed, central_epoch)?)
    })
}

/// The network's outputs for the `rows` rows of `x` (row-major, input width values per row)
/// into `out` (at least `rows` times the output width): probabilities for the cross-entropy
/// losses, linear outputs for the squared loss. No dropout.
///
/// # Safety
/// `model` is NULL or a live model; `x` is NULL or readable for `rows` rows; `out` is NULL or
/// writable for `out_len` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_predict(
    model: *mut fxs_float_model,
    x: *const f64,
    rows: usize,
    out: *mut f64,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live model (caller).
    let model = unsafe { model.as_mut() };
    with_model("fxs_float_model_predict", model, |m| {
        let sizes = &m.spec().sizes;
        let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
        let too_many = Failure::Arg(fxs_status::Capacity, "`rows` times the widths overflows");
        let n_in = rows.checked_mul(inputs).ok_or(too_many.clone())?;
        let n_out = rows.checked_mul(outputs).ok_or(too_many)?;
        if out_len < n_out {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than rows times the output width",
            ));
        }
        // SAFETY: readable for `rows * inputs` doubles (caller).
        let x = unsafe { slice(x, n_in, "`x` is NULL") }?;
        // SAFETY: writable for `out_len` doubles (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        out[..n_out].copy_from_slice(&m.predict(x)?);
        Ok(())
    })
}

/// The length of the model sealed (`*len`): what `out` of `fxs_float_model_seal` must hold, and
/// exactly what `fxs_float_model_open` and `fxs_weights_receive` accept for a model of this spec.
///
/// # Safety
/// `model` is NULL or a live model; `len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_sealed_len(
    model: *mut fxs_float_model,
    len: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, len) = unsafe { (model.as_mut(), len.as_mut()) };
    with_model("fxs_float_model_sealed_len", model, |m| {
        *len.ok_or(Failure::null("`len` is NULL"))? = m.sealed_len();
        Ok(())
    })
}

/// Seals the weights and optimizer state with AES-256-GCM under `key` (32 bytes) as
/// `round->version` of `round->model_id` for `round->trainers` trainers, sealed by trainer
/// `trainer` (its position in the agreed order), into `out`; `*written` gets the length.
///
/// The header (model id, version, epoch and position, trainer, number of trainers) is
/// authenticated with the weights: whoever opens them checks every field. An `out_len` below
/// `fxs_float_model_sealed_len` is `FXS_STATUS_BUFFER_TOO_SMALL` with `*written` set to the
/// length needed (query with `out = NULL, out_len = 0`). A trainer outside `0 .. trainers`, or
/// more than 65536 trainers, is `FXS_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `model` is NULL or a live model; `key` is NULL or readable for 32 bytes; `round` is NULL or
/// readable; `out` is NULL or writable for `out_len` bytes; `written` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_seal(
    model: *mut fxs_float_model,
    key: *const u8,
    round: *const fxs_weights_round,
    trainer: u32,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, round, written) = unsafe { (model.as_mut(), round.as_ref(), written.as_mut()) };
    with_model("fxs_float_model_seal", model, |m| {
        let written = written.ok_or(Failure::null("`written` is NULL"))?;
        *written = 0;
        let round = round_arg(round)?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let key = unsafe { key_arg(key) }?;
        let len = m.sealed_len();
        if out_len < len {
            *written = len;
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than fxs_float_model_sealed_len (`*written` says how much)",
            ));
        }
        // SAFETY: writable for `out_len` bytes (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        let model_id = ModelId(round.model_id);
        *written = m.seal_into(&key, model_id, round.trainers, trainer, round.version, out)?;
        Ok(())
    })
}

/// Opens sealed weights into the model: they must be `round->version` of `round->model_id` for
/// `round->trainers` trainers, sealed under `key` by the trainer whose turn produced that
/// version, for a network of this spec (exactly `fxs_float_model_sealed_len` bytes). On success
/// the weights and optimizer state are replaced; on any failure they are unchanged and the
/// status says why:
///
/// - `FXS_STATUS_WEIGHTS_AUTHENTICATION`: the wrong key, or the header or ciphertext modified;
/// - `FXS_STATUS_WEIGHTS_WRONG_MODEL`, `_WRONG_TRAINERS`: another model or number of trainers;
/// - `FXS_STATUS_WEIGHTS_REPLAYED`: an older version (a replay or a rollback);
/// - `FXS_STATUS_WEIGHTS_AHEAD`: a later version (a round was skipped);
/// - `FXS_STATUS_WEIGHTS_OUT_OF_ORDER`: sealed by a trainer whose turn it was not;
/// - `FXS_STATUS_MALFORMED`: truncated, padded, a bad header, or another network's size.
///
/// # Safety
/// `model` is NULL or a live model; `key` is NULL or readable for 32 bytes; `round` is NULL or
/// readable; `sealed` is NULL or readable for `sealed_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_open(
    model: *mut fxs_float_model,
    key: *const u8,
    round: *const fxs_weights_round,
    sealed: *const u8,
    sealed_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, round) = unsafe { (model.as_mut(), round.as_ref()) };
    with_model("fxs_float_model_open", model, |m| {
        let round = round_arg(round)?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let key = unsafe { key_arg(key) }?;
        if sealed.is_null() {
            return Err(Failure::null("`sealed` is NULL"));
        }
        // SAFETY: readable for `sealed_len` bytes (caller).
        let sealed = unsafe { slice(sealed, sealed_len, "`sealed` is NULL") }?;
        let expect = Expect {
            model: ModelId(round.model_id),
            trainers: round.trainers,
            version: round.version,
        };
        Ok(m.open(&key, &expect, sealed)?)
    })
}

/// The length of `fxs_float_model_export`'s output (`*len`).
///
/// # Safety
/// `model` is NULL or a live model; `len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_export_len(
    model: *mut fxs_float_model,
    len: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, len) = unsafe { (model.as_mut(), len.as_mut()) };
    with_model("fxs_float_model_export_len", model, |m| {
        *len.ok_or(Failure::null("`len` is NULL"))? = m.export_len();
        Ok(())
    })
}

/// Writes the weights and optimizer state in the clear, in the payload format of sealed weights
/// (little-endian doubles, then a trailer with the widths; the format `fixshare-snt train --out`
/// writes), into `out`; `*written` gets the length. A short `out` is
/// `FXS_STATUS_BUFFER_TOO_SMALL` with `*written` set to the length needed.
///
/// # Safety
/// `model` is NULL or a live model; `out` is NULL or writable for `out_len` bytes; `written`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_export(
    model: *mut fxs_float_model,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (model, written) = unsafe { (model.as_mut(), written.as_mut()) };
    with_model("fxs_float_model_export", model, |m| {
        let written = written.ok_or(Failure::null("`written` is NULL"))?;
        let len = m.export_len();
        *written = len;
        if out_len < len {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than fxs_float_model_export_len (`*written` says how much)",
            ));
        }
        // SAFETY: writable for `out_len` bytes (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        out[..len].copy_from_slice(&m.export());
        Ok(())
    })
}

/// Replaces the weights and optimizer state with an export (`fxs_float_model_export`, or a file
/// of `fixshare-snt train --out`) of a model of the same spec. A malformed export is
/// `FXS_STATUS_MALFORMED`, one of another network or optimizer `FXS_STATUS_INVALID_ARGUMENT`;
/// either way the weights are unchanged.
///
/// # Safety
/// `model` is NULL or a live model; `bytes` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_float_model_import(
    model: *mut fxs_float_model,
    bytes: *const u8,
    len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live model (caller).
    let model = unsafe { model.as_mut() };
    with_model("fxs_float_model_import", model, |m| {
        if bytes.is_null() {
            return Err(Failure::null("`bytes` is NULL"));
        }
        // SAFETY: readable for `len` bytes (caller).
        let b = unsafe { slice(bytes, len, "`bytes` is NULL") }?;
        Ok(m.import(b)?)
    })
}

/// FNT: sends sealed weights to the next trainer of the ring over `link` (a length frame, then
/// the bytes in frames of at most the link's maximum; flushed). A failure after sending anything
/// poisons the link.
///
/// # Safety
/// `link` is NULL or a live link; `sealed` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_weights_pass(
    link: *mut fxs_link,
    sealed: *const u8,
    len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live link (caller).
    let link = unsafe { link.as_mut() };
    run("fxs_weights_pass", || {
        let link = link_mut(link)?;
        if sealed.is_null() {
            return Err(Failure::null("`sealed` is NULL"));
        }
        // SAFETY: readable for `len` bytes (caller).
        let sealed = unsafe { slice(sealed, len, "`sealed` is NULL") }?;
        on_link(link, |l| block_on(pass(l, sealed)))
    })
}

/// FNT: receives sealed weights from the previous trainer of the ring over `link`: exactly
/// `out_len` bytes (`fxs_float_model_sealed_len`), into `out`. Another announced length is
/// `FXS_STATUS_UNEXPECTED_LENGTH` before anything is received into `out`; it poisons the link.
///
/// # Safety
/// `link` is NULL or a live link; `out` is NULL or writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_weights_receive(
    link: *mut fxs_link,
    out: *mut u8,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live link (caller).
    let link = unsafe { link.as_mut() };
    run("fxs_weights_receive", || {
        let link = link_mut(link)?;
        if out.is_null() {
            return Err(Failure::null("`out` is NULL"));
        }
        // SAFETY: writable for `out_len` bytes (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        let got = on_link(link, |l| block_on(receive(l, out_len)))?;
        out.copy_from_slice(&got);
        Ok(())
    })
}

/// SNT: uploads sealed weights to the server over `link`, as trainer `trainer`, until they are
/// known to be stored (safe to repeat on a new link after a lost connection). The server applies
/// an upload only if it is the successor of what it holds; a refusal returns the reason
/// (`FXS_STATUS_WEIGHTS_REPLAYED`, `_AHEAD`, `_OUT_OF_ORDER`, `_WRONG_MODEL`,
/// `_WRONG_TRAINERS`, `FXS_STATUS_MALFORMED`, `FXS_STATUS_WEIGHTS_TOO_LARGE`). A failure after
/// communicating poisons the link.
///
/// # Safety
/// `link` is NULL or a live link; `sealed` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_snt_upload(
    link: *mut fxs_link,
    trainer: u32,
    sealed: *const u8,
    len: usize,
) -> fxs_status {
    // SAFETY: NULL or a live link (caller).
    let link = unsafe { link.as_mut() };
    run("fxs_snt_upload", || {
        let link = link_mut(link)?;
        if sealed.is_null() {
            return Err(Failure::null("`sealed` is NULL"));
        }
        // SAFETY: readable for `len` bytes (caller).
        let sealed = unsafe { slice(sealed, len, "`sealed` is NULL") }?;
        on_link(link, |l| block_on(deliver(l, trainer, sealed)))
    })
}

/// SNT: fetches `round->version` of `round->model_id` from the server over `link` as trainer
/// `trainer`, asking again while it is not there yet (the server paces the asking), into `out`:
/// exactly `out_len` bytes (`fxs_float_model_sealed_len`). A server that has moved past that
/// version gives `FXS_STATUS_WEIGHTS_AHEAD`; another length `FXS_STATUS_UNEXPECTED_LENGTH`. The
/// bytes are not opened: pass them to `fxs_float_model_open`, which checks them.
///
/// # Safety
/// `link` is NULL or a live link; `round` is NULL or readable; `out` is NULL or writable for
/// `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_snt_fetch(
    link: *mut fxs_link,
    round: *const fxs_weights_round,
    trainer: u32,
    out: *mut u8,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (link, round) = unsafe { (link.as_mut(), round.as_ref()) };
    run("fxs_snt_fetch", || {
        let link = link_mut(link)?;
        let round = round_arg(round)?;
        if out.is_null() {
            return Err(Failure::null("`out` is NULL"));
        }
        // SAFETY: writable for `out_len` bytes (caller).
        let out = unsafe { slice_mut(out, out_len, "`out` is NULL") }?;
        let model = ModelId(round.model_id);
        let got = on_link(link, |l| {
            block_on(wait_for(l, model, trainer, round.version, out_len))
        })?;
        out.copy_from_slice(&got);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::{null, null_mut};

    fn model(sizes: &[usize], tag: u8) -> *mut fxs_float_model {
        let mut spec = core::mem::MaybeUninit::<fxs_float_spec>::uninit();
        // SAFETY: a writable spec.
        unsafe { fxs_float_spec_init(spec.as_mut_ptr()) };
        // SAFETY: initialised by fxs_float_spec_init.
        let mut spec = unsafe { spec.assume_init() };
        spec.sizes = sizes.as_ptr();
        spec.n_sizes = sizes.len();
        spec.optimizer = FXS_OPTIMIZER_ADAM;
        let (seed, nonce) = ([tag; 32], [tag ^ 0xff; 32]);
        let mut m = null_mut();
        // SAFETY: every pointer is valid for the call.
        let s = unsafe { fxs_float_model_new(&spec, seed.as_ptr(), nonce.as_ptr(), &mut m) };
        assert_eq!(s, fxs_status::Ok);
        m
    }

    #[test]
    fn seal_open_and_refusals_through_the_c_functions() {
        let sizes = [3usize, 4, 2];
        let (a, b) = (model(&sizes, 1), model(&sizes, 2));
        let key = [7u8; 32];
        let round = fxs_weights_round {
            model_id: *b"ffi weights test",
            trainers: 2,
            version: 1,
        };
        let mut len = 0;
        // SAFETY: live models and valid out-parameters throughout.
        unsafe {
            assert_eq!(fxs_float_model_sealed_len(a, &mut len), fxs_status::Ok);
            let mut written = 0;
            let s = fxs_float_model_seal(a, key.as_ptr(), &round, 0, null_mut(), 0, &mut written);
            assert_eq!((s, written), (fxs_status::BufferTooSmall, len));
            let mut sealed = alloc::vec![0u8; len];
            let s = fxs_float_model_seal(
                a,
                key.as_ptr(),
                &round,
                0,
                sealed.as_mut_ptr(),
                len,
                &mut written,
            );
            assert_eq!((s, written), (fxs_status::Ok, len));
            let wrong = [8u8; 32];
            let s = fxs_float_model_open(b, wrong.as_ptr(), &round, sealed.as_ptr(), len);
            assert_eq!(s, fxs_status::WeightsAuthentication);
            let later = fxs_weights_round {
                version: 2,
                ..round
            };
            let s = fxs_float_model_open(b, key.as_ptr(), &later, sealed.as_ptr(), len);
            assert_eq!(s, fxs_status::WeightsReplayed);
            let s = fxs_float_model_open(b, key.as_ptr(), &round, sealed.as_ptr(), len - 1);
            assert_eq!(s, fxs_status::Malformed);
            let s = fxs_float_model_open(b, key.as_ptr(), &round, null(), len);
            assert_eq!(s, fxs_status::NullPointer);
            let s = fxs_float_model_open(b, key.as_ptr(), &round, sealed.as_ptr(), len);
            assert_eq!(s, fxs_status::Ok);
            let (mut pa, mut pb) = ([0.0; 26], [1.0; 26]);
            assert_eq!(
                fxs_float_model_get_params(a, pa.as_mut_ptr(), 26),
                fxs_status::Ok
            );
            assert_eq!(
                fxs_float_model_get_params(b, pb.as_mut_ptr(), 26),
                fxs_status::Ok
            );
            assert_eq!(pa, pb);
            fxs_float_model_free(a);
            fxs_float_model_free(b);
        }
    }
}
