//! The natural logarithm: the power-of-two scale from one spline and one exact shift, the rest
//! by a Chebyshev series.

use super::boxed;
use super::poly::{chebyshev, fit};
use super::{Octaves, constant, encode, format, named, rescale, shl};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear::{self, PiecewiseLinear};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// `ln x` elementwise for `x` in the default [`Octaves`] (`[2^-8, 2^8]` with `f = 16`,
/// `[2^-16, 2^16]` with `f = 32`); see [`log_in`].
pub async fn log<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let octaves = Octaves::default_for(ctx.fixed());
    log_in(ctx, x, octaves).await
}

/// `ln x` elementwise for `x` in `[2^lo, 2^hi]`.
///
/// A spline with a breakpoint at every power of two (`hi - lo + 1`) interpolates `log2 x`:
/// `g = j + (x 2^-j - 1)` on `[2^j, 2^(j+1))`. One exact shift ([`nonlinear::truncate_exact`])
/// splits `g` into `j` and `m = x 2^-j - 1` in `[0, 1)`, and
/// `ln x = j ln 2 + ln(1 + m)` with `ln(1 + m)` a Chebyshev series under guard bits (degree 7
/// with `f = 16` in Z_2^64, 15 with `f = 32` in Z_2^128; `ceil(log2 d)` product rounds).
///
/// Error: `|y - ln x| <= 4 ulp` (absolute: `ln x` crosses zero; measured at most 1.9 ulp on 10^5
/// points), and `8 ulp` with four servers, whose spline products lie up to 4 ulp below the floor
/// (measured 4.3 ulp). Outside the range the result
/// is clamped: `lo ln 2` below `2^lo`, `hi ln 2` above `2^hi`; at `x <= 0` it is `lo ln 2`.
/// Fails with [`crate::ErrorKind::InvalidArgument`] for a range [`Octaves::check`] refuses.
pub async fn log_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    octaves: Octaves,
) -> Result<Shares<R>, Error> {
    named("log", async {
        let fmt = format::<T, C, R>(ctx, "log")?;
        octaves.check::<R>("log", ctx.fixed())?;
        if x.is_empty() {
            return Ok(x.clone());
        }
        let (f, top) = (fmt.f, fmt.guarded);
        let role = ctx.role()?;
        let chord = PiecewiseLinear::interpolate(&octaves.knots(), libm::log2)?;
        let g = boxed(nonlinear::piecewise_linear(ctx, x, &chord)).await?;
        // j = floor(g), an integer; m = g - j in [0, 1).
        let j = boxed(nonlinear::truncate_exact(ctx, &g, f)).await?;
        let m = g.sub(&shl(&j, f))?;
        // u = 2 m - 1 in [-1, 1), at the guarded scale.
        let u = m.map(|v| v.shl(1).sub(constant(role, R::ONE.shl(f))));
        let u = shl(&u, top - f);
        let series = fit(
            |u| libm::log((u + 3.0) / 2.0),
            libm::ldexp(1.0, -(top as i32) - 2),
        );
        let p = chebyshev(ctx, &u, top, &series).await?;
        let ln2 = encode::<R>(core::f64::consts::LN_2, top);
        let y = p.zip_with(&j, "log", |p, j| p.add(j.mul(ln2)))?;
        rescale(ctx, y, top, f).await
    })
    .await
}
