//! Local helpers on shares that the trainers and layers share: public scaling with an exact
//! power-of-two denominator, bias columns, concatenation and row sums.

use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec::Vec;

/// Bits of precision kept for a public scale factor in [`scale`].
const SCALE_BITS: i32 = 14;

/// `x * c` for a public real `c`: multiplies by the integer `round(c 2^e)` and truncates by `e`
/// bits, with `e >= f` chosen so that the integer has about 14 significant bits. Small factors
/// such as `learning_rate / batch` thus keep their precision instead of rounding to a few ulps.
pub async fn scale<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    c: f64,
) -> Result<Shares<R>, Error> {
    if !c.is_finite() {
        return Err(Error::new("ml.scale", ErrorKind::OutOfRange { value: c }));
    }
    let f = ctx.config().fixed.frac_bits() as i32;
    let mut e = f;
    if c != 0.0 {
        let (_, exp) = libm::frexp(c);
        // |c| is in [2^(exp-1), 2^exp): |c| 2^e has about e + exp bits.
        e = e.max(SCALE_BITS - exp);
    }
    if e as u32 >= R::BITS - 2 {
        return Err(Error::new(
            "ml.scale",
            ErrorKind::InvalidArgument("scale factor too small for the ring"),
        ));
    }
    let k = libm::round(libm::ldexp(c, e));
    if k.abs() >= libm::ldexp(1.0, 62) {
        return Err(Error::new("ml.scale", ErrorKind::OutOfRange { value: c }));
    }
    let y = x.mul_integer(k as i64);
    online::truncate(ctx, y, e as u32).await
}

/// The ring element of the public fixed-point constant `c` as party `role`'s share (party 0
/// holds the value, party 1 zero).
fn public_share<R: Ring>(role: Role, c: R) -> R {
    if role == Role::P0 { c } else { R::ZERO }
}

/// `[x | 1]`: appends a column of public ones (for the bias).
pub fn append_ones<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let one: R = ctx.config().fixed.encode(1.0)?;
    let one = public_share(ctx.role()?, one);
    let (n, d) = x.shape();
    let cols = d.checked_add(1).ok_or(Error::new(
        "append_ones",
        ErrorKind::TooLarge {
            rows: n,
            cols: d,
            max: usize::MAX,
        },
    ))?;
    let mut out = Vec::with_capacity(ctx.config().elements("append_ones", n, cols)?);
    for r in 0..n {
        out.extend_from_slice(&x.as_slice()[r * d..(r + 1) * d]);
        out.push(one);
    }
    Shares::matrix(n, cols, out)
}

/// The matrices side by side (same number of rows): vertical partitioning's columns joined.
pub fn concat_columns<R: Ring>(parts: &[Shares<R>]) -> Result<Shares<R>, Error> {
    let n = parts.first().map_or(0, |p| p.rows());
    let mut d = 0;
    for p in parts {
        if p.rows() != n {
            return Err(Error::dimension("ml.concat_columns", n, p.rows()));
        }
        d += p.cols();
    }
    let mut out = Vec::with_capacity(n * d);
    for r in 0..n {
        for p in parts {
            out.extend_from_slice(&p.as_slice()[r * p.cols()..(r + 1) * p.cols()]);
        }
    }
    Shares::matrix(n, d, out)
}

/// The matrices one below the other (same number of columns): horizontal partitioning's rows.
pub fn concat_rows<R: Ring>(parts: &[Shares<R>]) -> Result<Shares<R>, Error> {
    let d = parts.first().map_or(0, |p| p.cols());
    let mut out = Vec::new();
    let mut n = 0;
    for p in parts {
        if p.cols() != d {
            return Err(Error::dimension("ml.concat_rows", d, p.cols()));
        }
        out.extend_from_slice(p.as_slice());
        n += p.rows();
    }
    Shares::matrix(n, d, out)
}

/// Adds `bias` (a `1 x n` row) to every row of `x` (`m x n`).
pub fn add_row<R: Ring>(x: &Shares<R>, bias: &Shares<R>) -> Result<Shares<R>, Error> {
    let n = x.cols();
    if bias.len() != n {
        return Err(Error::dimension("ml.add_row", n, bias.len()));
    }
    let mut out = x.clone();
    for row in out.as_mut_slice().chunks_exact_mut(n.max(1)) {
        for (v, &b) in row.iter_mut().zip(bias.as_slice()) {
            *v = v.add(b);
        }
    }
    Ok(out)
}

/// Shares of public fixed-point values (`rows x cols`, row-major): party 0 holds the encodings,
/// party 1 zeros. No communication.
pub fn public_matrix<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &Context<T, C>,
    values: &[f64],
    rows: usize,
    cols: usize,
) -> Result<Shares<R>, Error> {
    let fixed = ctx.config().fixed;
    let role = ctx.role()?;
    let mut out = Vec::with_capacity(values.len());
    for &v in values {
        out.push(public_share(role, fixed.encode::<R>(v)?));
    }
    Shares::matrix(rows, cols, out)
}
