//! Truncation: dividing shared fixed-point values by `2^d` after a product.
//!
//! **Local truncation** (SecureML, Theorem 1): each party shifts its own share, party 0 as
//! `x0 >> d`, party 1 as `-((-x1) >> d)` (logical shifts). No communication. If the shared value
//! satisfies `|x| < 2^lx`, the result is `floor(x / 2^d)` or one more or less, except with
//! probability at most `2^(lx + 1 - k)` in Z_2^k, when it is wrong by about `2^(k - d)`: a large
//! error. In Z_2^64 with `lx = 30` that is 2^-33 per element; values near `2^62` fail often.
//!
//! **Truncation with a pair** (dealer or OT supplied `r`, `r >> d`, `msb(r)`): with
//! `x' = x + 2^(k-2)` (non-negative when `|x| < 2^(k-2)`), the parties open `c = x' + r`, which is
//! uniform. Then `x' = c - r + w 2^k` with wrap bit `w = msb(r) AND NOT msb(c)` (since `x' < 2^(k-1)`),
//! so `x' >> d = (c >> d) - (r >> d) + w 2^(k-d) - borrow` with `borrow` in {0, 1}. Leaving out
//! the borrow (which would need a comparison), the result is `floor(x / 2^d)` or one more, with no
//! large error for any `|x| < 2^(k-2)`. One round, one ring element per value per party.

use crate::correlated::TruncationPairs;
use crate::ring::Ring;
use crate::role::Role;
use alloc::vec::Vec;

/// SecureML's local truncation of this party's share by `d` bits.
#[inline]
pub fn local<R: Ring>(role: Role, share: R, d: u32) -> R {
    match role {
        Role::P0 => share.shr(d),
        Role::P1 => share.neg().shr(d).neg(),
    }
}

/// The offset that makes `|x| < 2^(k-2)` non-negative: `2^(k-2)`.
fn offset<R: Ring>() -> R {
    R::ONE.shl(R::BITS - 2)
}

/// This party's share of `c = x + 2^(k-2) + r`, to be opened.
pub fn mask<R: Ring>(role: Role, x: &[R], p: &TruncationPairs<R>) -> Vec<R> {
    x.iter()
        .zip(&p.r)
        .map(|(&x, &r)| super::add_public(role, x.add(r), offset::<R>()))
        .collect()
}

/// This party's share of `floor(x / 2^d)` (or one more) from the opened `c`.
pub fn combine<R: Ring>(role: Role, c: &[R], p: &TruncationPairs<R>, d: u32) -> Vec<R> {
    let wrap_unit = R::ONE.shl(R::BITS - d);
    let offset_shifted = offset::<R>().shr(d);
    c.iter()
        .enumerate()
        .map(|(i, &c)| {
            // w = msb(r) if msb(c) = 0, else 0: linear in the shared bit, since c is public.
            // (c is public, so branching on msb(c) reveals nothing.)
            let w = if c.msb() { R::ZERO } else { p.r_msb[i] };
            let z = w.mul(wrap_unit).sub(p.r_shifted[i]);
            super::add_public(role, z, c.shr(d).sub(offset_shifted))
        })
        .collect()
}
