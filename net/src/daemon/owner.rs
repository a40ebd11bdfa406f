//! A data owner: prepares its CSV file (every check before the first connection), shares its
//! part with both servers, and, as owner 0, reconstructs the model, compares it with the same
//! training in plaintext, and writes it out.

use super::config::{Config, Role};
use super::conn::{Conn, Faults};
use super::job::{Job, JobKind, NetworkJob, Prepare};
use super::log::Log;
use super::{Summary, job_session, net_error, os_seed};
use crate::tls::Endpoint;
use fixshare::ml::data::{FeatureStats, Standardizer};
use fixshare::ml::pipeline::{self, Classes, GlmPlan, TEST_EVERY};
use fixshare::ml::train::train_network_plain;
use fixshare::ml::{Dataset, GlmModel, plain};
use fixshare::{FixedPoint, Link, block_on_thread};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What owner 0 writes: the job, the weights, and the standardization they expect.
#[derive(Serialize)]
struct ModelFile {
    /// The job's settings ([`Job::describe`]).
    job: String,
    /// The feature columns, in order.
    features: Vec<String>,
    /// How each raw feature is prepared before the model applies: `(x - mean) / std`, or `x /
    /// 255` for pixels (then `mean` is 0 and `std` 255).
    mean: Vec<f64>,
    /// See `mean`.
    std: Vec<f64>,
    /// Linear regression: the target's mean and standard deviation (the model predicts the
    /// standardized target).
    #[serde(skip_serializing_if = "Option::is_none")]
    target_mean: Option<f64>,
    /// See `target_mean`.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_std: Option<f64>,
    /// Regression weights, the bias last.
    #[serde(skip_serializing_if = "Option::is_none")]
    weights: Option<Vec<f64>>,
    /// A network's weights, one matrix per dense or convolution layer (row-major, bias row
    /// last).
    #[serde(skip_serializing_if = "Option::is_none")]
    layers: Option<Vec<Vec<f64>>>,
}

/// The CSV at `path`, gunzipped when it ends in `.gz`; errors name the file, line and column.
fn load(path: &Path) -> Result<Dataset, String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut bytes = Vec::new();
    let read = if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file).read_to_end(&mut bytes)
    } else {
        std::io::BufReader::new(file).read_to_end(&mut bytes)
    };
    read.map_err(|e| format!("{name}: {e}"))?;
    Dataset::from_csv_bytes(&bytes).map_err(|e| format!("{name}: {e}"))
}

/// What this owner shares, and what owner 0 needs to check the model.
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

/// Writes `model` to `path` (through a temporary file renamed into place).
fn write_model(path: &Path, model: &ModelFile) -> Result<(), String> {
    let text = toml::to_string(model).map_err(|e| format!("encoding the model: {e}"))?;
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("writing the model to {}: {e}", path.display()))
}

pub(crate) fn own(
    cfg: &Config,
    data_path: &Path,
    model_out: Option<&Path>,
    log: &Log,
) -> Result<Summary, String> {
    let started = Instant::now();
    let job = cfg.job.as_ref().ok_or("an owner needs a [job]")?;
    let index = cfg.owner_index;
    let model_out = model_out.map(Path::to_path_buf).or(cfg.model_out.clone());
    if model_out.is_some() && index != 0 {
        return Err("only owner 0 gets the model: --model is for owner 0".into());
    }
    log.line(format_args!(
        "owner {index} of session {:?}: {}",
        cfg.session,
        job.describe()
    ));

    // Every check of the data before the first connection.
    let data = load(data_path)?;
    let prepared = prepare(job, &data, index).map_err(|e| {
        if e.starts_with(&data_path.display().to_string()) {
            e
        } else {
            format!("{}: {e}", data_path.display())
        }
    })?;
    let (rows, cols) = match &prepared {
        Prepared::Glm { part, .. } => (part.x.len() / part.cols.max(1), part.cols),
        Prepared::Network { part, .. } => (part.rows(), part.features),
    };
    log.line(format_args!(
        "{}: {} rows x {} features; sharing {rows} training rows x {cols} columns",
        data_path.display(),
        data.rows(),
        data.features()
    ));

    let ep = Endpoint::new(
        cfg.identity.clone(),
        Role::Owner.party_id(),
        job_session(&cfg.session, job),
    )
    .with_timeouts(cfg.timeouts.net);
    let faults = Faults::default();
    let connect = |role: Role| -> Result<Link<Conn>, String> {
        let p = cfg
            .peer(role)
            .ok_or_else(|| format!("{role} is not configured"))?;
        let addr = p.address.as_deref().unwrap_or_default();
        let t = ep
            .connect(addr, role.party_id(), p.pin)
            .map_err(|e| net_error(&format!("connecting to {role} at {addr}"), &e))?;
        log.line(format_args!(
            "connected to {role} at {addr} ({})",
            t.negotiated()
        ));
        let mut c = Conn::new(t, role.name(), &faults);
        // The servers take this owner's rows once every owner is there, and answer after
        // training: waits of the job's length, not of one protocol step.
        c.set_timeouts(cfg.timeouts.result, cfg.timeouts.result);
        Ok(Link::new(c))
    };
    let mut to0 = connect(Role::Server0)?;
    let mut to1 = connect(Role::Server1)?;
    let fixed = job.protocol().fixed;
    let seed = os_seed()?;
    let model_len = match &job.kind {
        JobKind::Glm { .. } => data.features() + 1,
        JobKind::Network(n) => n.weight_count(),
    };
    let wants = (index == 0).then_some(model_len);
    let result = block_on_thread(async {
        let r = match &prepared {
            Prepared::Glm { part, .. } => {
                pipeline::own::<u64, _, _>(part, seed, fixed, &mut to0, &mut to1, wants).await
            }
            Prepared::Network { part, .. } => {
                let k = match &job.kind {
                    JobKind::Network(n) => n.classes,
                    JobKind::Glm { .. } => 1,
                };
                pipeline::own_classes::<u64, _, _>(part, k, seed, fixed, &mut to0, &mut to1, wants)
                    .await
            }
        }?;
        to0.flush_pending("owner").await?;
        to1.flush_pending("owner").await?;
        Ok::<_, fixshare::Error>(r)
    });
    let weights = result.map_err(|e| match faults.first() {
        Some(f) => format!("sharing with the servers: {e} ({f})"),
        None => format!("sharing with the servers: {e}"),
    })?;
    // Done: both connections close in order (a failure above cuts them instead).
    faults.done();
    drop((to0, to1));

    let mut s = Summary::default();
    s.push("role", format_args!("owner {index}"));
    s.push("session", &cfg.session);
    s.push("job", job.kind_name());
    s.push("status", "ok");
    s.push("rows_shared", rows);
    s.push("columns_shared", cols);
    let Some(flat) = weights else {
        log.line("shared; owner 0 gets the model. done");
        s.push(
            "seconds",
            format_args!("{:.3}", started.elapsed().as_secs_f64()),
        );
        return Ok(s);
    };
    log.line("received the model; checking it against the same training in plaintext");
    let model = match prepared {
        Prepared::Glm {
            model,
            train,
            test,
            standardizer,
            target,
            ..
        } => {
            let d = train.features();
            let reference = plain::train_glm(&train.x, &train.y, d, model, &job.sgd);
            let name = match model {
                GlmModel::Linear => "r2",
                GlmModel::Logistic(_) => "accuracy",
            };
            s.push(
                &format!("secure_{name}"),
                format_args!("{:.4}", pipeline::metric(model, &test, &flat)),
            );
            s.push(
                &format!("plaintext_{name}"),
                format_args!("{:.4}", pipeline::metric(model, &test, &reference)),
            );
            s.push(
                "weights_rel_rmse",
                format_args!("{:.3e}", plain::rel_rmse(&flat, &reference)),
            );
            ModelFile {
                job: job.describe(),
                features: data.feature_names.clone(),
                mean: standardizer.mean,
                std: standardizer.std,
                target_mean: target.as_ref().and_then(|t| t.mean.first().copied()),
                target_std: target.as_ref().and_then(|t| t.std.first().copied()),
                weights: Some(flat),
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
            let reference = train_network_plain(&n.net, &train.x, &y, &n.init, &job.sgd, n.loss)
                .map_err(|e| format!("the plaintext reference: {e}"))?;
            s.push(
                "secure_accuracy",
                format_args!("{:.4}", network_accuracy(n, &layers, &test)?),
            );
            s.push(
                "plaintext_accuracy",
                format_args!("{:.4}", network_accuracy(n, &reference, &test)?),
            );
            s.push(
                "weights_rel_rmse",
                format_args!(
                    "{:.3e}",
                    plain::rel_rmse(&layers.concat(), &reference.concat())
                ),
            );
            ModelFile {
                job: job.describe(),
                features: data.feature_names.clone(),
                mean: standardizer.mean,
                std: standardizer.std,
                target_mean: None,
                target_std: None,
                weights: None,
                layers: Some(layers),
            }
        }
    };
    if let Some(path) = &model_out {
        write_model(path, &model)?;
        log.line(format_args!("wrote the model to {}", path.display()));
        s.push("model", path.display());
    }
    s.push(
        "seconds",
        format_args!("{:.3}", started.elapsed().as_secs_f64()),
    );
    log.line("done");
    Ok(s)
}
