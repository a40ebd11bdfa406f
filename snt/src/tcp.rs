//! A blocking TCP [`Transport`]. The same as the examples' `fixshare_examples::ml::tcp` in
//! substance (buffered writes flushed before each wait, a read timeout); kept here so that this
//! server crate does not depend on the examples crate. Move both to the deployment crate when it
//! lands (TLS).

use fixshare::{Transport, TransportError};
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long a read waits for the peer.
pub const READ_TIMEOUT: Duration = Duration::from_secs(600);

/// One TCP connection.
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
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> std::io::Result<TcpTransport> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        let writer = BufWriter::with_capacity(1 << 16, stream.try_clone()?);
        Ok(TcpTransport {
            reader: stream,
            writer,
        })
    }

    /// Connects to `addr`, retrying for up to `patience` while nobody listens there yet.
    pub fn connect(addr: &str, patience: Duration) -> std::io::Result<TcpTransport> {
        let start = Instant::now();
        loop {
            let addrs: Vec<_> = addr.to_socket_addrs()?.collect();
            match TcpStream::connect(&addrs[..]) {
                Ok(s) => return TcpTransport::new(s),
                Err(_) if start.elapsed() < patience => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => return Err(e),
            }
        }
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
