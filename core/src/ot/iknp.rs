//! IKNP OT extension (Ishai, Kilian, Nissim, Petrank, CRYPTO 2003) with kappa = 128, semi-honest.
//!
//! Roles are swapped with respect to the base OTs: the extension **sender** samples a secret
//! `delta` in {0,1}^128 and plays base-OT receiver with the bits of `delta` as choices; the
//! extension **receiver** plays base-OT sender. Each of the 128 base-OT keys seeds a generator
//! that expands one column of a bit matrix, continuously across batches: AES-128 in counter mode
//! with the AES hash (hardware AES), ChaCha12 with [`crate::hash::ChaChaHash`]
//! ([`BlockHash::column_generator`]).
//!
//! For a batch of `m = 128 nb` OTs with packed choice bits `r`, the receiver computes columns
//! `t_j = G(k_j^0)` and sends `u_j = t_j ^ G(k_j^1) ^ r`; the sender computes
//! `q_j = G(k_j^{delta_j}) ^ delta_j u_j = t_j ^ delta_j r`. After transposing (128 x 128 blocks,
//! [`super::transpose`]) row `i` satisfies `q_i = t_i ^ r_i delta`: a **correlated OT** (the sender
//! holds `q_i` and `q_i ^ delta`, the receiver `r_i` and `t_i`). Hashing with a tweakable
//! correlation-robust hash `H` ([`crate::hash::BlockHash`], tweak = the OT's global index) breaks
//! the correlation: **random OT** messages are `H(i, q_i)`, `H(i, q_i ^ delta)`, and the receiver
//! gets `H(i, t_i)`.
//!
//! Streaming: the state holds the 128 (sender) or 256 (receiver) column generators and an OT
//! counter; each call to `extend` processes one batch of at most [`MAX_BATCH_BLOCKS`] blocks, so
//! the drivers below handle any count with memory bounded by one batch (128 KiB of matrix).
//!
//! Secrets: `delta` and its bit masks are zeroized on drop and never printed; the sender's use of
//! its bits is branch-free (masks), and the receiver's choice bits only enter XORs.

use crate::error::{Error, ErrorKind};
use crate::hash::{BlockHash, ColumnGenerator, FixedKeyAes};
use crate::ot::{base, tag, transpose::transpose128};
use crate::prg::{Prg, Seed};
use crate::transport::{Channel, Transport};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;
use subtle::Choice;
use zeroize::Zeroize;

/// The security parameter: number of base OTs and width of an extension row.
pub const KAPPA: usize = 128;

/// Largest batch, in blocks of 128 OTs (8192 OTs, a 128 KiB matrix).
pub const MAX_BATCH_BLOCKS: usize = 64;

/// Transposes a column-major matrix (`cols[j * nb + b]` = word `b` of column `j`) into rows
/// (`rows[128 b + i]`, bit `j` = bit `i` of `cols[j * nb + b]`).
fn columns_to_rows(cols: &[u128], nb: usize, rows: &mut [u128]) {
    let mut m = [0u128; KAPPA];
    for b in 0..nb {
        for (j, w) in m.iter_mut().enumerate() {
            *w = cols[j * nb + b];
        }
        transpose128(&mut m);
        rows[KAPPA * b..KAPPA * (b + 1)].copy_from_slice(&m);
    }
    m.zeroize();
}

fn check_batch(op: &'static str, nb: usize, lens: &[(usize, usize)]) -> Result<(), Error> {
    if nb == 0 || nb > MAX_BATCH_BLOCKS {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("batch size out of range"),
        ));
    }
    for &(expected, got) in lens {
        if expected != got {
            return Err(Error::dimension(op, expected, got));
        }
    }
    Ok(())
}

/// The bits of `delta` as base-OT choices.
pub fn delta_choices(delta: &Delta) -> [Choice; KAPPA] {
    core::array::from_fn(|j| Choice::from(((delta.0 >> j) & 1) as u8))
}

/// The extension sender's secret offset `delta`: zeroized on drop, neither `Copy` nor `Debug`.
pub struct Delta(u128);

impl Delta {
    /// Samples `delta` from `prg`.
    pub fn random(prg: &mut Prg) -> Self {
        let mut b = [0u8; 16];
        prg.fill_bytes(&mut b);
        let d = Delta(u128::from_le_bytes(b));
        b.zeroize();
        d
    }

    /// The secret value (for protocols that use the correlation `q ^ delta` directly).
    pub fn expose(&self) -> u128 {
        self.0
    }
}

impl Drop for Delta {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The extension sender: `delta`, the 128 column generators `G(k_j^{delta_j})`, the OT counter.
pub struct IknpSender<H: BlockHash = FixedKeyAes> {
    delta: Delta,
    /// All ones where bit `j` of delta is set: branch-free use of the secret bits.
    masks: [u128; KAPPA],
    columns: Vec<ColumnGenerator>,
    scratch: Vec<u128>,
    next: u64,
    hash: H,
}

impl<H: BlockHash> Drop for IknpSender<H> {
    fn drop(&mut self) {
        self.masks.zeroize();
        self.scratch.zeroize();
    }
}

impl<H: BlockHash> IknpSender<H> {
    /// The sender after the base OTs: `keys[j]` is the key base OT `j` gave for choice bit `j`
    /// of `delta`.
    pub fn new(delta: Delta, keys: Vec<Seed>, hash: H) -> Result<Self, Error> {
        if keys.len() != KAPPA {
            return Err(Error::dimension("iknp.sender", KAPPA, keys.len()));
        }
        let masks = core::array::from_fn(|j| 0u128.wrapping_sub((delta.0 >> j) & 1));
        Ok(IknpSender {
            delta,
            masks,
            columns: keys.into_iter().map(|k| hash.column_generator(k)).collect(),
            scratch: Vec::new(),
            next: 0,
            hash,
        })
    }

    /// The secret offset.
    pub fn delta(&self) -> &Delta {
        &self.delta
    }

    /// The global index of the next OT (the hash tweak of its row).
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The hash both sides use.
    pub fn hash(&self) -> &H {
        &self.hash
    }

    /// Processes one batch of `nb = u.len() / 128` blocks: from the receiver's matrix `u`
    /// (column-major, `128 * nb` words) writes the rows `q_i` (`128 * nb` words) with
    /// `q_i = t_i ^ r_i delta`. Returns the global index of the batch's first OT.
    pub fn extend(&mut self, u: &[u128], q: &mut [u128]) -> Result<u64, Error> {
        let nb = u.len() / KAPPA;
        check_batch(
            "iknp.extend",
            nb,
            &[(KAPPA * nb, u.len()), (KAPPA * nb, q.len())],
        )?;
        self.scratch.resize(KAPPA * nb, 0);
        for (j, col) in self.scratch.chunks_exact_mut(nb).enumerate() {
            self.columns[j].fill(col);
            let mask = self.masks[j];
            for (c, &uw) in col.iter_mut().zip(&u[j * nb..(j + 1) * nb]) {
                *c ^= uw & mask;
            }
        }
        columns_to_rows(&self.scratch, nb, q);
        let first = self.next;
        self.next += (KAPPA * nb) as u64;
        Ok(first)
    }

    /// Random-OT messages from rows `q` starting at global index `first`:
    /// `m0[i] = H(first + i, q_i)`, `m1[i] = H(first + i, q_i ^ delta)`.
    pub fn random_messages(&self, first: u64, q: &[u128], m0: &mut [u128], m1: &mut [u128]) {
        for ((a, b), &x) in m0.iter_mut().zip(m1.iter_mut()).zip(q) {
            *a = x;
            *b = x ^ self.delta.0;
        }
        let n = q.len().min(m0.len()).min(m1.len());
        self.hash.hash_sequential(u128::from(first), &mut m0[..n]);
        self.hash.hash_sequential(u128::from(first), &mut m1[..n]);
    }
}

/// The extension receiver: the 256 column generators `G(k_j^0)`, `G(k_j^1)` and the OT counter.
pub struct IknpReceiver<H: BlockHash = FixedKeyAes> {
    columns: Vec<[ColumnGenerator; 2]>,
    scratch: Vec<u128>,
    next: u64,
    hash: H,
}

impl<H: BlockHash> Drop for IknpReceiver<H> {
    fn drop(&mut self) {
        self.scratch.zeroize();
    }
}

impl<H: BlockHash> IknpReceiver<H> {
    /// The receiver after the base OTs, with the 128 key pairs it sent.
    pub fn new(keys: Vec<[Seed; 2]>, hash: H) -> Result<Self, Error> {
        if keys.len() != KAPPA {
            return Err(Error::dimension("iknp.receiver", KAPPA, keys.len()));
        }
        Ok(IknpReceiver {
            columns: keys
                .into_iter()
                .map(|[k0, k1]| [hash.column_generator(k0), hash.column_generator(k1)])
                .collect(),
            scratch: Vec::new(),
            next: 0,
            hash,
        })
    }

    /// The global index of the next OT.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The hash both sides use.
    pub fn hash(&self) -> &H {
        &self.hash
    }

    /// Processes one batch of `nb = choices.len()` blocks of packed choice bits (bit `i` of
    /// `choices[b]` is the choice of OT `128 b + i`): writes the matrix `u` for the sender
    /// (column-major, `128 * nb` words) and the rows `t_i`. Returns the batch's first index.
    pub fn extend(
        &mut self,
        choices: &[u128],
        u: &mut [u128],
        t: &mut [u128],
    ) -> Result<u64, Error> {
        let nb = choices.len();
        check_batch(
            "iknp.extend",
            nb,
            &[(KAPPA * nb, u.len()), (KAPPA * nb, t.len())],
        )?;
        self.scratch.resize(KAPPA * nb, 0);
        for (j, (col, ucol)) in self
            .scratch
            .chunks_exact_mut(nb)
            .zip(u.chunks_exact_mut(nb))
            .enumerate()
        {
            let [g0, g1] = &mut self.columns[j];
            g0.fill(col);
            g1.fill(ucol);
            for ((uw, &tw), &r) in ucol.iter_mut().zip(col.iter()).zip(choices) {
                *uw ^= tw ^ r;
            }
        }
        columns_to_rows(&self.scratch, nb, t);
        let first = self.next;
        self.next += (KAPPA * nb) as u64;
        Ok(first)
    }

    /// Random-OT messages from rows `t` starting at global index `first`: `m[i] = H(first + i, t_i)`.
    pub fn random_messages(&self, first: u64, t: &[u128], m: &mut [u128]) {
        let n = t.len().min(m.len());
        m[..n].copy_from_slice(&t[..n]);
        self.hash.hash_sequential(u128::from(first), &mut m[..n]);
    }
}

/// Runs the base OTs for an extension in which this side is the **sender**.
pub async fn setup_sender<T: Transport, H: BlockHash>(
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    hash: H,
) -> Result<IknpSender<H>, Error> {
    let delta = Delta::random(prg);
    let keys = base::receive(chan, prg, &delta_choices(&delta)).await?;
    IknpSender::new(delta, keys, hash)
}

/// Runs the base OTs for an extension in which this side is the **receiver**.
pub async fn setup_receiver<T: Transport, H: BlockHash>(
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    hash: H,
) -> Result<IknpReceiver<H>, Error> {
    let keys = base::send(chan, prg, KAPPA).await?;
    IknpReceiver::new(keys, hash)
}

/// Blocks for the next batch of an `n`-OT run of which `done` are done.
fn next_blocks(n: usize, done: usize) -> usize {
    (n - done).div_ceil(KAPPA).min(MAX_BATCH_BLOCKS)
}

/// Correlated OTs as the sender, streamed: for each OT `i < n`, calls `sink(i, q_i)`; the
/// receiver holds `t_i = q_i ^ r_i delta` (see [`IknpSender::delta`]). Memory: one batch.
pub async fn send_correlated<T: Transport, H: BlockHash>(
    sender: &mut IknpSender<H>,
    chan: &mut Channel<'_, T>,
    n: usize,
    sink: impl FnMut(usize, u128),
) -> Result<(), Error> {
    send_correlated_tagged(sender, chan, tag::EXT_U, n, sink).await
}

pub(crate) async fn send_correlated_tagged<T: Transport, H: BlockHash>(
    sender: &mut IknpSender<H>,
    chan: &mut Channel<'_, T>,
    tag: u16,
    n: usize,
    mut sink: impl FnMut(usize, u128),
) -> Result<(), Error> {
    let cap = KAPPA * next_blocks(n, 0);
    let (mut u, mut q) = (vec![0u128; cap], vec![0u128; cap]);
    let mut done = 0;
    while done < n {
        let len = KAPPA * next_blocks(n, done);
        chan.recv_ring("iknp.send", tag, &mut u[..len]).await?;
        sender.extend(&u[..len], &mut q[..len])?;
        for (i, &x) in q[..len.min(n - done)].iter().enumerate() {
            sink(done + i, x);
        }
        done += len;
    }
    q.zeroize();
    Ok(())
}

/// Correlated OTs as the receiver, streamed: `choices(b)` gives the packed choice bits of block
/// `b` (OTs `128 b .. 128 b + 127`); for each OT `i < n`, calls `sink(i, t_i)`.
pub async fn receive_correlated<T: Transport, H: BlockHash>(
    receiver: &mut IknpReceiver<H>,
    chan: &mut Channel<'_, T>,
    n: usize,
    choices: impl FnMut(usize) -> u128,
    sink: impl FnMut(usize, u128),
) -> Result<(), Error> {
    receive_correlated_tagged(receiver, chan, tag::EXT_U, n, choices, sink).await
}

pub(crate) async fn receive_correlated_tagged<T: Transport, H: BlockHash>(
    receiver: &mut IknpReceiver<H>,
    chan: &mut Channel<'_, T>,
    tag: u16,
    n: usize,
    mut choices: impl FnMut(usize) -> u128,
    mut sink: impl FnMut(usize, u128),
) -> Result<(), Error> {
    let cap = next_blocks(n, 0);
    let mut r = vec![0u128; cap];
    let (mut u, mut t) = (vec![0u128; KAPPA * cap], vec![0u128; KAPPA * cap]);
    let mut done = 0;
    while done < n {
        let nb = next_blocks(n, done);
        for (b, w) in r[..nb].iter_mut().enumerate() {
            *w = choices(done / KAPPA + b);
        }
        let len = KAPPA * nb;
        receiver.extend(&r[..nb], &mut u[..len], &mut t[..len])?;
        chan.send_ring("iknp.receive", tag, &u[..len]).await?;
        for (i, &x) in t[..len.min(n - done)].iter().enumerate() {
            sink(done + i, x);
        }
        done += len;
    }
    chan.flush("iknp.receive").await?;
    r.zeroize();
    t.zeroize();
    Ok(())
}

/// Random OTs as the sender, streamed: calls `sink(i, m0_i, m1_i)` for each OT `i < n`.
pub async fn send_random<T: Transport, H: BlockHash>(
    sender: &mut IknpSender<H>,
    chan: &mut Channel<'_, T>,
    n: usize,
    sink: impl FnMut(usize, u128, u128),
) -> Result<(), Error> {
    send_random_tagged(sender, chan, tag::EXT_U, n, sink).await
}

pub(crate) async fn send_random_tagged<T: Transport, H: BlockHash>(
    sender: &mut IknpSender<H>,
    chan: &mut Channel<'_, T>,
    tag: u16,
    n: usize,
    mut sink: impl FnMut(usize, u128, u128),
) -> Result<(), Error> {
    let cap = KAPPA * next_blocks(n, 0);
    let (mut u, mut q) = (vec![0u128; cap], vec![0u128; cap]);
    let (mut m0, mut m1) = (vec![0u128; cap], vec![0u128; cap]);
    let mut done = 0;
    while done < n {
        let len = KAPPA * next_blocks(n, done);
        chan.recv_ring("iknp.send", tag, &mut u[..len]).await?;
        let first = sender.extend(&u[..len], &mut q[..len])?;
        let used = len.min(n - done);
        sender.random_messages(first, &q[..used], &mut m0[..used], &mut m1[..used]);
        for i in 0..used {
            sink(done + i, m0[i], m1[i]);
        }
        done += len;
    }
    q.zeroize();
    m0.zeroize();
    m1.zeroize();
    Ok(())
}

/// Random OTs as the receiver, streamed: the choice bits are drawn from `prg`; calls
/// `sink(i, c_i, m_{c_i})` for each OT `i < n`.
pub async fn receive_random<T: Transport, H: BlockHash>(
    receiver: &mut IknpReceiver<H>,
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    n: usize,
    sink: impl FnMut(usize, bool, u128),
) -> Result<(), Error> {
    receive_random_tagged(receiver, chan, tag::EXT_U, prg, n, sink).await
}

pub(crate) async fn receive_random_tagged<T: Transport, H: BlockHash>(
    receiver: &mut IknpReceiver<H>,
    chan: &mut Channel<'_, T>,
    tag: u16,
    prg: &mut Prg,
    n: usize,
    mut sink: impl FnMut(usize, bool, u128),
) -> Result<(), Error> {
    let cap = next_blocks(n, 0);
    let mut r = vec![0u128; cap];
    let (mut u, mut t) = (vec![0u128; KAPPA * cap], vec![0u128; KAPPA * cap]);
    let mut m = vec![0u128; KAPPA * cap];
    let mut done = 0;
    while done < n {
        let nb = next_blocks(n, done);
        for w in r[..nb].iter_mut() {
            *w = u128::from(prg.next_u64()) | u128::from(prg.next_u64()) << 64;
        }
        let len = KAPPA * nb;
        let first = receiver.extend(&r[..nb], &mut u[..len], &mut t[..len])?;
        chan.send_ring("iknp.receive", tag, &u[..len]).await?;
        let used = len.min(n - done);
        receiver.random_messages(first, &t[..used], &mut m[..used]);
        for (b, (block, &word)) in m[..used].chunks(KAPPA).zip(&r[..nb]).enumerate() {
            // The choice bits of this block as two u64 halves (constant-width shifts).
            let halves = [word as u64, (word >> 64) as u64];
            for (k, &x) in block.iter().enumerate() {
                let bit = (halves[k / 64] >> (k % 64)) & 1 == 1;
                sink(done + KAPPA * b + k, bit, x);
            }
        }
        done += len;
    }
    chan.flush("iknp.receive").await?;
    r.zeroize();
    t.zeroize();
    m.zeroize();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::Domain;

    /// The pure steps without I/O: base OTs by hand, then one batch of correlated OTs, with the
    /// AES columns (AES hash) and the ChaCha columns.
    #[test]
    fn correlated_rows_satisfy_q_eq_t_xor_r_delta() {
        correlated_rows::<FixedKeyAes>();
        correlated_rows::<crate::hash::ChaChaHash>();
    }

    fn correlated_rows<H: BlockHash + Default>() {
        let seed = Seed::from_bytes([5; 32]);
        let mut p = seed.prg(Domain::OT, 0);
        let delta = Delta::random(&mut p);
        let d = delta.expose();
        let mut keys_s = Vec::new();
        let mut keys_r = Vec::new();
        for j in 0..KAPPA {
            let k0 = seed.derive(Domain::OT, 100 + 2 * j as u64);
            let k1 = seed.derive(Domain::OT, 101 + 2 * j as u64);
            let bit = (d >> j) & 1;
            let chosen = seed.derive(Domain::OT, 100 + 2 * j as u64 + bit as u64);
            keys_s.push(chosen);
            keys_r.push([k0, k1]);
        }
        let mut s = IknpSender::new(delta, keys_s, H::default()).unwrap();
        let mut r = IknpReceiver::new(keys_r, H::default()).unwrap();
        for nb in [1usize, 3] {
            let choices: Vec<u128> = (0..nb as u128)
                .map(|b| b.wrapping_mul(0xdead_beef) ^ 0x55)
                .collect();
            let mut u = vec![0u128; KAPPA * nb];
            let mut t = vec![0u128; KAPPA * nb];
            let mut q = vec![0u128; KAPPA * nb];
            let fr = r.extend(&choices, &mut u, &mut t).unwrap();
            let fs = s.extend(&u, &mut q).unwrap();
            assert_eq!(fr, fs);
            for i in 0..KAPPA * nb {
                let c = (choices[i / KAPPA] >> (i % KAPPA)) & 1;
                assert_eq!(q[i] ^ t[i], if c == 1 { d } else { 0 });
            }
        }
        assert!(s.extend(&[0u128; 5], &mut [0u128; 5]).is_err());
    }
}
