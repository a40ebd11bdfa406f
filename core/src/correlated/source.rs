//! [`OfflineSource`]: the dealer or OT extension, chosen at run time, behind one type.

use super::dealer::DealerClient;
use super::ot::OtCorrelations;
use super::{
    Correlations, MatrixTriple, RandomOtReceiver, RandomOtSender, SquarePairs, Triples,
    TruncationPairs,
};
use crate::error::Error;
use crate::ring::Ring;
use crate::transport::{Stats, Transport};
use alloc::boxed::Box;

/// Correlated randomness from a dealer, or generated with the peer by oblivious transfer over a
/// connection of its own: for hosts (a C ABI, WASM, a command line) that pick the source per
/// session.
pub enum OfflineSource<T> {
    /// A third party, seed-compressed ([`DealerClient`]).
    Dealer(DealerClient<T>),
    /// OT extension with the peer, no third party ([`OtCorrelations`]).
    Ot(Box<OtCorrelations<T>>),
}

impl<T: Transport> OfflineSource<T> {
    /// Traffic with the dealer, or with the peer over the OT connection.
    pub fn stats(&self) -> Stats {
        match self {
            OfflineSource::Dealer(d) => d.stats(),
            OfflineSource::Ot(o) => o.stats(),
        }
    }
}

/// Forwards a request to whichever source this is.
macro_rules! forward {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            OfflineSource::Dealer($s) => $call.await,
            OfflineSource::Ot($s) => $call.await,
        }
    };
}

impl<T: Transport> Correlations for OfflineSource<T> {
    async fn triples<R: Ring>(&mut self, n: usize) -> Result<Triples<R>, Error> {
        forward!(self, s => s.triples(n))
    }
    async fn square_pairs<R: Ring>(&mut self, n: usize) -> Result<SquarePairs<R>, Error> {
        forward!(self, s => s.square_pairs(n))
    }
    async fn matrix_triple<R: Ring>(
        &mut self,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        forward!(self, s => s.matrix_triple(m, k, n))
    }
    async fn truncation_pairs<R: Ring>(
        &mut self,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        forward!(self, s => s.truncation_pairs(n, shift))
    }
    async fn random_ot_sender(&mut self, n: usize) -> Result<RandomOtSender, Error> {
        forward!(self, s => s.random_ot_sender(n))
    }
    async fn random_ot_receiver(&mut self, n: usize) -> Result<RandomOtReceiver, Error> {
        forward!(self, s => s.random_ot_receiver(n))
    }
}
