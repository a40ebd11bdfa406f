//! A data owner's part of a job, without I/O: its preparation of the table (every check before
//! the first connection), the sharing itself over two links, and, for owner 0, the model
//! checked against the same training in plaintext. `fixshare-party owner` (a file, TLS) and the
//! WASM package's `JobOwner` (a page, WebSockets) both run it, so a browser owner shares what
//! the daemon would.

use crate::job::{Job, JobKind, NetworkJob, Prepare};
use fixshare::ml::data::{FeatureStats, Standardizer};
use fixshare::ml::pipeline::{self, Classes, GlmPlan, TEST_EVERY};
use fixshare::ml::train::train_network_plain;
use fixshare::ml::{Dataset, GlmModel, plain};
use fixshare::{Error, FixedPoint, Link, Seed, Transport};
use serde::Serialize;

/// What owner 0 writes: the job, the weights, and the standardization they expect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFile {
    /// The job's settings ([`Job::describe`]).
    pub job: String,
    /// The feature columns, in order.
    pub features: Vec<String>,
    /// How each raw feature is prepared before the model applies: `(x - mean) / std`, or `x /
    /// 255` for pixels (then `mean` is 0 and `std` 255).
    pub mean: Vec<f64>,
    /// See `mean`.
    pub std: Vec<f64>,
    /// Linear regression: the target's mean and standard deviation (the model predicts the
    /// standardized target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_mean: Option<f64>,
    /// See `target_mean`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_std: Option<f64>,
    /// Regression weights, the bias last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    /// A network's weights, one matrix per dense or convolution layer (row-major, bias row
    /// last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<Vec<f64>>>,
}

impl ModelFile {
    /// The model as a TOML document (what `fixshare-party owner` writes to its model file).
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| format!("encoding the model: {e}"))
    }
}

/// Owner 0's model with its check: `name: value` lines (`secure_accuracy` or `secure_r2`, the
/// same for the plaintext SGD on the same rows, `weights_rel_rmse`) and the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelReport {
    /// The metrics, in order.
    pub metrics: Vec<(String, String)>,
    /// The model.
    pub model: ModelFile,
}

/// What this owner shares, and what owner 0 needs to check the model.
#[derive(Clone, Debug)]
enum Prepared {
    Glm {
        model: GlmModel,
        part: pipeline::OwnerPart,
        train: Dataset,
        test: Dataset,
        standardizer: Standardizer,
        target: Option<Standardizer>,
    },
    Network {
        part: Classes,
        train: Classes,
        test: Classes,
        standardizer: Standardizer,
    },
}

/// One data owner's share of a job, prepared: what it will send to the servers, and what owner
/// 0 needs to check the model it gets back.
#[derive(Clone, Debug)]
pub struct OwnerData {
    job: Job,
    index: usize,
    prepared: Prepared,
    features: Vec<String>,
    table_rows: usize,
    table_features: usize,
}

/// Pixels 0..255 divided by 255, labels `0..classes`, every `TEST_EVERY`-th row a test row.
fn pixels(data: &Dataset, classes: usize) -> Result<(Classes, Classes, Standardizer), String> {
    data.check_class_target(classes)
        .map_err(|e| e.to_string())?;
    if let Some((i, v)) = data
        .x
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=255.0).contains(*v))
    {
        let d = data.features().max(1);
        let line = data.lines.get(i / d).copied().unwrap_or(0);
        return Err(format!(
            "line {line}, column {}: {v} is not a pixel value (0 to 255; the job says prepare = \"pixels\")",
            i % d + 1
        ));
    }
    let (train, test) = data.split_every(TEST_EVERY);
    let classes_of = |t: Dataset| Classes {
        x: t.x.iter().map(|v| v / 255.0).collect(),
        features: t.features(),
        labels: t.y.iter().map(|&v| v as usize).collect(),
    };
    let d = data.features();
    let s = Standardizer {
        mean: vec![0.0; d],
        std: vec![255.0; d],
    };
    Ok((classes_of(train), classes_of(test), s))
}

fn prepare(job: &Job, data: &Dataset, index: usize) -> Result<Prepared, String> {
    let fixed: FixedPoint = job.protocol().fixed;
    let too_few = |rows: usize| {
        format!(
            "{rows} rows leave no test row (every {TEST_EVERY}th row is one): the job's \
             metrics would mean nothing"
        )
    };
    match &job.kind {
        JobKind::Glm { model, partition } => {
            let plan = GlmPlan {
                model: *model,
                sgd: job.sgd,
                partition: *partition,
                owners: job.owners,
            };
            let prepared =
                pipeline::prepare::<u64>(data, &plan, fixed).map_err(|e| e.to_string())?;
            if prepared.test.rows() == 0 {
                return Err(too_few(data.rows()));
            }
            if prepared.parts.len() != job.owners {
                return Err(format!(
                    "the table has too few training {} for {} owners",
                    match partition {
                        pipeline::Partition::Rows => "rows",
                        pipeline::Partition::Columns => "columns",
                    },
                    job.owners
                ));
            }
            let (raw_train, _) = data.split_every(TEST_EVERY);
            let d = data.features();
            let standardizer = Standardizer::from_stats(&FeatureStats::from_rows(&raw_train.x, d));
            let target = (*model == GlmModel::Linear)
                .then(|| Standardizer::from_stats(&FeatureStats::from_rows(&raw_train.y, 1)));
            Ok(Prepared::Glm {
                model: *model,
                part: prepared.parts[index].clone(),
                train: prepared.train,
                test: prepared.test,
                standardizer,
                target,
            })
        }
        JobKind::Network(n) => {
            if data.features() != n.net.input {
                return Err(format!(
                    "{} feature columns, but {} takes {}",
                    data.features(),
                    n.name,
                    n.net.input
                ));
            }
            let (train, test, standardizer) = match n.prepare {
                Prepare::Standardize => pipeline::prepare_classes::<u64>(data, n.classes, fixed)
                    .map_err(|e| e.to_string())?,
                Prepare::Pixels => pixels(data, n.classes)?,
            };
            if test.rows() == 0 {
                return Err(too_few(data.rows()));
            }
            let part = train.part(job.owners, index);
            if part.rows() == 0 {
                return Err(format!(
                    "{} training rows are too few for {} owners",
                    train.rows(),
                    job.owners
                ));
            }
            Ok(Prepared::Network {
                part,
                train,
                test,
                standardizer,
            })
        }
    }
}

/// The accuracy of `weights` for `n` on `data`.
fn network_accuracy(n: &NetworkJob, weights: &[Vec<f64>], data: &Classes) -> Result<f64, String> {
    let out = fixshare::ml::inference::forward_plain(&n.net, weights, &data.x, data.rows())
        .map_err(|e| e.to_string())?;
    let k = n.classes.max(1);
    let right = out
        .chunks_exact(k)
        .zip(&data.labels)
        .filter(|(row, l)| plain::argmax(row) == **l)
        .count();
    Ok(right as f64 / data.rows().max(1) as f64)
}

impl OwnerData {
    /// Owner `index`'s part of `data` (the table the owners prepared together, the target
    /// last) for `job`: every check of the data, the split (every 5th row a test row), the
    /// standardization (or pixel scaling) and the owner's block of it, as `fixshare::ml::pipeline`
    /// does. Fails, before anything is sent, naming the line and column of a bad cell.
    pub fn prepare(job: &Job, data: &Dataset, index: usize) -> Result<OwnerData, String> {
        if index >= job.owners {
            return Err(format!(
                "owner {index}, but the job has {} data owner(s)",
                job.owners
            ));
        }
        Ok(OwnerData {
            prepared: prepare(job, data, index)?,
            job: job.clone(),
            index,
            features: data.feature_names.clone(),
            table_rows: data.rows(),
            table_features: data.features(),
        })
    }

    /// [`OwnerData::prepare`] of a CSV file's bytes (a header row, numeric cells, the target
    /// last).
    pub fn from_csv_bytes(job: &Job, csv: &[u8], index: usize) -> Result<OwnerData, String> {
        let data = Dataset::from_csv_bytes(csv).map_err(|e| e.to_string())?;
        OwnerData::prepare(job, &data, index)
    }

    /// This owner's number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The job.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The table's rows and feature columns (all of them, test rows included).
    pub fn table(&self) -> (usize, usize) {
        (self.table_rows, self.table_features)
    }

    /// The training rows and columns this owner shares.
    pub fn shared(&self) -> (usize, usize) {
        match &self.prepared {
            Prepared::Glm { part, .. } => (part.x.len() / part.cols.max(1), part.cols),
            Prepared::Network { part, .. } => (part.rows(), part.features),
        }
    }

    /// What this owner hands `fixshare::ml::share::share_part`, in order, as
    /// `pipeline::own` (one part: features and targets) and `pipeline::own_classes` (the
    /// features, then the labels one-hot over the job's classes) do: each part's features
    /// row-major, its column count and its targets, if any.
    pub fn parts(&self) -> Vec<pipeline::OwnerPart> {
        match (&self.prepared, &self.job.kind) {
            (Prepared::Glm { part, .. }, _) => vec![part.clone()],
            (Prepared::Network { part, .. }, kind) => {
                let classes = match kind {
                    JobKind::Network(n) => n.classes,
                    JobKind::Glm { .. } => 1,
                };
                vec![
                    pipeline::OwnerPart {
                        x: part.x.clone(),
                        cols: part.features,
                        y: None,
                    },
                    pipeline::OwnerPart {
                        x: pipeline::one_hot(&part.labels, classes),
                        cols: classes,
                        y: None,
                    },
                ]
            }
        }
    }

    /// The number of weights of the model owner 0 gets back.
    pub fn model_len(&self) -> usize {
        match &self.job.kind {
            JobKind::Glm { .. } => self.table_features + 1,
            JobKind::Network(n) => n.weight_count(),
        }
    }

    /// Shares this owner's part with server 0 (`to0`) and server 1 (`to1`), seeded by `seed`
    /// (fresh randomness of the host), with `fixshare::ml::pipeline::own` or `own_classes`, and
    /// flushes both links; owner 0 then waits for the model and returns its weights, flat.
    pub async fn share<T0: Transport, T1: Transport>(
        &self,
        seed: Seed,
        to0: &mut Link<T0>,
        to1: &mut Link<T1>,
    ) -> Result<Option<Vec<f64>>, Error> {
        let fixed = self.job.protocol().fixed;
        let wants = (self.index == 0).then_some(self.model_len());
        let r = match (&self.prepared, &self.job.kind) {
            (Prepared::Glm { part, .. }, _) => {
                pipeline::own::<u64, _, _>(part, seed, fixed, to0, to1, wants).await
            }
            (Prepared::Network { part, .. }, JobKind::Network(n)) => {
                pipeline::own_classes::<u64, _, _>(part, n.classes, seed, fixed, to0, to1, wants)
                    .await
            }
            (Prepared::Network { part, .. }, JobKind::Glm { .. }) => {
                pipeline::own_classes::<u64, _, _>(part, 1, seed, fixed, to0, to1, wants).await
            }
        }?;
        to0.flush_pending("owner").await?;
        to1.flush_pending("owner").await?;
        Ok(r)
    }

    /// Owner 0: the model in `flat` (as [`OwnerData::share`] returned it) checked against the
    /// same SGD in plaintext `f64` on the same rows, and the model file.
    pub fn check_model(&self, flat: &[f64]) -> Result<ModelReport, String> {
        if flat.len() != self.model_len() {
            return Err(format!(
                "the model has {} weights; the job's has {}",
                flat.len(),
                self.model_len()
            ));
        }
        let job = &self.job;
        let mut metrics = Vec::new();
        let mut push = |name: &str, value: String| metrics.push((name.to_string(), value));
        let model = match &self.prepared {
            Prepared::Glm {
                model,
                train,
                test,
                standardizer,
                target,
                ..
            } => {
                let d = train.features();
                let reference = plain::train_glm(&train.x, &train.y, d, *model, &job.sgd);
                let name = match model {
                    GlmModel::Linear => "r2",
                    GlmModel::Logistic(_) => "accuracy",
                };
                push(
                    &format!("secure_{name}"),
                    format!("{:.4}", pipeline::metric(*model, test, flat)),
                );
                push(
                    &format!("plaintext_{name}"),
                    format!("{:.4}", pipeline::metric(*model, test, &reference)),
                );
                push(
                    "weights_rel_rmse",
                    format!("{:.3e}", plain::rel_rmse(flat, &reference)),
                );
                ModelFile {
                    job: job.describe(),
                    features: self.features.clone(),
                    mean: standardizer.mean.clone(),
                    std: standardizer.std.clone(),
                    target_mean: target.as_ref().and_then(|t| t.mean.first().copied()),
                    target_std: target.as_ref().and_then(|t| t.std.first().copied()),
                    weights: Some(flat.to_vec()),
                    layers: None,
                }
            }
            Prepared::Network {
                train,
                test,
                standardizer,
                ..
            } => {
                let JobKind::Network(n) = &job.kind else {
                    return Err("a network's data for another job".into());
                };
                let mut layers = Vec::new();
                let mut at = 0;
                for w in &n.init {
                    layers.push(flat[at..at + w.len()].to_vec());
                    at += w.len();
                }
                let y = pipeline::one_hot(&train.labels, n.classes);
                let reference =
                    train_network_plain(&n.net, &train.x, &y, &n.init, &job.sgd, n.loss)
                        .map_err(|e| format!("the plaintext reference: {e}"))?;
                push(
                    "secure_accuracy",
                    format!("{:.4}", network_accuracy(n, &layers, test)?),
                );
                push(
                    "plaintext_accuracy",
                    format!("{:.4}", network_accuracy(n, &reference, test)?),
                );
                push(
                    "weights_rel_rmse",
                    format!(
                        "{:.3e}",
                        plain::rel_rmse(&layers.concat(), &reference.concat())
                    ),
                );
                ModelFile {
                    job: job.describe(),
                    features: self.features.clone(),
                    mean: standardizer.mean.clone(),
                    std: standardizer.std.clone(),
                    target_mean: None,
                    target_std: None,
                    weights: None,
                    layers: Some(layers),
                }
            }
        };
        Ok(ModelReport { metrics, model })
    }
}
