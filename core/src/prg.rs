//! Seeds and the ChaCha pseudorandom generator, with domain-separated sub-streams.
//!
//! The core has no entropy source of its own: the host supplies a 32-byte [`Seed`]. Every stream
//! the protocols consume is derived from a seed by [`Seed::derive`] with a [`Domain`] and an index,
//! so no two uses ever share keystream. Derivation runs ChaCha20 keyed with the parent seed on a
//! stream chosen by the domain, at a position chosen by the index; expansion ([`Prg`]) runs ChaCha12
//! keyed with the derived seed (ChaCha12 is the generator of `rand`'s `StdRng`).
//!
//! Two parties that hold the same seed (handed out by a data owner or a dealer) derive identical
//! streams: this is how seed compression replaces a whole share vector by 32 bytes.

use chacha20::{ChaCha12Rng, ChaCha20Rng};
use rand_core::{Rng, SeedableRng, TryRng};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 32-byte secret seed. Zeroized on drop; neither `Copy`, `Clone` nor `Debug`.
pub struct Seed([u8; 32]);

impl Zeroize for Seed {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Seed {}

/// A domain separates the uses of one seed. Each protocol has its own constant; a new protocol must
/// add a new one here, so that two protocols never read the same keystream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain(u64);

impl Domain {
    /// The masks a party or data owner adds when it secret-shares its own values.
    pub const INPUT_SHARING: Domain = Domain(1);
    /// The dealer's seeds for party 0 and party 1.
    pub const DEALER_PARTY_SEED: Domain = Domain(2);
    /// The correlations of one dealer request (index = request number).
    pub const DEALER_REQUEST: Domain = Domain(3);
    /// The seed a data owner hands to server 0 for one batch (index = batch number).
    pub const DATA_OWNER_BATCH: Domain = Domain(4);
    /// The garbler's labels and offset.
    pub const GARBLING: Domain = Domain(5);
    /// Oblivious transfer (base OT and extension).
    pub const OT: Domain = Domain(6);
    /// Fresh masks used inside protocols (re-sharing, exact truncation).
    pub const PROTOCOL_MASK: Domain = Domain(7);
    /// A [`crate::Session`]'s seeds, derived from the one its host supplies (index 0: the party,
    /// 1: the OT offline source).
    pub const SESSION: Domain = Domain(8);
    /// The nonces of sealed weights ([`crate::weights`]; index = the sealer's stream).
    pub const WEIGHT_SEALING: Domain = Domain(9);
    /// A trainer's plaintext training randomness: initialization, shuffles, dropout masks
    /// ([`crate::ml::float`]; index = the local epoch's number).
    pub const LOCAL_TRAINING: Domain = Domain(10);
    /// The randomness P0 and P1 share in one step of the helper's protocols, hidden from the
    /// helper ([`crate::helper`]; P0 draws the seed and hands it to P1).
    pub const HELPER_COMMON: Domain = Domain(11);
    /// The four-server streams ([`crate::assist`]): the seeds a primary hands its peers (index =
    /// its context's stream), an assistant's own randomness (index 2) and OT seed (index 3).
    pub const ASSIST: Domain = Domain(12);
    /// The nonces of a data owner's sealed messages to the servers ([`crate::sealed`]; index 0).
    pub const OWNER_SEALING: Domain = Domain(13);
    /// Domains reserved for the host and for tests: `Domain::user(n)`.
    pub const fn user(n: u32) -> Domain {
        Domain(0x8000_0000_0000_0000 | n as u64)
    }
}

impl Seed {
    /// Wraps 32 bytes of host entropy (from the OS, `crypto.getRandomValues`, a hardware TRNG).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// The seed's bytes, to send to a peer that must share this seed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The child seed for (`domain`, `index`): 32 bytes of ChaCha20 keyed with this seed, on the
    /// domain's stream, at the index's position. Distinct (domain, index) give independent seeds.
    pub fn derive(&self, domain: Domain, index: u64) -> Seed {
        let mut kdf = ChaCha20Rng::from_seed(self.0);
        kdf.set_stream(domain.0);
        // 8 words of 4 bytes = 32 bytes per index.
        kdf.set_word_pos(u128::from(index) * 8);
        let mut out = [0u8; 32];
        kdf.fill_bytes(&mut out);
        Seed(out)
    }

    /// A generator for (`domain`, `index`): [`Seed::derive`] then ChaCha12 expansion.
    pub fn prg(&self, domain: Domain, index: u64) -> Prg {
        Prg::new(self.derive(domain, index))
    }
}

/// A deterministic cryptographic generator (ChaCha12) expanding one seed.
pub struct Prg(ChaCha12Rng);

impl Prg {
    /// Expands `seed` (consumed, so the seed is not reused elsewhere).
    pub fn new(seed: Seed) -> Self {
        Prg(ChaCha12Rng::from_seed(seed.0))
    }
}

impl TryRng for Prg {
    type Error = core::convert::Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Prg {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_separates_domains_and_indices() {
        let s = Seed::from_bytes([7; 32]);
        let a = s.derive(Domain::DEALER_REQUEST, 0);
        let b = s.derive(Domain::DEALER_REQUEST, 1);
        let c = s.derive(Domain::INPUT_SHARING, 0);
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), c.as_bytes());
        assert_eq!(a.as_bytes(), s.derive(Domain::DEALER_REQUEST, 0).as_bytes());
        let (mut p, mut q) = (s.prg(Domain::user(1), 9), s.prg(Domain::user(1), 9));
        assert_eq!(p.next_u64(), q.next_u64());
    }

    /// RFC 8439 section 2.3.2's block function test vector pins the ChaCha20 the KDF is built on:
    /// key 00..1f, and the keystream with an all-zero nonce matches the chacha20 crate's own KAT.
    #[test]
    fn chacha20_keystream_known_answer() {
        // RFC 8439 A.1, test vector #1: all-zero key and nonce, block counter 0.
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        let mut out = [0u8; 16];
        rng.fill_bytes(&mut out);
        assert_eq!(
            out,
            [
                0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86,
                0xbd, 0x28
            ]
        );
    }
}
