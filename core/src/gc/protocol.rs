//! The two-party driver: Yao's protocol over a [`Channel`], with the evaluator's input labels by
//! oblivious transfer from the offline phase.
//!
//! Party 0 ([`Role::P0`]) garbles and party 1 evaluates. Messages, in order:
//!
//! 1. P1 -> P0 (if P1 has inputs): `e = b ^ c` for each of its input bits `b`, where `c` is the
//!    choice bit of a random OT from [`Correlations::random_ot_receiver`] (Beaver's derandomization).
//! 2. P0 -> P1: the labels of P0's own input bits; then, for each of P1's input wires, the pair
//!    `(L^0 ^ m_e, L^1 ^ m_{1^e})` from the random OT messages `(m_0, m_1)`; P1 opens the one for
//!    its bit with `m_c`.
//! 3. P0 -> P1: the garbled tables, streamed in frames of at most [`TABLE_CHUNK_ANDS`] AND gates
//!    while P0 garbles and P1 evaluates, so memory stays bounded whatever the circuit's size.
//! 4. Outputs by [`Reveal`]: the permute bits to P1, the active labels' low bits to P0, both, or
//!    neither (XOR shares: P0 keeps the permute bits, P1 the low bits).

use super::circuit::Circuit;
use super::garble::{Evaluator, Garbler};
use super::tag;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::hash::{Block, BlockHash};
use crate::role::Role;
use crate::transport::{Channel, Transport};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::CryptoRng;

/// AND gates per table frame (32 bytes each: 128 KiB frames), capped by the channel's maximum frame.
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
    peer: &mut Channel<T>,
    correlations: &mut C,
    hash: &H,
    rng: &mut G,
    job: Job<'_>,
) -> Result<Vec<bool>, Error>
where
    T: Transport,
    C: Correlations,
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
    let garbler_wires = wires_of(circuit, job.owners, Role::P0);
    let evaluator_wires = wires_of(circuit, job.owners, Role::P1);
    let mine = match role {
        Role::P0 => garbler_wires.len(),
        Role::P1 => evaluator_wires.len(),
    };
    if job.inputs.len() != mine {
        return Err(Error::dimension(OP, mine, job.inputs.len()));
    }
    let chunk = TABLE_CHUNK_ANDS.min(peer.max_frame() / 32).max(1);
    match role {
        Role::P0 => {
            garble_side(
                peer,
                correlations,
                hash,
                rng,
                &job,
                &garbler_wires,
                &evaluator_wires,
                chunk,
            )
            .await
        }
        Role::P1 => {
            evaluate_side(
                peer,
                correlations,
                hash,
                &job,
                &garbler_wires,
                &evaluator_wires,
                chunk,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn garble_side<T: Transport, C: Correlations, H: BlockHash, G: CryptoRng + ?Sized>(
    peer: &mut Channel<T>,
    correlations: &mut C,
    hash: &H,
    rng: &mut G,
    job: &Job<'_>,
    garbler_wires: &[usize],
    evaluator_wires: &[usize],
    chunk: usize,
) -> Result<Vec<bool>, Error> {
    let circuit = job.circuit;
    let ots = if evaluator_wires.is_empty() {
        Vec::new()
    } else {
        correlations
            .random_ot_sender(evaluator_wires.len())
            .await?
            .messages
    };
    if ots.len() != evaluator_wires.len() {
        return Err(Error::dimension(OP, evaluator_wires.len(), ots.len()));
    }
    let mut g = Garbler::new(circuit, hash, rng);
    let missing = || Error::new(OP, ErrorKind::InvalidArgument("input wire out of range"));
    // Own input labels.
    let mut labels = Vec::with_capacity(garbler_wires.len());
    for (&w, &bit) in garbler_wires.iter().zip(job.inputs) {
        labels.push(g.input_label(w, bit).ok_or_else(missing)?);
    }
    send_blocks(peer, tag::GARBLER_INPUT, &labels).await?;
    // The evaluator's labels by derandomized random OT.
    if !evaluator_wires.is_empty() {
        let mut e = vec![false; evaluator_wires.len()];
        recv_bits(peer, tag::OT_CHOICE, &mut e).await?;
        let mut corr = Vec::with_capacity(2 * evaluator_wires.len());
        for ((&w, &e), m) in evaluator_wires.iter().zip(&e).zip(&ots) {
            let [l0, l1] = g.input_labels(w).ok_or_else(missing)?;
            // e is public to the garbler (it is the evaluator's bit masked by its OT choice).
            let (m0, m1) = if e { (m[1], m[0]) } else { (m[0], m[1]) };
            corr.push(l0 ^ m0);
            corr.push(l1 ^ m1);
        }
        send_blocks(peer, tag::OT_CORRECTION, &corr).await?;
    }
    // Tables, chunk by chunk.
    let mut table = vec![0u128; 2 * chunk];
    let mut bytes = vec![0u8; 32 * chunk];
    let mut remaining = circuit.and_count();
    while remaining > 0 {
        let n = remaining.min(chunk);
        let got = g.garble(&mut table[..2 * n]);
        if got != 2 * n {
            return Err(Error::new(OP, ErrorKind::Malformed("table size mismatch")));
        }
        encode_blocks(&table[..2 * n], &mut bytes[..32 * n]);
        peer.send_frame(OP, tag::TABLE, &bytes[..32 * n]).await?;
        remaining -= n;
    }
    g.garble(&mut []);
    let p: Vec<bool> = (0..circuit.output_bits())
        .map(|k| g.output_permute_bit(k).unwrap_or(false))
        .collect();
    settle_outputs(peer, job.reveal, true, p).await
}

async fn evaluate_side<T: Transport, C: Correlations, H: BlockHash>(
    peer: &mut Channel<T>,
    correlations: &mut C,
    hash: &H,
    job: &Job<'_>,
    garbler_wires: &[usize],
    evaluator_wires: &[usize],
    chunk: usize,
) -> Result<Vec<bool>, Error> {
    let circuit = job.circuit;
    let mut ev = Evaluator::new(circuit, hash);
    let ots = if evaluator_wires.is_empty() {
        None
    } else {
        let r = correlations
            .random_ot_receiver(evaluator_wires.len())
            .await?;
        if r.choices.len() != evaluator_wires.len() || r.messages.len() != evaluator_wires.len() {
            return Err(Error::dimension(OP, evaluator_wires.len(), r.choices.len()));
        }
        let e: Vec<bool> = job
            .inputs
            .iter()
            .zip(&r.choices)
            .map(|(b, c)| b ^ c)
            .collect();
        send_bits(peer, tag::OT_CHOICE, &e).await?;
        Some(r)
    };
    let mut at = 0;
    recv_blocks(peer, tag::GARBLER_INPUT, garbler_wires.len(), |b| {
        ev.set_input_label(garbler_wires[at], b);
        at += 1;
    })
    .await?;
    if let Some(r) = ots {
        let mut k = 0;
        let mut first = 0u128;
        recv_blocks(peer, tag::OT_CORRECTION, 2 * evaluator_wires.len(), |y| {
            let i = k / 2;
            if k % 2 == 0 {
                first = y;
            } else {
                // Constant-time choice of y_b between (first, y).
                let sel = u128::from(job.inputs[i]).wrapping_neg();
                let yb = (first & !sel) | (y & sel);
                ev.set_input_label(evaluator_wires[i], yb ^ r.messages[i]);
            }
            k += 1;
        })
        .await?;
    }
    let mut table = vec![0u128; 2 * chunk];
    let mut bytes = vec![0u8; 32 * chunk];
    let mut remaining = circuit.and_count();
    while remaining > 0 {
        let n = remaining.min(chunk);
        peer.recv_frame(OP, tag::TABLE, &mut bytes[..32 * n])
            .await?;
        decode_blocks(&bytes[..32 * n], &mut table[..2 * n]);
        if ev.evaluate(&table[..2 * n]) != 2 * n {
            return Err(Error::new(OP, ErrorKind::Malformed("table size mismatch")));
        }
        remaining -= n;
    }
    ev.evaluate(&[]);
    let masked: Vec<bool> = (0..circuit.output_bits())
        .map(|k| ev.output_masked_bit(k).unwrap_or(false))
        .collect();
    settle_outputs(peer, job.reveal, false, masked).await
}

/// Finishes the outputs for either side. Each side holds one XOR share of every output bit: the
/// garbler its permute bits, the evaluator the masked bits it computed. A side sends its share
/// when the peer is to learn the outputs, and XORs in the peer's share when it is to learn them;
/// with [`Reveal::Shared`] it keeps its share.
async fn settle_outputs<T: Transport>(
    peer: &mut Channel<T>,
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

fn encode_blocks(blocks: &[Block], out: &mut [u8]) {
    for (o, b) in out.chunks_exact_mut(16).zip(blocks) {
        o.copy_from_slice(&b.to_le_bytes());
    }
}

fn decode_blocks(bytes: &[u8], out: &mut [Block]) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(16)) {
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        *o = u128::from_le_bytes(a);
    }
}

/// Blocks per frame: bounded by the channel's maximum frame and a 64 KiB staging buffer.
fn blocks_per_frame<T: Transport>(peer: &Channel<T>) -> usize {
    (peer.max_frame() / 16).clamp(1, 4096)
}

/// Sends blocks as one message (several frames if long; nothing if empty).
async fn send_blocks<T: Transport>(
    peer: &mut Channel<T>,
    tag: u16,
    blocks: &[Block],
) -> Result<(), Error> {
    let per = blocks_per_frame(peer);
    let mut buf = vec![0u8; 16 * per.min(blocks.len())];
    for c in blocks.chunks(per) {
        let bytes = &mut buf[..16 * c.len()];
        encode_blocks(c, bytes);
        peer.send_frame(OP, tag, bytes).await?;
    }
    Ok(())
}

/// Receives `n` blocks sent by [`send_blocks`], handing each to `take` in order.
async fn recv_blocks<T: Transport>(
    peer: &mut Channel<T>,
    tag: u16,
    n: usize,
    mut take: impl FnMut(Block),
) -> Result<(), Error> {
    let per = blocks_per_frame(peer);
    let mut buf = vec![0u8; 16 * per.min(n)];
    let mut left = n;
    while left > 0 {
        let k = left.min(per);
        let bytes = &mut buf[..16 * k];
        peer.recv_frame(OP, tag, bytes).await?;
        for b in bytes.chunks_exact(16) {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            take(u128::from_le_bytes(a));
        }
        left -= k;
    }
    Ok(())
}

/// Bits per frame (packed 8 per byte).
fn bits_per_frame<T: Transport>(peer: &Channel<T>) -> usize {
    8 * peer.max_frame().min(1 << 16)
}

/// Sends bits packed eight per byte, least significant first (nothing if empty).
async fn send_bits<T: Transport>(
    peer: &mut Channel<T>,
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
    peer: &mut Channel<T>,
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
