//! A data owner's configuration without files, as a web page holds it: the session, the
//! owner's number, the two servers' WebSocket addresses and pins, and the `[job]` section,
//! the same as in the servers' files.
//!
//! ```toml
//! session = "breast-cancer-2026-05"
//! index = 1
//! [peers.server0]
//! address = "wss://server0.example:7111"
//! pin = "sha256:..."          # server 0's fixshare-party key (fixshare-net keygen printed it)
//! [peers.server1]
//! address = "wss://server1.example:7112"
//! pin = "sha256:..."
//! [job]
//! kind = "train_glm"
//! owners = 2
//! ```

use crate::Invalid;
use crate::hello::{Hello, PROTOCOL_VERSION, SessionId};
use crate::job::{Job, RawJob, job_session};
use crate::pin::Pin;
use fixshare::session::PartyId;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwner {
    session: String,
    index: usize,
    peers: RawPeers,
    job: RawJob,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeers {
    server0: RawServer,
    server1: RawServer,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    address: String,
    pin: String,
}

/// Where a server takes data owners over WebSocket, and the pin of its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// The `wss://` URL of its WebSocket listener (`listen_websocket`).
    pub url: String,
    /// The pin of the server's `fixshare-party` key (as in an owner's TLS configuration).
    pub pin: Pin,
}

/// A checked browser owner's configuration.
#[derive(Clone, Debug)]
pub struct OwnerConfig {
    /// The session name, the same as in the servers' files.
    pub session: String,
    /// This owner's number, 0 to `owners - 1`; owner 0 gets the model.
    pub index: usize,
    /// Server 0 and server 1.
    pub servers: [ServerAddress; 2],
    /// The job, the same as in the servers' files.
    pub job: Job,
}

impl OwnerConfig {
    /// Reads and checks the TOML text of a browser owner's configuration (see the module's
    /// documentation); refuses an unknown key, a seed, a server address that is not `wss://`
    /// and a malformed pin, naming it.
    pub fn parse(text: &str) -> Result<OwnerConfig, Invalid> {
        let raw: RawOwner = toml::from_str(text).map_err(|e| Invalid(e.to_string()))?;
        if raw.session.trim().is_empty() {
            return Err(Invalid(
                "session is empty: name the job's session (the same as in the servers' files)"
                    .into(),
            ));
        }
        let job = raw
            .job
            .check()
            .map_err(|e| Invalid(format!("[job]: {}", e.0)))?;
        if raw.index >= job.owners {
            return Err(Invalid(format!(
                "index = {}, but the job has {} data owner(s) (index 0 to {})",
                raw.index,
                job.owners,
                job.owners - 1
            )));
        }
        let server = |name: &str, s: RawServer| -> Result<ServerAddress, Invalid> {
            if !s.address.starts_with("wss://") {
                return Err(Invalid(format!(
                    "[peers.{name}] address = {:?}: a data owner's rows go over TLS only \
                     (a wss:// URL)",
                    s.address
                )));
            }
            let pin = s
                .pin
                .parse::<Pin>()
                .map_err(|e| Invalid(format!("[peers.{name}] pin: {e}")))?;
            Ok(ServerAddress {
                url: s.address,
                pin,
            })
        };
        let s0 = server("server0", raw.peers.server0)?;
        let s1 = server("server1", raw.peers.server1)?;
        if s0.pin == s1.pin {
            return Err(Invalid(
                "server0 and server1 have the same pin: every server has a key of its own".into(),
            ));
        }
        Ok(OwnerConfig {
            session: raw.session,
            index: raw.index,
            servers: [s0, s1],
            job,
        })
    }

    /// The session id the servers derive from the same session and `[job]` (what `fixshare-party
    /// check` prints as `session_id`).
    pub fn session_id(&self) -> SessionId {
        job_session(&self.session, &self.job)
    }

    /// This owner's party id: 16, as every data owner's (its key says which owner it is).
    pub fn party(&self) -> PartyId {
        PartyId(16)
    }

    /// This owner's hello to server `server` (0 or 1).
    pub fn hello(&self, server: u8) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            session: self.session_id(),
            from: self.party(),
            to: PartyId(server),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(addr0: &str, pin1: &str) -> String {
        format!(
            "session = \"s\"\nindex = 1\n[peers.server0]\naddress = \"{addr0}\"\npin = \"{}\"\n\
             [peers.server1]\naddress = \"wss://b:2\"\npin = \"{pin1}\"\n[job]\nkind = \
             \"train_glm\"\nowners = 2\n",
            Pin::of_spki(b"0")
        )
    }

    #[test]
    fn parses_and_refuses() {
        let pin1 = Pin::of_spki(b"1").to_string();
        let c = OwnerConfig::parse(&text("wss://a:1", &pin1)).unwrap();
        assert_eq!(c.index, 1);
        assert_eq!(c.party(), PartyId(16));
        assert_eq!(c.session_id(), job_session("s", &c.job));
        assert_eq!(c.hello(1).to, PartyId(1));
        let e = OwnerConfig::parse(&text("ws://a:1", &pin1)).unwrap_err();
        assert!(e.0.contains("TLS only"), "{e}");
        let e = OwnerConfig::parse(&text("wss://a:1", "sha256:12")).unwrap_err();
        assert!(e.0.contains("[peers.server1] pin"), "{e}");
        let same = Pin::of_spki(b"0").to_string();
        assert!(OwnerConfig::parse(&text("wss://a:1", &same)).is_err());
        let e = OwnerConfig::parse(&(text("wss://a:1", &pin1) + "seed = 3\n")).unwrap_err();
        assert!(e.0.contains("unknown field"), "{e}");
        let e = OwnerConfig::parse(&text("wss://a:1", &pin1).replace("owners = 2", "owners = 1"))
            .unwrap_err();
        assert!(e.0.contains("index = 1"), "{e}");
    }
}
