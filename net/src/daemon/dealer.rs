//! The dealer (two servers) and SecureNN's helper (three servers): both listen for the two
//! servers and run the core's dealer, which also serves the helper's online steps.

use super::config::{Config, Role};
use super::conn::{Conn, Faults};
use super::log::{Log, bytes};
use super::{Summary, listener_logger, net_error, os_seed};
use crate::hello::SessionId;
use crate::tls::Endpoint;
use fixshare::{Dealer, PartyId, block_on_thread};
use std::time::Instant;

pub(crate) fn deal(cfg: &Config, log: &Log) -> Result<Summary, String> {
    let started = Instant::now();
    let me = cfg.role.party_id();
    let ep = Endpoint::new(cfg.identity.clone(), me, SessionId::derive(&cfg.session))
        .with_timeouts(cfg.timeouts.net);
    let pin = |role: Role| {
        cfg.peer(role)
            .map(|p| p.pin)
            .ok_or_else(|| format!("{role} is not configured"))
    };
    let expected = [
        (PartyId(0), pin(Role::Server0)?),
        (PartyId(1), pin(Role::Server1)?),
    ];
    let listen = cfg.listen.as_deref().ok_or("the dealer needs `listen`")?;
    log.line(format_args!("{} of session {:?}", cfg.role, cfg.session));
    let listener = ep
        .listen(listen, &expected)
        .map_err(|e| net_error(&format!("listening at {listen}"), &e))?;
    listener.set_logger(listener_logger(log));
    log.line(format_args!(
        "listening at {} for server0, server1",
        listener.local_addr()
    ));
    let mut both = listener
        .accept_all(cfg.timeouts.wait)
        .map_err(|e| net_error(&format!("waiting at {}", listener.local_addr()), &e))?
        .into_iter();
    let faults = Faults::default();
    let (Some(t0), Some(t1)) = (both.next(), both.next()) else {
        return Err("a server did not connect".into());
    };
    let (c0, c1) = (
        Conn::new(t0, "server0", &faults),
        Conn::new(t1, "server1", &faults),
    );
    log.line(format_args!(
        "both servers connected; {}",
        if cfg.role == Role::Helper {
            "dealing and helping"
        } else {
            "dealing"
        }
    ));
    let seed = os_seed()?;
    let served = block_on_thread(Dealer::new(seed, c0, c1).serve());
    let (s0, s1) = served.map_err(|e| match faults.first() {
        Some(f) => format!("serving the servers: {e} ({f})"),
        None => format!("serving the servers: {e}"),
    })?;
    // The dealer serves until both servers have closed their connections; each must have
    // closed in order (a server whose job failed cuts its connections instead).
    if let Some(f) = faults.first() {
        return Err(format!("a server did not finish its job: {f}"));
    }
    drop(listener);
    log.line(format_args!(
        "both servers closed their connections; sent {} in all; done",
        bytes(s0.bytes_sent + s1.bytes_sent)
    ));
    let mut s = Summary::default();
    s.push("role", cfg.role);
    s.push("session", &cfg.session);
    s.push("status", "ok");
    s.push(
        "seconds",
        format_args!("{:.3}", started.elapsed().as_secs_f64()),
    );
    s.push("bytes_sent", s0.bytes_sent + s1.bytes_sent);
    s.push("bytes_received", s0.bytes_received + s1.bytes_received);
    Ok(s)
}
