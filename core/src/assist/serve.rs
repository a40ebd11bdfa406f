//! [`Assistant`]: the program of PrivPy's assistants Sa and Sb.

use super::product::{Shape, cross_term};
use super::{REQUEST_LEN, Request, draw, own_primary, recv_seed, tag};
use crate::context::{Backend, Config, Context};
use crate::correlated::dealer::RequestStreams;
use crate::correlated::ot::OtCorrelations;
use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::topology::PartyId;
use crate::transport::{Link, Stats, Sub, Transport};
use alloc::vec;
use alloc::vec::Vec;

/// An assistant of a four-server session (Sa or Sb): it holds no shares, and serves the
/// primaries' products and sign tests until both primaries close their connections between
/// requests (see [`crate::assist`]).
pub struct Assistant<T> {
    own: Role,
    primaries: [Link<T>; 2],
    other: Link<T>,
    seed: Seed,
    max_elements: usize,
}

impl<T: Transport> Assistant<T> {
    /// Assistant `me` ([`super::SA`] or [`super::SB`]) with its connections to S1, to S2 and to
    /// the other assistant, and `seed`, 32 bytes of fresh host entropy. Fails if `me` is not an
    /// assistant.
    pub fn new(me: PartyId, to_s1: T, to_s2: T, to_other: T, seed: Seed) -> Result<Self, Error> {
        let own = own_primary(me).ok_or(Error::new(
            "assistant",
            ErrorKind::InvalidArgument("an assistant is party 2 (Sa) or 3 (Sb)"),
        ))?;
        Ok(Assistant {
            own,
            primaries: [Link::new(to_s1), Link::new(to_s2)],
            other: Link::new(to_other),
            seed,
            max_elements: crate::limits::DEFAULT_MAX_ELEMENTS,
        })
    }

    /// The largest buffer a request may make this assistant hold, in ring elements (checked
    /// before anything is allocated; default [`crate::limits::DEFAULT_MAX_ELEMENTS`]).
    pub fn with_max_elements(mut self, max: usize) -> Self {
        self.max_elements = max.max(1);
        self
    }

    /// Receives the seed of its own primary (Sa also both primaries' seeds for the sign steps it
    /// helps), sets up oblivious transfer with the other assistant (Sa garbles, Sb evaluates),
    /// then serves requests. Returns the traffic over all three
    /// connections; fails with [`ErrorKind::Closed`] if one primary leaves while the other waits
    /// on a request, and with a protocol error if the primaries' requests differ.
    pub async fn serve(self) -> Result<Stats, Error> {
        let Assistant {
            own,
            mut primaries,
            mut other,
            seed,
            max_elements,
        } = self;
        let op = "assistant";
        let own_seed = recv_seed(&mut primaries[own.index()].channel(Sub::Online), op).await?;
        let mut stream = Prg::new(own_seed);
        // Sa is SecureNN's helper of the primaries' sign steps: both send it a seed.
        let mut helper = None;
        if own == Role::P0 {
            let s1 = recv_seed(&mut primaries[0].channel(Sub::Online), op).await?;
            let s2 = recv_seed(&mut primaries[1].channel(Sub::Online), op).await?;
            helper = Some(Helped {
                seeds: [s1, s2],
                requests: 0,
            });
        }
        let ot = OtCorrelations::setup(own, &mut other, seed.derive(Domain::ASSIST, 3)).await?;
        for link in primaries.iter_mut() {
            let mut ch = link.channel(Sub::Online);
            ch.send_frame(op, tag::READY, &[1]).await?;
            ch.flush(op).await?;
        }
        let config = Config {
            fixed: FixedPoint::new(0)?,
            backend: Backend::GarbledCircuits,
            max_elements,
            ..Config::default()
        };
        let mut pair = Context::two_party(own, other, ot, seed.derive(Domain::ASSIST, 2), config);
        let mut server = Server {
            own,
            stream: &mut stream,
            primaries: &mut primaries,
            helper,
            max_elements,
        };
        loop {
            let Some((request, ring_bits)) = server.next_request().await? else {
                break;
            };
            match ring_bits {
                32 => server.step::<u32, T>(request, &mut pair).await?,
                64 => server.step::<u64, T>(request, &mut pair).await?,
                _ => server.step::<u128, T>(request, &mut pair).await?,
            }
        }
        let (links, _) = pair.into_parts();
        Ok(primaries[0].stats() + primaries[1].stats() + links.stats())
    }
}

/// An assistant's state while it serves.
struct Server<'a, T> {
    own: Role,
    stream: &'a mut Prg,
    primaries: &'a mut [Link<T>; 2],
    helper: Option<Helped>,
    max_elements: usize,
}

/// Sa's state as the helper of the primaries' sign steps: their seeds and the requests served.
struct Helped {
    seeds: [Seed; 2],
    requests: u64,
}

impl<T: Transport> Server<'_, T> {
    /// The next request, the same from both primaries; `None` when both have left.
    async fn next_request(&mut self) -> Result<Option<(Request, u32)>, Error> {
        let op = "assistant: request";
        let mut first = [0u8; REQUEST_LEN];
        match self.primaries[0]
            .channel(Sub::Online)
            .recv_frame(op, tag::REQUEST, &mut first)
            .await
        {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::Closed => {
                // S1 has left: the end, unless S2 is in the middle of a request.
                let mut second = [0u8; REQUEST_LEN];
                return match self.primaries[1]
                    .channel(Sub::Online)
                    .recv_frame(op, tag::REQUEST, &mut second)
                    .await
                {
                    Err(e2) if *e2.kind() == ErrorKind::Closed => Ok(None),
                    Ok(()) => Err(e),
                    Err(e2) => Err(e2),
                };
            }
            Err(e) => return Err(e),
        }
        let (request, ring_bits) = Request::decode(&first)?;
        self.admit(request)?;
        Ok(Some((request, ring_bits)))
    }

    /// Checks a request's buffers against the limit before anything is allocated.
    fn admit(&self, request: Request) -> Result<(), Error> {
        let op = "assistant: request";
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let max = self.max_elements;
        match request {
            Request::Mul { n, .. } | Request::Sign { n } => {
                crate::limits::elements(op, 1, size(n), max)?;
            }
            Request::HelperSign { n } => {
                crate::limits::elements(op, 1, size(n), max.min(crate::helper::MAX_STEP))?;
            }
            Request::MatMul { m, k, n, .. } => {
                let (m, k, n) = (size(m), size(k), size(n));
                crate::limits::elements(op, m, k, max)?;
                crate::limits::elements(op, k, n, max)?;
                crate::limits::elements(op, m, n, max)?;
            }
        }
        Ok(())
    }

    /// Receives `n` elements tagged `t` from primary `p`.
    async fn receive<R: Ring>(&mut self, p: usize, t: u16, n: usize) -> Result<Vec<R>, Error> {
        let mut v = vec![R::ZERO; n];
        self.primaries[p]
            .channel(Sub::Online)
            .recv_ring("assistant", t, &mut v)
            .await?;
        Ok(v)
    }

    /// Waits for S2's copy of S1's request (after S1's data, which S1 sends first).
    async fn confirm(&mut self, request: Request, ring_bits: u32) -> Result<(), Error> {
        let mut second = [0u8; REQUEST_LEN];
        self.primaries[1]
            .channel(Sub::Online)
            .recv_frame("assistant: request", tag::REQUEST, &mut second)
            .await?;
        if Request::decode(&second)? != (request, ring_bits) {
            return Err(Error::new(
                "assistant",
                ErrorKind::Malformed("the primaries sent different requests"),
            ));
        }
        Ok(())
    }

    /// Serves one request over ring `R`: reads S1's data, then S2's request and data, computes,
    /// and sends the results.
    async fn step<R: Ring, P: Transport>(
        &mut self,
        request: Request,
        pair: &mut Context<P, OtCorrelations>,
    ) -> Result<(), Error> {
        let size = |v: u64| v as usize;
        let (left, right, shape, shift) = match request {
            Request::Sign { n } => return self.sign::<R, P>(request, size(n), pair).await,
            Request::HelperSign { n } => return self.help::<R>(request, size(n)).await,
            Request::Mul { n, shift } => (size(n), size(n), Shape::Elementwise, shift),
            Request::MatMul { m, k, n, shift } => {
                let (m, k, n) = (size(m), size(k), size(n));
                (m * k, k * n, Shape::Matrix(m, k, n), shift)
            }
        };
        let (own, other) = (self.own.index(), 1 - self.own.index());
        // The own primary sends x', the other y'; S1 first.
        let mut parts: [Vec<R>; 2] = [Vec::new(), Vec::new()];
        for (p, part) in parts.iter_mut().enumerate() {
            if p == 1 {
                self.confirm(request, R::BITS).await?;
            }
            *part = if p == own {
                self.receive(p, tag::LEFT, left).await?
            } else {
                self.receive(p, tag::RIGHT, right).await?
            };
        }
        let z = cross_term(&parts[own], &parts[other], shape, shift);
        let mine = draw::<R>(self.stream, z.len());
        let mut ch = self.primaries[other].channel(Sub::Online);
        ch.send_ring_from("assistant", tag::TERM, z.len(), |i| z[i].sub(mine[i]))
            .await?;
        ch.flush("assistant").await
    }

    /// A sign request on `n` elements with this assistant as SecureNN's helper (Sa only): the
    /// request's streams come from the primaries' helper seeds.
    async fn help<R: Ring>(&mut self, request: Request, n: usize) -> Result<(), Error> {
        self.confirm(request, R::BITS).await?;
        let Some(helped) = self.helper.as_mut() else {
            return Err(Error::new(
                "assistant",
                ErrorKind::Malformed("a helper request reached Sb (Sa is the helper)"),
            ));
        };
        let streams = helped
            .seeds
            .each_ref()
            .map(|s| RequestStreams::new(s, helped.requests));
        helped.requests += 1;
        let [p0, p1] = &mut *self.primaries;
        crate::helper::serve::<R, T, T>(crate::helper::Step::Sign, n, &streams, p0, p1).await
    }

    /// A sign request on `n` elements: this assistant's share of `x` is its stream's part plus
    /// what the other primary sent; the garbled-circuit sign test runs in `pair`.
    async fn sign<R: Ring, P: Transport>(
        &mut self,
        request: Request,
        n: usize,
        pair: &mut Context<P, OtCorrelations>,
    ) -> Result<(), Error> {
        let (own, other) = (self.own.index(), 1 - self.own.index());
        let mut share = draw::<R>(self.stream, n);
        // S1's data (if S1 is the other primary), S2's request, S2's data (if S2 is).
        let mut rest = Vec::new();
        if other == 0 {
            rest = self.receive::<R>(0, tag::SIGN_INPUT, n).await?;
        }
        self.confirm(request, R::BITS).await?;
        if other == 1 {
            rest = self.receive::<R>(1, tag::SIGN_INPUT, n).await?;
        }
        for (s, r) in share.iter_mut().zip(&rest) {
            *s = s.add(*r);
        }
        let x = Shares::vector(share);
        let d = pair
            .guarded("assistant: sign", async |c| {
                crate::nonlinear::drelu(c, &x).await
            })
            .await?;
        let mut ch = self.primaries[own].channel(Sub::Online);
        ch.send_ring("assistant", tag::SIGN_OUTPUT, d.as_slice())
            .await?;
        ch.flush("assistant").await
    }
}
