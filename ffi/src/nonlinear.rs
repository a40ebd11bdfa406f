//! The non-linear layer on shares: ReLU, comparisons, sigmoids, max, argmax, max pooling and
//! exact truncation, each by garbled circuits (one round trip per call; max, argmax and max
//! pooling one per halving of a row).

use crate::fxs_status;
use crate::party::{
    AnyParty, Width, boxed, fxs_party, fxs_shares, out_ptr, sh, shares_op, shares_ref, with_party,
};
use crate::status::Failure;
use fixshare::{Pool2d, Shares, block_on};

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

/// Runs `$body` (a call on the typed party `$p` with the typed shares `$x`) for a unary
/// operation whose result goes to `*out`.
macro_rules! unary {
    ($name:literal, $party:ident, $x:ident, $out:ident, |$p:ident, $xs:ident| $body:expr) => {{
        // SAFETY: each pointer is NULL or valid for the call (contract of the function).
        let (party, out, x) = unsafe { ($party.as_mut(), $out.as_mut(), $x.as_ref()) };
        shares_op($name, party, out, |party| {
            let x = shares_ref(x, "`x` is NULL")?;
            Ok(with_party!(party, $p => {
                let $xs = sh(x)?;
                boxed(block_on($body)?)
            }))
        })
    }};
}

/// Runs an operation with two results, `*out1` and `*out2` (both NULL on failure).
fn pair_op(
    name: &'static str,
    party: Option<&mut fxs_party>,
    out1: Option<&mut *mut fxs_shares>,
    out2: Option<&mut *mut fxs_shares>,
    body: impl FnOnce(&mut fxs_party) -> Result<(*mut fxs_shares, *mut fxs_shares), Failure>,
) -> fxs_status {
    with_party(name, party, |party| {
        let out1 = out_ptr(out1)?;
        let out2 = out_ptr(out2)?;
        let (a, b) = body(party)?;
        *out1 = a;
        *out2 = b;
        Ok(())
    })
}

/// Boxes a pair of results.
fn boxed2<R: Width>((a, b): (Shares<R>, Shares<R>)) -> (*mut fxs_shares, *mut fxs_shares) {
    (boxed(a), boxed(b))
}

/// Rejects rows without values (before anything is sent).
fn nonempty_rows<R: Width>(x: &Shares<R>) -> Result<&Shares<R>, Failure> {
    if x.cols() == 0 {
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
    unary!("fxs_party_relu", party, x, out, |p, x| p.relu(x))
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
    pair_op("fxs_party_relu_with_derivative", party, o1, o2, |party| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(with_party!(party, p => boxed2(block_on(p.relu_with_derivative(sh(x)?))?)))
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
    unary!("fxs_party_drelu", party, x, out, |p, x| p.drelu(x))
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
    shares_op("fxs_party_less_than", party, out, |party| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(with_party!(party, p => {
            let (x, y) = (sh(x)?, sh(y)?);
            if x.shape() != y.shape() {
                return Err(Failure::Arg(
                    fxs_status::DimensionMismatch,
                    "`x` and `y` have different shapes",
                ));
            }
            boxed(block_on(p.less_than(x, y))?)
        }))
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
    unary!("fxs_party_sigmoid_piecewise", party, x, out, |p, x| p
        .sigmoid_piecewise(x))
}

/// The logistic function `1 / (1 + e^-x)`, elementwise, by a 34-segment piecewise-linear
/// approximation (error below 0.003, plus the truncation of one product): one garbled-circuit
/// round trip, then one product.
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
    unary!("fxs_party_sigmoid", party, x, out, |p, x| p.sigmoid(x))
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
    unary!("fxs_party_max", party, x, out, |p, x| p
        .max(nonempty_rows(x)?))
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
    pair_op("fxs_party_argmax", party, o1, o2, |party| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(with_party!(party, p => boxed2(block_on(p.argmax(nonempty_rows(sh(x)?)?))?)))
    })
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
    shares_op("fxs_party_max_pool", party, out, |party| {
        let x = shares_ref(x, "`x` is NULL")?;
        let c = pool.ok_or(Failure::null("`pool` is NULL"))?;
        let pool = Pool2d {
            channels: c.channels,
            height: c.height,
            width: c.width,
            window: c.window,
            stride: c.stride,
        };
        pool.output_size()?;
        let per_image = c
            .channels
            .checked_mul(c.height)
            .and_then(|v| v.checked_mul(c.width))
            .ok_or(Failure::invalid("channels * height * width overflows"))?;
        Ok(with_party!(party, p => {
            let x = sh(x)?;
            if x.cols() != per_image {
                return Err(Failure::Arg(
                    fxs_status::DimensionMismatch,
                    "the columns of `x` are not channels * height * width",
                ));
            }
            boxed(block_on(p.max_pool(x, pool))?)
        }))
    })
}

/// `floor(x / 2^bits)` exactly, in a garbled circuit (MiniONN's truncation; `bits` below the
/// ring width), whatever `fxs_party_config.truncation` says.
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
    unary!("fxs_party_truncate_exact", party, x, out, |p, x| {
        if bits >= ring_bits(x) {
            return Err(Failure::invalid("`bits` must be below the ring width"));
        }
        p.truncate_exact(x, bits)
    })
}

/// The ring width of typed shares.
fn ring_bits<R: Width>(_x: &Shares<R>) -> u32 {
    R::BITS
}
