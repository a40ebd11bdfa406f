//! Machine learning on shares: SecureML's linear and logistic regression and multilayer
//! perceptrons by mini-batch SGD, and MiniONN's oblivious inference of networks of dense,
//! convolution, activation and pooling layers.

use crate::party::{
    CSession, boxed, fxs_party, fxs_shares, fxs_stats, out_ptr, role_of, shares_ref, with_party,
};
use crate::status::Failure;
use crate::{fxs_status, run, slice, slice_mut};
use alloc::vec::Vec;
use core::ffi::c_void;
use fixshare::session::limits::{self, DEFAULT_MAX_ELEMENTS};
use fixshare::session::{
    GlmModel, Image, Layer, Mlp, MlpLoss, MlpParams, Network, Progress, Role, SgdParams, Sigmoid,
    block_on,
};

/// Linear regression (squared loss): predictions are the scores `X w + b`.
pub const FXS_MODEL_LINEAR: u32 = 0;
/// Logistic regression with SecureML's piecewise sigmoid: 0 below -1/2, `x + 1/2` between, 1
/// above 1/2 (exact, one garbled-circuit round trip per batch).
pub const FXS_MODEL_LOGISTIC_PIECEWISE: u32 = 1;
/// Logistic regression with the 34-segment piecewise-linear sigmoid of `fxs_party_sigmoid`
/// (error below 0.003; one round trip and one product per batch).
pub const FXS_MODEL_LOGISTIC_ACCURATE: u32 = 2;

/// A multilayer perceptron's output is the last layer's linear output, trained with the squared
/// loss against one-hot targets (output gradient `z - y`: no division).
pub const FXS_MLP_LOSS_SQUARED: u32 = 0;
/// SecureML's softmax replacement `relu(z_i) / sum_j relu(z_j)` with the cross-entropy gradient
/// form (output gradient `f(z) - y`), by `fxs_party_relu_softmax`'s garbled circuit (a division
/// per value).
pub const FXS_MLP_LOSS_RELU_SOFTMAX: u32 = 1;

/// A dense layer `[a | 1] W`, `W` of `(inputs + 1) x outputs` (bias last row). Reads `inputs`
/// and `outputs`.
pub const FXS_LAYER_DENSE: u32 = 0;
/// A 2-D convolution of the image `input` with `filters` kernels of `kernel x kernel`, `stride`
/// and zero `padding` on each side; its weights are a `(channels * kernel * kernel + 1) x filters`
/// matrix whose row `(c * kernel + ky) * kernel + kx` holds the kernels' weight at channel `c`,
/// position `(ky, kx)`, and whose last row is the bias. The output is `filters` images
/// (channel-major) of `out_h x out_w`, `out_h = (height + 2 padding - kernel) / stride + 1`.
/// Reads `input`, `filters`, `kernel`, `stride`, `padding`.
pub const FXS_LAYER_CONV: u32 = 1;
/// `max(x, 0)`, elementwise (a garbled circuit). Reads nothing else.
pub const FXS_LAYER_RELU: u32 = 2;
/// `x^2`, elementwise (one product). Reads nothing else.
pub const FXS_LAYER_SQUARE: u32 = 3;
/// The mean over `kernel x kernel` blocks of each channel of the image `input`, with stride
/// `kernel` (local sums and one public scaling). Reads `input` and `kernel`; `stride` must be 0
/// or `kernel`, `padding` 0.
pub const FXS_LAYER_MEAN_POOL: u32 = 4;
/// The maximum over `kernel x kernel` windows of each channel of the image `input`, `stride`
/// apart (garbled circuits, as `fxs_party_max_pool`). Reads `input`, `kernel` and `stride`;
/// `padding` must be 0.
pub const FXS_LAYER_MAX_POOL: u32 = 5;

/// Where a training run is, reported after each epoch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_progress {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// The number of epochs of the run.
    pub epochs: usize,
    /// Online traffic with the peer so far (the whole session's, as `fxs_party_stats`).
    pub online: fxs_stats,
    /// Offline traffic so far (OT with the peer, or the dealer's connection).
    pub offline: fxs_stats,
}

/// Called after each training epoch with `user_data` and the progress (valid during the call
/// only): progress reports, nothing more. It runs inside the training call, so it must not call
/// any function on the same party, and must not unwind (C++: catch every exception).
pub type fxs_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const fxs_progress)>;

/// Mini-batch SGD hyperparameters; both parties pass the same values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_sgd_params {
    /// Passes over the training rows (0 returns the initial weights).
    pub epochs: usize,
    /// Rows per batch, positive; batches are consecutive rows in order, the last one of an
    /// epoch may be shorter.
    pub batch: usize,
    /// The learning rate, positive and finite: each step subtracts `learning_rate / B` times
    /// the gradient summed over the `B` rows of the batch.
    pub learning_rate: f64,
}

/// Hyperparameters of a multilayer perceptron; both parties pass the same values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_mlp_params {
    /// The SGD settings.
    pub sgd: fxs_sgd_params,
    /// `FXS_MLP_LOSS_SQUARED` or `FXS_MLP_LOSS_RELU_SOFTMAX`.
    pub loss: u32,
    /// Seed of the public initial weights when `fxs_party_train_mlp` gets none (the weights
    /// `fxs_mlp_init` writes for this seed).
    pub init_seed: u64,
}

/// An image shape: a row of a share matrix holds `channels * height * width` values,
/// channel-major, then row-major.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_image {
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

/// One layer of a network: `kind` (`FXS_LAYER_*`) says which fields it reads (see each kind);
/// it ignores the others. Every size it reads must be positive (`padding` may be 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_layer {
    /// `FXS_LAYER_DENSE`, `_CONV`, `_RELU`, `_SQUARE`, `_MEAN_POOL` or `_MAX_POOL`.
    pub kind: u32,
    /// Dense: the input width.
    pub inputs: usize,
    /// Dense: the output width.
    pub outputs: usize,
    /// Convolution and pooling: the input image (its values per row must be the width the
    /// layer before produces).
    pub input: fxs_image,
    /// Convolution: the number of kernels (output channels).
    pub filters: usize,
    /// Convolution: the kernel side; pooling: the window side.
    pub kernel: usize,
    /// Convolution and max pooling: the step between windows (mean pooling: 0 or `kernel`).
    pub stride: usize,
    /// Convolution: zero padding on each side (pooling: 0).
    pub padding: usize,
}

/// A network's public architecture, which both parties pass alike: `input` values per row,
/// then `n_layers` layers in order. Only dense and convolution layers have weights.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_network {
    /// Values per input row (positive).
    pub input: usize,
    /// The layers (NULL only with `n_layers` 0).
    pub layers: *const fxs_layer,
    /// The number of layers.
    pub n_layers: usize,
}

// ----- training -----

/// The progress callback as a closure for the core.
fn progress(on_progress: fxs_progress_fn, user_data: *mut c_void) -> impl FnMut(&Progress) {
    move |p| {
        if let Some(f) = on_progress {
            let p = fxs_progress {
                epoch: p.epoch,
                epochs: p.epochs,
                online: p.online.into(),
                offline: p.offline.into(),
            };
            // SAFETY: a non-NULL callback takes `user_data` and a progress report valid for the
            // call (contract of `fxs_progress_fn`, which the caller of the training function
            // accepted).
            unsafe { f(user_data, &p) }
        }
    }
}

/// The SGD settings, unchecked (the core checks them before anything is sent).
fn sgd(c: &fxs_sgd_params) -> SgdParams {
    SgdParams {
        epochs: c.epochs,
        batch: c.batch,
        learning_rate: c.learning_rate,
    }
}

/// Trains a linear or logistic regression on shared features `x` (`n x d`) and targets `y`
/// (`n x 1`, for logistic regression 0.0 or 1.0) by mini-batch SGD from zero weights
/// (SecureML): per batch `X_b` (with a column of ones for the bias), the scores `X_b w`, the
/// model's function `f` (`model`: `FXS_MODEL_LINEAR`, `FXS_MODEL_LOGISTIC_PIECEWISE` or
/// `FXS_MODEL_LOGISTIC_ACCURATE`), and `w -= learning_rate / B * X_b^T (f(X_b w) - y_b)`: two
/// matrix products (one matrix triple each) and, for logistic regression, one sigmoid.
/// Both parties call it with the same shapes, `params` and `model`, each with its own shares.
/// `on_progress` (may be NULL) is called with `user_data` after each epoch.
///
/// On success `*weights_out` holds new shares of the `(d + 1) x 1` weights, the bias last
/// (open them with `fxs_party_reveal`, or keep computing on them); on failure it is NULL.
/// A NULL argument, an unknown `model`, a zero batch, a learning rate that is not positive and
/// finite, no rows, or `y` not `n x 1` (`FXS_STATUS_DIMENSION_MISMATCH`) are rejected before
/// anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `x` and `y` are NULL or live shares; `params` is NULL or
/// readable; `on_progress` is NULL or a function as `fxs_progress_fn` describes;
/// `weights_out` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_train_glm(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    params: *const fxs_sgd_params,
    model: u32,
    on_progress: fxs_progress_fn,
    user_data: *mut c_void,
    weights_out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y, params) = unsafe {
        (
            party.as_mut(),
            weights_out.as_mut(),
            x.as_ref(),
            y.as_ref(),
            params.as_ref(),
        )
    };
    with_party("fxs_party_train_glm", party, |s| {
        let out = out_ptr(out)?;
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        let c = params.ok_or(Failure::null("`params` is NULL"))?;
        let model = match model {
            FXS_MODEL_LINEAR => GlmModel::Linear,
            FXS_MODEL_LOGISTIC_PIECEWISE => GlmModel::Logistic(Sigmoid::Piecewise),
            FXS_MODEL_LOGISTIC_ACCURATE => GlmModel::Logistic(Sigmoid::Accurate),
            _ => {
                return Err(Failure::invalid(
                    "model must be FXS_MODEL_LINEAR, _LOGISTIC_PIECEWISE or _LOGISTIC_ACCURATE",
                ));
            }
        };
        if y.shape() != (x.shape().0, 1) {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`y` must have one column and as many rows as `x`",
            ));
        }
        let w = block_on(s.train_glm(x, y, model, &sgd(c), progress(on_progress, user_data)))?;
        *out = boxed(w);
        Ok(())
    })
}

/// Checks the layer widths of a multilayer perceptron (`sizes`, input first); returns the
/// number of weights of each layer, `(sizes[l] + 1) * sizes[l + 1]`.
fn mlp_counts(sizes: &[usize]) -> Result<Vec<usize>, Failure> {
    if sizes.len() < 2 {
        return Err(Failure::invalid(
            "`n_sizes` must be at least 2 (the input width and one layer)",
        ));
    }
    if sizes.contains(&0) {
        return Err(Failure::invalid("every layer width must be positive"));
    }
    let counts = sizes
        .windows(2)
        .map(|io| io[0].checked_add(1).and_then(|i| i.checked_mul(io[1])))
        .collect::<Option<Vec<usize>>>()
        .ok_or(Failure::invalid("a layer has too many weights"))?;
    total(&counts)?;
    Ok(counts)
}

/// The sum of the weight counts, if it fits the maximum of elements per operation (the weights
/// are allocated, as plaintext and as shares, before anything is sent).
fn total(counts: &[usize]) -> Result<usize, Failure> {
    let n = counts
        .iter()
        .try_fold(0usize, |a, &n| a.checked_add(n))
        .ok_or(Failure::invalid("the network has too many weights"))?;
    Ok(limits::elements("weights", n, 1, DEFAULT_MAX_ELEMENTS)?)
}

/// `all` cut into consecutive matrices of `counts` values.
fn split(all: &[f64], counts: &[usize]) -> Vec<Vec<f64>> {
    let mut layers = Vec::with_capacity(counts.len());
    let mut rest = all;
    for &n in counts {
        let (w, r) = rest.split_at(n);
        layers.push(w.to_vec());
        rest = r;
    }
    layers
}

/// The sizes a caller passed, checked.
///
/// # Safety
/// `sizes` is NULL or readable for `n_sizes` values.
unsafe fn sizes_arg<'a>(sizes: *const usize, n_sizes: usize) -> Result<&'a [usize], Failure> {
    if sizes.is_null() {
        return Err(Failure::null("`sizes` is NULL"));
    }
    // SAFETY: non-NULL and readable for `n_sizes` values (caller).
    unsafe { slice(sizes, n_sizes, "`sizes` is NULL") }
}

/// Writes the public initial weights of a multilayer perceptron with layer widths
/// `sizes[0 .. n_sizes]` (input first) for `seed`: what `fxs_party_train_mlp` starts from when
/// it gets no initial weights and `params->init_seed` is `seed`, for a plaintext reference or to
/// start from them explicitly. Layer `l` is a `(sizes[l] + 1) x sizes[l + 1]` row-major matrix,
/// the bias last row (uniform in `+-sqrt(6 / sizes[l])`, bias 0); the layers follow one another
/// in `out`, which must hold their total, the sum of `(sizes[l] + 1) * sizes[l + 1]`
/// (`FXS_STATUS_BUFFER_TOO_SMALL` otherwise). No party is involved.
///
/// # Safety
/// `sizes` is NULL or readable for `n_sizes` values; `out` is NULL or writable for `out_len`
/// doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_mlp_init(
    sizes: *const usize,
    n_sizes: usize,
    seed: u64,
    out: *mut f64,
    out_len: usize,
) -> fxs_status {
    run("fxs_mlp_init", || {
        // SAFETY: NULL or readable for `n_sizes` values (caller).
        let sizes = unsafe { sizes_arg(sizes, n_sizes) }?;
        let n = total(&mlp_counts(sizes)?)?;
        if out_len < n {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than the number of weights",
            ));
        }
        // SAFETY: NULL or writable for `out_len >= n` doubles (caller).
        let out = unsafe { slice_mut(out, n, "`out` is NULL") }?;
        let mlp = Mlp::init(sizes, seed);
        for (o, w) in out.iter_mut().zip(mlp.layers.iter().flatten()) {
            *o = *w;
        }
        Ok(())
    })
}

/// Trains a multilayer perceptron on shared inputs `x` (`n x sizes[0]`) and one-hot targets `y`
/// (`n x sizes[n_sizes - 1]`, 1.0 at each row's class, 0.0 elsewhere) by mini-batch SGD
/// (SecureML): dense layers `z = [a | 1] W_l` with the layer widths `sizes[0 .. n_sizes]` (input
/// first), ReLU after every layer but the last, and `params->loss` on the output. Per batch and
/// layer: one matrix product forward, two backward, one ReLU with its derivative forward, one
/// elementwise product backward.
///
/// The initial weights are public: `init_weights`, `init_len` doubles (the matrices `W_0, W_1,
/// ...` one after the other, `W_l` a `(sizes[l] + 1) x sizes[l + 1]` row-major matrix whose last
/// row is the bias: `init_len` is the sum of `(sizes[l] + 1) * sizes[l + 1]`), or, with
/// `init_weights` NULL and `init_len` 0, those of `fxs_mlp_init` for `params->init_seed`. Both
/// parties pass the same. `on_progress` (may be NULL) is called with `user_data` after each
/// epoch.
///
/// On success `weights_out[l]` holds new shares of the trained `W_l` for each of the
/// `n_sizes - 1` layers (free each with `fxs_shares_free`); `weights_out` has room for
/// `n_weights_out >= n_sizes - 1` pointers, and on failure the first `n_weights_out` are NULL.
/// Argument errors (NULLs, an unknown loss, a zero batch, a learning rate that is not positive
/// and finite, fewer than 2 sizes or a zero width, a wrong `init_len` or shape of `x` or `y`
/// (`FXS_STATUS_DIMENSION_MISMATCH`), a short `weights_out` (`FXS_STATUS_BUFFER_TOO_SMALL`),
/// initial weights outside the fixed-point range) are found before anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `x` and `y` are NULL or live shares; `sizes` is NULL or
/// readable for `n_sizes` values; `init_weights` is NULL or readable for `init_len` doubles;
/// `params` is NULL or readable; `on_progress` is NULL or a function as `fxs_progress_fn`
/// describes; `weights_out` is NULL or writable for `n_weights_out` pointers.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_train_mlp(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    sizes: *const usize,
    n_sizes: usize,
    init_weights: *const f64,
    init_len: usize,
    params: *const fxs_mlp_params,
    on_progress: fxs_progress_fn,
    user_data: *mut c_void,
    weights_out: *mut *mut fxs_shares,
    n_weights_out: usize,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, x, y, params) =
        unsafe { (party.as_mut(), x.as_ref(), y.as_ref(), params.as_ref()) };
    with_party("fxs_party_train_mlp", party, |s| {
        // The results' slots, NULL until the end (`None`: the caller passed NULL).
        let out = if weights_out.is_null() {
            None
        } else {
            // SAFETY: non-NULL and writable for `n_weights_out` pointers (contract).
            let out = unsafe { slice_mut(weights_out, n_weights_out, "`weights_out` is NULL") }?;
            out.fill(core::ptr::null_mut());
            Some(out)
        };
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        let c = params.ok_or(Failure::null("`params` is NULL"))?;
        let loss = match c.loss {
            FXS_MLP_LOSS_SQUARED => MlpLoss::Squared,
            FXS_MLP_LOSS_RELU_SOFTMAX => MlpLoss::ReluSoftmax,
            _ => {
                return Err(Failure::invalid(
                    "loss must be FXS_MLP_LOSS_SQUARED or FXS_MLP_LOSS_RELU_SOFTMAX",
                ));
            }
        };
        // SAFETY: NULL or readable for `n_sizes` values (contract).
        let sizes = unsafe { sizes_arg(sizes, n_sizes) }?;
        let counts = mlp_counts(sizes)?;
        // The activations of all rows at the widest layer, before anything is allocated.
        let widest = sizes.iter().max().map_or(0, |w| w.saturating_add(1));
        limits::elements(
            "fxs_party_train_mlp",
            x.shape().0,
            widest,
            DEFAULT_MAX_ELEMENTS,
        )?;
        let out = out.ok_or(Failure::null("`weights_out` is NULL"))?;
        if out.len() < counts.len() {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`n_weights_out` is smaller than the number of layers, `n_sizes - 1`",
            ));
        }
        let init = if init_weights.is_null() && init_len == 0 {
            Mlp::init(sizes, c.init_seed)
        } else {
            if init_len != total(&counts)? {
                return Err(Failure::Arg(
                    fxs_status::DimensionMismatch,
                    "`init_len` is not the sum of (sizes[l] + 1) * sizes[l + 1]",
                ));
            }
            // SAFETY: NULL or readable for `init_len` doubles (contract).
            let all = unsafe { slice(init_weights, init_len, "`init_weights` is NULL") }?;
            Mlp {
                sizes: sizes.to_vec(),
                layers: split(all, &counts),
            }
        };
        let params = MlpParams {
            sgd: sgd(&c.sgd),
            init_seed: c.init_seed,
            loss,
        };
        let w = block_on(s.train_mlp(x, y, &init, &params, progress(on_progress, user_data)))?;
        for (o, w) in out.iter_mut().zip(w) {
            *o = boxed(w);
        }
        Ok(())
    })
}

// ----- inference -----

/// A network the caller described, checked: the core's [`Network`] and the number of weights of
/// each dense or convolution layer.
struct Net {
    net: Network,
    counts: Vec<usize>,
}

/// Translates one layer, checking that every size it reads is positive and that the products
/// the core computes from them fit (`bound`: an upper bound of the layer's widest row, of
/// output or im2col matrix, which `rows` times must fit as well).
fn layer(l: &fxs_layer) -> Result<(Layer, Option<usize>, usize), Failure> {
    let too_big = || Failure::invalid("a layer's sizes overflow");
    let positive = |v: &[usize]| {
        if v.contains(&0) {
            Err(Failure::invalid(
                "every size a layer reads must be positive (except the padding)",
            ))
        } else {
            Ok(())
        }
    };
    let image = |i: fxs_image| -> Result<(Image, usize), Failure> {
        positive(&[i.channels, i.height, i.width])?;
        let len = i
            .channels
            .checked_mul(i.height)
            .and_then(|v| v.checked_mul(i.width))
            .ok_or_else(too_big)?;
        let image = Image {
            channels: i.channels,
            height: i.height,
            width: i.width,
        };
        Ok((image, len))
    };
    let no_padding = || {
        if l.padding != 0 {
            Err(Failure::invalid("pooling layers take no padding"))
        } else {
            Ok(())
        }
    };
    Ok(match l.kind {
        FXS_LAYER_DENSE => {
            positive(&[l.inputs, l.outputs])?;
            let n = l
                .inputs
                .checked_add(1)
                .and_then(|i| i.checked_mul(l.outputs))
                .ok_or_else(too_big)?;
            let layer = Layer::Dense {
                inputs: l.inputs,
                outputs: l.outputs,
            };
            (layer, Some(n), l.inputs.max(l.outputs).saturating_add(1))
        }
        FXS_LAYER_CONV => {
            let (input, len) = image(l.input)?;
            positive(&[l.filters, l.kernel, l.stride])?;
            let pad = l.padding.checked_mul(2).ok_or_else(too_big)?;
            let ph = input.height.checked_add(pad).ok_or_else(too_big)?;
            let pw = input.width.checked_add(pad).ok_or_else(too_big)?;
            let positions = ph.checked_mul(pw).ok_or_else(too_big)?;
            let k = input
                .channels
                .checked_mul(l.kernel)
                .and_then(|v| v.checked_mul(l.kernel))
                .and_then(|v| v.checked_add(1))
                .ok_or_else(too_big)?;
            let n = k.checked_mul(l.filters).ok_or_else(too_big)?;
            // The output (at most `filters * positions`) and the im2col matrix of one row
            // (`positions x k`).
            let out = l.filters.checked_mul(positions).ok_or_else(too_big)?;
            let cols = positions.checked_mul(k).ok_or_else(too_big)?;
            let layer = Layer::Conv {
                input,
                filters: l.filters,
                kernel: l.kernel,
                stride: l.stride,
                padding: l.padding,
            };
            (layer, Some(n), len.max(out).max(cols))
        }
        FXS_LAYER_RELU => (Layer::Relu, None, 0),
        FXS_LAYER_SQUARE => (Layer::Square, None, 0),
        FXS_LAYER_MEAN_POOL => {
            let (input, len) = image(l.input)?;
            positive(&[l.kernel])?;
            no_padding()?;
            if l.stride != 0 && l.stride != l.kernel {
                return Err(Failure::invalid(
                    "mean pooling moves by its window: `stride` must be 0 or `kernel`",
                ));
            }
            let layer = Layer::MeanPool {
                input,
                window: l.kernel,
            };
            (layer, None, len)
        }
        FXS_LAYER_MAX_POOL => {
            let (input, len) = image(l.input)?;
            positive(&[l.kernel, l.stride])?;
            no_padding()?;
            // The windows of one row: `channels * out_h * out_w` windows of `kernel^2` values
            // (a window larger than the image is the core's error to report).
            let out = |side: usize| side.saturating_sub(l.kernel) / l.stride + 1;
            let windows = input
                .channels
                .checked_mul(out(input.height))
                .and_then(|v| v.checked_mul(out(input.width)))
                .and_then(|v| v.checked_mul(l.kernel))
                .and_then(|v| v.checked_mul(l.kernel))
                .ok_or_else(too_big)?;
            let layer = Layer::MaxPool {
                input,
                window: l.kernel,
                stride: l.stride,
            };
            (layer, None, len.max(windows))
        }
        _ => return Err(Failure::invalid("a layer's kind is not one of FXS_LAYER_*")),
    })
}

/// Checks a network and that `rows` rows of its widest matrix fit (`rows` 0 skips that).
fn network(input: usize, layers: &[fxs_layer], rows: usize) -> Result<Net, Failure> {
    if input == 0 {
        return Err(Failure::invalid(
            "the network's `input` width must be positive",
        ));
    }
    let mut widest = input;
    let mut out = Vec::with_capacity(layers.len());
    let mut counts = Vec::new();
    for l in layers {
        let (layer, weights, bound) = layer(l)?;
        out.push(layer);
        counts.extend(weights);
        widest = widest.max(bound);
    }
    total(&counts)?;
    let net = Network { input, layers: out };
    // Whether the shapes chain (each layer's input is the width the one before produces).
    net.check()?;
    // Every matrix of the forward pass (rows times a layer's widest row) within the maximum of
    // elements per operation, before anything is allocated or sent.
    limits::elements(
        "network",
        rows.max(1),
        widest.saturating_add(1),
        DEFAULT_MAX_ELEMENTS,
    )?;
    Ok(Net { net, counts })
}

/// The network the caller passed, checked for `rows` rows.
///
/// # Safety
/// `net` is NULL or a readable `fxs_network` whose `layers` are NULL or readable for `n_layers`
/// layers.
unsafe fn network_arg(net: *const fxs_network, rows: usize) -> Result<Net, Failure> {
    // SAFETY: NULL or readable (caller).
    let n = unsafe { net.as_ref() }.ok_or(Failure::null("`net` is NULL"))?;
    // SAFETY: NULL or readable for `n_layers` layers (caller).
    let layers = unsafe { slice(n.layers, n.n_layers, "`net->layers` is NULL") }?;
    network(n.input, layers, rows)
}

/// Writes the width of the output rows of `net` to `*output_width` and the total number of its
/// weights (of its dense and convolution layers, in order, each `(rows x cols)` as the layer
/// kind says) to `*weights_len`; either may be NULL. Fails as `fxs_party_classify` does on a bad
/// network (`FXS_STATUS_INVALID_ARGUMENT`, e.g. when a layer's input is not the width the layer
/// before produces).
///
/// # Safety
/// `net` is NULL or a readable `fxs_network` (its `layers` readable for `n_layers` layers);
/// `output_width` and `weights_len` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_network_info(
    net: *const fxs_network,
    output_width: *mut usize,
    weights_len: *mut usize,
) -> fxs_status {
    run("fxs_network_info", || {
        // SAFETY: the contract of this function.
        let n = unsafe { network_arg(net, 0) }?;
        let width = n.net.check()?;
        // SAFETY: NULL or writable (caller).
        if let Some(o) = unsafe { output_width.as_mut() } {
            *o = width;
        }
        // SAFETY: NULL or writable (caller).
        if let Some(o) = unsafe { weights_len.as_mut() } {
            *o = total(&n.counts)?;
        }
        Ok(())
    })
}

/// What one side of an oblivious inference brings: the model owner its weights, the client its
/// input rows (and, to classify, room for the classes).
enum Side<'a> {
    Owner(Vec<Vec<f64>>),
    Client(&'a [f64]),
}

/// Checks that every value fits the session's fixed-point range (so that nothing fails after
/// the first values were sent).
fn encodable(s: &CSession, values: &[f64]) -> Result<(), Failure> {
    let fixed = s.fixed();
    let bits = s.config().ring_bits;
    for &v in values {
        match bits {
            32 => fixed.encode::<u32>(v).map(drop),
            64 => fixed.encode::<u64>(v).map(drop),
            _ => fixed.encode::<u128>(v).map(drop),
        }?;
    }
    Ok(())
}

/// Checks the arguments of one side of an inference before anything is sent: `classes` says
/// whether this is a classification whose client passed (non-NULL) room for the classes.
///
/// # Safety
/// `weights` is NULL or readable for `weights_len` doubles; `input` is NULL or readable for
/// `rows * net.input` doubles.
#[allow(clippy::too_many_arguments)]
unsafe fn side<'a>(
    s: &CSession,
    owner: Role,
    n: &Net,
    weights: *const f64,
    weights_len: usize,
    input: *const f64,
    rows: usize,
    classes: Option<bool>,
) -> Result<Side<'a>, Failure> {
    if rows == 0 {
        return Err(Failure::invalid("`rows` must be positive"));
    }
    if s.role() == owner {
        if !input.is_null() || classes == Some(true) {
            return Err(Failure::invalid(
                "the model owner passes the weights only (`input` and `classes_out` NULL)",
            ));
        }
        if weights.is_null() {
            return Err(Failure::null("`weights` is NULL on the model owner"));
        }
        if weights_len != total(&n.counts)? {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`weights_len` is not the number of weights of the network's layers",
            ));
        }
        // SAFETY: non-NULL and readable for `weights_len` doubles (caller).
        let all = unsafe { slice(weights, weights_len, "`weights` is NULL") }?;
        encodable(s, all)?;
        Ok(Side::Owner(split(all, &n.counts)))
    } else {
        if !weights.is_null() {
            return Err(Failure::invalid(
                "the client passes the input only (`weights` NULL)",
            ));
        }
        if input.is_null() {
            return Err(Failure::null("`input` is NULL on the client"));
        }
        if classes == Some(false) {
            return Err(Failure::null("`classes_out` is NULL on the client"));
        }
        let len = rows * n.net.input; // checked in `network`
        // SAFETY: non-NULL and readable for `rows * input` doubles (caller).
        let x = unsafe { slice(input, len, "`input` is NULL") }?;
        encodable(s, x)?;
        Ok(Side::Client(x))
    }
}

/// The weights and input for the core's calls.
fn parts<'a>(side: &'a Side<'a>) -> (Option<&'a [Vec<f64>]>, Option<&'a [f64]>) {
    match side {
        Side::Owner(w) => (Some(w), None),
        Side::Client(x) => (None, Some(x)),
    }
}

/// Classifies `rows` rows with `n` (see `fxs_party_classify`).
///
/// # Safety
/// As `fxs_party_classify` (the network already read).
#[allow(clippy::too_many_arguments)]
unsafe fn classify(
    s: &mut CSession,
    owner: Role,
    n: &Net,
    weights: *const f64,
    weights_len: usize,
    input: *const f64,
    rows: usize,
    classes_out: *mut usize,
    classes_len: usize,
) -> Result<(), Failure> {
    let room = Some(!classes_out.is_null());
    // SAFETY: the contract of this function.
    let side = unsafe { side(s, owner, n, weights, weights_len, input, rows, room) }?;
    let out = match side {
        Side::Owner(_) => None,
        Side::Client(_) => {
            if classes_len < rows {
                return Err(Failure::Arg(
                    fxs_status::BufferTooSmall,
                    "`classes_len` is smaller than `rows`",
                ));
            }
            // SAFETY: non-NULL and writable for `classes_len >= rows` values (caller).
            Some(unsafe { slice_mut(classes_out, rows, "`classes_out` is NULL") }?)
        }
    };
    let (w, x) = parts(&side);
    let classes = block_on(s.classify(&n.net, owner, w, x, rows))?;
    if let (Some(out), Some(classes)) = (out, classes) {
        // The client always receives `rows` classes (`rows x 1` opened to it).
        for (o, c) in out.iter_mut().zip(classes) {
            *o = c;
        }
    }
    Ok(())
}

/// Oblivious classification (MiniONN) with the network `net`: the model owner (`model_owner`,
/// `FXS_ROLE_P0` or `FXS_ROLE_P1`) holds the weights, the other party (the client) holds `rows`
/// input rows of `net->input` values, and only the client learns the predicted classes, the
/// argmax of each output row (the first on ties). Neither learns the other's data; the
/// architecture (`net`, `rows`) is public and both parties pass the same.
///
/// `net` lists the layers (`fxs_layer`): dense, convolution, ReLU, square, mean pooling and max
/// pooling, in any order whose shapes chain (an image layer's `input` holds the values per row
/// the layer before produces). Dense and convolution layers cost one matrix product each, ReLU
/// and max pooling garbled circuits, the square one product, mean pooling nothing but a public
/// scaling; then one argmax.
///
/// - The model owner passes `weights`: the matrices of the dense and convolution layers in
///   order, one after the other, `weights_len` doubles in all (`fxs_network_info` gives the
///   count); `input` and `classes_out` are NULL.
/// - The client passes `input`, `rows * net->input` doubles row-major (images channel-major),
///   and `classes_out` with room for `classes_len >= rows` classes; `weights` is NULL.
///
/// Argument errors (NULLs; a bad layer list: an unknown kind, a zero size, shapes that do not
/// chain; a wrong `weights_len`: `FXS_STATUS_DIMENSION_MISMATCH`; a short `classes_out`:
/// `FXS_STATUS_BUFFER_TOO_SMALL`; the wrong side's data, no rows, values outside the
/// fixed-point range) are found before anything is sent and leave the party usable.
///
/// # Safety
/// `party` is NULL or a live party; `net` is NULL or a readable `fxs_network` (its `layers`
/// readable for `n_layers` layers); `weights` is NULL or readable for `weights_len` doubles;
/// `input` is NULL or readable for `rows * net->input` doubles; `classes_out` is NULL or
/// writable for `classes_len` values.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_classify(
    party: *mut fxs_party,
    model_owner: u32,
    net: *const fxs_network,
    weights: *const f64,
    weights_len: usize,
    input: *const f64,
    rows: usize,
    classes_out: *mut usize,
    classes_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let party = unsafe { party.as_mut() };
    with_party("fxs_party_classify", party, |s| {
        let owner = role_of(
            model_owner,
            "`model_owner` must be FXS_ROLE_P0 or FXS_ROLE_P1",
        )?;
        // SAFETY: the contract of this function.
        let n = unsafe { network_arg(net, rows) }?;
        // SAFETY: the contract of this function.
        unsafe {
            classify(
                s,
                owner,
                &n,
                weights,
                weights_len,
                input,
                rows,
                classes_out,
                classes_len,
            )
        }
    })
}

/// Oblivious inference (MiniONN) with the network `net` as `fxs_party_classify`, without the
/// argmax: on success `*out` holds this party's shares of the `rows x output_width` output
/// (`fxs_network_info` gives the width; free them with `fxs_shares_free`), for example to open
/// to the client with `fxs_party_reveal_to` or to compute on. The model owner passes `weights`
/// (`input` NULL), the client `input` (`weights` NULL). Argument errors are found before anything
/// is sent, as for `fxs_party_classify`.
///
/// # Safety
/// As for `fxs_party_classify`; `out` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_forward(
    party: *mut fxs_party,
    model_owner: u32,
    net: *const fxs_network,
    weights: *const f64,
    weights_len: usize,
    input: *const f64,
    rows: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, out) = unsafe { (party.as_mut(), out.as_mut()) };
    with_party("fxs_party_forward", party, |s| {
        let out = out_ptr(out)?;
        let owner = role_of(
            model_owner,
            "`model_owner` must be FXS_ROLE_P0 or FXS_ROLE_P1",
        )?;
        // SAFETY: the contract of this function.
        let n = unsafe { network_arg(net, rows) }?;
        // SAFETY: the contract of this function.
        let side = unsafe { side(s, owner, &n, weights, weights_len, input, rows, None) }?;
        let (w, x) = parts(&side);
        *out = boxed(block_on(s.forward(&n.net, owner, w, x, rows))?);
        Ok(())
    })
}

/// Oblivious inference of a dense network with ReLU between its layers (MiniONN): the model
/// owner (`model_owner`, `FXS_ROLE_P0` or `FXS_ROLE_P1`) holds the weights, the other party
/// (the client) holds `rows` input rows, and only the client learns the predicted classes, the
/// argmax of each output row (the first on ties). Neither learns the other's data; the shape
/// (`sizes`, `rows`) is public and both parties pass the same. `fxs_party_classify` is the same
/// for any layer list.
///
/// `sizes[0 .. n_sizes]` are the layer widths, input first (`{4, 8, 3}`: 4 inputs, a hidden
/// layer of 8, 3 classes). Layer `l` computes `[a | 1] W_l`, with `W_l` a
/// `(sizes[l] + 1) x sizes[l + 1]` row-major matrix whose last row is the bias; ReLU follows
/// every layer but the last.
///
/// - The model owner passes `weights`: the matrices `W_0, W_1, ...` one after the other,
///   `weights_len` doubles in all; `input` and `classes_out` are NULL.
/// - The client passes `input`, `rows * sizes[0]` doubles row-major, and `classes_out` with room
///   for `classes_len >= rows` classes; `weights` is NULL.
///
/// Costs one matrix product per layer, one ReLU per hidden layer, one argmax. Argument errors
/// (NULLs, a wrong `weights_len`: `FXS_STATUS_DIMENSION_MISMATCH`; a short `classes_out`:
/// `FXS_STATUS_BUFFER_TOO_SMALL`; the wrong side's data, no rows, a zero width, values outside
/// the fixed-point range) are found before anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `sizes` is NULL or readable for `n_sizes` values; `weights`
/// is NULL or readable for `weights_len` doubles; `input` is NULL or readable for
/// `rows * sizes[0]` doubles; `classes_out` is NULL or writable for `classes_len` values.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fxs_party_classify_dense(
    party: *mut fxs_party,
    model_owner: u32,
    sizes: *const usize,
    n_sizes: usize,
    weights: *const f64,
    weights_len: usize,
    input: *const f64,
    rows: usize,
    classes_out: *mut usize,
    classes_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let party = unsafe { party.as_mut() };
    with_party("fxs_party_classify_dense", party, |s| {
        let owner = role_of(
            model_owner,
            "`model_owner` must be FXS_ROLE_P0 or FXS_ROLE_P1",
        )?;
        // SAFETY: NULL or readable for `n_sizes` values (contract).
        let sizes = unsafe { sizes_arg(sizes, n_sizes) }?;
        mlp_counts(sizes)?;
        let mut layers = Vec::new();
        for (l, io) in sizes.windows(2).enumerate() {
            if l > 0 {
                layers.push(fxs_layer {
                    kind: FXS_LAYER_RELU,
                    ..fxs_layer::default()
                });
            }
            layers.push(fxs_layer {
                kind: FXS_LAYER_DENSE,
                inputs: io[0],
                outputs: io[1],
                ..fxs_layer::default()
            });
        }
        let n = network(sizes[0], &layers, rows)?;
        // SAFETY: the contract of this function.
        unsafe {
            classify(
                s,
                owner,
                &n,
                weights,
                weights_len,
                input,
                rows,
                classes_out,
                classes_len,
            )
        }
    })
}
