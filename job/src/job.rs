//! The `[job]` section: what the servers train and what the owners prepare, identical in every
//! file of a job (the servers and owners bind it into their session id, so parties whose jobs
//! differ refuse each other at the hello).

use crate::Invalid;
use crate::hello::SessionId;
use fixshare::ml::inference::Network;
use fixshare::ml::pipeline::{Partition, mlp_network};
use fixshare::ml::plain::Mlp;
use fixshare::ml::train::{self, securenn_network};
use fixshare::ml::{GlmModel, MlpLoss, SgdParams, Sigmoid};
use fixshare::{Config, Truncation};
use serde::Deserialize;
use std::fmt::Write as _;

/// The most data owners a job may wait for (each has a key of its own; all announce party id
/// 16, and the key tells them apart). A server holds one connection per owner until their rows
/// are in.
pub const MAX_OWNERS: usize = 10_000;

/// The session id of a job's servers and owners: the session name with the job bound in (every
/// setting, as [`Job::describe`] writes it), so that parties whose jobs differ refuse each other
/// at the hello. `fixshare-party check` prints it.
pub fn job_session(session: &str, job: &Job) -> SessionId {
    SessionId::derive(&format!("{session}\njob: {}", job.describe()))
}

/// The most weights a network job may have (2^26, as a data owner's largest part).
const MAX_WEIGHTS: usize = 1 << 26;

/// The `[job]` section as written: every field optional; [`RawJob::check`] makes a [`Job`] of
/// it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    kind: String,
    offline: Option<String>,
    owners: Option<usize>,
    epochs: Option<usize>,
    batch: Option<usize>,
    learning_rate: Option<f64>,
    frac_bits: Option<u32>,
    truncation: Option<String>,
    // train_glm
    model: Option<String>,
    sigmoid: Option<String>,
    partition: Option<String>,
    // train_mlp
    sizes: Option<Vec<usize>>,
    // train_network
    network: Option<String>,
    // train_mlp and train_network
    loss: Option<String>,
    init_weights: Option<u64>,
    prepare: Option<String>,
}

/// Where the servers' correlated randomness comes from, which fixes the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offline {
    /// Two servers and a dealer (SecureML with a trusted dealer; FSS for the non-linear steps).
    Dealer,
    /// Two servers alone: OT extension between them, garbled circuits for the non-linear steps.
    Ot,
    /// SecureNN's three servers: the helper deals and takes part in every comparison.
    Helper,
    /// PrivPy's four servers: two assistants compute the products and comparisons online, and
    /// the servers run OT between them for what else they need.
    Assistants,
}

impl Offline {
    fn name(self) -> &'static str {
        match self {
            Offline::Dealer => "dealer",
            Offline::Ot => "ot",
            Offline::Helper => "helper",
            Offline::Assistants => "assistants",
        }
    }
}

/// How a data owner turns its CSV's feature columns into the values it shares (networks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepare {
    /// Standardized with the training rows' mean and standard deviation.
    Standardize,
    /// Pixel values 0 to 255, divided by 255 (as SecureNN's MNIST).
    Pixels,
}

/// A network job: the network, its public initial weights and the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkJob {
    /// What it is, for the log: `mlp 30-16-2` or `securenn A`.
    pub name: String,
    /// The network.
    pub net: Network,
    /// Its public initial weights (one matrix per dense or convolution layer).
    pub init: Vec<Vec<f64>>,
    /// Which initial weights (public).
    pub init_weights: u64,
    /// The loss.
    pub loss: MlpLoss,
    /// How owners prepare their features.
    pub prepare: Prepare,
    /// The number of classes (the network's output width).
    pub classes: usize,
}

impl NetworkJob {
    /// The number of weights.
    pub fn weight_count(&self) -> usize {
        self.init.iter().map(Vec::len).sum()
    }
}

/// What is trained.
#[derive(Clone, Debug, PartialEq)]
pub enum JobKind {
    /// `train_glm`: linear or logistic regression (SecureML).
    Glm {
        /// The model.
        model: GlmModel,
        /// How the owners split the table.
        partition: Partition,
    },
    /// `train_mlp` or `train_network`: a network trained by back-propagation on one-hot
    /// targets.
    Network(NetworkJob),
}

/// A checked job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// What is trained.
    pub kind: JobKind,
    /// The offline phase (and so the topology).
    pub offline: Offline,
    /// SGD settings.
    pub sgd: SgdParams,
    /// Fractional bits (ring Z_2^64).
    pub frac_bits: u32,
    /// Truncation after products.
    pub truncation: Truncation,
    /// How many data owners submit data.
    pub owners: usize,
}

fn refuse<T>(msg: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(msg.into()))
}

fn one_of<T: Copy>(field: &str, v: &str, options: &[(&str, T)]) -> Result<T, Invalid> {
    match options.iter().find(|o| o.0 == v) {
        Some(o) => Ok(o.1),
        None => {
            let names: Vec<&str> = options.iter().map(|o| o.0).collect();
            refuse(format!(
                "{field} = {v:?}: must be one of {}",
                names.join(", ")
            ))
        }
    }
}

impl RawJob {
    /// Checks every setting and builds the job; the error says which setting and why.
    pub fn check(self) -> Result<Job, Invalid> {
        let offline = one_of(
            "offline",
            self.offline.as_deref().unwrap_or("dealer"),
            &[
                ("dealer", Offline::Dealer),
                ("ot", Offline::Ot),
                ("helper", Offline::Helper),
                ("assistants", Offline::Assistants),
            ],
        )?;
        let owners = self.owners.unwrap_or(1);
        if owners == 0 || owners > MAX_OWNERS {
            return refuse(format!("owners = {owners}: must be 1 to {MAX_OWNERS}"));
        }
        let d = SgdParams::default();
        let sgd = SgdParams {
            epochs: self.epochs.unwrap_or(d.epochs),
            batch: self.batch.unwrap_or(d.batch),
            learning_rate: self.learning_rate.unwrap_or(d.learning_rate),
        };
        if sgd.epochs == 0 || sgd.batch == 0 {
            return refuse("epochs and batch must be at least 1");
        }
        if !(sgd.learning_rate.is_finite() && sgd.learning_rate > 0.0) {
            return refuse(format!(
                "learning_rate = {}: must be a positive number",
                sgd.learning_rate
            ));
        }
        let frac_bits = self.frac_bits.unwrap_or(16);
        Config::new(64, frac_bits).map_err(|e| Invalid(format!("frac_bits = {frac_bits}: {e}")))?;
        let truncation = one_of(
            "truncation",
            self.truncation.as_deref().unwrap_or("local"),
            &[
                ("local", Truncation::Local),
                ("pairs", Truncation::Pairs),
                ("exact", Truncation::Exact),
            ],
        )?;
        let not_for = |field: &str, present: bool, kind: &str| {
            if present {
                refuse(format!("`{field}` does not apply to kind = {kind:?}"))
            } else {
                Ok(())
            }
        };
        let kind = match self.kind.as_str() {
            "train_glm" => {
                for (f, p) in [
                    ("sizes", self.sizes.is_some()),
                    ("network", self.network.is_some()),
                    ("loss", self.loss.is_some()),
                    ("init_weights", self.init_weights.is_some()),
                    ("prepare", self.prepare.is_some()),
                ] {
                    not_for(f, p, "train_glm")?;
                }
                let model = match self.model.as_deref().unwrap_or("logistic") {
                    "linear" => {
                        not_for(
                            "sigmoid",
                            self.sigmoid.is_some(),
                            "train_glm with model = \"linear\"",
                        )?;
                        GlmModel::Linear
                    }
                    "logistic" => GlmModel::Logistic(one_of(
                        "sigmoid",
                        self.sigmoid.as_deref().unwrap_or("piecewise"),
                        &[
                            ("piecewise", Sigmoid::Piecewise),
                            ("accurate", Sigmoid::Accurate),
                        ],
                    )?),
                    other => {
                        return refuse(format!(
                            "model = {other:?}: must be one of linear, logistic"
                        ));
                    }
                };
                let partition = one_of(
                    "partition",
                    self.partition.as_deref().unwrap_or("rows"),
                    &[("rows", Partition::Rows), ("columns", Partition::Columns)],
                )?;
                JobKind::Glm { model, partition }
            }
            kind @ ("train_mlp" | "train_network") => {
                for (f, p) in [
                    ("model", self.model.is_some()),
                    ("sigmoid", self.sigmoid.is_some()),
                    ("partition", self.partition.is_some()),
                ] {
                    not_for(f, p, kind)?;
                }
                let init_weights = self.init_weights.unwrap_or(1);
                let (name, net, init) = if kind == "train_mlp" {
                    not_for("network", self.network.is_some(), kind)?;
                    let Some(sizes) = self.sizes else {
                        return refuse(
                            "kind = \"train_mlp\" needs `sizes` (the layer widths, inputs first: [30, 16, 2])",
                        );
                    };
                    if sizes.len() < 2 || sizes.contains(&0) {
                        return refuse(
                            "sizes: at least two layer widths (inputs and outputs), each at least 1",
                        );
                    }
                    let count = sizes.windows(2).try_fold(0usize, |acc, io| {
                        (io[0].checked_add(1)?)
                            .checked_mul(io[1])
                            .and_then(|n| acc.checked_add(n))
                    });
                    if count.is_none_or(|c| c > MAX_WEIGHTS) {
                        return refuse(format!(
                            "sizes: the network would have more than {MAX_WEIGHTS} weights"
                        ));
                    }
                    let text: Vec<String> = sizes.iter().map(usize::to_string).collect();
                    let init = Mlp::init(&sizes, init_weights).layers;
                    (format!("mlp {}", text.join("-")), mlp_network(&sizes), init)
                } else {
                    not_for("sizes", self.sizes.is_some(), kind)?;
                    let Some(n) = self.network else {
                        return refuse(
                            "kind = \"train_network\" needs `network` (SecureNN's \"A\", \"B\", \"C\" or \"D\")",
                        );
                    };
                    let mut chars = n.chars();
                    let net = match (chars.next(), chars.next()) {
                        (Some(c), None) => securenn_network(c.to_ascii_uppercase()),
                        _ => None,
                    };
                    let Some(net) = net else {
                        return refuse(format!(
                            "network = {n:?}: must be one of SecureNN's \"A\", \"B\", \"C\", \"D\""
                        ));
                    };
                    let init = train::init_weights(&net, init_weights);
                    (format!("securenn {}", n.to_ascii_uppercase()), net, init)
                };
                let classes = net
                    .check()
                    .map_err(|e| Invalid(format!("the network is not valid: {e}")))?;
                net.check_weights(&init)
                    .map_err(|e| Invalid(format!("the network is not valid: {e}")))?;
                let loss = one_of(
                    "loss",
                    self.loss.as_deref().unwrap_or("squared"),
                    &[
                        ("squared", MlpLoss::Squared),
                        ("relu_softmax", MlpLoss::ReluSoftmax),
                    ],
                )?;
                let prepare = one_of(
                    "prepare",
                    self.prepare.as_deref().unwrap_or("standardize"),
                    &[
                        ("standardize", Prepare::Standardize),
                        ("pixels", Prepare::Pixels),
                    ],
                )?;
                JobKind::Network(NetworkJob {
                    name,
                    net,
                    init,
                    init_weights,
                    loss,
                    prepare,
                    classes,
                })
            }
            other => {
                return refuse(format!(
                    "kind = {other:?}: must be one of train_glm, train_mlp, train_network"
                ));
            }
        };
        Ok(Job {
            kind,
            offline,
            sgd,
            frac_bits,
            truncation,
            owners,
        })
    }
}

impl Job {
    /// `train_glm`, `train_mlp` or `train_network`.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            JobKind::Glm { .. } => "train_glm",
            JobKind::Network(n) if n.name.starts_with("mlp") => "train_mlp",
            JobKind::Network(_) => "train_network",
        }
    }

    /// The protocol settings of the servers.
    pub fn protocol(&self) -> Config {
        let mut c = Config::new(64, self.frac_bits).unwrap_or_default();
        c.truncation = self.truncation;
        c
    }

    /// Every setting of the job in one line: what the log shows, and what the servers and the
    /// owners bind into their session id (two parties whose lines differ refuse each other).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{} offline={} owners={} epochs={} batch={} learning_rate={:?} frac_bits={} truncation={:?}",
            self.kind_name(),
            self.offline.name(),
            self.owners,
            self.sgd.epochs,
            self.sgd.batch,
            self.sgd.learning_rate,
            self.frac_bits,
            self.truncation,
        );
        match &self.kind {
            JobKind::Glm { model, partition } => {
                let _ = write!(s, " model={model:?} partition={partition:?}");
            }
            JobKind::Network(n) => {
                let _ = write!(
                    s,
                    " network={:?} init_weights={} loss={:?} prepare={:?}",
                    n.name, n.init_weights, n.loss, n.prepare
                );
            }
        }
        s
    }
}
