//! The main example: privacy-preserving training (SecureML) on a real dataset.
//!
//! Data owners secret-share a CSV's training rows with two servers; the servers train a logistic
//! (or linear) regression by mini-batch SGD on the shares, with correlated randomness from a
//! dealer or from OT between them; data owner 0 alone reconstructs the model. The same SGD in
//! plaintext `f64` runs beside it on the same rows in the same order, and the summary compares
//! the two.
//!
//! ```text
//! cargo run --release --example train                       # logistic regression, breast_cancer.csv
//! cargo run --release --example train -- --model linear --lr 0.05 --epochs 20   # diabetes.csv
//! cargo run --release --example train -- --offline ot --sigmoid accurate
//! ```
//!
//! Each role as its own process over TCP on 127.0.0.1 (start them in any order):
//!
//! ```text
//! train --party dealer --listen 127.0.0.1:7100
//! train --party 0 --listen 127.0.0.1:7101 --dealer 127.0.0.1:7100
//! train --party 1 --listen 127.0.0.1:7102 --connect 127.0.0.1:7101 --dealer 127.0.0.1:7100
//! train --party owner --servers 127.0.0.1:7101,127.0.0.1:7102
//! ```
//! (with `--offline ot` there is no dealer: drop the dealer process and the `--dealer` flags).
//! Every process must get the same training flags. The owner prints the accuracy (or R^2) lines
//! and `weights_rel_rmse`; each server prints its own time, traffic and rounds.
//!
//! Data preparation at the owners (before anything is shared): every cell must be a number in
//! the fixed-point range (else the error names its line and column); every 5th row (0-based rows
//! 4, 9, 14, ..) is a test row; features are standardized with the mean and population standard
//! deviation of the training rows, which the owners compute from per-column counts, sums and
//! sums of squares of their own rows (only those aggregates pass between owners); for linear
//! regression the target is standardized the same way (`fixshare::ml::pipeline::prepare`; the
//! owner and server roles are `pipeline::own` and the steps of `pipeline::serve_glm`, run here
//! with clocks and TCP).

use fixshare_examples::ml;

use fixshare::ml::pipeline::{self, Partition};
use fixshare::ml::{Dataset, GlmModel, Sigmoid};
use fixshare::{Dealer, DealerClient, Link, OtCorrelations, Role, Truncation, block_on_thread};
use ml::tcp::TcpTransport;
use ml::{GlmTask, Offline};
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: train [--data PATH] [--model logistic|linear] [--epochs N] [--batch N]
             [--lr X] [--frac-bits N] [--offline dealer|ot] [--sigmoid piecewise|accurate]
             [--truncation local|pairs|exact] [--partition rows|columns] [--owners N] [--seed N]
             [--party 0|1|dealer|owner --listen ADDR --connect ADDR --dealer ADDR --servers A0,A1]";

const HELLO_PEER: u8 = 1;
const HELLO_OWNER: u8 = 3;
const HELLO_DEALER: u8 = 10;

struct Args {
    data: String,
    task: GlmTask,
    party: Option<String>,
    listen: Option<String>,
    connect: Option<String>,
    dealer: Option<String>,
    servers: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        data: String::new(),
        task: GlmTask::new(GlmModel::Logistic(Sigmoid::Piecewise)),
        party: None,
        listen: None,
        connect: None,
        dealer: None,
        servers: None,
    };
    let mut sigmoid = Sigmoid::Piecewise;
    let mut model = "logistic".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |what: &str| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} must be a number, got {value:?}"))
        };
        let int = |what: &str| -> Result<usize, String> {
            value
                .parse::<usize>()
                .map_err(|_| format!("{what} must be a non-negative integer, got {value:?}"))
        };
        let t = &mut a.task;
        match flag.as_str() {
            "--data" => a.data = value.clone(),
            "--model" => model = value.clone(),
            "--epochs" => t.sgd.epochs = int("--epochs")?,
            "--batch" => t.sgd.batch = int("--batch")?,
            "--lr" => t.sgd.learning_rate = num("--lr")?,
            "--frac-bits" => t.frac_bits = int("--frac-bits")? as u32,
            "--owners" => t.owners = int("--owners")?.max(1),
            "--seed" => t.seed = Some(int("--seed")? as u64),
            "--offline" => {
                t.offline = match value.as_str() {
                    "dealer" => Offline::Dealer,
                    "ot" => Offline::Ot,
                    _ => return Err(format!("--offline must be dealer or ot, got {value:?}")),
                }
            }
            "--sigmoid" => {
                sigmoid = match value.as_str() {
                    "piecewise" => Sigmoid::Piecewise,
                    "accurate" => Sigmoid::Accurate,
                    _ => {
                        return Err(format!(
                            "--sigmoid must be piecewise or accurate, got {value:?}"
                        ));
                    }
                }
            }
            "--truncation" => {
                t.truncation = match value.as_str() {
                    "local" => Truncation::Local,
                    "pairs" => Truncation::Pairs,
                    "exact" => Truncation::Exact,
                    _ => {
                        return Err(format!(
                            "--truncation must be local, exact or pairs, got {value:?}"
                        ));
                    }
                }
            }
            "--partition" => {
                t.partition = match value.as_str() {
                    "rows" => Partition::Rows,
                    "columns" => Partition::Columns,
                    _ => {
                        return Err(format!(
                            "--partition must be rows or columns, got {value:?}"
                        ));
                    }
                }
            }
            "--party" => a.party = Some(value.clone()),
            "--listen" => a.listen = Some(value.clone()),
            "--connect" => a.connect = Some(value.clone()),
            "--dealer" => a.dealer = Some(value.clone()),
            "--servers" => a.servers = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    a.task.model = match model.as_str() {
        "logistic" => GlmModel::Logistic(sigmoid),
        "linear" => GlmModel::Linear,
        _ => return Err(format!("--model must be logistic or linear, got {model:?}")),
    };
    if a.data.is_empty() {
        // The defaults: breast_cancer for logistic regression, diabetes for linear regression.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");
        let file = match a.task.model {
            GlmModel::Linear => "diabetes.csv",
            GlmModel::Logistic(_) => "breast_cancer.csv",
        };
        a.data = format!("{dir}{file}");
    }
    Ok(a)
}

fn load(path: &str) -> Result<Dataset, String> {
    ml::load_csv(path)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match args.party.as_deref() {
        None => run_local(&args),
        Some(role) => run_tcp(&args, role),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn describe(path: &str, t: &GlmTask, data: &Dataset) {
    println!(
        "data: {} ({} rows x {} features; every 5th row is a test row)",
        path,
        data.rows(),
        data.features()
    );
    println!(
        "model: {:?}, epochs {}, batch {}, lr {}, {} fractional bits, truncation {:?}, offline {:?}, {:?} split between {} owners",
        t.model,
        t.sgd.epochs,
        t.sgd.batch,
        t.sgd.learning_rate,
        t.frac_bits,
        t.truncation,
        t.offline,
        t.partition,
        t.owners
    );
}

fn run_local(args: &Args) -> Result<(), String> {
    let data = load(&args.data)?;
    describe(&args.data, &args.task, &data);
    let summary =
        ml::run_glm_local(&data, &args.task, ml::progress_bar()).map_err(|e| e.to_string())?;
    println!("{summary}");
    Ok(())
}

fn need<'a>(v: &'a Option<String>, flag: &str, role: &str) -> Result<&'a str, String> {
    v.as_deref()
        .ok_or_else(|| format!("--party {role} needs {flag}"))
}

fn run_tcp(args: &Args, role: &str) -> Result<(), String> {
    let patience = Duration::from_secs(60);
    let io = |e: std::io::Error| e.to_string();
    let task = &args.task;
    match role {
        "dealer" => {
            let listener = TcpListener::bind(need(&args.listen, "--listen", role)?).map_err(io)?;
            let mut links =
                TcpTransport::accept(&listener, &[HELLO_DEALER, HELLO_DEALER + 1]).map_err(io)?;
            let t1 = links.pop().ok_or("missing connection")?;
            let t0 = links.pop().ok_or("missing connection")?;
            let (s0, s1) = block_on_thread(Dealer::new(task.seed_for(200), t0, t1).serve())
                .map_err(|e| e.to_string())?;
            println!("dealer_bytes_sent: {}", s0.bytes_sent + s1.bytes_sent);
            Ok(())
        }
        "0" | "1" => {
            let r = if role == "0" { Role::P0 } else { Role::P1 };
            let listener = TcpListener::bind(need(&args.listen, "--listen", role)?).map_err(io)?;
            // One connection between the servers carries the online phase and, with
            // `--offline ot`, the OT offline phase.
            let (peer, owner) = if r == Role::P0 {
                let hellos: &[u8] = &[HELLO_PEER, HELLO_OWNER];
                let mut links = TcpTransport::accept(&listener, hellos).map_err(io)?;
                let owner = links.pop().ok_or("missing connection")?;
                (links.pop().ok_or("missing connection")?, owner)
            } else {
                let to0 = need(&args.connect, "--connect", role)?;
                let peer = TcpTransport::connect(to0, HELLO_PEER, patience).map_err(io)?;
                let mut owner = TcpTransport::accept(&listener, &[HELLO_OWNER]).map_err(io)?;
                (peer, owner.pop().ok_or("missing connection")?)
            };
            let mut owners = [Link::new(owner)];
            let mut peer = Link::new(peer);
            let t = Instant::now();
            let report = block_on_thread(async {
                match task.offline {
                    Offline::Helper => Err(fixshare::Error::new(
                        "train",
                        fixshare::ErrorKind::Unsupported("three servers: see the securenn example"),
                    )),
                    Offline::Ot => {
                        let seed = task.seed_for(300 + r.index() as u64);
                        let src = OtCorrelations::setup(r, &mut peer, seed).await?;
                        let setup = t.elapsed();
                        let cb = ml::progress_bar();
                        ml::serve_glm(r, peer, src, setup, &mut owners, task, cb).await
                    }
                    Offline::Dealer => {
                        let addr = need(&args.dealer, "--dealer", role).map_err(|_| {
                            fixshare::Error::new(
                                "train",
                                fixshare::ErrorKind::InvalidArgument(
                                    "--dealer ADDR is needed with --offline dealer",
                                ),
                            )
                        })?;
                        let link =
                            TcpTransport::connect(addr, HELLO_DEALER + r.index() as u8, patience)
                                .map_err(|_| {
                                fixshare::Error::new("train", fixshare::ErrorKind::Closed)
                            })?;
                        let src = DealerClient::connect(r, link).await?;
                        let setup = t.elapsed();
                        let cb = ml::progress_bar();
                        ml::serve_glm(r, peer, src, setup, &mut owners, task, cb).await
                    }
                }
            })
            .map_err(|e| e.to_string())?;
            println!("online_seconds: {:.3}", report.online.as_secs_f64());
            println!("offline_seconds: {:.3}", report.offline.as_secs_f64());
            println!("bytes_sent: {}", report.online_stats.bytes_sent);
            println!(
                "offline_bytes: {}",
                report.offline_stats.bytes_sent + report.offline_stats.bytes_received
            );
            println!("rounds: {}", report.online_stats.rounds);
            Ok(())
        }
        "owner" => {
            let servers = need(&args.servers, "--servers", role)?;
            let (a0, a1) = servers
                .split_once(',')
                .ok_or("--servers needs two addresses: A0,A1")?;
            let data = load(&args.data)?;
            let mut one = task.clone();
            one.owners = 1;
            describe(&args.data, &one, &data);
            let config = one.config().map_err(|e| e.to_string())?;
            // All checks happen here, before the first connection.
            let prepared = pipeline::prepare::<u64>(&data, &one.plan(), config.fixed)
                .map_err(|e| format!("bad data: {e}"))?;
            ml::require_test_rows(data.rows(), prepared.test.rows())
                .map_err(|e| format!("bad data: {e}"))?;
            let mut to0 = Link::new(TcpTransport::connect(a0, HELLO_OWNER, patience).map_err(io)?);
            let mut to1 = Link::new(TcpTransport::connect(a1, HELLO_OWNER, patience).map_err(io)?);
            let d = prepared.train.features();
            let w = block_on_thread(pipeline::own::<u64, _, _>(
                &prepared.parts[0],
                task.seed_for(100),
                config.fixed,
                &mut to0,
                &mut to1,
                Some(d + 1),
            ))
            .map_err(|e| e.to_string())?
            .ok_or("no model")?;
            let plain = fixshare::ml::plain::train_glm(
                &prepared.train.x,
                &prepared.train.y,
                d,
                task.model,
                &task.sgd,
            );
            let name = ml::metric_name(task.model);
            println!(
                "secure_{name}: {:.4}",
                pipeline::metric(task.model, &prepared.test, &w)
            );
            println!(
                "plaintext_{name}: {:.4}",
                pipeline::metric(task.model, &prepared.test, &plain)
            );
            println!(
                "weights_rel_rmse: {:.3e}",
                fixshare::ml::plain::rel_rmse(&w, &plain)
            );
            Ok(())
        }
        _ => Err(format!(
            "--party must be 0, 1, dealer or owner, got {role:?}"
        )),
    }
}
