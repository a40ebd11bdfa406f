//! Phong and Phuong's privacy-preserving training by sharing weights: trainers never share data or
//! gradients; each takes the current weights, trains on its own rows ([`crate::ml::float`]) and
//! passes the weights on, sealed under a key the trainers share.
//!
//! - **SNT** (server-aided, [`snt`]): an honest-but-curious server stores the sealed weights and
//!   hands them to the trainers in the agreed order, with versioned compare-and-swap uploads. The
//!   server never holds the key: it sees ciphertext and the public header only. The durable
//!   server itself is the `std` crate `fixshare-snt`; the core has the protocol steps on both
//!   sides and the server's decision rules ([`snt::check_successor`]).
//! - **FNT** (fully connected, [`fnt`]): the trainers pass the sealed weights around a ring over
//!   [`crate::Link`]s, in the agreed order.
//!
//! Either way the result equals SGD on the union of the data in the same order (the paper's
//! Theorems 3 and 5): [`crate::ml::float::centralized`] computes that reference, and the weights
//! are bit-identical because each step is the same `f64` computation on the same bytes.
//!
//! Sealing ([`seal`]) is AES-256-GCM (RustCrypto) over a documented encoding of the model
//! ([`format`]); the public header is the associated data, binding the model id, the round (central
//! epoch and position), the trainer and the format version. Opening checks all of them against
//! what the trainer expects ([`Expect`]), so a server cannot swap models, replay or roll back a
//! round, skip one, or reorder trainers without the next trainer refusing the weights
//! ([`Rejection`]). The paper uses AES-CBC, which gives confidentiality only.
//!
//! Hosts that drive a trainer step by step (the C ABI, WASM) hold a [`LocalModel`]; Rust
//! programs can also hand a [`Trainer`] to the SNT and FNT drivers.
//!
//! ## Security
//! The server learns the header (model id, round, sizes) and the timing, nothing about the
//! weights or data. Trainers are trusted with the key and each other's weights; the paper's
//! Theorems 2 and 4 argue that the weights a trainer hands on hide its rows only as well as a
//! weighted sum of its gradients does. Keys and seeds come from the host: a host must never reuse
//! a [`Seed`] and stream for two [`Sealer`]s under one key.
//!
//! [`Seed`]: crate::Seed

pub mod fnt;
pub mod format;
mod local;
pub mod seal;
pub mod snt;
mod trainer;

pub use local::LocalModel;
pub use seal::{Expect, Header, ModelId, Round, Sealer, WeightKey, open, sealed_len};
pub use trainer::{Observer, Plan, Trainer, TrainerStats};

use crate::error::{Error, ErrorKind};

/// Frame tags of the weight-sharing protocols (range `0x0axx` of the registry in
/// [`crate::transport::tag`]).
pub mod tag {
    /// SNT: a trainer's request to the server (fetch, upload, status).
    pub const REQUEST: u16 = 0x0a01;
    /// SNT: the server's reply.
    pub const REPLY: u16 = 0x0a02;
    /// Sealed weights, in frames of at most the link's maximum.
    pub const SEALED: u16 = 0x0a03;
    /// FNT: the length of the sealed weights that follow.
    pub const PASS: u16 = 0x0a04;
}

/// Why sealed weights were refused: by a trainer opening them, or by the server on upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The header, a length or the payload is malformed.
    Malformed = 1,
    /// They belong to another model.
    WrongModel = 2,
    /// They were sealed for another number of trainers.
    WrongTrainers = 3,
    /// An older round than expected: a replay or a rollback (or an upload that is stale).
    Replayed = 4,
    /// A later round than expected: a round was skipped.
    Ahead = 5,
    /// Sealed by a trainer whose turn it is not.
    OutOfOrder = 6,
    /// The tag does not verify: the wrong key, or a modified header or ciphertext.
    Authentication = 7,
    /// Longer than the server accepts.
    TooLarge = 8,
}

impl Rejection {
    const ALL: [Rejection; 8] = [
        Rejection::Malformed,
        Rejection::WrongModel,
        Rejection::WrongTrainers,
        Rejection::Replayed,
        Rejection::Ahead,
        Rejection::OutOfOrder,
        Rejection::Authentication,
        Rejection::TooLarge,
    ];

    /// What it means, in words.
    pub const fn message(self) -> &'static str {
        match self {
            Rejection::Malformed => "sealed weights are malformed (bad header, length or payload)",
            Rejection::WrongModel => "sealed weights of another model",
            Rejection::WrongTrainers => "sealed weights for another number of trainers",
            Rejection::Replayed => "sealed weights of an older round: replayed or rolled back",
            Rejection::Ahead => {
                "sealed weights of a later round than expected: a round was skipped"
            }
            Rejection::OutOfOrder => "sealed weights from a trainer out of the agreed order",
            Rejection::Authentication => {
                "sealed weights fail authentication: wrong key, or header or ciphertext modified"
            }
            Rejection::TooLarge => "sealed weights longer than the server accepts",
        }
    }

    /// This rejection as an error of operation `op` ([`ErrorKind::Malformed`] with the message).
    pub fn error(self, op: &'static str) -> Error {
        Error::new(op, ErrorKind::Malformed(self.message()))
    }

    /// The rejection an error reports, if it is one.
    pub fn of(e: &Error) -> Option<Rejection> {
        match e.kind() {
            ErrorKind::Malformed(m) => Rejection::ALL.into_iter().find(|r| r.message() == *m),
            _ => None,
        }
    }

    /// The wire code (1..=8).
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The rejection with wire code `code`.
    pub fn from_code(code: u32) -> Option<Rejection> {
        Rejection::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// Sends `sealed` on `ch` as frames tagged [`tag::SEALED`] of at most the link's maximum.
async fn send_sealed<T: crate::Transport>(
    ch: &mut crate::Channel<'_, T>,
    op: &'static str,
    sealed: &[u8],
) -> Result<(), Error> {
    let max = ch.max_frame();
    for chunk in sealed.chunks(max) {
        ch.send_frame(op, tag::SEALED, chunk).await?;
    }
    Ok(())
}

/// Receives `len` bytes sent by [`send_sealed`]; the caller checked `len` against its limit.
async fn recv_sealed<T: crate::Transport>(
    ch: &mut crate::Channel<'_, T>,
    op: &'static str,
    len: usize,
) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut buf = alloc::vec![0u8; len];
    let max = ch.max_frame();
    for chunk in buf.chunks_mut(max) {
        ch.recv_frame(op, tag::SEALED, chunk).await?;
    }
    Ok(buf)
}
