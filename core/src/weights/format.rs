//! The plaintext inside sealed weights: a [`Model`] (parameters, optimizer state, widths) in a
//! documented little-endian layout, the vectors first and a trailer describing them last.
//!
//! | bytes | field |
//! |---|---|
//! | 0..8n | the `n` parameters, f64 each |
//! | then, Adam only | the `n` first moments, then the `n` second moments, f64 each |
//! | then | the trailer, `t` bytes (a multiple of 8): |
//! | +0..4 | magic `FXSP` |
//! | +4..6 | payload version, u16 ([`PAYLOAD_VERSION`]) |
//! | +6 | optimizer: 0 SGD, 1 Adam |
//! | +7 | reserved, 0 |
//! | +8..12 | number of layer widths `w`, u32, `2..=`[`MAX_LAYERS`] |
//! | +12..12+4w | the widths, u32 each, `1..=`[`MAX_WIDTH`] |
//! | then, Adam only | the step count, u64 |
//! | then | zero bytes up to `t - 4` |
//! | t-4..t | `t`, u32 |
//!
//! `n` follows from the widths and must not exceed [`MAX_PARAMS`]; the input must be exactly as
//! long as the trailer says. The vectors come first and are a whole number of `f64`s, so that an
//! opener can decrypt straight into the memory of the parameters (as
//! [`super::open`] does): no copy and, on little-endian machines, no conversion. Every count is
//! checked before anything is allocated, so a malformed or hostile payload gives an [`Error`],
//! never a panic or a huge allocation.

use crate::error::{Error, ErrorKind};
use crate::ml::float::{MAX_PARAMS, Model, OptState};
use alloc::vec::Vec;

/// Magic bytes of the plaintext payload's trailer.
pub const PAYLOAD_MAGIC: [u8; 4] = *b"FXSP";
/// The payload format version this code writes and reads.
pub const PAYLOAD_VERSION: u16 = 2;
/// The most layer widths (layers + 1) a payload may declare.
pub const MAX_LAYERS: usize = 64;
/// The widest layer a payload may declare.
pub const MAX_WIDTH: usize = 1 << 24;

const OP: &str = "weights.decode";

fn malformed(what: &'static str) -> Error {
    Error::new(OP, ErrorKind::Malformed(what))
}

/// The trailer's length for `widths` layer widths: its fields rounded up to a multiple of 8.
fn trailer_len(widths: usize, adam: bool) -> usize {
    let fields = 12 + 4 * widths + if adam { 8 } else { 0 } + 4;
    fields.div_ceil(8) * 8
}

/// The encoded length of a model with layer widths `sizes` (SGD, or Adam with its moments),
/// `None` on overflow.
pub fn payload_len(sizes: &[usize], adam: bool) -> Option<usize> {
    let n = crate::ml::float::param_count(sizes)?;
    let vectors = if adam { 3 } else { 1 };
    n.checked_mul(8 * vectors)?
        .checked_add(trailer_len(sizes.len(), adam))
}

fn is_adam(model: &Model) -> bool {
    matches!(model.opt, OptState::Adam { .. })
}

/// The encoded length of `model`.
pub fn encoded_len(model: &Model) -> usize {
    let vectors = if is_adam(model) { 3 } else { 1 };
    8 * vectors * model.params.len() + trailer_len(model.sizes.len(), is_adam(model))
}

/// Writes `v` as little-endian `f64`s at the start of `out`; returns the rest.
fn put_f64s<'a>(out: &'a mut [u8], v: &[f64]) -> &'a mut [u8] {
    let (head, rest) = out.split_at_mut(8 * v.len());
    if cfg!(target_endian = "little") {
        head.copy_from_slice(bytemuck::cast_slice(v));
    } else {
        for (o, x) in head.chunks_exact_mut(8).zip(v) {
            o.copy_from_slice(&x.to_le_bytes());
        }
    }
    rest
}

/// Writes `model`'s encoding into `out`, which must be exactly [`encoded_len`] bytes long (a
/// shorter or longer `out` is an [`ErrorKind::UnexpectedLength`] error and is left untouched).
/// The model must be consistent: its moments as long as its parameters.
pub fn encode_to(model: &Model, out: &mut [u8]) -> Result<(), Error> {
    let len = encoded_len(model);
    if out.len() != len {
        return Err(Error::new(
            "weights.encode",
            ErrorKind::UnexpectedLength {
                expected: len,
                got: out.len(),
            },
        ));
    }
    let n = model.params.len();
    let mut rest = put_f64s(out, &model.params);
    let mut step = None;
    if let OptState::Adam { step: s, m, v } = &model.opt {
        if m.len() != n || v.len() != n {
            return Err(Error::new(
                "weights.encode",
                ErrorKind::InvalidArgument("Adam's moments differ in length from the parameters"),
            ));
        }
        rest = put_f64s(rest, m);
        rest = put_f64s(rest, v);
        step = Some(*s);
    }
    // The trailer.
    let t = rest.len();
    rest.fill(0);
    rest[0..4].copy_from_slice(&PAYLOAD_MAGIC);
    rest[4..6].copy_from_slice(&PAYLOAD_VERSION.to_le_bytes());
    rest[6] = u8::from(step.is_some());
    rest[8..12].copy_from_slice(&(model.sizes.len() as u32).to_le_bytes());
    let mut at = 12;
    for &w in &model.sizes {
        rest[at..at + 4].copy_from_slice(&(w as u32).to_le_bytes());
        at += 4;
    }
    if let Some(s) = step {
        rest[at..at + 8].copy_from_slice(&s.to_le_bytes());
    }
    rest[t - 4..].copy_from_slice(&(t as u32).to_le_bytes());
    Ok(())
}

/// Appends `model`'s encoding to `out`.
pub fn encode_into(model: &Model, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(model), 0);
    // The slice has exactly the encoded length; a model whose moments are inconsistent (which
    // no trainer produces) leaves zeros.
    let _ = encode_to(model, &mut out[start..]);
}

/// `model`'s encoding.
pub fn encode(model: &Model) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(model, &mut out);
    out
}

/// What a trailer says.
struct Trailer {
    sizes: Vec<usize>,
    n: usize,
    step: Option<u64>,
}

/// Reads and checks the trailer at the end of `bytes` (a whole payload).
fn trailer(bytes: &[u8]) -> Result<Trailer, Error> {
    let total = bytes.len();
    let tail = bytes
        .get(total.wrapping_sub(4)..)
        .filter(|_| total >= 4)
        .ok_or(malformed("weights payload truncated"))?;
    let t = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize;
    let max = trailer_len(MAX_LAYERS, true);
    if t < trailer_len(2, false) || t > max || !t.is_multiple_of(8) || t > total {
        return Err(malformed("weights payload truncated or bad trailer length"));
    }
    let tr = &bytes[total - t..];
    let mut r = Reader { bytes: tr, at: 0 };
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
    if trailer_len(count, adam) != t {
        return Err(malformed("trailer length does not match the layer count"));
    }
    let mut sizes = Vec::with_capacity(count);
    for _ in 0..count {
        let w = r.u32()? as usize;
        if !(1..=MAX_WIDTH).contains(&w) {
            return Err(malformed("layer width out of range"));
        }
        sizes.push(w);
    }
    let step = if adam { Some(r.u64()?) } else { None };
    if r.bytes[r.at..t - 4].iter().any(|&b| b != 0) {
        return Err(malformed("nonzero padding in the trailer"));
    }
    let n = crate::ml::float::param_count(&sizes)
        .filter(|&n| n <= MAX_PARAMS)
        .ok_or(malformed("too many parameters"))?;
    let vectors = if adam { 3 } else { 1 };
    if n.checked_mul(8 * vectors) != Some(total - t) {
        return Err(malformed("payload length does not match the layer widths"));
    }
    Ok(Trailer { sizes, n, step })
}

/// `n` little-endian doubles from `bytes` (exactly `8n` bytes).
fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            f64::from_le_bytes(a)
        })
        .collect()
}

/// Reads a model back; see the module docs for what is checked.
pub fn decode(bytes: &[u8]) -> Result<Model, Error> {
    let t = trailer(bytes)?;
    let n = t.n;
    let params = f64s(&bytes[..8 * n]);
    let opt = match t.step {
        None => OptState::Sgd,
        Some(step) => OptState::Adam {
            step,
            m: f64s(&bytes[8 * n..16 * n]),
            v: f64s(&bytes[16 * n..24 * n]),
        },
    };
    Ok(Model {
        sizes: t.sizes,
        params,
        opt,
    })
}

/// `words` as bytes: what the opener decrypts into.
pub(crate) fn bytes_mut(words: &mut [f64]) -> &mut [u8] {
    bytemuck::cast_slice_mut(words)
}

/// Reads a model from a payload held in `words` (as decrypted by the opener: the payload's bytes
/// in the words' memory), reusing that memory for the parameters: no copy for SGD, on
/// little-endian machines no conversion either. Checks as [`decode`] does.
pub(crate) fn decode_words(mut words: Vec<f64>) -> Result<Model, Error> {
    let t = trailer(bytemuck::cast_slice(&words))?;
    let n = t.n;
    // The payload's bytes are little-endian: the words are the doubles on little-endian machines.
    if cfg!(target_endian = "big") {
        for w in &mut words {
            *w = f64::from_bits(u64::from_le(w.to_bits()));
        }
    }
    let opt = match t.step {
        None => OptState::Sgd,
        Some(step) => {
            let m = words[n..2 * n].to_vec();
            let v = words[2 * n..3 * n].to_vec();
            OptState::Adam { step, m, v }
        }
    };
    words.truncate(n);
    Ok(Model {
        sizes: t.sizes,
        params: words,
        opt,
    })
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn model(adam: bool, sizes: Vec<usize>) -> Model {
        let n = crate::ml::float::param_count(&sizes).unwrap();
        let params: Vec<f64> = (0..n).map(|i| i as f64 * -0.5).collect();
        Model {
            sizes,
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
            // Odd and even numbers of widths: trailers with and without padding.
            for sizes in [vec![2, 3, 1], vec![2, 3, 4, 1], vec![1, 1]] {
                let m = model(adam, sizes);
                let bytes = encode(&m);
                assert_eq!(bytes.len(), encoded_len(&m));
                assert_eq!(bytes.len() % 8, 0);
                assert_eq!(Some(bytes.len()), payload_len(&m.sizes, adam));
                assert_eq!(decode(&bytes).unwrap(), m);
                let mut words = vec![0.0; bytes.len() / 8];
                bytes_mut(&mut words).copy_from_slice(&bytes);
                assert_eq!(decode_words(words).unwrap(), m);
                // The parameters come first, as little-endian doubles.
                assert_eq!(bytes[8..16], m.params[1].to_le_bytes());
            }
        }
    }

    #[test]
    fn encode_to_checks_the_length() {
        let m = model(false, vec![2, 3, 1]);
        let mut short = vec![7u8; encoded_len(&m) - 1];
        assert!(encode_to(&m, &mut short).is_err());
        assert!(short.iter().all(|&b| b == 7));
        let mut bad = model(true, vec![2, 3, 1]);
        if let OptState::Adam { m, .. } = &mut bad.opt {
            m.pop();
        }
        assert!(encode_to(&bad, &mut vec![0; encoded_len(&bad)]).is_err());
    }

    #[test]
    fn every_malformed_input_is_an_error() {
        let good = encode(&model(true, vec![2, 3, 1]));
        // Every truncation, from either end.
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
            assert!(decode(&good[cut + 1..]).is_err(), "cut before {cut}");
        }
        let mut long = good.clone();
        long.insert(0, 0);
        assert!(decode(&long).is_err());
        // Each trailer field corrupted (offsets from the trailer's start; it is 40 bytes here:
        // 12 bytes of fields, 3 widths, the step, 4 bytes of padding, the length).
        let t = good.len() - 40;
        for (at, value) in [
            (0, b'X'),
            (4, 9),
            (6, 2),
            (7, 1),
            (8, 1),
            (8, 200),
            (12, 0),
            (32, 1),
            (36, 0),
            (36, 48),
            (36, 44),
            (38, 1),
        ] {
            let mut bad = good.clone();
            bad[t + at] = value;
            assert!(decode(&bad).is_err(), "trailer byte {at} = {value}");
        }
        // Widths whose product overflows or exceeds the limit fail before any allocation.
        let mut huge = vec![0u8; trailer_len(3, false)];
        let l = huge.len();
        huge[0..4].copy_from_slice(&PAYLOAD_MAGIC);
        huge[4..6].copy_from_slice(&PAYLOAD_VERSION.to_le_bytes());
        huge[8..12].copy_from_slice(&3u32.to_le_bytes());
        for i in 0..3 {
            huge[12 + 4 * i..16 + 4 * i].copy_from_slice(&(MAX_WIDTH as u32).to_le_bytes());
        }
        huge[l - 4..].copy_from_slice(&(l as u32).to_le_bytes());
        assert_eq!(
            decode(&huge).unwrap_err().kind(),
            &ErrorKind::Malformed("too many parameters")
        );
    }
}
