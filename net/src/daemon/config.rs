//! The daemon's configuration file: its TOML schema, and the checks that refuse anything that
//! would weaken security or that the daemon would not use, before anything starts.

use crate::device::read_key_file;
use crate::identity::{Identity, Pin, pin_of_certificate_file};
use crate::tls::Timeouts;
use fixshare::PartyId;
use fixshare::sealed::OwnerKey;
use fixshare_job::{Job, RawJob};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use fixshare_job::MAX_OWNERS;

/// The role a configuration file gives its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Share-holding server P0: listens for server 1 and the data owners.
    Server0,
    /// Share-holding server P1: connects to server 0, listens for the data owners.
    Server1,
    /// The dealer of a two-server job: listens for both servers, deals their correlations.
    Dealer,
    /// SecureNN's third server P2: listens for both servers, deals and helps online.
    Helper,
    /// PrivPy's assistant Sa: listens for both servers and for assistant B, computes products
    /// and comparisons online, holds no shares.
    AssistantA,
    /// PrivPy's assistant Sb: listens for both servers, connects to assistant A.
    AssistantB,
    /// A data owner: connects to both servers, shares its rows; owner 0 gets the model. Also
    /// the role of a device owner's gateway (`role = "gateway"` in its file,
    /// [`Config::gateway`]): to the servers it is that owner's connection.
    Owner,
}

impl Role {
    /// Every role, with the name configuration files use.
    pub const ALL: [(Role, &'static str); 7] = [
        (Role::Server0, "server0"),
        (Role::Server1, "server1"),
        (Role::Dealer, "dealer"),
        (Role::Helper, "helper"),
        (Role::AssistantA, "assistant_a"),
        (Role::AssistantB, "assistant_b"),
        (Role::Owner, "owner"),
    ];

    /// The role named `name` in a configuration file.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// The name configuration files use.
    pub fn name(self) -> &'static str {
        Role::ALL.iter().find(|r| r.0 == self).map_or("?", |r| r.1)
    }

    /// Whether this role serves the servers and holds no shares and no job of its own: the
    /// dealer, the helper and the assistants.
    pub fn serves(self) -> bool {
        matches!(
            self,
            Role::Dealer | Role::Helper | Role::AssistantA | Role::AssistantB
        )
    }

    /// The party id this role announces in its hello: the assistants are 2 and 3 (the core's
    /// `assist::SA` and `SB`); every data owner is 16 (its key says which owner it is), and so
    /// is a device's gateway (its key says which device).
    pub fn party_id(self) -> PartyId {
        match self {
            Role::Server0 => PartyId(0),
            Role::Server1 => PartyId(1),
            Role::Dealer | Role::Helper | Role::AssistantA => PartyId(2),
            Role::AssistantB => PartyId(3),
            Role::Owner => PartyId(16),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a configuration was refused. Nothing has been started (no socket, no connection) when
/// one is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn refuse<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

// ----- the file as written -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    role: String,
    session: String,
    tls: Option<bool>,
    listen: Option<String>,
    listen_websocket: Option<String>,
    websocket_certificate: Option<PathBuf>,
    websocket_key: Option<PathBuf>,
    index: Option<usize>,
    keys: Option<RawKeys>,
    #[serde(default)]
    peers: BTreeMap<String, RawPeer>,
    owners: Option<RawOwners>,
    devices: Option<Vec<RawDevice>>,
    #[serde(default)]
    timeouts: RawTimeouts,
    job: Option<RawJob>,
    results: Option<RawResults>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    dir: Option<PathBuf>,
    certificate: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    address: Option<String>,
    pin: Option<String>,
    certificate: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwners {
    pins: Option<Vec<String>>,
    certificates: Option<Vec<PathBuf>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    index: usize,
    gateway_pin: Option<String>,
    gateway_certificate: Option<PathBuf>,
    key: PathBuf,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    connect_seconds: Option<u64>,
    handshake_seconds: Option<u64>,
    read_seconds: Option<u64>,
    write_seconds: Option<u64>,
    wait_seconds: Option<u64>,
    result_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResults {
    model: Option<PathBuf>,
}

// ----- the checked configuration -----

/// How long each wait of the daemon may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaemonTimeouts {
    /// The connections' timeouts: connect (retrying while the peer is not up), handshake and
    /// hello, idle read and idle write.
    pub net: Timeouts,
    /// How long a listening party waits for every expected party to connect.
    pub wait: Duration,
    /// A data owner's idle limit while the servers collect every owner's data and train:
    /// how long it waits for them to take its rows and to send the model back.
    pub result: Duration,
}

impl Default for DaemonTimeouts {
    /// Connect 60 s, handshake 10 s, read 300 s, write 60 s, wait 600 s, result 3600 s.
    fn default() -> Self {
        DaemonTimeouts {
            net: Timeouts {
                connect: Duration::from_secs(60),
                ..Timeouts::default()
            },
            wait: Duration::from_secs(600),
            result: Duration::from_secs(3600),
        }
    }
}

/// A peer this process talks to: its role, where it listens (for the peers this process
/// connects to) and the pin of its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// The peer's role.
    pub role: Role,
    /// Where it listens, if this process connects to it.
    pub address: Option<String>,
    /// The pin its key must hash to.
    pub pin: Pin,
}

/// A data owner on a device, as a server's `[[devices]]` names it: its sealed messages come
/// through a gateway ([`crate::device`]).
pub struct DeviceOwner {
    /// Its index among the job's owners (never 0: owner 0 receives the model, and a device
    /// behind a gateway receives nothing).
    pub index: usize,
    /// The pin of the gateway's key: the connection it arrives on.
    pub gateway: Pin,
    /// The key the device shares with this server (and no one else).
    pub key: OwnerKey,
}

impl fmt::Debug for DeviceOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceOwner")
            .field("index", &self.index)
            .field("gateway", &self.gateway)
            .finish_non_exhaustive()
    }
}

/// A checked configuration: every key loaded, every peer pinned, the job valid.
pub struct Config {
    /// This process's role.
    pub role: Role,
    /// The session name every party of the job shares.
    pub session: String,
    /// The data owner's number (owners only; owner 0 gets the model), or the device owner's
    /// whose messages a gateway relays.
    pub owner_index: usize,
    /// Whether this is the gateway of device owner `owner_index` (`role = "gateway"`; its
    /// [`Config::role`] is [`Role::Owner`]): it relays the device's sealed messages
    /// (`fixshare-party gateway`, [`crate::device`]) and shares nothing of its own.
    pub gateway: bool,
    /// This process's key and certificate.
    pub identity: Arc<Identity>,
    /// Where this process listens (servers, dealer, helper).
    pub listen: Option<String>,
    /// Where a server also takes data owners over WebSocket (web pages), if anywhere.
    pub listen_websocket: Option<String>,
    /// The certificate (chain) and key the WebSocket listener presents instead of this party's
    /// own: one that browsers accept for the server's name.
    pub websocket_identity: Option<Arc<Identity>>,
    /// The parties it talks to, pinned.
    pub peers: Vec<PeerConfig>,
    /// The pins the data owners' connections authenticate with, in owner order (servers): a
    /// device owner's is its gateway's.
    pub owners: Vec<Pin>,
    /// The data owners on devices, whose sealed messages come through a gateway (servers).
    pub devices: Vec<DeviceOwner>,
    /// The timeouts.
    pub timeouts: DaemonTimeouts,
    /// The job (servers and owners).
    pub job: Option<Job>,
    /// Where owner 0 writes the model.
    pub model_out: Option<PathBuf>,
    /// The file this configuration came from (for messages).
    pub source: PathBuf,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("role", &self.role)
            .field("session", &self.session)
            .field("pin", &self.identity.pin())
            .field("listen", &self.listen)
            .field("listen_websocket", &self.listen_websocket)
            .field("peers", &self.peers)
            .field("owners", &self.owners)
            .field("devices", &self.devices)
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads and checks the configuration file at `path` (relative paths inside it are taken
    /// from the file's directory), loading this process's key and every certificate it names.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base, path)
    }

    /// Checks the configuration `text`, with relative paths taken from `base`; `source` names
    /// the file in messages.
    pub fn parse(text: &str, base: &Path, source: &Path) -> Result<Config, ConfigError> {
        let at = |e: String| ConfigError(format!("{}: {e}", source.display()));
        let table: toml::Table = toml::from_str(text).map_err(|e| at(e.to_string()))?;
        check_no_seed(&table, "").map_err(|e| at(e.0))?;
        let raw: RawConfig = toml::from_str(text).map_err(|e| at(e.to_string()))?;
        let mut config = check(raw, base).map_err(|e| at(e.0))?;
        config.source = source.to_path_buf();
        Ok(config)
    }

    /// The peer of role `role`, if configured.
    pub fn peer(&self, role: Role) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.role == role)
    }

    /// The device owner of index `index`, if that owner is one (servers).
    pub fn device(&self, index: usize) -> Option<&DeviceOwner> {
        self.devices.iter().find(|d| d.index == index)
    }
}

/// Refuses any key that names a seed, anywhere in the file.
fn check_no_seed(table: &toml::Table, prefix: &str) -> Result<(), ConfigError> {
    for (k, v) in table {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if k.to_ascii_lowercase().contains("seed") {
            return refuse(format!(
                "`{name}`: a seed in the configuration would make every secret of the job a \
                 function of a public value; the daemon takes its seeds from the operating \
                 system's randomness, and no setting changes that (remove `{name}`)"
            ));
        }
        match v {
            toml::Value::Table(t) => check_no_seed(t, &name)?,
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        check_no_seed(t, &name)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The peers each role talks to, given the job's offline phase (`None` for the dealer, the
/// helper and the assistants, which have no job): `(role, whether this process connects to
/// it)`.
fn expected_peers(role: Role, job: Option<&Job>) -> Vec<(Role, bool)> {
    use fixshare_job::Offline;
    // The parties a server connects to beside the other server.
    let others = |job: Option<&Job>| match job.map(|j| j.offline) {
        Some(Offline::Dealer) => vec![(Role::Dealer, true)],
        Some(Offline::Helper) => vec![(Role::Helper, true)],
        Some(Offline::Assistants) => vec![(Role::AssistantA, true), (Role::AssistantB, true)],
        Some(Offline::Ot) | None => Vec::new(),
    };
    let mut out = Vec::new();
    match role {
        Role::Server0 => {
            out.push((Role::Server1, false));
            out.extend(others(job));
        }
        Role::Server1 => {
            out.push((Role::Server0, true));
            out.extend(others(job));
        }
        Role::Dealer | Role::Helper | Role::AssistantA | Role::AssistantB => {
            out.push((Role::Server0, false));
            out.push((Role::Server1, false));
            match role {
                Role::AssistantA => out.push((Role::AssistantB, false)),
                Role::AssistantB => out.push((Role::AssistantA, true)),
                _ => {}
            }
        }
        Role::Owner => {
            out.push((Role::Server0, true));
            out.push((Role::Server1, true));
        }
    }
    out
}

fn check(raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
    // A device's gateway stands for that data owner at the servers.
    let gateway = raw.role == "gateway";
    let name = if gateway { "owner" } else { raw.role.as_str() };
    let Some(role) = Role::from_name(name) else {
        return refuse(format!(
            "role = {:?} is not a role: server0, server1, dealer, helper, assistant_a, \
             assistant_b, owner or gateway",
            raw.role
        ));
    };
    if raw.tls == Some(false) {
        return refuse(
            "tls = false: TLS cannot be turned off. Every connection of a job is TLS 1.3 with \
             both ends authenticated by pinned keys; remove `tls`",
        );
    }
    if raw.session.trim().is_empty() {
        return refuse("session is empty: name the job's session (the same in every party's file)");
    }
    // The job, first: the peers a server needs depend on its offline phase.
    let job = match (role, raw.job) {
        (r, Some(_)) if r.serves() => {
            return refuse(format!(
                "the {role} runs no job of its own (it serves whatever the servers ask): \
                 remove [job]"
            ));
        }
        (r, None) if r.serves() => None,
        (_, None) => {
            return refuse(format!(
                "the {role} needs a [job] section (the same in the servers' and the owners' files)"
            ));
        }
        (_, Some(j)) => Some(j.check().map_err(|e| ConfigError(format!("[job]: {e}")))?),
    };
    // This process's key.
    let keys = raw.keys.ok_or_else(|| {
        ConfigError(
            "no [keys]: every party authenticates with its own key (make one with \
             `fixshare-net keygen --name NAME --out DIR`, then give `dir = \"DIR\"`, or \
             `certificate` and `key`); there is no unauthenticated mode"
                .into(),
        )
    })?;
    let dir = keys.dir.as_deref().map(|d| resolve(base, d));
    let own_name = match role {
        Role::Owner if gateway => "gateway".to_string(),
        Role::Owner => format!("owner{}", raw.index.unwrap_or(0)),
        r => r.name().to_string(),
    };
    let (cert, key) = match (keys.certificate, keys.key, &dir) {
        (Some(c), Some(k), _) => (resolve(base, &c), resolve(base, &k)),
        (None, None, Some(d)) => (
            d.join(format!("{own_name}.crt")),
            d.join(format!("{own_name}.key")),
        ),
        (Some(_), None, _) | (None, Some(_), _) => {
            return refuse("[keys] needs both `certificate` and `key` (or `dir` alone)");
        }
        (None, None, None) => {
            return refuse(
                "[keys] names no key: give `dir = \"DIR\"` (with DIR/NAME.crt and DIR/NAME.key) \
                 or `certificate` and `key`",
            );
        }
    };
    let identity = Identity::from_pem_files(&cert, &key).map_err(|e| {
        ConfigError(format!(
            "this party's key ({e}); make it with `fixshare-net keygen --name {own_name} --out DIR`"
        ))
    })?;
    let identity = Arc::new(identity);

    // The owner's number.
    let owner_index = match (role, raw.index) {
        (Role::Owner, Some(0)) if gateway => {
            return refuse(
                "index = 0: owner 0 receives the model, and a device behind a gateway receives \
                 nothing; a device is owner 1 or later",
            );
        }
        (Role::Owner, None) if gateway => {
            return refuse(
                "a gateway needs `index`: the number of the device owner whose messages it relays",
            );
        }
        (Role::Owner, Some(i)) => {
            let owners = job.as_ref().map_or(1, |j| j.owners);
            if i >= owners {
                return refuse(format!(
                    "index = {i}, but the job has {owners} data owner(s) (index 0 to {})",
                    owners - 1
                ));
            }
            i
        }
        (Role::Owner, None) => {
            return refuse(
                "an owner needs `index` (its number among the job's owners; owner 0 gets the model)",
            );
        }
        (_, Some(_)) => {
            return refuse(format!(
                "`index` is for owners and gateways; the {role} has none"
            ));
        }
        (_, None) => 0,
    };

    // Where it listens.
    let listen = match (role, raw.listen) {
        (Role::Owner, Some(_)) => {
            return refuse(format!(
                "{} connects to the servers and listens nowhere: remove `listen`",
                if gateway { "a gateway" } else { "an owner" }
            ));
        }
        (Role::Owner, None) => None,
        (_, None) => {
            return refuse(format!(
                "the {role} needs `listen` (the address its peers connect to, e.g. \"0.0.0.0:7100\")"
            ));
        }
        (_, Some(a)) => Some(a),
    };
    let listen_websocket = match (role, raw.listen_websocket) {
        (Role::Server0 | Role::Server1, w) => w,
        (_, None) => None,
        (_, Some(_)) => {
            return refuse(format!(
                "`listen_websocket` is for the servers (it takes data owners in web pages); \
                 the {role} has none"
            ));
        }
    };
    let websocket_identity = match (
        &listen_websocket,
        raw.websocket_certificate,
        raw.websocket_key,
    ) {
        (_, None, None) => None,
        (None, _, _) => {
            return refuse(
                "`websocket_certificate` and `websocket_key` are for the WebSocket listener: \
                 give `listen_websocket` too, or remove them",
            );
        }
        (Some(_), Some(c), Some(k)) => {
            let (c, k) = (resolve(base, &c), resolve(base, &k));
            let id = Identity::from_pem_chain_files(&c, &k)
                .map_err(|e| ConfigError(format!("the WebSocket listener's certificate: {e}")))?;
            Some(Arc::new(id))
        }
        (Some(_), _, _) => {
            return refuse("give both `websocket_certificate` and `websocket_key`, or neither");
        }
    };
    if listen_websocket.is_some() && listen_websocket == listen {
        return refuse(
            "`listen_websocket` is the address of `listen`: the WebSocket listener needs an \
             address of its own",
        );
    }

    // The peers, every one pinned.
    let expected = expected_peers(role, job.as_ref());
    for name in raw.peers.keys() {
        match Role::from_name(name) {
            Some(r) if expected.iter().any(|e| e.0 == r) => {}
            Some(Role::Owner) => {
                return refuse(
                    "[peers.owner]: the data owners' keys go in [owners] (pins or certificates, in owner order)",
                );
            }
            Some(r) if r == role => {
                return refuse(format!("[peers.{name}]: this party is the {role}"));
            }
            Some(_) => {
                return refuse(format!(
                    "[peers.{name}]: the {role} does not talk to the {name}{}",
                    if matches!(role, Role::Server0 | Role::Server1) {
                        " with this job's offline phase"
                    } else {
                        ""
                    }
                ));
            }
            None => {
                return refuse(format!(
                    "[peers.{name}]: not a role (server0, server1, dealer, helper, assistant_a, \
                     assistant_b)"
                ));
            }
        }
    }
    let mut peers = Vec::new();
    let mut raw_peers = raw.peers;
    for (peer, connects) in expected {
        let name = peer.name();
        let entry = raw_peers.remove(name);
        let (address, pin, certificate) = match entry {
            Some(p) => (p.address, p.pin, p.certificate),
            None => (None, None, None),
        };
        let pin = pin_of(
            name,
            pin,
            certificate,
            dir.as_deref(),
            base,
            &format!("[peers.{name}]"),
        )?;
        let address = match (connects, address) {
            (true, Some(a)) => Some(a),
            (true, None) => {
                return refuse(format!(
                    "[peers.{name}] needs `address`: the {role} connects to the {name}"
                ));
            }
            (false, Some(_)) => {
                return refuse(format!(
                    "[peers.{name}]: the {name} connects to the {role}, so its `address` is not used here; remove it"
                ));
            }
            (false, None) => None,
        };
        peers.push(PeerConfig {
            role: peer,
            address,
            pin,
        });
    }

    // The data owners' keys (servers): the devices' gateways, then the owners that connect
    // themselves.
    let (owners, devices) = match (role, raw.owners, raw.devices) {
        (Role::Server0 | Role::Server1, o, d) => {
            let count = job.as_ref().map_or(1, |j| j.owners);
            let devices = devices(d.unwrap_or_default(), count, dir.as_deref(), base)?;
            let direct: Vec<usize> = (0..count)
                .filter(|k| !devices.iter().any(|d| d.index == *k))
                .collect();
            let mut direct_pins = owner_pins(o, &direct, dir.as_deref(), base)?.into_iter();
            let owners = (0..count)
                .map(|k| match devices.iter().find(|d| d.index == k) {
                    Some(d) => Some(d.gateway),
                    None => direct_pins.next(),
                })
                .collect::<Option<Vec<Pin>>>()
                .ok_or_else(|| ConfigError("[owners]: too few pins".into()))?;
            (owners, devices)
        }
        (_, Some(_), _) => {
            return refuse(format!(
                "[owners] is for the servers; the {role} does not talk to data owners"
            ));
        }
        (_, _, Some(_)) => {
            return refuse(format!(
                "[[devices]] is for the servers; the {role} does not take data owners"
            ));
        }
        (_, None, None) => (Vec::new(), Vec::new()),
    };

    // Every key distinct.
    let mut all: Vec<(String, Pin)> = vec![(format!("this party ({role})"), identity.pin())];
    all.extend(peers.iter().map(|p| (p.role.name().to_string(), p.pin)));
    all.extend(owners.iter().enumerate().map(|(k, p)| {
        let name = if devices.iter().any(|d| d.index == k) {
            format!("the gateway of device owner {k}")
        } else {
            format!("owner {k}")
        };
        (name, *p)
    }));
    for (i, (a, pa)) in all.iter().enumerate() {
        if let Some((b, _)) = all[..i].iter().find(|(_, pb)| pb == pa) {
            return refuse(format!(
                "{b} and {a} have the same key ({pa}): every party needs a key of its own (a \
                 gateway relays one device: give each device's gateway a key of its own)"
            ));
        }
    }

    let timeouts = timeouts(&raw.timeouts)?;
    let model_out = match (role, raw.results) {
        (Role::Owner, Some(r)) => r.model.map(|m| resolve(base, &m)),
        (Role::Owner, None) => None,
        (_, Some(_)) => {
            return refuse(format!(
                "[results] is for data owners: the {role}'s shares of the model go to owner 0, \
                 who alone reconstructs it"
            ));
        }
        (_, None) => None,
    };
    if model_out.is_some() && gateway {
        return refuse("[results]: a gateway relays a device, which gets no model");
    }
    if model_out.is_some() && owner_index != 0 {
        return refuse("[results] model: only owner 0 gets the model");
    }
    Ok(Config {
        role,
        session: raw.session,
        owner_index,
        gateway,
        identity,
        listen,
        listen_websocket,
        websocket_identity,
        peers,
        owners,
        devices,
        timeouts,
        job,
        model_out,
        source: PathBuf::new(),
    })
}

/// The pin of a peer from `pin`, `certificate`, or `DIR/NAME.crt` of the keys directory.
fn pin_of(
    name: &str,
    pin: Option<String>,
    certificate: Option<PathBuf>,
    dir: Option<&Path>,
    base: &Path,
    section: &str,
) -> Result<Pin, ConfigError> {
    match (pin, certificate) {
        (Some(_), Some(_)) => refuse(format!("{section}: give `pin` or `certificate`, not both")),
        (Some(p), None) => p
            .parse::<Pin>()
            .map_err(|e| ConfigError(format!("{section} pin: {e}"))),
        (None, Some(c)) => {
            let c = resolve(base, &c);
            pin_of_certificate_file(&c).map_err(|e| ConfigError(format!("{section}: {e}")))
        }
        (None, None) => {
            let from_dir = dir.map(|d| d.join(format!("{name}.crt")));
            match from_dir {
                Some(c) if c.exists() => {
                    pin_of_certificate_file(&c).map_err(|e| ConfigError(format!("{section}: {e}")))
                }
                other => refuse(format!(
                    "{section}: the {name} is not pinned: give `pin = \"sha256:...\"` (from \
                     `fixshare-net keygen` or `fixshare-net pin FILE.crt`) or `certificate`{}; a \
                     peer whose key is not pinned could be anyone",
                    match other {
                        Some(c) => format!(" (there is no {})", c.display()),
                        None => String::new(),
                    }
                )),
            }
        }
    }
}

/// The pins of the owners `indices` (those that connect themselves, in owner order).
fn owner_pins(
    raw: Option<RawOwners>,
    indices: &[usize],
    dir: Option<&Path>,
    base: &Path,
) -> Result<Vec<Pin>, ConfigError> {
    let (pins, certificates) = match raw {
        Some(o) => (o.pins, o.certificates),
        None => (None, None),
    };
    let count = indices.len();
    let check_len = |n: usize, what: &str| {
        if n == count {
            Ok(())
        } else {
            refuse(format!(
                "[owners] {what}: {n} given, but the job has {count} data owner(s) that connect \
                 themselves (job.owners, less the [[devices]])"
            ))
        }
    };
    match (pins, certificates) {
        (Some(_), Some(_)) => refuse("[owners]: give `pins` or `certificates`, not both"),
        (Some(p), None) => {
            check_len(p.len(), "pins")?;
            p.iter()
                .zip(indices)
                .map(|(s, k)| {
                    s.parse::<Pin>()
                        .map_err(|e| ConfigError(format!("[owners] pin of owner {k}: {e}")))
                })
                .collect()
        }
        (None, Some(c)) => {
            check_len(c.len(), "certificates")?;
            c.iter()
                .zip(indices)
                .map(|(c, k)| {
                    pin_of_certificate_file(resolve(base, c))
                        .map_err(|e| ConfigError(format!("[owners] owner {k}: {e}")))
                })
                .collect()
        }
        (None, None) => indices
            .iter()
            .map(|k| {
                pin_of(
                    &format!("owner{k}"),
                    None,
                    None,
                    dir,
                    base,
                    &format!("[owners] owner {k}"),
                )
            })
            .collect(),
    }
}

/// The servers' `[[devices]]`: each an owner other than 0, once, with its gateway's pin and
/// this server's key of the device.
fn devices(
    raw: Vec<RawDevice>,
    owners: usize,
    dir: Option<&Path>,
    base: &Path,
) -> Result<Vec<DeviceOwner>, ConfigError> {
    let mut out: Vec<DeviceOwner> = Vec::new();
    for d in raw {
        let k = d.index;
        let section = format!("[[devices]] index = {k}");
        if k == 0 {
            return refuse(format!(
                "{section}: owner 0 receives the model, and a device behind a gateway receives \
                 nothing; a device is owner 1 or later"
            ));
        }
        if k >= owners {
            return refuse(format!(
                "{section}: the job has {owners} data owner(s) (index 1 to {} for a device)",
                owners - 1
            ));
        }
        if out.iter().any(|o| o.index == k) {
            return refuse(format!("{section}: owner {k} is named twice"));
        }
        let gateway = pin_of(
            "gateway",
            d.gateway_pin,
            d.gateway_certificate,
            dir,
            base,
            &section,
        )
        .map_err(|e| {
            ConfigError(
                e.0.replace("`pin", "`gateway_pin")
                    .replace("`certificate`", "`gateway_certificate`"),
            )
        })?;
        let key = read_key_file(resolve(base, &d.key))
            .map_err(|e| ConfigError(format!("{section}: key: {e}")))?;
        out.push(DeviceOwner {
            index: k,
            gateway,
            key,
        });
    }
    Ok(out)
}

fn timeouts(raw: &RawTimeouts) -> Result<DaemonTimeouts, ConfigError> {
    let d = DaemonTimeouts::default();
    let secs = |v: Option<u64>, name: &str, default: Duration| match v {
        None => Ok(default),
        Some(0) => refuse(format!(
            "[timeouts] {name} = 0: every wait needs a limit of at least one second"
        )),
        Some(s) if s > 365 * 24 * 3600 => refuse(format!(
            "[timeouts] {name} = {s}: more than a year is not a limit"
        )),
        Some(s) => Ok(Duration::from_secs(s)),
    };
    Ok(DaemonTimeouts {
        net: Timeouts {
            connect: secs(raw.connect_seconds, "connect_seconds", d.net.connect)?,
            handshake: secs(raw.handshake_seconds, "handshake_seconds", d.net.handshake)?,
            read: secs(raw.read_seconds, "read_seconds", d.net.read)?,
            write: secs(raw.write_seconds, "write_seconds", d.net.write)?,
        },
        wait: secs(raw.wait_seconds, "wait_seconds", d.wait)?,
        result: secs(raw.result_seconds, "result_seconds", d.result)?,
    })
}
