//! Machine-learning benchmark: secure training beside plaintext training in the same run.
//!
//! Run with `cargo bench -p fixshare-examples --bench ml`. Prints
//! 1. SecureML logistic regression on breast_cancer (455 training rows x 30 features, 10 epochs,
//!    batch 32), with the dealer and with OT, each with the inputs masked per product (before
//!    SecureML's mask reuse) and masked once (mask reuse, the default): online and offline time,
//!    online, offline and total bytes, rounds, beside plaintext `f64` SGD of the same 10 epochs and
//!    the ratio; then the accurate sigmoid with the dealer;
//! 2. one epoch of linear regression on a 60,000 x 784 set made by repeating the 10,000 MNIST
//!    images of `data/mnist10k.csv.gz` six times (for timing only; pixels / 255, the target the
//!    digit / 10), batch 128, with the dealer's correlations fetched beforehand, per product and
//!    with mask reuse: online time beside plaintext fixed-point SGD (the same ring arithmetic
//!    without shares) and the ratio, bytes and rounds.
//!
//! `-- logistic` or `-- linear` runs one section.

use fixshare_examples::ml as ml_run;

use fixshare::correlated::MaskSide;
use fixshare::ml::glm::{self, InputMasking};
use fixshare::ml::{Dataset, GlmModel, SgdParams, Sigmoid};
use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, MemoryTransport, Party, Preprocessed, Ring, Role,
    Seed, Shares, block_on_thread, duplex,
};
use ml_run::{GlmTask, Offline};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn logistic() {
    const EPOCHS: usize = 10;
    let data = Dataset::from_csv(include_str!("../data/breast_cancer.csv")).expect("csv");
    let runs = [
        (
            Sigmoid::Piecewise,
            Offline::Dealer,
            InputMasking::PerProduct,
        ),
        (Sigmoid::Piecewise, Offline::Dealer, InputMasking::Reused),
        (Sigmoid::Piecewise, Offline::Ot, InputMasking::PerProduct),
        (Sigmoid::Piecewise, Offline::Ot, InputMasking::Reused),
        (Sigmoid::Accurate, Offline::Dealer, InputMasking::Reused),
    ];
    let mut before = None;
    for (sigmoid, offline, masking) in runs {
        let mut task = GlmTask::new(GlmModel::Logistic(sigmoid));
        task.sgd.epochs = EPOCHS;
        task.offline = offline;
        task.masking = masking;
        task.seed = Some(1);
        let s = ml_run::run_glm_local(&data, &task, |_| {}).expect("training");
        // The plaintext reference on the same prepared rows, the same epochs.
        let prepared =
            fixshare::ml::pipeline::prepare::<u64>(&data, &task.plan(), FixedPoint::default())
                .expect("prepare");
        let d = prepared.train.features();
        let (plain, _) = best_of(20, || {
            fixshare::ml::plain::train_glm(
                black_box(&prepared.train.x),
                &prepared.train.y,
                d,
                task.model,
                &task.sgd,
            )
        });
        let inputs = match masking {
            InputMasking::PerProduct => "masked per product",
            InputMasking::Reused => "masked once (mask reuse)",
        };
        println!(
            "== logistic regression, breast_cancer {} x {d}, batch {}, {EPOCHS} epochs, sigmoid {sigmoid:?}, offline {offline:?}, inputs {inputs}",
            prepared.train.rows(),
            task.sgd.batch
        );
        let online = s.online.as_secs_f64();
        println!("secure_online_ms: {:.2}", online * 1e3);
        println!(
            "secure_offline_ms: {:.2} (OT setup included)",
            s.offline.as_secs_f64() * 1e3
        );
        println!("plaintext_f64_ms: {:.4}", plain.as_secs_f64() * 1e3);
        println!(
            "ratio_online_to_plaintext: {:.0}",
            online / plain.as_secs_f64()
        );
        println!("online_bytes (both servers): {}", s.bytes_sent);
        println!("offline_bytes: {}", s.offline_bytes);
        println!("total_bytes: {}", s.bytes_sent + s.offline_bytes);
        println!("rounds: {}", s.rounds);
        println!(
            "accuracy secure/plaintext: {:.4}/{:.4}, weights_rel_rmse: {:.2e}",
            s.secure_metric,
            s.plain_metric,
            s.weights_rel_rmse()
        );
        match (masking, before.take()) {
            (InputMasking::PerProduct, _) => before = Some((s.bytes_sent, s.online)),
            (InputMasking::Reused, Some((bytes, time))) => {
                println!(
                    "mask_reuse: online bytes {:.2}x fewer, online time {:.2}x",
                    bytes as f64 / s.bytes_sent as f64,
                    time.as_secs_f64() / online
                );
            }
            (InputMasking::Reused, None) => {}
        }
    }
}

type BenchParty = Party<MemoryTransport, Preprocessed<DealerClient<MemoryTransport>>, u64>;

/// MNIST at SecureML's size: the 10,000 images of `data/mnist10k.csv.gz` repeated six times
/// (60,000 x 784, for timing only), pixels / 255, the target the digit / 10; encoded.
fn mnist_60k(fp: FixedPoint) -> (Vec<u64>, Vec<u64>, usize, usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz");
    let data = ml_run::load_csv(path).expect("mnist10k");
    let d = data.features();
    let x1: Vec<u64> = data
        .x
        .iter()
        .map(|&v| fp.encode(v / 255.0).expect("in range"))
        .collect();
    let y1: Vec<u64> = data
        .y
        .iter()
        .map(|&v| fp.encode(v / 10.0).expect("in range"))
        .collect();
    let copies = 6;
    (
        x1.repeat(copies),
        y1.repeat(copies),
        data.rows() * copies,
        d,
    )
}

/// One epoch of plaintext fixed-point SGD for linear regression: the ring arithmetic of the
/// secure version (products shifted right by f, the step scaled by `round(c 2^e) >> e`).
fn plain_fixed_epoch(x1: &[u64], y: &[u64], n: usize, d1: usize, batch: usize, c: f64) -> Vec<u64> {
    let f = 16;
    let (_, exp) = libm::frexp(c);
    let e = f.max(14 - exp);
    let k = libm::round(libm::ldexp(c, e)) as i64 as u64;
    let mut w = vec![0u64; d1];
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let mut grad = vec![0u64; d1];
        for r in start..end {
            let row = &x1[r * d1..(r + 1) * d1];
            let s = row
                .iter()
                .zip(&w)
                .fold(0u64, |a, (&xv, &wv)| a.wrapping_add(xv.wrapping_mul(wv)))
                .sar(f as u32);
            let err = s.wrapping_sub(y[r]);
            for (g, &xv) in grad.iter_mut().zip(row) {
                *g = g.wrapping_add(xv.wrapping_mul(err));
            }
        }
        for (wv, g) in w.iter_mut().zip(&grad) {
            let step = g.sar(f as u32).wrapping_mul(k).sar(e as u32);
            *wv = wv.wrapping_sub(step);
        }
        start = end;
    }
    w
}

/// What a party reports of one secure epoch: offline time, online time, bytes sent online,
/// rounds, the opened weights.
type EpochRun = (Duration, Duration, u64, u64, Vec<u64>);

/// One epoch of secure linear regression on `(x, y)` shared as P0 `v - r`, P1 `r`, with the
/// dealer's correlations for `masking` fetched before the clock starts.
fn secure_epoch(
    x: &[u64],
    y: &[u64],
    (n, d): (usize, usize),
    sgd: SgdParams,
    masking: InputMasking,
) -> (EpochRun, EpochRun) {
    // P1 holds a PRG mask r, P0 holds x - r (as after a data owner's seed-compressed sharing).
    let mask = |len: usize, tag: u8| {
        let mut prg = fixshare::Prg::new(Seed::from_bytes([tag; 32]));
        (0..len)
            .map(|_| u64::random(&mut prg))
            .collect::<Vec<u64>>()
    };
    let (rx, ry) = (mask(n * d, 1), mask(n, 2));
    let x0: Vec<u64> = x.iter().zip(&rx).map(|(a, b)| a.wrapping_sub(*b)).collect();
    let y0: Vec<u64> = y.iter().zip(&ry).map(|(a, b)| a.wrapping_sub(*b)).collect();
    let (peer0, peer1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || {
        block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), d0, d1).serve())
    });
    let batch = sgd.batch;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let spawn = |role: Role, peer, link, xs: Vec<u64>, ys: Vec<u64>| {
        let barrier = barrier.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let src = Preprocessed::new(DealerClient::connect(role, link).await?);
                let seed = Seed::from_bytes([20 + role.index() as u8; 32]);
                let mut p: BenchParty = Party::new(role, peer, src, seed, Config::default());
                let x = Shares::matrix(n, d, xs)?;
                let y = Shares::matrix(n, 1, ys)?;
                let t = Instant::now();
                let (links, src) = p.context_mut().split();
                let data_mask = match masking {
                    InputMasking::Reused => Some(
                        src.prefetch_data_mask::<u64, _>(links, n, d + 1, batch)
                            .await?,
                    ),
                    InputMasking::PerProduct => None,
                };
                let mut start = 0;
                let mut b = 0;
                while start < n {
                    let rows = (start + batch).min(n) - start;
                    match &data_mask {
                        Some(m) => {
                            src.prefetch_mask_triple(links, m, b, MaskSide::Rows, 1)
                                .await?;
                            src.prefetch_mask_triple(links, m, b, MaskSide::Transposed, 1)
                                .await?;
                        }
                        None => {
                            src.prefetch_matrix_triple::<u64, _>(links, rows, d + 1, 1)
                                .await?;
                            src.prefetch_matrix_triple::<u64, _>(links, d + 1, rows, 1)
                                .await?;
                        }
                    }
                    start += rows;
                    b += 1;
                }
                drop(data_mask);
                let offline = t.elapsed();
                barrier.wait();
                let before = p.stats();
                let t = Instant::now();
                let ctx = p.context_mut();
                let w = glm::train_glm_with(ctx, &x, &y, GlmModel::Linear, &sgd, masking, |_| {})
                    .await?;
                let online = t.elapsed();
                let after = p.stats();
                let w = p.open(&w).await?;
                Ok::<_, fixshare::Error>((
                    offline,
                    online,
                    after.bytes_sent - before.bytes_sent,
                    after.rounds - before.rounds,
                    w,
                ))
            })
        })
    };
    let a = spawn(Role::P0, peer0, c0, x0, y0);
    let b = spawn(Role::P1, peer1, c1, rx, ry);
    let ra = a.join().expect("party 0").expect("party 0 ok");
    let rb = b.join().expect("party 1").expect("party 1 ok");
    let _ = dealer.join();
    (ra, rb)
}

fn mnist_sized_linear() {
    let batch = 128usize;
    let lr = 0.01;
    let fp = FixedPoint::default();
    let (x, y, n, d) = mnist_60k(fp);
    println!(
        "== linear regression, one epoch, {n} x {d} (mnist10k repeated 6 times, for timing only), batch {batch}"
    );
    let mut x1 = Vec::with_capacity(n * (d + 1));
    let one: u64 = fp.encode(1.0).expect("one");
    for r in 0..n {
        x1.extend_from_slice(&x[r * d..(r + 1) * d]);
        x1.push(one);
    }
    let c = lr / batch as f64;
    let (plain, w_plain) = best_of(3, || {
        plain_fixed_epoch(black_box(&x1), &y, n, d + 1, batch, c)
    });
    drop(x1);
    println!(
        "plaintext_fixed_point_s_per_epoch: {:.3}",
        plain.as_secs_f64()
    );
    let sgd = SgdParams {
        epochs: 1,
        batch,
        learning_rate: lr,
    };
    for masking in [InputMasking::PerProduct, InputMasking::Reused] {
        let (ra, rb) = secure_epoch(&x, &y, (n, d), sgd, masking);
        let online = ra.1.max(rb.1);
        let w_err =
            ra.4.iter()
                .zip(&w_plain)
                .map(|(&s, &q)| fp.decode(s.wrapping_sub(q)).abs())
                .fold(0.0, f64::max);
        println!("-- inputs {masking:?}");
        println!(
            "offline_dealer_correlations_s: {:.3}",
            ra.0.max(rb.0).as_secs_f64()
        );
        println!("secure_online_s_per_epoch: {:.3}", online.as_secs_f64());
        println!(
            "ratio_online_to_plaintext: {:.2}",
            online.as_secs_f64() / plain.as_secs_f64()
        );
        println!(
            "online_bytes_per_epoch (both servers): {}, rounds: {}",
            ra.2 + rb.2,
            ra.3
        );
        println!("max |w_secure - w_plain_fixed|: {w_err:.2e}");
    }
}

fn main() {
    // `cargo bench -p fixshare-examples --bench ml -- linear` runs one section (cargo passes
    // `--bench` itself).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if run("logistic") {
        logistic();
    }
    if run("linear") {
        mnist_sized_linear();
    }
}
