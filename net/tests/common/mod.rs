//! Helpers shared by the integration tests: parties' keys and endpoints, a recording logger, and a
//! guard that turns a hang into a test failure.

#![allow(dead_code, unreachable_pub)]

use fixshare::PartyId;
use fixshare_net::{Endpoint, Identity, ListenerEvent, Logger, Pin, SessionId, Timeouts};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Short timeouts, so that the failure tests end quickly.
pub fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(10),
        handshake: Duration::from_secs(5),
        read: Duration::from_secs(30),
        write: Duration::from_secs(30),
    }
}

/// `n` parties of one session: their endpoints and pins.
pub fn parties<const N: usize>(session: &str) -> (Vec<Endpoint>, [Pin; N]) {
    let session = SessionId::derive(session);
    let mut endpoints = Vec::new();
    let ids: [Identity; N] =
        std::array::from_fn(|i| Identity::generate(&format!("party{i}")).expect("keygen"));
    let pins = ids.each_ref().map(Identity::pin);
    for (i, id) in ids.into_iter().enumerate() {
        endpoints
            .push(Endpoint::new(Arc::new(id), PartyId(i as u8), session).with_timeouts(timeouts()));
    }
    (endpoints, pins)
}

/// A logger that keeps every event's text (and prints it when `FIXSHARE_NET_TEST_LOG` is set).
pub fn recorder() -> (Logger, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let print = std::env::var_os("FIXSHARE_NET_TEST_LOG").is_some();
    let logger: Logger = Arc::new(move |e: &ListenerEvent<'_>| {
        if print {
            eprintln!("listener: {e}");
        }
        sink.lock().unwrap().push(e.to_string());
    });
    (logger, log)
}

/// Runs `f` on a thread and fails the test if it takes longer than `limit` (a hang).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("hung: no result within {limit:?}"),
    }
}

/// Waits until `log` holds an entry containing every one of `needles`.
pub fn wait_for_log(log: &Arc<Mutex<Vec<String>>>, needles: &[&str], limit: Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Some(hit) = log
            .lock()
            .unwrap()
            .iter()
            .find(|l| needles.iter().all(|n| l.contains(n)))
        {
            return hit.clone();
        }
        if start.elapsed() > limit {
            panic!(
                "no log entry with {needles:?} within {limit:?}; log: {:#?}",
                log.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `log` holds at least `n` entries containing `needle`.
pub fn wait_for_count(log: &Arc<Mutex<Vec<String>>>, needle: &str, n: usize, limit: Duration) {
    let start = std::time::Instant::now();
    while log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .count()
        < n
    {
        if start.elapsed() > limit {
            panic!(
                "fewer than {n} log entries with {needle:?} within {limit:?}; log: {:#?}",
                log.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Party `id`.
pub fn p(id: u8) -> PartyId {
    PartyId(id)
}

/// Accepts any server certificate: only for a test client that plays a stranger.
#[derive(Debug)]
pub struct AnyServer(rustls::crypto::WebPkiSupportedAlgorithms);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// A TLS 1.3 client with no certificate of its own (and any server's accepted) that connects to
/// `addr`, writes a few bytes and reads: a stranger. Returns the outcome of its read (an alert
/// from a fixshare-net listener).
pub fn anonymous_tls_client(addr: std::net::SocketAddr) -> std::io::Result<usize> {
    use std::io::{Read, Write};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(std::io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(algorithms)))
        .with_no_client_auth();
    config.alpn_protocols = vec![fixshare_net::ALPN.to_vec()];
    let name = rustls::pki_types::ServerName::try_from("fixshare.invalid")
        .map_err(std::io::Error::other)?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
    let mut sock = std::net::TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    // The handshake completes from the client's side; its first read meets the refusal.
    tls.write_all(b"hello?")?;
    let mut buf = [0u8; 1];
    tls.read(&mut buf)
}
