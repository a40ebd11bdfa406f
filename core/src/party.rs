//! [`Party`]: one of the two share-holding servers, typed by its ring, with every operation a
//! user calls guarded by the context's state machine. For hosts that choose the ring at run time
//! see [`crate::Session`]; for protocols of your own, the module functions over
//! [`Party::context_mut`] and [`Party::run`].
//!
//! ```
//! # #[cfg(not(feature = "std"))] fn main() {}
//! # #[cfg(feature = "std")] fn main() -> Result<(), fixshare::Error> {
//! use fixshare::{Config, Dealer, DealerClient, Party, Role, Seed, duplex, block_on_thread};
//!
//! // Three threads: the dealer and the two parties, joined by in-memory transports.
//! let (p0_peer, p1_peer) = duplex();
//! let (d0, p0_dealer) = duplex();
//! let (d1, p1_dealer) = duplex();
//! let dealer = std::thread::spawn(move || {
//!     block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), d0, d1).serve())
//! });
//! let party = |role, peer, dealer, seed| {
//!     std::thread::spawn(move || {
//!         block_on_thread(async move {
//!             let source = DealerClient::connect(role, dealer).await?;
//!             let mut p: Party<_, _> = Party::new(role, peer, source, Seed::from_bytes(seed), Config::default());
//!             // Party 0 owns x, party 1 owns y.
//!             let x = if role == Role::P0 { p.share_input(&[1.5, -2.0], 2, 1).await? } else { p.receive_input(2, 1).await? };
//!             let y = if role == Role::P1 { p.share_input(&[4.0, 0.25], 2, 1).await? } else { p.receive_input(2, 1).await? };
//!             let z = p.mul(&x, &y).await?;
//!             p.reveal(&z).await
//!         })
//!     })
//! };
//! let a = party(Role::P0, p0_peer, p0_dealer, [1; 32]);
//! let b = party(Role::P1, p1_peer, p1_dealer, [2; 32]);
//! let (za, zb) = (a.join().unwrap()?, b.join().unwrap()?);
//! assert_eq!(za, [6.0, -0.5]);
//! assert_eq!(za, zb);
//! dealer.join().unwrap()?;
//! # Ok(())
//! # }
//! ```

use crate::arith::online;
use crate::context::{Config, Context, State};
use crate::correlated::Correlations;
use crate::error::Error;
use crate::gc::{Circuit, Reveal};
use crate::ml;
use crate::ml::pipeline::{self, Progress};
use crate::nonlinear::{self, PiecewiseLinear, Pool2d};
use crate::prg::Seed;
use crate::ring::Ring;
pub use crate::role::Role;
use crate::share::Shares;
use crate::transport::{Link, Stats, Transport};
use alloc::vec::Vec;

/// One of the two share-holding parties (P0 or P1) of a session, over ring `R` (default
/// Z_2^64).
///
/// Every operation that communicates must be called by both parties in the same order with
/// operands of the same shapes. An operation that fails before anything is sent (a bad shape, a
/// value out of range) returns its error and leaves the party usable; one that fails after
/// communicating poisons it: every later call fails with [`crate::ErrorKind::Poisoned`], because
/// the two parties can no longer be in step.
pub struct Party<T, C, R: Ring = u64> {
    role: Role,
    ctx: Context<T, C>,
    _ring: core::marker::PhantomData<R>,
}

impl<T: Transport, C: Correlations<T>, R: Ring> Party<T, C, R> {
    /// A session as `role`, talking to the other party over `peer` (one connection: the online
    /// phase, the OT offline phase and garbled circuits share it), consuming correlated randomness
    /// from `correlations`, with this party's secret `seed` (host entropy).
    ///
    /// `config` is not checked here (this constructor cannot fail): build it with
    /// [`Config::new`], or use [`Party::from_context`], to refuse a configuration that does not
    /// fit ring `R` at once; otherwise inputs, products and truncations refuse it before
    /// sending anything.
    pub fn new(role: Role, peer: T, correlations: C, seed: Seed, config: Config) -> Self {
        let link = Link::with_max_frame(peer, config.max_frame);
        Party::on_link(role, link, correlations, seed, config)
    }

    /// [`Party::new`] over a link already in use (for example by [`crate::OtCorrelations::setup`]).
    pub fn on_link(role: Role, peer: Link<T>, correlations: C, seed: Seed, config: Config) -> Self {
        Party {
            role,
            ctx: Context::two_party(role, peer, correlations, seed, config),
            _ring: core::marker::PhantomData,
        }
    }

    /// A party over any context whose party holds shares (P0 or P1 of any topology); fails for a
    /// helper or an assistant, and for a configuration that does not fit ring `R`
    /// ([`Config::check`]: for example more fractional bits than the ring width minus 2).
    pub fn from_context(ctx: Context<T, C>) -> Result<Self, Error> {
        ctx.config().check(R::BITS)?;
        Ok(Party {
            role: ctx.role()?,
            ctx,
            _ring: core::marker::PhantomData,
        })
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session settings.
    pub fn config(&self) -> &Config {
        self.ctx.config()
    }

    /// Traffic with the peers so far: every sub-channel of every link (the OT offline phase
    /// included, a dealer's connection not).
    pub fn stats(&self) -> Stats {
        self.ctx.stats()
    }

    /// The online traffic with the peer: inputs, openings, products and garbled circuits.
    pub fn online_stats(&self) -> Stats {
        self.ctx.online_stats()
    }

    /// Traffic of the offline phase: OT with the peer, or the dealer's connection.
    pub fn offline_stats(&self) -> Stats {
        self.ctx.offline_stats()
    }

    /// The correlation source.
    pub fn correlations(&self) -> &C {
        self.ctx.source()
    }

    /// The context, for protocols of your own (unguarded: prefer [`Party::run`]).
    pub fn context_mut(&mut self) -> &mut Context<T, C> {
        &mut self.ctx
    }

    /// Ends the session, giving back the context.
    pub fn into_context(self) -> Context<T, C> {
        self.ctx
    }

    /// The error that poisoned this session, if any.
    pub fn failure(&self) -> Option<&Error> {
        self.ctx.failure()
    }

    /// The state of the session: ready, busy, poisoned or closed.
    pub fn state(&self) -> &State {
        self.ctx.state()
    }

    /// Closes the session: later operations fail with [`crate::ErrorKind::SessionClosed`].
    pub fn close(&mut self) {
        self.ctx.close()
    }

    /// Runs protocol steps of your own (module functions of the context) as one guarded
    /// operation named `op`.
    pub async fn run<V>(
        &mut self,
        op: &'static str,
        f: impl AsyncFnOnce(&mut Context<T, C>) -> Result<V, Error>,
    ) -> Result<V, Error> {
        self.ctx.guarded(op, f).await
    }

    // ----- inputs and outputs -----

    /// Secret-shares this party's own values (a `rows x cols` matrix, row-major) with the peer,
    /// which calls [`Party::receive_input`]; see [`online::share_input`].
    pub async fn share_input(
        &mut self,
        values: &[f64],
        rows: usize,
        cols: usize,
    ) -> Result<Shares<R>, Error> {
        self.run("share_input", async |c| {
            online::share_input(c, values, rows, cols).await
        })
        .await
    }

    /// Receives this party's share of a `rows x cols` matrix the peer shares.
    pub async fn receive_input(&mut self, rows: usize, cols: usize) -> Result<Shares<R>, Error> {
        self.run("receive_input", async |c| {
            online::receive_input(c, rows, cols).await
        })
        .await
    }

    /// Opens shared values to both parties as ring elements (one round).
    pub async fn open(&mut self, x: &Shares<R>) -> Result<Vec<R>, Error> {
        self.run("open", async |c| online::open(c, x).await).await
    }

    /// Opens shared values to both parties and decodes them as fixed-point numbers (one round).
    pub async fn reveal(&mut self, x: &Shares<R>) -> Result<Vec<f64>, Error> {
        self.run("reveal", async |c| online::reveal(c, x).await)
            .await
    }

    /// Opens shared values to `to` only: `to` gets `Some(values)`, the other party `None`.
    pub async fn reveal_to(&mut self, x: &Shares<R>, to: Role) -> Result<Option<Vec<f64>>, Error> {
        self.run("reveal_to", async |c| online::reveal_to(c, x, to).await)
            .await
    }

    // ----- local operations (no communication) -----

    /// `x + y`.
    pub fn add(&self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        x.add(y)
    }

    /// `x - y`.
    pub fn sub(&self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        x.sub(y)
    }

    /// `-x`.
    pub fn neg(&self, x: &Shares<R>) -> Shares<R> {
        x.neg()
    }

    /// `x + c` for a public fixed-point constant `c`.
    pub fn add_public(&self, x: &Shares<R>, c: f64) -> Result<Shares<R>, Error> {
        online::add_constant(&self.ctx, x, c)
    }

    /// `x * c` for a public integer `c`: exact, no truncation.
    pub fn mul_public_integer(&self, x: &Shares<R>, c: i64) -> Shares<R> {
        x.mul_integer(c)
    }

    /// `x * c` for a public fixed-point constant `c`, truncated as configured.
    pub async fn mul_public(&mut self, x: &Shares<R>, c: f64) -> Result<Shares<R>, Error> {
        self.run("mul_public", async |ctx| {
            online::mul_public(ctx, x, c).await
        })
        .await
    }

    // ----- products -----

    /// The fixed-point elementwise product `x * y` (Beaver triples, then truncation): one round.
    pub async fn mul(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("mul", async |c| online::mul(c, x, y).await).await
    }

    /// The ring elementwise product `x * y` without truncation: exact.
    pub async fn mul_integer(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("mul_integer", async |c| online::mul_integer(c, x, y).await)
            .await
    }

    /// The fixed-point square `x * x` (square pairs, then truncation): one round.
    pub async fn square(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("square", async |c| online::square(c, x).await)
            .await
    }

    /// The fixed-point matrix product `x y` (`m x k` by `k x n`) with one matrix triple: one
    /// round, `m k + k n` ring elements per party, then truncation.
    pub async fn matmul(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("matmul", async |c| online::matmul(c, x, y).await)
            .await
    }

    /// The ring matrix product `x y` without truncation: exact.
    pub async fn matmul_integer(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.run("matmul_integer", async |c| {
            online::matmul_integer(c, x, y).await
        })
        .await
    }

    /// The fixed-point dot product of two vectors of equal length, as a 1 x 1 share.
    pub async fn dot(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("dot", async |c| online::dot(c, x, y).await).await
    }

    /// Divides shared values by `2^bits` with the configured method (see
    /// [`crate::Truncation`]).
    pub async fn truncate(&mut self, x: &Shares<R>, bits: u32) -> Result<Shares<R>, Error> {
        self.run("truncate", async |c| {
            online::truncate(c, x.clone(), bits).await
        })
        .await
    }

    /// Fresh uniformly random ring elements from this party's own stream (for masks in protocols
    /// built on top of the session).
    pub fn random_ring(&mut self, n: usize) -> Vec<R> {
        online::random_ring(&mut self.ctx, n)
    }

    // ----- the non-linear layer (see [`crate::nonlinear`]) -----

    /// `max(x, 0)` elementwise.
    pub async fn relu(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("relu", async |c| nonlinear::relu(c, x).await)
            .await
    }

    /// `max(x, 0)` and its derivative (1.0 where `x >= 0`, else 0.0) elementwise, in one round
    /// trip.
    pub async fn relu_with_derivative(
        &mut self,
        x: &Shares<R>,
    ) -> Result<(Shares<R>, Shares<R>), Error> {
        self.run("relu_with_derivative", async |c| {
            nonlinear::relu_with_derivative(c, x).await
        })
        .await
    }

    /// The sign test DReLU: 1.0 where `x >= 0`, else 0.0, elementwise.
    pub async fn drelu(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("drelu", async |c| nonlinear::drelu(c, x).await)
            .await
    }

    /// The comparison `x < y`: 1.0 where it holds, else 0.0, elementwise.
    pub async fn less_than(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("less_than", async |c| nonlinear::less_than(c, x, y).await)
            .await
    }

    /// The equality test `x == y`: 1.0 where it holds, else 0.0, elementwise.
    pub async fn equal(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("equal", async |c| nonlinear::equal(c, x, y).await)
            .await
    }

    /// SecureML's piecewise sigmoid: 0 below -1/2, `x + 1/2` between, 1 above 1/2, elementwise.
    pub async fn sigmoid_piecewise(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("sigmoid_piecewise", async |c| {
            nonlinear::sigmoid_piecewise(c, x).await
        })
        .await
    }

    /// The logistic function by [`PiecewiseLinear::sigmoid`] (error below 0.003 plus one ulp).
    pub async fn sigmoid(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("sigmoid", async |c| nonlinear::sigmoid(c, x).await)
            .await
    }

    /// Any [`PiecewiseLinear`] function, elementwise.
    pub async fn piecewise_linear(
        &mut self,
        x: &Shares<R>,
        f: &PiecewiseLinear,
    ) -> Result<Shares<R>, Error> {
        self.run("piecewise_linear", async |c| {
            nonlinear::piecewise_linear(c, x, f).await
        })
        .await
    }

    /// `floor(x / 2^bits)` exactly (MiniONN's truncation in a garbled circuit).
    pub async fn truncate_exact(&mut self, x: &Shares<R>, bits: u32) -> Result<Shares<R>, Error> {
        self.run("truncate_exact", async |c| {
            nonlinear::truncate_exact(c, x, bits).await
        })
        .await
    }

    /// The largest value of each row: a `rows x 1` result.
    pub async fn max(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("max", async |c| nonlinear::max(c, x).await).await
    }

    /// The largest value of each row and its column index (the first one on ties).
    pub async fn argmax(&mut self, x: &Shares<R>) -> Result<(Shares<R>, Shares<R>), Error> {
        self.run("argmax", async |c| nonlinear::argmax(c, x).await)
            .await
    }

    /// SecureML's softmax replacement per row: `relu(x_i) / sum_j relu(x_j)`.
    pub async fn relu_softmax(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("relu_softmax", async |c| {
            nonlinear::relu_softmax(c, x).await
        })
        .await
    }

    /// Max pooling over images stored one per row.
    pub async fn max_pool(&mut self, x: &Shares<R>, pool: Pool2d) -> Result<Shares<R>, Error> {
        self.run("max_pool", async |c| nonlinear::max_pool(c, x, pool).await)
            .await
    }

    /// Max pooling and the mask of each window's maximum (see
    /// [`nonlinear::max_pool_with_derivative`]).
    pub async fn max_pool_with_derivative(
        &mut self,
        x: &Shares<R>,
        pool: Pool2d,
    ) -> Result<(Shares<R>, Shares<R>), Error> {
        self.run("max_pool_with_derivative", async |c| {
            nonlinear::max_pool_with_derivative(c, x, pool).await
        })
        .await
    }

    /// `x / y` for `0 <= x <= y` (see [`nonlinear::divide`]).
    pub async fn divide(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("divide", async |c| nonlinear::divide(c, x, y).await)
            .await
    }

    /// Runs any circuit with the peer: P0 garbles, P1 evaluates (see
    /// [`nonlinear::run_circuit`]).
    pub async fn run_circuit(
        &mut self,
        circuit: &Circuit,
        owners: &[Role],
        inputs: &[bool],
        reveal: Reveal,
    ) -> Result<Vec<bool>, Error> {
        self.run("run_circuit", async |c| {
            nonlinear::run_circuit(c, circuit, owners, inputs, reveal).await
        })
        .await
    }

    /// Converts XOR-shared bits into arithmetic shares of the same bits as integers 0 or 1.
    pub async fn bits_to_arithmetic(&mut self, bits: &[bool]) -> Result<Shares<R>, Error> {
        self.run("bits_to_arithmetic", async |c| {
            nonlinear::bits_to_arithmetic(c, bits).await
        })
        .await
    }

    // ----- the numerical library (see [`crate::numeric`]) -----

    /// `1 / x` for `x` in the default [`crate::numeric::Octaves`]; see
    /// [`crate::numeric::reciprocal`].
    pub async fn reciprocal(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("reciprocal", async |c| {
            crate::numeric::reciprocal(c, x).await
        })
        .await
    }

    /// `1 / x` for `x` in `[2^lo, 2^hi]`; see [`crate::numeric::reciprocal_in`].
    pub async fn reciprocal_in(
        &mut self,
        x: &Shares<R>,
        octaves: crate::numeric::Octaves,
    ) -> Result<Shares<R>, Error> {
        self.run("reciprocal", async |c| {
            crate::numeric::reciprocal_in(c, x, octaves).await
        })
        .await
    }

    /// `x / y` for `y` in the default [`crate::numeric::Octaves`] (Newton–Raphson; see
    /// [`crate::numeric::div`]).
    pub async fn div(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("div", async |c| crate::numeric::div(c, x, y).await)
            .await
    }

    /// `x / y` for `y` in `[2^lo, 2^hi]`; see [`crate::numeric::div_in`].
    pub async fn div_in(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
        octaves: crate::numeric::Octaves,
    ) -> Result<Shares<R>, Error> {
        self.run("div", async |c| {
            crate::numeric::div_in(c, x, y, octaves).await
        })
        .await
    }

    /// `e^x` for `x` in [`crate::numeric::exp_range`]; see [`crate::numeric::exp`].
    pub async fn exp(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("exp", async |c| crate::numeric::exp(c, x).await)
            .await
    }

    /// `ln x` for `x` in the default [`crate::numeric::Octaves`]; see [`crate::numeric::log`].
    pub async fn log(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("log", async |c| crate::numeric::log(c, x).await)
            .await
    }

    /// `ln x` for `x` in `[2^lo, 2^hi]`; see [`crate::numeric::log_in`].
    pub async fn log_in(
        &mut self,
        x: &Shares<R>,
        octaves: crate::numeric::Octaves,
    ) -> Result<Shares<R>, Error> {
        self.run("log", async |c| crate::numeric::log_in(c, x, octaves).await)
            .await
    }

    /// `sqrt(x)` for `x` in the default [`crate::numeric::Octaves`]; see [`crate::numeric::sqrt`].
    pub async fn sqrt(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("sqrt", async |c| crate::numeric::sqrt(c, x).await)
            .await
    }

    /// `sqrt(x)` for `x` in `[2^lo, 2^hi]`; see [`crate::numeric::sqrt_in`].
    pub async fn sqrt_in(
        &mut self,
        x: &Shares<R>,
        octaves: crate::numeric::Octaves,
    ) -> Result<Shares<R>, Error> {
        self.run("sqrt", async |c| {
            crate::numeric::sqrt_in(c, x, octaves).await
        })
        .await
    }

    /// `1 / sqrt(x)` for `x` in the default [`crate::numeric::Octaves`]; see
    /// [`crate::numeric::inv_sqrt`].
    pub async fn inv_sqrt(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("inv_sqrt", async |c| crate::numeric::inv_sqrt(c, x).await)
            .await
    }

    /// `1 / sqrt(x)` for `x` in `[2^lo, 2^hi]`; see [`crate::numeric::inv_sqrt_in`].
    pub async fn inv_sqrt_in(
        &mut self,
        x: &Shares<R>,
        octaves: crate::numeric::Octaves,
    ) -> Result<Shares<R>, Error> {
        self.run("inv_sqrt", async |c| {
            crate::numeric::inv_sqrt_in(c, x, octaves).await
        })
        .await
    }

    /// The logistic function `1 / (1 + e^-x)` by `exp` and a reciprocal, for every `x`; see
    /// [`crate::numeric::logistic`].
    pub async fn logistic(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("logistic", async |c| crate::numeric::logistic(c, x).await)
            .await
    }

    /// The logistic function by PrivPy's Euler method in `steps` steps; see
    /// [`crate::numeric::logistic_euler`].
    pub async fn logistic_euler(&mut self, x: &Shares<R>, steps: u32) -> Result<Shares<R>, Error> {
        self.run("logistic_euler", async |c| {
            crate::numeric::logistic_euler(c, x, steps).await
        })
        .await
    }

    /// `tanh x` for every `x`; see [`crate::numeric::tanh`].
    pub async fn tanh(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.run("tanh", async |c| crate::numeric::tanh(c, x).await)
            .await
    }

    /// `x` where the shared bit `c` is 1.0, `y` where it is 0.0 (exact); see
    /// [`crate::numeric::select`].
    pub async fn select(
        &mut self,
        c: &Shares<R>,
        x: &Shares<R>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.run("select", async |ctx| {
            crate::numeric::select(ctx, c, x, y).await
        })
        .await
    }

    /// The smallest value along `axis`; see [`crate::numeric::min`].
    pub async fn min(
        &mut self,
        x: &Shares<R>,
        axis: crate::numeric::Axis,
    ) -> Result<Shares<R>, Error> {
        self.run("min", async |c| crate::numeric::min(c, x, axis).await)
            .await
    }

    /// The smallest value along `axis` and its index; see [`crate::numeric::argmin`].
    pub async fn argmin(
        &mut self,
        x: &Shares<R>,
        axis: crate::numeric::Axis,
    ) -> Result<(Shares<R>, Shares<R>), Error> {
        self.run("argmin", async |c| crate::numeric::argmin(c, x, axis).await)
            .await
    }

    /// The sum along `axis` (local, exact); see [`crate::numeric::sum`].
    pub fn sum(&self, x: &Shares<R>, axis: crate::numeric::Axis) -> Result<Shares<R>, Error> {
        self.ctx.check("sum")?;
        crate::numeric::sum(x, axis)
    }

    /// The mean along `axis` (within 2 ulp); see [`crate::numeric::mean`].
    pub async fn mean(
        &mut self,
        x: &Shares<R>,
        axis: crate::numeric::Axis,
    ) -> Result<Shares<R>, Error> {
        self.run("mean", async |c| crate::numeric::mean(c, x, axis).await)
            .await
    }

    /// The population variance along `axis`; see [`crate::numeric::variance`].
    pub async fn variance(
        &mut self,
        x: &Shares<R>,
        axis: crate::numeric::Axis,
    ) -> Result<Shares<R>, Error> {
        self.run("variance", async |c| {
            crate::numeric::variance(c, x, axis).await
        })
        .await
    }

    /// `x op v` with a row vector, column vector or scalar `v` broadcast to `x`'s shape; see
    /// [`crate::numeric::broadcast`].
    pub async fn broadcast(
        &mut self,
        x: &Shares<R>,
        v: &Shares<R>,
        op: crate::numeric::Broadcast,
    ) -> Result<Shares<R>, Error> {
        self.run("broadcast", async |c| {
            crate::numeric::broadcast(c, x, v, op).await
        })
        .await
    }

    // ----- machine learning (see [`crate::ml`]) -----

    /// Trains a linear or logistic regression by SGD on shared `x` (`n x d`) and `y` (`n x 1`),
    /// reporting each epoch to `on_progress`; see [`ml::train_glm`].
    pub async fn train_glm(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
        model: ml::GlmModel,
        params: &ml::SgdParams,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Shares<R>, Error> {
        self.run("train_glm", async |c| {
            pipeline::train_glm_with_progress(c, x, y, model, params, on_progress).await
        })
        .await
    }

    /// Trains any sequential network on shares by back-propagation, reporting each epoch to
    /// `on_progress` (see [`crate::ml::train::train_network`]): `x` the inputs, `y` one-hot
    /// targets, `weights` the public initial weights. Returns the shared trained weights, one
    /// matrix per dense or convolution layer.
    #[allow(clippy::too_many_arguments)]
    pub async fn train_network(
        &mut self,
        net: &crate::ml::inference::Network,
        x: &Shares<R>,
        y: &Shares<R>,
        weights: &[Vec<f64>],
        params: &ml::SgdParams,
        loss: ml::MlpLoss,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Vec<Shares<R>>, Error> {
        self.run("train_network", async |c| {
            pipeline::train_network_with_progress(c, net, x, y, weights, params, loss, on_progress)
                .await
        })
        .await
    }

    /// Trains a multilayer perceptron from public initial weights, reporting each epoch to
    /// `on_progress`; see [`ml::nn::train_mlp`].
    pub async fn train_mlp(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
        init: &ml::plain::Mlp,
        params: &ml::MlpParams,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Vec<Shares<R>>, Error> {
        self.run("train_mlp", async |c| {
            pipeline::train_mlp_with_progress(c, x, y, init, params, on_progress).await
        })
        .await
    }

    /// MiniONN oblivious inference: this party's share of the network's output; see
    /// [`ml::inference::forward`].
    pub async fn forward(
        &mut self,
        net: &ml::inference::Network,
        model_owner: Role,
        weights: Option<&[Vec<f64>]>,
        input: Option<&[f64]>,
        rows: usize,
    ) -> Result<Shares<R>, Error> {
        self.run("forward", async |c| {
            ml::inference::forward(c, net, model_owner, weights, input, rows).await
        })
        .await
    }

    /// MiniONN oblivious classification: the client gets `Some(classes)`; see
    /// [`ml::inference::classify`].
    pub async fn classify(
        &mut self,
        net: &ml::inference::Network,
        model_owner: Role,
        weights: Option<&[Vec<f64>]>,
        input: Option<&[f64]>,
        rows: usize,
    ) -> Result<Option<Vec<usize>>, Error> {
        self.run("classify", async |c| {
            ml::inference::classify::<T, C, R>(c, net, model_owner, weights, input, rows).await
        })
        .await
    }
}
