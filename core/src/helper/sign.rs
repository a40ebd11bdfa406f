//! [`Step::Sign`]: shares of `[x >= 0]` with the helper's PrivateCompare (see [`super`]).
//!
//! Messages per request of `n` elements in Z_2^k:
//! 1. P2 -> P1 (dealt when the request arrives, data-independent): P1's shares over Z_p of the
//!    low `k - 1` bits of the mask `r`; P0's come from its seed, as do both parties' shares of
//!    `r`.
//! 2. P0 <-> P1: P0's seed of the common randomness, and the shares of `c = x + r` (opened).
//! 3. P0, P1 -> P2: the masked differences of PrivateCompare(`r'`, `c'`, `beta`).
//! 4. P2 -> P1: its share of `u = msb(r) XOR beta XOR [r' > c']` (P0's is from its seed).
//!
//! Then `msb(x) = u XOR beta XOR msb(c)`, a public flip, and `[x >= 0] = 1 - msb(x)`.

use super::compare::{self, Sampler, bit, compared_bits, prime};
use super::{BLOCK, HELPER, MAX_STEP, Step, blocks, recv_bytes, send_bytes, tag};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::correlated::dealer::RequestStreams;
use crate::error::Error;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::topology::PartyId;
use crate::transport::{Link, Sub, Transport, tag as transport_tag};
use alloc::vec;
use alloc::vec::Vec;

const OP: &str = "helper.sign";

/// Stream components of a sign request.
const MASK: u64 = 0;
const BITS: u64 = 1;
const RESULT: u64 = 2;

/// Shares of `[x >= 0]` as ring elements 0 or 1, for every `x` of the ring (two's complement).
pub(crate) async fn sign<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let role = ctx.role()?;
    let mut out = Vec::with_capacity(x.len());
    for chunk in x.chunks(MAX_STEP) {
        out.extend(sign_chunk(ctx, role, chunk).await?);
    }
    Ok(out)
}

/// The common randomness of one step: P0 draws the seed and sends it to P1 (before anything else
/// of the step on their link).
pub(super) async fn common_seed<T: Transport, C: Correlations<T>>(
    ctx: &mut Context<T, C>,
    role: Role,
    op: &'static str,
) -> Result<Seed, Error> {
    match role {
        Role::P0 => {
            let seed = ctx.fresh_seed(Domain::HELPER_COMMON);
            ctx.peer(Sub::Online)?
                .send_frame(op, tag::COMMON_SEED, seed.as_bytes())
                .await?;
            Ok(seed)
        }
        Role::P1 => {
            let mut b = [0u8; 32];
            ctx.peer(Sub::Online)?
                .recv_frame(op, tag::COMMON_SEED, &mut b)
                .await?;
            Ok(Seed::from_bytes(b))
        }
    }
}

async fn sign_chunk<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    role: Role,
    x: &[R],
) -> Result<Vec<R>, Error> {
    if x.is_empty() {
        return Ok(Vec::new());
    }
    let (links, source) = ctx.split();
    let streams = source.helper_step::<R>(links, Step::Sign, x.len()).await?;
    sign_at(ctx, role, HELPER, &streams, x).await
}

/// One sign request of at most [`MAX_STEP`] elements with party `helper` serving it, once the
/// request is made: `streams` are this party's streams of the request, which the helper derives
/// too. The four servers' primaries run it with an assistant as the helper.
pub(crate) async fn sign_at<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    role: Role,
    helper: PartyId,
    streams: &RequestStreams,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let n = x.len();
    let (p, m) = (prime::<R>(), compared_bits::<R>());
    // Open c = x + r.
    let mut masked = vec![R::ZERO; n];
    fill_random(&mut streams.component(MASK), &mut masked);
    for (c, &v) in masked.iter_mut().zip(x) {
        *c = c.add(v);
    }
    let seed = common_seed(ctx, role, OP).await?;
    let c = online::open_slice(ctx, OP, tag::OPEN, &masked).await?;

    // This party's shares of the bits of r' (the low m bits of r).
    let mut bits = vec![0u8; n * m];
    match role {
        Role::P0 => {
            Sampler::new(streams.component(BITS)).elements(p, &mut bits);
        }
        Role::P1 => {
            let mut ch = ctx.channel(helper, Sub::Offline)?;
            for range in blocks(n) {
                let part = &mut bits[range.start * m..range.end * m];
                recv_bytes(&mut ch, OP, transport_tag::DEALER_CORRECTION, part).await?;
            }
        }
    }

    // PrivateCompare(r', c', beta) to the helper, each block sent as soon as it is computed so
    // that the helper works on one block while the parties compute the next.
    let mut common = Sampler::new(Prg::new(seed));
    let mut betas = Vec::with_capacity(n);
    {
        let mut ch = ctx.channel(helper, Sub::Online)?;
        for range in blocks(n) {
            let (d, beta) = compare::differences(
                role == Role::P0,
                &bits[range.start * m..range.end * m],
                &c[range],
                &mut common,
            );
            send_bytes(&mut ch, OP, tag::DIFFERENCES, &d).await?;
            ch.flush(OP).await?;
            betas.extend(beta);
        }
    }

    // u = msb(r) XOR beta XOR [r' > c'], re-shared by the helper.
    let mut u = vec![R::ZERO; n];
    match role {
        Role::P0 => fill_random(&mut streams.component(RESULT), &mut u),
        Role::P1 => {
            let mut ch = ctx.channel(helper, Sub::Online)?;
            for range in blocks(n) {
                ch.recv_ring(OP, tag::RESULT, &mut u[range]).await?;
            }
        }
    }
    let one = if role == Role::P0 { R::ONE } else { R::ZERO };
    Ok(u.into_iter()
        .zip(&c)
        .zip(&betas)
        .map(|((u, &c), &beta)| {
            // msb(x) = u XOR kappa for the public kappa = beta XOR msb(c); the sign is 1 - msb.
            let kappa = R::from_u64(u64::from(beta ^ c.msb()));
            let msb = u.add(kappa.mul(one.sub(u.shl(1))));
            one.sub(msb)
        })
        .collect())
}

/// The helper's side of a sign request.
pub(super) async fn serve<R: Ring, T0: Transport, T1: Transport>(
    n: usize,
    streams: &[RequestStreams; 2],
    p0: &mut Link<T0>,
    p1: &mut Link<T1>,
) -> Result<(), Error> {
    let (p, m) = (prime::<R>(), compared_bits::<R>());
    let k = m + 1;
    // 1. P1's bit shares: the bits of r' minus P0's shares.
    let (mut r0, mut r1) = (streams[0].component(MASK), streams[1].component(MASK));
    let mut shares0 = Sampler::new(streams[0].component(BITS));
    let mut msb = Vec::with_capacity(n);
    let mut mask = [vec![R::ZERO; BLOCK], vec![R::ZERO; BLOCK]];
    let mut corrections = vec![0u8; BLOCK * m];
    for range in blocks(n) {
        let len = range.len();
        fill_random(&mut r0, &mut mask[0][..len]);
        fill_random(&mut r1, &mut mask[1][..len]);
        shares0.elements(p, &mut corrections[..len * m]);
        for (e, out) in corrections[..len * m].chunks_exact_mut(m).enumerate() {
            let r = mask[0][e].add(mask[1][e]);
            msb.push(r.msb());
            for (i, o) in out.iter_mut().enumerate() {
                *o = compare::sub(p, bit(r, i), *o);
            }
        }
        let mut ch = p1.channel(Sub::Offline);
        send_bytes(
            &mut ch,
            OP,
            transport_tag::DEALER_CORRECTION,
            &corrections[..len * m],
        )
        .await?;
    }
    p1.channel(Sub::Offline).flush(OP).await?;

    // 3. Both parties' differences; 4. P1's share of u (all read before any is sent, so a party
    // still sending its differences never waits on the helper's answer).
    let mut u0 = streams[0].component(RESULT);
    let mut u1 = vec![R::ZERO; n];
    let (mut d0, mut d1) = (vec![0u8; BLOCK * k], vec![0u8; BLOCK * k]);
    for range in blocks(n) {
        let len = range.len();
        recv_bytes(
            &mut p0.channel(Sub::Online),
            OP,
            tag::DIFFERENCES,
            &mut d0[..len * k],
        )
        .await?;
        recv_bytes(
            &mut p1.channel(Sub::Online),
            OP,
            tag::DIFFERENCES,
            &mut d1[..len * k],
        )
        .await?;
        let out = &mut u1[range.clone()];
        fill_random(&mut u0, out);
        let zeros = compare::any_zero(p, &d0[..len * k], &d1[..len * k], k);
        for ((o, zero), &r_msb) in out.iter_mut().zip(zeros).zip(&msb[range]) {
            *o = R::from_u64(u64::from(r_msb ^ zero)).sub(*o);
        }
    }
    let mut ch = p1.channel(Sub::Online);
    for range in blocks(n) {
        ch.send_ring(OP, tag::RESULT, &u1[range]).await?;
    }
    ch.flush(OP).await
}
