//! Running the offline phase ahead of time: [`Preprocessed`] fetches correlations from a source
//! before the inputs are known, and serves them to the online phase in the same order.
//!
//! ```text
//! let mut source = Preprocessed::new(dealer_client);
//! source.prefetch_triples::<u64>(1 << 20).await?;   // offline
//! let mut party = Party::new(role, peer, source, seed, config);
//! party.mul(&x, &y).await?;                          // online: uses the prefetched triples
//! ```
//!
//! The online requests must match the prefetched ones in kind, ring and size, one for one; a
//! mismatch is an error ([`ErrorKind::InvalidArgument`]), never a silent reuse. Once the queue is
//! empty, requests go to the underlying source as they come.

use super::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs,
};
use crate::error::{Error, ErrorKind};
use crate::fss::{Gate, GateKeys};
use crate::ring::Ring;
use crate::topology::Links;
use crate::transport::Stats;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use core::any::Any;

/// A correlation source with a queue of correlations fetched in advance.
pub struct Preprocessed<C> {
    source: C,
    queue: VecDeque<Box<dyn Any>>,
}

const MISMATCH: ErrorKind = ErrorKind::InvalidArgument(
    "the online request does not match the next preprocessed correlation",
);

impl<C> Preprocessed<C> {
    /// Wraps `source` with an empty queue.
    pub fn new(source: C) -> Self {
        Preprocessed {
            source,
            queue: VecDeque::new(),
        }
    }

    /// The underlying source.
    pub fn source(&self) -> &C {
        &self.source
    }

    /// Correlations fetched and not yet used.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Fetches `n` Beaver triples now.
    pub async fn prefetch_triples<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.triples::<R>(links, n).await?;
        self.queue.push_back(Box::new(t));
        Ok(())
    }

    /// Fetches `n` square pairs now.
    pub async fn prefetch_square_pairs<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.square_pairs::<R>(links, n).await?;
        self.queue.push_back(Box::new(t));
        Ok(())
    }

    /// Fetches a matrix triple for an (m x k) by (k x n) product now.
    pub async fn prefetch_matrix_triple<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.matrix_triple::<R>(links, m, k, n).await?;
        self.queue.push_back(Box::new(t));
        Ok(())
    }

    /// Fetches a data mask for a `rows x cols` matrix in batches of `batch` rows now, and
    /// returns a copy of it to prefetch its triples with ([`Preprocessed::prefetch_mask_triple`]).
    pub async fn prefetch_data_mask<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error>
    where
        C: Correlations<T>,
    {
        let m = self.source.data_mask::<R>(links, rows, cols, batch).await?;
        self.queue.push_back(Box::new(m.clone()));
        Ok(m)
    }

    /// Fetches a triple on batch `batch` of `mask` now (see [`Correlations::mask_triple`]).
    pub async fn prefetch_mask_triple<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self
            .source
            .mask_triple::<R>(links, mask, batch, side, n)
            .await?;
        self.queue
            .push_back(Box::new(((mask.id(), batch, side, n), t)));
        Ok(())
    }

    /// Fetches `n` truncation pairs for `shift` bits now.
    pub async fn prefetch_truncation_pairs<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.truncation_pairs::<R>(links, n, shift).await?;
        self.queue.push_back(Box::new((shift, t)));
        Ok(())
    }

    /// Fetches `n` function-secret-sharing keys for `gate` now.
    pub async fn prefetch_gate_keys<R: Ring, T>(
        &mut self,
        links: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let k = self.source.gate_keys::<R>(links, gate, n).await?;
        self.queue.push_back(Box::new(k));
        Ok(())
    }

    /// Takes the next queued correlation if the queue is not empty: `Some(Ok)` when it has type
    /// `V` and passes `fits`, `Some(Err)` on a mismatch, `None` when the queue is empty.
    fn next<V: 'static>(
        &mut self,
        op: &'static str,
        fits: impl Fn(&V) -> bool,
    ) -> Option<Result<V, Error>> {
        let item = self.queue.pop_front()?;
        Some(match item.downcast::<V>() {
            Ok(v) if fits(&v) => Ok(*v),
            _ => {
                self.queue.clear();
                Err(Error::new(op, MISMATCH))
            }
        })
    }
}

impl<T, C: Correlations<T>> Correlations<T> for Preprocessed<C> {
    fn own_stats(&self) -> Stats {
        self.source.own_stats()
    }

    fn own_activity(&self) -> u64 {
        self.source.own_activity()
    }

    fn deals_gate_keys(&self) -> bool {
        self.source.deals_gate_keys()
    }

    fn helps_online(&self) -> bool {
        self.source.helps_online()
    }

    /// Helper steps are online: always forwarded, never queued.
    async fn helper_step<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        step: crate::helper::Step,
        n: usize,
    ) -> Result<super::dealer::RequestStreams, Error> {
        self.source.helper_step::<R>(links, step, n).await
    }

    async fn gate_keys<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        let fits = |k: &GateKeys<R>| k.gate() == gate && k.len() == n;
        match self.next::<GateKeys<R>>("preprocessed.gate_keys", fits) {
            Some(r) => r,
            None => self.source.gate_keys(links, gate, n).await,
        }
    }

    async fn triples<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<Triples<R>, Error> {
        match self.next::<Triples<R>>("preprocessed.triples", |t| t.a.len() == n) {
            Some(r) => r,
            None => self.source.triples(links, n).await,
        }
    }

    async fn square_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        match self.next::<SquarePairs<R>>("preprocessed.square_pairs", |t| t.a.len() == n) {
            Some(r) => r,
            None => self.source.square_pairs(links, n).await,
        }
    }

    async fn matrix_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        let fits = |t: &MatrixTriple<R>| t.a.shape() == (m, k) && t.b.shape() == (k, n);
        match self.next::<MatrixTriple<R>>("preprocessed.matrix_triple", fits) {
            Some(r) => r,
            None => self.source.matrix_triple(links, m, k, n).await,
        }
    }

    async fn truncation_pairs<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        let fits = |(s, t): &(u32, TruncationPairs<R>)| *s == shift && t.r.len() == n;
        match self.next::<(u32, TruncationPairs<R>)>("preprocessed.truncation_pairs", fits) {
            Some(r) => r.map(|(_, t)| t),
            None => self.source.truncation_pairs(links, n, shift).await,
        }
    }

    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        let fits = |m: &DataMask<R>| m.share().shape() == (rows, cols) && m.batch() == batch;
        match self.next::<DataMask<R>>("preprocessed.data_mask", fits) {
            Some(r) => r,
            None => self.source.data_mask(links, rows, cols, batch).await,
        }
    }

    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        type Keyed<R> = ((u64, usize, MaskSide, usize), MaskTriple<R>);
        let key = (mask.id(), batch, side, n);
        match self.next::<Keyed<R>>("preprocessed.mask_triple", |(k, _)| *k == key) {
            Some(r) => r.map(|(_, t)| t),
            None => self.source.mask_triple(links, mask, batch, side, n).await,
        }
    }

    async fn random_ot_sender(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        match self
            .next::<RandomOtSender>("preprocessed.random_ot_sender", |t| t.messages.len() == n)
        {
            Some(r) => r,
            None => self.source.random_ot_sender(links, n).await,
        }
    }

    async fn random_ot_receiver(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        match self
            .next::<RandomOtReceiver>("preprocessed.random_ot_receiver", |t| t.messages.len() == n)
        {
            Some(r) => r,
            None => self.source.random_ot_receiver(links, n).await,
        }
    }
}

impl<C> Preprocessed<C> {
    /// Fetches `n` random OTs in which this party sends, now.
    pub async fn prefetch_random_ot_sender<T>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.random_ot_sender(links, n).await?;
        self.queue.push_back(Box::new(t));
        Ok(())
    }

    /// Fetches `n` random OTs in which this party receives, now.
    pub async fn prefetch_random_ot_receiver<T>(
        &mut self,
        links: &mut Links<T>,
        n: usize,
    ) -> Result<(), Error>
    where
        C: Correlations<T>,
    {
        let t = self.source.random_ot_receiver(links, n).await?;
        self.queue.push_back(Box::new(t));
        Ok(())
    }
}
