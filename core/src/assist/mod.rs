//! PrivPy's four servers (Li, Duan, Xu): two primaries S1 and S2 (parties 0 and 1) hold the
//! additive shares, two assistants Sa and Sb (parties 2 and 3) hold nothing and compute on
//! re-randomized shares the primaries hand them, so that products need no correlated randomness
//! and comparisons need neither keys nor triples.
//!
//! Each primary `p` has its own assistant `A_p` (S1's is Sa, S2's is Sb) with which it shares a
//! stream (a seed it sends when it connects), and a stream in common with the other primary. Each
//! step is one request that both primaries send to both assistants; an assistant serves the
//! requests in the order they come ([`Assistant::serve`]) and checks that both asked for the same.
//!
//! - Products (PrivPy's Protocol 1, `product.rs`): the primaries re-randomize their shares with the
//!   common stream (`x'_1 = x_1 - r`, `x'_2 = x_2 + r`), each sends its `x'` to its own assistant
//!   and its `y'` to the other; S1, S2, Sa and Sb each compute one of the four cross terms
//!   `I(x'_i) I(y'_j) / 2^f` on the signed readings `I` of the shares, exactly in integers of
//!   twice the ring's width, and each assistant re-shares its term (its own primary's part from
//!   their stream, the rest sent to the other primary). Elementwise and matrix products, with or
//!   without the division by the scale; one round trip, `|x| + |y|` ring elements from each
//!   primary and `|z|` from each assistant.
//! - Signs (`sign.rs`), by default with Sa as SecureNN's helper: the primaries run the helper's
//!   sign step ([`crate::helper`]: open `x + r`, one PrivateCompare) with Sa dealing `r` from
//!   seeds each primary sent it and folding the compared bit; about 215 bytes in all per element
//!   in Z_2^64, two round trips. With [`crate::Backend::GarbledCircuits`], PrivPy's Protocol 2:
//!   each primary splits its share of `x` between the two assistants (one part from its own
//!   assistant's stream, the other sent), the assistants run the two-party garbled-circuit sign
//!   test ([`crate::nonlinear::drelu`], with OT between them) on those shares, and each hands its
//!   share of `[x >= 0]` to its own primary (about 9.2 KB per element in Z_2^64). Every other
//!   comparison, ReLU, max and spline is composed from this step, as with three servers.
//!
//! ## Correctness (PrivPy's Theorem 2)
//! The products are exact in integers when `I(x'_1) + I(x'_2) = x` (and the same for `y`), which
//! fails only when the two re-randomized shares wrap around the ring: for a fixed-point integer
//! `x` and uniform shares in Z_2^k, with probability `|x| / 2^k` (PrivPy's `k|x| / phi`). A
//! product fails with probability at most `(|x| + |y|) / 2^k`; over Z_2^128 with 32 fractional
//! bits and values below 2^32 that is below 2^-63 per product. Each of the four terms is rounded
//! down, so a product lies less than 4 units in the last place below the exactly rounded one.
//!
//! ## Security
//! Semi-honest, one of the four servers corrupted (no two collude; PrivPy's model). A primary sees
//! its shares, streams it shares with one other server, and fresh shares from the assistants; an
//! assistant sees one re-randomized share of each operand (uniform: the other primary's share is
//! masked by the common stream), and for a sign either one masked share of the compared value
//! and the garbled circuit's view, which [`crate::gc`] keeps independent of the data, or (Sa as
//! the helper) the masked differences of PrivateCompare, independent of the data as with three
//! servers: Sa knows the mask `r` but never sees `x + r`, which only the primaries open, and the
//! compared bit is hidden by a bit the primaries share.

mod product;
mod serve;
mod sign;

pub(crate) use product::{matmul, mul};
pub use serve::Assistant;
pub(crate) use sign::sign;

use crate::context::{Config, Context};
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::topology::{Links, PartyId, Topology};
use crate::transport::{Channel, Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

/// The assistant Sa's party number.
pub const SA: PartyId = PartyId(2);
/// The assistant Sb's party number.
pub const SB: PartyId = PartyId(3);

/// Frame tags of the four-server protocols (the `0x08xx` range).
pub mod tag {
    /// A primary's seed of the stream it shares with the other primary or with its assistant.
    pub const SEED: u16 = 0x0801;
    /// A primary's request to an assistant.
    pub const REQUEST: u16 = 0x0802;
    /// A re-randomized share of a product's left operand.
    pub const LEFT: u16 = 0x0803;
    /// A re-randomized share of a product's right operand.
    pub const RIGHT: u16 = 0x0804;
    /// An assistant's re-shared cross term, to the other primary.
    pub const TERM: u16 = 0x0805;
    /// A primary's part of a value to compare, to the other assistant.
    pub const SIGN_INPUT: u16 = 0x0806;
    /// An assistant's share of a sign, to its own primary.
    pub const SIGN_OUTPUT: u16 = 0x0807;
    /// An assistant is ready to serve (its OT with the other assistant is set up), to both
    /// primaries.
    pub const READY: u16 = 0x0808;
}

/// The assistant of primary `role` (S1's is Sa, S2's is Sb).
pub fn own_assistant(role: Role) -> PartyId {
    match role {
        Role::P0 => SA,
        Role::P1 => SB,
    }
}

/// The primary that assistant `me` belongs to, or `None` if `me` is no assistant.
pub fn own_primary(me: PartyId) -> Option<Role> {
    match me {
        SA => Some(Role::P0),
        SB => Some(Role::P1),
        _ => None,
    }
}

/// One step, as a request names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `n` elementwise products, divided by `2^shift`.
    Mul { n: u64, shift: u32 },
    /// An `m x k` by `k x n` matrix product, divided by `2^shift`.
    MatMul { m: u64, k: u64, n: u64, shift: u32 },
    /// `n` sign tests as a garbled circuit between the assistants (Protocol 2).
    Sign { n: u64 },
    /// `n` sign tests with Sa as SecureNN's helper (at most [`crate::helper::MAX_STEP`]).
    HelperSign { n: u64 },
}

/// Bytes of an encoded request.
const REQUEST_LEN: usize = 32;

impl Request {
    /// The request as 32 bytes: code, ring width, shift, then three sizes.
    fn encode(self, ring_bits: u32) -> [u8; REQUEST_LEN] {
        let (code, shift, sizes) = match self {
            Request::Mul { n, shift } => (1u8, shift, [n, 0, 0]),
            Request::MatMul { m, k, n, shift } => (2, shift, [m, k, n]),
            Request::Sign { n } => (3, 0, [n, 0, 0]),
            Request::HelperSign { n } => (4, 0, [n, 0, 0]),
        };
        let mut out = [0u8; REQUEST_LEN];
        out[0] = code;
        out[1] = ring_bits as u8;
        out[4..8].copy_from_slice(&shift.to_le_bytes());
        for (i, s) in sizes.iter().enumerate() {
            out[8 + 8 * i..16 + 8 * i].copy_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// The request and its ring width; fails on an unknown code, ring or shift.
    fn decode(bytes: &[u8; REQUEST_LEN]) -> Result<(Request, u32), Error> {
        let bad = |why| Err(Error::new("assistant", ErrorKind::Malformed(why)));
        let ring_bits = u32::from(bytes[1]);
        if ![32, 64, 128].contains(&ring_bits) {
            return bad("a request names an unknown ring");
        }
        let mut shift = [0u8; 4];
        shift.copy_from_slice(&bytes[4..8]);
        let shift = u32::from_le_bytes(shift);
        if shift >= ring_bits - 2 {
            return bad("a request's shift is too large for its ring");
        }
        let size = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[8 + 8 * i..16 + 8 * i]);
            u64::from_le_bytes(b)
        };
        let request = match bytes[0] {
            1 => Request::Mul { n: size(0), shift },
            2 => Request::MatMul {
                m: size(0),
                k: size(1),
                n: size(2),
                shift,
            },
            3 if shift == 0 => Request::Sign { n: size(0) },
            4 if shift == 0 => Request::HelperSign { n: size(0) },
            _ => return bad("unknown request"),
        };
        Ok((request, ring_bits))
    }
}

/// A primary's streams: one in common with the other primary, one with its own assistant, and
/// the seed of its helper requests to Sa with their count.
pub struct Streams {
    common: Prg,
    own: Prg,
    helper: Seed,
    helper_requests: u64,
}

impl Streams {
    /// Hands the peers their seeds over `links`: S1 sends S2 `common`, the seed of their common
    /// stream (S2 ignores its own `common` and receives S1's), each primary sends its own
    /// assistant `own`, then Sa `helper`.
    async fn connect<T: Transport>(
        role: Role,
        links: &mut Links<T>,
        [own, common, helper]: [Seed; 3],
    ) -> Result<Streams, Error> {
        let op = "four servers";
        let mut ch = links.get(own_assistant(role))?.channel(Sub::Online);
        ch.send_frame(op, tag::SEED, own.as_bytes()).await?;
        ch.flush(op).await?;
        let mut ch = links.get(SA)?.channel(Sub::Online);
        ch.send_frame(op, tag::SEED, helper.as_bytes()).await?;
        ch.flush(op).await?;
        let mut peer = links.get(PartyId::of(role.peer()))?.channel(Sub::Online);
        let common = match role {
            Role::P0 => {
                peer.send_frame(op, tag::SEED, common.as_bytes()).await?;
                peer.flush(op).await?;
                common
            }
            Role::P1 => recv_seed(&mut peer, op).await?,
        };
        // Both assistants ready: the first step's time is the step's, not their setup's.
        for a in [SA, SB] {
            let mut ready = [0u8; 1];
            links
                .get(a)?
                .channel(Sub::Online)
                .recv_frame(op, tag::READY, &mut ready)
                .await?;
        }
        Ok(Streams {
            common: Prg::new(common),
            own: Prg::new(own),
            helper,
            helper_requests: 0,
        })
    }
}

/// The context of primary `role` (S1 for P0, S2 for P1) of a [`Topology::FourServers`]
/// deployment, with `links` to the other primary and both assistants, the correlation source
/// `source` for what the primaries still run between themselves (exact truncation and circuits:
/// OT between them, [`crate::OtCorrelations`]), this party's secret `seed` and the agreed
/// `config`. Hands the other primary and its assistant the seeds of their streams, and waits
/// until both assistants are ready.
pub async fn primary<T: Transport, C: Correlations<T>>(
    role: Role,
    links: Links<T>,
    source: C,
    seed: Seed,
    config: Config,
) -> Result<Context<T, C>, Error> {
    let me = PartyId::of(role);
    let mut ctx = Context::new(Topology::FourServers, me, links, source, seed, config)?;
    let seeds = [(); 3].map(|()| ctx.fresh_seed(Domain::ASSIST));
    let (links, _) = ctx.split();
    let streams = Streams::connect(role, links, seeds).await?;
    ctx.set_assist_streams(streams);
    Ok(ctx)
}

/// Receives a seed sent with [`tag::SEED`].
async fn recv_seed<T: Transport>(ch: &mut Channel<'_, T>, op: &'static str) -> Result<Seed, Error> {
    let mut bytes = [0u8; 32];
    ch.recv_frame(op, tag::SEED, &mut bytes).await?;
    let seed = Seed::from_bytes(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(seed)
}

/// `n` elements of `prg`.
fn draw<R: Ring>(prg: &mut Prg, n: usize) -> Vec<R> {
    let mut out = vec![R::ZERO; n];
    fill_random(prg, &mut out);
    out
}

/// Sends `request` to both assistants, Sa first (every party writes to Sa before Sb and every
/// assistant reads S1 before S2, so blocking transports cannot deadlock), each followed by the
/// elements `data(assistant)` names, with their tag.
async fn send_request<T: Transport, R: Ring>(
    links: &mut Links<T>,
    op: &'static str,
    request: Request,
    mut data: impl FnMut(PartyId) -> Option<(u16, Vec<R>)>,
) -> Result<(), Error> {
    let header = request.encode(R::BITS);
    for a in [SA, SB] {
        let mut ch = links.get(a)?.channel(Sub::Online);
        ch.send_frame(op, tag::REQUEST, &header).await?;
        if let Some((t, v)) = data(a) {
            ch.send_ring(op, t, &v).await?;
        }
        ch.flush(op).await?;
    }
    Ok(())
}
