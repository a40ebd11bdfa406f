//! What the ML examples and their tests share: preparing data at the owners, the roles of a
//! training session (data owner, server, dealer) generic over the transport, and the
//! in-process run of all of them on threads.

pub mod tcp;

use fixshare::correlated::{
    Correlations, MatrixTriple, RandomOtReceiver, RandomOtSender, SquarePairs, Triples,
    TruncationPairs,
};
use fixshare::data_owner::{self, DataOwner};
use fixshare::ml::{self, DataError, Dataset, FeatureStats, GlmModel, SgdParams, Standardizer};
use fixshare::{
    Config, Dealer, DealerClient, Error, FixedPoint, Link, Links, MemoryTransport, OfflineSource,
    OtCorrelations, Party, Ring, Role, Seed, Stats, Transport, Truncation, block_on_thread, duplex,
};
use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

/// Which offline phase supplies the correlated randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offline {
    /// A third party (thread or process), seed-compressed.
    Dealer,
    /// OT extension between the two servers, no third party.
    Ot,
}

/// How the data owners split the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// Each owner holds some rows (contiguous blocks of the training rows).
    Rows,
    /// Each owner holds some feature columns; the last owner also holds the target.
    Columns,
}

/// Every setting of a training run.
#[derive(Clone, Debug)]
pub struct GlmTask {
    /// Linear or logistic regression.
    pub model: GlmModel,
    /// SGD hyperparameters.
    pub sgd: SgdParams,
    /// Fractional bits of the fixed-point format (ring Z_2^64).
    pub frac_bits: u32,
    /// Truncation after products.
    pub truncation: Truncation,
    /// The offline phase.
    pub offline: Offline,
    /// How the data is split between owners.
    pub partition: Partition,
    /// Number of data owners.
    pub owners: usize,
    /// `Some(n)`: deterministic seeds derived from `n` (tests); `None`: fresh OS entropy.
    pub seed: Option<u64>,
}

impl GlmTask {
    /// The example's defaults for `model`.
    pub fn new(model: GlmModel) -> Self {
        GlmTask {
            model,
            sgd: SgdParams {
                epochs: 10,
                batch: 32,
                learning_rate: 0.1,
            },
            frac_bits: 16,
            truncation: Truncation::Local,
            offline: Offline::Dealer,
            partition: Partition::Rows,
            owners: 2,
            seed: None,
        }
    }

    /// The session configuration both servers use.
    pub fn config(&self) -> Result<Config, Error> {
        Ok(Config {
            fixed: FixedPoint::new(self.frac_bits)?,
            truncation: self.truncation,
            ..Config::default()
        })
    }

    /// A seed for party or owner number `who`.
    pub fn seed_for(&self, who: u64) -> Seed {
        match self.seed {
            Some(n) => {
                let mut b = [0u8; 32];
                b[..8].copy_from_slice(&n.to_le_bytes());
                b[8..16].copy_from_slice(&who.to_le_bytes());
                b[31] = 0x5d;
                Seed::from_bytes(b)
            }
            None => os_seed(),
        }
    }
}

/// Fresh entropy for a seed (the core has no entropy source of its own).
pub fn os_seed() -> Seed {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .expect("reading /dev/urandom");
    Seed::from_bytes(bytes)
}

/// One data owner's part of the training table, ready to share.
#[derive(Clone, Debug)]
pub struct OwnerPart {
    /// Feature values, row-major.
    pub x: Vec<f64>,
    /// Feature columns.
    pub cols: usize,
    /// Targets, if this owner holds them.
    pub y: Option<Vec<f64>>,
}

/// The data after the owners' preparation: standardized train and test rows, and each owner's
/// part of the training rows.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Training rows (standardized).
    pub train: Dataset,
    /// Test rows (standardized with the training statistics).
    pub test: Dataset,
    /// What each owner shares.
    pub parts: Vec<OwnerPart>,
}

/// The owners' preparation, all before any share is sent:
///
/// 1. every cell must encode in the fixed-point format (else the error names its line and column);
///    logistic regression needs 0/1 targets;
/// 2. split: every 5th row (rows 4, 9, 14, .. counted from 0) is a test row;
/// 3. each owner computes count, sum and sum of squares per column over its own training rows;
///    the owners add these (rows) or put them side by side (columns), and standardize with the
///    resulting mean and population standard deviation. Only these per-column aggregates pass
///    between owners, never a row. For linear regression the target is standardized the same
///    way by the owner that holds it (R^2 does not change);
/// 4. the standardized values are range-checked again.
pub fn prepare(data: &Dataset, task: &GlmTask, fixed: FixedPoint) -> Result<Prepared, DataError> {
    data.check_range::<u64>(fixed)?;
    if matches!(task.model, GlmModel::Logistic(_)) {
        data.check_binary_target()?;
    }
    let (mut train, mut test) = data.split_every(5);
    let d = data.features();
    let owners = task.owners.clamp(1, d.max(1));
    let n = train.rows();
    let row_block = |k: usize| (k * n / owners)..((k + 1) * n / owners);
    let col_block = |k: usize| (k * d / owners)..((k + 1) * d / owners);
    let stats = match task.partition {
        Partition::Rows => (0..owners)
            .map(|k| {
                let r = row_block(k);
                FeatureStats::from_rows(&train.x[r.start * d..r.end * d], d)
            })
            .reduce(|a, b| a.merge(&b))
            .unwrap_or_else(|| FeatureStats::from_rows(&[], d)),
        Partition::Columns => (0..owners)
            .map(|k| {
                let c = col_block(k);
                FeatureStats::from_rows(&train.columns(c.clone()), c.len())
            })
            .reduce(|a, b| a.concat(&b))
            .unwrap_or_else(|| FeatureStats::from_rows(&[], d)),
    };
    let s = Standardizer::from_stats(&stats);
    s.apply(&mut train.x);
    s.apply(&mut test.x);
    if task.model == GlmModel::Linear {
        // The target's owner standardizes it with its own training statistics.
        let ys = Standardizer::from_stats(&FeatureStats::from_rows(&train.y, 1));
        ys.apply(&mut train.y);
        ys.apply(&mut test.y);
    }
    train.check_range::<u64>(fixed)?;
    test.check_range::<u64>(fixed)?;
    let parts = match task.partition {
        Partition::Rows => (0..owners)
            .map(|k| {
                let r = row_block(k);
                OwnerPart {
                    x: train.x[r.start * d..r.end * d].to_vec(),
                    cols: d,
                    y: Some(train.y[r].to_vec()),
                }
            })
            .collect(),
        Partition::Columns => (0..owners)
            .map(|k| OwnerPart {
                x: train.columns(col_block(k)),
                cols: col_block(k).len(),
                y: (k + 1 == owners).then(|| train.y.clone()),
            })
            .collect(),
    };
    Ok(Prepared { train, test, parts })
}

/// A correlation source that measures the time spent in it (the offline phase, when it runs
/// on demand) and knows its traffic.
pub struct Timed<C> {
    inner: C,
    /// Time spent fetching correlations.
    pub spent: Duration,
}

impl<C> Timed<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> Self {
        Timed {
            inner,
            spent: Duration::ZERO,
        }
    }
    /// The wrapped source.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

macro_rules! timed {
    ($self:ident, $call:expr) => {{
        let t = Instant::now();
        let r = $call.await;
        $self.spent += t.elapsed();
        r
    }};
}

impl<T, C: Correlations<T>> Correlations<T> for Timed<C> {
    async fn triples<R: Ring>(&mut self, l: &mut Links<T>, n: usize) -> Result<Triples<R>, Error> {
        timed!(self, self.inner.triples(l, n))
    }
    async fn square_pairs<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        timed!(self, self.inner.square_pairs(l, n))
    }
    async fn matrix_triple<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        timed!(self, self.inner.matrix_triple(l, m, k, n))
    }
    async fn truncation_pairs<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        timed!(self, self.inner.truncation_pairs(l, n, shift))
    }
    async fn random_ot_sender(
        &mut self,
        l: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        timed!(self, self.inner.random_ot_sender(l, n))
    }
    async fn random_ot_receiver(
        &mut self,
        l: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        timed!(self, self.inner.random_ot_receiver(l, n))
    }
    fn own_stats(&self) -> Stats {
        self.inner.own_stats()
    }
    fn own_activity(&self) -> u64 {
        self.inner.own_activity()
    }
}

/// A server's account of its session.
#[derive(Clone, Debug, Default)]
pub struct ServerReport {
    /// Training time minus the time spent in the offline phase.
    pub online: Duration,
    /// Time spent in the offline phase (OT setup included).
    pub offline: Duration,
    /// Online traffic with the other server.
    pub online_stats: Stats,
    /// Offline traffic (with the dealer, or the OT connection).
    pub offline_stats: Stats,
}

/// Largest part a server accepts from one owner, in values.
pub const MAX_PART: usize = 1 << 26;

/// The server role: receives every owner's part, trains on the shares, sends its share of the
/// weights to owner 0 (who alone reconstructs the model), and reports time and traffic.
/// `on_epoch` is called after each epoch.
pub async fn serve_glm<T: Transport, C: Correlations<T>, O: Transport>(
    role: Role,
    peer: Link<T>,
    source: C,
    setup_time: Duration,
    owners: &mut [Link<O>],
    task: &GlmTask,
    on_epoch: impl FnMut(usize),
) -> Result<ServerReport, Error> {
    let config = task.config()?;
    let mut xs = Vec::new();
    let mut y = None;
    for owner in owners.iter_mut() {
        let (x, t) = ml::share::receive_part::<u64, _>(role, owner, MAX_PART).await?;
        xs.push(x);
        match (task.partition, t) {
            (Partition::Rows, Some(t)) => y.get_or_insert_with(Vec::new).push(t),
            (Partition::Columns, Some(t)) if y.is_none() => y = Some(vec![t]),
            (_, None) if task.partition == Partition::Columns => {}
            _ => {
                return Err(Error::new(
                    "serve_glm",
                    fixshare::ErrorKind::Malformed("the owners' targets do not fit the partition"),
                ));
            }
        }
    }
    let x = match task.partition {
        Partition::Rows => ml::ops::concat_rows(&xs)?,
        Partition::Columns => ml::ops::concat_columns(&xs)?,
    };
    let y = ml::ops::concat_rows(&y.unwrap_or_default())?;
    let mut p: Party<T, Timed<C>, u64> = Party::on_link(
        role,
        peer,
        Timed::new(source),
        task.seed_for(role.index() as u64),
        config,
    );
    let t = Instant::now();
    let w = p.train_glm(&x, &y, task.model, &task.sgd, on_epoch).await?;
    let total = t.elapsed();
    if let Some(owner) = owners.first_mut() {
        data_owner::send_output(owner, w.as_slice()).await?;
    }
    let offline = p.correlations().spent;
    Ok(ServerReport {
        online: total.saturating_sub(offline),
        offline: offline + setup_time,
        online_stats: p.online_stats(),
        offline_stats: p.offline_stats(),
    })
}

/// The data-owner role: shares its part with both servers and, if `model_len` is given (owner
/// 0), reconstructs the trained weights.
pub async fn own<T0: Transport, T1: Transport>(
    part: &OwnerPart,
    seed: Seed,
    fixed: FixedPoint,
    to0: &mut Link<T0>,
    to1: &mut Link<T1>,
    model_len: Option<usize>,
) -> Result<Option<Vec<f64>>, Error> {
    let mut owner = DataOwner::new(seed, fixed);
    ml::share::share_part::<u64, _, _>(&mut owner, &part.x, part.cols, part.y.as_deref(), to0, to1)
        .await?;
    match model_len {
        Some(n) => {
            let mut w = vec![0.0; n];
            owner.reconstruct::<u64, _, _>(to0, to1, &mut w).await?;
            Ok(Some(w))
        }
        None => Ok(None),
    }
}

/// The outcome of a training run beside its plaintext reference.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The model.
    pub model: GlmModel,
    /// The securely trained weights (bias last).
    pub weights: Vec<f64>,
    /// The plaintext SGD weights.
    pub plain_weights: Vec<f64>,
    /// Test accuracy (logistic) or R^2 (linear) of the secure model.
    pub secure_metric: f64,
    /// The same for the plaintext model.
    pub plain_metric: f64,
    /// Server 0's online time.
    pub online: Duration,
    /// Server 0's offline time.
    pub offline: Duration,
    /// Bytes both servers sent to each other online.
    pub bytes_sent: u64,
    /// Bytes of the offline phase, both servers, both directions.
    pub offline_bytes: u64,
    /// Server 0's communication rounds online.
    pub rounds: u64,
}

impl Summary {
    /// Relative RMS error of the secure weights against the plaintext weights.
    pub fn weights_rel_rmse(&self) -> f64 {
        ml::plain::rel_rmse(&self.weights, &self.plain_weights)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.model {
            GlmModel::Linear => "r2",
            GlmModel::Logistic(_) => "accuracy",
        };
        writeln!(f, "secure_{name}: {:.4}", self.secure_metric)?;
        writeln!(f, "plaintext_{name}: {:.4}", self.plain_metric)?;
        writeln!(f, "weights_rel_rmse: {:.3e}", self.weights_rel_rmse())?;
        writeln!(f, "online_seconds: {:.3}", self.online.as_secs_f64())?;
        writeln!(f, "offline_seconds: {:.3}", self.offline.as_secs_f64())?;
        writeln!(f, "bytes_sent: {}", self.bytes_sent)?;
        writeln!(f, "offline_bytes: {}", self.offline_bytes)?;
        write!(f, "rounds: {}", self.rounds)
    }
}

/// The test metric of weights `w` on `test`.
pub fn metric(model: GlmModel, test: &Dataset, w: &[f64]) -> f64 {
    let d = test.features();
    match model {
        GlmModel::Linear => ml::plain::r2(&ml::plain::linear_scores(&test.x, d, w), &test.y),
        GlmModel::Logistic(_) => ml::plain::accuracy(&test.x, &test.y, d, w),
    }
}

/// Any failure of a run: bad data (before anything is sent) or a protocol error.
#[derive(Debug)]
pub enum RunError {
    /// The dataset was refused at the owners.
    Data(DataError),
    /// A protocol or transport failure.
    Protocol(Error),
    /// A thread panicked (a bug).
    Panic(&'static str),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Data(e) => write!(f, "bad data: {e}"),
            RunError::Protocol(e) => write!(f, "{e}"),
            RunError::Panic(who) => write!(f, "{who} panicked"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        RunError::Data(e)
    }
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Protocol(e)
    }
}

/// Runs the owners, both servers and (with [`Offline::Dealer`]) the dealer on threads joined by
/// in-memory transports, and the plaintext reference beside them. `on_epoch` runs on server 0.
pub fn run_glm_local(
    data: &Dataset,
    task: &GlmTask,
    on_epoch: impl FnMut(usize) + Send + 'static,
) -> Result<Summary, RunError> {
    let config = task.config()?;
    let prepared = prepare(data, task, config.fixed)?;
    let d = prepared.train.features();
    let model_len = d + 1;

    // Owners' links to the servers.
    let mut server_links: [Vec<Link<MemoryTransport>>; 2] = [Vec::new(), Vec::new()];
    let mut owner_threads = Vec::new();
    for (k, part) in prepared.parts.iter().cloned().enumerate() {
        let (o0, s0) = duplex();
        let (o1, s1) = duplex();
        server_links[0].push(Link::new(s0));
        server_links[1].push(Link::new(s1));
        let seed = task.seed_for(100 + k as u64);
        let fixed = config.fixed;
        owner_threads.push(thread::spawn(move || {
            block_on_thread(async move {
                let (mut to0, mut to1) = (Link::new(o0), Link::new(o1));
                own(
                    &part,
                    seed,
                    fixed,
                    &mut to0,
                    &mut to1,
                    (k == 0).then_some(model_len),
                )
                .await
            })
        }));
    }

    let (peer0, peer1) = duplex();
    let mut dealer = None;
    // Each server's connection to the dealer (with the dealer) and to the other server.
    let mut links: Vec<Option<(Option<MemoryTransport>, MemoryTransport)>> = vec![None, None];
    match task.offline {
        Offline::Dealer => {
            let (d0, c0) = duplex();
            let (d1, c1) = duplex();
            let seed = task.seed_for(200);
            dealer = Some(thread::spawn(move || {
                block_on_thread(Dealer::new(seed, d0, d1).serve())
            }));
            links[0] = Some((Some(c0), peer0));
            links[1] = Some((Some(c1), peer1));
        }
        Offline::Ot => {
            links[0] = Some((None, peer0));
            links[1] = Some((None, peer1));
        }
    }
    let mut on_epoch = Some(on_epoch);
    let mut servers = Vec::new();
    for (i, link) in links.into_iter().enumerate() {
        let (link, peer) = link.expect("both links are set");
        let role = Role::from_index(i).expect("role 0 or 1");
        let mut owners = std::mem::take(&mut server_links[i]);
        let task = task.clone();
        let cb = if i == 0 { on_epoch.take() } else { None };
        servers.push(thread::spawn(move || {
            block_on_thread(async move {
                let mut cb = cb;
                let on_epoch = |e| {
                    if let Some(f) = cb.as_mut() {
                        f(e)
                    }
                };
                let t = Instant::now();
                let mut peer = Link::new(peer);
                match (task.offline, link) {
                    (Offline::Dealer, Some(link)) => {
                        let src = DealerClient::connect(role, link).await?;
                        let setup = t.elapsed();
                        serve_glm(role, peer, src, setup, &mut owners, &task, on_epoch).await
                    }
                    _ => {
                        // OT over the one connection between the servers.
                        let seed = task.seed_for(300 + role.index() as u64);
                        let src = OtCorrelations::setup(role, &mut peer, seed).await?;
                        let setup = t.elapsed();
                        serve_glm(role, peer, src, setup, &mut owners, &task, on_epoch).await
                    }
                }
            })
        }));
    }

    // The plaintext reference, same rows in the same order, while the servers work.
    let plain_weights = ml::plain::train_glm(
        &prepared.train.x,
        &prepared.train.y,
        d,
        task.model,
        &task.sgd,
    );

    let mut reports = Vec::new();
    let mut first_err = None;
    for s in servers {
        match s.join() {
            Ok(Ok(r)) => reports.push(r),
            Ok(Err(e)) => {
                first_err.get_or_insert(RunError::Protocol(e));
            }
            Err(_) => {
                first_err.get_or_insert(RunError::Panic("a server"));
            }
        }
    }
    let mut weights = None;
    for o in owner_threads {
        match o.join() {
            Ok(Ok(w)) => weights = weights.or(w),
            Ok(Err(e)) => {
                first_err.get_or_insert(RunError::Protocol(e));
            }
            Err(_) => {
                first_err.get_or_insert(RunError::Panic("a data owner"));
            }
        }
    }
    if let Some(dl) = dealer {
        match dl.join() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(RunError::Protocol(e));
            }
            Err(_) => {
                first_err.get_or_insert(RunError::Panic("the dealer"));
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let weights = weights.ok_or(RunError::Panic("owner 0 got no model"))?;
    let offline_bytes = match task.offline {
        // Each party's link to the dealer, both directions.
        Offline::Dealer => reports
            .iter()
            .map(|r| r.offline_stats.bytes_sent + r.offline_stats.bytes_received)
            .sum(),
        // The one OT link between the servers: what each sent.
        Offline::Ot => reports.iter().map(|r| r.offline_stats.bytes_sent).sum(),
    };
    Ok(Summary {
        model: task.model,
        secure_metric: metric(task.model, &prepared.test, &weights),
        plain_metric: metric(task.model, &prepared.test, &plain_weights),
        weights,
        plain_weights,
        online: reports[0].online,
        offline: reports[0].offline,
        bytes_sent: reports.iter().map(|r| r.online_stats.bytes_sent).sum(),
        offline_bytes,
        rounds: reports[0].online_stats.rounds,
    })
}

/// The session type of [`run_pair`].
pub type LocalParty = Party<MemoryTransport, Timed<OfflineSource<MemoryTransport>>, u64>;

/// Runs `body` as server 0 and server 1 on two threads joined by in-memory transports, with
/// the offline phase `offline` (a dealer thread, or OT between them), and returns both results.
/// Seeds are derived from `seed` (tests) or fresh from the OS (`None`).
pub fn run_pair<V, F, Fut>(
    offline: Offline,
    config: Config,
    seed: Option<u64>,
    body: F,
) -> (Result<V, Error>, Result<V, Error>)
where
    V: Send + 'static,
    F: Fn(LocalParty) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<V, Error>>,
{
    let mut task = GlmTask::new(GlmModel::Linear);
    task.seed = seed;
    let (peer0, peer1) = duplex();
    let (l0, l1, dealer) = match offline {
        Offline::Dealer => {
            let (d0, c0) = duplex();
            let (d1, c1) = duplex();
            let s = task.seed_for(200);
            let h = thread::spawn(move || block_on_thread(Dealer::new(s, d0, d1).serve()));
            (Some(c0), Some(c1), Some(h))
        }
        Offline::Ot => (None, None, None),
    };
    let spawn = |role: Role, peer: MemoryTransport, link: Option<MemoryTransport>| {
        let body = body.clone();
        let task = task.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let t = Instant::now();
                let mut peer = Link::with_max_frame(peer, config.max_frame);
                let src = match link {
                    Some(link) => OfflineSource::Dealer(DealerClient::connect(role, link).await?),
                    None => {
                        let s = task.seed_for(300 + role.index() as u64);
                        let ot = OtCorrelations::setup(role, &mut peer, s).await?;
                        OfflineSource::Ot(Box::new(ot))
                    }
                };
                let seed = task.seed_for(role.index() as u64);
                let mut src = Timed::new(src);
                src.spent = t.elapsed();
                body(Party::on_link(role, peer, src, seed, config)).await
            })
        })
    };
    let a = spawn(Role::P0, peer0, l0);
    let b = spawn(Role::P1, peer1, l1);
    let ra = a.join().expect("server 0 panicked");
    let rb = b.join().expect("server 1 panicked");
    if let Some(h) = dealer {
        let _ = h.join().expect("dealer panicked");
    }
    (ra, rb)
}

/// Every setting of an MLP training run.
#[derive(Clone, Debug)]
pub struct MlpTask {
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// SGD hyperparameters and the initial weights' seed.
    pub params: fixshare::ml::MlpParams,
    /// The offline phase.
    pub offline: Offline,
    /// Number of data owners (each holds a block of rows).
    pub owners: usize,
    /// Session seeds (see [`GlmTask::seed`]).
    pub seed: Option<u64>,
}

/// A classification dataset after the owners' preparation: standardized features, labels.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Features, row-major, standardized with the training statistics.
    pub x: Vec<f64>,
    /// Labels 0..k.
    pub labels: Vec<usize>,
}

/// Splits (every 5th row is a test row) and standardizes a classification table whose target
/// is a class number `0..k`; returns `(train, test, standardizer)`. Fails if a target is not
/// an integer in `0..k`.
pub fn prepare_classes(
    data: &Dataset,
    k: usize,
    fixed: FixedPoint,
) -> Result<(Classes, Classes, Standardizer), DataError> {
    data.check_range::<u64>(fixed)?;
    for (i, &t) in data.y.iter().enumerate() {
        if t.fract() != 0.0 || t < 0.0 || t >= k as f64 {
            let e = fixshare::ml::DataError {
                line: data.lines.get(i).copied().unwrap_or(0),
                column: data.features() + 1,
                column_name: data.target_name.clone(),
                kind: fixshare::ml::DataErrorKind::NotNumeric(format!(
                    "{t} (expected a class 0..{k})"
                )),
            };
            return Err(e);
        }
    }
    let (mut train, mut test) = data.split_every(5);
    let s = Standardizer::from_stats(&FeatureStats::from_rows(&train.x, data.features()));
    s.apply(&mut train.x);
    s.apply(&mut test.x);
    train.check_range::<u64>(fixed)?;
    test.check_range::<u64>(fixed)?;
    let classes = |d: Dataset| Classes {
        labels: d.y.iter().map(|&t| t as usize).collect(),
        x: d.x,
    };
    Ok((classes(train), classes(test), s))
}

/// One-hot rows for `labels` with `k` classes.
pub fn one_hot(labels: &[usize], k: usize) -> Vec<f64> {
    let mut y = vec![0.0; labels.len() * k];
    for (r, &l) in labels.iter().enumerate() {
        y[r * k + l] = 1.0;
    }
    y
}

/// The outcome of an MLP training run beside its plaintext reference.
#[derive(Clone, Debug)]
pub struct MlpSummary {
    /// The securely trained network.
    pub secure: fixshare::ml::plain::Mlp,
    /// The plaintext-trained network.
    pub plain: fixshare::ml::plain::Mlp,
    /// Test accuracy of the secure network.
    pub secure_accuracy: f64,
    /// Test accuracy of the plaintext network.
    pub plain_accuracy: f64,
    /// Server 0's online and offline time.
    pub report: ServerReport,
    /// Bytes both servers sent each other online.
    pub bytes_sent: u64,
}

impl fmt::Display for MlpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flat = |m: &fixshare::ml::plain::Mlp| m.layers.concat();
        writeln!(f, "secure_accuracy: {:.4}", self.secure_accuracy)?;
        writeln!(f, "plaintext_accuracy: {:.4}", self.plain_accuracy)?;
        writeln!(
            f,
            "weights_rel_rmse: {:.3e}",
            ml::plain::rel_rmse(&flat(&self.secure), &flat(&self.plain))
        )?;
        writeln!(f, "online_seconds: {:.3}", self.report.online.as_secs_f64())?;
        writeln!(
            f,
            "offline_seconds: {:.3}",
            self.report.offline.as_secs_f64()
        )?;
        writeln!(f, "bytes_sent: {}", self.bytes_sent)?;
        write!(f, "rounds: {}", self.report.online_stats.rounds)
    }
}

/// Fraction of `labels` that `net` predicts.
pub fn mlp_accuracy(net: &fixshare::ml::plain::Mlp, data: &Classes) -> f64 {
    let pred = net.predict(&data.x, data.labels.len());
    let right = pred
        .iter()
        .zip(&data.labels)
        .filter(|(a, b)| a == b)
        .count();
    right as f64 / data.labels.len().max(1) as f64
}

/// Trains an MLP on shares: the owners (threads) share blocks of training rows and their
/// one-hot labels, the servers train, owner 0 reconstructs the network; the plaintext
/// reference trains beside it. `on_epoch` runs on server 0.
pub fn run_mlp_local(
    train: &Classes,
    test: &Classes,
    task: &MlpTask,
    on_epoch: impl FnMut(usize) + Send + 'static,
) -> Result<MlpSummary, RunError> {
    use std::sync::{Arc, Mutex};
    let config = Config::default();
    let (d, k) = (task.sizes[0], *task.sizes.last().unwrap_or(&1));
    let n = train.labels.len();
    let init = ml::plain::Mlp::init(&task.sizes, task.params.init_seed);
    let model_len: usize = init.layers.iter().map(Vec::len).sum();
    let owners = task.owners.clamp(1, n.max(1));
    let y = one_hot(&train.labels, k);
    let mut links: [Vec<Link<MemoryTransport>>; 2] = [Vec::new(), Vec::new()];
    let mut owner_threads = Vec::new();
    for o in 0..owners {
        let rows = (o * n / owners)..((o + 1) * n / owners);
        let x = train.x[rows.start * d..rows.end * d].to_vec();
        let t = y[rows.start * k..rows.end * k].to_vec();
        let (a0, b0) = duplex();
        let (a1, b1) = duplex();
        links[0].push(Link::new(b0));
        links[1].push(Link::new(b1));
        let seed = task.seed.map_or_else(os_seed, |s| {
            GlmTask {
                seed: Some(s),
                ..GlmTask::new(GlmModel::Linear)
            }
            .seed_for(100 + o as u64)
        });
        owner_threads.push(thread::spawn(move || {
            block_on_thread(async move {
                let mut owner = DataOwner::new(seed, config.fixed);
                let (mut to0, mut to1) = (Link::new(a0), Link::new(a1));
                ml::share::share_part::<u64, _, _>(&mut owner, &x, d, None, &mut to0, &mut to1)
                    .await?;
                ml::share::share_part::<u64, _, _>(&mut owner, &t, k, None, &mut to0, &mut to1)
                    .await?;
                if o == 0 {
                    let mut w = vec![0.0; model_len];
                    owner
                        .reconstruct::<u64, _, _>(&mut to0, &mut to1, &mut w)
                        .await?;
                    return Ok(Some(w));
                }
                Ok::<_, Error>(None)
            })
        }));
    }
    let links = Arc::new(Mutex::new(links.map(Some)));
    let callback = Arc::new(Mutex::new(Some(on_epoch)));
    let (init2, params) = (init.clone(), task.params.clone());
    let (r0, r1) = run_pair(task.offline, config, task.seed, move |mut p| {
        let (links, callback) = (links.clone(), callback.clone());
        let (init, params) = (init2.clone(), params.clone());
        async move {
            let role = p.role();
            let mut owners = links.lock().unwrap()[role.index()]
                .take()
                .unwrap_or_default();
            let mut cb = if role == Role::P0 {
                callback.lock().unwrap().take()
            } else {
                None
            };
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for owner in owners.iter_mut() {
                xs.push(
                    ml::share::receive_part::<u64, _>(role, owner, MAX_PART)
                        .await?
                        .0,
                );
                ys.push(
                    ml::share::receive_part::<u64, _>(role, owner, MAX_PART)
                        .await?
                        .0,
                );
            }
            let x = ml::ops::concat_rows(&xs)?;
            let y = ml::ops::concat_rows(&ys)?;
            let t = Instant::now();
            let w = p
                .train_mlp(&x, &y, &init, &params, |e| {
                    if let Some(f) = cb.as_mut() {
                        f(e)
                    }
                })
                .await?;
            let total = t.elapsed();
            let flat: Vec<u64> = w.iter().flat_map(|s| s.as_slice().to_vec()).collect();
            if let Some(owner) = owners.first_mut() {
                data_owner::send_output(owner, &flat).await?;
            }
            let offline = p.correlations().spent;
            Ok(ServerReport {
                online: total.saturating_sub(offline),
                offline,
                online_stats: p.online_stats(),
                offline_stats: p.offline_stats(),
            })
        }
    });
    let mut plain = init.clone();
    plain.train(&train.x, &train.labels, &task.params);
    let mut weights = None;
    for h in owner_threads {
        if let Some(w) = h.join().map_err(|_| RunError::Panic("a data owner"))?? {
            weights = Some(w);
        }
    }
    let (r0, r1) = (r0?, r1?);
    let flat = weights.ok_or(RunError::Panic("owner 0 got no model"))?;
    let mut secure = init;
    let mut at = 0;
    for layer in secure.layers.iter_mut() {
        let len = layer.len();
        layer.copy_from_slice(&flat[at..at + len]);
        at += len;
    }
    Ok(MlpSummary {
        secure_accuracy: mlp_accuracy(&secure, test),
        plain_accuracy: mlp_accuracy(&plain, test),
        secure,
        plain,
        bytes_sent: r0.online_stats.bytes_sent + r1.online_stats.bytes_sent,
        report: r0,
    })
}

/// The inference network of a plaintext MLP, with the owners' standardization folded into the
/// first layer so that the client sends its raw features: `W' = W / std`,
/// `b' = b - sum_i mean_i / std_i W_i`. Returns the network and its weights.
pub fn mlp_for_inference(
    mlp: &fixshare::ml::plain::Mlp,
    s: &Standardizer,
) -> (fixshare::ml::inference::Network, Vec<Vec<f64>>) {
    use fixshare::ml::inference::{Layer, Network};
    let mut layers = Vec::new();
    let mut weights = mlp.layers.clone();
    let (d, o) = (mlp.sizes[0], mlp.sizes[1]);
    let w0 = &mut weights[0];
    for j in 0..o {
        let mut shift = 0.0;
        for i in 0..d {
            w0[i * o + j] /= s.std[i];
            shift += s.mean[i] * w0[i * o + j];
        }
        w0[d * o + j] -= shift;
    }
    for (l, io) in mlp.sizes.windows(2).enumerate() {
        layers.push(Layer::Dense {
            inputs: io[0],
            outputs: io[1],
        });
        if l + 2 < mlp.sizes.len() {
            layers.push(Layer::Relu);
        }
    }
    (Network { input: d, layers }, weights)
}
