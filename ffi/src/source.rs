//! The offline source of a party: the dealer or OT between the two parties, behind one type.

use crate::transport::CTransport;
use alloc::boxed::Box;
use fixshare::correlated::{
    MatrixTriple, RandomOtReceiver, RandomOtSender, SquarePairs, Triples, TruncationPairs,
};
use fixshare::{Correlations, DealerClient, Error, OtCorrelations, Ring, Stats};

/// Correlated randomness from a dealer (`FXS_OFFLINE_DEALER`) or generated with the peer by
/// oblivious transfer over a second connection (`FXS_OFFLINE_OT`).
pub(crate) enum Source {
    Dealer(DealerClient<CTransport>),
    Ot(Box<OtCorrelations<CTransport>>),
}

impl Source {
    /// Traffic with the dealer, or with the peer over the OT connection.
    pub(crate) fn stats(&self) -> Stats {
        match self {
            Source::Dealer(d) => d.stats(),
            Source::Ot(o) => o.stats(),
        }
    }
}

/// Forwards a request to whichever source this is.
macro_rules! forward {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Source::Dealer($s) => $call.await,
            Source::Ot($s) => $call.await,
        }
    };
}

impl Correlations for Source {
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
