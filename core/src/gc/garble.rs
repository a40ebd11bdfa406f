//! Half-gates garbling and evaluation as pure steps over gate batches (no I/O).
//!
//! Free-XOR (Kolesnikov-Schneider 2008): a global offset `delta` with least significant bit 1;
//! wire `w` has labels `L_w^0` and `L_w^1 = L_w^0 ^ delta`. XOR, NOT, copies and constants cost
//! nothing. Point-and-permute: the evaluator's label's lowest bit is the wire's value masked by the
//! garbler's permute bit `lsb(L_w^0)`. AND gates use half-gates (Zahur-Rosulek-Evans 2015): two
//! 128-bit ciphertexts per gate, four hash calls to garble it and two to evaluate it, with the
//! hash a [`BlockHash`] under tweaks `2j` and `2j + 1` for the `j`-th AND gate garbled.
//!
//! ## Order of work: a schedule by AND depth
//! Both sides walk the gates in one fixed order, derived from the circuit alone (so garbler and
//! evaluator agree): the gates sorted, stably, by *AND depth* — an AND gate lies one level above
//! the deepest of its inputs, a free gate on the level of its deepest input — with, on each level,
//! the AND gates first and then the free gates in circuit order. The AND gates of one level are
//! independent of each other, so they are hashed in large batches (the AES pipeline works on many
//! blocks at once) with no per-gate dependency check; the free gates all become XORs (NOT `a` is
//! `a XOR one`, a copy is `a XOR zero`, constants are `one` or `zero`, where the two extra wires
//! `one` and `zero` carry the labels `delta` and 0 for the garbler and 0 for the evaluator), so
//! each segment of the schedule is one tight loop without branches. The `j`-th AND gate, its
//! table slot and its tweaks follow this order.
//!
//! [`Garbler::garble`] and [`Evaluator::evaluate`] follow the schedule and stop when the next AND
//! gate would need more table space (or ciphertexts) than the call holds, so a driver can stream
//! the tables in chunks of any size with bounded memory.
//!
//! No branch depends on a secret: selections by permute bits use all-ones / all-zero masks.

use super::circuit::{Circuit, Gate};
use crate::hash::{Block, BlockHash};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// The garbler's global free-XOR offset: random, least significant bit 1. Secret: zeroized on
/// drop, neither `Clone`, `Copy` nor `Debug`.
pub struct Delta(Block);

impl Delta {
    /// A fresh random offset.
    pub fn random<G: CryptoRng + ?Sized>(rng: &mut G) -> Delta {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        let d = Delta(u128::from_le_bytes(b) | 1);
        b.zeroize();
        d
    }

    fn get(&self) -> Block {
        self.0
    }
}

impl Drop for Delta {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Delta {}

/// All ones if `bit` (the lowest bit of `x`) is set, else all zeros.
#[inline(always)]
fn lsb_mask(x: Block) -> Block {
    (x & 1).wrapping_neg()
}

/// One run of the schedule: the operations up to `end` (exclusive), all AND gates or all XORs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    end: usize,
    and: bool,
}

/// The gates of a circuit in the order both sides process them (see the module docs), over
/// renumbered wires: the input wires keep their numbers `0..n` (`n` input bits), `n` is the extra
/// wire `one`, `n + 1` the extra wire `zero`, and the output of the `k`-th operation of the schedule
/// is wire `n + 2 + k`, so outputs are written in sequence and a gate stores only its two inputs.
/// A function of the circuit alone, built once with it ([`Circuit`] keeps it), so that a garbler
/// or evaluator starts at no cost.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The input wires of each operation.
    ops: Vec<[u32; 2]>,
    segments: Vec<Segment>,
    /// The number of input bits.
    inputs: usize,
    /// The renumbered output wires.
    outputs: Vec<u32>,
}

impl core::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Schedule {{ {} gates in {} segments }}",
            self.ops.len(),
            self.segments.len()
        )
    }
}

impl Schedule {
    /// The schedule of `gates` over `num_wires` wires (at most `MAX_WIRES`) of which the first
    /// `inputs` are the input bits; the caller has validated the circuit.
    pub(crate) fn new(num_wires: usize, inputs: usize, gates: &[Gate], outputs: &[u32]) -> Self {
        // Wire indices and gate counts are below MAX_WIRES = 2^30, so these fit.
        let (one, zero) = (inputs as u32, inputs as u32 + 1);
        // Each wire's place: (level, XOR depth within the level), AND outputs at depth 0.
        let mut place = vec![(0u32, 0u32); num_wires];
        // The largest XOR depth on each level.
        let mut depth: Vec<u32> = vec![0];
        for g in gates {
            let p = |w: u32| place[w as usize];
            let free = |x: (u32, u32), y: (u32, u32)| {
                let l = x.0.max(y.0);
                let d = |z: (u32, u32)| if z.0 == l { z.1 } else { 0 };
                (l, d(x).max(d(y)) + 1)
            };
            let q = match *g {
                Gate::And { a, b, .. } => (p(a).0.max(p(b).0) + 1, 0),
                Gate::Xor { a, b, .. } => free(p(a), p(b)),
                Gate::Inv { a, .. } | Gate::Copy { a, .. } => free(p(a), (0, 0)),
                Gate::Const { .. } => (0, 1),
            };
            place[g.output() as usize] = q;
            if depth.len() <= q.0 as usize {
                depth.resize(q.0 as usize + 1, 0);
            }
            let m = &mut depth[q.0 as usize];
            *m = (*m).max(q.1);
        }
        // Sort keys: level by level, the AND gates, then the XORs by depth. `base[l]` is the key
        // of level `l`'s AND gates, `base[l] + d` that of its XORs at depth `d`.
        let mut base = Vec::with_capacity(depth.len());
        let mut keys = 0usize;
        for &d in &depth {
            base.push(keys);
            keys += 1 + d as usize;
        }
        let key = |g: &Gate| {
            let (l, d) = place[g.output() as usize];
            base[l as usize] + d as usize
        };
        let mut counts = vec![0usize; keys];
        for g in gates {
            counts[key(g)] += 1;
        }
        // Counting sort, stable: `counts[k]` becomes the first position of key `k`.
        let mut segments: Vec<Segment> = Vec::new();
        let mut at = 0;
        let mut level = 0;
        for (k, c) in counts.iter_mut().enumerate() {
            if level + 1 < base.len() && base[level + 1] == k {
                level += 1;
            }
            let len = *c;
            *c = at;
            at += len;
            let and = k == base[level];
            match segments.last_mut() {
                _ if len == 0 => {}
                Some(s) if s.and == and && !and => s.end = at,
                _ => segments.push(Segment { end: at, and }),
            }
        }
        // In circuit order (topological), so every input is renamed before it is read.
        let mut rename: Vec<u32> = (0..num_wires as u32).collect();
        let mut ops = vec![[0u32; 2]; gates.len()];
        for g in gates {
            let slot = &mut counts[key(g)];
            let r = |w: u32| rename[w as usize];
            ops[*slot] = match *g {
                Gate::And { a, b, .. } | Gate::Xor { a, b, .. } => [r(a), r(b)],
                Gate::Inv { a, .. } => [r(a), one],
                Gate::Copy { a, .. } => [r(a), zero],
                Gate::Const { value, .. } => [if value { one } else { zero }, zero],
            };
            rename[g.output() as usize] = (inputs + 2 + *slot) as u32;
            *slot += 1;
        }
        Schedule {
            ops,
            segments,
            inputs,
            outputs: outputs.iter().map(|&w| rename[w as usize]).collect(),
        }
    }

    /// The number of labels a garbler or evaluator holds.
    fn wires(&self) -> usize {
        self.inputs + 2 + self.ops.len()
    }
}

/// Where a garbler or evaluator stands in the schedule.
#[derive(Clone, Copy, Default)]
struct Cursor {
    segment: usize,
    op: usize,
}

/// Runs the free (XOR) segments from `cur` up to the next AND segment or the end.
fn run_free(s: &Schedule, cur: &mut Cursor, labels: &mut [Block]) {
    while let Some(seg) = s.segments.get(cur.segment) {
        if seg.and {
            return;
        }
        let first = s.inputs + 2 + cur.op;
        for (k, &[a, b]) in s.ops[cur.op..seg.end].iter().enumerate() {
            labels[first + k] = labels[a as usize] ^ labels[b as usize];
        }
        cur.op = seg.end;
        cur.segment += 1;
    }
}

/// AND gates garbled per hash call (four hash inputs each).
pub const AND_BATCH: usize = 32;

/// AND gates evaluated per hash call (two hash inputs each).
const EVAL_BATCH: usize = 2 * AND_BATCH;

/// The garbler's state for one circuit: the offset and every wire's zero label.
///
/// Labels and offset are zeroized on drop.
pub struct Garbler<'c, H> {
    circuit: &'c Circuit,
    hash: H,
    delta: Delta,
    labels: Vec<Block>,
    cursor: Cursor,
    and_index: u64,
}

impl<H> Drop for Garbler<'_, H> {
    fn drop(&mut self) {
        self.labels.zeroize();
    }
}

impl<'c, H: BlockHash> Garbler<'c, H> {
    /// Starts garbling `circuit`: draws the offset and the zero labels of the input wires.
    pub fn new<G: CryptoRng + ?Sized>(circuit: &'c Circuit, hash: H, rng: &mut G) -> Self {
        let delta = Delta::random(rng);
        let s = circuit.schedule();
        let mut labels = vec![0u128; s.wires()];
        labels[s.inputs] = delta.get();
        let mut g = Garbler {
            circuit,
            hash,
            delta,
            labels,
            cursor: Cursor::default(),
            and_index: 0,
        };
        g.draw_inputs(rng);
        g
    }

    fn draw_inputs<G: CryptoRng + ?Sized>(&mut self, rng: &mut G) {
        let mut b = [0u8; 16];
        for l in self.labels.iter_mut().take(self.circuit.input_bits()) {
            rng.fill_bytes(&mut b);
            *l = u128::from_le_bytes(b);
        }
        b.zeroize();
    }

    /// Starts the next copy of the circuit when this one is done: fresh zero labels for the
    /// input wires, the same offset, and AND-gate tweaks that continue from the last copy (so no
    /// tweak repeats). Returns false, changing nothing, if garbling is not done.
    pub fn restart<G: CryptoRng + ?Sized>(&mut self, rng: &mut G) -> bool {
        if !self.is_done() {
            return false;
        }
        self.draw_inputs(rng);
        self.cursor = Cursor::default();
        true
    }

    /// The label of input wire `wire` carrying `bit` (the label the evaluator must receive).
    /// `None` if `wire` is not an input wire.
    pub fn input_label(&self, wire: usize, bit: bool) -> Option<Block> {
        if wire >= self.circuit.input_bits() {
            return None;
        }
        Some(self.labels[wire] ^ (Block::from(bit).wrapping_neg() & self.delta.get()))
    }

    /// Both labels `(L^0, L^1)` of input wire `wire` (for oblivious transfer), or `None`.
    pub fn input_labels(&self, wire: usize) -> Option<[Block; 2]> {
        if wire >= self.circuit.input_bits() {
            return None;
        }
        let l0 = self.labels[wire];
        Some([l0, l0 ^ self.delta.get()])
    }

    /// Garbles gates in schedule order (see the module docs) until the circuit is done or the
    /// next AND gate's two ciphertexts would not fit in `table`; returns the number of blocks
    /// written (always even). Independent AND gates are hashed in batches of [`AND_BATCH`].
    pub fn garble(&mut self, table: &mut [Block]) -> usize {
        let d = self.delta.get();
        let s = self.circuit.schedule();
        let labels = &mut self.labels[..];
        let mut h = [0u128; 4 * AND_BATCH];
        let mut t = [0u128; 4 * AND_BATCH];
        let mut ab = [0u128; 2 * AND_BATCH];
        let mut written = 0;
        loop {
            run_free(s, &mut self.cursor, labels);
            let Some(seg) = s.segments.get(self.cursor.segment) else {
                break;
            };
            let room = (table.len() - written) / 2;
            let take = (seg.end - self.cursor.op).min(room);
            let ops = &s.ops[self.cursor.op..self.cursor.op + take];
            // The segment's inputs all lie below its outputs.
            let (done, outs) = labels.split_at_mut(s.inputs + 2 + self.cursor.op);
            let cts = &mut table[written..written + 2 * take];
            for ((chunk, tab), outs) in ops
                .chunks(AND_BATCH)
                .zip(cts.chunks_mut(2 * AND_BATCH))
                .zip(outs.chunks_mut(AND_BATCH))
            {
                let m = chunk.len();
                let j0 = u128::from(self.and_index) << 1;
                for (k, (((&[a, b], h), t), ab)) in chunk
                    .iter()
                    .zip(h.chunks_exact_mut(4))
                    .zip(t.chunks_exact_mut(4))
                    .zip(ab.chunks_exact_mut(2))
                    .enumerate()
                {
                    let (a0, b0) = (done[a as usize], done[b as usize]);
                    ab.copy_from_slice(&[a0, b0]);
                    let j = j0 + 2 * k as u128;
                    h.copy_from_slice(&[a0, a0 ^ d, b0, b0 ^ d]);
                    t.copy_from_slice(&[j, j, j | 1, j | 1]);
                }
                self.hash.hash_in_place(&t[..4 * m], &mut h[..4 * m]);
                for (((ab, h), ct), out) in ab[..2 * m]
                    .chunks_exact(2)
                    .zip(h.chunks_exact(4))
                    .zip(tab.chunks_exact_mut(2))
                    .zip(outs.iter_mut())
                {
                    let (a0, b0) = (ab[0], ab[1]);
                    let (pa, pb) = (lsb_mask(a0), lsb_mask(b0));
                    // Garbler half: a AND pb, with pb known to the garbler.
                    let tg = h[0] ^ h[1] ^ (pb & d);
                    let wg = h[0] ^ (pa & tg);
                    // Evaluator half: a AND (b XOR pb), with b XOR pb known to the evaluator.
                    let te = h[2] ^ h[3] ^ a0;
                    let we = h[2] ^ (pb & (te ^ a0));
                    *out = wg ^ we;
                    ct[0] = tg;
                    ct[1] = te;
                }
                self.and_index += m as u64;
            }
            self.cursor.op += take;
            written += 2 * take;
            if self.cursor.op < seg.end {
                break;
            }
            self.cursor.segment += 1;
        }
        h.zeroize();
        ab.zeroize();
        written
    }

    /// Whether every gate has been garbled.
    pub fn is_done(&self) -> bool {
        self.cursor.segment >= self.circuit.schedule().segments.len()
    }

    /// The permute bit (`lsb` of the zero label) of output bit `k`: the decoding information, and
    /// the garbler's XOR share of the output. `None` before garbling is done or out of range.
    pub fn output_permute_bit(&self, k: usize) -> Option<bool> {
        if !self.is_done() {
            return None;
        }
        let w = *self.circuit.schedule().outputs.get(k)?;
        Some(self.labels[w as usize] & 1 == 1)
    }
}

/// The evaluator's state for one circuit: one (active) label per wire.
pub struct Evaluator<'c, H> {
    circuit: &'c Circuit,
    hash: H,
    labels: Vec<Block>,
    cursor: Cursor,
    and_index: u64,
}

impl<H> Drop for Evaluator<'_, H> {
    fn drop(&mut self) {
        self.labels.zeroize();
    }
}

impl<'c, H: BlockHash> Evaluator<'c, H> {
    /// Starts evaluating `circuit`; set every input label before [`Evaluator::evaluate`].
    pub fn new(circuit: &'c Circuit, hash: H) -> Self {
        Evaluator {
            circuit,
            hash,
            // The extra wires `one` and `zero` both carry the public label 0 here.
            labels: vec![0u128; circuit.schedule().wires()],
            cursor: Cursor::default(),
            and_index: 0,
        }
    }

    /// Starts the next copy of the circuit when this one is done (mirrors [`Garbler::restart`]);
    /// set the new input labels before evaluating. Returns false if evaluation is not done.
    pub fn restart(&mut self) -> bool {
        if !self.is_done() {
            return false;
        }
        self.cursor = Cursor::default();
        true
    }

    /// Sets the active label of input wire `wire`; false if `wire` is not an input wire.
    pub fn set_input_label(&mut self, wire: usize, label: Block) -> bool {
        if wire >= self.circuit.input_bits() {
            return false;
        }
        self.labels[wire] = label;
        true
    }

    /// Evaluates gates in schedule order until the circuit is done or the next AND gate's
    /// ciphertexts are not in `table`; returns the number of table blocks consumed.
    pub fn evaluate(&mut self, table: &[Block]) -> usize {
        let s = self.circuit.schedule();
        let labels = &mut self.labels[..];
        let mut h = [0u128; 2 * EVAL_BATCH];
        let mut t = [0u128; 2 * EVAL_BATCH];
        let mut ab = [0u128; 2 * EVAL_BATCH];
        let mut read = 0;
        loop {
            run_free(s, &mut self.cursor, labels);
            let Some(seg) = s.segments.get(self.cursor.segment) else {
                break;
            };
            let room = (table.len() - read) / 2;
            let take = (seg.end - self.cursor.op).min(room);
            let ops = &s.ops[self.cursor.op..self.cursor.op + take];
            let (done, outs) = labels.split_at_mut(s.inputs + 2 + self.cursor.op);
            let cts = &table[read..read + 2 * take];
            for ((chunk, tab), outs) in ops
                .chunks(EVAL_BATCH)
                .zip(cts.chunks(2 * EVAL_BATCH))
                .zip(outs.chunks_mut(EVAL_BATCH))
            {
                let m = chunk.len();
                let j0 = u128::from(self.and_index) << 1;
                for (k, (((&[a, b], h), t), ab)) in chunk
                    .iter()
                    .zip(h.chunks_exact_mut(2))
                    .zip(t.chunks_exact_mut(2))
                    .zip(ab.chunks_exact_mut(2))
                    .enumerate()
                {
                    let j = j0 + 2 * k as u128;
                    let (la, lb) = (done[a as usize], done[b as usize]);
                    h.copy_from_slice(&[la, lb]);
                    ab.copy_from_slice(&[la, lb]);
                    t.copy_from_slice(&[j, j | 1]);
                }
                self.hash.hash_in_place(&t[..2 * m], &mut h[..2 * m]);
                for (((ab, h), ct), out) in ab[..2 * m]
                    .chunks_exact(2)
                    .zip(h.chunks_exact(2))
                    .zip(tab.chunks_exact(2))
                    .zip(outs.iter_mut())
                {
                    let (la, lb) = (ab[0], ab[1]);
                    let wg = h[0] ^ (lsb_mask(la) & ct[0]);
                    let we = h[1] ^ (lsb_mask(lb) & (ct[1] ^ la));
                    *out = wg ^ we;
                }
                self.and_index += m as u64;
            }
            self.cursor.op += take;
            read += 2 * take;
            if self.cursor.op < seg.end {
                break;
            }
            self.cursor.segment += 1;
        }
        h.zeroize();
        ab.zeroize();
        read
    }

    /// Whether every gate has been evaluated.
    pub fn is_done(&self) -> bool {
        self.cursor.segment >= self.circuit.schedule().segments.len()
    }

    /// The lowest bit of output bit `k`'s active label: the output XOR the garbler's permute bit,
    /// i.e. the evaluator's XOR share of the output. `None` before evaluation is done.
    pub fn output_masked_bit(&self, k: usize) -> Option<bool> {
        if !self.is_done() {
            return None;
        }
        let w = *self.circuit.schedule().outputs.get(k)?;
        Some(self.labels[w as usize] & 1 == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gc::bristol;
    use crate::hash::FixedKeyAes;
    use crate::prg::{Domain, Prg, Seed};

    fn rng(i: u64) -> Prg {
        Seed::from_bytes([4; 32]).prg(Domain::GARBLING, i)
    }

    /// Every gate kind, chains of XORs, constants, NOT of an AND output, an AND of a wire with
    /// itself and with its own negation, and an output straight from an input.
    fn mixed() -> Circuit {
        use Gate::*;
        let gates = vec![
            And { a: 0, b: 1, out: 4 },
            Xor { a: 4, b: 2, out: 5 },
            Inv { a: 5, out: 6 },
            Const {
                value: true,
                out: 7,
            },
            Const {
                value: false,
                out: 8,
            },
            And { a: 6, b: 7, out: 9 },
            Copy { a: 9, out: 10 },
            And {
                a: 10,
                b: 10,
                out: 11,
            },
            Inv { a: 10, out: 12 },
            And {
                a: 10,
                b: 12,
                out: 13,
            },
            Xor {
                a: 3,
                b: 8,
                out: 14,
            },
            And {
                a: 14,
                b: 2,
                out: 15,
            },
            Xor {
                a: 15,
                b: 11,
                out: 16,
            },
            Xor {
                a: 16,
                b: 13,
                out: 17,
            },
            Inv { a: 8, out: 18 },
        ];
        let outs = vec![4, 5, 6, 9, 11, 13, 15, 16, 17, 18, 7, 3];
        Circuit::new(19, vec![2, 2], vec![outs.len()], outs, gates).unwrap()
    }

    fn adder() -> Circuit {
        bristol::parse(include_str!("../../circuits/adder64.txt")).unwrap()
    }

    /// Each AND segment only reads wires written before it (by earlier segments or inputs), each
    /// XOR only wires written before it, and every gate appears exactly once.
    #[test]
    fn schedule_respects_dependencies() {
        for c in [mixed(), adder()] {
            let s = c.schedule();
            let n = s.inputs;
            assert_eq!(n, c.input_bits());
            // Inputs and the two extra wires are there from the start; operation k writes n + 2 + k.
            let mut written = n + 2;
            let mut start = 0;
            for seg in &s.segments {
                for (k, &[a, b]) in s.ops[start..seg.end].iter().enumerate() {
                    // An AND gate reads only wires of earlier segments, an XOR earlier wires.
                    let limit = if seg.and { written } else { written + k };
                    assert!((a as usize) < limit && (b as usize) < limit);
                }
                written += seg.end - start;
                start = seg.end;
            }
            assert_eq!(start, c.gates().len());
            assert_eq!(s.ops.len(), c.gates().len());
            assert_eq!(s.wires(), written);
            assert_eq!(s.outputs.len(), c.output_bits());
            assert!(s.outputs.iter().all(|&w| (w as usize) < written));
        }
    }

    /// Garbling in table chunks of any size gives the same tables; evaluating in other chunk sizes
    /// decodes to the plaintext outputs, over several copies (restart).
    #[test]
    fn chunked_garbling_and_evaluation_match_plaintext() {
        for c in [mixed(), adder()] {
            let ands = c.and_count();
            let mut reference: Option<Vec<Block>> = None;
            for chunk in [1usize, 2, 3, 7, ands.max(1)] {
                let mut g = Garbler::new(&c, FixedKeyAes::new(), &mut rng(1));
                let mut e = Evaluator::new(&c, FixedKeyAes::new());
                let mut tables = Vec::new();
                for copy in 0..3u64 {
                    if copy > 0 {
                        assert!(g.restart(&mut rng(10 + copy)));
                        assert!(e.restart());
                    }
                    assert!(!g.restart(&mut rng(0)) || ands == 0 && c.gates().is_empty());
                    let mut table = vec![0u128; 2 * ands];
                    let mut at = 0;
                    while !g.is_done() {
                        let end = (at + 2 * chunk).min(table.len());
                        at += g.garble(&mut table[at..end]);
                    }
                    assert_eq!(at, table.len());
                    let inputs: Vec<bool> = (0..c.input_bits())
                        .map(|w| (w as u64 * 7 + copy).is_multiple_of(3))
                        .collect();
                    for (w, &bit) in inputs.iter().enumerate() {
                        assert!(e.set_input_label(w, g.input_label(w, bit).unwrap()));
                    }
                    let (mut read, echunk) = (0, chunk % 5 + 1);
                    while !e.is_done() {
                        let end = (read + 2 * echunk).min(table.len());
                        read += e.evaluate(&table[read..end]);
                    }
                    assert_eq!(read, table.len());
                    let expect = c.eval(&inputs).unwrap();
                    for (k, &bit) in expect.iter().enumerate() {
                        let m = e.output_masked_bit(k).unwrap();
                        assert_eq!(m ^ g.output_permute_bit(k).unwrap(), bit, "output {k}");
                    }
                    tables.extend_from_slice(&table);
                }
                // Same random labels (same generator), so the same tables whatever the chunks.
                match &reference {
                    None => reference = Some(tables),
                    Some(r) => assert_eq!(r, &tables),
                }
            }
        }
    }

    /// A table too short for the next AND gate writes nothing and leaves the garbler where it was.
    #[test]
    fn short_table_stops_before_the_next_and() {
        let c = mixed();
        let mut g = Garbler::new(&c, FixedKeyAes::new(), &mut rng(2));
        assert_eq!(g.garble(&mut [0u128; 1]), 0);
        assert!(!g.is_done());
        assert_eq!(g.output_permute_bit(0), None);
        let mut table = vec![0u128; 2 * c.and_count()];
        assert_eq!(g.garble(&mut table), table.len());
        assert!(g.is_done());
    }
}
