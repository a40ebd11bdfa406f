//! Machine-learning benchmark: secure training beside plaintext training in the same run.
//!
//! Run with `cargo bench -p fixshare-examples --bench ml`. Prints
//! 1. SecureML logistic regression on breast_cancer (455 training rows x 30 features, batch 32):
//!    per epoch, online and offline time (dealer and OT), bytes, rounds, beside plaintext `f64` SGD
//!    per epoch and the ratio; both sigmoids;
//! 2. one epoch of linear regression on synthetic MNIST-sized data (60000 x 784, batch 128) with
//!    the dealer's matrix triples fetched beforehand: online time beside plaintext fixed-point SGD
//!    (the same ring arithmetic without shares) and the ratio, bytes and rounds.

use fixshare_examples::ml as ml_run;

use fixshare::ml::{Dataset, GlmModel, SgdParams, Sigmoid};
use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, MemoryTransport, Party, Preprocessed, Prg, Ring,
    Role, Seed, Shares, block_on_thread, duplex,
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
    const EPOCHS: usize = 5;
    let data = Dataset::from_csv(include_str!("../data/breast_cancer.csv")).expect("csv");
    for (sigmoid, offline) in [
        (Sigmoid::Piecewise, Offline::Dealer),
        (Sigmoid::Piecewise, Offline::Ot),
        (Sigmoid::Accurate, Offline::Dealer),
    ] {
        let mut task = GlmTask::new(GlmModel::Logistic(sigmoid));
        task.sgd.epochs = EPOCHS;
        task.offline = offline;
        task.seed = Some(1);
        let s = ml_run::run_glm_local(&data, &task, |_| {}).expect("training");
        // The plaintext reference on the same prepared rows, one epoch.
        let prepared =
            fixshare::ml::pipeline::prepare::<u64>(&data, &task.plan(), FixedPoint::default())
                .expect("prepare");
        let one = SgdParams {
            epochs: 1,
            ..task.sgd
        };
        let d = prepared.train.features();
        let (plain, _) = best_of(50, || {
            fixshare::ml::plain::train_glm(
                black_box(&prepared.train.x),
                &prepared.train.y,
                d,
                task.model,
                &one,
            )
        });
        let e = EPOCHS as f64;
        let online = s.online.as_secs_f64() / e;
        println!(
            "== logistic regression, breast_cancer {} x {d}, batch {}, sigmoid {sigmoid:?}, offline {offline:?}",
            prepared.train.rows(),
            task.sgd.batch
        );
        println!("secure_online_ms_per_epoch: {:.3}", online * 1e3);
        println!(
            "secure_offline_ms_per_epoch: {:.3} (OT setup included, spread over {EPOCHS} epochs)",
            s.offline.as_secs_f64() / e * 1e3
        );
        println!(
            "plaintext_f64_ms_per_epoch: {:.4}",
            plain.as_secs_f64() * 1e3
        );
        println!(
            "ratio_online_to_plaintext: {:.0}",
            online / plain.as_secs_f64()
        );
        println!(
            "online_bytes_per_epoch (both servers): {:.0}",
            s.bytes_sent as f64 / e
        );
        println!("offline_bytes_per_epoch: {:.0}", s.offline_bytes as f64 / e);
        println!("rounds_per_epoch: {:.0}", s.rounds as f64 / e);
        println!(
            "accuracy secure/plaintext: {:.4}/{:.4}, weights_rel_rmse: {:.2e}",
            s.secure_metric,
            s.plain_metric,
            s.weights_rel_rmse()
        );
    }
}

type BenchParty = Party<MemoryTransport, Preprocessed<DealerClient<MemoryTransport>>, u64>;

/// Synthetic data: features uniform in [-1, 1), targets `x . w* + noise`, encoded.
fn synthetic(n: usize, d: usize, fp: FixedPoint) -> (Vec<u64>, Vec<u64>) {
    let mut prg = Prg::new(Seed::from_bytes([7; 32]));
    let unit = |prg: &mut Prg| (u64::random(prg) >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
    let w: Vec<f64> = (0..d).map(|_| unit(&mut prg) * 0.1).collect();
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let mut t = 0.05 * unit(&mut prg);
        for wj in &w {
            let v = unit(&mut prg);
            t += v * wj;
            x.push(fp.encode(v).expect("in range"));
        }
        y.push(fp.encode(t).expect("in range"));
    }
    (x, y)
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

fn mnist_sized_linear() {
    let (n, d, batch) = (60_000usize, 784usize, 128usize);
    let lr = 0.01;
    let fp = FixedPoint::default();
    println!("== linear regression, one epoch, synthetic {n} x {d}, batch {batch}");
    let (x, y) = synthetic(n, d, fp);
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

    // Shares: P1 holds a PRG mask r, P0 holds x - r (as after a data owner's seed-compressed sharing).
    let mask = |len: usize, tag: u8| {
        let mut prg = Prg::new(Seed::from_bytes([tag; 32]));
        (0..len)
            .map(|_| u64::random(&mut prg))
            .collect::<Vec<u64>>()
    };
    let (rx, ry) = (mask(n * d, 1), mask(n, 2));
    let x0: Vec<u64> = x.iter().zip(&rx).map(|(a, b)| a.wrapping_sub(*b)).collect();
    let y0: Vec<u64> = y.iter().zip(&ry).map(|(a, b)| a.wrapping_sub(*b)).collect();
    drop((x, y));
    let (peer0, peer1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || {
        block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), d0, d1).serve())
    });
    let sgd = SgdParams {
        epochs: 1,
        batch,
        learning_rate: lr,
    };
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
                let mut start = 0;
                while start < n {
                    let end = (start + batch).min(n);
                    let b = end - start;
                    let (links, src) = p.context_mut().split();
                    src.prefetch_matrix_triple::<u64, _>(links, b, d + 1, 1)
                        .await?;
                    src.prefetch_matrix_triple::<u64, _>(links, d + 1, b, 1)
                        .await?;
                    start = end;
                }
                let offline = t.elapsed();
                barrier.wait();
                let before = p.stats();
                let t = Instant::now();
                let w = p.train_glm(&x, &y, GlmModel::Linear, &sgd, |_| {}).await?;
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
    let online = ra.1.max(rb.1);
    let w_err =
        ra.4.iter()
            .zip(&w_plain)
            .map(|(&s, &q)| fp.decode(s.wrapping_sub(q)).abs())
            .fold(0.0, f64::max);
    println!(
        "offline_dealer_matrix_triples_s: {:.3}",
        ra.0.max(rb.0).as_secs_f64()
    );
    println!("secure_online_s_per_epoch: {:.3}", online.as_secs_f64());
    println!(
        "plaintext_fixed_point_s_per_epoch: {:.3}",
        plain.as_secs_f64()
    );
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

fn main() {
    logistic();
    mnist_sized_linear();
}
