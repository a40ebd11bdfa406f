//! Beaver multiplication of shared vectors (elementwise) and squaring.
//!
//! With a triple `c = a b`, the parties open `e = x - a` and `f = y - b` (one round, two ring
//! elements per product per party) and set `z = c + e b + f a + e f`, the last term added by
//! party 0 only. Squaring with a pair `s = a a` opens only `e = x - a`: `z = s + 2 e a + e e`.

use super::add_public;
use crate::correlated::{SquarePairs, Triples};
use crate::ring::Ring;
use crate::role::Role;

/// Element `i` of this party's share of `(e, f) = (x - a, y - b)`, laid out as `e` then `f`
/// (`2 n` elements for `n` products).
#[inline(always)]
pub fn masked_at<R: Ring>(x: &[R], y: &[R], t: &Triples<R>, i: usize) -> R {
    let n = x.len();
    if i < n {
        x[i].sub(t.a[i])
    } else {
        y[i - n].sub(t.b[i - n])
    }
}

/// This party's share of product `j`, `x_j y_j`, from the opened `e_j` and `f_j` (both shares
/// summed).
#[inline(always)]
pub fn product_at<R: Ring>(role: Role, t: &Triples<R>, j: usize, e: R, f: R) -> R {
    let z = t.c[j].add(e.mul(t.b[j])).add(f.mul(t.a[j]));
    add_public(role, z, e.mul(f))
}

/// Element `i` of this party's share of `e = x - a` for squaring.
#[inline(always)]
pub fn masked_square_at<R: Ring>(x: &[R], p: &SquarePairs<R>, i: usize) -> R {
    x[i].sub(p.a[i])
}

/// This party's share of `x_i^2` from the opened `e_i`.
#[inline(always)]
pub fn square_at<R: Ring>(role: Role, p: &SquarePairs<R>, i: usize, e: R) -> R {
    add_public(role, p.s[i].add(e.add(e).mul(p.a[i])), e.mul(e))
}
