//! Online arithmetic benchmark: two parties and the dealer as threads in one process.
//!
//! Run with `cargo bench -p fixshare --bench online`. Prints, for 10^6 elements, the online Beaver
//! multiplication with local truncation beside plaintext fixed-point multiplication measured in
//! the same run (and their ratio), bytes and rounds per multiplication, the dealer's traffic per
//! triple, the online time of SecureML's linear-regression gradient step (X w, then X^T e), and
//! the plaintext matrix-product kernel (`matmul_add_into`, blocked) beside the plain i-k-j loop it
//! replaced, on u64 matrices of the shapes of MNIST training and 1000 x 1000 x 1000.
//! `cargo bench -p fixshare --features std --bench online -- matmul` runs the kernels only; with
//! `--features parallel` the blocked kernel runs on every core (rayon).

use fixshare::arith::matmul::{matmul, matmul_add_into};
use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, Links, MemoryTransport, Party, Preprocessed, Ring,
    Role, Seed, Shares, block_on_thread, duplex,
};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

type BenchParty = Party<MemoryTransport, Preprocessed<DealerClient<MemoryTransport>>, u64>;

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

/// Runs `offline` then, after both parties reach a barrier, `online`, in each party's thread.
/// Returns party 0's (offline, online, result) and party 1's online time.
fn two_parties<T: Send + 'static>(
    offline: impl AsyncFn(&mut BenchParty) -> Shares<u64> + Send + Sync + Clone + 'static,
    online: impl AsyncFn(&mut BenchParty, Shares<u64>) -> T + Send + Sync + Clone + 'static,
) -> Vec<(Duration, Duration, T, fixshare::Stats, fixshare::Stats)> {
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(9), d0, d1).serve()));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [(Role::P0, a, c0), (Role::P1, b, c1)]
        .into_iter()
        .map(|(role, peer, link)| {
            let (offline, online, barrier) = (offline.clone(), online.clone(), barrier.clone());
            thread::spawn(move || {
                block_on_thread(async move {
                    let src = Preprocessed::new(DealerClient::connect(role, link).await.unwrap());
                    let mut p: BenchParty =
                        Party::new(role, peer, src, seed(role.index() as u8), Config::default());
                    let t0 = Instant::now();
                    let state = offline(&mut p).await;
                    let offline_time = t0.elapsed();
                    barrier.wait();
                    let before = p.stats();
                    let t1 = Instant::now();
                    let out = online(&mut p, state).await;
                    let online_time = t1.elapsed();
                    let after = p.stats();
                    let delta = fixshare::Stats {
                        bytes_sent: after.bytes_sent - before.bytes_sent,
                        bytes_received: after.bytes_received - before.bytes_received,
                        frames_sent: after.frames_sent - before.frames_sent,
                        rounds: after.rounds - before.rounds,
                    };
                    (
                        offline_time,
                        online_time,
                        out,
                        delta,
                        p.correlations().source().stats(),
                    )
                })
            })
        })
        .collect();
    let out = handles.into_iter().map(|h| h.join().unwrap()).collect();
    dealer.join().unwrap().unwrap();
    out
}

/// Shares `x` (`x_shape`, P0's input) and `y` (`y_shape`, P1's input) and returns this party's
/// shares of both in one vector, as the offline step hands them to the online step.
async fn share_operands(
    p: &mut BenchParty,
    x: &[f64],
    x_shape: (usize, usize),
    y: &[f64],
    y_shape: (usize, usize),
) -> Shares<u64> {
    let xs = match p.role() {
        Role::P0 => p.share_input(x, x_shape.0, x_shape.1).await.unwrap(),
        Role::P1 => p.receive_input(x_shape.0, x_shape.1).await.unwrap(),
    };
    let ys = match p.role() {
        Role::P1 => p.share_input(y, y_shape.0, y_shape.1).await.unwrap(),
        Role::P0 => p.receive_input(y_shape.0, y_shape.1).await.unwrap(),
    };
    let mut both = xs.as_slice().to_vec();
    both.extend_from_slice(ys.as_slice());
    Shares::vector(both)
}

/// The two operands [`share_operands`] joined, as matrices of their shapes.
fn split_operands(
    both: &Shares<u64>,
    (xr, xc): (usize, usize),
    (yr, yc): (usize, usize),
) -> (Shares<u64>, Shares<u64>) {
    let (x, y) = both.as_slice().split_at(xr * xc);
    (
        Shares::matrix(xr, xc, x.to_vec()).unwrap(),
        Shares::matrix(yr, yc, y.to_vec()).unwrap(),
    )
}

/// The largest difference, in units of the last place, between opened results and plaintext.
fn max_ulps(secure: &[u64], plain: &[u64]) -> i128 {
    assert_eq!(secure.len(), plain.len());
    secure
        .iter()
        .zip(plain)
        .map(|(&a, &b)| a.sub(b).to_signed().abs())
        .max()
        .unwrap_or(0)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "matmul") {
        return kernels();
    }
    const N: usize = 1_000_000;
    let fp = FixedPoint::default();
    let mut prg = seed(3).prg(fixshare::Domain::user(0), 0);
    let xs: Vec<f64> = (0..N)
        .map(|_| (u64::random(&mut prg) >> 40) as f64 / 1e6 - 8.0)
        .collect();
    let ys: Vec<f64> = (0..N)
        .map(|_| (u64::random(&mut prg) >> 40) as f64 / 1e6 - 8.0)
        .collect();
    let xe: Vec<u64> = xs.iter().map(|&x| fp.encode(x).unwrap()).collect();
    let ye: Vec<u64> = ys.iter().map(|&x| fp.encode(x).unwrap()).collect();

    // Baseline: plaintext fixed-point multiplication (ring product and arithmetic shift).
    let (plain, _) = best_of(5, || {
        let z: Vec<u64> = black_box(&xe)
            .iter()
            .zip(black_box(&ye))
            .map(|(&a, &b)| fp.mul_reference(a, b))
            .collect();
        black_box(z)
    });

    // Several products in a row, as a server multiplies: the mean of `MUL_REPS`.
    const MUL_REPS: usize = 8;
    println!("== online Beaver multiplication with local truncation, n = {N}, {MUL_REPS} products");
    let (xc, yc) = (xs.clone(), ys.clone());
    let runs = two_parties(
        async move |p: &mut BenchParty| {
            let both = share_operands(p, &xc, (N, 1), &yc, (N, 1)).await;
            let (links, src) = preprocessed(p);
            for _ in 0..MUL_REPS {
                src.prefetch_triples::<u64, _>(links, N).await.unwrap();
            }
            both
        },
        async |p: &mut BenchParty, both: Shares<u64>| {
            let (x, y) = split_operands(&both, (N, 1), (N, 1));
            // The first product alone too: it also pays for the pages its buffers first touch.
            let t = Instant::now();
            p.mul(&x, &y).await.unwrap();
            let first = t.elapsed();
            for _ in 1..MUL_REPS {
                p.mul(&x, &y).await.unwrap();
            }
            first
        },
    );
    let online = runs.iter().map(|r| r.1).max().unwrap() / MUL_REPS as u32;
    let offline = runs.iter().map(|r| r.0).max().unwrap() / MUL_REPS as u32;
    let secure_rate = N as f64 / online.as_secs_f64();
    let plain_rate = N as f64 / plain.as_secs_f64();
    println!("plaintext_fixed_mul_per_s: {plain_rate:.3e}");
    println!("secure_mul_online_per_s: {secure_rate:.3e}");
    let first = runs.iter().map(|r| r.2).max().unwrap();
    println!(
        "secure_mul_online_per_s_first_product: {:.3e}",
        N as f64 / first.as_secs_f64()
    );
    println!("ratio_secure_to_plaintext: {:.3}", secure_rate / plain_rate);
    println!(
        "offline_dealer_triples_seconds: {:.3}",
        offline.as_secs_f64()
    );
    let muls = (N * MUL_REPS) as f64;
    for (i, r) in runs.iter().enumerate() {
        println!(
            "party{i}_online_bytes_per_mul: {:.2} ({:.2} ring elements), rounds per product: {}",
            r.3.bytes_sent as f64 / muls,
            r.3.bytes_sent as f64 / muls / 8.0,
            r.3.rounds / MUL_REPS as u64
        );
    }
    println!(
        "dealer_bytes_per_triple_to_party1: {:.3}",
        runs[1].4.bytes_received as f64 / muls
    );
    println!("dealer_bytes_to_party0_total: {}", runs[0].4.bytes_received);

    println!("== SecureML linear-regression gradient step, X 128x784: X w, then X^T e");
    let (m, k) = (128usize, 784usize);
    let xm: Vec<f64> = (0..m * k)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
        .collect();
    let wv: Vec<f64> = (0..k)
        .map(|i| ((i * 104729) % 1000) as f64 / 10000.0 - 0.05)
        .collect();
    let (xm2, wv2) = (xm.clone(), wv.clone());
    let runs = two_parties(
        async move |p: &mut BenchParty| {
            let both = share_operands(p, &xm2, (m, k), &wv2, (k, 1)).await;
            let (links, src) = preprocessed(p);
            src.prefetch_matrix_triple::<u64, _>(links, m, k, 1)
                .await
                .unwrap();
            src.prefetch_matrix_triple::<u64, _>(links, k, m, 1)
                .await
                .unwrap();
            both
        },
        async move |p: &mut BenchParty, both: Shares<u64>| {
            let (x, w) = split_operands(&both, (m, k), (k, 1));
            let xw = p.matmul(&x, &w).await.unwrap();
            // e = X w - y with y = 0 (the subtraction is local and free).
            let g = p.matmul(&x.transpose(), &xw).await.unwrap();
            p.open(&g).await.unwrap()
        },
    );
    let online = runs.iter().map(|r| r.1).max().unwrap();
    // Baseline: the same two products in plaintext fixed point.
    let xe: Vec<u64> = xm.iter().map(|&v| fp.encode(v).unwrap()).collect();
    let we: Vec<u64> = wv.iter().map(|&v| fp.encode(v).unwrap()).collect();
    let xt: Vec<u64> = (0..k * m).map(|i| xe[(i % m) * k + i / m]).collect();
    let (plain, g_plain) = best_of(20, || {
        let xw: Vec<u64> = matmul(black_box(&xe), &we, m, k, 1)
            .iter()
            .map(|v| v.sar(16))
            .collect();
        matmul(&xt, &xw, k, m, 1)
            .iter()
            .map(|v| v.sar(16))
            .collect::<Vec<u64>>()
    });
    let max_err = max_ulps(&runs[0].2, &g_plain);
    println!("gradient_step_online_ms: {:.3}", online.as_secs_f64() * 1e3);
    println!(
        "gradient_step_plaintext_ms: {:.3}",
        plain.as_secs_f64() * 1e3
    );
    println!(
        "ratio_secure_to_plaintext_time: {:.2}",
        online.as_secs_f64() / plain.as_secs_f64()
    );
    println!(
        "gradient_step_bytes_per_party: {}, rounds: {}, max_error_ulps_vs_plaintext: {max_err}",
        runs[0].3.bytes_sent, runs[0].3.rounds
    );
    secure_matmul(fp);
    kernels();
}

/// SecureML's matrix product of MNIST batch shape, 128x784 by 784x128, online: `REPS` products
/// after their triples are fetched, beside the blocked plaintext kernel's product of the same shape.
fn secure_matmul(fp: FixedPoint) {
    const REPS: usize = 40;
    let (m, k, n) = (128usize, 784usize, 128usize);
    println!("== online matrix product {m}x{k} by {k}x{n}, {REPS} products");
    let value = |i: usize| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5;
    let xm: Vec<f64> = (0..m * k).map(value).collect();
    let ym: Vec<f64> = (0..k * n).map(|i| value(i * 3 + 1)).collect();
    let (xc, yc) = (xm.clone(), ym.clone());
    let runs = two_parties(
        async move |p: &mut BenchParty| {
            let both = share_operands(p, &xc, (m, k), &yc, (k, n)).await;
            let (links, src) = preprocessed(p);
            for _ in 0..REPS {
                src.prefetch_matrix_triple::<u64, _>(links, m, k, n)
                    .await
                    .unwrap();
            }
            both
        },
        async move |p: &mut BenchParty, both: Shares<u64>| {
            let (x, y) = split_operands(&both, (m, k), (k, n));
            let mut z = None;
            for _ in 0..REPS {
                z = Some(p.matmul(&x, &y).await.unwrap());
            }
            p.open(&z.unwrap()).await.unwrap()
        },
    );
    let online = runs.iter().map(|r| r.1).max().unwrap() / REPS as u32;
    let xe: Vec<u64> = xm.iter().map(|&v| fp.encode(v).unwrap()).collect();
    let ye: Vec<u64> = ym.iter().map(|&v| fp.encode(v).unwrap()).collect();
    let (plain, z_plain) = best_of(20, || {
        matmul(black_box(&xe), &ye, m, k, n)
            .iter()
            .map(|v| v.sar(fp.frac_bits()))
            .collect::<Vec<u64>>()
    });
    let max_err = max_ulps(&runs[0].2, &z_plain);
    println!("matmul_online_ms: {:.3}", online.as_secs_f64() * 1e3);
    println!("matmul_plaintext_ms: {:.3}", plain.as_secs_f64() * 1e3);
    println!(
        "ratio_secure_to_plaintext_time: {:.2}",
        online.as_secs_f64() / plain.as_secs_f64()
    );
    println!(
        "matmul_bytes_per_party: {}, rounds: {}, max_error_ulps_vs_plaintext: {max_err}",
        runs[0].3.bytes_sent / REPS as u64,
        runs[0].3.rounds / REPS as u64
    );
}

/// The plain i-k-j product, `matmul_add_into` before it was blocked: the kernels' baseline.
fn naive_matmul_add_into(a: &[u64], b: &[u64], m: usize, k: usize, n: usize, out: &mut [u64]) {
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for (j, &aij) in a[i * k..(i + 1) * k].iter().enumerate() {
            for (o, &bv) in row.iter_mut().zip(&b[j * n..(j + 1) * n]) {
                *o = o.add(aij.mul(bv));
            }
        }
    }
}

/// The blocked kernel against the plain one on the same u64 matrices, runs alternated (best of
/// each, about a second per kernel and shape), results checked equal.
fn kernels() {
    println!("== plaintext u64 matrix product out += A B: plain i-k-j (baseline) and blocked");
    #[cfg(feature = "parallel")]
    println!(
        "(parallel feature: blocked products of at least 2^22 multiplications on {} threads)",
        rayon::current_num_threads()
    );
    let mut prg = seed(5).prg(fixshare::Domain::user(1), 0);
    for (m, k, n) in [(128, 785, 128), (784, 128, 10), (1000, 1000, 1000)] {
        let a: Vec<u64> = (0..m * k).map(|_| u64::random(&mut prg)).collect();
        let b: Vec<u64> = (0..k * n).map(|_| u64::random(&mut prg)).collect();
        let macs = (m * k * n) as f64;
        let runs = (1.5e9 / macs).clamp(3.0, 200.0) as usize;
        let (mut naive_out, mut blocked_out) = (vec![0u64; m * n], vec![0u64; m * n]);
        let (mut naive, mut blocked) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            naive_out.fill(0);
            let t = Instant::now();
            naive_matmul_add_into(black_box(&a), black_box(&b), m, k, n, &mut naive_out);
            naive = naive.min(t.elapsed());
            blocked_out.fill(0);
            let t = Instant::now();
            matmul_add_into(black_box(&a), black_box(&b), m, k, n, &mut blocked_out);
            blocked = blocked.min(t.elapsed());
        }
        assert!(
            naive_out == blocked_out,
            "{m}x{k}x{n}: the kernels disagree"
        );
        let rate = |t: Duration| macs / t.as_secs_f64() / 1e9;
        println!(
            "matmul_{m}x{k}x{n}: naive_ms {:.3}, blocked_ms {:.3}, naive_gmac_per_s {:.2}, blocked_gmac_per_s {:.2}, speedup {:.2}",
            naive.as_secs_f64() * 1e3,
            blocked.as_secs_f64() * 1e3,
            rate(naive),
            rate(blocked),
            naive.as_secs_f64() / blocked.as_secs_f64()
        );
    }
}

/// The party's links and its prefetching source.
fn preprocessed(
    p: &mut BenchParty,
) -> (
    &mut Links<MemoryTransport>,
    &mut Preprocessed<DealerClient<MemoryTransport>>,
) {
    p.context_mut().split()
}
