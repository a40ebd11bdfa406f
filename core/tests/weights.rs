//! Phong–Phuong weight sharing in one process: sealing, tampering, the server's compare-and-swap
//! rules, and SNT and FNT against centralized training (issue 16). The server as a real process
//! over TCP is tested in the `fixshare-snt` crate.

use fixshare::ml::float::{self, Activation, Loss, Model, Optimizer, Rows, Spec};
use fixshare::weights::snt::{self, Board, Progress};
use fixshare::weights::{
    self, Expect, Header, ModelId, Plan, Rejection, Sealer, Trainer, WeightKey, fnt, format, open,
};
use fixshare::{Error, Link, Seed, block_on_thread, duplex};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const MODEL: ModelId = ModelId(*b"issue-16-weights");

fn key() -> WeightKey {
    WeightKey::from_bytes([0x42; 32])
}

/// Three noisy classes in six dimensions: `n` rows, deterministic from `seed`.
fn dataset(n: usize, seed: u8) -> (Vec<f64>, Vec<f64>) {
    let mut s = u64::from(seed) * 0x9e37_79b9_7f4a_7c15 + 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 3;
        for f in 0..6 {
            let centre = if f % 3 == c { 1.0 } else { -0.5 };
            x.push(centre + next());
        }
        y.push(c as f64);
    }
    (x, y)
}

fn spec(activation: Activation, optimizer: Optimizer, loss: Loss) -> Spec {
    let out = if loss == Loss::BinaryCrossEntropy {
        1
    } else {
        3
    };
    Spec {
        sizes: vec![6, 10, 7, out],
        activation,
        dropout: vec![0.2, 0.0],
        loss,
        optimizer,
        batch: 8,
        local_epochs: 2,
    }
}

fn seeds(l: usize) -> Vec<Seed> {
    (0..l)
        .map(|i| Seed::from_bytes([i as u8 + 1; 32]))
        .collect()
}

fn model_for(s: &Spec) -> Model {
    Model::init(s, &Seed::from_bytes([9; 32])).unwrap()
}

fn rejection(e: &Error) -> Rejection {
    Rejection::of(e).unwrap_or_else(|| panic!("not a rejection: {e}"))
}

#[test]
fn sealed_weights_open_with_the_key_only() {
    let s = spec(
        Activation::Tanh,
        Optimizer::adam(0.01),
        Loss::SoftmaxCrossEntropy,
    );
    let m = model_for(&s);
    let mut sealer = Sealer::new(&Seed::from_bytes([1; 32]), 0);
    let sealed = sealer.seal(&key(), MODEL, 4, 1, 2, &m).unwrap();
    let expect = Expect {
        model: MODEL,
        trainers: 4,
        version: 2,
    };
    assert_eq!(open(&key(), &expect, &sealed).unwrap(), m);
    let wrong = WeightKey::from_bytes([0x43; 32]);
    let e = open(&wrong, &expect, &sealed).unwrap_err();
    assert_eq!(rejection(&e), Rejection::Authentication);
    assert!(e.to_string().contains("wrong key"), "{e}");
    // Two seals of the same weights differ (fresh nonces), and both open.
    let again = sealer.seal(&key(), MODEL, 4, 1, 2, &m).unwrap();
    assert_ne!(again, sealed);
    assert_eq!(open(&key(), &expect, &again).unwrap(), m);
}

#[test]
fn tampering_is_rejected_with_a_clear_error() {
    let s = spec(
        Activation::Relu,
        Optimizer::Sgd { lr: 0.1 },
        Loss::SoftmaxCrossEntropy,
    );
    let m = model_for(&s);
    let mut sealer = Sealer::new(&Seed::from_bytes([2; 32]), 0);
    // Version 5 of 3 trainers: step 4, epoch 1, position 1, trainer 1.
    let sealed = sealer.seal(&key(), MODEL, 3, 1, 5, &m).unwrap();
    let expect = Expect {
        model: MODEL,
        trainers: 3,
        version: 5,
    };
    open(&key(), &expect, &sealed).unwrap();

    // A flipped bit anywhere: the header (malformed or unauthenticated) or the ciphertext and tag.
    for at in (0..sealed.len()).step_by(7).chain([sealed.len() - 1]) {
        let mut bad = sealed.clone();
        bad[at] ^= 1 << (at % 8);
        let e = open(&key(), &expect, &bad).unwrap_err();
        let r = rejection(&e);
        if at >= weights::seal::HEADER_LEN {
            assert_eq!(r, Rejection::Authentication, "byte {at}");
        }
    }

    // A replayed older round, and a skipped one.
    let old = sealer.seal(&key(), MODEL, 3, 0, 4, &m).unwrap();
    assert_eq!(
        rejection(&open(&key(), &expect, &old).unwrap_err()),
        Rejection::Replayed
    );
    let ahead = sealer.seal(&key(), MODEL, 3, 2, 6, &m).unwrap();
    assert_eq!(
        rejection(&open(&key(), &expect, &ahead).unwrap_err()),
        Rejection::Ahead
    );

    // Another model's weights under the same key.
    let other = sealer
        .seal(&key(), ModelId(*b"some other model"), 3, 1, 5, &m)
        .unwrap();
    let e = open(&key(), &expect, &other).unwrap_err();
    assert_eq!(rejection(&e), Rejection::WrongModel);
    assert!(e.to_string().contains("another model"), "{e}");

    // Weights from a trainer whose turn it was not (trainer 2 sealing position 1's version).
    let usurper = sealer.seal(&key(), MODEL, 3, 2, 5, &m).unwrap();
    assert_eq!(
        rejection(&open(&key(), &expect, &usurper).unwrap_err()),
        Rejection::OutOfOrder
    );

    // A header edited to claim the expected round (epoch, position and trainer consistent) still
    // fails: the header is authenticated.
    let mut relabelled = old.clone();
    relabelled[24..32].copy_from_slice(&5u64.to_le_bytes());
    relabelled[32..36].copy_from_slice(&1u32.to_le_bytes());
    relabelled[36..40].copy_from_slice(&1u32.to_le_bytes());
    relabelled[40..44].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(Header::decode(&relabelled).unwrap().version, 5);
    assert_eq!(
        rejection(&open(&key(), &expect, &relabelled).unwrap_err()),
        Rejection::Authentication
    );

    // Truncations and garbage never panic.
    for cut in [0, 10, 79, 80, 95, sealed.len() - 1] {
        assert!(open(&key(), &expect, &sealed[..cut]).is_err());
    }
}

/// Pearson's chi-square statistic of the byte histogram of `bytes` (255 degrees of freedom).
fn chi_square(bytes: &[u8]) -> f64 {
    let mut counts = [0u64; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let expected = bytes.len() as f64 / 256.0;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// The longest run of equal consecutive bits.
fn longest_run(bytes: &[u8]) -> usize {
    let (mut best, mut run, mut last) = (0, 0, 2u8);
    for b in bytes {
        for i in 0..8 {
            let bit = (b >> i) & 1;
            run = if bit == last { run + 1 } else { 1 };
            last = bit;
            best = best.max(run);
        }
    }
    best
}

#[test]
fn sealed_bytes_look_random_and_the_plaintext_does_not() {
    let s = Spec {
        sizes: vec![64, 64, 10],
        dropout: vec![],
        ..spec(
            Activation::Relu,
            Optimizer::adam(0.01),
            Loss::SoftmaxCrossEntropy,
        )
    };
    let m = model_for(&s);
    let sealed = Sealer::new(&Seed::from_bytes([3; 32]), 0)
        .seal(&key(), MODEL, 2, 0, 0, &m)
        .unwrap();
    let body = &sealed[weights::seal::HEADER_LEN..];
    let plain = format::encode(&m);
    // 255 degrees of freedom: the 0.1% critical value is 330.5.
    let (c, p) = (chi_square(body), chi_square(&plain));
    assert!(c < 330.5, "ciphertext chi-square {c}");
    assert!(p > 330.5, "the control (plaintext) passed: {p}");
    // Runs: in n random bits the longest run is about log2(n); zero moments are long runs.
    let n = (body.len() * 8) as f64;
    assert!((longest_run(body) as f64) < n.log2() + 12.0);
    assert!((longest_run(&plain) as f64) > n.log2() + 12.0);
    // The plaintext weights appear nowhere in the ciphertext.
    let w = m.params[1].to_le_bytes();
    assert!(!body.windows(8).any(|x| x == w));
}

/// The board's state: each model's header and sealed weights.
type Stored = HashMap<ModelId, (Header, Arc<[u8]>)>;

/// A server's tampering: the bytes it hands out for a version, `None` to be honest.
type Tamper<'a> = &'a (dyn Fn(u64, &[u8]) -> Option<Vec<u8>> + Sync);

/// An in-memory [`Board`]: the compare-and-swap rule under a lock, and a condition variable for
/// fetches that wait.
#[derive(Default)]
struct MemoryBoard {
    state: Mutex<Stored>,
    changed: Condvar,
}

impl Board for MemoryBoard {
    type Sealed = Arc<[u8]>;

    fn fetch(&self, model: &ModelId, want: u64) -> Option<(u64, Arc<[u8]>)> {
        let guard = self.state.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, Duration::from_millis(200), |s| {
                s.get(model).is_none_or(|(h, _)| h.version < want)
            })
            .unwrap();
        guard.get(model).map(|(h, b)| (h.version, b.clone()))
    }

    fn current(&self, model: &ModelId) -> Option<u64> {
        self.state
            .lock()
            .unwrap()
            .get(model)
            .map(|(h, _)| h.version)
    }

    fn store(&self, header: &Header, sealed: &[u8]) -> Result<(), (Rejection, Option<u64>)> {
        let mut s = self.state.lock().unwrap();
        let cur = s.get(&header.model).map(|(h, _)| *h);
        snt::check_successor(cur.as_ref(), header).map_err(|r| (r, cur.map(|h| h.version)))?;
        s.insert(header.model, (*header, Arc::from(sealed)));
        self.changed.notify_all();
        Ok(())
    }
}

/// A server that tampers with what it serves: `f(version, sealed)` gives the bytes it hands out.
struct Tampering<F> {
    honest: MemoryBoard,
    f: F,
}

impl<F: Fn(u64, &[u8]) -> Option<Vec<u8>> + Sync> Board for Tampering<F> {
    type Sealed = Arc<[u8]>;
    fn fetch(&self, model: &ModelId, want: u64) -> Option<(u64, Arc<[u8]>)> {
        let (v, s) = self.honest.fetch(model, want)?;
        Some(match (self.f)(v, &s) {
            Some(t) => (v, Arc::from(t)),
            None => (v, s),
        })
    }
    fn current(&self, model: &ModelId) -> Option<u64> {
        self.honest.current(model)
    }
    fn store(&self, header: &Header, sealed: &[u8]) -> Result<(), (Rejection, Option<u64>)> {
        self.honest.store(header, sealed)
    }
}

/// Runs an SNT session of `parts.len()` trainer threads against `board` (one server thread per
/// trainer connection); returns each trainer's result.
fn run_snt<B: Board + Sync>(
    board: &B,
    s: &Spec,
    parts: &[Rows<'_>],
    seeds: &[Seed],
    central_epochs: u32,
) -> Vec<Result<Model, Error>> {
    let plan = Plan {
        model: MODEL,
        trainers: parts.len() as u32,
        central_epochs,
    };
    let k = key();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (i, (rows, seed)) in parts.iter().zip(seeds).enumerate() {
            let (server_end, trainer_end) = duplex();
            scope.spawn(move || {
                let mut link = Link::new(server_end);
                let _ = block_on_thread(snt::serve(&mut link, board, 1 << 30));
            });
            let k = &k;
            handles.push(scope.spawn(move || {
                let sealer = Sealer::new(&Seed::from_bytes([0xa0 + i as u8; 32]), 0);
                let mut t = Trainer::new(plan, i as u32, s, *rows, k, seed, sealer, &|| 0.0)?;
                let mut link = Link::new(trainer_end);
                block_on_thread(snt::run(&mut t, &mut link, &mut Progress::new()))
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Runs an FNT ring of `parts.len()` trainer threads joined by in-memory links.
fn run_fnt(
    s: &Spec,
    parts: &[Rows<'_>],
    seeds: &[Seed],
    central_epochs: u32,
) -> Vec<Result<Model, Error>> {
    let l = parts.len();
    let plan = Plan {
        model: MODEL,
        trainers: l as u32,
        central_epochs,
    };
    let k = key();
    // Link i goes from trainer i to trainer i + 1.
    let (mut sends, mut recvs): (Vec<_>, Vec<_>) = (0..l).map(|_| duplex()).unzip();
    recvs.rotate_right(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .zip(seeds)
            .enumerate()
            .map(|(i, (rows, seed))| {
                let (to_next, from_prev) = (sends.remove(0), recvs.remove(0));
                let k = &k;
                scope.spawn(move || {
                    let sealer = Sealer::new(&Seed::from_bytes([0xb0 + i as u8; 32]), 0);
                    let mut t = Trainer::new(plan, i as u32, s, *rows, k, seed, sealer, &|| 0.0)?;
                    let (mut prev, mut next) = (Link::new(from_prev), Link::new(to_next));
                    block_on_thread(fnt::run(&mut t, &mut prev, &mut next))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Theorems 3 and 5: SNT and FNT give exactly the weights of centralized training on the union of
/// the data in the same order (and so the same accuracy), for several activations, both
/// optimizers and every loss.
#[test]
fn snt_and_fnt_reproduce_centralized_training_bit_exactly() {
    let (x, y) = dataset(150, 1);
    let (tx, ty) = dataset(60, 2);
    let test = Rows {
        x: &tx,
        y: &ty,
        features: 6,
    };
    let cases = [
        (
            Activation::Relu,
            Optimizer::adam(0.01),
            Loss::SoftmaxCrossEntropy,
            3,
        ),
        (
            Activation::Tanh,
            Optimizer::Sgd { lr: 0.1 },
            Loss::SoftmaxCrossEntropy,
            4,
        ),
        (Activation::Sigmoid, Optimizer::adam(0.02), Loss::Squared, 2),
        (
            Activation::LeakyRelu(0.05),
            Optimizer::Sgd { lr: 0.05 },
            Loss::BinaryCrossEntropy,
            3,
        ),
        (
            Activation::Softplus,
            Optimizer::adam(0.01),
            Loss::BinaryCrossEntropy,
            2,
        ),
    ];
    for (act, opt, loss, l) in cases {
        let s = spec(act, opt, loss);
        let y: Vec<f64> = if loss == Loss::BinaryCrossEntropy {
            y.iter().map(|&c| f64::from(u8::from(c == 0.0))).collect()
        } else {
            y.clone()
        };
        let ty: Vec<f64> = if loss == Loss::BinaryCrossEntropy {
            ty.iter().map(|&c| f64::from(u8::from(c == 0.0))).collect()
        } else {
            ty.clone()
        };
        let test = Rows { y: &ty, ..test };
        let parts: Vec<Rows<'_>> = float::partition(150, l)
            .into_iter()
            .map(|r| Rows {
                x: &x[r.start * 6..r.end * 6],
                y: &y[r],
                features: 6,
            })
            .collect();
        let seeds = seeds(l);
        let reference = float::centralized(&s, &parts, &seeds, 3).unwrap();
        let acc = float::accuracy(&s, &reference, test);
        assert!(
            acc > 0.6,
            "{act:?} {opt:?} {loss:?}: centralized accuracy {acc}"
        );
        assert_ne!(reference, model_for(&s));

        let snt = run_snt(&MemoryBoard::default(), &s, &parts, &seeds, 3);
        let fnt = run_fnt(&s, &parts, &seeds, 3);
        for (system, results) in [("snt", snt), ("fnt", fnt)] {
            for (i, r) in results.into_iter().enumerate() {
                let m = r.unwrap_or_else(|e| panic!("{system} trainer {i}: {e}"));
                assert!(
                    m == reference,
                    "{system} trainer {i} ({act:?} {opt:?} {loss:?}): weights differ"
                );
                assert_eq!(float::accuracy(&s, &m, test), acc);
            }
        }
    }
}

/// A different order of the same data gives different weights: the equality above is not
/// vacuous.
#[test]
fn the_order_of_the_trainers_matters() {
    let (x, y) = dataset(90, 3);
    let s = spec(
        Activation::Tanh,
        Optimizer::adam(0.01),
        Loss::SoftmaxCrossEntropy,
    );
    let parts: Vec<Rows<'_>> = float::partition(90, 3)
        .into_iter()
        .map(|r| Rows {
            x: &x[r.start * 6..r.end * 6],
            y: &y[r],
            features: 6,
        })
        .collect();
    let seeds = seeds(3);
    let a = float::centralized(&s, &parts, &seeds, 2).unwrap();
    let swapped = [parts[1], parts[0], parts[2]];
    let b = float::centralized(&s, &swapped, &seeds, 2).unwrap();
    assert_ne!(a.params, b.params);
}

/// The server's compare-and-swap: stale, skipped, out-of-order, wrong-size and malformed uploads
/// are refused with the reason, and the stored weights stay as they were.
#[test]
fn the_server_refuses_bad_uploads_and_keeps_its_state() {
    let s = spec(
        Activation::Relu,
        Optimizer::Sgd { lr: 0.1 },
        Loss::SoftmaxCrossEntropy,
    );
    let m = model_for(&s);
    let board = MemoryBoard::default();
    let mut sealer = Sealer::new(&Seed::from_bytes([4; 32]), 0);
    let mut seal = |trainer, version| sealer.seal(&key(), MODEL, 3, trainer, version, &m).unwrap();
    let (v0, v1, v2) = (seal(0, 0), seal(0, 1), seal(1, 2));
    let (server_end, trainer_end) = duplex();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut link = Link::new(server_end);
            // The connection ends with the oversized upload at the end of the test.
            let e = block_on_thread(snt::serve(&mut link, &board, 1 << 20)).unwrap_err();
            assert_eq!(Rejection::of(&e), Some(Rejection::TooLarge));
        });
        let mut link = Link::new(trainer_end);
        let mut up = |trainer, sealed: &[u8]| {
            block_on_thread(snt::upload(&mut link, trainer, sealed)).unwrap()
        };
        let refused = |r: snt::Reply| match r.status {
            snt::Status::Refused(why) => (why, r.current),
            other => panic!("stored: {other:?}"),
        };
        assert_eq!(refused(up(0, &v1)), (Rejection::Ahead, None));
        assert_eq!(up(0, &v0).status, snt::Status::Done);
        assert_eq!(up(0, &v1).status, snt::Status::Done);
        let stored = board.state.lock().unwrap()[&MODEL].1.clone();
        // Stale: version 1 again, or version 0.
        assert_eq!(refused(up(0, &seal(0, 1))), (Rejection::Replayed, Some(1)));
        assert_eq!(refused(up(0, &v0)), (Rejection::Replayed, Some(1)));
        // Skipping version 2.
        assert_eq!(refused(up(2, &seal(2, 3))), (Rejection::Ahead, Some(1)));
        // Out of order: trainer 2 takes trainer 1's turn; or uploads trainer 1's weights as itself.
        assert_eq!(
            refused(up(2, &seal(2, 2))),
            (Rejection::OutOfOrder, Some(1))
        );
        assert_eq!(refused(up(2, &v2)), (Rejection::OutOfOrder, Some(1)));
        // Another number of trainers; a malformed header.
        let four = Sealer::new(&Seed::from_bytes([5; 32]), 0)
            .seal(&key(), MODEL, 4, 1, 2, &m)
            .unwrap();
        assert_eq!(refused(up(1, &four)), (Rejection::WrongTrainers, Some(1)));
        let mut bad = v2.clone();
        bad[0] = b'X';
        let raw = snt::Request {
            kind: snt::Kind::Upload,
            trainer: 1,
            model: MODEL,
            version: 2,
            len: bad.len() as u64,
        };
        let mut ch = link.channel(fixshare::Sub::Online);
        block_on_thread(ch.send_frame("test", weights::tag::REQUEST, &raw.encode())).unwrap();
        block_on_thread(ch.send_frame("test", weights::tag::SEALED, &bad)).unwrap();
        let mut reply = [0u8; snt::REPLY_LEN];
        block_on_thread(ch.recv_frame("test", weights::tag::REPLY, &mut reply)).unwrap();
        let reply = snt::Reply::decode(&reply).unwrap();
        assert_eq!(reply.status, snt::Status::Refused(Rejection::Malformed));
        let mut up = |trainer, sealed: &[u8]| {
            block_on_thread(snt::upload(&mut link, trainer, sealed)).unwrap()
        };
        assert!(Arc::ptr_eq(&stored, &board.state.lock().unwrap()[&MODEL].1));
        // The right upload still goes through.
        assert_eq!(up(1, &v2).status, snt::Status::Done);
        assert_eq!(board.current(&MODEL), Some(2));
        // Too large for the server: refused before the bytes are read; the connection ends.
        let big = vec![0u8; (1 << 20) + 1];
        let mut req = [0u8; snt::REQUEST_LEN];
        req.copy_from_slice(
            &snt::Request {
                kind: snt::Kind::Upload,
                trainer: 2,
                model: MODEL,
                version: 3,
                len: big.len() as u64,
            }
            .encode(),
        );
        let mut ch = link.channel(fixshare::Sub::Online);
        block_on_thread(ch.send_frame("test", weights::tag::REQUEST, &req)).unwrap();
        let mut reply = [0u8; snt::REPLY_LEN];
        block_on_thread(ch.recv_frame("test", weights::tag::REPLY, &mut reply)).unwrap();
        let reply = snt::Reply::decode(&reply).unwrap();
        assert_eq!(reply.status, snt::Status::Refused(Rejection::TooLarge));
        assert_eq!(reply.current, Some(2));
        drop(link);
    });
}

/// A server that tampers with what it hands out is caught by the trainer that opens it, which
/// then uploads nothing: the stored state stays at the last honest version.
#[test]
fn a_tampering_server_is_caught_by_the_trainers() {
    let (x, y) = dataset(60, 4);
    let s = spec(
        Activation::Tanh,
        Optimizer::adam(0.01),
        Loss::SoftmaxCrossEntropy,
    );
    let parts: Vec<Rows<'_>> = float::partition(60, 3)
        .into_iter()
        .map(|r| Rows {
            x: &x[r.start * 6..r.end * 6],
            y: &y[r],
            features: 6,
        })
        .collect();
    let seeds = seeds(3);
    let other = Sealer::new(&Seed::from_bytes([6; 32]), 0)
        .seal(
            &key(),
            ModelId(*b"a different one!"),
            3,
            1,
            2,
            &model_for(&s),
        )
        .unwrap();
    let flip: Tamper<'_> = &|v, b: &[u8]| {
        (v == 2).then(|| {
            let mut t = b.to_vec();
            t[200] ^= 0x10;
            t
        })
    };
    let swap: Tamper<'_> = &|v, _: &[u8]| (v == 2).then(|| other.clone());
    let old = Mutex::new(HashMap::new());
    // Serves version 1 again when version 4 is asked for (a rollback).
    let replay: Tamper<'_> = &|v, b: &[u8]| {
        let mut seen = old.lock().unwrap();
        seen.entry(v).or_insert_with(|| b.to_vec());
        if v == 4 { seen.get(&1).cloned() } else { None }
    };
    for (f, expected, stuck_at) in [
        (flip, Rejection::Authentication, 2),
        (swap, Rejection::WrongModel, 2),
        (replay, Rejection::Replayed, 4),
    ] {
        let board = Tampering {
            honest: MemoryBoard::default(),
            f,
        };
        let results = run_snt_until_failure(&board, &s, &parts, &seeds);
        let (who, e) = results;
        assert_eq!(who as u64, stuck_at % 3, "{expected:?}");
        assert_eq!(rejection(&e), expected, "{e}");
        assert_eq!(board.current(&MODEL), Some(stuck_at), "{expected:?}");
    }
}

/// A transport that fails once `abort` is set (to end trainers that wait for a version that will
/// never come).
struct Abortable {
    inner: fixshare::MemoryTransport,
    abort: Arc<AtomicBool>,
}

impl fixshare::Transport for Abortable {
    async fn send(&mut self, buf: &[u8]) -> Result<(), fixshare::TransportError> {
        if self.abort.load(Ordering::SeqCst) {
            return Err(fixshare::TransportError::Closed);
        }
        self.inner.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), fixshare::TransportError> {
        self.inner.recv(buf).await
    }
    async fn flush(&mut self) -> Result<(), fixshare::TransportError> {
        self.inner.flush().await
    }
}

/// Like [`run_snt`] (two central epochs), but ends every trainer once one fails with a
/// rejection, and returns that trainer and its error.
fn run_snt_until_failure<B: Board + Sync>(
    board: &B,
    s: &Spec,
    parts: &[Rows<'_>],
    seeds: &[Seed],
) -> (usize, Error) {
    let plan = Plan {
        model: MODEL,
        trainers: parts.len() as u32,
        central_epochs: 2,
    };
    let k = key();
    let abort = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for (i, (rows, seed)) in parts.iter().zip(seeds).enumerate() {
            let (server_end, trainer_end) = duplex();
            scope.spawn(move || {
                let mut link = Link::new(server_end);
                let _ = block_on_thread(snt::serve(&mut link, board, 1 << 30));
            });
            let (k, tx, abort) = (&k, tx.clone(), abort.clone());
            scope.spawn(move || {
                let sealer = Sealer::new(&Seed::from_bytes([0xc0 + i as u8; 32]), 0);
                let mut t =
                    Trainer::new(plan, i as u32, s, *rows, k, seed, sealer, &|| 0.0).unwrap();
                let mut link = Link::new(Abortable {
                    inner: trainer_end,
                    abort,
                });
                let r = block_on_thread(snt::run(&mut t, &mut link, &mut Progress::new()));
                let _ = tx.send((i, r));
            });
        }
        drop(tx);
        let mut failure = None;
        for (i, r) in rx.iter() {
            if let Err(e) = r
                && Rejection::of(&e).is_some()
                && failure.is_none()
            {
                failure = Some((i, e));
                abort.store(true, Ordering::SeqCst);
            }
        }
        failure.expect("a trainer fails")
    })
}
