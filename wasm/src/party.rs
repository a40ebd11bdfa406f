//! [`Party`]: one of the two computing parties, with [`Shares`] and the correlation sources.
//!
//! The party's life (ready, poisoned after a failure that happened after communicating, closed)
//! is the core's state machine ([`fixshare::State`]); this module only keeps the core party out
//! of its cell while an operation runs, so that a second call made before the first settles
//! rejects with the core's `Busy` error instead of reaching it twice.

use crate::circuit::Circuit;
use crate::convert::{self, f64s};
use crate::entropy::fresh_seed;
use crate::error::{core_error, invalid, message};
use crate::owner::OwnerLink;
use crate::transport::{JsTransport, method};
use fixshare::gc::Reveal;
use fixshare::nonlinear::Pool2d;
use fixshare::{
    DealerClient, Error, ErrorKind, Link, OfflineSource, OtCorrelations, Role, State, Sub,
};
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use wasm_bindgen::prelude::*;

/// Where a party's correlated randomness comes from: the [`crate::dealer::Dealer`] over a
/// connection of its own, or oblivious transfer with the peer over the peer connection.
pub(crate) type Source = OfflineSource<JsTransport>;

type CoreParty = fixshare::Party<JsTransport, Source>;

/// This party's share of a secret `rows x cols` matrix (row-major) in Z_2^64.
///
/// Shares are uniformly random on their own; they are wiped from WASM memory when freed.
#[wasm_bindgen]
pub struct Shares(pub(crate) fixshare::Shares<u64>);

#[wasm_bindgen]
impl Shares {
    /// Rows.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> u32 {
        self.0.rows() as u32
    }

    /// Columns.
    #[wasm_bindgen(getter)]
    pub fn cols(&self) -> u32 {
        self.0.cols() as u32
    }

    /// Number of elements.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.0.len() as u32
    }

    /// The raw share values (ring elements), row-major.
    #[wasm_bindgen(js_name = toBigUint64Array)]
    pub fn to_big_uint64_array(&self) -> Vec<u64> {
        self.0.as_slice().to_vec()
    }

    /// Shares from raw ring elements (for example received from elsewhere), row-major.
    #[wasm_bindgen(js_name = fromRaw)]
    pub fn from_raw(rows: u32, cols: u32, raw: Vec<u64>) -> Result<Shares, JsError> {
        convert::check_len("Shares.fromRaw", "raw", raw.len(), rows, cols)?;
        fixshare::Shares::matrix(rows as usize, cols as usize, raw)
            .map(Shares)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The same elements as a `rows x cols` matrix.
    pub fn reshape(&self, rows: u32, cols: u32) -> Result<Shares, JsError> {
        convert::check_len("reshape", "the shares", self.0.len(), rows, cols)?;
        self.0
            .clone()
            .reshape(rows as usize, cols as usize)
            .map(Shares)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The transpose.
    pub fn transpose(&self) -> Shares {
        Shares(self.0.transpose())
    }
}

/// One of the two computing parties of a session.
///
/// Both parties call the same methods in the same order with operands of the same shapes; each
/// communicating method returns a Promise, and one operation must settle before the next starts
/// (a call made earlier rejects, and the pending one goes on). A call rejected for a bad argument
/// before anything was sent (a shape, a size, a shift) leaves the party usable; a failure after
/// communicating poisons it: later calls reject, since the parties are out of step.
#[wasm_bindgen]
pub struct Party {
    role: Role,
    /// The core party; `None` while an operation has it.
    core: RefCell<Option<Box<CoreParty>>>,
    /// The transports the party uses (the peer's, and the dealer's if any), to close them and to
    /// name them in errors.
    transports: Vec<JsTransport>,
}

/// The error of a failed operation, or `Ok`.
type Res<V> = Result<V, JsError>;

/// The core party lent to one operation; it goes back into its cell when the lease ends, in
/// whatever state the core left it (an operation abandoned half-way leaves it `Busy`).
struct Lease<'a> {
    cell: &'a RefCell<Option<Box<CoreParty>>>,
    party: Option<Box<CoreParty>>,
}

impl Deref for Lease<'_> {
    type Target = CoreParty;
    fn deref(&self) -> &CoreParty {
        self.party
            .as_deref()
            .expect("a lease holds the party until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut CoreParty {
        self.party
            .as_deref_mut()
            .expect("a lease holds the party until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.party.take() {
            *self.cell.borrow_mut() = Some(p);
        }
    }
}

/// The core's error for a call made while another operation of the party is pending.
fn busy(op: &'static str) -> Error {
    Error::new(op, ErrorKind::Busy)
}

impl Party {
    fn wrap(role: Role, party: CoreParty, transports: Vec<JsTransport>) -> Party {
        Party {
            role,
            core: RefCell::new(Some(Box::new(party))),
            transports,
        }
    }

    /// Takes the core party for operation `op`, or fails with `Busy` if another one has it.
    fn lease(&self, op: &'static str) -> Res<Lease<'_>> {
        let party = self.core.borrow_mut().take();
        match party {
            Some(p) => Ok(Lease {
                cell: &self.core,
                party: Some(p),
            }),
            None => Err(self.error(None, &busy(op))),
        }
    }

    /// Runs `f` on the core party if no operation has it (for the synchronous methods).
    fn with<V>(&self, op: &'static str, f: impl FnOnce(&CoreParty) -> Result<V, Error>) -> Res<V> {
        let core = self.core.borrow();
        let Some(p) = core.as_deref() else {
            return Err(self.error(None, &busy(op)));
        };
        f(p).map_err(|e| self.error(Some(p), &e))
    }

    /// The JS error for the core's `e`: its message, with the transports' reasons for an I/O
    /// failure, what poisoned the party, or a hint for a concurrent call.
    fn error(&self, p: Option<&CoreParty>, e: &Error) -> JsError {
        if let ErrorKind::Busy = e.kind() {
            // The transports' reasons belong to the pending operation: leave them to it.
            return JsError::new(&format!("{e} (await each call before the next)"));
        }
        let transports: Vec<&JsTransport> = self.transports.iter().collect();
        let mut msg = message(e, &transports);
        if let (ErrorKind::Poisoned, Some(cause)) = (e.kind(), p.and_then(|p| p.failure())) {
            msg.push_str(&format!(" ({cause})"));
        }
        JsError::new(&msg)
    }

    /// Completes operation `op` whose core call returned `r`: on success pushes out what this
    /// side still holds for the peer, as a guarded step of its own (a failure there poisons the
    /// party like any failure after communicating), and converts the error.
    async fn settle<V>(&self, p: &mut CoreParty, op: &'static str, r: Result<V, Error>) -> Res<V> {
        let r = match r {
            Ok(v) => p
                .run(op, async |c| c.peer(Sub::Online)?.flush(op).await)
                .await
                .map(|()| v),
            Err(e) => Err(e),
        };
        r.map_err(|e| self.error(Some(p), &e))
    }

    /// The role, the session settings and the peer transport from the JS arguments of a
    /// constructor.
    fn start(
        op: &'static str,
        role: u32,
        peer: JsValue,
        options: Option<js_sys::Object>,
    ) -> Res<(Role, fixshare::Config, JsTransport)> {
        let role = convert::role(op, role)?;
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        if method(&options, "send").is_some() && method(&options, "recv").is_some() {
            return Err(invalid(
                op,
                "options is a transport: the OT offline phase runs over the peer transport, \
                 call withOt(role, peer, options) without a second transport",
            ));
        }
        let config = convert::config(op, &options)?;
        let peer = JsTransport::new("peer", peer).map_err(|e| invalid(op, &e))?;
        Ok((role, config, peer))
    }
}

/// Runs operation `$op` with the core party `$p` leased, then [`Party::settle`].
macro_rules! op {
    ($self:ident, $op:literal, |$p:ident| $call:expr) => {{
        let mut lease = $self.lease($op)?;
        let r = {
            let $p = &mut *lease;
            $call.await
        };
        $self.settle(&mut lease, $op, r).await
    }};
}

#[wasm_bindgen]
impl Party {
    /// Connects as party `role` (0 or 1) to the peer over `peer`, with correlated randomness
    /// from a dealer reached over `dealer` (see `Dealer.serve`). `options`:
    /// `{ fracBits?: number (16), truncation?: "local" | "pairs" | "exact", maxFrame?: number }`, the same
    /// on both parties. The party's own seed comes from `crypto.getRandomValues`.
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
        let (role, config, peer) = Party::start(op, role, peer, options)?;
        let dealer = JsTransport::new("dealer", dealer).map_err(|e| invalid(op, &e))?;
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let client = DealerClient::connect(role, dealer.clone())
            .await
            .map_err(|e| core_error(&e, &[&dealer]))?;
        let party = CoreParty::new(role, peer.clone(), Source::Dealer(client), seed, config);
        Ok(Party::wrap(role, party, vec![peer, dealer]))
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
        let (role, config, peer) = Party::start(op, role, peer, options)?;
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let ot_seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let mut link = Link::with_max_frame(peer.clone(), config.max_frame);
        let setup = async {
            let ot = OtCorrelations::setup(role, &mut link, ot_seed).await?;
            link.channel(Sub::Offline).flush(op).await?;
            Ok::<_, Error>(ot)
        };
        let ot = setup.await.map_err(|e| core_error(&e, &[&peer]))?;
        let party = CoreParty::on_link(role, link, Source::Ot(Box::new(ot)), seed, config);
        Ok(Party::wrap(role, party, vec![peer]))
    }

    /// This party's role: 0 or 1.
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> u32 {
        self.role.index() as u32
    }

    /// Traffic so far: `{ bytesSent, bytesReceived, framesSent, rounds }` of the online phase with
    /// the peer (inputs, openings, products, garbled circuits), and `offlineBytesSent`,
    /// `offlineBytesReceived` of the offline phase (with the dealer, or OT with the peer). Readable
    /// between operations, also after a failure or `close()`.
    #[wasm_bindgen(unchecked_return_type = "PartyStats")]
    pub fn stats(&self) -> Res<js_sys::Object> {
        self.with("stats", |p| {
            let on = p.online_stats();
            let off = p.offline_stats();
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
        op!(self, "share_input", |p| p.share_input(
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
        op!(self, "receive_input", |p| p
            .receive_input(rows as usize, cols as usize))
        .map(Shares)
    }

    /// Opens `x` to both parties and decodes it as fixed-point numbers (one round).
    pub async fn reveal(&self, x: &Shares) -> Res<Vec<f64>> {
        op!(self, "reveal", |p| p.reveal(&x.0))
    }

    /// Opens `x` to both parties as raw ring elements.
    pub async fn open(&self, x: &Shares) -> Res<Vec<u64>> {
        op!(self, "open", |p| p.open(&x.0))
    }

    /// Opens `x` to party `to` only: it gets the values, the other party `undefined`.
    #[wasm_bindgen(js_name = revealTo)]
    pub async fn reveal_to(&self, x: &Shares, to: u32) -> Res<Option<Vec<f64>>> {
        let to = convert::role("revealTo", to)?;
        op!(self, "reveal_to", |p| p.reveal_to(&x.0, to))
    }

    /// `x + y` (local).
    pub fn add(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        x.0.add(&y.0)
            .map(Shares)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// `x - y` (local).
    pub fn sub(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        x.0.sub(&y.0)
            .map(Shares)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// `-x` (local).
    pub fn neg(&self, x: &Shares) -> Shares {
        Shares(x.0.neg())
    }

    /// `x + c` for a public fixed-point constant `c` (local).
    #[wasm_bindgen(js_name = addPublic)]
    pub fn add_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        self.with("add_public", |p| p.add_public(&x.0, c))
            .map(Shares)
    }

    /// `x * c` for a public integer `c` (local, exact).
    #[wasm_bindgen(js_name = mulPublicInteger)]
    pub fn mul_public_integer(&self, x: &Shares, c: i32) -> Shares {
        Shares(x.0.mul_integer(c.into()))
    }

    /// `x * c` for a public fixed-point constant `c`, truncated.
    #[wasm_bindgen(js_name = mulPublic)]
    pub async fn mul_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        op!(self, "mul_public", |p| p.mul_public(&x.0, c)).map(Shares)
    }

    /// The fixed-point elementwise product `x * y` (Beaver triples, one round).
    pub async fn mul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "mul", |p| p.mul(&x.0, &y.0)).map(Shares)
    }

    /// The fixed-point square `x * x`.
    pub async fn square(&self, x: &Shares) -> Res<Shares> {
        op!(self, "square", |p| p.square(&x.0)).map(Shares)
    }

    /// The fixed-point matrix product of `x` (m x k) and `y` (k x n), one round.
    pub async fn matmul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        convert::elements("matmul", x.0.rows() as u64, y.0.cols() as u64)?;
        op!(self, "matmul", |p| p.matmul(&x.0, &y.0)).map(Shares)
    }

    /// The fixed-point dot product of two vectors of equal length (a 1 x 1 result).
    pub async fn dot(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "dot", |p| p.dot(&x.0, &y.0)).map(Shares)
    }

    /// Divides by `2^bits` with the session's truncation method.
    pub async fn truncate(&self, x: &Shares, bits: u32) -> Res<Shares> {
        op!(self, "truncate", |p| p.truncate(&x.0, bits)).map(Shares)
    }

    /// `max(x, 0)` elementwise (a garbled circuit per batch).
    pub async fn relu(&self, x: &Shares) -> Res<Shares> {
        op!(self, "relu", |p| p.relu(&x.0)).map(Shares)
    }

    /// `[relu(x), drelu(x)]`: ReLU and its derivative (1.0 where `x >= 0`, else 0.0) together.
    #[wasm_bindgen(js_name = reluWithDerivative, unchecked_return_type = "Promise<[Shares, Shares]>")]
    pub async fn relu_with_derivative(&self, x: &Shares) -> Res<js_sys::Array> {
        let (r, d) = op!(self, "relu_with_derivative", |p| p
            .relu_with_derivative(&x.0))?;
        Ok(pair(r, d))
    }

    /// 1.0 where `x >= 0`, else 0.0, elementwise.
    pub async fn drelu(&self, x: &Shares) -> Res<Shares> {
        op!(self, "drelu", |p| p.drelu(&x.0)).map(Shares)
    }

    /// 1.0 where `x < y`, else 0.0, elementwise.
    #[wasm_bindgen(js_name = lessThan)]
    pub async fn less_than(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "less_than", |p| p.less_than(&x.0, &y.0)).map(Shares)
    }

    /// SecureML's sigmoid: 0 below -1/2, `x + 1/2` between, 1 above 1/2.
    #[wasm_bindgen(js_name = sigmoidPiecewise)]
    pub async fn sigmoid_piecewise(&self, x: &Shares) -> Res<Shares> {
        op!(self, "sigmoid_piecewise", |p| p.sigmoid_piecewise(&x.0)).map(Shares)
    }

    /// The logistic sigmoid, piecewise-linear with many segments.
    pub async fn sigmoid(&self, x: &Shares) -> Res<Shares> {
        op!(self, "sigmoid", |p| p.sigmoid(&x.0)).map(Shares)
    }

    /// The maximum of each row (`rows x 1`).
    pub async fn max(&self, x: &Shares) -> Res<Shares> {
        op!(self, "max", |p| p.max(&x.0)).map(Shares)
    }

    /// `[max, index]` of each row; the index as a fixed-point integer (0.0, 1.0, ...).
    #[wasm_bindgen(unchecked_return_type = "Promise<[Shares, Shares]>")]
    pub async fn argmax(&self, x: &Shares) -> Res<js_sys::Array> {
        let (m, i) = op!(self, "argmax", |p| p.argmax(&x.0))?;
        Ok(pair(m, i))
    }

    /// SecureML's softmax replacement per row: `relu(x_i) / sum_j relu(x_j)`.
    #[wasm_bindgen(js_name = reluSoftmax)]
    pub async fn relu_softmax(&self, x: &Shares) -> Res<Shares> {
        op!(self, "relu_softmax", |p| p.relu_softmax(&x.0)).map(Shares)
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
        let pool = Pool2d {
            channels: channels as usize,
            height: height as usize,
            width: width as usize,
            window: window as usize,
            stride: stride as usize,
        };
        op!(self, "max_pool", |p| p.max_pool(&x.0, pool)).map(Shares)
    }

    /// Divides by `2^bits` exactly (floor), inside a garbled circuit.
    #[wasm_bindgen(js_name = truncateExact)]
    pub async fn truncate_exact(&self, x: &Shares, bits: u32) -> Res<Shares> {
        op!(self, "truncate_exact", |p| p.truncate_exact(&x.0, bits)).map(Shares)
    }

    /// XOR-shared bits (this party's shares, 0/1, e.g. from `runCircuit(.., "shared")`) as
    /// arithmetic shares of the integers 0 or 1 (a column vector).
    #[wasm_bindgen(js_name = bitsToArithmetic)]
    pub async fn bits_to_arithmetic(&self, bits: Vec<u8>) -> Res<Shares> {
        let b = convert::bits("bitsToArithmetic", "bits", &bits)?;
        op!(self, "bits_to_arithmetic", |p| p.bits_to_arithmetic(&b)).map(Shares)
    }

    /// Receives this party's shares of a `rows x cols` batch a data owner sends with
    /// `DataOwner.share` over `link`.
    #[wasm_bindgen(js_name = receiveOwnerInput)]
    pub async fn receive_owner_input(&self, link: &OwnerLink, rows: u32, cols: u32) -> Res<Shares> {
        let n = convert::elements("receiveOwnerInput", rows.into(), cols.into())?;
        let v = link.receive(self.role, n).await?;
        fixshare::Shares::matrix(rows as usize, cols as usize, v)
            .map(Shares)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Sends this party's shares of `x` to a data owner over `link` (`DataOwner.reconstruct`).
    #[wasm_bindgen(js_name = sendOwnerOutput)]
    pub async fn send_owner_output(&self, link: &OwnerLink, x: &Shares) -> Res<()> {
        link.send(x.0.as_slice()).await
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
        let r = op!(self, "run_circuit", |p| p
            .run_circuit(&circuit, &owners, &inputs, reveal))?;
        Ok(r.into_iter().map(u8::from).collect())
    }

    /// Ends the session: later calls reject, and the peer and dealer transports are closed
    /// (their `close()` called; the peer's pending calls then end). Rejects only while another
    /// operation is pending; closing again does nothing.
    pub async fn close(&self) -> Res<()> {
        {
            let mut p = self.lease("close")?;
            if matches!(p.context_mut().state(), State::Closed) {
                return Ok(());
            }
            p.context_mut().close();
        }
        for t in &self.transports {
            t.close().await;
        }
        Ok(())
    }
}

/// Two results as a JS array `[a, b]`.
fn pair(a: fixshare::Shares<u64>, b: fixshare::Shares<u64>) -> js_sys::Array {
    js_sys::Array::of2(&Shares(a).into(), &Shares(b).into())
}
