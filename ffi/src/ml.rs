//! Machine learning on shares: SecureML's linear and logistic regression by mini-batch SGD, and
//! MiniONN's oblivious inference of a dense network (`fixshare::ml`).

use crate::party::{AnyParty, P, Width, boxed, fxs_party, fxs_shares, out_ptr, sh, shares_ref};
use crate::party::{FXS_ROLE_P0, FXS_ROLE_P1, with_party};
use crate::status::Failure;
use crate::{fxs_status, slice, slice_mut};
use alloc::vec::Vec;
use fixshare::ml::inference::{Layer, Network};
use fixshare::ml::{GlmModel, SgdParams, Sigmoid};
use fixshare::{Role, block_on};

/// Linear regression (squared loss): predictions are the scores `X w + b`.
pub const FXS_MODEL_LINEAR: u32 = 0;
/// Logistic regression with SecureML's piecewise sigmoid: 0 below -1/2, `x + 1/2` between, 1
/// above 1/2 (exact, one garbled-circuit round trip per batch).
pub const FXS_MODEL_LOGISTIC_PIECEWISE: u32 = 1;
/// Logistic regression with the 34-segment piecewise-linear sigmoid of `fxs_party_sigmoid`
/// (error below 0.003; one round trip and one product per batch).
pub const FXS_MODEL_LOGISTIC_ACCURATE: u32 = 2;

/// Mini-batch SGD hyperparameters; both parties pass the same values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_sgd_params {
    /// Passes over the training rows (0 returns the initial zero weights).
    pub epochs: usize,
    /// Rows per batch, positive; batches are consecutive rows in order, the last one of an
    /// epoch may be shorter.
    pub batch: usize,
    /// The learning rate, positive and finite: each step subtracts `learning_rate / B` times
    /// the gradient summed over the `B` rows of the batch.
    pub learning_rate: f64,
}

/// Trains a linear or logistic regression on shared features `x` (`n x d`) and targets `y`
/// (`n x 1`, for logistic regression 0.0 or 1.0) by mini-batch SGD from zero weights
/// (SecureML): per batch `X_b` (with a column of ones for the bias), the scores `X_b w`, the
/// model's function `f` (`model`: `FXS_MODEL_LINEAR`, `FXS_MODEL_LOGISTIC_PIECEWISE` or
/// `FXS_MODEL_LOGISTIC_ACCURATE`), and `w -= learning_rate / B * X_b^T (f(X_b w) - y_b)`: two
/// matrix products (one matrix triple each) and, for logistic regression, one sigmoid.
/// Both parties call it with the same shapes, `params` and `model`, each with its own shares.
///
/// On success `*weights_out` holds new shares of the `(d + 1) x 1` weights, the bias last
/// (open them with `fxs_party_reveal`, or keep computing on them); on failure it is NULL.
/// A NULL argument, an unknown `model`, a zero batch, a learning rate that is not positive and
/// finite, no rows, or `y` not `n x 1` (`FXS_STATUS_DIMENSION_MISMATCH`) are rejected before
/// anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `x` and `y` are NULL or live shares; `params` is NULL or
/// readable; `weights_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_train_glm(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    params: *const fxs_sgd_params,
    model: u32,
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
    with_party("fxs_party_train_glm", party, |party| {
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
        let params = SgdParams {
            epochs: c.epochs,
            batch: c.batch,
            learning_rate: c.learning_rate,
        };
        *out = with_party!(party, p => {
            let (x, y) = (sh(x)?, sh(y)?);
            if y.shape() != (x.rows(), 1) {
                return Err(Failure::Arg(
                    fxs_status::DimensionMismatch,
                    "`y` must have one column and as many rows as `x`",
                ));
            }
            boxed(block_on(p.train_glm(x, y, model, &params, |_| {}))?)
        });
        Ok(())
    })
}

/// The dense network `sizes` as a [`Network`] (ReLU between layers) and its number of weights,
/// checked.
fn dense_network(sizes: &[usize]) -> Result<(Network, Vec<usize>), Failure> {
    if sizes.len() < 2 {
        return Err(Failure::invalid(
            "`n_sizes` must be at least 2 (the input width and one layer)",
        ));
    }
    if sizes.contains(&0) {
        return Err(Failure::invalid("every layer width must be positive"));
    }
    let mut layers = Vec::new();
    let mut counts = Vec::new();
    for (l, io) in sizes.windows(2).enumerate() {
        if l > 0 {
            layers.push(Layer::Relu);
        }
        layers.push(Layer::Dense {
            inputs: io[0],
            outputs: io[1],
        });
        let n = io[0]
            .checked_add(1)
            .and_then(|i| i.checked_mul(io[1]))
            .ok_or(Failure::invalid("a layer has too many weights"))?;
        counts.push(n);
    }
    counts
        .iter()
        .try_fold(0usize, |a, &n| a.checked_add(n))
        .ok_or(Failure::invalid("the network has too many weights"))?;
    Ok((
        Network {
            input: sizes[0],
            layers,
        },
        counts,
    ))
}

/// Checks that every value fits the party's fixed-point range (so that nothing fails after the
/// first values were sent).
fn encodable<R: Width>(p: &P<R>, values: &[f64]) -> Result<(), Failure> {
    let fixed = p.config().fixed;
    for &v in values {
        fixed.encode::<R>(v)?;
    }
    Ok(())
}

/// Oblivious inference of a dense network with ReLU between its layers (MiniONN): the model
/// owner (`model_owner`, `FXS_ROLE_P0` or `FXS_ROLE_P1`) holds the weights, the other party
/// (the client) holds `rows` input rows, and only the client learns the predicted classes, the
/// argmax of each output row (the first on ties). Neither learns the other's data; the shape
/// (`sizes`, `rows`) is public and both parties pass the same.
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
    with_party("fxs_party_classify_dense", party, |party| {
        let owner = match model_owner {
            FXS_ROLE_P0 => Role::P0,
            FXS_ROLE_P1 => Role::P1,
            _ => {
                return Err(Failure::invalid(
                    "`model_owner` must be FXS_ROLE_P0 or FXS_ROLE_P1",
                ));
            }
        };
        if sizes.is_null() {
            return Err(Failure::null("`sizes` is NULL"));
        }
        // SAFETY: non-NULL and readable for `n_sizes` values (contract).
        let sizes = unsafe { slice(sizes, n_sizes, "`sizes` is NULL") }?;
        let (net, counts) = dense_network(sizes)?;
        if rows == 0 {
            return Err(Failure::invalid("`rows` must be positive"));
        }
        let widest = sizes.iter().copied().max().unwrap_or(0);
        let cells = widest
            .checked_add(1)
            .and_then(|w| rows.checked_add(1)?.checked_mul(w));
        if cells.is_none() {
            return Err(Failure::invalid("`rows` times a layer width overflows"));
        }
        let is_owner = with_party!(party, p => p.role()) == owner;
        if is_owner {
            if !input.is_null() || !classes_out.is_null() {
                return Err(Failure::invalid(
                    "the model owner passes the weights only (`input` and `classes_out` NULL)",
                ));
            }
            if weights.is_null() {
                return Err(Failure::null("`weights` is NULL on the model owner"));
            }
            let total: usize = counts.iter().sum();
            if weights_len != total {
                return Err(Failure::Arg(
                    fxs_status::DimensionMismatch,
                    "`weights_len` is not the sum of (sizes[l] + 1) * sizes[l + 1]",
                ));
            }
            // SAFETY: non-NULL and readable for `weights_len` doubles (contract).
            let all = unsafe { slice(weights, weights_len, "`weights` is NULL") }?;
            let mut layers = Vec::with_capacity(counts.len());
            let mut rest = all;
            for &n in &counts {
                let (w, r) = rest.split_at(n);
                layers.push(w.to_vec());
                rest = r;
            }
            with_party!(party, p => {
                encodable(p, all)?;
                block_on(p.classify(&net, owner, Some(&layers), None, rows))?;
            });
        } else {
            if !weights.is_null() {
                return Err(Failure::invalid(
                    "the client passes the input only (`weights` NULL)",
                ));
            }
            if input.is_null() {
                return Err(Failure::null("`input` is NULL on the client"));
            }
            if classes_out.is_null() {
                return Err(Failure::null("`classes_out` is NULL on the client"));
            }
            if classes_len < rows {
                return Err(Failure::Arg(
                    fxs_status::BufferTooSmall,
                    "`classes_len` is smaller than `rows`",
                ));
            }
            let n = rows * sizes[0]; // checked above
            // SAFETY: non-NULL and readable for `rows * sizes[0]` doubles (contract).
            let x = unsafe { slice(input, n, "`input` is NULL") }?;
            // SAFETY: non-NULL and writable for `classes_len >= rows` values (contract).
            let out = unsafe { slice_mut(classes_out, rows, "`classes_out` is NULL") }?;
            let classes = with_party!(party, p => {
                encodable(p, x)?;
                block_on(p.classify(&net, owner, None, Some(x), rows))?
            });
            // The client always receives `rows` classes (`rows x 1` opened to it).
            for (o, c) in out.iter_mut().zip(classes.unwrap_or_default()) {
                *o = c;
            }
        }
        Ok(())
    })
}
