//! The training pipeline, from the data owners' tables to a trained model, as the roles of a
//! session: what the owners do before sharing, what each of the two servers does, and what comes
//! out.
//!
//! - **Owners' preparation.** [`prepare`] (regression) and [`prepare_classes`] (classification):
//!   range checks, the split (every [`TEST_EVERY`]-th row is a test row), the owners' per-column
//!   statistics and standardization, and each owner's [`OwnerPart`] under a [`Partition`] by
//!   rows or by columns.
//! - **Roles.** The data owner: [`own`] (a regression part) or [`own_classes`] (features and
//!   one-hot labels), then the model back to owner 0. The server: [`serve_glm`] or
//!   [`serve_mlp`] (receive every owner's part over its own link, join the parts, train, send the
//!   weights' shares to owner 0), or the same in steps ([`receive_table`], [`receive_classes`],
//!   [`train_glm_with_progress`], [`train_mlp_with_progress`], [`send_model`]) for hosts that
//!   measure them separately. The inputs are masked once for SecureML's mask reuse
//!   ([`glm::InputMasking`]); the `_masked_` variants take the choice.
//! - **Progress.** The trainers call back after each epoch with a [`Progress`]: the epoch and the
//!   traffic so far. There is no clock in the core: a host that wants seconds reads its own clock
//!   in the callback. There is no loss either: computing one would mean opening values derived
//!   from the training data to the servers, which is exactly what the protocol must not do.
//! - **Results.** [`metric`] and [`mlp_accuracy`] at the owner; [`mlp_network`] and
//!   [`mlp_for_inference`] build the network for oblivious inference
//!   ([`super::inference::classify`]) from a trained perceptron.
//!
//! Nothing here spawns a thread, reads a clock or a file, or prints: every function is a step
//! that a host (the examples, a C ABI, WASM) runs with its own transports and seeds.

use super::data::{DataError, Dataset, FeatureStats, Standardizer};
use super::glm::InputMasking;
use super::inference::{Layer, Network};
use super::plain::{self, Mlp};
use super::{GlmModel, MlpLoss, MlpParams, SgdParams, glm, nn, ops, share};
use crate::context::Context;
use crate::correlated::Correlations;
use crate::data_owner::{self, DataOwner};
use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::prg::Seed;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::{Link, Stats, Transport};
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

/// The deterministic split: every `TEST_EVERY`-th row (0-based rows 4, 9, 14, ..) is a test
/// row, the others are training rows (see [`Dataset::split_every`]).
pub const TEST_EVERY: usize = 5;

/// A reasonable limit for [`serve_glm`] and friends: the largest part, in values, a server
/// accepts from one owner (2^26 values, 512 MiB of shares in Z_2^64).
pub const MAX_PART: usize = 1 << 26;

/// How the data owners split the training table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Partition {
    /// Horizontal: each owner holds a contiguous block of the training rows, with their targets.
    #[default]
    Rows,
    /// Vertical: each owner holds a contiguous block of the feature columns of every row; the
    /// last owner also holds the targets.
    Columns,
}

impl Partition {
    /// The owners' statistics combined: summed over their rows ([`FeatureStats::merge`]) or
    /// side by side ([`FeatureStats::concat`]). Only these per-column aggregates pass between
    /// owners, never a row.
    pub fn combine(self, stats: &[FeatureStats]) -> Option<FeatureStats> {
        stats.iter().cloned().reduce(|a, b| match self {
            Partition::Rows => a.merge(&b),
            Partition::Columns => a.concat(&b),
        })
    }
}

/// The `k`-th of `parts` contiguous blocks of `0..n`, of near-equal sizes (the rows or columns
/// of owner `k`).
pub fn block(n: usize, parts: usize, k: usize) -> Range<usize> {
    let parts = parts.max(1);
    (k * n / parts)..((k + 1) * n / parts)
}

/// What the owners and the servers of a regression run agree on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlmPlan {
    /// Linear or logistic regression.
    pub model: GlmModel,
    /// SGD hyperparameters.
    pub sgd: SgdParams,
    /// How the owners split the table.
    pub partition: Partition,
    /// Number of data owners [`prepare`] splits the table between (at least 1, at most the
    /// number of training rows or features). The servers serve however many links they have.
    pub owners: usize,
}

impl GlmPlan {
    /// `model` with the default SGD settings, rows split between two owners.
    pub fn new(model: GlmModel) -> Self {
        GlmPlan {
            model,
            sgd: SgdParams::default(),
            partition: Partition::Rows,
            owners: 2,
        }
    }
}

/// One data owner's part of the training table, ready to share.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerPart {
    /// Feature values, row-major.
    pub x: Vec<f64>,
    /// Feature columns.
    pub cols: usize,
    /// Targets, one per row, if this owner holds them.
    pub y: Option<Vec<f64>>,
}

impl OwnerPart {
    /// The owner's own per-column count, sums and sums of squares.
    pub fn stats(&self) -> FeatureStats {
        FeatureStats::from_rows(&self.x, self.cols)
    }
}

/// The table after the owners' preparation.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// Training rows, standardized.
    pub train: Dataset,
    /// Test rows, standardized with the training statistics.
    pub test: Dataset,
    /// What each owner shares (the standardized training rows, partitioned).
    pub parts: Vec<OwnerPart>,
}

/// Each owner's part of `train` (raw or standardized) under `partition`.
fn split_parts(train: &Dataset, partition: Partition, owners: usize) -> Vec<OwnerPart> {
    let (n, d) = (train.rows(), train.features());
    match partition {
        Partition::Rows => (0..owners)
            .map(|k| {
                let r = block(n, owners, k);
                OwnerPart {
                    x: train.x[r.start * d..r.end * d].to_vec(),
                    cols: d,
                    y: Some(train.y[r].to_vec()),
                }
            })
            .collect(),
        Partition::Columns => (0..owners)
            .map(|k| {
                let c = block(d, owners, k);
                OwnerPart {
                    x: train.columns(c.clone()),
                    cols: c.len(),
                    y: (k + 1 == owners).then(|| train.y.clone()),
                }
            })
            .collect(),
    }
}

/// The owners' preparation of a regression table, all before any share is sent:
///
/// 1. every cell must encode in ring `R` with `fixed` (else the error names its line and
///    column); logistic regression needs 0/1 targets;
/// 2. the split: every [`TEST_EVERY`]-th row is a test row;
/// 3. each owner computes count, sum and sum of squares per column over its own training rows
///    ([`OwnerPart::stats`]); the owners combine these ([`Partition::combine`]) and standardize
///    with the resulting mean and population standard deviation. For linear regression the
///    target is standardized the same way (R^2 does not change);
/// 4. the standardized values are range-checked again.
///
/// The number of owners is `plan.owners`, clamped to `1..=` the training rows (by rows) or the
/// features (by columns).
pub fn prepare<R: Ring>(
    data: &Dataset,
    plan: &GlmPlan,
    fixed: FixedPoint,
) -> Result<Prepared, DataError> {
    data.check_range::<R>(fixed)?;
    if matches!(plan.model, GlmModel::Logistic(_)) {
        data.check_binary_target()?;
    }
    let (mut train, mut test) = data.split_every(TEST_EVERY);
    let d = data.features();
    let owners = match plan.partition {
        Partition::Rows => plan.owners.clamp(1, train.rows().max(1)),
        Partition::Columns => plan.owners.clamp(1, d.max(1)),
    };
    let local: Vec<FeatureStats> = split_parts(&train, plan.partition, owners)
        .iter()
        .map(OwnerPart::stats)
        .collect();
    let stats = plan
        .partition
        .combine(&local)
        .unwrap_or_else(|| FeatureStats::from_rows(&[], d));
    let s = Standardizer::from_stats(&stats);
    s.apply(&mut train.x);
    s.apply(&mut test.x);
    if plan.model == GlmModel::Linear {
        // Summed over the owners that hold targets: all of them by rows, the last by columns.
        let ys = Standardizer::from_stats(&FeatureStats::from_rows(&train.y, 1));
        ys.apply(&mut train.y);
        ys.apply(&mut test.y);
    }
    train.check_range::<R>(fixed)?;
    test.check_range::<R>(fixed)?;
    let parts = split_parts(&train, plan.partition, owners);
    Ok(Prepared { train, test, parts })
}

/// A classification table at the owners: standardized features and class labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    /// Features, row-major.
    pub x: Vec<f64>,
    /// Features per row.
    pub features: usize,
    /// Labels `0..k`, one per row.
    pub labels: Vec<usize>,
}

impl Classes {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The rows `rows` (an owner's block under the partition by rows).
    pub fn select(&self, rows: Range<usize>) -> Classes {
        let d = self.features;
        Classes {
            x: self.x[rows.start * d..rows.end * d].to_vec(),
            features: d,
            labels: self.labels[rows].to_vec(),
        }
    }

    /// Owner `k`'s block of rows when `owners` owners split the table.
    pub fn part(&self, owners: usize, k: usize) -> Classes {
        self.select(block(self.rows(), owners, k))
    }
}

/// The owners' preparation of a classification table whose target is a class number `0..k`:
/// range checks in ring `R` with `fixed`, the split (every [`TEST_EVERY`]-th row is a test
/// row), standardization of the features with the training rows' statistics (the owners' sums
/// combined, as in [`prepare`]). Returns `(train, test, standardizer)`; the standardizer is
/// what [`mlp_for_inference`] folds into the first layer.
pub fn prepare_classes<R: Ring>(
    data: &Dataset,
    k: usize,
    fixed: FixedPoint,
) -> Result<(Classes, Classes, Standardizer), DataError> {
    data.check_range::<R>(fixed)?;
    data.check_class_target(k)?;
    let (mut train, mut test) = data.split_every(TEST_EVERY);
    let d = data.features();
    let s = Standardizer::from_stats(&FeatureStats::from_rows(&train.x, d));
    s.apply(&mut train.x);
    s.apply(&mut test.x);
    train.check_range::<R>(fixed)?;
    test.check_range::<R>(fixed)?;
    let classes = |t: Dataset| Classes {
        labels: t.y.iter().map(|&v| v as usize).collect(),
        x: t.x,
        features: d,
    };
    Ok((classes(train), classes(test), s))
}

/// One-hot rows for `labels` with `k` classes (`labels.len() x k`, row-major). A label of `k`
/// or more gives a row of zeros.
pub fn one_hot(labels: &[usize], k: usize) -> Vec<f64> {
    let mut y = vec![0.0; labels.len() * k];
    for (r, &l) in labels.iter().enumerate() {
        if l < k {
            y[r * k + l] = 1.0;
        }
    }
    y
}

// ----- the data owner -----

/// The data-owner role of a regression run: shares `part` with both servers (seeded by `seed`,
/// host entropy) and, if `model_len` is given (owner 0), reconstructs the trained weights (`d +
/// 1`, the bias last). Every value is range-checked before anything is sent.
pub async fn own<R: Ring, T0: Transport, T1: Transport>(
    part: &OwnerPart,
    seed: Seed,
    fixed: FixedPoint,
    to0: &mut Link<T0>,
    to1: &mut Link<T1>,
    model_len: Option<usize>,
) -> Result<Option<Vec<f64>>, Error> {
    let mut owner = DataOwner::new(seed, fixed);
    share::share_part::<R, _, _>(&mut owner, &part.x, part.cols, part.y.as_deref(), to0, to1)
        .await?;
    match model_len {
        Some(n) => {
            let mut w = vec![0.0; n];
            owner.reconstruct::<R, _, _>(to0, to1, &mut w).await?;
            Ok(Some(w))
        }
        None => Ok(None),
    }
}

/// The data-owner role of a classification run: shares `part`'s features, then its labels
/// one-hot over `classes` columns, with both servers; if `model_len` is given (owner 0: the
/// network's number of weights), reconstructs the trained weights, flat in layer order (an
/// [`Mlp`]'s by [`Mlp::from_flat`]). Fails before sending anything if a label is not below
/// `classes` or a value is out of range.
pub async fn own_classes<R: Ring, T0: Transport, T1: Transport>(
    part: &Classes,
    classes: usize,
    seed: Seed,
    fixed: FixedPoint,
    to0: &mut Link<T0>,
    to1: &mut Link<T1>,
    model_len: Option<usize>,
) -> Result<Option<Vec<f64>>, Error> {
    let op = "ml.own_classes";
    if part.labels.iter().any(|&l| l >= classes) {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("a label is not below the number of classes"),
        ));
    }
    if part.x.len() != part.rows() * part.features {
        return Err(Error::dimension(
            op,
            part.rows() * part.features,
            part.x.len(),
        ));
    }
    let mut owner = DataOwner::new(seed, fixed);
    let y = one_hot(&part.labels, classes);
    // The features are range-checked before their first frame; the one-hot labels are 0 or 1.
    share::share_part::<R, _, _>(&mut owner, &part.x, part.features, None, to0, to1).await?;
    share::share_part::<R, _, _>(&mut owner, &y, classes, None, to0, to1).await?;
    let Some(n) = model_len else {
        return Ok(None);
    };
    let mut flat = vec![0.0; n];
    owner.reconstruct::<R, _, _>(to0, to1, &mut flat).await?;
    Ok(Some(flat))
}

// ----- the servers -----

/// What a trainer reports after each epoch. There is no loss or accuracy: either would have to
/// be opened to the servers, and values computed from the training data must stay shared. There
/// is no time either: the core has no clock, so a host that wants seconds reads its own in the
/// callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// The number of epochs of the run.
    pub epochs: usize,
    /// Online traffic with the other server so far ([`Context::online_stats`]): the whole
    /// session's, not this run's alone.
    pub online: Stats,
    /// Offline traffic so far ([`Context::offline_stats`]): OT with the other server or the
    /// dealer's connection.
    pub offline: Stats,
}

impl Progress {
    fn of<T: Transport, C: Correlations<T>>(
        ctx: &Context<T, C>,
        epoch: usize,
        epochs: usize,
    ) -> Self {
        Progress {
            epoch,
            epochs,
            online: ctx.online_stats(),
            offline: ctx.offline_stats(),
        }
    }
}

/// [`super::train_glm`] with a [`Progress`] report after each epoch.
pub async fn train_glm_with_progress<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    on_progress: impl FnMut(&Progress),
) -> Result<Shares<R>, Error> {
    let masking = InputMasking::default();
    train_glm_masked_with_progress(ctx, x, y, model, params, masking, on_progress).await
}

/// [`train_glm_with_progress`] with the inputs masked as `masking` says
/// ([`glm::train_glm_with`]).
pub async fn train_glm_masked_with_progress<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    model: GlmModel,
    params: &SgdParams,
    masking: InputMasking,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Shares<R>, Error> {
    let epochs = params.epochs;
    glm::train_glm_observed(ctx, x, y, model, params, masking, |c, e| {
        on_progress(&Progress::of(c, e, epochs))
    })
    .await
}

/// [`super::nn::train_mlp`] with a [`Progress`] report after each epoch.
pub async fn train_mlp_with_progress<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    init: &Mlp,
    params: &MlpParams,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Vec<Shares<R>>, Error> {
    let epochs = params.sgd.epochs;
    nn::train_mlp_observed(ctx, x, y, init, params, |c, e| {
        on_progress(&Progress::of(c, e, epochs))
    })
    .await
}

/// [`super::train::train_network`] on shares with a [`Progress`] report after each epoch.
#[allow(clippy::too_many_arguments)]
pub async fn train_network_with_progress<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    net: &Network,
    x: &Shares<R>,
    y: &Shares<R>,
    weights: &[Vec<f64>],
    params: &SgdParams,
    loss: MlpLoss,
    on_progress: impl FnMut(&Progress),
) -> Result<Vec<Shares<R>>, Error> {
    let masking = InputMasking::default();
    train_network_masked_with_progress(ctx, net, x, y, weights, params, loss, masking, on_progress)
        .await
}

/// [`train_network_with_progress`] with the inputs of a first dense layer masked as `masking`
/// says ([`super::train::OnShares::with_input_masking`]).
#[allow(clippy::too_many_arguments)]
pub async fn train_network_masked_with_progress<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    net: &Network,
    x: &Shares<R>,
    y: &Shares<R>,
    weights: &[Vec<f64>],
    params: &SgdParams,
    loss: MlpLoss,
    masking: InputMasking,
    mut on_progress: impl FnMut(&Progress),
) -> Result<Vec<Shares<R>>, Error> {
    let mut alg = super::train::OnShares::<T, C, R>::new(ctx).with_input_masking(masking);
    super::train::train_network(&mut alg, net, x, y, weights, params, loss, |a, e| {
        on_progress(&Progress::of(a.context(), e, params.epochs))
    })
    .await
}

fn malformed(op: &'static str, why: &'static str) -> Error {
    Error::new(op, ErrorKind::Malformed(why))
}

/// Server side of [`own`]: receives this server's shares of every owner's part, one owner per
/// link in `owners` (in owner order), and joins them under `partition`: returns the features
/// (`n x d`) and the targets (`n x 1`). By rows every owner must send targets; by columns
/// exactly one. A part of more than `max_part` values is refused before any allocation.
pub async fn receive_table<R: Ring, O: Transport>(
    role: Role,
    owners: &mut [Link<O>],
    partition: Partition,
    max_part: usize,
) -> Result<(Shares<R>, Shares<R>), Error> {
    let op = "ml.receive_table";
    let mut xs = Vec::with_capacity(owners.len());
    let mut ys = Vec::new();
    for owner in owners.iter_mut() {
        let (x, t) = share::receive_part::<R, _>(role, owner, max_part).await?;
        match (partition, t) {
            (Partition::Rows, Some(t)) => ys.push(t),
            (Partition::Columns, Some(t)) if ys.is_empty() => ys.push(t),
            (Partition::Columns, None) => {}
            _ => {
                return Err(malformed(
                    op,
                    "the owners' targets do not fit the partition",
                ));
            }
        }
        xs.push(x);
    }
    if ys.is_empty() {
        return Err(malformed(op, "no data owner sent the targets"));
    }
    let x = match partition {
        Partition::Rows => ops::concat_rows(&xs)?,
        Partition::Columns => ops::concat_columns(&xs)?,
    };
    Ok((x, ops::concat_rows(&ys)?))
}

/// Server side of [`own_classes`]: receives every owner's features and one-hot labels (one
/// owner per link, blocks of rows in owner order) and returns them joined, `(x, y)`.
pub async fn receive_classes<R: Ring, O: Transport>(
    role: Role,
    owners: &mut [Link<O>],
    max_part: usize,
) -> Result<(Shares<R>, Shares<R>), Error> {
    let op = "ml.receive_classes";
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for owner in owners.iter_mut() {
        let (x, t) = share::receive_part::<R, _>(role, owner, max_part).await?;
        let (y, u) = share::receive_part::<R, _>(role, owner, max_part).await?;
        if t.is_some() || u.is_some() || x.rows() != y.rows() {
            return Err(malformed(op, "an owner's labels do not fit its features"));
        }
        xs.push(x);
        ys.push(y);
    }
    Ok((ops::concat_rows(&xs)?, ops::concat_rows(&ys)?))
}

/// Sends this server's shares of a model (the matrices one after the other, as the owner
/// reconstructs them) to a data owner.
pub async fn send_model<R: Ring, O: Transport>(
    owner: &mut Link<O>,
    weights: &[Shares<R>],
) -> Result<(), Error> {
    let flat: Vec<R> = weights
        .iter()
        .flat_map(|w| w.as_slice().iter().copied())
        .collect();
    data_owner::send_output(owner, &flat).await
}

/// The server role of a regression run: receives every owner's part ([`receive_table`]),
/// trains as `plan` says ([`train_glm_with_progress`]), sends this server's shares of the
/// weights to owner 0 (`owners[0]`, who alone reconstructs the model) and returns them. Both
/// servers call it with the same plan, each with its own links to the same owners.
pub async fn serve_glm<T: Transport, C: Correlations<T>, O: Transport, R: Ring>(
    ctx: &mut Context<T, C>,
    owners: &mut [Link<O>],
    plan: &GlmPlan,
    max_part: usize,
    on_progress: impl FnMut(&Progress),
) -> Result<Shares<R>, Error> {
    let op = "ml.serve_glm";
    if owners.is_empty() {
        return Err(Error::new(op, ErrorKind::InvalidArgument("no data owner")));
    }
    glm::check_params(&plan.sgd, 1)?;
    let role = ctx.role()?;
    let (x, y) = receive_table::<R, _>(role, owners, plan.partition, max_part).await?;
    let w = train_glm_with_progress(ctx, &x, &y, plan.model, &plan.sgd, on_progress).await?;
    send_model(&mut owners[0], core::slice::from_ref(&w)).await?;
    Ok(w)
}

/// The server role of a classification run: receives every owner's features and one-hot labels
/// ([`receive_classes`]), trains the perceptron `init` ([`train_mlp_with_progress`]), sends
/// this server's shares of every layer to owner 0 and returns them.
pub async fn serve_mlp<T: Transport, C: Correlations<T>, O: Transport, R: Ring>(
    ctx: &mut Context<T, C>,
    owners: &mut [Link<O>],
    init: &Mlp,
    params: &MlpParams,
    max_part: usize,
    on_progress: impl FnMut(&Progress),
) -> Result<Vec<Shares<R>>, Error> {
    let op = "ml.serve_mlp";
    if owners.is_empty() {
        return Err(Error::new(op, ErrorKind::InvalidArgument("no data owner")));
    }
    glm::check_params(&params.sgd, 1)?;
    let role = ctx.role()?;
    let (x, y) = receive_classes::<R, _>(role, owners, max_part).await?;
    let w = train_mlp_with_progress(ctx, &x, &y, init, params, on_progress).await?;
    send_model(&mut owners[0], &w).await?;
    Ok(w)
}

// ----- results -----

/// The test metric of regression weights `w` (bias last) on `test`: R^2 for linear regression,
/// accuracy for logistic regression.
pub fn metric(model: GlmModel, test: &Dataset, w: &[f64]) -> f64 {
    let d = test.features();
    match model {
        GlmModel::Linear => plain::r2(&plain::linear_scores(&test.x, d, w), &test.y),
        GlmModel::Logistic(_) => plain::accuracy(&test.x, &test.y, d, w),
    }
}

/// The fraction of `data`'s labels that `net` predicts.
pub fn mlp_accuracy(net: &Mlp, data: &Classes) -> f64 {
    let pred = net.predict(&data.x, data.rows());
    let right = pred
        .iter()
        .zip(&data.labels)
        .filter(|(a, b)| a == b)
        .count();
    right as f64 / data.rows().max(1) as f64
}

/// The inference network of a perceptron with layer widths `sizes`: dense layers with ReLU
/// between them. What the client of [`super::inference::classify`] passes (it knows the
/// architecture, not the weights).
pub fn mlp_network(sizes: &[usize]) -> Network {
    let mut layers = Vec::new();
    for (l, io) in sizes.windows(2).enumerate() {
        layers.push(Layer::Dense {
            inputs: io[0],
            outputs: io[1],
        });
        if l + 2 < sizes.len() {
            layers.push(Layer::Relu);
        }
    }
    Network {
        input: sizes.first().copied().unwrap_or(0),
        layers,
    }
}

/// The inference network of a trained perceptron and its weights, with the owners'
/// standardization `s` folded into the first layer so that the client sends raw features:
/// `W' = W / std`, `b' = b - sum_i mean_i / std_i W_i`. The model owner's side of
/// [`super::inference::classify`]; the network equals [`mlp_network`]`(&mlp.sizes)`. Fails if
/// `s` is not as wide as the input.
pub fn mlp_for_inference(mlp: &Mlp, s: &Standardizer) -> Result<(Network, Vec<Vec<f64>>), Error> {
    let op = "ml.mlp_for_inference";
    if mlp.sizes.len() < 2 || mlp.layers.len() + 1 != mlp.sizes.len() {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("the network needs layer widths and weights"),
        ));
    }
    let (d, o) = (mlp.sizes[0], mlp.sizes[1]);
    if s.mean.len() != d || s.std.len() != d {
        return Err(Error::dimension(op, d, s.mean.len()));
    }
    let mut weights = mlp.layers.clone();
    let w0 = &mut weights[0];
    if w0.len() != (d + 1) * o {
        return Err(Error::dimension(op, (d + 1) * o, w0.len()));
    }
    for j in 0..o {
        let mut shift = 0.0;
        for i in 0..d {
            w0[i * o + j] /= s.std[i];
            shift += s.mean[i] * w0[i * o + j];
        }
        w0[d * o + j] -= shift;
    }
    Ok((mlp_network(&mlp.sizes), weights))
}
