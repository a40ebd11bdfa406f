//! A party's session: its role, the connection to its peer, its correlation source, its own
//! randomness and the number format, with the operations a user calls.
//!
//! ```
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
//! # Ok::<(), fixshare::Error>(())
//! ```

use crate::arith::{self, beaver, matmul, truncation};
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
pub use crate::role::Role;
use crate::share::Shares;
use crate::transport::{Channel, DEFAULT_MAX_FRAME, Stats, Transport, tag};
use alloc::vec;
use alloc::vec::Vec;

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
    /// MiniONN's exact truncation in a garbled circuit ([`Party::truncate_exact`]): exactly
    /// `floor(x / 2^f)`, at 126 AND gates per value (Z_2^64) and one round trip.
    Exact,
}

/// Session settings both parties must agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation method after products.
    pub truncation: Truncation,
    /// Maximum frame payload in bytes accepted from or sent to the peer.
    pub max_frame: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fixed: FixedPoint::default(),
            truncation: Truncation::Local,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

/// One of the two computing parties of a session, over ring `R` (default Z_2^64).
///
/// Every operation that communicates must be called by both parties in the same order with
/// operands of the same shapes. After any error the session is poisoned: every later call fails
/// with [`ErrorKind::Poisoned`], because the two parties can no longer be in step.
///
/// Protocols in other modules of this crate extend `Party` with `impl` blocks of their own, using
/// `check` before and `record` after each communicating step, so that poisoning holds for them too.
pub struct Party<T, C, R: Ring = u64> {
    pub(crate) role: Role,
    pub(crate) peer: Channel<T>,
    pub(crate) correlations: C,
    seed: Seed,
    streams_used: u64,
    pub(crate) config: Config,
    failed: Option<Error>,
    _ring: core::marker::PhantomData<R>,
}

impl<T: Transport, C: Correlations, R: Ring> Party<T, C, R> {
    /// A session as `role`, talking to the other party over `peer`, consuming correlated
    /// randomness from `correlations`, with this party's secret `seed` (host entropy).
    pub fn new(role: Role, peer: T, correlations: C, seed: Seed, config: Config) -> Self {
        Party {
            role,
            peer: Channel::with_max_frame(peer, config.max_frame),
            correlations,
            seed,
            streams_used: 0,
            config,
            failed: None,
            _ring: core::marker::PhantomData,
        }
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Traffic with the peer so far.
    pub fn stats(&self) -> Stats {
        self.peer.stats()
    }

    /// The correlation source (for example to read the dealer traffic).
    pub fn correlations(&self) -> &C {
        &self.correlations
    }

    /// The correlation source, mutable: for example to prefetch correlations with
    /// [`crate::Preprocessed`] before the online phase.
    pub fn correlations_mut(&mut self) -> &mut C {
        &mut self.correlations
    }

    /// Ends the session, giving back the peer transport and the correlation source.
    pub fn into_parts(self) -> (T, C) {
        (self.peer.into_inner(), self.correlations)
    }

    /// The error that poisoned this session, if any.
    pub fn failure(&self) -> Option<&Error> {
        self.failed.as_ref()
    }

    /// Fails with [`ErrorKind::Poisoned`] if an earlier operation failed.
    pub(crate) fn check(&self, op: &'static str) -> Result<(), Error> {
        match self.failed {
            Some(_) => Err(Error::new(op, ErrorKind::Poisoned)),
            None => Ok(()),
        }
    }

    /// Poisons the session if `r` is an error, and passes `r` on.
    pub(crate) fn record<V>(&mut self, r: Result<V, Error>) -> Result<V, Error> {
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    // ----- inputs and outputs -----

    /// Secret-shares this party's own values (a `rows x cols` matrix, row-major) with the peer,
    /// which calls [`Party::receive_input`]. The peer receives only a 32-byte seed from which its
    /// share expands; this party keeps `x - share`. Fails before sending if a value is out of range.
    pub async fn share_input(
        &mut self,
        values: &[f64],
        rows: usize,
        cols: usize,
    ) -> Result<Shares<R>, Error> {
        self.check("share_input")?;
        let mut encoded = vec![R::ZERO; values.len()];
        self.config
            .fixed
            .encode_slice(values, &mut encoded)
            .map_err(|e| e.in_op("share_input"))?;
        let x = Shares::matrix(rows, cols, encoded).map_err(|e| e.in_op("share_input"))?;
        let r = self.share_ring_input(x).await;
        self.record(r)
    }

    pub(crate) async fn share_ring_input(&mut self, mut x: Shares<R>) -> Result<Shares<R>, Error> {
        let seed = self.seed.derive(Domain::INPUT_SHARING, self.streams_used);
        self.streams_used += 1;
        self.peer
            .send_frame("share_input", tag::INPUT, seed.as_bytes())
            .await?;
        let mut prg = Prg::new(seed);
        for v in x.as_mut_slice() {
            *v = v.sub(R::random(&mut prg));
        }
        Ok(x)
    }

    /// Receives this party's share of a `rows x cols` matrix that the peer shares with
    /// [`Party::share_input`].
    pub async fn receive_input(&mut self, rows: usize, cols: usize) -> Result<Shares<R>, Error> {
        self.check("receive_input")?;
        let r = self.receive_input_inner(rows, cols).await;
        self.record(r)
    }

    pub(crate) async fn receive_input_inner(
        &mut self,
        rows: usize,
        cols: usize,
    ) -> Result<Shares<R>, Error> {
        let n =
            rows.checked_mul(cols)
                .ok_or(Error::dimension("receive_input", usize::MAX, rows))?;
        let mut seed = [0u8; 32];
        self.peer
            .recv_frame("receive_input", tag::INPUT, &mut seed)
            .await?;
        let mut prg = Prg::new(Seed::from_bytes(seed));
        let mut share = vec![R::ZERO; n];
        for v in &mut share {
            *v = R::random(&mut prg);
        }
        Shares::matrix(rows, cols, share)
    }

    /// Opens shared values to both parties as ring elements (one round).
    pub async fn open(&mut self, x: &Shares<R>) -> Result<Vec<R>, Error> {
        self.check("open")?;
        let r = self.open_slice("open", tag::OPEN, x.as_slice()).await;
        self.record(r)
    }

    /// Opens shared values to both parties and decodes them as fixed-point numbers (one round).
    pub async fn reveal(&mut self, x: &Shares<R>) -> Result<Vec<f64>, Error> {
        let v = self.open(x).await?;
        Ok(v.into_iter().map(|v| self.config.fixed.decode(v)).collect())
    }

    /// Opens shared values to `to` only: `to` gets `Some(values)`, the other party `None`.
    pub async fn reveal_to(&mut self, x: &Shares<R>, to: Role) -> Result<Option<Vec<f64>>, Error> {
        self.check("reveal_to")?;
        let r = self.reveal_to_inner(x, to).await;
        self.record(r)
    }

    async fn reveal_to_inner(
        &mut self,
        x: &Shares<R>,
        to: Role,
    ) -> Result<Option<Vec<f64>>, Error> {
        if to != self.role {
            self.peer
                .send_ring("reveal_to", tag::REVEAL_TO, x.as_slice())
                .await?;
            self.peer.flush("reveal_to").await?;
            return Ok(None);
        }
        let mut theirs = vec![R::ZERO; x.len()];
        self.peer
            .recv_ring("reveal_to", tag::REVEAL_TO, &mut theirs)
            .await?;
        let fixed = self.config.fixed;
        Ok(Some(
            x.as_slice()
                .iter()
                .zip(&theirs)
                .map(|(&a, &b)| fixed.decode(a.add(b)))
                .collect(),
        ))
    }

    /// Exchanges shares and returns their sum: the opened values.
    pub(crate) async fn open_slice(
        &mut self,
        op: &'static str,
        tag: u16,
        mine: &[R],
    ) -> Result<Vec<R>, Error> {
        let mut theirs = vec![R::ZERO; mine.len()];
        self.peer.exchange_ring(op, tag, mine, &mut theirs).await?;
        for (t, &m) in theirs.iter_mut().zip(mine) {
            *t = t.add(m);
        }
        Ok(theirs)
    }

    // ----- local operations (no communication) -----

    /// `x + y`.
    pub fn add(&self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        x.zip_with(y, "add", R::add)
    }

    /// `x - y`.
    pub fn sub(&self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        x.zip_with(y, "sub", R::sub)
    }

    /// `-x`.
    pub fn neg(&self, x: &Shares<R>) -> Shares<R> {
        x.map(R::neg)
    }

    /// `x + c` for a public fixed-point constant `c`.
    pub fn add_public(&self, x: &Shares<R>, c: f64) -> Result<Shares<R>, Error> {
        let c: R = self
            .config
            .fixed
            .encode(c)
            .map_err(|e| e.in_op("add_public"))?;
        let role = self.role;
        Ok(x.map(|v| arith::add_public(role, v, c)))
    }

    /// `x * c` for a public integer `c`: exact, no truncation.
    pub fn mul_public_integer(&self, x: &Shares<R>, c: i64) -> Shares<R> {
        let c = R::from_i128(c as i128);
        x.map(|v| v.mul(c))
    }

    /// `x * c` for a public fixed-point constant `c`, truncated as configured.
    pub async fn mul_public(&mut self, x: &Shares<R>, c: f64) -> Result<Shares<R>, Error> {
        self.check("mul_public")?;
        let c: R = self
            .config
            .fixed
            .encode(c)
            .map_err(|e| e.in_op("mul_public"))?;
        let product = x.map(|v| v.mul(c));
        let r = self
            .truncate_inner(product, self.config.fixed.frac_bits())
            .await;
        self.record(r)
    }

    // ----- products -----

    /// The fixed-point elementwise product `x * y` (Beaver triples, then truncation): one round.
    pub async fn mul(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.check("mul")?;
        let r = self.mul_inner(x, y, true).await;
        self.record(r)
    }

    /// The ring elementwise product `x * y` without truncation: exact.
    pub async fn mul_integer(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.check("mul_integer")?;
        let r = self.mul_inner(x, y, false).await;
        self.record(r)
    }

    pub(crate) async fn mul_inner(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
        truncate: bool,
    ) -> Result<Shares<R>, Error> {
        x.check_same_shape(y, "mul")?;
        let t = self.correlations.triples::<R>(x.len()).await?;
        let masked = beaver::mask(x.as_slice(), y.as_slice(), &t);
        let opened = self.open_slice("mul", tag::BEAVER, &masked).await?;
        let (role, local) = (self.role, self.local_truncation(truncate));
        let z = beaver::combine(role, &opened, &t, |z| {
            local.map_or(z, |d| truncation::local(role, z, d))
        });
        self.finish_product(Shares::matrix(x.rows(), x.cols(), z)?, truncate, local)
            .await
    }

    /// The fixed-point square `x * x` (square pairs, then truncation): one round, one ring
    /// element per value per party.
    pub async fn square(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        self.check("square")?;
        let r = self.square_inner(x).await;
        self.record(r)
    }

    async fn square_inner(&mut self, x: &Shares<R>) -> Result<Shares<R>, Error> {
        let p = self.correlations.square_pairs::<R>(x.len()).await?;
        let masked = beaver::mask_square(x.as_slice(), &p);
        let opened = self.open_slice("square", tag::SQUARE, &masked).await?;
        let (role, local) = (self.role, self.local_truncation(true));
        let z = beaver::combine_square(role, &opened, &p, |z| {
            local.map_or(z, |d| truncation::local(role, z, d))
        });
        self.finish_product(Shares::matrix(x.rows(), x.cols(), z)?, true, local)
            .await
    }

    /// The fixed-point matrix product `x y` (`m x k` by `k x n`) with one matrix triple: one round,
    /// `m k + k n` ring elements per party, then truncation.
    pub async fn matmul(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.check("matmul")?;
        let r = self.matmul_inner(x, y, true).await;
        self.record(r)
    }

    /// The ring matrix product `x y` without truncation: exact.
    pub async fn matmul_integer(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.check("matmul_integer")?;
        let r = self.matmul_inner(x, y, false).await;
        self.record(r)
    }

    async fn matmul_inner(
        &mut self,
        x: &Shares<R>,
        y: &Shares<R>,
        truncate: bool,
    ) -> Result<Shares<R>, Error> {
        let (m, k) = x.shape();
        if y.rows() != k {
            return Err(Error::dimension("matmul", k, y.rows()));
        }
        let n = y.cols();
        let t = self.correlations.matrix_triple::<R>(m, k, n).await?;
        let masked = matmul::mask(x.as_slice(), y.as_slice(), &t);
        let opened = self.open_slice("matmul", tag::MATMUL, &masked).await?;
        let z = Shares::matrix(m, n, matmul::combine(self.role, &opened, &t))?;
        self.finish_product(z, truncate, None).await
    }

    /// The fixed-point dot product of two vectors of equal length, as a 1 x 1 share.
    pub async fn dot(&mut self, x: &Shares<R>, y: &Shares<R>) -> Result<Shares<R>, Error> {
        self.check("dot")?;
        if x.len() != y.len() {
            let e = Error::dimension("dot", x.len(), y.len());
            return self.record(Err(e));
        }
        let row = x.clone().reshape(1, x.len())?;
        let col = y.clone().reshape(y.len(), 1)?;
        let r = self
            .matmul_inner(&row, &col, true)
            .await
            .map_err(|e| e.in_op("dot"));
        self.record(r)
    }

    /// The shift to fuse into a product's last pass, when truncation is local.
    fn local_truncation(&self, truncate: bool) -> Option<u32> {
        let d = self.config.fixed.frac_bits();
        (truncate && self.config.truncation == Truncation::Local && d > 0 && d < R::BITS - 2)
            .then_some(d)
    }

    /// Truncates a product unless its last pass already did (`fused`).
    async fn finish_product(
        &mut self,
        z: Shares<R>,
        truncate: bool,
        fused: Option<u32>,
    ) -> Result<Shares<R>, Error> {
        if truncate && fused.is_none() {
            self.truncate_inner(z, self.config.fixed.frac_bits()).await
        } else {
            Ok(z)
        }
    }

    // ----- truncation -----

    /// Divides shared values by `2^bits` with the configured method (see [`Truncation`]).
    pub async fn truncate(&mut self, x: &Shares<R>, bits: u32) -> Result<Shares<R>, Error> {
        self.check("truncate")?;
        let r = self.truncate_inner(x.clone(), bits).await;
        self.record(r)
    }

    pub(crate) async fn truncate_inner(
        &mut self,
        x: Shares<R>,
        bits: u32,
    ) -> Result<Shares<R>, Error> {
        if bits == 0 {
            return Ok(x);
        }
        if bits >= R::BITS - 2 {
            return Err(Error::new(
                "truncate",
                ErrorKind::InvalidArgument("shift too large for the ring"),
            ));
        }
        match self.config.truncation {
            Truncation::Local => {
                let role = self.role;
                Ok(x.map(|v| truncation::local(role, v, bits)))
            }
            Truncation::Pairs => {
                let p = self
                    .correlations
                    .truncation_pairs::<R>(x.len(), bits)
                    .await?;
                let masked = truncation::mask(self.role, x.as_slice(), &p);
                let c = self
                    .open_slice("truncate", tag::TRUNC_PAIR, &masked)
                    .await?;
                Shares::matrix(
                    x.rows(),
                    x.cols(),
                    truncation::combine(self.role, &c, &p, bits),
                )
            }
            Truncation::Exact => self.truncate_exact_inner(&x, bits).await,
        }
    }

    /// Fresh uniformly random ring elements from this party's own stream (for masks in protocols
    /// built on top of the session).
    pub fn random_ring(&mut self, n: usize) -> Vec<R> {
        let mut prg = self.fresh_prg(Domain::PROTOCOL_MASK);
        let mut v = vec![R::ZERO; n];
        fill_random(&mut prg, &mut v);
        v
    }

    /// A generator for `domain` that this session has never used before.
    pub(crate) fn fresh_prg(&mut self, domain: Domain) -> Prg {
        let prg = self.seed.prg(domain, self.streams_used);
        self.streams_used += 1;
        prg
    }
}
