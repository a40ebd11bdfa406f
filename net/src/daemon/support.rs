//! The parties that serve the two servers and hold no shares: the dealer (two servers),
//! SecureNN's helper (three servers; the core's dealer also serves its online steps) and PrivPy's
//! assistants A and B (four servers). Each listens for both servers; assistant A also for
//! assistant B, which connects to it.

use super::config::{Config, Role};
use super::conn::{Conn, Faults};
use super::log::{Log, bytes};
use super::{Summary, listener_logger, net_error, os_seed};
use crate::hello::SessionId;
use crate::tls::Endpoint;
use fixshare::assist::Assistant;
use fixshare::{Dealer, PartyId, Stats, block_on_thread};
use std::time::Instant;

pub(crate) fn serve(cfg: &Config, log: &Log) -> Result<Summary, String> {
    let started = Instant::now();
    let me = cfg.role.party_id();
    let ep = Endpoint::new(cfg.identity.clone(), me, SessionId::derive(&cfg.session))
        .with_timeouts(cfg.timeouts.net);
    // The peers that connect here (the servers, and at assistant A assistant B), and the one
    // this party connects to (assistant A, from assistant B).
    let (incoming, outgoing): (Vec<_>, Vec<_>) =
        cfg.peers.iter().partition(|p| p.address.is_none());
    let expected: Vec<(PartyId, _)> = incoming
        .iter()
        .map(|p| (p.role.party_id(), p.pin))
        .collect();
    let names: Vec<&str> = incoming.iter().map(|p| p.role.name()).collect();
    let listen = cfg
        .listen
        .as_deref()
        .ok_or_else(|| format!("the {} needs `listen`", cfg.role))?;
    log.line(format_args!("{} of session {:?}", cfg.role, cfg.session));
    let listener = ep
        .listen(listen, &expected)
        .map_err(|e| net_error(&format!("listening at {listen}"), &e))?;
    listener.set_logger(listener_logger(log));
    log.line(format_args!(
        "listening at {} for {}",
        listener.local_addr(),
        names.join(", ")
    ));
    let faults = Faults::default();
    let mut other = None;
    for p in outgoing {
        let addr = p.address.as_deref().unwrap_or_default();
        let t = ep
            .connect(addr, p.role.party_id(), p.pin)
            .map_err(|e| net_error(&format!("connecting to {} at {addr}", p.role), &e))?;
        log.line(format_args!(
            "connected to {} at {addr} ({})",
            p.role,
            t.negotiated()
        ));
        other = Some(Conn::new(t, p.role.name(), &faults));
    }
    let arrived = listener
        .accept_all(cfg.timeouts.wait)
        .map_err(|e| net_error(&format!("waiting at {}", listener.local_addr()), &e))?;
    let mut conns = arrived
        .into_iter()
        .zip(&names)
        .map(|(t, name)| Conn::new(t, *name, &faults));
    let (Some(c0), Some(c1)) = (conns.next(), conns.next()) else {
        return Err("a server did not connect".into());
    };
    let other = other.or_else(|| conns.next());
    let seed = os_seed()?;
    let served: Result<Stats, fixshare::Error> = match (cfg.role, other) {
        (Role::Dealer | Role::Helper, None) => {
            log.line(format_args!(
                "both servers connected; {}",
                if cfg.role == Role::Helper {
                    "dealing and helping"
                } else {
                    "dealing"
                }
            ));
            block_on_thread(Dealer::new(seed, c0, c1).serve()).map(|(s0, s1)| s0 + s1)
        }
        (Role::AssistantA | Role::AssistantB, Some(other)) => {
            log.line(format_args!(
                "both servers and the other assistant connected; assisting"
            ));
            Assistant::new(me, c0, c1, other, seed).and_then(|a| block_on_thread(a.serve()))
        }
        (role, _) => return Err(format!("the {role} does not serve the servers")),
    };
    let stats = served.map_err(|e| match faults.first() {
        Some(f) => format!("serving the servers: {e} ({f})"),
        None => format!("serving the servers: {e}"),
    })?;
    // This party serves until both servers have closed their connections; each must have
    // closed in order (a server whose job failed cuts its connections instead).
    if let Some(f) = faults.first() {
        return Err(format!("a server did not finish its job: {f}"));
    }
    faults.done();
    drop(listener);
    log.line(format_args!(
        "both servers closed their connections; sent {} in all; done",
        bytes(stats.bytes_sent)
    ));
    let mut s = Summary::default();
    s.push("role", cfg.role);
    s.push("session", &cfg.session);
    s.push("status", "ok");
    s.push(
        "seconds",
        format_args!("{:.3}", started.elapsed().as_secs_f64()),
    );
    s.push("bytes_sent", stats.bytes_sent);
    s.push("bytes_received", stats.bytes_received);
    Ok(s)
}
