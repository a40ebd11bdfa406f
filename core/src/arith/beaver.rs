//! Beaver multiplication of shared vectors (elementwise) and squaring.
//!
//! With a triple `c = a b`, the parties open `e = x - a` and `f = y - b` (one round, two ring
//! elements per product per party) and set `z = c + e b + f a + e f`, the last term added by
//! party 0 only. Squaring with a pair `s = a a` opens only `e = x - a`: `z = s + 2 e a + e e`.

use super::add_public;
use crate::correlated::{SquarePairs, Triples};
use crate::ring::Ring;
use crate::role::Role;
use alloc::vec::Vec;

/// This party's share of `(e, f) = (x - a, y - b)`, laid out as `e` then `f`.
pub fn mask<R: Ring>(x: &[R], y: &[R], t: &Triples<R>) -> Vec<R> {
    let mut out = Vec::with_capacity(2 * x.len());
    out.extend(x.iter().zip(&t.a).map(|(&x, &a)| x.sub(a)));
    out.extend(y.iter().zip(&t.b).map(|(&y, &b)| y.sub(b)));
    out
}

/// This party's share of `x y`, from the opened `(e, f)` (both shares summed), passed through
/// `finish` (for example local truncation, fused here to save a pass over memory).
pub fn combine<R: Ring>(
    role: Role,
    opened: &[R],
    t: &Triples<R>,
    finish: impl Fn(R) -> R,
) -> Vec<R> {
    let n = t.a.len();
    let (e, f) = opened.split_at(n);
    (0..n)
        .map(|i| {
            let z = t.c[i].add(e[i].mul(t.b[i])).add(f[i].mul(t.a[i]));
            finish(add_public(role, z, e[i].mul(f[i])))
        })
        .collect()
}

/// This party's share of `e = x - a` for squaring.
pub fn mask_square<R: Ring>(x: &[R], p: &SquarePairs<R>) -> Vec<R> {
    x.iter().zip(&p.a).map(|(&x, &a)| x.sub(a)).collect()
}

/// This party's share of `x^2`, from the opened `e`, passed through `finish`.
pub fn combine_square<R: Ring>(
    role: Role,
    e: &[R],
    p: &SquarePairs<R>,
    finish: impl Fn(R) -> R,
) -> Vec<R> {
    e.iter()
        .zip(p.a.iter().zip(&p.s))
        .map(|(&e, (&a, &s))| finish(add_public(role, s.add(e.add(e).mul(a)), e.mul(e))))
        .collect()
}
