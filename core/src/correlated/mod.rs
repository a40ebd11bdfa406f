//! The offline phase: correlated randomness that the online protocols consume.
//!
//! [`Correlations`] is the one trait every source implements; the online protocols only ever see
//! this party's share of each correlation. Sources: [`dealer`] (a third party, seed-compressed),
//! OT-based generation without a third party ([`ot`], over the same link as the online phase),
//! and [`ideal`] (an in-process functionality for tests). [`preprocessed::Preprocessed`] runs any source
//! ahead of the online phase; [`source::OfflineSource`] picks the dealer or OT at run time.

pub mod dealer;
pub mod ideal;
pub mod ot;
pub mod preprocessed;
pub mod source;

use crate::error::{Error, ErrorKind};
use crate::fss::{Gate, GateKeys};
use crate::ring::Ring;
use crate::share::Shares;
use crate::topology::Links;
use crate::transport::Stats;
use alloc::vec::Vec;

/// This party's shares of `n` Beaver triples `c = a * b` (elementwise).
pub struct Triples<R: Ring> {
    /// Shares of `a`.
    pub a: Vec<R>,
    /// Shares of `b`.
    pub b: Vec<R>,
    /// Shares of `c = a * b`.
    pub c: Vec<R>,
}

/// This party's shares of `n` square pairs `s = a * a`.
pub struct SquarePairs<R: Ring> {
    /// Shares of `a`.
    pub a: Vec<R>,
    /// Shares of `s = a * a`.
    pub s: Vec<R>,
}

/// This party's share of a matrix triple `C = A B` with `A` m x k and `B` k x n.
pub struct MatrixTriple<R: Ring> {
    /// Share of `A` (m x k).
    pub a: Shares<R>,
    /// Share of `B` (k x n).
    pub b: Shares<R>,
    /// Share of `C = A B` (m x n).
    pub c: Shares<R>,
}

/// Checks that truncation pairs for `shift` bits fit ring `R` (`shift < k - 1`), before any request.
pub(crate) fn check_truncation_shift<R: Ring>(op: &'static str, shift: u32) -> Result<(), Error> {
    if shift >= R::BITS - 1 {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("shift too large for the ring"),
        ));
    }
    Ok(())
}

/// This party's shares of `n` truncation pairs for a shift of `d` bits: a uniform `r`,
/// `r >> d` (logical shift), and the most significant bit of `r` as a ring element 0 or 1.
pub struct TruncationPairs<R: Ring> {
    /// Shares of `r`.
    pub r: Vec<R>,
    /// Shares of `r >> d`.
    pub r_shifted: Vec<R>,
    /// Shares of `msb(r)` in {0, 1}.
    pub r_msb: Vec<R>,
}

/// Random OTs as the sender holds them: two random 128-bit messages per OT.
pub struct RandomOtSender {
    /// `(m0, m1)` for each OT.
    pub messages: Vec<[u128; 2]>,
}

/// Random OTs as the receiver holds them: a random choice bit and the chosen message.
pub struct RandomOtReceiver {
    /// The choice bits `c`.
    pub choices: Vec<bool>,
    /// `m_c` for each OT.
    pub messages: Vec<u128>,
}

/// A source of correlated randomness for one party, used over the links of type `T` of its session.
///
/// Both parties must request the same correlations in the same order (the online protocols do);
/// a source may check this and fail with a protocol error when they diverge. A source that talks
/// to a session peer (OT with the other server) borrows that peer's link from `links` and uses
/// its [`crate::transport::Sub::Offline`] sub-channel; a source that talks to a party only it
/// knows (a dealer) owns that connection and reports its traffic by [`Correlations::own_stats`].
#[allow(async_fn_in_trait)]
pub trait Correlations<T> {
    /// `n` elementwise Beaver triples.
    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<Triples<R>, Error>;
    /// `n` square pairs.
    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error>;
    /// One matrix triple for an (m x k) by (k x n) product.
    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error>;
    /// `n` truncation pairs for a shift of `shift` bits.
    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error>;
    /// `n` random OTs in which this party is the sender (its peer calls [`Correlations::random_ot_receiver`]).
    async fn random_ot_sender(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error>;
    /// `n` random OTs in which this party is the receiver.
    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error>;
    /// `n` keys of function secret sharing for `gate` (see [`crate::fss`]). Only a source with
    /// a dealer makes them ([`Correlations::deals_gate_keys`]); others refuse with
    /// [`ErrorKind::Unsupported`].
    async fn gate_keys<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        let _ = (links, gate, n);
        Err(Error::new(
            "gate_keys",
            ErrorKind::Unsupported("function secret sharing needs a dealer"),
        ))
    }
    /// Whether [`Correlations::gate_keys`] works: what `Backend::Auto` picks the FSS backend by.
    /// Required, so that a wrapper cannot silently lose the capability of what it wraps.
    fn deals_gate_keys(&self) -> bool;
    /// Starts one online step of the helper's protocols (SecureNN's P2, [`crate::helper`]) on
    /// `n` elements of ring `R`: sends the request to the helper and returns this party's
    /// streams for it. Only a source whose dealer is the session's helper
    /// ([`dealer::DealerClient::through_helper`]) supports it; others refuse with
    /// [`ErrorKind::Unsupported`].
    async fn helper_step<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        step: crate::helper::Step,
        n: usize,
    ) -> Result<dealer::RequestStreams, Error> {
        let _ = (links, step, n);
        Err(Error::new(
            "helper",
            ErrorKind::Unsupported("the helper's protocols need a helper (three servers)"),
        ))
    }
    /// Whether [`Correlations::helper_step`] works: what `Backend::Auto` picks the helper
    /// backend by. Required, as [`Correlations::deals_gate_keys`].
    fn helps_online(&self) -> bool;
    /// Traffic over connections the source owns itself (a dealer's); zero if it owns none.
    fn own_stats(&self) -> Stats {
        Stats::default()
    }
    /// Transport calls attempted over connections the source owns (see
    /// [`crate::transport::Link::activity`]); zero if it owns none.
    fn own_activity(&self) -> u64 {
        0
    }
}

impl<T, C: Correlations<T> + ?Sized> Correlations<T> for &mut C {
    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        (**self).triples(links, n).await
    }
    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        (**self).square_pairs(links, n).await
    }
    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        (**self).matrix_triple(links, m, k, n).await
    }
    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        (**self).truncation_pairs(links, n, shift).await
    }
    async fn random_ot_sender(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        (**self).random_ot_sender(links, n).await
    }
    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        (**self).random_ot_receiver(links, n).await
    }
    async fn gate_keys<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        (**self).gate_keys(links, gate, n).await
    }
    fn deals_gate_keys(&self) -> bool {
        (**self).deals_gate_keys()
    }
    async fn helper_step<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        step: crate::helper::Step,
        n: usize,
    ) -> Result<dealer::RequestStreams, Error> {
        (**self).helper_step::<R>(links, step, n).await
    }
    fn helps_online(&self) -> bool {
        (**self).helps_online()
    }
    fn own_stats(&self) -> Stats {
        (**self).own_stats()
    }
    fn own_activity(&self) -> u64 {
        (**self).own_activity()
    }
}
