//! Garbled-circuit throughput beside fixed-key AES measured in the same run.
//!
//! Run with `cargo bench -p fixshare --features std --bench gc`.
//!
//! Half-gates garbling costs 4 AES calls per AND through the TCCR hash `pi(pi(x)^i)^pi(x)` ... which
//! is 2 AES per hash, so 8 AES per AND to garble and 4 to evaluate with this hash; the issue's
//! reference limit is AES blocks/s / 4 (4 hash calls of one AES each), and both ratios are printed.
//! Figures: aes_128.txt (6400 AND gates), garbled to memory, evaluated from memory, and run
//! between two threads (one party per core) over the in-memory transport with a dealer for the OTs.

use fixshare::gc::{self, Circuit, Evaluator, Garbler, Job, Reveal, bristol};
use fixshare::hash::{BlockHash, ChaChaHash, FixedKeyAes};
use fixshare::{Channel, Dealer, DealerClient, Domain, Role, Seed, block_on_thread, duplex};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

/// Runs `f` repeatedly for at least `min` and returns (iterations, elapsed).
fn time(min: Duration, mut f: impl FnMut()) -> (u64, Duration) {
    f(); // warm-up
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < min {
        f();
        n += 1;
    }
    (n, start.elapsed())
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
        "{name:>14}: garble {:7.2} M AND/s ({:5.1}% of AES/4), evaluate {:7.2} M AND/s ({:5.1}% of AES/2)",
        garble / 1e6,
        100.0 * garble / aes_limit,
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
                let mut ch = Channel::new(peer);
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

    // Baselines: raw fixed-key AES, and the TCCR hash.
    let aes = FixedKeyAes::new();
    let mut blocks: Vec<u128> = (0..4096u128).collect();
    let (n, d) = time(Duration::from_secs(2), || {
        aes.permute_in_place(black_box(&mut blocks))
    });
    let aes_bps = per_sec(n as f64 * blocks.len() as f64, d);
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
        "fixed-key AES: {:.1} M blocks/s (garbling limit AES/4 = {:.2} M AND/s); TCCR hash {:.1} M/s; ChaCha hash {:.1} M/s",
        aes_bps / 1e6,
        limit / 1e6,
        tccr / 1e6,
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
