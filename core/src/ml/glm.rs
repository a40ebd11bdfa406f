//! SecureML's linear and logistic regression by mini-batch SGD on shares.
//!
//! Each batch `X_b` (`B x (d+1)`, a column of public ones appended for the bias) costs two
//! matrix products, each with one matrix triple: the scores `X_b w` and the gradient
//! `X_b^T (f(X_b w) - y_b)`; then `w -= lr / B * gradient` is a local public scaling (see
//! [`super::ops::scale`]). For logistic regression `f` is the secure sigmoid: SecureML's
//! piecewise function or the more accurate piecewise-linear one of the non-linear layer.
//! Products are truncated as the session's [`crate::Config::truncation`] says.

use super::ops::{append_ones, scale};
use super::{GlmModel, SgdParams};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

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
pub async fn train_glm<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    mut on_epoch: impl FnMut(usize),
) -> Result<Shares<R>, Error> {
    train_glm_observed(ctx, x, y, model, params, |_, epoch| on_epoch(epoch)).await
}

/// [`train_glm`] with a callback that also sees the context after each epoch (for its traffic
/// counters: see [`super::pipeline::train_glm_with_progress`]).
pub(crate) async fn train_glm_observed<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    mut after_epoch: impl FnMut(&Context<T, C>, usize),
) -> Result<Shares<R>, Error> {
    let (n, d) = x.shape();
    check_params(params, n)?;
    if y.shape() != (n, 1) {
        return Err(Error::dimension("ml.train_glm", n, y.len()));
    }
    let x1 = append_ones(ctx, x)?;
    let mut w = Shares::zeros(d + 1, 1)?;
    for epoch in 1..=params.epochs {
        let mut start = 0;
        while start < n {
            let end = (start + params.batch).min(n);
            let xb = x1.row_range(start, end)?;
            let yb = y.row_range(start, end)?;
            let scores = online::matmul(ctx, &xb, &w).await?;
            let pred = match model {
                GlmModel::Linear => scores,
                GlmModel::Logistic(s) => s.apply(ctx, &scores).await?,
            };
            let err = pred.sub(&yb)?;
            let grad = online::matmul(ctx, &xb.transpose(), &err).await?;
            let step = scale(ctx, &grad, params.learning_rate / (end - start) as f64).await?;
            w = w.sub(&step)?;
            start = end;
        }
        after_epoch(ctx, epoch);
    }
    Ok(w)
}
