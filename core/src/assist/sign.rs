//! Sign tests at the assistants (PrivPy's Protocol 2, with the two-party garbled-circuit sign
//! test between the assistants): the primaries' side.

use super::{Request, draw, own_assistant, send_request, tag};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::ring::Ring;
use crate::transport::{Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

/// Shares of `[x >= 0]` as 0 or 1 for every `x` in the ring: this primary's part of `x` for its
/// own assistant comes from their stream, the rest goes to the other assistant, and the own
/// assistant hands back this primary's share of the sign.
pub(crate) async fn sign<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let op = "four servers: sign";
    let own = own_assistant(ctx.role()?);
    let (links, streams) = ctx.assist_parts()?;
    let part = draw::<R>(&mut streams.own, x.len());
    let mut rest = Some(x.iter().zip(&part).map(|(v, p)| v.sub(*p)).collect());
    let request = Request::Sign { n: x.len() as u64 };
    send_request(links, op, request, |a| {
        if a == own {
            None
        } else {
            rest.take().map(|v| (tag::SIGN_INPUT, v))
        }
    })
    .await?;
    let mut out = vec![R::ZERO; x.len()];
    links
        .get(own)?
        .channel(Sub::Online)
        .recv_ring(op, tag::SIGN_OUTPUT, &mut out)
        .await?;
    Ok(out)
}
