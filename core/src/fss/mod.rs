//! Function secret sharing: the dealer's keys for comparisons, ReLU, splines and exact truncation
//! on masked inputs (`alloc`).
//!
//! A gate takes a shared `x`. The dealer picks a uniform mask `r` and gives each server a share of
//! `r` and a key; the servers open `x^ = x + r` (one ring element each way, one round) and each
//! evaluates its key at public points derived from `x^`, locally, to get shares of the output
//! (Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, Eurocrypt 2021). Every key is one or two
//! [`dcf`] keys plus a few shared constants, and every gate output is exact.
//!
//! ## The gates, for `k`-bit rings and `x = x^ - r`
//! - [`Gate::Sign`]: the sign of `x`. With `y = x^ mod 2^(k-1)` and `m = msb(r)`, the top bit of
//!   `x` is `msb(x^) xor m xor [y < r mod 2^(k-1)]`. The dealer folds `m` into the key: a DCF over
//!   `k - 1` bits with payload `(1 - 2m)` and the constant `m` give shares of
//!   `g = m xor [y < r mod 2^(k-1)]`, and `msb(x^)` is public, so the sign is a local function of
//!   `g`. With `product`, the payload and constant are multiplied by `(1, r)`, which also gives
//!   shares of `r g`, and `relu(x) = x^ d - r d` for `d = [x >= 0]`, still in one round. When
//!   `x` is known to lie in `[-2^(b-1), 2^(b-1))` (SIGMA's reduced bit width), the same holds with
//!   `k` replaced by `b` on the low `b` bits of `x^` and `r`, since those are `x mod 2^b` masked:
//!   a DCF over `b - 1` bits instead of `k - 1`.
//! - [`Gate::Compare`]: `[x < c]` for any number of public `c` from one key. In unsigned terms
//!   (`x + 2^(k-1)`, so the order is the signed one), `[x < c] = [x^ < c] + [x^ - c < r] - [x^ < r]`
//!   (all mod `2^k`), so one DCF with threshold `r`, evaluated at `x^` and at `x^ - c` for each
//!   `c`, serves all of them. With `product` (payload `(1, r)`) it also gives shares of
//!   `[x < c] x`: what a spline needs to select its piece's polynomial.
//! - [`Gate::Shift`]: `floor(x / 2^s)` exactly. In unsigned terms, with `x^ = (h, l)` and
//!   `r = (rh, rl)` split at bit `s`: `floor(x / 2^s) = h - rh - [l < rl] + 2^(k-s) [x^ < r]`:
//!   one DCF over `k` bits, one over `s` bits, and shares of `rh`.
//!
//! ## Security
//! Semi-honest with a non-colluding dealer, as the dealer of [`crate::correlated::dealer`]: each
//! server sees `x^`, uniform because `r` is, and its key, which by the DCF's security reveals
//! nothing about `r`; its outputs are shares.

pub mod dcf;

/// Operation tags of the FSS gates (registry range `0x09xx`, see [`crate::transport::tag`]).
pub mod tag {
    /// The masked inputs `x + r` of a batch of gates.
    pub const OPEN: u16 = 0x0901;
}

use crate::error::{Error, ErrorKind};
use crate::hash::FixedKeyAes;
use crate::prg::Prg;
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use alloc::vec;
use alloc::vec::Vec;
use dcf::{CorrectionWords, DcfKeys, Function};
use zeroize::Zeroize;

/// Most gates in one batch of keys: bounds a party's key memory (about 2 KB per ReLU key on
/// Z_2^64, so 2 GiB per batch). Sources refuse larger requests; the protocols split larger inputs
/// into batches of this size, one round each.
pub const MAX_GATES: usize = 1 << 20;

/// Checks a request for `n` gates against [`MAX_GATES`] before anything is allocated.
pub(crate) fn check_gates(op: &'static str, n: usize) -> Result<(), Error> {
    crate::limits::elements(op, n, 1, MAX_GATES).map(|_| ())
}

/// What a batch of dealer keys computes (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// The sign of `x`; with `product`, also what ReLU needs.
    Sign {
        /// Also shares of `r [x >= 0]`, for `relu(x)` in the same round.
        product: bool,
        /// The inputs' width `b`, `2 <= b <= k`: the gate reads the low `b` bits of `x^` and is
        /// exact for `x` in `[-2^(b-1), 2^(b-1))` (the ring's width `k`: every `x`). A DCF over
        /// `b - 1` bits, so the keys and the evaluation shrink with `b`.
        bits: u32,
    },
    /// `[x < c]` for public constants `c`; with `product`, also `[x < c] x`.
    Compare {
        /// Also shares of `[x < c] x`.
        product: bool,
    },
    /// `floor(x / 2^bits)`, exactly.
    Shift {
        /// The shift, `1 <= bits <= k - 2`.
        bits: u32,
    },
    /// `[x == c]` for public constants `c` (a point function at the mask).
    Equal,
}

/// One DCF of a gate: input bits and payload width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DcfShape {
    pub(crate) function: Function,
    pub(crate) bits: u32,
    pub(crate) width: usize,
}

impl Gate {
    /// The gate's code and parameter in a dealer request.
    pub(crate) fn encode(self) -> (u64, u64) {
        match self {
            Gate::Sign { product, bits } => (1 + u64::from(product), u64::from(bits)),
            Gate::Compare { product } => (3 + u64::from(product), 0),
            Gate::Shift { bits } => (5, u64::from(bits)),
            Gate::Equal => (6, 0),
        }
    }

    /// The gate of a dealer request, checked for ring `R`.
    pub(crate) fn decode<R: Ring>(code: u64, param: u64) -> Result<Gate, Error> {
        let gate = match code {
            1 | 2 => Gate::Sign {
                product: code == 2,
                bits: u32::try_from(param).unwrap_or(u32::MAX),
            },
            3 | 4 => Gate::Compare { product: code == 4 },
            5 => Gate::Shift {
                bits: u32::try_from(param).unwrap_or(u32::MAX),
            },
            6 => Gate::Equal,
            _ => return Err(Error::new("fss", ErrorKind::Malformed("unknown gate"))),
        };
        gate.check::<R>()?;
        Ok(gate)
    }

    /// Checks the gate's parameters against ring `R`.
    pub(crate) fn check<R: Ring>(self) -> Result<(), Error> {
        match self {
            Gate::Shift { bits } if bits == 0 || bits > R::BITS - 2 => Err(Error::new(
                "fss",
                ErrorKind::InvalidArgument("shift out of range for the ring"),
            )),
            Gate::Sign { bits, .. } if !(2..=R::BITS).contains(&bits) => Err(Error::new(
                "fss",
                ErrorKind::InvalidArgument(
                    "a sign gate's input width must be 2 to the ring's bits",
                ),
            )),
            _ => Ok(()),
        }
    }

    fn product(self) -> bool {
        matches!(
            self,
            Gate::Sign { product: true, .. } | Gate::Compare { product: true }
        )
    }

    /// The DCFs of one gate in ring `R` (one or two).
    pub(crate) fn dcfs<R: Ring>(self) -> Vec<DcfShape> {
        let width = 1 + usize::from(self.product());
        let less = |bits, width| DcfShape {
            function: Function::LessThan,
            bits,
            width,
        };
        match self {
            Gate::Sign { bits, .. } => vec![less(bits - 1, width)],
            Gate::Compare { .. } => vec![less(R::BITS, width)],
            Gate::Shift { bits } => vec![less(R::BITS, 1), less(bits, 1)],
            Gate::Equal => vec![DcfShape {
                function: Function::Equal,
                bits: R::BITS,
                width: 1,
            }],
        }
    }

    /// Shared constants per gate.
    pub(crate) fn constants(self) -> usize {
        match self {
            Gate::Sign { product, .. } => 1 + usize::from(product),
            Gate::Compare { .. } | Gate::Equal => 0,
            Gate::Shift { .. } => 1,
        }
    }

    /// Dealer bytes per gate sent to each party: correction words, and to P1 the constants.
    pub fn key_bytes<R: Ring>(self) -> usize {
        let cw: usize = self
            .dcfs::<R>()
            .iter()
            .map(|d| {
                let per_level = match d.function {
                    Function::LessThan => d.width * R::BYTES,
                    Function::Equal => 0,
                };
                d.bits as usize * (16 + per_level) + d.width * R::BYTES
            })
            .sum();
        cw + self.constants() * R::BYTES
    }
}

/// This party's keys for a batch of gates of one kind.
pub struct GateKeys<R: Ring> {
    pub(crate) gate: Gate,
    pub(crate) role: Role,
    /// Shares of the masks `r`, one per gate.
    pub(crate) mask: Vec<R>,
    /// The gate's DCF keys, one batch per DCF of the gate.
    pub(crate) dcfs: Vec<DcfKeys<R>>,
    /// `constants()` shares per gate.
    pub(crate) constants: Vec<R>,
}

impl<R: Ring> Drop for GateKeys<R> {
    fn drop(&mut self) {
        self.mask.zeroize();
        self.constants.zeroize();
    }
}

impl<R: Ring> GateKeys<R> {
    /// The gate these keys compute.
    pub fn gate(&self) -> Gate {
        self.gate
    }

    /// Number of gates.
    pub fn len(&self) -> usize {
        self.mask.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.mask.is_empty()
    }
}

/// The generator streams of one party's part of a batch of keys: the mask, the root seeds of each
/// DCF, and P0's constants. The dealer and the party read them in the same order.
pub(crate) struct KeyStreams {
    pub(crate) mask: Prg,
    pub(crate) roots: [Prg; 2],
    pub(crate) constants: Prg,
}

/// The part of `n` gates' keys a party derives from its own streams (no communication): its
/// mask shares, its root seeds per DCF and, for P0, its constant shares.
pub(crate) struct OwnPart<R: Ring> {
    pub(crate) mask: Vec<R>,
    pub(crate) roots: Vec<Vec<u128>>,
    pub(crate) constants: Vec<R>,
}

impl<R: Ring> OwnPart<R> {
    /// Reads `n` gates' worth from `streams`; the constants only for P0 (P1's come from the dealer).
    pub(crate) fn derive(gate: Gate, role: Role, n: usize, streams: &mut KeyStreams) -> Self {
        let mut mask = vec![R::ZERO; n];
        fill_random(&mut streams.mask, &mut mask);
        let roots = gate
            .dcfs::<R>()
            .iter()
            .zip(streams.roots.iter_mut())
            .map(|(_, g)| {
                let mut v = vec![0u128; n];
                fill_random(g, &mut v);
                v
            })
            .collect();
        let constants = match role {
            Role::P0 => {
                let mut c = vec![R::ZERO; n * gate.constants()];
                fill_random(&mut streams.constants, &mut c);
                c
            }
            Role::P1 => Vec::new(),
        };
        OwnPart {
            mask,
            roots,
            constants,
        }
    }
}

impl<R: Ring> Drop for OwnPart<R> {
    fn drop(&mut self) {
        self.mask.zeroize();
        for r in self.roots.iter_mut() {
            r.zeroize();
        }
        self.constants.zeroize();
    }
}

/// The dealer's side for `n` gates: from both parties' own parts, the correction words of each
/// DCF (for both parties) and P1's constant shares.
pub(crate) fn deal<R: Ring>(
    gate: Gate,
    aes: &FixedKeyAes,
    parts: [&OwnPart<R>; 2],
) -> (Vec<CorrectionWords<R>>, Vec<R>) {
    let n = parts[0].mask.len();
    let k = R::BITS;
    let r: Vec<R> = parts[0]
        .mask
        .iter()
        .zip(&parts[1].mask)
        .map(|(a, b)| a.add(*b))
        .collect();
    let low = |v: R, bits: u32| -> u128 {
        let u = v.to_signed() as u128;
        if bits >= 128 {
            u
        } else {
            u & ((1u128 << bits) - 1)
        }
    };
    let shapes = gate.dcfs::<R>();
    let mut words = Vec::with_capacity(shapes.len());
    let mut constants = Vec::with_capacity(n * gate.constants());
    for (d, shape) in shapes.iter().enumerate() {
        let mut alpha = Vec::with_capacity(n);
        let mut beta = Vec::with_capacity(n * shape.width);
        for &ri in &r {
            alpha.push(low(ri, shape.bits));
            match gate {
                Gate::Sign { product, bits } => {
                    let m = R::from_u64(u64::from(ri.bit(bits - 1)));
                    let sign = R::ONE.sub(m.add(m));
                    beta.push(sign);
                    constants.push(m);
                    if product {
                        beta.push(sign.mul(ri));
                        constants.push(m.mul(ri));
                    }
                }
                Gate::Compare { product } => {
                    beta.push(R::ONE);
                    if product {
                        beta.push(ri);
                    }
                }
                Gate::Shift { bits } if d == 0 => {
                    beta.push(R::ONE.shl(k - bits));
                    constants.push(ri.shr(bits));
                }
                Gate::Shift { .. } | Gate::Equal => beta.push(R::ONE),
            }
        }
        let cw = dcf::generate(
            aes,
            shape.function,
            shape.bits,
            shape.width,
            &alpha,
            &beta,
            [&parts[0].roots[d], &parts[1].roots[d]],
        );
        alpha.zeroize();
        beta.zeroize();
        words.push(cw);
    }
    // P1's constants: the value minus P0's share.
    for (c, c0) in constants.iter_mut().zip(&parts[0].constants) {
        *c = c.sub(*c0);
    }
    let mut r = r;
    r.zeroize();
    (words, constants)
}

impl<R: Ring> GateKeys<R> {
    /// Assembles a party's keys from its own part, the correction words and (P1) its constants.
    pub(crate) fn assemble(
        gate: Gate,
        role: Role,
        mut own: OwnPart<R>,
        words: Vec<CorrectionWords<R>>,
        received_constants: Option<Vec<R>>,
    ) -> Self {
        let party = role.index() as u8;
        let dcfs = gate
            .dcfs::<R>()
            .into_iter()
            .zip(words)
            .zip(own.roots.iter_mut())
            .map(|((shape, cw), roots)| {
                DcfKeys::new(
                    shape.function,
                    shape.bits,
                    shape.width,
                    party,
                    core::mem::take(roots),
                    cw,
                )
            })
            .collect();
        GateKeys {
            gate,
            role,
            mask: core::mem::take(&mut own.mask),
            dcfs,
            constants: received_constants.unwrap_or_else(|| core::mem::take(&mut own.constants)),
        }
    }

    /// This party's share of the masked inputs it sends: `x + r`.
    pub(crate) fn mask_inputs(&self, x: &[R]) -> Vec<R> {
        x.iter().zip(&self.mask).map(|(a, r)| a.add(*r)).collect()
    }

    /// The public constant `c` as this party's share (P0 holds it, P1 holds zero).
    pub(crate) fn public(&self, c: R) -> R {
        match self.role {
            Role::P0 => c,
            Role::P1 => R::ZERO,
        }
    }

    /// [`Gate::Sign`]: shares of `d = [x >= 0]` (0 or 1) for every opened `x^`, and with
    /// `product` keys also shares of `relu(x)`.
    pub(crate) fn sign(&self, aes: &FixedKeyAes, opened: &[R]) -> (Vec<R>, Option<Vec<R>>) {
        let product = self.gate.product();
        let w = 1 + usize::from(product);
        let b = match self.gate {
            Gate::Sign { bits, .. } => bits,
            _ => R::BITS,
        };
        let low = |v: R| (v.to_signed() as u128) & ((1u128 << (b - 1)) - 1);
        let points: Vec<u128> = opened.iter().map(|&v| low(v)).collect();
        let mut g = vec![R::ZERO; opened.len() * w];
        self.dcfs[0].evaluate(aes, &points, |p| p, &mut g);
        let mut d = Vec::with_capacity(opened.len());
        let mut relu = product.then(|| Vec::with_capacity(opened.len()));
        for (i, &xh) in opened.iter().enumerate() {
            let gi = g[i * w].add(self.constants[i * w]);
            // d = 1 - (msb(x^) xor g), the top bit of the low b bits.
            let top = xh.bit(b - 1);
            let di = if top { gi } else { self.public(R::ONE).sub(gi) };
            d.push(di);
            if let Some(out) = relu.as_mut() {
                let rg = g[i * w + 1].add(self.constants[i * w + 1]);
                let rd = if top { rg } else { self.mask[i].sub(rg) };
                out.push(xh.mul(di).sub(rd));
            }
        }
        g.zeroize();
        (d, relu)
    }

    /// [`Gate::Compare`]: for every opened `x^` and every public `c` in `thresholds` (signed),
    /// shares of `[x < c]` and, with `product` keys, of `[x < c] x`, laid out
    /// `out[i * thresholds.len() + j]` for input `i` and threshold `j`.
    pub(crate) fn compare(
        &self,
        aes: &FixedKeyAes,
        opened: &[R],
        thresholds: &[R],
    ) -> (Vec<R>, Option<Vec<R>>) {
        let product = self.gate.product();
        let w = 1 + usize::from(product);
        let half = R::ONE.shl(R::BITS - 1);
        let unsigned = |v: R| v.add(half);
        let t = thresholds.len();
        let raw = |v: R| v.to_signed() as u128;
        // Points per input: x^ itself, then x^ - c for each threshold (in unsigned terms).
        let per = t + 1;
        let mut points = Vec::with_capacity(opened.len() * per);
        for &xh in opened {
            let xu = unsigned(xh);
            points.push(raw(xu));
            points.extend(thresholds.iter().map(|&c| raw(xu.sub(unsigned(c)))));
        }
        let mut v = vec![R::ZERO; points.len() * w];
        self.dcfs[0].evaluate_grouped(aes, &points, per, &mut v);
        let mut less = Vec::with_capacity(opened.len() * t);
        let mut times = product.then(|| Vec::with_capacity(opened.len() * t));
        for (i, &xh) in opened.iter().enumerate() {
            let xu = unsigned(xh);
            let at = |j: usize, c: usize| v[(i * per + j) * w + c];
            for (j, &c) in thresholds.iter().enumerate() {
                let below = xu < unsigned(c);
                let l = at(j + 1, 0)
                    .sub(at(0, 0))
                    .add(self.public(R::from_u64(u64::from(below))));
                less.push(l);
                if let Some(out) = times.as_mut() {
                    // [x < c] x = [x < c] x^ - [x^ < c] r - D_r(x^ - c) + D_r(x^).
                    let lr = if below { self.mask[i] } else { R::ZERO };
                    out.push(l.mul(xh).sub(lr).sub(at(j + 1, 1)).add(at(0, 1)));
                }
            }
        }
        v.zeroize();
        (less, times)
    }

    /// [`Gate::Equal`]: for every opened `x^` and every public `c` in `constants`, shares of
    /// `[x == c]` (0 or 1), laid out `out[i * constants.len() + j]`: the point function at `r`
    /// evaluated at `x^ - c`.
    pub(crate) fn equal(&self, aes: &FixedKeyAes, opened: &[R], constants: &[R]) -> Vec<R> {
        let raw = |v: R| v.to_signed() as u128;
        let per = constants.len();
        let points: Vec<u128> = opened
            .iter()
            .flat_map(|&xh| constants.iter().map(move |&c| raw(xh.sub(c))))
            .collect();
        let mut out = vec![R::ZERO; points.len()];
        if per > 0 {
            self.dcfs[0].evaluate_grouped(aes, &points, per, &mut out);
        }
        out
    }

    /// [`Gate::Shift`]: shares of `floor(x / 2^bits)` for every opened `x^`.
    pub(crate) fn shift(&self, aes: &FixedKeyAes, opened: &[R]) -> Vec<R> {
        let Gate::Shift { bits } = self.gate else {
            return Vec::new();
        };
        let k = R::BITS;
        let half = R::ONE.shl(k - 1);
        let raw = |v: R| v.to_signed() as u128;
        let unsigned: Vec<R> = opened.iter().map(|&v| v.add(half)).collect();
        let high: Vec<u128> = unsigned.iter().map(|&v| raw(v)).collect();
        let low: Vec<u128> = high.iter().map(|&v| v & ((1u128 << bits) - 1)).collect();
        let mut wrap = vec![R::ZERO; opened.len()];
        let mut borrow = vec![R::ZERO; opened.len()];
        self.dcfs[0].evaluate(aes, &high, |p| p, &mut wrap);
        self.dcfs[1].evaluate(aes, &low, |p| p, &mut borrow);
        // floor(x_u / 2^s) - 2^(k-1-s), where x_u = x + 2^(k-1).
        let offset = R::ONE.shl(k - 1 - bits);
        unsigned
            .iter()
            .enumerate()
            .map(|(i, &xu)| {
                self.public(xu.shr(bits).sub(offset))
                    .sub(self.constants[i])
                    .sub(borrow[i])
                    .add(wrap[i])
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Domain, Seed};

    fn streams(seed: u8, party: u64) -> KeyStreams {
        let s = Seed::from_bytes([seed; 32]);
        let g = |c: u64| s.derive(Domain::user(9), party).prg(Domain::user(9), c);
        KeyStreams {
            mask: g(0),
            roots: [g(1), g(2)],
            constants: g(3),
        }
    }

    /// Both parties' keys for `n` gates, dealt in one process.
    pub(crate) fn keys<R: Ring>(gate: Gate, n: usize, seed: u8) -> [GateKeys<R>; 2] {
        let aes = FixedKeyAes::new();
        let p0 = OwnPart::<R>::derive(gate, Role::P0, n, &mut streams(seed, 0));
        let p1 = OwnPart::<R>::derive(gate, Role::P1, n, &mut streams(seed, 1));
        let (words, c1) = deal(gate, &aes, [&p0, &p1]);
        let copy: Vec<CorrectionWords<R>> = words
            .iter()
            .map(|w| CorrectionWords {
                seeds: w.seeds.clone(),
                values: w.values.clone(),
                last: w.last.clone(),
            })
            .collect();
        [
            GateKeys::assemble(gate, Role::P0, p0, words, None),
            GateKeys::assemble(gate, Role::P1, p1, copy, Some(c1)),
        ]
    }

    /// Shares of `x`, masked and opened as the online phase does.
    fn open<R: Ring>(k: &[GateKeys<R>; 2], x: &[R], seed: u8) -> Vec<R> {
        let mut g = Seed::from_bytes([seed; 32]).prg(Domain::user(10), 0);
        let mut x0 = vec![R::ZERO; x.len()];
        fill_random(&mut g, &mut x0);
        let x1: Vec<R> = x.iter().zip(&x0).map(|(a, b)| a.sub(*b)).collect();
        let m0 = k[0].mask_inputs(&x0);
        let m1 = k[1].mask_inputs(&x1);
        m0.iter().zip(&m1).map(|(a, b)| a.add(*b)).collect()
    }

    fn edges<R: Ring>() -> Vec<R> {
        let mut v: Vec<R> = [0i128, 1, -1, 2, -2, 1 << 30, -(1 << 30)]
            .iter()
            .map(|&x| R::from_i128(x))
            .collect();
        let top = R::ONE.shl(R::BITS - 1);
        v.extend([
            top,
            top.sub(R::ONE),
            top.add(R::ONE),
            R::ZERO.sub(R::ONE).shr(1),
        ]);
        if R::BITS > 63 {
            v.extend([R::from_i128(1 << 62), R::from_i128(-(1 << 62))]);
            v.extend([
                R::from_i128(i64::MIN as i128),
                R::from_i128(i64::MAX as i128),
            ]);
        }
        let mut g = Seed::from_bytes([5; 32]).prg(Domain::user(11), 0);
        let mut r = vec![R::ZERO; 300];
        fill_random(&mut g, &mut r);
        v.extend(r);
        v
    }

    fn sum<R: Ring>(a: &[R], b: &[R]) -> Vec<R> {
        a.iter().zip(b).map(|(x, y)| x.add(*y)).collect()
    }

    /// The edge values that lie in `[-2^(b-1), 2^(b-1))`, the ends of that range, and random
    /// values of the range (every `x` for `b = k`).
    fn within<R: Ring>(b: u32) -> Vec<R> {
        let half = 1i128 << (b - 1).min(126);
        let inside = |x: &R| b == R::BITS || (-half..half).contains(&x.to_signed());
        let mut xs: Vec<R> = edges::<R>().into_iter().filter(inside).collect();
        if b < R::BITS {
            xs.extend([half - 1, -half, -half + 1].map(R::from_i128));
            // Random values of the range: the low b bits, sign-extended.
            xs.extend(edges::<R>().iter().map(|x| {
                let low = x.to_signed() & ((half << 1) - 1);
                R::from_i128(if low >= half { low - (half << 1) } else { low })
            }));
        }
        xs
    }

    fn check_sign<R: Ring>(bits: u32) {
        let xs = within::<R>(bits);
        for product in [false, true] {
            let k = keys::<R>(Gate::Sign { product, bits }, xs.len(), 1);
            let xh = open(&k, &xs, 2);
            let aes = FixedKeyAes::new();
            let (d0, r0) = k[0].sign(&aes, &xh);
            let (d1, r1) = k[1].sign(&aes, &xh);
            let d = sum(&d0, &d1);
            for (i, &x) in xs.iter().enumerate() {
                let want = u64::from(!x.msb());
                assert_eq!(d[i], R::from_u64(want), "drelu({x:?}) on {bits} bits");
            }
            if product {
                let relu = sum(&r0.unwrap(), &r1.unwrap());
                for (i, &x) in xs.iter().enumerate() {
                    let want = if x.msb() { R::ZERO } else { x };
                    assert_eq!(relu[i], want, "relu({x:?})");
                }
            }
        }
    }

    #[test]
    fn sign_and_relu_are_exact() {
        check_sign::<u32>(32);
        check_sign::<u64>(64);
        check_sign::<u128>(128);
    }

    #[test]
    fn sign_and_relu_on_fewer_bits_are_exact_within_their_range_and_wrong_beyond() {
        for b in [2, 17, 31] {
            check_sign::<u32>(b);
        }
        for b in [2, 24, 40, 63] {
            check_sign::<u64>(b);
        }
        for b in [40, 64, 100] {
            check_sign::<u128>(b);
        }
        // 2^39 reads as -2^39 on 40 bits: the promise of the range is the caller's.
        let xs = [1u64 << 39, (1 << 39) + 5];
        let k = keys::<u64>(
            Gate::Sign {
                product: false,
                bits: 40,
            },
            xs.len(),
            1,
        );
        let xh = open(&k, &xs, 2);
        let aes = FixedKeyAes::new();
        let d = sum(&k[0].sign(&aes, &xh).0, &k[1].sign(&aes, &xh).0);
        assert_eq!(d, [0, 0]);
        // The keys shrink with the width: 39 levels instead of 63.
        let (full, short) = (
            Gate::Sign {
                product: true,
                bits: 64,
            }
            .key_bytes::<u64>(),
            Gate::Sign {
                product: true,
                bits: 40,
            }
            .key_bytes::<u64>(),
        );
        assert!(short * 63 < full * 40, "{short} against {full}");
        // A width outside 2..=k is refused.
        for bits in [0, 1, 65] {
            assert!(
                Gate::Sign {
                    product: false,
                    bits
                }
                .check::<u64>()
                .is_err()
            );
        }
    }

    fn check_compare<R: Ring>() {
        let xs = edges::<R>();
        let mut cs = edges::<R>();
        cs.truncate(14);
        let k = keys::<R>(Gate::Compare { product: true }, xs.len(), 3);
        let xh = open(&k, &xs, 4);
        let aes = FixedKeyAes::new();
        let (l0, p0) = k[0].compare(&aes, &xh, &cs);
        let (l1, p1) = k[1].compare(&aes, &xh, &cs);
        let (l, p) = (sum(&l0, &l1), sum(&p0.unwrap(), &p1.unwrap()));
        for (i, &x) in xs.iter().enumerate() {
            for (j, &c) in cs.iter().enumerate() {
                let below = x.to_signed() < c.to_signed();
                let at = i * cs.len() + j;
                assert_eq!(l[at], R::from_u64(u64::from(below)), "{x:?} < {c:?}");
                assert_eq!(p[at], if below { x } else { R::ZERO }, "[{x:?} < {c:?}] x");
            }
        }
    }

    fn check_equal<R: Ring>() {
        let xs = edges::<R>();
        let mut cs = edges::<R>();
        cs.truncate(20);
        let k = keys::<R>(Gate::Equal, xs.len(), 8);
        let xh = open(&k, &xs, 9);
        let aes = FixedKeyAes::new();
        let e = sum(&k[0].equal(&aes, &xh, &cs), &k[1].equal(&aes, &xh, &cs));
        for (i, &x) in xs.iter().enumerate() {
            for (j, &c) in cs.iter().enumerate() {
                let want = R::from_u64(u64::from(x == c));
                assert_eq!(e[i * cs.len() + j], want, "{x:?} == {c:?}");
            }
        }
    }

    #[test]
    fn equality_with_constants_is_exact() {
        check_equal::<u32>();
        check_equal::<u64>();
        check_equal::<u128>();
    }

    #[test]
    fn comparisons_with_constants_are_exact() {
        check_compare::<u32>();
        check_compare::<u64>();
        check_compare::<u128>();
    }

    fn check_shift<R: Ring>(bits: u32) {
        let xs = edges::<R>();
        let k = keys::<R>(Gate::Shift { bits }, xs.len(), 6);
        let xh = open(&k, &xs, 7);
        let aes = FixedKeyAes::new();
        let y = sum(&k[0].shift(&aes, &xh), &k[1].shift(&aes, &xh));
        for (i, &x) in xs.iter().enumerate() {
            assert_eq!(y[i], x.sar(bits), "{x:?} >> {bits}");
        }
    }

    #[test]
    fn shift_is_exact() {
        for bits in [1, 13, 16, 30] {
            check_shift::<u32>(bits);
        }
        for bits in [1, 13, 16, 62] {
            check_shift::<u64>(bits);
        }
        check_shift::<u128>(16);
        check_shift::<u128>(126);
    }
}
