//! Reciprocal and division by Newton–Raphson from a spline's first guess.

use super::boxed;
use super::{Format, Octaves, constant, format, iterations, named, products_n};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear::{self, PiecewiseLinear};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// The largest relative error of the chord of `1/x` over an octave: 1/8.
const CHORD_ERROR: f64 = 0.125;

/// `1 / x` elementwise for `x` in the default [`Octaves`] (`[2^-8, 2^8]` with `f = 16`,
/// `[2^-16, 2^16]` with `f = 32`); see [`reciprocal_in`].
pub async fn reciprocal<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let octaves = Octaves::default_for(ctx.fixed());
    reciprocal_in(ctx, x, octaves).await
}

/// `1 / x` elementwise for `x` in `[2^lo, 2^hi]`.
///
/// The range normalization and first guess are one spline with a breakpoint at every power of
/// two (`hi - lo + 1`, all compared in one call): the chord of `1/x` over each octave, within
/// 1/8 of `1/x` relative. Newton–Raphson `y <- y (2 - x y)` then squares the relative error at
/// each step, two product rounds per step (`x y` kept under guard bits): 3 steps for `f <= 23`,
/// 4 for `f <= 47`, 5 above.
///
/// Error: `|y - 1/x| <= 2^-(f+2) / x + 3 ulp` (measured on 10^5 points in every topology:
/// `2^-19.1 / x + 3 ulp` with `f = 16` in Z_2^64, at most 31 ulp near `x = 2^-8`;
/// `2^-40 / x + 3 ulp` with `f = 32` in Z_2^128). Below `2^lo` the result lies between `2^-lo` and
/// `1/x` (the steps do not finish climbing); above `2^hi` it is right while `x < 2^(hi+1)` and
/// meaningless further up or at `x <= 0`. Fails with [`crate::ErrorKind::InvalidArgument`] for a
/// range [`Octaves::check`] refuses.
pub async fn reciprocal_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    octaves: Octaves,
) -> Result<Shares<R>, Error> {
    named(
        "reciprocal",
        reciprocal_steps(ctx, x, octaves, "reciprocal"),
    )
    .await
}

async fn reciprocal_steps<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    octaves: Octaves,
    op: &'static str,
) -> Result<Shares<R>, Error> {
    let fmt = format::<T, C, R>(ctx, op)?;
    octaves.check::<R>(op, ctx.fixed())?;
    if x.is_empty() {
        return Ok(x.clone());
    }
    let chord = PiecewiseLinear::interpolate(&octaves.knots(), |t| 1.0 / t)?;
    let y = boxed(nonlinear::piecewise_linear(ctx, x, &chord)).await?;
    newton_reciprocal(ctx, fmt, x, y, iterations(CHORD_ERROR, fmt.f, |e| e * e)).await
}

/// `steps` Newton–Raphson steps `y <- y (2 - x y)` towards `1 / x`, with `x y` kept at the
/// guarded scale (so its rounding costs `y` a fraction of an ulp).
pub(super) async fn newton_reciprocal<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    fmt: Format,
    x: &Shares<R>,
    mut y: Shares<R>,
    steps: u32,
) -> Result<Shares<R>, Error> {
    let role = ctx.role()?;
    let (f, top) = (fmt.f, fmt.guarded);
    let two = constant(role, R::from_u64(2).shl(top));
    for _ in 0..steps {
        let [xy] = products_n(ctx, [(x, &y)], 2 * f - top).await?;
        let e = xy.map(|v| two.sub(v));
        [y] = products_n(ctx, [(&y, &e)], top).await?;
    }
    Ok(y)
}

/// `x / y` elementwise for `y` in the default [`Octaves`]; see [`div_in`].
pub async fn div<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let octaves = Octaves::default_for(ctx.fixed());
    div_in(ctx, x, y, octaves).await
}

/// `x / y` elementwise for `y` in `[2^lo, 2^hi]` and any `x` whose quotient and product with
/// `1/y` fit the fixed-point range: `x` times [`reciprocal_in`] of `y` (one more product).
///
/// Error: `|q - x/y| <= 2^-(f+2) |x/y| + (3 |x| + 1) ulp`. Outside `y`'s range as
/// [`reciprocal_in`]. Fails with [`crate::ErrorKind::DimensionMismatch`] unless `x` and `y` have
/// the same shape, and like [`reciprocal_in`].
pub async fn div_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    octaves: Octaves,
) -> Result<Shares<R>, Error> {
    named("div", async {
        x.check_same_shape(y, "div")?;
        let r = reciprocal_steps(ctx, y, octaves, "div").await?;
        if x.is_empty() {
            return Ok(r);
        }
        super::mul(ctx, x, &r).await
    })
    .await
}
