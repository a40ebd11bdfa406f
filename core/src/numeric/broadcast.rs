//! Broadcasting a row or column vector (or a scalar) against a matrix.

use super::named;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec::Vec;

/// The elementwise operation of [`broadcast`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// `x + v` (local, exact).
    Add,
    /// `x - v` (local, exact).
    Sub,
    /// `x * v`, the fixed-point product (one round, within one ulp: floor or one more).
    Mul,
}

/// `v` repeated to `rows x cols` (local): `v` is a `1 x cols` row (repeated down), a `rows x 1`
/// column (repeated across), a `1 x 1` scalar, or already `rows x cols`. Fails with
/// [`ErrorKind::InvalidArgument`] for any other shape, and if `rows x cols` overflows.
pub fn expand<R: Ring>(v: &Shares<R>, rows: usize, cols: usize) -> Result<Shares<R>, Error> {
    let n = crate::limits::product("broadcast", rows, cols)?;
    let (vr, vc) = v.shape();
    let at: fn(usize, usize, usize) -> usize = match (vr, vc) {
        _ if (vr, vc) == (rows, cols) => return Ok(v.clone()),
        (1, 1) => |_, _, _| 0,
        (1, c) if c == cols => |_, j, _| j,
        (r, 1) if r == rows => |i, _, _| i,
        _ => {
            return Err(Error::new(
                "broadcast",
                ErrorKind::InvalidArgument(
                    "the vector must be 1 x cols, rows x 1 or 1 x 1 for a rows x cols matrix",
                ),
            ));
        }
    };
    let mut data = Vec::with_capacity(n);
    for i in 0..rows {
        data.extend((0..cols).map(|j| v.as_slice()[at(i, j, cols)]));
    }
    Shares::matrix(rows, cols, data)
}

/// `x op v` with `v` broadcast to `x`'s shape as [`expand`] does it (a row vector against every
/// row, a column vector against every column, a scalar everywhere). Add and subtract are exact;
/// multiply is within one ulp of the fixed-point product. Fails like [`expand`].
pub async fn broadcast<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    v: &Shares<R>,
    op: Broadcast,
) -> Result<Shares<R>, Error> {
    named("broadcast", async {
        let v = expand(v, x.rows(), x.cols())?;
        match op {
            Broadcast::Add => x.add(&v),
            Broadcast::Sub => x.sub(&v),
            Broadcast::Mul => super::mul(ctx, x, &v).await,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn expands_rows_columns_and_scalars() {
        let row: Shares<u64> = Shares::matrix(1, 3, vec![1, 2, 3]).unwrap();
        assert_eq!(expand(&row, 2, 3).unwrap().as_slice(), &[1, 2, 3, 1, 2, 3]);
        let col: Shares<u64> = Shares::matrix(2, 1, vec![7, 8]).unwrap();
        assert_eq!(expand(&col, 2, 3).unwrap().as_slice(), &[7, 7, 7, 8, 8, 8]);
        let one: Shares<u64> = Shares::matrix(1, 1, vec![5]).unwrap();
        assert_eq!(expand(&one, 2, 2).unwrap().as_slice(), &[5; 4]);
        assert!(expand(&row, 2, 4).is_err());
        assert!(expand(&col, 3, 3).is_err());
        assert!(expand(&row, usize::MAX, 3).is_err());
    }
}
