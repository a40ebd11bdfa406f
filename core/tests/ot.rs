//! Oblivious transfer and the OT-based offline phase: base OT and IKNP correctness, the sender's
//! view against the choice bits, triples / square pairs / truncation pairs / matrix triples after
//! reconstruction, the online arithmetic with the dealer and with OT as sources, and bad input.
//! Parties run on two threads over the in-memory duplex.

mod common;

use common::{TestRng, seed};
use fixshare::arith::matmul::matmul;
use fixshare::correlated::Correlations;
use fixshare::hash::FixedKeyAes;
use fixshare::ot::iknp::{self, Delta, IknpReceiver, IknpSender, KAPPA};
use fixshare::ot::{base, tag};
use fixshare::transport::HEADER_LEN;
use fixshare::{
    Config, Domain, Error, ErrorKind, FixedPoint, Link, Links, MemoryTransport, OtCorrelations,
    Party, PartyId, Ring, Role, Shares, Sub, Transport, Truncation, block_on_thread, duplex,
};
use std::future::Future;
use std::thread;
use subtle::Choice;

type OtSource = OtCorrelations;

/// The links of one party in the OT tests: the one to its peer.
type TestLinks = Links<MemoryTransport>;

/// Runs `body(role, source)` for both parties on two threads after the OT setup.
fn run_ot<T, F, Fut>(tag: u64, body: F) -> (Result<T, Error>, Result<T, Error>)
where
    T: Send + 'static,
    F: Fn(Role, OtSource, TestLinks) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, Error>>,
{
    let (a, b) = duplex();
    let spawn = |role: Role, t: MemoryTransport| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut links = links_to_peer(role, t)?;
                let link = links.get(PartyId::of(role.peer()))?;
                let src =
                    OtCorrelations::setup(role, link, seed(500 + 10 * tag + role.index() as u64))
                        .await?;
                body(role, src, links).await
            })
        })
    };
    let h0 = spawn(Role::P0, a);
    let h1 = spawn(Role::P1, b);
    (
        h0.join().expect("party 0 panicked"),
        h1.join().expect("party 1 panicked"),
    )
}

fn add_all<R: Ring>(x: &[R], y: &[R]) -> Vec<R> {
    x.iter().zip(y).map(|(&a, &b)| a.add(b)).collect()
}

// ----- base OT -----

#[test]
fn base_ot_receiver_gets_the_chosen_key() {
    const N: usize = 600;
    let mut rng = TestRng(11);
    let choices: Vec<bool> = (0..N).map(|_| rng.next_u64() & 1 == 1).collect();
    let (a, b) = duplex();
    let sender = thread::spawn(move || {
        block_on_thread(async move {
            let mut link = Link::new(a);
            let mut ch = link.channel(Sub::Online);
            let mut prg = seed(1).prg(Domain::OT, 0);
            base::send(&mut ch, &mut prg, N).await
        })
    });
    let cs = choices.clone();
    let receiver = thread::spawn(move || {
        block_on_thread(async move {
            let mut link = Link::new(b);
            let mut ch = link.channel(Sub::Online);
            let mut prg = seed(2).prg(Domain::OT, 0);
            let c: Vec<Choice> = cs.iter().map(|&c| Choice::from(c as u8)).collect();
            base::receive(&mut ch, &mut prg, &c).await
        })
    });
    let keys = sender.join().unwrap().unwrap();
    let got = receiver.join().unwrap().unwrap();
    assert_eq!(keys.len(), N);
    for i in 0..N {
        let c = choices[i] as usize;
        assert_eq!(got[i].as_bytes(), keys[i][c].as_bytes(), "OT {i}");
        assert_ne!(got[i].as_bytes(), keys[i][1 - c].as_bytes(), "OT {i}");
    }
}

/// A sender/receiver pair of extensions built with the pure steps (base OTs without I/O).
fn pure_pair(s: u64) -> (IknpSender, IknpReceiver) {
    let mut ps = seed(s).prg(Domain::OT, 0);
    let mut pr = seed(s + 1).prg(Domain::OT, 0);
    let delta = Delta::random(&mut pr);
    let bs = base::BaseOtSender::new(&mut ps);
    let br = base::BaseOtReceiver::new(&bs.message()).unwrap();
    let choices = iknp::delta_choices(&delta);
    let mut skeys = Vec::new();
    let mut rkeys = Vec::new();
    for (j, c) in choices.iter().enumerate() {
        let mut b = [0u8; 32];
        skeys.push(br.choose(&mut pr, j as u64, *c, &mut b));
        rkeys.push(bs.keys(j as u64, &b).unwrap());
    }
    (
        IknpSender::new(delta, skeys, FixedKeyAes::new()).unwrap(),
        IknpReceiver::new(rkeys, FixedKeyAes::new()).unwrap(),
    )
}

// ----- IKNP -----

#[test]
fn iknp_random_and_correlated_ots_over_many_choice_bits() {
    // Not a multiple of 128 and more than one batch (8192).
    const N: usize = 20_011;
    let (a, b) = duplex();
    let sender = thread::spawn(move || {
        block_on_thread(async move {
            let mut link = Link::new(a);
            let mut ch = link.channel(Sub::Online);
            let mut prg = seed(3).prg(Domain::OT, 0);
            let mut s = iknp::setup_sender(&mut ch, &mut prg, FixedKeyAes::new()).await?;
            let mut random = Vec::new();
            iknp::send_random(&mut s, &mut ch, N, |i, m0, m1| {
                assert_eq!(i, random.len());
                random.push([m0, m1]);
            })
            .await?;
            let mut q = Vec::new();
            iknp::send_correlated(&mut s, &mut ch, N, |_, x| q.push(x)).await?;
            Ok::<_, Error>((random, q, s.delta().expose()))
        })
    });
    let receiver = thread::spawn(move || {
        block_on_thread(async move {
            let mut link = Link::new(b);
            let mut ch = link.channel(Sub::Online);
            let mut prg = seed(4).prg(Domain::OT, 0);
            let mut r = iknp::setup_receiver(&mut ch, &mut prg, FixedKeyAes::new()).await?;
            let mut random = Vec::new();
            iknp::receive_random(&mut r, &mut ch, &mut prg, N, |_, c, m| random.push((c, m)))
                .await?;
            // Chosen choice bits for the correlated OTs: a fixed pattern.
            let pattern = |b: usize| (b as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xf0f0;
            let mut t = Vec::new();
            iknp::receive_correlated(&mut r, &mut ch, N, pattern, |i, x| {
                let c = (pattern(i / KAPPA) >> (i % KAPPA)) & 1 == 1;
                t.push((c, x))
            })
            .await?;
            Ok::<_, Error>((random, t))
        })
    });
    let (sent, q, delta) = sender.join().unwrap().unwrap();
    let (got, t) = receiver.join().unwrap().unwrap();
    assert_eq!((sent.len(), got.len()), (N, N));
    let ones = got.iter().filter(|(c, _)| *c).count();
    assert!(
        ones > N / 2 - 500 && ones < N / 2 + 500,
        "choice bits balanced: {ones}"
    );
    for i in 0..N {
        let (c, m) = got[i];
        assert_eq!(m, sent[i][c as usize], "random OT {i}");
        assert_ne!(m, sent[i][1 - c as usize], "random OT {i}");
        let (c, x) = t[i];
        assert_eq!(q[i] ^ x, if c { delta } else { 0 }, "correlated OT {i}");
    }
}

/// The sender's view of the extension is the matrix `u` (and, in the base OTs, the points `B_i`).
/// Each bit of `u` must be independent of the receiver's choice bits: over 2^15 OTs x 128 columns,
/// the agreement between `u`'s bit and the OT's choice bit is 1/2 within 6 sigma, in every column
/// and overall, for random choices and for the all-zero and all-one choices alike.
#[test]
fn sender_view_is_independent_of_choice_bits() {
    const BLOCKS: usize = 256;
    let n = BLOCKS * KAPPA;
    let mut rng = TestRng(77);
    let random: Vec<u128> = (0..BLOCKS)
        .map(|_| (rng.next_u64() as u128) << 64 | rng.next_u64() as u128)
        .collect();
    for (name, choices) in [
        ("random", random),
        ("zeros", vec![0u128; BLOCKS]),
        ("ones", vec![!0u128; BLOCKS]),
    ] {
        let (_s, mut r) = pure_pair(40);
        let mut u = vec![0u128; KAPPA * BLOCKS];
        let mut t = vec![0u128; KAPPA * BLOCKS];
        for c in 0..BLOCKS / 64 {
            let ch = &choices[c * 64..(c + 1) * 64];
            let mut uu = vec![0u128; KAPPA * 64];
            let mut tt = vec![0u128; KAPPA * 64];
            r.extend(ch, &mut uu, &mut tt).unwrap();
            // Column j of this batch: uu[j * 64 + b]; store as column j, block c * 64 + b.
            for j in 0..KAPPA {
                u[j * BLOCKS + c * 64..j * BLOCKS + (c + 1) * 64]
                    .copy_from_slice(&uu[j * 64..(j + 1) * 64]);
            }
            t[..1].copy_from_slice(&tt[..1]);
        }
        let sigma = |trials: f64| 0.5 / trials.sqrt();
        let mut total_agree = 0u64;
        for j in 0..KAPPA {
            let agree: u64 = (0..BLOCKS)
                .map(|b| (!(u[j * BLOCKS + b] ^ choices[b])).count_ones() as u64)
                .sum();
            let frac = agree as f64 / n as f64;
            assert!(
                (frac - 0.5).abs() < 6.0 * sigma(n as f64),
                "{name}: column {j} agrees with the choices in {frac}"
            );
            total_agree += agree;
        }
        let frac = total_agree as f64 / (n * KAPPA) as f64;
        assert!(
            (frac - 0.5).abs() < 6.0 * sigma((n * KAPPA) as f64),
            "{name}: overall agreement {frac}"
        );
    }
    // Base OT: the receiver's points for choice 0 and choice 1 are both uniform group elements;
    // their encodings have the same byte statistics.
    let mut ps = seed(8).prg(Domain::OT, 0);
    let mut pr = seed(9).prg(Domain::OT, 0);
    let bs = base::BaseOtSender::new(&mut ps);
    let br = base::BaseOtReceiver::new(&bs.message()).unwrap();
    let mut means = [0f64; 2];
    for c in 0..2u8 {
        let mut sum = 0u64;
        for i in 0..2000u64 {
            let mut b = [0u8; 32];
            let _ = br.choose(&mut pr, i, Choice::from(c), &mut b);
            sum += b[1..31].iter().map(|&x| x as u64).sum::<u64>();
        }
        means[c as usize] = sum as f64 / (2000.0 * 30.0);
    }
    // Byte mean 127.5, sd 73.9 / sqrt(60000) = 0.30 per mean.
    for m in means {
        assert!((m - 127.5).abs() < 2.0, "{means:?}");
    }
}

// ----- correlations from OT -----

fn check_triples<R: Ring>(tag: u64, sizes: Vec<usize>) {
    let sz = sizes.clone();
    let (r0, r1) = run_ot(tag, move |_, mut src, mut links| {
        let sizes = sz.clone();
        async move {
            let mut out = Vec::new();
            for n in sizes {
                let t = src.triples::<R>(&mut links, n).await?;
                let s = src.square_pairs::<R>(&mut links, n).await?;
                out.push((t.a, t.b, t.c, s.a, s.s));
            }
            Ok(out)
        }
    });
    let (o0, o1) = (r0.unwrap(), r1.unwrap());
    for ((x, y), &n) in o0.iter().zip(&o1).zip(&sizes) {
        let (a, b, c) = (
            add_all(&x.0, &y.0),
            add_all(&x.1, &y.1),
            add_all(&x.2, &y.2),
        );
        assert_eq!(a.len(), n);
        for i in 0..n {
            assert_eq!(c[i], a[i].mul(b[i]), "triple {i} of {n} in Z_2^{}", R::BITS);
        }
        let (sa, ss) = (add_all(&x.3, &y.3), add_all(&x.4, &y.4));
        for i in 0..n {
            assert_eq!(ss[i], sa[i].mul(sa[i]), "square pair {i} of {n}");
        }
        // Shares are not trivially correlated: a party's a differs from the peer's.
        if n > 0 {
            assert_ne!(x.0, y.0);
        }
    }
}

#[test]
fn triples_and_square_pairs_reconstruct_for_random_sizes() {
    let mut rng = TestRng(123);
    let sizes: Vec<usize> = [0, 1, 2, 3]
        .into_iter()
        .chain((0..4).map(|_| (rng.next_u64() % 3000) as usize))
        .collect();
    check_triples::<u64>(1, sizes.clone());
    check_triples::<u32>(2, sizes[..6].to_vec());
    check_triples::<u128>(3, sizes[..6].to_vec());
}

#[test]
fn truncation_pairs_and_random_ots_from_ot() {
    let (r0, r1) = run_ot(4, move |role, mut src, mut links| async move {
        let p64 = src.truncation_pairs::<u64>(&mut links, 300, 16).await?;
        let p32 = src.truncation_pairs::<u32>(&mut links, 50, 8).await?;
        // P0 sends in the first batch, P1 in the second.
        let (s, r) = if role == Role::P0 {
            let s = src.random_ot_sender(&mut links, 1000).await?;
            (s, src.random_ot_receiver(&mut links, 1000).await?)
        } else {
            let r = src.random_ot_receiver(&mut links, 1000).await?;
            (src.random_ot_sender(&mut links, 1000).await?, r)
        };
        Ok((
            (p64.r, p64.r_shifted, p64.r_msb),
            (p32.r, p32.r_shifted, p32.r_msb),
            s,
            r,
        ))
    });
    let (o0, o1) = (r0.unwrap(), r1.unwrap());
    fn check<R: Ring>(a: &(Vec<R>, Vec<R>, Vec<R>), b: &(Vec<R>, Vec<R>, Vec<R>), d: u32) {
        let (r, rs, msb) = (
            add_all(&a.0, &b.0),
            add_all(&a.1, &b.1),
            add_all(&a.2, &b.2),
        );
        let mut ones = 0;
        for i in 0..r.len() {
            assert_eq!(rs[i], r[i].shr(d), "r >> d, pair {i}");
            assert_eq!(msb[i], R::from_u64(r[i].msb() as u64), "msb, pair {i}");
            ones += r[i].msb() as usize;
        }
        assert!(ones > 0 && ones < r.len(), "r is random");
    }
    check(&o0.0, &o1.0, 16);
    check(&o0.1, &o1.1, 8);
    for (sender, receiver) in [(&o0.2, &o1.3), (&o1.2, &o0.3)] {
        assert_eq!(receiver.choices.len(), 1000);
        for i in 0..1000 {
            let c = receiver.choices[i] as usize;
            assert_eq!(receiver.messages[i], sender.messages[i][c]);
        }
    }
}

fn check_matrix<R: Ring>(tag: u64, shapes: Vec<(usize, usize, usize)>) {
    let sh = shapes.clone();
    let (r0, r1) = run_ot(tag, move |_, mut src, mut links| {
        let shapes = sh.clone();
        async move {
            let mut out = Vec::new();
            for (m, k, n) in shapes {
                let t = src.matrix_triple::<R>(&mut links, m, k, n).await?;
                assert_eq!(
                    (t.a.shape(), t.b.shape(), t.c.shape()),
                    ((m, k), (k, n), (m, n))
                );
                out.push((
                    t.a.as_slice().to_vec(),
                    t.b.as_slice().to_vec(),
                    t.c.as_slice().to_vec(),
                ));
            }
            Ok(out)
        }
    });
    let (o0, o1) = (r0.unwrap(), r1.unwrap());
    for ((x, y), &(m, k, n)) in o0.iter().zip(&o1).zip(&shapes) {
        let (a, b, c) = (
            add_all(&x.0, &y.0),
            add_all(&x.1, &y.1),
            add_all(&x.2, &y.2),
        );
        assert_eq!(c, matmul(&a, &b, m, k, n), "C = A B for {m}x{k} by {k}x{n}");
    }
}

#[test]
fn matrix_triples_satisfy_c_eq_ab() {
    check_matrix::<u64>(5, vec![(128, 784, 1), (784, 128, 1), (1, 50, 7), (3, 5, 2)]);
    check_matrix::<u32>(6, vec![(5, 7, 3), (2, 9, 11)]);
    check_matrix::<u128>(7, vec![(4, 3, 5), (0, 3, 2)]);
}

// ----- the online arithmetic with either source -----

const FP: FixedPoint = match FixedPoint::new(16) {
    Ok(f) => f,
    Err(_) => panic!(),
};

fn enc(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|&x| FP.encode(x).unwrap()).collect()
}

/// A matrix product's operands: (m, k, n, A, B).
type MatrixCase = (usize, usize, usize, Vec<f64>, Vec<f64>);

#[derive(Clone)]
struct Data {
    x: Vec<f64>,
    y: Vec<f64>,
    /// (m, k, n, A, B)
    mats: Vec<MatrixCase>,
}

fn data(seed: u64) -> Data {
    let mut rng = TestRng(seed);
    let n = 1500;
    let mats = [(128usize, 784usize, 1usize), (1, 784, 128), (4, 6, 3)]
        .iter()
        .map(|&(m, k, n)| {
            (
                m,
                k,
                n,
                rng.vec(m * k, -2.0, 2.0),
                rng.vec(k * n, -2.0, 2.0),
            )
        })
        .collect();
    Data {
        x: rng.vec(n, -100.0, 100.0),
        y: rng.vec(n, -100.0, 100.0),
        mats,
    }
}

async fn input<T: Transport, C: Correlations<T>>(
    p: &mut Party<T, C, u64>,
    owner: Role,
    v: &[f64],
    rows: usize,
    cols: usize,
) -> Result<Shares<u64>, Error> {
    if p.role() == owner {
        p.share_input(v, rows, cols).await
    } else {
        p.receive_input(rows, cols).await
    }
}

/// The online protocols, generic over the correlation source: opened mul, square, matmuls, dot,
/// truncation, and the exact ring products.
async fn online<T: Transport, C: Correlations<T>>(
    mut p: Party<T, C, u64>,
    d: Data,
) -> Result<Vec<Vec<u64>>, Error> {
    let n = d.x.len();
    let xs = input(&mut p, Role::P0, &d.x, n, 1).await?;
    let ys = input(&mut p, Role::P1, &d.y, n, 1).await?;
    let mut out = Vec::new();
    let z = p.mul(&xs, &ys).await?;
    out.push(p.open(&z).await?);
    let z = p.square(&xs).await?;
    out.push(p.open(&z).await?);
    let z = p.mul_integer(&xs, &ys).await?;
    out.push(p.open(&z).await?);
    let z = p.truncate(&xs, 5).await?;
    out.push(p.open(&z).await?);
    let z = p.dot(&xs, &ys).await?;
    out.push(p.open(&z).await?);
    for (m, k, nn, a, b) in &d.mats {
        let sa = input(&mut p, Role::P0, a, *m, *k).await?;
        let sb = input(&mut p, Role::P1, b, *k, *nn).await?;
        let z = p.matmul(&sa, &sb).await?;
        out.push(p.open(&z).await?);
        let z = p.matmul_integer(&sa, &sb).await?;
        out.push(p.open(&z).await?);
    }
    Ok(out)
}

fn run_dealer(config: Config, d: Data) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    let (r0, r1) = common::run_pair(config, 90, move |p| online(p, d.clone()));
    (r0.unwrap(), r1.unwrap())
}

fn run_ot_parties(config: Config, d: Data) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    // One connection between the parties: the OT offline phase and the online phase share it.
    let (a, b) = duplex();
    let spawn = |role: Role, peer: MemoryTransport, d: Data| {
        thread::spawn(move || {
            block_on_thread(async move {
                let mut link = Link::new(peer);
                let src =
                    OtCorrelations::setup(role, &mut link, seed(700 + role.index() as u64)).await?;
                let p = Party::on_link(role, link, src, seed(710 + role.index() as u64), config);
                online(p, d).await
            })
        })
    };
    let h0 = spawn(Role::P0, a, d.clone());
    let h1 = spawn(Role::P1, b, d);
    (h0.join().unwrap().unwrap(), h1.join().unwrap().unwrap())
}

fn check_online(out: &[Vec<u64>], d: &Data, truncation: Truncation, source: &str) {
    let (xe, ye) = (enc(&d.x), enc(&d.y));
    let close = |got: &[u64], want: &[u64], what: &str| {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let e = g.sub(w).to_signed();
            let ok = match truncation {
                Truncation::Local => e.abs() <= 1,
                Truncation::Pairs => e == 0 || e == 1,
                Truncation::Exact => e == 0,
            };
            assert!(ok, "{source} {truncation:?} {what}[{i}]: {e} ulps");
        }
    };
    let prod: Vec<u64> = xe
        .iter()
        .zip(&ye)
        .map(|(&a, &b)| FP.mul_reference(a, b))
        .collect();
    close(&out[0], &prod, "mul");
    let sq: Vec<u64> = xe.iter().map(|&a| FP.mul_reference(a, a)).collect();
    close(&out[1], &sq, "square");
    let exact: Vec<u64> = xe
        .iter()
        .zip(&ye)
        .map(|(&a, &b)| a.wrapping_mul(b))
        .collect();
    assert_eq!(out[2], exact, "{source}: mul_integer is exact");
    let tr: Vec<u64> = xe.iter().map(|&a| a.sar(5)).collect();
    close(&out[3], &tr, "truncate");
    let dot = matmul(&xe, &ye, 1, xe.len(), 1)[0].sar(16);
    close(&out[4], &[dot], "dot");
    for (i, (m, k, n, a, b)) in d.mats.iter().enumerate() {
        let exact = matmul(&enc(a), &enc(b), *m, *k, *n);
        assert_eq!(out[6 + 2 * i], exact, "{source}: matmul_integer exact");
        let reference: Vec<u64> = exact.iter().map(|&v| v.sar(16)).collect();
        close(&out[5 + 2 * i], &reference, "matmul");
    }
}

/// The test matrix: every online protocol passes with the dealer and with OT, for every
/// truncation method.
#[test]
fn online_arithmetic_with_dealer_and_with_ot() {
    for (i, truncation) in [Truncation::Local, Truncation::Pairs, Truncation::Exact]
        .into_iter()
        .enumerate()
    {
        let d = data(300 + i as u64);
        let config = Config {
            truncation,
            ..Config::default()
        };
        let (a, b) = run_dealer(config, d.clone());
        assert_eq!(a, b);
        check_online(&a, &d, truncation, "dealer");
        let (a, b) = run_ot_parties(config, d.clone());
        assert_eq!(a, b);
        check_online(&a, &d, truncation, "ot");
    }
}

// ----- bad input -----

/// Sends one raw frame (header + payload) as the channel would.
fn raw_frame(tag: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&[Sub::Offline as u8, 0]);
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// Runs the OT setup as P0 against a scripted peer that writes `script` and then hangs up.
fn setup_against(script: Vec<u8>) -> Error {
    setup_against_reading(script, 2 * HEADER_LEN + 32 + 32 * KAPPA)
}

/// As [`setup_against`], the peer reading at most `read` bytes before it hangs up.
fn setup_against_reading(script: Vec<u8>, read: usize) -> Error {
    let (a, mut b) = duplex();
    let peer = thread::spawn(move || {
        block_on_thread(async move {
            let _ = b.send(&script).await;
            // Read what the party sends (its A and its B points) unless it gives up first, then
            // hang up.
            let mut sink = vec![0u8; read];
            let _ = b.recv(&mut sink).await;
        })
    });
    let r = block_on_thread(OtCorrelations::setup(Role::P0, &mut Link::new(a), seed(1)));
    peer.join().unwrap();
    match r {
        Ok(_) => panic!("setup succeeded against a bad peer"),
        Err(e) => e,
    }
}

#[test]
fn bad_points_lengths_and_hangups_are_errors() {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use curve25519_dalek::traits::Identity;
    let identity = RistrettoPoint::identity().compress().to_bytes();
    // s = p = 2^255 - 19: a non-canonical field element encoding.
    let mut p_bytes = [0xffu8; 32];
    p_bytes[0] = 0xed;
    p_bytes[31] = 0x7f;
    for bad in [identity, p_bytes, [0xff; 32]] {
        let e = setup_against(raw_frame(tag::BASE_A, 0, &bad));
        assert!(matches!(e.kind(), ErrorKind::InvalidPoint(_)), "{e}");
    }
    // A valid A, then an identity point among the B_i.
    let mut prg = seed(5).prg(Domain::OT, 0);
    let good_a = base::BaseOtSender::new(&mut prg).message();
    let mut script = raw_frame(tag::BASE_A, 0, &good_a);
    let mut points = Vec::new();
    for i in 0..KAPPA {
        let p = if i == 7 {
            identity
        } else {
            base::BaseOtSender::new(&mut prg).message()
        };
        points.extend_from_slice(&p);
    }
    script.extend(raw_frame(tag::BASE_B, 1, &points));
    let e = setup_against(script);
    assert!(matches!(e.kind(), ErrorKind::InvalidPoint(_)), "{e}");
    // Wrong message length: A of 31 bytes, then too few B points.
    let e = setup_against(raw_frame(tag::BASE_A, 0, &good_a[..31]));
    assert!(
        matches!(e.kind(), ErrorKind::UnexpectedLength { .. }),
        "{e}"
    );
    let mut script = raw_frame(tag::BASE_A, 0, &good_a);
    script.extend(raw_frame(tag::BASE_B, 1, &points[..32 * 100]));
    let e = setup_against(script);
    assert!(
        matches!(e.kind(), ErrorKind::UnexpectedLength { .. }),
        "{e}"
    );
    // A peer that stops halfway: inside a frame, and after the first message.
    let mut half = raw_frame(tag::BASE_A, 0, &good_a);
    half.truncate(20);
    assert_eq!(*setup_against_reading(half, 0).kind(), ErrorKind::Closed);
    assert_eq!(
        *setup_against(raw_frame(tag::BASE_A, 0, &good_a)).kind(),
        ErrorKind::Closed
    );
    // A huge announced length is refused before any allocation.
    let mut huge = Vec::new();
    huge.extend_from_slice(&tag::BASE_A.to_le_bytes());
    huge.extend_from_slice(&[Sub::Offline as u8, 0]);
    huge.extend_from_slice(&0u16.to_le_bytes());
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let e = setup_against(huge);
    assert!(
        matches!(
            e.kind(),
            ErrorKind::FrameTooLarge { .. } | ErrorKind::UnexpectedLength { .. }
        ),
        "{e}"
    );
}

/// After setup: requests that disagree, and a peer that leaves in the middle of a request, give
/// errors on the other side, and the source is poisoned afterwards.
#[test]
fn mismatched_requests_and_hangups_after_setup() {
    let (r0, r1) = run_ot(8, move |role, mut src, mut links| async move {
        let n = if role == Role::P0 { 100 } else { 50 };
        let e = src
            .triples::<u64>(&mut links, n)
            .await
            .err()
            .expect("mismatch must fail");
        let poisoned = src
            .triples::<u64>(&mut links, 1)
            .await
            .err()
            .map(|e| e.kind().clone());
        Ok((e.kind().clone(), poisoned))
    });
    for r in [r0.unwrap(), r1.unwrap()] {
        assert!(matches!(r.0, ErrorKind::Malformed(_)), "{:?}", r.0);
        assert_eq!(r.1, Some(ErrorKind::Poisoned));
    }
    // Both parties ask to be the random-OT sender: an error, not a deadlock.
    let (r0, r1) = run_ot(11, move |_, mut src, mut links| async move {
        Ok(src
            .random_ot_sender(&mut links, 10)
            .await
            .err()
            .map(|e| e.kind().clone()))
    });
    for r in [r0.unwrap(), r1.unwrap()] {
        assert!(matches!(r, Some(ErrorKind::Malformed(_))), "{r:?}");
    }
    // P1's connection breaks in the middle of the extension matrix of a long request.
    let (a, b) = duplex();
    let p0 = thread::spawn(move || {
        block_on_thread(async move {
            let mut links = links_to_peer(Role::P0, a)?;
            let link = links.get(PartyId::of(Role::P1))?;
            let mut src = OtCorrelations::setup(Role::P0, link, seed(900)).await?;
            Ok::<_, Error>(
                src.triples::<u64>(&mut links, 100_000)
                    .await
                    .err()
                    .map(|e| e.kind().clone()),
            )
        })
    });
    let p1 = thread::spawn(move || {
        block_on_thread(async move {
            let t = Cutoff {
                inner: b,
                // The setup (two frames of points), the request, and 5000 bytes of the extension.
                left: (HEADER_LEN + 32) + (HEADER_LEN + 32 * KAPPA) + (HEADER_LEN + 32) + 5000,
            };
            let mut links = links_to_peer(Role::P1, t)?;
            let link = links.get(PartyId::of(Role::P0))?;
            let mut src = OtCorrelations::setup(Role::P1, link, seed(901)).await?;
            Ok::<_, Error>(
                src.triples::<u64>(&mut links, 100_000)
                    .await
                    .err()
                    .map(|e| e.kind().clone()),
            )
        })
    });
    assert_eq!(p1.join().unwrap().unwrap(), Some(ErrorKind::Closed));
    assert_eq!(p0.join().unwrap().unwrap(), Some(ErrorKind::Closed));
    // A receiver of a matrix triple whose peer asks for another shape.
    let (r0, r1) = run_ot(10, move |role, mut src, mut links| async move {
        let k = if role == Role::P0 { 10 } else { 11 };
        Ok(src.matrix_triple::<u64>(&mut links, 3, k, 2).await.is_err())
    });
    assert!(r0.unwrap() && r1.unwrap());
}

/// The links of `role` with one link, to its peer over `t`.
fn links_to_peer<T>(role: Role, t: T) -> Result<Links<T>, Error> {
    let mut links = Links::new(PartyId::of(role));
    links.insert(PartyId::of(role.peer()), Link::new(t))?;
    Ok(links)
}

/// A transport that hangs up after sending `left` bytes.
struct Cutoff {
    inner: MemoryTransport,
    left: usize,
}

impl Transport for Cutoff {
    async fn send(&mut self, buf: &[u8]) -> Result<(), fixshare::TransportError> {
        if buf.len() > self.left {
            let _ = self.inner.send(&buf[..self.left]).await;
            self.left = 0;
            self.inner.close();
            return Err(fixshare::TransportError::Closed);
        }
        self.left -= buf.len();
        self.inner.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), fixshare::TransportError> {
        self.inner.recv(buf).await
    }
    async fn flush(&mut self) -> Result<(), fixshare::TransportError> {
        self.inner.flush().await
    }
}
