//! Computing parties, their shares, the dealer, and the server side of data-owner input: thin
//! translations of [`fixshare::session`].

use crate::data_owner::c_transport;
use crate::status::Failure;
use crate::transport::{CTransport, Watch, Watched};
use crate::{fxs_status, fxs_transport, run, run_void, slice, slice_mut};
use alloc::boxed::Box;
use alloc::vec::Vec;
use fixshare::session::limits::{self, DEFAULT_MAX_ELEMENTS};
use fixshare::session::{
    AnyShares, Backend, Dealer, Error, ErrorKind, Offline, OwnerLink, PartyId, Role, Seed, Session,
    SessionConfig, State, Stats, Topology, Truncation, block_on,
};

/// Party 0 (server 0; the garbler in garbled-circuit protocols).
pub const FXS_ROLE_P0: u32 = 0;
/// Party 1 (server 1; the evaluator).
pub const FXS_ROLE_P1: u32 = 1;
/// The assistant Sa of a four-server session (party 2, S1's own assistant): passed to
/// `fxs_assistant_serve`, never a party's role.
pub const FXS_ROLE_SA: u32 = 2;
/// The assistant Sb of a four-server session (party 3, S2's own assistant): passed to
/// `fxs_assistant_serve`, never a party's role.
pub const FXS_ROLE_SB: u32 = 3;

/// SecureML's local truncation: free, off by at most one unit in the last place except with
/// a tiny probability that grows with the magnitude of the values.
pub const FXS_TRUNCATION_LOCAL: u32 = 0;
/// Truncation pairs from the offline source: one round, never a large error.
pub const FXS_TRUNCATION_PAIRS: u32 = 1;
/// Exact truncation (MiniONN's): exactly `floor(x / 2^f)` after every product, in one round, by
/// the non-linear backend (a dealer's FSS keys, or about 126 AND gates per value in Z_2^64).
pub const FXS_TRUNCATION_EXACT: u32 = 2;

/// The non-linear backend the offline source allows: FSS with the dealer, garbled circuits with
/// OT, the helper's protocols with three servers, Sa as the helper with four.
pub const FXS_BACKEND_AUTO: u32 = 0;
/// Garbled circuits between the parties (no third party, constant rounds), also with a dealer;
/// with four servers, between the assistants (PrivPy's Protocol 2).
pub const FXS_BACKEND_GARBLED_CIRCUITS: u32 = 1;
/// Function secret sharing with keys from the dealer: one round and one ring element per party
/// for a comparison or ReLU. Needs `FXS_OFFLINE_DEALER`.
pub const FXS_BACKEND_FSS: u32 = 2;
/// SecureNN's protocols with the helper P2 taking part online (ReLU, DReLU, comparisons, max,
/// argmax, max pooling and its derivative, division, the softmax replacement): arithmetic shares
/// only, no circuits. Needs a third server: `FXS_TOPOLOGY_THREE_SERVERS`, or four servers with
/// the assistant Sa as the helper (the default backend of both); `fxs_party_new` rejects it with
/// two servers (`FXS_STATUS_INVALID_ARGUMENT`).
pub const FXS_BACKEND_HELPER: u32 = 3;

/// Two servers: the parties P0 and P1, with the dealer (`FXS_OFFLINE_DEALER`) or OT between
/// them (`FXS_OFFLINE_OT`) as offline source.
pub const FXS_TOPOLOGY_TWO_SERVERS: u32 = 0;
/// Three servers (SecureNN): P0 and P1 hold the shares, the helper P2 holds none; it deals the
/// correlated randomness (seed-compressed) and takes part in the non-linear layer online. P0 and
/// P1 reach it over `fxs_party_config.dealer`, with `FXS_OFFLINE_DEALER`; the helper itself runs
/// `fxs_dealer_serve` over its connections to P0 and P1.
pub const FXS_TOPOLOGY_THREE_SERVERS: u32 = 1;
/// Four servers (PrivPy): the primaries S1 (`FXS_ROLE_P0`) and S2 (`FXS_ROLE_P1`) hold the
/// shares; the assistants Sa and Sb hold none and compute products (without triples) and sign
/// tests (a garbled circuit between them) on re-randomized shares. A primary connects with
/// `fxs_party_new_with_assistants` (`FXS_OFFLINE_OT`: the primaries run OT between them for exact
/// truncation and circuits); each assistant runs `fxs_assistant_serve`.
pub const FXS_TOPOLOGY_FOUR_SERVERS: u32 = 2;

/// The offline phase (correlated randomness) comes from a dealer over `fxs_party_config.dealer`.
pub const FXS_OFFLINE_DEALER: u32 = 0;
/// The two parties generate the correlated randomness themselves by oblivious transfer (base
/// OTs and IKNP extension) over their one connection, `fxs_party_config.peer` (on a sub-channel
/// of its own, beside the online phase): no third party, more traffic between the parties.
pub const FXS_OFFLINE_OT: u32 = 1;

/// Configuration of a computing party; fill it with `fxs_party_config_init` first.
///
/// Both parties must use the same ring width, fractional bits, truncation and offline source.
/// `peer` is always required: it carries the online phase, garbled circuits and, with
/// `FXS_OFFLINE_OT`, the OT-based offline phase (one connection between the two parties).
/// Set `dealer` with `FXS_OFFLINE_DEALER` only; with `FXS_OFFLINE_OT` leave it as
/// `fxs_party_config_init` left it (NULL callbacks): `fxs_party_new` rejects a missing dealer with
/// `FXS_STATUS_NULL_POINTER` and a superfluous one with `FXS_STATUS_INVALID_ARGUMENT`.
///
/// With `topology = FXS_TOPOLOGY_THREE_SERVERS`, `dealer` is the connection to the helper P2
/// (which runs `fxs_dealer_serve`) and `offline` stays `FXS_OFFLINE_DEALER`. With
/// `FXS_TOPOLOGY_FOUR_SERVERS`, `offline` is `FXS_OFFLINE_OT`, `dealer` stays unset, and the
/// assistants' connections are arguments of `fxs_party_new_with_assistants`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_party_config {
    /// `FXS_ROLE_P0` or `FXS_ROLE_P1`.
    pub role: u32,
    /// Ring width in bits: 32, 64 (default) or 128.
    pub ring_bits: u32,
    /// Fractional bits of the fixed-point encoding (default 16; at most `ring_bits - 2` and 62).
    pub frac_bits: u32,
    /// `FXS_TRUNCATION_LOCAL` (default), `FXS_TRUNCATION_PAIRS` or `FXS_TRUNCATION_EXACT`.
    pub truncation: u32,
    /// `FXS_OFFLINE_DEALER` (default) or `FXS_OFFLINE_OT`.
    pub offline: u32,
    /// `FXS_BACKEND_AUTO` (default), `FXS_BACKEND_GARBLED_CIRCUITS`, `FXS_BACKEND_FSS` or
    /// `FXS_BACKEND_HELPER`: what computes comparisons, ReLU, sigmoids, max and exact
    /// truncation. `FXS_BACKEND_AUTO` is the helper's protocols with three servers (with four,
    /// Sa as the helper), FSS with the dealer and garbled circuits with OT.
    pub backend: u32,
    /// This party's secret randomness: 32 bytes of fresh entropy, never reused. Every seed the
    /// session needs (its own streams, the OTs) is derived from it.
    pub seed: [u8; 32],
    /// Maximum frame payload in bytes towards the peer; 0 means the default (64 MiB).
    pub max_frame: usize,
    /// The connection to the other party (the only one with `FXS_OFFLINE_OT`).
    pub peer: fxs_transport,
    /// The connection to the dealer (with three servers, to the helper P2): with
    /// `FXS_OFFLINE_DEALER` only.
    pub dealer: fxs_transport,
    /// `FXS_TOPOLOGY_TWO_SERVERS` (default), `FXS_TOPOLOGY_THREE_SERVERS` or
    /// `FXS_TOPOLOGY_FOUR_SERVERS`.
    pub topology: u32,
    /// The precision guard: 0 (default) is off; `h > 0` checks, before each truncation and each
    /// fixed-point product, that every value is below `2^(ring_bits - 1 - h)` (where local
    /// truncation fails with probability at most `2^-h`) and that no product can wrap the ring,
    /// by sign tests on the shares (about a ReLU per checked value, one round more); a value
    /// out of range stops the operation with `FXS_STATUS_PRECISION_GUARD` instead of a wrong
    /// number. Must be below `ring_bits - 2`. Both parties use the same setting.
    pub precision_guard: u32,
    /// The width `b` the sign tests may assume of their inputs: 0 (default) is the whole ring;
    /// `b` from 2 to `ring_bits` promises that every value whose sign is tested (the inputs of
    /// ReLU and DReLU, `x - y` of `fxs_party_less_than`, the differences compared by max, argmax
    /// and max pooling) lies in `[-2^(b-1), 2^(b-1))` as a ring element (`x * 2^frac_bits`).
    /// `FXS_BACKEND_FSS` then compares over `b - 1` bits (smaller dealer keys, faster); a value
    /// outside the range gives a wrong result, which the parties cannot detect. Other backends
    /// ignore it. Both parties use the same setting.
    pub sign_bits: u32,
}

/// Traffic counters (of one connection, or of one phase over several).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_stats {
    /// Bytes sent, frame headers included.
    pub bytes_sent: u64,
    /// Bytes received, frame headers included.
    pub bytes_received: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// Communication rounds (waits for the peer after sending).
    pub rounds: u64,
}

impl From<Stats> for fxs_stats {
    fn from(s: Stats) -> Self {
        fxs_stats {
            bytes_sent: s.bytes_sent,
            bytes_received: s.bytes_received,
            frames_sent: s.frames_sent,
            rounds: s.rounds,
        }
    }
}

/// The session a party wraps.
pub(crate) type CSession = Session<Watched>;

/// A computing party's session (opaque). Create with `fxs_party_new`, free with
/// `fxs_party_free`.
///
/// Its state (ready, busy, poisoned) is the core session's: an operation that fails before
/// anything is sent or received leaves it ready, one that fails after communicating poisons it,
/// and one abandoned half-way (a panic) leaves it busy, so that later calls fail.
pub struct fxs_party {
    session: CSession,
    /// The party's connections (the peer's, and the dealer's or the helper's), to name the one
    /// that failed in a transport error.
    watches: Vec<Watch>,
}

/// One party's additive shares of a secret `rows x cols` matrix (opaque; a vector is a
/// matrix with one column). Created by `fxs_party_*` functions, freed with `fxs_shares_free`.
/// Shares are erased from memory when freed.
pub struct fxs_shares {
    inner: AnyShares,
}

/// A framed connection to one data owner, on the server side (opaque). Keep one per data owner
/// for the whole session: frames carry sequence numbers.
pub struct fxs_link {
    link: OwnerLink<CTransport>,
    /// Why the link can no longer be used: a failure after communicating, or [`ErrorKind::Busy`]
    /// while a call runs (left so if it panics).
    failed: Option<Error>,
}

/// The role a C constant names (`what` describes the argument).
pub(crate) fn role_of(code: u32, what: &'static str) -> Result<Role, Failure> {
    match code {
        FXS_ROLE_P0 => Ok(Role::P0),
        FXS_ROLE_P1 => Ok(Role::P1),
        _ => Err(Failure::invalid(what)),
    }
}

/// Boxes a result for the caller.
pub(crate) fn boxed(s: AnyShares) -> *mut fxs_shares {
    Box::into_raw(Box::new(fxs_shares { inner: s }))
}

/// Runs a call on a party (`None`: the caller passed NULL) whose session is ready, and
/// translates the session's state into statuses: a session that is not ready fails at once
/// (with its first failure in the message), and an error of the argument class (100-199) that
/// poisoned the session (found after communicating) is reported as `FXS_STATUS_POISONED`.
pub(crate) fn with_party(
    name: &'static str,
    party: Option<&mut fxs_party>,
    body: impl FnOnce(&mut CSession) -> Result<(), Failure>,
) -> fxs_status {
    run(name, || {
        let party = party.ok_or(Failure::null("`party` is NULL"))?;
        let session = &mut party.session;
        ready(session.state())?;
        let r = body(session).map_err(|f| f.on(failed_connection(&party.watches)));
        // The session was ready: poisoned now means this call poisoned it.
        if session.failure().is_some() {
            r.map_err(Failure::poisoned_now)
        } else {
            r
        }
    })
}

/// The first of `watches` whose connection failed since they were last asked (all are reset).
fn failed_connection(watches: &[Watch]) -> Option<&'static str> {
    watches.iter().fold(None, |first, w| {
        let failed = w.take();
        first.or(failed)
    })
}

/// Fails unless the session is ready for an operation.
fn ready(state: &State) -> Result<(), Failure> {
    match state {
        State::Ready => Ok(()),
        State::Poisoned(e) => Err(Failure::Poisoned(e.clone())),
        State::Busy => Err(Failure::Unusable),
        State::Closed => Err(Failure::Core(Error::new("party", ErrorKind::SessionClosed))),
    }
}

/// Sets `*out` (the caller's out-parameter; `None` if it passed NULL) to NULL and returns it for
/// the result.
pub(crate) fn out_ptr<T>(out: Option<&mut *mut T>) -> Result<&mut *mut T, Failure> {
    let out = out.ok_or(Failure::null("`out` is NULL"))?;
    *out = core::ptr::null_mut();
    Ok(out)
}

/// The shares the caller passed (`None`: NULL, described by `what`).
pub(crate) fn shares_ref<'a>(
    s: Option<&'a fxs_shares>,
    what: &'static str,
) -> Result<&'a AnyShares, Failure> {
    s.map(|s| &s.inner).ok_or(Failure::null(what))
}

/// The number of elements of `x`.
pub(crate) fn len(x: &AnyShares) -> usize {
    let (rows, cols) = x.shape();
    rows * cols
}

/// Fills `config` with the defaults: role 0, two servers, 64-bit ring, 16 fractional bits, local
/// truncation, the dealer as offline source, the automatic backend, default frame limit, no
/// precision guard, sign tests on the whole ring, a zero seed and NULL transports (set the role,
/// a fresh seed, `peer` and the offline source's transport before `fxs_party_new`).
///
/// # Safety
/// `config` is NULL or points to writable memory for an `fxs_party_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_config_init(config: *mut fxs_party_config) -> fxs_status {
    run("fxs_party_config_init", || {
        if config.is_null() {
            return Err(Failure::null("`config` is NULL"));
        }
        let none = fxs_transport {
            send: None,
            recv: None,
            flush: None,
            user_data: core::ptr::null_mut(),
        };
        // SAFETY: non-NULL and writable (caller); `write` does not read the old contents.
        unsafe {
            config.write(fxs_party_config {
                role: FXS_ROLE_P0,
                ring_bits: 64,
                frac_bits: 16,
                truncation: FXS_TRUNCATION_LOCAL,
                offline: FXS_OFFLINE_DEALER,
                backend: FXS_BACKEND_AUTO,
                seed: [0; 32],
                max_frame: 0,
                peer: none,
                dealer: none,
                topology: FXS_TOPOLOGY_TWO_SERVERS,
                precision_guard: 0,
                sign_bits: 0,
            })
        };
        Ok(())
    })
}

/// A configuration checked at the boundary: the session's settings and the validated
/// transports.
struct Parsed {
    config: SessionConfig,
    seed: Seed,
    peer: CTransport,
    /// The dealer's (or the helper's) connection, with `FXS_OFFLINE_DEALER`.
    dealer: Option<CTransport>,
}

/// Checks `c` for `fxs_party_new` (`assistants` false) or `fxs_party_new_with_assistants`
/// (true), before anything is sent.
fn parse_config(c: &fxs_party_config, assistants: bool) -> Result<Parsed, Failure> {
    let role = role_of(c.role, "role must be FXS_ROLE_P0 or FXS_ROLE_P1")?;
    let truncation = match c.truncation {
        FXS_TRUNCATION_LOCAL => Truncation::Local,
        FXS_TRUNCATION_PAIRS => Truncation::Pairs,
        FXS_TRUNCATION_EXACT => Truncation::Exact,
        _ => {
            return Err(Failure::invalid(
                "truncation must be FXS_TRUNCATION_LOCAL, _PAIRS or _EXACT",
            ));
        }
    };
    let backend = match c.backend {
        FXS_BACKEND_AUTO => Backend::Auto,
        FXS_BACKEND_GARBLED_CIRCUITS => Backend::GarbledCircuits,
        FXS_BACKEND_FSS => Backend::Fss,
        FXS_BACKEND_HELPER => Backend::Helper,
        _ => {
            return Err(Failure::invalid(
                "backend must be FXS_BACKEND_AUTO, _GARBLED_CIRCUITS, _FSS or _HELPER",
            ));
        }
    };
    let topology = match c.topology {
        FXS_TOPOLOGY_TWO_SERVERS => Topology::TwoServersDealer,
        FXS_TOPOLOGY_THREE_SERVERS => Topology::ThreeServers,
        FXS_TOPOLOGY_FOUR_SERVERS => Topology::FourServers,
        _ => {
            return Err(Failure::invalid(
                "topology must be FXS_TOPOLOGY_TWO_SERVERS, _THREE_SERVERS or _FOUR_SERVERS",
            ));
        }
    };
    let four = topology == Topology::FourServers;
    if four && !assistants {
        return Err(Failure::invalid(
            "four servers connect with fxs_party_new_with_assistants",
        ));
    }
    if assistants && !four {
        return Err(Failure::invalid(
            "fxs_party_new_with_assistants needs FXS_TOPOLOGY_FOUR_SERVERS",
        ));
    }
    let three = topology == Topology::ThreeServers;
    let peer = c_transport(&c.peer, "peer.send or peer.recv is NULL")?;
    let unset = |t: &fxs_transport| t.send.is_none() && t.recv.is_none() && t.flush.is_none();
    let (offline, dealer) = match c.offline {
        FXS_OFFLINE_DEALER if four => {
            return Err(Failure::invalid(
                "four servers run OT between the primaries: offline must be FXS_OFFLINE_OT",
            ));
        }
        FXS_OFFLINE_DEALER => (
            Offline::Dealer,
            Some(c_transport(
                &c.dealer,
                if three {
                    "dealer.send or dealer.recv is NULL (with three servers: the helper)"
                } else {
                    "dealer.send or dealer.recv is NULL"
                },
            )?),
        ),
        FXS_OFFLINE_OT if !unset(&c.dealer) => {
            return Err(Failure::invalid(
                "dealer is set but the offline source is FXS_OFFLINE_OT",
            ));
        }
        FXS_OFFLINE_OT => (Offline::Ot, None),
        _ => {
            return Err(Failure::invalid(
                "offline must be FXS_OFFLINE_DEALER or FXS_OFFLINE_OT",
            ));
        }
    };
    let mut config = if four {
        SessionConfig::four_servers(role)
    } else {
        SessionConfig::two_servers(role, offline)
    };
    if three {
        // With another offline source than the helper, the session's check refuses it.
        config.topology = Topology::ThreeServers;
    }
    config.ring_bits = c.ring_bits;
    config.frac_bits = c.frac_bits;
    config.truncation = truncation;
    config.backend = backend;
    if c.max_frame != 0 {
        config.max_frame = c.max_frame;
    }
    config.precision_guard = (c.precision_guard != 0).then_some(c.precision_guard);
    config.sign_bits = (c.sign_bits != 0).then_some(c.sign_bits);
    // The session's own rules (formats, backends per topology, the guard's headroom, the sign
    // tests' width), before anything is sent.
    config.check()?;
    Ok(Parsed {
        config,
        seed: Seed::from_bytes(c.seed),
        peer,
        dealer,
    })
}

/// Creates a party from `config` (copied) and connects it to its offline source: with the
/// dealer (or, with three servers, the helper), this blocks until the dealer's seed arrives over
/// `config->dealer`; with OT, both parties must call it at the same time, since it runs the base
/// OTs with the peer over `config->peer` (two rounds).
///
/// Settings that do not fit together are `FXS_STATUS_INVALID_ARGUMENT`, before anything is sent:
/// an unknown constant, `FXS_BACKEND_HELPER` with two servers,
/// `FXS_BACKEND_FSS` with `FXS_OFFLINE_OT`, three servers with `FXS_OFFLINE_OT`, a dealer
/// transport with `FXS_OFFLINE_OT`, `FXS_TOPOLOGY_FOUR_SERVERS` (which connects with
/// `fxs_party_new_with_assistants`), a precision guard of `ring_bits - 2` bits or more, a
/// `sign_bits` other than 0 or 2 to `ring_bits`.
///
/// On success `*out` is the new party; on failure `*out` is NULL.
///
/// # Safety
/// `config` is NULL or a readable `fxs_party_config` whose transports' `user_data` stay valid
/// until the party is freed; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_new(
    config: *const fxs_party_config,
    out: *mut *mut fxs_party,
) -> fxs_status {
    run("fxs_party_new", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or readable (caller).
        let c = unsafe { config.as_ref() }.ok_or(Failure::null("`config` is NULL"))?;
        let p = parse_config(c, false)?;
        let three = p.config.topology == Topology::ThreeServers;
        let mut watches = Vec::with_capacity(2);
        watches.push(Watch::new("the connection to the peer, `peer`"));
        let peer = watches[0].wrap(p.peer);
        let dealer = p.dealer.map(|d| {
            watches.push(Watch::new(if three {
                "the connection to the helper, `dealer`"
            } else {
                "the connection to the dealer, `dealer`"
            }));
            watches[1].wrap(d)
        });
        let session = block_on(Session::connect(p.config, p.seed, peer, dealer))
            .map_err(|e| Failure::Core(e).on(failed_connection(&watches)))?;
        *out = Box::into_raw(Box::new(fxs_party { session, watches }));
        Ok(())
    })
}

/// Creates primary S1 (`config->role = FXS_ROLE_P0`) or S2 (`FXS_ROLE_P1`) of a four-server
/// session (PrivPy) and connects it: `config->topology` is `FXS_TOPOLOGY_FOUR_SERVERS`,
/// `config->offline` is `FXS_OFFLINE_OT`, `config->dealer` stays unset, `config->peer` is the
/// connection to the other primary; `to_sa` and `to_sb` (copied) are the connections to the
/// assistants Sa and Sb, which run `fxs_assistant_serve`. Both primaries call it at the same
/// time: it runs the base OTs with the peer (two rounds), hands the peer and its own assistant the
/// seeds of their common streams, and waits until both assistants report ready.
///
/// The session then works as any other: every `fxs_party_*` function runs on four servers, with
/// products by PrivPy's Protocol 1 (no triples: up to 4 units in the last place below the
/// rounded product) and comparisons by the assistants' garbled circuit. PrivPy's setting is
/// `ring_bits = 128`, `frac_bits = 32` (set them: `fxs_party_config_init` leaves 64 and 16,
/// which work too). `backend` must stay `FXS_BACKEND_AUTO` and `truncation`
/// `FXS_TRUNCATION_LOCAL` (the products divide by the scale themselves).
///
/// Refused with `FXS_STATUS_INVALID_ARGUMENT` before anything is sent: another topology, another
/// offline source, backend or truncation, a dealer transport, the settings `fxs_party_new`
/// refuses (a precision guard or `sign_bits` out of range); a NULL `to_sa`/`to_sb` or callback
/// is `FXS_STATUS_NULL_POINTER`. An assistant that leaves ends the primaries' next operation
/// with `FXS_STATUS_CLOSED` (the message names the connection, e.g. ``(the connection to
/// assistant Sa, `to_sa`)``).
///
/// On success `*out` is the new party; on failure `*out` is NULL.
///
/// # Safety
/// `config` is NULL or a readable `fxs_party_config`; `to_sa` and `to_sb` are NULL or readable;
/// the transports' `user_data` stay valid until the party is freed; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_new_with_assistants(
    config: *const fxs_party_config,
    to_sa: *const fxs_transport,
    to_sb: *const fxs_transport,
    out: *mut *mut fxs_party,
) -> fxs_status {
    run("fxs_party_new_with_assistants", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or readable (caller).
        let c = unsafe { config.as_ref() }.ok_or(Failure::null("`config` is NULL"))?;
        // SAFETY: NULL or readable (caller).
        let sa = unsafe { to_sa.as_ref() }.ok_or(Failure::null("`to_sa` is NULL"))?;
        // SAFETY: NULL or readable (caller).
        let sb = unsafe { to_sb.as_ref() }.ok_or(Failure::null("`to_sb` is NULL"))?;
        let p = parse_config(c, true)?;
        let sa = c_transport(sa, "to_sa.send or to_sa.recv is NULL")?;
        let sb = c_transport(sb, "to_sb.send or to_sb.recv is NULL")?;
        let watches = alloc::vec![
            Watch::new("the connection to the peer, `peer`"),
            Watch::new("the connection to assistant Sa, `to_sa`"),
            Watch::new("the connection to assistant Sb, `to_sb`"),
        ];
        let (peer, sa, sb) = (
            watches[0].wrap(p.peer),
            watches[1].wrap(sa),
            watches[2].wrap(sb),
        );
        let session = block_on(Session::connect_with_assistants(
            p.config, p.seed, peer, sa, sb,
        ))
        .map_err(|e| Failure::Core(e).on(failed_connection(&watches)))?;
        *out = Box::into_raw(Box::new(fxs_party { session, watches }));
        Ok(())
    })
}

/// Frees a party (also a poisoned or unusable one), erasing its secrets. NULL is fine. The
/// transports are not closed: close them afterwards (the dealer stops serving when both
/// parties have closed their connection to it).
///
/// # Safety
/// `party` is NULL or a live `fxs_party` from `fxs_party_new`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_free(party: *mut fxs_party) {
    if party.is_null() {
        return;
    }
    // SAFETY: a live party created by `Box::into_raw` in `fxs_party_new`, freed once (caller).
    let party = unsafe { Box::from_raw(party) };
    run_void(move || drop(party));
}

/// Writes the online traffic with the peer to `*peer` (inputs, openings, products, garbled
/// circuits) and the traffic of the offline phase to `*offline` (the connection to the dealer,
/// or the OTs with the peer, which share the `peer` connection on a sub-channel of their own);
/// either may be NULL. The two never overlap: with `FXS_OFFLINE_OT` their sum is everything that
/// crossed `peer`. With three servers `*peer` also counts the online steps with the helper, and
/// `*offline` its dealing. Works on a poisoned party.
///
/// # Safety
/// `party` is NULL or a live party; `peer` and `offline` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_stats(
    party: *const fxs_party,
    peer: *mut fxs_stats,
    offline: *mut fxs_stats,
) -> fxs_status {
    run("fxs_party_stats", || {
        // SAFETY: NULL or live (caller).
        let party = unsafe { party.as_ref() }.ok_or(Failure::null("`party` is NULL"))?;
        // SAFETY: NULL or writable (caller).
        if let Some(peer) = unsafe { peer.as_mut() } {
            *peer = party.session.online_stats().into();
        }
        // SAFETY: NULL or writable (caller).
        if let Some(offline) = unsafe { offline.as_mut() } {
            *offline = party.session.offline_stats().into();
        }
        Ok(())
    })
}

// ----- inputs and outputs -----

/// Secret-shares this party's own `rows x cols` matrix `values` (row-major, `rows * cols`
/// doubles) with the peer, which calls `fxs_party_receive_input` with the same shape. Returns
/// this party's shares in `*out`. Values out of the fixed-point range fail with
/// `FXS_STATUS_OUT_OF_RANGE` before anything is sent.
///
/// # Safety
/// `party` is NULL or a live party; `values` is NULL or readable for `rows * cols` doubles;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_share_input(
    party: *mut fxs_party,
    values: *const f64,
    rows: usize,
    cols: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, out) = unsafe { (party.as_mut(), out.as_mut()) };
    with_party("fxs_party_share_input", party, |s| {
        let out = out_ptr(out)?;
        let n = limits::elements("share_input", rows, cols, DEFAULT_MAX_ELEMENTS)?;
        // SAFETY: NULL or readable for `rows * cols` doubles (contract).
        let values = unsafe { slice(values, n, "`values` is NULL") }?;
        *out = boxed(block_on(s.share_input(values, rows, cols))?);
        Ok(())
    })
}

/// Receives this party's shares of a `rows x cols` matrix that the peer shares with
/// `fxs_party_share_input`. A shape whose size overflows or exceeds 2^28 elements fails with
/// `FXS_STATUS_CAPACITY` before anything is received (the party stays usable).
///
/// # Safety
/// `party` is NULL or a live party; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_receive_input(
    party: *mut fxs_party,
    rows: usize,
    cols: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, out) = unsafe { (party.as_mut(), out.as_mut()) };
    with_party("fxs_party_receive_input", party, |s| {
        let out = out_ptr(out)?;
        *out = boxed(block_on(s.receive_input(rows, cols))?);
        Ok(())
    })
}

/// Opens `x` to both parties (one round) and writes the decoded values, row-major, to `out`,
/// which must hold at least `rows * cols` doubles (`FXS_STATUS_BUFFER_TOO_SMALL` otherwise,
/// before anything is sent: the call may be repeated with a larger buffer).
///
/// # Safety
/// `party` is NULL or a live party; `x` is NULL or live shares; `out` is NULL or writable for
/// `out_len` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_reveal(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut f64,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, x) = unsafe { (party.as_mut(), x.as_ref()) };
    with_party("fxs_party_reveal", party, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let n = len(x);
        if out_len < n {
            return Err(Failure::Arg(
                fxs_status::BufferTooSmall,
                "`out_len` is smaller than the number of values",
            ));
        }
        // SAFETY: NULL or writable for `out_len >= n` doubles (contract).
        let out = unsafe { slice_mut(out, n, "`out` is NULL") }?;
        let values = block_on(s.reveal(x))?;
        out.copy_from_slice(&values);
        Ok(())
    })
}

/// Opens `x` to party `to` only (one message). On party `to`, the values are written to `out`
/// as in `fxs_party_reveal`; on the other party `out` may be NULL and is not touched.
///
/// # Safety
/// As for `fxs_party_reveal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_reveal_to(
    party: *mut fxs_party,
    x: *const fxs_shares,
    to: u32,
    out: *mut f64,
    out_len: usize,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, x) = unsafe { (party.as_mut(), x.as_ref()) };
    with_party("fxs_party_reveal_to", party, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let to = role_of(to, "`to` must be FXS_ROLE_P0 or FXS_ROLE_P1")?;
        let me = s.role();
        let n = len(x);
        let out = if me == to {
            if out_len < n {
                return Err(Failure::Arg(
                    fxs_status::BufferTooSmall,
                    "`out_len` is smaller than the number of values",
                ));
            }
            // SAFETY: NULL or writable for `out_len >= n` doubles (contract).
            Some(unsafe { slice_mut(out, n, "`out` is NULL") }?)
        } else {
            None
        };
        let values = block_on(s.reveal_to(x, to))?;
        if let (Some(out), Some(values)) = (out, values) {
            out.copy_from_slice(&values);
        }
        Ok(())
    })
}

// ----- arithmetic -----

/// Runs an operation that produces new shares in `*out`.
pub(crate) fn shares_op(
    name: &'static str,
    party: Option<&mut fxs_party>,
    out: Option<&mut *mut fxs_shares>,
    body: impl FnOnce(&mut CSession) -> Result<AnyShares, Failure>,
) -> fxs_status {
    with_party(name, party, |s| {
        let out = out_ptr(out)?;
        *out = boxed(body(s)?);
        Ok(())
    })
}

/// `x + y` (local, no communication). Shapes must be equal.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_add(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_add", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(s.add(x, y)?)
    })
}

/// `x - y` (local, no communication). Shapes must be equal.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_sub(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_sub", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(s.sub(x, y)?)
    })
}

/// `-x` (local).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_neg(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_neg", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(s.neg(x)?)
    })
}

/// `x + c` for a public real `c` (local; both parties pass the same `c`).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_add_public(
    party: *mut fxs_party,
    x: *const fxs_shares,
    c: f64,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_add_public", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(s.add_public(x, c)?)
    })
}

/// `x * c` for a public integer `c`: exact, local, no truncation.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_mul_public_integer(
    party: *mut fxs_party,
    x: *const fxs_shares,
    c: i64,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_mul_public_integer", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(s.mul_public_integer(x, c)?)
    })
}

/// `x * c` for a public real `c`, truncated as configured (one round with
/// `FXS_TRUNCATION_PAIRS`, local otherwise).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_mul_public(
    party: *mut fxs_party,
    x: *const fxs_shares,
    c: f64,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_mul_public", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(block_on(s.mul_public(x, c))?)
    })
}

/// The elementwise fixed-point product `x * y` (Beaver triples: one round, then
/// truncation). Shapes must be equal.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_mul(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_mul", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.mul(x, y))?)
    })
}

/// The elementwise ring product `x * y` without truncation (Beaver triples, one round): for
/// integers (e.g. the 0/1 results of comparisons times integer shares), or to truncate later
/// once. On fixed-point inputs the result carries twice the fractional bits. Shapes must be
/// equal.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_mul_integer(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_mul_integer", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.mul_integer(x, y))?)
    })
}

/// The elementwise fixed-point square `x * x` (one round, then truncation).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_square(
    party: *mut fxs_party,
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_square", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(block_on(s.square(x))?)
    })
}

/// The fixed-point matrix product `x y` of an `m x k` and a `k x n` matrix (one matrix
/// triple, one round, then truncation); `*out` is `m x n`. A product with more than 2^28
/// elements in `m x k`, `k x n` or `m x n` fails with `FXS_STATUS_CAPACITY` before anything is
/// allocated or sent (the party stays usable).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_matmul(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_matmul", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.matmul(x, y))?)
    })
}

/// The fixed-point dot product of two share matrices with the same number of elements
/// (read row-major; one round, then truncation); `*out` is `1 x 1`.
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_dot(
    party: *mut fxs_party,
    x: *const fxs_shares,
    y: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x, y) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref(), y.as_ref()) };
    shares_op("fxs_party_dot", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        let y = shares_ref(y, "`y` is NULL")?;
        Ok(block_on(s.dot(x, y))?)
    })
}

/// Divides `x` by `2^bits` with the configured truncation (`bits < ring_bits - 2`; 0
/// copies).
///
/// On success `*out` holds new shares (free them with `fxs_shares_free`); on failure it is NULL.
///
/// # Safety
/// `party` is NULL or a live party; the shares are NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_truncate(
    party: *mut fxs_party,
    x: *const fxs_shares,
    bits: u32,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: each pointer is NULL or valid for the call (contract of this function).
    let (party, out, x) = unsafe { (party.as_mut(), out.as_mut(), x.as_ref()) };
    shares_op("fxs_party_truncate", party, out, |s| {
        let x = shares_ref(x, "`x` is NULL")?;
        Ok(block_on(s.truncate(x, bits))?)
    })
}

// ----- shares -----

/// Writes the shape of `x` to `*rows` and `*cols` (either may be NULL).
///
/// # Safety
/// `x` is NULL or live shares; `rows` and `cols` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_shares_shape(
    x: *const fxs_shares,
    rows: *mut usize,
    cols: *mut usize,
) -> fxs_status {
    run("fxs_shares_shape", || {
        // SAFETY: NULL or live (caller).
        let x = shares_ref(unsafe { x.as_ref() }, "`x` is NULL")?;
        let shape = x.shape();
        // SAFETY: NULL or writable (caller).
        if let Some(rows) = unsafe { rows.as_mut() } {
            *rows = shape.0;
        }
        // SAFETY: NULL or writable (caller).
        if let Some(cols) = unsafe { cols.as_mut() } {
            *cols = shape.1;
        }
        Ok(())
    })
}

/// The transpose of `x` as new shares in `*out` (local; a share of the transpose is the
/// transpose of a share).
///
/// # Safety
/// `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_shares_transpose(
    x: *const fxs_shares,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    run("fxs_shares_transpose", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let x = shares_ref(unsafe { x.as_ref() }, "`x` is NULL")?;
        *out = boxed(x.transpose());
        Ok(())
    })
}

/// The elements of `x` (row-major) as a `rows x cols` matrix, new shares in `*out` (local);
/// `FXS_STATUS_DIMENSION_MISMATCH` if `rows * cols` is not the number of elements. For example
/// a batch of images as one row each, or one image's values as a column.
///
/// # Safety
/// `x` is NULL or live shares; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_shares_reshape(
    x: *const fxs_shares,
    rows: usize,
    cols: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    run("fxs_shares_reshape", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let x = shares_ref(unsafe { x.as_ref() }, "`x` is NULL")?;
        if rows.checked_mul(cols) != Some(len(x)) {
            return Err(Failure::Arg(
                fxs_status::DimensionMismatch,
                "`rows * cols` is not the number of elements of `x`",
            ));
        }
        *out = boxed(x.clone().reshape(rows, cols)?);
        Ok(())
    })
}

/// Frees shares, erasing them. NULL is fine.
///
/// # Safety
/// `x` is NULL or live shares from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_shares_free(x: *mut fxs_shares) {
    if x.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let x = unsafe { Box::from_raw(x) };
    run_void(move || drop(x));
}

// ----- the dealer -----

/// Runs the dealer: sends each party its seed, then answers their requests for correlated
/// randomness until both parties close their connections (between two requests). Blocks for
/// the whole session. Writes the traffic to party 0 and party 1 to `*stats0` and `*stats1`
/// (either may be NULL).
///
/// The same call is the helper P2 of a three-server session (SecureNN,
/// `FXS_TOPOLOGY_THREE_SERVERS`): it has no program of its own and no configuration; besides
/// dealing it answers the online steps of the helper's protocols, whichever the parties run.
/// Party P0 and P1 pass these connections as their `fxs_party_config.dealer`. If a party
/// leaves while the other waits on a request, it returns `FXS_STATUS_CLOSED`.
///
/// The dealer (or helper) learns nothing about the inputs, but must not collude with either
/// party.
///
/// # Safety
/// `seed` is NULL or readable for 32 bytes (fresh entropy); the transports are NULL or readable,
/// their `user_data` valid during the call; `stats0`, `stats1` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_dealer_serve(
    seed: *const u8,
    to_party0: *const fxs_transport,
    to_party1: *const fxs_transport,
    stats0: *mut fxs_stats,
    stats1: *mut fxs_stats,
) -> fxs_status {
    run("fxs_dealer_serve", || {
        // SAFETY: NULL or readable for 32 bytes (caller).
        let seed = unsafe { slice(seed, 32, "`seed` is NULL") }?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(seed);
        // SAFETY: NULL or readable (caller).
        let t0 = unsafe { to_party0.as_ref() }.ok_or(Failure::null("`to_party0` is NULL"))?;
        // SAFETY: NULL or readable (caller).
        let t1 = unsafe { to_party1.as_ref() }.ok_or(Failure::null("`to_party1` is NULL"))?;
        let t0 = c_transport(t0, "to_party0.send or .recv is NULL")?;
        let t1 = c_transport(t1, "to_party1.send or .recv is NULL")?;
        let watches = [
            Watch::new("the connection to party 0, `to_party0`"),
            Watch::new("the connection to party 1, `to_party1`"),
        ];
        let (t0, t1) = (watches[0].wrap(t0), watches[1].wrap(t1));
        let (s0, s1) = block_on(Dealer::new(Seed::from_bytes(bytes), t0, t1).serve())
            .map_err(|e| Failure::Core(e).on(failed_connection(&watches)))?;
        // SAFETY: NULL or writable (caller).
        if let Some(out) = unsafe { stats0.as_mut() } {
            *out = s0.into();
        }
        // SAFETY: NULL or writable (caller).
        if let Some(out) = unsafe { stats1.as_mut() } {
            *out = s1.into();
        }
        Ok(())
    })
}

// ----- the assistants of four servers -----

/// Runs assistant `party` (`FXS_ROLE_SA` or `FXS_ROLE_SB`) of a four-server session (PrivPy):
/// receives the seed of its own primary (Sa's is S1, Sb's is S2), sets up OT with the other
/// assistant over `to_other` (Sa garbles, Sb evaluates), reports ready to both primaries, then
/// serves their products and sign tests until both primaries close their connections (between
/// two requests). Blocks for the whole session. Writes the traffic over all three connections to
/// `*stats` (may be NULL). It has no configuration: ring and format come with the requests.
///
/// An assistant holds no shares and sees only re-randomized ones; it must not collude with any
/// other server. A primary that leaves while the other waits ends it with `FXS_STATUS_CLOSED`
/// (the message names the connection: ``(the connection to S1, `to_s1`)``, `to_s2` or
/// `to_other`); requests that differ between the primaries are a protocol error (400-499).
/// `party` other than `FXS_ROLE_SA` or `FXS_ROLE_SB` is `FXS_STATUS_INVALID_ARGUMENT`, before
/// anything is sent.
///
/// # Safety
/// The transports are NULL or readable, their `user_data` valid during the call; `seed` is NULL
/// or readable for 32 bytes (fresh entropy); `stats` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_assistant_serve(
    party: u32,
    to_s1: *const fxs_transport,
    to_s2: *const fxs_transport,
    to_other: *const fxs_transport,
    seed: *const u8,
    stats: *mut fxs_stats,
) -> fxs_status {
    run("fxs_assistant_serve", || {
        let me = match party {
            FXS_ROLE_SA | FXS_ROLE_SB => PartyId(party as u8),
            _ => return Err(Failure::invalid("party must be FXS_ROLE_SA or FXS_ROLE_SB")),
        };
        // SAFETY: NULL or readable (caller).
        let t1 = unsafe { to_s1.as_ref() }.ok_or(Failure::null("`to_s1` is NULL"))?;
        // SAFETY: NULL or readable (caller).
        let t2 = unsafe { to_s2.as_ref() }.ok_or(Failure::null("`to_s2` is NULL"))?;
        // SAFETY: NULL or readable (caller).
        let to = unsafe { to_other.as_ref() }.ok_or(Failure::null("`to_other` is NULL"))?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let seed = unsafe { slice(seed, 32, "`seed` is NULL") }?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(seed);
        let t1 = c_transport(t1, "to_s1.send or .recv is NULL")?;
        let t2 = c_transport(t2, "to_s2.send or .recv is NULL")?;
        let to = c_transport(to, "to_other.send or .recv is NULL")?;
        let watches = [
            Watch::new("the connection to S1, `to_s1`"),
            Watch::new("the connection to S2, `to_s2`"),
            Watch::new("the connection to the other assistant, `to_other`"),
        ];
        let (t1, t2, to) = (
            watches[0].wrap(t1),
            watches[1].wrap(t2),
            watches[2].wrap(to),
        );
        let s = block_on(CSession::serve_assistant(
            me,
            t1,
            t2,
            to,
            Seed::from_bytes(bytes),
        ))
        .map_err(|e| Failure::Core(e).on(failed_connection(&watches)))?;
        // SAFETY: NULL or writable (caller).
        if let Some(out) = unsafe { stats.as_mut() } {
            *out = s.into();
        }
        Ok(())
    })
}

// ----- data owners, server side -----

/// Creates a link to one data owner over `transport` (copied; its `user_data` must stay valid
/// until the link is freed). `max_frame` 0 means the default (64 MiB).
///
/// # Safety
/// `transport` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_link_new(
    transport: *const fxs_transport,
    max_frame: usize,
    out: *mut *mut fxs_link,
) -> fxs_status {
    run("fxs_link_new", || {
        // SAFETY: NULL or writable (caller).
        let out = out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or readable (caller).
        let t = unsafe { transport.as_ref() }.ok_or(Failure::null("`transport` is NULL"))?;
        let t = c_transport(t, "transport.send or transport.recv is NULL")?;
        let link = match max_frame {
            0 => OwnerLink::new(t),
            max => OwnerLink::with_max_frame(t, max),
        };
        *out = Box::into_raw(Box::new(fxs_link { link, failed: None }));
        Ok(())
    })
}

/// Frees a link. NULL is fine. The transport is not closed.
///
/// # Safety
/// `link` is NULL or a live link, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_link_free(link: *mut fxs_link) {
    if link.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in `fxs_link_new`, freed once (caller).
    let link = unsafe { Box::from_raw(link) };
    run_void(move || drop(link));
}

/// The link the caller passed (`None`: NULL), if it is usable.
pub(crate) fn link_mut(link: Option<&mut fxs_link>) -> Result<&mut fxs_link, Failure> {
    let link = link.ok_or(Failure::null("`link` is NULL"))?;
    match &link.failed {
        Some(e) if *e.kind() == ErrorKind::Busy => Err(Failure::Unusable),
        Some(e) => Err(Failure::Poisoned(e.clone())),
        None => Ok(link),
    }
}

/// Runs `f` on the link: a failure after anything was sent or received over it poisons the link
/// (not the party, whose own connections it does not touch), a panic leaves it unusable, an
/// error found before any I/O leaves it usable.
pub(crate) fn on_link<V>(
    link: &mut fxs_link,
    f: impl FnOnce(&mut OwnerLink<CTransport>) -> Result<V, Error>,
) -> Result<V, Failure> {
    let before = link.link.activity();
    link.failed = Some(Error::new("link", ErrorKind::Busy));
    let r = f(&mut link.link);
    link.failed = match &r {
        Err(e) if link.link.activity() != before => Some(e.clone()),
        _ => None,
    };
    Ok(r?)
}

/// Receives this server's shares of a `rows x cols` batch (row-major) that a data owner sent
/// with `fxs_data_owner_share` (of `rows * cols` values). Server 0 expands the seed it receives,
/// server 1 receives masked values. A failure after communicating poisons the link, not the
/// party.
///
/// # Safety
/// `party` is NULL or a live party; `link` is NULL or a live link; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_receive_owner_input(
    party: *mut fxs_party,
    link: *mut fxs_link,
    rows: usize,
    cols: usize,
    out: *mut *mut fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, link, out) = unsafe { (party.as_mut(), link.as_mut(), out.as_mut()) };
    with_party("fxs_party_receive_owner_input", party, |s| {
        let out = out_ptr(out)?;
        let link = link_mut(link)?;
        // The session allocates the batch before it receives: the size rule first.
        limits::elements("receive_owner_input", rows, cols, DEFAULT_MAX_ELEMENTS)?;
        let x = on_link(link, |l| block_on(s.receive_owner_input(l, rows, cols)))?;
        *out = boxed(x);
        Ok(())
    })
}

/// Sends this server's shares of `x` to a data owner, which reconstructs them with
/// `fxs_data_owner_reconstruct` (both servers send). A failure after communicating poisons the
/// link, not the party.
///
/// # Safety
/// `party` is NULL or a live party; `link` is NULL or a live link; `x` is NULL or live shares.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_party_send_owner_output(
    party: *mut fxs_party,
    link: *mut fxs_link,
    x: *const fxs_shares,
) -> fxs_status {
    // SAFETY: NULL or valid for the call (contract of this function).
    let (party, link, x) = unsafe { (party.as_mut(), link.as_mut(), x.as_ref()) };
    with_party("fxs_party_send_owner_output", party, |s| {
        let link = link_mut(link)?;
        let x = shares_ref(x, "`x` is NULL")?;
        on_link(link, |l| block_on(s.send_owner_output(l, x)))
    })
}
