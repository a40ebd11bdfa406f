//! SecureNN's three servers on MNIST: P0 and P1 hold the shares, P2 deals their correlations and
//! takes part in every comparison online (the helper backend, `fixshare::helper`), all in one
//! process over in-memory links.
//!
//! ```text
//! cargo run --release --example securenn -- --network A --epochs 2
//! cargo run --release --example securenn -- --network A --inference
//! ```
//!
//! Data: a CSV (optionally gzipped) of 784 pixel columns (0..255) and a last column 0..9; the
//! default is the project's 10,000 MNIST images (first 8,000 train, last 2,000 test). Pixels are
//! divided by 255. The networks are SecureNN's (its Appendix C, `fixshare::ml::train::
//! securenn_network`): A the 784-128-128-10 perceptron, B MiniONN's CNN, C LeNet, D Chameleon's,
//! trained by mini-batch SGD with back-propagation on the squared loss of one-hot targets
//! (`fixshare::ml::train`); the plaintext twin is the same training in `f64`, in the same order,
//! from the same initial weights. Defaults: 2 epochs, batch 32, learning rate 0.1, 16 fractional bits in Z_2^64
//! (SecureNN: 15 epochs of 60,000 images, batch 128, rate 2^-7, 13 fractional bits). The
//! initial weights are `init_weights(net, 1)` (uniform in `+-sqrt(6 / fan_in)`) times
//! `--init-scale` (default 1): smaller ones let the CNNs take a larger rate, so that network B
//! reaches 96% in one epoch (`--network B --epochs 1 --batch 8 --lr 0.15 --init-scale 0.35`). With
//! `--inference` the plaintext-trained network classifies the test images obliviously: P0 holds
//! the model, P1 the images.
//!
//! Ends with `name: value` lines: `secure_accuracy`, `plaintext_accuracy`, `online_seconds`,
//! `bytes_sent` (all servers), `rounds`.
//!
//! With `--party`, each server is its own process over TLS (`fixshare-net`; keys as for the
//! `train` example: `cargo run -p fixshare-net -- keygen --name NAME --out DIR` for `helper`,
//! `server0`, `server1` and `owner`), and a data owner process shares the training images and
//! gets the trained weights back; every process gets the same training flags:
//!
//! ```text
//! securenn --party helper --keys keys --listen 127.0.0.1:7200
//! securenn --party 0 --keys keys --listen 127.0.0.1:7201 --helper 127.0.0.1:7200
//! securenn --party 1 --keys keys --listen 127.0.0.1:7202 --connect 127.0.0.1:7201 --helper 127.0.0.1:7200
//! securenn --party owner --keys keys --servers 127.0.0.1:7201,127.0.0.1:7202
//! ```

use fixshare::ml::pipeline::MAX_PART;
use fixshare::ml::pipeline::{self, Classes};
use fixshare::ml::train::{init_weights, securenn_network, train_network_plain};
use fixshare::ml::{Dataset, MlpLoss, SgdParams};
use fixshare::{
    Config, Context, Dealer, DealerClient, Link, Links, Party, PartyId, Role, Topology,
    block_on_thread,
};
use fixshare_examples::ml::tcp::PartyKeys;
use fixshare_examples::ml::{self, NetworkTask, Offline, os_seed};
use std::process::ExitCode;
use std::time::Duration;
use std::time::Instant;

const USAGE: &str = "usage: securenn --network A|B|C|D [--epochs N] [--batch N] [--lr X] \
                     [--init-scale X] [--data PATH] [--train-rows N] [--test-rows N] [--inference]
       [--party helper|0|1|owner --keys DIR [--session NAME] --listen ADDR --connect ADDR \
                     --helper ADDR --servers A0,A1]";

/// How long a process waits for the others to connect.
const ACCEPT_WAIT: Duration = Duration::from_secs(600);

struct Args {
    network: char,
    epochs: usize,
    batch: usize,
    lr: f64,
    init_scale: f64,
    data: String,
    train_rows: Option<usize>,
    test_rows: Option<usize>,
    inference: bool,
    party: Option<String>,
    keys: Option<String>,
    session: String,
    listen: Option<String>,
    connect: Option<String>,
    helper: Option<String>,
    servers: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        network: 'A',
        epochs: 2,
        batch: 32,
        lr: 0.1,
        init_scale: 1.0,
        data: concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz").to_string(),
        train_rows: None,
        test_rows: None,
        inference: false,
        party: None,
        keys: None,
        session: "fixshare-securenn".into(),
        listen: None,
        connect: None,
        helper: None,
        servers: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--inference" {
            a.inference = true;
            continue;
        }
        let v = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let positive = || {
            v.parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("{flag}: not a positive number: {v:?}"))
        };
        let int = || {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{flag}: not a positive integer: {v:?}"))
        };
        match flag.as_str() {
            "--network" => {
                a.network = match v.to_ascii_uppercase().as_str() {
                    n @ ("A" | "B" | "C" | "D") => n.chars().next().unwrap_or('A'),
                    _ => return Err(format!("unknown network {v:?}\n{USAGE}")),
                }
            }
            "--epochs" => a.epochs = int()?,
            "--batch" => a.batch = int()?,
            "--train-rows" => a.train_rows = Some(int()?),
            "--test-rows" => a.test_rows = Some(int()?),
            "--lr" => a.lr = positive()?,
            "--init-scale" => a.init_scale = positive()?,
            "--data" => a.data = v,
            "--party" => a.party = Some(v),
            "--keys" => a.keys = Some(v),
            "--session" => a.session = v,
            "--listen" => a.listen = Some(v),
            "--connect" => a.connect = Some(v),
            "--helper" => a.helper = Some(v),
            "--servers" => a.servers = Some(v),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// Images and labels: 784 pixels scaled to [0, 1], labels 0..9.
fn classes(data: &Dataset) -> Result<Classes, String> {
    if data.features() != 784 {
        return Err(format!(
            "expected 784 pixel columns, found {}",
            data.features()
        ));
    }
    if let Some(bad) = data.x.iter().find(|v| !(0.0..=255.0).contains(*v)) {
        return Err(format!("a pixel value {bad} is outside 0..255"));
    }
    let labels = data
        .y
        .iter()
        .map(|&v| {
            (v.fract() == 0.0 && (0.0..10.0).contains(&v))
                .then_some(v as usize)
                .ok_or(format!("a label {v} is not one of 0..9"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Classes {
        x: data.x.iter().map(|v| v / 255.0).collect(),
        features: 784,
        labels,
    })
}

/// The training and test images of `a.data`: the last fifth tests (SecureNN's split of the
/// project's MNIST file), `--train-rows` and `--test-rows` limit them.
fn split(a: &Args) -> Result<(Classes, Classes), String> {
    let all = classes(&ml::load_csv(&a.data)?)?;
    let cut = all.rows() * 4 / 5;
    let train = all.select(0..a.train_rows.map_or(cut, |r| r.min(cut)));
    let end = a
        .test_rows
        .map_or(all.rows(), |r| (cut + r).min(all.rows()));
    let test = all.select(cut..end);
    if test.rows() == 0 || train.rows() == 0 {
        return Err("the data has too few rows for a training and a test set".into());
    }
    Ok((train, test))
}

/// The run every process of a session agrees on, from the flags.
fn task(a: &Args) -> Result<NetworkTask, String> {
    let net = securenn_network(a.network).ok_or("unknown network")?;
    let mut init = init_weights(&net, 1);
    init.iter_mut().flatten().for_each(|w| *w *= a.init_scale);
    Ok(NetworkTask {
        init,
        net,
        sgd: SgdParams {
            epochs: a.epochs,
            batch: a.batch,
            learning_rate: a.lr,
        },
        loss: MlpLoss::Squared,
        offline: Offline::Helper,
        owners: 1,
        seed: None,
    })
}

fn run() -> Result<(), String> {
    let a = parse()?;
    if let Some(party) = a.party.clone() {
        return run_process(&a, &party);
    }
    let (train, test) = split(&a)?;
    let task = task(&a)?;
    println!(
        "network {}: {} weights, {} training and {} test images, {:?}, three servers (P2 helps)",
        a.network,
        task.init.iter().map(Vec::len).sum::<usize>(),
        train.rows(),
        test.rows(),
        task.sgd
    );
    if a.inference {
        return inference(&task, &train, &test);
    }
    let summary = ml::run_network_local(&train, &test, &task, ml::progress_bar())
        .map_err(|e| e.to_string())?;
    println!("secure_accuracy: {:.4}", summary.secure_accuracy);
    println!("plaintext_accuracy: {:.4}", summary.plain_accuracy);
    println!("online_seconds: {:.3}", summary.report.online.as_secs_f64());
    println!("bytes_sent: {}", summary.bytes_sent);
    println!("rounds: {}", summary.report.online_stats.rounds);
    Ok(())
}

/// Oblivious inference of the plaintext-trained network on the test images: P0 holds the
/// weights, P1 the images, and only P1 learns the classes.
fn inference(task: &NetworkTask, train: &Classes, test: &Classes) -> Result<(), String> {
    let y = pipeline::one_hot(&train.labels, 10);
    let weights = train_network_plain(&task.net, &train.x, &y, &task.init, &task.sgd, task.loss)
        .map_err(|e| e.to_string())?;
    let plain_accuracy =
        ml::network_accuracy(&task.net, &weights, test).map_err(|e| e.to_string())?;
    let (net, rows, images) = (task.net.clone(), test.rows(), test.x.clone());
    let t = Instant::now();
    let (r0, r1) = ml::run_pair(Offline::Helper, Config::default(), None, move |mut p| {
        let server = p.role() == Role::P0;
        let (net, weights, images) = (net.clone(), weights.clone(), images.clone());
        async move {
            let classes = p
                .classify(
                    &net,
                    Role::P0,
                    server.then_some(&weights[..]),
                    (!server).then_some(&images[..]),
                    rows,
                )
                .await?;
            Ok((classes, p.stats()))
        }
    });
    let seconds = t.elapsed().as_secs_f64();
    let (_, s0) = r0.map_err(|e| e.to_string())?;
    let (classes, s1) = r1.map_err(|e| e.to_string())?;
    let classes = classes.ok_or("the client got no classes")?;
    let right = classes
        .iter()
        .zip(&test.labels)
        .filter(|(a, b)| a == b)
        .count();
    println!("secure_accuracy: {:.4}", right as f64 / rows as f64);
    println!("plaintext_accuracy: {plain_accuracy:.4}");
    println!("online_seconds: {seconds:.3}");
    println!("bytes_sent: {}", s0.bytes_sent + s1.bytes_sent);
    println!("rounds: {}", s0.rounds);
    Ok(())
}

fn need<'a>(v: &'a Option<String>, flag: &str, party: &str) -> Result<&'a str, String> {
    v.as_deref()
        .ok_or_else(|| format!("--party {party} needs {flag}"))
}

/// One process of a three-server session over TLS: the helper, a server, or the data owner.
fn run_process(a: &Args, party: &str) -> Result<(), String> {
    let me = match party {
        "helper" => "helper",
        "0" => "server0",
        "1" => "server1",
        "owner" => "owner",
        _ => {
            return Err(format!(
                "--party must be helper, 0, 1 or owner, got {party:?}"
            ));
        }
    };
    let dir = a.keys.as_deref().ok_or(
        "--party needs --keys DIR: this process's key and the certificates of the others \
         (make them with `cargo run -p fixshare-net -- keygen --name NAME --out DIR`); \
         parties never talk over unauthenticated connections",
    )?;
    let keys = PartyKeys::load(dir, me, &a.session)?;
    let task = task(a)?;
    match party {
        "helper" => {
            let listen = need(&a.listen, "--listen", party)?;
            let mut links = keys.accept(listen, &["server0", "server1"], ACCEPT_WAIT)?;
            let t1 = links.pop().ok_or("missing connection")?;
            let t0 = links.pop().ok_or("missing connection")?;
            let (s0, s1) = block_on_thread(Dealer::new(os_seed(), t0, t1).serve())
                .map_err(|e| e.to_string())?;
            println!("helper_bytes_sent: {}", s0.bytes_sent + s1.bytes_sent);
            Ok(())
        }
        "0" | "1" => {
            let role = if party == "0" { Role::P0 } else { Role::P1 };
            let listen = need(&a.listen, "--listen", party)?;
            let (peer, owner) = match role {
                Role::P0 => {
                    let mut links = keys.accept(listen, &["server1", "owner"], ACCEPT_WAIT)?;
                    let owner = links.pop().ok_or("missing connection")?;
                    (links.pop().ok_or("missing connection")?, owner)
                }
                Role::P1 => {
                    let peer = keys.connect(need(&a.connect, "--connect", party)?, "server0")?;
                    let mut owner = keys.accept(listen, &["owner"], ACCEPT_WAIT)?;
                    (peer, owner.pop().ok_or("missing connection")?)
                }
            };
            let helper = keys.connect(need(&a.helper, "--helper", party)?, "helper")?;
            let report = block_on_thread(async {
                let me = PartyId::of(role);
                let mut links = Links::new(me);
                links.insert(PartyId::of(role.peer()), Link::new(peer))?;
                links.insert(PartyId(2), Link::new(helper))?;
                let source = DealerClient::through_helper(role, &mut links).await?;
                let config = Config::default();
                let ctx =
                    Context::new(Topology::ThreeServers, me, links, source, os_seed(), config)?;
                let mut p: Party<_, _, u64> = Party::from_context(ctx)?;
                let mut owners = [Link::new(owner)];
                let (x, y) =
                    pipeline::receive_classes::<u64, _>(role, &mut owners, MAX_PART).await?;
                let mut bar = ml::progress_bar();
                let t = Instant::now();
                let w = p
                    .train_network(
                        &task.net,
                        &x,
                        &y,
                        &task.init,
                        &task.sgd,
                        task.loss,
                        ml::with_clock(&mut bar),
                    )
                    .await?;
                let online = t.elapsed();
                pipeline::send_model(&mut owners[0], &w).await?;
                Ok::<_, fixshare::Error>((online, p.stats()))
            })
            .map_err(|e| e.to_string())?;
            println!("online_seconds: {:.3}", report.0.as_secs_f64());
            println!("bytes_sent: {}", report.1.bytes_sent);
            println!("rounds: {}", report.1.rounds);
            Ok(())
        }
        _ => {
            let servers = need(&a.servers, "--servers", party)?;
            let (a0, a1) = servers
                .split_once(',')
                .ok_or("--servers needs two addresses: A0,A1")?;
            // Every check of the data happens before the first connection.
            let (train, test) = split(a)?;
            let mut to0 = Link::new(keys.connect(a0, "server0")?);
            let mut to1 = Link::new(keys.connect(a1, "server1")?);
            let model_len: usize = task.init.iter().map(Vec::len).sum();
            let flat = block_on_thread(pipeline::own_classes::<u64, _, _>(
                &train,
                10,
                os_seed(),
                Config::default().fixed,
                &mut to0,
                &mut to1,
                Some(model_len),
            ))
            .map_err(|e| e.to_string())?
            .ok_or("no model")?;
            let secure = task.layers(&flat);
            let y = pipeline::one_hot(&train.labels, 10);
            let plain =
                train_network_plain(&task.net, &train.x, &y, &task.init, &task.sgd, task.loss)
                    .map_err(|e| e.to_string())?;
            let accuracy = |w: &[Vec<f64>]| ml::network_accuracy(&task.net, w, &test);
            println!(
                "secure_accuracy: {:.4}",
                accuracy(&secure).map_err(|e| e.to_string())?
            );
            println!(
                "plaintext_accuracy: {:.4}",
                accuracy(&plain).map_err(|e| e.to_string())?
            );
            Ok(())
        }
    }
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
