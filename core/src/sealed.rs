//! Sealed owner messages: what a data owner sends one server, encrypted and authenticated for
//! that server alone, so that a relay between them (a gateway that a sensor reaches over a
//! radio or a serial line) carries bytes it can neither read nor change unnoticed.
//!
//! A device that cannot hold a TLS connection per server captures what it would have sent each
//! server ([`Capture`]: the same frames as over a direct link, for example a dataset part from
//! [`crate::data_owner::share_part`]), seals it under the key it shares with that server only
//! ([`OwnerKey`], one per device and server), and hands both sealed messages to the relay. Each
//! server reads its message ([`receive`]), opens it, and reads the plaintext as if the device
//! were connected ([`Replay`]). Sealing needs no allocator and works in place in the caller's
//! buffer.
//!
//! A sealed message is the 64-byte header, then the ciphertext and its 16-byte tag:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `FXSO` |
//! | 4..6 | format version, u16 ([`FORMAT_VERSION`]) |
//! | 6 | the server it is for: 0 or 1 |
//! | 7 | reserved, 0 |
//! | 8..12 | the data owner's index in the job, u32 |
//! | 12..24 | the 96-bit nonce |
//! | 24..56 | the session id (the job's, as the hello carries it) |
//! | 56..64 | length of ciphertext + tag, u64 |
//!
//! All integers are little-endian. The whole header is the AEAD's associated data: a relay that
//! sends a message to the other server, to another session or as another owner, or that edits
//! a length, is caught by the header checks or the tag. Nothing in the header is secret.
//!
//! ## The cipher
//! AES-256-GCM (RustCrypto `aes-gcm`, as for sealed weights in [`crate::weights`]; constant-time
//! software on a microcontroller). Nonces are 96 random bits from the owner's seed under
//! [`Domain::OWNER_SEALING`] ([`Sealer`]), apart from every other use of that seed. The
//! relay sees the header, the lengths and the timing.
//!
//! ## Security
//! A key must be shared by one device and one server and nobody else: the other server must
//! not hold it (it would read the other half of the shares), nor the relay. A device must never
//! reuse a seed across sessions: its nonces would repeat under the same key. A replayed message
//! of the same session is the same message (the servers take one per owner); the session id
//! keeps a message from serving another job.

use crate::error::{Error, ErrorKind};
use crate::prg::{Domain, Prg, Seed};
use crate::transport::{Transport, TransportError};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use rand_core::Rng;

/// Magic bytes of a sealed owner message.
pub const MAGIC: [u8; 4] = *b"FXSO";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Length of the public header.
pub const HEADER_LEN: usize = 64;
/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// What sealing adds to the plaintext: header and tag.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Length of a key.
pub const KEY_LEN: usize = 32;
/// Length of a nonce.
pub const NONCE_LEN: usize = 12;
/// The code a [`Capture`] fails with when its buffer is full ([`TransportError::Failed`]).
pub const CAPTURE_FULL: i32 = 0x5e_01;

/// The key one device shares with one server. Zeroized on drop (`aes-gcm`'s `zeroize` feature
/// clears the key schedule and the GHASH key), and neither `Clone`, `Copy` nor `Debug`.
pub struct OwnerKey(Aes256Gcm);

impl OwnerKey {
    /// The key with these 32 bytes (provisioned for this device and this server only); the
    /// bytes passed in are zeroized here, but the caller should clear any copy of its own.
    pub fn from_bytes(mut bytes: [u8; KEY_LEN]) -> OwnerKey {
        let key = OwnerKey(Aes256Gcm::new(&bytes.into()));
        zeroize::Zeroize::zeroize(&mut bytes);
        key
    }
}

/// Who a sealed message is for: the session, the data owner that sent it and the server that
/// may open it. Bound into the header, so a message is good for this triple only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    /// The session id (32 bytes; what the job's hello carries).
    pub session: [u8; 32],
    /// The data owner's index in the job.
    pub owner: u32,
    /// The server: 0 or 1.
    pub server: u8,
}

/// The public header of a sealed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Who it is for.
    pub to: Address,
    /// The AEAD nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Length of ciphertext + tag.
    pub body_len: u64,
}

/// Why a sealed message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Not a sealed owner message of this version: bad magic, version, server or reserved
    /// byte, or a body shorter than the tag.
    Malformed = 1,
    /// Longer than the reader's limit (refused before anything is allocated).
    TooLong = 2,
    /// Sealed for another session.
    WrongSession = 3,
    /// Sealed by another data owner than the one expected.
    WrongOwner = 4,
    /// Sealed for the other server.
    WrongServer = 5,
    /// Shorter than its header says: cut off on the way.
    Truncated = 6,
    /// The tag does not verify: the wrong key, or a header or ciphertext that was changed.
    Authentication = 7,
}

impl Refusal {
    const ALL: [Refusal; 7] = [
        Refusal::Malformed,
        Refusal::TooLong,
        Refusal::WrongSession,
        Refusal::WrongOwner,
        Refusal::WrongServer,
        Refusal::Truncated,
        Refusal::Authentication,
    ];

    /// What it means, in words.
    pub const fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => {
                "not a sealed owner message (bad magic, version, server, reserved byte or length)"
            }
            Refusal::TooLong => "the sealed owner message is longer than the limit",
            Refusal::WrongSession => "the sealed owner message is for another session",
            Refusal::WrongOwner => "the sealed owner message is from another data owner",
            Refusal::WrongServer => "the sealed owner message is for the other server",
            Refusal::Truncated => "the sealed owner message is shorter than its header says",
            Refusal::Authentication => {
                "the sealed owner message fails authentication: wrong key, or header or \
                 ciphertext modified"
            }
        }
    }

    /// This refusal as an error of operation `op` ([`ErrorKind::Malformed`] with the message).
    pub fn error(self, op: &'static str) -> Error {
        Error::new(op, ErrorKind::Malformed(self.message()))
    }

    /// The refusal an error reports, if it is one.
    pub fn of(e: &Error) -> Option<Refusal> {
        match e.kind() {
            ErrorKind::Malformed(m) => Refusal::ALL.into_iter().find(|r| r.message() == *m),
            _ => None,
        }
    }
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl Header {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        h[6] = self.to.server;
        h[8..12].copy_from_slice(&self.to.owner.to_le_bytes());
        h[12..24].copy_from_slice(&self.nonce);
        h[24..56].copy_from_slice(&self.to.session);
        h[56..64].copy_from_slice(&self.body_len.to_le_bytes());
        h
    }

    /// Reads and checks a header: magic, version, server, the reserved byte, and a body of at
    /// least the tag and of at most `max_plaintext` bytes of plaintext ([`Refusal::TooLong`]:
    /// a reader checks this before it allocates anything for the body). Needs no key.
    pub fn decode(h: &[u8; HEADER_LEN], max_plaintext: usize) -> Result<Header, Error> {
        const OP: &str = "sealed.header";
        if h[0..4] != MAGIC || h[4..6] != FORMAT_VERSION.to_le_bytes() || h[6] > 1 || h[7] != 0 {
            return Err(Refusal::Malformed.error(OP));
        }
        let mut body_len = [0u8; 8];
        body_len.copy_from_slice(&h[56..64]);
        let body_len = u64::from_le_bytes(body_len);
        if body_len < TAG_LEN as u64 {
            return Err(Refusal::Malformed.error(OP));
        }
        if body_len - TAG_LEN as u64 > max_plaintext as u64 {
            return Err(Refusal::TooLong.error(OP));
        }
        let mut owner = [0u8; 4];
        owner.copy_from_slice(&h[8..12]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&h[12..24]);
        let mut session = [0u8; 32];
        session.copy_from_slice(&h[24..56]);
        Ok(Header {
            to: Address {
                session,
                owner: u32::from_le_bytes(owner),
                server: h[6],
            },
            nonce,
            body_len,
        })
    }

    /// The plaintext's length.
    pub fn plaintext_len(&self) -> usize {
        // decode() bounded it by a usize limit.
        (self.body_len as usize).saturating_sub(TAG_LEN)
    }

    /// Checks that the message is for `expect`: the session, then the owner, then the server.
    pub fn check(&self, expect: &Address) -> Result<(), Refusal> {
        if self.to.session != expect.session {
            return Err(Refusal::WrongSession);
        }
        if self.to.owner != expect.owner {
            return Err(Refusal::WrongOwner);
        }
        if self.to.server != expect.server {
            return Err(Refusal::WrongServer);
        }
        Ok(())
    }
}

/// Draws the nonces of one data owner's seals from its seed ([`Domain::OWNER_SEALING`]).
pub struct Sealer {
    prg: Prg,
}

impl Sealer {
    /// The sealer of the owner whose secret seed is `seed` (the seed the owner also shares
    /// with: the domains keep the two streams apart).
    pub fn new(seed: &Seed) -> Sealer {
        Sealer {
            prg: seed.prg(Domain::OWNER_SEALING, 0),
        }
    }

    /// Seals the `len` plaintext bytes at `buf[HEADER_LEN..HEADER_LEN + len]` for `to` under
    /// `key`, in place: writes the header before them and the tag after them, and returns the
    /// sealed message's length, `len + OVERHEAD` (the message is `buf[..that]`). Fails with
    /// [`ErrorKind::Capacity`] (nothing written, no nonce drawn) if `buf` is shorter, and with
    /// [`ErrorKind::InvalidArgument`] for a server other than 0 or 1.
    pub fn seal_in_place(
        &mut self,
        key: &OwnerKey,
        to: &Address,
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, Error> {
        const OP: &str = "sealed.seal";
        if to.server > 1 {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("a sealed owner message is for server 0 or 1"),
            ));
        }
        let total = len.saturating_add(OVERHEAD);
        if buf.len() < total {
            return Err(Error::new(
                OP,
                ErrorKind::Capacity {
                    needed: total,
                    capacity: buf.len(),
                },
            ));
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.prg.fill_bytes(&mut nonce);
        let header = Header {
            to: *to,
            nonce,
            body_len: (len + TAG_LEN) as u64,
        }
        .encode();
        let (head, rest) = buf[..total].split_at_mut(HEADER_LEN);
        let (body, tag_out) = rest.split_at_mut(len);
        head.copy_from_slice(&header);
        let tag = key
            .0
            .encrypt_inout_detached(&Nonce::from(nonce), head, body.into())
            .map_err(|_| Error::new(OP, ErrorKind::InvalidArgument("message too long")))?;
        tag_out.copy_from_slice(&tag);
        Ok(total)
    }
}

/// Opens the sealed message `sealed` (all of it, exactly) in place, without allocating: checks
/// the header ([`Header::decode`] with `max_plaintext`, then [`Header::check`] against
/// `expect`), that the length is the header's, then the tag over header and ciphertext, and only
/// then decrypts. Returns the plaintext, inside `sealed`. Any failure is an [`Error`] whose
/// [`Refusal::of`] says which; nothing is decrypted from a message that fails a check.
pub fn open_in_place<'a>(
    key: &OwnerKey,
    expect: &Address,
    sealed: &'a mut [u8],
    max_plaintext: usize,
) -> Result<&'a [u8], Error> {
    const OP: &str = "sealed.open";
    let Some(head) = sealed.first_chunk::<HEADER_LEN>() else {
        return Err(Refusal::Truncated.error(OP));
    };
    let header = Header::decode(head, max_plaintext).map_err(|e| e.in_op(OP))?;
    header.check(expect).map_err(|r| r.error(OP))?;
    let body_len = header.body_len as usize;
    match (sealed.len() - HEADER_LEN).cmp(&body_len) {
        core::cmp::Ordering::Less => return Err(Refusal::Truncated.error(OP)),
        core::cmp::Ordering::Greater => return Err(Refusal::Malformed.error(OP)),
        core::cmp::Ordering::Equal => {}
    }
    let (head, rest) = sealed.split_at_mut(HEADER_LEN);
    let (body, tag) = rest.split_at_mut(body_len - TAG_LEN);
    let tag = Tag::try_from(&*tag).map_err(|_| Refusal::Malformed.error(OP))?;
    // aes-gcm checks the tag over the ciphertext before it decrypts anything.
    key.0
        .decrypt_inout_detached(&Nonce::from(header.nonce), head, body.into(), &tag)
        .map_err(|_| Refusal::Authentication.error(OP))?;
    Ok(body)
}

/// A [`Transport`] that captures what a data owner sends one server into a caller's buffer,
/// leaving room for the header before it and the tag after it, so that [`Capture::seal`] seals
/// it in place. Holds at most `buf.len() - OVERHEAD` bytes; a send beyond fails with
/// [`TransportError::Failed`]`(`[`CAPTURE_FULL`]`)`. Nothing can be received through it.
pub struct Capture<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Capture<'a> {
    /// A capture into `buf`.
    pub fn new(buf: &'a mut [u8]) -> Capture<'a> {
        Capture { buf, len: 0 }
    }

    /// The plaintext bytes captured so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was captured yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most plaintext bytes the buffer holds.
    pub fn capacity(&self) -> usize {
        self.buf.len().saturating_sub(OVERHEAD)
    }

    /// Seals what was captured for `to` under `key` ([`Sealer::seal_in_place`]) and returns the
    /// sealed message, inside the buffer.
    pub fn seal(
        self,
        sealer: &mut Sealer,
        key: &OwnerKey,
        to: &Address,
    ) -> Result<&'a [u8], Error> {
        let n = sealer.seal_in_place(key, to, self.buf, self.len)?;
        Ok(&self.buf[..n])
    }
}

impl Transport for Capture<'_> {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        let end = self.len.saturating_add(buf.len());
        if end > self.capacity() {
            return Err(TransportError::Failed(CAPTURE_FULL));
        }
        self.buf[HEADER_LEN + self.len..HEADER_LEN + end].copy_from_slice(buf);
        self.len = end;
        Ok(())
    }

    async fn recv(&mut self, _buf: &mut [u8]) -> Result<(), TransportError> {
        Err(TransportError::Closed)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    fn send_window(&self) -> usize {
        usize::MAX
    }
}

#[cfg(feature = "alloc")]
pub use with_alloc::{Replay, receive};

#[cfg(feature = "alloc")]
mod with_alloc {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// Reads one sealed message from `from` and opens it: the header first, refused if it is
    /// malformed, longer than `max_plaintext` or not for `expect` before anything is allocated
    /// for the body; then the body, which must arrive whole ([`Refusal::Truncated`] if the
    /// transport closes first); then [`open_in_place`]. Returns the plaintext. A transport
    /// failure other than a close is returned as it is.
    pub async fn receive<T: Transport>(
        from: &mut T,
        key: &OwnerKey,
        expect: &Address,
        max_plaintext: usize,
    ) -> Result<Vec<u8>, Error> {
        const OP: &str = "sealed.receive";
        let read_err = |e: TransportError| match e {
            TransportError::Closed => Refusal::Truncated.error(OP),
            e => Error::new(OP, e.into()),
        };
        let mut head = [0u8; HEADER_LEN];
        from.recv(&mut head).await.map_err(read_err)?;
        let header = Header::decode(&head, max_plaintext).map_err(|e| e.in_op(OP))?;
        header.check(expect).map_err(|r| r.error(OP))?;
        let mut sealed = vec![0u8; HEADER_LEN + header.body_len as usize];
        sealed[..HEADER_LEN].copy_from_slice(&head);
        from.recv(&mut sealed[HEADER_LEN..])
            .await
            .map_err(read_err)?;
        let n = open_in_place(key, expect, &mut sealed, max_plaintext)
            .map_err(|e| e.in_op(OP))?
            .len();
        sealed.truncate(HEADER_LEN + n);
        sealed.drain(..HEADER_LEN);
        Ok(sealed)
    }

    /// A [`Transport`] that gives back bytes received earlier (an opened sealed message), so
    /// that a server reads a relayed data owner exactly as one connected to it: `recv` takes
    /// the next bytes and fails with [`TransportError::Closed`] past the end; nothing can be
    /// sent through it. The bytes are zeroized when it is dropped.
    pub struct Replay {
        bytes: Vec<u8>,
        at: usize,
    }

    impl Replay {
        /// Replays `bytes`.
        pub fn new(bytes: Vec<u8>) -> Replay {
            Replay { bytes, at: 0 }
        }

        /// How many bytes are left unread.
        pub fn remaining(&self) -> usize {
            self.bytes.len() - self.at
        }
    }

    impl Drop for Replay {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.bytes);
        }
    }

    impl core::fmt::Debug for Replay {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Replay")
                .field("len", &self.bytes.len())
                .field("at", &self.at)
                .finish()
        }
    }

    impl Transport for Replay {
        async fn send(&mut self, _buf: &[u8]) -> Result<(), TransportError> {
            Err(TransportError::Closed)
        }

        async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
            let end = self.at.saturating_add(buf.len());
            let src = self.bytes.get(self.at..end).ok_or(TransportError::Closed)?;
            buf.copy_from_slice(src);
            self.at = end;
            Ok(())
        }

        async fn flush(&mut self) -> Result<(), TransportError> {
            Ok(())
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::data_owner::{DataOwner, share_part};
    use crate::fixed::FixedPoint;
    use crate::transport::Link;
    use crate::{Role, block_on};
    use alloc::vec;
    use alloc::vec::Vec;

    const KEY: [u8; 32] = [0x42; 32];

    fn to(server: u8) -> Address {
        Address {
            session: [7; 32],
            owner: 3,
            server,
        }
    }

    fn sealed(plaintext: &[u8], server: u8) -> Vec<u8> {
        let mut buf = vec![0u8; plaintext.len() + OVERHEAD];
        buf[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
        let n = Sealer::new(&Seed::from_bytes([1; 32]))
            .seal_in_place(
                &OwnerKey::from_bytes(KEY),
                &to(server),
                &mut buf,
                plaintext.len(),
            )
            .unwrap();
        assert_eq!(n, buf.len());
        buf
    }

    fn refusal(r: Result<impl Sized, Error>) -> Refusal {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => Refusal::of(&e).unwrap_or_else(|| panic!("not a refusal: {e}")),
        }
    }

    fn open(msg: &[u8], key: [u8; 32], expect: Address, max: usize) -> Result<Vec<u8>, Error> {
        let mut m = msg.to_vec();
        open_in_place(&OwnerKey::from_bytes(key), &expect, &mut m, max).map(<[u8]>::to_vec)
    }

    #[test]
    fn seals_and_opens_in_place_and_over_a_transport() {
        let text = b"the readings of one device";
        let msg = sealed(text, 1);
        assert_eq!(msg.len(), text.len() + OVERHEAD);
        // The plaintext does not appear in the sealed message; the header is public.
        assert!(!msg.windows(8).any(|w| w == &text[..8]));
        let h = Header::decode(msg[..HEADER_LEN].try_into().unwrap(), 100).unwrap();
        assert_eq!(h.to, to(1));
        assert_eq!(h.plaintext_len(), text.len());
        assert_eq!(Header { ..h }.encode(), msg[..HEADER_LEN]);
        assert_eq!(open(&msg, KEY, to(1), text.len()).unwrap(), text);
        let mut replay = Replay::new(msg.clone());
        let got = block_on(receive(
            &mut replay,
            &OwnerKey::from_bytes(KEY),
            &to(1),
            100,
        ))
        .unwrap();
        assert_eq!(got, text);
        assert_eq!(replay.remaining(), 0);
        // An empty message seals and opens too.
        assert_eq!(open(&sealed(b"", 0), KEY, to(0), 0).unwrap(), b"");
    }

    #[test]
    fn nonces_come_from_the_seed_and_differ_per_seal() {
        let key = OwnerKey::from_bytes(KEY);
        let mut s = Sealer::new(&Seed::from_bytes([1; 32]));
        let (mut a, mut b) = ([0u8; OVERHEAD + 4], [0u8; OVERHEAD + 4]);
        s.seal_in_place(&key, &to(0), &mut a, 4).unwrap();
        s.seal_in_place(&key, &to(0), &mut b, 4).unwrap();
        assert_ne!(a[12..24], b[12..24]);
        // The same seed gives the same first nonce (a device must never reuse its seed).
        let mut c = [0u8; OVERHEAD + 4];
        Sealer::new(&Seed::from_bytes([1; 32]))
            .seal_in_place(&key, &to(0), &mut c, 4)
            .unwrap();
        assert_eq!(a, c);
        // Not the sharing stream of the same seed.
        let mut p = Seed::from_bytes([1; 32]).prg(Domain::DATA_OWNER_BATCH, 0);
        let mut first = [0u8; 12];
        p.fill_bytes(&mut first);
        assert_ne!(first, a[12..24]);
    }

    #[test]
    fn every_refusal() {
        let text = [5u8; 40];
        let msg = sealed(&text, 1);
        // The wrong key.
        let r = refusal(open(&msg, [0x43; 32], to(1), 100));
        assert_eq!(r, Refusal::Authentication);
        // The other server, another session, another owner.
        assert_eq!(refusal(open(&msg, KEY, to(0), 100)), Refusal::WrongServer);
        let mut other = to(1);
        other.session[0] ^= 1;
        assert_eq!(refusal(open(&msg, KEY, other, 100)), Refusal::WrongSession);
        let mut other = to(1);
        other.owner = 4;
        assert_eq!(refusal(open(&msg, KEY, other, 100)), Refusal::WrongOwner);
        // Longer than the limit, by one byte.
        assert_eq!(refusal(open(&msg, KEY, to(1), 39)), Refusal::TooLong);
        assert!(open(&msg, KEY, to(1), 40).is_ok());
        // Truncated: in the header, in the body, in the tag; and one byte too many.
        for cut in [0, 10, HEADER_LEN - 1, HEADER_LEN + 5, msg.len() - 1] {
            let r = refusal(open(&msg[..cut], KEY, to(1), 100));
            assert_eq!(r, Refusal::Truncated, "cut at {cut}");
        }
        let mut long = msg.clone();
        long.push(0);
        assert_eq!(refusal(open(&long, KEY, to(1), 100)), Refusal::Malformed);
        // Every single bit flipped, in the header, the ciphertext and the tag, is refused.
        for i in 0..msg.len() {
            for bit in [0x01, 0x80] {
                let mut m = msg.clone();
                m[i] ^= bit;
                let r = refusal(open(&m, KEY, to(1), 1 << 20));
                let expected: &[Refusal] = match i {
                    0..=5 | 7 => &[Refusal::Malformed],
                    6 => &[Refusal::WrongServer, Refusal::Malformed],
                    8..=11 => &[Refusal::WrongOwner],
                    24..=55 => &[Refusal::WrongSession],
                    56..=63 => &[Refusal::Malformed, Refusal::Truncated, Refusal::TooLong],
                    _ => &[Refusal::Authentication],
                };
                assert!(expected.contains(&r), "byte {i} bit {bit:#x}: {r:?}");
            }
        }
        // A body shorter than the tag.
        let mut m = msg.clone();
        m[56..64].copy_from_slice(&15u64.to_le_bytes());
        assert_eq!(refusal(open(&m, KEY, to(1), 100)), Refusal::Malformed);
        // A header announcing 2^64 - 1 bytes is refused by its length, before any allocation.
        let mut head: [u8; HEADER_LEN] = msg[..HEADER_LEN].try_into().unwrap();
        head[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut replay = Replay::new(head.to_vec());
        let r = block_on(receive(
            &mut replay,
            &OwnerKey::from_bytes(KEY),
            &to(1),
            1 << 20,
        ));
        assert_eq!(refusal(r), Refusal::TooLong);
        // Over a transport: cut anywhere is Truncated, the wrong key is Authentication.
        for cut in [0, 30, HEADER_LEN, msg.len() - 1] {
            let mut replay = Replay::new(msg[..cut].to_vec());
            let r = block_on(receive(
                &mut replay,
                &OwnerKey::from_bytes(KEY),
                &to(1),
                100,
            ));
            assert_eq!(refusal(r), Refusal::Truncated, "cut at {cut}");
        }
        let mut replay = Replay::new(msg.clone());
        let r = block_on(receive(
            &mut replay,
            &OwnerKey::from_bytes([0; 32]),
            &to(1),
            100,
        ));
        assert_eq!(refusal(r), Refusal::Authentication);
        // Sealing refuses a short buffer and a server other than 0 and 1.
        let key = OwnerKey::from_bytes(KEY);
        let mut s = Sealer::new(&Seed::from_bytes([1; 32]));
        let mut small = [0u8; OVERHEAD + 3];
        let e = s.seal_in_place(&key, &to(0), &mut small, 4).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Capacity { needed: 84, .. }),
            "{e}"
        );
        assert_eq!(small, [0u8; OVERHEAD + 3], "nothing written");
        let e = s.seal_in_place(&key, &to(2), &mut small, 1).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
    }

    /// A device's dataset part, captured per server, sealed, received and replayed: the servers
    /// read exactly what a directly connected owner sends, and take its shares.
    #[test]
    fn a_captured_part_replays_as_the_direct_one() {
        let x: Vec<f64> = (0..12).map(|i| f64::from(i) * 0.25 - 1.0).collect();
        let y = [1.0, 0.0, 1.0, 0.0];
        let fixed = FixedPoint::default();
        // Directly, recorded.
        let direct = {
            let (mut a, mut b) = (vec![0u8; 4096], vec![0u8; 4096]);
            let (mut l0, mut l1) = (
                Link::new(Capture::new(&mut a)),
                Link::new(Capture::new(&mut b)),
            );
            let mut o = DataOwner::new(Seed::from_bytes([9; 32]), fixed);
            block_on(share_part::<u64, _, _>(
                &mut o,
                &x,
                3,
                Some(&y),
                &mut l0,
                &mut l1,
            ))
            .unwrap();
            let (n0, n1) = (l0.into_inner().len(), l1.into_inner().len());
            (
                a[HEADER_LEN..HEADER_LEN + n0].to_vec(),
                b[HEADER_LEN..HEADER_LEN + n1].to_vec(),
            )
        };
        // Captured and sealed, as a device does, from the same seed.
        let seed = Seed::from_bytes([9; 32]);
        let mut sealer = Sealer::new(&seed);
        let mut o = DataOwner::new(seed, fixed);
        let (mut a, mut b) = (vec![0u8; 4096], vec![0u8; 4096]);
        let (mut l0, mut l1) = (
            Link::new(Capture::new(&mut a)),
            Link::new(Capture::new(&mut b)),
        );
        block_on(share_part::<u64, _, _>(
            &mut o,
            &x,
            3,
            Some(&y),
            &mut l0,
            &mut l1,
        ))
        .unwrap();
        let (k0, k1) = (OwnerKey::from_bytes([1; 32]), OwnerKey::from_bytes([2; 32]));
        let m0 = l0
            .into_inner()
            .seal(&mut sealer, &k0, &to(0))
            .unwrap()
            .to_vec();
        let m1 = l1
            .into_inner()
            .seal(&mut sealer, &k1, &to(1))
            .unwrap()
            .to_vec();
        let p0 = block_on(receive(&mut Replay::new(m0.clone()), &k0, &to(0), 4096)).unwrap();
        let p1 = block_on(receive(&mut Replay::new(m1.clone()), &k1, &to(1), 4096)).unwrap();
        assert_eq!((&p0, &p1), (&direct.0, &direct.1));
        // The servers' shares add up to the part.
        let mut shares = [Vec::new(), Vec::new()];
        for (role, plain, out) in [(Role::P0, p0, 0), (Role::P1, p1, 1)] {
            let mut link = Link::new(Replay::new(plain));
            let (xs, ys) = block_on(crate::ml::share::receive_part::<u64, _>(
                role, &mut link, 100,
            ))
            .unwrap();
            shares[out] = [xs.as_slice(), ys.unwrap().as_slice()].concat();
            assert_eq!(link.into_inner().remaining(), 0);
        }
        let want: Vec<f64> = x.iter().chain(&y).copied().collect();
        for (i, w) in want.iter().enumerate() {
            let v = fixed.decode(shares[0][i].wrapping_add(shares[1][i]));
            assert_eq!(v, *w);
        }
        // A capture that overflows fails the send with CAPTURE_FULL and poisons the owner.
        let mut small = vec![0u8; OVERHEAD + 100];
        let mut big = vec![0u8; 4096];
        let (mut l0, mut l1) = (
            Link::new(Capture::new(&mut big)),
            Link::new(Capture::new(&mut small)),
        );
        let mut o = DataOwner::new(Seed::from_bytes([9; 32]), fixed);
        let e = block_on(share_part::<u64, _, _>(
            &mut o,
            &x,
            3,
            Some(&y),
            &mut l0,
            &mut l1,
        ))
        .unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Transport(CAPTURE_FULL), "{e}");
        assert!(o.state().check("again").is_err());
    }
}
