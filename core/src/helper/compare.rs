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

/// Uniform elements of Z_p and Z_p^* from a generator, by rejection of the few bytes past the
/// largest multiple of the modulus. The generator is read in 512-byte blocks and never a byte past
/// the last one used, so two parties that draw the same counts from the same generator read the
/// same values however they split their draws.
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

    /// Fills `out` with uniform bytes.
    pub(crate) fn bytes(&mut self, out: &mut [u8]) {
        let mut j = 0;
        while j < out.len() {
            self.refill();
            let n = (self.buf.len() - self.at).min(out.len() - j);
            out[j..j + n].copy_from_slice(&self.buf[self.at..self.at + n]);
            self.at += n;
            j += n;
        }
    }

    fn refill(&mut self) {
        if self.at == self.buf.len() {
            self.prg.fill_bytes(&mut self.buf);
            self.at = 0;
        }
    }

    /// Fills `out` with uniform values `offset + (0..modulus)` (modulus at most 255). Reads at
    /// most as many bytes as values are still missing, so nothing past the last value is read.
    fn below(&mut self, modulus: u8, offset: u8, out: &mut [u8]) {
        let m = u32::from(modulus);
        let limit = 256 - 256 % m;
        // b / m as (b * ceil(2^16 / m)) >> 16: exact for b, m < 256 (b m < 2^16).
        let inverse = (1u32 << 16).div_ceil(m);
        let mut j = 0;
        while j < out.len() {
            self.refill();
            let n = (self.buf.len() - self.at).min(out.len() - j);
            let bytes = &self.buf[self.at..self.at + n];
            // Candidates first (vectorized), then a branch-free compaction: each candidate is
            // written and kept when its byte is accepted. `j` stays below `out.len()` because
            // no more bytes are read than values are missing.
            let mut cand = [0u8; 512];
            let mut keep = [0u8; 512];
            for ((c, k), &b) in cand.iter_mut().zip(keep.iter_mut()).zip(bytes) {
                let b = u32::from(b);
                *c = offset + (b - m * ((b * inverse) >> 16)) as u8;
                *k = u8::from(b < limit);
            }
            let tail = &mut out[j..];
            let mut t = 0;
            for (&c, &k) in cand[..n].iter().zip(&keep[..n]) {
                if let Some(o) = tail.get_mut(t) {
                    *o = c;
                }
                t += usize::from(k);
            }
            j += t;
            self.at += n;
        }
    }

    /// Fills `out` with uniform elements of Z_p.
    pub(crate) fn elements(&mut self, p: u8, out: &mut [u8]) {
        self.below(p, 0, out);
    }

    /// Fills `out` with uniform elements of Z_p^* (`1..p`).
    pub(crate) fn nonzero(&mut self, p: u8, out: &mut [u8]) {
        self.below(p - 1, 1, out);
    }
}

/// One party's masked differences for each element: `x_bits` holds its shares of the bits of the
/// secrets (`m` per element, least significant first), `public` the public values; `common` is the
/// generator P0 and P1 share (read as: one byte per element for `beta` and the rotation, then the
/// `m + 1` nonzero factors of every element). Returns the `m + 1` values per element to send to the
/// helper and the elements' `beta` bits.
pub(crate) fn differences<R: Ring>(
    party0: bool,
    x_bits: &[u8],
    public: &[R],
    common: &mut Sampler,
) -> (Vec<u8>, Vec<bool>) {
    let (p, m) = (prime::<R>(), compared_bits::<R>());
    let k = m + 1;
    let n = public.len();
    let one = u8::from(party0);
    let mut head = vec![0u8; n];
    common.bytes(&mut head);
    let mut d = vec![0u8; n * k];
    common.nonzero(p, &mut d);
    // The values before reduction, as small integers: |c_i| <= (m + 2) p, so adding `bias`
    // (a multiple of p) makes them non-negative below 2^16.
    let bias = u16::from(p) * (m as u16 + 3);
    let one = i16::from(one);
    let mut c = vec![0i16; k];
    for (((&r, x), out), &b) in public
        .iter()
        .zip(x_bits.chunks_exact(m))
        .zip(d.chunks_exact_mut(k))
        .zip(&head)
    {
        let r = r.to_signed() as u128;
        let beta = i16::from(b >> 7);
        let sigma = 1 - 2 * beta;
        let mut acc = 0i16;
        for (cj, i) in c.iter_mut().zip((0..m).rev()) {
            let (ri, xi) = ((r >> i) as i16 & 1, i16::from(x[i]));
            // c_i = sigma (r_i - x_i) + 1 + sum_{j > i} w_j, with w_j = x_j XOR r_j.
            *cj = sigma * (one * ri - xi) + one + acc;
            acc += (1 - 2 * ri) * xi + one * ri;
        }
        c[m] = one * (1 - beta) + acc;
        // Reduce, mask each value by its factor (already in `out`), then rotate.
        let p16 = u16::from(p);
        for (s, &v) in out.iter_mut().zip(&c) {
            let v = (v as u16).wrapping_add(bias) % p16;
            *s = (v * u16::from(*s) % p16) as u8;
        }
        out.rotate_right(usize::from(b) & (k - 1));
    }
    (d, head.iter().map(|&b| b >> 7 == 1).collect())
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
        let mut s0 = vec![0u8; m];
        g.elements(p, &mut s0);
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
