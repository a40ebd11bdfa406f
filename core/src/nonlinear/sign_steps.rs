//! Compositions from an online sign step of a third party: SecureNN's helper (three servers,
//! [`crate::helper`]) or PrivPy's assistants (four servers, [`crate::assist`]). Every comparison
//! is one sign step, and what it selects is one product of a 0/1 share (exact).

use super::PiecewiseLinear;
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::topology::Topology;
use crate::transport::Transport;
use crate::{assist, helper};
use alloc::vec::Vec;

/// Shares of `[x >= 0]` as 0 or 1 from the topology's third party: the assistants with four
/// servers, else the helper.
pub(super) async fn step<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    if ctx.topology() == Topology::FourServers {
        assist::sign(ctx, x).await
    } else {
        helper::sign(ctx, x).await
    }
}

/// Shares of `[x >= 0]` as 0 or 1, and with `relu` also of `max(x, 0)` (one more product).
pub(super) async fn sign<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
    relu: bool,
) -> Result<(Vec<R>, Option<Vec<R>>), Error> {
    let d = step(ctx, x).await?;
    if !relu {
        return Ok((d, None));
    }
    let (s, v) = (Shares::vector(d), Shares::vector(x.to_vec()));
    let out = online::mul_integer(ctx, &s, &v).await?;
    Ok((s.into_vec(), Some(out.into_vec())))
}

/// Shares of `[x == 0]` as 0 or 1: `[x >= 0] [-x >= 0]`, both signs in one step, then a product.
pub(super) async fn equal_zero<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let both: Vec<R> = x.iter().copied().chain(x.iter().map(|v| v.neg())).collect();
    let mut s = step(ctx, &both).await?;
    let negative = Shares::vector(s.split_off(x.len()));
    Ok(online::mul_integer(ctx, &Shares::vector(s), &negative)
        .await?
        .into_vec())
}

/// A [`PiecewiseLinear`] function: the signs of `x` and of `x - t_j` for every breakpoint in one
/// step, made exact where `x - t_j` wraps by one product of bits (`[x >= t] = [x >= 0] [x - t >= 0]`
/// for `t >= 0`, `[x >= 0] OR [x - t >= 0]` for `t < 0`); the piece's slope and intercept are
/// then local sums of public coefficients times those bits, and the slope takes one product with
/// `x`, truncated like [`online::mul`]'s unless every slope is an integer (then exact).
pub(super) async fn spline<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    f: &PiecewiseLinear,
) -> Result<Shares<R>, Error> {
    let (t, a, b, integer) = f.coefficients::<R>(ctx.fixed())?;
    let role = ctx.role()?;
    let one = if role == Role::P0 { R::ONE } else { R::ZERO };
    let (n, pieces) = (x.len(), t.len());
    // x, then the differences x - t_j breakpoint by breakpoint (P0 subtracts the public t_j).
    let mut diffs = x.as_slice().to_vec();
    for &tj in &t {
        diffs.extend(x.as_slice().iter().map(|&v| v.sub(tj.mul(one))));
    }
    let mut signs = step(ctx, &diffs).await?;
    let d = signs.split_off(n);
    let positive = signs;
    let repeated: Vec<R> = (0..pieces).flat_map(|_| positive.iter().copied()).collect();
    let both = online::mul_integer(ctx, &Shares::vector(repeated), &Shares::vector(d.clone()))
        .await?
        .into_vec();
    // On piece i (x >= t_j for j < i): slope a_0 + sum_j [x >= t_j] (a_(j+1) - a_j), the same
    // for the intercept.
    let mut slope: Vec<R> = (0..n).map(|_| a[0].mul(one)).collect();
    let mut intercept: Vec<R> = (0..n).map(|_| b[0].mul(one)).collect();
    for j in 0..pieces {
        let (da, db) = (a[j + 1].sub(a[j]), b[j + 1].sub(b[j]));
        let rows = j * n..(j + 1) * n;
        for (i, ((s, c), (&dj, &pj))) in slope
            .iter_mut()
            .zip(intercept.iter_mut())
            .zip(d[rows.clone()].iter().zip(&both[rows]))
            .enumerate()
        {
            let above = if t[j].msb() {
                positive[i].add(dj).sub(pj)
            } else {
                pj
            };
            *s = s.add(da.mul(above));
            *c = c.add(db.mul(above));
        }
    }
    let slope = x.with_data(slope)?;
    let y = if integer {
        online::mul_integer(ctx, &slope, x).await?
    } else {
        online::mul(ctx, &slope, x).await?
    };
    y.zip_with(&x.with_data(intercept)?, "piecewise_linear", R::add)
}

/// SecureML's softmax replacement `relu(x_i) / sum_j relu(x_j)` per row (`1 / cols` on a row with
/// no positive value) from the helper's steps: ReLU, one equality test per row, and the long
/// division of [`super::divide`]. A row whose sum is zero gets 1.0 added to every value (locally,
/// from the equality bit), which turns its quotients into `1 / cols` exactly as the reference.
pub(super) async fn relu_softmax<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    let (rows, cols) = x.shape();
    let (_, relu) = sign(ctx, x.as_slice(), true).await?;
    let relu = relu.unwrap_or_default();
    let sums: Vec<R> = relu
        .chunks_exact(cols.max(1))
        .map(|row| row.iter().fold(R::ZERO, |a, &v| a.add(v)))
        .collect();
    let empty = equal_zero(ctx, &sums).await?;
    let mut num = Vec::with_capacity(rows * cols);
    let mut den = Vec::with_capacity(rows * cols);
    for ((row, &s), &z) in relu.chunks_exact(cols.max(1)).zip(&sums).zip(&empty) {
        let bump = z.shl(f);
        let total = s.add(bump.mul(R::from_u64(cols as u64)));
        num.extend(row.iter().map(|&v| v.add(bump)));
        den.extend(core::iter::repeat_n(total, cols));
    }
    let (num, den) = (x.with_data(num)?, x.with_data(den)?);
    super::divide(ctx, &num, &den).await
}
