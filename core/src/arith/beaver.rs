//! Beaver multiplication of shared vectors (elementwise) and squaring.
//!
//! With a triple `c = a b`, the parties open `e = x - a` and `f = y - b` (one round, two ring
//! elements per product per party) and set `z = c + e b + f a + e f`, the last term added by
//! party 0 only. Squaring with a pair `s = a a` opens only `e = x - a`: `z = s + 2 e a + e e`.
//! The masked values are [`super::masked_piece`].

use super::add_public;
use crate::correlated::{SquarePairs, Triples};
use crate::ring::Ring;
use crate::role::Role;

/// This party's share of product `j`, `x_j y_j`, from the opened `e_j` and `f_j` (both shares
/// summed).
#[inline(always)]
pub fn product_at<R: Ring>(role: Role, t: &Triples<R>, j: usize, e: R, f: R) -> R {
    let z = t.c[j].add(e.mul(t.b[j])).add(f.mul(t.a[j]));
    add_public(role, z, e.mul(f))
}

/// This party's share of `x_i^2` from the opened `e_i`.
#[inline(always)]
pub fn square_at<R: Ring>(role: Role, p: &SquarePairs<R>, i: usize, e: R) -> R {
    add_public(role, p.s[i].add(e.add(e).mul(p.a[i])), e.mul(e))
}
