//! The numerical library on shares (PrivPy's functions, the core's `numeric` module through the
//! session): reciprocal and division, `exp`, `log`, square root and its inverse, the logistic
//! function (by `exp` and a reciprocal, and by Euler's method), `tanh`, selection by a shared bit,
//! equality, minimum and its index, sum, mean and variance along an axis, and broadcasting. Each
//! is composed of products, truncations and comparisons, so it runs in every topology and with
//! every backend. The functions that work with guard bits below the ulp (reciprocal, divide,
//! exp, log, sqrt, inverse sqrt, the two logistic functions, tanh) need Z_2^64 or Z_2^128 with
//! `8 <= frac_bits` and `2 frac_bits + 24 <= ring_bits` (`FXS_STATUS_UNSUPPORTED` in Z_2^32,
//! `FXS_STATUS_INVALID_ARGUMENT` for another format, before anything is sent); the others run
//! in every ring.

use crate::fxs_status;
use crate::party::{CSession, fxs_party, fxs_shares, len, shares_op, shares_ref, with_party};
use crate::status::Failure;
use fixshare::session::{AnyShares, Error, block_on};

/// Along each row: a `rows x 1` result (NumPy's `axis=1`).
pub const FXS_AXIS_PER_ROW: u32 = 0;
/// Along each column: a `1 x cols` result (NumPy's `axis=0`).
pub const FXS_AXIS_PER_COLUMN: u32 = 1;
/// Over every element: a `1 x 1` result (indices of `fxs_party_argmin` in row-major order).
pub const FXS_AXIS_ALL: u32 = 2;

/// `x + v`, with `v` broadcast (local, exact).
pub const FXS_BROADCAST_ADD: u32 = 0;
/// `x - v`, with `v` broadcast (local, exact).
pub const FXS_BROADCAST_SUB: u32 = 1;
/// The fixed-point product `x * v`, with `v` broadcast (one round; the floor or one more).
pub const FXS_BROADCAST_MUL: u32 = 2;

/// The inputs `[2^lo, 2^hi]` of the functions that find a value's power of two (reciprocal,
/// division, `log`, square root and its inverse): one spline breakpoint per power of two. A NULL
/// `fxs_octaves *` means the default `[2^-floor(f/2), 2^floor(f/2)]` (`[2^-8, 2^8]` with 16
/// fractional bits, `[2^-16, 2^16]` with 32). A range needs `-f <= lo < hi <= f`, at most 64
/// octaves and `-lo <= ring_bits - 2 f - 24` (`FXS_STATUS_INVALID_ARGUMENT` otherwise).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_octaves {
    /// The exponent of the smallest input.
    pub lo: i32,
    /// The exponent of the largest input.
    pub hi: i32,
}

/// A unary operation on `x`, its result to `*out`.
///
/// # Safety
/// Each pointer is NULL or valid for the call (the contract of the exported function).
unsafe fn unary(
    name: &'static str,
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
    f: impl FnOnce(&mut CSession, &AnyShares) -> Result<AnyShares, Error>,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (caller).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op(name, party, out, |s| {
        Ok(f(s, shares_ref(x, "`x` is NULL")?)?)
    })
}

/// A unary operation over an optional range of octaves (NULL: the default range).
///
/// # Safety
/// Each pointer is NULL or valid for the call (the contract of the exported function).
unsafe fn ranged(
    name: &'static str,
    party: *mut fxs_party,
    x: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
    default: impl FnOnce(&mut CSession, &AnyShares) -> Result<AnyShares, Error>,
    within: impl FnOnce(&mut CSession, &AnyShares, i32, i32) -> Result<AnyShares, Error>,
) -> fxs_status {
    // SAFETY: NULL or readable (caller).
    let range = unsafe { range.as_ref() }.copied();
    // SAFETY: each pointer is NULL or valid for the call (caller).
    unsafe {
        unary(name, party, x, out, |s, x| match range {
            None => default(s, x),
            Some(o) => within(s, x, o.lo, o.hi),
        })
    }
}

/// The axis a C constant names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    PerRow,
    PerColumn,
    All,
}

fn axis_of(code: u32) -> Result<Axis, Failure> {
    match code {
        FXS_AXIS_PER_ROW => Ok(Axis::PerRow),
        FXS_AXIS_PER_COLUMN => Ok(Axis::PerColumn),
        FXS_AXIS_ALL => Ok(Axis::All),
        _ => Err(Failure::invalid(
            "axis must be FXS_AXIS_PER_ROW, _PER_COLUMN or _ALL",
        )),
    }
}

/// Runs the session's per-row reduction `f` along `axis` (the session reduces each row: columns
/// become rows by a transpose, everything one row by a reshape, both local) and shapes its
/// results back (`1 x cols` for columns).
fn along<const N: usize>(
    s: &mut CSession,
    x: &AnyShares,
    axis: u32,
    f: impl FnOnce(&mut CSession, &AnyShares) -> Result<[AnyShares; N], Error>,
) -> Result<[AnyShares; N], Failure> {
    let axis = axis_of(axis)?;
    let laid;
    let rows = match axis {
        Axis::PerRow => x,
        Axis::PerColumn => {
            laid = x.transpose();
            &laid
        }
        Axis::All => {
            laid = x.clone().reshape(1, len(x))?;
            &laid
        }
    };
    let r = f(s, rows)?;
    Ok(if axis == Axis::PerColumn {
        r.map(|v| v.transpose())
    } else {
        r
    })
}

/// A reduction of `x` along `axis` to `*out`.
///
/// # Safety
/// Each pointer is NULL or valid for the call (the contract of the exported function).
unsafe fn reduce(
    name: &'static str,
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out: *mut *mut fxs_shares,
    f: impl FnOnce(&mut CSession, &AnyShares) -> Result<AnyShares, Error>,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (caller).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op(name, party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let [r] = along(s, x, axis, |s, x| Ok([f(s, x)?]))?;
        Ok(r)
    })
}

/// `1 / x` elementwise for `x` in `[2^lo, 2^hi]` (`range`; NULL: the default, see
/// `fxs_octaves`): a spline with a breakpoint per power of two as first guess (within 1/8), then
/// Newton–Raphson (3 steps for `f <= 23`, 4 for `f <= 47`, two product rounds each).
///
/// Error: `|y - 1/x| <= 2^-(f+2) / x + 3` units in the last place (ulp, `2^-f`). Below `2^lo`
/// the result lies between `2^-lo` and `1/x`; above `2^hi` it is right while `x < 2^(hi+1)`;
/// at `x <= 0` it is meaningless (the servers cannot see, so cannot refuse, such inputs).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `range` is NULL or readable;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_reciprocal(
    party: *mut fxs_party,
    x: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        ranged(
            "fxs_party_reciprocal",
            party,
            x,
            range,
            out,
            |s, x| block_on(s.reciprocal(x)),
            |s, x, lo, hi| block_on(s.reciprocal_in(x, lo, hi)),
        )
    }
}

/// `x / y` elementwise for `y` in `[2^lo, 2^hi]` (`range`; NULL: the default) and any `x` whose
/// quotient fits the fixed-point range: `x` times the reciprocal of `y` (one product more). Not
/// SecureNN's `fxs_party_divide` (exact, but only for `0 <= x <= y`, and slower).
///
/// Error: `|q - x/y| <= 2^-(f+2) |x/y| + (3 |x| + 1)` ulp. Outside `y`'s range as
/// `fxs_party_reciprocal`. Shapes must be equal (`FXS_STATUS_DIMENSION_MISMATCH` before anything
/// is sent).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `range` is NULL or readable;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_div(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y, range) = unsafe {
        (
            party.as_mut(),
            out.as_mut(),
            x.as_ref(),
            y.as_ref(),
            range.as_ref().copied(),
        )
    };
    shares_op("fxs_party_div", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(match range {
            None => block_on(s.div(x, y))?,
            Some(o) => block_on(s.div_in(x, y, o.lo, o.hi))?,
        })
    })
}

/// `e^x` elementwise, for `x` in the range `fxs_party_exp_range` gives (`[-16, 5.55]` in
/// Z_2^64 with 16 fractional bits, `[-32, 27.7]` in Z_2^128 with 32): a Chebyshev series of
/// `e^(x/2^s)`, then `s` squarings (4 for `f <= 20`, 5 for `f <= 44`); products only, no
/// comparison.
///
/// Error: `|y - e^x| <= 2^(s-f-1) e^x + 6` ulp (`2^-13 e^x` with `f = 16`, `2^-28 e^x` with
/// `f = 32`). Above the range the result stays right until a truncation fails or `e^x` leaves the
/// fixed-point range; beyond `2^s` in either direction it is meaningless.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_exp(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe { unary("fxs_party_exp", party, x, out, |s, x| block_on(s.exp(x))) }
}

/// Writes the documented input range of `fxs_party_exp` for this party's ring and format to
/// `*lo` and `*hi` (either may be NULL). Local (no communication).
///
/// # Safety
/// `party` is NULL or a live party; `lo` and `hi` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_exp_range(
    party: *mut fxs_party,
    lo: *mut f64,
    hi: *mut f64,
) -> fxs_status {
    // SAFETY: NULL or live (contract of this function).
    let party = unsafe { party.as_mut() };
    with_party("fxs_party_exp_range", party, |s| {
        let (l, h) = s.exp_range();
        // SAFETY: NULL or writable (caller).
        if let Some(lo) = unsafe { lo.as_mut() } {
            *lo = l;
        }
        // SAFETY: NULL or writable (caller).
        if let Some(hi) = unsafe { hi.as_mut() } {
            *hi = h;
        }
        Ok(())
    })
}

/// `ln x` elementwise for `x` in `[2^lo, 2^hi]` (`range`; NULL: the default): a spline and one
/// exact shift split `x` into `2^j (1 + m)`, then a Chebyshev series of `ln(1 + m)`.
///
/// Error: `|y - ln x| <= 4` ulp (absolute). Outside the range the result is clamped to
/// `lo ln 2` or `hi ln 2` (also at `x <= 0`).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// As for `fxs_party_reciprocal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_log(
    party: *mut fxs_party,
    x: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        ranged(
            "fxs_party_log",
            party,
            x,
            range,
            out,
            |s, x| block_on(s.log(x)),
            |s, x, lo, hi| block_on(s.log_in(x, lo, hi)),
        )
    }
}

/// `sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` (`range`; NULL: the default; also
/// `hi <= ring_bits - 2 f - 24`): the inverse square root, a product, and one exact-residual
/// correction.
///
/// Error: `|y - sqrt(x)| <= 2` ulp. Below `2^lo` the result is too small; at `x = 0` a few ulp;
/// at `x < 0` meaningless.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// As for `fxs_party_reciprocal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_sqrt(
    party: *mut fxs_party,
    x: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        ranged(
            "fxs_party_sqrt",
            party,
            x,
            range,
            out,
            |s, x| block_on(s.sqrt(x)),
            |s, x, lo, hi| block_on(s.sqrt_in(x, lo, hi)),
        )
    }
}

/// `1 / sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` (`range`; NULL: the default): a spline
/// first guess (within 4.6%), then Newton–Raphson (2 steps for `f <= 15`, 3 for `f <= 30`, 4
/// above; three product rounds each).
///
/// Error: `|y - x^-1/2| <= 2^-(f-1) x^-1/2 + 3` ulp. Below `2^lo` the result lies between
/// `2^(-lo/2)` and `x^-1/2`; above `2^hi` it is right while `x < 2^(hi+1)`; at `x <= 0`
/// meaningless.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// As for `fxs_party_reciprocal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_inv_sqrt(
    party: *mut fxs_party,
    x: *const fxs_shares,
    range: *const fxs_octaves,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        ranged(
            "fxs_party_inv_sqrt",
            party,
            x,
            range,
            out,
            |s, x| block_on(s.inv_sqrt(x)),
            |s, x, lo, hi| block_on(s.inv_sqrt_in(x, lo, hi)),
        )
    }
}

/// The logistic function `1 / (1 + e^-x)` elementwise, for every `x`, by `e^-|x|` and a
/// Newton–Raphson reciprocal, then the sign (PrivPy's route; more accurate than the 34-segment
/// `fxs_party_sigmoid`).
///
/// Error: `|y - 1/(1 + e^-x)| <= 3` ulp.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_logistic(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_logistic", party, x, out, |s, x| {
            block_on(s.logistic(x))
        })
    }
}

/// The logistic function by PrivPy's Euler method: `steps` steps `y <- y + h y (1 - y)` from
/// `y = 1/2`, `h = x / steps` (two product rounds each), for `|x| <= steps`.
///
/// Error: about `0.12 / steps + 4` ulp over `|x| <= 10`; beyond `|x| = steps` meaningless.
/// `steps` must be 1 to 10000 (`FXS_STATUS_INVALID_ARGUMENT` before anything is sent).
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_logistic_euler(
    party: *mut fxs_party,
    x: *const fxs_shares,
    steps: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        unary("fxs_party_logistic_euler", party, x, out, |s, x| {
            block_on(s.logistic_euler(x, steps))
        })
    }
}

/// `tanh x` elementwise, for every `x`, as `2 logistic(2x) - 1`.
///
/// Error: `|y - tanh x| <= 6` ulp.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_tanh(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe { unary("fxs_party_tanh", party, x, out, |s, x| block_on(s.tanh(x))) }
}

/// `where(c, x, y)`: `x` where the shared bit `c` is 1.0, `y` where it is 0.0, elementwise, as
/// `y + c (x - y)` (one product; exact for a bit, as `fxs_party_less_than`, `fxs_party_drelu`
/// and `fxs_party_equal` return it). The three shapes must be equal
/// (`FXS_STATUS_DIMENSION_MISMATCH` before anything is sent).
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_select(
    party: *mut fxs_party,
    c: *const fxs_shares,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, c, x, y) = unsafe {
        (
            party.as_mut(),
            out.as_mut(),
            c.as_ref(),
            x.as_ref(),
            y.as_ref(),
        )
    };
    shares_op("fxs_party_select", party, out, |s| {
        let c = shares_ref(c, "`c` is NULL")?;
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.select(c, x, y))?)
    })
}

/// 1.0 where `x == y`, else 0.0, elementwise (exact). Shapes must be equal.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_equal(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_equal", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.equal(x, y))?)
    })
}

/// The smallest value along `axis` (`FXS_AXIS_*`; exact): `rows x 1` per row, `1 x cols` per
/// column, `1 x 1` for all, by a tournament of comparisons (`ceil(log2 n)` rounds for `n`
/// values). An empty axis or an unknown constant is `FXS_STATUS_INVALID_ARGUMENT`, before
/// anything is sent.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_min(
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        reduce("fxs_party_min", party, x, axis, out, |s, x| {
            block_on(s.min(x))
        })
    }
}

/// The smallest value along `axis` and its index (the first one on ties), both shaped as
/// `fxs_party_min` returns them; indices are fixed-point integers (0.0, 1.0, ...) counted along
/// the axis (row-major for `FXS_AXIS_ALL`).
///
/// On success `*out_min` and `*out_index` hold new shares; on failure both are NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out_min` and `out_index` are
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_argmin(
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out_min: *mut *mut fxs_shares,
    out_index: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, o1, o2, x) = unsafe {
        (
            party.as_mut(),
            out_min.as_mut(),
            out_index.as_mut(),
            x.as_ref(),
        )
    };
    with_party("fxs_party_argmin", party, |s| {
        let o1 = crate::party::out_ptr(o1)?;
        let o2 = crate::party::out_ptr(o2)?;
        let x = shares_ref(x, "`x` is NULL")?;
        let [m, i] = along(s, x, axis, |s, x| {
            let (m, i) = block_on(s.argmin(x))?;
            Ok([m, i])
        })?;
        *o1 = crate::party::boxed(m);
        *o2 = crate::party::boxed(i);
        Ok(())
    })
}

/// The sum along `axis` (`FXS_AXIS_*`; local, exact), shaped as `fxs_party_min` says.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_sum(
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe { reduce("fxs_party_sum", party, x, axis, out, |s, x| s.row_sum(x)) }
}

/// The mean along `axis` (`FXS_AXIS_*`), shaped as `fxs_party_min` says: the sum times `1/n`
/// with guard bits (two truncations).
///
/// Error: `|m - mean| <= 2` ulp (for `|mean| < 2^(ring_bits - 2 f - 24)`).
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_mean(
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        reduce("fxs_party_mean", party, x, axis, out, |s, x| {
            block_on(s.row_mean(x))
        })
    }
}

/// The population variance along `axis` (`FXS_AXIS_*`; NumPy's default, `ddof = 0`), shaped
/// as `fxs_party_min` says: the mean of the squared deviations from the mean (one product round,
/// four truncations).
///
/// Error: `|v - var| <= (4 m + 5)` ulp for `m` the largest deviation `|x - mean|`.
///
/// On success `*out` holds new shares; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_variance(
    party: *mut fxs_party,
    x: *const fxs_shares,
    axis: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: the contract of this function.
    unsafe {
        reduce("fxs_party_variance", party, x, axis, out, |s, x| {
            block_on(s.row_variance(x))
        })
    }
}

/// `x op v` (`op`: `FXS_BROADCAST_ADD`, `_SUB` or `_MUL`) with `v` broadcast to the shape of
/// `x`: a `1 x cols` row against every row, a `rows x 1` column against every column, a `1 x 1`
/// scalar everywhere (or `v` of the shape of `x`). Another shape is
/// `FXS_STATUS_INVALID_ARGUMENT`, before anything is sent.
///
/// On success `*out` holds new shares of the shape of `x`; on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_broadcast(
    party: *mut fxs_party,
    x: *const fxs_shares,
    v: *const fxs_shares,
    op: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, v) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), v.as_ref()) };
    shares_op("fxs_party_broadcast", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let v = shares_ref(v, "`v` is NULL")?;
        Ok(match op {
            FXS_BROADCAST_ADD => block_on(s.broadcast_add(x, v))?,
            FXS_BROADCAST_SUB => block_on(s.broadcast_sub(x, v))?,
            FXS_BROADCAST_MUL => block_on(s.broadcast_mul(x, v))?,
            _ => {
                return Err(Failure::invalid(
                    "op must be FXS_BROADCAST_ADD, _SUB or _MUL",
                ));
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_constants_are_checked() {
        assert!(axis_of(FXS_AXIS_PER_ROW).is_ok());
        assert!(axis_of(FXS_AXIS_PER_COLUMN).is_ok());
        assert!(axis_of(FXS_AXIS_ALL).is_ok());
        let bad = axis_of(3).err().map(|f| f.status());
        assert_eq!(bad, Some(fxs_status::InvalidArgument));
    }
}
