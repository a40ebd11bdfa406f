//! A listener that accepts the expected parties and refuses everyone else.
//!
//! A background thread takes in TCP connections as they come, for as long as the listener
//! lives, and each gets its own thread for the TLS handshake and the hello, bounded
//! in number (`Endpoint::with_max_pending`: beyond it, connections wait in the system's backlog
//! until a handshake ends) and in time ([`crate::Timeouts::handshake`]), so a connection that
//! never speaks, or speaks slowly, holds a handshake's place for a bounded time only. A
//! connection is refused, with its reason handed to the logger, when its key is not pinned, its
//! TLS fails, it sends no hello in time, its hello names another session, version or party, or
//! its key is connected already (a duplicate); the listener goes on serving the others.
//!
//! An expected peer is a key: several keys may share a party id (every data owner says 16 in
//! its hello; its key says which owner it is).
//!
//! The same machinery serves data owners over WebSocket ([`Listener::websocket`],
//! [`crate::websocket`]): a second listener whose connections authenticate by a key proof
//! instead of a client certificate, sharing the first one's parties (an owner connected on
//! either is a duplicate on the other) and its logger; [`Listener::accept_all_from`] gathers
//! every expected party from both.

use crate::any::AnyTransport;
use crate::error::{ListenerEvent, NetError};
use crate::hello::{Reason, Refusal, RefusedBy};
use crate::identity::{Identity, Pin};
use crate::tls::{Endpoint, TlsTransport};
use crate::websocket::{self, WsTransport};
use fixshare::PartyId;
use rustls::server::ServerConnection;
use rustls::{Connection, ServerConfig};
use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a listener calls with each event ([`ListenerEvent`]).
pub type Logger = Arc<dyn Fn(&ListenerEvent<'_>) + Send + Sync>;

/// The expected peers connected through a listener now, by key: a key's place is taken while
/// its transport lives.
pub(crate) type Slots = Arc<Mutex<HashSet<Pin>>>;

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, HashSet<Pin>> {
    // The set stays consistent even if a thread panicked while holding it.
    slots.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the place of party `id`'s key `pin`, or refuses the connection as a duplicate.
pub(crate) fn claim(slots: &Slots, id: PartyId, pin: Pin) -> Result<SlotGuard, Refusal> {
    let mut taken = lock(slots);
    if taken.insert(pin) {
        Ok(SlotGuard {
            slots: slots.clone(),
            pin,
        })
    } else {
        Err(Refusal {
            by: RefusedBy::Us,
            reason: Reason::Duplicate,
            detail: format!("party {} with this key is connected already", id.0),
        })
    }
}

/// A key's place at a listener, held by its transport; dropping it lets the party connect
/// again.
pub(crate) struct SlotGuard {
    slots: Slots,
    pin: Pin,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        lock(&self.slots).remove(&self.pin);
    }
}

/// Decrements the count of handshakes in progress when a handshake thread ends, however it ends.
struct Pending(Arc<AtomicUsize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a listener hands out: an authenticated connection that knows its party.
pub trait Accepted: Send + 'static {
    /// The party at the other end.
    fn peer(&self) -> PartyId;
    /// The peer's address, if the socket knows it.
    fn peer_addr(&self) -> Option<SocketAddr>;
}

impl Accepted for TlsTransport {
    fn peer(&self) -> PartyId {
        TlsTransport::peer(self)
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        TlsTransport::peer_addr(self)
    }
}

impl Accepted for WsTransport {
    fn peer(&self) -> PartyId {
        WsTransport::peer(self)
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        WsTransport::peer_addr(self)
    }
}

/// The setup of one incoming connection: its handshake and hello, and whatever authenticates
/// it, for the parties `peers`, taking a place in `slots`.
type Serve<T> =
    fn(&Endpoint, Arc<ServerConfig>, &[(PartyId, Pin)], &Slots, TcpStream) -> Result<T, NetError>;

/// Accepts connections from the parties it expects, each authenticated by its pinned key.
///
/// From [`Endpoint::listen`] until it is dropped, a background thread takes in connections and
/// refuses strays as they come, logging each refusal (to standard error unless
/// [`Listener::set_logger`] says otherwise); the parties that pass wait in a queue for
/// [`Listener::accept`] and [`Listener::accept_all`], holding their party's place (a second
/// connection of the same party is a duplicate until the first transport is dropped).
///
/// `Listener<WsTransport>` ([`Listener::websocket`]) takes data owners over WebSocket.
pub struct Listener<T: Accepted = TlsTransport> {
    local: SocketAddr,
    endpoint: Endpoint,
    peers: Arc<Vec<(PartyId, Pin)>>,
    slots: Slots,
    rx: Receiver<T>,
    logger: Arc<RwLock<Logger>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// The background side of a [`Listener`].
struct Acceptor<T> {
    endpoint: Endpoint,
    tcp: TcpListener,
    local: SocketAddr,
    peers: Arc<Vec<(PartyId, Pin)>>,
    config: Arc<ServerConfig>,
    serve: Serve<T>,
    slots: Slots,
    pending: Arc<AtomicUsize>,
    tx: Sender<T>,
    logger: Arc<RwLock<Logger>>,
    stop: Arc<AtomicBool>,
}

fn current(logger: &RwLock<Logger>) -> Logger {
    logger.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl<T: Accepted> Drop for Listener<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

impl<T: Accepted> std::fmt::Debug for Listener<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .field("peers", &self.peers)
            .finish()
    }
}

/// Refuses a list of peers that names this party or a key twice.
fn check_peers(endpoint: &Endpoint, peers: &[(PartyId, Pin)]) -> Result<(), NetError> {
    if peers.is_empty() {
        return Err(NetError::Config(
            "a listener needs at least one peer".into(),
        ));
    }
    for (i, (id, pin)) in peers.iter().enumerate() {
        if *id == endpoint.me() {
            return Err(NetError::Config(format!(
                "party {} cannot be its own peer",
                id.0
            )));
        }
        if *pin == endpoint.identity().pin() {
            return Err(NetError::Config(format!(
                "party {}'s pin is this party's own key: every party needs a key of its own",
                id.0
            )));
        }
        for (other, other_pin) in &peers[..i] {
            if other_pin == pin {
                return Err(NetError::Config(format!(
                    "parties {} and {} have the same key",
                    other.0, id.0
                )));
            }
        }
    }
    Ok(())
}

/// What a listener shares with the one it is attached to: its parties' places and its logger.
struct Shared {
    slots: Slots,
    logger: Arc<RwLock<Logger>>,
}

impl<T: Accepted> Listener<T> {
    fn start(
        endpoint: Endpoint,
        addr: impl ToSocketAddrs,
        peers: &[(PartyId, Pin)],
        config: Arc<ServerConfig>,
        serve: Serve<T>,
        shared: Option<Shared>,
    ) -> Result<Listener<T>, NetError> {
        let tcp = TcpListener::bind(addr).map_err(|e| NetError::io("listen", e))?;
        let local = tcp.local_addr().map_err(|e| NetError::io("listen", e))?;
        tcp.set_nonblocking(true)
            .map_err(|e| NetError::io("listen", e))?;
        let (tx, rx) = channel();
        let shared = match shared {
            Some(s) => s,
            None => {
                let logger: Logger = Arc::new(move |event: &ListenerEvent<'_>| {
                    eprintln!("fixshare-net listener {local}: {event}");
                });
                Shared {
                    slots: Arc::new(Mutex::new(HashSet::new())),
                    logger: Arc::new(RwLock::new(logger)),
                }
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let peers = Arc::new(peers.to_vec());
        let acceptor = Acceptor {
            endpoint: endpoint.clone(),
            tcp,
            local,
            peers: peers.clone(),
            config,
            serve,
            slots: shared.slots.clone(),
            pending: Arc::new(AtomicUsize::new(0)),
            tx,
            logger: shared.logger.clone(),
            stop: stop.clone(),
        };
        let acceptor = std::thread::Builder::new()
            .name(format!("fixshare-net listener {local}"))
            .spawn(move || acceptor.run())
            .map_err(|e| NetError::io("start the listener's thread", e))?;
        Ok(Listener {
            local,
            endpoint,
            peers,
            slots: shared.slots,
            rx,
            logger: shared.logger,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The address it listens at (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends every later event to `logger` instead of standard error.
    pub fn set_logger(&self, logger: Logger) {
        *self.logger.write().unwrap_or_else(|e| e.into_inner()) = logger;
    }

    fn logger(&self) -> Logger {
        current(&self.logger)
    }

    /// The next party to connect, authenticate and pass the hello (or one that did so already
    /// and waits in the queue), waiting up to `timeout`.
    pub fn accept(&self, timeout: Duration) -> Result<T, NetError> {
        match self.rx.recv_timeout(timeout) {
            Ok(t) => Ok(t),
            Err(RecvTimeoutError::Timeout) => Err(NetError::Timeout {
                op: "accept",
                after: timeout,
            }),
            Err(RecvTimeoutError::Disconnected) => Err(NetError::Config(
                "the listener's thread ended (see the log)".into(),
            )),
        }
    }
}

impl Listener<TlsTransport> {
    pub(crate) fn bind(
        endpoint: Endpoint,
        addr: impl ToSocketAddrs,
        peers: &[(PartyId, Pin)],
    ) -> Result<Listener, NetError> {
        check_peers(&endpoint, peers)?;
        let config = endpoint.server_config(peers.iter().map(|p| p.1).collect())?;
        Listener::start(endpoint, addr, peers, config, serve, None)
    }

    /// A second listener, at `addr`, for the data owners `owners` (each also one of this
    /// listener's peers) in web pages: TLS with `certificate` (a certificate browsers accept
    /// for the server's name) or, if `None`, this party's own, no client certificate, a
    /// WebSocket upgrade, then the owner's key proof and the hello ([`crate::websocket`]). The
    /// proof names this party's own pin either way. It shares this listener's parties (an owner
    /// connected to either is a duplicate on the other) and logger;
    /// [`Listener::accept_all_from`] gathers from both.
    pub fn websocket(
        &self,
        addr: impl ToSocketAddrs,
        owners: &[(PartyId, Pin)],
        certificate: Option<Arc<Identity>>,
    ) -> Result<Listener<WsTransport>, NetError> {
        check_peers(&self.endpoint, owners)?;
        if let Some((id, _)) = owners.iter().find(|o| !self.peers.contains(o)) {
            return Err(NetError::Config(format!(
                "party {} is not a peer of the listener the WebSocket listener is attached to",
                id.0
            )));
        }
        let certificate = certificate.unwrap_or_else(|| self.endpoint.identity().clone());
        let config = websocket::server_config(&certificate)?;
        let shared = Shared {
            slots: self.slots.clone(),
            logger: self.logger.clone(),
        };
        Listener::start(
            self.endpoint.clone(),
            addr,
            owners,
            config,
            websocket::serve,
            Some(shared),
        )
    }

    /// One connection from every expected party, in the order they were given to
    /// [`Endpoint::listen`], waiting up to `timeout` in all. Fails naming the parties that did
    /// not make it.
    pub fn accept_all(&self, timeout: Duration) -> Result<Vec<TlsTransport>, NetError> {
        let all = self.accept_all_from(None, timeout)?;
        Ok(all
            .into_iter()
            .filter_map(|t| match t {
                AnyTransport::Tls(t) => Some(*t),
                AnyTransport::WebSocket(_) | AnyTransport::Sealed(_) => None,
            })
            .collect())
    }

    /// One connection from every party this listener expects, in the order they were given to
    /// [`Endpoint::listen`], each from this listener or, for the parties `ws` expects, from `ws`
    /// ([`Listener::websocket`]), waiting up to `timeout` in all. Fails naming the parties that
    /// did not make it.
    pub fn accept_all_from(
        &self,
        ws: Option<&Listener<WsTransport>>,
        timeout: Duration,
    ) -> Result<Vec<AnyTransport>, NetError> {
        let deadline = Instant::now() + timeout;
        let mut got: Vec<Option<AnyTransport>> = self.peers.iter().map(|_| None).collect();
        let gone = || NetError::Config("the listener's thread ended (see the log)".into());
        while got.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let parties = self
                    .peers
                    .iter()
                    .zip(&got)
                    .enumerate()
                    .filter(|(_, (_, g))| g.is_none())
                    .map(|(i, (p, _))| (i, p.0))
                    .collect();
                return Err(NetError::Missing {
                    parties,
                    after: timeout,
                });
            }
            let from_ws = match ws.map(|w| w.rx.try_recv()) {
                Some(Ok(t)) => Some(AnyTransport::from(t)),
                Some(Err(TryRecvError::Disconnected)) => return Err(gone()),
                Some(Err(TryRecvError::Empty)) | None => None,
            };
            let next = match from_ws {
                Some(t) => t,
                None => {
                    // With a WebSocket listener beside it, look there again every 10 ms.
                    let wait = if ws.is_some() {
                        left.min(Duration::from_millis(10))
                    } else {
                        left
                    };
                    match self.rx.recv_timeout(wait) {
                        Ok(t) => AnyTransport::from(t),
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => return Err(gone()),
                    }
                }
            };
            let i = self.peers.iter().position(|p| p.1 == next.peer_pin());
            match i {
                Some(i) if got[i].is_none() => got[i] = Some(next),
                // Cannot happen while the slot of a held transport is taken.
                _ => {
                    let e = NetError::UnexpectedPeer {
                        claimed: next.peer(),
                    };
                    let addr = next.peer_addr().unwrap_or(self.local);
                    (self.logger())(&ListenerEvent::Rejected { addr, reason: &e });
                }
            }
        }
        Ok(got.into_iter().flatten().collect())
    }
}

impl<T: Accepted> Acceptor<T> {
    /// Takes in connections until the listener is dropped.
    fn run(self) {
        while !self.stop.load(Ordering::Acquire) {
            let pause = match self.take_new_connections() {
                Ok(()) => Duration::from_millis(2),
                // Out of descriptors or similar: logged; give the system a moment.
                Err(()) => Duration::from_millis(50),
            };
            std::thread::sleep(pause);
        }
    }

    /// Starts a handshake thread for every connection waiting in the backlog, as long as fewer
    /// than the endpoint's `max_pending` handshakes run (the others wait in the backlog).
    fn take_new_connections(&self) -> Result<(), ()> {
        loop {
            if self.pending.load(Ordering::Acquire) >= self.endpoint.max_pending() {
                return Ok(());
            }
            match self.tcp.accept() {
                Ok((sock, addr)) => self.spawn(sock, addr),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = NetError::io("accept", e);
                    current(&self.logger)(&ListenerEvent::Rejected {
                        addr: self.local,
                        reason: &e,
                    });
                    return Err(());
                }
            }
        }
    }

    fn spawn(&self, sock: TcpStream, addr: SocketAddr) {
        let logger = current(&self.logger);
        self.pending.fetch_add(1, Ordering::AcqRel);
        let pending = Pending(self.pending.clone());
        let serve = self.serve;
        let endpoint = self.endpoint.clone();
        let config = self.config.clone();
        let peers = self.peers.clone();
        let slots = self.slots.clone();
        let tx = self.tx.clone();
        let shared_logger = self.logger.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fixshare-net handshake {addr}"))
            .spawn(move || {
                let result = serve(&endpoint, config, &peers, &slots, sock);
                drop(pending);
                match result {
                    Ok(t) => {
                        current(&shared_logger)(&ListenerEvent::Accepted {
                            addr,
                            party: t.peer(),
                        });
                        // If the listener is gone, the transport is dropped: the peer sees EOF.
                        let _ = tx.send(t);
                    }
                    Err(e) => {
                        current(&shared_logger)(&ListenerEvent::Rejected { addr, reason: &e })
                    }
                }
            });
        if let Err(e) = spawned {
            let e = NetError::io("start a handshake thread", e);
            logger(&ListenerEvent::Rejected { addr, reason: &e });
        }
    }
}

/// The handshake and hello of one incoming connection.
fn serve(
    endpoint: &Endpoint,
    config: Arc<ServerConfig>,
    peers: &[(PartyId, Pin)],
    slots: &Slots,
    sock: TcpStream,
) -> Result<TlsTransport, NetError> {
    sock.set_nonblocking(false)
        .map_err(|e| NetError::io("accept", e))?;
    let conn = ServerConnection::new(config).map_err(|e| NetError::tls("handshake setup", e))?;
    // Who the peer is becomes known with its certificate, after the handshake.
    let unknown = (PartyId(u8::MAX), Pin::of_spki(&[]));
    let mut t = TlsTransport::start(
        Connection::Server(conn),
        sock,
        endpoint.timeouts(),
        unknown.0,
        unknown.1,
    )?;
    match setup(endpoint, peers, slots, &mut t) {
        Ok(()) => Ok(t),
        Err(e) => {
            t.linger();
            Err(e)
        }
    }
}

fn setup(
    endpoint: &Endpoint,
    peers: &[(PartyId, Pin)],
    slots: &Slots,
    t: &mut TlsTransport,
) -> Result<(), NetError> {
    t.handshake()?;
    let pin = t.presented_pin()?;
    let Some(&(id, _)) = peers.iter().find(|p| p.1 == pin) else {
        // The verifier accepts pinned keys only; this is a second line of defence.
        return Err(NetError::Config(format!(
            "the key {pin} is not pinned here"
        )));
    };
    t.set_peer(id, pin);
    let slot = t.greet(endpoint.hello(id), |_| claim(slots, id, pin))?;
    t.set_slot(slot);
    t.finish_setup()
}
