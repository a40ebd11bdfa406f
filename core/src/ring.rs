//! The ring Z_2^k of k-bit integers with wrapping arithmetic, for k = 32, 64 and 128.
//!
//! Additive secret shares live in this ring: `x = x0 + x1 (mod 2^k)`. Signed values use two's
//! complement, so [`Ring::to_signed`] reads an element as an integer in `[-2^(k-1), 2^(k-1))`.

use core::fmt::Debug;
use rand_core::Rng;

/// An element of Z_2^k, represented by an unsigned machine integer of k bits.
///
/// Implemented for `u32`, `u64` and `u128`. All arithmetic wraps modulo 2^k.
pub trait Ring:
    Copy + Default + Eq + Ord + Debug + Send + Sync + zeroize::Zeroize + 'static
{
    /// k, the number of bits.
    const BITS: u32;
    /// k / 8, the number of bytes on the wire (little-endian).
    const BYTES: usize;
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;

    /// `self + rhs mod 2^k`.
    fn add(self, rhs: Self) -> Self;
    /// `self - rhs mod 2^k`.
    fn sub(self, rhs: Self) -> Self;
    /// `self * rhs mod 2^k`.
    fn mul(self, rhs: Self) -> Self;
    /// `-self mod 2^k`.
    fn neg(self) -> Self;
    /// Logical shift right (as an unsigned integer).
    fn shr(self, bits: u32) -> Self;
    /// Arithmetic shift right (as a two's complement integer).
    fn sar(self, bits: u32) -> Self;
    /// Shift left, dropping bits shifted out.
    fn shl(self, bits: u32) -> Self;
    /// Bit `i` of the element, `i < BITS`.
    fn bit(self, i: u32) -> bool {
        self.shr(i).low_u64() & 1 == 1
    }
    /// The most significant bit (the sign bit in two's complement).
    fn msb(self) -> bool {
        self.bit(Self::BITS - 1)
    }
    /// The element as a two's complement integer.
    fn to_signed(self) -> i128;
    /// The element congruent to `v` modulo 2^k.
    fn from_i128(v: i128) -> Self;
    /// The element congruent to `v` modulo 2^k.
    fn from_u64(v: u64) -> Self;
    /// The low 64 bits of the element.
    fn low_u64(self) -> u64;
    /// Reads an element from exactly [`Ring::BYTES`] little-endian bytes.
    fn from_le_slice(bytes: &[u8]) -> Self;
    /// Writes the element as exactly [`Ring::BYTES`] little-endian bytes.
    fn write_le(self, out: &mut [u8]);
    /// A uniformly random element.
    fn random<G: Rng + ?Sized>(rng: &mut G) -> Self;
}

macro_rules! impl_ring {
    ($t:ty, $s:ty) => {
        impl Ring for $t {
            const BITS: u32 = <$t>::BITS;
            const BYTES: usize = core::mem::size_of::<$t>();
            const ZERO: Self = 0;
            const ONE: Self = 1;

            #[inline(always)]
            fn add(self, rhs: Self) -> Self {
                self.wrapping_add(rhs)
            }
            #[inline(always)]
            fn sub(self, rhs: Self) -> Self {
                self.wrapping_sub(rhs)
            }
            #[inline(always)]
            fn mul(self, rhs: Self) -> Self {
                self.wrapping_mul(rhs)
            }
            #[inline(always)]
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
            #[inline(always)]
            fn shr(self, bits: u32) -> Self {
                self.checked_shr(bits).unwrap_or(0)
            }
            #[inline(always)]
            fn sar(self, bits: u32) -> Self {
                let bits = bits.min(<$t>::BITS - 1);
                ((self as $s) >> bits) as $t
            }
            #[inline(always)]
            fn shl(self, bits: u32) -> Self {
                self.checked_shl(bits).unwrap_or(0)
            }
            #[inline(always)]
            fn to_signed(self) -> i128 {
                (self as $s) as i128
            }
            #[inline(always)]
            fn from_i128(v: i128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn low_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_le_slice(bytes: &[u8]) -> Self {
                let mut b = [0u8; core::mem::size_of::<$t>()];
                b.copy_from_slice(&bytes[..core::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(b)
            }
            #[inline(always)]
            fn write_le(self, out: &mut [u8]) {
                out[..core::mem::size_of::<$t>()].copy_from_slice(&self.to_le_bytes());
            }
            #[inline(always)]
            fn random<G: Rng + ?Sized>(rng: &mut G) -> Self {
                let mut b = [0u8; core::mem::size_of::<$t>()];
                rng.fill_bytes(&mut b);
                <$t>::from_le_bytes(b)
            }
        }
    };
}

impl_ring!(u32, i32);
impl_ring!(u64, i64);
impl_ring!(u128, i128);

/// Fills `out` with uniformly random ring elements from `rng` (one bulk keystream read).
pub fn fill_random<R: Ring, G: Rng + ?Sized>(rng: &mut G, out: &mut [R]) {
    let mut buf = [0u8; 512];
    let per = buf.len() / R::BYTES;
    for chunk in out.chunks_mut(per) {
        let bytes = &mut buf[..chunk.len() * R::BYTES];
        rng.fill_bytes(bytes);
        for (x, b) in chunk.iter_mut().zip(bytes.chunks_exact(R::BYTES)) {
            *x = R::from_le_slice(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_and_signed_views() {
        assert_eq!(Ring::add(u64::MAX, 2u64), 1);
        assert_eq!(Ring::neg(1u32).to_signed(), -1);
        assert_eq!(<u64 as Ring>::from_i128(-5).to_signed(), -5);
        assert_eq!(Ring::sar(<u64 as Ring>::from_i128(-8), 2).to_signed(), -2);
        assert_eq!(Ring::shr(1u64 << 63, 63), 1);
        assert!(Ring::msb(u128::MAX));
        assert_eq!(Ring::shl(1u32, 40), 0);
        let mut b = [0u8; 16];
        Ring::write_le(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128, &mut b);
        assert_eq!(b[0], 0x10);
        assert_eq!(
            <u128 as Ring>::from_le_slice(&b),
            0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10
        );
    }
}
