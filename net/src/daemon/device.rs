//! A data owner on a device, on the host's side (`fixshare-party device`): its configuration,
//! the firmware's data (owner K's part of the job's table, prepared as `fixshare-party owner`
//! prepares it, as a Rust source file the firmware includes), and the device itself run on the
//! host (its part shared, captured and sealed by the code the firmware runs, printed as the
//! firmware prints it), for tests and for devices that are emulated.
//!
//! The configuration file:
//!
//! ```toml
//! role = "device"
//! session = "clinic-2026"      # the job's session, as in every party's file
//! index = 1                    # this device's owner index (not 0)
//! [keys]                       # only for --sealed: the device's key for each server
//! server0 = "keys/device1.server0.key"
//! server1 = "keys/device1.server1.key"
//! [job]                        # the job, as in every party's file
//! kind = "train_glm"
//! owners = 2
//! ```

use super::config::ConfigError;
use super::owner::load_and_prepare;
use super::{Summary, job_session};
use crate::device::{read_key_file, sealed_lines};
use fixshare::data_owner::{DataOwner, share_part};
use fixshare::ml::pipeline::OwnerPart;
use fixshare::sealed::{Address, Capture, OVERHEAD, OwnerKey, Sealer};
use fixshare::{FixedPoint, Link, Seed, block_on_thread};
use fixshare_job::{Job, RawJob};
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeviceConfig {
    role: String,
    session: String,
    index: usize,
    keys: Option<RawDeviceKeys>,
    job: Option<RawJob>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeviceKeys {
    server0: PathBuf,
    server1: PathBuf,
}

/// A device owner's checked configuration (`role = "device"`).
pub struct DeviceConfig {
    /// The session name every party of the job shares.
    pub session: String,
    /// The device's owner index (never 0).
    pub index: usize,
    /// The job.
    pub job: Job,
    /// The device's keys for server 0 and server 1, if the file names them.
    pub keys: Option<[OwnerKey; 2]>,
}

impl std::fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("session", &self.session)
            .field("index", &self.index)
            .field("job", &self.job)
            .field("keys", &self.keys.is_some())
            .finish()
    }
}

impl DeviceConfig {
    /// Reads and checks a device's configuration file (relative paths from its directory).
    pub fn load(path: impl AsRef<Path>) -> Result<DeviceConfig, ConfigError> {
        let path = path.as_ref();
        let at = |e: String| ConfigError(format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let raw: RawDeviceConfig = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if raw.role != "device" {
            return Err(at(format!(
                "role = {:?}: `fixshare-party device` takes a device's file (role = \"device\")",
                raw.role
            )));
        }
        if raw.session.trim().is_empty() {
            return Err(at("session is empty".into()));
        }
        let job = raw
            .job
            .ok_or_else(|| at("a device needs the job's [job] section".into()))?
            .check()
            .map_err(|e| at(format!("[job]: {e}")))?;
        if raw.index == 0 || raw.index >= job.owners {
            return Err(at(format!(
                "index = {}: a device is owner 1 to {} of this job (owner 0 receives the model, \
                 and a device behind a gateway receives nothing)",
                raw.index,
                job.owners.saturating_sub(1)
            )));
        }
        let keys = match raw.keys {
            Some(k) => {
                let read = |p: &Path| {
                    let p = if p.is_absolute() {
                        p.to_path_buf()
                    } else {
                        base.join(p)
                    };
                    read_key_file(&p).map_err(|e| at(format!("[keys]: {e}")))
                };
                Some([read(&k.server0)?, read(&k.server1)?])
            }
            None => None,
        };
        Ok(DeviceConfig {
            session: raw.session,
            index: raw.index,
            job,
            keys,
        })
    }

    /// Who the device's message for `server` is for.
    pub fn address(&self, server: u8) -> Address {
        Address {
            session: job_session(&self.session, &self.job).0,
            owner: self.index as u32,
            server,
        }
    }
}

/// The device's parts of `data` (its CSV file, the whole table) as `fixshare-party owner`
/// prepares them.
fn parts(cfg: &DeviceConfig, data: &Path) -> Result<Vec<OwnerPart>, String> {
    Ok(load_and_prepare(&cfg.job, data, cfg.index)?.parts())
}

/// Each server's capture buffer and plaintext length, and the sealer of the owner's seed.
type Captured = ([Vec<u8>; 2], [usize; 2], Sealer);

/// Shares `parts` from `seed` into two captures, as the firmware does: returns each server's
/// buffer (the plaintext at `HEADER_LEN..`, room for the tag after it), its plaintext length,
/// and the sealer of the same seed.
fn capture(parts: &[OwnerPart], fixed: FixedPoint, seed: Seed) -> Result<Captured, String> {
    let values: usize = parts
        .iter()
        .map(|p| p.x.len() + p.y.as_ref().map_or(0, Vec::len))
        .sum();
    // Frames of at most 64 MiB: one header per part's shape and per shared vector, here.
    let cap = OVERHEAD + 8 * values + parts.len() * 256;
    let mut bufs = [vec![0u8; cap], vec![0u8; cap]];
    let sealer = Sealer::new(&seed);
    let mut owner = DataOwner::new(seed, fixed);
    let [b0, b1] = &mut bufs;
    let (mut l0, mut l1) = (Link::new(Capture::new(b0)), Link::new(Capture::new(b1)));
    for p in parts {
        block_on_thread(share_part::<u64, _, _>(
            &mut owner,
            &p.x,
            p.cols,
            p.y.as_deref(),
            &mut l0,
            &mut l1,
        ))
        .map_err(|e| format!("sharing the device's part: {e}"))?;
    }
    let lens = [l0.into_inner().len(), l1.into_inner().len()];
    Ok((bufs, lens, sealer))
}

/// The device run on the host: shares its part of `data` from `seed`, seals each server's
/// stream (the code the firmware runs) and returns the two sealed messages.
pub fn seal_on_host(cfg: &DeviceConfig, data: &Path, seed: Seed) -> Result<[Vec<u8>; 2], String> {
    let keys = cfg
        .keys
        .as_ref()
        .ok_or("the device's file names no [keys] (server0 and server1): sealing needs them")?;
    let parts = parts(cfg, data)?;
    let (mut bufs, lens, mut sealer) = capture(&parts, cfg.job.protocol().fixed, seed)?;
    let mut out: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (s, buf) in bufs.iter_mut().enumerate() {
        let n = sealer
            .seal_in_place(&keys[s], &cfg.address(s as u8), buf, lens[s])
            .map_err(|e| format!("sealing for server{s}: {e}"))?;
        buf.truncate(n);
        out[s] = std::mem::take(buf);
    }
    Ok(out)
}

/// The Rust source a device's firmware includes: the session id, the owner index, the number
/// format, the part(s) to share (exact `f64` bit patterns) and each server's plaintext length
/// (what its capture buffer holds, header and tag apart).
pub fn firmware_source(cfg: &DeviceConfig, data: &Path) -> Result<String, String> {
    let parts = parts(cfg, data)?;
    let fixed = cfg.job.protocol().fixed;
    // The lengths do not depend on the seed.
    let (_, lens, _) = capture(&parts, fixed, Seed::from_bytes([0; 32]))?;
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "// Generated by `fixshare-party device --firmware`: owner {} of session {:?}, job: {}.\n\
         // Its rows are those `fixshare-party owner` would share; do not edit.",
        cfg.index,
        cfg.session,
        cfg.job.describe()
    );
    let _ = writeln!(
        w,
        "pub const SESSION_ID: [u8; 32] = {:?};",
        cfg.address(0).session
    );
    let _ = writeln!(w, "pub const OWNER_INDEX: u32 = {};", cfg.index);
    let _ = writeln!(w, "pub const FRAC_BITS: u32 = {};", fixed.frac_bits());
    let _ = writeln!(
        w,
        "pub const STREAM_LEN: [usize; 2] = [{}, {}];",
        lens[0], lens[1]
    );
    let floats = |w: &mut String, name: &str, v: &[f64]| {
        let _ = write!(w, "static {name}: [f64; {}] = [", v.len());
        for (i, x) in v.iter().enumerate() {
            if i % 4 == 0 {
                w.push_str("\n    ");
            }
            let _ = write!(w, "f64::from_bits({:#018x}), ", x.to_bits());
        }
        w.push_str("\n];\n");
    };
    let mut list = String::new();
    for (i, p) in parts.iter().enumerate() {
        floats(w, &format!("X{i}"), &p.x);
        let y = match &p.y {
            Some(y) => {
                floats(w, &format!("Y{i}"), y);
                format!("Some(&Y{i})")
            }
            None => "None".into(),
        };
        let _ = writeln!(list, "    Part {{ x: &X{i}, cols: {}, y: {y} }},", p.cols);
    }
    let _ = writeln!(w, "pub static PARTS: [Part; {}] = [\n{list}];", parts.len());
    Ok(s)
}

/// `fixshare-party device`: writes the firmware's source to `firmware` and/or the device's
/// sealed lines, sealed on the host, to `sealed`.
pub(crate) fn run(
    cfg: &DeviceConfig,
    data: &Path,
    firmware: Option<&Path>,
    sealed: Option<&Path>,
    seed: impl FnOnce() -> Result<Seed, String>,
) -> Result<Summary, String> {
    let mut s = Summary::default();
    s.push("role", format_args!("device owner {}", cfg.index));
    s.push("session", &cfg.session);
    s.push("status", "ok");
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    if let Some(path) = firmware {
        write(path, &firmware_source(cfg, data)?)?;
        s.push("firmware_source", path.display());
    }
    if let Some(path) = sealed {
        let [m0, m1] = seal_on_host(cfg, data, seed()?)?;
        write(path, &sealed_lines(&m0, &m1))?;
        s.push("sealed", path.display());
        s.push("bytes_server0", m0.len());
        s.push("bytes_server1", m1.len());
    }
    Ok(s)
}
