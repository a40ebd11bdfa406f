//! The party daemon `fixshare-party` for C hosts (std only): its configuration files, the
//! session id and connections it makes from them, a data owner's rows prepared as
//! `fixshare-party owner` prepares them, and a server's, the dealer's or the helper's whole run
//! in the caller's process.
//!
//! Translations of `fixshare_net::daemon` (`Config`, `OwnerParts`, `run`, `Summary`): no
//! protocol here.

use crate::status::Failure;
use crate::tls::{conn_out, fxs_tls_conn, net_failure, text};
use crate::{fxs_status, run, run_void, slice_mut};
use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ffi::c_char;
use fixshare_net::daemon::{self, Config, Log, OwnerParts, Role, Summary};

/// Server 0 (`role = "server0"`).
pub const FXS_DAEMON_ROLE_SERVER0: u32 = 0;
/// Server 1 (`role = "server1"`).
pub const FXS_DAEMON_ROLE_SERVER1: u32 = 1;
/// The dealer (`role = "dealer"`).
pub const FXS_DAEMON_ROLE_DEALER: u32 = 2;
/// SecureNN's helper (`role = "helper"`).
pub const FXS_DAEMON_ROLE_HELPER: u32 = 3;
/// A data owner (`role = "owner"`).
pub const FXS_DAEMON_ROLE_OWNER: u32 = 4;
/// PrivPy's assistant A (`role = "assistant_a"`).
pub const FXS_DAEMON_ROLE_ASSISTANT_A: u32 = 5;
/// PrivPy's assistant B (`role = "assistant_b"`).
pub const FXS_DAEMON_ROLE_ASSISTANT_B: u32 = 6;

/// A checked `fixshare-party` configuration (opaque): its keys loaded, every peer pinned, its
/// job valid. From `fxs_daemon_config_load`; free with `fxs_daemon_config_free`. May be used by
/// several threads at once (it is only read).
pub struct fxs_daemon_config {
    inner: Config,
}

/// The `name: value` lines a run ends with (opaque), from `fxs_daemon_run`; free with
/// `fxs_daemon_summary_free`.
pub struct fxs_daemon_summary {
    /// Every line, `name: value\n` each.
    text: CString,
    /// The lines, split.
    lines: Vec<(String, CString)>,
}

/// What a data owner shares (opaque), prepared from its CSV file by `fxs_owner_data_prepare`;
/// free with `fxs_owner_data_free`.
pub struct fxs_owner_data {
    inner: OwnerParts,
}

/// What an `fxs_owner_data` holds: how to configure the `fxs_data_owner` that shares it, how
/// many parts to share, and how much of the model comes back.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fxs_owner_data_info {
    /// The ring of the shares in bits (`fxs_data_owner_config.ring_bits`): 64, the daemon's.
    pub ring_bits: u32,
    /// The fractional bits (`fxs_data_owner_config.frac_bits`): the job's `frac_bits`.
    pub frac_bits: u32,
    /// How many parts to share, in order (`fxs_owner_data_part`, `fxs_data_owner_share_part`).
    pub parts: usize,
    /// Owner 0: how many values of the model to reconstruct after sharing
    /// (`fxs_data_owner_reconstruct`): the regression's weights with the bias last, or every
    /// weight of the network in layer order. 0 for the other owners, who get nothing back.
    pub model_len: usize,
    /// The training rows this owner shares.
    pub rows: usize,
    /// The columns of each of those rows.
    pub cols: usize,
}

/// One part to share with `fxs_data_owner_share_part(owner, x, rows, cols, y)`. The arrays
/// belong to the `fxs_owner_data` and live as long as it does.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_owner_part {
    /// The features, `rows x cols`, row-major.
    pub x: *const f64,
    /// Rows.
    pub rows: usize,
    /// Feature columns.
    pub cols: usize,
    /// The targets, one per row, or NULL if this part has none.
    pub y: *const f64,
}

fn role_code(r: Role) -> u32 {
    match r {
        Role::Server0 => FXS_DAEMON_ROLE_SERVER0,
        Role::Server1 => FXS_DAEMON_ROLE_SERVER1,
        Role::Dealer => FXS_DAEMON_ROLE_DEALER,
        Role::Helper => FXS_DAEMON_ROLE_HELPER,
        Role::Owner => FXS_DAEMON_ROLE_OWNER,
        Role::AssistantA => FXS_DAEMON_ROLE_ASSISTANT_A,
        Role::AssistantB => FXS_DAEMON_ROLE_ASSISTANT_B,
    }
}

fn role_of(code: u32) -> Result<Role, Failure> {
    Ok(match code {
        FXS_DAEMON_ROLE_SERVER0 => Role::Server0,
        FXS_DAEMON_ROLE_SERVER1 => Role::Server1,
        FXS_DAEMON_ROLE_DEALER => Role::Dealer,
        FXS_DAEMON_ROLE_HELPER => Role::Helper,
        FXS_DAEMON_ROLE_OWNER => Role::Owner,
        FXS_DAEMON_ROLE_ASSISTANT_A => Role::AssistantA,
        FXS_DAEMON_ROLE_ASSISTANT_B => Role::AssistantB,
        _ => return Err(Failure::invalid("role must be one of FXS_DAEMON_ROLE_*")),
    })
}

fn config<'a>(cfg: *const fxs_daemon_config) -> Result<&'a Config, Failure> {
    // SAFETY: NULL or a live configuration (the contract of every exported function here).
    let c = unsafe { cfg.as_ref() }.ok_or(Failure::null("`config` is NULL"))?;
    Ok(&c.inner)
}

/// A C string of `s` (a NUL inside becomes a space).
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn summary_out(s: &Summary) -> *mut fxs_daemon_summary {
    let lines = s
        .lines()
        .iter()
        .map(|(n, v)| (n.clone(), c_string(v)))
        .collect();
    Box::into_raw(Box::new(fxs_daemon_summary {
        text: c_string(&s.to_string()),
        lines,
    }))
}

// ----- configurations -----

/// Reads and checks the `fixshare-party` configuration file at `path` (relative paths inside it
/// are taken from the file's directory), loading this party's key and every certificate it
/// names, exactly as `fixshare-party` does before it starts. A file that cannot be read, is
/// not TOML, has an unknown field, a seed, an unpinned peer or owner, no key, or anything else
/// the daemon refuses is `FXS_STATUS_BAD_CONFIG` with the daemon's reason (naming the file).
/// On success `*out` is the configuration; on failure NULL.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_config_load(
    path: *const c_char,
    out: *mut *mut fxs_daemon_config,
) -> fxs_status {
    run("fxs_daemon_config_load", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or NUL-terminated (caller).
        let path = unsafe { text(path, "`path` is NULL") }?;
        let c = Config::load(path)
            .map_err(|e| Failure::Message(fxs_status::BadConfig, e.to_string()))?;
        *out = Box::into_raw(Box::new(fxs_daemon_config { inner: c }));
        Ok(())
    })
}

/// Frees a configuration. NULL is fine.
///
/// # Safety
/// `config` is NULL or a live configuration from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_config_free(config: *mut fxs_daemon_config) {
    if config.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let c = unsafe { Box::from_raw(config) };
    run_void(move || drop(c));
}

/// Writes the configuration's role (`FXS_DAEMON_ROLE_*`) to `*role`, and its party id in the
/// hello (`FXS_NET_PARTY_*`: every data owner is `FXS_NET_PARTY_OWNER0`, its key says which) to
/// `*party`; either may be NULL.
///
/// # Safety
/// `config` is NULL or a live configuration; `role` and `party` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_config_role(
    config: *const fxs_daemon_config,
    role: *mut u32,
    party: *mut u32,
) -> fxs_status {
    run("fxs_daemon_config_role", || {
        let c = self::config(config)?;
        // SAFETY: NULL or writable (caller).
        if let Some(r) = unsafe { role.as_mut() } {
            *r = role_code(c.role);
        }
        // SAFETY: NULL or writable (caller).
        if let Some(p) = unsafe { party.as_mut() } {
            *p = u32::from(c.party_id().0);
        }
        Ok(())
    })
}

/// Writes the 32-byte session id of the configuration's hello to `out`, as `fixshare-party`
/// derives it: for a server or a data owner the session name with the `[job]` section bound in
/// (every setting; parties whose jobs differ refuse each other), for the dealer or the helper
/// the name alone (`fxs_tls_session_id(name)`, which is also what the servers use towards
/// them). A C program that connects to the daemons with `fxs_tls_endpoint_new` uses this one.
///
/// # Safety
/// `config` is NULL or a live configuration; `out` is NULL or writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_config_session_id(
    config: *const fxs_daemon_config,
    out: *mut u8,
) -> fxs_status {
    run("fxs_daemon_config_session_id", || {
        let c = self::config(config)?;
        // SAFETY: NULL or writable for 32 bytes (caller).
        let out = unsafe { slice_mut(out, 32, "`out` is NULL") }?;
        out.copy_from_slice(&c.session_id().0);
        Ok(())
    })
}

/// Connects to the configured peer `peer` (`FXS_DAEMON_ROLE_*`) as `fixshare-party` does: this
/// party's key, party id and timeouts, the peer's `address` and pin from the file, the session
/// id of that connection; for a data owner the connection then waits up to `result_seconds`
/// for the servers (they take its rows once every owner is there, and answer after training).
/// A peer this party does not connect to (one that connects to it, or one it does not talk to)
/// is `FXS_STATUS_INVALID_ARGUMENT`; the connection's own failures are those of
/// `fxs_tls_connect`. On success `*out` is the connection; on failure NULL.
///
/// # Safety
/// `config` is NULL or a live configuration; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_config_connect(
    config: *const fxs_daemon_config,
    peer: u32,
    out: *mut *mut fxs_tls_conn,
) -> fxs_status {
    run("fxs_daemon_config_connect", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        let c = self::config(config)?;
        let peer = role_of(peer)?;
        let t = c.connect(peer).map_err(|e| net_failure(&e, true))?;
        *out = conn_out(t);
        Ok(())
    })
}

// ----- a daemon role in this process -----

/// Runs the server (server 0 or 1), the dealer, the helper or an assistant that `config` names
/// until its job is done, in the calling thread, as `fixshare-party run --config FILE` does: it
/// listens, waits for its peers and the data owners, receives the owners' shares, trains, sends
/// its shares of the model to owner 0 (a server), or serves the servers (the dealer, the helper,
/// the assistants). Blocks for the
/// whole job; logs to standard error, one timestamped line per event (each epoch at a server),
/// as the daemon does. Every wait has the configuration's timeout, so a peer that disappears
/// ends the run with an error, never a hang. The operating system supplies the seeds.
///
/// On success `*summary` holds the daemon's `name: value` lines (`status: ok`, and for a
/// server `rows`, `features`, `epochs`, `train_seconds`, `bytes_sent`, ...). On
/// `FXS_STATUS_JOB_FAILED` the job failed after it started (a peer that left, timed out or was
/// refused; the message names the step and the peer, as the daemon's does), and `*summary`
/// holds what `fixshare-party` prints then: `role`, `session`, `status: failed` and `error`.
/// A data owner's configuration is `FXS_STATUS_INVALID_ARGUMENT` (a C owner shares with
/// `fxs_owner_data_prepare` and `fxs_data_owner_share_part`), before anything starts; then and
/// on any other failure `*summary` is NULL.
///
/// # Safety
/// `config` is NULL or a live configuration (not freed during the call); `summary` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_run(
    config: *const fxs_daemon_config,
    summary: *mut *mut fxs_daemon_summary,
) -> fxs_status {
    run("fxs_daemon_run", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { summary.as_mut() })?;
        let c = self::config(config)?;
        if c.role == Role::Owner {
            return Err(Failure::invalid(
                "this is a data owner's configuration: share with fxs_owner_data_prepare and \
                 fxs_data_owner_share_part",
            ));
        }
        let log = Log::new(c.log_name());
        match daemon::run(c, &log) {
            Ok(s) => {
                *out = summary_out(&s);
                Ok(())
            }
            Err(e) => {
                log.line(format_args!("failed: {e}"));
                *out = summary_out(&Summary::failed(c, &e));
                Err(Failure::Message(fxs_status::JobFailed, e))
            }
        }
    })
}

/// The summary's lines, `name: value\n` each, as `fixshare-party` prints them (a static empty
/// string for NULL). Owned by the summary: valid until it is freed.
///
/// # Safety
/// `summary` is NULL or a live summary.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_summary_text(
    summary: *const fxs_daemon_summary,
) -> *const c_char {
    // SAFETY: NULL or live (caller).
    match unsafe { summary.as_ref() } {
        Some(s) => s.text.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The value of the summary's line `name` (e.g. `"status"`, `"rows"`), or NULL if there is no
/// such line (or an argument is NULL). Owned by the summary: valid until it is freed.
///
/// # Safety
/// `summary` is NULL or a live summary; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_summary_get(
    summary: *const fxs_daemon_summary,
    name: *const c_char,
) -> *const c_char {
    // SAFETY: NULL or live (caller).
    let Some(s) = (unsafe { summary.as_ref() }) else {
        return core::ptr::null();
    };
    // SAFETY: NULL or NUL-terminated (caller).
    let Ok(name) = (unsafe { text(name, "`name` is NULL") }) else {
        return core::ptr::null();
    };
    s.lines
        .iter()
        .find(|(n, _)| n == name)
        .map_or(core::ptr::null(), |(_, v)| v.as_ptr())
}

/// Frees a summary. NULL is fine.
///
/// # Safety
/// `summary` is NULL or a live summary from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_daemon_summary_free(summary: *mut fxs_daemon_summary) {
    if summary.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let s = unsafe { Box::from_raw(summary) };
    run_void(move || drop(s));
}

// ----- a data owner's rows -----

/// Reads the CSV file `csv_path` (a header row, numeric cells, the target last; gzipped if it
/// ends in `.gz`) and prepares what the data owner that `config` names shares of it, with the
/// code of `fixshare-party owner --config ... --data ...`: the same checks, the split (every
/// 5th row is a test row), the standardization with the statistics of all the training rows,
/// and this owner's block of the table (or, for networks, its rows' features and one-hot
/// labels). Share the parts in order with `fxs_data_owner_share_part` over connections from
/// `fxs_daemon_config_connect` (an `fxs_data_owner` configured with `fxs_owner_data_get_info`'s
/// `ring_bits` and `frac_bits` and a fresh seed), and owner 0 then reconstructs `model_len`
/// values: the servers cannot tell it from `fixshare-party owner`.
///
/// Data the daemon's owner refuses (a bad cell, with its file, line and column; an unreadable
/// file; too few rows; a table that does not fit the job) is `FXS_STATUS_INVALID_ARGUMENT`, a
/// configuration that is not a data owner's too. On success `*out` holds the data; on failure
/// NULL.
///
/// # Safety
/// `config` is NULL or a live configuration; `csv_path` is NULL or a NUL-terminated string;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_owner_data_prepare(
    config: *const fxs_daemon_config,
    csv_path: *const c_char,
    out: *mut *mut fxs_owner_data,
) -> fxs_status {
    run("fxs_owner_data_prepare", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        let c = self::config(config)?;
        // SAFETY: NULL or NUL-terminated (caller).
        let path = unsafe { text(csv_path, "`csv_path` is NULL") }?;
        let data = OwnerParts::prepare(c, path.as_ref())
            .map_err(|e| Failure::Message(fxs_status::InvalidArgument, e))?;
        *out = Box::into_raw(Box::new(fxs_owner_data { inner: data }));
        Ok(())
    })
}

/// Writes what `data` holds to `*info`.
///
/// # Safety
/// `data` is NULL or live owner data; `info` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_owner_data_get_info(
    data: *const fxs_owner_data,
    info: *mut fxs_owner_data_info,
) -> fxs_status {
    run("fxs_owner_data_get_info", || {
        // SAFETY: NULL or live (caller).
        let d = unsafe { data.as_ref() }.ok_or(Failure::null("`data` is NULL"))?;
        // SAFETY: NULL or writable (caller).
        let info = unsafe { info.as_mut() }.ok_or(Failure::null("`info` is NULL"))?;
        let d = &d.inner;
        *info = fxs_owner_data_info {
            ring_bits: d.ring_bits,
            frac_bits: d.frac_bits,
            parts: d.parts.len(),
            model_len: d.model_len.unwrap_or(0),
            rows: d.rows,
            cols: d.cols,
        };
        Ok(())
    })
}

/// Writes part `index` (from 0, below `fxs_owner_data_get_info`'s `parts`) to `*part`: pointers
/// into `data`, valid until it is freed. An index out of range is `FXS_STATUS_OUT_OF_RANGE`.
///
/// # Safety
/// `data` is NULL or live owner data; `part` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_owner_data_part(
    data: *const fxs_owner_data,
    index: usize,
    part: *mut fxs_owner_part,
) -> fxs_status {
    run("fxs_owner_data_part", || {
        // SAFETY: NULL or live (caller).
        let d = unsafe { data.as_ref() }.ok_or(Failure::null("`data` is NULL"))?;
        // SAFETY: NULL or writable (caller).
        let out = unsafe { part.as_mut() }.ok_or(Failure::null("`part` is NULL"))?;
        let p = d.inner.parts.get(index).ok_or(Failure::Arg(
            fxs_status::OutOfRange,
            "index is not below the number of parts",
        ))?;
        *out = fxs_owner_part {
            x: p.x.as_ptr(),
            rows: p.x.len().checked_div(p.cols).unwrap_or(0),
            cols: p.cols,
            y: p.y.as_ref().map_or(core::ptr::null(), |y| y.as_ptr()),
        };
        Ok(())
    })
}

/// Frees owner data (its values are overwritten with zeros first). NULL is fine.
///
/// # Safety
/// `data` is NULL or live owner data from this library, not used afterwards (nor the pointers
/// of its parts).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_owner_data_free(data: *mut fxs_owner_data) {
    if data.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let mut d = unsafe { Box::from_raw(data) };
    run_void(move || {
        for p in &mut d.inner.parts {
            zeroize::Zeroize::zeroize(&mut p.x);
            if let Some(y) = &mut p.y {
                zeroize::Zeroize::zeroize(y);
            }
        }
        drop(d)
    });
}
