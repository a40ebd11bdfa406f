//! Garbled circuits: a gate IR, a circuit builder, a Bristol Fashion reader, half-gates garbling
//! and a two-party driver (`alloc`).
//!
//! - [`Circuit`], [`Gate`]: the IR (XOR, AND, NOT, plus wire copies and public constants), with a
//!   plaintext evaluator as the reference.
//! - [`Builder`]: adders, subtractors, comparators, MSB, multiplexers, shifts.
//! - [`bristol`]: the reader for Bristol Fashion files; it checks everything and reports the line.
//! - [`garble`]: the pure garbling and evaluation steps (free-XOR, point-and-permute, half-gates),
//!   hashed by a [`crate::hash::BlockHash`] (fixed-key AES by default).
//! - [`protocol`]: [`execute`] runs a circuit between P0 (garbler) and P1 (evaluator) over a
//!   [`crate::Channel`], with P1's input labels by random OT from the offline phase.
//!
//! ## Security
//! Semi-honest security (Yao with half-gates; Zahur-Rosulek-Evans 2015, with the tweakable
//! correlation-robust hash of Guo et al. 2020). The evaluator sees only random-looking labels:
//! the low bit of each of its labels is the wire's value masked by a uniform permute bit. The
//! garbler learns nothing from the OT step (it sees P1's bits masked by random OT choices). A fresh
//! offset and fresh labels must be drawn for every run (pass a fresh generator to [`execute`]).

pub mod bristol;
pub mod builder;
pub mod circuit;
pub mod garble;
pub mod protocol;

pub use builder::{Builder, Wire};
pub use circuit::{Circuit, Gate};
pub use garble::{Delta, Evaluator, Garbler};
pub use protocol::{Job, Reveal, execute, execute_batch};

use alloc::vec::Vec;

/// Frame tags of the garbled-circuit protocol (range 0x04xx).
pub mod tag {
    /// The evaluator's input bits masked by its random-OT choice bits.
    pub const OT_CHOICE: u16 = 0x0402;
    /// The garbler's stream: for each copy of the circuit, the labels of its own input bits, the
    /// OT corrections (both labels of each evaluator input wire, one-time padded) and the garbled
    /// tables (two blocks per AND gate).
    pub const GARBLED: u16 = 0x0404;
    /// The output wires' permute bits (decoding information for the evaluator).
    pub const DECODE: u16 = 0x0405;
    /// The evaluator's masked output bits (for the garbler to decode).
    pub const OUTPUT: u16 = 0x0406;
}

/// The low `width` bits of `value`, least significant first (bits beyond 128 are zero).
pub fn to_bits(value: u128, width: usize) -> Vec<bool> {
    (0..width)
        .map(|i| i < 128 && (value >> i) & 1 == 1)
        .collect()
}

/// The integer whose bits, least significant first, are `bits` (bits beyond 128 are ignored).
pub fn from_bits(bits: &[bool]) -> u128 {
    bits.iter()
        .take(128)
        .enumerate()
        .fold(0u128, |acc, (i, &b)| acc | (u128::from(b) << i))
}
