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
    u8::from(v.bit(i as u32))
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

/// Uniform elements of Z_p and Z_p^* from a generator. Each 32-bit draw `x` gives four values by
/// Lemire's multiply-shift: the base-`M` digits of `floor(x M^4 / 2^32)`, taken one by one as
/// `y = r M; digit = y >> 32; r = y mod 2^32` from `r = x`, and the draw is rejected when the last
/// `r` (which is `x M^4 mod 2^32`) is below `2^32 mod M^4`, so the digits are exactly uniform
/// (rejection under 0.3% of draws for `M` of 66, 67 and 130, 4% for 131). The generator is read
/// in 512-byte blocks and never a draw past the one that completes the last value asked for; the
/// rest of that draw is kept for the next call of the same kind, so two parties that make the
/// same calls read the same values, however they split a run of calls of one kind.
pub(crate) struct Sampler {
    prg: Prg,
    buf: [u8; 512],
    at: usize,
    /// Values of the last draw not yet handed out (the last `spare_len`), and the modulus and
    /// offset they were drawn for.
    spare: [u8; 4],
    spare_len: usize,
    spare_kind: (u8, u8),
}

/// Draws a span maps at once.
const SPAN: usize = 32;

/// The draw in the four bytes `w` (little-endian).
fn word(w: &[u8]) -> u32 {
    u32::from_le_bytes([w[0], w[1], w[2], w[3]])
}

impl Sampler {
    pub(crate) fn new(prg: Prg) -> Self {
        Sampler {
            prg,
            buf: [0; 512],
            at: 512,
            spare: [0; 4],
            spare_len: 0,
            spare_kind: (0, 0),
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

    /// The next whole draws of the buffer, at most `max` (at least one): a tail of fewer than
    /// four bytes, left by [`Self::bytes`], is skipped.
    fn draws(&mut self, max: usize) -> usize {
        if self.buf.len() - self.at < 4 {
            self.at = self.buf.len();
        }
        self.refill();
        ((self.buf.len() - self.at) / 4).min(max)
    }

    /// Fills `out` with uniform values `offset + (0..modulus)` (modulus at most 255).
    fn below(&mut self, modulus: u8, offset: u8, out: &mut [u8]) {
        let m = u64::from(modulus);
        let threshold = ((1u64 << 32) % (m * m * m * m)) as u32;
        // The four values of draw `x` in `out` (offset added); whether it is accepted.
        let digits = |x: u32, out: &mut [u8]| {
            let mut r = x;
            for o in out.iter_mut().take(4) {
                let y = u64::from(r) * m;
                *o = offset.wrapping_add((y >> 32) as u8);
                r = y as u32;
            }
            r >= threshold
        };
        let mut j = 0;
        if self.spare_kind == (modulus, offset) {
            let n = self.spare_len.min(out.len());
            out[..n].copy_from_slice(&self.spare[4 - self.spare_len..][..n]);
            self.spare_len -= n;
            j = n;
        } else {
            self.spare_len = 0;
        }
        while out.len() - j >= 4 {
            let n = self.draws(SPAN.min((out.len() - j) / 4));
            let words = &self.buf[self.at..self.at + 4 * n];
            let span = &mut out[j..j + 4 * n];
            let mut accepted = true;
            for (o, w) in span.chunks_exact_mut(4).zip(words.chunks_exact(4)) {
                accepted &= digits(word(w), o);
            }
            if accepted {
                j += 4 * n;
            } else {
                // Rare: keep the accepted draws of the span in order.
                let mut kept = 0;
                let mut four = [0u8; 4];
                for w in words.chunks_exact(4) {
                    if digits(word(w), &mut four) {
                        span[kept..kept + 4].copy_from_slice(&four);
                        kept += 4;
                    }
                }
                j += kept;
            }
            self.at += 4 * n;
        }
        // One to three values missing: one more accepted draw, its rest kept as spare.
        while j < out.len() {
            self.draws(1);
            let x = word(&self.buf[self.at..self.at + 4]);
            self.at += 4;
            let mut four = [0u8; 4];
            if digits(x, &mut four) {
                let n = out.len() - j;
                out[j..].copy_from_slice(&four[..n]);
                self.spare = four;
                self.spare_len = 4 - n;
                self.spare_kind = (modulus, offset);
                j += n;
            }
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
    // The prime as a constant, so that the reductions below compile to multiplications.
    match prime::<R>() {
        67 => differences_mod::<R, 67>(party0, x_bits, public, common),
        _ => differences_mod::<R, 131>(party0, x_bits, public, common),
    }
}

/// [`differences`] over Z_P, `P` equal to `prime::<R>()`.
fn differences_mod<R: Ring, const P: u16>(
    party0: bool,
    x_bits: &[u8],
    public: &[R],
    common: &mut Sampler,
) -> (Vec<u8>, Vec<bool>) {
    let (p, m) = (P as u8, compared_bits::<R>());
    debug_assert_eq!(p, prime::<R>());
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
    // Per element: the shares of r_i - x_i and of w_i = x_i XOR r_i for every bit (one pass that
    // vectorizes), then the c_i from the top bit down with the running sum of the w_j above.
    let (mut c, mut t, mut w) = (vec![0i16; k], vec![0i16; m], vec![0i16; m]);
    for (((&r, x), out), &b) in public
        .iter()
        .zip(x_bits.chunks_exact(m))
        .zip(d.chunks_exact_mut(k))
        .zip(&head)
    {
        let r = r.to_signed() as u128;
        let (low, high) = (r as u64, (r >> 64) as u64);
        for (i, ((t, w), &x)) in t.iter_mut().zip(w.iter_mut()).zip(x).enumerate() {
            let word = if i < 64 { low } else { high };
            let (ri, xi) = ((word >> (i % 64)) as i16 & 1, i16::from(x));
            *t = one * ri - xi;
            *w = xi + ri * (one - 2 * xi);
        }
        let beta = i16::from(b >> 7);
        let sigma = 1 - 2 * beta;
        let mut acc = 0i16;
        for ((cj, &t), &w) in c.iter_mut().zip(t.iter().rev()).zip(w.iter().rev()) {
            // c_i = sigma (r_i - x_i) + 1 + sum_{j > i} w_j.
            *cj = sigma * t + one + acc;
            acc += w;
        }
        c[m] = one * (1 - beta) + acc;
        // Reduce, mask each value by its factor (already in `out`), then rotate.
        for (s, &v) in out.iter_mut().zip(&c) {
            let v = (v as u16).wrapping_add(bias) % P;
            *s = (v * u16::from(*s) % P) as u8;
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
            // x + y (both below p) is zero mod p exactly when it is 0 or p.
            a.iter().zip(b).fold(false, |z, (&x, &y)| {
                let s = u16::from(x) + u16::from(y);
                z | (s == 0) | (s == u16::from(p))
            })
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

    fn sampler(seed: u8) -> Sampler {
        Sampler::new(Seed::from_bytes([seed; 32]).prg(Domain::user(3), 0))
    }

    /// Every modulus in use: values in range and near uniform (chi-square over 2 * 10^5 values,
    /// far above its 99.99% quantile only for a broken sampler), a byte draw in between.
    #[test]
    fn samples_are_uniform() {
        for (modulus, nonzero) in [(67u8, false), (67, true), (131, false), (131, true)] {
            let mut g = sampler(modulus);
            let mut head = [0u8; 3];
            g.bytes(&mut head);
            let mut v = vec![0u8; 200_000];
            if nonzero {
                g.nonzero(modulus, &mut v);
            } else {
                g.elements(modulus, &mut v);
            }
            let (lo, cells) = if nonzero {
                (1, modulus - 1)
            } else {
                (0, modulus)
            };
            let mut count = vec![0f64; usize::from(cells)];
            for &x in &v {
                assert!((lo..lo + cells).contains(&x), "{x} for {modulus}");
                count[usize::from(x - lo)] += 1.0;
            }
            let e = v.len() as f64 / f64::from(cells);
            let chi: f64 = count.iter().map(|c| (c - e) * (c - e) / e).sum();
            // Degrees of freedom 65..130: the 99.99% quantile is below 1.6 times them + 40.
            let bound = 1.6 * f64::from(cells) + 40.0;
            assert!(
                chi < bound,
                "modulus {modulus}: chi-square {chi} over {bound}"
            );
        }
    }

    /// A run of calls of one kind reads the same values however it is split.
    #[test]
    fn samples_do_not_depend_on_how_draws_are_split() {
        let mut whole = vec![0u8; 1000];
        sampler(1).elements(67, &mut whole);
        for sizes in [
            &[1usize, 3, 7, 250, 739][..],
            &[4, 4, 2, 990],
            &[999, 1],
            &[33; 30],
        ] {
            let mut g = sampler(1);
            let mut got = Vec::new();
            for &n in sizes {
                let mut part = vec![0u8; n];
                g.elements(67, &mut part);
                got.extend(part);
            }
            assert_eq!(got[..], whole[..got.len()], "{sizes:?}");
        }
    }

    #[test]
    fn compares_at_the_edges_of_every_ring() {
        edges::<u32>();
        edges::<u64>();
        edges::<u128>();
    }
}
