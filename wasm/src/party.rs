//! [`Party`]: one of the two computing parties, with [`Shares`] and the correlation sources.

use crate::circuit::Circuit;
use crate::convert::{self, f64s};
use crate::entropy::fresh_seed;
use crate::error::{core_error, invalid};
use crate::owner::OwnerLink;
use crate::transport::JsTransport;
use fixshare::gc::Reveal;
use fixshare::nonlinear::Pool2d;
use fixshare::{DealerClient, Error, OfflineSource, OtCorrelations, Role};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Where a party's correlated randomness comes from: the [`crate::dealer::Dealer`], or oblivious
/// transfer with the peer over a connection of its own.
pub(crate) type Source = OfflineSource<JsTransport>;

type CoreParty = fixshare::Party<JsTransport, Source>;

/// A running session: the core party and the JS transports it uses.
struct Session {
    party: CoreParty,
    peer: JsTransport,
    offline: JsTransport,
}

/// What a party's state is between operations.
enum Slot {
    Ready(Box<Session>),
    /// An operation has the session.
    Busy,
    /// An operation failed: the two parties are out of step.
    Failed(String),
    Closed,
}

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
/// communicating method returns a Promise, and one operation must settle before the next starts.
/// After any failure the session is poisoned: later calls reject, since the parties are out of
/// step.
#[wasm_bindgen]
pub struct Party {
    role: Role,
    slot: Rc<RefCell<Slot>>,
    /// The transports, to close them whatever state the session is in.
    transports: [JsTransport; 2],
}

/// The error of a failed operation, or `Ok`.
type Res<V> = Result<V, JsError>;

impl Party {
    fn take(&self, op: &str) -> Res<Box<Session>> {
        let mut slot = self.slot.borrow_mut();
        match std::mem::replace(&mut *slot, Slot::Busy) {
            Slot::Ready(s) => Ok(s),
            Slot::Busy => Err(invalid(
                op,
                "the party is busy with another operation (await each call before the next)",
            )),
            Slot::Failed(why) => {
                let e = invalid(
                    op,
                    &format!("the session failed earlier and is poisoned ({why})"),
                );
                *slot = Slot::Failed(why);
                Err(e)
            }
            Slot::Closed => {
                *slot = Slot::Closed;
                Err(invalid(op, "the party is closed"))
            }
        }
    }

    /// Pushes out what the operation sent, puts the session back (or poisons it) and converts
    /// the error.
    async fn finish<V>(&self, op: &'static str, s: Box<Session>, r: Result<V, Error>) -> Res<V> {
        let r = match r {
            Ok(v) => s
                .peer
                .push()
                .await
                .map(|()| v)
                .map_err(|e| Error::new(op, e.into())),
            Err(e) => Err(e),
        };
        match r {
            Ok(v) => {
                *self.slot.borrow_mut() = Slot::Ready(s);
                Ok(v)
            }
            Err(e) => {
                let js = core_error(&e, &[&s.peer, &s.offline]);
                *self.slot.borrow_mut() = Slot::Failed(e.to_string());
                Err(js)
            }
        }
    }

    fn new_party(role: Role, s: Session) -> Party {
        Party {
            role,
            transports: [s.peer.clone(), s.offline.clone()],
            slot: Rc::new(RefCell::new(Slot::Ready(Box::new(s)))),
        }
    }
}

/// Runs `$body` with the session `$s` taken, then [`Party::finish`].
macro_rules! session_op {
    ($self:ident, $op:literal, |$s:ident| $body:expr) => {{
        let mut $s = $self.take($op)?;
        let r = $body;
        $self.finish($op, $s, r).await
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
        let role = convert::role(op, role)?;
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let config = convert::config(op, &options)?;
        let peer = JsTransport::new("peer", peer).map_err(|e| invalid(op, &e))?;
        let offline = JsTransport::new("dealer", dealer).map_err(|e| invalid(op, &e))?;
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let client = DealerClient::connect(role, offline.clone())
            .await
            .map_err(|e| core_error(&e, &[&offline]))?;
        Ok(Party::new_party(
            role,
            Session {
                party: CoreParty::new(role, peer.clone(), Source::Dealer(client), seed, config),
                peer,
                offline,
            },
        ))
    }

    /// Connects as party `role` (0 or 1) to the peer over `peer`, generating correlated
    /// randomness with the peer by oblivious transfer over `ot`, a second connection to the
    /// peer reserved for it (no third party). The setup runs 256 base OTs with the peer.
    #[wasm_bindgen(js_name = withOt)]
    pub async fn with_ot(
        role: u32,
        #[wasm_bindgen(unchecked_param_type = "Transport")] peer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Transport")] ot: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PartyOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> Res<Party> {
        let op = "Party.withOt";
        let role = convert::role(op, role)?;
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let config = convert::config(op, &options)?;
        let peer = JsTransport::new("peer", peer).map_err(|e| invalid(op, &e))?;
        let offline = JsTransport::new("ot", ot).map_err(|e| invalid(op, &e))?;
        let seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let ot_seed = fresh_seed().map_err(|e| invalid(op, &e))?;
        let source = OtCorrelations::setup(role, offline.clone(), ot_seed)
            .await
            .map_err(|e| core_error(&e, &[&offline]))?;
        offline
            .push()
            .await
            .map_err(|e| core_error(&Error::new(op, e.into()), &[&offline]))?;
        Ok(Party::new_party(
            role,
            Session {
                party: CoreParty::new(
                    role,
                    peer.clone(),
                    Source::Ot(Box::new(source)),
                    seed,
                    config,
                ),
                peer,
                offline,
            },
        ))
    }

    /// This party's role: 0 or 1.
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> u32 {
        self.role.index() as u32
    }

    /// Traffic so far: `{ bytesSent, bytesReceived, framesSent, rounds }` with the peer, and
    /// `offlineBytesSent`, `offlineBytesReceived` with the dealer or on the OT connection.
    #[wasm_bindgen(unchecked_return_type = "PartyStats")]
    pub fn stats(&self) -> Res<js_sys::Object> {
        let slot = self.slot.borrow();
        let Slot::Ready(s) = &*slot else {
            return Err(invalid(
                "stats",
                "the party is busy, failed or closed; read stats between operations",
            ));
        };
        let p = s.party.stats();
        let o = s.party.correlations().stats();
        Ok(convert::object(&[
            ("bytesSent", p.bytes_sent as f64),
            ("bytesReceived", p.bytes_received as f64),
            ("framesSent", p.frames_sent as f64),
            ("rounds", p.rounds as f64),
            ("offlineBytesSent", o.bytes_sent as f64),
            ("offlineBytesReceived", o.bytes_received as f64),
        ]))
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
        session_op!(self, "share_input", |s| s
            .party
            .share_input(&v, rows as usize, cols as usize)
            .await)
        .map(Shares)
    }

    /// Receives this party's share of a `rows x cols` matrix the peer shares with `shareInput`.
    #[wasm_bindgen(js_name = receiveInput)]
    pub async fn receive_input(&self, rows: u32, cols: u32) -> Res<Shares> {
        convert::elements("receiveInput", rows.into(), cols.into())?;
        session_op!(self, "receive_input", |s| s
            .party
            .receive_input(rows as usize, cols as usize)
            .await)
        .map(Shares)
    }

    /// Opens `x` to both parties and decodes it as fixed-point numbers (one round).
    pub async fn reveal(&self, x: &Shares) -> Res<Vec<f64>> {
        session_op!(self, "reveal", |s| s.party.reveal(&x.0).await)
    }

    /// Opens `x` to both parties as raw ring elements.
    pub async fn open(&self, x: &Shares) -> Res<Vec<u64>> {
        session_op!(self, "open", |s| s.party.open(&x.0).await)
    }

    /// Opens `x` to party `to` only: it gets the values, the other party `undefined`.
    #[wasm_bindgen(js_name = revealTo)]
    pub async fn reveal_to(&self, x: &Shares, to: u32) -> Res<Option<Vec<f64>>> {
        let to = convert::role("revealTo", to)?;
        session_op!(self, "reveal_to", |s| s.party.reveal_to(&x.0, to).await)
    }

    /// `x + y` (local).
    pub fn add(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        local("add", x, y, u64::wrapping_add)
    }

    /// `x - y` (local).
    pub fn sub(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        local("sub", x, y, u64::wrapping_sub)
    }

    /// `-x` (local).
    pub fn neg(&self, x: &Shares) -> Shares {
        Shares(
            fixshare::Shares::matrix(
                x.0.rows(),
                x.0.cols(),
                x.0.as_slice().iter().map(|v| v.wrapping_neg()).collect(),
            )
            .unwrap_or_else(|_| fixshare::Shares::zeros(0, 0)),
        )
    }

    /// `x + c` for a public fixed-point constant `c` (local).
    #[wasm_bindgen(js_name = addPublic)]
    pub fn add_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        self.with_ready("addPublic", |p| p.add_public(&x.0, c))
            .map(Shares)
    }

    /// `x * c` for a public integer `c` (local, exact).
    #[wasm_bindgen(js_name = mulPublicInteger)]
    pub fn mul_public_integer(&self, x: &Shares, c: i32) -> Res<Shares> {
        self.with_ready("mulPublicInteger", |p| {
            Ok(p.mul_public_integer(&x.0, c as i64))
        })
        .map(Shares)
    }

    /// `x * c` for a public fixed-point constant `c`, truncated.
    #[wasm_bindgen(js_name = mulPublic)]
    pub async fn mul_public(&self, x: &Shares, c: f64) -> Res<Shares> {
        session_op!(self, "mul_public", |s| s.party.mul_public(&x.0, c).await).map(Shares)
    }

    /// The fixed-point elementwise product `x * y` (Beaver triples, one round).
    pub async fn mul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        session_op!(self, "mul", |s| s.party.mul(&x.0, &y.0).await).map(Shares)
    }

    /// The fixed-point square `x * x`.
    pub async fn square(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "square", |s| s.party.square(&x.0).await).map(Shares)
    }

    /// The fixed-point matrix product of `x` (m x k) and `y` (k x n), one round.
    pub async fn matmul(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        convert::elements("matmul", x.0.rows() as u64, y.0.cols() as u64)?;
        session_op!(self, "matmul", |s| s.party.matmul(&x.0, &y.0).await).map(Shares)
    }

    /// The fixed-point dot product of two vectors of equal length (a 1 x 1 result).
    pub async fn dot(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        session_op!(self, "dot", |s| s.party.dot(&x.0, &y.0).await).map(Shares)
    }

    /// Divides by `2^bits` with the session's truncation method.
    pub async fn truncate(&self, x: &Shares, bits: u32) -> Res<Shares> {
        session_op!(self, "truncate", |s| s.party.truncate(&x.0, bits).await).map(Shares)
    }

    /// `max(x, 0)` elementwise (a garbled circuit per batch).
    pub async fn relu(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "relu", |s| s.party.relu(&x.0).await).map(Shares)
    }

    /// `[relu(x), drelu(x)]`: ReLU and its derivative (1.0 where `x >= 0`, else 0.0) together.
    #[wasm_bindgen(js_name = reluWithDerivative, unchecked_return_type = "Promise<[Shares, Shares]>")]
    pub async fn relu_with_derivative(&self, x: &Shares) -> Res<js_sys::Array> {
        let (r, d) = session_op!(self, "relu_with_derivative", |s| s
            .party
            .relu_with_derivative(&x.0)
            .await)?;
        Ok(pair(r, d))
    }

    /// 1.0 where `x >= 0`, else 0.0, elementwise.
    pub async fn drelu(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "drelu", |s| s.party.drelu(&x.0).await).map(Shares)
    }

    /// 1.0 where `x < y`, else 0.0, elementwise.
    #[wasm_bindgen(js_name = lessThan)]
    pub async fn less_than(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        session_op!(self, "less_than", |s| s.party.less_than(&x.0, &y.0).await).map(Shares)
    }

    /// SecureML's sigmoid: 0 below -1/2, `x + 1/2` between, 1 above 1/2.
    #[wasm_bindgen(js_name = sigmoidPiecewise)]
    pub async fn sigmoid_piecewise(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "sigmoid_piecewise", |s| s
            .party
            .sigmoid_piecewise(&x.0)
            .await)
        .map(Shares)
    }

    /// The logistic sigmoid, piecewise-linear with many segments.
    pub async fn sigmoid(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "sigmoid", |s| s.party.sigmoid(&x.0).await).map(Shares)
    }

    /// The maximum of each row (`rows x 1`).
    pub async fn max(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "max", |s| s.party.max(&x.0).await).map(Shares)
    }

    /// `[max, index]` of each row; the index as a fixed-point integer (0.0, 1.0, ...).
    #[wasm_bindgen(unchecked_return_type = "Promise<[Shares, Shares]>")]
    pub async fn argmax(&self, x: &Shares) -> Res<js_sys::Array> {
        let (m, i) = session_op!(self, "argmax", |s| s.party.argmax(&x.0).await)?;
        Ok(pair(m, i))
    }

    /// SecureML's softmax replacement per row: `relu(x_i) / sum_j relu(x_j)`.
    #[wasm_bindgen(js_name = reluSoftmax)]
    pub async fn relu_softmax(&self, x: &Shares) -> Res<Shares> {
        session_op!(self, "relu_softmax", |s| s.party.relu_softmax(&x.0).await).map(Shares)
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
        session_op!(self, "max_pool", |s| s.party.max_pool(&x.0, pool).await).map(Shares)
    }

    /// Divides by `2^bits` exactly (floor), inside a garbled circuit.
    #[wasm_bindgen(js_name = truncateExact)]
    pub async fn truncate_exact(&self, x: &Shares, bits: u32) -> Res<Shares> {
        session_op!(self, "truncate_exact", |s| s
            .party
            .truncate_exact(&x.0, bits)
            .await)
        .map(Shares)
    }

    /// XOR-shared bits (this party's shares, 0/1, e.g. from `runCircuit(.., "shared")`) as
    /// arithmetic shares of the integers 0 or 1 (a column vector).
    #[wasm_bindgen(js_name = bitsToArithmetic)]
    pub async fn bits_to_arithmetic(&self, bits: Vec<u8>) -> Res<Shares> {
        let b = convert::bits("bitsToArithmetic", "bits", &bits)?;
        session_op!(self, "bits_to_arithmetic", |s| s
            .party
            .bits_to_arithmetic(&b)
            .await)
        .map(Shares)
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
        let r = session_op!(self, "run_circuit", |s| s
            .party
            .run_circuit(&circuit, &owners, &inputs, reveal)
            .await)?;
        Ok(r.into_iter().map(u8::from).collect())
    }

    /// Ends the session: closes the peer and dealer/OT transports (calling their `close()`).
    /// Rejects only while another operation is pending.
    pub async fn close(&self) -> Res<()> {
        let prev = std::mem::replace(&mut *self.slot.borrow_mut(), Slot::Closed);
        match prev {
            Slot::Busy => {
                *self.slot.borrow_mut() = Slot::Busy;
                Err(invalid(
                    "close",
                    "the party is busy with another operation (await it first)",
                ))
            }
            Slot::Closed => Ok(()),
            Slot::Ready(s) => {
                let _ = s.peer.push().await;
                drop(s);
                self.close_transports().await;
                Ok(())
            }
            Slot::Failed(_) => {
                self.close_transports().await;
                Ok(())
            }
        }
    }
}

impl Party {
    async fn close_transports(&self) {
        for t in &self.transports {
            t.close().await;
        }
    }

    /// Runs a local operation on the core party if the session is ready.
    fn with_ready<V>(&self, op: &str, f: impl FnOnce(&CoreParty) -> Result<V, Error>) -> Res<V> {
        let slot = self.slot.borrow();
        match &*slot {
            Slot::Ready(s) => f(&s.party).map_err(|e| JsError::new(&e.to_string())),
            _ => Err(invalid(op, "the party is busy, failed or closed")),
        }
    }
}

/// Two results as a JS array `[a, b]`.
fn pair(a: fixshare::Shares<u64>, b: fixshare::Shares<u64>) -> js_sys::Array {
    js_sys::Array::of2(&Shares(a).into(), &Shares(b).into())
}

/// A local elementwise operation on two shares of the same shape.
fn local(op: &str, x: &Shares, y: &Shares, f: impl Fn(u64, u64) -> u64) -> Res<Shares> {
    if x.0.shape() != y.0.shape() {
        return Err(invalid(
            op,
            &format!(
                "the operands are {}x{} and {}x{}; they must have the same shape",
                x.0.rows(),
                x.0.cols(),
                y.0.rows(),
                y.0.cols()
            ),
        ));
    }
    let v =
        x.0.as_slice()
            .iter()
            .zip(y.0.as_slice())
            .map(|(&a, &b)| f(a, b))
            .collect();
    fixshare::Shares::matrix(x.0.rows(), x.0.cols(), v)
        .map(Shares)
        .map_err(|e| JsError::new(&e.to_string()))
}
