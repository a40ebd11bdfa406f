//! Server 0 and server 1: listen, gather the peers and the data owners, receive the owners'
//! shares, train, send the model's shares to owner 0.

use super::config::{Config, Role};
use super::conn::{Conn, Faults};
use super::log::{Log, bytes};
use super::{Summary, job_session, listener_logger, net_error, os_seed};
use crate::device::{self, MAX_SEALED_PLAINTEXT};
use crate::error::NetError;
use crate::hello::SessionId;
use crate::identity::Pin;
use crate::tls::Endpoint;
use fixshare::assist;
use fixshare::ml::pipeline::{self, MAX_PART, Progress};
use fixshare::sealed::Address;
use fixshare::{
    Context, DealerClient, Error, Link, Links, OfflineSource, OtCorrelations, Party, PartyId,
    Role as Side, Shares, Topology, block_on_thread,
};
use fixshare_job::{Job, JobKind, Offline};
use std::time::Instant;

type Server = Party<Conn, OfflineSource<Conn>, u64>;

/// A protocol error, with the first connection failure behind it (which peer, what happened).
fn explain(what: &str, e: &Error, faults: &Faults) -> String {
    match faults.first() {
        Some(f) => format!("{what}: {e} ({f})"),
        None => format!("{what}: {e}"),
    }
}

pub(crate) fn serve(cfg: &Config, log: &Log) -> Result<Summary, String> {
    let started = Instant::now();
    let job = cfg.job.as_ref().ok_or("a server needs a [job]")?;
    let side = if cfg.role == Role::Server0 {
        Side::P0
    } else {
        Side::P1
    };
    let me = cfg.role.party_id();
    let net = cfg.timeouts.net;
    let with_job =
        Endpoint::new(cfg.identity.clone(), me, job_session(&cfg.session, job)).with_timeouts(net);
    let plain =
        Endpoint::new(cfg.identity.clone(), me, SessionId::derive(&cfg.session)).with_timeouts(net);
    let faults = Faults::default();
    log.line(format_args!(
        "{} of session {:?}: {}",
        cfg.role,
        cfg.session,
        job.describe()
    ));

    // Listen for the data owners, and at server 0 for server 1; the owners may also come over
    // WebSocket (web pages), each over either listener.
    let owner_peers: Vec<(PartyId, Pin)> = cfg
        .owners
        .iter()
        .map(|pin| (Role::Owner.party_id(), *pin))
        .collect();
    // Only the owners that connect themselves may come over WebSocket; a device's gateway is
    // a TLS client.
    let ws_owners: Vec<(PartyId, Pin)> = owner_peers
        .iter()
        .enumerate()
        .filter(|(k, _)| cfg.device(*k).is_none())
        .map(|(_, p)| *p)
        .collect();
    let mut expected = Vec::new();
    let mut names = Vec::new();
    if cfg.role == Role::Server0 {
        let s1 = cfg.peer(Role::Server1).ok_or("server1 is not configured")?;
        expected.push((PartyId(1), s1.pin));
        names.push("server1".to_string());
    }
    expected.extend(owner_peers.iter().copied());
    names.extend((0..owner_peers.len()).map(|k| match cfg.device(k) {
        Some(_) => format!("owner {k} (a device, through its gateway)"),
        None => format!("owner {k}"),
    }));
    let listen = cfg.listen.as_deref().ok_or("a server needs `listen`")?;
    let listener = with_job
        .listen(listen, &expected)
        .map_err(|e| net_error(&format!("listening at {listen}"), &e))?;
    listener.set_logger(listener_logger(log));
    log.line(format_args!(
        "listening at {} for {}",
        listener.local_addr(),
        summarize(&names)
    ));
    let websocket = match cfg.listen_websocket.as_deref() {
        Some(addr) => {
            let ws = listener
                .websocket(addr, &ws_owners, cfg.websocket_identity.clone())
                .map_err(|e| net_error(&format!("listening for WebSockets at {addr}"), &e))?;
            log.line(format_args!(
                "listening at {} for data owners over WebSocket (wss://), with {}",
                ws.local_addr(),
                match &cfg.websocket_identity {
                    Some(id) => format!("the certificate of key {}", id.pin()),
                    None => "this server's own certificate".into(),
                }
            ));
            Some(ws)
        }
        None => None,
    };

    // Server 1 reaches server 0 (retrying while it is not up).
    let connect = |ep: &Endpoint, role: Role| -> Result<Conn, String> {
        let p = cfg
            .peer(role)
            .ok_or_else(|| format!("{role} is not configured"))?;
        let addr = p.address.as_deref().unwrap_or_default();
        let t = ep
            .connect(addr, role.party_id(), p.pin)
            .map_err(|e| net_error(&format!("connecting to {role} at {addr}"), &e))?;
        log.line(format_args!(
            "connected to {role} at {addr} ({})",
            t.negotiated()
        ));
        Ok(Conn::new(t, role.name(), &faults))
    };
    let mut peer = match cfg.role {
        Role::Server1 => Some(connect(&with_job, Role::Server0)?),
        _ => None,
    };
    let mut arrived = listener
        .accept_all_from(websocket.as_ref(), cfg.timeouts.wait)
        .map_err(|e| match e {
            NetError::Missing { parties, after } => {
                let missing: Vec<String> = parties.iter().map(|p| names[p.0].clone()).collect();
                format!(
                    "waiting at {}: {} did not connect within {after:?}",
                    listener.local_addr(),
                    summarize(&missing)
                )
            }
            e => net_error(&format!("waiting at {}", listener.local_addr()), &e),
        })?
        .into_iter();
    if cfg.role == Role::Server0 {
        let t = arrived.next().ok_or("server1 did not connect")?;
        peer = Some(Conn::new(t, "server1", &faults));
    }
    let peer = peer.ok_or("no connection to the other server")?;
    let session_id = with_job.session().0;
    let mut owners: Vec<Link<Conn>> = Vec::new();
    for (k, t) in arrived.enumerate() {
        let (t, name) = match cfg.device(k) {
            // A device's gateway: its one sealed message, opened here and replayed to the
            // intake below as if the device were connected.
            Some(d) => {
                let from = t
                    .peer_addr()
                    .map(|a| format!(" at {a}"))
                    .unwrap_or_default();
                let expect = Address {
                    session: session_id,
                    owner: k as u32,
                    server: side.index() as u8,
                };
                let t = device::receive(t, &d.key, &expect, MAX_SEALED_PLAINTEXT)
                    .map_err(|e| format!("owner {k} (a device, through its gateway{from}): {e}"))?;
                (
                    t,
                    format!("owner {k} (a device, through its gateway{from})"),
                )
            }
            None => (t, format!("owner {k}")),
        };
        log.line(format_args!("owner {k}: {}", t.negotiated()));
        owners.push(Link::new(Conn::new(t, name, &faults)));
    }
    log.line(format_args!(
        "all {} data owner(s) connected; receiving their shares",
        owners.len()
    ));

    // The owners' data.
    let received = block_on_thread(async {
        match &job.kind {
            JobKind::Glm { partition, .. } => {
                pipeline::receive_table::<u64, _>(side, &mut owners, *partition, MAX_PART).await
            }
            JobKind::Network(_) => {
                pipeline::receive_classes::<u64, _>(side, &mut owners, MAX_PART).await
            }
        }
    });
    let (x, y) = received.map_err(|e| explain("receiving the owners' shares", &e, &faults))?;
    for (k, o) in owners.iter_mut().enumerate() {
        if let Some(n) = o.get_mut().unread().filter(|n| *n > 0) {
            return Err(format!(
                "owner {k} (a device): {n} bytes of its sealed message were left over: it sent \
                 more than its part of the job"
            ));
        }
    }
    log.line(format_args!(
        "received {} training rows: {} feature and {} target column(s)",
        x.rows(),
        x.cols(),
        y.cols()
    ));
    if let JobKind::Network(n) = &job.kind
        && (x.cols() != n.net.input || y.cols() != n.classes)
    {
        return Err(format!(
            "the owners sent {} features and {} classes; {} takes {} and {}",
            x.cols(),
            y.cols(),
            n.name,
            n.net.input,
            n.classes
        ));
    }

    // The session: the offline source, then training.
    let others = match job.offline {
        Offline::Dealer => vec![connect(&plain, Role::Dealer)?],
        Offline::Helper => vec![connect(&plain, Role::Helper)?],
        Offline::Assistants => vec![
            connect(&plain, Role::AssistantA)?,
            connect(&plain, Role::AssistantB)?,
        ],
        Offline::Ot => Vec::new(),
    };
    let mut party = block_on_thread(session(side, job, peer, others))
        .map_err(|e| explain("setting up the session", &e, &faults))?;
    log.line(format_args!(
        "session ready ({} offline phase); training",
        match job.offline {
            Offline::Dealer => "dealer",
            Offline::Ot => "OT",
            Offline::Helper => "helper",
            Offline::Assistants => "OT, with the assistants online",
        }
    ));
    let train_start = Instant::now();
    let mut on_progress = |p: &Progress| {
        log.line(format_args!(
            "epoch {}/{}: {:.2} s, online {} sent, {} received, offline {}",
            p.epoch,
            p.epochs,
            train_start.elapsed().as_secs_f64(),
            bytes(p.online.bytes_sent),
            bytes(p.online.bytes_received),
            bytes(p.offline.bytes_sent + p.offline.bytes_received),
        ))
    };
    let trained = block_on_thread(async {
        let weights: Vec<Shares<u64>> = match &job.kind {
            JobKind::Glm { model, .. } => {
                let w = party
                    .run("train_glm", async |c| {
                        pipeline::train_glm_with_progress(
                            c,
                            &x,
                            &y,
                            *model,
                            &job.sgd,
                            &mut on_progress,
                        )
                        .await
                    })
                    .await?;
                vec![w]
            }
            JobKind::Network(n) => {
                party
                    .run("train_network", async |c| {
                        pipeline::train_network_with_progress(
                            c,
                            &n.net,
                            &x,
                            &y,
                            &n.init,
                            &job.sgd,
                            n.loss,
                            &mut on_progress,
                        )
                        .await
                    })
                    .await?
            }
        };
        let train_seconds = train_start.elapsed().as_secs_f64();
        let owner0 = owners.first_mut().ok_or(Error::new(
            "send_model",
            fixshare::ErrorKind::InvalidArgument("no data owner"),
        ))?;
        pipeline::send_model(owner0, &weights).await?;
        owner0.flush_pending("send_model").await?;
        Ok::<_, Error>(train_seconds)
    });
    let train_seconds = trained.map_err(|e| explain("training", &e, &faults))?;
    // Done: every connection now closes in order (a failure above cuts them instead).
    faults.done();
    let owner_count = owners.len();
    drop(owners);
    let (online, offline, all) = (party.online_stats(), party.offline_stats(), party.stats());
    drop(party);
    drop(websocket);
    drop(listener);
    log.line(format_args!(
        "sent this server's shares of the model to owner 0; done"
    ));

    let mut s = Summary::default();
    s.push("role", cfg.role);
    s.push("session", &cfg.session);
    s.push("job", job.kind_name());
    s.push("status", "ok");
    s.push("owners", owner_count);
    s.push("rows", x.rows());
    s.push("features", x.cols());
    s.push("epochs", job.sgd.epochs);
    s.push("train_seconds", format_args!("{train_seconds:.3}"));
    s.push(
        "seconds",
        format_args!("{:.3}", started.elapsed().as_secs_f64()),
    );
    s.push("bytes_sent", all.bytes_sent);
    s.push("bytes_received", all.bytes_received);
    s.push("online_bytes_sent", online.bytes_sent);
    s.push("offline_bytes", offline.bytes_sent + offline.bytes_received);
    s.push("rounds", online.rounds);
    if let Some(peak) = peak_memory() {
        s.push("peak_memory_bytes", peak);
    }
    Ok(s)
}

/// The process's peak resident memory so far (Linux: `VmHWM` of `/proc/self/status`).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// `names`, joined, the first ten of a long list and how many more.
fn summarize(names: &[String]) -> String {
    const SHOWN: usize = 10;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}

/// This server's party: over the link to the other server, with the connections `others` to
/// the parties that serve the servers (the dealer, the helper, or assistants A and B; none for
/// OT with the other server).
async fn session(side: Side, job: &Job, peer: Conn, others: Vec<Conn>) -> Result<Server, Error> {
    let config = job.protocol();
    let seed = |op| {
        os_seed().map_err(|_| {
            Error::new(
                op,
                fixshare::ErrorKind::Unsupported("the operating system's random source failed"),
            )
        })
    };
    let mut link = Link::with_max_frame(peer, config.max_frame);
    let mut others = others.into_iter();
    match (job.offline, others.next(), others.next()) {
        (Offline::Dealer, Some(dealer), None) => {
            let source = DealerClient::connect(side, dealer).await?;
            Ok(Party::on_link(
                side,
                link,
                OfflineSource::Dealer(source),
                seed("session")?,
                config,
            ))
        }
        (Offline::Ot, None, None) => {
            let ot = OtCorrelations::setup(side, &mut link, seed("ot")?).await?;
            Ok(Party::on_link(
                side,
                link,
                OfflineSource::Ot(Box::new(ot)),
                seed("session")?,
                config,
            ))
        }
        (Offline::Helper, Some(helper), None) => {
            let me = PartyId::of(side);
            let mut links = Links::new(me);
            links.insert(PartyId::of(side.peer()), link)?;
            links.insert(PartyId(2), Link::new(helper))?;
            let source = DealerClient::through_helper(side, &mut links).await?;
            let ctx = Context::new(
                Topology::ThreeServers,
                me,
                links,
                OfflineSource::Dealer(source),
                seed("session")?,
                config,
            )?;
            Party::from_context(ctx)
        }
        (Offline::Assistants, Some(sa), Some(sb)) => {
            let ot = OtCorrelations::setup(side, &mut link, seed("ot")?).await?;
            let mut links = Links::new(PartyId::of(side));
            links.insert(PartyId::of(side.peer()), link)?;
            links.insert(assist::SA, Link::new(sa))?;
            links.insert(assist::SB, Link::new(sb))?;
            let source = OfflineSource::Ot(Box::new(ot));
            let ctx = assist::primary(side, links, source, seed("session")?, config).await?;
            Party::from_context(ctx)
        }
        _ => Err(Error::new(
            "session",
            fixshare::ErrorKind::InvalidArgument("the offline phase and its connections disagree"),
        )),
    }
}
