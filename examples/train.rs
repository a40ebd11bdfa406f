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
//! cargo run --release --example train -- --model mlp --layers 784,128,128,10 --epochs 2   # mnist10k
//! ```
//!
//! `--data` reads a CSV or a gzipped CSV (`examples/data/mnist10k.csv.gz`). `--model mlp` trains
//! SecureML's network instead of a regression: dense layers of the widths `--layers` (input
//! first, default `784,128,128,10`), ReLU between them, the squared loss on one-hot targets (as
//! the securenn example's network A), the first layer's inputs masked once (SecureML's mask
//! reuse); the target column holds the class `0..k` (`k` the last width), every 5th row is a
//! test row, and the features are divided by the largest magnitude in the training rows (pixels
//! to `[0, 1]`). The plaintext twin is the same training in `f64` from the same initial weights;
//! it runs in one process (networks as processes: the securenn example).
//!
//! Each role as its own process (start them in any order), every connection TLS 1.3 with both
//! ends authenticated by their pinned keys (`fixshare-net`). First the keys: each process has
//! its own key pair in `--keys DIR` and the certificates of the processes it talks to (on one
//! machine, one directory serves all):
//!
//! ```text
//! for r in server0 server1 dealer owner; do cargo run -p fixshare-net -- keygen --name $r --out keys; done
//! train --party dealer --keys keys --listen 127.0.0.1:7100
//! train --party 0 --keys keys --listen 127.0.0.1:7101 --dealer 127.0.0.1:7100
//! train --party 1 --keys keys --listen 127.0.0.1:7102 --connect 127.0.0.1:7101 --dealer 127.0.0.1:7100
//! train --party owner --keys keys --servers 127.0.0.1:7101,127.0.0.1:7102
//! ```
//! (with `--offline ot` there is no dealer: drop the dealer process and the `--dealer` flags).
//! Every process must get the same training flags and `--session` (default `fixshare-train`);
//! a process of another session, or with a key that is not pinned, is refused. `--party`
//! refuses to run without `--keys`, and refuses `--seed` (which makes every secret a function of
//! a public number; it is for single-process runs). The owner prints the accuracy (or R^2) lines
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

use fixshare::ml::pipeline::{self, Classes, Partition};
use fixshare::ml::{Dataset, GlmModel, MlpLoss, MlpParams, Sigmoid};
use fixshare::{
    Backend, Dealer, DealerClient, FixedPoint, Link, OtCorrelations, Role, Truncation,
    block_on_thread,
};
use fixshare_net::{Shape, Shaped};
use ml::tcp::{PartyKeys, tls_pair};
use ml::{GlmTask, MlpTask, Offline};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: train [--data PATH] [--model logistic|linear|mlp] [--layers N,N,..]
             [--epochs N] [--batch N]
             [--lr X] [--frac-bits N] [--topology two|three|four] [--offline dealer|ot]
             [--sigmoid piecewise|accurate|logistic]
             [--truncation local|pairs|exact] [--partition rows|columns] [--owners N] [--seed N]
             [--backend auto|gc|fss|helper] [--transport memory|tls|lan|wan]
             [--party 0|1|dealer|owner --keys DIR [--session NAME] --listen ADDR --connect ADDR
              --dealer ADDR --servers A0,A1]";

/// How long a listening process waits for the processes it expects.
const ACCEPT_WAIT: Duration = Duration::from_secs(600);

struct Args {
    data: String,
    task: GlmTask,
    /// `--model mlp`: the layer widths, input first.
    mlp: Option<Vec<usize>>,
    party: Option<String>,
    listen: Option<String>,
    connect: Option<String>,
    dealer: Option<String>,
    servers: Option<String>,
    keys: Option<String>,
    session: String,
    /// One process: what joins the servers to each other and to the third parties.
    transport: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        data: String::new(),
        task: GlmTask::new(GlmModel::Logistic(Sigmoid::Piecewise)),
        mlp: None,
        party: None,
        listen: None,
        connect: None,
        dealer: None,
        servers: None,
        keys: None,
        session: "fixshare-train".into(),
        transport: None,
    };
    let mut sigmoid = Sigmoid::Piecewise;
    let mut model = "logistic".to_string();
    let mut layers = None;
    // The flags of regression alone, as given (refused with `--model mlp`).
    let mut regression_only = Vec::new();
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
        if ["--frac-bits", "--sigmoid", "--truncation", "--partition"].contains(&flag.as_str()) {
            regression_only.push(flag.clone());
        }
        match flag.as_str() {
            "--data" => a.data = value.clone(),
            "--model" => model = value.clone(),
            "--layers" => layers = Some(parse_layers(&value)?),
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
            // Three servers: SecureNN's helper deals and compares online; four: PrivPy's
            // assistants compute products and comparisons (two is `--offline`'s).
            "--topology" => {
                t.offline = match value.as_str() {
                    "two" => t.offline,
                    "three" => Offline::Helper,
                    "four" => Offline::Assistants,
                    _ => {
                        return Err(format!(
                            "--topology must be two, three or four, got {value:?}"
                        ));
                    }
                }
            }
            "--sigmoid" => {
                sigmoid = match value.as_str() {
                    "piecewise" => Sigmoid::Piecewise,
                    "accurate" => Sigmoid::Accurate,
                    "logistic" => Sigmoid::Logistic,
                    _ => {
                        return Err(format!(
                            "--sigmoid must be piecewise, accurate or logistic, got {value:?}"
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
            "--backend" => {
                t.backend = match value.as_str() {
                    "auto" => Backend::Auto,
                    "gc" => Backend::GarbledCircuits,
                    "fss" => Backend::Fss,
                    "helper" => Backend::Helper,
                    _ => {
                        return Err(format!(
                            "--backend must be auto, gc, fss or helper, got {value:?}"
                        ));
                    }
                }
            }
            "--transport" => match value.as_str() {
                "memory" | "tls" | "lan" | "wan" => a.transport = Some(value.clone()),
                _ => {
                    return Err(format!(
                        "--transport must be memory, tls, lan or wan, got {value:?}"
                    ));
                }
            },
            "--party" => a.party = Some(value.clone()),
            "--listen" => a.listen = Some(value.clone()),
            "--connect" => a.connect = Some(value.clone()),
            "--dealer" => a.dealer = Some(value.clone()),
            "--servers" => a.servers = Some(value.clone()),
            "--keys" => a.keys = Some(value.clone()),
            "--session" => a.session = value.clone(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    a.task.model = match model.as_str() {
        "logistic" => GlmModel::Logistic(sigmoid),
        "linear" => GlmModel::Linear,
        "mlp" => {
            if let Some(flag) = regression_only.first() {
                return Err(format!(
                    "{flag} is a regression option: not with --model mlp"
                ));
            }
            a.mlp = Some(layers.take().unwrap_or_else(|| SECUREML_NETWORK.to_vec()));
            // (The perceptron takes only the SGD settings, offline phase, owners and seed of
            // the task.)
            GlmModel::Logistic(sigmoid)
        }
        _ => {
            return Err(format!(
                "--model must be logistic, linear or mlp, got {model:?}"
            ));
        }
    };
    if layers.is_some() {
        return Err("--layers needs --model mlp".into());
    }
    if a.data.is_empty() && a.mlp.is_some() {
        a.data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz").into();
    }
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

/// SecureML's network for MNIST: 784-128-128-10.
const SECUREML_NETWORK: [usize; 4] = [784, 128, 128, 10];

/// The widest layer `--layers` takes (a bound before anything is allocated for weights).
const MAX_WIDTH: usize = 1 << 16;

/// `--layers N,N,..`: at least two positive widths of at most [`MAX_WIDTH`], input first.
fn parse_layers(value: &str) -> Result<Vec<usize>, String> {
    let widths = value
        .split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .ok()
                .filter(|w| (1..=MAX_WIDTH).contains(w))
                .ok_or_else(|| {
                    format!("--layers: {w:?} is not a width from 1 to {MAX_WIDTH} (in {value:?})")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if widths.len() < 2 {
        return Err(format!(
            "--layers needs the input width and at least one layer, got {value:?}"
        ));
    }
    Ok(widths)
}

/// The training and test rows of a classification table for the perceptron `sizes`: range
/// checks, class labels `0..k` (`k` the last width), every 5th row a test row, features divided
/// by the largest magnitude in the training rows. Returns them and that divisor.
fn classes(data: &Dataset, sizes: &[usize]) -> Result<(Classes, Classes, f64), String> {
    let bad = |e: &dyn std::fmt::Display| format!("bad data: {e}");
    data.check_range::<u64>(FixedPoint::default())
        .map_err(|e| bad(&e))?;
    if data.features() != sizes[0] {
        return Err(format!(
            "bad data: {} features, but the network's input is {} wide (--layers)",
            data.features(),
            sizes[0]
        ));
    }
    let k = sizes.last().copied().unwrap_or(0);
    data.check_class_target(k).map_err(|e| bad(&e))?;
    let (train, test) = data.split_every(pipeline::TEST_EVERY);
    ml::require_test_rows(data.rows(), test.rows()).map_err(|e| bad(&e))?;
    let max = train.x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let max = if max > 0.0 { max } else { 1.0 };
    let scaled = |t: Dataset| Classes {
        labels: t.y.iter().map(|&v| v as usize).collect(),
        x: t.x.iter().map(|v| v / max).collect(),
        features: sizes[0],
    };
    Ok((scaled(train), scaled(test), max))
}

/// `--model mlp` in one process: owners, servers and the plaintext twin ([`ml::run_mlp_local`]).
fn run_mlp(args: &Args, sizes: &[usize]) -> Result<(), String> {
    let data = load(&args.data)?;
    let (train, test, max) = classes(&data, sizes)?;
    let t = &args.task;
    println!(
        "data: {} ({} rows x {} features; every 5th row is a test row; features divided by {max})",
        args.data,
        data.rows(),
        data.features()
    );
    println!(
        "model: mlp {sizes:?} (ReLU, squared loss on one-hot targets), epochs {}, batch {}, lr {}, offline {:?}, rows split between {} owners",
        t.sgd.epochs, t.sgd.batch, t.sgd.learning_rate, t.offline, t.owners
    );
    let task = MlpTask {
        sizes: sizes.to_vec(),
        params: MlpParams {
            sgd: t.sgd,
            init_seed: 1,
            loss: MlpLoss::Squared,
        },
        offline: t.offline,
        owners: t.owners,
        seed: t.seed,
    };
    let summary =
        ml::run_mlp_local(&train, &test, &task, ml::progress_bar()).map_err(|e| e.to_string())?;
    println!("{summary}");
    Ok(())
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
    let result = match (args.party.as_deref(), &args.mlp) {
        _ if args.transport.is_some() && (args.party.is_some() || args.mlp.is_some()) => Err(
            "--transport is for regression in one process (processes talk TLS 1.3 already)"
                .to_string(),
        ),
        (None, Some(sizes)) => run_mlp(&args, sizes),
        (None, None) => run_local(&args),
        (Some(_), Some(_)) => Err(
            "--model mlp runs in one process (networks as processes: the \
                                   securenn example and the fixshare-party daemon)"
                .into(),
        ),
        (Some(role), None) => run_tcp(&args, role),
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
    let bar = ml::progress_bar();
    let summary = match args.transport.as_deref().unwrap_or("memory") {
        "tls" => ml::run_glm_over(&data, &args.task, tls_pair, bar),
        "lan" | "wan" => {
            let shape = if args.transport.as_deref() == Some("lan") {
                Shape::LAN
            } else {
                Shape::WAN
            };
            let shaped = || tls_pair().map(|(a, b)| (Shaped::new(a, shape), Shaped::new(b, shape)));
            ml::run_glm_over(&data, &args.task, shaped, bar)
        }
        _ => ml::run_glm_local(&data, &args.task, bar),
    }
    .map_err(|e| e.to_string())?;
    if let Some(t) = &args.transport {
        println!("transport: {t}");
    }
    println!("{summary}");
    Ok(())
}

fn need<'a>(v: &'a Option<String>, flag: &str, role: &str) -> Result<&'a str, String> {
    v.as_deref()
        .ok_or_else(|| format!("--party {role} needs {flag}"))
}

/// This process's keys (`--keys DIR`), refusing to go on without them.
fn keys(args: &Args, me: &str) -> Result<PartyKeys, String> {
    let dir = args.keys.as_deref().ok_or(
        "--party needs --keys DIR: this process's key and the certificates of the others \
         (make them with `cargo run -p fixshare-net -- keygen --name NAME --out DIR`); \
         parties never talk over unauthenticated connections",
    )?;
    PartyKeys::load(dir, me, &args.session)
}

fn run_tcp(args: &Args, role: &str) -> Result<(), String> {
    let task = &args.task;
    if task.seed.is_some() {
        return Err(
            "--seed is for single-process runs only: it makes every secret a function \
                    of a public number. Processes take their seeds from the operating system"
                .into(),
        );
    }
    match role {
        "dealer" => {
            let keys = keys(args, "dealer")?;
            let listen = need(&args.listen, "--listen", role)?;
            let mut links = keys.accept(listen, &["server0", "server1"], ACCEPT_WAIT)?;
            let t1 = links.pop().ok_or("missing connection")?;
            let t0 = links.pop().ok_or("missing connection")?;
            let (s0, s1) = block_on_thread(Dealer::new(task.seed_for(200), t0, t1).serve())
                .map_err(|e| e.to_string())?;
            println!("dealer_bytes_sent: {}", s0.bytes_sent + s1.bytes_sent);
            Ok(())
        }
        "0" | "1" => {
            let r = if role == "0" { Role::P0 } else { Role::P1 };
            if matches!(task.offline, Offline::Helper | Offline::Assistants) {
                return Err(
                    "--topology three and four run in one process (processes: see the securenn \
                     example and the fixshare-party daemon)"
                        .into(),
                );
            }
            let me = if r == Role::P0 { "server0" } else { "server1" };
            let keys = keys(args, me)?;
            let listen = need(&args.listen, "--listen", role)?;
            // One connection between the servers carries the online phase and, with
            // `--offline ot`, the OT offline phase.
            let (peer, owner) = if r == Role::P0 {
                let mut links = keys.accept(listen, &["server1", "owner"], ACCEPT_WAIT)?;
                let owner = links.pop().ok_or("missing connection")?;
                (links.pop().ok_or("missing connection")?, owner)
            } else {
                let to0 = need(&args.connect, "--connect", role)?;
                let peer = keys.connect(to0, "server0")?;
                let mut owner = keys.accept(listen, &["owner"], ACCEPT_WAIT)?;
                (peer, owner.pop().ok_or("missing connection")?)
            };
            let dealer = match task.offline {
                Offline::Dealer => {
                    let addr = need(&args.dealer, "--dealer", role)
                        .map_err(|_| "--dealer ADDR is needed with --offline dealer")?;
                    Some(keys.connect(addr, "dealer")?)
                }
                // (Helper was refused above.)
                Offline::Ot | Offline::Helper | Offline::Assistants => None,
            };
            let mut owners = [Link::new(owner)];
            let mut peer = Link::new(peer);
            let t = Instant::now();
            let report = block_on_thread(async {
                match dealer {
                    None => {
                        let seed = task.seed_for(300 + r.index() as u64);
                        let src = OtCorrelations::setup(r, &mut peer, seed).await?;
                        let setup = t.elapsed();
                        let cb = ml::progress_bar();
                        ml::serve_glm(r, peer, src, setup, &mut owners, task, cb).await
                    }
                    Some(link) => {
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
            let keys = keys(args, "owner")?;
            let mut to0 = Link::new(keys.connect(a0, "server0")?);
            let mut to1 = Link::new(keys.connect(a1, "server1")?);
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
