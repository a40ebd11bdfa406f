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
//! ([`Correlations::data_mask`]), and `E = [X | 1] - U` is opened once: each batch's rows with
//! the first product on that batch, in the same round, so that they are still in the cache for
//! both products of the step. The product with a batch uses a matrix triple whose left factor is
//! that batch's rows of `U` (`U_b V` for `X_b w`, `U_b^T V'` for `X_b^T e`,
//! [`Correlations::mask_triple`]), so each step opens only `w - V` (`d + 1` values) and `e - V'`
//! (`B` values) instead of also `X_b - A` in both products: per step and party `(d + 1) + B`
//! ring elements instead of `2 B (d + 1) + (d + 1) + B`, plus `B (d + 1)` for the batch's rows of
//! `E` in the first epoch. The weights are the same: each product is the
//! same ring value before its truncation (bit for bit with exact truncation; with local
//! truncation each truncated value may differ by one unit in the last place, as between any
//! two runs).

use super::ops::{append_ones, scale};
use super::{GlmModel, SgdParams};
use crate::arith::online;
use crate::arith::{self, matmul as mm};
use crate::context::Context;
use crate::correlated::{Correlations, DataMask, MaskSide, MaskTriple};
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::topology::Topology;
use crate::transport::{Sub, Transport, tag};
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;
use zeroize::Zeroize;

/// How the training inputs enter the matrix products of each SGD step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputMasking {
    /// SecureML's mask reuse: `[X | 1] - U` is opened once, in the first epoch, and every
    /// product with a batch opens only its other factor (see the module docs). The default. With
    /// four servers, whose products need no triples, it is [`InputMasking::PerProduct`].
    #[default]
    Reused,
    /// Every product masks its batch anew with a fresh matrix triple: the batch is opened in
    /// both products of every step.
    PerProduct,
}

/// The training inputs masked once for SecureML's mask reuse: this party's share of the mask `U`
/// (`[X | 1]` or `X` in shape) and `E = [X | 1] - U` as far as it is opened. A batch's rows of `E`
/// are opened with the first product that uses them, in that product's round; every product
/// opens its other factor.
pub(crate) struct MaskedInputs<R: Ring> {
    mask: DataMask<R>,
    /// Whether the mask covers a column of ones after the inputs.
    ones: bool,
    /// This party's share of that column's value.
    one: R,
    /// Opened rows of `E`, public, row-major: every batch's rows in place when later epochs
    /// reuse them (`keep`); otherwise only the last batch opened, at the start.
    opened: Vec<R>,
    /// Which batches' rows `opened` holds.
    holds: Vec<bool>,
    /// Whether the opened rows are kept for later epochs.
    keep: bool,
}

impl<R: Ring> MaskedInputs<R> {
    /// Whether `masking` asks for mask reuse and `ctx` computes products with triples (every
    /// topology but four servers).
    pub(crate) fn applies<T, C>(ctx: &Context<T, C>, masking: InputMasking) -> bool {
        masking == InputMasking::Reused && ctx.topology() != Topology::FourServers
    }

    /// Gets the mask for `[x | 1]` (`ones`) or `x`, to be used in batches of `batch` rows for
    /// `epochs` epochs. Sends nothing online: each batch's rows of `E` go with its first product,
    /// and are kept only if a later epoch uses them.
    pub(crate) async fn prepare<T: Transport, C: Correlations<T>>(
        ctx: &mut Context<T, C>,
        x: &Shares<R>,
        ones: bool,
        (batch, epochs): (usize, usize),
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
        let one = match (ones, ctx.role()?) {
            (true, Role::P0) => ctx.fixed().encode(1.0)?,
            _ => R::ZERO,
        };
        let (links, source) = ctx.split();
        let mask = source.data_mask::<R>(links, n, cols, batch).await?;
        if mask.share().shape() != (n, cols) || mask.batch() != batch {
            return Err(Error::new(op, ErrorKind::Malformed("data mask shape")));
        }
        let keep = epochs > 1;
        let held = if keep { total } else { batch.min(n) * cols };
        Ok(MaskedInputs {
            holds: vec![false; mask.batches()],
            mask,
            ones,
            one,
            opened: vec![R::ZERO; held],
            keep,
        })
    }

    /// The fixed-point product `X_b y` of batch `b` with `y` (`cols x o`); `xb` is this party's
    /// share of the batch's rows of the inputs, with or without the column of ones.
    pub(crate) async fn times<T: Transport, C: Correlations<T>>(
        &mut self,
        ctx: &mut Context<T, C>,
        b: usize,
        xb: &[R],
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.product(ctx, b, xb, MaskSide::Rows, y).await
    }

    /// The fixed-point product `X_b^T y` of batch `b`, transposed, with `y` (`rows_b x o`); `xb`
    /// as for [`MaskedInputs::times`].
    pub(crate) async fn transposed_times<T: Transport, C: Correlations<T>>(
        &mut self,
        ctx: &mut Context<T, C>,
        b: usize,
        xb: &[R],
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        self.product(ctx, b, xb, MaskSide::Transposed, y).await
    }

    /// SecureML's matrix product with the opened `E_b` and a triple on the mask's batch: opens
    /// `y - V`, preceded by the batch's rows of `E` if this is the batch's first product (one
    /// round), then truncates.
    async fn product<T: Transport, C: Correlations<T>>(
        &mut self,
        ctx: &mut Context<T, C>,
        b: usize,
        xb: &[R],
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
        let rows = self.mask.rows_of(b)?;
        let cols = self.mask.share().cols();
        let batch = rows.start * cols..rows.end * cols;
        let slot = if self.keep {
            batch.clone()
        } else {
            0..batch.len()
        };
        let width = xb.len() / rows.len();
        let without_ones = self.ones && width + 1 == cols;
        if xb.len() != rows.len() * width || (width != cols && !without_ones) {
            return Err(Error::dimension(op, batch.len(), xb.len()));
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
        // One opening: [x_b | 1] - U_b if the batch is not open yet, then y - V.
        let e_len = if self.holds[b] { 0 } else { batch.len() };
        let (one, u) = (self.one, &self.mask.share().as_slice()[batch.clone()]);
        let e = &mut self.opened[slot.clone()];
        let (ys, vs) = (y.as_slice(), v.as_slice());
        let mine = |start: usize, out: &mut [R]| {
            let (split, f_start) = arith::split_piece(start, out.len(), e_len);
            let (rows_part, rest) = out.split_at_mut(split);
            masked_rows(xb, u, (width, cols), one, start, rows_part);
            arith::masked_piece(ys, vs, &[], &[], f_start, rest);
        };
        let mut f = vec![R::ZERO; k * n];
        let total = e_len + k * n;
        if e_len > 0 && !self.keep {
            // The buffer is about to hold this batch's rows instead.
            self.holds.fill(false);
        }
        ctx.peer(Sub::Online)?
            .exchange_shares(op, tag::MATMUL, total, mine, |start, theirs, mine| {
                let (split, f_start) = arith::split_piece(start, theirs.len(), e_len);
                let parts = [
                    (e.get_mut(start..start + split), 0..split),
                    (
                        f.get_mut(f_start..f_start + theirs.len() - split),
                        split..theirs.len(),
                    ),
                ];
                for (out, range) in parts {
                    let out = out.unwrap_or_default();
                    for ((o, &t), &m) in
                        out.iter_mut().zip(&theirs[range.clone()]).zip(&mine[range])
                    {
                        *o = t.add(m);
                    }
                }
            })
            .await?;
        self.holds[b] = true;
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
        let e = &self.opened[slot];
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
/// end. A row's run at a time, so that the subtraction vectorizes.
fn masked_rows<R: Ring>(
    x: &[R],
    u: &[R],
    (d, cols): (usize, usize),
    one: R,
    start: usize,
    out: &mut [R],
) {
    let inside = u.len().saturating_sub(start).min(out.len());
    let (mut body, past) = out.split_at_mut(inside);
    past.fill(R::ZERO);
    let mut i = start;
    while !body.is_empty() {
        let (row, col) = (i / cols, i % cols);
        let run = (cols - col).min(body.len());
        let (now, rest) = core::mem::take(&mut body).split_at_mut(run);
        let from_x = run.min(d.saturating_sub(col));
        let xs = x.get(row * d + col..).unwrap_or_default();
        let (now_x, now_one) = now.split_at_mut(from_x);
        let (us_x, us_one) = u[i..i + run].split_at(from_x);
        for ((o, &v), &m) in now_x.iter_mut().zip(xs).zip(us_x) {
            *o = v.sub(m);
        }
        for (o, &m) in now_one.iter_mut().zip(us_one) {
            *o = one.sub(m);
        }
        body = rest;
        i += run;
    }
}

/// `out += e^T g` for `e` (`r x c`, row-major) and `g` (`r x n`): `out` is `c x n`. By the
/// matrix kernel: with one column as the row vector `g^T` times `e`; otherwise on a transposed
/// copy of `e`, zeroized after use (`e` may be a share).
fn transposed_matmul_add_into<R: Ring>(
    e: &[R],
    g: &[R],
    r: usize,
    c: usize,
    n: usize,
    out: &mut [R],
) {
    if n == 1 {
        mm::matmul_add_into(g, e, 1, r, c, out);
        return;
    }
    let mut et = mm::transpose(e, r, c);
    mm::matmul_add_into(&et, g, c, r, n, out);
    et.zeroize();
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
    let mut inputs = if params.epochs > 0 && MaskedInputs::<R>::applies(ctx, masking) {
        let use_for = (params.batch, params.epochs);
        Inputs::Masked(MaskedInputs::prepare(ctx, x, true, use_for).await?)
    } else {
        Inputs::Plain(append_ones(ctx, x)?)
    };
    let mut w = Shares::zeros(d + 1, 1)?;
    for epoch in 1..=params.epochs {
        let (mut start, mut b) = (0, 0);
        while start < n {
            let end = (start + params.batch).min(n);
            let yb = y.row_range(start, end)?;
            let mut xb = inputs.batch(x, b, start..end)?;
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
    /// Batch `b`, rows `rows` of `x`.
    fn batch<'a>(
        &'a mut self,
        x: &'a Shares<R>,
        b: usize,
        rows: Range<usize>,
    ) -> Result<Batch<'a, R>, Error> {
        Ok(match self {
            Inputs::Masked(m) => Batch::Masked(m, b, x.row_values(rows)?),
            Inputs::Plain(x1) => Batch::Plain(x1.row_range(rows.start, rows.end)?),
        })
    }
}

/// One batch of [`Inputs`]: the masked inputs with the batch's index and its rows of `x`, or
/// the batch's rows of `[x | 1]`.
enum Batch<'a, R: Ring> {
    Masked(&'a mut MaskedInputs<R>, usize, &'a [R]),
    Plain(Shares<R>),
}

impl<R: Ring> Batch<'_, R> {
    /// `X_b y`.
    async fn times<T: Transport, C: Correlations<T>>(
        &mut self,
        ctx: &mut Context<T, C>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match self {
            Batch::Masked(m, b, xb) => m.times(ctx, *b, xb, y).await,
            Batch::Plain(xb) => online::matmul(ctx, xb, y).await,
        }
    }

    /// `X_b^T y`.
    async fn transposed_times<T: Transport, C: Correlations<T>>(
        &mut self,
        ctx: &mut Context<T, C>,
        y: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match self {
            Batch::Masked(m, b, xb) => m.transposed_times(ctx, *b, xb, y).await,
            Batch::Plain(xb) => online::matmul(ctx, &xb.transpose(), y).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::masked_rows;
    use alloc::vec;
    use alloc::vec::Vec;

    /// `masked_rows` agrees with `[x | 1] - U` built whole, for every piece of every start,
    /// with and without the column of ones, and is zero past the end.
    #[test]
    fn masked_rows_is_every_piece_of_the_whole() {
        let (rows, d) = (3usize, 4usize);
        let x: Vec<u64> = (0..rows * d).map(|i| 100 + i as u64).collect();
        for cols in [d, d + 1] {
            let u: Vec<u64> = (0..rows * cols).map(|i| 7 * i as u64).collect();
            let whole: Vec<u64> = (0..rows * cols)
                .map(|i| {
                    let (r, c) = (i / cols, i % cols);
                    let v = if c < d { x[r * d + c] } else { 5 };
                    v.wrapping_sub(u[i])
                })
                .collect();
            for start in 0..=whole.len() + 2 {
                for len in 0..=whole.len() + 3 {
                    let mut out = vec![1u64; len];
                    masked_rows(&x, &u, (d, cols), 5, start, &mut out);
                    let expected: Vec<u64> = (start..start + len)
                        .map(|i| whole.get(i).copied().unwrap_or(0))
                        .collect();
                    assert_eq!(out, expected, "cols {cols}, start {start}, len {len}");
                }
            }
        }
    }
}
