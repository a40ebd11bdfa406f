//! A multilayer perceptron trained by mini-batch SGD on shares (SecureML section 5).
//!
//! Dense layers `z = [a | 1] W` (the bias is the last row of `W`), ReLU between layers, a
//! linear output layer. Each batch costs, per layer, one matrix product forward and two backward
//! (`a^T delta` for the weights, `delta W^T` for the layer below), each with one matrix triple,
//! plus one ReLU with its derivative forward and one elementwise product backward.
//!
//! **Loss.** [`MlpLoss::ReluSoftmax`] is SecureML's choice; [`MlpLoss::Squared`] is the
//! default. SecureML replaces softmax by `ReLU(u_i) / sum_j ReLU(u_j)`, which needs a secure
//! division per row. We train instead with the squared loss on one-hot targets: the output
//! gradient is `z - y`, linear, with no division or exponential, so a batch needs no more than
//! the products and ReLUs above; the predicted class is the argmax of the outputs either way, and
//! on the digits data it reaches the same test accuracy range as the plaintext softmax network
//! (see the examples' tests). It also keeps every intermediate value small, which matters for
//! fixed-point precision and for the failure probability of local truncation.

use super::glm::check_params;
use super::ops::{append_ones, public_matrix, scale};
use super::plain::Mlp;
use super::{MlpLoss, MlpParams};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec::Vec;

/// Trains the network `init` (public initial weights, for example [`Mlp::init`]) on shared
/// inputs `x` (`n x sizes[0]`) and one-hot targets `y` (`n x sizes[last]`); calls `on_epoch`
/// after each epoch. Returns each layer's shared weights, `(inputs + 1) x outputs` with the
/// bias last, in the layout of [`Mlp::layers`]. [`Mlp::train`] is the same computation in
/// plaintext.
pub async fn train_mlp<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    init: &Mlp,
    params: &MlpParams,
    mut on_epoch: impl FnMut(usize),
) -> Result<Vec<Shares<R>>, Error> {
    train_mlp_observed(ctx, x, y, init, params, |_, epoch| on_epoch(epoch)).await
}

/// [`train_mlp`] with a callback that also sees the context after each epoch (for its traffic
/// counters: see [`super::pipeline::train_mlp_with_progress`]).
pub(crate) async fn train_mlp_observed<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    init: &Mlp,
    params: &MlpParams,
    mut after_epoch: impl FnMut(&Context<T, C>, usize),
) -> Result<Vec<Shares<R>>, Error> {
    let op = "ml.train_mlp";
    let sizes = &init.sizes;
    let nl_count = init.layers.len();
    let n = x.rows();
    check_params(&params.sgd, n)?;
    if sizes.len() < 2 || x.cols() != sizes[0] {
        return Err(Error::dimension(
            op,
            sizes.first().copied().unwrap_or(0),
            x.cols(),
        ));
    }
    let k = sizes[sizes.len() - 1];
    if y.shape() != (n, k) {
        return Err(Error::dimension(op, n * k, y.len()));
    }
    let mut w = Vec::with_capacity(nl_count);
    for (l, layer) in init.layers.iter().enumerate() {
        let (i, o) = (sizes[l], sizes[l + 1]);
        if layer.len() != (i + 1) * o {
            return Err(Error::dimension(op, (i + 1) * o, layer.len()));
        }
        w.push(public_matrix(ctx, layer, i + 1, o)?);
    }
    let batch = params.sgd.batch;
    for epoch in 1..=params.sgd.epochs {
        let mut start = 0;
        while start < n {
            let end = (start + batch).min(n);
            let xb = x.row_range(start, end)?;
            let yb = y.row_range(start, end)?;
            // Forward: the inputs of each layer (with the ones column) and the ReLU derivatives.
            let mut inputs = Vec::with_capacity(nl_count);
            let mut derivs = Vec::with_capacity(nl_count);
            let mut a = append_ones(ctx, &xb)?;
            let mut out = None;
            for (l, wl) in w.iter().enumerate() {
                let z = online::matmul(ctx, &a, wl).await?;
                inputs.push(a);
                if l + 1 < nl_count {
                    let (r, d) = nonlinear::relu_with_derivative(ctx, &z).await?;
                    derivs.push(d);
                    a = append_ones(ctx, &r)?;
                } else {
                    out = Some(z);
                    a = Shares::zeros(0, 0)?;
                }
            }
            let out = out.ok_or(Error::dimension(op, 1, 0))?;
            let out = match params.loss {
                MlpLoss::Squared => out,
                MlpLoss::ReluSoftmax => nonlinear::relu_softmax(ctx, &out).await?,
            };
            let mut delta = out.sub(&yb)?;
            let c = params.sgd.learning_rate / (end - start) as f64;
            for l in (0..nl_count).rev() {
                let grad = online::matmul(ctx, &inputs[l].transpose(), &delta).await?;
                let below = if l > 0 {
                    let wt = w[l].row_range(0, sizes[l])?.transpose();
                    let back = online::matmul(ctx, &delta, &wt).await?;
                    Some(online::mul(ctx, &back, &derivs[l - 1]).await?)
                } else {
                    None
                };
                let step = scale(ctx, &grad, c).await?;
                w[l] = w[l].sub(&step)?;
                if let Some(b) = below {
                    delta = b;
                }
            }
            start = end;
        }
        after_epoch(ctx, epoch);
    }
    Ok(w)
}
