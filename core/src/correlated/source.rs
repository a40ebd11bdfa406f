//! [`OfflineSource`]: the dealer or OT extension, chosen at run time, behind one type.

use super::dealer::DealerClient;
use super::ot::OtCorrelations;
use super::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs,
};
use crate::error::Error;
use crate::fss::{Gate, GateKeys};
use crate::ring::Ring;
use crate::topology::Links;
use crate::transport::{Stats, Transport};
use alloc::boxed::Box;

/// Correlated randomness from a dealer, or generated with the peer by oblivious transfer over
/// the session's link: for hosts (a C ABI, WASM, a command line) that pick the source per session.
pub enum OfflineSource<T> {
    /// A third party, seed-compressed ([`DealerClient`]), over a connection of its own.
    Dealer(DealerClient<T>),
    /// OT extension with the peer, no third party ([`OtCorrelations`]).
    Ot(Box<OtCorrelations>),
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

impl<T: Transport> Correlations<T> for OfflineSource<T> {
    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        forward!(self, s => s.triples(links, n))
    }
    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        forward!(self, s => s.square_pairs(links, n))
    }
    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        forward!(self, s => s.matrix_triple(links, m, k, n))
    }
    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        forward!(self, s => s.truncation_pairs(links, n, shift))
    }
    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        forward!(self, s => s.data_mask(links, rows, cols, batch))
    }
    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        forward!(self, s => s.mask_triple(links, mask, batch, side, n))
    }
    async fn random_ot_sender(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        forward!(self, s => s.random_ot_sender(links, n))
    }
    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        forward!(self, s => s.random_ot_receiver(links, n))
    }
    async fn gate_keys<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        forward!(self, s => s.gate_keys(links, gate, n))
    }
    fn deals_gate_keys(&self) -> bool {
        matches!(self, OfflineSource::Dealer(_))
    }
    async fn helper_step<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        step: crate::helper::Step,
        n: usize,
    ) -> Result<super::dealer::RequestStreams, Error> {
        forward!(self, s => s.helper_step::<R>(links, step, n))
    }
    fn helps_online(&self) -> bool {
        match self {
            OfflineSource::Dealer(d) => Correlations::<T>::helps_online(d),
            OfflineSource::Ot(_) => false,
        }
    }
    fn own_stats(&self) -> Stats {
        match self {
            OfflineSource::Dealer(d) => Correlations::<T>::own_stats(d),
            OfflineSource::Ot(_) => Stats::default(),
        }
    }
    fn own_activity(&self) -> u64 {
        match self {
            OfflineSource::Dealer(d) => Correlations::<T>::own_activity(d),
            OfflineSource::Ot(_) => 0,
        }
    }
}
