//! Reductions along rows, columns or everything: sum (local), mean and variance.

use super::boxed;
use super::{headroom, named};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// What a reduction runs along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Each row to one value: a `rows x 1` result (NumPy's `axis=1`).
    PerRow,
    /// Each column to one value: a `1 x cols` result (NumPy's `axis=0`).
    PerColumn,
    /// Every element to one value: a `1 x 1` result.
    All,
}

/// `x` laid out with one reduction per row: as it is, transposed, or as one row; fails if a row
/// would be empty.
pub(super) fn lay_out<R: Ring>(
    x: &Shares<R>,
    axis: Axis,
    op: &'static str,
) -> Result<Shares<R>, Error> {
    let out = match axis {
        Axis::PerRow => x.clone(),
        Axis::PerColumn => x.transpose(),
        Axis::All => x.clone().reshape(1, x.len())?,
    };
    if out.cols() == 0 {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("nothing to reduce: the axis is empty"),
        ));
    }
    Ok(out)
}

/// One value per row of [`lay_out`]'s layout, shaped back for `axis`.
pub(super) fn lay_back<R: Ring>(v: Shares<R>, axis: Axis) -> Result<Shares<R>, Error> {
    match axis {
        Axis::PerRow | Axis::All => Ok(v),
        Axis::PerColumn => Ok(v.transpose()),
    }
}

/// The sum along `axis` (local, exact).
pub fn sum<R: Ring>(x: &Shares<R>, axis: Axis) -> Result<Shares<R>, Error> {
    let rows = lay_out(x, axis, "sum")?;
    let data = rows
        .as_slice()
        .chunks_exact(rows.cols())
        .map(|r| r.iter().fold(R::ZERO, |a, &v| a.add(v)))
        .collect();
    lay_back(Shares::matrix(rows.rows(), 1, data)?, axis)
}

/// The mean along `axis`: the sum times `1/n` for the `n` values reduced, as `2^a / n` in
/// `(1/2, 1]` with guard bits after a shift by `a = floor(log2 n)`, so that the error stays
/// within 2 ulp for any `n` (two truncations; [`online::mul_public`] by an encoded `1/n` would be
/// off by up to `n/2` ulp relative).
///
/// Error: `|m - mean| <= 2 ulp` (for `|mean| < 2^(k - 2f - 24)`; exact arithmetic otherwise).
/// Fails with [`ErrorKind::InvalidArgument`] if there is nothing to reduce.
pub async fn mean<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    axis: Axis,
) -> Result<Shares<R>, Error> {
    named("mean", async {
        let n = lay_out(x, axis, "mean")?.cols();
        let s = sum(x, axis)?;
        divide_public(ctx, s, n).await
    })
    .await
}

/// `x / n` for a public count `n >= 1`, as [`mean`] divides.
async fn divide_public<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: Shares<R>,
    n: usize,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    let a = usize::BITS - 1 - n.leading_zeros();
    let guard = headroom::<R>(ctx.fixed()).clamp(0, 32) as u32;
    let shifted = boxed(online::truncate(ctx, x, a)).await?;
    // round(2^(a + f + guard) / n), in (2^(f + guard - 1), 2^(f + guard)].
    let c = libm::round(libm::ldexp(1.0, (a + f + guard) as i32) / n as f64);
    let c = R::from_i128(c as i128);
    boxed(online::truncate(ctx, shifted.map(|v| v.mul(c)), f + guard)).await
}

/// The population variance along `axis` (NumPy's default, `ddof = 0`): the [`mean`] of the
/// squared deviations from the mean (two passes, not `E[x^2] - E[x]^2`, which loses the
/// variance of large values to cancellation). One product round and four truncations.
///
/// Error: `|v - var| <= (4 m + 5) ulp` for `m` the largest deviation `|x - mean|`. The squared
/// deviations are products: in Z_2^64 with `f = 16` each fails (a large error) with probability
/// about `d^2 2^-31` for a deviation `d` (measured: one in 10^5 values uniform in `[-50, 50]`);
/// Z_2^128 makes this negligible. Fails with [`ErrorKind::InvalidArgument`] if there is nothing
/// to reduce.
pub async fn variance<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    axis: Axis,
) -> Result<Shares<R>, Error> {
    named("variance", async {
        let n = lay_out(x, axis, "variance")?.cols();
        let mu = mean(ctx, x, axis).await?;
        let d = x.sub(&super::expand(&mu, x.rows(), x.cols())?)?;
        let d2 = super::mul(ctx, &d, &d).await?;
        let s = sum(&d2, axis)?;
        divide_public(ctx, s, n).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn sums_along_each_axis() {
        let x: Shares<u64> = Shares::matrix(2, 3, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(sum(&x, Axis::PerRow).unwrap().as_slice(), &[6, 15]);
        let c = sum(&x, Axis::PerColumn).unwrap();
        assert_eq!((c.shape(), c.as_slice()), ((1, 3), &[5u64, 7, 9][..]));
        assert_eq!(sum(&x, Axis::All).unwrap().as_slice(), &[21]);
        let empty: Shares<u64> = Shares::zeros(2, 0).unwrap();
        assert!(sum(&empty, Axis::PerRow).is_err());
        assert_eq!(sum(&empty, Axis::PerColumn).unwrap().shape(), (1, 0));
    }
}
