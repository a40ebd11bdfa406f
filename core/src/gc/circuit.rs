//! The circuit IR: gates over numbered wires, in topological order.

use super::garble::Schedule;
use crate::error::{Error, ErrorKind};
use alloc::vec;
use alloc::vec::Vec;

/// The largest number of wires a circuit may have (wire indices are `u32`).
pub const MAX_WIRES: usize = 1 << 30;

/// One gate. Wires are indices below [`Circuit::num_wires`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// `out = a XOR b` (free with free-XOR).
    Xor {
        /// First input wire.
        a: u32,
        /// Second input wire.
        b: u32,
        /// Output wire.
        out: u32,
    },
    /// `out = a AND b` (two ciphertexts with half-gates).
    And {
        /// First input wire.
        a: u32,
        /// Second input wire.
        b: u32,
        /// Output wire.
        out: u32,
    },
    /// `out = NOT a` (free).
    Inv {
        /// Input wire.
        a: u32,
        /// Output wire.
        out: u32,
    },
    /// `out = a`, a wire copy (Bristol `EQW`; free).
    Copy {
        /// Input wire.
        a: u32,
        /// Output wire.
        out: u32,
    },
    /// `out = value`, a public constant (Bristol `EQ`; free).
    Const {
        /// The constant.
        value: bool,
        /// Output wire.
        out: u32,
    },
}

impl Gate {
    /// The wire this gate writes.
    pub fn output(&self) -> u32 {
        match *self {
            Gate::Xor { out, .. }
            | Gate::And { out, .. }
            | Gate::Inv { out, .. }
            | Gate::Copy { out, .. }
            | Gate::Const { out, .. } => out,
        }
    }

    /// The wires this gate reads (none, one or two).
    pub fn inputs(&self) -> ([u32; 2], usize) {
        match *self {
            Gate::Xor { a, b, .. } | Gate::And { a, b, .. } => ([a, b], 2),
            Gate::Inv { a, .. } | Gate::Copy { a, .. } => ([a, 0], 1),
            Gate::Const { .. } => ([0, 0], 0),
        }
    }
}

/// A boolean circuit: input values on the first wires, gates in topological order, output
/// values on chosen wires.
///
/// Input value `i` of width `w_i` occupies the `w_i` wires after those of values `0..i`, wire `k`
/// of a value carrying bit `k` (least significant first) of the value. Every circuit is validated
/// when built: each wire is written at most once (inputs count as written), read only after it is
/// written, and every output wire is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Circuit {
    num_wires: usize,
    input_widths: Vec<usize>,
    output_widths: Vec<usize>,
    output_wires: Vec<u32>,
    gates: Vec<Gate>,
    and_count: usize,
    schedule: Schedule,
}

fn bad(reason: &'static str) -> Error {
    Error::new("circuit", ErrorKind::BadCircuit { line: 0, reason })
}

impl Circuit {
    /// Validates and builds a circuit from its parts. `output_wires` lists the wires of all output
    /// values, value 0 first, and must have `sum(output_widths)` entries.
    pub fn new(
        num_wires: usize,
        input_widths: Vec<usize>,
        output_widths: Vec<usize>,
        output_wires: Vec<u32>,
        gates: Vec<Gate>,
    ) -> Result<Circuit, Error> {
        if num_wires > MAX_WIRES {
            return Err(bad("too many wires"));
        }
        let n_in = checked_sum(&input_widths).ok_or(bad("input widths overflow"))?;
        if n_in > num_wires {
            return Err(bad("more input bits than wires"));
        }
        let n_out = checked_sum(&output_widths).ok_or(bad("output widths overflow"))?;
        if n_out != output_wires.len() {
            return Err(bad("output widths do not match the output wires"));
        }
        let mut written = vec![false; num_wires];
        written[..n_in].fill(true);
        let mut and_count = 0;
        for g in &gates {
            let (ins, k) = g.inputs();
            for &w in &ins[..k] {
                match written.get(w as usize) {
                    None => return Err(bad("gate input wire out of range")),
                    Some(false) => return Err(bad("wire read before it is written")),
                    Some(true) => {}
                }
            }
            match written.get_mut(g.output() as usize) {
                None => return Err(bad("gate output wire out of range")),
                Some(true) => return Err(bad("wire written twice")),
                Some(w) => *w = true,
            }
            and_count += usize::from(matches!(g, Gate::And { .. }));
        }
        for &w in &output_wires {
            if !written.get(w as usize).copied().unwrap_or(false) {
                return Err(bad("output wire never written"));
            }
        }
        let schedule = Schedule::new(num_wires, n_in, &gates, &output_wires);
        Ok(Circuit {
            num_wires,
            input_widths,
            output_widths,
            output_wires,
            gates,
            and_count,
            schedule,
        })
    }

    /// Builds a circuit that the caller has already validated (the Bristol reader, the builder).
    pub(crate) fn from_validated(
        num_wires: usize,
        input_widths: Vec<usize>,
        output_widths: Vec<usize>,
        output_wires: Vec<u32>,
        gates: Vec<Gate>,
    ) -> Circuit {
        let and_count = gates
            .iter()
            .filter(|g| matches!(g, Gate::And { .. }))
            .count();
        let n_in = input_widths.iter().sum();
        let schedule = Schedule::new(num_wires, n_in, &gates, &output_wires);
        Circuit {
            num_wires,
            input_widths,
            output_widths,
            output_wires,
            gates,
            and_count,
            schedule,
        }
    }

    /// The order in which garbler and evaluator process the gates (built with the circuit).
    pub(crate) fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// `lanes` independent copies of this circuit side by side, as one circuit: the input values
    /// of copy 0, then those of copy 1, and so on, and the outputs in the same order. Garbling
    /// the copies together lets the AND gates of one depth in every copy be hashed in one batch.
    pub fn replicate(&self, lanes: usize) -> Result<Circuit, Error> {
        let i = self.input_bits();
        let inner = self.num_wires - i;
        let total = lanes
            .checked_mul(self.num_wires)
            .filter(|&t| t <= MAX_WIRES)
            .ok_or(bad("too many wires"))?;
        let map = |lane: usize, w: u32| -> u32 {
            let w = w as usize;
            let n = if w < i {
                lane * i + w
            } else {
                lanes * i + lane * inner + (w - i)
            };
            n as u32
        };
        let mut gates = Vec::with_capacity(lanes * self.gates.len());
        let mut outputs = Vec::with_capacity(lanes * self.output_wires.len());
        for lane in 0..lanes {
            let m = |w| map(lane, w);
            gates.extend(self.gates.iter().map(|g| match *g {
                Gate::Xor { a, b, out } => Gate::Xor {
                    a: m(a),
                    b: m(b),
                    out: m(out),
                },
                Gate::And { a, b, out } => Gate::And {
                    a: m(a),
                    b: m(b),
                    out: m(out),
                },
                Gate::Inv { a, out } => Gate::Inv {
                    a: m(a),
                    out: m(out),
                },
                Gate::Copy { a, out } => Gate::Copy {
                    a: m(a),
                    out: m(out),
                },
                Gate::Const { value, out } => Gate::Const { value, out: m(out) },
            }));
            outputs.extend(self.output_wires.iter().map(|&w| m(w)));
        }
        let repeat = |v: &[usize]| v.iter().copied().cycle().take(lanes * v.len()).collect();
        Circuit::new(
            total,
            repeat(&self.input_widths),
            repeat(&self.output_widths),
            outputs,
            gates,
        )
    }

    /// The number of wires.
    pub fn num_wires(&self) -> usize {
        self.num_wires
    }

    /// The bit width of each input value, in order.
    pub fn input_widths(&self) -> &[usize] {
        &self.input_widths
    }

    /// The bit width of each output value, in order.
    pub fn output_widths(&self) -> &[usize] {
        &self.output_widths
    }

    /// The wires of all output values, value 0 first, each least significant bit first.
    pub fn output_wires(&self) -> &[u32] {
        &self.output_wires
    }

    /// The gates in evaluation order.
    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// The total number of input bits (the first wires).
    pub fn input_bits(&self) -> usize {
        self.input_widths.iter().sum()
    }

    /// The total number of output bits.
    pub fn output_bits(&self) -> usize {
        self.output_wires.len()
    }

    /// The number of AND gates: each costs two ciphertexts (32 bytes) with half-gates.
    pub fn and_count(&self) -> usize {
        self.and_count
    }

    /// The first wire of input value `i`, or `None` if there is no such value.
    pub fn input_offset(&self, i: usize) -> Option<usize> {
        (i < self.input_widths.len()).then(|| self.input_widths[..i].iter().sum())
    }

    /// Evaluates the circuit in the clear on all input bits (value 0 first, each least
    /// significant bit first) and returns all output bits: the plaintext reference.
    pub fn eval(&self, inputs: &[bool]) -> Result<Vec<bool>, Error> {
        let n_in = self.input_bits();
        if inputs.len() != n_in {
            return Err(Error::dimension("circuit eval", n_in, inputs.len()));
        }
        let mut w = vec![false; self.num_wires];
        w[..n_in].copy_from_slice(inputs);
        for g in &self.gates {
            let v = match *g {
                Gate::Xor { a, b, .. } => w[a as usize] ^ w[b as usize],
                Gate::And { a, b, .. } => w[a as usize] & w[b as usize],
                Gate::Inv { a, .. } => !w[a as usize],
                Gate::Copy { a, .. } => w[a as usize],
                Gate::Const { value, .. } => value,
            };
            w[g.output() as usize] = v;
        }
        Ok(self.output_wires.iter().map(|&o| w[o as usize]).collect())
    }
}

fn checked_sum(xs: &[usize]) -> Option<usize> {
    xs.iter().try_fold(0usize, |acc, &x| acc.checked_add(x))
}
