//! Non-linear layer benchmark: two parties and the dealer as threads in one process.
//!
//! Run with `cargo bench -p fixshare --features std --bench nonlinear`. Prints ReLU throughput
//! on 10^6 shares in Z_2^64 beside plaintext ReLU and raw fixed-key AES measured in the same run
//! (with the ratios), bytes per ReLU per party and rounds; then the other operations on 10^5;
//! each with both non-linear backends (FSS keys from the dealer, garbled circuits). Times are end
//! to end: the dealer supplies the keys or random OTs while the parties run (the `ops` example
//! fetches them first and times the online phase alone).

use fixshare::hash::FixedKeyAes;
use fixshare::{
    Backend, Config, Dealer, DealerClient, MemoryTransport, Party, Role, Seed, Shares, Stats,
    block_on_thread, duplex,
};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

type BenchParty = Party<MemoryTransport, DealerClient<MemoryTransport>, u64>;

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

/// Shares of `n` pseudo-random values in [-2^20, 2^20) ulps, P0 holding `v - r` and P1 `r`.
fn shares(role: Role, n: usize, cols: usize) -> Shares<u64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let data = (0..n)
        .map(|_| {
            let v = (next() % (1 << 21)).wrapping_sub(1 << 20);
            let r = next();
            match role {
                Role::P0 => v.wrapping_sub(r),
                Role::P1 => r,
            }
        })
        .collect();
    Shares::matrix(n / cols, cols, data).unwrap()
}

/// Runs `op` in both parties on `n` shares (`cols` per row) and returns the slower party's time
/// and both parties' traffic.
fn run(
    backend: Backend,
    n: usize,
    cols: usize,
    op: impl AsyncFn(&mut BenchParty, &Shares<u64>) + Send + Sync + Clone + 'static,
) -> (Duration, [Stats; 2]) {
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(9), d0, d1).serve()));
    let handles: Vec<_> = [(Role::P0, a, c0), (Role::P1, b, c1)]
        .into_iter()
        .map(|(role, peer, link)| {
            let op = op.clone();
            thread::spawn(move || {
                block_on_thread(async move {
                    let src = DealerClient::connect(role, link).await.unwrap();
                    let seed = seed(role.index() as u8);
                    let config = Config {
                        backend,
                        ..Config::default()
                    };
                    let mut p: BenchParty = Party::new(role, peer, src, seed, config);
                    let x = shares(role, n, cols);
                    let t = Instant::now();
                    op(&mut p, &x).await;
                    (t.elapsed(), p.stats())
                })
            })
        })
        .collect();
    let out: Vec<(Duration, Stats)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    dealer.join().unwrap().unwrap();
    (out[0].0.max(out[1].0), [out[0].1, out[1].1])
}

#[derive(Clone, Copy)]
enum Op {
    Drelu,
    TruncateExact,
    SigmoidPiecewise,
    Sigmoid,
    Max,
    Argmax,
}

fn main() {
    let n = 1_000_000;
    // Baselines in the same run.
    let mut v: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 2001 - 1000).collect();
    let t = Instant::now();
    for _ in 0..20 {
        for x in v.iter_mut() {
            *x = (*x).max(0) - 1;
        }
        black_box(&mut v);
    }
    let plain = 20.0 * n as f64 / t.elapsed().as_secs_f64();
    let aes = FixedKeyAes::new();
    let mut blocks = vec![0u128; 1 << 16];
    let t = Instant::now();
    for _ in 0..100 {
        aes.permute_in_place(&mut blocks);
    }
    let aes_rate = 100.0 * blocks.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "baseline: plaintext ReLU {:.3e}/s; fixed-key AES {:.3e} blocks/s",
        plain, aes_rate
    );

    for backend in [Backend::Fss, Backend::GarbledCircuits] {
        println!("backend: {backend:?}");
        let n = if backend == Backend::Fss { n } else { n / 10 };
        let (d, stats) = run(backend, n, 1, async |p, x| {
            black_box(p.relu(x).await.unwrap());
        });
        let rate = n as f64 / d.as_secs_f64();
        println!(
            "secure ReLU, {n} shares in Z_2^64: {:.3e}/s ({:.2} s); {:.4}% of plaintext; {:.1} AES-equivalent blocks per ReLU",
            rate,
            d.as_secs_f64(),
            100.0 * rate / plain,
            aes_rate / rate
        );
        println!(
            "  bytes per ReLU: P0 sends {:.1}, P1 sends {:.1}; rounds: P0 {}, P1 {}",
            stats[0].bytes_sent as f64 / n as f64,
            stats[1].bytes_sent as f64 / n as f64,
            stats[0].rounds,
            stats[1].rounds
        );

        let m = 100_000;
        let cases = [
            ("drelu", 1, Op::Drelu),
            ("truncate_exact", 1, Op::TruncateExact),
            ("sigmoid_piecewise", 1, Op::SigmoidPiecewise),
            ("sigmoid (34 segments)", 1, Op::Sigmoid),
            ("max of rows of 10", 10, Op::Max),
            ("argmax of rows of 10", 10, Op::Argmax),
        ];
        for (name, cols, op) in cases {
            let (d, stats) = run(backend, m, cols, async move |p, x| match op {
                Op::Drelu => drop(black_box(p.drelu(x).await.unwrap())),
                Op::TruncateExact => drop(black_box(p.truncate_exact(x, 16).await.unwrap())),
                Op::SigmoidPiecewise => drop(black_box(p.sigmoid_piecewise(x).await.unwrap())),
                Op::Sigmoid => drop(black_box(p.sigmoid(x).await.unwrap())),
                Op::Max => drop(black_box(p.max(x).await.unwrap())),
                Op::Argmax => drop(black_box(p.argmax(x).await.unwrap())),
            });
            let items = (m / cols) as f64;
            println!(
                "{name:>22}: {:.3e} results/s over {} inputs; P0 sends {:.0} B, P1 {:.0} B per result; rounds {}",
                items / d.as_secs_f64(),
                m,
                stats[0].bytes_sent as f64 / items,
                stats[1].bytes_sent as f64 / items,
                stats[1].rounds
            );
        }
    }
}
