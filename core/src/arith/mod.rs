//! Online arithmetic on shares, as pure steps apart from I/O.
//!
//! Each protocol is split into the message a party computes from its shares and a correlation
//! ([`masked_piece`]), and the local step that finishes once the opened values are known
//! ([`beaver::product_at`], [`matmul::combine`]).
//! [`online`] runs the exchange between the two over a [`crate::Context`]. Local operations
//! (add, sub, neg, integer constants) need no communication and live on [`crate::Shares`].

pub mod beaver;
pub mod matmul;
pub mod nparty;
pub mod online;
pub mod truncation;

use crate::ring::Ring;
use crate::role::Role;

/// Elements `start..start + out.len()` of `(x - a) ++ (y - b)`: a piece of this party's share of
/// the masked operands of a product (Beaver's `(e, f)`, SecureML's `(E, F)`), as
/// [`crate::Channel::exchange_ring_with`] sends them. `a` is as long as `x`, `b` as `y`.
#[inline]
pub fn masked_piece<R: Ring>(x: &[R], a: &[R], y: &[R], b: &[R], start: usize, out: &mut [R]) {
    fn tail<R>(v: &[R], from: usize) -> &[R] {
        v.get(from..).unwrap_or(&[])
    }
    let (split, j) = split_piece(start, out.len(), x.len());
    let (first, second) = out.split_at_mut(split);
    for ((o, &x), &a) in first.iter_mut().zip(tail(x, start)).zip(tail(a, start)) {
        *o = x.sub(a);
    }
    for ((o, &y), &b) in second.iter_mut().zip(tail(y, j)).zip(tail(b, j)) {
        *o = y.sub(b);
    }
}

/// Where a piece of `len` elements from `start` of an exchange of two parts, the first
/// `boundary` elements long, crosses into the second: how many of its elements lie in the first
/// part, and where the rest starts in the second.
#[inline]
pub(crate) fn split_piece(start: usize, len: usize, boundary: usize) -> (usize, usize) {
    let split = boundary.saturating_sub(start).min(len);
    (split, (start + split).saturating_sub(boundary))
}

/// Adds the public value `c` to a shared value: party 0 adds it, party 1 does nothing.
#[inline]
pub fn add_public<R: Ring>(role: Role, share: R, c: R) -> R {
    match role {
        Role::P0 => share.add(c),
        Role::P1 => share,
    }
}

#[cfg(test)]
mod tests {
    use super::{masked_piece, split_piece};
    use alloc::vec::Vec;

    /// Every piece, wherever it starts and however long, is the slice of `(x - a) ++ (y - b)`,
    /// including pieces across the boundary and past the end (left as they were).
    #[test]
    fn pieces_are_slices_of_the_masked_operands() {
        let (x, a): (Vec<u64>, Vec<u64>) = ((0..7).map(|i| 100 + i).collect(), (0..7).collect());
        let (y, b): (Vec<u64>, Vec<u64>) = ((0..5).map(|i| 50 * i).collect(), (0..5).collect());
        let whole: Vec<u64> = (x.iter().zip(&a).map(|(x, a)| x - a))
            .chain(y.iter().zip(&b).map(|(y, b)| y - b))
            .collect();
        for start in 0..=whole.len() {
            for len in 0..=whole.len() - start {
                let mut out = alloc::vec![u64::MAX; len];
                masked_piece(&x, &a, &y, &b, start, &mut out);
                assert_eq!(out, whole[start..start + len], "{start}+{len}");
            }
        }
        let mut past = [u64::MAX; 3];
        masked_piece(&x, &a, &y, &b, whole.len() - 1, &mut past);
        assert_eq!(past, [whole[whole.len() - 1], u64::MAX, u64::MAX]);
    }

    #[test]
    fn pieces_split_at_the_boundary() {
        assert_eq!(split_piece(0, 10, 4), (4, 0));
        assert_eq!(split_piece(2, 10, 4), (2, 0));
        assert_eq!(split_piece(0, 3, 4), (3, 0));
        assert_eq!(split_piece(4, 10, 4), (0, 0));
        assert_eq!(split_piece(9, 10, 4), (0, 5));
        assert_eq!(split_piece(0, 10, 0), (0, 0));
    }
}
