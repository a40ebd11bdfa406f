//! Sealing: a model's encoding encrypted and authenticated with XChaCha20-Poly1305 under the
//! trainers' key, behind a public header that names the model, the round and the trainer.
//!
//! Sealed weights are the 80-byte header followed by the ciphertext and its 16-byte tag:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `FXSW` |
//! | 4..6 | format version, u16 ([`FORMAT_VERSION`]) |
//! | 6..8 | flags, u16: bit 0 set exactly for version 0 (the initial weights); other bits 0 |
//! | 8..24 | model id ([`ModelId`]) |
//! | 24..32 | version, u64: 0 for the initial weights, `s + 1` for the output of step `s` |
//! | 32..36 | central epoch of the step, u32 |
//! | 36..40 | position of the step in the epoch, u32 |
//! | 40..44 | the trainer that sealed them, u32 |
//! | 44..48 | the number of trainers `L`, u32 |
//! | 48..72 | the 192-bit nonce |
//! | 72..80 | length of ciphertext + tag, u64 |
//!
//! The whole header is the AEAD's associated data, so a server that edits any field, serves
//! another model's or an older round's weights, or reorders them is caught when the next trainer
//! opens them (see [`super::Rejection`]). The agreed order is the trainers' numbering: step `s` is
//! position `s mod L` of central epoch `s / L`, taken by trainer `s mod L`; trainer 0 seals the
//! initial weights.

use super::Rejection;
use super::format;
use crate::error::Error;
use crate::ml::float::Model;
use crate::prg::{Domain, Prg, Seed};
use alloc::vec::Vec;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rand_core::Rng;

/// Magic bytes of sealed weights.
pub const MAGIC: [u8; 4] = *b"FXSW";
/// The sealed format version this code writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Length of the public header.
pub const HEADER_LEN: usize = 80;
/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Length of a key.
pub const KEY_LEN: usize = 32;
/// The most trainers a header may name.
pub const MAX_TRAINERS: u32 = 1 << 16;
/// The longest sealed weights (header included) anything here accepts: 4 GiB.
pub const MAX_SEALED: u64 = 1 << 32;

/// The trainers' shared key. Supplied by the host (never derived from anything the server sees),
/// zeroized on drop, and neither `Clone`, `Copy` nor `Debug`.
pub struct WeightKey(XChaCha20Poly1305);

impl WeightKey {
    /// The key with these 32 bytes of host entropy. The caller should zeroize its copy.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> WeightKey {
        WeightKey(XChaCha20Poly1305::new(&bytes.into()))
    }
}

/// Names one model being trained (16 bytes the trainers agree on; not secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(pub [u8; 16]);

impl ModelId {
    /// The id as 32 lowercase hex digits (for file names).
    pub fn hex(&self) -> [u8; 32] {
        let digits = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = digits[usize::from(b >> 4)];
            out[2 * i + 1] = digits[usize::from(b & 15)];
        }
        out
    }
}

/// Where a version sits in the schedule: the step that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    /// The central epoch.
    pub epoch: u32,
    /// The position in the agreed order within the epoch.
    pub position: u32,
    /// The trainer that produced it (trainer 0 for the initial weights).
    pub trainer: u32,
}

impl Round {
    /// The round of `version` with `trainers` trainers, `None` if the epoch overflows u32 or
    /// `trainers` is 0.
    pub fn of(version: u64, trainers: u32) -> Option<Round> {
        if trainers == 0 {
            return None;
        }
        if version == 0 {
            return Some(Round {
                epoch: 0,
                position: 0,
                trainer: 0,
            });
        }
        let step = version - 1;
        let l = u64::from(trainers);
        let position = (step % l) as u32;
        Some(Round {
            epoch: u32::try_from(step / l).ok()?,
            position,
            trainer: position,
        })
    }
}

/// The public header of sealed weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The model.
    pub model: ModelId,
    /// The version (see the module docs).
    pub version: u64,
    /// The step that produced this version.
    pub round: Round,
    /// The trainer that sealed it.
    pub trainer: u32,
    /// The number of trainers.
    pub trainers: u32,
    /// The AEAD nonce.
    pub nonce: [u8; 24],
    /// Length of ciphertext + tag.
    pub body_len: u64,
}

impl Header {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        h[6..8].copy_from_slice(&u16::from(self.version == 0).to_le_bytes());
        h[8..24].copy_from_slice(&self.model.0);
        h[24..32].copy_from_slice(&self.version.to_le_bytes());
        h[32..36].copy_from_slice(&self.round.epoch.to_le_bytes());
        h[36..40].copy_from_slice(&self.round.position.to_le_bytes());
        h[40..44].copy_from_slice(&self.trainer.to_le_bytes());
        h[44..48].copy_from_slice(&self.trainers.to_le_bytes());
        h[48..72].copy_from_slice(&self.nonce);
        h[72..80].copy_from_slice(&self.body_len.to_le_bytes());
        h
    }

    /// Reads and checks the header at the start of `sealed` (which must be exactly as long as
    /// the header says): magic, version, flags, field ranges, and that epoch and position are
    /// those of the version. Needs no key; a server runs it on every upload.
    pub fn decode(sealed: &[u8]) -> Result<Header, Error> {
        const OP: &str = "weights.header";
        let bad = || Rejection::Malformed.error(OP);
        let h = sealed.get(..HEADER_LEN).ok_or_else(bad)?;
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(a)
        };
        if h[0..4] != MAGIC || u16_at(4) != FORMAT_VERSION {
            return Err(bad());
        }
        let version = u64_at(24);
        if u16_at(6) != u16::from(version == 0) {
            return Err(bad());
        }
        let (trainer, trainers) = (u32_at(40), u32_at(44));
        if trainers == 0 || trainers > MAX_TRAINERS || trainer >= trainers {
            return Err(bad());
        }
        let round = Round::of(version, trainers).ok_or_else(bad)?;
        if round.epoch != u32_at(32) || round.position != u32_at(36) {
            return Err(bad());
        }
        let body_len = u64_at(72);
        if body_len < TAG_LEN as u64
            || body_len > MAX_SEALED
            || (sealed.len() - HEADER_LEN) as u64 != body_len
        {
            return Err(bad());
        }
        let mut model = [0u8; 16];
        model.copy_from_slice(&h[8..24]);
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&h[48..72]);
        Ok(Header {
            model: ModelId(model),
            version,
            round,
            trainer,
            trainers,
            nonce,
            body_len,
        })
    }
}

/// What a trainer expects the next sealed weights it opens to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// The model.
    pub model: ModelId,
    /// The number of trainers.
    pub trainers: u32,
    /// The version: the step about to run (or the final version).
    pub version: u64,
}

impl Expect {
    /// Checks a header against this expectation: the model, the number of trainers, the version
    /// (an older one is a replay or a rollback, a newer one a skipped round) and the trainer
    /// that sealed it (the one whose turn produced that version).
    pub fn check(&self, h: &Header) -> Result<(), Rejection> {
        if h.model != self.model {
            return Err(Rejection::WrongModel);
        }
        if h.trainers != self.trainers {
            return Err(Rejection::WrongTrainers);
        }
        if h.version < self.version {
            return Err(Rejection::Replayed);
        }
        if h.version > self.version {
            return Err(Rejection::Ahead);
        }
        if Some(h.trainer) != Round::of(h.version, h.trainers).map(|r| r.trainer) {
            return Err(Rejection::OutOfOrder);
        }
        Ok(())
    }
}

/// Draws the nonces of one trainer's seals from a host seed (a fresh 192-bit random nonce per
/// seal: collisions are negligible however many seals a key makes, as long as the host never
/// reuses a seed and stream).
pub struct Sealer {
    prg: Prg,
}

impl Sealer {
    /// A sealer whose nonces come from `seed` with [`Domain::WEIGHT_SEALING`] at `stream`.
    pub fn new(seed: &Seed, stream: u64) -> Sealer {
        Sealer {
            prg: seed.prg(Domain::WEIGHT_SEALING, stream),
        }
    }

    /// Seals `model` as `version` of `model_id` for `trainers` trainers, as trainer `trainer`
    /// (whose turn produces that version, if it keeps to the order; [`Expect::check`] and
    /// [`super::snt::check_successor`] refuse it otherwise).
    pub fn seal(
        &mut self,
        key: &WeightKey,
        model_id: ModelId,
        trainers: u32,
        trainer: u32,
        version: u64,
        model: &Model,
    ) -> Result<Vec<u8>, Error> {
        const OP: &str = "weights.seal";
        let round = Round::of(version, trainers)
            .filter(|_| trainers <= MAX_TRAINERS && trainer < trainers)
            .ok_or(Rejection::Malformed.error(OP))?;
        let plain_len = format::encoded_len(model);
        let mut nonce = [0u8; 24];
        self.prg.fill_bytes(&mut nonce);
        let header = Header {
            model: model_id,
            version,
            round,
            trainer,
            trainers,
            nonce,
            body_len: (plain_len + TAG_LEN) as u64,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + plain_len + TAG_LEN);
        out.extend_from_slice(&header.encode());
        format::encode_into(model, &mut out);
        let (ad, body) = out.split_at_mut(HEADER_LEN);
        let tag = key
            .0
            .encrypt_inout_detached(&XNonce::from(nonce), ad, body.into())
            .map_err(|_| Rejection::Malformed.error(OP))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }
}

/// Opens sealed weights: checks the header ([`Header::decode`], then `expect`), then the tag
/// over header and ciphertext, then decodes the model. Any failure is an [`Error`] whose
/// [`Rejection::of`] says which; nothing is returned from weights that fail a check.
pub fn open(key: &WeightKey, expect: &Expect, sealed: &[u8]) -> Result<Model, Error> {
    const OP: &str = "weights.open";
    let header = Header::decode(sealed).map_err(|e| e.in_op(OP))?;
    expect.check(&header).map_err(|r| r.error(OP))?;
    let (ad, rest) = sealed.split_at(HEADER_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut plain = ct.to_vec();
    let tag = Tag::try_from(tag).map_err(|_| Rejection::Malformed.error(OP))?;
    key.0
        .decrypt_inout_detached(
            &XNonce::from(header.nonce),
            ad,
            plain.as_mut_slice().into(),
            &tag,
        )
        .map_err(|_| Rejection::Authentication.error(OP))?;
    // The decrypted buffer is not zeroized: it holds the weights the caller receives anyway
    // (weights are the trainers' shared secret, not key material).
    format::decode(&plain).map_err(|e| e.in_op(OP))
}
