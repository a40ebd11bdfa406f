//! The gateway of a data owner on a device: reads the device's two sealed messages (its
//! `SEALED0`/`SEALED1` lines), sends each to its server over TLS with the gateway's own pinned
//! key, and waits for each server's receipt (an orderly close once the server has opened the
//! message). It holds no key of the device and cannot read what it relays; it checks only the
//! public header, so that a message for another session, owner or server is refused here rather
//! than at the server.

use super::config::{Config, Role};
use super::log::Log;
use super::{Summary, job_session, net_error};
use crate::device::{MAX_SEALED_PLAINTEXT, parse_sealed_lines};
use crate::tls::TlsTransport;
use fixshare::sealed::{Address, HEADER_LEN, Header, OVERHEAD, Refusal};
use fixshare::{Transport, block_on_thread};
use std::time::Instant;

/// Checks the public header of `message`, the device's message for `server`, against what this
/// gateway relays.
fn check_header(message: &[u8], expect: &Address) -> Result<(), String> {
    let refused = |r: Refusal| format!("the SEALED{} line: {r}", expect.server);
    let head = message
        .first_chunk::<HEADER_LEN>()
        .ok_or_else(|| refused(Refusal::Truncated))?;
    let header = Header::decode(head, MAX_SEALED_PLAINTEXT)
        .map_err(|e| refused(Refusal::of(&e).unwrap_or(Refusal::Malformed)))?;
    header.check(expect).map_err(|r| match r {
        Refusal::WrongSession => format!(
            "{}: the device was provisioned for another session or [job] than this gateway's",
            refused(r)
        ),
        Refusal::WrongOwner => format!(
            "{}: it says owner {}, this gateway relays owner {}",
            refused(r),
            header.to.owner,
            expect.owner
        ),
        r => refused(r),
    })?;
    if (message.len() - HEADER_LEN) as u64 != header.body_len {
        return Err(refused(
            if ((message.len() - HEADER_LEN) as u64) < header.body_len {
                Refusal::Truncated
            } else {
                Refusal::Malformed
            },
        ));
    }
    Ok(())
}

/// Relays the sealed messages in `text` (the device's output, read from `source`) for the
/// gateway `cfg`.
pub(crate) fn relay(cfg: &Config, text: &str, source: &str, log: &Log) -> Result<Summary, String> {
    let started = Instant::now();
    let job = cfg.job.as_ref().ok_or("a gateway needs a [job]")?;
    let session = job_session(&cfg.session, job);
    let owner = cfg.owner_index;
    log.line(format_args!(
        "gateway of device owner {owner} of session {:?}: {}",
        cfg.session,
        job.describe()
    ));
    let messages = parse_sealed_lines(text, MAX_SEALED_PLAINTEXT + OVERHEAD)
        .map_err(|e| format!("{source}: {e}"))?;
    for (server, m) in messages.iter().enumerate() {
        let expect = Address {
            session: session.0,
            owner: u32::try_from(owner).map_err(|_| "owner index out of range")?,
            server: server as u8,
        };
        check_header(m, &expect).map_err(|e| format!("{source}: {e}"))?;
    }
    log.line(format_args!(
        "{source}: sealed messages of {} and {} bytes for server0 and server1",
        messages[0].len(),
        messages[1].len()
    ));

    // Both messages out, then both receipts: a server opens its message once every owner is
    // connected to it, so the gateway waits for neither before it reaches the other.
    let mut sent: Vec<(Role, TlsTransport)> = Vec::new();
    for (role, m) in [Role::Server0, Role::Server1].into_iter().zip(&messages) {
        let addr = cfg
            .peer(role)
            .and_then(|p| p.address.clone())
            .unwrap_or_default();
        let mut t = cfg
            .connect(role)
            .map_err(|e| net_error(&format!("connecting to {role} at {addr}"), &e))?;
        log.line(format_args!(
            "connected to {role} at {addr} ({})",
            t.negotiated()
        ));
        let wrote = block_on_thread(async {
            t.send(m).await?;
            t.flush().await
        });
        if wrote.is_err() {
            let why = t
                .last_error()
                .map_or("the connection failed".into(), |e| e.to_string());
            return Err(format!("sending {role} its sealed message: {why}"));
        }
        sent.push((role, t));
    }
    for (role, mut t) in sent {
        let mut byte = [0u8; 1];
        let got = block_on_thread(t.recv(&mut byte));
        match (got, t.last_error()) {
            (Err(_), Some(e)) if e.is_orderly_close() => {
                log.line(format_args!("{role} took the sealed message"));
            }
            (Ok(()), _) => {
                return Err(format!(
                    "{role} answered instead of taking the sealed message"
                ));
            }
            (Err(_), e) => {
                return Err(format!(
                    "{role} did not take the sealed message ({}); its log says why",
                    e.map_or("the connection failed".into(), |e| e.to_string())
                ));
            }
        }
    }
    let mut s = Summary::default();
    s.push("role", "gateway");
    s.push("session", &cfg.session);
    s.push("owner", owner);
    s.push("status", "ok");
    s.push("bytes_server0", messages[0].len());
    s.push("bytes_server1", messages[1].len());
    s.push(
        "seconds",
        format_args!("{:.3}", started.elapsed().as_secs_f64()),
    );
    log.line("both servers took their sealed messages; done");
    Ok(s)
}
