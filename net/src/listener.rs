//! A listener that accepts the expected parties and refuses everyone else.
//!
//! A background thread takes in TCP connections as they come, for as long as the listener
//! lives, and each gets its own thread for the TLS handshake and the hello, bounded
//! in number (`Endpoint::with_max_pending`: beyond it, connections wait in the system's backlog
//! until a handshake ends) and in time ([`crate::Timeouts::handshake`]), so a connection that
//! never speaks, or speaks slowly, holds a handshake's place for a bounded time only. A connection is refused, with
//! its reason handed to the logger, when its key is not pinned, its TLS fails, it sends no hello
//! in time, its hello names another session, version or party, or its key is connected already
//! (a duplicate); the listener goes on serving the others.

use crate::error::{ListenerEvent, NetError};
use crate::hello::{Reason, Refusal, RefusedBy};
use crate::identity::Pin;
use crate::tls::{Endpoint, TlsTransport};
use fixshare::PartyId;
use rustls::server::ServerConnection;
use rustls::{Connection, ServerConfig};
use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a listener calls with each event ([`ListenerEvent`]).
pub type Logger = Arc<dyn Fn(&ListenerEvent<'_>) + Send + Sync>;

/// The expected connections held now, by their place in the listener's list: a key's place is
/// taken while its transport lives.
type Slots = Arc<Mutex<HashSet<usize>>>;

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, HashSet<usize>> {
    // The set stays consistent even if a thread panicked while holding it.
    slots.lock().unwrap_or_else(|e| e.into_inner())
}

/// A key's place at a listener, held by its transport; dropping it lets the party connect
/// again.
pub(crate) struct SlotGuard {
    slots: Slots,
    id: usize,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        lock(&self.slots).remove(&self.id);
    }
}

/// Decrements the count of handshakes in progress when a handshake thread ends, however it ends.
struct Pending(Arc<AtomicUsize>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts connections from the parties it expects, each authenticated by its pinned key.
///
/// From [`Endpoint::listen`] until it is dropped, a background thread takes in connections and
/// refuses strays as they come, logging each refusal (to standard error unless
/// [`Listener::set_logger`] says otherwise); the parties that pass wait in a queue for
/// [`Listener::accept`] and [`Listener::accept_all`], holding their key's place (a second
/// connection with the same key is a duplicate until the first transport is dropped).
///
/// Each expected peer is a key and the party id its hello must name; several keys may share a
/// party id (data owners, told apart by their keys).
pub struct Listener {
    local: SocketAddr,
    peers: Arc<Vec<(PartyId, Pin)>>,
    rx: Receiver<TlsTransport>,
    logger: Arc<RwLock<Logger>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// The background side of a [`Listener`].
struct Acceptor {
    endpoint: Endpoint,
    tcp: TcpListener,
    local: SocketAddr,
    peers: Arc<Vec<(PartyId, Pin)>>,
    config: Arc<ServerConfig>,
    slots: Slots,
    pending: Arc<AtomicUsize>,
    tx: Sender<TlsTransport>,
    logger: Arc<RwLock<Logger>>,
    stop: Arc<AtomicBool>,
}

fn current(logger: &RwLock<Logger>) -> Logger {
    logger.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .field("peers", &self.peers)
            .finish()
    }
}

impl Listener {
    pub(crate) fn bind(
        endpoint: Endpoint,
        addr: impl ToSocketAddrs,
        peers: &[(PartyId, Pin)],
    ) -> Result<Listener, NetError> {
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
        let config = endpoint.server_config(peers.iter().map(|p| p.1).collect())?;
        let tcp = TcpListener::bind(addr).map_err(|e| NetError::io("listen", e))?;
        let local = tcp.local_addr().map_err(|e| NetError::io("listen", e))?;
        tcp.set_nonblocking(true)
            .map_err(|e| NetError::io("listen", e))?;
        let (tx, rx) = channel();
        let logger: Logger = Arc::new(move |event: &ListenerEvent<'_>| {
            eprintln!("fixshare-net listener {local}: {event}");
        });
        let logger = Arc::new(RwLock::new(logger));
        let stop = Arc::new(AtomicBool::new(false));
        let peers = Arc::new(peers.to_vec());
        let acceptor = Acceptor {
            endpoint,
            tcp,
            local,
            peers: peers.clone(),
            config,
            slots: Arc::new(Mutex::new(HashSet::new())),
            pending: Arc::new(AtomicUsize::new(0)),
            tx,
            logger: logger.clone(),
            stop: stop.clone(),
        };
        let acceptor = std::thread::Builder::new()
            .name(format!("fixshare-net listener {local}"))
            .spawn(move || acceptor.run())
            .map_err(|e| NetError::io("start the listener's thread", e))?;
        Ok(Listener {
            local,
            peers,
            rx,
            logger,
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
    pub fn accept(&self, timeout: Duration) -> Result<TlsTransport, NetError> {
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

    /// One connection from every expected peer (every key), in the order they were given to
    /// [`Endpoint::listen`], waiting up to `timeout` in all. Fails naming the parties that did
    /// not make it.
    pub fn accept_all(&self, timeout: Duration) -> Result<Vec<TlsTransport>, NetError> {
        let deadline = Instant::now() + timeout;
        let mut got: Vec<Option<TlsTransport>> = self.peers.iter().map(|_| None).collect();
        while got.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.accept(left) {
                Ok(t) => {
                    let i = self.peers.iter().position(|p| p.1 == t.peer_pin());
                    match i {
                        Some(i) if got[i].is_none() => got[i] = Some(t),
                        // Cannot happen while the slot of a held transport is taken.
                        _ => {
                            let e = NetError::UnexpectedPeer { claimed: t.peer() };
                            let addr = t.peer_addr().unwrap_or(self.local);
                            (self.logger())(&ListenerEvent::Rejected { addr, reason: &e });
                        }
                    }
                }
                Err(e) if e.is_timeout() => {
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
                Err(e) => return Err(e),
            }
        }
        Ok(got.into_iter().flatten().collect())
    }
}

impl Acceptor {
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
    let Some(place) = peers.iter().position(|p| p.1 == pin) else {
        // The verifier accepts pinned keys only; this is a second line of defence.
        return Err(NetError::Config(format!(
            "the key {pin} is not pinned here"
        )));
    };
    let id = peers[place].0;
    t.set_peer(id, pin);
    let slot = t.greet(endpoint.hello(id), |_| {
        let mut taken = lock(slots);
        if taken.insert(place) {
            Ok(SlotGuard {
                slots: slots.clone(),
                id: place,
            })
        } else {
            Err(Refusal {
                by: RefusedBy::Us,
                reason: Reason::Duplicate,
                detail: format!("party {} with this key is connected already", id.0),
            })
        }
    })?;
    t.set_slot(slot);
    t.finish_setup()
}
