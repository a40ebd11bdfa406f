//! How a data owner without a client certificate (a web page) proves its key to a server: the
//! messages of the WebSocket listener's setup, and the owner's side of it.
//!
//! The owner holds an ECDSA P-256 key pair (in a browser, a WebCrypto key whose private half
//! cannot be exported); its pin in the servers' `[owners] pins` is the SHA-256 of its DER
//! `SubjectPublicKeyInfo`, as for a TLS key. The server's side of TLS authenticates the server
//! to the owner (its certificate). Then, over the byte stream the WebSocket carries:
//!
//! 1. the server sends a [`Challenge`]: `FXSC` and 32 fresh random bytes;
//! 2. the owner sends its [`Hello`] (40 bytes) and its [`Proof`] (160 bytes): `FXSP`, the
//!    algorithm (1: ECDSA P-256 with SHA-256), its `SubjectPublicKeyInfo` (91 bytes) and its
//!    signature, `r || s` (64 bytes), over [`signed_message`]: a domain-separation label, the
//!    challenge, the session id, the server's party id and the server's own pin;
//! 3. the server checks, in this order, that the key is pinned for an owner ([`Reason::Key`](crate::Reason::Key)),
//!    the hello against that owner (version, session, party, addressee: the reasons of the TLS
//!    path), the signature ([`Reason::Proof`](crate::Reason::Proof)) and that the owner is not connected already
//!    ([`Reason::Duplicate`](crate::Reason::Duplicate)); it answers with its hello and its verdict;
//! 4. the owner checks the server's hello and sends its verdict.
//!
//! The challenge makes a proof good for one connection only; the server's party id and pin in
//! the signed message make it good for one server only (a server cannot pass an owner's proof
//! on to the other server); the session id makes it good for one job.

use crate::hello::{self, HELLO_LEN, Hello, Refusal, SessionId, VERDICT_LEN};
use crate::pin::Pin;
use fixshare::session::{PartyId, Transport, TransportError};
use std::fmt;

/// Length of the server's challenge: `FXSC` and 32 random bytes.
pub const CHALLENGE_LEN: usize = 36;

/// Length of a DER `SubjectPublicKeyInfo` of an uncompressed ECDSA P-256 key (what WebCrypto's
/// `exportKey("spki", ...)` gives).
pub const P256_SPKI_LEN: usize = 91;

/// Length of an ECDSA P-256 signature as `r || s` (WebCrypto's form).
pub const P256_SIGNATURE_LEN: usize = 64;

/// Length of a [`Proof`] on the wire.
pub const PROOF_LEN: usize = 5 + P256_SPKI_LEN + P256_SIGNATURE_LEN;

/// The label that starts every signed message, so that a signature made for this purpose is
/// good for no other.
pub const DOMAIN: &[u8] = b"fixshare-net websocket owner proof v1\0";

/// The one algorithm this version knows: ECDSA on P-256 with SHA-256.
pub const ALG_ECDSA_P256_SHA256: u8 = 1;

const CHALLENGE_MAGIC: [u8; 4] = *b"FXSC";
const PROOF_MAGIC: [u8; 4] = *b"FXSP";

/// The DER header of a P-256 `SubjectPublicKeyInfo` (id-ecPublicKey, prime256v1, a 66-byte bit
/// string) before the uncompressed point `04 || x || y`.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The uncompressed point (`04 || x || y`, 65 bytes) of a P-256 `SubjectPublicKeyInfo`, or
/// `None` if `spki` is not one. Whether the point is on the curve is the verifier's to check.
pub fn p256_point(spki: &[u8]) -> Option<&[u8]> {
    (spki.len() == P256_SPKI_LEN && spki[..26] == P256_SPKI_PREFIX && spki[26] == 0x04)
        .then(|| &spki[26..])
}

/// The `SubjectPublicKeyInfo` of an uncompressed P-256 point (`04 || x || y`), or `None` if
/// `point` is not 65 bytes starting with 4.
pub fn p256_spki(point: &[u8]) -> Option<[u8; P256_SPKI_LEN]> {
    if point.len() != 65 || point[0] != 0x04 {
        return None;
    }
    let mut spki = [0u8; P256_SPKI_LEN];
    spki[..26].copy_from_slice(&P256_SPKI_PREFIX);
    spki[26..].copy_from_slice(point);
    Some(spki)
}

/// The server's challenge: 32 fresh random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge(pub [u8; 32]);

impl Challenge {
    /// `FXSC` and the 32 bytes.
    pub fn encode(&self) -> [u8; CHALLENGE_LEN] {
        let mut b = [0u8; CHALLENGE_LEN];
        b[..4].copy_from_slice(&CHALLENGE_MAGIC);
        b[4..].copy_from_slice(&self.0);
        b
    }

    /// The challenge in `b`, or `None` if `b` is not one.
    pub fn decode(b: &[u8; CHALLENGE_LEN]) -> Option<Challenge> {
        if b[..4] != CHALLENGE_MAGIC {
            return None;
        }
        let mut c = [0u8; 32];
        c.copy_from_slice(&b[4..]);
        Some(Challenge(c))
    }
}

/// What the owner signs: [`DOMAIN`], the challenge, the session id, the server's party id and
/// the server's pin (the key of its `fixshare-party` identity, from the owner's configuration).
pub fn signed_message(
    challenge: &Challenge,
    session: &SessionId,
    server: PartyId,
    server_pin: &Pin,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + 32 + 32 + 1 + 32);
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(&challenge.0);
    m.extend_from_slice(&session.0);
    m.push(server.0);
    m.extend_from_slice(server_pin.as_bytes());
    m
}

/// An owner's key proof: its P-256 public key and its signature over [`signed_message`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    /// The owner's `SubjectPublicKeyInfo` (DER).
    pub spki: [u8; P256_SPKI_LEN],
    /// The signature, `r || s`.
    pub signature: [u8; P256_SIGNATURE_LEN],
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proof").field("pin", &self.pin()).finish()
    }
}

impl Proof {
    /// A proof from a `SubjectPublicKeyInfo` and an `r || s` signature; refuses a key that is
    /// not P-256 and a signature of another length.
    pub fn new(spki: &[u8], signature: &[u8]) -> Result<Proof, String> {
        if p256_point(spki).is_none() {
            return Err(format!(
                "the owner's key must be an ECDSA P-256 SubjectPublicKeyInfo of {P256_SPKI_LEN} \
                 bytes (an uncompressed point); got {} bytes",
                spki.len()
            ));
        }
        let signature: [u8; P256_SIGNATURE_LEN] = signature.try_into().map_err(|_| {
            format!(
                "an ECDSA P-256 signature is r || s, {P256_SIGNATURE_LEN} bytes; got {}",
                signature.len()
            )
        })?;
        let mut s = [0u8; P256_SPKI_LEN];
        s.copy_from_slice(spki);
        Ok(Proof { spki: s, signature })
    }

    /// The pin of the owner's key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.spki)
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> [u8; PROOF_LEN] {
        let mut b = [0u8; PROOF_LEN];
        b[..4].copy_from_slice(&PROOF_MAGIC);
        b[4] = ALG_ECDSA_P256_SHA256;
        b[5..5 + P256_SPKI_LEN].copy_from_slice(&self.spki);
        b[5 + P256_SPKI_LEN..].copy_from_slice(&self.signature);
        b
    }

    /// The proof in `b`, or why it is not one.
    pub fn decode(b: &[u8; PROOF_LEN]) -> Result<Proof, String> {
        if b[..4] != PROOF_MAGIC {
            return Err("the owner's key proof is malformed (no FXSP)".into());
        }
        if b[4] != ALG_ECDSA_P256_SHA256 {
            return Err(format!(
                "the owner's key proof names algorithm {}; this version knows 1 (ECDSA P-256)",
                b[4]
            ));
        }
        Proof::new(&b[5..5 + P256_SPKI_LEN], &b[5 + P256_SPKI_LEN..])
    }
}

/// A data owner's key, as the owner's side of the setup uses it.
#[allow(async_fn_in_trait)]
pub trait Signer {
    /// The public key: a DER `SubjectPublicKeyInfo` of an ECDSA P-256 key.
    fn spki(&self) -> &[u8];
    /// Signs `message` with ECDSA P-256 and SHA-256, giving `r || s` (64 bytes).
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// Why the owner's side of the setup failed.
#[derive(Debug)]
pub enum SetupError {
    /// The connection failed.
    Transport(TransportError),
    /// The server's first message is not a challenge, or its answer is not a hello.
    Malformed(&'static str),
    /// The key could not sign, or its key or signature has the wrong form.
    Key(String),
    /// The hello or the proof was refused, by this side or by the server (whose verdict gives
    /// the reason).
    Refused(Refusal),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Transport(TransportError::Closed) => {
                f.write_str("the server closed the connection during the setup")
            }
            SetupError::Transport(e) => write!(f, "the connection failed during the setup: {e:?}"),
            SetupError::Malformed(m) => f.write_str(m),
            SetupError::Key(m) => write!(f, "the owner's key: {m}"),
            SetupError::Refused(r) => write!(f, "{r}"),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<TransportError> for SetupError {
    fn from(e: TransportError) -> Self {
        SetupError::Transport(e)
    }
}

/// The owner's side of the setup over `t` (the byte stream of a WebSocket to a server): reads
/// the challenge, sends `mine` (this owner's hello, addressed to the server) and the proof
/// signed by `key` for the server whose pin is `server_pin`, then checks the server's hello and
/// verdict and sends this side's.
pub async fn owner_setup<T: Transport, S: Signer>(
    t: &mut T,
    mine: Hello,
    server_pin: &Pin,
    key: &S,
) -> Result<(), SetupError> {
    let mut c = [0u8; CHALLENGE_LEN];
    t.recv(&mut c).await?;
    let challenge = Challenge::decode(&c).ok_or(SetupError::Malformed(
        "the server's first message is not a fixshare challenge (is this the WebSocket \
         listener of a fixshare-party server?)",
    ))?;
    let message = signed_message(&challenge, &mine.session, mine.to, server_pin);
    let signature = key.sign(&message).await.map_err(SetupError::Key)?;
    let proof = Proof::new(key.spki(), &signature).map_err(SetupError::Key)?;
    let mut out = [0u8; HELLO_LEN + PROOF_LEN];
    out[..HELLO_LEN].copy_from_slice(&mine.encode());
    out[HELLO_LEN..].copy_from_slice(&proof.encode());
    t.send(&out).await?;
    t.flush().await?;
    let mut answer = [0u8; HELLO_LEN + VERDICT_LEN];
    t.recv(&mut answer).await?;
    let mut theirs = [0u8; HELLO_LEN];
    theirs.copy_from_slice(&answer[..HELLO_LEN]);
    let verdict = [answer[HELLO_LEN], answer[HELLO_LEN + 1]];
    let checked = mine.check(&theirs, mine.to);
    t.send(&hello::encode_verdict(&checked)).await?;
    t.flush().await?;
    hello::decode_verdict(&verdict).map_err(SetupError::Refused)?;
    checked.map(|_| ()).map_err(SetupError::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_and_refuse_other_forms() {
        let c = Challenge([7; 32]);
        assert_eq!(Challenge::decode(&c.encode()), Some(c));
        let mut bad = c.encode();
        bad[0] = b'G';
        assert_eq!(Challenge::decode(&bad), None);

        let mut point = [9u8; 65];
        point[0] = 4;
        let spki = p256_spki(&point).unwrap();
        assert_eq!(p256_point(&spki), Some(&point[..]));
        let p = Proof::new(&spki, &[1; 64]).unwrap();
        assert_eq!(Proof::decode(&p.encode()).unwrap(), p);
        assert_eq!(p.pin(), Pin::of_spki(&spki));
        assert!(Proof::new(&spki[1..], &[1; 64]).is_err());
        assert!(Proof::new(&spki, &[1; 65]).is_err());
        let mut other_curve = spki;
        other_curve[24] ^= 1;
        assert!(Proof::new(&other_curve, &[1; 64]).is_err());
        let mut alg = p.encode();
        alg[4] = 2;
        assert!(Proof::decode(&alg).unwrap_err().contains("algorithm 2"));
        assert!(p256_spki(&point[1..]).is_none());
    }

    #[test]
    fn the_signed_message_binds_every_field() {
        let c = Challenge([1; 32]);
        let s = SessionId::derive("s");
        let pin = Pin::of_spki(b"server");
        let m = signed_message(&c, &s, PartyId(0), &pin);
        assert!(m.starts_with(DOMAIN));
        assert_eq!(m.len(), DOMAIN.len() + 97);
        assert_ne!(m, signed_message(&Challenge([2; 32]), &s, PartyId(0), &pin));
        assert_ne!(
            m,
            signed_message(&c, &SessionId::derive("t"), PartyId(0), &pin)
        );
        assert_ne!(m, signed_message(&c, &s, PartyId(1), &pin));
        assert_ne!(
            m,
            signed_message(&c, &s, PartyId(0), &Pin::of_spki(b"other"))
        );
    }
}
