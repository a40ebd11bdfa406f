//! The FSS backend's protocol steps: a batch of gate keys from the offline source, one opening of
//! the masked inputs, then local evaluation (see [`crate::fss`]).

use super::PiecewiseLinear;
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::fss::{Gate, GateKeys, MAX_GATES, tag};
use crate::hash::FixedKeyAes;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec::Vec;

/// Keys for `x.len()` gates and the opened `x + r`: the gate's one round.
async fn open_masked<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    gate: Gate,
    x: &[R],
) -> Result<(GateKeys<R>, Vec<R>), Error> {
    let (links, source) = ctx.split();
    let keys = source.gate_keys::<R>(links, gate, x.len()).await?;
    let masked = keys.mask_inputs(x);
    let opened = online::open_slice(ctx, "fss", tag::OPEN, &masked).await?;
    Ok((keys, opened))
}

/// Shares of `[x >= 0]` as 0 or 1, and with `relu` also of `max(x, 0)`: one round (per
/// [`MAX_GATES`] elements), on the low [`crate::Config::sign_bits`] bits.
pub(super) async fn sign<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
    relu: bool,
) -> Result<(Vec<R>, Option<Vec<R>>), Error> {
    let aes = FixedKeyAes::new();
    let gate = Gate::Sign {
        product: relu,
        bits: ctx.config().sign_bits.unwrap_or(R::BITS),
    };
    let mut d = Vec::with_capacity(x.len());
    let mut out = relu.then(|| Vec::with_capacity(x.len()));
    for batch in x.chunks(MAX_GATES) {
        let (keys, opened) = open_masked(ctx, gate, batch).await?;
        let (db, rb) = keys.sign(&aes, &opened);
        d.extend(db);
        if let (Some(out), Some(rb)) = (out.as_mut(), rb) {
            out.extend(rb);
        }
    }
    Ok((d, out))
}

/// Shares of `[x == 0]` as 0 or 1: one round (per [`MAX_GATES`] elements).
pub(super) async fn equal_zero<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let aes = FixedKeyAes::new();
    let mut e = Vec::with_capacity(x.len());
    for batch in x.chunks(MAX_GATES) {
        let (keys, opened) = open_masked(ctx, Gate::Equal, batch).await?;
        e.extend(keys.equal(&aes, &opened, &[R::ZERO]));
    }
    Ok(e)
}

/// `floor(x / 2^bits)` exactly: one round.
pub(super) async fn shift<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    bits: u32,
) -> Result<Shares<R>, Error> {
    if bits == 0 {
        return Ok(x.clone());
    }
    let aes = FixedKeyAes::new();
    let mut y = Vec::with_capacity(x.len());
    for batch in x.as_slice().chunks(MAX_GATES) {
        let (keys, opened) = open_masked(ctx, Gate::Shift { bits }, batch).await?;
        y.extend(keys.shift(&aes, &opened));
    }
    x.with_data(y)
}

/// A [`PiecewiseLinear`] function: one comparison key per element, evaluated at every breakpoint,
/// selects the piece's slope times `x` and its intercept in one round; the product is then
/// truncated like [`online::mul`]'s, unless every slope is an integer (then the result is exact).
pub(super) async fn spline<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    f: &PiecewiseLinear,
) -> Result<Shares<R>, Error> {
    let frac = ctx.fixed().frac_bits();
    let (t, a, b, integer) = f.coefficients::<R>(ctx.fixed())?;
    let (keys, opened) = open_masked(ctx, Gate::Compare { product: true }, x.as_slice()).await?;
    let (less, times) = keys.compare(&FixedKeyAes::new(), &opened, &t);
    let times = times.unwrap_or_default();
    let s = t.len();
    // f(x) = a_S x + b_S + sum_j [x < t_j] ((a_(j-1) - a_j) x + (b_(j-1) - b_j)).
    let role_one = keys.public(R::ONE);
    let mut slope_part = Vec::with_capacity(x.len());
    let mut intercept_part = Vec::with_capacity(x.len());
    for (i, &xi) in x.as_slice().iter().enumerate() {
        let mut p = a[s].mul(xi);
        let mut q = b[s].mul(role_one);
        for j in 0..s {
            p = p.add(a[j].sub(a[j + 1]).mul(times[i * s + j]));
            q = q.add(b[j].sub(b[j + 1]).mul(less[i * s + j]));
        }
        slope_part.push(p);
        intercept_part.push(q);
    }
    let products = x.with_data(slope_part)?;
    let products = if integer {
        products
    } else {
        online::truncate(ctx, products, frac).await?
    };
    products.zip_with(&x.with_data(intercept_part)?, "piecewise_linear", R::add)
}
