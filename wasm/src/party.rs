//! [`Party`]: one of the two computing parties, a [`Session`] of the core, with [`Shares`].
//!
//! The session does the work: it derives the seeds, connects the offline source, checks that
//! shares belong to its ring, keeps the state machine (ready, busy, poisoned after a failure
//! that followed communication, closed) and flushes the links after every operation. This module
//! translates JS arguments and errors, and keeps the session out of its cell while an operation
//! runs, so that a second call made before the first settles rejects with the core's `Busy`
//! error instead of reaching it twice.

use crate::circuit::Circuit;
use crate::convert::{self, f64s};
use crate::entropy::fresh_seed;
use crate::error::{coded, core_error, invalid, message};
use crate::owner::OwnerLink;
use crate::transport::{JsTransport, method};
use fixshare::session::{
    AnyShares, Backend, Error, ErrorKind, Offline, OwnerLink as CoreLink, PiecewiseLinear, Pool2d,
    Reveal, Role, Session, SessionConfig, State, Topology, Truncation,
};
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use wasm_bindgen::prelude::*;

pub(crate) type CoreSession = Session<JsTransport>;

/// This party's share of a secret `rows x cols` matrix (row-major) in the ring of its session:
/// Z_2^32, Z_2^64 or Z_2^128 (`ringBits`).
///
/// Shares are uniformly random on their own; they are wiped from WASM memory when freed.
#[wasm_bindgen]
pub struct Shares(pub(crate) AnyShares);

#[wasm_bindgen]
impl Shares {
    /// Rows.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> u32 {
        self.0.shape().0 as u32
    }

    /// Columns.
    #[wasm_bindgen(getter)]
    pub fn cols(&self) -> u32 {
        self.0.shape().1 as u32
    }

    /// Number of elements.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        let (r, c) = self.0.shape();
        (r * c) as u32
    }

    /// The ring width in bits: 32, 64 or 128.
    #[wasm_bindgen(getter, js_name = ringBits)]
    pub fn ring_bits(&self) -> u32 {
        self.0.ring_bits()
    }

    /// The raw share values (ring elements) as 64-bit words, row-major: one word per element
    /// in Z_2^64 and Z_2^32 (zero-extended), two per element in Z_2^128 (low word first).
    #[wasm_bindgen(js_name = toBigUint64Array)]
    pub fn to_big_uint64_array(&self) -> Vec<u64> {
        self.0.to_words()
    }

    /// Shares from raw ring elements (for example received from elsewhere) laid out as
    /// `toBigUint64Array` writes them, in Z_2^`ringBits` (default 64).
    #[wasm_bindgen(js_name = fromRaw)]
    pub fn from_raw(
        rows: u32,
        cols: u32,
        raw: Vec<u64>,
        #[wasm_bindgen(js_name = ringBits)] ring_bits: Option<u32>,
    ) -> Result<Shares, JsError> {
        AnyShares::from_words(ring_bits.unwrap_or(64), rows as usize, cols as usize, &raw)
            .map(Shares)
            .map_err(|e| coded(&e.to_string(), e.kind()))
    }

    /// The same elements as a `rows x cols` matrix.
    pub fn reshape(&self, rows: u32, cols: u32) -> Result<Shares, JsError> {
        self.0
            .clone()
            .reshape(rows as usize, cols as usize)
            .map(Shares)
            .map_err(|e| coded(&e.to_string(), e.kind()))
    }

    /// The transpose.
    pub fn transpose(&self) -> Shares {
        Shares(self.0.transpose())
    }
}

/// One of the two share-holding parties of a session (P0 or P1; with four servers the
/// primaries S1 and S2).
///
/// Both parties call the same methods in the same order with operands of the same shapes; each
/// communicating method returns a Promise, and one operation must settle before the next starts
/// (a call made earlier rejects, and the pending one goes on). A call rejected for a bad argument
/// before anything was sent (a shape, a size, a shift, shares of another ring) leaves the party
/// usable; a failure after communicating poisons it: later calls reject, since the parties are
/// out of step.
#[wasm_bindgen]
pub struct Party {
    /// The session's settings (fixed for its life: readable while an operation runs).
    config: SessionConfig,
    /// The session; `None` while an operation has it.
    core: RefCell<Option<Box<CoreSession>>>,
    /// The transports the party uses (the peer's, and the dealer's or the helper's if any), to
    /// close them and to name them in errors.
    transports: Vec<JsTransport>,
}

/// The error of a failed operation, or `Ok`.
pub(crate) type Res<V> = Result<V, JsError>;

/// The session lent to one operation; it goes back into its cell when the lease ends, in
/// whatever state the session left itself (an operation abandoned half-way leaves it `Busy`).
pub(crate) struct Lease<'a> {
    cell: &'a RefCell<Option<Box<CoreSession>>>,
    session: Option<Box<CoreSession>>,
}

impl Deref for Lease<'_> {
    type Target = CoreSession;
    fn deref(&self) -> &CoreSession {
        self.session
            .as_deref()
            .expect("a lease holds the session until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut CoreSession {
        self.session
            .as_deref_mut()
            .expect("a lease holds the session until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            *self.cell.borrow_mut() = Some(s);
        }
    }
}

impl Party {
    /// Takes the session for operation `op`, or fails with the core's `Busy` if another one has
    /// it.
    pub(crate) fn lease(&self, op: &'static str) -> Res<Lease<'_>> {
        let session = self.core.borrow_mut().take();
        match session {
            Some(s) => Ok(Lease {
                cell: &self.core,
                session: Some(s),
            }),
            None => Err(self.error(None, &Error::new(op, ErrorKind::Busy), &[])),
        }
    }

    /// Runs `f` on the session if no operation has it (for the synchronous methods).
    pub(crate) fn with<V>(
        &self,
        op: &'static str,
        f: impl FnOnce(&CoreSession) -> Result<V, Error>,
    ) -> Res<V> {
        let core = self.core.borrow();
        let Some(s) = core.as_deref() else {
            return Err(self.error(None, &Error::new(op, ErrorKind::Busy), &[]));
        };
        f(s).map_err(|e| self.error(Some(s), &e, &[]))
    }

    /// The JS error for the core's `e`: its message, with the transports' reasons for an I/O
    /// failure (the party's and `extra`), what poisoned the session, or a hint for a concurrent
    /// call.
    pub(crate) fn error(
        &self,
        s: Option<&CoreSession>,
        e: &Error,
        extra: &[&JsTransport],
    ) -> JsError {
        if let ErrorKind::Busy = e.kind() {
            // The transports' reasons belong to the pending operation: leave them to it.
            return coded(&format!("{e} (await each call before the next)"), e.kind());
        }
        let transports: Vec<&JsTransport> = self
            .transports
            .iter()
            .chain(extra.iter().copied())
            .collect();
        let mut msg = message(e, &transports);
        if let (ErrorKind::Poisoned, Some(cause)) = (e.kind(), s.and_then(|s| s.failure())) {
            msg.push_str(&format!(" ({cause})"));
        }
        coded(&msg, e.kind())
    }

    /// The session settings and the peer transport from the JS arguments of a constructor.
    fn start(
        op: &'static str,
        role: u32,
        base: impl FnOnce(Role) -> SessionConfig,
        peer: JsValue,
        options: Option<js_sys::Object>,
    ) -> Res<(SessionConfig, JsTransport)> {
        let role = convert::role(op, role)?;
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        if method(&options, "send").is_some() && method(&options, "recv").is_some() {
            return Err(invalid(
                op,
                "options is a transport: the OT offline phase runs over the peer transport, \
                 call withOt(role, peer, options) without a second transport",
            ));
        }
        let config = convert::session_config(op, base(role), &options)?;
        if config.topology == Topology::FourServers {
            // The core's own refusals name its Rust types; these name the JS options.
            if config.backend == Backend::Fss {
                return Err(invalid(
                    op,
                    "four servers compare at their assistants, without keys: option backend \
                     must be \"auto\", \"helper\" or \"gc\"",
                ));
            }
            if config.truncation != Truncation::Local {
                return Err(invalid(
                    op,
                    "four servers divide by the scale inside their products: option truncation \
                     must be \"local\"",
                ));
            }
        }
        // The session checks its settings again when it connects; here the error comes before
        // the transports are touched, and names the constructor.
        config.check().map_err(|e| invalid(op, &e.to_string()))?;
        let peer = JsTransport::new("peer", peer).map_err(|e| invalid(op, &e))?;
        Ok((config, peer))
    }

    /// Connects primary S1 or S2 of a four-server session over `peer` and the assistants'
    /// connections, and wraps it.
    async fn connect_four(
        op: &'static str,
        config: SessionConfig,
        peer: JsTransport,
        sa: JsTransport,
        sb: JsTransport,
    ) -> Res<Party> {
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let transports = vec![peer.clone(), sa.clone(), sb.clone()];
        JsTransport::group(&transports.iter().collect::<Vec<_>>());
        let session = Session::connect_with_assistants(config, seed, peer, sa, sb)
            .await
            .map_err(|e| core_error(&e, &transports.iter().collect::<Vec<_>>()))?;
        Ok(Party {
            config,
            core: RefCell::new(Some(Box::new(session))),
            transports,
        })
    }

    /// Connects the session and wraps it.
    async fn connect(
        op: &'static str,
        config: SessionConfig,
        peer: JsTransport,
        dealer: Option<JsTransport>,
    ) -> Res<Party> {
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let transports: Vec<JsTransport> = [Some(peer.clone()), dealer.clone()]
            .into_iter()
            .flatten()
            .collect();
        JsTransport::group(&transports.iter().collect::<Vec<_>>());
        let session = Session::connect(config, seed, peer, dealer)
            .await
            .map_err(|e| core_error(&e, &transports.iter().collect::<Vec<_>>()))?;
        Ok(Party {
            config,
            core: RefCell::new(Some(Box::new(session))),
            transports,
        })
    }
}

/// Runs operation `$op` with the session `$s` leased, converting its error.
macro_rules! op {
    ($self:ident, $op:literal, |$s:ident| $call:expr) => {{
        let mut lease = $self.lease($op)?;
        let r = {
            let $s = &mut *lease;
            $call.await
        };
        r.map_err(|e| $self.error(Some(&lease), &e, &[]))
    }};
}
pub(crate) use op;

#[wasm_bindgen]
impl Party {
    /// Connects as party `role` (0 or 1) to the peer over `peer`, with correlated randomness
    /// from a dealer reached over `dealer` (see `Dealer.serve`). `options`:
    /// `{ ringBits?: 32 | 64 | 128, fracBits?: number (16), truncation?: "local" | "pairs" |
    /// "exact", backend?: "auto" | "gc" | "fss" | "helper", precisionGuard?: number, signBits?:
    /// number, maxFrame?: number }` (see `PartyOptions`), the same on both parties (`"helper"`
    /// needs `withHelper`). The party's seed comes from `crypto.getRandomValues`.
    #[wasm_bindgen(js_name = withDealer)]
    pub async fn with_dealer(
        role: u32,
        #[wasm_bindgen(unchecked_param_type = "Transport")] peer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] dealer: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PartyOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Res<Party> {
        let op = "Party.withDealer";
        let two = |role| SessionConfig::two_servers(role, Offline::Dealer);
        let (config, peer) = Party::start(op, role, two, peer, options)?;
        let dealer = JsTransport::new("dealer", dealer).map_err(|e| invalid(op, &e))?;
        Party::connect(op, config, peer, Some(dealer)).await
    }

    /// Connects as party `role` (0 or 1) of a three-server session (SecureNN) to the peer over
    /// `peer` and to the helper P2 over `helper`. The helper holds no shares: it runs
    /// `Dealer.serve` over its connections to the two parties, deals the correlated randomness
    /// and takes part online in SecureNN's protocols, which compute ReLU, DReLU, comparisons,
    /// max, argmax, max pooling (`maxPoolWithDerivative` too), `divide` and `reluSoftmax` on
    /// arithmetic shares (the backend `"auto"`, the default here, is `"helper"`). `options` as
    /// for `withDealer`; the backend `"helper"` needs this constructor.
    #[wasm_bindgen(js_name = withHelper)]
    pub async fn with_helper(
        role: u32,
        #[wasm_bindgen(unchecked_param_type = "Transport")] peer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] helper: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PartyOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Res<Party> {
        let op = "Party.withHelper";
        let (config, peer) = Party::start(op, role, SessionConfig::three_servers, peer, options)?;
        let helper = JsTransport::new("helper", helper).map_err(|e| invalid(op, &e))?;
        Party::connect(op, config, peer, Some(helper)).await
    }

    /// Connects as primary S1 (`role` 0) or S2 (`role` 1) of a four-server session (PrivPy) to
    /// the other primary over `peer` and to the assistants Sa and Sb over `toSa` and `toSb`
    /// (they run `new Assistant("Sa" | "Sb").serve(toS1, toS2, toOther)`). The assistants hold
    /// no shares: products need no triples (PrivPy's Protocol 1: the primaries hand each
    /// assistant re-randomized shares, one round trip), comparisons, ReLU, max and the rest run
    /// with Sa as SecureNN's helper (option `backend: "gc"`: as a garbled circuit between the
    /// assistants, PrivPy's Protocol 2). There is no dealer: the primaries run OT
    /// between them over `peer` for what they still compute together (exact truncation,
    /// circuits). Both primaries call this at the same time; it resolves once both assistants
    /// report ready.
    ///
    /// `options` as for `withDealer`, with PrivPy's defaults `ringBits: 128`, `fracBits: 32`;
    /// `backend` must stay `"auto"` and `truncation` `"local"` (the products divide by the
    /// scale themselves), refused before anything is sent otherwise. An assistant that leaves
    /// ends the primaries' pending call with `code: "closed"`, naming its transport
    /// (`"assistant Sa transport"`, `"assistant Sb transport"`).
    #[wasm_bindgen(js_name = withAssistants)]
    pub async fn with_assistants(
        role: u32,
        #[wasm_bindgen(unchecked_param_type = "Transport")] peer: JsValue,
        #[wasm_bindgen(js_name = toSa, unchecked_param_type = "Transport")] to_sa: JsValue,
        #[wasm_bindgen(js_name = toSb, unchecked_param_type = "Transport")] to_sb: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PartyOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Res<Party> {
        let op = "Party.withAssistants";
        if let Some(o) = &options
            && method(o, "send").is_some()
            && method(o, "recv").is_some()
        {
            return Err(invalid(
                op,
                "options is a transport: four servers take no dealer (the primaries run OT \
                 between them over the peer transport), call withAssistants(role, peer, toSa, \
                 toSb, options)",
            ));
        }
        let (config, peer) = Party::start(op, role, SessionConfig::four_servers, peer, options)?;
        let sa = JsTransport::new("assistant Sa", to_sa).map_err(|e| invalid(op, &e))?;
        let sb = JsTransport::new("assistant Sb", to_sb).map_err(|e| invalid(op, &e))?;
        Party::connect_four(op, config, peer, sa, sb).await
    }

    /// Connects as party `role` (0 or 1) to the peer over `peer`, generating correlated
    /// randomness with the peer by oblivious transfer (no third party). The OT offline phase runs
    /// over `peer` too, on a sub-channel of its own; the setup runs 256 base OTs with the peer.
    /// `options` as for `withDealer`.
    #[wasm_bindgen(js_name = withOt)]
    pub async fn with_ot(
        role: u32,
        #[wasm_bindgen(unchecked_param_type = "Transport")] peer: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PartyOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Res<Party> {
        let op = "Party.withOt";
        let two = |role| SessionConfig::two_servers(role, Offline::Ot);
        let (config, peer) = Party::start(op, role, two, peer, options)?;
        Party::connect(op, config, peer, None).await
    }

    /// This party's role: 0 or 1 (S1 or S2 with four servers).
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> u32 {
        self.config.party.index() as u32
    }

    /// The ring width of the session in bits: 32, 64 or 128.
    #[wasm_bindgen(getter, js_name = ringBits)]
    pub fn ring_bits(&self) -> u32 {
        self.config.ring_bits
    }

    /// Traffic so far: `{ bytesSent, bytesReceived, framesSent, rounds }` of the online phase with
    /// the peer (inputs, openings, products, garbled circuits), and `offlineBytesSent`,
    /// `offlineBytesReceived` of the offline phase (with the dealer or the helper, or OT with the
    /// peer; with three servers the online counters include the helper's online steps). Readable
    /// between operations, also after a failure or `close()`.
    #[wasm_bindgen(unchecked_return_type = "PartyStats")]
    pub fn stats(&self) -> Res<js_sys::Object> {
        self.with("stats", |s| {
            let on = s.online_stats();
            let off = s.offline_stats();
            Ok(convert::object(&[
                ("bytesSent", on.bytes_sent as f64),
                ("bytesReceived", on.bytes_received as f64),
                ("framesSent", on.frames_sent as f64),
                ("rounds", on.rounds as f64),
                ("offlineBytesSent", off.bytes_sent as f64),
                ("offlineBytesReceived", off.bytes_received as f64),
            ]))
        })
    }

    /// Secret-shares this party's own `values` (a `rows x cols` matrix, row-major; a
    /// `Float64Array` or an array of numbers) with the peer, which calls `receiveInput`.
    #[wasm_bindgen(js_name = shareInput)]
    pub async fn share_input(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] values: JsValue,
        rows: u32,
        cols: u32,
    ) -> Res<Shares> {
        let v = f64s("shareInput", "values", &values)?;
        convert::check_len("shareInput", "values", v.len(), rows, cols)?;
        op!(self, "share_input", |s| s.share_input(
            &v,
            rows as usize,
            cols as usize
        ))
        .map(Shares)
    }

    /// Receives this party's share of a `rows x cols` matrix the peer shares with `shareInput`.
    #[wasm_bindgen(js_name = receiveInput)]
    pub async fn receive_input(&self, rows: u32, cols: u32) -> Res<Shares> {
        convert::elements("receiveInput", rows.into(), cols.into())?;
        op!(self, "receive_input", |s| s
            .receive_input(rows as usize, cols as usize))
        .map(Shares)
    }

    /// Opens `x` to both parties and decodes it as fixed-point numbers (one round).
    pub async fn reveal(&self, x: &Shares) -> Res<Vec<f64>> {
        op!(self, "reveal", |s| s.reveal(&x.0))
    }

    /// Opens `x` to both parties as raw ring elements, laid out as `Shares.toBigUint64Array`
    /// (two words per element in Z_2^128).
    pub async fn open(&self, x: &Shares) -> Res<Vec<u64>> {
        op!(self, "open", |s| s.open(&x.0)).map(|v| v.to_words())
    }

    /// Opens `x` to party `to` only: it gets the values, the other party `undefined`.
    #[wasm_bindgen(js_name = revealTo)]
    pub async fn reveal_to(&self, x: &Shares, to: u32) -> Res<Option<Vec<f64>>> {
        let to = convert::role("revealTo", to)?;
        op!(self, "reveal_to", |s| s.reveal_to(&x.0, to))
    }

    /// `x + y` (local).
    pub fn add(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        self.with("add", |s| s.add(&x.0, &y.0)).map(Shares)
    }

    /// `x - y` (local).
    pub fn sub(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        self.with("sub", |s| s.sub(&x.0, &y.0)).map(Shares)
    }

    /// `-x` (local).
    pub fn neg(&self, x: &Shares) -> Res<Shares> {
        self.with("neg", |s| s.neg(&x.0)).map(Shares)
    }

    /// `x + c` for a public fixed-point constant `c` (local).
    #[wasm_bindgen(js_name = addPublic)]
    pub fn add_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        self.with("add_public", |s| s.add_public(&x.0, c))
            .map(Shares)
    }

    /// `x * c` for a public integer `c` (local, exact).
    #[wasm_bindgen(js_name = mulPublicInteger)]
    pub fn mul_public_integer(&self, x: &Shares, c: i32) -> Res<Shares> {
        self.with("mul_public_integer", |s| {
            s.mul_public_integer(&x.0, c.into())
        })
        .map(Shares)
    }

    /// `x * c` for a public fixed-point constant `c`, truncated.
    #[wasm_bindgen(js_name = mulPublic)]
    pub async fn mul_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        op!(self, "mul_public", |s| s.mul_public(&x.0, c)).map(Shares)
    }

    /// The fixed-point elementwise product `x * y` (Beaver triples, one round).
    pub async fn mul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "mul", |s| s.mul(&x.0, &y.0)).map(Shares)
    }

    /// The ring product `x * y`, elementwise, without truncation (integers).
    #[wasm_bindgen(js_name = mulInteger)]
    pub async fn mul_integer(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "mul_integer", |s| s.mul_integer(&x.0, &y.0)).map(Shares)
    }

    /// The fixed-point square `x * x`.
    pub async fn square(&self, x: &Shares) -> Res<Shares> {
        op!(self, "square", |s| s.square(&x.0)).map(Shares)
    }

    /// The fixed-point matrix product of `x` (m x k) and `y` (k x n), one round.
    pub async fn matmul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        convert::elements("matmul", x.0.shape().0 as u64, y.0.shape().1 as u64)?;
        op!(self, "matmul", |s| s.matmul(&x.0, &y.0)).map(Shares)
    }

    /// The fixed-point dot product of two vectors of equal length (a 1 x 1 result).
    pub async fn dot(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "dot", |s| s.dot(&x.0, &y.0)).map(Shares)
    }

    /// Divides by `2^bits` with the session's truncation method.
    pub async fn truncate(&self, x: &Shares, bits: u32) -> Res<Shares> {
        op!(self, "truncate", |s| s.truncate(&x.0, bits)).map(Shares)
    }

    /// `max(x, 0)` elementwise (a garbled circuit per batch).
    pub async fn relu(&self, x: &Shares) -> Res<Shares> {
        op!(self, "relu", |s| s.relu(&x.0)).map(Shares)
    }

    /// `[relu(x), drelu(x)]`: ReLU and its derivative (1.0 where `x >= 0`, else 0.0) together.
    #[wasm_bindgen(js_name = reluWithDerivative, unchecked_return_type = "[Shares, Shares]")]
    pub async fn relu_with_derivative(&self, x: &Shares) -> Res<js_sys::Array> {
        let (r, d) = op!(self, "relu_with_derivative", |s| s
            .relu_with_derivative(&x.0))?;
        Ok(pair(r, d))
    }

    /// 1.0 where `x >= 0`, else 0.0, elementwise.
    pub async fn drelu(&self, x: &Shares) -> Res<Shares> {
        op!(self, "drelu", |s| s.drelu(&x.0)).map(Shares)
    }

    /// 1.0 where `x < y`, else 0.0, elementwise.
    #[wasm_bindgen(js_name = lessThan)]
    pub async fn less_than(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "less_than", |s| s.less_than(&x.0, &y.0)).map(Shares)
    }

    /// SecureML's sigmoid: 0 below -1/2, `x + 1/2` between, 1 above 1/2.
    #[wasm_bindgen(js_name = sigmoidPiecewise)]
    pub async fn sigmoid_piecewise(&self, x: &Shares) -> Res<Shares> {
        op!(self, "sigmoid_piecewise", |s| s.sigmoid_piecewise(&x.0)).map(Shares)
    }

    /// The logistic sigmoid, piecewise-linear with many segments.
    pub async fn sigmoid(&self, x: &Shares) -> Res<Shares> {
        op!(self, "sigmoid", |s| s.sigmoid(&x.0)).map(Shares)
    }

    /// The piecewise-linear function through the points `(knots[i], values[i])` (knots strictly
    /// increasing; constant beyond the first and last), elementwise.
    #[wasm_bindgen(js_name = piecewiseLinear)]
    pub async fn piecewise_linear(
        &self,
        x: &Shares,
        knots: Vec<f64>,
        values: Vec<f64>,
    ) -> Res<Shares> {
        let op = "piecewiseLinear";
        if knots.len() != values.len() {
            return Err(invalid(
                op,
                &format!("{} knots but {} values", knots.len(), values.len()),
            ));
        }
        let at = |t: f64| {
            knots
                .iter()
                .position(|&k| k == t)
                .map_or(f64::NAN, |i| values[i])
        };
        let f = PiecewiseLinear::interpolate(&knots, at)
            .map_err(|e| coded(&e.to_string(), e.kind()))?;
        op!(self, "piecewise_linear", |s| s.piecewise_linear(&x.0, &f)).map(Shares)
    }

    /// The maximum of each row (`rows x 1`).
    pub async fn max(&self, x: &Shares) -> Res<Shares> {
        op!(self, "max", |s| s.max(&x.0)).map(Shares)
    }

    /// `[max, index]` of each row; the index as a fixed-point integer (0.0, 1.0, ...).
    #[wasm_bindgen(unchecked_return_type = "[Shares, Shares]")]
    pub async fn argmax(&self, x: &Shares) -> Res<js_sys::Array> {
        let (m, i) = op!(self, "argmax", |s| s.argmax(&x.0))?;
        Ok(pair(m, i))
    }

    /// SecureML's softmax replacement per row: `relu(x_i) / sum_j relu(x_j)`.
    #[wasm_bindgen(js_name = reluSoftmax)]
    pub async fn relu_softmax(&self, x: &Shares) -> Res<Shares> {
        op!(self, "relu_softmax", |s| s.relu_softmax(&x.0)).map(Shares)
    }

    /// Max pooling of images stored one per row (channel-major), with a square window.
    #[wasm_bindgen(js_name = maxPool)]
    pub async fn max_pool(
        &self,
        x: &Shares,
        channels: u32,
        height: u32,
        width: u32,
        window: u32,
        stride: u32,
    ) -> Res<Shares> {
        let pool = pool2d("maxPool", x, [channels, height, width, window, stride])?;
        op!(self, "max_pool", |s| s.max_pool(&x.0, pool)).map(Shares)
    }

    /// `[max, mask]`: max pooling as `maxPool` computes it, and its derivative, a mask shaped like
    /// `x` with 1.0 at each window's maximum (its first position on ties) and 0.0 elsewhere,
    /// summed where windows overlap (what back-propagation through the pooling multiplies the
    /// gradient by).
    #[wasm_bindgen(js_name = maxPoolWithDerivative, unchecked_return_type = "[Shares, Shares]")]
    pub async fn max_pool_with_derivative(
        &self,
        x: &Shares,
        channels: u32,
        height: u32,
        width: u32,
        window: u32,
        stride: u32,
    ) -> Res<js_sys::Array> {
        let op = "maxPoolWithDerivative";
        let pool = pool2d(op, x, [channels, height, width, window, stride])?;
        let (m, mask) = op!(self, "max_pool_with_derivative", |s| s
            .max_pool_with_derivative(&x.0, pool))?;
        Ok(pair(m, mask))
    }

    /// `x / y` elementwise for `0 <= x <= y` (SecureNN's division): exactly
    /// `floor(x * 2^fracBits / y)` in fixed point, so 1.0 where `x == y`, by `fracBits + 1`
    /// steps of one comparison and one product. `y` must be positive and below a quarter of the
    /// ring; outside `0 <= x <= y` the result is not meaningful. Any backend.
    pub async fn divide(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "divide", |s| s.divide(&x.0, &y.0)).map(Shares)
    }

    /// Divides by `2^bits` exactly (floor), inside a garbled circuit.
    #[wasm_bindgen(js_name = truncateExact)]
    pub async fn truncate_exact(&self, x: &Shares, bits: u32) -> Res<Shares> {
        op!(self, "truncate_exact", |s| s.truncate_exact(&x.0, bits)).map(Shares)
    }

    /// XOR-shared bits (this party's shares, 0/1, e.g. from `runCircuit(.., "shared")`) as
    /// arithmetic shares of the integers 0 or 1 (a column vector).
    #[wasm_bindgen(js_name = bitsToArithmetic)]
    pub async fn bits_to_arithmetic(&self, bits: Vec<u8>) -> Res<Shares> {
        let b = convert::bits("bitsToArithmetic", "bits", &bits)?;
        op!(self, "bits_to_arithmetic", |s| s.bits_to_arithmetic(&b)).map(Shares)
    }

    /// Receives this party's shares of a `rows x cols` batch a data owner sends with
    /// `DataOwner.share` over `link`.
    #[wasm_bindgen(js_name = receiveOwnerInput)]
    pub async fn receive_owner_input(&self, link: &OwnerLink, rows: u32, cols: u32) -> Res<Shares> {
        let op = "receive_owner_input";
        convert::elements("receiveOwnerInput", rows.into(), cols.into())?;
        let mut lease = self.lease(op)?;
        let mut l = link.take("receiveOwnerInput")?;
        let r = lease
            .receive_owner_input(&mut l, rows as usize, cols as usize)
            .await;
        self.owner_done(&lease, link, l, r).map(Shares)
    }

    /// Sends this party's shares of `x` to a data owner over `link` (`DataOwner.reconstruct`).
    #[wasm_bindgen(js_name = sendOwnerOutput)]
    pub async fn send_owner_output(&self, link: &OwnerLink, x: &Shares) -> Res<()> {
        let mut lease = self.lease("send_owner_output")?;
        let mut l = link.take("sendOwnerOutput")?;
        let r = lease.send_owner_output(&mut l, &x.0).await;
        self.owner_done(&lease, link, l, r)
    }

    /// Runs a boolean circuit with the peer: party 0 garbles, party 1 evaluates.
    ///
    /// `owners[i]` (0 or 1) is the party that supplies input value `i` of the circuit; `inputs`
    /// are this party's input bits (0/1), its own values in order, each least significant bit
    /// first. `reveal`: `"both"`, `"garbler"`, `"evaluator"` or `"shared"` (each party gets its
    /// XOR share of every output bit). Resolves to the output bits this party learns (empty if
    /// none). The evaluator's input labels travel by random OT from the correlation source.
    #[wasm_bindgen(js_name = runCircuit)]
    pub async fn run_circuit(
        &self,
        circuit: &Circuit,
        owners: Vec<u8>,
        inputs: Vec<u8>,
        #[wasm_bindgen(
            unchecked_param_type = "\"both\" | \"garbler\" | \"evaluator\" | \"shared\""
        )]
        reveal: String,
    ) -> Res<Vec<u8>> {
        let op = "runCircuit";
        let reveal = match reveal.as_str() {
            "both" => Reveal::Both,
            "garbler" => Reveal::Garbler,
            "evaluator" => Reveal::Evaluator,
            "shared" => Reveal::Shared,
            _ => {
                return Err(invalid(
                    op,
                    "reveal must be \"both\", \"garbler\", \"evaluator\" or \"shared\"",
                ));
            }
        };
        let owners = owners
            .iter()
            .enumerate()
            .map(|(i, &o)| match o {
                0 => Ok(Role::P0),
                1 => Ok(Role::P1),
                _ => Err(invalid(op, &format!("owners[{i}] is {o}, not 0 or 1"))),
            })
            .collect::<Res<Vec<Role>>>()?;
        let inputs = convert::bits(op, "inputs", &inputs)?;
        let circuit = circuit.inner();
        let r = op!(self, "run_circuit", |s| s
            .run_circuit(&circuit, &owners, &inputs, reveal))?;
        Ok(r.into_iter().map(u8::from).collect())
    }

    /// Ends the session: later calls reject, and the peer and dealer transports are closed
    /// (their `close()` called; the peer's pending calls then end). Rejects only while another
    /// operation is pending; closing again does nothing.
    pub async fn close(&self) -> Res<()> {
        {
            let mut s = self.lease("close")?;
            if matches!(s.state(), State::Closed) {
                return Ok(());
            }
            s.close();
        }
        for t in &self.transports {
            t.close().await;
        }
        Ok(())
    }
}

impl Party {
    /// Completes an operation over an owner link: gives the link back (failed if the session
    /// was poisoned by it) and converts the error, with the link transport's reason.
    fn owner_done<V>(
        &self,
        s: &CoreSession,
        link: &OwnerLink,
        l: CoreLink<JsTransport>,
        r: Result<V, Error>,
    ) -> Res<V> {
        // The link is out of step if this operation poisoned the session.
        let failure = match &r {
            Err(e) if s.failure() == Some(e) => Some(e.to_string()),
            _ => None,
        };
        link.give_back(l, failure);
        r.map_err(|e| self.error(Some(s), &e, &[link.transport()]))
    }
}

/// The pooling window `[channels, height, width, window, stride]` over `x`, its windows within
/// the maximum of elements per operation before anything is allocated (a bad window is the
/// session's error to report).
fn pool2d(
    op: &str,
    x: &Shares,
    [channels, height, width, window, stride]: [u32; 5],
) -> Res<Pool2d> {
    let pool = Pool2d {
        channels: channels as usize,
        height: height as usize,
        width: width as usize,
        window: window as usize,
        stride: stride as usize,
    };
    if let Ok((out_h, out_w)) = pool.output_size() {
        // Each factor on its own too, so that a zero elsewhere hides no overflow.
        let outs = convert::elements(op, out_h as u64, out_w as u64)?;
        let cells = convert::elements(op, window.into(), window.into())?;
        let per_row = u64::from(channels)
            .saturating_mul(outs as u64)
            .saturating_mul(cells as u64);
        convert::elements(op, (x.0.shape().0 as u64).max(1), per_row)?;
    }
    Ok(pool)
}

/// Two results as a JS array `[a, b]`.
fn pair(a: AnyShares, b: AnyShares) -> js_sys::Array {
    js_sys::Array::of2(&Shares(a).into(), &Shares(b).into())
}
