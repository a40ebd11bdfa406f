//! Data owners on devices that reach the servers through an untrusted gateway.
//!
//! A device (a microcontroller with a sensor) holds one 32-byte key per server, shared with that
//! server only ([`read_key_file`], written by `fixshare-net device-keys`). It captures what it
//! would send each server as a data owner, seals it for that server
//! ([`fixshare::sealed`]: AES-256-GCM, the session id, the owner's index and the server
//! authenticated in the header), and prints both messages as two lines, `SEALED0 <hex>` and
//! `SEALED1 <hex>` ([`parse_sealed_lines`], [`sealed_lines`]). A gateway (`fixshare-party
//! gateway`) reads those lines and sends each server its message over TLS with the gateway's
//! own pinned key; it can neither read nor change them unnoticed. The server reads the one
//! message from that connection ([`receive`]: its length checked against a limit before
//! anything is allocated), opens it and hands its intake an [`AnyTransport::Sealed`] that
//! replays the plaintext, so the device's shares are taken exactly as a connected owner's.

use crate::any::AnyTransport;
use crate::error::NetError;
use crate::identity::Pin;
use fixshare::sealed::{self, Address, OwnerKey, Refusal, Replay};
use fixshare::{PartyId, Transport, TransportError, block_on_thread};
use std::net::SocketAddr;
use std::path::Path;

/// The longest plaintext a server accepts in one device's sealed message: 16 MiB (a
/// microcontroller's part is some kilobytes; the limit bounds what a gateway can make a server
/// allocate).
pub const MAX_SEALED_PLAINTEXT: usize = 16 << 20;

/// How [`NetError::Closed`] describes reading past the end of a device's opened message.
pub(crate) const SEALED_END: &str = "the device's sealed message ended before its data did";

/// Reads a device key file: 64 hexadecimal digits (white space around them is ignored).
pub fn read_key_file(path: impl AsRef<Path>) -> Result<OwnerKey, NetError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| NetError::io(format!("read device key {}", path.display()), e))?;
    let text = zeroize::Zeroizing::new(text);
    let bytes = decode_hex(text.trim())
        .ok()
        .map(zeroize::Zeroizing::new)
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            NetError::Config(format!(
                "{}: a device key is 64 hexadecimal digits (make one with `fixshare-net \
                 device-keys`)",
                path.display()
            ))
        })?;
    Ok(OwnerKey::from_bytes(bytes))
}

/// Writes a fresh device's keys, one per server, as `DIR/NAME.server0.key` and
/// `DIR/NAME.server1.key` (64 hex digits each, from the operating system's randomness, readable
/// by their owner only on Unix), refusing to overwrite either; returns their paths. Each
/// server gets its own file and nothing else; the device gets both (baked into its firmware at
/// build time, or written to its secure storage at provisioning), the gateway neither.
pub fn write_key_files(
    dir: impl AsRef<Path>,
    name: &str,
) -> Result<[std::path::PathBuf; 2], NetError> {
    use std::io::Write;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(NetError::Config(format!(
            "{name:?}: a device's name is letters, digits, '-' and '_'"
        )));
    }
    let dir = dir.as_ref();
    let paths = [0, 1].map(|s| dir.join(format!("{name}.server{s}.key")));
    if let Some(p) = paths.iter().find(|p| p.exists()) {
        return Err(NetError::Config(format!(
            "{} exists; not overwriting it",
            p.display()
        )));
    }
    for path in &paths {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        crate::identity::provider()
            .secure_random
            .fill(&mut key[..])
            .map_err(|_| NetError::Config("the operating system's random source failed".into()))?;
        let text = zeroize::Zeroizing::new(format!("{}\n", encode_hex(&key[..])));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let op = || format!("write {}", path.display());
        let mut f = opts.open(path).map_err(|e| NetError::io(op(), e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| NetError::io(op(), e))?;
    }
    Ok(paths)
}

/// The hex digits of `bytes`, lowercase.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The bytes of hex digits `s`, or why not.
pub(crate) fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("an odd number of hex digits".into());
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("{:?} is not a hex digit", char::from(c))),
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Ok((digit(p[0])? << 4) | digit(p[1])?))
        .collect()
}

/// A device's two sealed messages as the lines it prints: `SEALED0 <hex>` and `SEALED1 <hex>`.
pub fn sealed_lines(to_server0: &[u8], to_server1: &[u8]) -> String {
    format!(
        "SEALED0 {}\nSEALED1 {}\n",
        encode_hex(to_server0),
        encode_hex(to_server1)
    )
}

/// The sealed messages for server 0 and server 1 in a device's output `text`: exactly one
/// `SEALED0 <hex>` line and one `SEALED1 <hex>` line (other lines, such as a firmware's
/// reports, are skipped), each at most `max_len` bytes once decoded (checked before decoding).
/// Errors name the line.
pub fn parse_sealed_lines(text: &str, max_len: usize) -> Result<[Vec<u8>; 2], String> {
    let mut found: [Option<Vec<u8>>; 2] = [None, None];
    for (no, line) in text.lines().enumerate() {
        let line = line.trim_end();
        let (server, hex) = match line.split_once(' ') {
            Some(("SEALED0", hex)) => (0, hex),
            Some(("SEALED1", hex)) => (1, hex),
            _ => continue,
        };
        let at = |e: String| format!("line {}: {e}", no + 1);
        if found[server].is_some() {
            return Err(at(format!("a second SEALED{server} line")));
        }
        if hex.len() / 2 > max_len {
            return Err(at(format!(
                "a sealed message of {} bytes; the limit is {max_len}",
                hex.len() / 2
            )));
        }
        found[server] = Some(decode_hex(hex).map_err(at)?);
    }
    match found {
        [Some(a), Some(b)] => Ok([a, b]),
        [a, _] => Err(format!(
            "no SEALED{} line (a device prints SEALED0 <hex> and SEALED1 <hex>)",
            if a.is_none() { 0 } else { 1 }
        )),
    }
}

/// A device's data as a server reads it: its sealed message, received through the gateway's
/// connection and opened, replayed for the server's intake ([`AnyTransport::Sealed`]).
#[derive(Debug)]
pub struct Relayed {
    replay: Replay,
    gateway_pin: Pin,
    gateway_addr: Option<SocketAddr>,
    negotiated: String,
    failed: Option<NetError>,
}

impl Relayed {
    /// The party the device stands for: a data owner (16).
    pub fn peer(&self) -> PartyId {
        PartyId(16)
    }

    /// The pin of the gateway the message came through.
    pub fn peer_pin(&self) -> Pin {
        self.gateway_pin
    }

    /// The gateway's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.gateway_addr
    }

    /// How the message came: sealed, relayed over the gateway's TLS connection.
    pub fn negotiated(&self) -> String {
        self.negotiated.clone()
    }

    /// The error of the first read past the message's end, if any.
    pub fn last_error(&self) -> Option<&NetError> {
        self.failed.as_ref()
    }

    /// How many bytes of the opened message the intake has not read.
    pub fn remaining(&self) -> usize {
        self.replay.remaining()
    }
}

impl Transport for Relayed {
    async fn send(&mut self, _buf: &[u8]) -> Result<(), TransportError> {
        self.failed.get_or_insert(NetError::Config(
            "a device behind a gateway receives nothing (it cannot be owner 0)".into(),
        ));
        Err(TransportError::Closed)
    }

    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        let r = self.replay.recv(buf).await;
        if r.is_err() {
            self.failed
                .get_or_insert(NetError::Closed { detail: SEALED_END });
        }
        r
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Server side: reads the one sealed message a gateway sends on `conn` for `expect` (this
/// session, the device's owner index, this server), at most `max_plaintext` bytes of plaintext
/// (refused before anything is allocated), and opens it with the device's `key`. On success the
/// gateway's connection is closed in order (the gateway takes that as the server's receipt) and
/// the opened message comes back as [`AnyTransport::Sealed`]; on failure the connection is cut
/// and the error says why: a [`Refusal`] (wrong key or tampered, another session, owner or
/// server, truncated, too long) or the connection's own failure.
pub fn receive(
    mut conn: AnyTransport,
    key: &OwnerKey,
    expect: &Address,
    max_plaintext: usize,
) -> Result<AnyTransport, NetError> {
    let opened = block_on_thread(sealed::receive(&mut conn, key, expect, max_plaintext));
    let plaintext = match opened {
        Ok(p) => p,
        Err(e) => {
            let why = match (Refusal::of(&e), conn.last_error()) {
                (Some(r), _) => NetError::Sealed(r),
                (None, Some(net)) => NetError::Config(format!(
                    "reading the sealed message from the gateway: {net}"
                )),
                (None, None) => {
                    NetError::Config(format!("reading the sealed message from the gateway: {e}"))
                }
            };
            conn.abort();
            return Err(why);
        }
    };
    let negotiated = format!(
        "a sealed message of {} bytes (AES-256-GCM) relayed by the gateway over {}",
        plaintext.len(),
        conn.negotiated()
    );
    let relayed = Relayed {
        replay: Replay::new(plaintext),
        gateway_pin: conn.peer_pin(),
        gateway_addr: conn.peer_addr(),
        negotiated,
        failed: None,
    };
    // The receipt: an orderly close. A gateway that does not read it is its own affair.
    let _ = conn.close();
    Ok(AnyTransport::Sealed(Box::new(relayed)))
}
