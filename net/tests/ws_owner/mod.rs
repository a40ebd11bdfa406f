//! A data owner over WebSocket in Rust, for the tests: what a web page does with the WASM
//! package (TLS checking the server's pinned key, the WebSocket upgrade with the owners'
//! subprotocol, the key proof of `fixshare_job::proof`), and the strays a server must refuse.

#![allow(dead_code, unreachable_pub)]

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use fixshare::{Transport, TransportError};
use fixshare_job::Pin;
use fixshare_job::proof::{Signer, p256_spki};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// Accepts the server whose key hashes to `pin`, as a browser with the server's certificate
/// pinned would.
#[derive(Debug)]
struct PinCheck {
    pin: Pin,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match fixshare_net::pin_of_certificate(end_entity) {
            Ok(p) if p == self.pin => Ok(ServerCertVerified::assertion()),
            _ => Err(rustls::Error::General("not the pinned server".into())),
        }
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.3 only".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

type Stream = StreamOwned<ClientConnection, TcpStream>;

/// A TLS connection to `addr` checking the server's key against `pin`.
pub fn tls(addr: &str, pin: Pin) -> Result<Stream, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinCheck { pin, algorithms }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    sock.set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let name = ServerName::try_from("server.fixshare").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut s = StreamOwned::new(conn, sock);
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(|e| format!("TLS: {e}"))?;
    }
    Ok(s)
}

/// A data owner's WebSocket: the byte stream in binary messages, as a core transport.
pub struct WsClient {
    ws: WebSocket<Stream>,
    inbox: Vec<u8>,
    at: usize,
}

impl WsClient {
    /// TLS to `addr` (server key `pin`), then the upgrade asking for `subprotocol`.
    pub fn connect(addr: &str, pin: Pin, subprotocol: Option<&str>) -> Result<WsClient, String> {
        let stream = tls(addr, pin)?;
        let mut request = format!("wss://{addr}/")
            .into_client_request()
            .map_err(|e| e.to_string())?;
        if let Some(p) = subprotocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
        }
        let (ws, _) = tungstenite::client::client_with_config(request, stream, None)
            .map_err(|e| format!("upgrade: {e}"))?;
        Ok(WsClient {
            ws,
            inbox: Vec::new(),
            at: 0,
        })
    }

    /// [`WsClient::connect`] with the owners' subprotocol.
    pub fn owner(addr: &str, pin: Pin) -> Result<WsClient, String> {
        WsClient::connect(addr, pin, Some(fixshare_net::websocket::SUBPROTOCOL))
    }

    /// Sends a text message (which a server must refuse).
    pub fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).unwrap();
    }

    /// Closes with a close frame.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

impl Transport for WsClient {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.ws
            .send(Message::binary(buf.to_vec()))
            .map_err(|_| TransportError::Failed(1))
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.at < self.inbox.len() {
                let n = (self.inbox.len() - self.at).min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&self.inbox[self.at..self.at + n]);
                self.at += n;
                filled += n;
                continue;
            }
            match self.ws.read() {
                Ok(Message::Binary(b)) => {
                    self.inbox = b.to_vec();
                    self.at = 0;
                }
                Ok(Message::Close(_)) | Err(_) => return Err(TransportError::Closed),
                Ok(_) => {}
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.ws.flush().map_err(|_| TransportError::Failed(1))
    }
}

/// An owner's ECDSA P-256 key, as WebCrypto would hold it.
pub struct OwnerKey {
    pair: EcdsaKeyPair,
    spki: [u8; 91],
    /// Signs a different message than asked (a forged proof).
    pub tamper: bool,
}

impl OwnerKey {
    fn of(pair: EcdsaKeyPair) -> OwnerKey {
        let spki = p256_spki(pair.public_key().as_ref()).expect("a P-256 key");
        OwnerKey {
            pair,
            spki,
            tamper: false,
        }
    }

    /// A fresh key.
    pub fn generate() -> OwnerKey {
        OwnerKey::of(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
    }

    /// The key of `fixshare-net keygen`'s `.key` file (a P-256 key in PKCS#8).
    pub fn from_pem_file(path: &Path) -> OwnerKey {
        let der = PrivateKeyDer::from_pem_file(path).unwrap();
        OwnerKey::of(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_der()).unwrap(),
        )
    }

    /// Its pin.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.spki)
    }
}

impl Signer for OwnerKey {
    fn spki(&self) -> &[u8] {
        &self.spki
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let mut m = message.to_vec();
        if self.tamper {
            m[40] ^= 1;
        }
        self.pair
            .sign(&SystemRandom::new(), &m)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| e.to_string())
    }
}

/// 32 fresh random bytes.
pub fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).unwrap();
    b
}
