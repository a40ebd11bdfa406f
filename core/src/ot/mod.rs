//! Oblivious transfer: base OT over Ristretto255 and IKNP OT extension.
//!
//! - [`base`]: Chou-Orlandi "simplest OT" over the prime-order Ristretto255 group, batched, with
//!   the known pitfalls handled (see its docs). 128 of them seed the extension.
//! - [`iknp`]: the IKNP extension (kappa = 128) turning 128 base OTs into any number of random OTs
//!   and correlated OTs, streamed in batches so memory stays bounded whatever the count.
//! - [`transpose`]: the 128 x 128 bit-matrix transpose the extension is built on.
//!
//! Every module keeps the protocol logic (pure steps that compute messages from state and
//! randomness) apart from the async drivers that move those messages over a
//! [`Channel`](crate::transport::Channel). All randomness comes from the core's seeded PRG
//! ([`crate::prg::Domain::OT`]); there is no OS entropy source.
//!
//! Security: semi-honest. The extension's hash is a tweakable correlation-robust hash
//! built from fixed-key AES ([`crate::hash`]).

pub mod base;
pub mod iknp;
pub mod transpose;

pub use base::{BaseOtReceiver, BaseOtSender};
pub use iknp::{IknpReceiver, IknpSender};

/// Frame tags of the OT protocols (the 0x05xx range).
pub mod tag {
    /// Base OT: the sender's point `A`.
    pub const BASE_A: u16 = 0x0501;
    /// Base OT: the receiver's points `B_i`.
    pub const BASE_B: u16 = 0x0502;
    /// OT extension: the receiver's matrix `u` (column-major blocks).
    pub const EXT_U: u16 = 0x0503;
    /// OT extension: the sender's corrections of a chosen-correlation OT.
    pub const EXT_TAU: u16 = 0x0504;
    /// OT-based triples: the extension matrices of both directions.
    pub const TRIPLE_U: u16 = 0x0510;
    /// OT-based triples: the Gilboa corrections of both directions.
    pub const TRIPLE_TAU: u16 = 0x0511;
    /// OT-based square pairs: the extension matrix.
    pub const SQUARE_U: u16 = 0x0512;
    /// OT-based square pairs: the Gilboa corrections.
    pub const SQUARE_TAU: u16 = 0x0513;
    /// OT-based matrix triples: the extension matrices of both directions.
    pub const MATRIX_U: u16 = 0x0514;
    /// OT-based matrix triples: the vector corrections of both directions.
    pub const MATRIX_TAU: u16 = 0x0515;
    /// OT-based truncation pairs: the extension matrix.
    pub const TRUNC_U: u16 = 0x0516;
    /// OT-based truncation pairs: the bit-product corrections.
    pub const TRUNC_TAU: u16 = 0x0517;
    /// Random OTs handed to other protocols: the extension matrix.
    pub const RANDOM_U: u16 = 0x0518;
    /// OT-based correlations: the description of a request, exchanged and compared first.
    pub const REQUEST: u16 = 0x0519;
}
