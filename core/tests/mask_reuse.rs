//! SecureML's mask reuse (its section IV-B): the training inputs are masked once with a `U` from
//! the offline phase, `E = [X | 1] - U` is opened once (a batch's rows with its first product),
//! and each product with a batch uses a
//! triple on that batch of `U`, opening only the weights' or the errors' side.
//!
//! - The correlations: the dealer's, OT's and the ideal source's data masks and their triples
//!   (`U_b V`, `U_b^T V`) reconstruct to `C = A B` with `A` the mask's batch; prefetched ones are
//!   served in order; bad requests are refused.
//! - Regression and a perceptron trained with mask reuse give the same weights as training that
//!   masks every product: bit for bit with exact truncation (and equal to a plaintext fixed-point
//!   twin), within the local truncation's error bound otherwise.
//! - The bytes per step drop by exactly what the shapes predict: `2 B (d + 1)` ring elements per
//!   step and party (the two openings of the batch), with the dealer and with OT.

mod common;

use common::{TestRng, run_three, seed};
use fixshare::arith::online;
use fixshare::correlated::{DataMask, MaskSide};
use fixshare::ml::glm::{self, InputMasking};
use fixshare::ml::inference::{Layer, Network};
use fixshare::ml::pipeline;
use fixshare::ml::train::{OnShares, init_weights, train_network, train_network_plain};
use fixshare::ml::{GlmModel, MlpLoss, SgdParams, Sigmoid};
use fixshare::transport::HEADER_LEN;
use fixshare::{
    Config, Context, Correlations, Dealer, DealerClient, Error, ErrorKind, FixedPoint,
    IdealCorrelations, Link, MemoryTransport, OfflineSource, OtCorrelations, Preprocessed, Role,
    Shares, Stats, Truncation, block_on_thread, duplex,
};
use std::future::Future;
use std::thread;

type Ctx = Context<MemoryTransport, OfflineSource<MemoryTransport>>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Dealer,
    Ot,
}

/// Runs `body` as P0 and P1 of a two-server session whose correlations come from `source` (a
/// dealer thread, or OT between them), and returns both results.
fn run<V, F, Fut>(source: Source, config: Config, tag: u64, body: F) -> [Result<V, Error>; 2]
where
    V: Send + 'static,
    F: Fn(Ctx) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<V, Error>>,
{
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = (source == Source::Dealer).then(|| {
        thread::spawn(move || block_on_thread(Dealer::new(seed(700 + tag), d0, d1).serve()))
    });
    let handles = [(Role::P0, p0, c0), (Role::P1, p1, c1)].map(|(role, peer, dl)| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut link = Link::new(peer);
                let src = match source {
                    Source::Dealer => OfflineSource::Dealer(DealerClient::connect(role, dl).await?),
                    Source::Ot => {
                        let s = seed(800 + 10 * tag + role.index() as u64);
                        OfflineSource::Ot(Box::new(
                            OtCorrelations::setup(role, &mut link, s).await?,
                        ))
                    }
                };
                let own = seed(900 + 10 * tag + role.index() as u64);
                body(Context::two_party(role, link, src, own, config)).await
            })
        })
    });
    let out = handles.map(|h| h.join().expect("a party panicked"));
    if let Some(d) = dealer {
        let _ = d.join().expect("the dealer panicked");
    }
    out
}

/// This party's share of `values` (`rows x cols`): P0 holds `v - r`, P1 `r`, with `r` from a
/// generator seeded by `salt`.
fn share(role: Role, values: &[f64], rows: usize, cols: usize, salt: u64) -> Shares<u64> {
    let fp = FixedPoint::default();
    let mut rng = TestRng(salt);
    let data = values
        .iter()
        .map(|&v| {
            let r = rng.next_u64();
            let e: u64 = fp.encode(v).expect("in range");
            if role == Role::P0 {
                e.wrapping_sub(r)
            } else {
                r
            }
        })
        .collect();
    Shares::matrix(rows, cols, data).expect("shape")
}

// ----- the correlations -----

const MASK: (usize, usize, usize) = (10, 3, 4);

/// Fetches a 10 x 3 mask in batches of 4 (4, 4, 2 rows) and a triple on every batch, both
/// sides, with fresh factors of 2 and 7 columns (7 is wider than every left factor: OT's
/// transposed generation). Returns this party's mask share and the triples.
/// A party's mask and its triples: (batch, side, columns, [a, b, c]).
type Masked = (DataMask<u64>, Vec<(usize, MaskSide, usize, [Vec<u64>; 3])>);

async fn mask_and_triples<T, C: Correlations<T>>(
    links: &mut fixshare::Links<T>,
    src: &mut C,
) -> Result<Masked, Error> {
    let (rows, cols, batch) = MASK;
    let mask = src.data_mask::<u64>(links, rows, cols, batch).await?;
    let mut triples = Vec::new();
    for b in 0..mask.batches() {
        for side in [MaskSide::Rows, MaskSide::Transposed] {
            for n in [2, 7] {
                let t = src.mask_triple::<u64>(links, &mask, b, side, n).await?;
                let a = mask.factor(b, side)?;
                let parts = [&a, &t.b, &t.c].map(|m| m.as_slice().to_vec());
                triples.push((b, side, n, parts));
            }
        }
    }
    Ok((mask, triples))
}

fn add(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x.wrapping_add(*y)).collect()
}

/// Both parties' masks and triples reconstruct to `C = A B` with `A` the mask's batch (or its
/// transpose) and the right shapes.
fn check_masks(a: Masked, b: Masked, what: &str) {
    let (rows, cols, batch) = MASK;
    assert_eq!(a.0.share().shape(), (rows, cols), "{what}");
    assert_eq!((a.0.batches(), a.0.batch()), (3, batch), "{what}");
    let u = add(a.0.share().as_slice(), b.0.share().as_slice());
    assert!(u.iter().any(|&v| v != 0), "{what}: a zero mask");
    assert_eq!(a.1.len(), 12, "{what}");
    for ((bt, side, n, pa), (_, _, _, pb)) in a.1.iter().zip(&b.1) {
        let r = if *bt == 2 { 2 } else { 4 };
        let batch_u = &u[bt * batch * cols..(bt * batch + r) * cols];
        let (m, k, want_a) = match side {
            MaskSide::Rows => (r, cols, batch_u.to_vec()),
            MaskSide::Transposed => (
                cols,
                r,
                (0..cols)
                    .flat_map(|j| (0..r).map(move |i| batch_u[i * cols + j]))
                    .collect(),
            ),
        };
        let [av, bv, cv] = [0, 1, 2].map(|i| add(&pa[i], &pb[i]));
        assert_eq!(
            av, want_a,
            "{what}: batch {bt} {side:?}: A is not the mask's batch"
        );
        assert_eq!((bv.len(), cv.len()), (k * n, m * n), "{what}");
        let mut ab = vec![0u64; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..*n {
                    ab[i * n + j] =
                        ab[i * n + j].wrapping_add(av[i * k + p].wrapping_mul(bv[p * n + j]));
                }
            }
        }
        assert_eq!(cv, ab, "{what}: batch {bt} {side:?} x {n}: C != A B");
    }
}

#[test]
fn data_masks_and_their_triples_reconstruct_from_every_source() {
    for source in [Source::Dealer, Source::Ot] {
        let [a, b] = run(source, Config::default(), 1, |mut ctx: Ctx| async move {
            let (links, src) = ctx.split();
            mask_and_triples(links, src).await
        });
        check_masks(a.unwrap(), b.unwrap(), &format!("{source:?}"));
    }
    let ideal = |role| {
        let mut src = IdealCorrelations::new(role, seed(5));
        let mut links = fixshare::Links::<MemoryTransport>::new(fixshare::PartyId::of(role));
        block_on_thread(mask_and_triples(&mut links, &mut src)).unwrap()
    };
    check_masks(ideal(Role::P0), ideal(Role::P1), "ideal");
    // The helper deals them over the session's links (three servers).
    let (a, b) = run_three(Config::default(), 2, |mut p| async move {
        let (links, src) = p.context_mut().split();
        mask_and_triples(links, src).await
    });
    check_masks(a.unwrap(), b.unwrap(), "helper");
}

#[test]
fn prefetched_masks_are_served_in_order_and_a_mismatch_is_refused() {
    let [a, b] = run(
        Source::Dealer,
        Config::default(),
        3,
        |mut ctx: Ctx| async move {
            let (links, src) = ctx.split();
            let mut pre = Preprocessed::new(&mut *src);
            let (rows, cols, batch) = MASK;
            let mask = pre
                .prefetch_data_mask::<u64, _>(links, rows, cols, batch)
                .await?;
            pre.prefetch_mask_triple(links, &mask, 1, MaskSide::Transposed, 2)
                .await?;
            pre.prefetch_mask_triple(links, &mask, 2, MaskSide::Rows, 2)
                .await?;
            // Served from the queue: the same mask, then the triples in order.
            let got = pre.data_mask::<u64>(links, rows, cols, batch).await?;
            assert_eq!(got.share(), mask.share());
            let t = pre
                .mask_triple(links, &got, 1, MaskSide::Transposed, 2)
                .await?;
            assert_eq!((t.b.shape(), t.c.shape()), ((4, 2), (3, 2)));
            // The next queued triple is batch 2's: asking for batch 0 is refused.
            let e = pre
                .mask_triple(links, &got, 0, MaskSide::Rows, 2)
                .await
                .err()
                .expect("refused");
            assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
            Ok(())
        },
    );
    a.unwrap();
    b.unwrap();
}

#[test]
fn bad_mask_requests_are_refused() {
    assert!(DataMask::<u64>::new(Shares::zeros(4, 2).unwrap(), 0, 0).is_err());
    let [a, b] = run(
        Source::Dealer,
        Config::default(),
        4,
        |mut ctx: Ctx| async move {
            let (links, src) = ctx.split();
            // Refused before any request: no batch, a batch past the end.
            let e = src.data_mask::<u64>(links, 4, 2, 0).await.unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
            let mask = src.data_mask::<u64>(links, 4, 2, 3).await?;
            let e = src
                .mask_triple(links, &mask, 2, MaskSide::Rows, 1)
                .await
                .err()
                .expect("refused");
            assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
            // A mask the dealer never dealt: party 1, which waits for the dealer's corrections, fails.
            let forged = DataMask::new(mask.share().clone(), 3, 999)?;
            let r = src.mask_triple(links, &forged, 0, MaskSide::Rows, 1).await;
            Ok((ctx.role()?, r.is_err()))
        },
    );
    assert_eq!(a.unwrap(), (Role::P0, false));
    assert_eq!(b.unwrap(), (Role::P1, true));
}

// ----- regression -----

/// `n` rows of `d` features uniform in [-1, 1) and a target: a noisy linear function, or 0/1
/// by its sign.
fn regression(n: usize, d: usize, binary: bool, rng_seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = TestRng(rng_seed);
    let x = rng.vec(n * d, -1.0, 1.0);
    let y = x
        .chunks_exact(d)
        .map(|row| {
            let t: f64 = row
                .iter()
                .enumerate()
                .map(|(j, &v)| if j % 2 == 0 { v } else { -0.5 * v })
                .sum::<f64>()
                + rng.uniform(-0.1, 0.1);
            if binary {
                f64::from(u8::from(t >= 0.0))
            } else {
                0.5 * t
            }
        })
        .collect();
    (x, y)
}

const F: u32 = 16;

fn sar(v: u64, bits: u32) -> u64 {
    ((v as i64) >> bits) as u64
}

/// `x * c` as the trainers scale by a public real (`ml::ops::scale`): `round(c 2^e)`, then a
/// floor shift by `e`.
fn scale_fixed(v: u64, c: f64) -> u64 {
    let (_, exp) = libm::frexp(c);
    let e = (F as i32).max(14 - exp) as u32;
    let k = libm::round(libm::ldexp(c, e as i32)) as i64 as u64;
    sar(v.wrapping_mul(k), e)
}

/// The plaintext fixed-point twin of `train_glm` with exact truncation: the same ring
/// arithmetic (Z_2^64, 16 fractional bits), every truncation a floor.
fn glm_fixed_twin(x: &[f64], y: &[f64], d: usize, model: GlmModel, p: &SgdParams) -> Vec<u64> {
    let fp = FixedPoint::default();
    let enc = |v: f64| -> u64 { fp.encode(v).unwrap() };
    let (one, half) = (enc(1.0), enc(0.5));
    let x1: Vec<u64> = x
        .chunks_exact(d)
        .flat_map(|row| row.iter().map(|&v| enc(v)).chain([one]))
        .collect();
    let y: Vec<u64> = y.iter().map(|&v| enc(v)).collect();
    let (n, d1) = (y.len(), d + 1);
    let mut w = vec![0u64; d1];
    for _ in 0..p.epochs {
        let mut start = 0;
        while start < n {
            let end = (start + p.batch).min(n);
            let mut grad = vec![0u64; d1];
            let mut errs = Vec::new();
            for r in start..end {
                let row = &x1[r * d1..(r + 1) * d1];
                let s = sar(
                    row.iter()
                        .zip(&w)
                        .fold(0u64, |a, (&x, &w)| a.wrapping_add(x.wrapping_mul(w))),
                    F,
                );
                let pred = match model {
                    GlmModel::Linear => s,
                    _ => (s.wrapping_add(half) as i64).clamp(0, one as i64) as u64,
                };
                errs.push(pred.wrapping_sub(y[r]));
            }
            for (j, g) in grad.iter_mut().enumerate() {
                let sum = (start..end).fold(0u64, |a, r| {
                    a.wrapping_add(x1[r * d1 + j].wrapping_mul(errs[r - start]))
                });
                *g = sar(sum, F);
            }
            let c = p.learning_rate / (end - start) as f64;
            for (w, &g) in w.iter_mut().zip(&grad) {
                *w = w.wrapping_sub(scale_fixed(g, c));
            }
            start = end;
        }
    }
    w
}

/// The worst case of the local truncation's errors, in units in the last place, after every
/// step of `p` (inputs at most 1 in magnitude): each truncation is off by at most one unit, and a
/// weight's error `e` reaches the next step's scores as `(d + 1) e` and its step as `lr (d + 1) e`.
fn local_truncation_bound(d: usize, n: usize, p: &SgdParams) -> f64 {
    let steps = p.epochs * n.div_ceil(p.batch);
    let mut e = 0.0;
    for _ in 0..steps {
        // scores and the sigmoid's product: 2 units; the gradient, the step's scaling: 1 each.
        let err = (d + 1) as f64 * e + 2.0;
        let grad = p.batch as f64 * err + 1.0;
        e += p.learning_rate / p.batch as f64 * grad + 1.0;
    }
    e
}

/// What one regression run gives: the opened weights (ring) and the online traffic after each
/// epoch.
type GlmRun = (Vec<u64>, Vec<Stats>);

fn train_glm_run(
    source: Source,
    config: Config,
    tag: u64,
    data: &(Vec<f64>, Vec<f64>),
    model: GlmModel,
    sgd: SgdParams,
    masking: InputMasking,
) -> [GlmRun; 2] {
    let (x, y) = data.clone();
    let (n, d) = (y.len(), x.len() / y.len());
    run(source, config, tag, move |mut ctx: Ctx| {
        let (x, y) = (x.clone(), y.clone());
        async move {
            let role = ctx.role()?;
            let (xs, ys) = (share(role, &x, n, d, 11), share(role, &y, n, 1, 12));
            let mut traffic = Vec::new();
            let w = pipeline::train_glm_masked_with_progress(
                &mut ctx,
                &xs,
                &ys,
                model,
                &sgd,
                masking,
                |p| traffic.push(p.online),
            )
            .await?;
            Ok((online::open(&mut ctx, &w).await?, traffic))
        }
    })
    .map(|r| r.expect("training"))
}

const SGD: SgdParams = SgdParams {
    epochs: 2,
    batch: 16,
    learning_rate: 0.1,
};

#[test]
fn regression_with_mask_reuse_is_bit_exact_with_exact_truncation() {
    let config = Config {
        truncation: Truncation::Exact,
        ..Config::default()
    };
    // Two epochs keep E's rows for the second; one epoch keeps only the step's batch. 60 rows
    // end with a short batch.
    let one_epoch = SgdParams { epochs: 1, ..SGD };
    for (model, binary) in [
        (GlmModel::Linear, false),
        (GlmModel::Logistic(Sigmoid::Piecewise), true),
    ] {
        for (n, sgd) in [(64, SGD), (60, one_epoch)] {
            let data = regression(n, 5, binary, 21);
            let twin = glm_fixed_twin(&data.0, &data.1, 5, model, &sgd);
            let [reused, _] = train_glm_run(
                Source::Dealer,
                config,
                5,
                &data,
                model,
                sgd,
                InputMasking::Reused,
            );
            let [per, _] = train_glm_run(
                Source::Dealer,
                config,
                6,
                &data,
                model,
                sgd,
                InputMasking::PerProduct,
            );
            let what = format!("{model:?}, {n} rows, {} epochs", sgd.epochs);
            assert_eq!(
                reused.0, per.0,
                "{what}: mask reuse against masking every product"
            );
            assert_eq!(
                reused.0, twin,
                "{what}: against the plaintext fixed-point twin"
            );
            assert!(
                twin.iter().any(|&w| w != 0),
                "{what}: the twin did not train"
            );
        }
    }
}

/// Bytes per step and party of a regression step's two products: mask reuse opens `w - V` and
/// `e - V'` (`(d + 1) + B` elements); masking every product also opens the batch in both
/// (`2 B (d + 1)` more). One frame per product.
fn predicted_bytes(d: usize, b: usize) -> (u64, u64) {
    let frames = 2 * HEADER_LEN;
    let after = (d + 1) + b;
    let before = after + 2 * b * (d + 1);
    ((8 * before + frames) as u64, (8 * after + frames) as u64)
}

/// Trains with both maskings (tags `tag`, `tag + 1`), checks the weights against the fixed-point
/// twin within the local truncation's bound, and checks the bytes per step (the second epoch's):
/// the products' bytes exactly as [`predicted_bytes`], everything else (the sigmoid) the same in
/// both runs, so that the measured factor is the predicted one; and `E` opened once in the first
/// epoch. Returns the bytes per step of party 0, before and after.
fn check_regression_bytes(
    source: Source,
    model: GlmModel,
    (n, d): (usize, usize),
    sgd: SgdParams,
    tag: u64,
) -> (u64, u64) {
    let what = format!("{source:?}, {model:?}, {n} x {d}, batch {}", sgd.batch);
    let data = regression(n, d, matches!(model, GlmModel::Logistic(_)), tag);
    let twin = glm_fixed_twin(&data.0, &data.1, d, model, &sgd);
    let bound = local_truncation_bound(d, n, &sgd);
    let steps = n.div_ceil(sgd.batch) as u64;
    assert_eq!(n % sgd.batch, 0, "full batches");
    let runs = [InputMasking::PerProduct, InputMasking::Reused].map(|m| {
        let t = tag + u64::from(m == InputMasking::Reused);
        train_glm_run(source, Config::default(), t, &data, model, sgd, m)
    });
    let mut per_step = [[0u64; 2]; 2];
    for (i, [p0, p1]) in runs.iter().enumerate() {
        assert_eq!(p0.0, p1.0, "{what}: both parties open the same weights");
        let worst =
            p0.0.iter()
                .zip(&twin)
                .map(|(&a, &b)| (a.wrapping_sub(b) as i64).unsigned_abs())
                .max()
                .unwrap();
        println!("{what}, run {i}: largest weight error {worst} ulps (bound {bound:.0})");
        assert!((worst as f64) <= bound, "{what}: {worst} ulps");
        for (p, party) in [p0, p1].iter().enumerate() {
            assert_eq!(party.1.len(), 2);
            per_step[i][p] = (party.1[1].bytes_sent - party.1[0].bytes_sent) / steps;
        }
    }
    let [before, after] = per_step;
    let (products_before, products_after) = predicted_bytes(d, sgd.batch);
    for p in 0..2 {
        // What is not the two products (the sigmoid's traffic): the same with either masking.
        let rest = after[p] - products_after;
        assert_eq!(before[p], products_before + rest, "{what}: party {p}");
        if model == GlmModel::Linear {
            assert_eq!(rest, 0, "{what}: a linear step is its two products");
        }
        let factor = (products_before + rest) as f64 / (products_after + rest) as f64;
        let measured = before[p] as f64 / after[p] as f64;
        assert!(
            (measured / factor - 1.0).abs() < 1e-12,
            "{what}: {measured} vs {factor}"
        );
    }
    // E is opened once, each batch's rows in the frame of its first product: n (d + 1) elements
    // in the first epoch.
    let first = runs[1][0].1[0].bytes_sent;
    let opening = 8 * (n * (d + 1)) as u64;
    assert_eq!(first, opening + steps * after[0], "{what}: the first epoch");
    println!(
        "{what}: bytes per step and party {} -> {} ({:.2}x; the products alone {products_before} -> {products_after}, {:.2}x); E opened once: {opening} bytes",
        before[0],
        after[0],
        before[0] as f64 / after[0] as f64,
        products_before as f64 / products_after as f64
    );
    (before[0], after[0])
}

#[test]
fn regression_bytes_per_step_drop_by_the_predicted_factor_with_the_dealer_and_with_ot() {
    let mut tag = 10;
    for source in [Source::Dealer, Source::Ot] {
        for model in [GlmModel::Linear, GlmModel::Logistic(Sigmoid::Piecewise)] {
            tag += 2;
            check_regression_bytes(source, model, (64, 5), SGD, tag);
        }
    }
    // SecureML's MNIST shapes (d = 784, B = 128), with the dealer: 2 B (d + 1) + (d + 1) + B
    // against (d + 1) + B elements, 221x.
    let sgd = SgdParams {
        batch: 128,
        learning_rate: 0.001,
        ..SGD
    };
    let (before, after) =
        check_regression_bytes(Source::Dealer, GlmModel::Linear, (256, 784), sgd, 30);
    assert!(before as f64 / after as f64 > 220.0);
}

// ----- a perceptron -----

fn mlp() -> Network {
    Network {
        input: 8,
        layers: vec![
            Layer::Dense {
                inputs: 8,
                outputs: 6,
            },
            Layer::Relu,
            Layer::Dense {
                inputs: 6,
                outputs: 3,
            },
        ],
    }
}

/// 48 rows of 8 features in [0, 1) and one-hot labels: the class is the largest of three sums.
fn classes(rng_seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = TestRng(rng_seed);
    let x = rng.vec(48 * 8, 0.0, 1.0);
    let mut y = vec![0.0; 48 * 3];
    for (r, row) in x.chunks_exact(8).enumerate() {
        let s = [row[0] + row[1], row[2] + row[3] + row[4], row[5] + row[6]];
        let k = (0..3).fold(0, |m, i| if s[i] > s[m] { i } else { m });
        y[r * 3 + k] = 1.0;
    }
    (x, y)
}

const MLP_SGD: SgdParams = SgdParams {
    epochs: 2,
    batch: 16,
    learning_rate: 0.1,
};

/// Trains [`mlp`] on shares with `masking` and returns the opened weights and the online traffic
/// after each epoch.
fn train_mlp_run(
    source: Source,
    config: Config,
    tag: u64,
    masking: InputMasking,
    sgd: SgdParams,
) -> (Vec<Vec<u64>>, Vec<Stats>) {
    let [a, b] = run(source, config, tag, move |mut ctx: Ctx| async move {
        let (x, y) = classes(3);
        let role = ctx.role()?;
        let (xs, ys) = (share(role, &x, 48, 8, 31), share(role, &y, 48, 3, 32));
        let net = mlp();
        let init = init_weights(&net, 7);
        let mut traffic = Vec::new();
        let mut alg = OnShares::<_, _, u64>::new(&mut ctx).with_input_masking(masking);
        let w = train_network(
            &mut alg,
            &net,
            &xs,
            &ys,
            &init,
            &sgd,
            MlpLoss::Squared,
            |a, _| traffic.push(a.context().online_stats()),
        )
        .await?;
        let mut out = Vec::new();
        for m in &w {
            out.push(online::open(&mut ctx, m).await?);
        }
        Ok((out, traffic))
    });
    let (a, b) = (a.expect("party 0"), b.expect("party 1"));
    assert_eq!(a.0, b.0);
    a
}

fn decode(w: &[Vec<u64>]) -> Vec<f64> {
    let fp = FixedPoint::default();
    w.iter().flatten().map(|&v| fp.decode(v)).collect()
}

#[test]
fn a_perceptron_with_mask_reuse_trains_like_one_without() {
    let net = mlp();
    let (x, y) = classes(3);
    let plain = train_network_plain(
        &net,
        &x,
        &y,
        &init_weights(&net, 7),
        &MLP_SGD,
        MlpLoss::Squared,
    )
    .unwrap()
    .concat();
    // Exact truncation: the same weights bit for bit.
    let exact = Config {
        truncation: Truncation::Exact,
        ..Config::default()
    };
    // Two epochs keep E's rows; one keeps only the step's batch.
    for sgd in [
        MLP_SGD,
        SgdParams {
            epochs: 1,
            ..MLP_SGD
        },
    ] {
        let reused = train_mlp_run(Source::Dealer, exact, 40, InputMasking::Reused, sgd);
        let per = train_mlp_run(Source::Dealer, exact, 41, InputMasking::PerProduct, sgd);
        assert_eq!(reused.0, per.0, "exact truncation, {} epochs", sgd.epochs);
    }
    // Local truncation, with the dealer and with OT: both near the f64 twin, and the first
    // layer's two openings of the batch (16 x 9 elements each) gone from every step.
    let steps = 48 / MLP_SGD.batch;
    for (source, tag) in [(Source::Dealer, 42), (Source::Ot, 44)] {
        let runs = [InputMasking::PerProduct, InputMasking::Reused].map(|m| {
            train_mlp_run(
                source,
                Config::default(),
                tag + (m == InputMasking::Reused) as u64,
                m,
                MLP_SGD,
            )
        });
        for (w, _) in &runs {
            let worst = decode(w)
                .iter()
                .zip(&plain)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 5e-3, "{source:?}: {worst}");
        }
        let per_step = |r: &(Vec<Vec<u64>>, Vec<Stats>)| {
            (r.1[1].bytes_sent - r.1[0].bytes_sent) / steps as u64
        };
        let (before, after) = (per_step(&runs[0]), per_step(&runs[1]));
        assert_eq!(before - after, 8 * 2 * 16 * 9, "{source:?}");
        println!(
            "perceptron 8-6-3, batch 16, {source:?}: bytes per step and party {before} -> {after} ({:.2}x)",
            before as f64 / after as f64
        );
    }
    // Three servers: the helper deals the mask and its triples over the session's links.
    let (a, b) = run_three(Config::default(), 46, |mut p| async move {
        let (x, y) = classes(3);
        let role = p.role();
        let (xs, ys) = (share(role, &x, 48, 8, 31), share(role, &y, 48, 3, 32));
        let net = mlp();
        let w = p
            .train_network(
                &net,
                &xs,
                &ys,
                &init_weights(&net, 7),
                &MLP_SGD,
                MlpLoss::Squared,
                |_| {},
            )
            .await?;
        let mut out: Vec<Vec<u64>> = Vec::new();
        for m in &w {
            out.push(p.open(m).await?);
        }
        Ok(out)
    });
    let a = a.unwrap();
    assert_eq!(a, b.unwrap());
    let worst = decode(&a)
        .iter()
        .zip(&plain)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 5e-3, "three servers: {worst}");
}

#[test]
fn training_without_epochs_or_with_bad_shapes_sends_nothing_for_the_mask() {
    let [a, b] = run(
        Source::Dealer,
        Config::default(),
        50,
        |mut ctx: Ctx| async move {
            let role = ctx.role()?;
            let x = share(role, &[0.5; 8], 4, 2, 1);
            let y = share(role, &[0.0; 4], 4, 1, 2);
            let none = SgdParams { epochs: 0, ..SGD };
            let w = glm::train_glm(&mut ctx, &x, &y, GlmModel::Linear, &none, |_| {}).await?;
            assert!(w.as_slice().iter().all(|&v| v == 0));
            let bad_y = share(role, &[0.0; 3], 3, 1, 2);
            let e = glm::train_glm(&mut ctx, &x, &bad_y, GlmModel::Linear, &SGD, |_| {})
                .await
                .expect_err("refused");
            assert!(
                matches!(e.kind(), ErrorKind::DimensionMismatch { .. }),
                "{e}"
            );
            Ok(ctx.online_stats().bytes_sent + ctx.offline_stats().bytes_sent)
        },
    );
    assert_eq!(a.unwrap(), 0);
    assert_eq!(b.unwrap(), 0);
}
