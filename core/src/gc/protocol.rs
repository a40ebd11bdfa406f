//! The two-party driver: Yao's protocol over the [`Sub::Circuits`] sub-channel of the link between
//! the parties, with the evaluator's input labels by
//! oblivious transfer from the offline phase.
//!
//! Party 0 ([`Role::P0`]) garbles and party 1 evaluates. Messages, in order:
//!
//! 1. P1 -> P0 (if P1 has inputs): `e = b ^ c` for each of its input bits `b`, where `c` is the
//!    choice bit of a random OT from [`Correlations::random_ot_receiver`] (Beaver's derandomization).
//! 2. P0 -> P1, one stream of known length in frames of at most 128 KiB, garbled while it is sent
//!    and evaluated while it is received (memory stays bounded whatever the circuit's size): the
//!    labels of P0's own input bits; for each of P1's input wires the pair
//!    `(L^0 ^ m_e, L^1 ^ m_{1^e})` from the random OT messages `(m_0, m_1)`, of which P1 opens
//!    the one for its bit with `m_c`; then the garbled tables. With [`execute_batch`] the stream
//!    holds these for every copy of the circuit in turn.
//! 3. Outputs by [`Reveal`]: the permute bits to P1, the active labels' low bits to P0, both, or
//!    neither (XOR shares: P0 keeps the permute bits, P1 the low bits).

use super::circuit::Circuit;
use super::garble::{Evaluator, Garbler};
use super::tag;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::hash::{Block, BlockHash};
use crate::role::Role;
use crate::topology::{Links, PartyId};
use crate::transport::{Channel, Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// AND gates garbled (or evaluated) at a time: the size of the table buffer (32 bytes per gate).
pub const TABLE_CHUNK_ANDS: usize = 4096;

/// Who learns the circuit's outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// Both parties learn the output bits.
    Both,
    /// Only the garbler (P0) learns them; P1 gets an empty vector.
    Garbler,
    /// Only the evaluator (P1) learns them; P0 gets an empty vector.
    Evaluator,
    /// Nobody learns them: each party gets its XOR share of every output bit.
    Shared,
}

/// One two-party evaluation: the circuit, who supplies each input value, this party's input
/// bits and who learns the outputs. Both parties pass the same circuit, `owners` and `reveal`.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    /// The circuit.
    pub circuit: &'a Circuit,
    /// For each input value of the circuit, the party that supplies it.
    pub owners: &'a [Role],
    /// This party's input bits: its own values in the circuit's order, concatenated, each least
    /// significant bit first.
    pub inputs: &'a [bool],
    /// Who learns the outputs.
    pub reveal: Reveal,
}

const OP: &str = "garbled circuit";

/// The input wires supplied by `who`, in order.
fn wires_of(circuit: &Circuit, owners: &[Role], who: Role) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    for (&w, &o) in circuit.input_widths().iter().zip(owners) {
        if o == who {
            out.extend(at..at + w);
        }
        at += w;
    }
    out
}

/// Runs `job` as `role` with the peer: P0 garbles (drawing its labels from `rng`, which must be
/// fresh randomness for every run, e.g. [`crate::Seed::prg`] with [`crate::Domain::GARBLING`]),
/// P1 evaluates (`rng` unused). Random OTs come from `correlations`, one per input bit of P1.
///
/// Returns the output bits (all output values concatenated, each least significant bit first)
/// if this party learns them, this party's XOR shares of them for [`Reveal::Shared`], or an
/// empty vector. Fails on mismatched inputs before sending anything.
pub async fn execute<T, C, H, G>(
    role: Role,
    links: &mut Links<T>,
    correlations: &mut C,
    hash: &H,
    rng: &mut G,
    job: Job<'_>,
) -> Result<Vec<bool>, Error>
where
    T: Transport,
    C: Correlations<T>,
    H: BlockHash,
    G: CryptoRng + ?Sized,
{
    execute_batch(role, links, correlations, hash, rng, job, 1).await
}

/// Random OTs consumed per group of copies at most: a group holds them in memory (32 MiB at
/// 32 bytes each), and costs one round trip (16,384 ReLUs over Z_2^64).
pub const GROUP_OTS: usize = 1 << 20;

/// Runs `copies` independent copies of `job.circuit`, as [`execute`] does one: `job.inputs` holds
/// this party's input bits for copy 0, then copy 1, and so on, and the output bits come back in
/// the same copy-major order.
///
/// Copies are garbled under one offset with fresh input labels each, and streamed together, so
/// a batch costs the rounds of a single run (one more per [`GROUP_OTS`] evaluator input bits).
/// This is how the non-linear layer evaluates one small circuit per vector element.
pub async fn execute_batch<T, C, H, G>(
    role: Role,
    links: &mut Links<T>,
    correlations: &mut C,
    hash: &H,
    rng: &mut G,
    job: Job<'_>,
    copies: usize,
) -> Result<Vec<bool>, Error>
where
    T: Transport,
    C: Correlations<T>,
    H: BlockHash,
    G: CryptoRng + ?Sized,
{
    let circuit = job.circuit;
    if job.owners.len() != circuit.input_widths().len() {
        return Err(Error::dimension(
            OP,
            circuit.input_widths().len(),
            job.owners.len(),
        ));
    }
    let layout = Layout {
        garbler: wires_of(circuit, job.owners, Role::P0),
        evaluator: wires_of(circuit, job.owners, Role::P1),
    };
    let per_copy = match role {
        Role::P0 => layout.garbler.len(),
        Role::P1 => layout.evaluator.len(),
    };
    let expected = per_copy.checked_mul(copies);
    if expected != Some(job.inputs.len()) {
        return Err(Error::dimension(
            OP,
            expected.unwrap_or(usize::MAX),
            job.inputs.len(),
        ));
    }
    let group = (GROUP_OTS / layout.evaluator.len().max(1)).max(1);
    let mut out = Vec::new();
    let mut done = 0;
    while done < copies {
        let n = group.min(copies - done);
        let inputs = &job.inputs[done * per_copy..(done + n) * per_copy];
        let part = Job { inputs, ..job };
        let bits = match role {
            Role::P0 => garble_side(links, correlations, hash, rng, &part, &layout, n).await?,
            Role::P1 => evaluate_side(links, correlations, hash, &part, &layout, n).await?,
        };
        out.extend_from_slice(&bits);
        done += n;
    }
    Ok(out)
}

/// Which input wires each party supplies, in order.
struct Layout {
    garbler: Vec<usize>,
    evaluator: Vec<usize>,
}

impl Layout {
    /// Bytes of the garbler's stream for one copy: its input labels, the OT corrections, the
    /// tables.
    fn stream_bytes(&self, circuit: &Circuit) -> usize {
        16 * self.garbler.len() + 32 * self.evaluator.len() + 32 * circuit.and_count()
    }
}

async fn garble_side<T: Transport, C: Correlations<T>, H: BlockHash, G: CryptoRng + ?Sized>(
    links: &mut Links<T>,
    correlations: &mut C,
    hash: &H,
    rng: &mut G,
    job: &Job<'_>,
    layout: &Layout,
    copies: usize,
) -> Result<Vec<bool>, Error> {
    let circuit = job.circuit;
    let (gw, ew) = (&layout.garbler, &layout.evaluator);
    let total_ots = ew.len() * copies;
    let ots = if total_ots == 0 {
        Vec::new()
    } else {
        correlations
            .random_ot_sender(links, total_ots)
            .await?
            .messages
    };
    if ots.len() != total_ots {
        return Err(Error::dimension(OP, total_ots, ots.len()));
    }
    let peer = &mut links.get(PartyId::of(Role::P1))?.channel(Sub::Circuits);
    // The evaluator's bits masked by its OT choices: public to the garbler.
    let mut flips = vec![false; total_ots];
    recv_bits(peer, tag::OT_CHOICE, &mut flips).await?;
    let missing = || Error::new(OP, ErrorKind::InvalidArgument("input wire out of range"));
    let mut stream = StreamWriter::new(peer, layout.stream_bytes(circuit) * copies);
    let chunk = TABLE_CHUNK_ANDS;
    let mut table = vec![0u128; 2 * chunk.min(circuit.and_count())];
    let mut permute = Vec::with_capacity(copies * circuit.output_bits());
    let mut g = Garbler::new(circuit, hash, rng);
    for c in 0..copies {
        if c > 0 && !g.restart(rng) {
            return Err(Error::new(OP, ErrorKind::Malformed("copy not finished")));
        }
        for (&w, &bit) in gw.iter().zip(&job.inputs[c * gw.len()..]) {
            stream
                .write_block(g.input_label(w, bit).ok_or_else(missing)?)
                .await?;
        }
        let at = c * ew.len();
        for ((&w, &e), m) in ew.iter().zip(&flips[at..]).zip(&ots[at..]) {
            let [l0, l1] = g.input_labels(w).ok_or_else(missing)?;
            let (m0, m1) = if e { (m[1], m[0]) } else { (m[0], m[1]) };
            stream.write_block(l0 ^ m0).await?;
            stream.write_block(l1 ^ m1).await?;
        }
        let mut remaining = circuit.and_count();
        while remaining > 0 {
            let n = remaining.min(chunk);
            if g.garble(&mut table[..2 * n]) != 2 * n {
                return Err(Error::new(OP, ErrorKind::Malformed("table size mismatch")));
            }
            stream.write_blocks(&table[..2 * n]).await?;
            remaining -= n;
        }
        g.garble(&mut []);
        for k in 0..circuit.output_bits() {
            permute.push(g.output_permute_bit(k).unwrap_or(false));
        }
    }
    stream.finish().await?;
    settle_outputs(peer, job.reveal, true, permute).await
}

async fn evaluate_side<T: Transport, C: Correlations<T>, H: BlockHash>(
    links: &mut Links<T>,
    correlations: &mut C,
    hash: &H,
    job: &Job<'_>,
    layout: &Layout,
    copies: usize,
) -> Result<Vec<bool>, Error> {
    let circuit = job.circuit;
    let (gw, ew) = (&layout.garbler, &layout.evaluator);
    let total_ots = ew.len() * copies;
    let ots = if total_ots == 0 {
        None
    } else {
        let r = correlations.random_ot_receiver(links, total_ots).await?;
        if r.choices.len() != total_ots || r.messages.len() != total_ots {
            return Err(Error::dimension(OP, total_ots, r.choices.len()));
        }
        Some(r)
    };
    let flips: Vec<bool> = match &ots {
        Some(r) => job
            .inputs
            .iter()
            .zip(&r.choices)
            .map(|(b, c)| b ^ c)
            .collect(),
        None => Vec::new(),
    };
    let peer = &mut links.get(PartyId::of(Role::P0))?.channel(Sub::Circuits);
    send_bits(peer, tag::OT_CHOICE, &flips).await?;
    let mut stream = StreamReader::new(peer, layout.stream_bytes(circuit) * copies);
    let chunk = TABLE_CHUNK_ANDS;
    let mut table = vec![0u128; 2 * chunk.min(circuit.and_count())];
    let mut masked = Vec::with_capacity(copies * circuit.output_bits());
    let mut ev = Evaluator::new(circuit, hash);
    for c in 0..copies {
        if c > 0 && !ev.restart() {
            return Err(Error::new(OP, ErrorKind::Malformed("copy not finished")));
        }
        for &w in gw {
            let label = stream.read_block().await?;
            ev.set_input_label(w, label);
        }
        let at = c * ew.len();
        for (i, &w) in ew.iter().enumerate() {
            let y0 = stream.read_block().await?;
            let y1 = stream.read_block().await?;
            if let Some(r) = &ots {
                // Constant-time choice of y_b between (y0, y1).
                let sel = u128::from(job.inputs[at + i]).wrapping_neg();
                ev.set_input_label(w, ((y0 & !sel) | (y1 & sel)) ^ r.messages[at + i]);
            }
        }
        let mut remaining = circuit.and_count();
        while remaining > 0 {
            let n = remaining.min(chunk);
            stream.read_blocks(&mut table[..2 * n]).await?;
            if ev.evaluate(&table[..2 * n]) != 2 * n {
                return Err(Error::new(OP, ErrorKind::Malformed("table size mismatch")));
            }
            remaining -= n;
        }
        ev.evaluate(&[]);
        for k in 0..circuit.output_bits() {
            masked.push(ev.output_masked_bit(k).unwrap_or(false));
        }
    }
    settle_outputs(peer, job.reveal, false, masked).await
}

/// Stream frames carry at most this many bytes (also capped by the channel's maximum frame).
const STREAM_FRAME: usize = 1 << 17;

/// Bytes per stream frame: whole blocks, at least one.
fn stream_frame<T: Transport>(peer: &Channel<'_, T>) -> usize {
    STREAM_FRAME.min(peer.max_frame()).max(16) / 16 * 16
}

/// The garbler's side of a stream of known length: blocks are buffered and sent in frames of
/// [`stream_frame`] bytes (the last one shorter), so the reader knows every frame's size.
struct StreamWriter<'a, 'c, T> {
    peer: &'a mut Channel<'c, T>,
    buf: Vec<u8>,
    len: usize,
    left: usize,
}

impl<'a, 'c, T: Transport> StreamWriter<'a, 'c, T> {
    fn new(peer: &'a mut Channel<'c, T>, total: usize) -> Self {
        let frame = stream_frame(peer);
        StreamWriter {
            buf: vec![0u8; frame.min(total)],
            peer,
            len: 0,
            left: total,
        }
    }

    async fn write_block(&mut self, b: Block) -> Result<(), Error> {
        self.write_blocks(&[b]).await
    }

    /// Appends blocks, sending every frame that fills up.
    async fn write_blocks(&mut self, mut blocks: &[Block]) -> Result<(), Error> {
        if blocks.len() * 16 > self.left {
            return Err(Error::new(OP, ErrorKind::Malformed("stream overrun")));
        }
        while !blocks.is_empty() {
            let n = ((self.buf.len() - self.len) / 16).min(blocks.len());
            let dst = &mut self.buf[self.len..self.len + 16 * n];
            for (o, b) in dst.chunks_exact_mut(16).zip(&blocks[..n]) {
                o.copy_from_slice(&b.to_le_bytes());
            }
            self.len += 16 * n;
            self.left -= 16 * n;
            blocks = &blocks[n..];
            if self.len == self.buf.len() || self.left == 0 {
                self.peer
                    .send_frame(OP, tag::GARBLED, &self.buf[..self.len])
                    .await?;
                self.len = 0;
            }
        }
        Ok(())
    }

    /// Checks that everything announced was written.
    async fn finish(self) -> Result<(), Error> {
        if self.left != 0 || self.len != 0 {
            return Err(Error::new(OP, ErrorKind::Malformed("stream cut short")));
        }
        Ok(())
    }
}

/// The evaluator's side of a stream of known length (see [`StreamWriter`]).
struct StreamReader<'a, 'c, T> {
    peer: &'a mut Channel<'c, T>,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    left: usize,
}

impl<'a, 'c, T: Transport> StreamReader<'a, 'c, T> {
    fn new(peer: &'a mut Channel<'c, T>, total: usize) -> Self {
        let frame = stream_frame(peer);
        StreamReader {
            buf: vec![0u8; frame.min(total)],
            peer,
            pos: 0,
            filled: 0,
            left: total,
        }
    }

    async fn read_block(&mut self) -> Result<Block, Error> {
        let mut b = [0];
        self.read_blocks(&mut b).await?;
        Ok(b[0])
    }

    /// Fills `out` from the stream, receiving frames as needed.
    async fn read_blocks(&mut self, mut out: &mut [Block]) -> Result<(), Error> {
        while !out.is_empty() {
            self.refill().await?;
            let n = ((self.filled - self.pos) / 16).min(out.len());
            let src = &self.buf[self.pos..self.pos + 16 * n];
            for (o, b) in out[..n].iter_mut().zip(src.chunks_exact(16)) {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                *o = u128::from_le_bytes(a);
            }
            self.pos += 16 * n;
            out = &mut out[n..];
        }
        Ok(())
    }

    /// Receives the next frame when the buffer is used up.
    async fn refill(&mut self) -> Result<(), Error> {
        if self.pos == self.filled {
            let n = self.buf.len().min(self.left);
            if n < 16 {
                return Err(Error::new(OP, ErrorKind::Malformed("stream overrun")));
            }
            self.peer
                .recv_frame(OP, tag::GARBLED, &mut self.buf[..n])
                .await?;
            self.left -= n;
            self.pos = 0;
            self.filled = n;
        }
        Ok(())
    }
}

/// Finishes the outputs for either side. Each side holds one XOR share of every output bit: the
/// garbler its permute bits, the evaluator the masked bits it computed. A side sends its share
/// when the peer is to learn the outputs, and XORs in the peer's share when it is to learn them;
/// with [`Reveal::Shared`] it keeps its share.
async fn settle_outputs<T: Transport>(
    peer: &mut Channel<'_, T>,
    reveal: Reveal,
    garbler: bool,
    mine: Vec<bool>,
) -> Result<Vec<bool>, Error> {
    if reveal == Reveal::Shared {
        return Ok(mine);
    }
    let (me, them) = if garbler {
        (Reveal::Garbler, Reveal::Evaluator)
    } else {
        (Reveal::Evaluator, Reveal::Garbler)
    };
    let (send_tag, recv_tag) = if garbler {
        (tag::DECODE, tag::OUTPUT)
    } else {
        (tag::OUTPUT, tag::DECODE)
    };
    if reveal == Reveal::Both || reveal == them {
        send_bits(peer, send_tag, &mine).await?;
    }
    let out = if reveal == Reveal::Both || reveal == me {
        let mut theirs = vec![false; mine.len()];
        recv_bits(peer, recv_tag, &mut theirs).await?;
        mine.iter().zip(&theirs).map(|(&a, &b)| a ^ b).collect()
    } else {
        Vec::new()
    };
    peer.flush(OP).await?;
    Ok(out)
}

/// Bits per frame (packed 8 per byte).
fn bits_per_frame<T: Transport>(peer: &Channel<'_, T>) -> usize {
    8 * peer.max_frame().min(1 << 16)
}

/// Sends bits packed eight per byte, least significant first (nothing if empty).
async fn send_bits<T: Transport>(
    peer: &mut Channel<'_, T>,
    tag: u16,
    bits: &[bool],
) -> Result<(), Error> {
    let per = bits_per_frame(peer);
    let mut buf = vec![0u8; per.min(bits.len()).div_ceil(8)];
    for c in bits.chunks(per) {
        let bytes = &mut buf[..c.len().div_ceil(8)];
        bytes.fill(0);
        for (i, &b) in c.iter().enumerate() {
            bytes[i / 8] |= u8::from(b) << (i % 8);
        }
        peer.send_frame(OP, tag, bytes).await?;
    }
    Ok(())
}

/// Receives `out.len()` bits sent by [`send_bits`]; padding bits must be zero.
async fn recv_bits<T: Transport>(
    peer: &mut Channel<'_, T>,
    tag: u16,
    out: &mut [bool],
) -> Result<(), Error> {
    let per = bits_per_frame(peer);
    let mut buf = vec![0u8; per.min(out.len()).div_ceil(8)];
    for c in out.chunks_mut(per) {
        let bytes = &mut buf[..c.len().div_ceil(8)];
        peer.recv_frame(OP, tag, bytes).await?;
        for (i, b) in c.iter_mut().enumerate() {
            *b = (bytes[i / 8] >> (i % 8)) & 1 == 1;
        }
        let pad = c.len() % 8;
        if pad != 0 && bytes[bytes.len() - 1] >> pad != 0 {
            return Err(Error::new(OP, ErrorKind::Malformed("nonzero padding bits")));
        }
    }
    Ok(())
}
