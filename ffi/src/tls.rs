//! fixshare-net's TLS connections for C hosts (std only): a party's key from PEM files, pins,
//! session ids, connecting to a peer and listening for the expected peers, every connection TLS
//! 1.3 with both keys pinned, then the hello (session id, party ids); each connection becomes an
//! `fxs_transport` that every party, dealer, assistant and data-owner function takes.
//!
//! Translations of `fixshare_net` (`Identity`, `Pin`, `SessionId`, `Endpoint`, `Listener`,
//! `TlsTransport`): no protocol here.

use crate::api::{PartyId, Transport, TransportError, block_on};
use crate::data_owner::write_truncated;
use crate::status::Failure;
use crate::{fxs_status, fxs_transport, run, run_void, slice, slice_mut};
use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::time::Duration;
use fixshare_net::{
    Endpoint, Identity, Listener, NetError, Pin, SessionId, Timeouts, TlsTransport,
};

/// The party id of server 0 in a hello (`fixshare-party`'s numbering).
pub const FXS_NET_PARTY_SERVER0: u32 = 0;
/// The party id of server 1.
pub const FXS_NET_PARTY_SERVER1: u32 = 1;
/// The party id of the dealer (or SecureNN's helper, or PrivPy's assistant A; assistant B is 3).
pub const FXS_NET_PARTY_DEALER: u32 = 2;
/// The party id every data owner announces in its hello (the daemon's owners, whose keys say
/// which owner each is).
pub const FXS_NET_PARTY_OWNER0: u32 = 16;

/// The size of a pin as text with its NUL: `sha256:` and 64 hex digits.
pub const FXS_TLS_PIN_LEN: usize = 72;

/// What a TLS connection's `fxs_transport` callbacks return when the peer sent nothing (or took
/// nothing) for longer than the read (or write) timeout: the call that used the transport fails
/// with `FXS_STATUS_TRANSPORT` and the message says `transport failed with code 1001`.
pub const FXS_TLS_IO_TIMEOUT: c_int = 1001;
/// What the callbacks return when TLS failed (a bad record, an alert from the peer).
pub const FXS_TLS_IO_TLS: c_int = 1002;
/// What the callbacks return when the operating system refused a socket operation.
pub const FXS_TLS_IO_SOCKET: c_int = 1003;
/// What the callbacks return when they are called with a NULL connection, or a bug inside
/// fixshare panicked.
pub const FXS_TLS_IO_INTERNAL: c_int = -1;

// The callbacks hand on fixshare-net's codes unchanged.
const _: () = {
    assert!(FXS_TLS_IO_TIMEOUT == fixshare_net::code::TIMEOUT);
    assert!(FXS_TLS_IO_TLS == fixshare_net::code::TLS);
    assert!(FXS_TLS_IO_SOCKET == fixshare_net::code::IO);
};

/// A party's key and self-signed certificate (opaque), from `fxs_tls_identity_load`; free with
/// `fxs_tls_identity_free`. May be shared by several endpoints and threads.
pub struct fxs_tls_identity {
    inner: Arc<Identity>,
}

/// One party's configuration for its connections (opaque): its key, its party id, the session
/// id and the timeouts. From `fxs_tls_endpoint_new`; free with `fxs_tls_endpoint_free`.
pub struct fxs_tls_endpoint {
    inner: Endpoint,
}

/// A listener accepting the expected parties (opaque), from `fxs_tls_listen`; free with
/// `fxs_tls_listener_free`, which stops it.
pub struct fxs_tls_listener {
    inner: Listener,
    /// How many parties it expects.
    peers: usize,
}

/// One authenticated TLS 1.3 connection to one peer, past its hello (opaque). From
/// `fxs_tls_connect`, `fxs_tls_listener_accept` or `fxs_daemon_config_connect`; its
/// `fxs_transport` (`fxs_tls_conn_transport`) goes wherever the C ABI takes a transport. Close
/// it in order with `fxs_tls_conn_close` when the job is done, and free it with
/// `fxs_tls_conn_free`.
pub struct fxs_tls_conn {
    inner: TlsTransport,
}

/// How long each blocking step of a TLS connection may take, in milliseconds; each must be at
/// least 1. `fxs_tls_timeouts_init` fills in the defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_tls_timeouts {
    /// Reaching the peer: how long `fxs_tls_connect` keeps retrying a refused connection (the
    /// peer's listener may not be up yet). Default 30 000.
    pub connect_ms: u64,
    /// The TLS handshake and the hello together. Default 10 000.
    pub handshake_ms: u64,
    /// The longest the peer may send nothing while this side waits to receive. Default 300 000.
    pub read_ms: u64,
    /// The longest the peer may take nothing while this side waits to send. Default 60 000.
    pub write_ms: u64,
}

/// A party a listener expects: its party id and the pin of its key.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fxs_tls_peer {
    /// Its party id (0 to 255), as its hello announces it.
    pub party: u32,
    /// The pin of its key: `sha256:` and 64 hex digits (NUL-terminated).
    pub pin: *const c_char,
}

/// The UTF-8 string at `p` (NULL: `what`).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &'static str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated (caller).
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|_| Failure::invalid("a string argument is not UTF-8"))
}

/// The status of a failure of a TLS connection or listener; `connecting`: while reaching the
/// peer's address (`fxs_tls_connect`), where a socket error or the connect timeout means the
/// peer is unreachable.
pub(crate) fn net_failure(e: &NetError, connecting: bool) -> Failure {
    let status = match e {
        NetError::Timeout { op: "connect", .. } => fxs_status::Unreachable,
        NetError::Timeout { .. } | NetError::Missing { .. } => fxs_status::Timeout,
        NetError::Io { .. } if connecting => fxs_status::Unreachable,
        NetError::Io { .. } | NetError::WebSocket { .. } => fxs_status::Transport,
        NetError::Closed { .. } => fxs_status::Closed,
        NetError::Tls { .. } | NetError::PeerRefusedTls { .. } => fxs_status::Tls,
        NetError::Hello(_) | NetError::UnexpectedPeer { .. } => fxs_status::Hello,
        NetError::Config(_) => fxs_status::InvalidArgument,
        _ => fxs_status::Internal,
    };
    Failure::Message(status, e.to_string())
}

fn party_id(party: u32, what: &'static str) -> Result<PartyId, Failure> {
    u8::try_from(party)
        .map(PartyId)
        .map_err(|_| Failure::invalid(what))
}

fn pin_of(p: *const c_char, what: &'static str) -> Result<Pin, Failure> {
    // SAFETY: NULL or a NUL-terminated string (the caller of the exported function).
    let s = unsafe { text(p, what) }?;
    s.parse::<Pin>()
        .map_err(|e| Failure::Message(fxs_status::InvalidArgument, e.to_string()))
}

fn millis(ms: u64, what: &'static str) -> Result<Duration, Failure> {
    if ms == 0 {
        return Err(Failure::invalid(what));
    }
    Ok(Duration::from_millis(ms))
}

/// Writes `pin` as text into `out` (`len` bytes, at least `FXS_TLS_PIN_LEN`).
fn write_pin(pin: Pin, out: *mut c_char, len: usize) -> Result<(), Failure> {
    // SAFETY: NULL or writable for `len` bytes (the caller of the exported function).
    let out = unsafe { slice_mut(out.cast::<u8>(), len, "`out` is NULL") }?;
    if out.is_empty() {
        return Err(Failure::null("`out` is NULL"));
    }
    let text = pin.to_string();
    if out.len() <= text.len() {
        return Err(Failure::Arg(
            fxs_status::BufferTooSmall,
            "a pin needs FXS_TLS_PIN_LEN bytes",
        ));
    }
    out[..text.len()].copy_from_slice(text.as_bytes());
    out[text.len()] = 0;
    Ok(())
}

// ----- identities and pins -----

/// Loads a party's key and certificate from PEM files, as `fixshare-net keygen --name NAME`
/// writes them (`NAME.crt`, `NAME.key`; PKCS#8, SEC1 or PKCS#1 keys). An unreadable file, a
/// file without a certificate or key, or a key that is not the certificate's is
/// `FXS_STATUS_BAD_CONFIG`, with the file in the message. On success `*out` is the new
/// identity; on failure NULL.
///
/// # Safety
/// `cert_path` and `key_path` are NULL or NUL-terminated strings; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_identity_load(
    cert_path: *const c_char,
    key_path: *const c_char,
    out: *mut *mut fxs_tls_identity,
) -> fxs_status {
    run("fxs_tls_identity_load", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or NUL-terminated (caller).
        let cert = unsafe { text(cert_path, "`cert_path` is NULL") }?;
        // SAFETY: NULL or NUL-terminated (caller).
        let key = unsafe { text(key_path, "`key_path` is NULL") }?;
        let id = Identity::from_pem_files(cert, key)
            .map_err(|e| Failure::Message(fxs_status::BadConfig, e.to_string()))?;
        *out = Box::into_raw(Box::new(fxs_tls_identity {
            inner: Arc::new(id),
        }));
        Ok(())
    })
}

/// Writes the pin of `identity`'s key (`sha256:` and 64 hex digits, NUL-terminated) into `out`,
/// which holds `len` bytes: at least `FXS_TLS_PIN_LEN`, else `FXS_STATUS_BUFFER_TOO_SMALL`. The
/// pin is what the peers' configurations name this party by.
///
/// # Safety
/// `identity` is NULL or a live identity; `out` is NULL or writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_identity_pin(
    identity: *const fxs_tls_identity,
    out: *mut c_char,
    len: usize,
) -> fxs_status {
    run("fxs_tls_identity_pin", || {
        // SAFETY: NULL or live (caller).
        let id = unsafe { identity.as_ref() }.ok_or(Failure::null("`identity` is NULL"))?;
        write_pin(id.inner.pin(), out, len)
    })
}

/// Frees an identity (endpoints made from it keep their own reference). NULL is fine.
///
/// # Safety
/// `identity` is NULL or a live identity from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_identity_free(identity: *mut fxs_tls_identity) {
    if identity.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let id = unsafe { Box::from_raw(identity) };
    run_void(move || drop(id));
}

/// Writes the pin of the key in the PEM certificate file `cert_path` (a peer's `.crt`, as
/// `fixshare-net pin FILE.crt` prints it) into `out` (`len` bytes, at least
/// `FXS_TLS_PIN_LEN`). An unreadable file or one without a certificate is
/// `FXS_STATUS_BAD_CONFIG`.
///
/// # Safety
/// `cert_path` is NULL or a NUL-terminated string; `out` is NULL or writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_pin_of_certificate(
    cert_path: *const c_char,
    out: *mut c_char,
    len: usize,
) -> fxs_status {
    run("fxs_tls_pin_of_certificate", || {
        // SAFETY: NULL or NUL-terminated (caller).
        let path = unsafe { text(cert_path, "`cert_path` is NULL") }?;
        let pin = fixshare_net::pin_of_certificate_file(path)
            .map_err(|e| Failure::Message(fxs_status::BadConfig, e.to_string()))?;
        write_pin(pin, out, len)
    })
}

/// Writes the 32-byte session id named by `label` (its domain-separated SHA-256, as
/// `fixshare-net`'s `SessionId::derive`) to `out`. Every party of a session uses the same one;
/// the hello refuses a peer of another session. (The daemon's servers and owners bind their job
/// into theirs: `fxs_daemon_config_session_id`.)
///
/// # Safety
/// `label` is NULL or a NUL-terminated string; `out` is NULL or writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_session_id(label: *const c_char, out: *mut u8) -> fxs_status {
    run("fxs_tls_session_id", || {
        // SAFETY: NULL or NUL-terminated (caller).
        let label = unsafe { text(label, "`label` is NULL") }?;
        // SAFETY: NULL or writable for 32 bytes (caller).
        let out = unsafe { slice_mut(out, 32, "`out` is NULL") }?;
        out.copy_from_slice(&SessionId::derive(label).0);
        Ok(())
    })
}

// ----- endpoints -----

/// Fills `timeouts` with the defaults: connect 30 s, handshake and hello 10 s, read 300 s,
/// write 60 s.
///
/// # Safety
/// `timeouts` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_timeouts_init(timeouts: *mut fxs_tls_timeouts) -> fxs_status {
    run("fxs_tls_timeouts_init", || {
        // SAFETY: NULL or writable (caller).
        let t = unsafe { timeouts.as_mut() }.ok_or(Failure::null("`timeouts` is NULL"))?;
        let d = Timeouts::default();
        *t = fxs_tls_timeouts {
            connect_ms: d.connect.as_millis() as u64,
            handshake_ms: d.handshake.as_millis() as u64,
            read_ms: d.read.as_millis() as u64,
            write_ms: d.write.as_millis() as u64,
        };
        Ok(())
    })
}

/// Creates an endpoint: party `party` (0 to 255; see `FXS_NET_PARTY_*`) of the session
/// `session_id` (32 bytes), authenticating with `identity`, with `timeouts` (NULL: the
/// defaults). A party id above 255 or a zero timeout is `FXS_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `identity` is NULL or a live identity; `session_id` is NULL or readable for 32 bytes;
/// `timeouts` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_endpoint_new(
    identity: *const fxs_tls_identity,
    party: u32,
    session_id: *const u8,
    timeouts: *const fxs_tls_timeouts,
    out: *mut *mut fxs_tls_endpoint,
) -> fxs_status {
    run("fxs_tls_endpoint_new", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let id = unsafe { identity.as_ref() }.ok_or(Failure::null("`identity` is NULL"))?;
        // SAFETY: NULL or readable for 32 bytes (caller).
        let sid = unsafe { slice(session_id, 32, "`session_id` is NULL") }?;
        let me = party_id(party, "party must be 0 to 255")?;
        let mut session = [0u8; 32];
        session.copy_from_slice(sid);
        // SAFETY: NULL or readable (caller).
        let t = match unsafe { timeouts.as_ref() } {
            None => Timeouts::default(),
            Some(t) => Timeouts {
                connect: millis(t.connect_ms, "timeouts->connect_ms must be at least 1")?,
                handshake: millis(t.handshake_ms, "timeouts->handshake_ms must be at least 1")?,
                read: millis(t.read_ms, "timeouts->read_ms must be at least 1")?,
                write: millis(t.write_ms, "timeouts->write_ms must be at least 1")?,
            },
        };
        let ep = Endpoint::new(id.inner.clone(), me, SessionId(session)).with_timeouts(t);
        *out = Box::into_raw(Box::new(fxs_tls_endpoint { inner: ep }));
        Ok(())
    })
}

/// Frees an endpoint (its connections and listeners live on). NULL is fine.
///
/// # Safety
/// `endpoint` is NULL or a live endpoint from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_endpoint_free(endpoint: *mut fxs_tls_endpoint) {
    if endpoint.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let ep = unsafe { Box::from_raw(endpoint) };
    run_void(move || drop(ep));
}

/// A connection handle for the caller.
pub(crate) fn conn_out(t: TlsTransport) -> *mut fxs_tls_conn {
    Box::into_raw(Box::new(fxs_tls_conn { inner: t }))
}

/// Connects to party `peer` listening at `addr` (`host:port`), whose key must hash to `pin`:
/// TCP, retried while refused for up to the connect timeout (the peer may not be up yet), the
/// TLS 1.3 handshake (this side's certificate for the peer to check, the peer's checked against
/// `pin`) and the hello, within the handshake timeout. Blocks until then.
///
/// Fails with `FXS_STATUS_UNREACHABLE` (nothing accepted a connection in time, or `addr` does
/// not resolve), `FXS_STATUS_TLS` (the peer's key is not `pin`, or the peer does not pin this
/// side's key), `FXS_STATUS_HELLO` (another session, party or version), `FXS_STATUS_TIMEOUT`
/// (connected, but the handshake and hello did not finish in time), `FXS_STATUS_CLOSED` (the
/// peer closed the connection during them), `FXS_STATUS_INVALID_ARGUMENT` (a malformed pin, a
/// party id above 255, this party itself or its own key). On success `*out` is the connection;
/// on failure NULL.
///
/// # Safety
/// `endpoint` is NULL or a live endpoint; `addr` and `pin` are NULL or NUL-terminated strings;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_connect(
    endpoint: *const fxs_tls_endpoint,
    addr: *const c_char,
    peer: u32,
    pin: *const c_char,
    out: *mut *mut fxs_tls_conn,
) -> fxs_status {
    run("fxs_tls_connect", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let ep = unsafe { endpoint.as_ref() }.ok_or(Failure::null("`endpoint` is NULL"))?;
        // SAFETY: NULL or NUL-terminated (caller).
        let addr = unsafe { text(addr, "`addr` is NULL") }?;
        let peer = party_id(peer, "peer must be 0 to 255")?;
        let pin = pin_of(pin, "`pin` is NULL")?;
        let t = ep
            .inner
            .connect(addr, peer, pin)
            .map_err(|e| net_failure(&e, true))?;
        *out = conn_out(t);
        Ok(())
    })
}

// ----- listeners -----

/// Listens at `addr` (`host:port`; port 0 picks a free one, see `fxs_tls_listener_port`) for
/// the `n` parties of `peers`, each authenticated by its pinned key. From now until the
/// listener is freed, a background thread takes in connections: each authenticated one whose
/// hello matches waits for `fxs_tls_listener_accept`; a stray (a key that is not pinned, a
/// failed handshake, no hello in time, a wrong hello, a duplicate of a party that is connected)
/// is refused and logged on standard error, and the listener goes on.
///
/// An empty list, a party listed twice, two parties with the same key, this party itself or its
/// own key, or a malformed pin is `FXS_STATUS_INVALID_ARGUMENT`; an address that cannot be
/// bound is `FXS_STATUS_TRANSPORT`. On success `*out` is the listener; on failure NULL.
///
/// # Safety
/// `endpoint` is NULL or a live endpoint; `addr` is NULL or a NUL-terminated string; `peers` is
/// NULL or readable for `n` entries whose pins are NUL-terminated strings; `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_listen(
    endpoint: *const fxs_tls_endpoint,
    addr: *const c_char,
    peers: *const fxs_tls_peer,
    n: usize,
    out: *mut *mut fxs_tls_listener,
) -> fxs_status {
    run("fxs_tls_listen", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let ep = unsafe { endpoint.as_ref() }.ok_or(Failure::null("`endpoint` is NULL"))?;
        // SAFETY: NULL or NUL-terminated (caller).
        let addr = unsafe { text(addr, "`addr` is NULL") }?;
        // SAFETY: NULL or readable for `n` entries (caller).
        let list = unsafe { slice(peers, n, "`peers` is NULL") }?;
        if list.is_empty() {
            return Err(Failure::invalid(
                "a listener needs at least one peer (n = 0)",
            ));
        }
        let expected = list
            .iter()
            .map(|p| {
                Ok((
                    party_id(p.party, "peers[i].party must be 0 to 255")?,
                    pin_of(p.pin, "peers[i].pin is NULL")?,
                ))
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let l = ep
            .inner
            .listen(addr, &expected)
            .map_err(|e| net_failure(&e, false))?;
        *out = Box::into_raw(Box::new(fxs_tls_listener {
            inner: l,
            peers: expected.len(),
        }));
        Ok(())
    })
}

/// Writes the port the listener listens at to `*port` (the one the system chose for port 0).
///
/// # Safety
/// `listener` is NULL or a live listener; `port` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_listener_port(
    listener: *const fxs_tls_listener,
    port: *mut u16,
) -> fxs_status {
    run("fxs_tls_listener_port", || {
        // SAFETY: NULL or live (caller).
        let l = unsafe { listener.as_ref() }.ok_or(Failure::null("`listener` is NULL"))?;
        // SAFETY: NULL or writable (caller).
        let port = unsafe { port.as_mut() }.ok_or(Failure::null("`port` is NULL"))?;
        *port = l.inner.local_addr().port();
        Ok(())
    })
}

/// The next expected party to connect, authenticate and pass the hello (or one that did and
/// waits), waiting up to `timeout_ms` (at least 1): `FXS_STATUS_TIMEOUT` if none comes. Which
/// party it is: `fxs_tls_conn_peer`. On success `*out` is the connection; on failure NULL.
///
/// # Safety
/// `listener` is NULL or a live listener; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_listener_accept(
    listener: *const fxs_tls_listener,
    timeout_ms: u64,
    out: *mut *mut fxs_tls_conn,
) -> fxs_status {
    run("fxs_tls_listener_accept", || {
        // SAFETY: NULL or writable (caller).
        let out = crate::party::out_ptr(unsafe { out.as_mut() })?;
        // SAFETY: NULL or live (caller).
        let l = unsafe { listener.as_ref() }.ok_or(Failure::null("`listener` is NULL"))?;
        let t = millis(timeout_ms, "timeout_ms must be at least 1")?;
        let c = l.inner.accept(t).map_err(|e| net_failure(&e, false))?;
        *out = conn_out(c);
        Ok(())
    })
}

/// One connection from every party the listener expects, written to `out[0..n]` in the order
/// of `fxs_tls_listen`'s `peers` (`n` must be their number, else
/// `FXS_STATUS_INVALID_ARGUMENT` and nothing is written), waiting up to `timeout_ms` in all (at
/// least 1). `FXS_STATUS_TIMEOUT` names the parties that did not connect; then every `out[i]`
/// is NULL (the connections that did arrive are closed).
///
/// # Safety
/// `listener` is NULL or a live listener; `out` is NULL or writable for `n` pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_listener_accept_all(
    listener: *const fxs_tls_listener,
    timeout_ms: u64,
    out: *mut *mut fxs_tls_conn,
    n: usize,
) -> fxs_status {
    run("fxs_tls_listener_accept_all", || {
        // SAFETY: NULL or live (caller).
        let l = unsafe { listener.as_ref() }.ok_or(Failure::null("`listener` is NULL"))?;
        if n != l.peers {
            return Err(Failure::invalid(
                "n must be the number of peers the listener expects",
            ));
        }
        // SAFETY: NULL or writable for `n` pointers (caller).
        let out = unsafe { slice_mut(out, n, "`out` is NULL") }?;
        out.fill(core::ptr::null_mut());
        let t = millis(timeout_ms, "timeout_ms must be at least 1")?;
        let all = l.inner.accept_all(t).map_err(|e| net_failure(&e, false))?;
        for (o, c) in out.iter_mut().zip(all) {
            *o = conn_out(c);
        }
        Ok(())
    })
}

/// Stops a listener: connections not yet accepted are dropped; accepted ones live on. NULL is
/// fine.
///
/// # Safety
/// `listener` is NULL or a live listener from this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_listener_free(listener: *mut fxs_tls_listener) {
    if listener.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let l = unsafe { Box::from_raw(listener) };
    run_void(move || drop(l));
}

// ----- connections -----

/// The connection behind a callback's `user_data`, `None` if NULL.
///
/// # Safety
/// `user_data` is NULL or the `fxs_tls_conn` that `fxs_tls_conn_transport` put there, live and
/// not used by anything else during the call (the contract of `fxs_tls_conn_transport`).
unsafe fn conn_of<'a>(user_data: *mut c_void) -> Option<&'a mut fxs_tls_conn> {
    // SAFETY: the caller's contract.
    unsafe { user_data.cast::<fxs_tls_conn>().as_mut() }
}

/// Runs one transport call of a connection's callbacks and turns it into their return code.
fn io(call: impl FnOnce() -> Option<Result<(), TransportError>>) -> c_int {
    let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(call));
    match r {
        Ok(Some(Ok(()))) => crate::FXS_IO_OK,
        Ok(Some(Err(TransportError::Closed))) => crate::FXS_IO_CLOSED,
        Ok(Some(Err(TransportError::Failed(code)))) => code,
        Ok(Some(Err(_))) | Ok(None) | Err(_) => FXS_TLS_IO_INTERNAL,
    }
}

/// Runs a transport future of a connection to completion (the TLS transport blocks inside its
/// calls, so one poll finishes it).
fn complete(
    f: impl Future<Output = Result<(), TransportError>>,
) -> Option<Result<(), TransportError>> {
    block_on(async { Ok::<_, crate::api::Error>(f.await) }).ok()
}

unsafe extern "C" fn conn_send(user_data: *mut c_void, buf: *const u8, len: usize) -> c_int {
    io(|| {
        // SAFETY: the contract of `fxs_tls_conn_transport` (see `conn_of`).
        let conn = unsafe { conn_of(user_data) }?;
        // SAFETY: readable for `len` bytes (the contract of `fxs_send_fn`).
        let buf = unsafe { slice(buf, len, "buf") }.ok()?;
        complete(conn.inner.send(buf))
    })
}

unsafe extern "C" fn conn_recv(user_data: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    io(|| {
        // SAFETY: the contract of `fxs_tls_conn_transport` (see `conn_of`).
        let conn = unsafe { conn_of(user_data) }?;
        // SAFETY: writable for `len` bytes, not aliased (the contract of `fxs_recv_fn`).
        let buf = unsafe { slice_mut(buf, len, "buf") }.ok()?;
        complete(conn.inner.recv(buf))
    })
}

unsafe extern "C" fn conn_flush(user_data: *mut c_void) -> c_int {
    io(|| {
        // SAFETY: the contract of `fxs_tls_conn_transport` (see `conn_of`).
        let conn = unsafe { conn_of(user_data) }?;
        complete(conn.inner.flush())
    })
}

/// Fills `*transport` with callbacks that drive the connection (`user_data` is `conn`): pass it
/// wherever the C ABI takes an `fxs_transport` (a party's `peer` or `dealer`, the dealer's or an
/// assistant's connections, a data owner's `server0`/`server1`, `fxs_link_new`). Writes are
/// gathered into TLS records and sent when the core flushes. The connection must stay live, and
/// be used by that one object only, until the object is freed or cleared.
///
/// When the connection fails, the callbacks return `FXS_IO_CLOSED` (the peer closed it, with or
/// without TLS's close_notify, or reset it: the call fails with `FXS_STATUS_CLOSED`) or a code
/// `FXS_TLS_IO_*` (the call fails with `FXS_STATUS_TRANSPORT` and the code in the message):
/// `FXS_TLS_IO_TIMEOUT` when the peer sent or took nothing for the read or write timeout, so
/// a peer that stops answering ends the call, never hangs it. `fxs_tls_conn_error` has the
/// detail. After a failure every later call fails the same way.
///
/// # Safety
/// `conn` is NULL or a live connection; `transport` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_transport(
    conn: *mut fxs_tls_conn,
    transport: *mut fxs_transport,
) -> fxs_status {
    run("fxs_tls_conn_transport", || {
        if conn.is_null() {
            return Err(Failure::null("`conn` is NULL"));
        }
        // SAFETY: NULL or writable (caller).
        let t = unsafe { transport.as_mut() }.ok_or(Failure::null("`transport` is NULL"))?;
        *t = fxs_transport {
            send: Some(conn_send),
            recv: Some(conn_recv),
            flush: Some(conn_flush),
            user_data: conn.cast(),
        };
        Ok(())
    })
}

/// Writes the party id of the peer (authenticated by its key) to `*party`.
///
/// # Safety
/// `conn` is NULL or a live connection; `party` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_peer(
    conn: *const fxs_tls_conn,
    party: *mut u32,
) -> fxs_status {
    run("fxs_tls_conn_peer", || {
        // SAFETY: NULL or live (caller).
        let c = unsafe { conn.as_ref() }.ok_or(Failure::null("`conn` is NULL"))?;
        // SAFETY: NULL or writable (caller).
        let p = unsafe { party.as_mut() }.ok_or(Failure::null("`party` is NULL"))?;
        *p = u32::from(c.inner.peer().0);
        Ok(())
    })
}

/// Sets the connection's idle limits from now on, in milliseconds (each at least 1): how long
/// the peer may send nothing while this side waits to receive, and take nothing while it waits
/// to send (e.g. longer before a long computation of the peer's, shorter in a test).
///
/// # Safety
/// `conn` is NULL or a live connection not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_set_timeouts(
    conn: *mut fxs_tls_conn,
    read_ms: u64,
    write_ms: u64,
) -> fxs_status {
    run("fxs_tls_conn_set_timeouts", || {
        // SAFETY: NULL or live and unshared (caller).
        let c = unsafe { conn.as_mut() }.ok_or(Failure::null("`conn` is NULL"))?;
        let read = millis(read_ms, "read_ms must be at least 1")?;
        let write = millis(write_ms, "write_ms must be at least 1")?;
        c.inner.set_read_timeout(read);
        c.inner.set_write_timeout(write);
        Ok(())
    })
}

/// Writes what went wrong with the connection (the first failure; an empty string if none)
/// into `buf`, NUL-terminated and truncated to `len - 1` bytes, and its full length without
/// the NUL to `*needed` if `needed` is not NULL: e.g. `timed out: the peer sent nothing for
/// 2s` behind a callback's `FXS_TLS_IO_TIMEOUT`.
///
/// # Safety
/// `conn` is NULL or a live connection; `buf` is NULL or writable for `len` bytes; `needed` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_error(
    conn: *const fxs_tls_conn,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> fxs_status {
    run("fxs_tls_conn_error", || {
        // SAFETY: NULL or live (caller).
        let c = unsafe { conn.as_ref() }.ok_or(Failure::null("`conn` is NULL"))?;
        // SAFETY: NULL or writable for `len` bytes (caller).
        let buf = unsafe { slice_mut(buf.cast::<u8>(), len, "`buf` is NULL") }?;
        let text = c
            .inner
            .last_error()
            .map(ToString::to_string)
            .unwrap_or_default();
        let total = write_truncated(buf, format_args!("{text}"));
        // SAFETY: NULL or writable (caller).
        if let Some(needed) = unsafe { needed.as_mut() } {
            *needed = total;
        }
        Ok(())
    })
}

/// Closes the connection in order: sends what is buffered, then TLS's close_notify, and shuts
/// the sending side, so that the peer sees that this side finished (bounded by the write
/// timeout). Call it when the job over the connection is done, before freeing it; later sends
/// fail with `FXS_IO_CLOSED`. Closing twice is fine.
///
/// Fails if the connection failed earlier, or if what was buffered could not be sent (with the
/// status of `fxs_tls_connect`'s failures, and the detail). A peer that has already closed or
/// reset the connection, as peers do once their own part of the job is done, is no failure:
/// nothing was left to send it.
///
/// # Safety
/// `conn` is NULL or a live connection not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_close(conn: *mut fxs_tls_conn) -> fxs_status {
    run("fxs_tls_conn_close", || {
        // SAFETY: NULL or live and unshared (caller).
        let c = unsafe { conn.as_mut() }.ok_or(Failure::null("`conn` is NULL"))?;
        let failed = |c: &fxs_tls_conn| match c.inner.last_error() {
            Some(e) => net_failure(e, false),
            None => Failure::Message(fxs_status::Transport, "the connection failed".into()),
        };
        if complete(c.inner.flush()) != Some(Ok(())) {
            return Err(failed(c));
        }
        match c.inner.close() {
            Ok(()) => Ok(()),
            Err(e) if peer_gone(&e) => Ok(()),
            Err(e) => Err(net_failure(&e, false)),
        }
    })
}

/// Whether `e`, met while closing, only says that the peer closed or reset the connection
/// first.
fn peer_gone(e: &NetError) -> bool {
    use std::io::ErrorKind as K;
    match e {
        NetError::Closed { .. } => true,
        NetError::Io { source, .. } => matches!(
            source.kind(),
            K::NotConnected | K::BrokenPipe | K::ConnectionReset | K::ConnectionAborted
        ),
        _ => false,
    }
}

/// Frees a connection. One that was not closed with `fxs_tls_conn_close` is cut without TLS's
/// close_notify, so its peer sees that this side did not finish (as `fixshare-party` ends the
/// connections of a job that failed). Free the objects using its transport first. NULL is fine.
///
/// # Safety
/// `conn` is NULL or a live connection from this library, not used afterwards (nor by any
/// object holding its transport).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fxs_tls_conn_free(conn: *mut fxs_tls_conn) {
    if conn.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in this module, freed once (caller).
    let mut c = unsafe { Box::from_raw(conn) };
    run_void(move || {
        // Without close_notify, unless `fxs_tls_conn_close` sent one (then this only releases
        // the socket).
        c.inner.abort();
        drop(c)
    });
}
