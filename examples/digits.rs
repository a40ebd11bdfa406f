//! Digits: a multilayer perceptron trained on secret shares (SecureML), then used for oblivious
//! inference (MiniONN): a server holds the trained model, a client its images, and only the
//! client learns the predicted digits.
//!
//! ```text
//! cargo run --release --example digits
//! cargo run --release --example digits -- --hidden 32 --epochs 6 --lr 0.1 --batch 16 --offline ot
//! ```
//!
//! Preparation as in the `train` example: every 5th row is a test row; the owners standardize
//! the pixels with the training rows' statistics (count, sums and sums of squares per column).
//! For inference the standardization is folded into the first layer, so the client sends raw
//! pixels.

use fixshare_examples::ml;

use fixshare::ml::pipeline;
use fixshare::ml::{MlpParams, SgdParams};
use fixshare::{Config, FixedPoint, Role};
use ml::{MlpTask, Offline};
use std::process::ExitCode;
use std::time::Instant;

fn parse() -> Result<(MlpTask, String), String> {
    let mut task = MlpTask {
        sizes: vec![64, 16, 10],
        params: MlpParams {
            sgd: SgdParams {
                epochs: 4,
                batch: 16,
                learning_rate: 0.15,
            },
            init_seed: 1,
            loss: fixshare::ml::MlpLoss::Squared,
        },
        offline: Offline::Dealer,
        owners: 2,
        seed: None,
    };
    let mut data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv").to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let int = || {
            v.parse::<usize>()
                .map_err(|_| format!("{flag}: not an integer: {v:?}"))
        };
        match flag.as_str() {
            "--data" => data = v.clone(),
            "--hidden" => task.sizes[1] = int()?.max(1),
            "--epochs" => task.params.sgd.epochs = int()?,
            "--batch" => task.params.sgd.batch = int()?,
            "--lr" => {
                task.params.sgd.learning_rate = v
                    .parse()
                    .map_err(|_| format!("--lr: not a number: {v:?}"))?
            }
            "--offline" => {
                task.offline = match v.as_str() {
                    "dealer" => Offline::Dealer,
                    "ot" => Offline::Ot,
                    _ => return Err(format!("--offline must be dealer or ot, got {v:?}")),
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok((task, data))
}

fn run() -> Result<(), String> {
    let (task, path) = parse()?;
    let data = ml::load_csv(&path)?;
    let (train, test, standardizer) =
        pipeline::prepare_classes::<u64>(&data, 10, FixedPoint::default())
            .map_err(|e| format!("{path}: {e}"))?;
    println!(
        "data: {path} ({} training and {} test images), network {:?}, {:?}",
        train.labels.len(),
        test.labels.len(),
        task.sizes,
        task.params.sgd
    );
    let summary =
        ml::run_mlp_local(&train, &test, &task, ml::progress_bar()).map_err(|e| e.to_string())?;
    println!("== training on shares\n{summary}");

    // Oblivious inference: server 0 holds the trained model (the owners' standardization
    // folded into its first layer), server 1 plays the client with raw images and knows only
    // the architecture.
    let (model_net, weights) =
        pipeline::mlp_for_inference(&summary.secure, &standardizer).map_err(|e| e.to_string())?;
    let client_net = pipeline::mlp_network(&task.sizes);
    let (_, raw_test) = data.split_every(pipeline::TEST_EVERY);
    let rows = raw_test.rows();
    let images = raw_test.x.clone();
    let t = Instant::now();
    let (r0, r1) = ml::run_pair(task.offline, Config::default(), None, move |mut p| {
        let server = p.role() == Role::P0;
        let net = if server { &model_net } else { &client_net }.clone();
        let (weights, images) = (weights.clone(), images.clone());
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
    let elapsed = t.elapsed();
    let (_, s0) = r0.map_err(|e| e.to_string())?;
    let (classes, s1) = r1.map_err(|e| e.to_string())?;
    let classes = classes.ok_or("the client got no classes")?;
    let plain = summary.secure.predict(&test.x, rows);
    let agree = classes.iter().zip(&plain).filter(|(a, b)| a == b).count();
    let right = classes
        .iter()
        .zip(&test.labels)
        .filter(|(a, b)| a == b)
        .count();
    println!("== oblivious inference of the trained model on {rows} test images");
    println!("inference_accuracy: {:.4}", right as f64 / rows as f64);
    println!(
        "inference_agrees_with_plaintext: {:.4}",
        agree as f64 / rows as f64
    );
    println!("inference_seconds: {:.3}", elapsed.as_secs_f64());
    println!("inference_bytes_sent: {}", s0.bytes_sent + s1.bytes_sent);
    println!("inference_rounds: {}", s0.rounds);
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
