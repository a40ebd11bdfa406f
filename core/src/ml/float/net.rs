//! The network, its parameters and one epoch of mini-batch training.

use crate::error::{Error, ErrorKind};
use crate::prg::{Domain, Prg, Seed};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::Rng;

/// The largest parameter count a [`Spec`] may describe (2^28, 2 GiB of `f64`).
pub const MAX_PARAMS: usize = 1 << 28;

/// An activation function of the hidden layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `z`.
    Identity,
    /// `max(z, 0)`.
    Relu,
    /// `z` for `z > 0`, `slope * z` otherwise.
    LeakyRelu(f64),
    /// `1 / (1 + e^-z)`.
    Sigmoid,
    /// `tanh z`.
    Tanh,
    /// `ln(1 + e^z)`.
    Softplus,
}

impl Activation {
    /// The activation called `name`: `identity`, `relu`, `leaky-relu` (slope 0.01), `sigmoid`,
    /// `tanh` or `softplus`.
    pub fn parse(name: &str) -> Option<Activation> {
        Some(match name {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky-relu" | "leaky_relu" | "leakyrelu" => Activation::LeakyRelu(0.01),
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softplus" => Activation::Softplus,
            _ => return None,
        })
    }

    /// The function at `z`.
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Identity => z,
            Activation::Relu => {
                if z > 0.0 {
                    z
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(slope) => {
                if z > 0.0 {
                    z
                } else {
                    slope * z
                }
            }
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => libm::tanh(z),
            Activation::Softplus => {
                let pos = if z > 0.0 { z } else { 0.0 };
                pos + libm::log1p(libm::exp(-libm::fabs(z)))
            }
        }
    }

    /// Its derivative at `z`.
    pub fn derivative(self, z: f64) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(slope) => {
                if z > 0.0 {
                    1.0
                } else {
                    slope
                }
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                s * (1.0 - s)
            }
            Activation::Tanh => {
                let t = libm::tanh(z);
                1.0 - t * t
            }
            Activation::Softplus => sigmoid(z),
        }
    }

    /// Whether the function is ReLU-like (He initialization instead of Glorot's).
    fn rectifier(self) -> bool {
        matches!(self, Activation::Relu | Activation::LeakyRelu(_))
    }
}

/// The logistic function, computed without overflow for large `|z|`.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}

/// The output function and the loss it is trained with. Each pairs the output with its canonical
/// loss, so the output layer's gradient is `output - target` in all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// One sigmoid output, binary cross-entropy; targets 0 or 1 (any value in `[0, 1]`).
    BinaryCrossEntropy,
    /// Softmax over `k >= 2` outputs, cross-entropy; targets class numbers `0..k`.
    SoftmaxCrossEntropy,
    /// Linear outputs, squared loss `|output - target|^2 / 2`: with one output the target is the
    /// value, with `k >= 2` outputs the one-hot vector of a class number `0..k`.
    Squared,
}

/// How the gradient updates the weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// Mini-batch SGD: `w -= lr * g`.
    Sgd {
        /// The learning rate.
        lr: f64,
    },
    /// Adam (Kingma and Ba), with bias correction.
    Adam {
        /// The step size.
        lr: f64,
        /// Decay of the first moment (0.9).
        beta1: f64,
        /// Decay of the second moment (0.999).
        beta2: f64,
        /// Added to the root of the second moment (1e-8).
        eps: f64,
    },
}

impl Optimizer {
    /// Adam with the usual constants and step size `lr`.
    pub fn adam(lr: f64) -> Optimizer {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// A multilayer perceptron and how to train it.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Layer widths: inputs, hidden layers, outputs (at least two entries).
    pub sizes: Vec<usize>,
    /// The activation of every hidden layer.
    pub activation: Activation,
    /// Dropout rate after each hidden layer (inverted dropout: kept units are scaled by
    /// `1 / (1 - rate)`); empty for none, otherwise one rate in `[0, 1)` per hidden layer.
    pub dropout: Vec<f64>,
    /// Output function and loss.
    pub loss: Loss,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Rows per mini-batch (the last batch of an epoch may be shorter).
    pub batch: usize,
    /// Passes a trainer makes over its own rows in one turn.
    pub local_epochs: usize,
}

impl Spec {
    /// The number of weights and biases.
    pub fn param_count(&self) -> usize {
        param_count(&self.sizes).unwrap_or(usize::MAX)
    }

    /// Checks every setting; the trainer calls this before touching any data.
    pub fn validate(&self) -> Result<(), Error> {
        const OP: &str = "float.spec";
        let bad = |what| Err(Error::new(OP, ErrorKind::InvalidArgument(what)));
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return bad("a network needs at least two layers, none of width 0");
        }
        if param_count(&self.sizes).is_none_or(|n| n > MAX_PARAMS) {
            return bad("the network has too many parameters");
        }
        let hidden = self.sizes.len() - 2;
        if !self.dropout.is_empty() && self.dropout.len() != hidden {
            return bad("dropout needs one rate per hidden layer");
        }
        if self.dropout.iter().any(|p| !(0.0..1.0).contains(p)) {
            return bad("a dropout rate must lie in [0, 1)");
        }
        let outputs = self.sizes[self.sizes.len() - 1];
        match self.loss {
            Loss::BinaryCrossEntropy if outputs != 1 => {
                return bad("binary cross-entropy needs exactly one output");
            }
            Loss::SoftmaxCrossEntropy if outputs < 2 => {
                return bad("softmax cross-entropy needs at least two outputs");
            }
            _ => {}
        }
        if let Activation::LeakyRelu(s) = self.activation
            && !s.is_finite()
        {
            return bad("the leaky ReLU slope must be finite");
        }
        let ok = match self.optimizer {
            Optimizer::Sgd { lr } => lr.is_finite() && lr > 0.0,
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                lr.is_finite()
                    && lr > 0.0
                    && (0.0..1.0).contains(&beta1)
                    && (0.0..1.0).contains(&beta2)
                    && eps.is_finite()
                    && eps > 0.0
            }
        };
        if !ok {
            return bad("optimizer constants out of range");
        }
        if self.batch == 0 || self.local_epochs == 0 {
            return bad("batch size and local epochs must be at least 1");
        }
        Ok(())
    }

    fn rate(&self, hidden: usize) -> f64 {
        self.dropout.get(hidden).copied().unwrap_or(0.0)
    }
}

/// The number of weights and biases of a network with layer widths `sizes`, `None` on overflow.
pub fn param_count(sizes: &[usize]) -> Option<usize> {
    sizes.windows(2).try_fold(0usize, |acc, w| {
        w[0].checked_mul(w[1])?.checked_add(w[1])?.checked_add(acc)
    })
}

/// The optimizer's state, which travels with the weights.
#[derive(Clone, Debug, PartialEq)]
pub enum OptState {
    /// SGD keeps none.
    Sgd,
    /// Adam's step count and moment estimates (one per parameter each).
    Adam {
        /// Updates made so far.
        step: u64,
        /// First-moment estimates.
        m: Vec<f64>,
        /// Second-moment estimates.
        v: Vec<f64>,
    },
}

/// A network's parameters and its optimizer's state.
///
/// Parameters are laid out layer by layer: the weight matrix (`out x in`, row-major: row `o`
/// holds the weights into unit `o`), then the `out` biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Layer widths, as in the [`Spec`].
    pub sizes: Vec<usize>,
    /// Weights and biases.
    pub params: Vec<f64>,
    /// The optimizer's state.
    pub opt: OptState,
}

/// A uniform `f64` in `[0, 1)` with 53 random bits.
pub(crate) fn unit(prg: &mut Prg) -> f64 {
    (prg.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Model {
    /// Fresh parameters for `spec` from `seed`: uniform Glorot weights (He for ReLU-like
    /// activations), zero biases, a zero optimizer state.
    pub fn init(spec: &Spec, seed: &Seed) -> Result<Model, Error> {
        spec.validate()?;
        let mut prg = seed.prg(Domain::LOCAL_TRAINING, u64::MAX);
        let mut params = Vec::with_capacity(spec.param_count());
        for w in spec.sizes.windows(2) {
            let (fan_in, fan_out) = (w[0] as f64, w[1] as f64);
            let limit = if spec.activation.rectifier() {
                libm::sqrt(6.0 / fan_in)
            } else {
                libm::sqrt(6.0 / (fan_in + fan_out))
            };
            for _ in 0..w[0] * w[1] {
                params.push((2.0 * unit(&mut prg) - 1.0) * limit);
            }
            params.extend(core::iter::repeat_n(0.0, w[1]));
        }
        let opt = match spec.optimizer {
            Optimizer::Sgd { .. } => OptState::Sgd,
            Optimizer::Adam { .. } => OptState::Adam {
                step: 0,
                m: vec![0.0; params.len()],
                v: vec![0.0; params.len()],
            },
        };
        Ok(Model {
            sizes: spec.sizes.clone(),
            params,
            opt,
        })
    }

    /// Checks that this model fits `spec` (widths, parameter count, optimizer state).
    pub fn check(&self, spec: &Spec) -> Result<(), Error> {
        const OP: &str = "float.model";
        if self.sizes != spec.sizes || self.params.len() != spec.param_count() {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("the model's layer widths differ from the spec's"),
            ));
        }
        let fits = match (&self.opt, spec.optimizer) {
            (OptState::Sgd, Optimizer::Sgd { .. }) => true,
            (OptState::Adam { m, v, .. }, Optimizer::Adam { .. }) => {
                m.len() == self.params.len() && v.len() == self.params.len()
            }
            _ => false,
        };
        if !fits {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("the model's optimizer state differs from the spec's"),
            ));
        }
        Ok(())
    }

    /// The network's outputs for `rows` inputs (row-major `rows x sizes[0]`), without dropout:
    /// probabilities for the cross-entropy losses, linear outputs for the squared loss.
    pub fn predict(&self, spec: &Spec, x: &[f64]) -> Vec<f64> {
        let inputs = self.sizes[0];
        let outputs = self.sizes[self.sizes.len() - 1];
        let rows = x.len() / inputs;
        let mut out = Vec::with_capacity(rows * outputs);
        let mut ws = Workspace::new(&self.sizes, CHUNK_ROWS.min(rows.max(1)), 0);
        for start in (0..rows).step_by(CHUNK_ROWS) {
            let n = CHUNK_ROWS.min(rows - start);
            ws.acts[0][..n * inputs].copy_from_slice(&x[start * inputs..(start + n) * inputs]);
            self.forward(spec, &mut ws, n, None);
            out.extend_from_slice(&ws.acts[self.sizes.len() - 1][..n * outputs]);
        }
        out
    }

    /// One epoch over `order` (row indices of `x`, `y`): mini-batches of `spec.batch` rows, a
    /// forward pass with dropout masks drawn from `prg`, backpropagation and one optimizer step
    /// per batch.
    pub(crate) fn epoch(
        &mut self,
        spec: &Spec,
        x: &[f64],
        y: &[f64],
        order: &[usize],
        prg: &mut Prg,
    ) {
        let inputs = self.sizes[0];
        let batch = spec.batch.min(order.len().max(1));
        let mut ws = Workspace::new(&self.sizes, batch, self.params.len());
        for rows in order.chunks(batch) {
            for (r, &i) in rows.iter().enumerate() {
                ws.acts[0][r * inputs..(r + 1) * inputs]
                    .copy_from_slice(&x[i * inputs..(i + 1) * inputs]);
            }
            self.forward(spec, &mut ws, rows.len(), Some(prg));
            self.output_delta(spec, &mut ws, rows, y);
            self.backward(spec, &mut ws, rows.len());
            self.update(spec, &ws.grad);
        }
    }

    /// Forward pass over the first `n` rows of `ws.acts[0]`; dropout masks from `prg` if given.
    fn forward(&self, spec: &Spec, ws: &mut Workspace, n: usize, mut prg: Option<&mut Prg>) {
        let layers = self.sizes.len() - 1;
        let mut off = 0;
        for l in 0..layers {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let w = &self.params[off..off + fan_in * fan_out];
            let b = &self.params[off + fan_in * fan_out..off + fan_in * fan_out + fan_out];
            off += fan_in * fan_out + fan_out;
            let (before, after) = ws.acts.split_at_mut(l + 1);
            let (prev, next) = (&before[l], &mut after[0]);
            let z = &mut ws.zs[l];
            for r in 0..n {
                let a = &prev[r * fan_in..(r + 1) * fan_in];
                for o in 0..fan_out {
                    z[r * fan_out + o] = dot(a, &w[o * fan_in..(o + 1) * fan_in]) + b[o];
                }
            }
            let z = &z[..n * fan_out];
            let a = &mut next[..n * fan_out];
            if l + 1 < layers {
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = spec.activation.apply(z);
                }
                let rate = spec.rate(l);
                if let Some(prg) = prg.as_deref_mut()
                    && rate > 0.0
                {
                    let scale = 1.0 / (1.0 - rate);
                    let mask = &mut ws.masks[l][..n * fan_out];
                    for (m, a) in mask.iter_mut().zip(a.iter_mut()) {
                        *m = if unit(prg) < rate { 0.0 } else { scale };
                        *a *= *m;
                    }
                }
            } else {
                match spec.loss {
                    Loss::BinaryCrossEntropy => {
                        for (a, &z) in a.iter_mut().zip(z) {
                            *a = sigmoid(z);
                        }
                    }
                    Loss::Squared => a.copy_from_slice(z),
                    Loss::SoftmaxCrossEntropy => {
                        for (a, z) in a.chunks_exact_mut(fan_out).zip(z.chunks_exact(fan_out)) {
                            softmax(z, a);
                        }
                    }
                }
            }
        }
    }

    /// The loss gradient at the output pre-activations, averaged over the batch: `(output -
    /// target) / n`, into `ws.delta`.
    fn output_delta(&self, spec: &Spec, ws: &mut Workspace, rows: &[usize], y: &[f64]) {
        let layers = self.sizes.len() - 1;
        let k = self.sizes[layers];
        let n = rows.len();
        let inv = 1.0 / n as f64;
        let out = &ws.acts[layers];
        for (r, &i) in rows.iter().enumerate() {
            for o in 0..k {
                let target = match (spec.loss, k) {
                    (Loss::BinaryCrossEntropy, _) | (Loss::Squared, 1) => y[i],
                    _ => f64::from(u8::from(y[i] as usize == o)),
                };
                ws.delta[r * k + o] = (out[r * k + o] - target) * inv;
            }
        }
    }

    /// Backpropagation of `ws.delta` through every layer into `ws.grad`.
    fn backward(&self, spec: &Spec, ws: &mut Workspace, n: usize) {
        let layers = self.sizes.len() - 1;
        ws.grad.fill(0.0);
        let mut end = self.params.len();
        for l in (0..layers).rev() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let start = end - fan_in * fan_out - fan_out;
            let w = &self.params[start..start + fan_in * fan_out];
            let (gw, gb) = ws.grad[start..end].split_at_mut(fan_in * fan_out);
            let prev = &ws.acts[l];
            for r in 0..n {
                let a = &prev[r * fan_in..(r + 1) * fan_in];
                for o in 0..fan_out {
                    let d = ws.delta[r * fan_out + o];
                    if d != 0.0 {
                        axpy(&mut gw[o * fan_in..(o + 1) * fan_in], d, a);
                        gb[o] += d;
                    }
                }
            }
            if l > 0 {
                let back = &mut ws.back[..n * fan_in];
                back.fill(0.0);
                for r in 0..n {
                    let row = &mut back[r * fan_in..(r + 1) * fan_in];
                    for o in 0..fan_out {
                        let d = ws.delta[r * fan_out + o];
                        if d != 0.0 {
                            axpy(row, d, &w[o * fan_in..(o + 1) * fan_in]);
                        }
                    }
                }
                let z = &ws.zs[l - 1][..n * fan_in];
                let masked = spec.rate(l - 1) > 0.0;
                for (j, (b, &z)) in back.iter_mut().zip(z).enumerate() {
                    let mut g = *b * spec.activation.derivative(z);
                    if masked {
                        g *= ws.masks[l - 1][j];
                    }
                    *b = g;
                }
                core::mem::swap(&mut ws.delta, &mut ws.back);
            }
            end = start;
        }
    }

    /// One optimizer step with gradient `g`.
    fn update(&mut self, spec: &Spec, g: &[f64]) {
        match (spec.optimizer, &mut self.opt) {
            (Optimizer::Sgd { lr }, _) => {
                for (w, &g) in self.params.iter_mut().zip(g) {
                    *w -= lr * g;
                }
            }
            (
                Optimizer::Adam {
                    lr,
                    beta1,
                    beta2,
                    eps,
                },
                OptState::Adam { step, m, v },
            ) => {
                *step += 1;
                let t = *step as f64;
                let c1 = 1.0 - libm::pow(beta1, t);
                let c2 = 1.0 - libm::pow(beta2, t);
                for (((w, &g), m), v) in self.params.iter_mut().zip(g).zip(m).zip(v) {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * (g * g);
                    let mh = *m / c1;
                    let vh = *v / c2;
                    *w -= lr * mh / (libm::sqrt(vh) + eps);
                }
            }
            // `Model::check` runs before training: Adam without its state cannot happen.
            (Optimizer::Adam { .. }, OptState::Sgd) => {}
        }
    }
}

/// Rows per forward pass when predicting.
const CHUNK_ROWS: usize = 256;

/// Buffers of one training or prediction run, allocated once.
struct Workspace {
    /// Activations of every layer (`acts[0]` holds the inputs), `rows x width`.
    acts: Vec<Vec<f64>>,
    /// Pre-activations of layers 1.., `rows x width`.
    zs: Vec<Vec<f64>>,
    /// Dropout masks of the hidden layers (0 or the scale).
    masks: Vec<Vec<f64>>,
    /// The gradient at the current layer's pre-activations.
    delta: Vec<f64>,
    /// The gradient being propagated to the layer below.
    back: Vec<f64>,
    /// The parameter gradient.
    grad: Vec<f64>,
}

impl Workspace {
    fn new(sizes: &[usize], rows: usize, params: usize) -> Workspace {
        let widest = sizes.iter().copied().max().unwrap_or(0);
        Workspace {
            acts: sizes.iter().map(|&s| vec![0.0; rows * s]).collect(),
            zs: sizes[1..].iter().map(|&s| vec![0.0; rows * s]).collect(),
            masks: sizes[1..].iter().map(|&s| vec![0.0; rows * s]).collect(),
            delta: vec![0.0; rows * widest],
            back: vec![0.0; rows * widest],
            grad: vec![0.0; params],
        }
    }
}

/// `sum a[i] * b[i]` in a fixed order: four running sums over blocks of four, added pairwise,
/// then the tail.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    let blocks = n / 4;
    for (x, y) in a[..blocks * 4]
        .chunks_exact(4)
        .zip(b[..blocks * 4].chunks_exact(4))
    {
        s0 += x[0] * y[0];
        s1 += x[1] * y[1];
        s2 += x[2] * y[2];
        s3 += x[3] * y[3];
    }
    let mut s = (s0 + s1) + (s2 + s3);
    for i in blocks * 4..n {
        s += a[i] * b[i];
    }
    s
}

/// `y += alpha * x`.
fn axpy(y: &mut [f64], alpha: f64, x: &[f64]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// The softmax of `z` into `out`, shifted by the maximum so nothing overflows.
fn softmax(z: &[f64], out: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, &z) in out.iter_mut().zip(z) {
        *o = libm::exp(z - max);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_and_derivatives_agree_with_finite_differences() {
        let all = [
            Activation::Identity,
            Activation::Relu,
            Activation::LeakyRelu(0.1),
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Softplus,
        ];
        for f in all {
            for z in [-3.0, -0.7, 0.4, 2.5] {
                let h = 1e-6;
                let numeric = (f.apply(z + h) - f.apply(z - h)) / (2.0 * h);
                assert!((numeric - f.derivative(z)).abs() < 1e-6, "{f:?} at {z}");
            }
        }
        assert_eq!(Activation::Softplus.apply(800.0), 800.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(
            Activation::parse("leaky-relu"),
            Some(Activation::LeakyRelu(0.01))
        );
        assert_eq!(Activation::parse("swish"), None);
    }

    #[test]
    fn specs_are_checked() {
        let ok = Spec {
            sizes: vec![4, 3, 2],
            activation: Activation::Relu,
            dropout: vec![0.5],
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: Optimizer::adam(0.01),
            batch: 8,
            local_epochs: 1,
        };
        ok.validate().unwrap();
        assert_eq!(ok.param_count(), 4 * 3 + 3 + 3 * 2 + 2);
        let bad = [
            Spec {
                sizes: vec![4],
                ..ok.clone()
            },
            Spec {
                dropout: vec![1.0],
                ..ok.clone()
            },
            Spec {
                dropout: vec![0.1, 0.1],
                ..ok.clone()
            },
            Spec {
                loss: Loss::BinaryCrossEntropy,
                ..ok.clone()
            },
            Spec {
                batch: 0,
                ..ok.clone()
            },
            Spec {
                optimizer: Optimizer::Sgd { lr: f64::NAN },
                ..ok.clone()
            },
            Spec {
                sizes: vec![1 << 20, 1 << 20, 1],
                ..ok.clone()
            },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
    }

    /// The analytic gradient of every loss, activation and layer matches a finite difference.
    #[test]
    fn backpropagation_matches_finite_differences() {
        let x = [0.3, -1.2, 0.8, 0.5, 1.1, -0.4];
        for (loss, k, y) in [
            (Loss::BinaryCrossEntropy, 1, [1.0, 0.0]),
            (Loss::SoftmaxCrossEntropy, 3, [2.0, 0.0]),
            (Loss::Squared, 3, [1.0, 2.0]),
            (Loss::Squared, 1, [0.7, -0.3]),
        ] {
            for act in [Activation::Tanh, Activation::Sigmoid, Activation::Softplus] {
                let spec = Spec {
                    sizes: vec![3, 4, k],
                    activation: act,
                    dropout: vec![],
                    loss,
                    optimizer: Optimizer::Sgd { lr: 0.1 },
                    batch: 2,
                    local_epochs: 1,
                };
                let model = Model::init(&spec, &Seed::from_bytes([3; 32])).unwrap();
                let mut ws = Workspace::new(&model.sizes, 2, model.params.len());
                ws.acts[0].copy_from_slice(&x);
                model.forward(&spec, &mut ws, 2, None);
                model.output_delta(&spec, &mut ws, &[0, 1], &y);
                model.backward(&spec, &mut ws, 2);
                let loss_at = |m: &Model| {
                    let out = m.predict(&spec, &x);
                    let mut total = 0.0;
                    for r in 0..2 {
                        let o = &out[r * k..(r + 1) * k];
                        total += match (loss, k) {
                            (Loss::BinaryCrossEntropy, _) => {
                                -(y[r] * o[0].ln() + (1.0 - y[r]) * (1.0 - o[0]).ln())
                            }
                            (Loss::SoftmaxCrossEntropy, _) => -o[y[r] as usize].ln(),
                            (Loss::Squared, 1) => 0.5 * (o[0] - y[r]).powi(2),
                            (Loss::Squared, _) => (0..k)
                                .map(|j| {
                                    0.5 * (o[j] - f64::from(u8::from(j == y[r] as usize))).powi(2)
                                })
                                .sum(),
                        };
                    }
                    total / 2.0
                };
                for p in 0..model.params.len() {
                    let (mut plus, mut minus) = (model.clone(), model.clone());
                    plus.params[p] += 1e-6;
                    minus.params[p] -= 1e-6;
                    let numeric = (loss_at(&plus) - loss_at(&minus)) / 2e-6;
                    assert!(
                        (numeric - ws.grad[p]).abs() < 1e-6,
                        "{loss:?} {act:?} param {p}: {numeric} vs {}",
                        ws.grad[p]
                    );
                }
            }
        }
    }
}
