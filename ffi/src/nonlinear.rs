//! The non-linear layer on shares: ReLU, comparisons, sigmoids, max, argmax, max pooling (and
//! its derivative), division and exact truncation, by the party's backend
//! (`fxs_party_config.backend`): the dealer's FSS keys (one round per call), garbled circuits
//! (one round trip per call) or, with three servers, SecureNN's protocols with the helper; max,
//! argmax and max pooling take one per halving of a row.

use crate::party::{
    CSession, boxed, fxs_party, fxs_shares, out_ptr, shares_op, shares_ref, with_party,
};
use crate::status::Failure;
use crate::{fxs_status, slice};
use fixshare::session::limits::{self, DEFAULT_MAX_ELEMENTS};
use fixshare::session::{AnyShares, Error, PiecewiseLinear, Pool2d, block_on};

/// A max-pooling window over images stored one per row of a share matrix, channel-major
/// (`channels x height x width` values per row).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_pool2d {
    /// Channels per image.
    pub channels: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// The side of the square window (at most the height and the width).
    pub window: usize,
    /// The step between windows (positive).
    pub stride: usize,
}

/// Runs a unary operation `f` on the shares `x`, its result to `*out`.
///
/// # Safety
/// Each pointer is NULL or valid for the call (the contract of the exported function).
unsafe fn unary(
    name: &'static str,
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
    f: impl FnOnce(&mut CSession, &AnyShares) -> Result<AnyShares, Failure>,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (caller).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op(name, party, out, |s| f(s, shares_ref(x, "`x` is NULL")?))
}

/// A protocol's result, its error translated.
fn done(r: Result<AnyShares, Error>) -> Result<AnyShares, Failure> {
    Ok(r?)
}

/// Runs an operation with two results, `*out1` and `*out2` (both NULL on failure).
fn pair_op(
    name: &'static str,
    party: Option<&mut fxs_party>,
    out1: Option<&mut *mut fxs_shares>,
    out2: Option<&mut *mut fxs_shares>,
    body: impl FnOnce(&mut CSession) -> Result<(AnyShares, AnyShares), Failure>,
) -> fxs_status {
    with_party(name, party, |s| {
        let out1 = out_ptr(out1)?;
        let out2 = out_ptr(out2)?;
        let (a, b) = body(s)?;
        *out1 = boxed(a);
        *out2 = boxed(b);
        Ok(())
    })
}

/// Rejects rows without values (before anything is sent).
fn nonempty_rows(x: &AnyShares) -> Result<&AnyShares, Failure> {
    if x.shape().1 == 0 {
        return Err(Failure::invalid("`x` has no columns"));
    }
    Ok(x)
}

/// ReLU, `max(x, 0)`, elementwise (exact).
///
/// On success `*out` holds new shares of the shape of `x` (free them with `fxs_shares_free`);
/// on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_relu(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_relu", party, x, out, |s, x| {
            done(block_on(s.relu(x)))
        })
    }
}

/// ReLU and its derivative (1.0 where `x >= 0`, else 0.0) in one round trip: what a network's
/// forward pass keeps for its backward pass.
///
/// On success `*out_relu` and `*out_derivative` hold new shares of the shape of `x`; on
/// failure both are NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out_relu` and
/// `out_derivative` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_relu_with_derivative(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out_relu: *mut *mut fxs_shares,
    out_derivative: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, o1, o2, x) = unsafe {
        (
            party.as_mut(),
            out_relu.as_mut(),
            out_derivative.as_mut(),
            x.as_ref(),
        )
    };
    pair_op("fxs_party_relu_with_derivative", party, o1, o2, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(block_on(s.relu_with_derivative(x))?)
    })
}

/// DReLU, the sign test: 1.0 where `x >= 0`, else 0.0, elementwise.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_drelu(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_drelu", party, x, out, |s, x| {
            done(block_on(s.drelu(x)))
        })
    }
}

/// The comparison `x < y`: 1.0 where it holds, else 0.0, elementwise. The shapes must be equal
/// (`FXS_STATUS_DIMENSION_MISMATCH` otherwise, before anything is sent).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_less_than(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_less_than", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        if x.shape() != y.shape() {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`x` and `y` have different shapes",
            ));
        }
        Ok(block_on(s.less_than(x, y))?)
    })
}

/// SecureML's piecewise sigmoid, elementwise: 0 below -1/2, `x + 1/2` between, 1 above 1/2
/// (exact).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_sigmoid_piecewise(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_sigmoid_piecewise", party, x, out, |s, x| {
            done(block_on(s.sigmoid_piecewise(x)))
        })
    }
}

/// The logistic function `1 / (1 + e^-x)`, elementwise, by a 34-segment piecewise-linear
/// approximation (error below 0.003, plus the truncation of one product): one round of the
/// backend, then one product (with FSS, the product comes with the same round).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_sigmoid(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_sigmoid", party, x, out, |s, x| {
            done(block_on(s.sigmoid(x)))
        })
    }
}

/// Any piecewise-linear function, elementwise: the linear interpolation through the points
/// `(knots[i], values[i])` for `i < n` (at least two knots, finite and strictly increasing;
/// finite values), constant beyond the first and the last knot. One round of the backend (the
/// segment of each value), then one product (with FSS, in the same round).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL. Bad knots or
/// values (`FXS_STATUS_INVALID_ARGUMENT`) are found before anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `knots` and `values` are NULL or
/// readable for `n` doubles; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_piecewise_linear(
    party: *mut fxs_party,
    x: *const fxs_shares,
    knots: *const f64,
    values: *const f64,
    n: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_piecewise_linear", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        // SAFETY: NULL or readable for `n` doubles (contract).
        let knots = unsafe { slice(knots, n, "`knots` is NULL") }?;
        // SAFETY: NULL or readable for `n` doubles (contract).
        let values = unsafe { slice(values, n, "`values` is NULL") }?;
        // The knots are strictly increasing (checked by `interpolate`): each has one value.
        let at = |t: f64| {
            knots
                .iter()
                .position(|&k| k == t)
                .map_or(f64::NAN, |i| values[i])
        };
        let f = PiecewiseLinear::interpolate(knots, at)?;
        Ok(block_on(s.piecewise_linear(x, &f))?)
    })
}

/// The largest value of each row of `x` (`rows x cols`, `cols > 0`): `*out` is `rows x 1`.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_max(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_max", party, x, out, |s, x| {
            done(block_on(s.max(nonempty_rows(x)?)))
        })
    }
}

/// The largest value of each row of `x` (`cols > 0`) and its column index (the first one on
/// ties), both `rows x 1`; the indices are shares of fixed-point integers (0.0, 1.0, ...).
///
/// On success `*out_max` and `*out_index` hold new shares; on failure both are NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out_max` and `out_index` are
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_argmax(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out_max: *mut *mut fxs_shares,
    out_index: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, o1, o2, x) = unsafe {
        (
            party.as_mut(),
            out_max.as_mut(),
            out_index.as_mut(),
            x.as_ref(),
        )
    };
    pair_op("fxs_party_argmax", party, o1, o2, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(block_on(s.argmax(nonempty_rows(x)?))?)
    })
}

/// SecureML's softmax replacement per row of `x` (`cols > 0`): `relu(x_i) / sum_j relu(x_j)`
/// (rounded down to the fixed-point precision), or `1 / cols` for each value of a row without a
/// positive value (a division per value in a garbled circuit). `*out` has the shape of `x`.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_relu_softmax(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_relu_softmax", party, x, out, |s, x| {
            done(block_on(s.relu_softmax(nonempty_rows(x)?)))
        })
    }
}

/// The window of `pool` checked against `x` before anything is allocated or sent: a bad
/// window is `FXS_STATUS_INVALID_ARGUMENT`, too many window cells `FXS_STATUS_CAPACITY`, a row
/// length other than `channels * height * width` `FXS_STATUS_DIMENSION_MISMATCH`.
fn pool_of(x: &AnyShares, pool: Option<&fxs_pool2d>, op: &'static str) -> Result<Pool2d, Failure> {
    let c = pool.ok_or(Failure::null("`pool` is NULL"))?;
    let pool = Pool2d {
        channels: c.channels,
        height: c.height,
        width: c.width,
        window: c.window,
        stride: c.stride,
    };
    let (out_h, out_w) = pool.output_size()?;
    // The windows of all images (`rows * channels * out_h * out_w` windows of `window^2`
    // values) within the maximum of elements per operation, before anything is allocated.
    // Each factor's product checked on its own, so that a zero elsewhere hides no overflow.
    let windows = out_h
        .checked_mul(out_w)
        .zip(c.window.checked_mul(c.window))
        .and_then(|(outs, cells)| c.channels.checked_mul(outs)?.checked_mul(cells))
        .unwrap_or(usize::MAX);
    // (At least one row's worth: the window arithmetic must fit even for no images.)
    limits::elements(op, x.shape().0.max(1), windows, DEFAULT_MAX_ELEMENTS)?;
    let per_image = c
        .channels
        .checked_mul(c.height)
        .and_then(|v| v.checked_mul(c.width))
        .ok_or(Failure::invalid("channels * height * width overflows"))?;
    if x.shape().1 != per_image {
        return Err(Failure::Arg(
            fxs_status::DimensionMismatch,
            "the columns of `x` are not channels * height * width",
        ));
    }
    Ok(pool)
}

/// Max pooling: each row of `x` is an image of `pool->channels x pool->height x pool->width`
/// values (channel-major, then row-major); `*out` has one row per image of
/// `channels x out_h x out_w` window maxima, `out_h = (height - window) / stride + 1` (and
/// likewise `out_w`). A bad window (`FXS_STATUS_INVALID_ARGUMENT`) or a row length other than
/// `channels * height * width` (`FXS_STATUS_DIMENSION_MISMATCH`) is rejected before anything is
/// sent.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `pool` is NULL or readable;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_max_pool(
    party: *mut fxs_party,
    x: *const fxs_shares,
    pool: *const fxs_pool2d,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, pool) =
        unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), pool.as_ref()) };
    shares_op("fxs_party_max_pool", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let pool = pool_of(x, pool, "max_pool")?;
        Ok(block_on(s.max_pool(x, pool))?)
    })
}

/// Max pooling and its derivative, for back-propagation through a max-pooling layer: `*out_max`
/// as `fxs_party_max_pool` computes it, and `*out_mask` shaped like `x`, 1.0 at the position of
/// each window's maximum (the first one on ties) and 0.0 elsewhere, summed where windows
/// overlap. With the helper (three servers) the one-hot vectors come from SecureNN's
/// unit-vector step for windows of a power-of-two size. Argument errors as for
/// `fxs_party_max_pool`, before anything is sent.
///
/// On success `*out_max` and `*out_mask` hold new shares; on failure both are NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `pool` is NULL or readable;
/// `out_max` and `out_mask` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_max_pool_with_derivative(
    party: *mut fxs_party,
    x: *const fxs_shares,
    pool: *const fxs_pool2d,
    out_max: *mut *mut fxs_shares,
    out_mask: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, o1, o2, x, pool) = unsafe {
        (
            party.as_mut(),
            out_max.as_mut(),
            out_mask.as_mut(),
            x.as_ref(),
            pool.as_ref(),
        )
    };
    pair_op("fxs_party_max_pool_with_derivative", party, o1, o2, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let pool = pool_of(x, pool, "max_pool_with_derivative")?;
        Ok(block_on(s.max_pool_with_derivative(x, pool))?)
    })
}

/// SecureNN's division (Algorithm 8): `x / y` elementwise for `0 <= x <= y`, exactly
/// `floor(x * 2^f / y)` in fixed point (`f` fractional bits), by long division: `f + 1` steps of
/// one comparison and one product each, so 1.0 when `x == y`. `y` must be positive and below a
/// quarter of the ring (`2^(ring_bits - 2)` units in the last place); outside `0 <= x <= y` the
/// result is not meaningful. The normalization of SecureNN's softmax replacement, with any
/// backend. Shapes must be equal (`FXS_STATUS_DIMENSION_MISMATCH` otherwise, before anything is
/// sent).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_divide(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_divide", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        if x.shape() != y.shape() {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`x` and `y` have different shapes",
            ));
        }
        Ok(block_on(s.divide(x, y))?)
    })
}

/// `floor(x / 2^bits)` exactly, by the backend (MiniONN's truncation; `bits` below the ring
/// width), whatever `fxs_party_config.truncation` says.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_truncate_exact(
    party: *mut fxs_party,
    x: *const fxs_shares,
    bits: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_truncate_exact", party, x, out, |s, x| {
            if bits >= x.ring_bits() {
                return Err(Failure::invalid("`bits` must be below the ring width"));
            }
            done(block_on(s.truncate_exact(x, bits)))
        })
    }
}
