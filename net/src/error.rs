//! Errors of this crate, and the codes they carry through the core's [`TransportError`].

use crate::hello::Refusal;
use fixshare::{PartyId, TransportError};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The codes this crate's transports hand the core in [`TransportError::Failed`]. The core's
/// error keeps only the code; the transport keeps the whole [`NetError`] (`last_error`).
pub mod code {
    /// The peer sent nothing, or took nothing, for longer than the configured timeout.
    pub const TIMEOUT: i32 = 1001;
    /// TLS failed: a bad record, a failed handshake, an alert from the peer.
    pub const TLS: i32 = 1002;
    /// The operating system refused a socket operation.
    pub const IO: i32 = 1003;
    /// The shaping transport's peer stamped a chunk too far in the future, or sent a malformed
    /// chunk header.
    pub const SHAPING: i32 = 1004;
    /// A data owner's WebSocket broke the protocol: a text message, a message over the size
    /// limit, a malformed frame.
    pub const WEBSOCKET: i32 = 1005;

    /// A short description of a code of this crate, `None` for other codes.
    pub fn describe(code: i32) -> Option<&'static str> {
        Some(match code {
            TIMEOUT => "timed out waiting for the peer",
            TLS => "TLS failed",
            IO => "socket error",
            SHAPING => "bad chunk from the shaping transport's peer",
            WEBSOCKET => "the WebSocket peer broke the protocol",
            _ => return None,
        })
    }
}

/// How [`NetError::Closed`] describes a peer's close_notify.
pub(crate) const ORDERLY_CLOSE: &str = "the peer ended the TLS session (close_notify)";

/// How [`NetError::Closed`] describes a WebSocket peer's close frame.
pub(crate) const ORDERLY_WS_CLOSE: &str = "the peer closed the WebSocket (close frame)";

/// Why a connection, a listener or a key operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetError {
    /// A socket or file operation failed.
    Io {
        /// What was being done ("connect to 10.0.0.2:7000", "read key file k.pem", ...).
        op: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Nothing moved for `after` while waiting to `op` ("read", "write", "handshake", ...).
    Timeout {
        /// What was waited for.
        op: &'static str,
        /// The timeout that expired.
        after: Duration,
    },
    /// The peer closed the connection (`detail` says how).
    Closed {
        /// How the close was seen.
        detail: &'static str,
    },
    /// TLS failed on this side (a record or handshake error, a certificate that is not pinned).
    Tls {
        /// The phase: "handshake", "read", ...
        op: &'static str,
        /// rustls's error.
        source: rustls::Error,
    },
    /// The peer refused the TLS handshake with an alert. After a successful handshake from this
    /// side's view, this is how a TLS 1.3 client learns that the server did not accept its key.
    PeerRefusedTls {
        /// The alert it sent.
        alert: rustls::AlertDescription,
    },
    /// The hello after the handshake was refused, by this side or by the peer.
    Hello(Refusal),
    /// A connection was accepted, authenticated and greeted, but `claimed` is not a party the
    /// listener expects.
    UnexpectedPeer {
        /// The party the connection authenticated as.
        claimed: PartyId,
    },
    /// A key, a certificate, a pin or a configuration value is unusable.
    Config(String),
    /// A data owner's WebSocket failed: no WebSocket upgrade, a message over the size limit, a
    /// text message, a malformed frame.
    WebSocket {
        /// The phase: "upgrade", "read", ...
        op: &'static str,
        /// What happened.
        detail: String,
    },
    /// A device's sealed message, relayed by a gateway, was refused ([`crate::device`]): the
    /// wrong key or a modified message, another session, owner or server, cut short, or over
    /// the limit.
    Sealed(fixshare::sealed::Refusal),
    /// A listener's `accept_all` ran out of time with these parties still missing.
    Missing {
        /// The expected peers that never connected successfully: their places in the list
        /// given to the listener, and their party ids.
        parties: Vec<(usize, PartyId)>,
        /// The time allowed.
        after: Duration,
    },
}

impl NetError {
    pub(crate) fn io(op: impl Into<String>, source: std::io::Error) -> NetError {
        NetError::Io {
            op: op.into(),
            source,
        }
    }

    /// Maps a socket error met while `op`ing, with `timeout` the one in force, to a timeout, a
    /// close or an I/O error.
    pub(crate) fn socket(op: &'static str, timeout: Duration, e: std::io::Error) -> NetError {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::WouldBlock | K::TimedOut => NetError::Timeout { op, after: timeout },
            K::UnexpectedEof => NetError::Closed {
                detail: "the connection ended without a TLS close_notify",
            },
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => NetError::Closed {
                detail: "the connection was reset",
            },
            _ => NetError::io(op, e),
        }
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, NetError::Timeout { .. })
    }

    /// Whether the peer ended its TLS session in order (it sent close_notify), or its WebSocket
    /// (a close frame): it meant to stop. Any other end of a connection (no close_notify, a
    /// reset) means it did not finish.
    pub fn is_orderly_close(&self) -> bool {
        matches!(self, NetError::Closed { detail } if *detail == ORDERLY_CLOSE || *detail == ORDERLY_WS_CLOSE)
    }

    /// The error the core sees for this one.
    pub fn transport_error(&self) -> TransportError {
        match self {
            NetError::Closed { .. } => TransportError::Closed,
            NetError::Timeout { .. } => TransportError::Failed(code::TIMEOUT),
            NetError::Tls { .. } | NetError::PeerRefusedTls { .. } => {
                TransportError::Failed(code::TLS)
            }
            NetError::WebSocket { .. } => TransportError::Failed(code::WEBSOCKET),
            _ => TransportError::Failed(code::IO),
        }
    }

    /// Builds the error for a rustls failure in phase `op`.
    pub(crate) fn tls(op: &'static str, source: rustls::Error) -> NetError {
        match source {
            rustls::Error::AlertReceived(alert) => NetError::PeerRefusedTls { alert },
            source => NetError::Tls { op, source },
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Io { op, source } => write!(f, "{op}: {source}"),
            NetError::Timeout { op, after } => match *op {
                "read" => write!(f, "timed out: the peer sent nothing for {after:?}"),
                "write" => write!(
                    f,
                    "timed out: the peer took nothing for {after:?} (it stopped reading)"
                ),
                "accept" => write!(f, "timed out: no expected party connected within {after:?}"),
                "connect" => write!(f, "timed out: could not connect within {after:?}"),
                op => write!(f, "timed out after {after:?} waiting to {op}"),
            },
            NetError::Closed { detail } => write!(f, "the peer closed the connection: {detail}"),
            NetError::Tls {
                op,
                source: rustls::Error::InvalidCertificate(rustls::CertificateError::Other(why)),
            } => write!(f, "TLS {op} failed: invalid peer certificate: {why}"),
            NetError::Tls { op, source } => write!(f, "TLS {op} failed: {source}"),
            NetError::PeerRefusedTls { alert } => write!(
                f,
                "the peer refused the TLS session (alert {alert:?}); if the handshake had \
                 completed, the peer probably does not pin this side's key"
            ),
            NetError::Hello(r) => write!(f, "{r}"),
            NetError::UnexpectedPeer { claimed } => {
                write!(f, "party {} is not expected here", claimed.0)
            }
            NetError::Config(m) => write!(f, "{m}"),
            NetError::Sealed(r) => write!(f, "refused the device's sealed message: {r}"),
            NetError::WebSocket { op, detail } => write!(f, "WebSocket {op} failed: {detail}"),
            NetError::Missing { parties, after } => {
                let mut ids: Vec<String> = parties.iter().map(|p| p.1.0.to_string()).collect();
                ids.dedup();
                write!(
                    f,
                    "{} expected connection(s) (party {}) did not come within {after:?}",
                    parties.len(),
                    ids.join(", ")
                )
            }
        }
    }
}

impl From<fixshare_job::Invalid> for NetError {
    fn from(e: fixshare_job::Invalid) -> Self {
        NetError::Config(e.0)
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetError::Io { source, .. } => Some(source),
            NetError::Tls { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What a listener did with one incoming connection, handed to its logger.
#[derive(Debug)]
#[non_exhaustive]
pub enum ListenerEvent<'a> {
    /// The connection authenticated as `party` and its hello matched.
    Accepted {
        /// Where it came from.
        addr: SocketAddr,
        /// Who it is.
        party: PartyId,
    },
    /// The connection was refused and closed.
    Rejected {
        /// Where it came from.
        addr: SocketAddr,
        /// Why.
        reason: &'a NetError,
    },
}

impl fmt::Display for ListenerEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenerEvent::Accepted { addr, party } => {
                write!(f, "accepted party {} from {addr}", party.0)
            }
            ListenerEvent::Rejected { addr, reason } => {
                write!(f, "rejected a connection from {addr}: {reason}")
            }
        }
    }
}
