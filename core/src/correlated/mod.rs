//! The offline phase: correlated randomness that the online protocols consume.
//!
//! [`Correlations`] is the one trait every source implements; the online protocols only ever see
//! this party's share of each correlation. Sources: [`dealer`] (a third party, seed-compressed),
//! OT-based generation without a third party ([`ot`], over the same link as the online phase),
//! and [`ideal`] (an in-process functionality for tests). [`preprocessed::Preprocessed`] runs any source
//! ahead of the online phase; [`source::OfflineSource`] picks the dealer or OT at run time.
//!
//! Besides the correlations of single operations, a source masks a data matrix for SecureML's
//! mask reuse ([`DataMask`], [`Correlations::data_mask`], [`Correlations::mask_triple`]): the
//! training data is opened once as `X - U`, and every product with a batch of it uses a matrix
//! triple whose left factor is that batch's rows of the same `U`.

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
use core::ops::Range;

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

/// This party's share of a matrix triple `C = A V` on a batch of a [`DataMask`]: `A` is the
/// batch's rows of the mask, `U_B` or `U_B^T` ([`DataMask::factor`]), which the party already
/// holds, so only the fresh factor `V` and the product come with the triple.
pub struct MaskTriple<R: Ring> {
    /// Share of the fresh factor `V` (k x n).
    pub b: Shares<R>,
    /// Share of `C = A V` (m x n).
    pub c: Shares<R>,
}

/// Which product with a batch of masked data a [`Correlations::mask_triple`] serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskSide {
    /// `U_B V`: the batch's rows of the mask (`rows x cols`) times a fresh `cols x n` factor, for
    /// the forward product `X_B W`.
    Rows,
    /// `U_B^T V`: the batch's rows transposed (`cols x rows`) times a fresh `rows x n` factor,
    /// for the gradient `X_B^T D`.
    Transposed,
}

impl MaskSide {
    /// The side as a request word: `batch * 2 + side`.
    pub(crate) fn encode(self, batch: usize) -> Option<u64> {
        let side = match self {
            MaskSide::Rows => 0,
            MaskSide::Transposed => 1,
        };
        u64::try_from(batch).ok()?.checked_mul(2).map(|b| b | side)
    }

    /// The batch and side of a request word of [`MaskSide::encode`].
    pub(crate) fn decode(word: u64) -> (u64, MaskSide) {
        let side = if word & 1 == 0 {
            MaskSide::Rows
        } else {
            MaskSide::Transposed
        };
        (word >> 1, side)
    }
}

/// This party's share of a random mask `U` for a `rows x cols` data matrix `X` used in batches
/// of `batch` consecutive rows (the last batch may be shorter): SecureML's mask reuse (its
/// section IV-B). `X - U` is opened once; each product with a batch `X_B` then uses a matrix
/// triple whose left factor is the same batch of `U` ([`Correlations::mask_triple`]), so that
/// only the other factor is opened per product. Sources that compress their correlations into
/// seeds (the dealer) send nothing for the mask itself.
#[derive(Clone, Debug)]
pub struct DataMask<R: Ring> {
    u: Shares<R>,
    batch: usize,
    id: u64,
}

impl<R: Ring> DataMask<R> {
    /// The mask whose share is `u`, in batches of `batch` rows, known to its source as `id` (for
    /// a source's implementation; the online phase gets masks from [`Correlations::data_mask`]).
    /// Fails if `batch` is zero.
    pub fn new(u: Shares<R>, batch: usize, id: u64) -> Result<Self, Error> {
        if batch == 0 {
            return Err(Error::new(
                "data_mask",
                ErrorKind::InvalidArgument("the batch size must be positive"),
            ));
        }
        Ok(DataMask { u, batch, id })
    }

    /// This party's share of `U`.
    pub fn share(&self) -> &Shares<R> {
        &self.u
    }

    /// Rows per batch.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The source's identifier of this mask.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The number of batches: `ceil(rows / batch)`.
    pub fn batches(&self) -> usize {
        self.u.rows().div_ceil(self.batch)
    }

    /// The rows of batch `b`; fails if there is no such batch.
    pub fn rows_of(&self, b: usize) -> Result<Range<usize>, Error> {
        batch_rows(self.u.rows(), self.batch, b).ok_or(Error::new(
            "mask_triple",
            ErrorKind::InvalidArgument("no such batch of the data mask"),
        ))
    }

    /// This party's share of the left factor of a mask triple for batch `b`: `U_B`, or its
    /// transpose.
    pub fn factor(&self, b: usize, side: MaskSide) -> Result<Shares<R>, Error> {
        let rows = self.rows_of(b)?;
        let u = self.u.row_range(rows.start, rows.end)?;
        Ok(match side {
            MaskSide::Rows => u,
            MaskSide::Transposed => u.transpose(),
        })
    }

    /// The shape `(m, k)` of the left factor for batch `b`.
    pub(crate) fn factor_shape(&self, b: usize, side: MaskSide) -> Result<(usize, usize), Error> {
        let r = self.rows_of(b)?.len();
        Ok(match side {
            MaskSide::Rows => (r, self.u.cols()),
            MaskSide::Transposed => (self.u.cols(), r),
        })
    }
}

/// The rows of batch `b` of a `rows`-row matrix in batches of `batch` rows (`batch > 0`).
pub(crate) fn batch_rows(rows: usize, batch: usize, b: usize) -> Option<Range<usize>> {
    let start = b.checked_mul(batch).filter(|&s| s < rows)?;
    Some(start..start.saturating_add(batch).min(rows))
}

/// Checks a data mask's shape before any request: a positive batch, and `rows x cols` within
/// [`crate::limits::DEFAULT_MAX_ELEMENTS`].
pub(crate) fn check_mask(
    op: &'static str,
    rows: usize,
    cols: usize,
    batch: usize,
) -> Result<(), Error> {
    if batch == 0 {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("the batch size must be positive"),
        ));
    }
    crate::limits::elements(op, rows, cols, crate::limits::DEFAULT_MAX_ELEMENTS)?;
    Ok(())
}

/// Checks a mask triple request against its mask before any request, and returns the shapes
/// `(m, k)` of the left factor (every buffer of the triple within the default maximum).
pub(crate) fn check_mask_triple<R: Ring>(
    op: &'static str,
    mask: &DataMask<R>,
    batch: usize,
    side: MaskSide,
    n: usize,
) -> Result<(usize, usize), Error> {
    let (m, k) = mask.factor_shape(batch, side).map_err(|e| e.in_op(op))?;
    for (rows, cols) in [(m, k), (k, n), (m, n)] {
        crate::limits::elements(op, rows, cols, crate::limits::DEFAULT_MAX_ELEMENTS)?;
    }
    Ok((m, k))
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
    /// This party's share of a random mask for a `rows x cols` data matrix used in batches of
    /// `batch` rows ([`DataMask`]).
    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error>;
    /// One matrix triple `C = A V` whose left factor `A` is batch `batch` of `mask` (`U_B`, or
    /// `U_B^T` for [`MaskSide::Transposed`]) and whose right factor `V` is fresh, with `n`
    /// columns: this party's shares of `V` and of `C` (it holds its share of `A` in the mask).
    /// Both parties must pass their shares of the same mask.
    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error>;
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
    async fn data_mask<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        (**self).data_mask(links, rows, cols, batch).await
    }
    async fn mask_triple<R: Ring>(
        &mut self,
        links: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        (**self).mask_triple(links, mask, batch, side, n).await
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
