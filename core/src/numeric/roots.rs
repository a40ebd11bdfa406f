//! Square root and inverse square root by Newton–Raphson from a spline's first guess.

use super::boxed;
use super::{Octaves, constant, format, headroom, iterations, named, products_n, shl};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::nonlinear::{self, PiecewiseLinear};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// The largest relative error of the chord of `x^-1/2` over an octave.
const CHORD_ERROR: f64 = 0.0456;

/// `1 / sqrt(x)` elementwise for `x` in the default [`Octaves`]; see [`inv_sqrt_in`].
pub async fn inv_sqrt<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let octaves = Octaves::default_for(ctx.fixed());
    inv_sqrt_in(ctx, x, octaves).await
}

/// `1 / sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]`.
///
/// A spline with a breakpoint at every power of two (`hi - lo + 1`) interpolates `x^-1/2`
/// (relative error at most 4.6%), then Newton–Raphson steps `y <- y (3 - x y^2) / 2`, each three
/// product rounds (`x y`, `(x y) y`, `y (3 - x y^2)`, under guard bits): 2 steps for `f <= 15`,
/// 3 for `f <= 30`, 4 above (the error about squares each step: 4.6%, 0.3%, 1.5e-5, 3.4e-10).
///
/// Error: `|y - x^-1/2| <= 2^-(f-1) x^-1/2 + 3 ulp` (measured: `2^-16.3 x^-1/2 + 3 ulp` with
/// `f = 16`, at most 16 ulp near `x = 2^-8`; `2^-33.3 x^-1/2 + 3 ulp` with `f = 32`). Below `2^lo` the result lies between
/// `2^(-lo/2)` and `x^-1/2` (the steps do not finish climbing); above `2^hi` it stays right
/// while `x < 2^(hi+1)` and is meaningless further up or at `x <= 0`. Fails with
/// [`crate::ErrorKind::InvalidArgument`] for a range [`Octaves::check`] refuses.
pub async fn inv_sqrt_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    octaves: Octaves,
) -> Result<Shares<R>, Error> {
    named("inv_sqrt", inv_sqrt_steps(ctx, x, octaves, "inv_sqrt")).await
}

async fn inv_sqrt_steps<T: Transport, C: Correlations<T>, R: Ring>(
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
    let role = ctx.role()?;
    let chord = PiecewiseLinear::interpolate(&octaves.knots(), |t| 1.0 / libm::sqrt(t))?;
    let mut y = boxed(nonlinear::piecewise_linear(ctx, x, &chord)).await?;
    let steps = iterations(CHORD_ERROR, fmt.f, |e| 1.5 * e * e + 0.5 * e * e * e);
    let (f, top) = (fmt.f, fmt.guarded);
    let three = constant(role, R::from_u64(3).shl(top));
    for _ in 0..steps {
        // x y^2 as (x y) y at the guarded scale: its rounding then costs y a fraction of an ulp
        // whether y is large or small.
        let [xy] = products_n(ctx, [(x, &y)], 2 * f - top).await?;
        let [xyy] = products_n(ctx, [(&xy, &y)], f).await?;
        let e = xyy.map(|v| three.sub(v));
        [y] = products_n(ctx, [(&y, &e)], top + 1).await?;
    }
    Ok(y)
}

/// `sqrt(x)` elementwise for `x` in the default [`Octaves`]; see [`sqrt_in`].
pub async fn sqrt<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let octaves = Octaves::default_for(ctx.fixed());
    sqrt_in(ctx, x, octaves).await
}

/// `sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` (with also `hi <= k - 2f - 24`, since `x`
/// itself is recomputed as a square): `z = 1 / sqrt(x)` as [`inv_sqrt_in`], `s = x z`, then one
/// correction `s <- s + (x - s^2) z / 2`, with the residual `x - s^2` exact at `2f` fractional
/// bits, that removes the relative error `z` has for large `x` (three more products in three
/// rounds).
///
/// Error: `|y - sqrt(x)| <= 2 ulp` (measured at most 1.0 ulp). Outside the range as [`inv_sqrt_in`]
/// (below `2^lo` the result is too small); at `x = 0` the result is a few ulps, at `x < 0`
/// meaningless. Fails with [`crate::ErrorKind::InvalidArgument`] for a range it refuses.
pub async fn sqrt_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    octaves: Octaves,
) -> Result<Shares<R>, Error> {
    named("sqrt", async {
        if octaves.hi > headroom::<R>(ctx.fixed()) {
            return Err(Error::new(
                "sqrt",
                ErrorKind::InvalidArgument(
                    "the octave range ends too high for the ring: hi <= k - 2f - 24",
                ),
            ));
        }
        let z = inv_sqrt_steps(ctx, x, octaves, "sqrt").await?;
        if x.is_empty() {
            return Ok(z);
        }
        let f = ctx.fixed().frac_bits();
        let s = super::mul(ctx, x, &z).await?;
        // The residual x - s^2 exactly, at 2f fractional bits; times z / 2 back to f bits.
        let s2 = boxed(online::mul_integer(ctx, &s, &s)).await?;
        let r = shl(x, f).sub(&s2)?;
        let rz = boxed(online::mul_integer(ctx, &r, &z)).await?;
        let half = boxed(online::truncate(ctx, rz, 2 * f + 1)).await?;
        s.add(&half)
    })
    .await
}
