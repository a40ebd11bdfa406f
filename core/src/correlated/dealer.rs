//! A trusted dealer: a third party that hands out correlated randomness, seed-compressed.
//!
//! The dealer derives one seed per party from its own seed and sends it once. Afterwards party 0
//! computes its share of every correlation from its seed alone; party 1 computes the free parts of
//! its share (`a`, `b`, `r`, ...) from its seed and receives only the dependent part (`c`, ...) as a
//! correction. A Beaver triple therefore costs one ring element of dealer traffic, a matrix triple
//! `m x n` elements. A data mask for SecureML's mask reuse ([`super::DataMask`]) costs nothing:
//! both parties expand their shares of `U`, batch by batch, from their seeds, and the dealer
//! expands the same batches again when it deals a triple on them (it keeps only each mask's
//! shape, for the last [`MAX_MASKS`] masks).
//!
//! Both parties send each request to the dealer (party 0 without waiting for an answer); the dealer
//! checks that they agree before answering, so parties that fall out of step are caught here.
//! Elementwise correlations are generated and sent in blocks, so the dealer's memory does not grow
//! with the size a party asks for; a matrix triple holds one `k x n` factor, bounded by
//! [`Dealer::with_max_matrix`].
//!
//! Security: the dealer learns nothing about the parties' inputs, but it knows every correlation,
//! so it must not collude with either party (semi-honest, non-colluding dealer).

use super::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs, batch_rows,
};
use crate::error::{Error, ErrorKind};
use crate::fss::dcf::{CorrectionWords, Function};
use crate::fss::{Gate, GateKeys, KeyStreams, OwnPart, deal};
use crate::hash::FixedKeyAes;
use crate::limits::DEFAULT_MAX_ELEMENTS;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::share::Shares;
use crate::topology::{Links, PartyId};
use crate::transport::{Link, Stats, Sub, Transport, tag};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;

/// Elements per correction frame.
const BLOCK: usize = 8192;

/// Function-secret-sharing keys per frame group: about 2 MB of correction words for ReLU on Z_2^64.
const GATE_BLOCK: usize = 1024;
const _: () = assert!(GATE_BLOCK.is_multiple_of(crate::fss::dcf::GROUP));

/// The key streams of request `index` for the party holding `seed`.
fn key_streams(seed: &Seed, index: u64) -> KeyStreams {
    KeyStreams {
        mask: component(seed, index, 0),
        roots: [component(seed, index, 1), component(seed, index, 2)],
        constants: component(seed, index, 3),
    }
}

/// Default bound on the `k x n` factor of a matrix triple the dealer will hold (2^24 elements).
pub const DEFAULT_MAX_MATRIX: usize = 1 << 24;

/// Data masks the dealer remembers (their shapes only); a triple on an older mask is refused.
pub const MAX_MASKS: usize = 64;

/// The first stream component of a data mask's batches: batch `b` of a party's share of `U` is
/// component `MASK_STREAMS + b` of the mask request's streams.
const MASK_STREAMS: u64 = 1 << 32;

/// A data mask as the dealer remembers it: its request number, ring and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MaskShape {
    index: u64,
    ring_bits: u32,
    rows: usize,
    cols: usize,
    batch: usize,
}

/// Batch `b` (`len` elements) of the share of data mask `index` of the party holding `seed`.
fn mask_batch<R: Ring>(seed: &Seed, index: u64, b: usize, len: usize) -> Result<Vec<R>, Error> {
    let c = u64::try_from(b)
        .ok()
        .and_then(|b| MASK_STREAMS.checked_add(b))
        .ok_or(Error::new(
            "dealer",
            ErrorKind::Malformed("no such batch of the data mask"),
        ))?;
    Ok(random_vec(&mut component(seed, index, c), len))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Triples = 1,
    Squares = 2,
    Matrix = 3,
    Truncation = 4,
    /// Random OTs; `dims[1]` is the sender's role index.
    Ot = 5,
    /// Function-secret-sharing keys; `dims[1..]` is the gate's code and parameter.
    Gate = 6,
    /// One online step of the helper's protocols ([`crate::helper`]); `dims[1..]` is the step's
    /// code and parameter.
    Helper = 7,
    /// A data mask; `dims` are its rows, columns and batch size.
    Mask = 8,
    /// A matrix triple on a batch of a data mask; `dims` are the mask's request number, `batch *
    /// 2 + side` ([`MaskSide::encode`]) and the fresh factor's columns.
    MaskTriple = 9,
}

/// One request: what to generate, in which ring, of which size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request {
    kind: Kind,
    ring_bits: u32,
    dims: [u64; 3],
}

const REQUEST_LEN: usize = 32;

impl Request {
    fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0u8; REQUEST_LEN];
        b[0..4].copy_from_slice(&(self.kind as u32).to_le_bytes());
        b[4..8].copy_from_slice(&self.ring_bits.to_le_bytes());
        for (i, d) in self.dims.iter().enumerate() {
            b[8 + 8 * i..16 + 8 * i].copy_from_slice(&d.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8; REQUEST_LEN]) -> Result<Self, Error> {
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let kind = match u32::from_le_bytes([b[0], b[1], b[2], b[3]]) {
            1 => Kind::Triples,
            2 => Kind::Squares,
            3 => Kind::Matrix,
            4 => Kind::Truncation,
            5 => Kind::Ot,
            6 => Kind::Gate,
            7 => Kind::Helper,
            8 => Kind::Mask,
            9 => Kind::MaskTriple,
            _ => {
                return Err(Error::new(
                    "dealer",
                    ErrorKind::Malformed("unknown request kind"),
                ));
            }
        };
        let ring_bits = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        if ![32, 64, 128].contains(&ring_bits) {
            return Err(Error::new(
                "dealer",
                ErrorKind::Malformed("unsupported ring width"),
            ));
        }
        Ok(Request {
            kind,
            ring_bits,
            dims: [word(8), word(16), word(24)],
        })
    }
}

/// The streams of request `index` for the party holding `seed`: one generator per component.
fn component(seed: &Seed, index: u64, component: u64) -> Prg {
    RequestStreams::new(seed, index).component(component)
}

/// One party's generators for one request: the dealer and that party derive the same ones, so
/// the party's share of anything random comes from them without a message.
pub struct RequestStreams {
    seed: Seed,
}

impl RequestStreams {
    /// The streams of request `index` of the party holding `party_seed`.
    pub(crate) fn new(party_seed: &Seed, index: u64) -> Self {
        RequestStreams {
            seed: party_seed.derive(Domain::DEALER_REQUEST, index),
        }
    }

    /// The generator of component `c`.
    pub fn component(&self, c: u64) -> Prg {
        self.seed.prg(Domain::DEALER_REQUEST, c)
    }
}

fn random_vec<R: Ring>(prg: &mut Prg, n: usize) -> Vec<R> {
    let mut v = vec![R::ZERO; n];
    fill_random(prg, &mut v);
    v
}

fn random_bits(prg: &mut Prg, n: usize) -> Vec<bool> {
    let mut bytes = vec![0u8; n.div_ceil(8)];
    prg.fill_bytes(&mut bytes);
    (0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect()
}

/// The dealer process: serves both parties until they close their connections.
pub struct Dealer<T0, T1> {
    seed: Seed,
    p0: Link<T0>,
    p1: Link<T1>,
    max_matrix: usize,
    /// The shapes of the last [`MAX_MASKS`] data masks, oldest first.
    masks: Vec<MaskShape>,
}

impl<T0: Transport, T1: Transport> Dealer<T0, T1> {
    /// A dealer with its own secret `seed` and a transport to each party.
    pub fn new(seed: Seed, to_party0: T0, to_party1: T1) -> Self {
        Dealer {
            seed,
            p0: Link::new(to_party0),
            p1: Link::new(to_party1),
            max_matrix: DEFAULT_MAX_MATRIX,
            masks: Vec::new(),
        }
    }

    /// Bounds the `k x n` factor of a matrix triple (elements); larger requests are refused.
    pub fn with_max_matrix(mut self, elements: usize) -> Self {
        self.max_matrix = elements;
        self
    }

    /// Sends each party its seed, then answers requests until both parties close their
    /// connection between requests. Returns the traffic to party 0 and to party 1; fails with
    /// [`ErrorKind::Closed`] if one party leaves while the other waits on a request.
    pub async fn serve(mut self) -> Result<(Stats, Stats), Error> {
        let seeds = [
            self.seed.derive(Domain::DEALER_PARTY_SEED, 0),
            self.seed.derive(Domain::DEALER_PARTY_SEED, 1),
        ];
        self.p0
            .channel(Sub::Offline)
            .send_frame("dealer.seed", tag::DEALER_SEED, seeds[0].as_bytes())
            .await?;
        self.p0.channel(Sub::Offline).flush("dealer.seed").await?;
        self.p1
            .channel(Sub::Offline)
            .send_frame("dealer.seed", tag::DEALER_SEED, seeds[1].as_bytes())
            .await?;
        self.p1.channel(Sub::Offline).flush("dealer.seed").await?;
        let mut index = 0u64;
        loop {
            let mut buf = [0u8; REQUEST_LEN];
            match self
                .p1
                .channel(Sub::Offline)
                .recv_frame("dealer.request", tag::DEALER_REQUEST, &mut buf)
                .await
            {
                Ok(()) => {}
                Err(e) if *e.kind() == ErrorKind::Closed => {
                    // Party 1 has left: the end of the session, unless party 0 is waiting on a
                    // request of its own (then party 1 left in the middle of a step).
                    let mut buf0 = [0u8; REQUEST_LEN];
                    return match self
                        .p0
                        .channel(Sub::Offline)
                        .recv_frame("dealer.request", tag::DEALER_REQUEST, &mut buf0)
                        .await
                    {
                        Err(e0) if *e0.kind() == ErrorKind::Closed => {
                            Ok((self.p0.stats(), self.p1.stats()))
                        }
                        Ok(()) => Err(e),
                        Err(e0) => Err(e0),
                    };
                }
                Err(e) => return Err(e),
            }
            let req = Request::decode(&buf)?;
            let mut buf0 = [0u8; REQUEST_LEN];
            self.p0
                .channel(Sub::Offline)
                .recv_frame("dealer.request", tag::DEALER_REQUEST, &mut buf0)
                .await?;
            if Request::decode(&buf0)? != req {
                return Err(Error::new(
                    "dealer.request",
                    ErrorKind::Malformed("the parties requested different correlations"),
                ));
            }
            match req.ring_bits {
                32 => self.answer::<u32>(&seeds, index, req).await?,
                64 => self.answer::<u64>(&seeds, index, req).await?,
                _ => self.answer::<u128>(&seeds, index, req).await?,
            }
            self.p0.channel(Sub::Offline).flush("dealer").await?;
            self.p1.channel(Sub::Offline).flush("dealer").await?;
            index += 1;
        }
    }

    async fn answer<R: Ring>(
        &mut self,
        seeds: &[Seed; 2],
        index: u64,
        req: Request,
    ) -> Result<(), Error> {
        let op = "dealer";
        let too_big = || Error::new(op, ErrorKind::Malformed("request too large"));
        let size = |d: u64| usize::try_from(d).map_err(|_| too_big());
        let mut g0: [Prg; 3] = core::array::from_fn(|c| component(&seeds[0], index, c as u64));
        let mut g1: [Prg; 3] = core::array::from_fn(|c| component(&seeds[1], index, c as u64));
        match req.kind {
            Kind::Triples | Kind::Squares => {
                let mut left = size(req.dims[0])?;
                while left > 0 {
                    let n = left.min(BLOCK);
                    let a0 = random_vec::<R>(&mut g0[0], n);
                    let a1 = random_vec::<R>(&mut g1[0], n);
                    let (b0, b1) = if req.kind == Kind::Triples {
                        (
                            random_vec::<R>(&mut g0[1], n),
                            random_vec::<R>(&mut g1[1], n),
                        )
                    } else {
                        (a0.clone(), a1.clone())
                    };
                    let c0 = random_vec::<R>(&mut g0[2], n);
                    let c1: Vec<R> = (0..n)
                        .map(|i| a0[i].add(a1[i]).mul(b0[i].add(b1[i])).sub(c0[i]))
                        .collect();
                    self.p1
                        .channel(Sub::Offline)
                        .send_ring(op, tag::DEALER_CORRECTION, &c1)
                        .await?;
                    left -= n;
                }
            }
            Kind::Matrix => {
                let (m, k, n) = (size(req.dims[0])?, size(req.dims[1])?, size(req.dims[2])?);
                // B (k x n) is held whole, C goes out in frames of at least one row (n):
                // both bounded, so an empty inner dimension cannot make a row of any length.
                if k.checked_mul(n).is_none_or(|kn| kn > self.max_matrix)
                    || n > self.max_matrix
                    || m.checked_mul(n).is_none()
                {
                    return Err(too_big());
                }
                use crate::arith::matmul::matmul_add_into;
                /// Elements of A multiplied at once (a row at least).
                const A_BLOCK: usize = 1 << 16;
                // Streams: A row by row (component 0), B whole (component 1), C0 row by row (2).
                // Each stream is read in order, so reading several rows at once reads the same
                // elements as the parties' one read of the whole matrix.
                let mut b = random_vec::<R>(&mut g0[1], k * n);
                let b1 = random_vec::<R>(&mut g1[1], k * n);
                for (x, &y) in b.iter_mut().zip(&b1) {
                    *x = x.add(y);
                }
                drop(b1);
                let rows_per_frame = (BLOCK / n.max(1)).max(1);
                // Rows of A multiplied at once by the blocked product: at least one row (bounded as
                // B is), at most a frame.
                let rows_per_product = (A_BLOCK / k.max(1)).clamp(1, rows_per_frame);
                let mut row = 0;
                while row < m && n > 0 {
                    let rows = rows_per_frame.min(m - row);
                    let mut c1 = vec![R::ZERO; rows * n];
                    for out in c1.chunks_mut(rows_per_product * n) {
                        let r = out.len() / n;
                        let mut a = random_vec::<R>(&mut g0[0], r * k);
                        let a1 = random_vec::<R>(&mut g1[0], r * k);
                        for (x, &y) in a.iter_mut().zip(&a1) {
                            *x = x.add(y);
                        }
                        matmul_add_into(&a, &b, r, k, n, out);
                    }
                    let c0 = random_vec::<R>(&mut g0[2], rows * n);
                    for (o, c) in c1.iter_mut().zip(c0) {
                        *o = o.sub(c);
                    }
                    self.p1
                        .channel(Sub::Offline)
                        .send_ring(op, tag::DEALER_CORRECTION, &c1)
                        .await?;
                    row += rows;
                }
            }
            Kind::Mask => {
                let (rows, cols, batch) =
                    (size(req.dims[0])?, size(req.dims[1])?, size(req.dims[2])?);
                if batch == 0 || rows.checked_mul(cols).is_none() {
                    return Err(Error::new(
                        op,
                        ErrorKind::Malformed("a data mask of no batch or of overflowing size"),
                    ));
                }
                // Nothing to send: each party expands its share from its seed.
                if self.masks.len() == MAX_MASKS {
                    self.masks.remove(0);
                }
                self.masks.push(MaskShape {
                    index,
                    ring_bits: R::BITS,
                    rows,
                    cols,
                    batch,
                });
            }
            Kind::MaskTriple => {
                let mask = self
                    .masks
                    .iter()
                    .find(|m| m.index == req.dims[0] && m.ring_bits == R::BITS)
                    .copied()
                    .ok_or(Error::new(
                        op,
                        ErrorKind::Malformed("a triple on an unknown data mask"),
                    ))?;
                let (b, side) = MaskSide::decode(req.dims[1]);
                let b = size(b)?;
                let n = size(req.dims[2])?;
                let rows = batch_rows(mask.rows, mask.batch, b).ok_or(Error::new(
                    op,
                    ErrorKind::Malformed("no such batch of the data mask"),
                ))?;
                let (r, cols) = (rows.len(), mask.cols);
                let (m, k) = match side {
                    MaskSide::Rows => (r, cols),
                    MaskSide::Transposed => (cols, r),
                };
                // The batch of U (r x cols) and the fresh factor (k x n) are held whole, the
                // product goes out in frames of at least one row (n).
                let within =
                    |a: usize, b: usize| a.checked_mul(b).is_some_and(|x| x <= self.max_matrix);
                if !within(r, cols)
                    || !within(k, n)
                    || n > self.max_matrix
                    || m.checked_mul(n).is_none()
                {
                    return Err(too_big());
                }
                let mut u = mask_batch::<R>(&seeds[0], mask.index, b, r * cols)?;
                for (x, y) in u
                    .iter_mut()
                    .zip(mask_batch::<R>(&seeds[1], mask.index, b, r * cols)?)
                {
                    *x = x.add(y);
                }
                let a = match side {
                    MaskSide::Rows => u,
                    MaskSide::Transposed => {
                        Shares::matrix(r, cols, u)?.transpose().as_slice().to_vec()
                    }
                };
                let mut v = random_vec::<R>(&mut g0[1], k * n);
                for (x, y) in v.iter_mut().zip(random_vec::<R>(&mut g1[1], k * n)) {
                    *x = x.add(y);
                }
                let rows_per_frame = (BLOCK / n.max(1)).max(1);
                let mut row = 0;
                while row < m && n > 0 {
                    let rows = rows_per_frame.min(m - row);
                    let mut c1 =
                        crate::arith::matmul::matmul(&a[row * k..(row + rows) * k], &v, rows, k, n);
                    let c0 = random_vec::<R>(&mut g0[2], rows * n);
                    for (o, c) in c1.iter_mut().zip(c0) {
                        *o = o.sub(c);
                    }
                    self.p1
                        .channel(Sub::Offline)
                        .send_ring(op, tag::DEALER_CORRECTION, &c1)
                        .await?;
                    row += rows;
                }
            }
            Kind::Truncation => {
                let shift = u32::try_from(req.dims[1])
                    .ok()
                    .filter(|&s| s < R::BITS - 1)
                    .ok_or(too_big())?;
                let mut left = size(req.dims[0])?;
                while left > 0 {
                    let n = left.min(BLOCK);
                    let r0 = random_vec::<R>(&mut g0[0], n);
                    let r1 = random_vec::<R>(&mut g1[0], n);
                    let s0 = random_vec::<R>(&mut g0[1], n);
                    let m0 = random_vec::<R>(&mut g0[2], n);
                    let mut corr = Vec::with_capacity(2 * n);
                    let rs: Vec<R> = (0..n).map(|i| r0[i].add(r1[i])).collect();
                    corr.extend(rs.iter().zip(&s0).map(|(r, &s)| r.shr(shift).sub(s)));
                    corr.extend(
                        rs.iter()
                            .zip(&m0)
                            .map(|(r, &m)| R::from_u64(r.msb() as u64).sub(m)),
                    );
                    self.p1
                        .channel(Sub::Offline)
                        .send_ring(op, tag::DEALER_CORRECTION, &corr)
                        .await?;
                    left -= n;
                }
            }
            Kind::Ot => {
                let sender = req.dims[1];
                let mut left = size(req.dims[0])?;
                while left > 0 {
                    let n = left.min(BLOCK);
                    if sender == 0 {
                        // P0 sends: (m0, m1) from its seed; P1 chooses c from its seed, gets m_c.
                        let pairs = random_vec::<u128>(&mut g0[0], 2 * n);
                        let c = random_bits(&mut g1[0], n);
                        let chosen: Vec<u128> =
                            (0..n).map(|i| pairs[2 * i + c[i] as usize]).collect();
                        self.p1
                            .channel(Sub::Offline)
                            .send_ring(op, tag::DEALER_CORRECTION, &chosen)
                            .await?;
                    } else {
                        // P0 receives: c and m_c from its seed; P1 sends and gets both messages.
                        let c = random_bits(&mut g0[0], n);
                        let mc = random_vec::<u128>(&mut g0[1], n);
                        let other = random_vec::<u128>(&mut g1[0], n);
                        let mut pairs = Vec::with_capacity(2 * n);
                        for i in 0..n {
                            let mut p = [other[i]; 2];
                            p[c[i] as usize] = mc[i];
                            pairs.extend_from_slice(&p);
                        }
                        self.p1
                            .channel(Sub::Offline)
                            .send_ring(op, tag::DEALER_CORRECTION, &pairs)
                            .await?;
                    }
                    left -= n;
                }
            }
            Kind::Helper => {
                let step = crate::helper::Step::decode(req.dims[1], req.dims[2])?;
                let streams = [
                    RequestStreams::new(&seeds[0], index),
                    RequestStreams::new(&seeds[1], index),
                ];
                crate::helper::serve::<R, _, _>(
                    step,
                    size(req.dims[0])?,
                    &streams,
                    &mut self.p0,
                    &mut self.p1,
                )
                .await?;
            }
            Kind::Gate => {
                let gate = Gate::decode::<R>(req.dims[1], req.dims[2])?;
                crate::fss::check_gates("dealer", size(req.dims[0])?)?;
                let mut streams = [key_streams(&seeds[0], index), key_streams(&seeds[1], index)];
                let aes = FixedKeyAes::new();
                let mut left = size(req.dims[0])?;
                while left > 0 {
                    let n = left.min(GATE_BLOCK);
                    let p0 = OwnPart::<R>::derive(gate, Role::P0, n, &mut streams[0]);
                    let p1 = OwnPart::<R>::derive(gate, Role::P1, n, &mut streams[1]);
                    let (words, constants) = deal(gate, &aes, [&p0, &p1]);
                    for cw in &words {
                        send_words(&mut self.p0, cw).await?;
                        send_words(&mut self.p1, cw).await?;
                    }
                    self.p1
                        .channel(Sub::Offline)
                        .send_ring(op, tag::DEALER_CORRECTION, &constants)
                        .await?;
                    left -= n;
                }
            }
        }
        Ok(())
    }
}

/// Sends correction words of function-secret-sharing keys (the same to both parties).
async fn send_words<R: Ring, T: Transport>(
    link: &mut Link<T>,
    cw: &CorrectionWords<R>,
) -> Result<(), Error> {
    let mut ch = link.channel(Sub::Offline);
    ch.send_ring("dealer", tag::DEALER_KEYS, &cw.seeds).await?;
    ch.send_ring("dealer", tag::DEALER_KEYS, &cw.values).await?;
    ch.send_ring("dealer", tag::DEALER_KEYS, &cw.last).await
}

/// The party that serves as the dealer when a client reaches it over the session's links:
/// SecureNN's helper P2 ([`crate::Topology::ThreeServers`]).
const HELPER: PartyId = PartyId(2);

/// Runs `$body` with `$l` bound to the link to the dealer: the client's own connection
/// (`$own` is `Some`), or the session's link to the helper.
macro_rules! to_dealer {
    ($own:expr, $links:expr, |$l:ident| $body:expr) => {
        match $own {
            Some($l) => $body,
            None => {
                let $l = $links.get(HELPER)?;
                $body
            }
        }
    };
}

/// A party's connection to the [`Dealer`]: implements [`Correlations`].
///
/// The dealer is reached over a connection of the client's own ([`DealerClient::connect`]), or,
/// in a three-server session, over the session's link to the helper P2, which deals and also takes
/// part in the helper's online steps ([`DealerClient::through_helper`], [`crate::helper`]).
pub struct DealerClient<T> {
    role: Role,
    seed: Seed,
    /// The client's own connection; `None` when the dealer is the session's helper.
    own: Option<Link<T>>,
    requests: u64,
}

impl<T: Transport> DealerClient<T> {
    /// Connects to the dealer as `role` and receives this party's seed.
    pub async fn connect(role: Role, transport: T) -> Result<Self, Error> {
        let mut link = Link::new(transport);
        let seed = receive_seed(&mut link).await?;
        Ok(DealerClient {
            role,
            seed,
            own: Some(link),
            requests: 0,
        })
    }

    /// Share-holding party `role` of a three-server session, whose dealer is the helper P2 over
    /// the session's link to it (in `links`): receives this party's seed from it.
    pub async fn through_helper(role: Role, links: &mut Links<T>) -> Result<Self, Error> {
        let seed = receive_seed(links.get(HELPER)?).await?;
        Ok(DealerClient {
            role,
            seed,
            own: None,
            requests: 0,
        })
    }

    /// Traffic between this party and the dealer over the client's own connection (zero when
    /// the dealer is the session's helper: that traffic is the session link's).
    pub fn stats(&self) -> Stats {
        self.own.as_ref().map(Link::stats).unwrap_or_default()
    }

    /// Sends the request and returns the streams of this party's share. First flushes the
    /// session's links: the other party may be waiting for bytes this party has buffered, while
    /// the dealer waits for that party's request.
    async fn request<R: Ring, L: Transport>(
        &mut self,
        links: &mut Links<L>,
        kind: Kind,
        dims: [u64; 3],
    ) -> Result<RequestStreams, Error> {
        links.flush_pending("dealer.request").await?;
        let req = Request {
            kind,
            ring_bits: R::BITS,
            dims,
        };
        to_dealer!(self.own.as_mut(), links, |l| {
            let mut ch = l.channel(Sub::Offline);
            ch.send_frame("dealer.request", tag::DEALER_REQUEST, &req.encode())
                .await?;
            ch.flush("dealer.request").await?;
        });
        let index = self.requests;
        self.requests += 1;
        Ok(RequestStreams::new(&self.seed, index))
    }

    /// This party's share of a dealt `m x n` product: party 0's from its stream `gc`, party 1's
    /// the dealer's corrections, received in frames of whole rows as the dealer sends them.
    async fn product_share<R: Ring, L: Transport>(
        &mut self,
        links: &mut Links<L>,
        gc: &mut Prg,
        m: usize,
        n: usize,
    ) -> Result<Vec<R>, Error> {
        Ok(match self.role {
            Role::P0 => random_vec::<R>(gc, m * n),
            Role::P1 => {
                let rows_per_frame = (BLOCK / n.max(1)).max(1);
                let mut c = vec![R::ZERO; m * n];
                for rows in c.chunks_mut((rows_per_frame * n).max(1)) {
                    to_dealer!(self.own.as_mut(), links, |l| l
                        .channel(Sub::Offline)
                        .recv_ring("dealer", tag::DEALER_CORRECTION, rows)
                        .await?);
                }
                c
            }
        })
    }

    /// [`DealerClient::request`] for a correlation of three components.
    async fn request3<R: Ring, L: Transport>(
        &mut self,
        links: &mut Links<L>,
        kind: Kind,
        dims: [u64; 3],
    ) -> Result<[Prg; 3], Error> {
        let streams = self.request::<R, L>(links, kind, dims).await?;
        Ok(core::array::from_fn(|c| streams.component(c as u64)))
    }
}

/// Receives a party's seed from the dealer.
async fn receive_seed<T: Transport>(link: &mut Link<T>) -> Result<Seed, Error> {
    let mut seed = [0u8; 32];
    link.channel(Sub::Offline)
        .recv_frame("dealer.seed", tag::DEALER_SEED, &mut seed)
        .await?;
    Ok(Seed::from_bytes(seed))
}

/// Receives `per_elem * n` corrections sent in blocks of `per_elem * BLOCK`, laid out as the
/// dealer sends them (block by block).
async fn corrections<R: Ring, T: Transport>(
    link: &mut Link<T>,
    n: usize,
    per_block: impl Fn(usize) -> usize,
) -> Result<Vec<R>, Error> {
    let total: usize = (0..n.div_ceil(BLOCK))
        .map(|b| per_block((n - b * BLOCK).min(BLOCK)))
        .sum();
    let mut out = vec![R::ZERO; total];
    let mut at = 0;
    let mut left = n;
    while left > 0 {
        let len = per_block(left.min(BLOCK));
        link.channel(Sub::Offline)
            .recv_ring("dealer", tag::DEALER_CORRECTION, &mut out[at..at + len])
            .await?;
        at += len;
        left -= left.min(BLOCK);
    }
    Ok(out)
}

/// Receives the correction words of `words` (keys `done..done + m`) and, for party 1, the
/// gates' constants.
async fn gate_block<R: Ring, T: Transport>(
    link: &mut Link<T>,
    words: &mut [CorrectionWords<R>],
    shapes: &[crate::fss::DcfShape],
    constants: Option<&mut [R]>,
    done: usize,
    m: usize,
) -> Result<(), Error> {
    for (cw, d) in words.iter_mut().zip(shapes) {
        let (b, w) = (d.bits as usize, d.width);
        // Values per level: none for a point function.
        let lw = match d.function {
            Function::LessThan => w,
            Function::Equal => 0,
        };
        let mut ch = link.channel(Sub::Offline);
        ch.recv_ring(
            "dealer",
            tag::DEALER_KEYS,
            &mut cw.seeds[done * b..(done + m) * b],
        )
        .await?;
        ch.recv_ring(
            "dealer",
            tag::DEALER_KEYS,
            &mut cw.values[done * b * lw..(done + m) * b * lw],
        )
        .await?;
        ch.recv_ring(
            "dealer",
            tag::DEALER_KEYS,
            &mut cw.last[done * w..(done + m) * w],
        )
        .await?;
    }
    if let Some(c) = constants {
        link.channel(Sub::Offline)
            .recv_ring("dealer", tag::DEALER_CORRECTION, c)
            .await?;
    }
    Ok(())
}

impl<T: Transport, L: Transport> Correlations<L> for DealerClient<T> {
    fn own_stats(&self) -> Stats {
        self.stats()
    }

    // Not inlined: inlined into `OfflineSource::own_activity`, LLVM tests this `Option`'s niche
    // before the enum's variant (the result is then discarded for the OT variant), a branch on
    // bytes the OT variant leaves uninitialised that valgrind reports in the C ABI tests.
    #[inline(never)]
    fn own_activity(&self) -> u64 {
        self.own.as_ref().map_or(0, Link::activity)
    }

    fn deals_gate_keys(&self) -> bool {
        true
    }

    fn helps_online(&self) -> bool {
        self.own.is_none()
    }

    async fn helper_step<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        step: crate::helper::Step,
        n: usize,
    ) -> Result<RequestStreams, Error> {
        if self.own.is_some() {
            return Err(Error::new(
                "helper",
                ErrorKind::Unsupported(
                    "a dealer takes no part online: the helper's protocols need the three-server \
                     topology",
                ),
            ));
        }
        let (code, param) = step.encode();
        self.request::<R, L>(links, Kind::Helper, [n as u64, code, param])
            .await
    }

    async fn gate_keys<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        gate.check::<R>()?;
        crate::fss::check_gates("dealer.gate_keys", n)?;
        let (code, param) = gate.encode();
        let index = self.requests;
        self.request::<R, L>(links, Kind::Gate, [n as u64, code, param])
            .await?;
        let mut streams = key_streams(&self.seed, index);
        let own = OwnPart::<R>::derive(gate, self.role, n, &mut streams);
        let shapes = gate.dcfs::<R>();
        let mut words: Vec<CorrectionWords<R>> = shapes
            .iter()
            .map(|d| CorrectionWords::zeros(d.function, n, d.bits, d.width))
            .collect();
        let per_gate = gate.constants();
        let mut constants = match self.role {
            Role::P0 => None,
            Role::P1 => Some(vec![R::ZERO; n * per_gate]),
        };
        let mut done = 0;
        while done < n {
            let m = (n - done).min(GATE_BLOCK);
            let c = constants
                .as_mut()
                .map(|c| &mut c[done * per_gate..(done + m) * per_gate]);
            to_dealer!(self.own.as_mut(), links, |l| {
                gate_block(l, &mut words, &shapes, c, done, m).await?
            });
            done += m;
        }
        Ok(GateKeys::assemble(gate, self.role, own, words, constants))
    }

    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        let [mut ga, mut gb, mut gc] = self
            .request3::<R, L>(links, Kind::Triples, [n as u64, 0, 0])
            .await?;
        // Each component is one sequential stream (read in multiples of 4 bytes), so the
        // dealer's block-wise generation and this whole-vector generation agree.
        let a = random_vec(&mut ga, n);
        let b = random_vec(&mut gb, n);
        let c = match self.role {
            Role::P0 => random_vec(&mut gc, n),
            Role::P1 => to_dealer!(self.own.as_mut(), links, |l| corrections(l, n, |b| b)
                .await?),
        };
        Ok(Triples { a, b, c })
    }

    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        let [mut ga, _, mut gc] = self
            .request3::<R, L>(links, Kind::Squares, [n as u64, 0, 0])
            .await?;
        let a = random_vec(&mut ga, n);
        let s = match self.role {
            Role::P0 => random_vec(&mut gc, n),
            Role::P1 => to_dealer!(self.own.as_mut(), links, |l| corrections(l, n, |b| b)
                .await?),
        };
        Ok(SquarePairs { a, s })
    }

    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        // Every buffer of the triple, checked before the request (the dealer checks again).
        for (rows, cols) in [(m, k), (k, n), (m, n)] {
            crate::limits::elements("dealer.matrix_triple", rows, cols, DEFAULT_MAX_ELEMENTS)?;
        }
        let [mut ga, mut gb, mut gc] = self
            .request3::<R, L>(links, Kind::Matrix, [m as u64, k as u64, n as u64])
            .await?;
        let b = random_vec::<R>(&mut gb, k * n);
        let a = random_vec::<R>(&mut ga, m * k);
        let c = self.product_share(links, &mut gc, m, n).await?;
        Ok(MatrixTriple {
            a: Shares::matrix(m, k, a)?,
            b: Shares::matrix(k, n, b)?,
            c: Shares::matrix(m, n, c)?,
        })
    }

    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        super::check_mask("dealer.data_mask", rows, cols, batch)?;
        let index = self.requests;
        self.request::<R, L>(links, Kind::Mask, [rows as u64, cols as u64, batch as u64])
            .await?;
        let mut u = Vec::with_capacity(rows * cols);
        for b in 0..rows.div_ceil(batch) {
            let r = batch_rows(rows, batch, b).map_or(0, |r| r.len());
            u.extend(mask_batch::<R>(&self.seed, index, b, r * cols)?);
        }
        DataMask::new(Shares::matrix(rows, cols, u)?, batch, index)
    }

    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        let op = "dealer.mask_triple";
        let (m, k) = super::check_mask_triple(op, mask, batch, side, n)?;
        let word = side.encode(batch).ok_or(Error::new(
            op,
            ErrorKind::InvalidArgument("no such batch of the data mask"),
        ))?;
        let [_, mut gb, mut gc] = self
            .request3::<R, L>(links, Kind::MaskTriple, [mask.id(), word, n as u64])
            .await?;
        let b = random_vec::<R>(&mut gb, k * n);
        let c = self.product_share(links, &mut gc, m, n).await?;
        Ok(MaskTriple {
            b: Shares::matrix(k, n, b)?,
            c: Shares::matrix(m, n, c)?,
        })
    }

    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<L>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        super::check_truncation_shift::<R>("dealer.truncation", shift)?;
        let [mut gr, mut gs, mut gm] = self
            .request3::<R, L>(links, Kind::Truncation, [n as u64, shift as u64, 0])
            .await?;
        let r = random_vec(&mut gr, n);
        let (r_shifted, r_msb) = match self.role {
            Role::P0 => (random_vec(&mut gs, n), random_vec(&mut gm, n)),
            Role::P1 => {
                let both: Vec<R> =
                    to_dealer!(self.own.as_mut(), links, |l| corrections(l, n, |b| 2 * b)
                        .await?);
                let (mut s, mut m) = (Vec::with_capacity(n), Vec::with_capacity(n));
                let mut at = 0;
                let mut left = n;
                while left > 0 {
                    let b = left.min(BLOCK);
                    s.extend_from_slice(&both[at..at + b]);
                    m.extend_from_slice(&both[at + b..at + 2 * b]);
                    at += 2 * b;
                    left -= b;
                }
                (s, m)
            }
        };
        Ok(TruncationPairs {
            r,
            r_shifted,
            r_msb,
        })
    }

    async fn random_ot_sender(
        &mut self,
        links: &mut Links<L>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        let sender = self.role.index() as u64;
        let [mut g, _, _] = self
            .request3::<u128, L>(links, Kind::Ot, [n as u64, sender, 0])
            .await?;
        let flat: Vec<u128> = match self.role {
            Role::P0 => random_vec(&mut g, 2 * n),
            Role::P1 => to_dealer!(self.own.as_mut(), links, |l| corrections(l, n, |b| 2 * b)
                .await?),
        };
        Ok(RandomOtSender {
            messages: flat.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
        })
    }

    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<L>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        let sender = self.role.peer().index() as u64;
        let [mut g0, mut g1, _] = self
            .request3::<u128, L>(links, Kind::Ot, [n as u64, sender, 0])
            .await?;
        let choices = random_bits(&mut g0, n);
        let messages = match self.role {
            Role::P0 => random_vec(&mut g1, n),
            Role::P1 => to_dealer!(self.own.as_mut(), links, |l| corrections(l, n, |b| b)
                .await?),
        };
        Ok(RandomOtReceiver { choices, messages })
    }
}
