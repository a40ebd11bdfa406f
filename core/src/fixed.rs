//! Fixed-point encoding of real numbers into the ring.
//!
//! A real `x` is encoded as the ring element `round(x * 2^f)` in two's complement, where `f` is the
//! number of fractional bits. Decoding reads the element as a signed integer and divides by `2^f`.
//! A value whose encoding does not fit in `k - 1` bits plus sign is an error, never a silent wrap.

use crate::error::{Error, ErrorKind};
use crate::ring::Ring;

/// The fixed-point format: the number of fractional bits `f`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    frac_bits: u32,
}

impl Default for FixedPoint {
    /// 16 fractional bits, the default of the design (with Z_2^64: about 4.7 decimal digits after
    /// the point and magnitudes below 2^47).
    fn default() -> Self {
        FixedPoint { frac_bits: 16 }
    }
}

impl FixedPoint {
    /// A format with `frac_bits` fractional bits; at most 62 so that one ulp is a normal `f64`
    /// and products (`2f` fractional bits) stay meaningful in the widest ring.
    pub const fn new(frac_bits: u32) -> Result<Self, Error> {
        if frac_bits > 62 {
            return Err(Error::new(
                "fixed_point",
                ErrorKind::InvalidArgument("fractional bits must be at most 62"),
            ));
        }
        Ok(FixedPoint { frac_bits })
    }

    /// The number of fractional bits.
    pub fn frac_bits(self) -> u32 {
        self.frac_bits
    }

    /// The value of one unit in the last place, `2^-f`.
    pub fn ulp(self) -> f64 {
        libm::ldexp(1.0, -(self.frac_bits as i32))
    }

    /// The largest magnitude that encodes in ring `R` (exclusive bound): `2^(k-1-f)`.
    pub fn max_abs<R: Ring>(self) -> f64 {
        libm::ldexp(1.0, R::BITS as i32 - 1 - self.frac_bits as i32)
    }

    /// Encodes `x` as `round(x * 2^f)`; errors with [`ErrorKind::OutOfRange`] when `x` is not
    /// finite or its encoding does not fit in the signed range of `R`.
    pub fn encode<R: Ring>(self, x: f64) -> Result<R, Error> {
        let scaled = libm::round(libm::ldexp(x, self.frac_bits as i32));
        let limit = libm::ldexp(1.0, R::BITS as i32 - 1);
        if !scaled.is_finite() || scaled.abs() >= limit {
            return Err(Error::new("encode", ErrorKind::OutOfRange { value: x }));
        }
        Ok(R::from_i128(scaled as i128))
    }

    /// Encodes every value of `xs` into `out` (same length); fails before writing anything past
    /// the first value out of range.
    pub fn encode_slice<R: Ring>(self, xs: &[f64], out: &mut [R]) -> Result<(), Error> {
        if xs.len() != out.len() {
            return Err(Error::dimension("encode", xs.len(), out.len()));
        }
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.encode(x)?;
        }
        Ok(())
    }

    /// Decodes a ring element: its two's complement value divided by `2^f`.
    pub fn decode<R: Ring>(self, v: R) -> f64 {
        libm::ldexp(v.to_signed() as f64, -(self.frac_bits as i32))
    }

    /// The plaintext fixed-point product that the secure protocols compute: the ring product of
    /// two encodings shifted right arithmetically by `f` (floor division by `2^f`).
    pub fn mul_reference<R: Ring>(self, a: R, b: R) -> R {
        a.mul(b).sar(self.frac_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_range() {
        let fp = FixedPoint::default();
        for x in [0.0, 1.0, -1.0, 3.25, -1234.5, 1e-5] {
            let e: u64 = fp.encode(x).unwrap();
            assert!((fp.decode(e) - x).abs() <= fp.ulp() / 2.0);
        }
        assert_eq!(fp.encode::<u64>(-1.0).unwrap(), u64::MAX - 65535);
        assert!(fp.encode::<u32>(40000.0).is_err());
        assert!(fp.encode::<u32>(30000.0).is_ok());
        assert!(fp.encode::<u64>(f64::NAN).is_err());
        assert!(fp.encode::<u64>(f64::INFINITY).is_err());
        assert!(fp.encode::<u64>(fp.max_abs::<u64>()).is_err());
        let e: u128 = fp.encode(-1e20).unwrap();
        assert_eq!(fp.decode(e), -1e20);
        assert!(FixedPoint::new(63).is_err());
    }
}
