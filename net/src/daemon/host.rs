//! The daemon's pieces for programs that host a party themselves instead of running
//! `fixshare-party` (the C ABI translates them): a configuration's session id, party id and
//! connections as the daemon makes them, a data owner's rows prepared exactly as
//! `fixshare-party owner` prepares them, and the summary of a failed run as the daemon prints it.
//!
//! A data owner hosted this way connects to both servers ([`Config::connect`]), shares each of
//! [`OwnerParts::parts`] in order with the core's `fixshare::ml::share::share_part` (one data
//! owner for all of them, seeded from the operating system) and, as owner 0, reconstructs
//! [`OwnerParts::model_len`] values: the same frames as `fixshare-party owner`, so the servers
//! cannot tell the two apart.

use super::config::{Config, Role};
use super::{Summary, job_session, owner};
use crate::error::NetError;
use crate::hello::SessionId;
use crate::tls::{Endpoint, TlsTransport};
use fixshare::PartyId;
use fixshare::ml::pipeline::OwnerPart;
use std::path::Path;

impl Config {
    /// The session id of this party's hello towards the servers and the data owners, as
    /// `fixshare-party` derives it: the session name with the `[job]` section bound in (so
    /// parties whose jobs differ refuse each other), or, for the dealer, the helper and the
    /// assistants, which have no job, the name alone. A server's connection to them uses the
    /// name alone too ([`Config::session_id_with`]).
    pub fn session_id(&self) -> SessionId {
        match &self.job {
            Some(job) => job_session(&self.session, job),
            None => SessionId::derive(&self.session),
        }
    }

    /// The session id of this party's connections with `peer`: the name alone with the parties
    /// that serve the servers (the dealer, the helper, the assistants), [`Config::session_id`]
    /// with everyone else.
    pub fn session_id_with(&self, peer: Role) -> SessionId {
        if peer.serves() {
            SessionId::derive(&self.session)
        } else {
            self.session_id()
        }
    }

    /// The party id this party's hello announces: 0 and 1 for the servers, 2 for the dealer,
    /// the helper or assistant A, 3 for assistant B, 16 for every data owner (its key says which
    /// one).
    pub fn party_id(&self) -> PartyId {
        self.role.party_id()
    }

    /// This party's endpoint for its connections with `peer`: its key, its party id, the session
    /// id of that connection ([`Config::session_id_with`]) and the configured timeouts.
    pub fn endpoint_with(&self, peer: Role) -> Endpoint {
        Endpoint::new(
            self.identity.clone(),
            self.party_id(),
            self.session_id_with(peer),
        )
        .with_timeouts(self.timeouts.net)
    }

    /// Connects to the configured peer `peer` as `fixshare-party` does: to its `address`,
    /// retrying while its listener is not up (`connect_seconds`), the TLS 1.3 handshake against
    /// its pin, and the hello with the session id of that connection. A data owner's connection
    /// then waits up to `result_seconds` for the servers, which take its rows once every owner
    /// is there and answer after training. Fails with [`NetError::Config`] if this party does
    /// not connect to `peer` (a peer that connects to it, or one it does not talk to).
    pub fn connect(&self, peer: Role) -> Result<TlsTransport, NetError> {
        let address = self
            .peer(peer)
            .and_then(|p| p.address.as_deref().map(|a| (a, p.pin)));
        let Some((addr, pin)) = address else {
            return Err(NetError::Config(format!(
                "the {} does not connect to the {peer} (its configuration has no [peers.{peer}] \
                 address)",
                self.log_name()
            )));
        };
        let mut t = self
            .endpoint_with(peer)
            .connect(addr, peer.party_id(), pin)?;
        if self.role == Role::Owner {
            t.set_read_timeout(self.timeouts.result);
            t.set_write_timeout(self.timeouts.result);
        }
        Ok(t)
    }

    /// The name of this party in its log lines and summary: the role, or `owner K`.
    pub fn log_name(&self) -> String {
        match self.role {
            Role::Owner if self.gateway => format!("gateway of owner {}", self.owner_index),
            Role::Owner => format!("owner {}", self.owner_index),
            r => r.to_string(),
        }
    }
}

impl Summary {
    /// The summary of a run of `config` that failed with `error`, as `fixshare-party` prints
    /// it: `role`, `session`, `status: failed` and `error` (on one line).
    pub fn failed(config: &Config, error: &str) -> Summary {
        let mut s = Summary::default();
        s.push("role", config.log_name());
        s.push("session", &config.session);
        s.push("status", "failed");
        s.push("error", error.replace('\n', " "));
        s
    }
}

/// What a data owner shares with the two servers, prepared from its CSV file by the code of
/// `fixshare-party owner` ([`fixshare_job::OwnerData`]: the same checks, split, statistics,
/// standardization and partition), laid out for a host that shares it part by part.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerParts {
    /// What to share, in order, each with `fixshare::ml::share::share_part` (features row-major,
    /// their column count, and the targets if any): for regression one part, this owner's block
    /// of the standardized training table with its targets (or its columns, the last owner with
    /// the targets); for networks two, the features of its rows, then their labels one-hot over
    /// the job's classes.
    pub parts: Vec<OwnerPart>,
    /// The ring of the shares in bits: the daemon's jobs run in Z_2^64.
    pub ring_bits: u32,
    /// The fractional bits of the fixed-point encoding (the job's `frac_bits`).
    pub frac_bits: u32,
    /// For owner 0, how many values of the model it reconstructs after training (the
    /// regression's weights with the bias last, or every weight of the network in layer
    /// order); `None` for the other owners, who get nothing back.
    pub model_len: Option<usize>,
    /// The training rows this owner shares (`rows_shared` in the daemon's summary).
    pub rows: usize,
    /// The columns of each of those rows (`columns_shared`).
    pub cols: usize,
}

impl OwnerParts {
    /// Reads the CSV file `data` (gzipped if it ends in `.gz`) and prepares what the data owner
    /// that `config` names shares of it, as `fixshare-party owner --config ... --data ...`
    /// does before its first connection. Fails as it does (a bad cell with its file, line and
    /// column; too few rows; a table that does not fit the job), and on a configuration that
    /// is not a data owner's.
    pub fn prepare(config: &Config, data: &Path) -> Result<OwnerParts, String> {
        if config.role != Role::Owner {
            return Err(format!(
                "this is the {}'s configuration, not a data owner's",
                config.role
            ));
        }
        let job = config.job.as_ref().ok_or("an owner needs a [job]")?;
        let owner = owner::load_and_prepare(job, data, config.owner_index)?;
        let (rows, cols) = owner.shared();
        Ok(OwnerParts {
            parts: owner.parts(),
            ring_bits: 64,
            frac_bits: job.protocol().fixed.frac_bits(),
            model_len: (config.owner_index == 0).then(|| owner.model_len()),
            rows,
            cols,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;
    use fixshare::ml::share;
    use fixshare::{DataOwner, FixedPoint, Link, Seed, Transport, TransportError};
    use std::path::PathBuf;

    /// A transport that records what is sent and has nothing to receive.
    #[derive(Default)]
    struct Recorder(Vec<u8>);

    impl Transport for Recorder {
        async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
            self.0.extend_from_slice(buf);
            Ok(())
        }

        async fn recv(&mut self, _: &mut [u8]) -> Result<(), TransportError> {
            Err(TransportError::Closed)
        }

        async fn flush(&mut self) -> Result<(), TransportError> {
            Ok(())
        }
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fixshare-host-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("keys")).unwrap();
        for name in ["server0", "server1", "owner0", "owner1"] {
            Identity::generate(name)
                .unwrap()
                .write_pem_files(d.join("keys"), name)
                .unwrap();
        }
        d
    }

    fn owner_config(d: &Path, index: usize, job: &str) -> Config {
        let text = format!(
            "role = \"owner\"\nindex = {index}\nsession = \"s\"\n[keys]\ndir = \"keys\"\n\
             [peers.server0]\naddress = \"127.0.0.1:1\"\n[peers.server1]\naddress = \
             \"127.0.0.1:2\"\n{job}"
        );
        Config::parse(&text, d, Path::new("owner.toml")).unwrap()
    }

    /// The bytes an owner sends server 0 and server 1.
    type Sent = (Vec<u8>, Vec<u8>);

    /// What `pipeline::own` (or `own_classes`) sends each server, and what the parts of
    /// [`OwnerParts`] send through `share_part`, from the same seed.
    fn both_ways(cfg: &Config, csv: &Path) -> (Sent, Sent) {
        let job = cfg.job.as_ref().unwrap();
        let fixed = job.protocol().fixed;
        let seed = [7u8; 32];
        let prepared = owner::load_and_prepare(job, csv, cfg.owner_index).unwrap();
        let (mut a0, mut a1) = (
            Link::new(Recorder::default()),
            Link::new(Recorder::default()),
        );
        // Owner 0 then waits for the model, which a recorder never sends: what counts is what
        // went out before.
        let _ = fixshare::block_on_thread(prepared.share(Seed::from_bytes(seed), &mut a0, &mut a1));
        let data = OwnerParts::prepare(cfg, csv).unwrap();
        assert_eq!(data.frac_bits, fixed.frac_bits());
        let (mut b0, mut b1) = (
            Link::new(Recorder::default()),
            Link::new(Recorder::default()),
        );
        let mut o = DataOwner::new(
            Seed::from_bytes(seed),
            FixedPoint::new(data.frac_bits).unwrap(),
        );
        for p in &data.parts {
            fixshare::block_on_thread(share::share_part::<u64, _, _>(
                &mut o,
                &p.x,
                p.cols,
                p.y.as_deref(),
                &mut b0,
                &mut b1,
            ))
            .unwrap();
        }
        let bytes = |l: Link<Recorder>| l.into_inner().0;
        ((bytes(a0), bytes(a1)), (bytes(b0), bytes(b1)))
    }

    fn data_file(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/data")
            .join(name)
    }

    #[test]
    fn owner_data_sends_what_the_daemons_owner_sends() {
        let d = dir("same");
        let glm = "[job]\nkind = \"train_glm\"\nowners = 2\nfrac_bits = 14\n";
        for k in 0..2 {
            let cfg = owner_config(&d, k, glm);
            let (daemon, host) = both_ways(&cfg, &data_file("breast_cancer.csv"));
            assert!(!daemon.0.is_empty() && !daemon.1.is_empty());
            assert_eq!(daemon, host, "owner {k}");
            let data = OwnerParts::prepare(&cfg, &data_file("breast_cancer.csv")).unwrap();
            assert_eq!((data.ring_bits, data.frac_bits), (64, 14));
            assert_eq!(data.model_len, (k == 0).then_some(31));
            assert_eq!((data.rows, data.cols), (228, 30));
        }
        // A network job: the features, then the labels one-hot.
        let mlp = "[job]\nkind = \"train_mlp\"\nsizes = [30, 4, 2]\n";
        let cfg = owner_config(&d, 0, mlp);
        let (daemon, host) = both_ways(&cfg, &data_file("breast_cancer.csv"));
        assert_eq!(daemon, host);
        let data = OwnerParts::prepare(&cfg, &data_file("breast_cancer.csv")).unwrap();
        assert_eq!(data.parts.len(), 2);
        assert_eq!(data.parts[1].cols, 2);
        assert_eq!(data.model_len, Some(31 * 4 + 5 * 2));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn session_ids_and_refusals() {
        let d = dir("ids");
        let glm = "[job]\nkind = \"train_glm\"\nowners = 2\n";
        let cfg = owner_config(&d, 1, glm);
        let job = cfg.job.as_ref().unwrap();
        assert_eq!(cfg.session_id(), job_session("s", job));
        assert_ne!(cfg.session_id(), SessionId::derive("s"));
        assert_eq!(cfg.session_id_with(Role::Server0), cfg.session_id());
        assert_eq!(cfg.session_id_with(Role::Dealer), SessionId::derive("s"));
        assert_eq!(cfg.party_id(), PartyId(16));
        assert_eq!(cfg.log_name(), "owner 1");
        // An owner connects to the servers only.
        let e = cfg.connect(Role::Dealer).unwrap_err();
        assert!(
            e.to_string().contains("does not connect to the dealer"),
            "{e}"
        );
        // Bad data is refused with its file, line and column, before any connection.
        let bad = d.join("bad.csv");
        std::fs::write(&bad, "a,b,y\n1,2,0\n1,x,1\n").unwrap();
        let e = OwnerParts::prepare(&cfg, &bad).unwrap_err();
        assert!(e.contains("bad.csv") && e.contains("line 3"), "{e}");
        let e = OwnerParts::prepare(&cfg, &d.join("missing.csv")).unwrap_err();
        assert!(e.contains("missing.csv"), "{e}");
        let s = Summary::failed(&cfg, "one\ntwo");
        assert_eq!(
            s.to_string(),
            "role: owner 1\nsession: s\nstatus: failed\nerror: one two\n"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
