//! Transports for deploying fixshare between machines.
//!
//! The core never opens a socket: the host hands it a [`fixshare::Transport`] per peer. This
//! crate supplies the ones a real deployment needs:
//!
//! - [`TlsTransport`]: TCP with TLS 1.3 (rustls, aws-lc-rs, post-quantum hybrid key exchange
//!   preferred), both ends authenticated by keys pinned in their configuration ([`Pin`]); no
//!   certificate authority, no unauthenticated mode. Connect, handshake, read and write each have
//!   a timeout ([`Timeouts`]): a peer that stops sending or reading ends the session with
//!   [`NetError::Timeout`], never a hang.
//! - A hello right after the handshake ([`hello`]): protocol version, [`SessionId`], and which
//!   party talks to which; a mismatch is refused on both ends with its reason.
//! - [`Listener`]: accepts the expected parties, refuses (and logs) a key that is not pinned, a
//!   failed handshake, a connection that sends no hello in time, a wrong hello and a duplicate,
//!   and goes on serving.
//! - [`Listener::websocket`], [`WsTransport`]: data owners in web pages, over WebSocket over
//!   TLS, authenticated by a key proof instead of a client certificate ([`websocket`]).
//! - [`Shaped`]: latency and bandwidth emulated in user space around any transport, for LAN/WAN
//!   benchmarks ([`Shape::LAN`], [`Shape::WAN`]).
//! - [`Identity`]: a party's key pair in a self-signed certificate; `fixshare-net keygen` writes
//!   one and prints its pin.
//! - [`device`]: data owners on microcontrollers, whose messages are sealed for each server
//!   and relayed by an untrusted gateway (`fixshare-party gateway`).
//! - [`daemon`]: the party daemon `fixshare-party`, which hosts one role of a training job
//!   (server 0 or 1, the dealer, SecureNN's helper, a data owner) from a TOML configuration.
//!
//! ```
//! use fixshare::{Link, PartyId, Sub, block_on_thread};
//! use fixshare_net::{Endpoint, Identity, SessionId};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! // Each party's key; the pins are what the operators exchange.
//! let (id0, id1) = (Identity::generate("p0")?, Identity::generate("p1")?);
//! let (pin0, pin1) = (id0.pin(), id1.pin());
//! let session = SessionId::derive("example");
//! let p0 = Endpoint::new(Arc::new(id0), PartyId(0), session);
//! let p1 = Endpoint::new(Arc::new(id1), PartyId(1), session);
//!
//! // Party 0 listens for party 1; party 1 connects.
//! let listener = p0.listen("127.0.0.1:0", &[(PartyId(1), pin1)])?;
//! let addr = listener.local_addr().to_string();
//! let client = std::thread::spawn(move || -> Result<u64, fixshare::Error> {
//!     let t = p1.connect(&addr, PartyId(0), pin0).expect("connect");
//!     let mut link = Link::new(t);
//!     block_on_thread(async {
//!         let mut x = [0u64; 1];
//!         link.channel(Sub::Online).recv_ring("example", 0x0101, &mut x).await?;
//!         Ok(x[0])
//!     })
//! });
//! let mut link = Link::new(listener.accept(Duration::from_secs(10))?);
//! block_on_thread(link.channel(Sub::Online).send_ring("example", 0x0101, &[42u64]))?;
//! block_on_thread(link.flush_pending("example"))?;
//! assert_eq!(client.join().unwrap()?, 42);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Security
//!
//! - Trust is the pin: a peer is whoever holds the private key whose public key hashes to the
//!   pin configured for it. Protect key files (written readable by their owner only), and
//!   exchange pins over a channel that an attacker cannot change.
//! - Certificates are envelopes: their names, dates and chains are not checked, so rotating a
//!   key means handing out a new pin.
//! - No session resumption (it would skip the key check) and TLS 1.3 only.
//! - The hello is sent inside the authenticated session; its party id must be the one its key is
//!   pinned for.
//! - A data owner over WebSocket has no client certificate: it proves its pinned ECDSA P-256
//!   key by signing a fresh challenge with the session id and this server's id and pin, so a
//!   proof is good for one connection to one server. The page's browser authenticates the
//!   server by the listener's certificate (which a page cannot bind its proof to): give the
//!   listener one the owners' browsers accept for the server's name.
//! - A device behind a gateway shares a 32-byte key with each server; the gateway's TLS key
//!   authenticates the gateway only, and the message it relays is opened with the device's key
//!   for that server ([`device`]).
//! - [`Shaped`] is for benchmarks: it adds nothing to security and trusts its peer's clock.

#![deny(unsafe_code)]

mod any;
pub mod daemon;
pub mod device;
pub mod error;
pub mod hello;
mod identity;
mod listener;
mod sender;
pub mod shape;
mod tls;
mod verify;
pub mod websocket;

pub use any::AnyTransport;
pub use error::{ListenerEvent, NetError, code};
pub use hello::{PROTOCOL_VERSION, Reason, Refusal, RefusedBy, SessionId};
pub use identity::{Identity, Pin, pin_of_certificate, pin_of_certificate_file};
pub use listener::{Accepted, Listener, Logger};
pub use shape::{Shape, ShapeStats, Shaped};
pub use tls::{ALPN, Endpoint, Timeouts, TlsTransport};
pub use verify::NotPinned;
pub use websocket::WsTransport;
