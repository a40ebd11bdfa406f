//! The session itself (`alloc`); see [`super`].

use crate::context::Context;
use crate::correlated::dealer::DealerClient;
use crate::correlated::ot::OtCorrelations;
use crate::correlated::source::OfflineSource;
use crate::data_owner;
use crate::party::Party;
use crate::prg::Domain;
use crate::ring::Ring;
use crate::topology::Links;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use super::*;

/// Where the correlated randomness of the offline phase comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Offline {
    /// A dealer (a third party that learns nothing), seed-compressed, over its own connection.
    #[default]
    Dealer,
    /// Oblivious transfer with the peer over the session's connection: no third party.
    Ot,
}

/// Everything the parties of a session agree on, and which party this one is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// The topology: [`Topology::TwoServersDealer`] with [`Offline::Dealer`],
    /// [`Topology::TwoServers`] with [`Offline::Ot`], or [`Topology::ThreeServers`] with
    /// [`Offline::Dealer`] (SecureNN: the third server P2 deals and helps online; it runs
    /// [`crate::Dealer::serve`] over its connections to P0 and P1).
    pub topology: Topology,
    /// This party: P0 or P1.
    pub party: PartyId,
    /// Ring width in bits: 32, 64 or 128.
    pub ring_bits: u32,
    /// Fractional bits of the fixed-point format (at most `ring_bits - 2` and 62).
    pub frac_bits: u32,
    /// Truncation after products.
    pub truncation: Truncation,
    /// The offline source.
    pub offline: Offline,
    /// The non-linear backend: [`Backend::Auto`] is the helper's protocols with three servers
    /// (with four, Sa as the helper), FSS with the dealer and garbled circuits with OT;
    /// [`Backend::Fss`] needs the dealer (or the helper), [`Backend::Helper`] three or four
    /// servers.
    pub backend: Backend,
    /// Largest frame payload in bytes sent to or accepted from the peer.
    pub max_frame: usize,
    /// The precision guard ([`crate::guard`]): `Some(headroom)` stops an operation whose values
    /// near the point where truncation fails or the ring wraps. Default `None`.
    pub precision_guard: Option<u32>,
    /// The width the sign tests may assume of their inputs ([`crate::Config::sign_bits`]):
    /// `Some(b)`, `b` from 2 to `ring_bits`. Default `None`: the whole ring.
    pub sign_bits: Option<u32>,
}

impl SessionConfig {
    /// Party `role` of a two-server session with the offline source `offline`, over Z_2^64 with
    /// 16 fractional bits and local truncation.
    pub fn two_servers(role: Role, offline: Offline) -> Self {
        SessionConfig {
            topology: match offline {
                Offline::Dealer => Topology::TwoServersDealer,
                Offline::Ot => Topology::TwoServers,
            },
            party: PartyId::of(role),
            ring_bits: 64,
            frac_bits: 16,
            truncation: Truncation::Local,
            offline,
            backend: Backend::Auto,
            max_frame: DEFAULT_MAX_FRAME,
            precision_guard: None,
            sign_bits: None,
        }
    }

    /// Primary `role` (S1 for P0, S2 for P1) of a four-server session (PrivPy), over Z_2^128 with
    /// 32 fractional bits; the primaries run OT between them for what they still compute
    /// together (exact truncation, circuits). Connect with [`Session::connect_with_assistants`].
    pub fn four_servers(role: Role) -> Self {
        SessionConfig {
            topology: Topology::FourServers,
            ring_bits: 128,
            frac_bits: 32,
            ..SessionConfig::two_servers(role, Offline::Ot)
        }
    }

    /// Share-holding party `role` of a three-server session (SecureNN), with the defaults of
    /// [`SessionConfig::two_servers`] otherwise.
    pub fn three_servers(role: Role) -> Self {
        SessionConfig {
            topology: Topology::ThreeServers,
            ..SessionConfig::two_servers(role, Offline::Dealer)
        }
    }

    /// Checks the settings; returns this party's role and the protocol settings.
    pub fn check(&self) -> Result<(Role, crate::Config), Error> {
        let bad = |why| {
            Err(Error::new(
                "session config",
                ErrorKind::InvalidArgument(why),
            ))
        };
        let role = match (self.topology, self.offline) {
            (Topology::TwoServersDealer | Topology::ThreeServers, Offline::Dealer)
            | (Topology::TwoServers, Offline::Ot) => match self.party.role() {
                Some(role) => role,
                None => {
                    return bad(
                        "the party must be P0 or P1 (the dealer and the helper run Dealer::serve)",
                    );
                }
            },
            (Topology::TwoServers | Topology::TwoServersDealer, _) => {
                return bad("a dealer needs TwoServersDealer, OT needs TwoServers");
            }
            (Topology::ThreeServers, _) => {
                return bad(
                    "three servers take their correlations from the helper (Offline::Dealer)",
                );
            }
            (Topology::FourServers, Offline::Ot) => match self.party.role() {
                Some(role) => role,
                None => {
                    return bad("the party must be S1 or S2 (the assistants run Assistant::serve)");
                }
            },
            (Topology::FourServers, _) => {
                return bad("four servers run OT between the primaries (Offline::Ot)");
            }
        };
        if self.topology == Topology::FourServers && self.truncation != Truncation::Local {
            return bad(
                "four servers divide by the scale inside their products (Truncation::Local)",
            );
        }
        if let Some(why) = crate::context::format_error(self.ring_bits, self.frac_bits) {
            return bad(why);
        }
        if self
            .precision_guard
            .is_some_and(|h| h + 2 >= self.ring_bits)
        {
            return bad("the precision guard's headroom must be below the ring width minus 2");
        }
        if self.backend == Backend::Fss && self.offline != Offline::Dealer {
            return bad("the FSS backend needs the dealer as offline source");
        }
        if self.backend == Backend::Helper
            && matches!(
                self.topology,
                Topology::TwoServers | Topology::TwoServersDealer
            )
        {
            return bad("the helper backend needs a third server (three or four servers)");
        }
        let fixed = FixedPoint::new(self.frac_bits).map_err(|e| e.in_op("session config"))?;
        let config = crate::Config {
            fixed,
            truncation: self.truncation,
            max_frame: self.max_frame,
            backend: self.backend,
            precision_guard: self.precision_guard,
            sign_bits: self.sign_bits,
            ..crate::Config::default()
        };
        config.check(self.ring_bits)?;
        Ok((role, config))
    }
}

/// Shares of a matrix in the session's ring, whichever it is.
#[derive(Clone)]
pub enum AnyShares {
    /// Z_2^32.
    R32(Shares<u32>),
    /// Z_2^64.
    R64(Shares<u64>),
    /// Z_2^128.
    R128(Shares<u128>),
}

impl AnyShares {
    /// The ring width in bits.
    pub fn ring_bits(&self) -> u32 {
        match self {
            AnyShares::R32(_) => 32,
            AnyShares::R64(_) => 64,
            AnyShares::R128(_) => 128,
        }
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            AnyShares::R32(s) => s.shape(),
            AnyShares::R64(s) => s.shape(),
            AnyShares::R128(s) => s.shape(),
        }
    }

    /// The transpose (local).
    pub fn transpose(&self) -> AnyShares {
        match self {
            AnyShares::R32(s) => AnyShares::R32(s.transpose()),
            AnyShares::R64(s) => AnyShares::R64(s.transpose()),
            AnyShares::R128(s) => AnyShares::R128(s.transpose()),
        }
    }

    /// The same elements as a `rows x cols` matrix; fails if the count differs.
    pub fn reshape(self, rows: usize, cols: usize) -> Result<AnyShares, Error> {
        Ok(match self {
            AnyShares::R32(s) => AnyShares::R32(s.reshape(rows, cols)?),
            AnyShares::R64(s) => AnyShares::R64(s.reshape(rows, cols)?),
            AnyShares::R128(s) => AnyShares::R128(s.reshape(rows, cols)?),
        })
    }

    /// The elements as 64-bit little-endian words, row-major: one word per element in Z_2^32
    /// and Z_2^64 (zero-extended), two (low, high) in Z_2^128.
    pub fn to_words(&self) -> Vec<u64> {
        match self {
            AnyShares::R32(s) => s.as_slice().iter().map(|&v| u64::from(v)).collect(),
            AnyShares::R64(s) => s.as_slice().to_vec(),
            AnyShares::R128(s) => s
                .as_slice()
                .iter()
                .flat_map(|&v| [v as u64, (v >> 64) as u64])
                .collect(),
        }
    }

    /// Shares from words laid out as [`AnyShares::to_words`] writes them; fails if the count does
    /// not fit the shape or a Z_2^32 word does not fit 32 bits.
    pub fn from_words(
        ring_bits: u32,
        rows: usize,
        cols: usize,
        words: &[u64],
    ) -> Result<Self, Error> {
        let op = "shares from words";
        let n = rows
            .checked_mul(cols)
            .ok_or(Error::dimension(op, usize::MAX, rows))?;
        let per = if ring_bits == 128 { 2 } else { 1 };
        if n.checked_mul(per) != Some(words.len()) {
            return Err(Error::dimension(op, n.saturating_mul(per), words.len()));
        }
        Ok(match ring_bits {
            32 => {
                let v = words
                    .iter()
                    .map(|&w| u32::try_from(w))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| Error::new(op, ErrorKind::InvalidArgument("word over 32 bits")))?;
                AnyShares::R32(Shares::matrix(rows, cols, v)?)
            }
            64 => AnyShares::R64(Shares::matrix(rows, cols, words.to_vec())?),
            128 => AnyShares::R128(Shares::matrix(
                rows,
                cols,
                words
                    .chunks_exact(2)
                    .map(|w| u128::from(w[0]) | (u128::from(w[1]) << 64))
                    .collect(),
            )?),
            _ => {
                return Err(Error::new(
                    op,
                    ErrorKind::InvalidArgument("the ring width must be 32, 64 or 128 bits"),
                ));
            }
        })
    }
}

/// A ring a session can run over: the link between [`AnyShares`] and typed [`Shares`].
pub trait SessionRing: Ring {
    /// Wraps typed shares.
    fn wrap(s: Shares<Self>) -> AnyShares;
    /// The typed shares in `s`, or a ring-mismatch error naming `op`.
    fn unwrap<'a>(s: &'a AnyShares, op: &'static str) -> Result<&'a Shares<Self>, Error>;
}

macro_rules! session_ring {
    ($t:ty, $v:ident) => {
        impl SessionRing for $t {
            fn wrap(s: Shares<Self>) -> AnyShares {
                AnyShares::$v(s)
            }
            fn unwrap<'a>(s: &'a AnyShares, op: &'static str) -> Result<&'a Shares<Self>, Error> {
                match s {
                    AnyShares::$v(s) => Ok(s),
                    other => Err(Error::new(
                        op,
                        ErrorKind::RingMismatch {
                            expected: <$t as Ring>::BITS,
                            got: other.ring_bits(),
                        },
                    )),
                }
            }
        }
        impl From<Shares<$t>> for AnyShares {
            fn from(s: Shares<$t>) -> Self {
                AnyShares::$v(s)
            }
        }
    };
}
session_ring!(u32, R32);
session_ring!(u64, R64);
session_ring!(u128, R128);

/// The typed party of each ring width.
enum Typed<T> {
    R32(Party<T, OfflineSource<T>, u32>),
    R64(Party<T, OfflineSource<T>, u64>),
    R128(Party<T, OfflineSource<T>, u128>),
}

/// A share-holding party's session over the ring its [`SessionConfig`] names (see the module
/// docs).
pub struct Session<T> {
    config: SessionConfig,
    typed: Typed<T>,
}

/// Runs `$body` with `$p` bound to the typed party and `$R` to its ring.
macro_rules! on_ring {
    ($self:expr, $p:ident, $R:ident => $body:expr) => {
        match &mut $self.typed {
            Typed::R32($p) => {
                #[allow(dead_code)]
                type $R = u32;
                $body
            }
            Typed::R64($p) => {
                #[allow(dead_code)]
                type $R = u64;
                $body
            }
            Typed::R128($p) => {
                #[allow(dead_code)]
                type $R = u128;
                $body
            }
        }
    };
}

/// The same, on a shared reference.
macro_rules! on_ring_ref {
    ($self:expr, $p:ident => $body:expr) => {
        match &$self.typed {
            Typed::R32($p) => $body,
            Typed::R64($p) => $body,
            Typed::R128($p) => $body,
        }
    };
}

/// A local operation (no communication) named `$op`: fails unless the session is ready (a
/// poisoned, busy or closed session refuses local operations too), then runs `$body` with `$p`
/// bound to the typed party and `$R` to its ring.
macro_rules! local {
    ($self:expr, $op:expr, $p:ident, $R:ident => $body:expr) => {{
        $self.state().check($op)?;
        match &$self.typed {
            Typed::R32($p) => {
                #[allow(dead_code)]
                type $R = u32;
                $body
            }
            Typed::R64($p) => {
                #[allow(dead_code)]
                type $R = u64;
                $body
            }
            Typed::R128($p) => {
                #[allow(dead_code)]
                type $R = u128;
                $body
            }
        }
    }};
}

/// Session methods `name(&mut self, x) -> AnyShares` that forward to the typed party.
macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub async fn $name(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
            on_ring!(self, p, R => Ok(p.$name(R::unwrap(x, stringify!($name))?).await?.into()))
        }
    )*};
}

/// Session methods `name(&mut self, x, y) -> AnyShares` that forward to the typed party.
macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub async fn $name(&mut self, x: &AnyShares, y: &AnyShares) -> Result<AnyShares, Error> {
            let op = stringify!($name);
            on_ring!(self, p, R => Ok(p.$name(R::unwrap(x, op)?, R::unwrap(y, op)?).await?.into()))
        }
    )*};
}

/// Seed indices of [`Domain::SESSION`].
const SEED_PARTY: u64 = 0;
const SEED_OT: u64 = 1;

impl<T: Transport> Session<T> {
    /// Connects this party as `config` says: `seed` is 32 bytes of fresh host entropy, `peer` the
    /// one connection to the other party, `dealer` the connection to the dealer or, with three
    /// servers, to the helper P2 (with [`Offline::Dealer`] only). With the dealer this waits for
    /// the dealer's seed; with OT both parties must connect at the same time (the base OTs take
    /// two rounds over `peer`).
    pub async fn connect(
        config: SessionConfig,
        seed: Seed,
        peer: T,
        dealer: Option<T>,
    ) -> Result<Self, Error> {
        let (role, protocol) = config.check()?;
        if config.topology == Topology::FourServers {
            return Err(Error::new(
                "session",
                ErrorKind::InvalidArgument(
                    "four servers connect with Session::connect_with_assistants",
                ),
            ));
        }
        let mut link = OwnerLink::with_max_frame(peer, protocol.max_frame);
        if config.topology == Topology::ThreeServers {
            // The helper is reached over the session's own link to it, by the dealer's protocol
            // (with the default frame size, as the helper's side uses).
            let helper = dealer.ok_or(Error::new(
                "session",
                ErrorKind::InvalidArgument("the helper's connection is missing"),
            ))?;
            let me = PartyId::of(role);
            let mut links = Links::new(me);
            links.insert(PartyId::of(role.peer()), link)?;
            links.insert(PartyId(2), OwnerLink::new(helper))?;
            let source =
                OfflineSource::Dealer(DealerClient::through_helper(role, &mut links).await?);
            let party_seed = seed.derive(Domain::SESSION, SEED_PARTY);
            let ctx = Context::new(
                Topology::ThreeServers,
                me,
                links,
                source,
                party_seed,
                protocol,
            )?;
            return Session::typed(config, ctx);
        }
        let source = match (config.offline, dealer) {
            (Offline::Dealer, Some(d)) => {
                OfflineSource::Dealer(DealerClient::connect(role, d).await?)
            }
            (Offline::Ot, None) => {
                let ot_seed = seed.derive(Domain::SESSION, SEED_OT);
                OfflineSource::Ot(Box::new(
                    OtCorrelations::setup(role, &mut link, ot_seed).await?,
                ))
            }
            (Offline::Dealer, None) => {
                return Err(Error::new(
                    "session",
                    ErrorKind::InvalidArgument("the dealer's connection is missing"),
                ));
            }
            (Offline::Ot, Some(_)) => {
                return Err(Error::new(
                    "session",
                    ErrorKind::InvalidArgument("a dealer connection was given for an OT session"),
                ));
            }
        };
        let party_seed = seed.derive(Domain::SESSION, SEED_PARTY);
        let ctx = Context::two_party(role, link, source, party_seed, protocol);
        Session::typed(config, ctx)
    }

    /// Connects primary S1 or S2 of a four-server session (PrivPy; [`SessionConfig::four_servers`]):
    /// `peer` is the connection to the other primary, `sa` and `sb` those to the assistants, which
    /// run [`crate::assist::Assistant::serve`]. Sets up OT with the peer (two rounds), then hands
    /// the peer and this primary's assistant the seeds of their common streams.
    pub async fn connect_with_assistants(
        config: SessionConfig,
        seed: Seed,
        peer: T,
        sa: T,
        sb: T,
    ) -> Result<Self, Error> {
        let (role, protocol) = config.check()?;
        if config.topology != Topology::FourServers {
            return Err(Error::new(
                "session",
                ErrorKind::InvalidArgument("assistants belong to the four-server topology"),
            ));
        }
        let mut link = OwnerLink::with_max_frame(peer, protocol.max_frame);
        let ot_seed = seed.derive(Domain::SESSION, SEED_OT);
        let ot = OtCorrelations::setup(role, &mut link, ot_seed).await?;
        let mut links = Links::new(PartyId::of(role));
        links.insert(PartyId::of(role.peer()), link)?;
        links.insert(crate::assist::SA, OwnerLink::new(sa))?;
        links.insert(crate::assist::SB, OwnerLink::new(sb))?;
        let party_seed = seed.derive(Domain::SESSION, SEED_PARTY);
        let source = OfflineSource::Ot(Box::new(ot));
        let ctx = crate::assist::primary(role, links, source, party_seed, protocol).await?;
        Session::typed(config, ctx)
    }

    /// The typed party of the config's ring on `ctx`.
    fn typed(config: SessionConfig, ctx: Context<T, OfflineSource<T>>) -> Result<Self, Error> {
        let typed = match config.ring_bits {
            32 => Typed::R32(Party::from_context(ctx)?),
            64 => Typed::R64(Party::from_context(ctx)?),
            _ => Typed::R128(Party::from_context(ctx)?),
        };
        Ok(Session { config, typed })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        on_ring_ref!(self, p => p.role())
    }

    /// The fixed-point format.
    pub fn fixed(&self) -> FixedPoint {
        on_ring_ref!(self, p => p.config().fixed)
    }

    /// The state of the session.
    pub fn state(&self) -> &State {
        on_ring_ref!(self, p => p.state())
    }

    /// The error that poisoned the session, if any.
    pub fn failure(&self) -> Option<&Error> {
        on_ring_ref!(self, p => p.failure())
    }

    /// Closes the session: later operations fail with [`ErrorKind::SessionClosed`].
    pub fn close(&mut self) {
        on_ring!(self, p, _R => p.close())
    }

    /// Online traffic with the peer: inputs, openings, products, garbled circuits.
    pub fn online_stats(&self) -> Stats {
        on_ring_ref!(self, p => p.online_stats())
    }

    /// Offline traffic: OT with the peer, or the dealer's connection.
    pub fn offline_stats(&self) -> Stats {
        on_ring_ref!(self, p => p.offline_stats())
    }

    // ----- inputs and outputs -----

    /// Secret-shares this party's own `rows x cols` values with the peer (which calls
    /// [`Session::receive_input`]).
    pub async fn share_input(
        &mut self,
        values: &[f64],
        rows: usize,
        cols: usize,
    ) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.share_input(values, rows, cols).await?.into()))
    }

    /// Receives this party's share of a `rows x cols` matrix the peer shares.
    pub async fn receive_input(&mut self, rows: usize, cols: usize) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.receive_input(rows, cols).await?.into()))
    }

    /// Opens shared values to both parties: the ring elements, as a public matrix in an
    /// [`AnyShares`] of the same shape.
    pub async fn open(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => {
            let x = R::unwrap(x, "open")?;
            let v = p.open(x).await?;
            Ok(Shares::matrix(x.rows(), x.cols(), v)?.into())
        })
    }

    /// Opens shared values to both parties as fixed-point numbers.
    pub async fn reveal(&mut self, x: &AnyShares) -> Result<Vec<f64>, Error> {
        on_ring!(self, p, R => p.reveal(R::unwrap(x, "reveal")?).await)
    }

    /// Opens shared values to `to` only: `to` gets `Some(values)`, the other party `None`.
    pub async fn reveal_to(&mut self, x: &AnyShares, to: Role) -> Result<Option<Vec<f64>>, Error> {
        on_ring!(self, p, R => p.reveal_to(R::unwrap(x, "reveal_to")?, to).await)
    }

    /// Receives this server's shares of a `rows x cols` matrix a data owner sends over `owner`
    /// (its own connection, outside the session; the other server receives the same shape).
    pub async fn receive_owner_input<O: Transport>(
        &mut self,
        owner: &mut OwnerLink<O>,
        rows: usize,
        cols: usize,
    ) -> Result<AnyShares, Error> {
        let role = self.role();
        on_ring!(self, p, R => {
            p.run("receive_owner_input", async |c| {
                // The size rule before the buffer: the shape comes from the caller.
                let n = c.config().elements("receive_owner_input", rows, cols)?;
                let mut out = vec![<R as Ring>::ZERO; n];
                data_owner::receive_shares(role, owner, &mut out).await?;
                Ok(Shares::matrix(rows, cols, out)?.into())
            })
            .await
        })
    }

    /// Sends this server's shares of `x` to a data owner, which reconstructs them.
    pub async fn send_owner_output<O: Transport>(
        &mut self,
        owner: &mut OwnerLink<O>,
        x: &AnyShares,
    ) -> Result<(), Error> {
        on_ring!(self, p, R => {
            let x = R::unwrap(x, "send_owner_output")?;
            p.run("send_owner_output", async |_| data_owner::send_output(owner, x.as_slice()).await)
                .await
        })
    }

    // ----- local operations -----

    /// `x + y` (local).
    pub fn add(&self, x: &AnyShares, y: &AnyShares) -> Result<AnyShares, Error> {
        local!(self, "add", _p, R => Ok(R::unwrap(x, "add")?.add(R::unwrap(y, "add")?)?.into()))
    }

    /// `x - y` (local).
    pub fn sub(&self, x: &AnyShares, y: &AnyShares) -> Result<AnyShares, Error> {
        local!(self, "sub", _p, R => Ok(R::unwrap(x, "sub")?.sub(R::unwrap(y, "sub")?)?.into()))
    }

    /// `-x` (local).
    pub fn neg(&self, x: &AnyShares) -> Result<AnyShares, Error> {
        local!(self, "neg", _p, R => Ok(R::unwrap(x, "neg")?.neg().into()))
    }

    /// `x * c` for a public integer `c`: exact (local).
    pub fn mul_public_integer(&self, x: &AnyShares, c: i64) -> Result<AnyShares, Error> {
        let op = "mul_public_integer";
        local!(self, op, _p, R => Ok(R::unwrap(x, op)?.mul_integer(c).into()))
    }

    /// `x + c` for a public fixed-point constant `c` (local).
    pub fn add_public(&self, x: &AnyShares, c: f64) -> Result<AnyShares, Error> {
        let op = "add_public";
        local!(self, op, p, R => Ok(p.add_public(R::unwrap(x, op)?, c)?.into()))
    }

    // ----- products and the non-linear layer -----

    binary_ops! {
        /// The fixed-point product `x * y`, elementwise.
        mul;

        /// The ring product `x * y`, elementwise, without truncation.
        mul_integer;

        /// The fixed-point matrix product `x y`.
        matmul;

        /// The fixed-point dot product of two vectors of equal length, as a 1 x 1 matrix.
        dot;

        /// 1.0 where `x < y`, else 0.0.
        less_than;

        /// `x / y` for `0 <= x <= y` (SecureNN's division; see [`crate::nonlinear::divide`]).
        divide;
    }

    unary_ops! {
        /// The fixed-point square `x * x`, elementwise.
        square;

        /// `max(x, 0)`, elementwise.
        relu;

        /// 1.0 where `x >= 0`, else 0.0.
        drelu;

        /// SecureML's piecewise sigmoid.
        sigmoid_piecewise;

        /// The logistic function, 34 linear segments.
        sigmoid;

        /// The largest value of each row.
        max;

        /// SecureML's softmax replacement per row.
        relu_softmax;
    }

    /// `x * c` for a public fixed-point constant `c`, truncated as configured.
    pub async fn mul_public(&mut self, x: &AnyShares, c: f64) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.mul_public(R::unwrap(x, "mul_public")?, c).await?.into()))
    }

    /// Divides by `2^bits` with the configured truncation.
    pub async fn truncate(&mut self, x: &AnyShares, bits: u32) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.truncate(R::unwrap(x, "truncate")?, bits).await?.into()))
    }

    /// `max(x, 0)` and its derivative, elementwise.
    pub async fn relu_with_derivative(
        &mut self,
        x: &AnyShares,
    ) -> Result<(AnyShares, AnyShares), Error> {
        on_ring!(self, p, R => {
            let (r, d) = p.relu_with_derivative(R::unwrap(x, "relu_with_derivative")?).await?;
            Ok((r.into(), d.into()))
        })
    }

    /// Any piecewise-linear function, elementwise.
    pub async fn piecewise_linear(
        &mut self,
        x: &AnyShares,
        f: &PiecewiseLinear,
    ) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.piecewise_linear(R::unwrap(x, "piecewise_linear")?, f).await?.into()))
    }

    /// `floor(x / 2^bits)` exactly.
    pub async fn truncate_exact(&mut self, x: &AnyShares, bits: u32) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.truncate_exact(R::unwrap(x, "truncate_exact")?, bits).await?.into()))
    }

    /// The largest value of each row and its index.
    pub async fn argmax(&mut self, x: &AnyShares) -> Result<(AnyShares, AnyShares), Error> {
        on_ring!(self, p, R => {
            let (m, i) = p.argmax(R::unwrap(x, "argmax")?).await?;
            Ok((m.into(), i.into()))
        })
    }

    /// Max pooling over images stored one per row.
    pub async fn max_pool(&mut self, x: &AnyShares, pool: Pool2d) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.max_pool(R::unwrap(x, "max_pool")?, pool).await?.into()))
    }

    /// Max pooling and the mask of each window's maximum, shaped like `x` (see
    /// [`crate::nonlinear::max_pool_with_derivative`]).
    pub async fn max_pool_with_derivative(
        &mut self,
        x: &AnyShares,
        pool: Pool2d,
    ) -> Result<(AnyShares, AnyShares), Error> {
        on_ring!(self, p, R => {
            let x = R::unwrap(x, "max_pool_with_derivative")?;
            let (m, mask) = p.max_pool_with_derivative(x, pool).await?;
            Ok((m.into(), mask.into()))
        })
    }

    /// Runs any circuit with the peer: P0 garbles, P1 evaluates.
    pub async fn run_circuit(
        &mut self,
        circuit: &Circuit,
        owners: &[Role],
        inputs: &[bool],
        reveal: Reveal,
    ) -> Result<Vec<bool>, Error> {
        on_ring!(self, p, _R => p.run_circuit(circuit, owners, inputs, reveal).await)
    }

    /// XOR-shared bits to arithmetic shares of 0 or 1 (integers, not fixed point).
    pub async fn bits_to_arithmetic(&mut self, bits: &[bool]) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.bits_to_arithmetic(bits).await?.into()))
    }

    // ----- the numerical library ([`crate::numeric`]) -----
    //
    // Reductions run along each row, as `max` and `argmax` do: transpose first for columns,
    // reshape to one row for everything.

    /// Assistant `me` (Sa = `PartyId(2)`, Sb = `PartyId(3)`) of a four-server session: serves the
    /// primaries over `to_s1`, `to_s2` and `to_other` (the other assistant) until both primaries
    /// close; see [`crate::assist::Assistant::serve`].
    pub async fn serve_assistant(
        me: PartyId,
        to_s1: T,
        to_s2: T,
        to_other: T,
        seed: Seed,
    ) -> Result<Stats, Error> {
        crate::assist::Assistant::new(me, to_s1, to_s2, to_other, seed)?
            .serve()
            .await
    }

    /// `1 / x` elementwise over the default octaves ([`crate::numeric::reciprocal`]).
    pub async fn reciprocal(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "reciprocal";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::reciprocal(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// `1 / x` elementwise for `x` in `[2^lo, 2^hi]` ([`crate::numeric::reciprocal_in`]).
    pub async fn reciprocal_in(
        &mut self,
        x: &AnyShares,
        lo: i32,
        hi: i32,
    ) -> Result<AnyShares, Error> {
        let (op, o) = ("reciprocal", crate::numeric::Octaves { lo, hi });
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::reciprocal_in(c, R::unwrap(x, op)?, o).await).await?.into()))
    }

    /// `x / y` elementwise, `y` over the default octaves ([`crate::numeric::div`]).
    pub async fn div(&mut self, x: &AnyShares, y: &AnyShares) -> Result<AnyShares, Error> {
        let op = "div";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::div(c, R::unwrap(x, op)?, R::unwrap(y, op)?).await).await?.into()))
    }

    /// `x / y` elementwise for `y` in `[2^lo, 2^hi]` ([`crate::numeric::div_in`]).
    pub async fn div_in(
        &mut self,
        x: &AnyShares,
        y: &AnyShares,
        lo: i32,
        hi: i32,
    ) -> Result<AnyShares, Error> {
        let (op, o) = ("div", crate::numeric::Octaves { lo, hi });
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::div_in(c, R::unwrap(x, op)?, R::unwrap(y, op)?, o).await).await?.into()))
    }

    /// `e^x` elementwise ([`crate::numeric::exp`]; its range is [`Session::exp_range`]).
    pub async fn exp(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "exp";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::exp(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// The documented input range `(lo, hi)` of [`Session::exp`] for this session's ring and
    /// format ([`crate::numeric::exp_range`]).
    pub fn exp_range(&self) -> (f64, f64) {
        let fixed = self.fixed();
        match self.config.ring_bits {
            32 => crate::numeric::exp_range::<u32>(fixed),
            64 => crate::numeric::exp_range::<u64>(fixed),
            _ => crate::numeric::exp_range::<u128>(fixed),
        }
    }

    /// `ln x` elementwise over the default octaves ([`crate::numeric::log`]).
    pub async fn log(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "log";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::log(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// `ln x` elementwise for `x` in `[2^lo, 2^hi]` ([`crate::numeric::log_in`]).
    pub async fn log_in(&mut self, x: &AnyShares, lo: i32, hi: i32) -> Result<AnyShares, Error> {
        let (op, o) = ("log", crate::numeric::Octaves { lo, hi });
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::log_in(c, R::unwrap(x, op)?, o).await).await?.into()))
    }

    /// `sqrt(x)` elementwise over the default octaves ([`crate::numeric::sqrt`]).
    pub async fn sqrt(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "sqrt";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::sqrt(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// `sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` ([`crate::numeric::sqrt_in`]).
    pub async fn sqrt_in(&mut self, x: &AnyShares, lo: i32, hi: i32) -> Result<AnyShares, Error> {
        let (op, o) = ("sqrt", crate::numeric::Octaves { lo, hi });
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::sqrt_in(c, R::unwrap(x, op)?, o).await).await?.into()))
    }

    /// `1 / sqrt(x)` elementwise over the default octaves ([`crate::numeric::inv_sqrt`]).
    pub async fn inv_sqrt(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "inv_sqrt";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::inv_sqrt(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// `1 / sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` ([`crate::numeric::inv_sqrt_in`]).
    pub async fn inv_sqrt_in(
        &mut self,
        x: &AnyShares,
        lo: i32,
        hi: i32,
    ) -> Result<AnyShares, Error> {
        let (op, o) = ("inv_sqrt", crate::numeric::Octaves { lo, hi });
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::inv_sqrt_in(c, R::unwrap(x, op)?, o).await).await?.into()))
    }

    /// The logistic function by `exp` and a reciprocal ([`crate::numeric::logistic`]).
    pub async fn logistic(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "logistic";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::logistic(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// The logistic function by `steps` Euler steps ([`crate::numeric::logistic_euler`]).
    pub async fn logistic_euler(&mut self, x: &AnyShares, steps: u32) -> Result<AnyShares, Error> {
        let op = "logistic_euler";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::logistic_euler(c, R::unwrap(x, op)?, steps).await).await?.into()))
    }

    /// `tanh x` elementwise ([`crate::numeric::tanh`]).
    pub async fn tanh(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let op = "tanh";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::tanh(c, R::unwrap(x, op)?).await).await?.into()))
    }

    /// `x` where the shared bit `b` is 1.0, `y` where it is 0.0 ([`crate::numeric::select`]).
    pub async fn select(
        &mut self,
        b: &AnyShares,
        x: &AnyShares,
        y: &AnyShares,
    ) -> Result<AnyShares, Error> {
        let op = "select";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::select(c, R::unwrap(b, op)?, R::unwrap(x, op)?, R::unwrap(y, op)?).await).await?.into()))
    }

    /// 1.0 where `x == y`, else 0.0 ([`crate::numeric::equal`]).
    pub async fn equal(&mut self, x: &AnyShares, y: &AnyShares) -> Result<AnyShares, Error> {
        let op = "equal";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::equal(c, R::unwrap(x, op)?, R::unwrap(y, op)?).await).await?.into()))
    }

    /// The smallest value of each row ([`crate::numeric::min`]).
    pub async fn min(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let (op, axis) = ("min", crate::numeric::Axis::PerRow);
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::min(c, R::unwrap(x, op)?, axis).await).await?.into()))
    }

    /// The smallest value of each row and its index ([`crate::numeric::argmin`]).
    pub async fn argmin(&mut self, x: &AnyShares) -> Result<(AnyShares, AnyShares), Error> {
        let (op, axis) = ("argmin", crate::numeric::Axis::PerRow);
        on_ring!(self, p, R => {
            let (m, i) = p.run(op, async |c| crate::numeric::argmin(c, R::unwrap(x, op)?, axis).await).await?;
            Ok((m.into(), i.into()))
        })
    }

    /// The sum of each row (local, exact; [`crate::numeric::sum`]).
    pub fn row_sum(&self, x: &AnyShares) -> Result<AnyShares, Error> {
        let (op, axis) = ("sum", crate::numeric::Axis::PerRow);
        local!(self, op, _p, R => Ok(crate::numeric::sum(R::unwrap(x, op)?, axis)?.into()))
    }

    /// The mean of each row ([`crate::numeric::mean`]).
    pub async fn row_mean(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let (op, axis) = ("mean", crate::numeric::Axis::PerRow);
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::mean(c, R::unwrap(x, op)?, axis).await).await?.into()))
    }

    /// The population variance of each row ([`crate::numeric::variance`]).
    pub async fn row_variance(&mut self, x: &AnyShares) -> Result<AnyShares, Error> {
        let (op, axis) = ("variance", crate::numeric::Axis::PerRow);
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::variance(c, R::unwrap(x, op)?, axis).await).await?.into()))
    }

    /// `x + v` with the row, column or scalar `v` broadcast to `x`'s shape (local;
    /// [`crate::numeric::broadcast`]).
    pub async fn broadcast_add(
        &mut self,
        x: &AnyShares,
        v: &AnyShares,
    ) -> Result<AnyShares, Error> {
        self.broadcast(x, v, crate::numeric::Broadcast::Add).await
    }

    /// `x - v` with `v` broadcast as [`Session::broadcast_add`] does it.
    pub async fn broadcast_sub(
        &mut self,
        x: &AnyShares,
        v: &AnyShares,
    ) -> Result<AnyShares, Error> {
        self.broadcast(x, v, crate::numeric::Broadcast::Sub).await
    }

    /// The fixed-point product `x * v` with `v` broadcast as [`Session::broadcast_add`] does it
    /// (one round).
    pub async fn broadcast_mul(
        &mut self,
        x: &AnyShares,
        v: &AnyShares,
    ) -> Result<AnyShares, Error> {
        self.broadcast(x, v, crate::numeric::Broadcast::Mul).await
    }

    async fn broadcast(
        &mut self,
        x: &AnyShares,
        v: &AnyShares,
        how: crate::numeric::Broadcast,
    ) -> Result<AnyShares, Error> {
        let op = "broadcast";
        on_ring!(self, p, R => Ok(p.run(op, async |c| crate::numeric::broadcast(c, R::unwrap(x, op)?, R::unwrap(v, op)?, how).await).await?.into()))
    }

    // ----- machine learning -----

    /// Linear or logistic regression by SGD on shares, reporting each epoch (with the traffic so
    /// far) to `on_progress`; returns the weights, bias last.
    pub async fn train_glm(
        &mut self,
        x: &AnyShares,
        y: &AnyShares,
        model: GlmModel,
        params: &SgdParams,
        on_progress: impl FnMut(&Progress),
    ) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.train_glm(R::unwrap(x, "train_glm")?, R::unwrap(y, "train_glm")?, model, params, on_progress).await?.into()))
    }

    /// A multilayer perceptron trained from public initial weights, reporting each epoch to
    /// `on_progress`; one weight matrix per layer.
    pub async fn train_mlp(
        &mut self,
        x: &AnyShares,
        y: &AnyShares,
        init: &Mlp,
        params: &MlpParams,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Vec<AnyShares>, Error> {
        on_ring!(self, p, R => {
            let w = p.train_mlp(R::unwrap(x, "train_mlp")?, R::unwrap(y, "train_mlp")?, init, params, on_progress).await?;
            Ok(w.into_iter().map(AnyShares::from).collect())
        })
    }

    /// Trains any sequential network by back-propagation (dense, convolution, ReLU, max and
    /// mean pooling, square; see [`crate::ml::train`]) from public initial `weights`, reporting
    /// each epoch to `on_progress`; returns the shared weights, one matrix per dense or
    /// convolution layer.
    #[allow(clippy::too_many_arguments)]
    pub async fn train_network(
        &mut self,
        net: &Network,
        x: &AnyShares,
        y: &AnyShares,
        weights: &[Vec<f64>],
        params: &SgdParams,
        loss: MlpLoss,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Vec<AnyShares>, Error> {
        let op = "train_network";
        on_ring!(self, p, R => {
            let (x, y) = (R::unwrap(x, op)?, R::unwrap(y, op)?);
            let w = p.train_network(net, x, y, weights, params, loss, on_progress).await?;
            Ok(w.into_iter().map(AnyShares::from).collect())
        })
    }

    /// MiniONN inference: this party's share of the network's output.
    pub async fn forward(
        &mut self,
        net: &Network,
        model_owner: Role,
        weights: Option<&[Vec<f64>]>,
        input: Option<&[f64]>,
        rows: usize,
    ) -> Result<AnyShares, Error> {
        on_ring!(self, p, R => Ok(p.forward(net, model_owner, weights, input, rows).await?.into()))
    }

    /// MiniONN classification: the client gets `Some(classes)`.
    pub async fn classify(
        &mut self,
        net: &Network,
        model_owner: Role,
        weights: Option<&[Vec<f64>]>,
        input: Option<&[f64]>,
        rows: usize,
    ) -> Result<Option<Vec<usize>>, Error> {
        on_ring!(self, p, _R => p.classify(net, model_owner, weights, input, rows).await)
    }
}
