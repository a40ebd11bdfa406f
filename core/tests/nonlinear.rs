//! The non-linear layer against the plaintext fixed-point reference, with the dealer and with
//! the OT-based offline phase: ReLU, DReLU, comparison, both sigmoids, exact truncation, max,
//! argmax and max pooling, on random values and on the edges of the range.

mod common;

use common::{TestRng, seed};
use fixshare::gc::{Builder, Reveal};
use fixshare::{
    Backend, Config, Correlations, Error, ErrorKind, FixedPoint, Link, MemoryTransport,
    OtCorrelations, Party, PiecewiseLinear, Pool2d, Ring, Role, Shares, Transport, Truncation,
    block_on_thread, duplex,
};
use std::thread;

const FP: FixedPoint = match FixedPoint::new(16) {
    Ok(f) => f,
    Err(_) => panic!("16 fractional bits are valid"),
};
const F: u32 = 16;
const ONE: u64 = 1 << F;

/// Splits public test values into this party's share: P0 holds `v - r`, P1 holds `r`, with `r`
/// from a generator both threads seed alike.
fn split(role: Role, v: &[u64], rows: usize, cols: usize, tag: u64) -> Shares<u64> {
    let mut rng = TestRng(0x5eed ^ tag);
    let data = v
        .iter()
        .map(|&x| {
            let r = rng.next_u64();
            match role {
                Role::P0 => x.wrapping_sub(r),
                Role::P1 => r,
            }
        })
        .collect();
    Shares::matrix(rows, cols, data).unwrap()
}

/// Raw encodings at the edges: 0, +-1 ulp, around +-1/2 and +-1, the ends of the range.
fn edges() -> Vec<u64> {
    let h = ONE / 2;
    let mut v = vec![0, 1, 1u64.wrapping_neg(), 2, 2u64.wrapping_neg()];
    for c in [h, ONE, 8 * ONE] {
        for d in [0u64, 1, 1u64.wrapping_neg()] {
            v.push(c.wrapping_add(d));
            v.push(c.wrapping_add(d).wrapping_neg());
        }
    }
    v.extend([
        i64::MAX as u64,
        i64::MIN as u64,
        (i64::MIN + 1) as u64,
        1 << 62,
        (1u64 << 62).wrapping_neg(),
    ]);
    v
}

#[derive(Clone)]
struct Data {
    x: Vec<u64>,
    y: Vec<u64>,
    /// Rows of `cols` values for max and argmax (with ties).
    m: Vec<u64>,
    rows: usize,
    cols: usize,
    /// Two 2-channel 5x5 images for 2x2 pooling with stride 2... and 3x3 windows with stride 1.
    img: Vec<u64>,
    /// Dividends and divisors, `0 <= x <= y`.
    num: Vec<u64>,
    den: Vec<u64>,
}

fn data(tag: u64) -> Data {
    let mut rng = TestRng(tag);
    let mut x = edges();
    let mut y: Vec<u64> = x
        .iter()
        .map(|_| FP.encode(rng.uniform(-2.0, 2.0)).unwrap())
        .collect();
    // Pairs at distance 0 and +-1 ulp for the comparison.
    for _ in 0..20 {
        let a: u64 = FP.encode(rng.uniform(-100.0, 100.0)).unwrap();
        for d in [0u64, 1, 1u64.wrapping_neg()] {
            x.push(a);
            y.push(a.wrapping_add(d));
        }
    }
    for _ in 0..400 {
        x.push(FP.encode(rng.uniform(-50.0, 50.0)).unwrap());
        y.push(FP.encode(rng.uniform(-50.0, 50.0)).unwrap());
    }
    let (rows, cols) = (7, 10);
    let mut m: Vec<u64> = (0..rows * cols)
        .map(|i| {
            // Small integers so that rows have ties.
            if i % 3 == 0 {
                ((rng.next_u64() % 5) * ONE).wrapping_sub(2 * ONE)
            } else {
                FP.encode(rng.uniform(-3.0, 3.0)).unwrap()
            }
        })
        .collect();
    // A row with no positive value (the softmax replacement's special case).
    for (i, v) in m.iter_mut().skip(cols).take(cols).enumerate() {
        *v = (i as u64 * 977 % (3 * ONE)).wrapping_neg();
    }
    let img = (0..2 * 2 * 5 * 5)
        .map(|_| FP.encode(rng.uniform(-4.0, 4.0)).unwrap())
        .collect();
    // Edges (0, x = y, 1 ulp, the largest divisor the division allows) and random pairs.
    let mut num = vec![0, 1, 1, ONE, 5 * ONE, (1 << 61) - 1, 1];
    let mut den = vec![1, 1, 3, ONE, 5 * ONE, (1 << 61) - 1, (1 << 61) - 1];
    for _ in 0..40 {
        let y = FP.encode::<u64>(rng.uniform(0.001, 1000.0)).unwrap().max(1);
        num.push((rng.next_u64() % (y + 1)).min(y));
        den.push(y);
    }
    Data {
        x,
        y,
        m,
        rows,
        cols,
        img,
        num,
        den,
    }
}

const POOLS: [Pool2d; 2] = [
    Pool2d {
        channels: 2,
        height: 5,
        width: 5,
        window: 2,
        stride: 2,
    },
    Pool2d {
        channels: 2,
        height: 5,
        width: 5,
        window: 3,
        stride: 1,
    },
];

/// Every non-linear operation, generic over the correlation source; returns the opened results.
async fn compute<T: Transport, C: Correlations<T>>(
    mut p: Party<T, C, u64>,
    d: Data,
) -> Result<Vec<Vec<u64>>, Error> {
    let role = p.role();
    let n = d.x.len();
    let x = split(role, &d.x, n, 1, 1);
    let y = split(role, &d.y, n, 1, 2);
    let mut out = Vec::new();
    let r = p.relu(&x).await?;
    out.push(p.open(&r).await?);
    let (r, dr) = p.relu_with_derivative(&x).await?;
    out.push(p.open(&r).await?);
    out.push(p.open(&dr).await?);
    let s = p.drelu(&x).await?;
    out.push(p.open(&s).await?);
    let lt = p.less_than(&x, &y).await?;
    out.push(p.open(&lt).await?);
    let sp = p.sigmoid_piecewise(&x).await?;
    out.push(p.open(&sp).await?);
    let t = p.truncate_exact(&x, 5).await?;
    out.push(p.open(&t).await?);
    // The accurate sigmoid on the in-range values only (its product needs |x| < 2^(k-1-2f)).
    let small = split(role, &d.y, n, 1, 2);
    let sg = p.sigmoid(&small).await?;
    out.push(p.open(&sg).await?);
    let m = split(role, &d.m, d.rows, d.cols, 3);
    let mx = p.max(&m).await?;
    out.push(p.open(&mx).await?);
    let (mx, ix) = p.argmax(&m).await?;
    out.push(p.open(&mx).await?);
    out.push(p.open(&ix).await?);
    let img = split(role, &d.img, 2, 50, 4);
    for pool in POOLS {
        let mp = p.max_pool(&img, pool).await?;
        out.push(p.open(&mp).await?);
    }
    let sm = p.relu_softmax(&m).await?;
    out.push(p.open(&sm).await?);
    // Equality: of x and y (rarely equal), and of x and a fresh sharing of x (always).
    let eq = p.equal(&x, &y).await?;
    out.push(p.open(&eq).await?);
    let same = split(role, &d.x, n, 1, 5);
    let eq = p.equal(&x, &same).await?;
    out.push(p.open(&eq).await?);
    for pool in POOLS {
        let (mp, mask) = p.max_pool_with_derivative(&img, pool).await?;
        out.push(p.open(&mp).await?);
        out.push(p.open(&mask).await?);
    }
    let k = d.num.len();
    let (num, den) = (split(role, &d.num, k, 1, 6), split(role, &d.den, k, 1, 7));
    let q = p.divide(&num, &den).await?;
    out.push(p.open(&q).await?);
    Ok(out)
}

fn run_dealer(config: Config, d: Data, tag: u64) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    let (a, b) = common::run_pair(config, tag, move |p| compute(p, d.clone()));
    (a.unwrap(), b.unwrap())
}

fn run_ot(config: Config, d: Data, tag: u64) -> (Vec<Vec<u64>>, Vec<Vec<u64>>) {
    // One connection between the parties: OT, garbled circuits and the online phase share it.
    let (a, b) = duplex();
    let spawn = |role: Role, peer: MemoryTransport, d: Data| {
        thread::spawn(move || {
            block_on_thread(async move {
                let i = role.index() as u64;
                let mut link = Link::new(peer);
                let src = OtCorrelations::setup(role, &mut link, seed(900 + 10 * tag + i)).await?;
                let p = Party::on_link(role, link, src, seed(910 + 10 * tag + i), config);
                compute(p, d).await
            })
        })
    };
    let h0 = spawn(Role::P0, a, d.clone());
    let h1 = spawn(Role::P1, b, d);
    (h0.join().unwrap().unwrap(), h1.join().unwrap().unwrap())
}

fn signed(v: u64) -> i64 {
    v as i64
}

/// Row maxima and first indices of maxima, in plaintext.
fn row_max(v: &[u64], cols: usize) -> (Vec<u64>, Vec<u64>) {
    v.chunks(cols)
        .map(|row| {
            let mut best = 0;
            for (j, &a) in row.iter().enumerate() {
                if signed(a) > signed(row[best]) {
                    best = j;
                }
            }
            (row[best], best as u64 * ONE)
        })
        .unzip()
}

/// The window maxima and the mask of each window's first maximum, in plaintext.
fn pool_mask_reference(img: &[u64], pool: Pool2d) -> Vec<u64> {
    let (oh, ow) = pool.output_size().unwrap();
    let (c, h, w, k, s) = (
        pool.channels,
        pool.height,
        pool.width,
        pool.window,
        pool.stride,
    );
    let mut mask = vec![0u64; img.len()];
    for (i, im) in img.chunks(c * h * w).enumerate() {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let at = |dy: usize, dx: usize| ch * h * w + (oy * s + dy) * w + ox * s + dx;
                    let mut best = at(0, 0);
                    for dy in 0..k {
                        for dx in 0..k {
                            if signed(im[at(dy, dx)]) > signed(im[best]) {
                                best = at(dy, dx);
                            }
                        }
                    }
                    mask[i * c * h * w + best] += ONE;
                }
            }
        }
    }
    mask
}

fn pool_reference(img: &[u64], pool: Pool2d) -> Vec<u64> {
    let (oh, ow) = pool.output_size().unwrap();
    let (c, h, w, k, s) = (
        pool.channels,
        pool.height,
        pool.width,
        pool.window,
        pool.stride,
    );
    let mut out = Vec::new();
    for im in img.chunks(c * h * w) {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best = i64::MIN;
                    for dy in 0..k {
                        for dx in 0..k {
                            best =
                                best.max(signed(im[ch * h * w + (oy * s + dy) * w + ox * s + dx]));
                        }
                    }
                    out.push(best as u64);
                }
            }
        }
    }
    out
}

fn check(out: &[Vec<u64>], d: &Data, source: &str) {
    let relu: Vec<u64> =
        d.x.iter()
            .map(|&a| if signed(a) < 0 { 0 } else { a })
            .collect();
    let drelu: Vec<u64> =
        d.x.iter()
            .map(|&a| if signed(a) < 0 { 0 } else { ONE })
            .collect();
    assert_eq!(out[0], relu, "{source}: relu");
    assert_eq!(out[1], relu, "{source}: relu_with_derivative value");
    assert_eq!(out[2], drelu, "{source}: relu_with_derivative derivative");
    assert_eq!(out[3], drelu, "{source}: drelu");
    let lt: Vec<u64> =
        d.x.iter()
            .zip(&d.y)
            .map(|(&a, &b)| if signed(a) < signed(b) { ONE } else { 0 })
            .collect();
    // The edge values' differences can leave the range; compare those that do not.
    for (i, (&g, &w)) in out[4].iter().zip(&lt).enumerate() {
        if signed(d.x[i]).checked_sub(signed(d.y[i])).is_some() {
            assert_eq!(g, w, "{source}: less_than[{i}]");
        }
    }
    let h = (ONE / 2) as i64;
    let sp: Vec<u64> =
        d.x.iter()
            .map(|&a| {
                let a = signed(a);
                if a < -h {
                    0
                } else if a > h {
                    ONE
                } else {
                    (a + h) as u64
                }
            })
            .collect();
    assert_eq!(out[5], sp, "{source}: sigmoid_piecewise");
    let t: Vec<u64> = d.x.iter().map(|&a| a.sar(5)).collect();
    assert_eq!(out[6], t, "{source}: truncate_exact");
    let sig = PiecewiseLinear::sigmoid();
    for (i, (&g, &a)) in out[7].iter().zip(&d.y).enumerate() {
        let x = FP.decode(a);
        let got = FP.decode(g);
        // Coefficients are encoded to half an ulp each; the product is truncated once.
        assert!(
            (got - sig.eval(x)).abs() <= 8.0 * FP.ulp(),
            "{source}: sigmoid[{i}] at {x}: {got} vs {}",
            sig.eval(x)
        );
        assert!(
            (got - 1.0 / (1.0 + (-x).exp())).abs() < 3e-3,
            "{source}: sigmoid accuracy"
        );
    }
    let (mx, ix) = row_max(&d.m, d.cols);
    assert_eq!(out[8], mx, "{source}: max");
    assert_eq!(out[9], mx, "{source}: argmax value");
    assert_eq!(out[10], ix, "{source}: argmax index");
    for (k, pool) in POOLS.iter().enumerate() {
        assert_eq!(
            out[11 + k],
            pool_reference(&d.img, *pool),
            "{source}: max_pool {k}"
        );
    }
    // The softmax replacement: floor(relu(u_i) 2^f / sum_j relu(u_j)), 1/cols on an empty row.
    let mut softmax = Vec::new();
    for row in d.m.chunks(d.cols) {
        let r: Vec<i128> = row.iter().map(|&a| i128::from(signed(a).max(0))).collect();
        let s: i128 = r.iter().sum();
        softmax.extend(r.iter().map(|&v| {
            if s == 0 {
                ONE / d.cols as u64
            } else {
                ((v << F) / s) as u64
            }
        }));
    }
    assert_eq!(out[13], softmax, "{source}: relu_softmax");
    let eq: Vec<u64> =
        d.x.iter()
            .zip(&d.y)
            .map(|(x, y)| u64::from(x == y) << F)
            .collect();
    assert_eq!(out[14], eq, "{source}: equal");
    assert!(
        out[15].iter().all(|&v| v == 1 << F),
        "{source}: equal to itself"
    );
    for (k, pool) in POOLS.iter().enumerate() {
        let (mp, mask) = (&out[16 + 2 * k], &out[17 + 2 * k]);
        assert_eq!(*mp, pool_reference(&d.img, *pool), "{source}: pool {k} max");
        assert_eq!(
            *mask,
            pool_mask_reference(&d.img, *pool),
            "{source}: pool {k} mask"
        );
    }
    let q: Vec<u64> = d
        .num
        .iter()
        .zip(&d.den)
        .map(|(&x, &y)| ((u128::from(x) << F) / u128::from(y)) as u64)
        .collect();
    assert_eq!(out[20], q, "{source}: divide");
}

#[test]
fn nonlinear_ops_match_the_reference_in_every_backend() {
    let d = data(41);
    // With a dealer, `Backend::Auto` is FSS; the garbled circuits run with the dealer too.
    let (a, b) = run_dealer(Config::default(), d.clone(), 41);
    assert_eq!(a, b);
    check(&a, &d, "dealer, fss");
    let gc = Config {
        backend: Backend::GarbledCircuits,
        ..Config::default()
    };
    let (a, b) = run_dealer(gc, d.clone(), 43);
    assert_eq!(a, b);
    check(&a, &d, "dealer, garbled circuits");
    let (a, b) = run_ot(Config::default(), d.clone(), 42);
    assert_eq!(a, b);
    check(&a, &d, "ot");
    // Three servers: `Backend::Auto` is the helper's protocols.
    let (a, b) = common::run_three(Config::default(), 44, move |p| compute(p, d.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    check(&a, &data(41), "three servers, helper");
}

/// Products beyond local truncation's bound: exact truncation (as a session setting) has no
/// error at all, local truncation has many large ones.
#[test]
fn exact_truncation_has_no_large_errors_where_local_does() {
    let n = 2000;
    let mut rng = TestRng(77);
    let x: Vec<u64> = (0..n)
        .map(|_| FP.encode(rng.uniform(-3e4, 3e4)).unwrap())
        .collect();
    let y: Vec<u64> = (0..n)
        .map(|_| FP.encode(rng.uniform(-3e4, 3e4)).unwrap())
        .collect();
    let want: Vec<u64> = x
        .iter()
        .zip(&y)
        .map(|(&a, &b)| FP.mul_reference(a, b))
        .collect();
    let run = |truncation| {
        let config = Config {
            truncation,
            ..Config::default()
        };
        let (x, y) = (x.clone(), y.clone());
        let (a, b) = common::run_pair(config, 50, move |mut p| {
            let (x, y) = (x.clone(), y.clone());
            async move {
                let sx = split(p.role(), &x, n, 1, 5);
                let sy = split(p.role(), &y, n, 1, 6);
                let z = p.mul(&sx, &sy).await?;
                p.open(&z).await
            }
        });
        let a = a.unwrap();
        assert_eq!(a, b.unwrap());
        a
    };
    assert_eq!(run(Truncation::Exact), want, "exact truncation is exact");
    let local = run(Truncation::Local);
    let large = local
        .iter()
        .zip(&want)
        .filter(|(g, w)| g.wrapping_sub(**w).to_signed().abs() > 1)
        .count();
    assert!(
        large > n / 20,
        "local truncation: {large} large errors of {n}"
    );
}

/// One garbled-circuit round trip whatever the vector's length.
#[test]
fn relu_rounds_do_not_grow_with_length() {
    let (a, b) = common::run_pair(Config::default(), 51, |mut p| async move {
        let mut rounds = Vec::new();
        for n in [1usize, 10, 3000] {
            let x = split(p.role(), &vec![ONE; n], n, 1, 7);
            let before = p.stats();
            let r = p.relu(&x).await?;
            rounds.push(p.stats().rounds - before.rounds);
            assert_eq!(p.open(&r).await?, vec![ONE; n]);
        }
        Ok(rounds)
    });
    // The evaluator sends its masked choice bits and receives the garbled stream: one round.
    // (The garbler's counter sees the same exchange from the other side.)
    for rounds in [a.unwrap(), b.unwrap()] {
        assert!(
            rounds.iter().all(|&r| r == rounds[0] && r <= 1),
            "{rounds:?}"
        );
    }
}

/// Runs `body` in a fresh session and returns party 0's result.
fn session<T: Send + 'static, Fut: std::future::Future<Output = Result<T, Error>>>(
    tag: u64,
    body: impl Fn(common::TestParty) -> Fut + Send + Sync + Clone + 'static,
) -> T {
    let (a, b) = common::run_pair(Config::default(), tag, body);
    b.unwrap();
    a.unwrap()
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    session(52, |mut p| async move {
        let x = split(p.role(), &[1, 2, 3], 3, 1, 8);
        // An unencodable coefficient fails before anything is sent, and does not poison.
        let f = PiecewiseLinear::interpolate(&[0.0, 1.0], |x| x * 1e300).unwrap();
        let e = p.piecewise_linear(&x, &f).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::OutOfRange { .. }), "{e}");
        assert!(PiecewiseLinear::interpolate(&[1.0, 1.0], |x| x).is_err());
        assert!(PiecewiseLinear::interpolate(&[0.0, 1.0], |x| x / 0.0).is_err());
        // Mismatched shapes: an error before anything is sent, after which the session is usable.
        let y = split(p.role(), &[1, 2], 2, 1, 9);
        let e = p.less_than(&x, &y).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::DimensionMismatch { .. }),
            "{e}"
        );
        assert!(p.failure().is_none());
        let r = p.relu(&x).await?;
        assert_eq!(p.open(&r).await?, [1, 2, 3]);
        Ok(())
    });
    for (tag, pool, cols) in [
        (53, (2, 2, 3, 1), 4),
        (54, (2, 2, 1, 0), 4),
        (55, (3, 3, 2, 1), 4),
    ] {
        let pool = Pool2d {
            channels: 1,
            height: pool.0,
            width: pool.1,
            window: pool.2,
            stride: pool.3,
        };
        let e = session(tag, move |mut p| async move {
            let img = split(p.role(), &vec![0; cols], 1, cols, 10);
            Ok(p.max_pool(&img, pool).await.unwrap_err())
        });
        assert!(
            matches!(
                e.kind(),
                ErrorKind::InvalidArgument(_) | ErrorKind::DimensionMismatch { .. }
            ),
            "{pool:?}: {e}"
        );
    }
    let e = session(56, |mut p| async move {
        Ok(p.max(&Shares::zeros(2, 0)?).await.unwrap_err())
    });
    assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
}

/// A peer that disappears in the middle of a ReLU: the other side gets an error naming the
/// operation, not a panic or a hang.
#[test]
fn peer_leaving_mid_relu_is_an_error() {
    let (a, b) = common::run_pair(Config::default(), 53, |mut p| async move {
        let x = split(p.role(), &vec![ONE; 5000], 5000, 1, 11);
        if p.role() == Role::P1 {
            return Ok(None);
        }
        Ok(Some(p.relu(&x).await.unwrap_err()))
    });
    assert!(b.unwrap().is_none());
    let e = a.unwrap().unwrap();
    assert!(matches!(e.kind(), ErrorKind::Closed), "{e}");
    assert!(e.to_string().contains("relu"), "{e}");
}

/// A circuit in a session with its outputs kept as XOR shares, then converted to arithmetic
/// shares of the bits: both match the plaintext circuit.
#[test]
fn run_circuit_and_xor_to_arithmetic_conversion() {
    let mut b = Builder::new(&[16, 16]);
    let (x, y) = (b.input(0).unwrap(), b.input(1).unwrap());
    let lt = b.lt_unsigned(&x, &y);
    let eq = b.eq(&x, &y);
    let xy = b.xor_word(&x, &y);
    b.output(&[lt, eq]);
    b.output(&xy);
    let circuit = b.finish().unwrap();
    let mut rng = TestRng(61);
    for _ in 0..4 {
        let (a, c) = (rng.next_u64() & 0xffff, rng.next_u64() & 0xffff);
        let bits = |v: u64| (0..16).map(move |i| (v >> i) & 1 == 1);
        let plain: Vec<bool> = circuit
            .eval(&bits(a).chain(bits(c)).collect::<Vec<_>>())
            .unwrap();
        let circuit = circuit.clone();
        let (r0, r1) = common::run_pair(Config::default(), 62, move |mut p| {
            let circuit = circuit.clone();
            async move {
                let owners = [Role::P0, Role::P1];
                let mine: Vec<bool> = bits(if p.role() == Role::P0 { a } else { c }).collect();
                let both = p
                    .run_circuit(&circuit, &owners, &mine, Reveal::Both)
                    .await?;
                let shared = p
                    .run_circuit(&circuit, &owners, &mine, Reveal::Shared)
                    .await?;
                let arith = p.bits_to_arithmetic(&shared).await?;
                Ok((both, shared, p.open(&arith).await?))
            }
        });
        let ((both0, sh0, ar0), (both1, sh1, ar1)) = (r0.unwrap(), r1.unwrap());
        assert_eq!(both0, plain);
        assert_eq!(both1, plain);
        let xor: Vec<bool> = sh0.iter().zip(&sh1).map(|(a, b)| a ^ b).collect();
        assert_eq!(xor, plain, "XOR shares reconstruct");
        let want: Vec<u64> = plain.iter().map(|&b| u64::from(b)).collect();
        assert_eq!(ar0, want, "arithmetic shares of the bits");
        assert_eq!(ar1, want);
    }
}
