//! Sealing: a model's encoding encrypted and authenticated with AES-256-GCM under the trainers'
//! key, behind a public header that names the model, the round and the trainer.
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
//! | 48..60 | the 96-bit nonce |
//! | 60..72 | reserved, 0 |
//! | 72..80 | length of ciphertext + tag, u64 |
//!
//! The whole header is the AEAD's associated data, so a server that edits any field, serves
//! another model's or an older round's weights, or reorders them is caught when the next trainer
//! opens them (see [`super::Rejection`]). The agreed order is the trainers' numbering: step `s` is
//! position `s mod L` of central epoch `s / L`, taken by trainer `s mod L`; trainer 0 seals the
//! initial weights.
//!
//! ## The cipher
//! AES-256-GCM (RustCrypto `aes-gcm`), with AES-NI or VAES and carry-less multiplication detected
//! at run time on x86-64 (ARMv8's AES and PMULL likewise), constant-time software otherwise
//! (WASM, microcontrollers). Format version 1 used XChaCha20-Poly1305; on this project's x86-64
//! machines AES-256-GCM seals and opens about three times as fast (the `weights` bench in
//! `examples/benches` measures both), which is what makes an upload of a 784-500-10 model cost
//! about a millisecond. Its 96-bit nonces are drawn at random for every seal ([`Sealer`]): keep
//! well below 2^32 seals under one key (NIST SP 800-38D's limit for random nonces; a run of `E`
//! central epochs with `L` trainers makes `E * L + 1`).
//!
//! Opening decrypts straight into the memory of the parameters (the payload puts them first,
//! see [`format`]), after the tag has been checked over the ciphertext: nothing is released, and
//! nothing of the caller's is overwritten, from weights that fail a check.

use super::Rejection;
use super::format;
use crate::error::{Error, ErrorKind};
use crate::ml::float::Model;
use crate::prg::{Domain, Prg, Seed};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;

/// Magic bytes of sealed weights.
pub const MAGIC: [u8; 4] = *b"FXSW";
/// The sealed format version this code writes and reads.
pub const FORMAT_VERSION: u16 = 2;
/// Length of the public header.
pub const HEADER_LEN: usize = 80;
/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Length of a key.
pub const KEY_LEN: usize = 32;
/// Length of a nonce.
pub const NONCE_LEN: usize = 12;
/// The most trainers a header may name.
pub const MAX_TRAINERS: u32 = 1 << 16;
/// The longest sealed weights (header included) anything here accepts: 4 GiB.
pub const MAX_SEALED: u64 = 1 << 32;

/// The trainers' shared key. Supplied by the host (never derived from anything the server sees),
/// zeroized on drop, and neither `Clone`, `Copy` nor `Debug`.
/// (The AES key schedule and GHASH key inside are zeroized by `aes-gcm`'s `zeroize` feature.)
pub struct WeightKey(Aes256Gcm);

impl WeightKey {
    /// The key with these 32 bytes of host entropy. The caller should zeroize its copy.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> WeightKey {
        WeightKey(Aes256Gcm::new(&bytes.into()))
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
    pub nonce: [u8; NONCE_LEN],
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
        h[48..60].copy_from_slice(&self.nonce);
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
        if h[60..72].iter().any(|&b| b != 0) {
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
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&h[48..60]);
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

/// The length of `model` sealed: header, encoded model, tag.
pub fn sealed_len(model: &Model) -> usize {
    HEADER_LEN + format::encoded_len(model) + TAG_LEN
}

/// Draws the nonces of one trainer's seals from a host seed (a fresh random 96-bit nonce per
/// seal: see the module docs for the limit per key; a host must never reuse a seed and stream
/// for two sealers under one key).
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
        let mut out = vec![0u8; sealed_len(model)];
        self.seal_into(key, model_id, trainers, trainer, version, model, &mut out)?;
        Ok(out)
    }

    /// [`Sealer::seal`] into the first [`sealed_len`]`(model)` bytes of `out`, without
    /// allocating; returns that length. A shorter `out` is an [`ErrorKind::UnexpectedLength`]
    /// error (nothing written, no nonce drawn), as are a round that does not exist and a
    /// model whose optimizer state does not match its parameters.
    #[allow(clippy::too_many_arguments)]
    pub fn seal_into(
        &mut self,
        key: &WeightKey,
        model_id: ModelId,
        trainers: u32,
        trainer: u32,
        version: u64,
        model: &Model,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        const OP: &str = "weights.seal";
        let round = Round::of(version, trainers)
            .filter(|_| trainers <= MAX_TRAINERS && trainer < trainers)
            .ok_or(Error::new(
                OP,
                ErrorKind::InvalidArgument("no such round: trainer or version out of range"),
            ))?;
        let len = sealed_len(model);
        if out.len() < len {
            return Err(Error::new(
                OP,
                ErrorKind::UnexpectedLength {
                    expected: len,
                    got: out.len(),
                },
            ));
        }
        let (header_out, rest) = out[..len].split_at_mut(HEADER_LEN);
        let (body, tag_out) = rest.split_at_mut(len - HEADER_LEN - TAG_LEN);
        format::encode_to(model, body).map_err(|e| e.in_op(OP))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.prg.fill_bytes(&mut nonce);
        let header = Header {
            model: model_id,
            version,
            round,
            trainer,
            trainers,
            nonce,
            body_len: (body.len() + TAG_LEN) as u64,
        };
        header_out.copy_from_slice(&header.encode());
        let tag = key
            .0
            .encrypt_inout_detached(&Nonce::from(nonce), header_out, body.into())
            .map_err(|_| Rejection::TooLarge.error(OP))?;
        tag_out.copy_from_slice(&tag);
        Ok(len)
    }
}

/// Opens sealed weights: checks the header ([`Header::decode`], then `expect`), then the tag
/// over header and ciphertext, then decrypts into fresh memory for the parameters and decodes
/// the model. Any failure is an [`Error`] whose [`Rejection::of`] says which; nothing is
/// returned from weights that fail a check.
pub fn open(key: &WeightKey, expect: &Expect, sealed: &[u8]) -> Result<Model, Error> {
    open_reusing(key, expect, sealed, Vec::new()).map_err(|(e, _)| e)
}

/// [`open`], decrypting into `buffer`'s memory (grown if it is too small): a host that opens
/// weights of one size again and again passes the parameters of the model it replaces and
/// allocates nothing. On failure the buffer comes back with the error (its contents are
/// unspecified; the caller's model is untouched).
pub fn open_reusing(
    key: &WeightKey,
    expect: &Expect,
    sealed: &[u8],
    mut buffer: Vec<f64>,
) -> Result<Model, (Error, Vec<f64>)> {
    const OP: &str = "weights.open";
    let header = match Header::decode(sealed) {
        Ok(h) => h,
        Err(e) => return Err((e.in_op(OP), buffer)),
    };
    if let Err(r) = expect.check(&header) {
        return Err((r.error(OP), buffer));
    }
    let (ad, rest) = sealed.split_at(HEADER_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    if !ct.len().is_multiple_of(8) {
        return Err((Rejection::Malformed.error(OP), buffer));
    }
    let Ok(tag) = Tag::try_from(tag) else {
        return Err((Rejection::Malformed.error(OP), buffer));
    };
    buffer.clear();
    buffer.resize(ct.len() / 8, 0.0);
    let out = format::bytes_mut(&mut buffer);
    let Ok(inout) = InOutBuf::new(ct, out) else {
        return Err((Rejection::Malformed.error(OP), buffer));
    };
    // The tag is checked over the ciphertext before anything is decrypted into `buffer`.
    if key
        .0
        .decrypt_inout_detached(&Nonce::from(header.nonce), ad, inout, &tag)
        .is_err()
    {
        return Err((Rejection::Authentication.error(OP), buffer));
    }
    // The decrypted weights are not zeroized: they are what the caller receives (weights are
    // the trainers' shared secret, not key material).
    format::decode_words(buffer).map_err(|e| (e.in_op(OP), Vec::new()))
}
