//! The std side of the ML examples: what the core pipeline ([`fixshare::ml::pipeline`]) leaves to
//! the host. Seeds from the OS, threads joined by in-memory transports, clocks (the core's
//! per-epoch [`Progress`] gets seconds here), TCP ([`tcp`]), and the printed summaries.
//!
//! The owners' preparation, the owner and server roles, the metrics and the network builders
//! are in the core; this module runs them.

pub mod minionn;
pub mod serve;
pub mod tcp;

use fixshare::correlated::dealer::RequestStreams;
use fixshare::correlated::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs,
};
use fixshare::fss::{Gate, GateKeys};
use fixshare::helper::Step;
use fixshare::ml::glm::InputMasking;
use fixshare::ml::inference::Network;
use fixshare::ml::pipeline::{self, Classes, GlmPlan, MAX_PART, Partition, Progress};
use fixshare::ml::plain::Mlp;
use fixshare::ml::{
    self, DataError, DataErrorKind, Dataset, GlmModel, MlpLoss, MlpParams, SgdParams,
};
use fixshare::{
    Backend, Config, Context, Dealer, DealerClient, Error, FixedPoint, Link, Links,
    MemoryTransport, OfflineSource, OtCorrelations, Party, PartyId, Ring, Role, Seed, Stats,
    Topology, Transport, Truncation, block_on_thread, duplex,
};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::thread;
use std::time::{Duration, Instant};

/// The largest CSV text [`load_csv`] reads (after gunzipping): 1 GiB, about 50 times the 10,000
/// MNIST images of `data/mnist10k.csv.gz`.
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// Reads a CSV file as [`Dataset::from_csv_bytes`] parses it, gunzipped first when it is a gzip
/// file (it starts with gzip's magic bytes, whatever its name): the one loader of the examples.
/// Every failure names the file: one that cannot be read, a corrupt or truncated gzip stream,
/// text over [`MAX_CSV_BYTES`] (refused before it is read whole), and, with the line and the
/// column, invalid UTF-8 and every bad cell.
pub fn load_csv(path: &str) -> Result<Dataset, String> {
    let bytes = read_text(path, MAX_CSV_BYTES)?;
    Dataset::from_csv_bytes(&bytes).map_err(|e| format!("{path}: {e}"))
}

/// The bytes of the file at `path`, gunzipped if it is gzip data; at most `limit` bytes.
pub fn read_text(path: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::{BufRead, BufReader, Read};
    let fail = |e: &dyn fmt::Display| format!("{path}: {e}");
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    let mut reader = BufReader::new(file);
    let gzip = reader
        .fill_buf()
        .map_err(|e| fail(&e))?
        .starts_with(&[0x1f, 0x8b]);
    let too_big = || format!("{path}: more than {limit} bytes of CSV text: refused");
    let mut bytes = Vec::new();
    if gzip {
        // The text's size is unknown until it is inflated: read one byte past the limit.
        flate2::bufread::MultiGzDecoder::new(reader)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{path}: not a valid gzip file: {e}"))?;
    } else {
        let len = reader.get_ref().metadata().map_err(|e| fail(&e))?.len();
        if len > limit {
            return Err(too_big());
        }
        bytes.reserve_exact(usize::try_from(len).map_err(|_| too_big())?);
        reader.read_to_end(&mut bytes).map_err(|e| fail(&e))?;
    }
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Refuses a split without test rows (fewer rows than [`pipeline::TEST_EVERY`]): the metrics
/// of an empty test set would print as results and mean nothing.
pub fn require_test_rows(rows: usize, test_rows: usize) -> Result<(), DataError> {
    if test_rows == 0 {
        return Err(DataError::file(DataErrorKind::EmptyTestSplit {
            rows,
            every: pipeline::TEST_EVERY,
        }));
    }
    Ok(())
}

/// Which offline phase supplies the correlated randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offline {
    /// A third party (thread or process), seed-compressed.
    Dealer,
    /// OT extension between the two servers, no third party.
    Ot,
    /// SecureNN's three servers: the third deals and also takes part online (the helper
    /// backend, [`fixshare::helper`]).
    Helper,
    /// PrivPy's four servers: two assistants compute products and comparisons online
    /// ([`fixshare::assist`]); the servers run OT between them for what else they need.
    Assistants,
}

/// Every setting of a regression run: the core's [`GlmPlan`] and what the host decides (ring
/// format, offline phase, seeds).
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
    /// How the inputs enter the products of each step (SecureML's mask reuse by default).
    pub masking: InputMasking,
    /// The non-linear backend (the sigmoid's): `Auto` picks FSS with a dealer, garbled
    /// circuits with OT, the helper's protocols with three servers.
    pub backend: Backend,
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
            masking: InputMasking::Reused,
            backend: Backend::Auto,
        }
    }

    /// What the owners and servers agree on, for the core pipeline.
    pub fn plan(&self) -> GlmPlan {
        GlmPlan {
            model: self.model,
            sgd: self.sgd,
            partition: self.partition,
            owners: self.owners,
        }
    }

    /// The session configuration both servers use.
    pub fn config(&self) -> Result<Config, Error> {
        Ok(Config {
            fixed: FixedPoint::new(self.frac_bits)?,
            truncation: self.truncation,
            backend: self.backend,
            ..Config::default()
        })
    }

    /// A seed for party or owner number `who`.
    pub fn seed_for(&self, who: u64) -> Seed {
        seed_for(self.seed, who)
    }
}

/// A seed for party or owner number `who`: derived from `seed` (tests) or fresh from the OS.
pub fn seed_for(seed: Option<u64>, who: u64) -> Seed {
    match seed {
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

/// Fresh entropy for a seed (the core has no entropy source of its own).
pub fn os_seed() -> Seed {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .expect("reading /dev/urandom");
    Seed::from_bytes(bytes)
}

/// The core's per-epoch [`Progress`] with the host's clock.
#[derive(Clone, Copy, Debug)]
pub struct Epoch {
    /// The epoch, the number of epochs and the traffic so far.
    pub progress: Progress,
    /// Time since training started.
    pub elapsed: Duration,
}

/// Turns `f` into a core progress callback that adds the time since this call.
pub fn with_clock(mut f: impl FnMut(&Epoch)) -> impl FnMut(&Progress) {
    let start = Instant::now();
    move |p| {
        f(&Epoch {
            progress: *p,
            elapsed: start.elapsed(),
        })
    }
}

/// A progress bar on stderr (epoch, time, traffic so far), only when stderr is a terminal.
pub fn progress_bar() -> impl FnMut(&Epoch) + Send + 'static {
    let tty = std::io::stderr().is_terminal();
    move |e| {
        if !tty {
            return;
        }
        let (epoch, epochs) = (e.progress.epoch, e.progress.epochs);
        let width = 30;
        let done = epoch * width / epochs.max(1);
        let size = |s: Stats| match s.bytes_sent + s.bytes_received {
            b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
            b => format!("{:.1} kB", b as f64 / 1e3),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\repoch {epoch:>3}/{epochs} [{}{}] {:.1}s, online {}, offline {}    ",
            "#".repeat(done.min(width)),
            " ".repeat(width - done.min(width)),
            e.elapsed.as_secs_f64(),
            size(e.progress.online),
            size(e.progress.offline),
        );
        if epoch == epochs {
            let _ = writeln!(err);
        }
    }
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
    async fn data_mask<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        timed!(self, self.inner.data_mask(l, rows, cols, batch))
    }
    async fn mask_triple<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        timed!(self, self.inner.mask_triple(l, mask, batch, side, n))
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
    async fn gate_keys<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        timed!(self, self.inner.gate_keys(l, gate, n))
    }
    fn deals_gate_keys(&self) -> bool {
        self.inner.deals_gate_keys()
    }
    /// Helper steps are online work: not counted as offline time.
    async fn helper_step<R: Ring>(
        &mut self,
        l: &mut Links<T>,
        step: Step,
        n: usize,
    ) -> Result<RequestStreams, Error> {
        self.inner.helper_step::<R>(l, step, n).await
    }
    fn helps_online(&self) -> bool {
        self.inner.helps_online()
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

impl ServerReport {
    /// The report of a party whose training took `total`, whose source had spent `before`
    /// when training started, after `setup` spent setting up the offline phase.
    fn of<T: Transport, C: Correlations<T>>(
        p: &Party<T, Timed<C>, u64>,
        total: Duration,
        before: Duration,
        setup: Duration,
    ) -> Self {
        let during = p.correlations().spent.saturating_sub(before);
        ServerReport {
            online: total.saturating_sub(during),
            offline: during + setup,
            online_stats: p.online_stats(),
            offline_stats: p.offline_stats(),
        }
    }
}

/// The server role of [`pipeline::serve_glm`] with clocks: receives every owner's part, trains
/// (timing the training and, through [`Timed`], its offline phase), sends the weights' shares to
/// owner 0, and reports time and traffic. `setup_time` is what setting up `source` took;
/// `on_epoch` gets the core's progress with the time since training started.
pub async fn serve_glm<T: Transport, C: Correlations<T>, O: Transport>(
    role: Role,
    peer: Link<T>,
    source: C,
    setup_time: Duration,
    owners: &mut [Link<O>],
    task: &GlmTask,
    on_epoch: impl FnMut(&Epoch),
) -> Result<ServerReport, Error> {
    let config = task.config()?;
    let seed = task.seed_for(role.index() as u64);
    let p = Party::on_link(role, peer, Timed::new(source), seed, config);
    serve_glm_on(p, setup_time, owners, task, on_epoch).await
}

/// [`serve_glm`] as a party of any topology (three or four servers: a party built on its
/// context).
pub async fn serve_glm_on<T: Transport, C: Correlations<T>, O: Transport>(
    mut p: Party<T, Timed<C>, u64>,
    setup_time: Duration,
    owners: &mut [Link<O>],
    task: &GlmTask,
    on_epoch: impl FnMut(&Epoch),
) -> Result<ServerReport, Error> {
    let plan = task.plan();
    let role = p.role();
    let (x, y) = pipeline::receive_table::<u64, _>(role, owners, plan.partition, MAX_PART).await?;
    let mut on_progress = with_clock(on_epoch);
    let t = Instant::now();
    let w = p
        .run("train_glm", async |c| {
            let (model, sgd, masking) = (plan.model, &plan.sgd, task.masking);
            pipeline::train_glm_masked_with_progress(
                c,
                &x,
                &y,
                model,
                sgd,
                masking,
                &mut on_progress,
            )
            .await
        })
        .await?;
    let total = t.elapsed();
    if let Some(owner) = owners.first_mut() {
        pipeline::send_model(owner, std::slice::from_ref(&w)).await?;
    }
    Ok(ServerReport::of(&p, total, Duration::ZERO, setup_time))
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

/// The name of the test metric of `model`.
pub fn metric_name(model: GlmModel) -> &'static str {
    match model {
        GlmModel::Linear => "r2",
        GlmModel::Logistic(_) => "accuracy",
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = metric_name(self.model);
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

/// Any failure of a run: bad data (before anything is sent) or a protocol error.
#[derive(Debug)]
pub enum RunError {
    /// The dataset was refused at the owners.
    Data(DataError),
    /// A protocol or transport failure.
    Protocol(Error),
    /// A thread panicked (a bug).
    Panic(&'static str),
    /// The parties' connections could not be made.
    Connect(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Data(e) => write!(f, "bad data: {e}"),
            RunError::Protocol(e) => write!(f, "{e}"),
            RunError::Panic(who) => write!(f, "{who} panicked"),
            RunError::Connect(e) => write!(f, "connecting the parties: {e}"),
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

/// Joins `h`, keeping the first error in `first`.
fn join<V>(
    h: thread::JoinHandle<Result<V, Error>>,
    who: &'static str,
    first: &mut Option<RunError>,
) -> Option<V> {
    match h.join() {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            first.get_or_insert(RunError::Protocol(e));
            None
        }
        Err(_) => {
            first.get_or_insert(RunError::Panic(who));
            None
        }
    }
}

/// Runs the owners, both servers and (with [`Offline::Dealer`]) the dealer on threads joined by
/// in-memory transports, and the plaintext reference beside them. The owners prepare the data
/// with [`pipeline::prepare`] and run [`pipeline::own`]; the servers run [`serve_glm`].
/// `on_epoch` runs on server 0.
pub fn run_glm_local(
    data: &Dataset,
    task: &GlmTask,
    on_epoch: impl FnMut(&Epoch) + Send + 'static,
) -> Result<Summary, RunError> {
    run_glm_over(data, task, || Ok(duplex()), on_epoch)
}

/// [`run_glm_local`] with the servers joined to each other and to the dealer, helper or
/// assistants by connections from `pair` (TLS, a shaped link, ...); the owners' links stay in
/// memory.
pub fn run_glm_over<T: Transport + Send + 'static>(
    data: &Dataset,
    task: &GlmTask,
    mut pair: impl FnMut() -> Result<(T, T), String>,
    on_epoch: impl FnMut(&Epoch) + Send + 'static,
) -> Result<Summary, RunError> {
    let config = task.config()?;
    let prepared = pipeline::prepare::<u64>(data, &task.plan(), config.fixed)?;
    require_test_rows(data.rows(), prepared.test.rows())?;
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
                let model = (k == 0).then_some(model_len);
                pipeline::own::<u64, _, _>(&part, seed, fixed, &mut to0, &mut to1, model).await
            })
        }));
    }

    // Each server's connection to the other and, with a dealer, helper or assistants, to them.
    let (peer0, peer1) = pair().map_err(RunError::Connect)?;
    let (thirds, to_thirds) = third_parties(task.offline, |who| task.seed_for(200 + who), pair)
        .map_err(RunError::Connect)?;
    let mut on_epoch = Some(on_epoch);
    let mut servers = Vec::new();
    for ((role, peer), to_third) in [(Role::P0, peer0), (Role::P1, peer1)]
        .into_iter()
        .zip(to_thirds)
    {
        let mut owners = std::mem::take(&mut server_links[role.index()]);
        let task = task.clone();
        let mut cb = if role == Role::P0 {
            on_epoch.take()
        } else {
            None
        };
        servers.push(thread::spawn(move || {
            block_on_thread(async move {
                let on_epoch = |e: &Epoch| {
                    if let Some(f) = cb.as_mut() {
                        f(e)
                    }
                };
                let t = Instant::now();
                let mut peer = Link::new(peer);
                let config = task.config()?;
                let seed = task.seed_for(role.index() as u64);
                let mut third = to_third.into_iter();
                match (task.offline, third.next(), third.next()) {
                    (Offline::Dealer, Some(link), None) => {
                        let src = DealerClient::connect(role, link).await?;
                        let setup = t.elapsed();
                        serve_glm(role, peer, src, setup, &mut owners, &task, on_epoch).await
                    }
                    (Offline::Helper, Some(helper), None) => {
                        let me = PartyId::of(role);
                        let mut links = Links::new(me);
                        links.insert(PartyId::of(role.peer()), peer)?;
                        links.insert(PartyId(2), Link::new(helper))?;
                        let src = Timed::new(DealerClient::through_helper(role, &mut links).await?);
                        let ctx =
                            Context::new(Topology::ThreeServers, me, links, src, seed, config)?;
                        let setup = t.elapsed();
                        let p = Party::from_context(ctx)?;
                        serve_glm_on(p, setup, &mut owners, &task, on_epoch).await
                    }
                    (Offline::Assistants, Some(sa), Some(sb)) => {
                        let ot_seed = task.seed_for(300 + role.index() as u64);
                        let ot = OtCorrelations::setup(role, &mut peer, ot_seed).await?;
                        let mut links = Links::new(PartyId::of(role));
                        links.insert(PartyId::of(role.peer()), peer)?;
                        links.insert(fixshare::assist::SA, Link::new(sa))?;
                        links.insert(fixshare::assist::SB, Link::new(sb))?;
                        let src = Timed::new(ot);
                        let ctx = fixshare::assist::primary(role, links, src, seed, config).await?;
                        let setup = t.elapsed();
                        serve_glm_on(
                            Party::from_context(ctx)?,
                            setup,
                            &mut owners,
                            &task,
                            on_epoch,
                        )
                        .await
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

    let mut first_err = None;
    let reports: Vec<ServerReport> = servers
        .into_iter()
        .filter_map(|s| join(s, "a server", &mut first_err))
        .collect();
    let mut weights = None;
    for o in owner_threads {
        if let Some(w) = join(o, "a data owner", &mut first_err) {
            weights = weights.or(w);
        }
    }
    for h in thirds {
        join(h, "the dealer, helper or an assistant", &mut first_err);
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let weights = weights.ok_or(RunError::Panic("owner 0 got no model"))?;
    let offline_bytes = match task.offline {
        // Each party's link to the dealer, both directions.
        Offline::Dealer | Offline::Helper => reports
            .iter()
            .map(|r| r.offline_stats.bytes_sent + r.offline_stats.bytes_received)
            .sum(),
        // The one OT link between the servers: what each sent.
        Offline::Ot | Offline::Assistants => {
            reports.iter().map(|r| r.offline_stats.bytes_sent).sum()
        }
    };
    Ok(Summary {
        model: task.model,
        secure_metric: pipeline::metric(task.model, &prepared.test, &weights),
        plain_metric: pipeline::metric(task.model, &prepared.test, &plain_weights),
        weights,
        plain_weights,
        online: reports[0].online,
        offline: reports[0].offline,
        bytes_sent: reports.iter().map(|r| r.online_stats.bytes_sent).sum(),
        offline_bytes,
        rounds: reports[0].online_stats.rounds,
    })
}

/// A thread of a party that holds no shares: the dealer, SecureNN's helper or a PrivPy assistant.
type ThirdParty = thread::JoinHandle<Result<(), Error>>;

/// Starts the parties `offline` needs beside the two servers (the dealer or helper, or the two
/// assistants, seeded by `seed(who)`), and returns their threads and each server's connections to
/// them, in party order.
fn third_parties<T: Transport + Send + 'static, E>(
    offline: Offline,
    seed: impl Fn(u64) -> Seed,
    mut pair: impl FnMut() -> Result<(T, T), E>,
) -> Result<(Vec<ThirdParty>, [Vec<T>; 2]), E> {
    Ok(match offline {
        Offline::Ot => (Vec::new(), [Vec::new(), Vec::new()]),
        Offline::Dealer | Offline::Helper => {
            let ((d0, c0), (d1, c1)) = (pair()?, pair()?);
            let s = seed(0);
            let h =
                thread::spawn(move || block_on_thread(Dealer::new(s, d0, d1).serve()).map(|_| ()));
            (vec![h], [vec![c0], vec![c1]])
        }
        Offline::Assistants => {
            let ((a1, s1a), (b1, s1b)) = (pair()?, pair()?);
            let ((a2, s2a), (b2, s2b)) = (pair()?, pair()?);
            let (ab, ba) = pair()?;
            let threads = [
                (fixshare::assist::SA, a1, a2, ab, 1),
                (fixshare::assist::SB, b1, b2, ba, 2),
            ]
            .map(|(me, s1, s2, other, who)| {
                let s = seed(who);
                thread::spawn(move || {
                    let a = fixshare::assist::Assistant::new(me, s1, s2, other, s)?;
                    block_on_thread(a.serve()).map(|_| ())
                })
            });
            (Vec::from(threads), [vec![s1a, s1b], vec![s2a, s2b]])
        }
    })
}

/// The session type of [`run_pair`].
pub type LocalParty = Party<MemoryTransport, Timed<OfflineSource<MemoryTransport>>, u64>;

/// Runs `body` as server 0 and server 1 on two threads joined by in-memory transports, with
/// the offline phase `offline` (a dealer thread, or OT between them), and returns both results.
/// Seeds are derived from `seed` (tests) or fresh from the OS (`None`). The time spent setting
/// up the offline phase is counted in the party's [`Timed::spent`].
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
    let (peer0, peer1) = duplex();
    let in_memory = || Ok::<_, std::convert::Infallible>(duplex());
    let Ok((thirds, [l0, l1])) = third_parties(offline, |who| seed_for(seed, 200 + who), in_memory);
    let spawn = |role: Role, peer: MemoryTransport, to_third: Vec<MemoryTransport>| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let t = Instant::now();
                let mut peer = Link::with_max_frame(peer, config.max_frame);
                let own = seed_for(seed, role.index() as u64);
                let mut third = to_third.into_iter();
                let src = match (offline, third.next(), third.next()) {
                    (Offline::Helper, Some(helper), None) => {
                        let me = PartyId::of(role);
                        let mut links = Links::new(me);
                        links.insert(PartyId::of(role.peer()), peer)?;
                        links.insert(PartyId(2), Link::new(helper))?;
                        let src = DealerClient::through_helper(role, &mut links).await?;
                        let mut src = Timed::new(OfflineSource::Dealer(src));
                        src.spent = t.elapsed();
                        let ctx =
                            Context::new(Topology::ThreeServers, me, links, src, own, config)?;
                        return body(Party::from_context(ctx)?).await;
                    }
                    (Offline::Assistants, Some(sa), Some(sb)) => {
                        let s = seed_for(seed, 300 + role.index() as u64);
                        let ot = OtCorrelations::setup(role, &mut peer, s).await?;
                        let mut links = Links::new(PartyId::of(role));
                        links.insert(PartyId::of(role.peer()), peer)?;
                        links.insert(fixshare::assist::SA, Link::new(sa))?;
                        links.insert(fixshare::assist::SB, Link::new(sb))?;
                        let mut src = Timed::new(OfflineSource::Ot(Box::new(ot)));
                        src.spent = t.elapsed();
                        let ctx = fixshare::assist::primary(role, links, src, own, config).await?;
                        return body(Party::from_context(ctx)?).await;
                    }
                    (_, Some(link), None) => {
                        OfflineSource::Dealer(DealerClient::connect(role, link).await?)
                    }
                    _ => {
                        let s = seed_for(seed, 300 + role.index() as u64);
                        let ot = OtCorrelations::setup(role, &mut peer, s).await?;
                        OfflineSource::Ot(Box::new(ot))
                    }
                };
                let mut src = Timed::new(src);
                src.spent = t.elapsed();
                body(Party::on_link(role, peer, src, own, config)).await
            })
        })
    };
    let a = spawn(Role::P0, peer0, l0);
    let b = spawn(Role::P1, peer1, l1);
    let ra = a.join().expect("server 0 panicked");
    let rb = b.join().expect("server 1 panicked");
    for h in thirds {
        let _ = h.join().expect("a third party panicked");
    }
    (ra, rb)
}

/// Every setting of an MLP training run.
#[derive(Clone, Debug)]
pub struct MlpTask {
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// SGD hyperparameters and the initial weights' seed.
    pub params: MlpParams,
    /// The offline phase.
    pub offline: Offline,
    /// Number of data owners (each holds a block of rows).
    pub owners: usize,
    /// Session seeds (see [`GlmTask::seed`]).
    pub seed: Option<u64>,
}

/// The outcome of an MLP training run beside its plaintext reference.
#[derive(Clone, Debug)]
pub struct MlpSummary {
    /// The securely trained network.
    pub secure: Mlp,
    /// The plaintext-trained network.
    pub plain: Mlp,
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
        writeln!(f, "secure_accuracy: {:.4}", self.secure_accuracy)?;
        writeln!(f, "plaintext_accuracy: {:.4}", self.plain_accuracy)?;
        writeln!(
            f,
            "weights_rel_rmse: {:.3e}",
            ml::plain::rel_rmse(&self.secure.flat(), &self.plain.flat())
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

/// Trains an MLP on shares: [`run_network_local`] with the perceptron of `task.sizes`
/// ([`pipeline::mlp_network`]), its initial weights from [`Mlp::init`] and the plaintext twin
/// [`Mlp::train`].
pub fn run_mlp_local(
    train: &Classes,
    test: &Classes,
    task: &MlpTask,
    on_epoch: impl FnMut(&Epoch) + Send + 'static,
) -> Result<MlpSummary, RunError> {
    let init = Mlp::init(&task.sizes, task.params.init_seed);
    let net = NetworkTask {
        net: pipeline::mlp_network(&task.sizes),
        init: init.layers.clone(),
        sgd: task.params.sgd,
        loss: task.params.loss,
        offline: task.offline,
        owners: task.owners,
        seed: task.seed,
    };
    let run = run_network_local(train, test, &net, on_epoch)?;
    let as_mlp = |w: &[Vec<f64>]| {
        Mlp::from_flat(&task.sizes, &w.concat()).ok_or(RunError::Panic("bad layer widths"))
    };
    let (secure, plain) = (as_mlp(&run.secure)?, as_mlp(&run.plain)?);
    Ok(MlpSummary {
        secure_accuracy: pipeline::mlp_accuracy(&secure, test),
        plain_accuracy: pipeline::mlp_accuracy(&plain, test),
        secure,
        plain,
        bytes_sent: run.online_bytes,
        report: run.report,
    })
}

/// Every setting of the training of any network ([`fixshare::ml::train`]).
#[derive(Clone, Debug)]
pub struct NetworkTask {
    /// The network.
    pub net: Network,
    /// Its public initial weights, one matrix per dense or convolution layer.
    pub init: Vec<Vec<f64>>,
    /// SGD hyperparameters.
    pub sgd: SgdParams,
    /// The output function and loss.
    pub loss: MlpLoss,
    /// The offline phase (with [`Offline::Helper`], three servers).
    pub offline: Offline,
    /// Number of data owners (each holds a block of rows).
    pub owners: usize,
    /// Session seeds (see [`GlmTask::seed`]).
    pub seed: Option<u64>,
}

impl NetworkTask {
    /// Flat weights (as an owner reconstructs them) cut into the layers' matrices.
    pub fn layers(&self, flat: &[f64]) -> Vec<Vec<f64>> {
        let mut at = 0;
        self.init
            .iter()
            .map(|w| {
                let end = (at + w.len()).min(flat.len());
                let layer = flat[at.min(end)..end].to_vec();
                at = end;
                layer
            })
            .collect()
    }
}

/// The outcome of a network's training beside its plaintext twin.
#[derive(Clone, Debug)]
pub struct NetworkSummary {
    /// The securely trained weights.
    pub secure: Vec<Vec<f64>>,
    /// The plaintext twin's weights.
    pub plain: Vec<Vec<f64>>,
    /// Test accuracy of the secure weights.
    pub secure_accuracy: f64,
    /// Test accuracy of the plaintext twin.
    pub plain_accuracy: f64,
    /// Server 0's online and offline time.
    pub report: ServerReport,
    /// Bytes both share holders sent each other online in the session.
    pub online_bytes: u64,
    /// Bytes all servers sent during training over the session's links: the share holders' to
    /// each other and to the helper, and, with three servers, the helper's to them.
    pub bytes_sent: u64,
}

/// The accuracy of `weights` for `net` on `data` (plaintext forward pass and argmax).
pub fn network_accuracy(net: &Network, weights: &[Vec<f64>], data: &Classes) -> Result<f64, Error> {
    let out = fixshare::ml::inference::forward_plain(net, weights, &data.x, data.rows())?;
    let k = out.len() / data.rows().max(1);
    let right = out
        .chunks_exact(k.max(1))
        .zip(&data.labels)
        .filter(|(row, l)| ml::plain::argmax(row) == **l)
        .count();
    Ok(right as f64 / data.rows().max(1) as f64)
}

/// Trains a network on shares: the owners (threads, [`pipeline::own_classes`]) share blocks of
/// training rows and their one-hot labels, the servers receive and train
/// ([`pipeline::receive_classes`], [`pipeline::train_network_with_progress`]), owner 0
/// reconstructs the weights; the plaintext twin trains beside it. `on_epoch` runs on server 0.
pub fn run_network_local(
    train: &Classes,
    test: &Classes,
    task: &NetworkTask,
    on_epoch: impl FnMut(&Epoch) + Send + 'static,
) -> Result<NetworkSummary, RunError> {
    use std::sync::{Arc, Mutex};
    require_test_rows(train.rows() + test.rows(), test.rows())?;
    let config = Config::default();
    let k = task.net.check().map_err(RunError::Protocol)?;
    task.net
        .check_weights(&task.init)
        .map_err(RunError::Protocol)?;
    let model_len: usize = task.init.iter().map(Vec::len).sum();
    let owners = task.owners.clamp(1, train.rows().max(1));
    let mut links: [Vec<Link<MemoryTransport>>; 2] = [Vec::new(), Vec::new()];
    let mut owner_threads = Vec::new();
    for o in 0..owners {
        let part = train.part(owners, o);
        let (a0, b0) = duplex();
        let (a1, b1) = duplex();
        links[0].push(Link::new(b0));
        links[1].push(Link::new(b1));
        let seed = seed_for(task.seed, 100 + o as u64);
        let model = (o == 0).then_some(model_len);
        owner_threads.push(thread::spawn(move || {
            block_on_thread(async move {
                let (mut to0, mut to1) = (Link::new(a0), Link::new(a1));
                pipeline::own_classes::<u64, _, _>(
                    &part,
                    k,
                    seed,
                    config.fixed,
                    &mut to0,
                    &mut to1,
                    model,
                )
                .await
            })
        }));
    }
    let links = Arc::new(Mutex::new(links.map(Some)));
    let callback = Arc::new(Mutex::new(Some(on_epoch)));
    let server_task = task.clone();
    let (r0, r1) = run_pair(task.offline, config, task.seed, move |mut p| {
        let (links, callback) = (links.clone(), callback.clone());
        let task = server_task.clone();
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
            let (x, y) = pipeline::receive_classes::<u64, _>(role, &mut owners, MAX_PART).await?;
            let mut on_progress = with_clock(|e: &Epoch| {
                if let Some(f) = cb.as_mut() {
                    f(e)
                }
            });
            // The offline setup is already in the source's time (see `run_pair`).
            let setup = p.correlations().spent;
            let before = p.stats();
            let t = Instant::now();
            let w = p
                .train_network(
                    &task.net,
                    &x,
                    &y,
                    &task.init,
                    &task.sgd,
                    task.loss,
                    &mut on_progress,
                )
                .await?;
            let total = t.elapsed();
            let after = p.stats();
            if let Some(owner) = owners.first_mut() {
                pipeline::send_model(owner, &w).await?;
            }
            // What this server sent, and what the helper or the assistants sent it.
            let helper_sent = match task.offline {
                Offline::Helper | Offline::Assistants => p
                    .context_mut()
                    .links()
                    .iter()
                    .filter(|(id, _)| id.0 >= 2)
                    .map(|(_, l)| l.stats().bytes_received)
                    .sum::<u64>(),
                _ => 0,
            };
            let sent = after.bytes_sent - before.bytes_sent;
            Ok((ServerReport::of(&p, total, setup, setup), sent, helper_sent))
        }
    });
    let y = pipeline::one_hot(&train.labels, k);
    let plain = fixshare::ml::train::train_network_plain(
        &task.net, &train.x, &y, &task.init, &task.sgd, task.loss,
    )
    .map_err(RunError::Protocol)?;
    let mut first_err = None;
    let mut secure = None;
    for h in owner_threads {
        if let Some(m) = join(h, "a data owner", &mut first_err) {
            secure = secure.or(m);
        }
    }
    let (r0, r1) = (r0?, r1?);
    if let Some(e) = first_err {
        return Err(e);
    }
    let flat = secure.ok_or(RunError::Panic("owner 0 got no model"))?;
    let secure = task.layers(&flat);
    Ok(NetworkSummary {
        secure_accuracy: network_accuracy(&task.net, &secure, test).map_err(RunError::Protocol)?,
        plain_accuracy: network_accuracy(&task.net, &plain, test).map_err(RunError::Protocol)?,
        secure,
        plain,
        online_bytes: r0.0.online_stats.bytes_sent + r1.0.online_stats.bytes_sent,
        bytes_sent: r0.1 + r1.1 + r0.2 + r1.2,
        report: r0.0,
    })
}
