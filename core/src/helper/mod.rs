//! The helper backend: SecureNN's three-server protocols (Wagh, Gupta, Chandran), in which a third
//! server P2 holds no shares of the data but deals correlations and takes part online, so that
//! comparisons, ReLU, max, max pooling and its derivative, and division run on arithmetic shares,
//! without garbled circuits or keys of function secret sharing.
//!
//! P2 is the [`crate::Dealer`] of a [`crate::Topology::ThreeServers`] deployment, reached over the
//! session's link to it ([`crate::DealerClient::through_helper`]). P0 and P1 drive every step with
//! a request, as they request correlations, so P2 runs no program of its own: it serves requests in
//! the order they come and checks that both parties asked for the same one. Its triples are
//! seed-compressed (SecureNN's Algorithm 1 with the PRF keys of the dealer's seeds).
//!
//! The steps, each one request:
//! - [`Step::Sign`] (`sign.rs`): shares of `[x >= 0]` for every `x` in the ring, exact. SecureNN
//!   doubles `x`, converts its shares to the odd ring Z_(2^k - 1) (ShareConvert) and reads the
//!   most significant bit as a least significant one (ComputeMSB): two PrivateCompares, and wrong
//!   for `|x| >= 2^(k-2)`. Here P2 deals a mask `r`, P0 and P1 open `c = x + r`, and
//!   `msb(x) = msb(c) XOR msb(r) XOR [r' > c']` on the low `k - 1` bits, one PrivateCompare
//!   (`compare.rs`) whose masked answer P2 folds into `msb(r)` before re-sharing it: exact on the
//!   whole ring, four messages, `(k - 1) + 2 k + 3 k/8` bytes per element in all for Z_2^k.
//! - [`Step::UnitVector`] (`unit_vector.rs`): shares of the one-hot vector of a shared index,
//!   the efficient max-pool derivative of Algorithm 10.
//!
//! ## Security
//! Semi-honest, with one of the three servers corrupted (SecureNN's model). P0 and P1 see only
//! `x + r` for a uniform `r` and fresh shares; P2 sees, per comparison, the masked differences:
//! one zero at a uniform position or none, the rest uniform in Z_p^*, and whether there is a zero
//! is masked by a bit P0 and P1 share; for a unit vector it sees the index plus a uniform offset.
//! P2 knows every correlation it dealt, so it must not collude with P0 or P1.

mod compare;
mod sign;
mod unit_vector;

pub(crate) use sign::{sign, sign_at};
pub(crate) use unit_vector::unit_vectors;

use crate::correlated::dealer::RequestStreams;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::topology::PartyId;
use crate::transport::{Channel, Link, Transport};

/// The helper's party number.
pub(crate) const HELPER: PartyId = PartyId(2);

/// Elements per request: larger inputs take several requests, so neither the parties nor the
/// helper hold more than this many elements' bit shares and differences at once.
pub(crate) const MAX_STEP: usize = 1 << 16;

/// Elements per message block between the helper and a party.
const BLOCK: usize = 4096;

/// Frame tags of the helper's steps (the `0x07xx` range).
pub mod tag {
    /// P0 hands P1 the seed of the step's common randomness.
    pub const COMMON_SEED: u16 = 0x0701;
    /// P0 and P1 open the masked input.
    pub const OPEN: u16 = 0x0702;
    /// A party's masked differences of PrivateCompare, to the helper.
    pub const DIFFERENCES: u16 = 0x0703;
    /// The helper's re-shared result, to P1 (P0's share comes from its seed).
    pub const RESULT: u16 = 0x0704;
    /// A party's share of a blinded index, to the helper.
    pub const BLINDED: u16 = 0x0705;
}

/// One online step of the helper, as a request names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Shares of `[x >= 0]` (`sign.rs`).
    Sign,
    /// One-hot vectors of `len` elements with 1.0 at `frac_bits` fractional bits, from shares of
    /// indices `i * 2^frac_bits` (`unit_vector.rs`).
    UnitVector {
        /// The vectors' length, a power of two.
        len: u32,
        /// Fractional bits of the indices and of the ones.
        frac_bits: u32,
    },
}

impl Step {
    /// The step as (code, parameter) for a request.
    pub(crate) fn encode(self) -> (u64, u64) {
        match self {
            Step::Sign => (1, 0),
            Step::UnitVector { len, frac_bits } => (2, u64::from(len) | u64::from(frac_bits) << 32),
        }
    }

    /// The step of a request; fails on an unknown code or a parameter no party sends.
    pub(crate) fn decode(code: u64, param: u64) -> Result<Self, Error> {
        let bad = |why| Err(Error::new("helper", ErrorKind::Malformed(why)));
        match code {
            1 if param == 0 => Ok(Step::Sign),
            2 => {
                let (len, frac_bits) = (param as u32, (param >> 32) as u32);
                if !len.is_power_of_two() || len < 2 || frac_bits >= 128 {
                    return bad("a unit vector's length must be a power of two of at least 2");
                }
                Ok(Step::UnitVector { len, frac_bits })
            }
            _ => bad("unknown helper step"),
        }
    }
}

/// The helper's side of one step on `n` elements of ring `R`: `streams` are P0's and P1's
/// streams of the request.
pub(crate) async fn serve<R: Ring, T0: Transport, T1: Transport>(
    step: Step,
    n: usize,
    streams: &[RequestStreams; 2],
    p0: &mut Link<T0>,
    p1: &mut Link<T1>,
) -> Result<(), Error> {
    let elements = match step {
        Step::Sign => Some(n),
        Step::UnitVector { len, .. } => n.checked_mul(len as usize),
    };
    if elements.is_none_or(|e| e > MAX_STEP) {
        return Err(Error::new(
            "helper",
            ErrorKind::Malformed("a helper step over its maximum size"),
        ));
    }
    match step {
        Step::Sign => sign::serve::<R, T0, T1>(n, streams, p0, p1).await,
        Step::UnitVector { len, frac_bits } => {
            unit_vector::serve::<R, T0, T1>(n, len as usize, frac_bits, streams, p0, p1).await
        }
    }
}

/// Sends `data` in frames of at most the link's maximum (both ends of a link agree on it).
async fn send_bytes<T: Transport>(
    ch: &mut Channel<'_, T>,
    op: &'static str,
    tag: u16,
    data: &[u8],
) -> Result<(), Error> {
    for part in data.chunks(ch.max_frame()) {
        ch.send_frame(op, tag, part).await?;
    }
    Ok(())
}

/// Receives `buf.len()` bytes sent by [`send_bytes`].
async fn recv_bytes<T: Transport>(
    ch: &mut Channel<'_, T>,
    op: &'static str,
    tag: u16,
    buf: &mut [u8],
) -> Result<(), Error> {
    let max = ch.max_frame();
    for part in buf.chunks_mut(max) {
        ch.recv_frame(op, tag, part).await?;
    }
    Ok(())
}

/// The ranges of the message blocks of `n` elements.
fn blocks(n: usize) -> impl Iterator<Item = core::ops::Range<usize>> {
    (0..n.div_ceil(BLOCK)).map(move |b| b * BLOCK..((b + 1) * BLOCK).min(n))
}
