//! The hello both ends exchange inside TLS (or a data owner's WebSocket), right after the
//! handshake, before any protocol frame: it names the protocol version, the session and who is talking to whom, so that a
//! party of another session, another version or another role is refused before it can take part.
//!
//! The hello is 40 bytes: `FXSN`, the version (u16, little-endian), the 32-byte session id, the
//! sender's party id and the party id the sender believes it is talking to. Each end sends its
//! hello, reads the peer's, checks it, sends a 2-byte verdict (`V` and a [`Reason`] code, 0 for
//! accepted) and reads the peer's verdict; so a mismatch seen by either end fails both, each with
//! the reason.

use crate::Invalid;
use fixshare::session::PartyId;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The version of this crate's wire protocol (the hello and what follows it).
pub const PROTOCOL_VERSION: u16 = 1;

/// Length of a hello in bytes.
pub const HELLO_LEN: usize = 40;

/// Length of a verdict in bytes.
pub const VERDICT_LEN: usize = 2;

const MAGIC: [u8; 4] = *b"FXSN";

/// Which computation a connection belongs to: 32 bytes that every party of the session is
/// configured with. Not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// The session id named by `label` (its domain-separated SHA-256), for ids that operators
    /// write in configuration files ("training-2026-05-01").
    pub fn derive(label: &str) -> SessionId {
        let mut h = Sha256::new();
        h.update(b"fixshare-net session id v1\0");
        h.update(label.as_bytes());
        SessionId(h.finalize().into())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = Invalid;

    /// Reads 64 hex digits.
    fn from_str(s: &str) -> Result<SessionId, Invalid> {
        let s = s.trim();
        let bad = || Invalid("a session id is 64 hex digits".into());
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(SessionId(out))
    }
}

/// A hello, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The sender's protocol version.
    pub version: u16,
    /// The session the sender belongs to.
    pub session: SessionId,
    /// The sender.
    pub from: PartyId,
    /// Whom the sender believes it is talking to.
    pub to: PartyId,
}

impl Hello {
    /// The 40 bytes on the wire.
    pub fn encode(&self) -> [u8; HELLO_LEN] {
        let mut b = [0u8; HELLO_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&self.version.to_le_bytes());
        b[6..38].copy_from_slice(&self.session.0);
        b[38] = self.from.0;
        b[39] = self.to.0;
        b
    }

    /// The hello in `b`, or `None` if `b` is not one (no magic).
    pub fn decode(b: &[u8; HELLO_LEN]) -> Option<Hello> {
        if b[0..4] != MAGIC {
            return None;
        }
        let mut session = [0u8; 32];
        session.copy_from_slice(&b[6..38]);
        Some(Hello {
            version: u16::from_le_bytes([b[4], b[5]]),
            session: SessionId(session),
            from: PartyId(b[38]),
            to: PartyId(b[39]),
        })
    }

    /// Checks the peer's hello `theirs` against this side's, `expected_peer` being the party the
    /// peer must be (by its key).
    pub fn check(
        &self,
        theirs: &[u8; HELLO_LEN],
        expected_peer: PartyId,
    ) -> Result<Hello, Refusal> {
        let refuse = |reason, detail: String| Refusal {
            by: RefusedBy::Us,
            reason,
            detail,
        };
        let Some(h) = Hello::decode(theirs) else {
            return Err(refuse(
                Reason::Malformed,
                "the peer's first message is not a fixshare hello".into(),
            ));
        };
        if h.version != self.version {
            return Err(refuse(
                Reason::Version,
                format!(
                    "protocol version {} here, {} at the peer",
                    self.version, h.version
                ),
            ));
        }
        if h.session != self.session {
            return Err(refuse(
                Reason::Session,
                format!("session {} here, {} at the peer", self.session, h.session),
            ));
        }
        if h.from != expected_peer {
            return Err(refuse(
                Reason::Party,
                format!(
                    "the peer says it is party {}, but its key is pinned for party {}",
                    h.from.0, expected_peer.0
                ),
            ));
        }
        if h.to != self.from {
            return Err(refuse(
                Reason::Addressee,
                format!(
                    "the peer wants party {}, this is party {}",
                    h.to.0, self.from.0
                ),
            ));
        }
        Ok(h)
    }
}

/// Why a hello was refused; the code travels in the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum Reason {
    /// Not a hello at all.
    Malformed = 1,
    /// Different protocol versions.
    Version = 2,
    /// Different session ids.
    Session = 3,
    /// The party named in the hello is not the one the key (or the configuration) says.
    Party = 4,
    /// The peer wants to talk to another party than this one.
    Addressee = 5,
    /// The party is connected already (a listener refuses a second connection for it).
    Duplicate = 6,
    /// The key a data owner proved is not pinned here (WebSocket listener).
    Key = 7,
    /// A data owner's key proof does not verify: its signature, or its encoding (WebSocket
    /// listener).
    Proof = 8,
    /// A code this version does not know.
    Unknown = 255,
}

impl Reason {
    fn from_code(code: u8) -> Reason {
        match code {
            1 => Reason::Malformed,
            2 => Reason::Version,
            3 => Reason::Session,
            4 => Reason::Party,
            5 => Reason::Addressee,
            6 => Reason::Duplicate,
            7 => Reason::Key,
            8 => Reason::Proof,
            _ => Reason::Unknown,
        }
    }

    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed hello",
            Reason::Version => "protocol version mismatch",
            Reason::Session => "session id mismatch",
            Reason::Party => "wrong party for the key",
            Reason::Addressee => "hello addressed to another party",
            Reason::Duplicate => "duplicate connection for this party",
            Reason::Key => "the owner's key is not pinned here",
            Reason::Proof => "the owner's key proof does not verify",
            Reason::Unknown => "unknown reason",
        }
    }
}

/// Which end refused a hello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// This side.
    Us,
    /// The peer (its verdict said so).
    Peer,
}

/// A refused hello: who refused, why, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Who refused.
    pub by: RefusedBy,
    /// Why.
    pub reason: Reason,
    /// What this side knows about it.
    pub detail: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.by {
            RefusedBy::Us => "this side",
            RefusedBy::Peer => "the peer",
        };
        write!(f, "hello refused by {who}: {}", self.reason.describe(),)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// The verdict on a hello: `V` and 0 when accepted, `V` and the reason's code when refused.
pub fn encode_verdict(verdict: &Result<Hello, Refusal>) -> [u8; VERDICT_LEN] {
    match verdict {
        Ok(_) => [b'V', 0],
        Err(r) => [b'V', r.reason as u8],
    }
}

/// The peer's verdict: `Ok` if it accepted, its refusal otherwise.
pub fn decode_verdict(b: &[u8; VERDICT_LEN]) -> Result<(), Refusal> {
    match *b {
        [b'V', 0] => Ok(()),
        [b'V', code] => Err(Refusal {
            by: RefusedBy::Peer,
            reason: Reason::from_code(code),
            detail: String::new(),
        }),
        _ => Err(Refusal {
            by: RefusedBy::Peer,
            reason: Reason::Malformed,
            detail: "the peer's verdict is malformed".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(from: u8, to: u8) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            session: SessionId::derive("s"),
            from: PartyId(from),
            to: PartyId(to),
        }
    }

    #[test]
    fn round_trip_and_checks() {
        let (a, b) = (hello(0, 1), hello(1, 0));
        assert_eq!(Hello::decode(&a.encode()), Some(a));
        assert_eq!(a.check(&b.encode(), PartyId(1)), Ok(b));
        let reason = |theirs: Hello, expected: u8| {
            a.check(&theirs.encode(), PartyId(expected))
                .unwrap_err()
                .reason
        };
        assert_eq!(
            reason(
                Hello {
                    version: 2,
                    ..hello(1, 0)
                },
                1
            ),
            Reason::Version
        );
        assert_eq!(
            reason(
                Hello {
                    session: SessionId::derive("t"),
                    ..hello(1, 0)
                },
                1
            ),
            Reason::Session
        );
        assert_eq!(reason(hello(2, 0), 1), Reason::Party);
        assert_eq!(reason(hello(1, 2), 1), Reason::Addressee);
        let mut junk = b.encode();
        junk[0] = b'G';
        assert_eq!(
            a.check(&junk, PartyId(1)).unwrap_err().reason,
            Reason::Malformed
        );
    }

    #[test]
    fn verdicts() {
        assert_eq!(decode_verdict(&encode_verdict(&Ok(hello(0, 1)))), Ok(()));
        let r = Refusal {
            by: RefusedBy::Us,
            reason: Reason::Duplicate,
            detail: "x".into(),
        };
        let back = decode_verdict(&encode_verdict(&Err(r))).unwrap_err();
        assert_eq!((back.by, back.reason), (RefusedBy::Peer, Reason::Duplicate));
        assert_eq!(
            decode_verdict(&[b'V', 77]).unwrap_err().reason,
            Reason::Unknown
        );
        assert_eq!(
            decode_verdict(&[0, 0]).unwrap_err().reason,
            Reason::Malformed
        );
    }

    #[test]
    fn session_ids() {
        let s = SessionId::derive("job");
        assert_eq!(s.to_string().parse::<SessionId>().unwrap(), s);
        assert_ne!(s, SessionId::derive("job2"));
        assert!("12".parse::<SessionId>().is_err());
    }
}
