//! Half-gates garbling and evaluation as pure steps over gate batches (no I/O).
//!
//! Free-XOR (Kolesnikov-Schneider 2008): a global offset `delta` with least significant bit 1;
//! wire `w` has labels `L_w^0` and `L_w^1 = L_w^0 ^ delta`. XOR, NOT, copies and constants cost
//! nothing. Point-and-permute: the evaluator's label's lowest bit is the wire's value masked by the
//! garbler's permute bit `lsb(L_w^0)`. AND gates use half-gates (Zahur-Rosulek-Evans 2015): two
//! 128-bit ciphertexts per gate, four hash calls to garble it and two to evaluate it, with the
//! hash a [`BlockHash`] under tweaks `2j` and `2j + 1` for the `j`-th AND gate.
//!
//! [`Garbler::garble`] and [`Evaluator::evaluate`] walk the circuit's gates in order and stop when
//! the next AND gate would need more table space (or ciphertexts) than the batch holds, so a
//! driver can stream the tables in chunks of any size with bounded memory.
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

/// The garbler's state for one circuit: the offset and every wire's zero label.
///
/// Labels and offset are zeroized on drop.
pub struct Garbler<'c, H> {
    circuit: &'c Circuit,
    hash: H,
    delta: Delta,
    labels: Vec<Block>,
    pending: Vec<bool>,
    next: usize,
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
        let mut labels = vec![0u128; circuit.num_wires()];
        let mut b = [0u8; 16];
        for l in labels.iter_mut().take(circuit.input_bits()) {
            rng.fill_bytes(&mut b);
            *l = u128::from_le_bytes(b);
        }
        b.zeroize();
        Garbler {
            circuit,
            hash,
            delta,
            pending: vec![false; labels.len()],
            labels,
            next: 0,
            and_index: 0,
        }
    }

    /// Starts the next copy of the circuit when this one is done: fresh zero labels for the
    /// input wires, the same offset, and AND-gate tweaks that continue from the last copy (so no
    /// tweak repeats). Returns false, changing nothing, if garbling is not done.
    pub fn restart<G: CryptoRng + ?Sized>(&mut self, rng: &mut G) -> bool {
        if !self.is_done() {
            return false;
        }
        let mut b = [0u8; 16];
        for l in self.labels.iter_mut().take(self.circuit.input_bits()) {
            rng.fill_bytes(&mut b);
            *l = u128::from_le_bytes(b);
        }
        b.zeroize();
        self.next = 0;
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

    /// Garbles gates in order until the circuit is done or the next AND gate's two ciphertexts
    /// would not fit in `table`; returns the number of blocks written (always even).
    ///
    /// Independent AND gates are hashed together in batches of up to [`AND_BATCH`] (the AES
    /// pipeline works on many blocks at once); the tables and labels are the same as gate by gate.
    pub fn garble(&mut self, table: &mut [Block]) -> usize {
        let d = self.delta.get();
        let gates = self.circuit.gates();
        let mut q = Batch::new();
        let mut written = 0;
        while let Some(g) = gates.get(self.next) {
            let (ins, k) = g.inputs();
            if ins[..k].iter().any(|&w| self.pending[w as usize]) {
                q.garble(&self.hash, d, &mut self.labels, &mut self.pending, table);
            }
            let labels = &mut self.labels;
            match *g {
                Gate::Xor { a, b, out } => {
                    labels[out as usize] = labels[a as usize] ^ labels[b as usize];
                }
                Gate::Inv { a, out } => labels[out as usize] = labels[a as usize] ^ d,
                Gate::Copy { a, out } => labels[out as usize] = labels[a as usize],
                // The evaluator holds the public label 0 for constants (see `Evaluator`).
                Gate::Const { value, out } => {
                    labels[out as usize] = Block::from(value).wrapping_neg() & d;
                }
                Gate::And { a, b, out } => {
                    if table.len() < written + 2 {
                        break;
                    }
                    q.push(
                        labels[a as usize],
                        labels[b as usize],
                        out,
                        written,
                        self.and_index,
                    );
                    self.pending[out as usize] = true;
                    written += 2;
                    self.and_index += 1;
                    if q.n == AND_BATCH {
                        q.garble(&self.hash, d, &mut self.labels, &mut self.pending, table);
                    }
                }
            }
            self.next += 1;
        }
        q.garble(&self.hash, d, &mut self.labels, &mut self.pending, table);
        written
    }

    /// Whether every gate has been garbled.
    pub fn is_done(&self) -> bool {
        self.next >= self.circuit.gates().len()
    }

    /// The permute bit (`lsb` of the zero label) of output bit `k`: the decoding information, and
    /// the garbler's XOR share of the output. `None` before garbling is done or out of range.
    pub fn output_permute_bit(&self, k: usize) -> Option<bool> {
        if !self.is_done() {
            return None;
        }
        let w = *self.circuit.output_wires().get(k)?;
        Some(self.labels[w as usize] & 1 == 1)
    }
}

/// The evaluator's state for one circuit: one (active) label per wire.
pub struct Evaluator<'c, H> {
    circuit: &'c Circuit,
    hash: H,
    labels: Vec<Block>,
    pending: Vec<bool>,
    next: usize,
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
            labels: vec![0u128; circuit.num_wires()],
            pending: vec![false; circuit.num_wires()],
            next: 0,
            and_index: 0,
        }
    }

    /// Starts the next copy of the circuit when this one is done (mirrors [`Garbler::restart`]);
    /// set the new input labels before evaluating. Returns false if evaluation is not done.
    pub fn restart(&mut self) -> bool {
        if !self.is_done() {
            return false;
        }
        self.next = 0;
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

    /// Evaluates gates in order until the circuit is done or the next AND gate's ciphertexts are
    /// not in `table`; returns the number of table blocks consumed.
    pub fn evaluate(&mut self, table: &[Block]) -> usize {
        let gates = self.circuit.gates();
        let mut q = Batch::new();
        let mut read = 0;
        while let Some(g) = gates.get(self.next) {
            let (ins, k) = g.inputs();
            if ins[..k].iter().any(|&w| self.pending[w as usize]) {
                q.evaluate(&self.hash, &mut self.labels, &mut self.pending, table);
            }
            let labels = &mut self.labels;
            match *g {
                Gate::Xor { a, b, out } => {
                    labels[out as usize] = labels[a as usize] ^ labels[b as usize];
                }
                Gate::Inv { a, out } | Gate::Copy { a, out } => {
                    labels[out as usize] = labels[a as usize];
                }
                Gate::Const { out, .. } => labels[out as usize] = 0,
                Gate::And { a, b, out } => {
                    if table.len() < read + 2 {
                        break;
                    }
                    q.push(
                        labels[a as usize],
                        labels[b as usize],
                        out,
                        read,
                        self.and_index,
                    );
                    self.pending[out as usize] = true;
                    read += 2;
                    self.and_index += 1;
                    if q.n == AND_BATCH {
                        q.evaluate(&self.hash, &mut self.labels, &mut self.pending, table);
                    }
                }
            }
            self.next += 1;
        }
        q.evaluate(&self.hash, &mut self.labels, &mut self.pending, table);
        read
    }

    /// Whether every gate has been evaluated.
    pub fn is_done(&self) -> bool {
        self.next >= self.circuit.gates().len()
    }

    /// The lowest bit of output bit `k`'s active label: the output XOR the garbler's permute bit,
    /// i.e. the evaluator's XOR share of the output. `None` before evaluation is done.
    pub fn output_masked_bit(&self, k: usize) -> Option<bool> {
        if !self.is_done() {
            return None;
        }
        let w = *self.circuit.output_wires().get(k)?;
        Some(self.labels[w as usize] & 1 == 1)
    }
}

/// AND gates hashed together at most (independent gates, in circuit order).
pub const AND_BATCH: usize = 32;

/// AND gates whose inputs are known and whose hashes are still to be computed.
struct Batch {
    n: usize,
    a: [Block; AND_BATCH],
    b: [Block; AND_BATCH],
    out: [u32; AND_BATCH],
    slot: [usize; AND_BATCH],
    index: [u64; AND_BATCH],
    h: [Block; 4 * AND_BATCH],
    t: [Block; 4 * AND_BATCH],
}

impl Batch {
    fn new() -> Self {
        Batch {
            n: 0,
            a: [0; AND_BATCH],
            b: [0; AND_BATCH],
            out: [0; AND_BATCH],
            slot: [0; AND_BATCH],
            index: [0; AND_BATCH],
            h: [0; 4 * AND_BATCH],
            t: [0; 4 * AND_BATCH],
        }
    }

    fn push(&mut self, a: Block, b: Block, out: u32, slot: usize, index: u64) {
        let i = self.n;
        self.a[i] = a;
        self.b[i] = b;
        self.out[i] = out;
        self.slot[i] = slot;
        self.index[i] = index;
        self.n += 1;
    }

    /// Garbles the queued gates: labels of their outputs, ciphertexts into their table slots.
    fn garble<H: BlockHash>(
        &mut self,
        hash: &H,
        d: Block,
        labels: &mut [Block],
        pending: &mut [bool],
        table: &mut [Block],
    ) {
        let n = self.n;
        for i in 0..n {
            let (a0, b0) = (self.a[i], self.b[i]);
            let j = u128::from(self.index[i]) << 1;
            self.h[4 * i..4 * i + 4].copy_from_slice(&[a0, a0 ^ d, b0, b0 ^ d]);
            self.t[4 * i..4 * i + 4].copy_from_slice(&[j, j, j | 1, j | 1]);
        }
        hash.hash_in_place(&self.t[..4 * n], &mut self.h[..4 * n]);
        for i in 0..n {
            let (a0, b0) = (self.a[i], self.b[i]);
            let h = &self.h[4 * i..4 * i + 4];
            let (pa, pb) = (lsb_mask(a0), lsb_mask(b0));
            // Garbler half: a AND pb, with pb known to the garbler.
            let tg = h[0] ^ h[1] ^ (pb & d);
            let wg = h[0] ^ (pa & tg);
            // Evaluator half: a AND (b XOR pb), with b XOR pb known to the evaluator.
            let te = h[2] ^ h[3] ^ a0;
            let we = h[2] ^ (pb & (te ^ a0));
            let out = self.out[i] as usize;
            labels[out] = wg ^ we;
            pending[out] = false;
            table[self.slot[i]] = tg;
            table[self.slot[i] + 1] = te;
        }
        self.h[..4 * n].zeroize();
        self.a[..n].zeroize();
        self.b[..n].zeroize();
        self.n = 0;
    }

    /// Evaluates the queued gates with their ciphertexts from `table`.
    fn evaluate<H: BlockHash>(
        &mut self,
        hash: &H,
        labels: &mut [Block],
        pending: &mut [bool],
        table: &[Block],
    ) {
        let n = self.n;
        for i in 0..n {
            let j = u128::from(self.index[i]) << 1;
            self.h[2 * i] = self.a[i];
            self.h[2 * i + 1] = self.b[i];
            self.t[2 * i] = j;
            self.t[2 * i + 1] = j | 1;
        }
        hash.hash_in_place(&self.t[..2 * n], &mut self.h[..2 * n]);
        for i in 0..n {
            let (la, lb) = (self.a[i], self.b[i]);
            let (tg, te) = (table[self.slot[i]], table[self.slot[i] + 1]);
            let wg = self.h[2 * i] ^ (lsb_mask(la) & tg);
            let we = self.h[2 * i + 1] ^ (lsb_mask(lb) & (te ^ la));
            let out = self.out[i] as usize;
            labels[out] = wg ^ we;
            pending[out] = false;
        }
        self.n = 0;
    }
}
