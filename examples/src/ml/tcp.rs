//! A std TCP [`Transport`]: blocking sockets, buffered writes flushed before each wait for the
//! peer, and a read timeout so that a peer that goes silent ends the session with an error.

use fixshare::{Transport, TransportError};
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

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
