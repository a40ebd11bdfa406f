//! OT benchmark: base OT, IKNP extension and the OT-based offline phase, each beside the dealer
//! doing the same work in the same run (two parties, and the dealer, as threads over the
//! in-memory duplex; wall time of the slower party after a barrier).
//!
//! Run with `CARGO_TARGET_DIR=target-ot cargo bench -p fixshare --features std --bench ot`.
//! Prints: base-OT time for 128 OTs; random OTs/s and correlated OTs/s of the extension (outputs
//! written into arrays); Beaver triples/s in Z_2^64; time and bytes of one 128x784 by 784x1 matrix
//! triple. Bytes are the total of both directions between the parties (OT) or from the dealer.
//!
//! The machine may be shared with other work: every figure is the best (shortest) of several
//! repetitions, for the OT side and the dealer side alike, and the output arrays of the extension
//! are written once before the clock starts (so that first-touch page faults of fresh memory are
//! not counted as OT work).

use fixshare::correlated::Correlations;
use fixshare::hash::FixedKeyAes;
use fixshare::ot::{base, iknp};
use fixshare::{
    Dealer, DealerClient, Domain, Link, Links, MemoryTransport, OtCorrelations, PartyId, Role,
    Seed, Stats, Sub, block_on_thread, duplex,
};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use subtle::Choice;

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

/// Runs `f(role, barrier)` for both parties on threads; each returns its own measured time.
fn pair<T: Send + 'static>(
    f: impl Fn(Role, Arc<Barrier>) -> T + Send + Sync + Clone + 'static,
) -> (T, T) {
    let barrier = Arc::new(Barrier::new(2));
    let h: Vec<_> = [Role::P0, Role::P1]
        .into_iter()
        .map(|r| {
            let (f, b) = (f.clone(), barrier.clone());
            thread::spawn(move || f(r, b))
        })
        .collect();
    let mut it = h.into_iter().map(|h| h.join().expect("party panicked"));
    let a = it.next().unwrap();
    (a, it.next().unwrap())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Repetitions of each measurement (the best is reported).
const REPS: usize = 5;

/// The run with the shortest time among `REPS` runs of `f`.
fn best(mut f: impl FnMut() -> (Duration, u64)) -> (Duration, u64) {
    (0..REPS).map(|_| f()).min_by_key(|r| r.0).unwrap()
}

fn base_ot_128() -> Duration {
    let mut times = Vec::new();
    for i in 0..7 {
        let (a, b) = duplex();
        let ends = Arc::new(std::sync::Mutex::new([Some(a), Some(b)]));
        let (t0, t1) = pair(move |role, bar| {
            let t = ends.lock().unwrap()[role.index()].take().unwrap();
            block_on_thread(async move {
                let mut link = Link::new(t);
                let mut ch = link.channel(Sub::Offline);
                let mut prg = seed(10 + i).prg(Domain::OT, role.index() as u64);
                bar.wait();
                let start = Instant::now();
                if role == Role::P0 {
                    base::send(&mut ch, &mut prg, 128).await.unwrap();
                } else {
                    let c: Vec<Choice> = (0..128).map(|j| Choice::from((j % 2) as u8)).collect();
                    base::receive(&mut ch, &mut prg, &c).await.unwrap();
                }
                start.elapsed()
            })
        });
        times.push(t0.max(t1));
    }
    median(times)
}

/// IKNP random OTs (`correlated = false`) or correlated OTs, `n` of them, outputs into arrays.
fn extension(n: usize, correlated: bool) -> (Duration, u64) {
    let (a, b) = duplex();
    let ends = Arc::new(std::sync::Mutex::new([Some(a), Some(b)]));
    let (r0, r1) = pair(move |role, bar| {
        let t = ends.lock().unwrap()[role.index()].take().unwrap();
        block_on_thread(async move {
            let mut link = Link::new(t);
            let mut ch = link.channel(Sub::Offline);
            let mut prg = seed(20).prg(Domain::OT, role.index() as u64);
            if role == Role::P0 {
                let mut s = iknp::setup_sender(&mut ch, &mut prg, FixedKeyAes::new())
                    .await
                    .unwrap();
                let mut out = vec![[1u128; 2]; n];
                bar.wait();
                let start = Instant::now();
                if correlated {
                    let d = s.delta().expose();
                    iknp::send_correlated(&mut s, &mut ch, n, |i, q| out[i] = [q, q ^ d])
                        .await
                        .unwrap();
                } else {
                    iknp::send_random(&mut s, &mut ch, n, |i, m0, m1| out[i] = [m0, m1])
                        .await
                        .unwrap();
                }
                black_box(&out);
                (start.elapsed(), ch.stats())
            } else {
                let mut r = iknp::setup_receiver(&mut ch, &mut prg, FixedKeyAes::new())
                    .await
                    .unwrap();
                let mut out = vec![1u128; n];
                let mut bits = vec![true; n];
                bar.wait();
                let start = Instant::now();
                if correlated {
                    let pattern = |b: usize| (b as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    iknp::receive_correlated(&mut r, &mut ch, n, pattern, |i, t| out[i] = t)
                        .await
                        .unwrap();
                } else {
                    iknp::receive_random(&mut r, &mut ch, &mut prg, n, |i, c, m| {
                        out[i] = m;
                        bits[i] = c;
                    })
                    .await
                    .unwrap();
                }
                black_box((&out, &bits));
                (start.elapsed(), ch.stats())
            }
        })
    });
    (r0.0.max(r1.0), r0.1.bytes_sent + r1.1.bytes_sent)
}

/// What a source does in one measured job.
#[derive(Clone, Copy)]
enum Job {
    RandomOt(usize),
    Triples(usize),
    Matrix(usize, usize, usize),
}

async fn job<T, C: Correlations<T>>(src: &mut C, links: &mut Links<T>, role: Role, j: Job) {
    match j {
        Job::RandomOt(n) => {
            if role == Role::P0 {
                black_box(src.random_ot_sender(links, n).await.unwrap());
            } else {
                black_box(src.random_ot_receiver(links, n).await.unwrap());
            }
        }
        Job::Triples(n) => {
            black_box(src.triples::<u64>(links, n).await.unwrap());
        }
        Job::Matrix(m, k, n) => {
            black_box(src.matrix_triple::<u64>(links, m, k, n).await.unwrap());
        }
    }
}

/// The job with OT-based correlations: time (after setup) and bytes between the parties.
fn with_ot(j: Job) -> (Duration, u64) {
    let (a, b) = duplex();
    let ends = Arc::new(std::sync::Mutex::new([Some(a), Some(b)]));
    let (r0, r1) = pair(move |role, bar| {
        let t = ends.lock().unwrap()[role.index()].take().unwrap();
        block_on_thread(async move {
            let mut links = Links::pair(role, Link::new(t));
            let peer = PartyId::of(role.peer());
            let link = links.get(peer).unwrap();
            let mut src = OtCorrelations::setup(role, link, seed(30 + role.index() as u8))
                .await
                .unwrap();
            let before = links.stats();
            bar.wait();
            let start = Instant::now();
            job(&mut src, &mut links, role, j).await;
            let s: Stats = links.stats();
            (start.elapsed(), s.bytes_sent - before.bytes_sent)
        })
    });
    (r0.0.max(r1.0), r0.1 + r1.1)
}

/// The same job with the dealer: time and bytes the dealer sent.
fn with_dealer(j: Job) -> (Duration, u64) {
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(40), d0, d1).serve()));
    let ends = Arc::new(std::sync::Mutex::new([Some(c0), Some(c1)]));
    let (r0, r1) = pair(move |role, bar| {
        let t = ends.lock().unwrap()[role.index()].take().unwrap();
        block_on_thread(async move {
            let mut src = DealerClient::connect(role, t).await.unwrap();
            let before = src.stats();
            bar.wait();
            let start = Instant::now();
            job(
                &mut src,
                &mut Links::<MemoryTransport>::new(PartyId::of(role)),
                role,
                j,
            )
            .await;
            let s = src.stats();
            (start.elapsed(), s.bytes_received - before.bytes_received)
        })
    });
    dealer.join().unwrap().unwrap();
    (r0.0.max(r1.0), r0.1 + r1.1)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    println!("OT benchmark (two parties as threads, in-memory duplex)\n");
    let t = base_ot_128();
    let (dt, _) = best(|| with_dealer(Job::Triples(0)));
    println!(
        "base OT, 128 Chou-Orlandi OTs: {:.2} ms  (dealer setup + empty request: {:.3} ms)",
        t.as_secs_f64() * 1e3,
        dt.as_secs_f64() * 1e3
    );

    // The baseline of this run: raw fixed-key AES-128 on one core (each random OT costs two
    // column blocks at the receiver, one at the sender, and hashes).
    let mut blocks = vec![0u128; 1 << 16];
    let aes = FixedKeyAes::new();
    let (ta, _) = best(|| {
        let t = Instant::now();
        for _ in 0..32 {
            aes.permute_in_place(black_box(&mut blocks));
        }
        (t.elapsed(), 0)
    });
    let aes_rate = rate(32 << 16, ta);
    println!(
        "raw AES-128 (baseline, same run): {:.1} M blocks/s",
        aes_rate / 1e6
    );

    let n = 1 << 21;
    let (tr, br) = best(|| extension(n, false));
    let (tc, bc) = best(|| extension(n, true));
    let (td, bd) = best(|| with_dealer(Job::RandomOt(n)));
    let (tro, _) = best(|| with_ot(Job::RandomOt(n)));
    println!(
        "IKNP random OTs:     {:>7.2} M/s ({:.1} bytes/OT) | via OtCorrelations {:.2} M/s | dealer {:.2} M/s ({:.1} bytes/OT) | OT/dealer time ratio {:.2}",
        rate(n, tr) / 1e6,
        br as f64 / n as f64,
        rate(n, tro) / 1e6,
        rate(n, td) / 1e6,
        bd as f64 / n as f64,
        tr.as_secs_f64() / td.as_secs_f64()
    );
    println!(
        "IKNP correlated OTs: {:>7.2} M/s ({:.1} bytes/OT) | OT/dealer(random OT) time ratio {:.2}",
        rate(n, tc) / 1e6,
        bc as f64 / n as f64,
        tc.as_secs_f64() / td.as_secs_f64()
    );
    println!(
        "AES blocks per OT at these rates: random {:.1}, correlated {:.1}",
        aes_rate / rate(n, tr),
        aes_rate / rate(n, tc)
    );

    let n = 1 << 16;
    let (to, bo) = best(|| with_ot(Job::Triples(n)));
    let (td, bd) = best(|| with_dealer(Job::Triples(n)));
    println!(
        "Beaver triples Z_2^64: OT {:.0}/s ({:.0} bytes/triple) | dealer {:.0}/s ({:.1} bytes/triple) | time ratio OT/dealer {:.1}",
        rate(n, to),
        bo as f64 / n as f64,
        rate(n, td),
        bd as f64 / n as f64,
        to.as_secs_f64() / td.as_secs_f64()
    );

    for (m, k, nn) in [(128, 784, 1), (784, 128, 1)] {
        let (to, bo) = best(|| with_ot(Job::Matrix(m, k, nn)));
        let (td, bd) = best(|| with_dealer(Job::Matrix(m, k, nn)));
        let scalar = m * k * nn;
        let (ts, bs) = with_ot(Job::Triples(scalar));
        println!(
            "matrix triple {m}x{k} by {k}x{nn}: OT {:.1} ms, {:.2} MB | dealer {:.2} ms, {:.3} MB | ratio {:.0}x time | {} scalar OT triples instead: {:.1} ms, {:.1} MB",
            to.as_secs_f64() * 1e3,
            bo as f64 / 1e6,
            td.as_secs_f64() * 1e3,
            bd as f64 / 1e6,
            to.as_secs_f64() / td.as_secs_f64(),
            scalar,
            ts.as_secs_f64() * 1e3,
            bs as f64 / 1e6
        );
    }
}
