//! The logistic function `1 / (1 + e^-x)`, by `exp` and a reciprocal and by PrivPy's Euler
//! method, and `tanh`.

use super::boxed;
use super::exp::exp_around;
use super::reciprocal::newton_reciprocal;
use super::{constant, encode, format, iterations, named, products_n, rescale, shl};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::nonlinear::{self, PiecewiseLinear};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// The most steps [`logistic_euler`] takes.
pub const EULER_MAX_STEPS: u32 = 10_000;

/// The squarings of the logistic function's `e^-|x|`: `ceil(log2((f + 1) ln 2 / 2))`, so that
/// `|x|` up to `2^(s+1)` (16 for `f = 16`, 32 for `f = 32`) reaches where `e^-|x|` is below half
/// an ulp.
fn squarings(f: u32) -> u32 {
    let reach = (f as f64 + 1.0) * core::f64::consts::LN_2 / 2.0;
    libm::ceil(libm::log2(reach)) as u32
}

/// The logistic function `1 / (1 + e^-x)` elementwise, for every `x`.
///
/// `a = min(|x|, 2^(s+1))` by a spline of three breakpoints with integer slopes (exact), the sign
/// `[x >= 0]` by one comparison, `e = e^-a` as [`super::exp`] does it over `[-2^(s+1), 0]` (3
/// squarings for `f = 16`, 4 for `f = 32`), `r = 1 / (1 + e)` by Newton–Raphson from the linear
/// guess `(24 - 8 (1 + e)) / 17` (3 steps for `f <= 31`, 4 above), and the result `r` or `1 - r` by
/// one product with the sign. Beyond `|x| = 2^(s+1)` the result is `1/(1 + e^-2^(s+1))`, within
/// half an ulp of the saturated value.
///
/// Error: `|y - 1/(1 + e^-x)| <= 3 ulp` (measured on 10^5 points: at most 1.95 ulp).
pub async fn logistic<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("logistic", logistic_steps(ctx, x, "logistic")).await
}

async fn logistic_steps<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    op: &'static str,
) -> Result<Shares<R>, Error> {
    let fmt = format::<T, C, R>(ctx, op)?;
    if x.is_empty() {
        return Ok(x.clone());
    }
    let f = fmt.f;
    let role = ctx.role()?;
    let s = squarings(f);
    let reach = libm::ldexp(1.0, s as i32 + 1);
    let clipped_abs = PiecewiseLinear::interpolate(&[-reach, 0.0, reach], libm::fabs)?;
    let a = boxed(nonlinear::piecewise_linear(ctx, x, &clipped_abs)).await?;
    let positive = boxed(nonlinear::drelu(ctx, x)).await?;
    let e = exp_around(ctx, fmt, &a.neg(), -libm::ldexp(1.0, s as i32), s).await?;
    let one = constant(role, R::ONE.shl(f));
    let z = e.map(|v| v.add(one));
    // r = 1 / z for z in [1, 2]: the linear guess 24/17 - 8/17 z is within 1/17.
    let slope = boxed(online::mul_public(ctx, &z, 8.0 / 17.0)).await?;
    let guess = slope.map(|v| constant(role, encode::<R>(24.0 / 17.0, f)).sub(v));
    let steps = iterations(1.0 / 17.0, f, |e| e * e);
    let r = newton_reciprocal(ctx, fmt, &z, guess, steps).await?;
    // x >= 0: r; x < 0: 1 - r.  1 - r + [x >= 0] (2 r - 1).
    let two_r_minus_one = r.map(|v| v.shl(1).sub(one));
    let picked = super::mul(ctx, &positive, &two_r_minus_one).await?;
    picked.zip_with(&r, op, |p, r| p.add(one).sub(r))
}

/// `tanh x = 2 / (1 + e^-2x) - 1` elementwise, for every `x`, by [`logistic`] of `2x`.
///
/// Error: `|y - tanh x| <= 6 ulp` (measured at most 3.7 ulp).
pub async fn tanh<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("tanh", async {
        let role = ctx.role()?;
        let s = logistic_steps(ctx, &x.mul_integer(2), "tanh").await?;
        let one = constant(role, R::ONE.shl(ctx.fixed().frac_bits()));
        Ok(s.map(|v| v.shl(1).sub(one)))
    })
    .await
}

/// The logistic function by Euler's method, as PrivPy computes it: from `y = 1/2` at 0, `steps`
/// steps `y <- y + h y (1 - y)` with `h = x / steps` (two product rounds each, under guard bits),
/// for `|x| <= steps`.
///
/// Error: Euler's method is first order, its error shrinks like `1/steps`: about
/// `0.12 / steps + 4 ulp` over `|x| <= 10` (`1.2e-3` with 100 steps); [`logistic`] is both
/// more accurate and cheaper. Beyond `|x| = steps` the steps overshoot and the result is
/// meaningless. Fails with [`ErrorKind::InvalidArgument`] unless `1 <= steps <=`
/// [`EULER_MAX_STEPS`].
pub async fn logistic_euler<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    steps: u32,
) -> Result<Shares<R>, Error> {
    named("logistic_euler", async {
        if steps == 0 || steps > EULER_MAX_STEPS {
            return Err(Error::new(
                "logistic_euler",
                ErrorKind::InvalidArgument("the number of Euler steps must be 1 to 10000"),
            ));
        }
        let fmt = format::<T, C, R>(ctx, "logistic_euler")?;
        if x.is_empty() {
            return Ok(x.clone());
        }
        let (f, top) = (fmt.f, fmt.guarded);
        let role = ctx.role()?;
        // h = x / steps at the guarded scale: x times round(2^(top + b) / steps), shifted by
        // top + b bits, with 2^b >= steps so that the constant keeps top + 1 bits.
        let b = 32 - (steps - 1).leading_zeros();
        let inverse =
            R::from_u64(libm::round(libm::ldexp(1.0, (top + b) as i32) / steps as f64) as u64);
        let scaled = shl(x, top - f).map(|v| v.mul(inverse));
        let h = boxed(online::truncate(ctx, scaled, top + b)).await?;
        let half = constant(role, R::ONE.shl(top - 1));
        let mut y = x.map(|_| half);
        for _ in 0..steps {
            let [yy] = products_n(ctx, [(&y, &y)], top).await?;
            let slope = y.sub(&yy)?;
            let [step] = products_n(ctx, [(&h, &slope)], top).await?;
            y = y.add(&step)?;
        }
        rescale(ctx, y, top, f).await
    })
    .await
}
