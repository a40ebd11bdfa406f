//! SecureML's linear and logistic regression by mini-batch SGD on shares.
//!
//! Each batch `X_b` (`B x (d+1)`, a column of public ones appended for the bias) costs two
//! matrix products, each with one matrix triple: the scores `X_b w` and the gradient
//! `X_b^T (f(X_b w) - y_b)`; then `w -= lr / B * gradient` is a local public scaling (see
//! [`super::ops::scale`]). For logistic regression `f` is the secure sigmoid: SecureML's
//! piecewise function or the more accurate piecewise-linear one of the non-linear layer.
//! Products are truncated as the session's [`crate::Config::truncation`] says.
//!
//! **Mask reuse** (SecureML section IV-B, [`InputMasking::Reused`], the default): before the first
//! step the parties get a random mask `U` shaped like `[X | 1]` from the offline phase
//! ([`Correlations::data_mask`]) and open `E = [X | 1] - U` once. The product with a batch then
//! uses a matrix triple whose left factor is that batch's rows of `U` (`U_b V` for `X_b w`,
//! `U_b^T V'` for `X_b^T e`, [`Correlations::mask_triple`]), so each step opens only `w - V`
//! (`d + 1` values) and `e - V'` (`B` values) instead of also `X_b - A` in both products: per
//! step and party `(d + 1) + B` ring elements instead of `2 B (d + 1) + (d + 1) + B`, for one
//! opening of `n (d + 1)` elements at the start. The weights are the same: each product is the
//! same ring value before its truncation (bit for bit with exact truncation; with local
//! truncation each truncated value may differ by one unit in the last place, as between any
//! two runs).

use super::ops::{append_ones, scale};
use super::{GlmModel, SgdParams};
use crate::arith::matmul as mm;
use crate::arith::online;
use crate::context::Context;
use crate::correlated::{Correlations, DataMask, MaskSide, MaskTriple};
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::topology::Topology;
use crate::transport::{Transport, tag};
use alloc::vec::Vec;
use zeroize::Zeroize;

/// How the training inputs enter the matrix products of each SGD step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputMasking {
    /// SecureML's mask reuse: `[X | 1] - U` is opened once before the first step, and every
    /// product with a batch opens only its other factor (see the module docs). The default. With
    /// four servers, whose products need no triples, it is [`InputMasking::PerProduct`].
    #[default]
    Reused,
    /// Every product masks its batch anew with a fresh matrix triple: the batch is opened in
    /// both products of every step.
    PerProduct,
}

/// The training inputs masked once for SecureML's mask reuse: this party's share of the mask `U`
/// (`[X | 1]` or `X` in shape) and the opened `E = [X | 1] - U`. Its products open only their
/// other factor.
pub(crate) struct MaskedInputs<R: Ring> {
    mask: DataMask<R>,
    /// `E`, row-major, public.
    opened: Vec<R>,
}

impl<R: Ring> MaskedInputs<R> {
    /// Whether `masking` asks for mask reuse and `ctx` computes products with triples (every
    /// topology but four servers).
    pub(crate) fn applies<T, C>(ctx: &Context<T, C>, masking: InputMasking) -> bool {
        masking == InputMasking::Reused && ctx.topology() != Topology::FourServers
    }

    /// Masks `[x | 1]` (`ones`) or `x`, to be used in batches of `batch` rows: fetches the mask
    /// and opens `E` (one round, `rows x cols` elements each way).
    pub(crate) async fn open<T: Transport, C: Correlations<T>>(
        ctx: &mut Context<T, C>,
        x: &Shares<R>,
        ones: bool,
        batch: usize,
    ) -> Result<Self, Error> {
        let op = "ml.mask_inputs";
        let (n, d) = x.shape();
        let cols = d.checked_add(usize::from(ones)).ok_or(Error::new(
            op,
            ErrorKind::InvalidArgument("too many columns"),
        ))?;
        let total = ctx.config().elements(op, n, cols)?;
        // The precision guard (when on) checks the inputs once, as every product on them would.
        crate::guard::check(ctx, "matmul", x.as_slice(), (R::BITS - 1) / 2).await?;
        let one: R = ctx.fixed().encode(1.0)?;
        let one = if ctx.role()? == Role::P0 {
            one
        } else {
            R::ZERO
        };
        let (links, source) = ctx.split();
        let mask = source.data_mask::<R>(links, n, cols, batch).await?;
        if mask.share().shape() != (n, cols) || mask.batch() != batch {
            return Err(Error::new(op, ErrorKind::Malformed("data mask shape")));
        }
        // This party's share of [x | 1] - U, a piece at a time, without a buffer: once to send,
        // once to add to what arrives.
        let (xs, u) = (x.as_slice(), mask.share().as_slice());
        let mine = |start, out: &mut [R]| masked_rows(xs, u, (d, cols), one, start, out);
        let opened = online::open_computed(ctx, op, tag::MATMUL, total, mine).await?;
        Ok(MaskedInputs { mask, opened })
    }

    /// The fixed-point product `X_b y` of batch `b` with `y` (`cols x o`).
    pub(crate) async fn times<T: Transport, C: Correlations<T>>(
        &self,
        ctx: &mut Context<T, C>,
        b: usize,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.product(ctx, b, MaskSide::Rows, y).await
    }

    /// The fixed-point product `X_b^T y` of batch `b`, transposed, with `y` (`rows_b x o`).
    pub(crate) async fn transposed_times<T: Transport, C: Correlations<T>>(
        &self,
        ctx: &mut Context<T, C>,
        b: usize,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.product(ctx, b, MaskSide::Transposed, y).await
    }

    /// SecureML's matrix product with the opened `E_b` and a triple on the mask's batch: opens
    /// only `y - V` (one round), then truncates.
    async fn product<T: Transport, C: Correlations<T>>(
        &self,
        ctx: &mut Context<T, C>,
        b: usize,
        side: MaskSide,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        let op = "matmul";
        let (m, k) = self.mask.factor_shape(b, side)?;
        if y.rows() != k {
            return Err(Error::dimension(op, k, y.rows()));
        }
        let n = y.cols();
        for (rows, cols) in [(m, k), (k, n), (m, n)] {
            ctx.config().elements(op, rows, cols)?;
        }
        crate::guard::check(ctx, op, y.as_slice(), (R::BITS - 1) / 2).await?;
        let role = ctx.role()?;
        let (links, source) = ctx.split();
        let t = source
            .mask_triple::<R>(links, &self.mask, b, side, n)
            .await?;
        let MaskTriple { b: v, c: mut z } = t;
        if v.shape() != (k, n) || z.shape() != (m, n) {
            return Err(Error::new(op, ErrorKind::Malformed("mask triple shape")));
        }
        let (ys, vs) = (y.as_slice(), v.as_slice());
        let mine = |start, out: &mut [R]| crate::arith::masked_piece(ys, vs, &[], &[], start, out);
        let f = online::open_computed(ctx, op, tag::MATMUL, k * n, mine).await?;
        // Z = C + E V + U F (+ E F for party 0) = C + E G + U F with G = V (+ F): the batch's
        // rows of the opened E and of this party's U enter in place, transposed or not.
        let mut v_plus_f = Vec::new();
        let g = match role {
            Role::P0 => {
                v_plus_f.extend(vs.iter().zip(&f).map(|(&v, &f)| v.add(f)));
                &v_plus_f
            }
            Role::P1 => vs,
        };
        let rows = self.mask.rows_of(b)?;
        let cols = self.mask.share().cols();
        let batch = rows.start * cols..rows.end * cols;
        let (e, u) = (
            &self.opened[batch.clone()],
            &self.mask.share().as_slice()[batch],
        );
        let out = z.as_mut_slice();
        match side {
            MaskSide::Rows => {
                mm::matmul_add_into(e, g, m, k, n, out);
                mm::matmul_add_into(u, &f, m, k, n, out);
            }
            MaskSide::Transposed => {
                transposed_matmul_add_into(e, g, k, m, n, out);
                transposed_matmul_add_into(u, &f, k, m, n, out);
            }
        }
        v_plus_f.zeroize();
        let bits = ctx.fixed().frac_bits();
        online::truncate(ctx, z, bits).await
    }
}

/// Elements `start..start + out.len()` of `[x | 1] - U` in row-major order (`x` `rows x d`, `U`
/// `rows x cols`, `cols` = `d` or `d + 1`, `one` the share of the column of ones); zero past the
/// end.
fn masked_rows<R: Ring>(
    x: &[R],
    u: &[R],
    (d, cols): (usize, usize),
    one: R,
    start: usize,
    out: &mut [R],
) {
    let (mut row, mut col) = (start / cols.max(1), start % cols.max(1));
    for (i, o) in (start..).zip(out) {
        let v = if col < d {
            x.get(row * d + col).copied().unwrap_or(R::ZERO)
        } else {
            one
        };
        *o = v.sub(u.get(i).copied().unwrap_or(R::ZERO));
        col += 1;
        if col == cols {
            col = 0;
            row += 1;
        }
    }
}

/// `out += e^T g` for `e` (`r x c`, row-major) and `g` (`r x n`): `out` is `c x n`. Row by row
/// of `e`, so that both inputs are read in order.
fn transposed_matmul_add_into<R: Ring>(
    e: &[R],
    g: &[R],
    r: usize,
    c: usize,
    n: usize,
    out: &mut [R],
) {
    if r == 0 || c == 0 || n == 0 {
        return;
    }
    for (row, gi) in e.chunks_exact(c).zip(g.chunks_exact(n)).take(r) {
        if n == 1 {
            for (o, &v) in out.iter_mut().zip(row) {
                *o = o.add(v.mul(gi[0]));
            }
        } else {
            for (o, &v) in out.chunks_exact_mut(n).zip(row) {
                for (o, &w) in o.iter_mut().zip(gi) {
                    *o = o.add(v.mul(w));
                }
            }
        }
    }
}

/// Checks the hyperparameters before any communication.
pub(crate) fn check_params(p: &SgdParams, rows: usize) -> Result<(), Error> {
    let bad = |what| Err(Error::new("ml.train", ErrorKind::InvalidArgument(what)));
    if p.batch == 0 {
        return bad("the batch size must be positive");
    }
    if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
        return bad("the learning rate must be positive and finite");
    }
    if rows == 0 {
        return bad("no training rows");
    }
    Ok(())
}

/// Trains a linear or logistic regression on shared features `x` (`n x d`) and targets `y`
/// (`n x 1`) from zero weights, calling `on_epoch(epoch)` after each epoch (1-based). Returns the
/// shared weights, `(d + 1) x 1`, the bias last; [`super::plain::train_glm`] is the same
/// computation in plaintext. Both parties call it with the same arguments but their own shares.
/// The inputs are masked once ([`InputMasking::Reused`]); see [`train_glm_with`].
pub async fn train_glm<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    on_epoch: impl FnMut(usize),
) -> Result<Shares<R>, Error> {
    train_glm_with(ctx, x, y, model, params, InputMasking::default(), on_epoch).await
}

/// [`train_glm`] with the inputs masked as `masking` says (the same weights either way, within
/// the truncation's last unit per product).
pub async fn train_glm_with<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    masking: InputMasking,
    mut on_epoch: impl FnMut(usize),
) -> Result<Shares<R>, Error> {
    train_glm_observed(ctx, x, y, model, params, masking, |_, epoch| {
        on_epoch(epoch)
    })
    .await
}

/// [`train_glm_with`] with a callback that also sees the context after each epoch (for its
/// traffic counters: see [`super::pipeline::train_glm_with_progress`]).
pub(crate) async fn train_glm_observed<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    masking: InputMasking,
    mut after_epoch: impl FnMut(&Context<T, C>, usize),
) -> Result<Shares<R>, Error> {
    let (n, d) = x.shape();
    check_params(params, n)?;
    if y.shape() != (n, 1) {
        return Err(Error::dimension("ml.train_glm", n, y.len()));
    }
    let inputs = if params.epochs > 0 && MaskedInputs::<R>::applies(ctx, masking) {
        Inputs::Masked(MaskedInputs::open(ctx, x, true, params.batch).await?)
    } else {
        Inputs::Plain(append_ones(ctx, x)?)
    };
    let mut w = Shares::zeros(d + 1, 1)?;
    for epoch in 1..=params.epochs {
        let (mut start, mut b) = (0, 0);
        while start < n {
            let end = (start + params.batch).min(n);
            let yb = y.row_range(start, end)?;
            let xb = inputs.batch(b, start, end)?;
            let scores = xb.times(ctx, &w).await?;
            let pred = match model {
                GlmModel::Linear => scores,
                GlmModel::Logistic(s) => s.apply(ctx, &scores).await?,
            };
            let err = pred.sub(&yb)?;
            let grad = xb.transposed_times(ctx, &err).await?;
            let step = scale(ctx, &grad, params.learning_rate / (end - start) as f64).await?;
            w = w.sub(&step)?;
            start = end;
            b += 1;
        }
        after_epoch(ctx, epoch);
    }
    Ok(w)
}

/// The training inputs of a regression: masked once, or `[x | 1]` to mask per product.
enum Inputs<R: Ring> {
    Masked(MaskedInputs<R>),
    Plain(Shares<R>),
}

impl<R: Ring> Inputs<R> {
    /// Batch `b`, rows `start..end`.
    fn batch(&self, b: usize, start: usize, end: usize) -> Result<Batch<'_, R>, Error> {
        Ok(match self {
            Inputs::Masked(m) => Batch::Masked(m, b),
            Inputs::Plain(x1) => Batch::Plain(x1.row_range(start, end)?),
        })
    }
}

/// One batch of [`Inputs`].
enum Batch<'a, R: Ring> {
    Masked(&'a MaskedInputs<R>, usize),
    Plain(Shares<R>),
}

impl<R: Ring> Batch<'_, R> {
    /// `X_b y`.
    async fn times<T: Transport, C: Correlations<T>>(
        &self,
        ctx: &mut Context<T, C>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match self {
            Batch::Masked(m, b) => m.times(ctx, *b, y).await,
            Batch::Plain(xb) => online::matmul(ctx, xb, y).await,
        }
    }

    /// `X_b^T y`.
    async fn transposed_times<T: Transport, C: Correlations<T>>(
        &self,
        ctx: &mut Context<T, C>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match self {
            Batch::Masked(m, b) => m.transposed_times(ctx, *b, y).await,
            Batch::Plain(xb) => online::matmul(ctx, &xb.transpose(), y).await,
        }
    }
}
