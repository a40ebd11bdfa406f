//! A plaintext `f64` trainer for the weight-sharing systems of Phong and Phuong
//! ([`crate::weights`]): multilayer perceptrons with any activation, dropout, mini-batch SGD or
//! Adam, binary or softmax cross-entropy or squared loss, local epochs reshuffled each time and
//! central epochs over the trainers.
//!
//! Nothing here is secret-shared: in those systems each trainer trains in the clear on its own
//! data and only the weights travel, sealed. What the module guarantees is determinism: the same
//! [`Spec`], data, seeds and schedule give bit-identical weights on every run and every target,
//! because every result is the same sequence of `f64` operations (no reassociation, no
//! platform-dependent math: `libm` for `exp`, `tanh`, `ln`, `sqrt`, `pow`). This is what lets a
//! test check Theorems 3 and 5 of the paper exactly: training passed around the trainers equals
//! [`centralized`] training on the union of their data in the same order.
//!
//! - [`Spec`]: the network and its training settings ([`Activation`], [`Loss`], [`Optimizer`],
//!   dropout, batch size, local epochs).
//! - [`Model`]: the parameters and the optimizer's state (Adam's moments travel with the weights,
//!   so a trainer continues exactly where the previous one stopped).
//! - [`local_round`]: one trainer's turn: `local_epochs` passes over its rows, reshuffled each time.
//! - [`centralized`]: the reference: every trainer's turn in the agreed order, in one place.
//!
//! Randomness (initialization, shuffles, dropout masks) comes from host seeds through
//! [`crate::prg`] with the [`crate::Domain::LOCAL_TRAINING`] domain; each trainer uses its own seed.

mod net;
mod schedule;

pub use net::{Activation, Loss, MAX_PARAMS, Model, OptState, Optimizer, Spec, param_count};
pub use schedule::{Rows, accuracy, centralized, local_round, partition};
