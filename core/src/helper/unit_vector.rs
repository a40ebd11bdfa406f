//! [`Step::UnitVector`]: shares of one-hot vectors from shares of indices, SecureNN's efficient
//! max-pool derivative (Algorithm 10), for vectors whose length divides the ring's size.
//!
//! P0 and P1 share a uniform offset `s` (a multiple of `2^f`, from their common randomness) and
//! send the helper their shares of `i + s`; the helper opens `j = ((i + s) >> f) mod len`, which
//! is uniform, and deals shares of the one-hot vector `e_j` (P0's from its seed, P1's sent); each
//! party rotates its shares back by `(s >> f) mod len`, which lands the one at `i`. One round to
//! the helper and one back; `len` ring elements per index from the helper to P1.

use super::sign::common_seed;
use super::{HELPER, MAX_STEP, Step, blocks, tag};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::correlated::dealer::RequestStreams;
use crate::error::{Error, ErrorKind};
use crate::prg::Prg;
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::transport::{Link, Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

const OP: &str = "helper.unit_vectors";

/// Shares of the one-hot vectors (`len` elements each, 1.0 at `frac_bits` fractional bits, row
/// after row) of the shared indices `index` (fixed-point integers `0.0 .. len - 1`). `len` must be
/// a power of two of at least 2 and below `2^(k - f)`; an index outside `0..len` gives the vector of
/// its value modulo `len`.
pub(crate) async fn unit_vectors<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    index: &[R],
    len: usize,
) -> Result<Vec<R>, Error> {
    let role = ctx.role()?;
    let f = ctx.fixed().frac_bits();
    let fits = u32::try_from(len).is_ok_and(|l| l.is_power_of_two() && l >= 2)
        && (len as u128) < 1u128 << (R::BITS - f).min(127);
    if !fits || len > MAX_STEP {
        return Err(Error::new(
            OP,
            ErrorKind::InvalidArgument(
                "the helper's unit vectors need a power-of-two length of at least 2 that divides \
                 the ring's integer range",
            ),
        ));
    }
    let total = ctx.config().elements(OP, index.len(), len)?;
    let mut out = Vec::with_capacity(total);
    for chunk in index.chunks(MAX_STEP / len) {
        out.extend(chunk_vectors(ctx, role, chunk, len, f).await?);
    }
    Ok(out)
}

async fn chunk_vectors<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    role: Role,
    index: &[R],
    len: usize,
    f: u32,
) -> Result<Vec<R>, Error> {
    let n = index.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let step = Step::UnitVector {
        len: len as u32,
        frac_bits: f,
    };
    let (links, source) = ctx.split();
    let streams = source.helper_step::<R>(links, step, n).await?;
    let seed = common_seed(ctx, role, OP).await?;
    let mut offsets = vec![R::ZERO; n];
    fill_random(&mut Prg::new(seed), &mut offsets);
    let blinded: Vec<R> = index
        .iter()
        .zip(&offsets)
        .map(|(&i, &s)| match role {
            Role::P0 => i.add(s.shl(f)),
            Role::P1 => i,
        })
        .collect();
    {
        let mut ch = ctx.channel(HELPER, Sub::Online)?;
        for range in blocks(n) {
            ch.send_ring(OP, tag::BLINDED, &blinded[range]).await?;
        }
        ch.flush(OP).await?;
    }
    let mut e = vec![R::ZERO; n * len];
    match role {
        Role::P0 => fill_random(&mut streams.component(0), &mut e),
        Role::P1 => {
            let mut ch = ctx.channel(HELPER, Sub::Online)?;
            for range in blocks(n) {
                ch.recv_ring(OP, tag::RESULT, &mut e[range.start * len..range.end * len])
                    .await?;
            }
        }
    }
    // Rotate each vector back by the offset: z_t = e_((t + s) mod len).
    let mut out = vec![R::ZERO; n * len];
    for ((z, e), s) in out
        .chunks_exact_mut(len)
        .zip(e.chunks_exact(len))
        .zip(&offsets)
    {
        let g = s.low_u64() as usize & (len - 1);
        for (t, zt) in z.iter_mut().enumerate() {
            *zt = e[(t + g) & (len - 1)];
        }
    }
    Ok(out)
}

/// The helper's side of a unit-vector request for `n` indices.
pub(super) async fn serve<R: Ring, T0: Transport, T1: Transport>(
    n: usize,
    len: usize,
    frac_bits: u32,
    streams: &[RequestStreams; 2],
    p0: &mut Link<T0>,
    p1: &mut Link<T1>,
) -> Result<(), Error> {
    if frac_bits >= R::BITS - 1 || (len as u128) >= 1u128 << (R::BITS - frac_bits).min(127) {
        return Err(Error::new(
            OP,
            ErrorKind::Malformed("a unit vector's length or fractional bits do not fit the ring"),
        ));
    }
    let one = R::ONE.shl(frac_bits);
    let mut e0 = streams[0].component(0);
    let mut corrections = vec![R::ZERO; n * len];
    let (mut b0, mut b1) = (vec![R::ZERO; n], vec![R::ZERO; n]);
    for range in blocks(n) {
        p0.channel(Sub::Online)
            .recv_ring(OP, tag::BLINDED, &mut b0[range.clone()])
            .await?;
        p1.channel(Sub::Online)
            .recv_ring(OP, tag::BLINDED, &mut b1[range.clone()])
            .await?;
        let out = &mut corrections[range.start * len..range.end * len];
        fill_random(&mut e0, out);
        for (v, i) in out.chunks_exact_mut(len).zip(range) {
            let hot = b0[i].add(b1[i]).shr(frac_bits).low_u64() as usize & (len - 1);
            for (t, c) in v.iter_mut().enumerate() {
                let e = if t == hot { one } else { R::ZERO };
                *c = e.sub(*c);
            }
        }
    }
    let mut ch = p1.channel(Sub::Online);
    for range in blocks(n) {
        ch.send_ring(
            OP,
            tag::RESULT,
            &corrections[range.start * len..range.end * len],
        )
        .await?;
    }
    ch.flush(OP).await
}
