//! Data owners in web pages: a WebSocket-over-TLS listener ([`crate::Listener::websocket`]) and
//! the [`WsTransport`] each owner's connection becomes.
//!
//! A browser cannot present a client certificate, so a data owner there authenticates by a key
//! proof instead (`fixshare_job::proof`): its ECDSA P-256 key (a WebCrypto key whose private
//! half cannot be exported), pinned in the servers' `[owners] pins` like a TLS key. Each
//! connection runs, within [`Timeouts::handshake`]:
//!
//! 1. TLS 1.3 with this party's certificate, or one issued for its name by a certificate
//!    authority (ALPN `http/1.1`, no client certificate); the page authenticates the server by
//!    it (a certificate its browser trusts);
//! 2. the WebSocket upgrade (tungstenite), which must offer the subprotocol [`SUBPROTOCOL`];
//! 3. the server's challenge, the owner's hello and key proof, the server's checks (the key
//!    pinned for an owner, the hello as on the TLS path, the signature, no duplicate), the
//!    server's hello and verdict, the owner's verdict.
//!
//! Then binary messages carry the byte stream both ways: this side sends messages of up to
//! [`MESSAGE`] bytes and accepts messages of up to [`MAX_MESSAGE`] bytes, a limit checked on a
//! frame's announced length before its payload is read. A text message, a larger one or a
//! malformed frame fails the connection ([`NetError::WebSocket`]); the read and write
//! timeouts apply as on TLS.

use crate::error::{NetError, ORDERLY_WS_CLOSE};
use crate::hello::{self, HELLO_LEN, Hello, Reason, Refusal, RefusedBy, VERDICT_LEN};
use crate::identity::{Identity, Pin, provider};
use crate::listener::{SlotGuard, Slots, claim};
use crate::tls::{Endpoint, Timeouts};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use fixshare::{PartyId, Transport, TransportError};
use fixshare_job::proof::{self, Challenge, PROOF_LEN, Proof};
use rustls::server::NoServerSessionStorage;
use rustls::sign::SingleCertAndKey;
use rustls::{ServerConfig, ServerConnection};
use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{HandshakeError, Message, WebSocket};

/// The WebSocket subprotocol a data owner must ask for (`new WebSocket(url,
/// "fixshare-owner.v1")`): a client of another application is refused at the upgrade.
pub const SUBPROTOCOL: &str = "fixshare-owner.v1";

/// The largest message this side sends.
pub const MESSAGE: usize = 64 * 1024;

/// The largest message (and frame) this side accepts: 1 MiB. The owner's data is a byte stream
/// cut into messages, so no message needs to be large; the core's frames on that stream have
/// their own limit.
pub const MAX_MESSAGE: usize = 1 << 20;

/// The TLS session under the WebSocket, as the `Read + Write` stream tungstenite works on.
/// Unlike rustls's `StreamOwned`, whose `write` ignores a failed socket write and tries again
/// on the next call (so a stalled peer would take several write timeouts to notice), every
/// socket error here is the caller's at once.
struct TlsStream {
    conn: ServerConnection,
    sock: TcpStream,
}

impl TlsStream {
    /// Writes every TLS byte rustls has ready to the socket.
    fn push_tls(&mut self) -> std::io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // Bytes, 0 after the peer's close_notify, or UnexpectedEof without one.
                other => return other,
            }
            // A socket timeout is the caller's (as WouldBlock or TimedOut); an end of the
            // stream makes the reader say so above.
            self.conn.read_tls(&mut self.sock)?;
            if let Err(e) = self.conn.process_new_packets() {
                // Tell the peer (an alert is queued); the error is what matters here.
                let _ = self.push_tls();
                return Err(std::io::Error::new(ErrorKind::InvalidData, e));
            }
            // Anything rustls answers at once (a key update).
            self.push_tls()?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        self.push_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.conn.writer().flush()?;
        self.push_tls()
    }
}

/// The TLS configuration of a WebSocket listener: `certificate` (this party's own, or one that
/// browsers accept for its name), TLS 1.3 only, no client certificate, no resumption, ALPN
/// `http/1.1` (what browsers offer for `wss://`).
pub(crate) fn server_config(certificate: &Identity) -> Result<Arc<ServerConfig>, NetError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| NetError::Config(format!("TLS configuration: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(
            certificate.certified_key(),
        )));
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A socket error met while `op`ing, with the rustls error inside it when there is one.
fn io_error(op: &'static str, after: Duration, e: std::io::Error) -> NetError {
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return NetError::tls(op, tls.clone());
    }
    NetError::socket(op, after, e)
}

/// One data owner's WebSocket over TLS, authenticated by its key proof and hello-checked: a
/// [`Transport`] for the core, as a [`crate::TlsTransport`] is.
///
/// Writes are gathered into messages of up to [`MESSAGE`] bytes, sent when one fills or the
/// core flushes. After the first failure every call fails with the same [`TransportError`], and
/// [`WsTransport::last_error`] says what happened.
pub struct WsTransport {
    ws: WebSocket<TlsStream>,
    /// Received bytes not yet handed to the core: `inbox[at..]`.
    inbox: Vec<u8>,
    at: usize,
    out: Vec<u8>,
    timeouts: Timeouts,
    /// While the setup runs: when it must be done.
    deadline: Option<Instant>,
    armed_read: Option<Duration>,
    armed_write: Option<Duration>,
    peer: PartyId,
    peer_pin: Pin,
    peer_addr: Option<SocketAddr>,
    failed: Option<NetError>,
    closed: bool,
    _slot: Option<SlotGuard>,
}

impl std::fmt::Debug for WsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsTransport")
            .field("peer", &self.peer)
            .field("peer_addr", &self.peer_addr)
            .field("failed", &self.failed)
            .finish()
    }
}

/// The TLS handshake, the WebSocket upgrade, the key proof and the hello of one incoming
/// connection from one of the data owners `owners`.
pub(crate) fn serve(
    endpoint: &Endpoint,
    config: Arc<ServerConfig>,
    owners: &[(PartyId, Pin)],
    slots: &Slots,
    sock: TcpStream,
) -> Result<WsTransport, NetError> {
    let timeouts = endpoint.timeouts();
    let deadline = Instant::now() + timeouts.handshake;
    let setup_op = "complete the handshake and hello";
    sock.set_nonblocking(false)
        .map_err(|e| NetError::io("accept", e))?;
    sock.set_nodelay(true)
        .map_err(|e| NetError::io("set TCP_NODELAY", e))?;
    let peer_addr = sock.peer_addr().ok();
    // Until the WebSocket is up, every wait is bounded by what is left of the deadline.
    let arm = |sock: &TcpStream| -> Result<(), NetError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NetError::Timeout {
                op: setup_op,
                after: timeouts.handshake,
            });
        }
        sock.set_read_timeout(Some(left))
            .and_then(|()| sock.set_write_timeout(Some(left)))
            .map_err(|e| NetError::io("set the socket's timeouts", e))
    };
    let conn = ServerConnection::new(config).map_err(|e| NetError::tls("handshake setup", e))?;
    let mut tls = TlsStream { conn, sock };
    while tls.conn.is_handshaking() {
        arm(&tls.sock)?;
        tls.conn.complete_io(&mut tls.sock).map_err(|e| {
            match io_error("handshake", timeouts.handshake, e) {
                NetError::Timeout { .. } => NetError::Timeout {
                    op: setup_op,
                    after: timeouts.handshake,
                },
                NetError::Closed { .. } => NetError::Closed {
                    detail: "the connection ended during the TLS handshake",
                },
                e => e,
            }
        })?;
    }
    arm(&tls.sock)?;
    // The upgrade: a WebSocket request that asks for the owners' subprotocol.
    let refused = RefCell::new(None);
    // The callback's error type is tungstenite's (an HTTP response).
    #[allow(clippy::result_large_err)]
    let check = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == SUBPROTOCOL);
        if offered {
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                tungstenite::http::HeaderValue::from_static(SUBPROTOCOL),
            );
            Ok(resp)
        } else {
            *refused.borrow_mut() = Some(format!(
                "the request does not ask for the subprotocol {SUBPROTOCOL} (not a fixshare \
                 data owner)"
            ));
            let mut e = ErrorResponse::new(Some(format!("expected subprotocol {SUBPROTOCOL}\n")));
            *e.status_mut() = tungstenite::http::StatusCode::BAD_REQUEST;
            Err(e)
        }
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let ws =
        tungstenite::accept_hdr_with_config(tls, check, Some(ws_config)).map_err(|e| match e {
            HandshakeError::Interrupted(_) => NetError::Timeout {
                op: setup_op,
                after: timeouts.handshake,
            },
            HandshakeError::Failure(tungstenite::Error::Io(e)) => {
                match io_error("upgrade", timeouts.handshake, e) {
                    NetError::Timeout { .. } => NetError::Timeout {
                        op: setup_op,
                        after: timeouts.handshake,
                    },
                    e => e,
                }
            }
            HandshakeError::Failure(e) => NetError::WebSocket {
                op: "upgrade",
                detail: match refused.borrow_mut().take() {
                    Some(why) => why,
                    None => format!("not a WebSocket upgrade: {e}"),
                },
            },
        })?;
    let mut t = WsTransport {
        ws,
        inbox: Vec::new(),
        at: 0,
        out: Vec::with_capacity(MESSAGE),
        timeouts,
        deadline: Some(deadline),
        armed_read: None,
        armed_write: None,
        peer: PartyId(u8::MAX),
        peer_pin: Pin::of_spki(&[]),
        peer_addr,
        failed: None,
        closed: false,
        _slot: None,
    };
    match t.authenticate(endpoint, owners, slots) {
        Ok(()) => {
            t.deadline = None;
            Ok(t)
        }
        Err(e) => {
            t.linger();
            Err(e)
        }
    }
}

/// Whether `proof` signs `message` (ECDSA P-256 with SHA-256, `r || s`).
fn verifies(proof: &Proof, message: &[u8]) -> bool {
    let Some(point) = proof::p256_point(&proof.spki) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(message, &proof.signature)
        .is_ok()
}

fn refusal(reason: Reason, detail: String) -> Refusal {
    Refusal {
        by: RefusedBy::Us,
        reason,
        detail,
    }
}

impl WsTransport {
    /// The challenge, the owner's hello and proof, the checks, this side's hello and verdict,
    /// the owner's verdict (see `fixshare_job::proof`).
    fn authenticate(
        &mut self,
        endpoint: &Endpoint,
        owners: &[(PartyId, Pin)],
        slots: &Slots,
    ) -> Result<(), NetError> {
        let mut nonce = [0u8; 32];
        provider()
            .secure_random
            .fill(&mut nonce)
            .map_err(|_| NetError::Config("the operating system's random source failed".into()))?;
        let challenge = Challenge(nonce);
        self.send_bytes(&challenge.encode())?;
        self.flush_all()?;
        let mut got = [0u8; HELLO_LEN + PROOF_LEN];
        self.recv_exact(&mut got)?;
        let mut theirs = [0u8; HELLO_LEN];
        theirs.copy_from_slice(&got[..HELLO_LEN]);
        let mut proof_bytes = [0u8; PROOF_LEN];
        proof_bytes.copy_from_slice(&got[HELLO_LEN..]);
        let checked = (|| {
            let proof = Proof::decode(&proof_bytes).map_err(|why| refusal(Reason::Proof, why))?;
            let pin = proof.pin();
            let Some(&(id, _)) = owners.iter().find(|o| o.1 == pin) else {
                return Err(refusal(
                    Reason::Key,
                    format!("the key {pin} is not pinned for a data owner here"),
                ));
            };
            endpoint.hello(id).check(&theirs, id)?;
            let message = proof::signed_message(
                &challenge,
                &endpoint.session(),
                endpoint.me(),
                &endpoint.identity().pin(),
            );
            if !verifies(&proof, &message) {
                return Err(refusal(
                    Reason::Proof,
                    format!(
                        "the signature of the key {pin} does not verify (signed for another \
                         challenge, session or server, or by another key)"
                    ),
                ));
            }
            let slot = claim(slots, id, pin)?;
            Ok((id, pin, slot))
        })();
        // This side's hello goes to the owner the key (or else the hello) names.
        let to = match (&checked, Hello::decode(&theirs)) {
            (Ok((id, _, _)), _) => *id,
            (Err(_), Some(h)) => h.from,
            (Err(_), None) => PartyId(u8::MAX),
        };
        let mine = endpoint.hello(to);
        let verdict = match &checked {
            Ok(_) => hello::encode_verdict(&Ok(mine)),
            Err(r) => hello::encode_verdict(&Err(r.clone())),
        };
        self.send_bytes(&mine.encode())?;
        self.send_bytes(&verdict)?;
        self.flush_all()?;
        let mut peer_verdict = [0u8; VERDICT_LEN];
        let read = self.recv_exact(&mut peer_verdict);
        let (id, pin, slot) = checked.map_err(NetError::Hello)?;
        read?;
        hello::decode_verdict(&peer_verdict).map_err(NetError::Hello)?;
        self.peer = id;
        self.peer_pin = pin;
        self._slot = Some(slot);
        Ok(())
    }

    /// The party at the other end (a data owner).
    pub fn peer(&self) -> PartyId {
        self.peer
    }

    /// The pin of the key the owner proved.
    pub fn peer_pin(&self) -> Pin {
        self.peer_pin
    }

    /// The peer's address, if the socket knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }

    /// What the TLS handshake agreed on, e.g. `WebSocket over TLS13_AES_256_GCM_SHA384 with
    /// X25519MLKEM768`.
    pub fn negotiated(&self) -> String {
        let conn = &self.ws.get_ref().conn;
        let suite = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "none".into());
        let group = conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name()))
            .unwrap_or_else(|| "none".into());
        format!("WebSocket over {suite} with {group}")
    }

    /// The first error this transport met, if any: the detail behind the code the core reports.
    pub fn last_error(&self) -> Option<&NetError> {
        self.failed.as_ref()
    }

    /// The idle timeout while reading, from now on.
    pub fn set_read_timeout(&mut self, t: Duration) {
        self.timeouts.read = t;
    }

    /// The idle timeout while writing, from now on.
    pub fn set_write_timeout(&mut self, t: Duration) {
        self.timeouts.write = t;
    }

    /// Sends what is buffered, a WebSocket close frame, then TLS's close_notify, and shuts the
    /// socket's sending side.
    pub fn close(&mut self) -> Result<(), NetError> {
        if self.closed {
            return Ok(());
        }
        self.push_out()?;
        self.closed = true;
        let _ = self.ws.close(None);
        self.arm_write()?;
        match self.ws.flush() {
            Ok(()) | Err(tungstenite::Error::ConnectionClosed) => {}
            Err(e) => return Err(self.ws_error("write", e)),
        }
        let stream = self.ws.get_mut();
        stream.conn.send_close_notify();
        let _ = stream.push_tls();
        stream
            .sock
            .shutdown(Shutdown::Write)
            .map_err(|e| NetError::io("shut down the connection", e))
    }

    /// Ends the connection without a close frame or close_notify, so that the owner sees that
    /// this side did not finish.
    pub fn abort(&mut self) {
        self.closed = true;
        let _ = self.ws.get_ref().sock.shutdown(Shutdown::Both);
    }

    /// After a failed setup: sends what is buffered (the verdict), closes the WebSocket and
    /// reads what the peer still sends for a moment, so that closing does not reset the
    /// connection before the owner has read the verdict.
    fn linger(&mut self) {
        self.closed = true;
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
        let until = Instant::now() + Duration::from_millis(200);
        for _ in 0..64 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || self.sock().set_read_timeout(Some(left)).is_err() {
                break;
            }
            if self.ws.read().is_err() {
                break;
            }
        }
        let stream = self.ws.get_mut();
        stream.conn.send_close_notify();
        let _ = stream.push_tls();
    }

    fn sock(&self) -> &TcpStream {
        &self.ws.get_ref().sock
    }

    /// The timeout for a wait whose idle limit is `idle`, shortened to the setup's deadline
    /// while one is set.
    fn limit(&self, idle: Duration) -> Result<Duration, NetError> {
        match self.deadline {
            None => Ok(idle),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(self.timeout("read"))
                } else {
                    Ok(left.min(idle))
                }
            }
        }
    }

    fn timeout(&self, op: &'static str) -> NetError {
        match (self.deadline, op) {
            (Some(_), _) => NetError::Timeout {
                op: "complete the handshake and hello",
                after: self.timeouts.handshake,
            },
            (None, "write") => NetError::Timeout {
                op,
                after: self.timeouts.write,
            },
            (None, _) => NetError::Timeout {
                op,
                after: self.timeouts.read,
            },
        }
    }

    fn arm_read(&mut self) -> Result<(), NetError> {
        let t = self.limit(self.timeouts.read)?;
        if self.armed_read != Some(t) {
            self.sock()
                .set_read_timeout(Some(t))
                .map_err(|e| NetError::io("set the read timeout", e))?;
            self.armed_read = Some(t);
        }
        Ok(())
    }

    fn arm_write(&mut self) -> Result<(), NetError> {
        let t = self.limit(self.timeouts.write)?;
        if self.armed_write != Some(t) {
            self.sock()
                .set_write_timeout(Some(t))
                .map_err(|e| NetError::io("set the write timeout", e))?;
            self.armed_write = Some(t);
        }
        Ok(())
    }

    fn ws_error(&self, op: &'static str, e: tungstenite::Error) -> NetError {
        use tungstenite::error::ProtocolError;
        match e {
            tungstenite::Error::Io(e)
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                self.timeout(op)
            }
            tungstenite::Error::Io(e) => io_error(op, Duration::ZERO, e),
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                NetError::Closed {
                    detail: ORDERLY_WS_CLOSE,
                }
            }
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                NetError::Closed {
                    detail: "the connection ended without a WebSocket close",
                }
            }
            e => NetError::WebSocket {
                op,
                detail: e.to_string(),
            },
        }
    }

    fn write_message(&mut self, bytes: Vec<u8>) -> Result<(), NetError> {
        self.arm_write()?;
        self.ws
            .write(Message::binary(bytes))
            .map_err(|e| self.ws_error("write", e))
    }

    /// Sends the gathered bytes as one message (not yet flushed to the socket).
    fn push_out(&mut self) -> Result<(), NetError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::replace(&mut self.out, Vec::with_capacity(MESSAGE));
        self.write_message(out)
    }

    fn send_bytes(&mut self, mut buf: &[u8]) -> Result<(), NetError> {
        if self.closed {
            return Err(NetError::Closed {
                detail: "this side closed the connection",
            });
        }
        while !buf.is_empty() {
            if self.out.is_empty() && buf.len() >= MESSAGE {
                let (message, rest) = buf.split_at(MESSAGE);
                self.write_message(message.to_vec())?;
                buf = rest;
                continue;
            }
            let take = (MESSAGE - self.out.len()).min(buf.len());
            self.out.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.out.len() == MESSAGE {
                self.push_out()?;
            }
        }
        Ok(())
    }

    fn flush_all(&mut self) -> Result<(), NetError> {
        self.push_out()?;
        self.arm_write()?;
        self.ws.flush().map_err(|e| self.ws_error("write", e))
    }

    fn recv_exact(&mut self, buf: &mut [u8]) -> Result<(), NetError> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.at < self.inbox.len() {
                let n = (self.inbox.len() - self.at).min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&self.inbox[self.at..self.at + n]);
                self.at += n;
                filled += n;
                continue;
            }
            self.arm_read()?;
            // Also sends the pong to a ping, if one came.
            match self.ws.read().map_err(|e| self.ws_error("read", e))? {
                Message::Binary(b) => {
                    self.inbox.clear();
                    self.inbox.extend_from_slice(&b);
                    self.at = 0;
                }
                Message::Text(_) => {
                    return Err(NetError::WebSocket {
                        op: "read",
                        detail: "a text message (the stream is carried by binary messages)".into(),
                    });
                }
                Message::Close(_) => {
                    return Err(NetError::Closed {
                        detail: ORDERLY_WS_CLOSE,
                    });
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
        Ok(())
    }

    /// Runs `op` unless an earlier call failed; records its failure.
    fn guarded(
        &mut self,
        op: impl FnOnce(&mut WsTransport) -> Result<(), NetError>,
    ) -> Result<(), TransportError> {
        if let Some(e) = &self.failed {
            return Err(e.transport_error());
        }
        op(self).map_err(|e| {
            let code = e.transport_error();
            self.failed = Some(e);
            code
        })
    }
}

impl Transport for WsTransport {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.guarded(|t| t.send_bytes(buf))
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.guarded(|t| {
            t.flush_all()?;
            t.recv_exact(buf)
        })
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.guarded(|t| t.flush_all())
    }
}

impl Drop for WsTransport {
    fn drop(&mut self) {
        if self.closed || self.failed.is_some() || self.deadline.is_some() {
            return;
        }
        // A best-effort close that cannot block: a peer that stopped reading gets none.
        if self.sock().set_nonblocking(true).is_ok() {
            let _ = self.push_out();
            let _ = self.ws.close(None);
            let _ = self.ws.flush();
            let stream = self.ws.get_mut();
            stream.conn.send_close_notify();
            let _ = stream.push_tls();
        }
    }
}
