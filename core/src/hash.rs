//! Hashing 128-bit blocks for garbling and OT extension.
//!
//! Half-gates garbling and IKNP-style OT extension need a *tweakable circular correlation-robust*
//! (TCCR) hash `H(i, x)` over 128-bit blocks, called in long batches. [`BlockHash`] is that one
//! small interface; two implementations sit behind it:
//!
//! - [`FixedKeyAes`]: `H(i, x) = pi(pi(x) ^ i) ^ pi(x)` where `pi` is AES-128 under a fixed,
//!   public key (Guo, Kolesnikov, Sampaio, Knott, Seth, Wang: "Better concrete security for
//!   half-gates garbling (in the multi-instance setting)", CRYPTO 2020, section 7). Two AES calls
//!   per hash, with batches pushed through `encrypt_blocks` so that the AES-NI / ARMv8 pipeline
//!   (selected at run time by the `aes` crate) works on many blocks at once.
//! - [`ChaChaHash`]: for targets without AES instructions, where software AES is slow and not
//!   constant time: `H(i, x)` = the first 128 bits of the ChaCha12 block function keyed with
//!   `x || i` (feed-forward included), which is modelled as a random function of its key.
//!
//! Blocks are `u128`; their byte form is little-endian (`u128::to_le_bytes`).
//!
//! ## Why two AES calls per hash
//! The one-call TCCR of the literature needs a re-keyed cipher: the multi-instance construction of
//! the same paper (`H(i, x) = E_k(i)(sigma(x)) ^ sigma(x)`, the tweak selecting the AES key, as emp-toolkit
//! uses it with a key schedule per small batch of tweaks) is proven in the ideal-cipher model and
//! would halve the AES work of garbling. It is not used here: with the `aes` crate, setting up a
//! key costs far more than the AES call it saves (`KeyInit`, which also derives decryption keys,
//! plus two blocks: about 68 ns on the benchmark machine, against about 1 ns per pipelined block;
//! two keys per AND gate would cap garbling near 7 M AND/s), and a hand-written key schedule or
//! per-round calls would mean `unsafe` intrinsics, which the core forbids. Cheaper one-call forms with a fixed key and the tweak XORed into the input, such as
//! `pi(sigma(x) ^ i) ^ sigma(x)` with a linear `sigma`, are not tweakable correlation-robust: an
//! adversary picks `x' = x ^ sigma^-1(i ^ i')`, so that both queries reach the same `pi` input, and
//! the outputs `H(i, x ^ delta)` and `H(i', x' ^ delta)` differ by the known `i ^ i'`. They are not
//! offered.

use crate::prg::{Prg, Seed};
use aes::Aes128;
use aes::cipher::consts::U16;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use rand_core::Rng;

/// A pseudorandom generator of 128-bit blocks for one column of an OT-extension matrix (see
/// [`BlockHash::column_generator`]). Its key is secret; the AES key schedule is zeroized on drop.
pub enum ColumnGenerator {
    /// ChaCha12 ([`Prg`]), blocks read little-endian.
    ChaCha(Prg),
    /// AES-128 in counter mode: block `i` is `AES_k(i)` for the 128-bit little-endian counter.
    Aes {
        /// The keyed cipher.
        cipher: Aes128,
        /// The next counter value.
        counter: u128,
    },
}

impl ColumnGenerator {
    /// AES-128 in counter mode from the first 16 bytes of `key`.
    pub fn aes(key: Seed) -> Self {
        let mut k = [0u8; 16];
        k.copy_from_slice(&key.as_bytes()[..16]);
        let cipher = Aes128::new(&Array(k));
        zeroize::Zeroize::zeroize(&mut k);
        ColumnGenerator::Aes { cipher, counter: 0 }
    }

    /// Fills `out` with the next `out.len()` blocks of the stream.
    pub fn fill(&mut self, out: &mut [Block]) {
        match self {
            ColumnGenerator::ChaCha(prg) => {
                let mut buf = [0u8; 512];
                for chunk in out.chunks_mut(32) {
                    let bytes = &mut buf[..chunk.len() * 16];
                    prg.fill_bytes(bytes);
                    for (x, b) in chunk.iter_mut().zip(bytes.chunks_exact(16)) {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        *x = u128::from_le_bytes(a);
                    }
                }
                zeroize::Zeroize::zeroize(&mut buf);
            }
            ColumnGenerator::Aes { cipher, counter } => {
                for x in out.iter_mut() {
                    *x = *counter;
                    *counter = counter.wrapping_add(1);
                }
                encrypt_in_place(cipher, out);
            }
        }
    }
}

/// Replaces every block by its encryption under `cipher`, in pipelined batches.
fn encrypt_in_place(cipher: &Aes128, blocks: &mut [Block]) {
    // In place: in memory, a `u128` of a little-endian target is its little-endian bytes, the
    // byte form of a `Block`.
    #[cfg(all(feature = "alloc", target_endian = "little"))]
    cipher.encrypt_blocks(Array::cast_slice_from_core_mut(bytemuck::cast_slice_mut(
        blocks,
    )));
    #[cfg(not(all(feature = "alloc", target_endian = "little")))]
    {
        let mut buf = [Array([0u8; 16]); AES_SHORT];
        for x in blocks.chunks_mut(AES_SHORT) {
            let buf = &mut buf[..x.len()];
            for (b, x) in buf.iter_mut().zip(x.iter()) {
                b.0 = x.to_le_bytes();
            }
            cipher.encrypt_blocks(buf);
            for (b, x) in buf.iter().zip(x.iter_mut()) {
                *x = u128::from_le_bytes(b.0);
            }
        }
    }
}

/// A 128-bit block: a wire label, an OT message, a row of an OT-extension matrix.
pub type Block = u128;

/// A tweakable correlation-robust hash over 128-bit blocks, evaluated in batches.
///
/// Implementations are deterministic and hold no secret: both parties construct the same one.
pub trait BlockHash {
    /// Replaces `blocks[k]` by `H(tweaks[k], blocks[k])` for every `k` below
    /// `min(tweaks.len(), blocks.len())`; callers pass slices of equal length. Larger batches
    /// run faster (AES pipelining); any length works.
    fn hash_in_place(&self, tweaks: &[Block], blocks: &mut [Block]);

    /// `H(tweak, x)` for one block. Prefer [`BlockHash::hash_in_place`] on batches.
    fn hash(&self, tweak: Block, x: Block) -> Block {
        let mut b = [x];
        self.hash_in_place(&[tweak], &mut b);
        b[0]
    }

    /// The generator that expands one column of an OT-extension matrix from a base-OT `key`:
    /// ChaCha12 unless the hash is AES-based ([`FixedKeyAes`] answers AES-128 in counter mode,
    /// keyed by the first 16 bytes of `key`). Both parties hold the same hash, so both expand
    /// alike.
    fn column_generator(&self, key: Seed) -> ColumnGenerator {
        ColumnGenerator::ChaCha(Prg::new(key))
    }

    /// Replaces `blocks[k]` by `H(first_tweak + k, blocks[k])` (wrapping): consecutive tweaks,
    /// as OT extension uses them (tweak = OT index).
    fn hash_sequential(&self, first_tweak: Block, blocks: &mut [Block]) {
        const BATCH: usize = AES_BATCH;
        let mut tweaks = [0u128; BATCH];
        let mut next = first_tweak;
        for chunk in blocks.chunks_mut(BATCH) {
            for t in tweaks.iter_mut().take(chunk.len()) {
                *t = next;
                next = next.wrapping_add(1);
            }
            self.hash_in_place(&tweaks[..chunk.len()], chunk);
        }
    }
}

impl<H: BlockHash + ?Sized> BlockHash for &H {
    fn hash_in_place(&self, tweaks: &[Block], blocks: &mut [Block]) {
        (**self).hash_in_place(tweaks, blocks)
    }
}

/// Blocks per `encrypt_blocks` call: a multiple of the AES-NI (8) and VAES (64) pipelines. Each
/// call broadcasts the round keys for VAES in a function the compiler does not inline (about 14%
/// of the TCCR hash with 128 blocks per call), so x86 hosts take 512 (8 KiB buffers on the
/// stack); elsewhere 128, small enough for embedded stacks (2 KiB).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
const AES_BATCH: usize = 512;
/// Blocks per `encrypt_blocks` call (see the x86 value).
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
const AES_BATCH: usize = 128;

/// The fixed public key of [`FixedKeyAes::new`]: the first 128 bits of the fractional part of pi.
const FIXED_KEY: [u8; 16] = [
    0x24, 0x3f, 0x6a, 0x88, 0x85, 0xa3, 0x08, 0xd3, 0x13, 0x19, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x44,
];

/// Fixed-key AES-128 as a random permutation `pi`, and the TCCR hash built on it.
///
/// The key is public (it is a "nothing up my sleeve" constant by default); security rests on
/// modelling `pi` as a random permutation, not on the key being secret. The `aes` crate picks
/// VAES (AVX-512 or AVX2) or AES-NI (x86) or the ARMv8 crypto extensions at run time and falls
/// back to a constant-time bitsliced software AES elsewhere — slow there, which is what
/// [`ChaChaHash`] is for. (Its VAES path loses about 40% against a `target-cpu=native` build
/// because `hybrid-array`'s `Array::try_from_fn` does not inline the backend's closure; that is
/// for the crate upstream, not a copy here.)
#[derive(Clone)]
pub struct FixedKeyAes {
    cipher: Aes128,
}

impl Default for FixedKeyAes {
    fn default() -> Self {
        FixedKeyAes::new()
    }
}

impl core::fmt::Debug for FixedKeyAes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FixedKeyAes")
    }
}

impl FixedKeyAes {
    /// The permutation under the crate's fixed public key.
    pub fn new() -> Self {
        FixedKeyAes::with_key(FIXED_KEY)
    }

    /// The permutation under another public key (both parties must use the same).
    pub fn with_key(key: [u8; 16]) -> Self {
        FixedKeyAes {
            cipher: Aes128::new(&Array(key)),
        }
    }

    /// `pi(x)` for one block.
    pub fn permute(&self, x: Block) -> Block {
        let mut b = Array(x.to_le_bytes());
        self.cipher.encrypt_block(&mut b);
        u128::from_le_bytes(b.0)
    }

    /// Replaces every block by `pi(block)`, in pipelined batches. Also the baseline for
    /// benchmarks: AES blocks per second on this machine.
    pub fn permute_in_place(&self, blocks: &mut [Block]) {
        encrypt_in_place(&self.cipher, blocks);
    }
}

/// The `aes` crate's block type.
type AesBlock = Array<u8, U16>;

/// The buffer of a call with fewer than [`AES_BATCH`] blocks: it is zeroed once per call, so a
/// short call does not pay for clearing a large one.
const AES_SHORT: usize = 64;

impl FixedKeyAes {
    /// Replaces every block `b` by `pi(b) ^ b` (Matyas–Meyer–Oseas), in pipelined batches: the
    /// PRG of [`crate::fss::dcf`] when seeds are random.
    pub fn mmo_in_place(&self, blocks: &mut [Block]) {
        if blocks.len() >= AES_BATCH {
            self.mmo::<AES_BATCH>(blocks);
        } else {
            self.mmo::<AES_SHORT>(blocks);
        }
    }

    /// [`FixedKeyAes::mmo_in_place`] in batches of `N` blocks.
    #[inline(always)]
    fn mmo<const N: usize>(&self, blocks: &mut [Block]) {
        let mut buf = [Array([0u8; 16]); N];
        for x in blocks.chunks_mut(N) {
            let buf = &mut buf[..x.len()];
            self.encrypt_into(x, buf);
            for (b, x) in buf.iter().zip(x.iter_mut()) {
                *x ^= u128::from_le_bytes(b.0);
            }
        }
    }

    /// `out[k] = pi(x[k])` (`out` as long as `x`).
    #[inline(always)]
    fn encrypt_into(&self, x: &[Block], out: &mut [AesBlock]) {
        #[cfg(all(feature = "alloc", target_endian = "little"))]
        {
            // Equal lengths: the call cannot fail.
            let _ = self
                .cipher
                .encrypt_blocks_b2b(Array::cast_slice_from_core(bytemuck::cast_slice(x)), out);
        }
        #[cfg(not(all(feature = "alloc", target_endian = "little")))]
        {
            for (b, x) in out.iter_mut().zip(x) {
                b.0 = x.to_le_bytes();
            }
            self.cipher.encrypt_blocks(out);
        }
    }

    /// [`BlockHash::hash_in_place`] in batches of `N` blocks (`t` as long as `blocks`).
    #[inline(always)]
    fn tccr<const N: usize>(&self, t: &[Block], blocks: &mut [Block]) {
        let mut buf = [Array([0u8; 16]); N];
        for (x, t) in blocks.chunks_mut(N).zip(t.chunks(N)) {
            // buf <- pi(x), x <- pi(x), buf <- pi(x) ^ t, x <- pi(buf) ^ x.
            let buf = &mut buf[..x.len()];
            self.encrypt_into(x, buf);
            for ((b, x), t) in buf.iter_mut().zip(x.iter_mut()).zip(t) {
                let p = u128::from_le_bytes(b.0);
                *x = p;
                b.0 = (p ^ t).to_le_bytes();
            }
            self.cipher.encrypt_blocks(buf);
            for (b, x) in buf.iter().zip(x.iter_mut()) {
                *x ^= u128::from_le_bytes(b.0);
            }
        }
    }
}

impl BlockHash for FixedKeyAes {
    fn column_generator(&self, key: Seed) -> ColumnGenerator {
        ColumnGenerator::aes(key)
    }

    fn hash_in_place(&self, tweaks: &[Block], blocks: &mut [Block]) {
        let n = tweaks.len().min(blocks.len());
        if n >= AES_BATCH {
            self.tccr::<AES_BATCH>(&tweaks[..n], &mut blocks[..n]);
        } else {
            self.tccr::<AES_SHORT>(&tweaks[..n], &mut blocks[..n]);
        }
    }
}

/// Rounds of the ChaCha block function in [`ChaChaHash`] (ChaCha12, as in [`crate::Prg`]).
const CHACHA_ROUNDS: usize = 12;

/// A TCCR hash from the ChaCha block function, for targets without AES instructions.
///
/// `H(i, x)` runs the ChaCha12 block function with the 256-bit key `x || i` (little-endian),
/// block counter 0 and the nonce "fxs-gc-hash\0" (a domain constant), and returns the first 128
/// bits of its output (after the feed-forward addition). The block function with the key as input
/// is modelled as a random function, which gives correlation robustness for any tweak.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChaChaHash;

impl ChaChaHash {
    /// The hash (it has no key and no state).
    pub const fn new() -> Self {
        ChaChaHash
    }
}

#[inline(always)]
fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// The ChaCha block function (RFC 8439 section 2.3) with `rounds` rounds, on key, counter and nonce.
fn chacha_block(key: &[u32; 8], counter: u32, nonce: &[u32; 3], rounds: usize) -> [u32; 16] {
    let mut init = [0u32; 16];
    init[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    init[4..12].copy_from_slice(key);
    init[12] = counter;
    init[13..].copy_from_slice(nonce);
    let mut s = init;
    for _ in 0..rounds / 2 {
        quarter_round(&mut s, 0, 4, 8, 12);
        quarter_round(&mut s, 1, 5, 9, 13);
        quarter_round(&mut s, 2, 6, 10, 14);
        quarter_round(&mut s, 3, 7, 11, 15);
        quarter_round(&mut s, 0, 5, 10, 15);
        quarter_round(&mut s, 1, 6, 11, 12);
        quarter_round(&mut s, 2, 7, 8, 13);
        quarter_round(&mut s, 3, 4, 9, 14);
    }
    for (x, i) in s.iter_mut().zip(init.iter()) {
        *x = x.wrapping_add(*i);
    }
    s
}

/// "fxs-gc-hash\0" as three little-endian words.
const CHACHA_NONCE: [u32; 3] = [
    u32::from_le_bytes(*b"fxs-"),
    u32::from_le_bytes(*b"gc-h"),
    u32::from_le_bytes(*b"ash\0"),
];

fn words(x: u128) -> [u32; 4] {
    [
        x as u32,
        (x >> 32) as u32,
        (x >> 64) as u32,
        (x >> 96) as u32,
    ]
}

impl BlockHash for ChaChaHash {
    fn hash_in_place(&self, tweaks: &[Block], blocks: &mut [Block]) {
        for (x, t) in blocks.iter_mut().zip(tweaks.iter()) {
            let mut key = [0u32; 8];
            key[..4].copy_from_slice(&words(*x));
            key[4..].copy_from_slice(&words(*t));
            let out = chacha_block(&key, 0, &CHACHA_NONCE, CHACHA_ROUNDS);
            *x = u128::from(out[0])
                | (u128::from(out[1]) << 32)
                | (u128::from(out[2]) << 64)
                | (u128::from(out[3]) << 96);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AES-128 counter mode against FIPS-197's example (appendix C.1): key 00..0f, block
    /// 00112233..ff as the counter; and the ChaCha columns equal the [`Prg`] stream.
    #[test]
    fn column_generators_match_their_references() {
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate().take(16) {
            *k = i as u8;
        }
        let ColumnGenerator::Aes { cipher, .. } = ColumnGenerator::aes(Seed::from_bytes(key))
        else {
            panic!("an AES generator")
        };
        let plain = 0x00112233445566778899aabbccddeeffu128.to_be_bytes();
        let mut g = ColumnGenerator::Aes {
            cipher,
            counter: u128::from_le_bytes(plain),
        };
        let mut out = [0u128; 2];
        g.fill(&mut out);
        assert_eq!(
            out[0].to_le_bytes(),
            0x69c4e0d86a7b0430d8cdb78070b4c55au128.to_be_bytes()
        );
        let ColumnGenerator::Aes { counter, .. } = g else {
            panic!("an AES generator")
        };
        assert_eq!(counter, u128::from_le_bytes(plain) + 2);
        let mut c = ChaChaHash.column_generator(Seed::from_bytes([9; 32]));
        let mut p = Prg::new(Seed::from_bytes([9; 32]));
        let mut got = [0u128; 40];
        c.fill(&mut got);
        for g in got {
            let mut b = [0u8; 16];
            p.fill_bytes(&mut b);
            assert_eq!(g, u128::from_le_bytes(b));
        }
    }

    /// FIPS-197 Appendix C.1 pins the AES-128 permutation.
    #[test]
    fn aes_known_answer() {
        let key = [
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
            0x0e, 0x0f,
        ];
        let pt = u128::from_be_bytes([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ]);
        let aes = FixedKeyAes::with_key(key);
        let ct = aes.permute(u128::from_le_bytes(pt.to_be_bytes()));
        assert_eq!(
            ct.to_le_bytes(),
            [
                0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4,
                0xc5, 0x5a
            ]
        );
    }

    #[test]
    fn aes_batch_matches_single_and_definition() {
        let h = FixedKeyAes::new();
        let xs: [u128; 100] = core::array::from_fn(|i| {
            (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834) ^ 77
        });
        let ts: [u128; 100] = core::array::from_fn(|i| i as u128 * 3 + 1);
        let mut batch = xs;
        h.hash_in_place(&ts, &mut batch);
        for k in 0..100 {
            let p = h.permute(xs[k]);
            assert_eq!(batch[k], h.permute(p ^ ts[k]) ^ p);
            assert_eq!(batch[k], h.hash(ts[k], xs[k]));
        }
        let mut seq = xs;
        h.hash_sequential(1, &mut seq[..70]);
        for k in 0..70 {
            assert_eq!(seq[k], h.hash(k as u128 + 1, xs[k]));
        }
        assert_eq!(seq[70..], xs[70..]);
        let mut perm = xs;
        h.permute_in_place(&mut perm);
        assert_eq!(perm[99], h.permute(xs[99]));
    }

    /// Every length around the batch sizes (the short buffer, full batches and a partial one):
    /// each block is hashed, permuted and MMO-compressed as on its own.
    #[test]
    fn aes_batches_of_every_size() {
        let h = FixedKeyAes::new();
        let xs: [u128; 1300] = core::array::from_fn(|i| {
            (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834) ^ 5
        });
        let ts: [u128; 1300] = core::array::from_fn(|i| (i as u128) << 70 | 9);
        for n in [0, 1, 63, 64, 65, 127, 128, 129, 511, 512, 513, 1024, 1300] {
            let mut hashed = xs;
            h.hash_in_place(&ts[..n], &mut hashed);
            let mut permuted = xs;
            h.permute_in_place(&mut permuted[..n]);
            let mut mmo = xs;
            h.mmo_in_place(&mut mmo[..n]);
            let mut seq = xs;
            h.hash_sequential(7, &mut seq[..n]);
            for k in 0..n {
                let p = h.permute(xs[k]);
                assert_eq!(permuted[k], p, "permute, {n} blocks, block {k}");
                assert_eq!(hashed[k], h.permute(p ^ ts[k]) ^ p, "hash, {n} blocks");
                assert_eq!(mmo[k], p ^ xs[k], "mmo, {n} blocks");
                assert_eq!(
                    seq[k],
                    h.hash(7 + k as u128, xs[k]),
                    "sequential, {n} blocks"
                );
            }
            for out in [&hashed, &permuted, &mmo, &seq] {
                assert_eq!(out[n..], xs[n..], "{n} blocks: the rest is untouched");
            }
        }
    }

    /// The hand-written block function with 20 rounds agrees with the `chacha20` crate's keystream.
    #[test]
    fn chacha_block_matches_chacha20() {
        use chacha20::ChaCha20Rng;
        use rand_core::{Rng, SeedableRng};
        let key_bytes: [u8; 32] = core::array::from_fn(|i| i as u8 * 7 + 3);
        let mut rng = ChaCha20Rng::from_seed(key_bytes);
        let mut expect = [0u8; 64];
        rng.fill_bytes(&mut expect);
        let key: [u32; 8] = core::array::from_fn(|i| {
            u32::from_le_bytes(key_bytes[4 * i..4 * i + 4].try_into().unwrap())
        });
        let out = chacha_block(&key, 0, &[0, 0, 0], 20);
        for i in 0..16 {
            assert_eq!(out[i].to_le_bytes(), expect[4 * i..4 * i + 4]);
        }
    }

    #[test]
    fn chacha_hash_separates_tweaks() {
        let h = ChaChaHash::new();
        assert_ne!(h.hash(0, 5), h.hash(1, 5));
        assert_ne!(h.hash(0, 5), h.hash(0, 4));
        let mut b = [5u128, 5];
        h.hash_in_place(&[0, 1], &mut b);
        assert_eq!(b, [h.hash(0, 5), h.hash(1, 5)]);
    }
}
