//! The party daemon, `fixshare-party`: one role of a training job (server 0 or 1, the dealer,
//! SecureNN's helper, or a data owner) from a TOML configuration file, over this crate's
//! TLS connections.
//!
//! - [`Config::load`] reads and checks the file, and refuses, before anything starts, whatever
//!   would weaken security or go unused: no keys, `tls = false`, a seed anywhere, a peer or an
//!   owner without a pin, an unknown field, a section the role does not use.
//! - [`run`] hosts a server, the dealer or the helper: it listens, waits for its peers and the
//!   data owners, receives the owners' shares, trains (logging each epoch with a timestamp on
//!   standard error), sends its shares of the model to owner 0, and returns a [`Summary`].
//! - [`run_owner`] is a data owner: it prepares its CSV (every check before the first
//!   connection), shares its part with both servers and, as owner 0, reconstructs the model,
//!   compares it with the same training in plaintext and writes it out.
//! - For programs that host a party themselves (the C ABI): [`Config::session_id`],
//!   [`Config::connect`] and [`OwnerData`] give a configuration's session id, its connections
//!   and a data owner's prepared rows exactly as the daemon makes them, and [`Summary::failed`]
//!   the summary of a failed run as the daemon prints it.
//!
//! Seeds come from the operating system (through the TLS library's random source), never from
//! the configuration. The servers and owners bind the `[job]` section into their session id
//! ([`Job::describe`]), so parties whose jobs differ refuse each other at the hello. Every
//! connection has the configured timeouts, so a peer that disappears ends the run with an error
//! naming it, never a hang.

mod config;
mod conn;
mod device;
mod gateway;
mod host;
mod log;
mod owner;
mod server;
mod support;

pub use config::{Config, ConfigError, DaemonTimeouts, DeviceOwner, MAX_OWNERS, PeerConfig, Role};
pub use device::{DeviceConfig, firmware_source, seal_on_host};
pub use fixshare_job::{Job, JobKind, NetworkJob, Offline, Prepare, job_session};
pub use host::OwnerParts;
pub use log::{Log, bytes, timestamp};

use crate::error::{ListenerEvent, NetError};
use crate::hello::Reason;
use crate::identity::provider;
use crate::listener::Logger;
use fixshare::Seed;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// What a run reports at its end: `name: value` lines, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    lines: Vec<(String, String)>,
}

impl Summary {
    /// Appends `name: value`.
    pub fn push(&mut self, name: &str, value: impl fmt::Display) {
        self.lines.push((name.to_string(), value.to_string()));
    }

    /// The value of `name`, if reported.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.0 == name)
            .map(|l| l.1.as_str())
    }

    /// The lines, in order.
    pub fn lines(&self) -> &[(String, String)] {
        &self.lines
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.lines {
            writeln!(f, "{name}: {value}")?;
        }
        Ok(())
    }
}

/// Hosts the server, dealer, helper or assistant that `config` names until its job is done; logs
/// to `log`.
/// Returns the summary, or why the run failed (the peer and the cause, when a connection
/// failed).
pub fn run(config: &Config, log: &Log) -> Result<Summary, String> {
    match config.role {
        Role::Server0 | Role::Server1 => server::serve(config, log),
        Role::Dealer | Role::Helper | Role::AssistantA | Role::AssistantB => {
            support::serve(config, log)
        }
        Role::Owner if config.gateway => Err(
            "this is a gateway's configuration: run `fixshare-party gateway --config FILE \
             --sealed FILE`"
                .into(),
        ),
        Role::Owner => Err(
            "this is a data owner's configuration: run `fixshare-party owner --config FILE \
             --data CSV`"
                .into(),
        ),
    }
}

/// The gateway that `config` names, relaying the device's sealed messages in `text` (its
/// `SEALED0`/`SEALED1` lines, read from `source`, named in messages) to the two servers.
pub fn run_gateway(
    config: &Config,
    text: &str,
    source: &str,
    log: &Log,
) -> Result<Summary, String> {
    if !config.gateway {
        return Err(format!(
            "this is the {}'s configuration, not a gateway's (role = \"gateway\")",
            config.log_name()
        ));
    }
    gateway::relay(config, text, source, log)
}

/// A device owner on the host (`fixshare-party device`): writes the source its firmware
/// includes (owner `index`'s part of the CSV file `data`) to `firmware`, and/or, sealed on the
/// host from fresh operating-system randomness, its two sealed messages as the `SEALED0` and
/// `SEALED1` lines a device prints, to `sealed`.
pub fn run_device(
    config: &DeviceConfig,
    data: &Path,
    firmware: Option<&Path>,
    sealed: Option<&Path>,
) -> Result<Summary, String> {
    device::run(config, data, firmware, sealed, os_seed)
}

/// The data owner that `config` names, sharing the rows of the CSV file `data` (gzipped if it
/// ends in `.gz`); owner 0 writes the model to `model_out` (or the configuration's
/// `[results] model`) if given.
pub fn run_owner(
    config: &Config,
    data: &Path,
    model_out: Option<&Path>,
    log: &Log,
) -> Result<Summary, String> {
    if config.gateway {
        return Err(
            "this is a gateway's configuration: run `fixshare-party gateway --config FILE \
             --sealed FILE`"
                .into(),
        );
    }
    if config.role != Role::Owner {
        return Err(format!(
            "this is the {}'s configuration, not a data owner's: run `fixshare-party run --config FILE`",
            config.role
        ));
    }
    owner::own(config, data, model_out, log)
}

/// 32 bytes of fresh randomness from the operating system, for a seed.
pub(crate) fn os_seed() -> Result<Seed, String> {
    let mut b = [0u8; 32];
    provider()
        .secure_random
        .fill(&mut b)
        .map_err(|_| "the operating system's random source failed".to_string())?;
    Ok(Seed::from_bytes(b))
}

/// A listener logger writing to `log`.
pub(crate) fn listener_logger(log: &Log) -> Logger {
    let log = log.clone();
    Arc::new(move |e: &ListenerEvent<'_>| log.line(format_args!("listener: {e}")))
}

/// A connection error, with a hint when the hello found another session.
pub(crate) fn net_error(what: &str, e: &NetError) -> String {
    let hint = match e {
        NetError::Hello(r) if r.reason == Reason::Session => {
            "; the session name or the [job] section differ between the two parties' files"
        }
        _ => "",
    };
    format!("{what}: {e}{hint}")
}
