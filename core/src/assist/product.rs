//! Products without triples (PrivPy's Protocol 1): the primaries' side, and the cross terms every
//! server computes.

use super::{Request, draw, own_assistant, send_request, tag};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::ring::Ring;
use crate::role::Role;
use crate::topology::PartyId;
use crate::transport::{Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

/// The fixed-point elementwise product `x * y` divided by `2^shift`.
pub(crate) async fn mul<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
    y: &[R],
    shift: u32,
) -> Result<Vec<R>, Error> {
    let n = x.len();
    let request = Request::Mul { n: n as u64, shift };
    product(ctx, request, x, y, |a, b| {
        cross_term(&a, &b, Shape::Elementwise, shift)
    })
    .await
}

/// The matrix product of `x` (`m x k`) and `y` (`k x n`), divided by `2^shift`.
pub(crate) async fn matmul<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
    y: &[R],
    (m, k, n): (usize, usize, usize),
    shift: u32,
) -> Result<Vec<R>, Error> {
    let request = Request::MatMul {
        m: m as u64,
        k: k as u64,
        n: n as u64,
        shift,
    };
    product(ctx, request, x, y, |a, b| {
        cross_term(&a, &b, Shape::Matrix(m, k, n), shift)
    })
    .await
}

/// A primary's side of one product: re-randomize, hand the assistants their operands, compute the
/// own cross term, and add the two terms that come back re-shared.
async fn product<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    request: Request,
    x: &[R],
    y: &[R],
    own_term: impl FnOnce(Vec<R>, Vec<R>) -> Vec<R>,
) -> Result<Vec<R>, Error> {
    let op = "four servers: product";
    let role = ctx.role()?;
    let (links, streams) = ctx.assist_parts()?;
    // x' = x - r (S1) or x + r (S2): fresh shares of x, and the same for y.
    let rerandomize = |v: &[R], r: Vec<R>| -> Vec<R> {
        v.iter()
            .zip(r)
            .map(|(a, r)| match role {
                Role::P0 => a.sub(r),
                Role::P1 => a.add(r),
            })
            .collect()
    };
    let rx = draw::<R>(&mut streams.common, x.len());
    let ry = draw::<R>(&mut streams.common, y.len());
    let (xp, yp) = (rerandomize(x, rx), rerandomize(y, ry));
    let own = own_assistant(role);
    let (mut xs, mut ys) = (Some(xp.clone()), Some(yp.clone()));
    send_request(links, op, request, |a| {
        if a == own {
            xs.take().map(|v| (tag::LEFT, v))
        } else {
            ys.take().map(|v| (tag::RIGHT, v))
        }
    })
    .await?;
    let mut z = own_term(xp, yp);
    // The own assistant's part of its term comes from the stream; the other's term arrives.
    let part = draw::<R>(&mut streams.own, z.len());
    let other = PartyId(5 - own.0);
    let mut ch = links.get(other)?.channel(Sub::Online);
    ch.recv_ring_with(op, tag::TERM, z.len(), |i, v| {
        z[i] = z[i].add(v).add(part[i])
    })
    .await?;
    Ok(z)
}

/// The shape of a product.
#[derive(Clone, Copy, Debug)]
pub(super) enum Shape {
    /// `n` elementwise products.
    Elementwise,
    /// An `m x k` by `k x n` matrix product.
    Matrix(usize, usize, usize),
}

/// One cross term: `floor(I(a) I(b) / 2^shift) mod 2^k` elementwise, or the matrix product's
/// `floor(sum_t I(a_it) I(b_tj) / 2^shift)`, on the signed readings `I` of the ring elements,
/// computed exactly modulo `2^(k + shift)` (wrapping integers of twice the ring's width).
pub(super) fn cross_term<R: Ring>(a: &[R], b: &[R], shape: Shape, shift: u32) -> Vec<R> {
    if R::BITS <= 64 {
        let (a, b) = (narrow(a), narrow(b));
        let finish = |acc: i128| R::from_i128(acc >> shift);
        match shape {
            Shape::Elementwise => a
                .iter()
                .zip(&b)
                .map(|(p, q)| finish(p.wrapping_mul(*q)))
                .collect(),
            Shape::Matrix(m, k, n) => {
                let mut out = Vec::with_capacity(m * n);
                let mut acc = vec![0i128; n];
                for i in 0..m {
                    acc.fill(0);
                    for t in 0..k {
                        let p = a[i * k + t];
                        for (s, q) in acc.iter_mut().zip(&b[t * n..(t + 1) * n]) {
                            *s = s.wrapping_add(p.wrapping_mul(*q));
                        }
                    }
                    out.extend(acc.iter().map(|&s| finish(s)));
                }
                out
            }
        }
    } else {
        let (a, b) = (narrow(a), narrow(b));
        let finish = |w: Wide| R::from_i128(w.shifted(shift) as i128);
        match shape {
            Shape::Elementwise => a
                .iter()
                .zip(&b)
                .map(|(p, q)| finish(Wide::product(*p, *q)))
                .collect(),
            Shape::Matrix(m, k, n) => {
                let mut out = Vec::with_capacity(m * n);
                let mut acc = vec![Wide::default(); n];
                for i in 0..m {
                    acc.fill(Wide::default());
                    for t in 0..k {
                        let p = a[i * k + t];
                        for (s, q) in acc.iter_mut().zip(&b[t * n..(t + 1) * n]) {
                            s.add(Wide::product(p, *q));
                        }
                    }
                    out.extend(acc.iter().map(|&s| finish(s)));
                }
                out
            }
        }
    }
}

/// The signed readings of ring elements.
fn narrow<R: Ring>(v: &[R]) -> Vec<i128> {
    v.iter().map(|x| x.to_signed()).collect()
}

/// A 256-bit two's complement integer, wrapping: the products of Z_2^128's signed readings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Wide {
    lo: u128,
    hi: u128,
}

impl Wide {
    /// `a * b` exactly.
    fn product(a: i128, b: i128) -> Wide {
        let (ua, ub) = (a as u128, b as u128);
        let low = |v: u128| v & u128::from(u64::MAX);
        let (a0, a1, b0, b1) = (low(ua), ua >> 64, low(ub), ub >> 64);
        let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
        let mid = (p00 >> 64) + low(p01) + low(p10);
        let lo = low(p00) | (mid << 64);
        let mut hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        // The unsigned product of the two's complement patterns, corrected for the signs.
        if a < 0 {
            hi = hi.wrapping_sub(ub);
        }
        if b < 0 {
            hi = hi.wrapping_sub(ua);
        }
        Wide { lo, hi }
    }

    /// `self += w`, wrapping.
    fn add(&mut self, w: Wide) {
        let (lo, carry) = self.lo.overflowing_add(w.lo);
        self.lo = lo;
        self.hi = self.hi.wrapping_add(w.hi).wrapping_add(u128::from(carry));
    }

    /// The low 128 bits of `self >> shift` (arithmetic), for `shift < 128`.
    fn shifted(self, shift: u32) -> u128 {
        if shift == 0 {
            self.lo
        } else {
            (self.lo >> shift) | (self.hi << (128 - shift))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_products_match_exact_arithmetic() {
        // Against i128 where the product fits; elsewhere its low half, symmetry, negation and
        // products known in closed form.
        let vals = [
            0i128,
            1,
            -1,
            7,
            -7,
            i64::MAX as i128,
            i64::MIN as i128,
            (1i128 << 100) + 12345,
            -(1i128 << 100) - 999,
            i128::MAX,
            i128::MIN,
        ];
        for &a in &vals {
            for &b in &vals {
                let w = Wide::product(a, b);
                if let Some(p) = a.checked_mul(b) {
                    assert_eq!(w.lo, p as u128, "{a} * {b}");
                    assert_eq!(w.hi, if p < 0 { u128::MAX } else { 0 }, "{a} * {b}");
                }
                assert_eq!(w.lo, a.wrapping_mul(b) as u128, "{a} * {b}");
                assert_eq!(w, Wide::product(b, a));
                // a (-b) = -(a b) in 256 bits, where -b fits.
                if b != i128::MIN {
                    let mut sum = w;
                    sum.add(Wide::product(a, -b));
                    assert_eq!(sum, Wide::default(), "{a} * {b}");
                }
            }
        }
        // i128::MIN^2 = 2^254: hi = 2^126, lo = 0.
        let w = Wide::product(i128::MIN, i128::MIN);
        assert_eq!((w.lo, w.hi), (0, 1u128 << 126));
        // -1 * i128::MIN = 2^127: lo = 2^127, hi = 0.
        let w = Wide::product(-1, i128::MIN);
        assert_eq!((w.lo, w.hi), (1u128 << 127, 0));
        // MAX * MAX = 2^254 - 2^128 + 1.
        let w = Wide::product(i128::MAX, i128::MAX);
        assert_eq!((w.lo, w.hi), (1, (1u128 << 126) - 1));
        let mut s = Wide::product(-3, 5);
        s.add(Wide::product(3, 5));
        assert_eq!(s, Wide::default());
        assert_eq!(Wide::product(-8, 1).shifted(2) as i128, -2);
    }

    #[test]
    fn cross_terms_of_both_widths_agree_on_small_values() {
        let a: Vec<i128> = vec![3 << 16, -(5 << 16), 7, -1];
        let b: Vec<i128> = vec![-(2 << 16), 9 << 16, -7, -1];
        let exact: Vec<i128> = a.iter().zip(&b).map(|(p, q)| (p * q) >> 16).collect();
        let r64: Vec<u64> = cross_term(
            &a.iter().map(|&v| v as u64).collect::<Vec<_>>(),
            &b.iter().map(|&v| v as u64).collect::<Vec<_>>(),
            Shape::Elementwise,
            16,
        );
        let r128: Vec<u128> = cross_term(
            &a.iter().map(|&v| v as u128).collect::<Vec<_>>(),
            &b.iter().map(|&v| v as u128).collect::<Vec<_>>(),
            Shape::Elementwise,
            16,
        );
        for i in 0..4 {
            assert_eq!(r64[i] as i64 as i128, exact[i]);
            assert_eq!(r128[i] as i128, exact[i]);
        }
        // A 2 x 2 by 2 x 1 matrix product.
        let m: Vec<u128> = cross_term(
            &[1u128 << 16, 2 << 16, (-3i128 << 16) as u128, 4 << 16],
            &[5u128 << 16, (-6i128 << 16) as u128],
            Shape::Matrix(2, 2, 1),
            16,
        );
        assert_eq!(
            m.iter().map(|&v| (v as i128) >> 16).collect::<Vec<_>>(),
            [-7, -39]
        );
    }
}
