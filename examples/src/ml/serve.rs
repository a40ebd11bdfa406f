//! Oblivious classification in one process (MiniONN's setting): server 0 holds a network's
//! weights, server 1 is the client with the images, and only the client learns the classes.
//! Queries of a few images each run one after another in one session (its offline setup paid
//! once), timed and counted online and offline at the client, beside the plaintext forward pass.

use super::{LocalParty, Offline, RunError, run_pair};
use fixshare::ml::inference::{Network, forward_plain};
use fixshare::ml::plain::argmax;
use fixshare::{Config, Error, ErrorKind, PartyId, Role, Stats, Sub};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The settings of a session of oblivious classification.
#[derive(Clone, Copy, Debug)]
pub struct ServeTask {
    /// The offline phase (a dealer, OT between the two parties, or SecureNN's helper).
    pub offline: Offline,
    /// The session configuration (backend, truncation, fixed point).
    pub config: Config,
    /// Images per query (MiniONN serves one).
    pub batch: usize,
    /// Session seeds (see [`super::seed_for`]).
    pub seed: Option<u64>,
}

/// What a session of oblivious classification measured.
#[derive(Clone, Debug, Default)]
pub struct ServeReport {
    /// The classes the client learnt, one per image.
    pub classes: Vec<usize>,
    /// Queries served.
    pub queries: usize,
    /// The client's time in its queries, less the time it spent in the offline phase.
    pub online: Duration,
    /// The client's time in the offline phase: setting it up (base OTs, the dealer's
    /// connection) and every correlation fetched during the queries.
    pub offline: Duration,
    /// Bytes every party of the session sent online: the two parties to each other and, with
    /// the helper, the helper's online messages to them.
    pub online_bytes: u64,
    /// Bytes of the offline phase: both directions of each party's link to the dealer or
    /// helper, or what each party sent the other for OT.
    pub offline_bytes: u64,
    /// The client's online communication rounds.
    pub rounds: u64,
}

/// One party's account: its classes (the client's), its online and offline time, its
/// traffic online, offline, and from the helper online.
type Account = (Option<Vec<usize>>, Duration, Duration, Stats, Stats, u64);

/// Serves `rows` images (`images`, `rows x net.input`) in queries of `task.batch`: server 0
/// shares `weights` and server 1 its images in each query ([`fixshare::Party::classify`]), and
/// server 1 gets the classes. Threads joined by in-memory transports; the dealer or helper is a
/// third thread where the offline phase needs one.
pub fn classify_local(
    net: &Network,
    weights: &[Vec<f64>],
    images: &[f64],
    rows: usize,
    task: &ServeTask,
) -> Result<ServeReport, RunError> {
    let bad = |why| RunError::Protocol(Error::new("serve", ErrorKind::InvalidArgument(why)));
    net.check()?;
    net.check_weights(weights)?;
    if task.batch == 0 {
        return Err(bad("a query needs at least one image"));
    }
    if rows.checked_mul(net.input) != Some(images.len()) {
        return Err(bad("the images are not rows x the network's input width"));
    }
    let shared = Arc::new((net.clone(), weights.to_vec(), images.to_vec()));
    let (batch, offline) = (task.batch, task.offline);
    let (r0, r1) = run_pair(offline, task.config, task.seed, move |p: LocalParty| {
        let shared = shared.clone();
        async move { serve_queries(p, &shared.0, &shared.1, &shared.2, rows, batch).await }
    });
    let (_, _, _, on0, off0, helper0) = r0?;
    let (classes, online, offline_time, on1, off1, helper1) = r1?;
    let classes = classes.ok_or(RunError::Panic("the client got no classes"))?;
    let offline_bytes = if offline == Offline::Ot {
        // One link between the two: what each sent.
        off0.bytes_sent + off1.bytes_sent
    } else {
        // Each party's link to the third party, both directions.
        off0.bytes_sent + off0.bytes_received + off1.bytes_sent + off1.bytes_received
    };
    Ok(ServeReport {
        classes,
        queries: rows.div_ceil(batch),
        online,
        offline: offline_time,
        online_bytes: on0.bytes_sent + on1.bytes_sent + helper0 + helper1,
        offline_bytes,
        rounds: on1.rounds,
    })
}

/// One party's side of [`classify_local`].
async fn serve_queries(
    mut p: LocalParty,
    net: &Network,
    weights: &[Vec<f64>],
    images: &[f64],
    rows: usize,
    batch: usize,
) -> Result<Account, Error> {
    let server = p.role() == Role::P0;
    let before = p.correlations().spent;
    let mut classes = Vec::with_capacity(rows);
    let t = Instant::now();
    let mut start = 0;
    while start < rows {
        let n = batch.min(rows - start);
        let x = &images[start * net.input..(start + n) * net.input];
        let got = p
            .classify(
                net,
                Role::P0,
                server.then_some(weights),
                (!server).then_some(x),
                n,
            )
            .await?;
        classes.extend(got.unwrap_or_default());
        start += n;
    }
    let total = t.elapsed();
    let spent = p.correlations().spent;
    let helper = p
        .context_mut()
        .links()
        .iter()
        .filter(|(id, _)| *id == PartyId(2))
        .map(|(_, l)| {
            l.sub_stats(Sub::Online).bytes_received + l.sub_stats(Sub::Circuits).bytes_received
        })
        .sum();
    Ok((
        (!server).then_some(classes),
        total.saturating_sub(spent.saturating_sub(before)),
        spent,
        p.online_stats(),
        p.offline_stats(),
        helper,
    ))
}

/// The plaintext reference of [`classify_local`]: the `f64` forward pass and argmax of each
/// image, in the same queries, and the time it took.
pub fn classify_plain(
    net: &Network,
    weights: &[Vec<f64>],
    images: &[f64],
    rows: usize,
    batch: usize,
) -> Result<(Vec<usize>, Duration), Error> {
    let k = net.check()?;
    let batch = batch.max(1);
    let mut classes = Vec::with_capacity(rows);
    let t = Instant::now();
    let mut start = 0;
    while start < rows {
        let n = batch.min(rows - start);
        let x = images
            .get(start * net.input..(start + n) * net.input)
            .ok_or(Error::dimension("serve", rows * net.input, images.len()))?;
        let out = forward_plain(net, weights, x, n)?;
        classes.extend(out.chunks_exact(k.max(1)).map(argmax));
        start += n;
    }
    Ok((classes, t.elapsed()))
}
