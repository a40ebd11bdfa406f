//! Garbled-circuit throughput beside fixed-key AES measured in the same run.
//!
//! Run with `cargo bench -p fixshare --features std --bench gc`.
//!
//! Half-gates garbling makes 4 hash calls per AND and evaluation 2. The reference limits are raw
//! fixed-key AES blocks/s divided by 4 (garbling) and by 2 (evaluation), i.e. one AES call per hash;
//! the TCCR hash in use, `pi(pi(x) ^ i) ^ pi(x)`, makes two, so 50% of those limits is its ceiling.
//! The baseline is the `aes` crate's own `encrypt_blocks` on 4096-block buffers (its best batch on
//! this machine); `permute_in_place` (the same permutation through this crate's `u128` interface)
//! is printed beside it.
//! Figures: aes_128.txt (6400 AND gates), garbled to memory (a new `Garbler` per circuit, and copies
//! by `restart`), evaluated from memory, and run between two threads over the in-memory transport
//! with a dealer for the OTs.
//!
//! The machine may be shared: every rate is the best of many short timed batches (other load only
//! ever slows a batch down), for the baseline and the subject alike.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use fixshare::gc::{self, Circuit, Evaluator, Garbler, Job, Reveal, bristol};
use fixshare::hash::{BlockHash, ChaChaHash, FixedKeyAes};
use fixshare::{Dealer, DealerClient, Domain, Link, Links, Role, Seed, block_on_thread, duplex};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

/// Runs `f` in batches for at least `min` in total and returns the best batch as (iterations,
/// elapsed); a batch lasts about 20 ms.
fn time(min: Duration, mut f: impl FnMut()) -> (u64, Duration) {
    f(); // warm-up
    let t = Instant::now();
    f();
    let per_batch = (0.02 / t.elapsed().as_secs_f64().max(1e-9)).clamp(1.0, 1e6) as u64;
    let start = Instant::now();
    let mut best = (1, Duration::MAX);
    while start.elapsed() < min {
        let t = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        let d = t.elapsed();
        if d.as_secs_f64() / (per_batch as f64) < best.1.as_secs_f64() / (best.0 as f64) {
            best = (per_batch, d);
        }
    }
    best
}

fn per_sec(count: f64, d: Duration) -> f64 {
    count / d.as_secs_f64()
}

fn garble_eval<H: BlockHash + Copy>(c: &Circuit, hash: H, name: &str, aes_limit: f64) {
    let ands = c.and_count() as f64;
    let mut table = vec![0u128; 2 * c.and_count()];
    let mut rng = seed(1).prg(Domain::GARBLING, 0);
    let (n, d) = time(Duration::from_secs(2), || {
        let mut g = Garbler::new(c, hash, &mut rng);
        black_box(g.garble(&mut table));
    });
    let garble = per_sec(n as f64 * ands, d);
    let mut g = Garbler::new(c, hash, &mut rng);
    g.garble(&mut table);
    let (n, d) = time(Duration::from_secs(2), || {
        g.restart(&mut rng);
        black_box(g.garble(&mut table));
    });
    let copies = per_sec(n as f64 * ands, d);
    // Labels for evaluation: from one garbling.
    let mut g = Garbler::new(c, hash, &mut rng);
    g.garble(&mut table);
    let labels: Vec<u128> = (0..c.input_bits())
        .map(|w| g.input_label(w, w % 3 == 0).unwrap())
        .collect();
    let (n, d) = time(Duration::from_secs(2), || {
        let mut e = Evaluator::new(c, hash);
        for (w, &l) in labels.iter().enumerate() {
            e.set_input_label(w, l);
        }
        black_box(e.evaluate(&table));
    });
    let eval = per_sec(n as f64 * ands, d);
    println!(
        "{name:>14}: garble {:7.2} M AND/s ({:5.1}% of AES/4; copies by restart {:.2} M AND/s, {:.1}%), \
         evaluate {:7.2} M AND/s ({:5.1}% of AES/2)",
        garble / 1e6,
        100.0 * garble / aes_limit,
        copies / 1e6,
        100.0 * copies / aes_limit,
        eval / 1e6,
        100.0 * eval / (2.0 * aes_limit)
    );
}

fn two_party(c: &Circuit, runs: usize) -> (Duration, u64, u64) {
    let (p0_peer, p1_peer) = duplex();
    let (d0, p0_dealer) = duplex();
    let (d1, p1_dealer) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(9), d0, d1).serve()));
    let spawn = |role: Role, peer, dealer| {
        let c = c.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut source = DealerClient::connect(role, dealer).await?;
                let mut ch = Links::pair(role, Link::new(peer));
                let hash = FixedKeyAes::new();
                let bits = vec![true; 128];
                let start = Instant::now();
                for i in 0..runs {
                    let mut rng = seed(role.index() as u8).prg(Domain::GARBLING, i as u64);
                    let job = Job {
                        circuit: &c,
                        owners: &[Role::P0, Role::P1],
                        inputs: &bits,
                        reveal: Reveal::Both,
                    };
                    black_box(gc::execute(role, &mut ch, &mut source, &hash, &mut rng, job).await?);
                }
                Ok::<_, fixshare::Error>((start.elapsed(), ch.stats()))
            })
        })
    };
    let a = spawn(Role::P0, p0_peer, p0_dealer);
    let b = spawn(Role::P1, p1_peer, p1_dealer);
    let (ta, sa) = a.join().unwrap().unwrap();
    let (tb, _) = b.join().unwrap().unwrap();
    let _ = dealer.join();
    (ta.max(tb), sa.bytes_sent, sa.rounds)
}

fn main() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/circuits/aes_128.txt"))
            .expect("aes_128.txt");
    let c = bristol::parse(&text).unwrap();
    println!(
        "circuit aes_128: {} AND, {} gates",
        c.and_count(),
        c.gates().len()
    );

    // Baselines: raw fixed-key AES (the `aes` crate on large buffers), the same permutation through
    // this crate's interface, and the TCCR hash.
    let raw = aes::Aes128::new(&aes::cipher::Array([0x24; 16]));
    let mut raw_blocks = vec![aes::cipher::Array([7u8; 16]); 4096];
    let (n, d) = time(Duration::from_secs(2), || {
        raw.encrypt_blocks(black_box(&mut raw_blocks))
    });
    let aes_bps = per_sec(n as f64 * raw_blocks.len() as f64, d);
    let aes = FixedKeyAes::new();
    let mut blocks: Vec<u128> = (0..4096u128).collect();
    let (n, d) = time(Duration::from_secs(1), || {
        aes.permute_in_place(black_box(&mut blocks))
    });
    let permute = per_sec(n as f64 * blocks.len() as f64, d);
    let tweaks: Vec<u128> = (0..4096u128).collect();
    let (n, d) = time(Duration::from_secs(1), || {
        aes.hash_in_place(&tweaks, black_box(&mut blocks))
    });
    let tccr = per_sec(n as f64 * blocks.len() as f64, d);
    let chacha = ChaChaHash::new();
    let (n, d) = time(Duration::from_secs(1), || {
        chacha.hash_in_place(&tweaks[..512], black_box(&mut blocks[..512]))
    });
    let chacha_h = per_sec(n as f64 * 512.0, d);
    let limit = aes_bps / 4.0;
    println!(
        "fixed-key AES: {:.1} M blocks/s (garbling limit AES/4 = {:.2} M AND/s); permute_in_place {:.1} M/s; \
         TCCR hash {:.1} M/s ({:.1}% of AES/2); ChaCha hash {:.1} M/s",
        aes_bps / 1e6,
        limit / 1e6,
        permute / 1e6,
        tccr / 1e6,
        100.0 * tccr / (aes_bps / 2.0),
        chacha_h / 1e6
    );

    garble_eval(&c, &aes, "fixed-key AES", limit);
    garble_eval(&c, chacha, "ChaCha12", limit);

    let runs = 60;
    let (d, bytes, rounds) = two_party(&c, runs);
    let ands = (runs * c.and_count()) as f64;
    println!(
        "two threads, in-memory transport, dealer OTs: {:.2} M AND/s end to end ({} runs of aes_128 in {:.3} s); \
         garbler sends {:.1} bytes/AND ({} bytes per run), {} rounds per run",
        per_sec(ands, d) / 1e6,
        runs,
        d.as_secs_f64(),
        bytes as f64 / ands,
        bytes / runs as u64,
        rounds / runs as u64
    );
}
