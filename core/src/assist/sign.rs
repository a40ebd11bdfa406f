//! Sign tests with the assistants: the primaries' side. With [`Backend::GarbledCircuits`],
//! PrivPy's Protocol 2 (the two-party garbled-circuit sign test between the assistants); with
//! any other backend, SecureNN's sign step with Sa as the helper.

use super::{Request, SA, draw, own_assistant, send_request, tag};
use crate::context::{Backend, Context};
use crate::correlated::Correlations;
use crate::correlated::dealer::RequestStreams;
use crate::error::Error;
use crate::helper;
use crate::ring::Ring;
use crate::transport::{Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

/// Shares of `[x >= 0]` as 0 or 1 for every `x` in the ring, by the context's backend.
pub(crate) async fn sign<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    if ctx.config().backend == Backend::GarbledCircuits {
        garbled(ctx, x).await
    } else {
        helped(ctx, x).await
    }
}

/// Protocol 2: this primary's part of `x` for its own assistant comes from their stream, the rest
/// goes to the other assistant, and the own assistant hands back this primary's share of the
/// sign.
async fn garbled<T: Transport, C: Correlations<T>, R: Ring>(
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

/// SecureNN's sign step ([`crate::helper`]) between the primaries with Sa as the helper: one
/// request to Sa per [`helper::MAX_STEP`] elements, whose streams Sa derives from this primary's
/// helper seed.
async fn helped<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &[R],
) -> Result<Vec<R>, Error> {
    let op = "four servers: sign";
    let role = ctx.role()?;
    let mut out = Vec::with_capacity(x.len());
    for chunk in x.chunks(helper::MAX_STEP) {
        let (links, streams) = ctx.assist_parts()?;
        let request = RequestStreams::new(&streams.helper, streams.helper_requests);
        streams.helper_requests += 1;
        let header = Request::HelperSign {
            n: chunk.len() as u64,
        }
        .encode(R::BITS);
        let mut ch = links.get(SA)?.channel(Sub::Online);
        ch.send_frame(op, tag::REQUEST, &header).await?;
        ch.flush(op).await?;
        out.extend(helper::sign_at(ctx, role, SA, &request, chunk).await?);
    }
    Ok(out)
}
