//! Selection by a shared bit, equality, and the minimum with its index.

use super::boxed;
use super::named;
use super::reduce::{Axis, lay_back, lay_out};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// `where(c, x, y)`: `x` where the shared bit `c` is 1.0, `y` where it is 0.0, elementwise, as
/// `y + c (x - y)` (one product; `c` as [`crate::nonlinear::less_than`], [`equal`] or
/// [`crate::nonlinear::drelu`] return it).
///
/// Exact: the product of a fixed-point 0 or 1 with `x - y` is a multiple of `2^f`, which every
/// truncation divides exactly (except with local truncation's failure probability for
/// `|x - y| 2^(2f)`), in every topology. A `c` other than 0.0 or 1.0 gives `y + c (x - y)`,
/// within one ulp. Fails with [`crate::ErrorKind::DimensionMismatch`] unless the three have the
/// same shape.
pub async fn select<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    c: &Shares<R>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("select", async {
        c.check_same_shape(x, "select")?;
        let d = x.sub(y)?;
        let picked = super::mul(ctx, c, &d).await?;
        picked.add(y)
    })
    .await
}

/// The equality test `x == y`: 1.0 where it holds, else 0.0, elementwise (exact; see
/// [`crate::nonlinear::equal`]).
pub async fn equal<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    boxed(nonlinear::equal(ctx, x, y)).await
}

/// The smallest value along `axis` (exact): a `rows x 1` result per row, `1 x cols` per column,
/// `1 x 1` for all, by the tournament of [`crate::nonlinear::max`] on `-x`
/// (`ceil(log2 n)` rounds of comparisons for `n` values). Fails with
/// [`crate::ErrorKind::InvalidArgument`] if there is nothing to reduce.
pub async fn min<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    axis: Axis,
) -> Result<Shares<R>, Error> {
    named("min", async {
        let rows = lay_out(x, axis, "min")?;
        let m = boxed(nonlinear::max(ctx, &rows.neg())).await?;
        lay_back(m.neg(), axis)
    })
    .await
}

/// The smallest value along `axis` and its index (the first one on ties), shaped as [`min`]
/// returns it; indices are fixed-point integers (0.0, 1.0, ...), counted along the axis, or in
/// row-major order for [`Axis::All`].
pub async fn argmin<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    axis: Axis,
) -> Result<(Shares<R>, Shares<R>), Error> {
    named("argmin", async {
        let rows = lay_out(x, axis, "argmin")?;
        let (m, i) = boxed(nonlinear::argmax(ctx, &rows.neg())).await?;
        Ok((lay_back(m.neg(), axis)?, lay_back(i, axis)?))
    })
    .await
}
