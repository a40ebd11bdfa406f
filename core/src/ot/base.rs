//! Base OT: Chou-Orlandi "simplest OT" over Ristretto255, batched (one sender point for a batch).
//!
//! Protocol (random OT, `n` at once; `G` the Ristretto base point, `H` SHA-256):
//! 1. The sender samples a scalar `a`, sends `A = a G`.
//! 2. The receiver, for each `i` with choice `c_i`, samples `b_i` and sends
//!    `B_i = b_i G + c_i A` (the two candidates are selected in constant time); its key is
//!    `k_i = H(tag, i, A, B_i, b_i A)`.
//! 3. The sender's keys are `k_i^0 = H(tag, i, A, B_i, a B_i)` and
//!    `k_i^1 = H(tag, i, A, B_i, a B_i - a A)`. The receiver knows only `k_i^{c_i}`; the sender
//!    cannot tell `c_i` from `B_i`, which is uniform either way.
//!
//! Pitfalls handled:
//! - **The key derivation hashes the transcript** (`A` and `B_i`) and the index `i`, not only the
//!   shared point. Hashing only the point lets a receiver that chooses `B_i` as a function of `A`
//!   relate the keys of different OTs or sessions (the flaw in the original simplest-OT proof,
//!   Genc, Iovino and Rial, ePrint 2017/370; Hauck and Loss, ePrint 2017/1011 give the fix of
//!   binding the key to the transcript). The index separates OTs of one batch, which share `A`.
//! - **Prime-order group**: Ristretto255 has no cofactor, so there are no small-subgroup points
//!   (the original protocol on Curve25519 needed cofactor clearing).
//! - **Point validation**: a received encoding must decompress to a valid Ristretto point (the
//!   decoder rejects every non-canonical encoding) and must not be the identity. An identity `A`
//!   would make the receiver's keys independent of the sender's secret; an identity `B_i` makes
//!   `k_i^0` predictable. Either fails with [`ErrorKind::InvalidPoint`].
//! - **Secrets**: the scalars are zeroized on drop; keys are [`Seed`]s (zeroized, not `Copy`).
//! - **Randomness** only from the caller's [`Prg`] (scalars from 64 uniform bytes reduced mod the
//!   group order, negligible bias).
//!
//! Security: semi-honest (and the sender's privacy holds against a malicious receiver in the
//! random-oracle model with the transcript-hashing fix). The keys are random OT outputs; use them to
//! seed PRGs (as the extension does) or to mask chosen messages.

use crate::error::{Error, ErrorKind};
use crate::ot::tag;
use crate::prg::{Prg, Seed};
use crate::transport::{Channel, Transport};
use alloc::vec::Vec;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::Rng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroize;

/// Bytes of one compressed Ristretto point on the wire.
pub const POINT_LEN: usize = 32;

/// Domain-separation prefix of the key derivation.
const KDF_TAG: &[u8] = b"fixshare/ot/chou-orlandi/v1";

/// Points per frame of the receiver's message (32 KiB frames).
const POINTS_PER_FRAME: usize = 1024;

fn random_scalar(prg: &mut Prg) -> Scalar {
    let mut wide = [0u8; 64];
    prg.fill_bytes(&mut wide);
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    s
}

/// Decodes and validates a point: canonical Ristretto encoding, not the identity.
pub fn decode_point(op: &'static str, bytes: &[u8]) -> Result<RistrettoPoint, Error> {
    let invalid = |what| Error::new(op, ErrorKind::InvalidPoint(what));
    let c = CompressedRistretto::from_slice(bytes).map_err(|_| invalid("wrong length"))?;
    let p = c
        .decompress()
        .ok_or_else(|| invalid("not a canonical Ristretto255 encoding"))?;
    if p == RistrettoPoint::identity() {
        return Err(invalid("the identity point"));
    }
    Ok(p)
}

fn kdf(index: u64, a: &[u8; 32], b: &[u8], shared: &RistrettoPoint) -> Seed {
    let mut h = Sha256::new();
    h.update(KDF_TAG);
    h.update(index.to_le_bytes());
    h.update(a);
    h.update(b);
    h.update(shared.compress().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&h.finalize());
    Seed::from_bytes(out)
}

/// The sender's state: the secret scalar `a` and its point `A = a G`.
pub struct BaseOtSender {
    a: Scalar,
    /// `a A`, subtracted from `a B` for the second key.
    aa: RistrettoPoint,
    a_bytes: [u8; 32],
}

impl Drop for BaseOtSender {
    fn drop(&mut self) {
        self.a.zeroize();
        self.aa.zeroize();
    }
}

impl BaseOtSender {
    /// Samples the sender's scalar from `prg`.
    pub fn new(prg: &mut Prg) -> Self {
        let a = random_scalar(prg);
        let big_a = RistrettoPoint::mul_base(&a);
        let a_bytes = big_a.compress().to_bytes();
        let aa = a * big_a;
        BaseOtSender { a, aa, a_bytes }
    }

    /// The first message: `A`, compressed.
    pub fn message(&self) -> [u8; POINT_LEN] {
        self.a_bytes
    }

    /// The two keys of OT number `index` from the receiver's encoded point `B_index`.
    /// Fails on an invalid or identity point.
    pub fn keys(&self, index: u64, b_bytes: &[u8]) -> Result<[Seed; 2], Error> {
        let b = decode_point("base_ot.send", b_bytes)?;
        let ab = self.a * b;
        let ab_minus_aa = ab - self.aa;
        Ok([
            kdf(index, &self.a_bytes, b_bytes, &ab),
            kdf(index, &self.a_bytes, b_bytes, &ab_minus_aa),
        ])
    }
}

/// The receiver's state after it has seen `A`.
pub struct BaseOtReceiver {
    big_a: RistrettoPoint,
    a_bytes: [u8; 32],
}

impl BaseOtReceiver {
    /// Validates the sender's first message `A`.
    pub fn new(a_bytes: &[u8]) -> Result<Self, Error> {
        let big_a = decode_point("base_ot.receive", a_bytes)?;
        let mut a = [0u8; 32];
        a.copy_from_slice(a_bytes);
        Ok(BaseOtReceiver { big_a, a_bytes: a })
    }

    /// OT number `index` with secret choice `choice`: writes `B_index` into `b_out` (32 bytes)
    /// and returns the key `k^choice`. The point is selected in constant time.
    pub fn choose(
        &self,
        prg: &mut Prg,
        index: u64,
        choice: Choice,
        b_out: &mut [u8; POINT_LEN],
    ) -> Seed {
        let mut b = random_scalar(prg);
        let bg = RistrettoPoint::mul_base(&b);
        let big_b = RistrettoPoint::conditional_select(&bg, &(bg + self.big_a), choice);
        *b_out = big_b.compress().to_bytes();
        let shared = b * self.big_a;
        b.zeroize();
        kdf(index, &self.a_bytes, b_out, &shared)
    }
}

/// Runs `n` base OTs as the sender over `chan`: returns the key pairs `(k^0, k^1)`.
pub async fn send<T: Transport>(
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    n: usize,
) -> Result<Vec<[Seed; 2]>, Error> {
    let sender = BaseOtSender::new(prg);
    chan.send_frame("base_ot.send", tag::BASE_A, &sender.message())
        .await?;
    chan.flush("base_ot.send").await?;
    receive_points(chan, &sender, n).await
}

/// The sender's second half: receives the `n` points and derives the key pairs.
pub(crate) async fn receive_points<T: Transport>(
    chan: &mut Channel<'_, T>,
    sender: &BaseOtSender,
    n: usize,
) -> Result<Vec<[Seed; 2]>, Error> {
    let mut keys = Vec::with_capacity(n);
    let mut buf = alloc::vec![0u8; POINTS_PER_FRAME.min(n.max(1)) * POINT_LEN];
    let mut done = 0;
    while done < n {
        let len = POINTS_PER_FRAME.min(n - done);
        let bytes = &mut buf[..len * POINT_LEN];
        chan.recv_frame("base_ot.send", tag::BASE_B, bytes).await?;
        for (j, p) in bytes.chunks_exact(POINT_LEN).enumerate() {
            keys.push(sender.keys((done + j) as u64, p)?);
        }
        done += len;
    }
    Ok(keys)
}

/// Runs base OTs as the receiver with the given secret choice bits: returns `k^{c_i}`.
pub async fn receive<T: Transport>(
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    choices: &[Choice],
) -> Result<Vec<Seed>, Error> {
    let mut a = [0u8; POINT_LEN];
    chan.recv_frame("base_ot.receive", tag::BASE_A, &mut a)
        .await?;
    let receiver = BaseOtReceiver::new(&a)?;
    send_points(chan, prg, &receiver, choices).await
}

/// The receiver's second half: computes and sends the points, returns the keys.
pub(crate) async fn send_points<T: Transport>(
    chan: &mut Channel<'_, T>,
    prg: &mut Prg,
    receiver: &BaseOtReceiver,
    choices: &[Choice],
) -> Result<Vec<Seed>, Error> {
    let mut keys = Vec::with_capacity(choices.len());
    let mut buf = alloc::vec![0u8; POINTS_PER_FRAME.min(choices.len().max(1)) * POINT_LEN];
    for (f, chunk) in choices.chunks(POINTS_PER_FRAME).enumerate() {
        let bytes = &mut buf[..chunk.len() * POINT_LEN];
        for (j, (&c, out)) in chunk
            .iter()
            .zip(bytes.chunks_exact_mut(POINT_LEN))
            .enumerate()
        {
            let mut b = [0u8; POINT_LEN];
            keys.push(receiver.choose(prg, (f * POINTS_PER_FRAME + j) as u64, c, &mut b));
            out.copy_from_slice(&b);
        }
        chan.send_frame("base_ot.receive", tag::BASE_B, bytes)
            .await?;
    }
    chan.flush("base_ot.receive").await?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Domain, Seed};

    #[test]
    fn receiver_gets_the_chosen_key() {
        let seed = Seed::from_bytes([3; 32]);
        let mut ps = seed.prg(Domain::OT, 0);
        let mut pr = seed.prg(Domain::OT, 1);
        let s = BaseOtSender::new(&mut ps);
        let r = BaseOtReceiver::new(&s.message()).unwrap();
        for i in 0..16u64 {
            let c = (i % 3 == 0) as u8;
            let mut b = [0u8; 32];
            let k = r.choose(&mut pr, i, Choice::from(c), &mut b);
            let ks = s.keys(i, &b).unwrap();
            assert_eq!(k.as_bytes(), ks[c as usize].as_bytes());
            assert_ne!(k.as_bytes(), ks[1 - c as usize].as_bytes());
        }
    }

    #[test]
    fn rejects_identity_and_non_canonical_points() {
        let id = RistrettoPoint::identity().compress().to_bytes();
        assert!(matches!(
            BaseOtReceiver::new(&id).err().map(|e| e.kind().clone()),
            Some(ErrorKind::InvalidPoint(_))
        ));
        // All-ones bytes exceed the field modulus (non-canonical); 31 bytes is a wrong length.
        let bad = [0xffu8; 32];
        assert!(BaseOtReceiver::new(&bad).is_err());
        assert!(BaseOtReceiver::new(&[1u8; 31]).is_err());
    }
}
