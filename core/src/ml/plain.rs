//! Plaintext references in `f64`: the same mini-batch SGD as the secure trainers (same batches,
//! same order, same initial weights, same activation approximations), and the metrics. Tests and
//! examples run these in the same process to compare against the secure results.

use super::{GlmModel, MlpParams, SgdParams, Sigmoid};
use crate::error::Error;
use crate::nonlinear::PiecewiseLinear;
use alloc::vec;
use alloc::vec::Vec;

/// The sigmoid approximation `s` in `f64`, exactly the function the secure version computes:
/// SecureML's piecewise function, [`PiecewiseLinear::sigmoid`] (34 segments), or the logistic
/// function (which the secure version computes within 3 units in the last place).
pub fn sigmoid(s: Sigmoid, x: f64) -> f64 {
    match s {
        Sigmoid::Piecewise => (x + 0.5).clamp(0.0, 1.0),
        Sigmoid::Accurate => PiecewiseLinear::sigmoid().eval(x),
        Sigmoid::Logistic => 1.0 / (1.0 + libm::exp(-x)),
    }
}

/// `X w + b` for `rows x d` values `x` and weights `w` (d weights, then the bias).
pub fn linear_scores(x: &[f64], d: usize, w: &[f64]) -> Vec<f64> {
    x.chunks_exact(d)
        .map(|row| row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[d])
        .collect()
}

/// Mini-batch SGD for linear or logistic regression on `rows x d` features `x` and targets `y`,
/// from zero weights; returns `d + 1` weights (the bias last). Batches are consecutive rows in
/// order (the last one may be shorter); each step is `w -= lr / B * X_b^T (f(X_b w) - y_b)`.
pub fn train_glm(x: &[f64], y: &[f64], d: usize, model: GlmModel, p: &SgdParams) -> Vec<f64> {
    let n = y.len();
    let mut w = vec![0.0; d + 1];
    let accurate = PiecewiseLinear::sigmoid();
    let f = |s: Sigmoid, x: f64| match s {
        Sigmoid::Accurate => accurate.eval(x),
        _ => sigmoid(s, x),
    };
    for _ in 0..p.epochs {
        for start in (0..n).step_by(p.batch.max(1)) {
            let end = (start + p.batch.max(1)).min(n);
            let xb = &x[start * d..end * d];
            let scores = linear_scores(xb, d, &w);
            let mut grad = vec![0.0; d + 1];
            for (i, row) in xb.chunks_exact(d).enumerate() {
                let pred = match model {
                    GlmModel::Linear => scores[i],
                    GlmModel::Logistic(s) => f(s, scores[i]),
                };
                let e = pred - y[start + i];
                for (g, v) in grad.iter_mut().zip(row.iter().chain([&1.0])) {
                    *g += v * e;
                }
            }
            let c = p.learning_rate / (end - start) as f64;
            for (wi, g) in w.iter_mut().zip(&grad) {
                *wi -= c * g;
            }
        }
    }
    w
}

/// Fraction of rows whose score `X w + b` has the sign of the label (score >= 0 predicts 1).
pub fn accuracy(x: &[f64], y: &[f64], d: usize, w: &[f64]) -> f64 {
    let scores = linear_scores(x, d, w);
    let right = scores
        .iter()
        .zip(y)
        .filter(|&(s, &t)| (*s >= 0.0) == (t >= 0.5))
        .count();
    right as f64 / y.len().max(1) as f64
}

/// The coefficient of determination of predictions `pred` for targets `y`.
pub fn r2(pred: &[f64], y: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let ss_tot: f64 = y.iter().map(|t| (t - mean) * (t - mean)).sum();
    let ss_res: f64 = pred.iter().zip(y).map(|(p, t)| (p - t) * (p - t)).sum();
    1.0 - ss_res / ss_tot
}

/// The root-mean-square of `a - b` divided by the root-mean-square of `b`.
pub fn rel_rmse(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    libm::sqrt(num / den.max(f64::MIN_POSITIVE))
}

/// A multilayer perceptron in plaintext: `layers[l]` is an `(inputs + 1) x outputs` matrix,
/// row-major, whose last row is the bias. ReLU after every layer but the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// Layer widths, input first: `[64, 32, 10]`.
    pub sizes: Vec<usize>,
    /// Each layer's weights with the bias as last row.
    pub layers: Vec<Vec<f64>>,
}

/// Number of weights, biases included, of a network with layer widths `sizes`.
pub fn weight_count(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|io| (io[0] + 1) * io[1]).sum()
}

impl Mlp {
    /// The network with layer widths `sizes` whose weights are `flat`: each layer's matrix in
    /// turn, as [`Mlp::flat`] lists them. `None` if the length does not fit the widths.
    pub fn from_flat(sizes: &[usize], flat: &[f64]) -> Option<Mlp> {
        if sizes.len() < 2 || flat.len() != weight_count(sizes) {
            return None;
        }
        let mut at = 0;
        let layers = sizes
            .windows(2)
            .map(|io| {
                let len = (io[0] + 1) * io[1];
                at += len;
                flat[at - len..at].to_vec()
            })
            .collect();
        Some(Mlp {
            sizes: sizes.to_vec(),
            layers,
        })
    }

    /// Every weight, layer after layer (each `(inputs + 1) x outputs`, row-major, bias last).
    pub fn flat(&self) -> Vec<f64> {
        self.layers.concat()
    }

    /// Initial weights, deterministic in `seed` (uniform in +-sqrt(6 / inputs), bias 0): those
    /// of [`super::train::init_weights`] for the perceptron's network.
    pub fn init(sizes: &[usize], seed: u64) -> Mlp {
        Mlp {
            sizes: sizes.to_vec(),
            layers: super::train::init_weights(&super::pipeline::mlp_network(sizes), seed),
        }
    }

    /// The pre-activations of every layer for `rows` inputs (row-major); the last is the output.
    pub fn forward(&self, x: &[f64], rows: usize) -> Vec<Vec<f64>> {
        let mut outs: Vec<Vec<f64>> = Vec::new();
        let mut a = x.to_vec();
        for (l, w) in self.layers.iter().enumerate() {
            let (i, o) = (self.sizes[l], self.sizes[l + 1]);
            let mut z = vec![0.0; rows * o];
            for r in 0..rows {
                for k in 0..=i {
                    let v = if k < i { a[r * i + k] } else { 1.0 };
                    for j in 0..o {
                        z[r * o + j] += v * w[k * o + j];
                    }
                }
            }
            a = if l + 1 < self.layers.len() {
                z.iter().map(|&v| v.max(0.0)).collect()
            } else {
                z.clone()
            };
            outs.push(z);
        }
        outs
    }

    /// The class with the largest output for each of `rows` inputs.
    pub fn predict(&self, x: &[f64], rows: usize) -> Vec<usize> {
        let out = self.forward(x, rows).pop().unwrap_or_default();
        let k = *self.sizes.last().unwrap_or(&1);
        out.chunks_exact(k.max(1)).map(argmax).collect()
    }

    /// Mini-batch SGD on one-hot targets for `labels` (see [`super::nn`] for the loss), the
    /// same computation the secure trainer performs, in `f64`: the network of
    /// [`super::pipeline::mlp_network`] trained by [`super::train::train_network_plain`]. Fails
    /// like it on bad shapes or parameters, leaving the weights as they were.
    pub fn train(&mut self, x: &[f64], labels: &[usize], p: &MlpParams) -> Result<(), Error> {
        let k = *self.sizes.last().unwrap_or(&1);
        let y = super::pipeline::one_hot(labels, k);
        let net = super::pipeline::mlp_network(&self.sizes);
        self.layers = super::train::train_network_plain(&net, x, &y, &self.layers, &p.sgd, p.loss)?;
        Ok(())
    }
}

/// SecureML's softmax replacement in place: `relu(v_i) / sum_j relu(v_j)`, or `1 / len` when
/// no value is positive (as [`crate::Party::relu_softmax`]).
pub fn relu_softmax(v: &mut [f64]) {
    let s: f64 = v.iter().map(|x| x.max(0.0)).sum();
    let n = v.len() as f64;
    for x in v.iter_mut() {
        *x = if s > 0.0 { x.max(0.0) / s } else { 1.0 / n };
    }
}

/// The index of the largest value (the first on ties).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
