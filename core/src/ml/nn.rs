//! A multilayer perceptron trained by mini-batch SGD on shares (SecureML section 5): the
//! network of [`super::pipeline::mlp_network`] trained by [`super::train::train_network`].
//!
//! Dense layers `z = [a | 1] W` (the bias is the last row of `W`), ReLU between layers, a
//! linear output layer. Each batch costs, per layer, one matrix product forward and two backward
//! (`a^T delta` for the weights, `delta W^T` for the layer below), each with one matrix triple,
//! plus one ReLU with its derivative forward and one elementwise product backward.
//!
//! **Loss.** [`super::MlpLoss::ReluSoftmax`] is SecureML's choice; [`super::MlpLoss::Squared`] is the
//! default. SecureML replaces softmax by `ReLU(u_i) / sum_j ReLU(u_j)`, which needs a secure
//! division per row. We train instead with the squared loss on one-hot targets: the output
//! gradient is `z - y`, linear, with no division or exponential, so a batch needs no more than
//! the products and ReLUs above; the predicted class is the argmax of the outputs either way, and
//! on the digits data it reaches the same test accuracy range as the plaintext softmax network
//! (see the examples' tests). It also keeps every intermediate value small, which matters for
//! fixed-point precision and for the failure probability of local truncation.

use super::MlpParams;
use super::plain::Mlp;
use super::train::{OnShares, train_network};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
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
    // The perceptron's own shape errors, named as its own.
    let op = "ml.train_mlp";
    let (sizes, n) = (&init.sizes, x.rows());
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
    for (l, layer) in init.layers.iter().enumerate() {
        let want = sizes.get(l + 1).map_or(0, |&o| (sizes[l] + 1) * o);
        if layer.len() != want {
            return Err(Error::dimension(op, want, layer.len()));
        }
    }
    let net = super::pipeline::mlp_network(sizes);
    let mut alg = OnShares::<T, C, R>::new(ctx);
    train_network(
        &mut alg,
        &net,
        x,
        y,
        &init.layers,
        &params.sgd,
        params.loss,
        |a, e| after_epoch(a.context(), e),
    )
    .await
}
