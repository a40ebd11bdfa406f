//! Numeric library benchmark ([`fixshare::numeric`]): every function in every topology, all
//! parties as threads in one process over in-memory transports, Z_2^64 with 16 fractional bits.
//!
//! Run with `cargo bench -p fixshare --features std --bench numeric` (optionally followed by
//! `-- N` for N elements; the default is 10^5, and a tenth of that where comparisons run as
//! garbled circuits, two servers with OT; four servers compare with Sa as SecureNN's helper).
//!
//! For each function it prints elements per second (end to end: the dealer or helper serves its
//! correlations while the parties run), the bytes every party sends per element (all links: the
//! peer, the dealer or helper, the assistants and between the assistants), the rounds party 0
//! waits for, the largest error against `f64` (in ulps, and relative where `|f(x)| >= 64 ulp`),
//! the same function in plaintext `f64` on the same inputs in the same run, and the ratio.
//! Reciprocal and `exp` also run as CrypTen computes them (its reciprocal: the guess
//! `3 e^(1-2x) + 0.003` and 3 Newton steps; its exp: `(1 + x/2^9)^(2^9)`), composed of the same
//! primitives, on the same inputs: over the documented ranges, and near 1 and 0 where CrypTen's
//! methods work best (there the reciprocal is told its range: [`numeric::reciprocal_in`] with
//! two octaves).

use fixshare::arith::online;
use fixshare::numeric::{self, Axis, Broadcast, Octaves};
use fixshare::{
    Config, Context, Correlations, Dealer, DealerClient, Error, FixedPoint, Link, Links,
    MemoryTransport, OtCorrelations, Party, PartyId, Role, Seed, Shares, Topology, Transport,
    TransportError, block_on_thread, duplex,
};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

const F: u32 = 16;

fn fixed() -> FixedPoint {
    FixedPoint::new(F).unwrap()
}

fn seed(n: u64) -> Seed {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    Seed::from_bytes(b)
}

/// An in-memory transport that adds what it sends to a counter shared by every party.
struct Counted {
    inner: MemoryTransport,
    sent: Arc<AtomicU64>,
}

impl Transport for Counted {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.sent.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.inner.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.inner.recv(buf).await
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        self.inner.flush().await
    }
}

/// A counted duplex.
fn pair(sent: &Arc<AtomicU64>) -> (Counted, Counted) {
    let (a, b) = duplex();
    let c = |inner| Counted {
        inner,
        sent: sent.clone(),
    };
    (c(a), c(b))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topo {
    Dealer,
    Ot,
    Helper,
    Four,
}

impl Topo {
    fn name(self) -> &'static str {
        match self {
            Topo::Dealer => "two servers + dealer (FSS)",
            Topo::Ot => "two servers, OT (garbled circuits)",
            Topo::Helper => "three servers (SecureNN helper)",
            Topo::Four => "four servers (PrivPy assistants)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Func {
    Reciprocal,
    CryptenReciprocal,
    ReciprocalNear1,
    CryptenReciprocalNear1,
    Div,
    Exp,
    CryptenExp,
    ExpNear0,
    CryptenExpNear0,
    Log,
    Sqrt,
    InvSqrt,
    Logistic,
    Euler,
    Tanh,
    Select,
    Min,
    Argmin,
    Mean,
    Variance,
    BroadcastMul,
}

const FUNCS: [Func; 21] = [
    Func::Reciprocal,
    Func::CryptenReciprocal,
    Func::ReciprocalNear1,
    Func::CryptenReciprocalNear1,
    Func::Div,
    Func::Exp,
    Func::CryptenExp,
    Func::ExpNear0,
    Func::CryptenExpNear0,
    Func::Log,
    Func::Sqrt,
    Func::InvSqrt,
    Func::Logistic,
    Func::Euler,
    Func::Tanh,
    Func::Select,
    Func::Min,
    Func::Argmin,
    Func::Mean,
    Func::Variance,
    Func::BroadcastMul,
];

impl Func {
    fn name(self) -> &'static str {
        match self {
            Func::Reciprocal => "reciprocal",
            Func::CryptenReciprocal => "reciprocal, CrypTen's",
            Func::ReciprocalNear1 => "reciprocal_in [0.5, 1.5]",
            Func::CryptenReciprocalNear1 => "CrypTen's [0.5, 1.5]",
            Func::ExpNear0 => "exp [-2, 2]",
            Func::CryptenExpNear0 => "CrypTen's [-2, 2]",
            Func::Div => "div",
            Func::Exp => "exp",
            Func::CryptenExp => "exp, CrypTen's",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::InvSqrt => "inv_sqrt",
            Func::Logistic => "logistic (exp+recip.)",
            Func::Euler => "logistic_euler(100)",
            Func::Tanh => "tanh",
            Func::Select => "select",
            Func::Min => "min, rows of 10",
            Func::Argmin => "argmin, rows of 10",
            Func::Mean => "mean, rows of 10",
            Func::Variance => "variance, rows of 10",
            Func::BroadcastMul => "broadcast mul (row)",
        }
    }

    /// Inputs per result (the reductions reduce rows of 10).
    fn cols(self) -> usize {
        match self {
            Func::Min | Func::Argmin | Func::Mean | Func::Variance => 10,
            _ => 1,
        }
    }
}

/// The inputs of one function: `x`, and `y`, `z` for the binary and ternary ones.
#[derive(Clone)]
struct Input {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let u = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    }
}

/// The values as the parties see them (encoded, decoded).
fn seen(v: f64) -> f64 {
    fixed().decode(fixed().encode::<u64>(v).unwrap())
}

fn input(func: Func, n: usize, rng: &mut Rng) -> Input {
    let o = Octaves::default_for(fixed());
    let (elo, ehi) = numeric::exp_range::<u64>(fixed());
    let mut octaves = |n| -> Vec<f64> {
        (0..n)
            .map(|_| seen(libm::exp2(rng.uniform(o.lo as f64, o.hi as f64))))
            .collect()
    };
    let x = match func {
        Func::Reciprocal | Func::CryptenReciprocal | Func::Log | Func::Sqrt | Func::InvSqrt => {
            octaves(n)
        }
        Func::Div => octaves(n),
        _ => Vec::new(),
    };
    let mut uniform =
        |n, lo, hi| -> Vec<f64> { (0..n).map(|_| seen(rng.uniform(lo, hi))).collect() };
    match func {
        Func::Exp | Func::CryptenExp => Input {
            x: uniform(n, elo, ehi),
            y: vec![],
            z: vec![],
        },
        Func::ExpNear0 | Func::CryptenExpNear0 => Input {
            x: uniform(n, -2.0, 2.0),
            y: vec![],
            z: vec![],
        },
        Func::ReciprocalNear1 | Func::CryptenReciprocalNear1 => Input {
            x: uniform(n, 0.5, 1.5),
            y: vec![],
            z: vec![],
        },
        Func::Div => Input {
            x: uniform(n, -4.0, 4.0),
            y: x,
            z: vec![],
        },
        Func::Logistic | Func::Tanh => Input {
            x: uniform(n, -20.0, 20.0),
            y: vec![],
            z: vec![],
        },
        Func::Euler => Input {
            x: uniform(n, -10.0, 10.0),
            y: vec![],
            z: vec![],
        },
        Func::Select => Input {
            x: uniform(n, 0.0, 2.0)
                .into_iter()
                .map(|v| v.floor())
                .collect(),
            y: uniform(n, -100.0, 100.0),
            z: uniform(n, -100.0, 100.0),
        },
        // Squared deviations are products: values near 50 would make one local truncation in
        // 10^5 fail in Z_2^64 (see the variance's documentation).
        Func::Min | Func::Argmin | Func::Mean | Func::Variance => Input {
            x: uniform(n, -4.0, 4.0),
            y: vec![],
            z: vec![],
        },
        Func::BroadcastMul => Input {
            x: uniform(n, -100.0, 100.0),
            y: uniform(10, -4.0, 4.0),
            z: vec![],
        },
        _ => Input {
            x,
            y: vec![],
            z: vec![],
        },
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// The function in plaintext `f64`: one value per result.
fn plain(func: Func, inp: &Input) -> Vec<f64> {
    let rows = |k: usize| inp.x.chunks(k);
    match func {
        Func::Reciprocal
        | Func::CryptenReciprocal
        | Func::ReciprocalNear1
        | Func::CryptenReciprocalNear1 => inp.x.iter().map(|x| 1.0 / x).collect(),
        Func::Div => inp.x.iter().zip(&inp.y).map(|(x, y)| x / y).collect(),
        Func::Exp | Func::CryptenExp | Func::ExpNear0 | Func::CryptenExpNear0 => {
            inp.x.iter().map(|&x| libm::exp(x)).collect()
        }
        Func::Log => inp.x.iter().map(|&x| libm::log(x)).collect(),
        Func::Sqrt => inp.x.iter().map(|&x| libm::sqrt(x)).collect(),
        Func::InvSqrt => inp.x.iter().map(|&x| 1.0 / libm::sqrt(x)).collect(),
        Func::Logistic | Func::Euler => inp.x.iter().map(|&x| logistic(x)).collect(),
        Func::Tanh => inp.x.iter().map(|&x| libm::tanh(x)).collect(),
        Func::Select => (0..inp.x.len())
            .map(|i| if inp.x[i] == 1.0 { inp.y[i] } else { inp.z[i] })
            .collect(),
        Func::Min => rows(10)
            .map(|r| r.iter().copied().fold(f64::MAX, f64::min))
            .collect(),
        Func::Argmin => rows(10)
            .map(|r| {
                let m = r.iter().copied().fold(f64::MAX, f64::min);
                r.iter().position(|&v| v == m).unwrap() as f64
            })
            .collect(),
        Func::Mean => rows(10).map(|r| r.iter().sum::<f64>() / 10.0).collect(),
        Func::Variance => rows(10)
            .map(|r| {
                let m = r.iter().sum::<f64>() / 10.0;
                r.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / 10.0
            })
            .collect(),
        Func::BroadcastMul => inp
            .x
            .iter()
            .enumerate()
            .map(|(i, x)| x * inp.y[i % 10])
            .collect(),
    }
}

/// Plaintext results per second: the `f64` function over the inputs, repeated for 50 ms.
fn plain_rate(func: Func, inp: &Input) -> f64 {
    let t = Instant::now();
    let mut reps = 0usize;
    let mut results = 0usize;
    while t.elapsed().as_secs_f64() < 0.05 {
        if func == Func::Euler {
            // PrivPy's Euler method itself, in f64.
            let out: Vec<f64> = inp
                .x
                .iter()
                .map(|&x| {
                    let (mut y, h) = (0.5, x / 100.0);
                    for _ in 0..100 {
                        y += h * y * (1.0 - y);
                    }
                    y
                })
                .collect();
            results += black_box(out).len();
        } else {
            results += black_box(plain(func, black_box(inp))).len();
        }
        reps += 1;
    }
    black_box(reps);
    results as f64 / t.elapsed().as_secs_f64()
}

/// This party's share of public values: P0 holds `v - r`, P1 holds `r`.
fn split(role: Role, v: &[f64], rows: usize, cols: usize, tag: u64) -> Shares<u64> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ tag;
    let data = v
        .iter()
        .map(|&x| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let e: u64 = fixed().encode(x).unwrap();
            match role {
                Role::P0 => e.wrapping_sub(s),
                Role::P1 => s,
            }
        })
        .collect();
    Shares::matrix(rows, cols, data).unwrap()
}

/// CrypTen's exp: `(1 + x / 2^9)^(2^9)`, the division a truncation, then nine squarings.
async fn crypten_exp<T: Transport, C: Correlations<T>>(
    ctx: &mut Context<T, C>,
    x: &Shares<u64>,
) -> Result<Shares<u64>, Error> {
    let scaled = online::truncate(ctx, x.clone(), 9).await?;
    let mut y = online::add_constant(ctx, &scaled, 1.0)?;
    for _ in 0..9 {
        y = online::square(ctx, &y).await?;
    }
    Ok(y)
}

/// CrypTen's reciprocal: `y = 3 e^(1 - 2x) + 0.003` (its exp), then 3 Newton steps
/// `y <- 2 y - x y^2`.
async fn crypten_reciprocal<T: Transport, C: Correlations<T>>(
    ctx: &mut Context<T, C>,
    x: &Shares<u64>,
) -> Result<Shares<u64>, Error> {
    let arg = online::add_constant(ctx, &x.mul_integer(-2), 1.0)?;
    let e = crypten_exp(ctx, &arg).await?;
    let mut y = online::add_constant(ctx, &e.mul_integer(3), 0.003)?;
    for _ in 0..3 {
        let yy = online::square(ctx, &y).await?;
        let xyy = online::mul(ctx, &yy, x).await?;
        y = y.mul_integer(2).sub(&xyy)?;
    }
    Ok(y)
}

/// One function on shares.
async fn secure<T: Transport, C: Correlations<T>>(
    ctx: &mut Context<T, C>,
    func: Func,
    x: &Shares<u64>,
    y: &Shares<u64>,
    z: &Shares<u64>,
) -> Result<Shares<u64>, Error> {
    match func {
        Func::Reciprocal => numeric::reciprocal(ctx, x).await,
        // A known narrow range: two octaves, three breakpoints.
        Func::ReciprocalNear1 => numeric::reciprocal_in(ctx, x, Octaves { lo: -1, hi: 1 }).await,
        Func::CryptenReciprocal | Func::CryptenReciprocalNear1 => crypten_reciprocal(ctx, x).await,
        Func::Div => numeric::div(ctx, x, y).await,
        Func::Exp | Func::ExpNear0 => numeric::exp(ctx, x).await,
        Func::CryptenExp | Func::CryptenExpNear0 => crypten_exp(ctx, x).await,
        Func::Log => numeric::log(ctx, x).await,
        Func::Sqrt => numeric::sqrt(ctx, x).await,
        Func::InvSqrt => numeric::inv_sqrt(ctx, x).await,
        Func::Logistic => numeric::logistic(ctx, x).await,
        Func::Euler => numeric::logistic_euler(ctx, x, 100).await,
        Func::Tanh => numeric::tanh(ctx, x).await,
        Func::Select => numeric::select(ctx, x, y, z).await,
        Func::Min => numeric::min(ctx, x, Axis::PerRow).await,
        Func::Argmin => Ok(numeric::argmin(ctx, x, Axis::PerRow).await?.1),
        Func::Mean => numeric::mean(ctx, x, Axis::PerRow).await,
        Func::Variance => numeric::variance(ctx, x, Axis::PerRow).await,
        Func::BroadcastMul => numeric::broadcast(ctx, x, y, Broadcast::Mul).await,
    }
}

/// What party 0 measured for one function.
struct Measure {
    seconds: f64,
    bytes: u64,
    rounds: u64,
    values: Vec<f64>,
}

/// Runs every function in turn as one party; both parties meet at a barrier around each one.
async fn party<T: Transport, C: Correlations<T>>(
    mut p: Party<T, C, u64>,
    inputs: Arc<Vec<Input>>,
    barrier: Arc<Barrier>,
    sent: Arc<AtomicU64>,
) -> Result<Vec<Measure>, Error> {
    let role = p.role();
    let mut out = Vec::new();
    for (i, (&func, inp)) in FUNCS.iter().zip(inputs.iter()).enumerate() {
        let tag = 3 * i as u64;
        let cols = func.cols();
        let x = split(role, &inp.x, inp.x.len() / cols, cols, tag);
        let y = match func {
            Func::BroadcastMul => split(role, &inp.y, 1, 10, tag + 1),
            _ => split(role, &inp.y, inp.y.len(), 1, tag + 1),
        };
        let z = split(role, &inp.z, inp.z.len(), 1, tag + 2);
        let (x, y, z) = if func == Func::BroadcastMul {
            (x.reshape(inp.x.len() / 10, 10)?, y, z)
        } else {
            (x, y, z)
        };
        let rounds = |p: &mut Party<T, C, u64>| {
            p.stats().rounds + p.context_mut().source().own_stats().rounds
        };
        barrier.wait();
        let (bytes0, rounds0, t) = (sent.load(Ordering::Relaxed), rounds(&mut p), Instant::now());
        let r = p
            .run("bench", async |c| secure(c, func, &x, &y, &z).await)
            .await?;
        barrier.wait();
        let seconds = t.elapsed().as_secs_f64();
        let (bytes, rounds) = (
            sent.load(Ordering::Relaxed) - bytes0,
            rounds(&mut p) - rounds0,
        );
        let values = p.reveal(&r).await?;
        out.push(Measure {
            seconds,
            bytes,
            rounds,
            values,
        });
    }
    Ok(out)
}

/// Runs every function in `topo` on `inputs`; returns party 0's measures.
fn run(topo: Topo, inputs: Vec<Input>) -> Vec<Measure> {
    let config = Config {
        fixed: fixed(),
        ..Config::default()
    };
    let inputs = Arc::new(inputs);
    let sent = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(2));
    let (p0_p1, p1_p0) = pair(&sent);
    let mut helpers = Vec::new();
    let (a, b) = match topo {
        Topo::Dealer | Topo::Helper => {
            let (d0, c0) = pair(&sent);
            let (d1, c1) = pair(&sent);
            helpers.push(thread::spawn(move || {
                block_on_thread(Dealer::new(seed(99), d0, d1).serve()).map(|_| ())
            }));
            let spawn = |role: Role, peer: Counted, link: Counted| {
                let (inputs, barrier, sent) = (inputs.clone(), barrier.clone(), sent.clone());
                thread::spawn(move || {
                    block_on_thread(async move {
                        let s = seed(role.index() as u64);
                        if topo == Topo::Dealer {
                            let source = DealerClient::connect(role, link).await?;
                            let p = Party::new(role, peer, source, s, config);
                            party(p, inputs, barrier, sent).await
                        } else {
                            let me = PartyId::of(role);
                            let mut links = Links::new(me);
                            links.insert(PartyId::of(role.peer()), Link::new(peer))?;
                            links.insert(PartyId(2), Link::new(link))?;
                            let source = DealerClient::through_helper(role, &mut links).await?;
                            let ctx =
                                Context::new(Topology::ThreeServers, me, links, source, s, config)?;
                            party(Party::from_context(ctx)?, inputs, barrier, sent).await
                        }
                    })
                })
            };
            (spawn(Role::P0, p0_p1, c0), spawn(Role::P1, p1_p0, c1))
        }
        Topo::Ot => {
            let spawn = |role: Role, peer: Counted| {
                let (inputs, barrier, sent) = (inputs.clone(), barrier.clone(), sent.clone());
                thread::spawn(move || {
                    block_on_thread(async move {
                        let i = role.index() as u64;
                        let mut link = Link::new(peer);
                        let source = OtCorrelations::setup(role, &mut link, seed(10 + i)).await?;
                        let p = Party::on_link(role, link, source, seed(20 + i), config);
                        party(p, inputs, barrier, sent).await
                    })
                })
            };
            (spawn(Role::P0, p0_p1), spawn(Role::P1, p1_p0))
        }
        Topo::Four => {
            use fixshare::assist::{Assistant, SA, SB, primary};
            let (s1_sa, sa_s1) = pair(&sent);
            let (s1_sb, sb_s1) = pair(&sent);
            let (s2_sa, sa_s2) = pair(&sent);
            let (s2_sb, sb_s2) = pair(&sent);
            let (sa_sb, sb_sa) = pair(&sent);
            for (me, s1, s2, other, n) in
                [(SA, sa_s1, sa_s2, sa_sb, 40), (SB, sb_s1, sb_s2, sb_sa, 50)]
            {
                helpers.push(thread::spawn(move || {
                    block_on_thread(Assistant::new(me, s1, s2, other, seed(n))?.serve()).map(|_| ())
                }));
            }
            let spawn = |role: Role, peer: Counted, to_a: Counted, to_b: Counted| {
                let (inputs, barrier, sent) = (inputs.clone(), barrier.clone(), sent.clone());
                thread::spawn(move || {
                    block_on_thread(async move {
                        let i = role.index() as u64;
                        let mut link = Link::new(peer);
                        let source = OtCorrelations::setup(role, &mut link, seed(30 + i)).await?;
                        let mut links = Links::new(PartyId::of(role));
                        links.insert(PartyId::of(role.peer()), link)?;
                        links.insert(SA, Link::new(to_a))?;
                        links.insert(SB, Link::new(to_b))?;
                        let ctx = primary(role, links, source, seed(60 + i), config).await?;
                        party(Party::from_context(ctx)?, inputs, barrier, sent).await
                    })
                })
            };
            (
                spawn(Role::P0, p0_p1, s1_sa, s1_sb),
                spawn(Role::P1, p1_p0, s2_sa, s2_sb),
            )
        }
    };
    let (a, b) = (a.join().unwrap().unwrap(), b.join().unwrap().unwrap());
    for h in helpers {
        h.join().unwrap().unwrap();
    }
    for (m0, m1) in a.iter().zip(&b) {
        assert_eq!(m0.values, m1.values, "both parties open the same values");
    }
    a
}

fn main() {
    let fast: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let ulp = fixed().ulp();
    println!(
        "numeric functions, Z_2^64 with f = {F} (ulp {ulp:.2e}); elements/s end to end, bytes sent by every party per element, rounds party 0 waits for, largest error against f64"
    );
    for topo in [Topo::Dealer, Topo::Helper, Topo::Ot, Topo::Four] {
        let n = match topo {
            Topo::Dealer | Topo::Helper | Topo::Four => fast,
            Topo::Ot => fast / 10,
        };
        let mut rng = Rng(0x5eed);
        let inputs: Vec<Input> = FUNCS.iter().map(|&f| input(f, n, &mut rng)).collect();
        let t = Instant::now();
        let measures = run(topo, inputs.clone());
        println!(
            "\n{} — {n} elements per function ({:.1} s)",
            topo.name(),
            t.elapsed().as_secs_f64()
        );
        println!(
            "{:>22} {:>11} {:>10} {:>6} {:>10} {:>9} {:>11} {:>9}",
            "function",
            "elements/s",
            "bytes/elt",
            "rounds",
            "max ulp",
            "max rel",
            "plain /s",
            "ratio"
        );
        for ((&func, inp), m) in FUNCS.iter().zip(&inputs).zip(&measures) {
            let want = plain(func, inp);
            let (mut max_ulp, mut max_rel) = (0.0f64, 0.0f64);
            for (&g, &w) in m.values.iter().zip(&want) {
                let err = (g - w).abs();
                max_ulp = max_ulp.max(err / ulp);
                if w.abs() >= 64.0 * ulp {
                    max_rel = max_rel.max(err / w.abs());
                }
            }
            let results = want.len() as f64;
            let rate = results / m.seconds;
            let plain = plain_rate(func, inp);
            println!(
                "{:>22} {:>11.3e} {:>10.1} {:>6} {:>10.2} {:>9.2e} {:>11.3e} {:>9.2e}",
                func.name(),
                rate,
                m.bytes as f64 / results,
                m.rounds,
                max_ulp,
                max_rel,
                plain,
                rate / plain
            );
        }
    }
}
