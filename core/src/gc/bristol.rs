//! A reader for Bristol Fashion circuit files.
//!
//! The format (<https://nigelsmart.github.io/MPC-Circuits/>): a header line
//! `num_gates num_wires`, a line `niv w_1 .. w_niv` with the input values' widths, a line
//! `nov v_1 .. v_nov` with the output values' widths, then one gate per line
//! (`2 1 a b c XOR|AND`, `1 1 a c INV|EQW`, `1 1 v c EQ`, `2n n a.. b.. c.. MAND`). Input value 0
//! occupies the first wires; the outputs are the last wires, value 0 first.
//!
//! The reader trusts nothing: every count is checked against the file's actual content before
//! anything is allocated for it (a header may not claim more gates than the file has lines, nor
//! more wires than it has bytes), and every problem — a wrong count, a wire out of range, a wire
//! read before it is written or written twice, an unknown gate — is an
//! [`ErrorKind::BadCircuit`] carrying the line number. It never panics.

use super::circuit::{Circuit, Gate, MAX_WIRES};
use crate::error::{Error, ErrorKind};
use alloc::vec;
use alloc::vec::Vec;

/// The most tokens one gate line may have (a `MAND` of 1024 gates).
const MAX_GATE_TOKENS: usize = 3 + 3 * 1024;

fn err(line: usize, reason: &'static str) -> Error {
    Error::new("bristol", ErrorKind::BadCircuit { line, reason })
}

/// Parses a Bristol Fashion file given as bytes (it must be ASCII/UTF-8 text).
pub fn parse_bytes(bytes: &[u8]) -> Result<Circuit, Error> {
    match core::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(err(line, "not UTF-8 text"))
        }
    }
}

fn number(tok: &str, line: usize) -> Result<usize, Error> {
    if tok.is_empty() || tok.len() > 12 || !tok.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(line, "expected a decimal number"));
    }
    tok.parse::<usize>()
        .map_err(|_| err(line, "expected a decimal number"))
}

/// Lines with their 1-based numbers, blank lines skipped.
struct Lines<'a> {
    inner: core::iter::Enumerate<core::str::Lines<'a>>,
    last: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        for (i, l) in self.inner.by_ref() {
            self.last = i + 1;
            if !l.trim().is_empty() {
                return Some((i + 1, l));
            }
        }
        None
    }
}

/// Reads a line of the form `n x_1 .. x_n` (the input or output widths).
fn widths(
    lines: &mut Lines<'_>,
    what: &'static str,
    num_wires: usize,
) -> Result<Vec<usize>, Error> {
    let Some((ln, l)) = lines.next_line() else {
        return Err(err(lines.last + 1, what));
    };
    let mut toks = l.split_ascii_whitespace();
    let n = number(toks.next().unwrap_or(""), ln)?;
    // Tokens on the line bound the allocation, not the claimed count.
    let rest = toks.clone().count();
    if n != rest {
        return Err(err(
            ln,
            "the value count does not match the widths on the line",
        ));
    }
    let mut out = Vec::with_capacity(rest);
    let mut total = 0usize;
    for t in toks {
        let w = number(t, ln)?;
        total = total.saturating_add(w);
        if total > num_wires {
            return Err(err(ln, "the values are wider than the circuit has wires"));
        }
        out.push(w);
    }
    Ok(out)
}

/// Parses a Bristol Fashion circuit.
pub fn parse(text: &str) -> Result<Circuit, Error> {
    let mut lines = Lines {
        inner: text.lines().enumerate(),
        last: 0,
    };
    // Header.
    let Some((ln, l)) = lines.next_line() else {
        return Err(err(1, "empty file"));
    };
    let toks: heapless::Vec<&str, 3> = match l
        .split_ascii_whitespace()
        .try_fold(heapless::Vec::<&str, 3>::new(), |mut v, t| {
            v.push(t).map(|_| v)
        }) {
        Ok(v) if v.len() == 2 => v,
        _ => return Err(err(ln, "the header must be `num_gates num_wires`")),
    };
    let num_gates = number(toks[0], ln)?;
    let num_wires = number(toks[1], ln)?;
    if num_wires > MAX_WIRES {
        return Err(err(ln, "too many wires"));
    }
    // Every wire is an input or written by a gate, and each costs at least a byte of text; every
    // gate needs a line of its own.
    if num_wires > text.len() {
        return Err(err(
            ln,
            "the header claims more wires than the file can describe",
        ));
    }
    if num_gates > text.lines().count() {
        return Err(err(
            ln,
            "the header claims more gates than the file has lines",
        ));
    }
    let input_widths = widths(&mut lines, "missing input widths line", num_wires)?;
    let output_widths = widths(&mut lines, "missing output widths line", num_wires)?;
    let n_in: usize = input_widths.iter().sum();
    let n_out: usize = output_widths.iter().sum();

    let mut written = vec![false; num_wires];
    written[..n_in].fill(true);
    let mut gates = Vec::with_capacity(num_gates);
    let mut toks: Vec<&str> = Vec::new();
    let mut nums: Vec<u32> = Vec::new();
    let mut count = 0usize;
    while count < num_gates {
        let Some((ln, l)) = lines.next_line() else {
            return Err(err(
                lines.last + 1,
                "fewer gate lines than the header's gate count",
            ));
        };
        toks.clear();
        for t in l.split_ascii_whitespace() {
            if toks.len() == MAX_GATE_TOKENS {
                return Err(err(ln, "gate line too long"));
            }
            toks.push(t);
        }
        if toks.len() < 4 {
            return Err(err(ln, "a gate line needs `nin nout wires.. OP`"));
        }
        let nin = number(toks[0], ln)?;
        let nout = number(toks[1], ln)?;
        if toks.len() != nin.saturating_add(nout).saturating_add(3) {
            return Err(err(ln, "the number of wires does not match nin and nout"));
        }
        let op = toks[toks.len() - 1];
        let (arity_ok, is_const) = match op {
            "XOR" | "AND" => (nin == 2 && nout == 1, false),
            "INV" | "EQW" => (nin == 1 && nout == 1, false),
            "EQ" => (nin == 1 && nout == 1, true),
            "MAND" => (nout >= 1 && nin == 2 * nout, false),
            _ => return Err(err(ln, "unknown gate type")),
        };
        if !arity_ok {
            return Err(err(ln, "wrong nin or nout for the gate type"));
        }
        nums.clear();
        for t in &toks[2..toks.len() - 1] {
            let w = number(t, ln)?;
            nums.push(u32::try_from(w).map_err(|_| err(ln, "wire index out of range"))?);
        }
        let (ins, outs) = nums.split_at(nin);
        if is_const {
            if ins[0] > 1 {
                return Err(err(ln, "the constant of an EQ gate must be 0 or 1"));
            }
        } else {
            for &w in ins {
                match written.get(w as usize) {
                    None => return Err(err(ln, "input wire index out of range")),
                    Some(false) => return Err(err(ln, "wire read before it is written")),
                    Some(true) => {}
                }
            }
        }
        for &w in outs {
            match written.get_mut(w as usize) {
                None => return Err(err(ln, "output wire index out of range")),
                Some(true) => return Err(err(ln, "wire written twice")),
                Some(x) => *x = true,
            }
        }
        match op {
            "XOR" => gates.push(Gate::Xor {
                a: ins[0],
                b: ins[1],
                out: outs[0],
            }),
            "AND" => gates.push(Gate::And {
                a: ins[0],
                b: ins[1],
                out: outs[0],
            }),
            "INV" => gates.push(Gate::Inv {
                a: ins[0],
                out: outs[0],
            }),
            "EQW" => gates.push(Gate::Copy {
                a: ins[0],
                out: outs[0],
            }),
            "EQ" => gates.push(Gate::Const {
                value: ins[0] == 1,
                out: outs[0],
            }),
            _ => {
                let (a, b) = ins.split_at(nout);
                for ((&a, &b), &out) in a.iter().zip(b).zip(outs) {
                    gates.push(Gate::And { a, b, out });
                }
            }
        }
        count += 1;
    }
    if let Some((ln, _)) = lines.next_line() {
        return Err(err(ln, "more gate lines than the header's gate count"));
    }
    let end = lines.last.max(1);
    let first_out = num_wires - n_out;
    if written[first_out..].iter().any(|w| !w) {
        return Err(err(end, "an output wire is never written"));
    }
    let output_wires: Vec<u32> = (first_out..num_wires).map(|w| w as u32).collect();
    Ok(Circuit::from_validated(
        num_wires,
        input_widths,
        output_widths,
        output_wires,
        gates,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str) -> (usize, &'static str) {
        match parse(text).map_err(|e| e.kind().clone()) {
            Err(ErrorKind::BadCircuit { line, reason }) => (line, reason),
            other => panic!("expected a circuit error, got {other:?}"),
        }
    }

    #[test]
    fn small_circuit_parses_and_evaluates() {
        let c = parse("3 5\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n1 1 2 3 INV\n1 1 3 4 EQW\n").unwrap();
        assert_eq!(c.and_count(), 1);
        assert_eq!(c.eval(&[true, true]).unwrap(), [false]);
        assert_eq!(c.eval(&[true, false]).unwrap(), [true]);
    }

    #[test]
    fn errors_carry_line_numbers() {
        assert_eq!(line_of("2 4\n2 1 1\n1 1\n\n2 1 0 1 2 AND\n").0, 6);
        assert_eq!(line_of("1 4\n2 1 1\n1 1\n\n2 1 0 9 3 AND\n").0, 5);
        assert_eq!(line_of("1 4\n2 1 1\n1 1\n\n2 1 0 2 3 AND\n").0, 5);
        assert_eq!(line_of("1 4\n2 1 1\n1 1\n\n2 1 0 1 3 NAND\n").0, 5);
        assert_eq!(line_of("99999999 4\n2 1 1\n1 1\n").0, 1);
        assert_eq!(line_of("1 999999999\n2 1 1\n1 1\n").0, 1);
        assert_eq!(line_of("1 4\n3 1 1\n1 1\n").0, 2);
    }
}
