//! What the parties of a `fixshare-party` job share, with no socket, no TLS and no file: the
//! pieces that both the daemon (`fixshare-net`, native) and a data owner in a web page (the WASM
//! package, which cannot link `fixshare-net`) need, in one implementation.
//!
//! - [`job`]: the `[job]` section of the configuration files ([`RawJob`], [`Job`]) and the
//!   session id the servers and owners derive from it ([`job_session`]).
//! - [`hello`]: the hello both ends of every connection exchange (protocol version, session id,
//!   party ids, verdicts), its encoding and checks.
//! - [`Pin`]: the SHA-256 of a public key, by which parties recognize each other.
//! - [`proof`]: how a data owner without a client certificate proves its key to a server's
//!   WebSocket listener, and the owner's side of that setup.
//! - [`owner`]: a data owner's preparation of its table, the sharing over two links, and owner
//!   0's check of the model against plaintext training.
//! - [`owner_config`]: a browser owner's configuration (servers' `wss://` addresses and pins,
//!   the session and the job).

#![forbid(unsafe_code)]

pub mod hello;
pub mod job;
pub mod owner;
pub mod owner_config;
mod pin;
pub mod proof;

pub use hello::{Hello, PROTOCOL_VERSION, Reason, Refusal, RefusedBy, SessionId};
pub use job::{Job, JobKind, MAX_OWNERS, NetworkJob, Offline, Prepare, RawJob, job_session};
pub use owner::{ModelFile, ModelReport, OwnerData};
pub use owner_config::{OwnerConfig, ServerAddress};
pub use pin::Pin;

use std::fmt;

/// A value, a setting or a text that was refused, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}
