//! Connections of the examples' processes.
//!
//! - [`PartyKeys`]: what `train --party` runs on between processes, TLS 1.3 with every party
//!   authenticated by its pinned key (`fixshare-net`), from a directory of key files.
//! - [`TcpTransport`]: plain TCP (blocking sockets, buffered writes flushed before each wait for
//!   the peer, a read timeout), for measurements of both ends in one process on 127.0.0.1
//!   (`ops --transport tcp`). Nothing authenticates it: not for parties on a network.
//! - [`tls_pair`]: two ends of one TLS 1.3 connection on 127.0.0.1 with fresh pinned keys, for
//!   measurements of both ends in one process (`ops` and `train --transport tls|lan|wan`).

use fixshare::{PartyId, Transport, TransportError};
use fixshare_net::{Endpoint, Identity, Pin, SessionId, Timeouts, TlsTransport};
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The processes of `train --party` and `securenn --party`: the name of each one's key files
/// and its party id in the hello (the servers and the dealer as in `Topology::TwoServersDealer`,
/// the helper as in `Topology::ThreeServers`; the data owner, a client of the servers, as 16).
pub const ROLES: [(&str, PartyId); 5] = [
    ("server0", PartyId(0)),
    ("server1", PartyId(1)),
    ("dealer", PartyId(2)),
    ("helper", PartyId(2)),
    ("owner", PartyId(16)),
];

fn role(name: &str) -> Result<PartyId, String> {
    ROLES
        .iter()
        .find(|r| r.0 == name)
        .map(|r| r.1)
        .ok_or_else(|| format!("no role {name:?}"))
}

/// A `train --party` process's TLS setup: its own key and certificate, `DIR/NAME.key` and
/// `DIR/NAME.crt`, and the certificates of the processes it talks to, `DIR/OTHER.crt`, whose
/// keys it pins. Make each with `cargo run -p fixshare-net -- keygen --name NAME --out DIR`, and
/// copy the `.crt` files (never the `.key`) to the other machines' directories.
pub struct PartyKeys {
    endpoint: Endpoint,
    dir: PathBuf,
}

impl PartyKeys {
    /// Loads the keys of role `me` (a name of [`ROLES`]) from `dir`, for the session named
    /// `session` (every process of a run must name the same).
    pub fn load(dir: &str, me: &str, session: &str) -> Result<PartyKeys, String> {
        let id = role(me)?;
        let dir = PathBuf::from(dir);
        let file = |ext: &str| dir.join(format!("{me}.{ext}"));
        let identity = Identity::from_pem_files(file("crt"), file("key")).map_err(|e| {
            format!(
                "this process's key ({e}); make it with `cargo run -p fixshare-net -- keygen \
                 --name {me} --out {}`",
                dir.display()
            )
        })?;
        let timeouts = Timeouts {
            // The other processes may start a while later.
            connect: Duration::from_secs(120),
            ..Timeouts::default()
        };
        let endpoint = Endpoint::new(Arc::new(identity), id, SessionId::derive(session))
            .with_timeouts(timeouts);
        Ok(PartyKeys { endpoint, dir })
    }

    /// The directory the keys come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn peer(&self, name: &str) -> Result<(PartyId, Pin), String> {
        let crt = self.dir.join(format!("{name}.crt"));
        let pin = fixshare_net::pin_of_certificate_file(&crt)
            .map_err(|e| format!("{name}'s certificate: {e}"))?;
        Ok((role(name)?, pin))
    }

    /// Connects to role `to` at `addr` (retrying for up to two minutes while it is not up).
    pub fn connect(&self, addr: &str, to: &str) -> Result<TlsTransport, String> {
        let (id, pin) = self.peer(to)?;
        self.endpoint
            .connect(addr, id, pin)
            .map_err(|e| format!("connecting to {to} at {addr}: {e}"))
    }

    /// Listens at `addr` for one connection from each of the roles `from`, returned in that
    /// order; refuses (and logs to standard error) everyone else while it waits, up to `wait`.
    pub fn accept(
        &self,
        addr: &str,
        from: &[&str],
        wait: Duration,
    ) -> Result<Vec<TlsTransport>, String> {
        let peers = from
            .iter()
            .map(|name| self.peer(name))
            .collect::<Result<Vec<_>, _>>()?;
        let listener = self
            .endpoint
            .listen(addr, &peers)
            .map_err(|e| format!("listening at {addr}: {e}"))?;
        listener
            .accept_all(wait)
            .map_err(|e| format!("at {addr}: {e}"))
    }
}

/// How long a read waits for the peer before the session fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(600);

/// One TCP connection to a peer.
pub struct TcpTransport {
    reader: TcpStream,
    writer: BufWriter<TcpStream>,
}

fn code(e: &std::io::Error) -> TransportError {
    match e.kind() {
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe => TransportError::Closed,
        _ => TransportError::Failed(e.raw_os_error().unwrap_or(-1)),
    }
}

impl TcpTransport {
    /// Wraps a connected stream (disables Nagle's algorithm: frames are flushed deliberately).
    pub fn new(stream: TcpStream) -> std::io::Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        let writer = BufWriter::with_capacity(1 << 16, stream.try_clone()?);
        Ok(TcpTransport {
            reader: stream,
            writer,
        })
    }

    /// Connects to `addr`, retrying for up to `patience` while the listener is not up yet, and
    /// sends the one-byte `hello` that tells the listener what this connection is for.
    pub fn connect(addr: &str, hello: u8, patience: Duration) -> std::io::Result<Self> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let start = Instant::now();
        loop {
            match TcpStream::connect(&addrs[..]) {
                Ok(mut s) => {
                    s.write_all(&[hello])?;
                    return TcpTransport::new(s);
                }
                Err(e) if start.elapsed() < patience => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Accepts `count` connections on `listener` and returns them ordered by their hello byte
    /// (`hellos[i]` is the byte expected of the i-th result). An unexpected or repeated hello
    /// is an error.
    pub fn accept(listener: &TcpListener, hellos: &[u8]) -> std::io::Result<Vec<TcpTransport>> {
        let mut got: Vec<Option<TcpTransport>> = hellos.iter().map(|_| None).collect();
        for _ in 0..hellos.len() {
            let (mut s, _) = listener.accept()?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut b = [0u8; 1];
            s.read_exact(&mut b)?;
            let slot = hellos
                .iter()
                .position(|&h| h == b[0])
                .filter(|&i| got[i].is_none());
            let Some(i) = slot else {
                return Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    format!("unexpected connection (hello byte {})", b[0]),
                ));
            };
            got[i] = Some(TcpTransport::new(s)?);
        }
        Ok(got.into_iter().flatten().collect())
    }
}

impl Transport for TcpTransport {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.writer.write_all(buf).map_err(|e| code(&e))
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.writer.flush().map_err(|e| code(&e))?;
        self.reader.read_exact(buf).map_err(|e| code(&e))
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.writer.flush().map_err(|e| code(&e))
    }
}

/// Two parties with fresh keys, each pinning the other's, joined by TLS 1.3 on 127.0.0.1:
/// (the listening end, the connecting end).
pub fn tls_pair() -> Result<(TlsTransport, TlsTransport), String> {
    let net = |e: fixshare_net::NetError| format!("tls: {e}");
    let session = SessionId::derive("fixshare-examples: one process");
    let a = Identity::generate("a").map_err(net)?;
    let b = Identity::generate("b").map_err(net)?;
    let (pa, pb) = (a.pin(), b.pin());
    let ea = Endpoint::new(Arc::new(a), PartyId(0), session);
    let eb = Endpoint::new(Arc::new(b), PartyId(1), session);
    let l = ea.listen("127.0.0.1:0", &[(PartyId(1), pb)]).map_err(net)?;
    l.set_logger(Arc::new(|_: &fixshare_net::ListenerEvent<'_>| {}));
    let addr = l.local_addr().to_string();
    let c = std::thread::spawn(move || eb.connect(&addr, PartyId(0), pa));
    let s = l.accept(Duration::from_secs(30)).map_err(net)?;
    let c = c
        .join()
        .map_err(|_| "tls: the connecting thread panicked".to_string())?
        .map_err(net)?;
    Ok((s, c))
}
