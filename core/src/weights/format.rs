//! The plaintext inside sealed weights: a [`Model`] (widths, parameters, optimizer state) in a
//! documented little-endian layout.
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `FXSP` |
//! | 4..6 | format version, u16 (1) |
//! | 6 | optimizer: 0 SGD, 1 Adam |
//! | 7 | reserved, 0 |
//! | 8..12 | number of layer widths `w`, u32, `2..=`[`MAX_LAYERS`] |
//! | 12..12+4w | the widths, u32 each, `1..=`[`MAX_WIDTH`] |
//! | then, Adam only | the step count, u64 |
//! | then | the `n` parameters, f64 each, then (Adam only) the `n` first and `n` second moments |
//!
//! `n` follows from the widths and must not exceed [`MAX_PARAMS`]; the input must be exactly as
//! long as the widths say. Every count is checked before anything is allocated, so a malformed or
//! hostile payload gives an [`Error`], never a panic or a huge allocation.

use crate::error::{Error, ErrorKind};
use crate::ml::float::{MAX_PARAMS, Model, OptState};
use alloc::vec::Vec;

/// Magic bytes of the plaintext payload.
pub const PAYLOAD_MAGIC: [u8; 4] = *b"FXSP";
/// The payload format version this code writes and reads.
pub const PAYLOAD_VERSION: u16 = 1;
/// The most layer widths (layers + 1) a payload may declare.
pub const MAX_LAYERS: usize = 64;
/// The widest layer a payload may declare.
pub const MAX_WIDTH: usize = 1 << 24;

const OP: &str = "weights.decode";

fn malformed(what: &'static str) -> Error {
    Error::new(OP, ErrorKind::Malformed(what))
}

/// The encoded length of a model with layer widths `sizes` (SGD, or Adam with its moments),
/// `None` on overflow.
pub fn payload_len(sizes: &[usize], adam: bool) -> Option<usize> {
    let n = crate::ml::float::param_count(sizes)?;
    let (vectors, step) = if adam { (3, 8) } else { (1, 0) };
    n.checked_mul(8 * vectors)?
        .checked_add(12 + 4 * sizes.len() + step)
}

/// The encoded length of `model`.
pub fn encoded_len(model: &Model) -> usize {
    let (vectors, step) = match model.opt {
        OptState::Sgd => (1, 0),
        OptState::Adam { .. } => (3, 8),
    };
    12 + 4 * model.sizes.len() + step + 8 * vectors * model.params.len()
}

/// Appends `model`'s encoding to `out`.
pub fn encode_into(model: &Model, out: &mut Vec<u8>) {
    out.reserve(encoded_len(model));
    out.extend_from_slice(&PAYLOAD_MAGIC);
    out.extend_from_slice(&PAYLOAD_VERSION.to_le_bytes());
    out.push(u8::from(matches!(model.opt, OptState::Adam { .. })));
    out.push(0);
    out.extend_from_slice(&(model.sizes.len() as u32).to_le_bytes());
    for &w in &model.sizes {
        out.extend_from_slice(&(w as u32).to_le_bytes());
    }
    let put = |out: &mut Vec<u8>, v: &[f64]| {
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    };
    match &model.opt {
        OptState::Sgd => put(out, &model.params),
        OptState::Adam { step, m, v } => {
            out.extend_from_slice(&step.to_le_bytes());
            put(out, &model.params);
            put(out, m);
            put(out, v);
        }
    }
}

/// `model`'s encoding.
pub fn encode(model: &Model) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(model, &mut out);
    out
}

/// Reads a model back; see the module docs for what is checked.
pub fn decode(bytes: &[u8]) -> Result<Model, Error> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != PAYLOAD_MAGIC {
        return Err(malformed("not a weights payload (bad magic)"));
    }
    if r.u16()? != PAYLOAD_VERSION {
        return Err(Error::new(
            OP,
            ErrorKind::Unsupported("weights payload of another format version"),
        ));
    }
    let adam = match r.take(2)? {
        [0, 0] => false,
        [1, 0] => true,
        _ => return Err(malformed("unknown optimizer or nonzero reserved byte")),
    };
    let count = r.u32()? as usize;
    if !(2..=MAX_LAYERS).contains(&count) {
        return Err(malformed("layer count out of range"));
    }
    let mut sizes = Vec::with_capacity(count);
    for _ in 0..count {
        let w = r.u32()? as usize;
        if !(1..=MAX_WIDTH).contains(&w) {
            return Err(malformed("layer width out of range"));
        }
        sizes.push(w);
    }
    let n = crate::ml::float::param_count(&sizes)
        .filter(|&n| n <= MAX_PARAMS)
        .ok_or(malformed("too many parameters"))?;
    let step = if adam { Some(r.u64()?) } else { None };
    let vectors = if adam { 3 } else { 1 };
    if r.rest() != n * 8 * vectors {
        return Err(malformed("payload length does not match the layer widths"));
    }
    let params = r.f64s(n);
    let opt = match step {
        None => OptState::Sgd,
        Some(step) => OptState::Adam {
            step,
            m: r.f64s(n),
            v: r.f64s(n),
        },
    };
    Ok(Model { sizes, params, opt })
}

/// A cursor over untrusted bytes: every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(malformed("weights payload truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// `n` doubles; the caller checked that they are there.
    fn f64s(&mut self, n: usize) -> Vec<f64> {
        let end = self.at + 8 * n;
        let v = self.bytes[self.at..end]
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_le_bytes(a)
            })
            .collect();
        self.at = end;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn model(adam: bool) -> Model {
        let params: Vec<f64> = (0..2 * 3 + 3 + 3 + 1).map(|i| i as f64 * -0.5).collect();
        let n = params.len();
        Model {
            sizes: vec![2, 3, 1],
            params,
            opt: if adam {
                OptState::Adam {
                    step: 7,
                    m: vec![0.25; n],
                    v: vec![f64::MIN_POSITIVE; n],
                }
            } else {
                OptState::Sgd
            },
        }
    }

    #[test]
    fn round_trips_bit_exactly() {
        for adam in [false, true] {
            let m = model(adam);
            let bytes = encode(&m);
            assert_eq!(bytes.len(), encoded_len(&m));
            assert_eq!(decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn every_malformed_input_is_an_error() {
        let good = encode(&model(true));
        // Every truncation.
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        assert!(decode(&long).is_err());
        // Each header field corrupted.
        for (at, value) in [(0, b'X'), (4, 9), (6, 2), (7, 1), (8, 1), (8, 200), (12, 0)] {
            let mut bad = good.clone();
            bad[at] = value;
            assert!(decode(&bad).is_err(), "byte {at} = {value}");
        }
        // Widths whose product overflows or exceeds the limit fail before any allocation.
        let mut huge = Vec::new();
        huge.extend_from_slice(&PAYLOAD_MAGIC);
        huge.extend_from_slice(&PAYLOAD_VERSION.to_le_bytes());
        huge.extend_from_slice(&[0, 0]);
        huge.extend_from_slice(&3u32.to_le_bytes());
        for w in [MAX_WIDTH as u32, MAX_WIDTH as u32, MAX_WIDTH as u32] {
            huge.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(
            decode(&huge).unwrap_err().kind(),
            &ErrorKind::Malformed("too many parameters")
        );
    }
}
