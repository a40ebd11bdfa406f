//! A data owner: prepares its CSV file (every check before the first connection), shares its
//! part with both servers, and, as owner 0, reconstructs the model, compares it with the same
//! training in plaintext, and writes it out.

use super::config::{Config, Role};
use super::conn::{Conn, Faults};
use super::log::Log;
use super::{Summary, job_session, net_error, os_seed};
use crate::tls::Endpoint;
use fixshare::ml::Dataset;
use fixshare::{Link, block_on_thread};
use fixshare_job::{Job, ModelFile, OwnerData};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// The CSV at `data_path` and what owner `index` of `job` shares of it: every check of the
/// data, with errors naming the file (and the line and column of a bad cell).
pub(crate) fn load_and_prepare(
    job: &Job,
    data_path: &Path,
    index: usize,
) -> Result<OwnerData, String> {
    let data = load(data_path)?;
    OwnerData::prepare(job, &data, index).map_err(|e| {
        if e.starts_with(&data_path.display().to_string()) {
            e
        } else {
            format!("{}: {e}", data_path.display())
        }
    })
}

/// Writes `model` to `path` (through a temporary file renamed into place).
fn write_model(path: &Path, model: &ModelFile) -> Result<(), String> {
    let text = model.to_toml()?;
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
    let prepared = load_and_prepare(job, data_path, index)?;
    let (rows, cols) = prepared.shared();
    let (table_rows, table_features) = prepared.table();
    log.line(format_args!(
        "{}: {table_rows} rows x {table_features} features; sharing {rows} training rows x \
         {cols} columns",
        data_path.display(),
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
    let seed = os_seed()?;
    let result = block_on_thread(prepared.share(seed, &mut to0, &mut to1));
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
    let report = prepared.check_model(&flat)?;
    for (name, value) in &report.metrics {
        s.push(name, value);
    }
    let model = report.model;
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
