//! The protocols' view of a party: [`Context`] holds its role in a topology, one link per peer,
//! the correlation source, its PRG streams, the number format and the one state guard.
//!
//! Protocol modules ([`crate::arith::online`], [`crate::nonlinear`], [`crate::ml`], ...) are
//! functions of a `&mut Context`: they compose freely, and the guard is applied once, by
//! [`Context::guarded`], around each call a user makes ([`crate::Party`] and [`crate::Session`]
//! do this for every operation they offer).

use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::prg::{Domain, Prg, Seed};
use crate::role::Role;
use crate::state::Guard;
pub use crate::state::State;
use crate::topology::{Duty, Links, PartyId, Topology};
use crate::transport::{Channel, DEFAULT_MAX_FRAME, Link, Stats, Sub, Transport};

/// How products are truncated back to `f` fractional bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Truncation {
    /// SecureML's local truncation: free, off by at most one ulp, except with probability
    /// `2^(lx+1-k)` for values below `2^lx` (see [`crate::arith::truncation`]).
    #[default]
    Local,
    /// Truncation pairs from the correlation source: one round, `floor(x / 2^f)` or one ulp more,
    /// never a large error while `|x| < 2^(k-2)`.
    Pairs,
    /// MiniONN's exact truncation in a garbled circuit ([`crate::nonlinear::truncate_exact`]):
    /// exactly `floor(x / 2^f)`, at 126 AND gates per value (Z_2^64) and one round trip.
    Exact,
}

/// Which protocols compute the non-linear functions (comparisons, ReLU, sigmoids, max, exact
/// truncation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The best backend the offline source allows: [`Backend::Helper`] with three or four
    /// servers, [`Backend::Fss`] with a dealer, else [`Backend::GarbledCircuits`].
    #[default]
    Auto,
    /// Garbled circuits between P0 and P1: no third party, constant rounds. With four servers,
    /// between the assistants (PrivPy's Protocol 2, [`crate::assist`]).
    GarbledCircuits,
    /// Function secret sharing with keys from the dealer ([`crate::fss`]): one round and one
    /// ring element per party for a comparison or ReLU. Needs a source that deals keys.
    Fss,
    /// SecureNN's helper protocols ([`crate::helper`]): the third server P2 takes part online.
    /// Needs the three-server topology (a [`crate::DealerClient::through_helper`] source), or
    /// four servers, where the assistant Sa is the helper of the sign steps.
    Helper,
}

/// Protocol settings all parties must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation method after products.
    pub truncation: Truncation,
    /// Maximum frame payload in bytes accepted from or sent to a peer.
    pub max_frame: usize,
    /// The non-linear backend.
    pub backend: Backend,
    /// The largest number of elements one operation may hold in one buffer (an operand, a
    /// result, a correlation): larger sizes are refused with [`ErrorKind::TooLarge`] before
    /// anything is allocated or sent (see [`crate::limits`]). Default
    /// [`crate::limits::DEFAULT_MAX_ELEMENTS`] (2^28).
    pub max_elements: usize,
    /// The precision guard ([`crate::guard`]), opt-in: `Some(headroom)` checks, before every
    /// truncation, that each value stays `headroom` bits below where truncation fails or the ring
    /// wraps, and stops the operation with [`ErrorKind::PrecisionGuard`] otherwise (revealing one
    /// bit per check: whether any value was out of range). Default `None`.
    pub precision_guard: Option<u32>,
    /// The width `b` of the inputs of sign tests, opt-in: `Some(b)` promises that every value
    /// whose sign is tested lies in `[-2^(b-1), 2^(b-1))` (the inputs of ReLU and DReLU; for max,
    /// argmax and max pooling, the differences of the values compared), and
    /// the FSS backend then reads only its low `b` bits ([`crate::fss::Gate::Sign`]: smaller keys,
    /// faster evaluation); outside that range its result is wrong. Other backends are exact on
    /// the whole ring and ignore it. Default `None`: the whole ring.
    pub sign_bits: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fixed: FixedPoint::default(),
            truncation: Truncation::Local,
            max_frame: DEFAULT_MAX_FRAME,
            backend: Backend::Auto,
            max_elements: crate::limits::DEFAULT_MAX_ELEMENTS,
            precision_guard: None,
            sign_bits: None,
        }
    }
}

impl Config {
    /// The defaults with `frac_bits` fractional bits, checked against a ring of `ring_bits` bits
    /// (see [`Config::check`]): fractional bits above the ring width minus 2 are refused here,
    /// not at the first product.
    pub fn new(ring_bits: u32, frac_bits: u32) -> Result<Self, Error> {
        let config = Config {
            fixed: FixedPoint::new(frac_bits).map_err(|e| e.in_op("config"))?,
            ..Config::default()
        };
        config.check(ring_bits)?;
        Ok(config)
    }

    /// Checks the settings for a ring of `ring_bits` bits: the ring is Z_2^32, Z_2^64 or
    /// Z_2^128, the fractional bits are at most the ring width minus 2 (products and truncation
    /// need two bits of headroom), and `max_elements` is at least 1.
    pub fn check(&self, ring_bits: u32) -> Result<(), Error> {
        let bad = |why| Err(Error::new("config", ErrorKind::InvalidArgument(why)));
        if let Some(why) = format_error(ring_bits, self.fixed.frac_bits()) {
            return bad(why);
        }
        if self.max_elements == 0 {
            return bad("max_elements must be at least 1");
        }
        if self
            .sign_bits
            .is_some_and(|b| !(2..=ring_bits).contains(&b))
        {
            return bad("sign_bits must be 2 to the ring width");
        }
        Ok(())
    }

    /// `rows * cols` checked against [`Config::max_elements`] for operation `op`: see
    /// [`crate::limits::elements`].
    pub fn elements(&self, op: &'static str, rows: usize, cols: usize) -> Result<usize, Error> {
        crate::limits::elements(op, rows, cols, self.max_elements)
    }
}

/// What is wrong with a number format of `frac_bits` fractional bits in a ring of `ring_bits`
/// bits, if anything: the ring is Z_2^32, Z_2^64 or Z_2^128, and products and truncation need
/// two bits of headroom above the fractional bits. [`Config::check`] and the session's check
/// both apply it.
pub(crate) fn format_error(ring_bits: u32, frac_bits: u32) -> Option<&'static str> {
    if ![32, 64, 128].contains(&ring_bits) {
        Some("the ring width must be 32, 64 or 128 bits")
    } else if frac_bits > ring_bits - 2 {
        Some("fractional bits must be at most the ring width minus 2")
    } else {
        None
    }
}

/// A party's state for running protocols: see the module docs.
pub struct Context<T, C> {
    topology: Topology,
    me: PartyId,
    links: Links<T>,
    source: C,
    seed: Seed,
    streams_used: u64,
    config: Config,
    guard: Guard,
    assist: Option<crate::assist::Streams>,
}

impl<T: Transport, C: Correlations<T>> Context<T, C> {
    /// Party `me` of `topology`, with a link to each of its peers (as
    /// [`Topology::peers`] lists them), the correlation source `source`, this party's secret
    /// `seed` (host entropy) and the agreed `config`. Fails if a link is missing or extra.
    pub fn new(
        topology: Topology,
        me: PartyId,
        links: Links<T>,
        source: C,
        seed: Seed,
        config: Config,
    ) -> Result<Self, Error> {
        let bad = |why| Err(Error::new("context", ErrorKind::InvalidArgument(why)));
        if topology.duty(me).is_none() || links.me() != me {
            return bad("the party is not part of the topology");
        }
        if topology.peers(me).any(|p| !links.has(p)) {
            return bad("a link to a peer of the topology is missing");
        }
        if links
            .iter()
            .any(|(p, _)| !topology.peers(me).any(|q| q == p))
        {
            return bad("a link leads to a party that is not a peer in the topology");
        }
        Ok(Context {
            topology,
            me,
            links,
            source,
            seed,
            streams_used: 0,
            config,
            guard: Guard::new(),
            assist: None,
        })
    }

    /// A share-holding party of two (P0 or P1) over `peer`, the one connection to the other: the
    /// topology is [`Topology::TwoServers`] (a dealer, if `source` uses one, is the source's own
    /// business).
    pub fn two_party(role: Role, peer: Link<T>, source: C, seed: Seed, config: Config) -> Self {
        Context {
            topology: Topology::TwoServers,
            me: PartyId::of(role),
            links: Links::pair(role, peer),
            source,
            seed,
            streams_used: 0,
            config,
            guard: Guard::new(),
            assist: None,
        }
    }

    /// Runs one user-level operation under the state guard: fails with [`ErrorKind::Busy`],
    /// [`ErrorKind::Poisoned`] or [`ErrorKind::SessionClosed`] unless the context is ready, and
    /// after a failure poisons it if anything was sent or received during `f` — an error found
    /// before any communication (a bad shape, size or shift) leaves it ready. After a success the
    /// links are flushed, so a host whose transport buffers sends never holds back the last
    /// message of an operation.
    pub async fn guarded<V>(
        &mut self,
        op: &'static str,
        f: impl AsyncFnOnce(&mut Self) -> Result<V, Error>,
    ) -> Result<V, Error> {
        self.guard.enter(op)?;
        let before = self.activity();
        let mut r = f(self).await;
        if r.is_ok()
            && let Err(e) = self.links.flush_pending(op).await
        {
            r = Err(e);
        }
        let communicated = self.activity() != before;
        self.guard.leave(r, communicated)
    }

    /// Fails unless the context is ready for an operation.
    pub fn check(&self, op: &'static str) -> Result<(), Error> {
        self.guard.check(op)
    }

    /// Transport calls attempted over every connection of this party.
    fn activity(&self) -> u64 {
        self.links.activity() + self.source.own_activity()
    }
}

impl<T, C> Context<T, C> {
    /// The state of the session.
    pub fn state(&self) -> &State {
        self.guard.state()
    }

    /// The error that poisoned the context, if any.
    pub fn failure(&self) -> Option<&Error> {
        self.guard.failure()
    }

    /// Closes the context: every later operation fails with [`ErrorKind::SessionClosed`]. The
    /// links stay open until the context is dropped or taken apart ([`Context::into_parts`]).
    pub fn close(&mut self) {
        self.guard.close();
    }

    /// The topology.
    pub fn topology(&self) -> Topology {
        self.topology
    }

    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// What this party does.
    pub fn duty(&self) -> Option<Duty> {
        self.topology.duty(self.me)
    }

    /// This party's share-holding role; fails for a party that holds no shares (a helper).
    pub fn role(&self) -> Result<Role, Error> {
        self.me.role().ok_or(Error::new(
            "context",
            ErrorKind::InvalidArgument("this operation needs a share-holding party (P0 or P1)"),
        ))
    }

    /// The protocol settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The fixed-point format.
    pub fn fixed(&self) -> FixedPoint {
        self.config.fixed
    }

    /// The links to the peers.
    pub fn links(&self) -> &Links<T> {
        &self.links
    }

    /// The links to the peers and the correlation source at once, for protocols that hand the
    /// source the links it may use.
    pub fn split(&mut self) -> (&mut Links<T>, &mut C) {
        (&mut self.links, &mut self.source)
    }

    /// The correlation source.
    pub fn source(&self) -> &C {
        &self.source
    }

    /// Traffic over the links to the peers, all sub-channels.
    pub fn stats(&self) -> Stats {
        self.links.stats()
    }

    /// Traffic of the offline phase: the links' offline sub-channels (OT with the peer) and the
    /// source's own connections (a dealer's).
    pub fn offline_stats(&self) -> Stats
    where
        C: Correlations<T>,
    {
        self.links.sub_stats(Sub::Offline) + self.source.own_stats()
    }

    /// The online traffic: the links' online and garbled-circuit sub-channels.
    pub fn online_stats(&self) -> Stats {
        self.links.sub_stats(Sub::Online) + self.links.sub_stats(Sub::Circuits)
    }

    /// Sub-channel `sub` of the link to `peer`.
    pub fn channel(&mut self, peer: PartyId, sub: Sub) -> Result<Channel<'_, T>, Error> {
        Ok(self.links.get(peer)?.channel(sub))
    }

    /// Sub-channel `sub` of the link to the other share-holding party.
    pub fn peer(&mut self, sub: Sub) -> Result<Channel<'_, T>, Error> {
        let other = PartyId::of(self.role()?.peer());
        self.channel(other, sub)
    }

    /// A seed for `domain` that this context has never handed out before.
    pub fn fresh_seed(&mut self, domain: Domain) -> Seed {
        let seed = self.seed.derive(domain, self.streams_used);
        self.streams_used += 1;
        seed
    }

    /// A generator for `domain` that this context has never used before.
    pub fn fresh_prg(&mut self, domain: Domain) -> Prg {
        Prg::new(self.fresh_seed(domain))
    }

    /// A primary of [`Topology::FourServers`] hands its streams with the other primary and its
    /// assistant to the context (see [`crate::assist`]).
    pub(crate) fn set_assist_streams(&mut self, streams: crate::assist::Streams) {
        self.assist = Some(streams);
    }

    /// The links and the four-server streams at once; fails outside a four-server primary.
    pub(crate) fn assist_parts(
        &mut self,
    ) -> Result<(&mut Links<T>, &mut crate::assist::Streams), Error> {
        match &mut self.assist {
            Some(s) => Ok((&mut self.links, s)),
            None => Err(Error::new(
                "four servers",
                ErrorKind::Unsupported("this protocol needs the assistants of four servers"),
            )),
        }
    }

    /// Ends the context, giving back the links and the correlation source.
    pub fn into_parts(self) -> (Links<T>, C) {
        (self.links, self.source)
    }
}
