//! TCP with mutually authenticated TLS 1.3: the [`Endpoint`] a party configures once, and the
//! [`TlsTransport`] each of its connections becomes.

use crate::error::NetError;
use crate::hello::{self, HELLO_LEN, Hello, PROTOCOL_VERSION, Refusal, SessionId, VERDICT_LEN};
use crate::identity::{Identity, Pin, provider};
use crate::listener::{Listener, SlotGuard};
use crate::sender::{self, Sender};
use crate::verify::PinnedVerifier;
use fixshare::{PartyId, Transport, TransportError};
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::server::NoServerSessionStorage;
use rustls::sign::SingleCertAndKey;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The ALPN protocol name both ends insist on: a TLS client of another application is refused
/// during the handshake.
pub const ALPN: &[u8] = b"fixshare-net/1";

/// How long dropping a healthy transport waits for its queued bytes to be written.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// Plaintext bytes gathered before they are sealed into one TLS record (the largest record).
const RECORD: usize = 16 * 1024;

/// How long each blocking step may take. Every wait has one, so a silent peer ends in a
/// [`NetError::Timeout`], never a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Reaching the peer: the total time [`Endpoint::connect`] keeps retrying a refused
    /// connection (the peer's listener may not be up yet), and the limit of each attempt.
    pub connect: Duration,
    /// The TLS handshake and the hello together, from the TCP connection on.
    pub handshake: Duration,
    /// The longest the peer may send nothing while this side waits to receive.
    pub read: Duration,
    /// The longest the peer may take nothing while this side waits to send.
    pub write: Duration,
}

impl Default for Timeouts {
    /// 30 s to connect, 10 s for the handshake and hello, 300 s of silence while reading (a
    /// protocol step may compute for a while before it answers), 60 s blocked while writing.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            handshake: Duration::from_secs(10),
            read: Duration::from_secs(300),
            write: Duration::from_secs(60),
        }
    }
}

/// One party's configuration for its connections: its identity (key and certificate), its
/// party id, the session, and the timeouts. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Endpoint {
    identity: Arc<Identity>,
    me: PartyId,
    session: SessionId,
    timeouts: Timeouts,
    max_pending: usize,
    version: u16,
}

impl Endpoint {
    /// Party `me` of session `session`, authenticating with `identity`.
    pub fn new(identity: Arc<Identity>, me: PartyId, session: SessionId) -> Endpoint {
        Endpoint {
            identity,
            me,
            session,
            timeouts: Timeouts::default(),
            max_pending: 32,
            version: PROTOCOL_VERSION,
        }
    }

    /// The same endpoint announcing another protocol version in its hello: only for testing
    /// that a version mismatch is refused.
    #[doc(hidden)]
    pub fn with_protocol_version_for_tests(mut self, version: u16) -> Endpoint {
        self.version = version;
        self
    }

    /// The same endpoint with other timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Endpoint {
        self.timeouts = timeouts;
        self
    }

    /// The same endpoint whose listeners run at most `n` (at least 1) handshakes at once; a
    /// connection beyond that waits in the system's backlog until one ends (each is bounded by
    /// [`Timeouts::handshake`]). 32 by default.
    pub fn with_max_pending(mut self, n: usize) -> Endpoint {
        self.max_pending = n.max(1);
        self
    }

    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// The session.
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The identity.
    pub fn identity(&self) -> &Arc<Identity> {
        &self.identity
    }

    pub(crate) fn max_pending(&self) -> usize {
        self.max_pending
    }

    pub(crate) fn hello(&self, to: PartyId) -> Hello {
        Hello {
            version: self.version,
            session: self.session,
            from: self.me,
            to,
        }
    }

    fn client_config(&self, pin: Pin) -> Result<Arc<ClientConfig>, NetError> {
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| NetError::Config(format!("TLS configuration: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(PinnedVerifier::new(vec![pin]))
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(
                self.identity.certified_key(),
            )));
        config.enable_sni = false;
        // Resuming would skip the certificate check; every connection authenticates afresh.
        config.resumption = Resumption::disabled();
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Arc::new(config))
    }

    pub(crate) fn server_config(&self, pins: Vec<Pin>) -> Result<Arc<ServerConfig>, NetError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| NetError::Config(format!("TLS configuration: {e}")))?
            .with_client_cert_verifier(PinnedVerifier::new(pins))
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(
                self.identity.certified_key(),
            )));
        config.send_tls13_tickets = 0;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Arc::new(config))
    }

    /// Connects to party `peer` listening at `addr`, whose key must hash to `pin`: TCP (retried
    /// while refused, for up to [`Timeouts::connect`]), the TLS 1.3 handshake (this side's
    /// certificate for the peer to check, the peer's checked against `pin`) and the hello.
    pub fn connect(&self, addr: &str, peer: PartyId, pin: Pin) -> Result<TlsTransport, NetError> {
        if peer == self.me {
            return Err(NetError::Config(format!(
                "party {} cannot connect to itself",
                peer.0
            )));
        }
        if pin == self.identity.pin() {
            return Err(NetError::Config(format!(
                "party {}'s pin is this party's own key: every party needs a key of its own",
                peer.0
            )));
        }
        let config = self.client_config(pin)?;
        let sock = connect_tcp(addr, self.timeouts.connect)?;
        let name = ServerName::try_from("fixshare.invalid")
            .map_err(|e| NetError::Config(format!("server name: {e}")))?;
        let conn =
            ClientConnection::new(config, name).map_err(|e| NetError::tls("handshake setup", e))?;
        let mut t = TlsTransport::start(Connection::Client(conn), sock, self.timeouts, peer, pin)?;
        let setup = |t: &mut TlsTransport| -> Result<(), NetError> {
            t.handshake()?;
            // The verifier accepted the pinned key only; check again before trusting it.
            let presented = t.presented_pin()?;
            if presented != pin {
                return Err(NetError::Config(format!(
                    "party {} presented the key {presented}, not the pinned {pin}",
                    peer.0
                )));
            }
            t.greet(self.hello(peer), |_| Ok(()))?;
            t.finish_setup()
        };
        match setup(&mut t) {
            Ok(()) => Ok(t),
            Err(e) => {
                t.linger();
                Err(e)
            }
        }
    }

    /// Listens at `addr` for the parties of `peers`, each authenticated by its pinned key (see
    /// [`Listener`]).
    pub fn listen(
        &self,
        addr: impl ToSocketAddrs,
        peers: &[(PartyId, Pin)],
    ) -> Result<Listener, NetError> {
        Listener::bind(self.clone(), addr, peers)
    }
}

/// Opens a TCP connection to `addr`, retrying refused or failed attempts until `patience` runs
/// out.
fn connect_tcp(addr: &str, patience: Duration) -> Result<TcpStream, NetError> {
    let start = Instant::now();
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| NetError::io(format!("resolve {addr}"), e))?
        .collect();
    if addrs.is_empty() {
        return Err(NetError::Config(format!("{addr} names no address")));
    }
    loop {
        let mut last = None;
        for a in &addrs {
            let left = patience.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(a, left) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        let left = patience.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(match last {
                Some(e) if e.kind() != ErrorKind::TimedOut && e.kind() != ErrorKind::WouldBlock => {
                    NetError::io(format!("connect to {addr} (for {patience:?})"), e)
                }
                _ => NetError::Timeout {
                    op: "connect",
                    after: patience,
                },
            });
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// One authenticated connection to one peer, carrying its hello-checked TLS 1.3 session: a
/// [`Transport`] for the core.
///
/// Writes are gathered into records of up to 16 KiB and sealed when a record fills or the core
/// flushes (before every wait for the peer). Once the hello is done, a thread of the
/// connection's own writes the sealed records to the socket ([`crate::sender`]), so sending
/// never waits for the peer to read until 32 MiB are queued, and an exchange of long messages
/// costs one latency. Calls block; each wait is bounded by [`Timeouts::read`] or
/// [`Timeouts::write`]. After the first failure every call fails with the same
/// [`TransportError`], and [`TlsTransport::last_error`] says what happened.
pub struct TlsTransport {
    conn: Connection,
    sock: TcpStream,
    out: Vec<u8>,
    /// After the setup: the thread writing sealed records to the socket, started with the
    /// first write (a connection that only receives, as most of a server's data owners' do,
    /// never needs one).
    sender: Option<Sender>,
    timeouts: Timeouts,
    /// While the handshake and hello run: when they must be done.
    deadline: Option<Instant>,
    /// The read timeout the socket has now.
    armed_read: Option<Duration>,
    armed_write: Option<Duration>,
    peer: PartyId,
    peer_pin: Pin,
    peer_addr: Option<SocketAddr>,
    failed: Option<NetError>,
    closed: bool,
    /// A listener's claim on this peer's party id, released when the transport is dropped.
    _slot: Option<SlotGuard>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport")
            .field("peer", &self.peer)
            .field("peer_addr", &self.peer_addr)
            .field("failed", &self.failed)
            .finish()
    }
}

impl TlsTransport {
    pub(crate) fn start(
        conn: Connection,
        sock: TcpStream,
        timeouts: Timeouts,
        peer: PartyId,
        peer_pin: Pin,
    ) -> Result<TlsTransport, NetError> {
        sock.set_nodelay(true)
            .map_err(|e| NetError::io("set TCP_NODELAY", e))?;
        let peer_addr = sock.peer_addr().ok();
        Ok(TlsTransport {
            conn,
            sock,
            out: Vec::with_capacity(RECORD),
            sender: None,
            timeouts,
            deadline: Some(Instant::now() + timeouts.handshake),
            armed_read: None,
            armed_write: None,
            peer,
            peer_pin,
            peer_addr,
            failed: None,
            closed: false,
            _slot: None,
        })
    }

    pub(crate) fn set_peer(&mut self, peer: PartyId, pin: Pin) {
        self.peer = peer;
        self.peer_pin = pin;
    }

    /// The pin of the key the peer presented in the handshake.
    pub(crate) fn presented_pin(&self) -> Result<Pin, NetError> {
        match self.conn.peer_certificates().and_then(|c| c.first()) {
            Some(cert) => crate::identity::pin_of_certificate(cert),
            None => Err(NetError::Config("the peer presented no certificate".into())),
        }
    }

    pub(crate) fn set_slot(&mut self, slot: SlotGuard) {
        self._slot = Some(slot);
    }

    /// The party at the other end.
    pub fn peer(&self) -> PartyId {
        self.peer
    }

    /// The pin of the key the peer authenticated with.
    pub fn peer_pin(&self) -> Pin {
        self.peer_pin
    }

    /// The peer's address, if the socket knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }

    /// What the handshake agreed on: the cipher suite and key-exchange group, e.g.
    /// `TLS13_AES_256_GCM_SHA384 with X25519MLKEM768`.
    pub fn negotiated(&self) -> String {
        let suite = self
            .conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "none".into());
        let group = self
            .conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name()))
            .unwrap_or_else(|| "none".into());
        format!("{suite} with {group}")
    }

    /// The first error this transport met, if any: the detail behind the code the core reports.
    pub fn last_error(&self) -> Option<&NetError> {
        self.failed.as_ref()
    }

    /// The idle timeout while reading, from now on (a long computation ahead, a test).
    pub fn set_read_timeout(&mut self, t: Duration) {
        self.timeouts.read = t;
    }

    /// The idle timeout while writing, from now on.
    pub fn set_write_timeout(&mut self, t: Duration) {
        self.timeouts.write = t;
        if let Some(s) = &mut self.sender
            && let Err(e) = s.set_write_timeout(t)
        {
            self.failed.get_or_insert(e);
        }
    }

    /// Sends what is buffered, then TLS's close_notify, and shuts the socket's sending side.
    pub fn close(&mut self) -> Result<(), NetError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.push_out()?;
        self.conn.send_close_notify();
        self.write_pending()?;
        if let Some(s) = &mut self.sender {
            s.finish(self.timeouts.write)?;
        }
        self.sock
            .shutdown(Shutdown::Write)
            .map_err(|e| NetError::io("shut down the connection", e))
    }

    /// Ends the connection without TLS's close_notify, so that the peer sees that this side
    /// did not finish (its reads fail with [`NetError::Closed`], not an orderly close): what a
    /// party whose job failed does with the connections it still holds.
    pub fn abort(&mut self) {
        self.closed = true;
        if let Some(s) = &mut self.sender {
            s.stop();
        }
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    /// After a failed setup: stops sending and reads what the peer still sends for a moment, so
    /// that closing does not reset the connection before the peer has read this side's alert
    /// or verdict.
    pub(crate) fn linger(&mut self) {
        let _ = self.write_pending();
        let _ = self.sock.shutdown(Shutdown::Write);
        let until = Instant::now() + Duration::from_millis(200);
        let mut sink = [0u8; 4096];
        for _ in 0..64 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || self.sock.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.sock.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// The timeout for a wait whose idle limit is `idle`, shortened to the handshake deadline
    /// while one is set.
    fn limit(&self, idle: Duration) -> Result<Duration, NetError> {
        match self.deadline {
            None => Ok(idle),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(self.timeout("complete the handshake and hello"))
                } else {
                    Ok(left.min(idle))
                }
            }
        }
    }

    fn timeout(&self, op: &'static str) -> NetError {
        if self.deadline.is_some() {
            NetError::Timeout {
                op: "complete the handshake and hello",
                after: self.timeouts.handshake,
            }
        } else {
            let after = if op == "write" {
                self.timeouts.write
            } else {
                self.timeouts.read
            };
            NetError::Timeout { op, after }
        }
    }

    fn socket_error(&self, op: &'static str, e: std::io::Error) -> NetError {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => self.timeout(op),
            _ => NetError::socket(op, Duration::ZERO, e),
        }
    }

    /// Writes every TLS byte rustls has ready to the socket, or hands them to the sending
    /// thread once there is one.
    fn write_pending(&mut self) -> Result<(), NetError> {
        if self.deadline.is_none() && self.conn.wants_write() {
            let mut sealed = Vec::new();
            while self.conn.wants_write() {
                self.conn
                    .write_tls(&mut sealed)
                    .map_err(|e| NetError::io("encrypt", e))?;
            }
            let sender = match &mut self.sender {
                Some(s) => s,
                None => self
                    .sender
                    .insert(Sender::start(&self.sock, self.timeouts.write)?),
            };
            return sender.send(sealed);
        }
        while self.conn.wants_write() {
            let t = self.limit(self.timeouts.write)?;
            if self.armed_write != Some(t) {
                self.sock
                    .set_write_timeout(Some(t))
                    .map_err(|e| NetError::io("set the write timeout", e))?;
                self.armed_write = Some(t);
            }
            match self.conn.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.socket_error("write", e)),
            }
        }
        Ok(())
    }

    /// Reads what the socket has (waiting up to the read timeout) and lets rustls process it.
    fn read_more(&mut self, op: &'static str) -> Result<(), NetError> {
        let t = self.limit(self.timeouts.read)?;
        if self.armed_read != Some(t) {
            self.sock
                .set_read_timeout(Some(t))
                .map_err(|e| NetError::io("set the read timeout", e))?;
            self.armed_read = Some(t);
        }
        match self.conn.read_tls(&mut self.sock) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(self.socket_error(op, e)),
        }
        if let Err(e) = self.conn.process_new_packets() {
            // Tell the peer (an alert is queued); the error is what matters here.
            let _ = self.write_pending();
            return Err(NetError::tls(op, e));
        }
        // Anything rustls wants to answer (a key update): small, sent at once.
        self.write_pending()
    }

    pub(crate) fn handshake(&mut self) -> Result<(), NetError> {
        while self.conn.is_handshaking() {
            self.write_pending()?;
            if !self.conn.is_handshaking() {
                break;
            }
            if self.conn.wants_read() {
                self.read_more("handshake")?;
                if self.conn.is_handshaking() && self.peer_closed() {
                    return Err(NetError::Closed {
                        detail: "the connection ended during the TLS handshake",
                    });
                }
            }
        }
        self.write_pending()
    }

    fn peer_closed(&mut self) -> bool {
        // After an EOF rustls's reader reports UnexpectedEof (or Ok(0) after close_notify).
        let mut probe = [0u8; 0];
        matches!(self.conn.reader().read(&mut probe), Err(e) if e.kind() == ErrorKind::UnexpectedEof)
    }

    /// The hello exchange (see [`crate::hello`]). `claim` runs once the peer's hello checks out,
    /// before this side's verdict is sent; its refusal is this side's verdict.
    pub(crate) fn greet<G>(
        &mut self,
        mine: Hello,
        claim: impl FnOnce(&Hello) -> Result<G, Refusal>,
    ) -> Result<G, NetError> {
        self.send_bytes(&mine.encode())?;
        self.flush_all()?;
        let mut theirs = [0u8; HELLO_LEN];
        self.recv_exact(&mut theirs)?;
        let verdict = mine.check(&theirs, self.peer);
        let claimed = match verdict {
            Ok(h) => claim(&h),
            Err(r) => Err(r),
        };
        let encoded = match &claimed {
            Ok(_) => hello::encode_verdict(&Ok(mine)),
            Err(r) => hello::encode_verdict(&Err(r.clone())),
        };
        self.send_bytes(&encoded)?;
        self.flush_all()?;
        let mut peer_verdict = [0u8; VERDICT_LEN];
        let read = self.recv_exact(&mut peer_verdict);
        let guard = claimed.map_err(NetError::Hello)?;
        read?;
        hello::decode_verdict(&peer_verdict).map_err(NetError::Hello)?;
        Ok(guard)
    }

    /// Ends the setup phase: from now on the idle timeouts apply, and a thread of its own
    /// writes to the socket.
    pub(crate) fn finish_setup(&mut self) -> Result<(), NetError> {
        self.write_pending()?;
        self.deadline = None;
        Ok(())
    }

    /// Seals `data` (at most one record's worth is best) and writes it out.
    fn seal(&mut self, mut data: &[u8]) -> Result<(), NetError> {
        while !data.is_empty() {
            let n = self
                .conn
                .writer()
                .write(data)
                .map_err(|e| NetError::io("encrypt", e))?;
            data = &data[n..];
            if n == 0 && !self.conn.wants_write() {
                return Err(NetError::Closed {
                    detail: "the TLS session no longer takes data",
                });
            }
            self.write_pending()?;
        }
        Ok(())
    }

    fn push_out(&mut self) -> Result<(), NetError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let r = self.seal(&out);
        self.out = out;
        self.out.clear();
        r
    }

    fn send_bytes(&mut self, mut buf: &[u8]) -> Result<(), NetError> {
        if self.closed {
            return Err(NetError::Closed {
                detail: "this side closed the connection",
            });
        }
        while !buf.is_empty() {
            if self.out.is_empty() && buf.len() >= RECORD {
                let (record, rest) = buf.split_at(RECORD);
                self.seal(record)?;
                buf = rest;
                continue;
            }
            let take = (RECORD - self.out.len()).min(buf.len());
            self.out.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.out.len() == RECORD {
                self.push_out()?;
            }
        }
        Ok(())
    }

    fn flush_all(&mut self) -> Result<(), NetError> {
        self.push_out()?;
        self.write_pending()
    }

    fn recv_exact(&mut self, buf: &mut [u8]) -> Result<(), NetError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.conn.reader().read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(NetError::Closed {
                        detail: crate::error::ORDERLY_CLOSE,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.read_more("read")?,
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Err(NetError::Closed {
                        detail: "the connection ended without a TLS close_notify",
                    });
                }
                Err(e) => return Err(NetError::io("read", e)),
            }
        }
        Ok(())
    }

    /// Runs `op` unless an earlier call failed; records its failure.
    fn guarded(
        &mut self,
        op: impl FnOnce(&mut TlsTransport) -> Result<(), NetError>,
    ) -> Result<(), TransportError> {
        if let Some(e) = &self.failed {
            return Err(e.transport_error());
        }
        op(self).map_err(|e| {
            // A failed write shuts the socket down, so a read fails too: the write's failure
            // is the cause.
            let e = self.sender.as_ref().and_then(Sender::failure).unwrap_or(e);
            let code = e.transport_error();
            self.failed = Some(e);
            code
        })
    }
}

impl Transport for TlsTransport {
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

    fn send_window(&self) -> usize {
        if self.deadline.is_none() {
            sender::WINDOW
        } else {
            fixshare::transport::INTERLEAVE
        }
    }
}

impl Drop for TlsTransport {
    fn drop(&mut self) {
        if self.closed || self.failed.is_some() || self.deadline.is_some() {
            return;
        }
        // A close_notify after what is queued, waiting a little for the sending thread: a peer
        // that stopped reading gets none.
        let queued = self.push_out().is_ok() && {
            self.conn.send_close_notify();
            self.write_pending().is_ok()
        };
        if let Some(mut s) = self.sender.take()
            && queued
        {
            let _ = s.finish(self.timeouts.write.min(DROP_WAIT));
        }
    }
}
