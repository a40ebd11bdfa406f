//! SecureNN's PrivateCompare (Algorithm 3) as local computations: P0 and P1 hold shares over
//! Z_p of the bits of a secret `x` and a public `r`, and each turns its shares into masked,
//! rotated differences; the helper adds the two parties' differences and learns only whether one
//! of them is zero, which is `beta XOR (x > r)` for a bit `beta` that P0 and P1 share and the helper
//! does not know.
//!
//! For the `m` bit positions from the top, `c_i = (-1)^beta (r_i - x_i) + 1 + sum_{j > i} (x_j XOR
//! r_j)`, which is zero exactly at the first bit where `x` and `r` differ, when there `x > r`
//! (`beta = 0`) or `x < r` (`beta = 1`). SecureNN handles `x <= r` for `beta = 1` by comparing with
//! `r + 1`, which overflows at `r = 2^m - 1` and needs a special case; here one more value, `c_m =
//! (1 - beta) + sum_j (x_j XOR r_j)`, is zero exactly when `beta = 1` and `x = r`, so
//! `x <= r = (x < r) OR (x = r)` has no edge at all. Each value is multiplied by a fresh nonzero
//! factor, so a nonzero difference is uniform in Z_p^*; and the `m + 1` values (a power of two)
//! are rotated by a shared uniform offset, so the position of a zero, if any, is uniform: the
//! helper's view is one zero at a uniform place or none, with every other value uniform.
//!
//! The prime: every `c_i` lies in `0..=m + 2` before masking, so `p > m + 2`: 67 (SecureNN's) for
//! rings up to Z_2^64, 131 for Z_2^128.

use crate::prg::Prg;
use crate::ring::Ring;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;

/// The prime field of the comparison for ring `R`.
pub(crate) fn prime<R: Ring>() -> u8 {
    if R::BITS <= 64 { 67 } else { 131 }
}

/// The bits compared: all but the most significant of ring `R`.
pub(crate) fn compared_bits<R: Ring>() -> usize {
    R::BITS as usize - 1
}

/// Bit `i` of `v` (0 or 1).
pub(crate) fn bit<R: Ring>(v: R, i: usize) -> u8 {
    (v.shr(i as u32).low_u64() & 1) as u8
}

/// `a + b` in Z_p.
fn add(p: u8, a: u8, b: u8) -> u8 {
    let s = u16::from(a) + u16::from(b);
    let p = u16::from(p);
    (if s >= p { s - p } else { s }) as u8
}

/// `a - b` in Z_p.
pub(crate) fn sub(p: u8, a: u8, b: u8) -> u8 {
    add(p, a, p - b)
}

/// `a * b` in Z_p.
fn mul(p: u8, a: u8, b: u8) -> u8 {
    ((u16::from(a) * u16::from(b)) % u16::from(p)) as u8
}

/// `a` where `mask` is all ones, `b` where it is zero.
fn select(mask: u8, a: u8, b: u8) -> u8 {
    (a & mask) | (b & !mask)
}

/// Uniform elements of Z_p and Z_p^* from a generator, by rejection of the few bytes past the
/// largest multiple: consumes the generator in 512-byte blocks, so two parties that run the
/// same sequence of calls on the same generator read the same values.
pub(crate) struct Sampler {
    prg: Prg,
    buf: [u8; 512],
    at: usize,
}

impl Sampler {
    pub(crate) fn new(prg: Prg) -> Self {
        Sampler {
            prg,
            buf: [0; 512],
            at: 512,
        }
    }

    /// A uniform byte.
    pub(crate) fn byte(&mut self) -> u8 {
        if self.at == self.buf.len() {
            self.prg.fill_bytes(&mut self.buf);
            self.at = 0;
        }
        let b = self.buf[self.at];
        self.at += 1;
        b
    }

    /// Uniform in `0..modulus` (modulus at most 255).
    fn below(&mut self, modulus: u8) -> u8 {
        let limit = 256 - 256 % u16::from(modulus);
        loop {
            let b = self.byte();
            if u16::from(b) < limit {
                return b % modulus;
            }
        }
    }

    /// Uniform in Z_p.
    pub(crate) fn element(&mut self, p: u8) -> u8 {
        self.below(p)
    }

    /// Uniform in Z_p^* (`1..p`).
    pub(crate) fn nonzero(&mut self, p: u8) -> u8 {
        1 + self.below(p - 1)
    }
}

/// One party's masked differences for each element: `x_bits` holds its shares of the bits of the
/// secrets (`m` per element, least significant first), `public` the public values; `common` is the
/// generator P0 and P1 share. Returns the `m + 1` values per element to send to the helper and the
/// elements' `beta` bits.
pub(crate) fn differences<R: Ring>(
    party0: bool,
    x_bits: &[u8],
    public: &[R],
    common: &mut Sampler,
) -> (Vec<u8>, Vec<bool>) {
    let (p, m) = (prime::<R>(), compared_bits::<R>());
    let k = m + 1;
    let one = u8::from(party0);
    let mut d = vec![0u8; public.len() * k];
    let mut betas = Vec::with_capacity(public.len());
    for ((&r, x), out) in public
        .iter()
        .zip(x_bits.chunks_exact(m))
        .zip(d.chunks_exact_mut(k))
    {
        let b = common.byte();
        let beta = b >> 7;
        let flip = 0u8.wrapping_sub(beta);
        let rotation = usize::from(b) & (k - 1);
        betas.push(beta == 1);
        let mut acc = 0u8;
        for (j, i) in (0..m).rev().enumerate() {
            let (ri, xi) = (bit(r, i), x[i]);
            let diff = sub(p, ri & one, xi);
            let signed = select(flip, sub(p, 0, diff), diff);
            let c = add(p, add(p, signed, one), acc);
            let set = 0u8.wrapping_sub(ri);
            acc = add(p, acc, select(set, sub(p, one, xi), xi));
            out[(j + rotation) & (k - 1)] = mul(p, common.nonzero(p), c);
        }
        let c = add(p, one & !flip & 1, acc);
        out[(m + rotation) & (k - 1)] = mul(p, common.nonzero(p), c);
    }
    (d, betas)
}

/// The helper's side: for each element, whether the two parties' differences (`k` values each)
/// add up to zero anywhere.
pub(crate) fn any_zero(p: u8, d0: &[u8], d1: &[u8], k: usize) -> impl Iterator<Item = bool> {
    d0.chunks_exact(k)
        .zip(d1.chunks_exact(k))
        .map(move |(a, b)| {
            a.iter()
                .zip(b)
                .fold(false, |z, (&x, &y)| z | (add(p, x, y) == 0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Domain, Seed};

    /// Shares of the bits of `x` over Z_p for both parties.
    fn bit_shares<R: Ring>(x: R, g: &mut Sampler) -> (Vec<u8>, Vec<u8>) {
        let (p, m) = (prime::<R>(), compared_bits::<R>());
        let s0: Vec<u8> = (0..m).map(|_| g.element(p)).collect();
        let s1 = (0..m).map(|i| sub(p, bit(x, i), s0[i])).collect();
        (s0, s1)
    }

    fn compare<R: Ring>(x: R, r: R, seed: u64) -> bool {
        let mut g = Sampler::new(Seed::from_bytes([seed as u8; 32]).prg(Domain::user(1), seed));
        let (x0, x1) = bit_shares(x, &mut g);
        let common = Seed::from_bytes([7; 32]).prg(Domain::user(2), seed);
        let common2 = Seed::from_bytes([7; 32]).prg(Domain::user(2), seed);
        let (d0, b0) = differences(true, &x0, &[r], &mut Sampler::new(common2));
        let (d1, b1) = differences(false, &x1, &[r], &mut Sampler::new(common));
        assert_eq!(b0, b1);
        let k = compared_bits::<R>() + 1;
        let zero = any_zero(prime::<R>(), &d0, &d1, k).next().unwrap();
        zero ^ b0[0]
    }

    /// `x > r` on the compared bits, for values at the edges and random ones, every ring.
    fn edges<R: Ring>() {
        let m = compared_bits::<R>() as u32;
        let top = R::ONE.shl(m).sub(R::ONE);
        let vals = [
            R::ZERO,
            R::ONE,
            R::from_u64(2),
            top,
            top.sub(R::ONE),
            R::ONE.shl(m - 1),
            R::ONE.shl(m - 1).sub(R::ONE),
        ];
        for (s, &x) in vals.iter().enumerate() {
            for (t, &r) in vals.iter().enumerate() {
                for seed in 0..6 {
                    // Both below 2^m: non-negative as signed values.
                    let want = x.to_signed() > r.to_signed();
                    assert_eq!(compare(x, r, seed + 10 * (s * 10 + t) as u64), want);
                }
            }
        }
    }

    #[test]
    fn compares_at_the_edges_of_every_ring() {
        edges::<u32>();
        edges::<u64>();
        edges::<u128>();
    }
}
