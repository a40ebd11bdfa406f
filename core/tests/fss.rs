//! The FSS backend between two concurrently running parties and a dealer: every gate exact to the
//! plaintext reference at the edges of Z_2^32, Z_2^64 and Z_2^128, one round and one ring element
//! per party, views independent of the data, keys prefetched ahead, and a clear error without a
//! dealer.

mod common;

use common::{CRITICAL, Tap, chi_square, seed};
use fixshare::correlated::preprocessed::Preprocessed;
use fixshare::fss::Gate;
use fixshare::{
    Backend, Config, Dealer, DealerClient, Error, ErrorKind, FixedPoint, Link, MemoryTransport,
    OtCorrelations, Party, Ring, Role, Shares, block_on_thread, duplex,
};
use std::sync::{Arc, Mutex};
use std::thread;

/// The protocol settings of these tests: the FSS backend, asked for by name.
fn fss() -> Config {
    Config {
        backend: Backend::Fss,
        ..Config::default()
    }
}

/// Runs `body` in both parties of ring `R` with a dealer; returns both results.
fn run<R: Ring, V: Send + 'static, Fut>(
    config: Config,
    tag: u64,
    body: impl Fn(Party<MemoryTransport, Preprocessed<DealerClient<MemoryTransport>>, R>) -> Fut
    + Send
    + Sync
    + Clone
    + 'static,
) -> (V, V)
where
    Fut: Future<Output = Result<V, Error>>,
{
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(tag), d0, d1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, link: MemoryTransport| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let src = Preprocessed::new(DealerClient::connect(role, link).await?);
                let own = seed(10 * tag + role.index() as u64);
                body(Party::new(role, peer, src, own, config)).await
            })
        })
    };
    let h0 = spawn(Role::P0, a, c0);
    let h1 = spawn(Role::P1, b, c1);
    let r0 = h0.join().unwrap().unwrap();
    let r1 = h1.join().unwrap().unwrap();
    dealer.join().unwrap().unwrap();
    (r0, r1)
}

/// Shares of ring values: P0 holds `v - m`, P1 holds `m` for a pseudo-random `m`.
fn split<R: Ring>(role: Role, v: &[R], tag: u64) -> Shares<R> {
    let mut rng = common::TestRng(0x5eed ^ tag);
    let data = v
        .iter()
        .map(|&x| {
            let m = R::from_i128((rng.next_u64() as i128) << 64 | rng.next_u64() as i128);
            match role {
                Role::P0 => x.sub(m),
                Role::P1 => m,
            }
        })
        .collect();
    Shares::vector(data)
}

/// Edge values of ring `R` with `f` fractional bits, then random ones.
fn edges<R: Ring>(f: u32) -> Vec<R> {
    let half = 1i128 << (f - 1);
    let mut v: Vec<R> = [
        0,
        1,
        -1,
        half,
        half + 1,
        half - 1,
        -half,
        -half - 1,
        -half + 1,
    ]
    .iter()
    .map(|&x| R::from_i128(x))
    .collect();
    let top = R::ONE.shl(R::BITS - 1);
    v.extend([top, top.sub(R::ONE), top.add(R::ONE), top.sub(R::ONE).neg()]);
    if R::BITS >= 64 {
        v.extend(
            [
                1i128 << 62,
                -(1i128 << 62),
                i64::MIN.into(),
                i64::MAX.into(),
            ]
            .map(R::from_i128),
        );
    }
    let mut rng = common::TestRng(R::BITS as u64);
    v.extend(
        (0..200).map(|_| R::from_i128((rng.next_u64() as i128) << 64 | rng.next_u64() as i128)),
    );
    v
}

fn check_gates<R: Ring>(tag: u64) {
    let f = FixedPoint::default().frac_bits();
    let xs = edges::<R>(f);
    // The values reversed, and every third one equal to its x (for the equality test).
    let ys: Vec<R> = (0..xs.len())
        .map(|i| {
            if i % 3 == 0 {
                xs[i]
            } else {
                xs[xs.len() - 1 - i]
            }
        })
        .collect();
    let (a, b) = run::<R, _, _>(fss(), tag, {
        let (xs, ys) = (xs.clone(), ys.clone());
        move |mut p| {
            let (xs, ys) = (xs.clone(), ys.clone());
            async move {
                let role = p.role();
                let (x, y) = (split(role, &xs, 1), split(role, &ys, 2));
                let mut out = Vec::new();
                let r = p.relu(&x).await?;
                out.push(p.open(&r).await?);
                let (r, d) = p.relu_with_derivative(&x).await?;
                out.push(p.open(&r).await?);
                out.push(p.open(&d).await?);
                let d = p.drelu(&x).await?;
                out.push(p.open(&d).await?);
                let lt = p.less_than(&x, &y).await?;
                out.push(p.open(&lt).await?);
                let eq = p.equal(&x, &y).await?;
                out.push(p.open(&eq).await?);
                let s = p.sigmoid_piecewise(&x).await?;
                out.push(p.open(&s).await?);
                for bits in [1, f, R::BITS - 2] {
                    let t = p.truncate_exact(&x, bits).await?;
                    out.push(p.open(&t).await?);
                }
                Ok(out)
            }
        }
    });
    assert_eq!(a, b);
    let one = R::ONE.shl(f);
    let half = R::ONE.shl(f - 1);
    let nonneg = |x: R| !x.msb();
    let mut at = 0;
    let mut expect = |name: &str, want: Vec<R>| {
        for (i, (&got, &want)) in a[at].iter().zip(&want).enumerate() {
            assert_eq!(got, want, "{name} of {:?} over Z_2^{}", xs[i], R::BITS);
        }
        at += 1;
    };
    let relu: Vec<R> = xs
        .iter()
        .map(|&x| if nonneg(x) { x } else { R::ZERO })
        .collect();
    let drelu: Vec<R> = xs
        .iter()
        .map(|&x| if nonneg(x) { one } else { R::ZERO })
        .collect();
    expect("relu", relu.clone());
    expect("relu_with_derivative", relu);
    expect("its derivative", drelu.clone());
    expect("drelu", drelu);
    let lt = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| if x.sub(y).msb() { one } else { R::ZERO });
    expect("less_than", lt.collect());
    let eq = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| if x == y { one } else { R::ZERO });
    expect("equal", eq.collect());
    let sig = xs.iter().map(|&x| {
        let v = x.to_signed();
        if v < -half.to_signed() {
            R::ZERO
        } else if v > half.to_signed() {
            one
        } else {
            x.add(half)
        }
    });
    expect("sigmoid_piecewise", sig.collect());
    for bits in [1, f, R::BITS - 2] {
        expect("truncate_exact", xs.iter().map(|&x| x.sar(bits)).collect());
    }
}

#[test]
fn every_gate_is_exact_at_the_edges_of_every_ring() {
    check_gates::<u32>(1);
    check_gates::<u64>(2);
    check_gates::<u128>(3);
}

#[test]
fn max_and_argmax_match_the_reference() {
    let mut rng = common::TestRng(77);
    let (rows, cols) = (9, 7);
    let vals: Vec<u64> = (0..rows * cols)
        .map(|_| (rng.next_u64() >> 4).wrapping_sub(1 << 59))
        .collect();
    let (a, b) = run::<u64, _, _>(fss(), 4, {
        let vals = vals.clone();
        move |mut p| {
            let vals = vals.clone();
            async move {
                let x = split(p.role(), &vals, 3).reshape(rows, cols)?;
                let m = p.max(&x).await?;
                let (m2, i) = p.argmax(&x).await?;
                Ok([p.open(&m).await?, p.open(&m2).await?, p.open(&i).await?])
            }
        }
    });
    assert_eq!(a, b);
    for r in 0..rows {
        let row = &vals[r * cols..(r + 1) * cols];
        let best = (0..cols)
            .max_by_key(|&j| (row[j] as i64, std::cmp::Reverse(j)))
            .unwrap();
        assert_eq!(a[0][r], row[best], "max of row {r}");
        assert_eq!(a[1][r], row[best], "argmax value of row {r}");
        assert_eq!(a[2][r], (best as u64) << 16, "argmax index of row {r}");
    }
}

#[test]
fn relu_costs_one_round_and_one_ring_element_per_party() {
    let n = 10_000;
    let (a, b) = run::<u64, _, _>(fss(), 5, move |mut p| async move {
        let x = split(p.role(), &vec![3u64; n], 1);
        let before = p.online_stats();
        p.relu(&x).await?;
        let after = p.online_stats();
        Ok((
            after.rounds - before.rounds,
            after.bytes_sent - before.bytes_sent,
        ))
    });
    for (rounds, bytes) in [a, b] {
        assert_eq!(rounds, 1);
        // n ring elements and frame headers.
        assert!(
            bytes >= 8 * n as u64 && bytes < 8 * n as u64 + 256,
            "{bytes} bytes"
        );
    }
}

/// `Config::sign_bits`: ReLU on values promised to lie within 2^39, and max on values whose
/// differences do, equal the reference, with smaller keys from the dealer than on the whole ring.
#[test]
fn sign_tests_on_fewer_bits_match_the_reference_with_smaller_keys() {
    let half = 1i64 << 39;
    let mut xs: Vec<i64> = vec![0, 1, -1, half - 1, -half, -half + 1, 3 << 16, -(5 << 16)];
    let mut rng = common::TestRng(77);
    xs.extend((0..400).map(|_| (rng.next_u64() as i64) >> 24));
    let ring: Vec<u64> = xs.iter().map(|&v| v as u64).collect();
    // Max compares differences: its inputs within 2^38.
    let halves: Vec<i64> = xs.iter().map(|&v| v >> 1).collect();
    let halves_ring: Vec<u64> = halves.iter().map(|&v| v as u64).collect();
    let offline = |sign_bits| {
        let (ring, halves) = (ring.clone(), halves_ring.clone());
        let config = Config { sign_bits, ..fss() };
        let (a, _) = run::<u64, _, _>(config, 8, move |mut p| {
            let (ring, halves) = (ring.clone(), halves.clone());
            async move {
                let x = split(p.role(), &ring, 3);
                let h = split(p.role(), &halves, 4).reshape(halves.len() / 4, 4)?;
                let before = p.offline_stats().bytes_received;
                let relu = p.relu(&x).await?;
                let (max, _) = p.argmax(&h).await?;
                let bytes = p.offline_stats().bytes_received - before;
                Ok((p.open(&relu).await?, p.open(&max).await?, bytes))
            }
        });
        a
    };
    let (relu, max, short) = offline(Some(40));
    for (k, &x) in xs.iter().enumerate() {
        assert_eq!(relu[k], x.max(0) as u64, "relu({x})");
    }
    for (r, row) in halves.chunks(4).enumerate() {
        assert_eq!(max[r], *row.iter().max().unwrap() as u64, "max of row {r}");
    }
    let (_, _, full) = offline(None);
    assert!(
        short * 5 < full * 4,
        "keys: {short} bytes on 40 bits, {full} on 64"
    );
}

#[test]
fn prefetched_keys_serve_the_online_phase_and_a_mismatch_is_refused() {
    let n = 100;
    let (a, _) = run::<u64, _, _>(fss(), 6, move |mut p| async move {
        let x = split(p.role(), &vec![1u64 << 20; n], 1);
        let (links, src) = p.context_mut().split();
        // ReLU's keys, then DReLU's.
        for product in [true, false] {
            let gate = Gate::Sign { product, bits: 64 };
            src.prefetch_gate_keys::<u64, _>(links, gate, n).await?;
        }
        let offline = p.offline_stats().bytes_received;
        let y = p.relu(&x).await?;
        let opened = p.open(&y).await?;
        let fetched_nothing_more = p.offline_stats().bytes_received == offline;
        // The next prefetched keys are for DReLU; asking for ReLU is a mismatch.
        let wrong = p.relu(&x).await.err().map(|e| e.kind().clone());
        Ok((opened, fetched_nothing_more, wrong))
    });
    assert!(a.0.iter().all(|&v| v == 1 << 20));
    assert!(a.1, "the online phase used the prefetched keys");
    assert!(
        matches!(a.2, Some(ErrorKind::InvalidArgument(_))),
        "{:?}",
        a.2
    );
}

#[test]
fn a_batch_of_keys_beyond_the_limit_is_refused_before_anything_is_sent() {
    let (a, _) = run::<u64, _, _>(fss(), 7, move |mut p| async move {
        let (links, src) = p.context_mut().split();
        let gate = Gate::Sign {
            product: true,
            bits: 64,
        };
        let err = src
            .prefetch_gate_keys::<u64, _>(links, gate, fixshare::fss::MAX_GATES + 1)
            .await
            .unwrap_err();
        // Nothing went to the dealer: the session goes on.
        let x = split(p.role(), &[7u64 << 16], 1);
        let y = p.relu(&x).await?;
        Ok((err.kind().clone(), p.open(&y).await?))
    });
    assert!(matches!(a.0, ErrorKind::TooLarge { .. }), "{:?}", a.0);
    assert_eq!(a.1, [7 << 16]);
}

#[test]
fn the_fss_backend_without_a_dealer_is_a_clear_error_and_the_party_stays_usable() {
    let (a, b) = duplex();
    let spawn = |role: Role, t: MemoryTransport| {
        thread::spawn(move || {
            block_on_thread(async move {
                let mut link = Link::new(t);
                let src =
                    OtCorrelations::setup(role, &mut link, seed(50 + role.index() as u64)).await?;
                let mut p: Party<_, _, u64> = Party::on_link(role, link, src, seed(60), fss());
                let x = split(role, &[5u64 << 16], 1);
                let err = p.relu(&x).await.unwrap_err();
                let after = p.open(&x).await?;
                Ok::<_, Error>((err.kind().clone(), after))
            })
        })
    };
    let (h0, h1) = (spawn(Role::P0, a), spawn(Role::P1, b));
    for h in [h0, h1] {
        let (kind, opened) = h.join().unwrap().unwrap();
        assert!(matches!(kind, ErrorKind::Unsupported(_)), "{kind:?}");
        assert_eq!(opened, [5 << 16]);
    }
}

/// Everything party `watched` receives from its peer and from the dealer while the two run
/// ReLU, the spline sigmoid and exact truncation on `n` copies of the secret `x`.
fn view(watched: Role, x: f64, run: u64) -> Vec<u8> {
    let n = 4096;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tap = |t: MemoryTransport| Tap {
        inner: t,
        seen: seen.clone(),
    };
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(700 + run), d0, d1).serve()));
    let mut handles = Vec::new();
    for (role, peer, link) in [(Role::P0, a, c0), (Role::P1, b, c1)] {
        let (peer, link) = if role == watched {
            (tap(peer), tap(link))
        } else {
            (
                Tap {
                    inner: peer,
                    seen: Arc::default(),
                },
                Tap {
                    inner: link,
                    seen: Arc::default(),
                },
            )
        };
        handles.push(thread::spawn(move || {
            block_on_thread(async move {
                let src = DealerClient::connect(role, link).await?;
                let mut p: Party<_, _, u64> = Party::new(
                    role,
                    peer,
                    src,
                    seed(800 + 10 * run + role.index() as u64),
                    fss(),
                );
                let v = FixedPoint::default().encode::<u64>(x)?;
                let xs = split(role, &vec![v; n], run);
                p.relu(&xs).await?;
                p.sigmoid(&xs).await?;
                p.truncate_exact(&xs, 16).await?;
                Ok::<_, Error>(())
            })
        }));
    }
    for h in handles {
        h.join().unwrap().unwrap();
    }
    dealer.join().unwrap().unwrap();
    Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
}

#[test]
fn each_partys_view_is_independent_of_the_data() {
    for watched in [Role::P0, Role::P1] {
        let zero = view(watched, 0.0, 1);
        let big = view(watched, -1234.5678, 2);
        assert_eq!(
            zero.len(),
            big.len(),
            "the view's length does not depend on x"
        );
        let stat = chi_square(&zero, &big);
        assert!(
            stat < CRITICAL,
            "{watched:?}'s views differ: chi-square {stat}"
        );
        // Control: the same statistic separates the unmasked inputs at once.
        let enc = |x: f64| -> Vec<u8> {
            let v = FixedPoint::default().encode::<u64>(x).unwrap();
            (0..zero.len() / 8).flat_map(|_| v.to_le_bytes()).collect()
        };
        assert!(chi_square(&enc(0.0), &enc(-1234.5678)) > CRITICAL);
    }
}
