//! [`AnyTransport`]: a connection of either kind a listener takes, so that what follows the
//! connection (a server's intake of the data owners, its protocol) is written once.

use crate::device::Relayed;
use crate::error::NetError;
use crate::identity::Pin;
use crate::tls::TlsTransport;
use crate::websocket::WsTransport;
use fixshare::{PartyId, Transport, TransportError};
use std::net::SocketAddr;
use std::time::Duration;

/// A TLS connection authenticated by the peer's certificate, a data owner's WebSocket
/// authenticated by its key proof, or a device's sealed message relayed by a gateway.
#[derive(Debug)]
pub enum AnyTransport {
    /// TLS 1.3 with a pinned client (or server) certificate.
    Tls(Box<TlsTransport>),
    /// A data owner's WebSocket over TLS ([`crate::websocket`]).
    WebSocket(Box<WsTransport>),
    /// A device's sealed message, received through its gateway's TLS connection and opened
    /// ([`crate::device::receive`]): its plaintext, replayed; nothing can be sent.
    Sealed(Box<Relayed>),
}

impl From<TlsTransport> for AnyTransport {
    fn from(t: TlsTransport) -> Self {
        AnyTransport::Tls(Box::new(t))
    }
}

impl From<WsTransport> for AnyTransport {
    fn from(t: WsTransport) -> Self {
        AnyTransport::WebSocket(Box::new(t))
    }
}

impl AnyTransport {
    /// The party at the other end.
    pub fn peer(&self) -> PartyId {
        match self {
            AnyTransport::Tls(t) => t.peer(),
            AnyTransport::WebSocket(t) => t.peer(),
            AnyTransport::Sealed(t) => t.peer(),
        }
    }

    /// The pin of the key the peer authenticated with.
    pub fn peer_pin(&self) -> Pin {
        match self {
            AnyTransport::Tls(t) => t.peer_pin(),
            AnyTransport::WebSocket(t) => t.peer_pin(),
            AnyTransport::Sealed(t) => t.peer_pin(),
        }
    }

    /// The peer's address, if the socket knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            AnyTransport::Tls(t) => t.peer_addr(),
            AnyTransport::WebSocket(t) => t.peer_addr(),
            AnyTransport::Sealed(t) => t.peer_addr(),
        }
    }

    /// What the handshake agreed on (`WebSocket over ...` for a WebSocket).
    pub fn negotiated(&self) -> String {
        match self {
            AnyTransport::Tls(t) => t.negotiated(),
            AnyTransport::WebSocket(t) => t.negotiated(),
            AnyTransport::Sealed(t) => t.negotiated(),
        }
    }

    /// The first error this transport met, if any.
    pub fn last_error(&self) -> Option<&NetError> {
        match self {
            AnyTransport::Tls(t) => t.last_error(),
            AnyTransport::WebSocket(t) => t.last_error(),
            AnyTransport::Sealed(t) => t.last_error(),
        }
    }

    /// The idle timeouts while reading and writing, from now on.
    pub fn set_timeouts(&mut self, read: Duration, write: Duration) {
        match self {
            AnyTransport::Tls(t) => {
                t.set_read_timeout(read);
                t.set_write_timeout(write);
            }
            AnyTransport::WebSocket(t) => {
                t.set_read_timeout(read);
                t.set_write_timeout(write);
            }
            // Its bytes are here already.
            AnyTransport::Sealed(_) => {}
        }
    }

    /// Closes in order: what is buffered, then TLS's close_notify (a WebSocket's close frame
    /// first).
    pub fn close(&mut self) -> Result<(), NetError> {
        match self {
            AnyTransport::Tls(t) => t.close(),
            AnyTransport::WebSocket(t) => t.close(),
            // The gateway's connection was closed when the message was opened.
            AnyTransport::Sealed(_) => Ok(()),
        }
    }

    /// Ends the connection without an orderly close, so that the peer sees that this side did
    /// not finish.
    pub fn abort(&mut self) {
        match self {
            AnyTransport::Tls(t) => t.abort(),
            AnyTransport::WebSocket(t) => t.abort(),
            AnyTransport::Sealed(_) => {}
        }
    }
}

impl Transport for AnyTransport {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        match self {
            AnyTransport::Tls(t) => t.send(buf).await,
            AnyTransport::WebSocket(t) => t.send(buf).await,
            AnyTransport::Sealed(t) => t.send(buf).await,
        }
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        match self {
            AnyTransport::Tls(t) => t.recv(buf).await,
            AnyTransport::WebSocket(t) => t.recv(buf).await,
            AnyTransport::Sealed(t) => t.recv(buf).await,
        }
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        match self {
            AnyTransport::Tls(t) => t.flush().await,
            AnyTransport::WebSocket(t) => t.flush().await,
            AnyTransport::Sealed(t) => t.flush().await,
        }
    }

    fn send_window(&self) -> usize {
        match self {
            AnyTransport::Tls(t) => t.send_window(),
            AnyTransport::WebSocket(t) => t.send_window(),
            AnyTransport::Sealed(t) => t.send_window(),
        }
    }
}
