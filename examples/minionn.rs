//! MiniONN's MNIST models served obliviously: a model trained in plaintext by the project is held
//! by the server, each test image by the client; the client learns the class and nothing else,
//! the server learns nothing.
//!
//! ```text
//! cargo run --release --example minionn -- --model fig12 --images 100
//! cargo run --release --example minionn -- --model fig10 --backend gc --offline ot
//! ```
//!
//! The models are MiniONN's Figures 10 (square-activation perceptron), 11 (CryptoNets' CNN) and
//! 12 (ReLU and max-pooling CNN), `fixshare_examples::ml::minionn`. Training: mini-batch SGD in
//! `f64` on the first 8,000 images of the project's MNIST file (pixels / 255), deterministic
//! (initial weights from seed 1, rows in file order), the plaintext accuracy on the 2,000 test
//! images printed after each epoch. Serving: the first `--images` test images, `--per-query`
//! images per query (MiniONN: one), each query one `Party::classify` in a session of the server
//! (party 0, the weights) and the client (party 1, the images), with the non-linear layers by
//! `--backend`: `fss` (function secret sharing, keys from a dealer), `gc` (garbled circuits;
//! random OTs by OT extension between the two, or from a dealer with `--offline dealer`),
//! `helper` (SecureNN's third server online), `auto` (FSS with the dealer).
//!
//! Ends with `name: value` lines: `secure_accuracy`, `plaintext_accuracy` (on the served
//! images), `same_class_fraction` (the client's class equals the plaintext forward pass's),
//! `online_seconds_per_image`, `offline_seconds_per_image` (the client's; the offline setup
//! shared by all queries), `online_bytes_per_image`, `offline_bytes_per_image` (all parties),
//! `online_rounds_per_image`, and the plaintext baseline of the same run:
//! `plaintext_seconds_per_image` (the `f64` forward pass) and `online_to_plaintext_ratio`.

use fixshare::ml::SgdParams;
use fixshare::{Backend, Config, Truncation};
use fixshare_examples::ml::Offline;
use fixshare_examples::ml::minionn::{Model, load_mnist, mnist_split, train_plain};
use fixshare_examples::ml::serve::{ServeTask, classify_local, classify_plain};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: minionn --model fig10|fig11|fig12 [--images N] \
                     [--backend gc|fss|helper|auto] [--offline ot|dealer] [--per-query N] \
                     [--epochs N] [--lr X] [--batch N] [--truncation local|pairs|exact] \
                     [--data PATH]";

struct Args {
    model: Model,
    images: usize,
    backend: Backend,
    offline: Option<Offline>,
    per_query: usize,
    epochs: Option<usize>,
    lr: Option<f64>,
    batch: Option<usize>,
    truncation: Truncation,
    data: String,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        model: Model::Fig12,
        images: 100,
        backend: Backend::Auto,
        offline: None,
        per_query: 1,
        epochs: None,
        lr: None,
        batch: None,
        truncation: Truncation::Local,
        data: concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz").to_string(),
    };
    let mut model = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let int = || {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{flag}: not a positive integer: {v:?}"))
        };
        match flag.as_str() {
            "--model" => {
                model =
                    Some(Model::parse(&v).ok_or_else(|| format!("unknown model {v:?}\n{USAGE}"))?)
            }
            "--images" => a.images = int()?,
            "--per-query" => a.per_query = int()?,
            "--epochs" => a.epochs = Some(int()?),
            "--batch" => a.batch = Some(int()?),
            "--lr" => {
                a.lr = Some(
                    v.parse()
                        .ok()
                        .filter(|x: &f64| x.is_finite() && *x > 0.0)
                        .ok_or_else(|| format!("--lr: not a positive number: {v:?}"))?,
                )
            }
            "--backend" => {
                a.backend = match v.as_str() {
                    "gc" => Backend::GarbledCircuits,
                    "fss" => Backend::Fss,
                    "helper" => Backend::Helper,
                    "auto" => Backend::Auto,
                    _ => return Err(format!("unknown backend {v:?}\n{USAGE}")),
                }
            }
            "--offline" => {
                a.offline = Some(match v.as_str() {
                    "ot" => Offline::Ot,
                    "dealer" => Offline::Dealer,
                    _ => return Err(format!("--offline must be ot or dealer, got {v:?}")),
                })
            }
            "--truncation" => {
                a.truncation = match v.as_str() {
                    "local" => Truncation::Local,
                    "pairs" => Truncation::Pairs,
                    "exact" => Truncation::Exact,
                    _ => return Err(format!("unknown truncation {v:?}\n{USAGE}")),
                }
            }
            "--data" => a.data = v,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    a.model = model.ok_or_else(|| format!("--model is required\n{USAGE}"))?;
    Ok(a)
}

/// The offline phase `backend` runs with: FSS and auto need the dealer, the helper its three
/// servers, garbled circuits OT unless `--offline dealer`.
fn offline_for(backend: Backend, offline: Option<Offline>) -> Result<Offline, String> {
    match (backend, offline) {
        (Backend::Helper, None) => Ok(Offline::Helper),
        (Backend::Helper, Some(_)) => Err("--backend helper deals through its third server; \
                                           leave out --offline"
            .into()),
        (Backend::Fss | Backend::Auto, None | Some(Offline::Dealer)) => Ok(Offline::Dealer),
        (Backend::Fss | Backend::Auto, Some(_)) => {
            Err("--backend fss needs the dealer (--offline dealer)".into())
        }
        (Backend::GarbledCircuits, o) => Ok(o.unwrap_or(Offline::Ot)),
    }
}

fn run() -> Result<(), String> {
    let a = parse()?;
    let offline = offline_for(a.backend, a.offline)?;
    let defaults = a.model.sgd();
    let sgd = SgdParams {
        epochs: a.epochs.unwrap_or(defaults.epochs),
        batch: a.batch.unwrap_or(defaults.batch),
        learning_rate: a.lr.unwrap_or(defaults.learning_rate),
    };
    let (train_set, test_set) = mnist_split(&load_mnist(&a.data)?)?;
    let net = a.model.network();
    println!(
        "model {}: {} weights, {} training and {} test images, {sgd:?}",
        a.model.name(),
        a.model.init_weights().iter().map(Vec::len).sum::<usize>(),
        train_set.rows(),
        test_set.rows(),
    );
    let t = Instant::now();
    let weights = train_plain(a.model, &sgd, &train_set, &test_set, |epoch, acc| {
        println!(
            "epoch {epoch}/{}: plaintext test accuracy {acc:.4} ({:.1} s)",
            sgd.epochs,
            t.elapsed().as_secs_f64()
        )
    })?;

    let rows = a.images.min(test_set.rows());
    let served = test_set.select(0..rows);
    let (plain, plain_time) =
        classify_plain(&net, &weights, &served.x, rows, a.per_query).map_err(|e| e.to_string())?;
    let config = Config {
        backend: a.backend,
        truncation: a.truncation,
        ..Config::default()
    };
    println!(
        "serving {rows} test images, {} per query: backend {:?}, offline {offline:?}, \
         truncation {:?}",
        a.per_query, a.backend, a.truncation
    );
    let task = ServeTask {
        offline,
        config,
        batch: a.per_query,
        seed: None,
    };
    let report =
        classify_local(&net, &weights, &served.x, rows, &task).map_err(|e| e.to_string())?;
    let frac = |n: usize| n as f64 / rows as f64;
    let right = |c: &[usize]| c.iter().zip(&served.labels).filter(|(a, b)| a == b).count();
    let same = report
        .classes
        .iter()
        .zip(&plain)
        .filter(|(a, b)| a == b)
        .count();
    let per_image = |v: f64| v / rows as f64;
    let online = per_image(report.online.as_secs_f64());
    let plain_seconds = per_image(plain_time.as_secs_f64());
    println!("secure_accuracy: {:.4}", frac(right(&report.classes)));
    println!("plaintext_accuracy: {:.4}", frac(right(&plain)));
    println!("same_class_fraction: {:.4}", frac(same));
    println!("online_seconds_per_image: {online:.6}");
    println!(
        "offline_seconds_per_image: {:.6}",
        per_image(report.offline.as_secs_f64())
    );
    println!(
        "online_bytes_per_image: {:.0}",
        per_image(report.online_bytes as f64)
    );
    println!(
        "offline_bytes_per_image: {:.0}",
        per_image(report.offline_bytes as f64)
    );
    println!(
        "online_rounds_per_image: {:.1}",
        per_image(report.rounds as f64)
    );
    println!("plaintext_seconds_per_image: {plain_seconds:.6}");
    println!(
        "online_to_plaintext_ratio: {:.1}",
        online / plain_seconds.max(f64::MIN_POSITIVE)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
