//! The numerical library ([`fixshare::numeric`]) against `f64` and the plaintext fixed-point
//! reference, in every topology: two servers with the dealer (FSS backend), two servers with OT
//! (garbled circuits), SecureNN's three servers (helper backend), PrivPy's four servers; over
//! Z_2^64 (`f = 16`) and Z_2^128 (`f = 32`); under pair-based and exact truncation too.
//!
//! Each function runs on points spread over its documented range, its ends and the powers of
//! two included; the test asserts the documented bound `|y - f(x)| <= r |f(x)| + a ulp` at every
//! point and prints the maximum and mean relative error, the largest absolute error in ulps and
//! the smallest `r` the points need. Every function runs on 10^5 points in every topology and
//! both rings. Reductions, broadcasting and selection are checked against the
//! plaintext fixed-point reference: exact where the protocol is, within the stated ulps where a
//! truncation rounds. Public arguments out of range give the documented errors, inputs outside
//! the ranges behave as documented, and the Party and Session methods reach the functions.

mod common;

use common::{TestRng, seed};
use fixshare::numeric::{self, Axis, Broadcast, Octaves};
use fixshare::{
    Config, Context, Correlations, Dealer, DealerClient, Error, ErrorKind, FixedPoint, Link, Links,
    MemoryTransport, OtCorrelations, Party, PartyId, Ring, Role, Shares, State, Topology,
    Transport, block_on_thread, duplex,
};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// Where the parties run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topo {
    /// Two servers and the dealer: the FSS backend.
    Dealer,
    /// Two servers with OT: garbled circuits.
    Ot,
    /// SecureNN's three servers: the helper backend.
    Helper,
    /// PrivPy's two primaries and two assistants.
    Four,
}

/// What one job computes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Reciprocal,
    Div,
    Exp,
    Log,
    Sqrt,
    InvSqrt,
    Logistic,
    Tanh,
    Euler(u32),
    Select,
    Equal,
    Min(Axis),
    Argmin(Axis),
    Sum(Axis),
    Mean(Axis),
    Variance(Axis),
    Broadcast(Broadcast),
}

/// One computation on test values given as ring elements (`y` empty for one operand; `z` for
/// the third of `select`).
#[derive(Clone)]
struct Job<R> {
    op: Op,
    x: Vec<R>,
    y: Vec<R>,
    z: Vec<R>,
    shape: (usize, usize),
    /// The second operand's shape (broadcasting).
    y_shape: (usize, usize),
}

impl<R: Ring> Job<R> {
    fn unary(op: Op, x: Vec<R>) -> Self {
        let n = x.len();
        Job {
            op,
            x,
            y: Vec::new(),
            z: Vec::new(),
            shape: (n, 1),
            y_shape: (0, 0),
        }
    }
}

/// This party's share of public test values: P0 holds `v - r`, P1 holds `r`, with `r` from a
/// generator both parties seed alike.
fn split<R: Ring>(role: Role, v: &[R], shape: (usize, usize), tag: u64) -> Shares<R> {
    let mut rng = TestRng(0x5eed ^ tag);
    let data = v
        .iter()
        .map(|&x| {
            let r = R::from_i128(((rng.next_u64() as i128) << 64) | rng.next_u64() as i128);
            match role {
                Role::P0 => x.sub(r),
                Role::P1 => r,
            }
        })
        .collect();
    Shares::matrix(shape.0, shape.1, data).unwrap()
}

/// Runs every job and opens the results (two for `argmin`).
async fn compute<T: Transport, C: Correlations<T>, R: Ring>(
    mut p: Party<T, C, R>,
    jobs: Arc<Vec<Job<R>>>,
) -> Result<(Vec<Vec<R>>, Vec<f64>), Error> {
    let role = p.role();
    let mut out = Vec::new();
    let mut seconds = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let tag = 3 * i as u64;
        let x = split(role, &job.x, job.shape, tag);
        let y = split(role, &job.y, job.y_shape, tag + 1);
        let z_shape = if job.z.is_empty() {
            (0, 0)
        } else {
            job.y_shape
        };
        let z = split(role, &job.z, z_shape, tag + 2);
        let t = Instant::now();
        let results: Vec<Shares<R>> = p
            .run("test", async |c| {
                Ok(match job.op {
                    Op::Reciprocal => vec![numeric::reciprocal(c, &x).await?],
                    Op::Div => vec![numeric::div(c, &x, &y).await?],
                    Op::Exp => vec![numeric::exp(c, &x).await?],
                    Op::Log => vec![numeric::log(c, &x).await?],
                    Op::Sqrt => vec![numeric::sqrt(c, &x).await?],
                    Op::InvSqrt => vec![numeric::inv_sqrt(c, &x).await?],
                    Op::Logistic => vec![numeric::logistic(c, &x).await?],
                    Op::Tanh => vec![numeric::tanh(c, &x).await?],
                    Op::Euler(steps) => vec![numeric::logistic_euler(c, &x, steps).await?],
                    Op::Select => vec![numeric::select(c, &x, &y, &z).await?],
                    Op::Equal => vec![numeric::equal(c, &x, &y).await?],
                    Op::Min(axis) => vec![numeric::min(c, &x, axis).await?],
                    Op::Argmin(axis) => {
                        let (m, i) = numeric::argmin(c, &x, axis).await?;
                        vec![m, i]
                    }
                    Op::Sum(axis) => vec![numeric::sum(&x, axis)?],
                    Op::Mean(axis) => vec![numeric::mean(c, &x, axis).await?],
                    Op::Variance(axis) => vec![numeric::variance(c, &x, axis).await?],
                    Op::Broadcast(op) => vec![numeric::broadcast(c, &x, &y, op).await?],
                })
            })
            .await?;
        seconds.push(t.elapsed().as_secs_f64());
        for r in &results {
            out.push(p.open(r).await?);
        }
    }
    Ok((out, seconds))
}

type Outcome<R> = Result<(Vec<Vec<R>>, Vec<f64>), Error>;

/// Both parties' outcomes, checked equal; P0's.
fn agree<R: Ring>(a: Outcome<R>, b: Outcome<R>) -> (Vec<Vec<R>>, Vec<f64>) {
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.0, b.0, "both parties open the same values");
    (a.0, a.1)
}

/// Runs the jobs in `topo` over ring `R`; returns the opened results and each job's seconds.
fn run<R: Ring>(
    topo: Topo,
    config: Config,
    tag: u64,
    jobs: Vec<Job<R>>,
) -> (Vec<Vec<R>>, Vec<f64>) {
    let jobs = Arc::new(jobs);
    let (p0_p1, p1_p0) = duplex();
    match topo {
        Topo::Dealer => {
            let (d0, c0) = duplex();
            let (d1, c1) = duplex();
            let dealer = thread::spawn(move || {
                block_on_thread(Dealer::new(seed(1000 + tag), d0, d1).serve())
            });
            let spawn = |role: Role, peer: MemoryTransport, link: MemoryTransport| {
                let jobs = jobs.clone();
                thread::spawn(move || {
                    block_on_thread(async move {
                        let source = DealerClient::connect(role, link).await?;
                        let s = seed(10 * tag + role.index() as u64);
                        let p: Party<_, _, R> = Party::new(role, peer, source, s, config);
                        compute(p, jobs).await
                    })
                })
            };
            let a = spawn(Role::P0, p0_p1, c0);
            let b = spawn(Role::P1, p1_p0, c1);
            let out = agree(a.join().unwrap(), b.join().unwrap());
            dealer.join().unwrap().unwrap();
            out
        }
        Topo::Ot => {
            let spawn = |role: Role, peer: MemoryTransport| {
                let jobs = jobs.clone();
                thread::spawn(move || {
                    block_on_thread(async move {
                        let i = role.index() as u64;
                        let mut link = Link::new(peer);
                        let source =
                            OtCorrelations::setup(role, &mut link, seed(900 + 10 * tag + i))
                                .await?;
                        let p: Party<_, _, R> =
                            Party::on_link(role, link, source, seed(910 + 10 * tag + i), config);
                        compute(p, jobs).await
                    })
                })
            };
            let a = spawn(Role::P0, p0_p1);
            let b = spawn(Role::P1, p1_p0);
            agree(a.join().unwrap(), b.join().unwrap())
        }
        Topo::Helper => {
            let (p2_p0, p0_p2) = duplex();
            let (p2_p1, p1_p2) = duplex();
            let helper = thread::spawn(move || {
                block_on_thread(Dealer::new(seed(2000 + tag), p2_p0, p2_p1).serve())
            });
            let spawn = |role: Role, peer: MemoryTransport, to_helper: MemoryTransport| {
                let jobs = jobs.clone();
                thread::spawn(move || {
                    block_on_thread(async move {
                        let me = PartyId::of(role);
                        let mut links = Links::new(me);
                        links.insert(PartyId::of(role.peer()), Link::new(peer))?;
                        links.insert(PartyId(2), Link::new(to_helper))?;
                        let source = DealerClient::through_helper(role, &mut links).await?;
                        let s = seed(20 * tag + role.index() as u64);
                        let ctx =
                            Context::new(Topology::ThreeServers, me, links, source, s, config)?;
                        let p: Party<_, _, R> = Party::from_context(ctx)?;
                        compute(p, jobs).await
                    })
                })
            };
            let a = spawn(Role::P0, p0_p1, p0_p2);
            let b = spawn(Role::P1, p1_p0, p1_p2);
            let out = agree(a.join().unwrap(), b.join().unwrap());
            helper.join().unwrap().unwrap();
            out
        }
        Topo::Four => {
            let (a, b) =
                common::run_four::<R, _, _, _>(config, tag, move |p| compute(p, jobs.clone()));
            agree(a, b)
        }
    }
}

/// The documented bound `|y - f(x)| <= rel |f(x)| + ulps ulp`.
#[derive(Clone, Copy, Debug)]
struct Bound {
    rel: f64,
    ulps: f64,
}

/// Test points and the `f64` function for one numeric function in one ring and format.
struct Case {
    name: &'static str,
    op: Op,
    /// Inputs (as encoded and decoded again, so that the reference sees what the parties see).
    x: Vec<f64>,
    /// Second operand (division), same length, or empty.
    y: Vec<f64>,
    f: fn(f64, f64) -> f64,
    bound: Bound,
}

/// `n` points over `[2^lo, 2^hi]`: both ends, every power of two and its neighbours one ulp
/// away, the rest log-uniform.
fn octave_points(rng: &mut TestRng, n: usize, o: Octaves, fixed: FixedPoint) -> Vec<f64> {
    let ulp = fixed.ulp();
    let mut v = Vec::new();
    for e in o.lo..=o.hi {
        let p = libm::ldexp(1.0, e);
        v.extend([p, p - ulp, p + ulp]);
    }
    v.retain(|&t| t >= libm::ldexp(1.0, o.lo) && t <= libm::ldexp(1.0, o.hi));
    while v.len() < n {
        v.push(libm::exp2(rng.uniform(o.lo as f64, o.hi as f64)));
    }
    v
}

/// `n` points over `[lo, hi]`: both ends, 0 if inside, the rest uniform.
fn uniform_points(rng: &mut TestRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut v = vec![lo, hi];
    if lo < 0.0 && hi > 0.0 {
        v.push(0.0);
    }
    while v.len() < n {
        v.push(rng.uniform(lo, hi));
    }
    v
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// The error bounds of the module docs for format `f` in ring `R`.
fn cases<R: Ring>(topo: Topo, fixed: FixedPoint, main: usize, n: usize, tag: u64) -> Vec<Case> {
    let f = fixed.frac_bits();
    let wide = R::BITS == 128;
    let rel = |bits: u32| libm::ldexp(1.0, -(bits as i32));
    let mut rng = TestRng(0xc0ffee ^ tag);
    let o = Octaves::default_for(fixed);
    let (elo, ehi) = numeric::exp_range::<R>(fixed);
    let big = libm::ldexp(1.0, (R::BITS - f - 3) as i32);
    let mut saturating = uniform_points(&mut rng, main, -40.0, 40.0);
    saturating.extend([-big, big, 1000.0, -1000.0, fixed.ulp(), -fixed.ulp()]);
    let mut tanh_points = uniform_points(&mut rng, n, -20.0, 20.0);
    tanh_points.extend([-big, big, fixed.ulp(), -fixed.ulp()]);
    let quotients = octave_points(&mut rng, n, o, fixed);
    let dividends = uniform_points(&mut rng, quotients.len(), -4.0, 4.0);
    vec![
        Case {
            name: "reciprocal",
            op: Op::Reciprocal,
            x: octave_points(&mut rng, main, o, fixed),
            y: vec![],
            f: |x, _| 1.0 / x,
            bound: Bound {
                rel: rel(f + 2),
                ulps: 3.0,
            },
        },
        Case {
            name: "div",
            op: Op::Div,
            x: dividends,
            y: quotients,
            f: |x, y| x / y,
            bound: Bound {
                rel: rel(f + 2),
                ulps: 1.0,
            },
        },
        Case {
            name: "exp",
            op: Op::Exp,
            x: uniform_points(&mut rng, main, elo, ehi),
            y: vec![],
            f: |x, _| libm::exp(x),
            bound: Bound {
                rel: if wide { rel(28) } else { rel(13) },
                ulps: 6.0,
            },
        },
        Case {
            name: "log",
            op: Op::Log,
            x: octave_points(&mut rng, n, o, fixed),
            y: vec![],
            f: |x, _| libm::log(x),
            bound: Bound {
                rel: 0.0,
                // Four servers' spline products lie up to 4 ulp below the floor.
                ulps: if topo == Topo::Four { 8.0 } else { 4.0 },
            },
        },
        Case {
            name: "sqrt",
            op: Op::Sqrt,
            x: octave_points(&mut rng, n, o, fixed),
            y: vec![],
            f: |x, _| libm::sqrt(x),
            bound: Bound {
                rel: 0.0,
                ulps: 2.0,
            },
        },
        Case {
            name: "inv_sqrt",
            op: Op::InvSqrt,
            x: octave_points(&mut rng, n, o, fixed),
            y: vec![],
            f: |x, _| 1.0 / libm::sqrt(x),
            bound: Bound {
                rel: rel(f - 1),
                ulps: 3.0,
            },
        },
        Case {
            name: "logistic",
            op: Op::Logistic,
            x: saturating,
            y: vec![],
            f: |x, _| logistic(x),
            bound: Bound {
                rel: 0.0,
                ulps: 3.0,
            },
        },
        Case {
            name: "tanh",
            op: Op::Tanh,
            x: tanh_points,
            y: vec![],
            f: |x, _| libm::tanh(x),
            bound: Bound {
                rel: 0.0,
                ulps: 6.0,
            },
        },
        Case {
            name: "logistic_euler(100)",
            op: Op::Euler(100),
            x: uniform_points(&mut rng, (n / 10).max(50), -10.0, 10.0),
            y: vec![],
            f: |x, _| logistic(x),
            bound: Bound {
                rel: 0.0,
                ulps: 0.12 / 100.0 * libm::ldexp(1.0, f as i32) + 4.0,
            },
        },
    ]
}

/// Encodes, runs and checks every function on [`POINTS`] points in `topo`; prints one line per
/// function.
fn check_cases<R: Ring>(topo: Topo, fixed: FixedPoint, tag: u64) {
    let config = Config {
        fixed,
        ..Config::default()
    };
    let cases = cases::<R>(topo, fixed, POINTS, POINTS, tag);
    check_cases_with::<R>(topo, config, tag, cases);
}

/// [`check_cases`] with any session settings.
fn check_cases_with<R: Ring>(topo: Topo, config: Config, tag: u64, cases: Vec<Case>) {
    let fixed = config.fixed;
    let enc = |v: &[f64]| -> Vec<R> { v.iter().map(|&t| fixed.encode(t).unwrap()).collect() };
    let jobs: Vec<Job<R>> = cases
        .iter()
        .map(|c| {
            let mut job = Job::unary(c.op, enc(&c.x));
            if !c.y.is_empty() {
                job.y = enc(&c.y);
                job.y_shape = job.shape;
            }
            job
        })
        .collect();
    let t = Instant::now();
    let (out, seconds) = run(topo, config, tag, jobs);
    let ulp = fixed.ulp();
    for ((case, got), secs) in cases.iter().zip(&out).zip(&seconds) {
        let (mut max_rel, mut sum_rel, mut max_ulps, mut rel_count) = (0.0f64, 0.0, 0.0f64, 0);
        // The smallest relative term that the documented absolute term leaves room for.
        let mut needs_rel = 0.0f64;
        for (i, &g) in got.iter().enumerate() {
            let x = fixed.decode(fixed.encode::<R>(case.x[i]).unwrap());
            let y = case
                .y
                .get(i)
                .map_or(0.0, |&v| fixed.decode(fixed.encode::<R>(v).unwrap()));
            let want = (case.f)(x, y);
            let have = fixed.decode(g);
            let err = (have - want).abs();
            let allowed = case.bound.rel * want.abs() + case.bound.ulps * ulp;
            let extra = if case.op == Op::Div {
                3.0 * x.abs() * ulp
            } else {
                0.0
            };
            assert!(
                err <= allowed + extra,
                "{topo:?} Z_2^{} f={}: {} at x = {x} (y = {y}): got {have}, want {want}, error {err:.3e} > {:.3e}",
                R::BITS,
                fixed.frac_bits(),
                case.name,
                allowed + extra
            );
            max_ulps = max_ulps.max(err / ulp);
            if want != 0.0 {
                needs_rel = needs_rel.max((err - case.bound.ulps * ulp - extra) / want.abs());
            }
            if want.abs() >= 64.0 * ulp {
                let rel = err / want.abs();
                max_rel = max_rel.max(rel);
                sum_rel += rel;
                rel_count += 1;
            }
        }
        println!(
            "{topo:?} Z_2^{} f={} {:>20}: {:>6} points, max rel {:.2e}, mean rel {:.2e} (where |f| >= 64 ulp), max abs {:.2} ulp; r >= 2^{:.1} at a = {} ulp; {:.2} s",
            R::BITS,
            fixed.frac_bits(),
            case.name,
            got.len(),
            max_rel,
            sum_rel / rel_count.max(1) as f64,
            max_ulps,
            libm::log2(needs_rel.max(1e-300)),
            case.bound.ulps,
            secs
        );
    }
    println!(
        "{topo:?} Z_2^{}: {:.1} s in all",
        R::BITS,
        t.elapsed().as_secs_f64()
    );
}

const F16: FixedPoint = match FixedPoint::new(16) {
    Ok(f) => f,
    Err(_) => panic!("16 fractional bits are valid"),
};
const F32: FixedPoint = match FixedPoint::new(32) {
    Ok(f) => f,
    Err(_) => panic!("32 fractional bits are valid"),
};

/// Points per function in every topology and ring (Euler's logistic, 100 products a point, runs on
/// a tenth). The garbled circuits of two servers with OT take most of the file's time: about
/// 100 s in Z_2^64 and 300 s in Z_2^128 on this project's two quiet cores.
const POINTS: usize = 100_000;

#[test]
fn functions_with_the_dealer_fss_z64() {
    check_cases::<u64>(Topo::Dealer, F16, 1);
}

#[test]
fn functions_with_the_dealer_fss_z128() {
    check_cases::<u128>(Topo::Dealer, F32, 2);
}

#[test]
fn functions_with_ot_garbled_circuits_z64() {
    check_cases::<u64>(Topo::Ot, F16, 3);
}

#[test]
fn functions_with_ot_garbled_circuits_z128() {
    check_cases::<u128>(Topo::Ot, F32, 4);
}

#[test]
fn functions_with_three_servers_helper_z64() {
    check_cases::<u64>(Topo::Helper, F16, 5);
}

#[test]
fn functions_with_three_servers_helper_z128() {
    check_cases::<u128>(Topo::Helper, F32, 6);
}

#[test]
fn functions_with_four_servers_z64() {
    check_cases::<u64>(Topo::Four, F16, 7);
}

#[test]
fn functions_with_four_servers_z128() {
    check_cases::<u128>(Topo::Four, F32, 8);
}

/// Selection, equality, minimum and its index, reductions and broadcasting against the plaintext
/// fixed-point reference in `topo` over ring `R`: exact where the protocol is exact, within the
/// documented ulps where a truncation rounds (`products` false leaves out what needs products,
/// for Z_2^32 whose local truncation fails too often).
fn check_exact<R: Ring>(topo: Topo, fixed: FixedPoint, tag: u64, products: bool) {
    let f = fixed.frac_bits();
    let one = R::ONE.shl(f);
    let mut rng = TestRng(0xe8ac7 ^ tag);
    let enc = |v: f64| -> R { fixed.encode(v).unwrap() };
    let (rows, cols) = (13, 17);
    let n = rows * cols;
    // Values with ties: small integers and halves among uniform ones.
    let m: Vec<R> = (0..n)
        .map(|i| {
            if i % 3 == 0 {
                enc((rng.next_u64() % 7) as f64 * 0.5 - 1.5)
            } else {
                enc(rng.uniform(-50.0, 50.0))
            }
        })
        .collect();
    let x: Vec<R> = (0..n).map(|_| enc(rng.uniform(-100.0, 100.0))).collect();
    let y: Vec<R> = x
        .iter()
        .map(|&v| {
            if rng.next_u64().is_multiple_of(3) {
                v
            } else {
                enc(rng.uniform(-100.0, 100.0))
            }
        })
        .collect();
    let c: Vec<R> = (0..n)
        .map(|_| {
            if rng.next_u64().is_multiple_of(2) {
                one
            } else {
                R::ZERO
            }
        })
        .collect();
    let row: Vec<R> = (0..cols).map(|_| enc(rng.uniform(-4.0, 4.0))).collect();
    let col: Vec<R> = (0..rows).map(|_| enc(rng.uniform(-4.0, 4.0))).collect();
    let scalar = vec![enc(rng.uniform(-4.0, 4.0))];
    let axes = [Axis::PerRow, Axis::PerColumn, Axis::All];
    let job = |op: Op, x: &[R], y: &[R], y_shape: (usize, usize)| Job {
        op,
        x: x.to_vec(),
        y: y.to_vec(),
        z: Vec::new(),
        shape: (rows, cols),
        y_shape,
    };
    let mut jobs = vec![job(Op::Equal, &x, &y, (rows, cols))];
    for axis in axes {
        jobs.push(job(Op::Sum(axis), &m, &[], (0, 0)));
        jobs.push(job(Op::Min(axis), &m, &[], (0, 0)));
        jobs.push(job(Op::Argmin(axis), &m, &[], (0, 0)));
    }
    let vectors = [
        (row.clone(), (1, cols)),
        (col.clone(), (rows, 1)),
        (scalar.clone(), (1, 1)),
    ];
    for (v, shape) in &vectors {
        for op in [Broadcast::Add, Broadcast::Sub] {
            jobs.push(job(Op::Broadcast(op), &x, v, *shape));
        }
    }
    if products {
        let mut select = job(Op::Select, &c, &x, (rows, cols));
        select.z = y.clone();
        jobs.push(select);
        for axis in axes {
            jobs.push(job(Op::Mean(axis), &m, &[], (0, 0)));
            jobs.push(job(Op::Variance(axis), &m, &[], (0, 0)));
        }
        for (v, shape) in &vectors {
            jobs.push(job(Op::Broadcast(Broadcast::Mul), &x, v, *shape));
        }
    }
    let config = Config {
        fixed,
        ..Config::default()
    };
    let (out, _) = run(topo, config, tag, jobs.clone());
    let signed = |v: R| v.to_signed();
    // The matrix `m` as lines along `axis`, row-major within a line.
    let lines = |axis: Axis| -> Vec<Vec<R>> {
        match axis {
            Axis::PerRow => m.chunks(cols).map(|r| r.to_vec()).collect(),
            Axis::PerColumn => (0..cols)
                .map(|j| (0..rows).map(|i| m[i * cols + j]).collect())
                .collect(),
            Axis::All => vec![m.clone()],
        }
    };
    let expanded = |v: &[R], shape: (usize, usize)| -> Vec<R> {
        (0..n)
            .map(|k| match shape {
                (1, 1) => v[0],
                (1, _) => v[k % cols],
                _ => v[k / cols],
            })
            .collect()
    };
    let what = format!("{topo:?} Z_2^{}", R::BITS);
    let mut results = out.into_iter();
    let mut next = || results.next().unwrap();
    for job in &jobs {
        let got = next();
        match job.op {
            Op::Equal => {
                let want: Vec<R> = x
                    .iter()
                    .zip(&y)
                    .map(|(a, b)| if a == b { one } else { R::ZERO })
                    .collect();
                assert_eq!(got, want, "{what}: equal");
            }
            Op::Sum(axis) => {
                let want: Vec<R> = lines(axis)
                    .iter()
                    .map(|l| l.iter().fold(R::ZERO, |a, &v| a.add(v)))
                    .collect();
                assert_eq!(got, want, "{what}: sum {axis:?}");
            }
            Op::Min(axis) => {
                let want: Vec<R> = lines(axis)
                    .iter()
                    .map(|l| *l.iter().min_by_key(|&&v| signed(v)).unwrap())
                    .collect();
                assert_eq!(got, want, "{what}: min {axis:?}");
            }
            Op::Argmin(axis) => {
                let index = next();
                for (i, l) in lines(axis).iter().enumerate() {
                    let low = l.iter().map(|&v| signed(v)).min().unwrap();
                    let first = l.iter().position(|&v| signed(v) == low).unwrap();
                    assert_eq!(signed(got[i]), low, "{what}: argmin's minimum {axis:?}");
                    assert_eq!(
                        index[i],
                        R::from_u64(first as u64).shl(f),
                        "{what}: argmin {axis:?}"
                    );
                }
            }
            Op::Broadcast(op) => {
                let v = expanded(&job.y, job.y_shape);
                for (k, (&a, &b)) in x.iter().zip(&v).enumerate() {
                    let g = got[k];
                    match op {
                        Broadcast::Add => {
                            assert_eq!(g, a.add(b), "{what}: broadcast add {:?}", job.y_shape)
                        }
                        Broadcast::Sub => {
                            assert_eq!(g, a.sub(b), "{what}: broadcast sub {:?}", job.y_shape)
                        }
                        Broadcast::Mul => {
                            let d = g.sub(fixed.mul_reference(a, b)).to_signed();
                            assert!(
                                d.abs() <= 1,
                                "{what}: broadcast mul {:?} off by {d}",
                                job.y_shape
                            );
                        }
                    }
                }
            }
            Op::Select => {
                let want: Vec<R> = (0..n)
                    .map(|k| if c[k] == one { x[k] } else { y[k] })
                    .collect();
                assert_eq!(got, want, "{what}: select");
            }
            Op::Mean(axis) => {
                for (i, l) in lines(axis).iter().enumerate() {
                    let s: i128 = l.iter().map(|&v| signed(v)).sum();
                    let len = l.len() as i128;
                    // |got - s / len| <= 2 ulp, in integers.
                    let d = signed(got[i]) * len - s;
                    assert!(
                        d.abs() <= 2 * len,
                        "{what}: mean {axis:?} off by {} ulp",
                        d as f64 / len as f64
                    );
                }
            }
            Op::Variance(axis) => {
                for (i, l) in lines(axis).iter().enumerate() {
                    let v: Vec<f64> = l.iter().map(|&t| fixed.decode(t)).collect();
                    let mu = v.iter().sum::<f64>() / v.len() as f64;
                    let var = v.iter().map(|t| (t - mu) * (t - mu)).sum::<f64>() / v.len() as f64;
                    let dev = v.iter().map(|t| (t - mu).abs()).fold(0.0, f64::max);
                    let err = (fixed.decode(got[i]) - var).abs() / fixed.ulp();
                    assert!(
                        err <= 4.0 * dev + 5.0,
                        "{what}: variance {axis:?} off by {err} ulp"
                    );
                }
            }
            _ => unreachable!(),
        }
    }
    println!(
        "{what}: selection, equality, min/argmin, reductions and broadcasting as the reference"
    );
}

#[test]
fn selection_reductions_and_broadcasting_match_the_reference() {
    for topo in [Topo::Dealer, Topo::Ot, Topo::Helper, Topo::Four] {
        check_exact::<u64>(topo, F16, 20, true);
        check_exact::<u128>(topo, F32, 21, true);
    }
    // Z_2^32 with 8 fractional bits: what needs no truncated product.
    let f8 = FixedPoint::new(8).unwrap();
    check_exact::<u32>(Topo::Dealer, f8, 22, false);
}

/// A party of two servers with the dealer, over ring `R`.
type DealerParty<R> = Party<MemoryTransport, DealerClient<MemoryTransport>, R>;

/// Runs `body` as both parties with the dealer over ring `R`; returns P0's result.
fn dealer_pair<R: Ring, V: Send + 'static, Fut: std::future::Future<Output = Result<V, Error>>>(
    config: Config,
    tag: u64,
    body: impl Fn(DealerParty<R>) -> Fut + Send + Clone + 'static,
) -> V {
    let (p0_p1, p1_p0) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(3000 + tag), d0, d1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, link: MemoryTransport| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let source = DealerClient::connect(role, link).await?;
                let s = seed(30 * tag + role.index() as u64);
                body(Party::new(role, peer, source, s, config)).await
            })
        })
    };
    let a = spawn(Role::P0, p0_p1, c0);
    let b = spawn(Role::P1, p1_p0, c1);
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    b.unwrap();
    let _ = dealer.join().unwrap();
    a.unwrap()
}

/// The kind of `r`'s error, and that the party is still ready (nothing was sent).
fn refused<V>(p: &DealerParty<impl Ring>, r: Result<V, Error>, what: &str) -> ErrorKind {
    let e = r
        .err()
        .unwrap_or_else(|| panic!("{what}: expected an error"));
    assert!(
        matches!(p.state(), State::Ready),
        "{what}: the party stays usable"
    );
    e.kind().clone()
}

#[test]
fn public_arguments_out_of_range_are_refused() {
    let config = Config {
        fixed: F16,
        ..Config::default()
    };
    dealer_pair::<u64, _, _>(config, 40, |mut p| async move {
        let role = p.role();
        let x = split(role, &[1u64 << 16; 6], (2, 3), 1);
        let col = split(role, &[1u64 << 16; 3], (3, 1), 2);
        let empty = split::<u64>(role, &[], (2, 0), 3);
        let bad_octaves = [
            Octaves { lo: 0, hi: 0 },
            Octaves { lo: 3, hi: -3 },
            Octaves { lo: -17, hi: 4 },
            Octaves { lo: -4, hi: 17 },
            Octaves { lo: -9, hi: 8 },
        ];
        for o in bad_octaves {
            let invalid = |k: ErrorKind| matches!(k, ErrorKind::InvalidArgument(_));
            let r = p
                .run("t", async |c| numeric::reciprocal_in(c, &x, o).await)
                .await;
            assert!(invalid(refused(&p, r, "reciprocal_in")), "{o:?}");
            let r = p
                .run("t", async |c| numeric::div_in(c, &x, &x, o).await)
                .await;
            assert!(invalid(refused(&p, r, "div_in")), "{o:?}");
            let r = p.run("t", async |c| numeric::log_in(c, &x, o).await).await;
            assert!(invalid(refused(&p, r, "log_in")), "{o:?}");
            let r = p.run("t", async |c| numeric::sqrt_in(c, &x, o).await).await;
            assert!(invalid(refused(&p, r, "sqrt_in")), "{o:?}");
            let r = p
                .run("t", async |c| numeric::inv_sqrt_in(c, &x, o).await)
                .await;
            assert!(invalid(refused(&p, r, "inv_sqrt_in")), "{o:?}");
        }
        // The square root recomputes x as a square: its top end is lower than the others'.
        let high = Octaves { lo: -8, hi: 12 };
        let r = p
            .run("t", async |c| numeric::sqrt_in(c, &x, high).await)
            .await;
        assert!(matches!(
            refused(&p, r, "sqrt_in"),
            ErrorKind::InvalidArgument(_)
        ));
        for steps in [0, numeric::EULER_MAX_STEPS + 1] {
            let r = p
                .run("t", async |c| numeric::logistic_euler(c, &x, steps).await)
                .await;
            assert!(matches!(
                refused(&p, r, "euler"),
                ErrorKind::InvalidArgument(_)
            ));
        }
        let r = p.run("t", async |c| numeric::div(c, &x, &col).await).await;
        assert!(matches!(
            refused(&p, r, "div"),
            ErrorKind::DimensionMismatch { .. }
        ));
        let r = p
            .run("t", async |c| numeric::select(c, &col, &x, &x).await)
            .await;
        assert!(matches!(
            refused(&p, r, "select"),
            ErrorKind::DimensionMismatch { .. }
        ));
        let r = p
            .run("t", async |c| numeric::select(c, &x, &x, &col).await)
            .await;
        assert!(matches!(
            refused(&p, r, "select"),
            ErrorKind::DimensionMismatch { .. }
        ));
        let wrong = split(role, &[0u64; 2], (2, 1), 4);
        let r = p
            .run("t", async |c| {
                numeric::broadcast(c, &x, &wrong.transpose(), Broadcast::Mul).await
            })
            .await;
        assert!(matches!(
            refused(&p, r, "broadcast"),
            ErrorKind::InvalidArgument(_)
        ));
        for axis in [Axis::PerRow, Axis::All] {
            assert!(matches!(
                numeric::sum(&empty, axis).unwrap_err().kind(),
                ErrorKind::InvalidArgument(_)
            ));
            let r = p
                .run("t", async |c| numeric::mean(c, &empty, axis).await)
                .await;
            assert!(matches!(
                refused(&p, r, "mean"),
                ErrorKind::InvalidArgument(_)
            ));
            let r = p
                .run("t", async |c| numeric::variance(c, &empty, axis).await)
                .await;
            assert!(matches!(
                refused(&p, r, "variance"),
                ErrorKind::InvalidArgument(_)
            ));
            let r = p
                .run("t", async |c| numeric::min(c, &empty, axis).await)
                .await;
            assert!(matches!(
                refused(&p, r, "min"),
                ErrorKind::InvalidArgument(_)
            ));
            let r = p
                .run("t", async |c| numeric::argmin(c, &empty, axis).await)
                .await;
            assert!(matches!(
                refused(&p, r, "argmin"),
                ErrorKind::InvalidArgument(_)
            ));
        }
        // After every refusal the session still computes.
        let r = p
            .run("t", async |c| numeric::reciprocal(c, &x).await)
            .await?;
        assert_eq!(p.open(&r).await?, vec![1u64 << 16; 6]);
        Ok(())
    });
    // Formats the functions cannot work in: Z_2^32, too few or too many fractional bits.
    let z32 = Config {
        fixed: FixedPoint::new(8).unwrap(),
        ..Config::default()
    };
    dealer_pair::<u32, _, _>(z32, 41, |mut p| async move {
        let x = split(p.role(), &[1u32 << 8; 4], (4, 1), 5);
        let r = p.run("t", async |c| numeric::exp(c, &x).await).await;
        assert!(matches!(
            refused(&p, r, "exp z32"),
            ErrorKind::Unsupported(_)
        ));
        let r = p.run("t", async |c| numeric::reciprocal(c, &x).await).await;
        assert!(matches!(
            refused(&p, r, "reciprocal z32"),
            ErrorKind::Unsupported(_)
        ));
        Ok(())
    });
    for f in [4, 21] {
        let config = Config {
            fixed: FixedPoint::new(f).unwrap(),
            ..Config::default()
        };
        dealer_pair::<u64, _, _>(config, 42 + u64::from(f), move |mut p| async move {
            let x = split(p.role(), &[1u64 << f; 4], (4, 1), 6);
            for op in ["exp", "log", "logistic", "tanh", "sqrt"] {
                let r = p
                    .run("t", async |c| match op {
                        "exp" => numeric::exp(c, &x).await,
                        "log" => numeric::log(c, &x).await,
                        "logistic" => numeric::logistic(c, &x).await,
                        "tanh" => numeric::tanh(c, &x).await,
                        _ => numeric::sqrt(c, &x).await,
                    })
                    .await;
                assert!(
                    matches!(refused(&p, r, op), ErrorKind::InvalidArgument(_)),
                    "{op} with f = {f}"
                );
            }
            Ok(())
        });
    }
}

/// What the documentation says happens outside the ranges, with the dealer in Z_2^64.
#[test]
fn inputs_outside_the_range_behave_as_documented() {
    let config = Config {
        fixed: F16,
        ..Config::default()
    };
    let o = Octaves::default_for(F16);
    let low = libm::ldexp(1.0, o.lo);
    let high = libm::ldexp(1.0, o.hi);
    // As the parties see them (encoded and decoded).
    let seen = |v: f64| F16.decode(F16.encode::<u64>(v).unwrap());
    let below = [low / 16.0, low / 2.0, low * 0.9].map(seen);
    let above = [high * 1.1, high * 4.0, 1000.0].map(seen);
    let values: Vec<f64> = below.iter().chain(&above).copied().collect();
    let (le, he) = numeric::exp_range::<u64>(F16);
    let exp_above = [he + 0.5, 7.0].map(seen);
    let out = dealer_pair::<u64, _, _>(config, 50, move |mut p| {
        let values = values.clone();
        async move {
            let role = p.role();
            let enc: Vec<u64> = values.iter().map(|&v| F16.encode(v).unwrap()).collect();
            let x = split(role, &enc, (enc.len(), 1), 7);
            let e: Vec<u64> = exp_above.iter().map(|&v| F16.encode(v).unwrap()).collect();
            let ex = split(role, &e, (e.len(), 1), 8);
            let mut out = Vec::new();
            for op in 0..4 {
                let r = p
                    .run("t", async |c| match op {
                        0 => numeric::log(c, &x).await,
                        1 => numeric::reciprocal(c, &x).await,
                        2 => numeric::inv_sqrt(c, &x).await,
                        _ => numeric::exp(c, &ex).await,
                    })
                    .await?;
                out.push(p.reveal(&r).await?);
            }
            Ok(out)
        }
    });
    let ulp = F16.ulp();
    let n = below.len();
    for (i, &v) in out[0].iter().enumerate() {
        // log clamps to the range's ends.
        let end = if i < n { o.lo } else { o.hi };
        assert!(
            (v - end as f64 * core::f64::consts::LN_2).abs() <= 4.0 * ulp,
            "log outside: {v}"
        );
    }
    for (i, x) in below.iter().enumerate() {
        // Below 2^lo the reciprocal and inverse square root lie between the end's value and f(x).
        let (r, s) = (out[1][i], out[2][i]);
        assert!(
            r >= 1.0 / low - 4.0 * ulp && r <= 1.0 / x + 4.0 * ulp,
            "reciprocal below: {r} at {x}"
        );
        let (a, b) = (1.0 / libm::sqrt(low), 1.0 / libm::sqrt(*x));
        assert!(
            s >= a - 4.0 * ulp && s <= b + 4.0 * ulp,
            "inv_sqrt below: {s} at {x}"
        );
    }
    // Above 2^hi and below 2^(hi+1) the reciprocal is still right.
    assert!((out[1][n] - 1.0 / above[0]).abs() <= 4.0 * ulp + 1.0 / above[0] / 4096.0);
    // exp stays right a little above its range (the failure probability only grows).
    for (v, x) in out[3].iter().zip(exp_above) {
        assert!(
            (v - libm::exp(x)).abs() <= libm::exp(x) / 1024.0,
            "exp above: {v} at {x}"
        );
    }
    assert!(le < 0.0);
}

/// Every function under pair-based and exact truncation (each truncation then a round with the
/// dealer, or a garbled circuit): the same bounds, on fewer points.
#[test]
fn functions_under_every_truncation() {
    for (i, truncation) in [fixshare::Truncation::Pairs, fixshare::Truncation::Exact]
        .into_iter()
        .enumerate()
    {
        let config = Config {
            fixed: F16,
            truncation,
            ..Config::default()
        };
        let tag = 60 + i as u64;
        let cases = cases::<u64>(Topo::Dealer, F16, 300, 100, tag);
        check_cases_with::<u64>(Topo::Dealer, config, tag, cases);
    }
}

/// The same values through the [`Party`] methods (Z_2^64) and the [`fixshare::Session`] methods
/// (Z_2^128): every numeric function against `f64` (loosely: the bounds are the
/// main tests' business), selection and the reductions exactly or within their ulps, a refused
/// argument leaving the session usable, a ring mismatch named.
#[test]
fn party_and_session_methods() {
    use fixshare::session::{AnyShares, Offline, Session, SessionConfig};
    let xs = [0.01, 0.5, 1.0, 3.0, 100.0, 200.0];
    let ts = [-6.0, -1.0, 0.0, 0.5, 2.0, 5.0];
    type Fx = fn(f64) -> f64;
    let unary: [(&str, &[f64], Fx); 7] = [
        ("reciprocal", &xs, |x| 1.0 / x),
        ("exp", &ts, libm::exp),
        ("log", &xs, libm::log),
        ("sqrt", &xs, libm::sqrt),
        ("inv_sqrt", &xs, |x| 1.0 / libm::sqrt(x)),
        ("logistic", &ts, logistic),
        ("tanh", &ts, libm::tanh),
    ];
    let check = |name: &str, got: &[f64], inputs: &[f64], f: Fx| {
        for (g, x) in got.iter().zip(inputs) {
            let want = f(*x);
            assert!(
                (g - want).abs() <= 1e-3 * want.abs().max(1.0),
                "{name}({x}) = {g}, want {want}"
            );
        }
    };
    // Party methods, Z_2^64 with the dealer.
    let config = Config {
        fixed: F16,
        ..Config::default()
    };
    let out = dealer_pair::<u64, _, _>(config, 70, move |mut p| async move {
        let role = p.role();
        let enc = |v: &[f64]| -> Vec<u64> { v.iter().map(|&t| F16.encode(t).unwrap()).collect() };
        let x = split(role, &enc(&xs), (6, 1), 1);
        let t = split(role, &enc(&ts), (6, 1), 2);
        let mut out = vec![
            p.reciprocal(&x).await?,
            p.exp(&t).await?,
            p.log(&x).await?,
            p.sqrt(&x).await?,
            p.inv_sqrt(&x).await?,
            p.logistic(&t).await?,
            p.tanh(&t).await?,
        ];
        let o = Octaves { lo: -7, hi: 8 };
        out.push(p.reciprocal_in(&x, o).await?);
        out.push(p.log_in(&x, o).await?);
        out.push(p.sqrt_in(&x, o).await?);
        out.push(p.inv_sqrt_in(&x, o).await?);
        out.push(p.div(&t, &x).await?);
        out.push(p.div_in(&t, &x, o).await?);
        out.push(p.logistic_euler(&t, 100).await?);
        let bits = split(role, &enc(&[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]), (6, 1), 3);
        out.push(p.select(&bits, &x, &t).await?);
        let m = x.clone().reshape(2, 3)?;
        out.push(p.min(&m, Axis::PerRow).await?);
        let (low, at) = p.argmin(&m, Axis::PerColumn).await?;
        out.push(low);
        out.push(at);
        out.push(p.sum(&m, Axis::All)?);
        out.push(p.mean(&m, Axis::PerRow).await?);
        out.push(p.variance(&m, Axis::All).await?);
        let row = split(role, &enc(&[1.0, 2.0, 3.0]), (1, 3), 4);
        out.push(p.broadcast(&m, &row, Broadcast::Add).await?);
        assert!(p.logistic_euler(&t, 0).await.is_err());
        assert!(matches!(p.state(), State::Ready));
        let mut opened = Vec::new();
        for r in &out {
            opened.push(p.reveal(r).await?);
        }
        Ok(opened)
    });
    for (i, (name, inputs, f)) in unary.iter().enumerate() {
        check(name, &out[i], inputs, *f);
        if i < 5 && i != 1 {
            // The `_in` variants over [2^-7, 2^8] (0.01 is below: not compared).
            let j = [7, 0, 8, 9, 10][i];
            check(name, &out[j][1..], &inputs[1..], *f);
        }
    }
    for k in [11, 12] {
        let q: Vec<f64> = ts.iter().zip(&xs).map(|(t, x)| t / x).collect();
        for (g, w) in out[k].iter().zip(&q) {
            assert!((g - w).abs() <= 1e-3 * w.abs().max(1.0), "div: {g} vs {w}");
        }
    }
    check("logistic_euler", &out[13], &ts, |x| logistic(x) + 0.0);
    let seen = |v: f64| F16.decode(F16.encode::<u64>(v).unwrap());
    assert_eq!(
        out[14],
        vec![seen(xs[0]), ts[1], seen(xs[2]), ts[3], ts[4], seen(xs[5])]
    );
    assert_eq!(out[15], vec![seen(0.01), 3.0]);
    assert_eq!(out[16], vec![seen(0.01), seen(0.5), seen(1.0)]);
    assert_eq!(out[17], vec![0.0, 0.0, 0.0]);
    assert!((out[18][0] - xs.iter().sum::<f64>()).abs() < 1e-3);
    assert!((out[19][1] - 101.0).abs() < 1e-3);
    let mu = xs.iter().sum::<f64>() / 6.0;
    let var = xs.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / 6.0;
    assert!((out[20][0] - var).abs() < 1e-2, "{} vs {var}", out[20][0]);
    assert_eq!(out[21][..3], [seen(0.01) + 1.0, seen(0.5) + 2.0, 4.0]);

    // Session methods, Z_2^128 (f = 16) with the dealer: the session picks the ring at run time.
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(seed(71), d0, d1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, link: MemoryTransport| {
        thread::spawn(move || {
            block_on_thread(async move {
                let mut config = SessionConfig::two_servers(role, Offline::Dealer);
                config.ring_bits = 128;
                let mut s =
                    Session::connect(config, seed(72 + role.index() as u64), peer, Some(link))
                        .await?;
                let input = async |s: &mut Session<MemoryTransport>, v: &[f64], rows, cols| {
                    if s.role() == Role::P0 {
                        s.share_input(v, rows, cols).await
                    } else {
                        s.receive_input(rows, cols).await
                    }
                };
                let x = input(&mut s, &xs, 6, 1).await?;
                let t = input(&mut s, &ts, 6, 1).await?;
                let bits = input(&mut s, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 6, 1).await?;
                let mut out: Vec<AnyShares> = vec![
                    s.reciprocal(&x).await?,
                    s.exp(&t).await?,
                    s.log(&x).await?,
                    s.sqrt(&x).await?,
                    s.inv_sqrt(&x).await?,
                    s.logistic(&t).await?,
                    s.tanh(&t).await?,
                ];
                let o = Octaves { lo: -7, hi: 8 };
                out.push(s.reciprocal_in(&x, o.lo, o.hi).await?);
                out.push(s.log_in(&x, o.lo, o.hi).await?);
                out.push(s.sqrt_in(&x, o.lo, o.hi).await?);
                out.push(s.inv_sqrt_in(&x, o.lo, o.hi).await?);
                out.push(s.div(&t, &x).await?);
                out.push(s.div_in(&t, &x, o.lo, o.hi).await?);
                out.push(s.logistic_euler(&t, 50).await?);
                out.push(s.select(&bits, &x, &t).await?);
                out.push(s.equal(&x, &x).await?);
                let m = x.clone().reshape(3, 2)?;
                // Reductions run along rows: transposed or reshaped for the other axes.
                out.push(s.min(&m.clone().reshape(1, 6)?).await?);
                let (low, at) = s.argmin(&m).await?;
                out.push(low);
                out.push(at);
                out.push(s.row_sum(&m.transpose())?);
                out.push(s.row_mean(&m.transpose()).await?);
                out.push(s.row_variance(&m).await?);
                let col = input(&mut s, &[1.0, 2.0, 3.0], 3, 1).await?;
                out.push(s.broadcast_mul(&m, &col).await?);
                // Refused before sending: the session stays usable; a ring mismatch is named.
                assert!(matches!(
                    s.logistic_euler(&t, 0).await.err().unwrap().kind(),
                    ErrorKind::InvalidArgument(_)
                ));
                let wrong = AnyShares::R64(Shares::zeros(6, 1)?);
                assert!(matches!(
                    s.exp(&wrong).await.err().unwrap().kind(),
                    ErrorKind::RingMismatch { .. }
                ));
                assert!(matches!(s.state(), State::Ready));
                let mut opened = Vec::new();
                for r in &out {
                    opened.push(s.reveal(r).await?);
                }
                Ok::<_, Error>(opened)
            })
        })
    };
    let h0 = spawn(Role::P0, a, c0);
    let h1 = spawn(Role::P1, b, c1);
    let (out, other) = (h0.join().unwrap().unwrap(), h1.join().unwrap().unwrap());
    let _ = dealer.join().unwrap();
    assert_eq!(out, other);
    for (i, (name, inputs, f)) in unary.iter().enumerate() {
        check(name, &out[i], inputs, *f);
    }
    for (j, i) in [(7, 0), (8, 2), (9, 3), (10, 4)] {
        check(unary[i].0, &out[j][1..], &unary[i].1[1..], unary[i].2);
    }
    let q: Vec<f64> = ts.iter().zip(&xs).map(|(t, x)| t / x).collect();
    for k in [11, 12] {
        for (g, w) in out[k].iter().zip(&q) {
            assert!((g - w).abs() <= 1e-3 * w.abs().max(1.0), "div: {g} vs {w}");
        }
    }
    for (g, x) in out[13].iter().zip(&ts) {
        assert!((g - logistic(*x)).abs() < 5e-3, "euler({x}) = {g}");
    }
    assert_eq!(out[14], vec![ts[0], xs[1], ts[2], xs[3], xs[4], ts[5]]);
    assert_eq!(out[15], vec![1.0; 6]);
    assert_eq!(out[16], vec![seen(xs[0])]);
    assert_eq!(out[17], vec![seen(xs[0]), xs[2], xs[4]]);
    assert_eq!(out[18], vec![0.0, 0.0, 0.0]);
    assert_eq!(
        out[19],
        vec![seen(xs[0]) + xs[2] + xs[4], xs[1] + xs[3] + xs[5]]
    );
    assert!((out[20][1] - (xs[1] + xs[3] + xs[5]) / 3.0).abs() < 1e-4);
    assert!((out[21][2] - 2500.0).abs() < 1e-3, "{}", out[21][2]);
    assert!((out[22][5] - 600.0).abs() < 1e-3);
}
