//! A builder for the circuits the protocols need: adders, subtractors, comparators, MSB,
//! multiplexers, shifts. Words are slices of wires, least significant bit first.
//!
//! AND-gate costs (n = word width): [`Builder::add`] and [`Builder::sub`] n - 1,
//! [`Builder::lt_unsigned`] / [`Builder::lt_signed`] n, [`Builder::mux`] n, [`Builder::eq`] n - 1;
//! XOR, NOT and shifts are free, and gates with a public constant input are folded away (an AND
//! with a constant costs nothing).
//!
//! ```
//! use fixshare::gc::Builder;
//! let mut b = Builder::new(&[8, 8]);
//! let (x, y) = (b.input(0).unwrap(), b.input(1).unwrap());
//! let s = b.add(&x, &y);
//! b.output(&s);
//! let c = b.finish().unwrap();
//! let bits = |v: u8| (0..8).map(move |i| (v >> i) & 1 == 1);
//! let inputs: Vec<bool> = bits(200).chain(bits(100)).collect();
//! let out = c.eval(&inputs).unwrap();
//! let sum = out.iter().enumerate().fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i));
//! assert_eq!(sum, 44); // 300 mod 256
//! ```

use super::circuit::{Circuit, Gate};
use crate::error::Error;
use alloc::vec::Vec;

/// A wire of a circuit under construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Wire(u32);

impl Wire {
    /// The wire's index in the finished circuit.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Builds a [`Circuit`] gate by gate. Every method that takes wires expects wires of this
/// builder; a word operation on words of different widths uses the shorter width.
pub struct Builder {
    input_widths: Vec<usize>,
    input_offsets: Vec<usize>,
    next: u32,
    gates: Vec<Gate>,
    output_widths: Vec<usize>,
    output_wires: Vec<u32>,
    constants: [Option<Wire>; 2],
}

impl Builder {
    /// A builder whose circuit takes input values of the given widths (on its first wires).
    pub fn new(input_widths: &[usize]) -> Builder {
        let mut offsets = Vec::with_capacity(input_widths.len());
        let mut at = 0usize;
        for &w in input_widths {
            offsets.push(at);
            at += w;
        }
        Builder {
            input_widths: input_widths.to_vec(),
            input_offsets: offsets,
            next: at as u32,
            gates: Vec::new(),
            output_widths: Vec::new(),
            output_wires: Vec::new(),
            constants: [None, None],
        }
    }

    /// The wires of input value `i`, least significant first, or `None` if there is no such value.
    pub fn input(&self, i: usize) -> Option<Vec<Wire>> {
        let (&off, &w) = self.input_offsets.get(i).zip(self.input_widths.get(i))?;
        Some((off..off + w).map(|k| Wire(k as u32)).collect())
    }

    fn fresh(&mut self) -> u32 {
        let w = self.next;
        self.next += 1;
        w
    }

    /// The value of `w` if it is one of this builder's constant wires.
    fn known(&self, w: Wire) -> Option<bool> {
        if self.constants[0] == Some(w) {
            Some(false)
        } else if self.constants[1] == Some(w) {
            Some(true)
        } else {
            None
        }
    }

    /// `a XOR b` (folded when an input is a constant).
    pub fn xor(&mut self, a: Wire, b: Wire) -> Wire {
        match (self.known(a), self.known(b)) {
            (Some(x), Some(y)) => return self.constant(x ^ y),
            (Some(false), None) => return b,
            (None, Some(false)) => return a,
            (Some(true), None) => return self.not(b),
            (None, Some(true)) => return self.not(a),
            (None, None) => {}
        }
        let out = self.fresh();
        self.gates.push(Gate::Xor {
            a: a.0,
            b: b.0,
            out,
        });
        Wire(out)
    }

    /// `a AND b` (folded, costing nothing, when an input is a constant).
    pub fn and(&mut self, a: Wire, b: Wire) -> Wire {
        match (self.known(a), self.known(b)) {
            (Some(false), _) | (_, Some(false)) => return self.constant(false),
            (Some(true), _) => return b,
            (_, Some(true)) => return a,
            (None, None) => {}
        }
        let out = self.fresh();
        self.gates.push(Gate::And {
            a: a.0,
            b: b.0,
            out,
        });
        Wire(out)
    }

    /// `NOT a` (folded for a constant).
    pub fn not(&mut self, a: Wire) -> Wire {
        if let Some(x) = self.known(a) {
            return self.constant(!x);
        }
        let out = self.fresh();
        self.gates.push(Gate::Inv { a: a.0, out });
        Wire(out)
    }

    /// `a OR b` (one AND).
    pub fn or(&mut self, a: Wire, b: Wire) -> Wire {
        let x = self.xor(a, b);
        let y = self.and(a, b);
        self.xor(x, y)
    }

    /// The public constant `value` (one wire per constant, shared by all uses).
    pub fn constant(&mut self, value: bool) -> Wire {
        if let Some(w) = self.constants[usize::from(value)] {
            return w;
        }
        let out = self.fresh();
        self.gates.push(Gate::Const { value, out });
        self.constants[usize::from(value)] = Some(Wire(out));
        Wire(out)
    }

    /// A word holding the public constant `value` (the low `width` bits, at most 128).
    pub fn constant_word(&mut self, value: u128, width: usize) -> Vec<Wire> {
        (0..width)
            .map(|i| self.constant(i < 128 && (value >> i) & 1 == 1))
            .collect()
    }

    /// `s ? b : a` for single bits (one AND).
    pub fn mux_bit(&mut self, s: Wire, a: Wire, b: Wire) -> Wire {
        let d = self.xor(a, b);
        let t = self.and(s, d);
        self.xor(a, t)
    }

    /// `s ? b : a` for words (one AND per bit).
    pub fn mux(&mut self, s: Wire, a: &[Wire], b: &[Wire]) -> Vec<Wire> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| self.mux_bit(s, x, y))
            .collect()
    }

    /// Bitwise `a XOR b`.
    pub fn xor_word(&mut self, a: &[Wire], b: &[Wire]) -> Vec<Wire> {
        a.iter().zip(b).map(|(&x, &y)| self.xor(x, y)).collect()
    }

    /// Bitwise `a AND b`.
    pub fn and_word(&mut self, a: &[Wire], b: &[Wire]) -> Vec<Wire> {
        a.iter().zip(b).map(|(&x, &y)| self.and(x, y)).collect()
    }

    /// `bit AND a` for every bit of `a`.
    pub fn and_bit_word(&mut self, bit: Wire, a: &[Wire]) -> Vec<Wire> {
        a.iter().map(|&x| self.and(bit, x)).collect()
    }

    /// Bitwise `NOT a`.
    pub fn not_word(&mut self, a: &[Wire]) -> Vec<Wire> {
        a.iter().map(|&x| self.not(x)).collect()
    }

    /// `a + b + carry_in` modulo 2^n, and the carry out (n - 1 ANDs for the sum, one more for the
    /// carry out). The ripple-carry step `c' = c ^ ((a ^ c) & (b ^ c))` costs one AND per bit.
    fn add_with_carry(
        &mut self,
        a: &[Wire],
        b: &[Wire],
        carry_in: Option<Wire>,
        want_carry: bool,
    ) -> (Vec<Wire>, Option<Wire>) {
        let n = a.len().min(b.len());
        let mut out = Vec::with_capacity(n);
        let mut c = carry_in;
        for i in 0..n {
            let (x, y) = (a[i], b[i]);
            let s = match c {
                Some(c) => {
                    let t = self.xor(x, y);
                    self.xor(t, c)
                }
                None => self.xor(x, y),
            };
            out.push(s);
            if i + 1 < n || want_carry {
                c = Some(match c {
                    Some(c) => {
                        let xc = self.xor(x, c);
                        let yc = self.xor(y, c);
                        let t = self.and(xc, yc);
                        self.xor(c, t)
                    }
                    None => self.and(x, y),
                });
            }
        }
        (out, if want_carry { c } else { None })
    }

    /// `a + b` modulo 2^n (n - 1 ANDs).
    pub fn add(&mut self, a: &[Wire], b: &[Wire]) -> Vec<Wire> {
        self.add_with_carry(a, b, None, false).0
    }

    /// `a - b` modulo 2^n (n - 1 ANDs): `a + NOT b + 1`.
    pub fn sub(&mut self, a: &[Wire], b: &[Wire]) -> Vec<Wire> {
        let nb = self.not_word(b);
        let one = self.constant(true);
        self.add_with_carry(a, &nb, Some(one), false).0
    }

    /// `a - b` modulo 2^n and whether `a >= b` as unsigned integers (n ANDs): one borrow chain
    /// for both.
    pub fn sub_with_ge(&mut self, a: &[Wire], b: &[Wire]) -> (Vec<Wire>, Wire) {
        let nb = self.not_word(b);
        let one = self.constant(true);
        let (d, carry) = self.add_with_carry(a, &nb, Some(one), true);
        let ge = carry.unwrap_or_else(|| self.constant(true));
        (d, ge)
    }

    /// `-a` modulo 2^n.
    pub fn neg(&mut self, a: &[Wire]) -> Vec<Wire> {
        let zero = self.constant_word(0, a.len());
        self.sub(&zero, a)
    }

    /// `a < b` as unsigned integers (n ANDs): the borrow out of `a - b`.
    pub fn lt_unsigned(&mut self, a: &[Wire], b: &[Wire]) -> Wire {
        // a + NOT b + 1 carries out iff a >= b.
        let nb = self.not_word(b);
        let one = self.constant(true);
        let (_, carry) = self.add_with_carry(a, &nb, Some(one), true);
        match carry {
            Some(c) => self.not(c),
            None => self.constant(false),
        }
    }

    /// `a < b` as two's-complement integers (n ANDs).
    pub fn lt_signed(&mut self, a: &[Wire], b: &[Wire]) -> Wire {
        let n = a.len().min(b.len());
        if n == 0 {
            return self.constant(false);
        }
        // Flipping the sign bits maps signed order to unsigned order.
        let mut a2 = a[..n].to_vec();
        let mut b2 = b[..n].to_vec();
        a2[n - 1] = self.not(a[n - 1]);
        b2[n - 1] = self.not(b[n - 1]);
        self.lt_unsigned(&a2, &b2)
    }

    /// `a == b` (n - 1 ANDs).
    pub fn eq(&mut self, a: &[Wire], b: &[Wire]) -> Wire {
        let d = self.xor_word(a, b);
        let mut acc: Option<Wire> = None;
        for x in d {
            let nx = self.not(x);
            acc = Some(match acc {
                Some(a) => self.and(a, nx),
                None => nx,
            });
        }
        acc.unwrap_or_else(|| self.constant(true))
    }

    /// The most significant bit (the sign of a two's-complement word); free.
    pub fn msb(&mut self, a: &[Wire]) -> Wire {
        match a.last() {
            Some(&w) => w,
            None => self.constant(false),
        }
    }

    /// `a << k` (logical, the width kept); free.
    pub fn shl(&mut self, a: &[Wire], k: usize) -> Vec<Wire> {
        let n = a.len();
        let zero = self.constant(false);
        (0..n)
            .map(|i| if i >= k { a[i - k] } else { zero })
            .collect()
    }

    /// `a >> k`, logical (zero-filled); free.
    pub fn shr(&mut self, a: &[Wire], k: usize) -> Vec<Wire> {
        let n = a.len();
        let zero = self.constant(false);
        (0..n)
            .map(|i| if i + k < n { a[i + k] } else { zero })
            .collect()
    }

    /// `a >> k`, arithmetic (sign-filled); free.
    pub fn sar(&mut self, a: &[Wire], k: usize) -> Vec<Wire> {
        let n = a.len();
        let Some(&sign) = a.last() else {
            return Vec::new();
        };
        (0..n)
            .map(|i| if i + k < n { a[i + k] } else { sign })
            .collect()
    }

    /// Appends an output value made of `bits` (least significant first).
    pub fn output(&mut self, bits: &[Wire]) {
        self.output_widths.push(bits.len());
        self.output_wires.extend(bits.iter().map(|w| w.0));
    }

    /// The number of AND gates so far.
    pub fn and_count(&self) -> usize {
        self.gates
            .iter()
            .filter(|g| matches!(g, Gate::And { .. }))
            .count()
    }

    /// The finished circuit, validated (fails if wires of another builder were mixed in).
    pub fn finish(self) -> Result<Circuit, Error> {
        Circuit::new(
            self.next as usize,
            self.input_widths,
            self.output_widths,
            self.output_wires,
            self.gates,
        )
    }
}
