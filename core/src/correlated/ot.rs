//! Correlated randomness from oblivious transfer: no third party.
//!
//! [`OtCorrelations`] runs between the two computing parties over the [`Sub::Offline`] sub-channel
//! of the link the online phase uses: one connection per pair of parties. Its setup runs 128 base OTs
//! in each direction ([`crate::ot::base`]), so that each party is the sender of one IKNP extension
//! ([`crate::ot::iknp`]) and the receiver of the other. Every correlation is then built from
//! correlated OTs:
//!
//! - **Gilboa products.** For a product `x * y` with `x` held by the extension sender and `y` by
//!   the receiver, OT number `j` (of `w` = bits of `y`) has choice bit `y_j` and correlation
//!   `x 2^j`: the sender sends `tau = H(q) + x 2^j - H(q ^ delta)` and keeps `-H(q)`; the receiver
//!   takes `H(t) + y_j tau`. Summed over `j`, the two values are additive shares of `x y` in Z_2^k.
//! - **Beaver triples**: each party samples its own `a_p`, `b_p`; the cross terms `a_0 b_1` and
//!   `a_1 b_0` are Gilboa products, one per direction, run in the same rounds. `2k` OTs per triple
//!   (`k` = ring bits); 2 rounds per batch.
//! - **Square pairs**: `a^2 = a_0^2 + a_1^2 + 2 a_0 a_1`, one Gilboa product: `k` OTs per pair.
//! - **Matrix triples** `(m x k)(k x n)`, as SecureML section 4.2: one OT per bit of each element
//!   of the `k x n` factor `B`, whose correlation is a whole column of `A` (a vector of `m`
//!   elements, expanded from the hash with tweaks `(ot, chunk)`). `2 k n w` OTs in all instead of
//!   `2 m k n w` for `m k n` scalar triples; the corrections are `2 m k n w` ring elements.
//! - **Data masks and their triples** (SecureML's mask reuse, [`super::DataMask`]): each party
//!   draws its share of `U` alone; a triple on a batch `U_B` (or `U_B^T`) is the matrix triple
//!   above with that fixed left factor in place of a random one: the Gilboa products take the
//!   bits of the fresh factor as choices and columns of `U_B` as correlations (or, when the
//!   fresh factor is the wider one, the transposed product, with the bits of `U_B` as choices).
//!   Each party's `U` share enters only as the sender's correlation or as its own choices, so
//!   reusing it across triples reveals nothing; the cost per triple is that of a random one.
//! - **Truncation pairs**: `r` from `k` random bits shared by XOR (`beta = beta_0 ^ beta_1`), each
//!   turned into an arithmetic share with one OT (`beta = beta_0 + beta_1 - 2 beta_0 beta_1`, the
//!   product a 1-bit Gilboa product); then `r = sum 2^i beta_i`, `r >> d = sum_{i >= d} 2^(i-d)
//!   beta_i` and `msb(r) = beta_(k-1)` are linear, exactly the pairs the dealer hands out.
//! - **Random OTs** for garbled-circuit inputs: IKNP random OTs, in either direction.
//!
//! Both parties must request the same correlations in the same order (the online protocols do).
//! Each request starts with both sides exchanging its description (kind, ring, sizes, who sends);
//! different requests fail there with [`ErrorKind::Malformed`] on both sides instead of leaving
//! them waiting for each other. After any error the source is poisoned. Memory per request is bounded by one batch plus the
//! output itself, whatever its size.
//!
//! Security: semi-honest, no third party, no non-collusion assumption beyond the two servers'.

use super::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs,
};
use crate::error::{Error, ErrorKind};
use crate::hash::{BlockHash, FixedKeyAes};
use crate::ot::iknp::{self, Delta, IknpReceiver, IknpSender, KAPPA, MAX_BATCH_BLOCKS};
use crate::ot::{base, tag};
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::share::Shares;
use crate::topology::{Links, PartyId};
use crate::transport::{Channel, Link, Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;
use zeroize::Zeroize;

/// Ring elements of correction vectors held per batch of a matrix triple.
const MATRIX_BATCH_ELEMS: usize = 1 << 18;

/// Truncation pairs per batch (their bits fill one extension batch in Z_2^64).
const TRUNC_BATCH: usize = 128;

fn to_block<R: Ring>(x: R) -> u128 {
    let mut b = [0u8; 16];
    x.write_le(&mut b);
    u128::from_le_bytes(b)
}

fn from_block<R: Ring>(b: u128) -> R {
    R::from_le_slice(&b.to_le_bytes())
}

/// Packs the low `width` bits of each value (`width` divides 128) into choice words.
fn pack_bits<R: Ring>(vals: &[R], width: usize, words: &mut [u128]) {
    words.fill(0);
    let mask = if width >= 128 {
        !0
    } else {
        (1u128 << width) - 1
    };
    for (e, &v) in vals.iter().enumerate() {
        let bit = e * width;
        words[bit / 128] |= (to_block(v) & mask) << (bit % 128);
    }
}

/// Bit `j` of `y` as the ring element 0 or 1.
#[inline]
fn bit<R: Ring>(y: R, j: usize) -> R {
    R::from_u64(u64::from(y.bit(j as u32)))
}

/// Hashes each row into `per_ot` blocks with tweaks `(first + o) | (c << 64)` and decodes `m`
/// ring elements per row into `out` (`rows.len() * m`). Works through the blocks of all rows in
/// runs of [`EXPAND_CHUNK`] on the stack (one hash call each), decoding each run at once.
fn expand<R: Ring, H: BlockHash>(
    hash: &H,
    first: u64,
    rows: &[u128],
    xor: u128,
    m: usize,
    out: &mut [R],
) {
    let per_block = 16 / R::BYTES;
    let per_ot = m.div_ceil(per_block);
    let total = rows.len() * per_ot;
    let mut blocks = [0u128; EXPAND_CHUNK];
    let mut tweaks = [0u128; EXPAND_CHUNK];
    // (row, block within the row) of the first block of the next run.
    let (mut o0, mut c0) = (0, 0);
    let mut done = 0;
    while done < total {
        let len = (total - done).min(EXPAND_CHUNK);
        let (mut o, mut c) = (o0, c0);
        for (b, t) in blocks[..len].iter_mut().zip(&mut tweaks[..len]) {
            *b = rows[o] ^ xor;
            *t = u128::from(first + o as u64) | ((c as u128) << 64);
            c += 1;
            if c == per_ot {
                (o, c) = (o + 1, 0);
            }
        }
        hash.hash_in_place(&tweaks[..len], &mut blocks[..len]);
        let (mut o, mut c) = (o0, c0);
        for b in &blocks[..len] {
            let at = o * m + c * per_block;
            let end = o * m + m.min((c + 1) * per_block);
            let bytes = b.to_le_bytes();
            for (d, src) in out[at..end].iter_mut().zip(bytes.chunks_exact(R::BYTES)) {
                *d = R::from_le_slice(src);
            }
            c += 1;
            if c == per_ot {
                (o, c) = (o + 1, 0);
            }
        }
        (o0, c0) = (o, c);
        done += len;
    }
    blocks.zeroize();
}

/// Hash blocks per call in [`expand`].
const EXPAND_CHUNK: usize = 128;

/// Correlations generated by the two parties with OT extension (see the module docs), over the
/// [`Sub::Offline`] sub-channel of the session's link to the peer.
pub struct OtCorrelations<H: BlockHash = FixedKeyAes> {
    role: Role,
    prg: Prg,
    sender: IknpSender<H>,
    receiver: IknpReceiver<H>,
    failed: bool,
    /// Data masks drawn so far: the next mask's identifier.
    masks: u64,
}

impl OtCorrelations<FixedKeyAes> {
    /// Runs the setup (256 base OTs, two rounds) as `role` over `peer`, the link to the other
    /// party that the session's online phase uses too, with this party's secret `seed` (host
    /// entropy, not shared).
    pub async fn setup<T: Transport>(
        role: Role,
        peer: &mut Link<T>,
        seed: Seed,
    ) -> Result<Self, Error> {
        OtCorrelations::setup_with_hash(role, peer, seed, FixedKeyAes::new()).await
    }
}

impl<H: BlockHash + Clone> OtCorrelations<H> {
    /// [`OtCorrelations::setup`] with another correlation-robust hash (for example
    /// [`crate::hash::ChaChaHash`] on targets without AES instructions; both parties must agree).
    pub async fn setup_with_hash<T: Transport>(
        role: Role,
        peer: &mut Link<T>,
        seed: Seed,
        hash: H,
    ) -> Result<Self, Error> {
        let mut chan = peer.channel(Sub::Offline);
        let prg = seed.prg(Domain::OT, 0);
        let mut base_prg = seed.prg(Domain::OT, 1);
        let delta = Delta::random(&mut base_prg);
        // Both directions at once: each side is base-OT sender for the extension it receives in.
        let bs = base::BaseOtSender::new(&mut base_prg);
        chan.send_frame("ot.setup", tag::BASE_A, &bs.message())
            .await?;
        chan.flush("ot.setup").await?;
        let mut a = [0u8; base::POINT_LEN];
        chan.recv_frame("ot.setup", tag::BASE_A, &mut a).await?;
        let br = base::BaseOtReceiver::new(&a)?;
        let choices = iknp::delta_choices(&delta);
        let skeys = base::send_points(&mut chan, &mut base_prg, &br, &choices).await?;
        let rkeys = base::receive_points(&mut chan, &bs, KAPPA).await?;
        Ok(OtCorrelations {
            role,
            prg,
            sender: IknpSender::new(delta, skeys, hash.clone())?,
            receiver: IknpReceiver::new(rkeys, hash)?,
            failed: false,
            masks: 0,
        })
    }
}

impl<H: BlockHash> OtCorrelations<H> {
    /// This party's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The link to the other party.
    fn peer<'l, T>(&self, links: &'l mut Links<T>) -> Result<&'l mut Link<T>, Error> {
        links.get(PartyId::of(self.role.peer()))
    }

    fn check(&self, op: &'static str) -> Result<(), Error> {
        if self.failed {
            Err(Error::new(op, ErrorKind::Poisoned))
        } else {
            Ok(())
        }
    }

    fn record<V>(&mut self, r: Result<V, Error>) -> Result<V, Error> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Exchanges the description of the next request with the peer and checks that both asked
    /// for the same thing (one small frame each way), so that diverging parties fail here with an
    /// error instead of waiting for each other.
    async fn agree<T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        kind: u32,
        ring_bits: u32,
        dims: [u64; 3],
    ) -> Result<(), Error> {
        let op = "ot.request";
        let mut mine = [0u8; 32];
        mine[0..4].copy_from_slice(&kind.to_le_bytes());
        mine[4..8].copy_from_slice(&ring_bits.to_le_bytes());
        for (i, d) in dims.iter().enumerate() {
            mine[8 + 8 * i..16 + 8 * i].copy_from_slice(&d.to_le_bytes());
        }
        chan.send_frame(op, tag::REQUEST, &mine).await?;
        chan.flush(op).await?;
        let mut theirs = [0u8; 32];
        chan.recv_frame(op, tag::REQUEST, &mut theirs).await?;
        if mine != theirs {
            return Err(Error::new(
                op,
                ErrorKind::Malformed("the parties requested different correlations"),
            ));
        }
        Ok(())
    }

    fn random_vec<R: Ring>(&mut self, n: usize) -> Vec<R> {
        let mut v = vec![R::ZERO; n];
        fill_random(&mut self.prg, &mut v);
        v
    }

    /// Shares of `xs[e] * y_peer[e] + x_peer[e] * ys[e]` for every `e`: Gilboa products in both
    /// directions at once (this side sends with correlations `xs`, receives with choices `ys`).
    async fn cross_both<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        op: &'static str,
        xs: &[R],
        ys: &[R],
    ) -> Result<Vec<R>, Error> {
        let n = xs.len();
        let w = R::BITS as usize;
        let per_batch = KAPPA * MAX_BATCH_BLOCKS / w;
        let cap_ots = per_batch.min(n) * w;
        let cap = cap_ots.div_ceil(KAPPA) * KAPPA;
        let mut choice = vec![0u128; cap / KAPPA];
        let (mut u_mine, mut u_theirs) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut q, mut t) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut h0, mut h1) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut tau_mine, mut tau_theirs) = (vec![R::ZERO; cap_ots], vec![R::ZERO; cap_ots]);
        let mut out = vec![R::ZERO; n];
        let mut start = 0;
        while start < n {
            let p = per_batch.min(n - start);
            let ots = p * w;
            let nb = ots.div_ceil(KAPPA);
            let len = KAPPA * nb;
            pack_bits(&ys[start..start + p], w, &mut choice[..nb]);
            let first_r = self
                .receiver
                .extend(&choice[..nb], &mut u_mine[..len], &mut t[..len])?;
            chan.exchange_ring(op, tag::TRIPLE_U, &u_mine[..len], &mut u_theirs[..len])
                .await?;
            let first_s = self.sender.extend(&u_theirs[..len], &mut q[..len])?;
            self.sender
                .random_messages(first_s, &q[..ots], &mut h0[..ots], &mut h1[..ots]);
            for e in 0..p {
                let x = xs[start + e];
                let mut acc = R::ZERO;
                for j in 0..w {
                    let o = e * w + j;
                    let m0: R = from_block(h0[o]);
                    tau_mine[o] = m0.add(x.shl(j as u32)).sub(from_block(h1[o]));
                    acc = acc.sub(m0);
                }
                out[start + e] = acc;
            }
            chan.exchange_ring(
                op,
                tag::TRIPLE_TAU,
                &tau_mine[..ots],
                &mut tau_theirs[..ots],
            )
            .await?;
            self.receiver
                .random_messages(first_r, &t[..ots], &mut h0[..ots]);
            for e in 0..p {
                let y = ys[start + e];
                let mut acc = out[start + e];
                for j in 0..w {
                    let o = e * w + j;
                    acc = acc.add(from_block(h0[o])).add(bit(y, j).mul(tau_theirs[o]));
                }
                out[start + e] = acc;
            }
            start += p;
        }
        choice.zeroize();
        t.zeroize();
        q.zeroize();
        h0.zeroize();
        h1.zeroize();
        Ok(out)
    }

    /// Shares of `x * y` for each element, where the extension sender `sender` holds the
    /// correlations `x` and the other party the `width`-bit choices `y` (`vals` is this party's
    /// side). One direction only; 2 messages per batch.
    async fn cross_one_way<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        op: &'static str,
        tags: (u16, u16),
        sender: Role,
        width: usize,
        vals: &[R],
    ) -> Result<Vec<R>, Error> {
        let n = vals.len();
        let per_batch = KAPPA * MAX_BATCH_BLOCKS / width;
        let cap_ots = per_batch.min(n) * width;
        let cap = cap_ots.div_ceil(KAPPA) * KAPPA;
        let mut choice = vec![0u128; cap / KAPPA];
        let (mut u, mut rows) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut h0, mut h1) = (vec![0u128; cap], vec![0u128; cap]);
        let mut tau = vec![R::ZERO; cap_ots];
        let mut out = vec![R::ZERO; n];
        let mut start = 0;
        while start < n {
            let p = per_batch.min(n - start);
            let ots = p * width;
            let len = KAPPA * ots.div_ceil(KAPPA);
            if self.role == sender {
                chan.recv_ring(op, tags.0, &mut u[..len]).await?;
                let first = self.sender.extend(&u[..len], &mut rows[..len])?;
                self.sender
                    .random_messages(first, &rows[..ots], &mut h0[..ots], &mut h1[..ots]);
                for e in 0..p {
                    let x = vals[start + e];
                    let mut acc = R::ZERO;
                    for j in 0..width {
                        let o = e * width + j;
                        let m0: R = from_block(h0[o]);
                        tau[o] = m0.add(x.shl(j as u32)).sub(from_block(h1[o]));
                        acc = acc.sub(m0);
                    }
                    out[start + e] = acc;
                }
                chan.send_ring(op, tags.1, &tau[..ots]).await?;
                chan.flush(op).await?;
            } else {
                let nb = len / KAPPA;
                pack_bits(&vals[start..start + p], width, &mut choice[..nb]);
                let first = self
                    .receiver
                    .extend(&choice[..nb], &mut u[..len], &mut rows[..len])?;
                chan.send_ring(op, tags.0, &u[..len]).await?;
                chan.recv_ring(op, tags.1, &mut tau[..ots]).await?;
                self.receiver
                    .random_messages(first, &rows[..ots], &mut h0[..ots]);
                for e in 0..p {
                    let y = vals[start + e];
                    let mut acc = R::ZERO;
                    for j in 0..width {
                        let o = e * width + j;
                        acc = acc.add(from_block(h0[o])).add(bit(y, j).mul(tau[o]));
                    }
                    out[start + e] = acc;
                }
            }
            start += p;
        }
        choice.zeroize();
        rows.zeroize();
        h0.zeroize();
        h1.zeroize();
        Ok(out)
    }

    /// This party's share of `A_0 B_1 + A_1 B_0` for `A` `m x k`, `B` `k x n` (row-major):
    /// vector Gilboa products in both directions.
    async fn cross_matrix<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        a: &[R],
        b: &[R],
        (m, k, n): (usize, usize, usize),
    ) -> Result<Vec<R>, Error> {
        let op = "ot.matrix_triple";
        let w = R::BITS as usize;
        let total = k * n;
        let mut c = vec![R::ZERO; m * n];
        if total == 0 || m == 0 {
            return Ok(c);
        }
        // Products (elements of B) per batch: bounded corrections, whole blocks where possible.
        let mut per_batch = (MATRIX_BATCH_ELEMS / (w * m)).clamp(1, KAPPA * MAX_BATCH_BLOCKS / w);
        if per_batch * w >= KAPPA {
            per_batch -= per_batch % (KAPPA / w);
        }
        let cap_ots = per_batch.min(total) * w;
        let cap = cap_ots.div_ceil(KAPPA) * KAPPA;
        let mut choice = vec![0u128; cap / KAPPA];
        let (mut u_mine, mut u_theirs) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut q, mut t) = (vec![0u128; cap], vec![0u128; cap]);
        let (mut e0, mut e1) = (vec![R::ZERO; cap_ots * m], vec![R::ZERO; cap_ots * m]);
        let (mut tau_mine, mut tau_theirs) =
            (vec![R::ZERO; cap_ots * m], vec![R::ZERO; cap_ots * m]);
        let mut column = vec![R::ZERO; m];
        // One column of this party's part of C, summed before it is added in.
        let mut acc = vec![R::ZERO; m];
        let mut start = 0;
        while start < total {
            let p = per_batch.min(total - start);
            let ots = p * w;
            let nb = ots.div_ceil(KAPPA);
            let len = KAPPA * nb;
            pack_bits(&b[start..start + p], w, &mut choice[..nb]);
            let first_r = self
                .receiver
                .extend(&choice[..nb], &mut u_mine[..len], &mut t[..len])?;
            chan.exchange_ring(op, tag::MATRIX_U, &u_mine[..len], &mut u_theirs[..len])
                .await?;
            let first_s = self.sender.extend(&u_theirs[..len], &mut q[..len])?;
            let delta = self.sender.delta().expose();
            let hash = self.sender.hash();
            expand(hash, first_s, &q[..ots], 0, m, &mut e0[..ots * m]);
            expand(hash, first_s, &q[..ots], delta, m, &mut e1[..ots * m]);
            for e in 0..p {
                let (row_k, col_n) = ((start + e) / n, (start + e) % n);
                for (i, x) in column.iter_mut().enumerate() {
                    *x = a[i * k + row_k];
                }
                acc.fill(R::ZERO);
                for j in 0..w {
                    let at = (e * w + j) * m;
                    let (h0, h1) = (&e0[at..at + m], &e1[at..at + m]);
                    for ((((tau, &m0), &m1), &x), sum) in tau_mine[at..at + m]
                        .iter_mut()
                        .zip(h0)
                        .zip(h1)
                        .zip(&column)
                        .zip(acc.iter_mut())
                    {
                        *tau = m0.add(x.shl(j as u32)).sub(m1);
                        *sum = sum.sub(m0);
                    }
                }
                for (cell, &sum) in c.iter_mut().skip(col_n).step_by(n).zip(&acc) {
                    *cell = cell.add(sum);
                }
            }
            chan.exchange_ring(
                op,
                tag::MATRIX_TAU,
                &tau_mine[..ots * m],
                &mut tau_theirs[..ots * m],
            )
            .await?;
            let hash = self.receiver.hash();
            expand(hash, first_r, &t[..ots], 0, m, &mut e0[..ots * m]);
            for e in 0..p {
                let col_n = (start + e) % n;
                let y = b[start + e];
                acc.fill(R::ZERO);
                for j in 0..w {
                    let at = (e * w + j) * m;
                    let bj = bit(y, j);
                    for ((sum, &h), &tau) in acc
                        .iter_mut()
                        .zip(&e0[at..at + m])
                        .zip(&tau_theirs[at..at + m])
                    {
                        *sum = sum.add(h.add(bj.mul(tau)));
                    }
                }
                for (cell, &sum) in c.iter_mut().skip(col_n).step_by(n).zip(&acc) {
                    *cell = cell.add(sum);
                }
            }
            start += p;
        }
        choice.zeroize();
        t.zeroize();
        q.zeroize();
        e0.zeroize();
        e1.zeroize();
        acc.zeroize();
        column.zeroize();
        Ok(c)
    }

    async fn triples_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        self.agree(chan, 1, R::BITS, [n as u64, 0, 0]).await?;
        let a = self.random_vec::<R>(n);
        let b = self.random_vec::<R>(n);
        let mut c = self.cross_both(chan, "ot.triples", &a, &b).await?;
        for ((c, &a), &b) in c.iter_mut().zip(&a).zip(&b) {
            *c = c.add(a.mul(b));
        }
        Ok(Triples { a, b, c })
    }

    async fn square_pairs_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        self.agree(chan, 2, R::BITS, [n as u64, 0, 0]).await?;
        let a = self.random_vec::<R>(n);
        let cross = self
            .cross_one_way(
                chan,
                "ot.square_pairs",
                (tag::SQUARE_U, tag::SQUARE_TAU),
                Role::P0,
                R::BITS as usize,
                &a,
            )
            .await?;
        let s = a
            .iter()
            .zip(&cross)
            .map(|(&a, &x)| a.mul(a).add(x.add(x)))
            .collect();
        Ok(SquarePairs { a, s })
    }

    async fn matrix_triple_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        let too_big = || {
            Error::new(
                "ot.matrix_triple",
                ErrorKind::InvalidArgument("matrix too large"),
            )
        };
        m.checked_mul(k).ok_or_else(too_big)?;
        k.checked_mul(n).ok_or_else(too_big)?;
        m.checked_mul(n).ok_or_else(too_big)?;
        self.agree(chan, 3, R::BITS, [m as u64, k as u64, n as u64])
            .await?;
        if m < n {
            // The OTs scale with the factor whose bits are the choices (k x n): generate the
            // transposed triple C^T = B^T A^T, whose choice factor is k x m, and transpose back.
            let t = self.matrix_core::<R, T>(chan, n, k, m).await?;
            return Ok(MatrixTriple {
                a: t.b.transpose(),
                b: t.a.transpose(),
                c: t.c.transpose(),
            });
        }
        self.matrix_core(chan, m, k, n).await
    }

    /// A matrix triple with the OTs on the `k x n` factor (sizes checked by the caller).
    async fn matrix_core<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        let a = self.random_vec::<R>(m * k);
        let b = self.random_vec::<R>(k * n);
        self.matrix_from(chan, a, b, (m, k, n)).await
    }

    /// The matrix triple on this party's shares `a` (`m x k`) and `b` (`k x n`): the OTs on the
    /// bits of `b`, the columns of `a` their correlations.
    async fn matrix_from<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        a: Vec<R>,
        b: Vec<R>,
        (m, k, n): (usize, usize, usize),
    ) -> Result<MatrixTriple<R>, Error> {
        let mut c = self.cross_matrix(chan, &a, &b, (m, k, n)).await?;
        let own = crate::arith::matmul::matmul(&a, &b, m, k, n);
        for (c, o) in c.iter_mut().zip(own) {
            *c = c.add(o);
        }
        Ok(MatrixTriple {
            a: Shares::matrix(m, k, a)?,
            b: Shares::matrix(k, n, b)?,
            c: Shares::matrix(m, n, c)?,
        })
    }

    async fn data_mask_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        super::check_mask("ot.data_mask", rows, cols, batch)?;
        let id = self.masks;
        self.agree(chan, 8, R::BITS, [rows as u64, cols as u64, batch as u64])
            .await?;
        self.masks += 1;
        let u = self.random_vec::<R>(rows * cols);
        DataMask::new(Shares::matrix(rows, cols, u)?, batch, id)
    }

    async fn mask_triple_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        let op = "ot.mask_triple";
        let (m, k) = super::check_mask_triple(op, mask, batch, side, n)?;
        let word = side.encode(batch).ok_or(Error::new(
            op,
            ErrorKind::InvalidArgument("no such batch of the data mask"),
        ))?;
        self.agree(chan, 9, R::BITS, [mask.id(), word, n as u64])
            .await?;
        let a = mask.factor(batch, side)?;
        if m < n {
            // As for random triples: the OTs on the narrower factor. C^T = B^T A^T, with the
            // fresh B^T (n x k) as the left factor and the mask's A^T (k x m) as the choices.
            let bt = self.random_vec::<R>(n * k);
            let t = self
                .matrix_from(chan, bt, a.transpose().as_slice().to_vec(), (n, k, m))
                .await?;
            return Ok(MaskTriple {
                b: t.a.transpose(),
                c: t.c.transpose(),
            });
        }
        let b = self.random_vec::<R>(k * n);
        let t = self
            .matrix_from(chan, a.as_slice().to_vec(), b, (m, k, n))
            .await?;
        Ok(MaskTriple { b: t.b, c: t.c })
    }

    async fn truncation_inner<R: Ring, T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        super::check_truncation_shift::<R>("ot.truncation_pairs", shift)?;
        self.agree(chan, 4, R::BITS, [n as u64, u64::from(shift), 0])
            .await?;
        let w = R::BITS as usize;
        let mut out = TruncationPairs {
            r: Vec::with_capacity(n),
            r_shifted: Vec::with_capacity(n),
            r_msb: Vec::with_capacity(n),
        };
        let mut done = 0;
        while done < n {
            let p = TRUNC_BATCH.min(n - done);
            // This party's XOR share of every bit of r, as ring elements 0/1.
            let mut bytes = vec![0u8; (p * w).div_ceil(8)];
            self.prg.fill_bytes(&mut bytes);
            let bits: Vec<R> = (0..p * w)
                .map(|i| R::from_u64(u64::from(bytes[i / 8] >> (i % 8) & 1)))
                .collect();
            bytes.zeroize();
            let prod = self
                .cross_one_way(
                    chan,
                    "ot.truncation_pairs",
                    (tag::TRUNC_U, tag::TRUNC_TAU),
                    Role::P0,
                    1,
                    &bits,
                )
                .await?;
            for e in 0..p {
                let (mut r, mut rs) = (R::ZERO, R::ZERO);
                let mut msb = R::ZERO;
                for i in 0..w {
                    // Arithmetic share of beta_0 ^ beta_1 = beta_0 + beta_1 - 2 beta_0 beta_1.
                    let x = prod[e * w + i];
                    let beta = bits[e * w + i].sub(x.add(x));
                    r = r.add(beta.shl(i as u32));
                    if i as u32 >= shift {
                        rs = rs.add(beta.shl(i as u32 - shift));
                    }
                    msb = beta;
                }
                out.r.push(r);
                out.r_shifted.push(rs);
                out.r_msb.push(msb);
            }
            done += p;
        }
        Ok(out)
    }

    async fn random_ot_sender_inner<T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        let sender = self.role.index() as u64;
        self.agree(chan, 5, 128, [n as u64, sender, 0]).await?;
        let mut messages = Vec::with_capacity(n);
        iknp::send_random_tagged(&mut self.sender, chan, tag::RANDOM_U, n, |_, m0, m1| {
            messages.push([m0, m1])
        })
        .await?;
        Ok(RandomOtSender { messages })
    }

    async fn random_ot_receiver_inner<T: Transport>(
        &mut self,
        chan: &mut Channel<'_, T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        let sender = self.role.peer().index() as u64;
        self.agree(chan, 5, 128, [n as u64, sender, 0]).await?;
        let mut choices = Vec::with_capacity(n);
        let mut messages = Vec::with_capacity(n);
        iknp::receive_random_tagged(
            &mut self.receiver,
            chan,
            tag::RANDOM_U,
            &mut self.prg,
            n,
            |_, c, m| {
                choices.push(c);
                messages.push(m);
            },
        )
        .await?;
        Ok(RandomOtReceiver { choices, messages })
    }
}

impl<T: Transport, H: BlockHash> Correlations<T> for OtCorrelations<H> {
    fn deals_gate_keys(&self) -> bool {
        false
    }

    fn helps_online(&self) -> bool {
        false
    }

    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        self.check("ot.triples")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.triples_inner(chan, n).await;
        self.record(r)
    }

    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        self.check("ot.square_pairs")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.square_pairs_inner(chan, n).await;
        self.record(r)
    }

    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        self.check("ot.matrix_triple")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.matrix_triple_inner(chan, m, k, n).await;
        self.record(r)
    }

    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        self.check("ot.truncation_pairs")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.truncation_inner(chan, n, shift).await;
        self.record(r)
    }

    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        self.check("ot.data_mask")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.data_mask_inner(chan, rows, cols, batch).await;
        self.record(r)
    }

    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        self.check("ot.mask_triple")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.mask_triple_inner(chan, mask, batch, side, n).await;
        self.record(r)
    }

    async fn random_ot_sender(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        self.check("ot.random_ot_sender")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.random_ot_sender_inner(chan, n).await;
        self.record(r)
    }

    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        self.check("ot.random_ot_receiver")?;
        let chan = &mut self.peer(links)?.channel(Sub::Offline);
        let r = self.random_ot_receiver_inner(chan, n).await;
        self.record(r)
    }
}
