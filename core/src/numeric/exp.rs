//! `exp` by squaring: `e^x = (e^(x / 2^s))^(2^s)`, with `e^(x / 2^s)` a Chebyshev series on
//! `[-1, 1]`. No comparison at all: only products, so it costs the same in every backend.

use super::boxed;
use super::poly::{chebyshev, fit};
use super::{Format, constant, format, named, rescale};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::fixed::FixedPoint;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// The squarings of [`exp`] for `f` fractional bits: `ceil(log2((f + 2) ln 2))`, so that
/// `[-2^s, 2^s]` covers every `x` whose `e^x` is at least half an ulp (4 for `f = 16`, 5 for
/// `f = 32`).
fn squarings(f: u32) -> u32 {
    let reach = (f as f64 + 2.0) * core::f64::consts::LN_2;
    libm::ceil(libm::log2(reach)) as u32
}

/// The documented input range `[lo, hi]` of [`exp`] in ring `R` with format `fixed`:
/// `lo = -2^s` (where `e^x` is far below an ulp) and `hi = min(2^s, (k - 2f - 24) ln 2)`, the
/// largest `x` whose squarings keep the failure probability of local truncation below 2^-21
/// (`[-16, 5.55]` in Z_2^64 with `f = 16`, `[-32, 27.7]` in Z_2^128 with `f = 32`).
pub fn exp_range<R: Ring>(fixed: FixedPoint) -> (f64, f64) {
    let f = fixed.frac_bits();
    let reach = libm::ldexp(1.0, squarings(f) as i32);
    let top = super::headroom::<R>(fixed) as f64 * core::f64::consts::LN_2;
    (-reach, reach.min(top))
}

/// `e^x` elementwise, for `x` in [`exp_range`] (`[-16, 5.55]` in Z_2^64 with `f = 16`).
///
/// With `s` squarings (4 for `f <= 20`, 5 for `f <= 44`, 6 above), `w = x / 2^s` in `[-1, 1]`,
/// `e^w` by a Chebyshev series under guard bits (degree 7 in Z_2^64 with `f = 16`, 12 in Z_2^128
/// with `f = 32`), then `s` squarings that give one guard bit back each. Costs `d - 1 + s`
/// products in `ceil(log2 d) + s` rounds, no comparison.
///
/// Error: `|y - e^x| <= 2^(s-f-1) e^x + 6 ulp`, the squarings' amplification of the rounding:
/// `2^-13 e^x + 6 ulp` in Z_2^64 with `f = 16` (measured on 10^5 points: `2^-14.0 e^x`) and
/// `2^-28 e^x + 6 ulp` in Z_2^128 with `f = 32` (measured: `2^-31.5 e^x`).
/// Outside the range: above `hi` the results are right until a squaring's truncation fails
/// (probability about `e^x 2^(2f+3-k)`) or `e^x` leaves the fixed-point range; beyond `2^s` in
/// either direction the series diverges and the result is meaningless.
pub async fn exp<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("exp", async {
        let fmt = format::<T, C, R>(ctx, "exp")?;
        let s = squarings(fmt.f);
        exp_around(ctx, fmt, x, 0.0, s).await
    })
    .await
}

/// `e^x` for `x` in `[center - 2^s, center + 2^s]` (`center` an integer): `w = (x - center) /
/// 2^s`, the series of `e^(center / 2^s + w)`, then `s` squarings.
pub(super) async fn exp_around<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    fmt: Format,
    x: &Shares<R>,
    center: f64,
    s: u32,
) -> Result<Shares<R>, Error> {
    if x.is_empty() {
        return Ok(x.clone());
    }
    let role = ctx.role()?;
    let f = fmt.f;
    // The series runs with a guard bit per squaring (and one more), as far as the ring allows.
    let top = (f + s + 1).min(fmt.guarded.max(f));
    let c: R = ctx.fixed().encode(center).map_err(|e| e.in_op("exp"))?;
    let shifted = x.map(|v| v.sub(constant(role, c)));
    // w = (x - center) / 2^s at `top` fractional bits: x's bits as they are, read 2^s lower.
    let w = rescale(ctx, shifted, f + s, top).await?;
    let bias = center / libm::ldexp(1.0, s as i32);
    let series = fit(|w| libm::exp(bias + w), libm::ldexp(1.0, -(top as i32) - 2));
    let mut v = chebyshev(ctx, &w, top, &series).await?;
    // Squarings: after squaring i, keep one guard bit per squaring still to come.
    let mut scale = top;
    for i in 0..s {
        let next = (f + s - 1 - i).min(scale).max(f);
        let sq = boxed(online::mul_integer(ctx, &v, &v)).await?;
        v = boxed(online::truncate(ctx, sq, 2 * scale - next)).await?;
        scale = next;
    }
    rescale(ctx, v, scale, f).await
}
