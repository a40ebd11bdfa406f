//! Additive sharing among every party of a topology: the N-party primitives the three- and
//! four-server protocols build on. A value is shared as `x = x_0 + ... + x_(N-1)` (mod 2^k), one
//! share per party of the context's [`crate::Topology`], over the [`Sub::Online`] sub-channel of
//! every link.
//!
//! Each party sends before it receives, and every message is small next to a transport's buffer
//! for the sizes these primitives serve (seeds, and openings a peer reads at once), so the parties
//! never wait on each other in a cycle.

use crate::context::Context;
use crate::error::Error;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::Ring;
use crate::share::Shares;
use crate::topology::PartyId;
use crate::transport::{Sub, Transport, tag};
use alloc::vec;
use alloc::vec::Vec;

/// Shares this party's own `x` among all parties: each peer receives a fresh 32-byte seed whose
/// expansion is its share (it calls [`receive_from`]), and this party keeps `x` minus them all.
pub async fn share_to_all<T: Transport, C, R: Ring>(
    ctx: &mut Context<T, C>,
    mut x: Shares<R>,
) -> Result<Shares<R>, Error> {
    let peers: Vec<PartyId> = ctx.topology().peers(ctx.me()).collect();
    for peer in peers {
        let seed = ctx.fresh_seed(Domain::INPUT_SHARING);
        let mut chan = ctx.channel(peer, Sub::Online)?;
        chan.send_frame("share_to_all", tag::INPUT, seed.as_bytes())
            .await?;
        chan.flush("share_to_all").await?;
        let mut prg = Prg::new(seed);
        for v in x.as_mut_slice() {
            *v = v.sub(R::random(&mut prg));
        }
    }
    Ok(x)
}

/// Receives this party's share of a `rows x cols` matrix that `owner` shares with
/// [`share_to_all`]; a shape over [`crate::Config::max_elements`] fails before anything is
/// received.
pub async fn receive_from<T: Transport, C, R: Ring>(
    ctx: &mut Context<T, C>,
    owner: PartyId,
    rows: usize,
    cols: usize,
) -> Result<Shares<R>, Error> {
    let n = ctx.config().elements("receive_from", rows, cols)?;
    let mut seed = [0u8; 32];
    ctx.channel(owner, Sub::Online)?
        .recv_frame("receive_from", tag::INPUT, &mut seed)
        .await?;
    let mut prg = Prg::new(Seed::from_bytes(seed));
    Shares::matrix(rows, cols, (0..n).map(|_| R::random(&mut prg)).collect())
}

/// Opens values shared among all parties to all of them: every party sends its share to every
/// peer, then adds up what it receives (one round).
pub async fn open_to_all<T: Transport, C, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Vec<R>, Error> {
    let peers: Vec<PartyId> = ctx.topology().peers(ctx.me()).collect();
    for &peer in &peers {
        let mut chan = ctx.channel(peer, Sub::Online)?;
        chan.send_ring("open_to_all", tag::OPEN_ALL, x.as_slice())
            .await?;
        chan.flush("open_to_all").await?;
    }
    let mut sum = x.as_slice().to_vec();
    let mut theirs = vec![R::ZERO; x.len()];
    for &peer in &peers {
        ctx.channel(peer, Sub::Online)?
            .recv_ring("open_to_all", tag::OPEN_ALL, &mut theirs)
            .await?;
        for (s, t) in sum.iter_mut().zip(&theirs) {
            *s = s.add(*t);
        }
    }
    Ok(sum)
}
