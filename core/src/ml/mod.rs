//! Machine learning on secret shares: SecureML's privacy-preserving training and MiniONN's
//! oblivious inference.
//!
//! - [`data`]: datasets as data owners hold them (CSV with row/column errors, range checks,
//!   standardization statistics, the deterministic split).
//! - [`share`]: data owners secret-share their rows (horizontal partitioning) or columns
//!   (vertical partitioning) with the two servers.
//! - [`glm`]: linear and logistic regression by mini-batch SGD on shares.
//! - [`plain`]: the same computations in `f64`, as references.
//! - [`nn`]: a multilayer perceptron trained on shares (dense layers, ReLU, backpropagation).
//! - [`inference`]: MiniONN oblivious inference (dense, convolution, ReLU, square, pooling, argmax).
//! - [`ops`]: local helpers (public scaling, bias columns, concatenation).
//! - [`pipeline`]: the whole run as roles: the owners' preparation (statistics, standardization,
//!   row or column partitions), the data owner and server roles, training with per-epoch
//!   [`pipeline::Progress`], metrics, and the network for inference of a trained perceptron.
//!
//! Hyperparameters and results are plain structs, and nothing here prints: hosts (the examples,
//! a C ABI, WASM) report progress through the callbacks.

pub mod data;
pub mod float;
pub mod glm;
pub mod inference;
pub mod nn;
pub mod ops;
pub mod pipeline;
pub mod plain;
pub mod share;
pub mod train;

pub use data::{DataError, DataErrorKind, Dataset, FeatureStats, Standardizer};
pub use glm::train_glm;

use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::nonlinear;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;

/// The sigmoid approximation of logistic regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sigmoid {
    /// SecureML's: 0 below -1/2, `x + 1/2` between, 1 above 1/2.
    #[default]
    Piecewise,
    /// The non-linear layer's piecewise-linear approximation with many segments (as MiniONN).
    Accurate,
    /// The logistic function itself, `1 / (1 + e^-x)`, by exp and a reciprocal on the shares
    /// ([`crate::numeric::logistic`], PrivPy's route: within 3 units in the last place for every
    /// `x`); its plaintext twin is the exact function.
    Logistic,
}

impl Sigmoid {
    /// This approximation of the logistic function, elementwise on shares.
    pub async fn apply<T: Transport, C: Correlations<T>, R: Ring>(
        self,
        ctx: &mut Context<T, C>,
        x: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match self {
            Sigmoid::Piecewise => nonlinear::sigmoid_piecewise(ctx, x).await,
            Sigmoid::Accurate => nonlinear::sigmoid(ctx, x).await,
            Sigmoid::Logistic => crate::numeric::logistic(ctx, x).await,
        }
    }
}

/// A generalized linear model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlmModel {
    /// Linear regression (squared loss).
    Linear,
    /// Logistic regression with the given sigmoid.
    Logistic(Sigmoid),
}

/// Mini-batch SGD hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdParams {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per batch (the last batch of an epoch may be shorter).
    pub batch: usize,
    /// The learning rate; each step subtracts `learning_rate / batch` times the summed gradient.
    pub learning_rate: f64,
}

impl Default for SgdParams {
    fn default() -> Self {
        SgdParams {
            epochs: 10,
            batch: 32,
            learning_rate: 0.1,
        }
    }
}

/// The output function and loss of a multilayer perceptron; either way the output-layer
/// gradient is `f(z) - y` for one-hot targets `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MlpLoss {
    /// Squared loss on the linear outputs: `f(z) = z`. No division (see [`nn`]).
    #[default]
    Squared,
    /// SecureML's softmax replacement `f(z)_i = relu(z_i) / sum_j relu(z_j)` with the
    /// cross-entropy gradient form, by [`crate::Party::relu_softmax`] (a division per value in a
    /// garbled circuit).
    ReluSoftmax,
}

/// Hyperparameters of a multilayer perceptron.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpParams {
    /// SGD settings.
    pub sgd: SgdParams,
    /// Seed of the public initial weights.
    pub init_seed: u64,
    /// The output function and loss.
    pub loss: MlpLoss,
}
