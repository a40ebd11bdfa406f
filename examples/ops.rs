//! Measures one secure operation: two servers (and the dealer) in one process, over in-memory
//! links or TCP on 127.0.0.1, with the same operation in plaintext in the same run.
//!
//! ```text
//! cargo run --release --example ops -- --op relu --n 1000000
//! cargo run --release --example ops -- --op relu --n 100000 --backend gc --offline ot
//! cargo run --release --example ops -- --op matmul --shape 128x784x128 --transport tcp
//! cargo run --release --example ops -- --op relu --n 1000000 --offline helper
//! cargo run --release --example ops -- --op relu --n 100000 --backend gc --transport wan
//! ```
//!
//! `--sign-bits B` sets `Config::sign_bits`: the sign tests (ReLU, DReLU, x > 0, max) may assume
//! their inputs lie in `[-2^(B-1), 2^(B-1))`, and the FSS backend's keys shrink to a DCF over
//! `B - 1` bits (the inputs here lie in [-8, 8], within +-2^19 at 16 fractional bits).
//!
//! `--transport` joins the parties by in-memory links (`memory`), plain TCP on 127.0.0.1
//! (`tcp`), fixshare-net's mutually authenticated TLS 1.3 on 127.0.0.1 (`tls`), or that TLS
//! under the shaping transport at SecureNN's LAN (`lan`: 625 MB/s, 0.22 ms round trip) or WAN
//! (`wan`: 40 MB/s, 58 ms) settings.
//!
//! `--offline helper` runs SecureNN's three servers: P2 deals the triples and takes part online
//! (the helper backend); its online messages count as online traffic, and
//! `total_bytes_per_op` adds up what all three servers sent during the operation.
//!
//! `--offline assistants` runs PrivPy's four servers: the primaries hand products and sign tests
//! to two assistants (no triples; comparisons with Sa as SecureNN's helper, or with
//! `--backend gc` as a garbled circuit between the assistants with OT between them, PrivPy's
//! Protocol 2), on Z_2^64 here; `total_bytes_per_op` then adds everything the assistants
//! sent over the whole run (their OT setup included) to the primaries' traffic during the op.
//!
//! The offline phase (keys, triples) is fetched before the clock starts wherever the operation's
//! needs are known ahead (every operation but the garbled-circuit backend's random OTs, which
//! come as the circuit runs). Ends with `name: value` lines: `ops_per_second`, `online_seconds`,
//! `offline_seconds`, `online_bytes_per_op_per_party`, `offline_bytes_per_op`, `rounds`,
//! `max_abs_error` (against `f64` on the same inputs), `plaintext_ops_per_second`.

use fixshare::assist;
use fixshare::correlated::Correlations;
use fixshare::correlated::preprocessed::Preprocessed;
use fixshare::correlated::source::OfflineSource;
use fixshare::fss::Gate;
use fixshare::nonlinear::Pool2d;
use fixshare::{
    Backend, Config, Context, Dealer, DealerClient, Error, FixedPoint, Link, Links, OtCorrelations,
    Party, PartyId, Role, Shares, Topology, Transport, block_on_thread, duplex,
};
use fixshare_examples::ml::os_seed;
use fixshare_examples::ml::tcp::{TcpTransport, tls_pair};
use fixshare_net::{Shape, Shaped};
use std::hint::black_box;
use std::net::TcpListener;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: ops --op mul|matmul|relu|drelu|gt0|eq|sigmoid|sigmoid-accurate|trunc|trunc-exact|max|argmax|maxpool|maxpool-derivative
           [--n N] [--shape MxKxN] [--backend auto|gc|fss|helper] [--offline dealer|ot|helper|assistants]
           [--transport memory|tcp|tls|lan|wan] [--sign-bits B]";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Mul,
    Matmul,
    Relu,
    Drelu,
    Gt0,
    Eq,
    Sigmoid,
    SigmoidAccurate,
    Trunc,
    TruncExact,
    Max,
    Argmax,
    Maxpool,
    /// Max pooling and the mask of its derivative (SecureNN's DMP): the result opened is the mask.
    MaxpoolDerivative,
}

/// Where the correlations come from, and who the third server is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Offline {
    /// Two servers and a dealer.
    Dealer,
    /// Two servers, OT between them.
    Ot,
    /// Three servers: P2 deals and helps online (SecureNN).
    Helper,
    /// Four servers: two assistants compute products and comparisons (PrivPy).
    Assistants,
}

#[derive(Clone, Copy, Debug)]
struct Args {
    op: Op,
    n: usize,
    shape: (usize, usize, usize),
    backend: Backend,
    offline: Offline,
    net: Net,
    /// `Config::sign_bits`: the width the sign tests may assume of their inputs.
    sign_bits: Option<u32>,
}

/// What joins the parties.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Net {
    Memory,
    Tcp,
    /// TLS 1.3 on 127.0.0.1, shaped to a LAN or WAN if given.
    Tls(Option<Shape>),
}

/// Max pooling as SecureNN's Table 8 measures it: 24x24x16 images, 2x2 windows.
const POOL: Pool2d = Pool2d {
    channels: 16,
    height: 24,
    width: 24,
    window: 2,
    stride: 2,
};

/// Values per row for max and argmax.
const ROW: usize = 10;

fn parse() -> Result<Args, String> {
    let mut args = Args {
        op: Op::Relu,
        n: 100_000,
        shape: (128, 784, 128),
        backend: Backend::Auto,
        offline: Offline::Dealer,
        net: Net::Memory,
        sign_bits: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--op" => {
                args.op = match value()?.as_str() {
                    "mul" => Op::Mul,
                    "matmul" => Op::Matmul,
                    "relu" => Op::Relu,
                    "drelu" => Op::Drelu,
                    "gt0" => Op::Gt0,
                    "eq" => Op::Eq,
                    "trunc" => Op::Trunc,
                    "sigmoid" => Op::Sigmoid,
                    "sigmoid-accurate" => Op::SigmoidAccurate,
                    "trunc-exact" => Op::TruncExact,
                    "max" => Op::Max,
                    "argmax" => Op::Argmax,
                    "maxpool" => Op::Maxpool,
                    "maxpool-derivative" => Op::MaxpoolDerivative,
                    other => return Err(format!("unknown op {other}")),
                }
            }
            "--n" => {
                args.n = value()?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0 && n <= 1 << 26)
                    .ok_or("--n must be 1..=2^26")?
            }
            "--shape" => {
                let v = value()?;
                let dims: Vec<usize> = v.split('x').filter_map(|d| d.parse().ok()).collect();
                match dims[..] {
                    [m, k, n] if m > 0 && k > 0 && n > 0 && m * k + k * n + m * n <= 1 << 26 => {
                        args.shape = (m, k, n)
                    }
                    _ => return Err(format!("--shape must be MxKxN (small enough), not {v}")),
                }
            }
            "--backend" => {
                args.backend = match value()?.as_str() {
                    "auto" => Backend::Auto,
                    "gc" => Backend::GarbledCircuits,
                    "fss" => Backend::Fss,
                    "helper" => Backend::Helper,
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--offline" => {
                args.offline = match value()?.as_str() {
                    "dealer" => Offline::Dealer,
                    "ot" => Offline::Ot,
                    "helper" => Offline::Helper,
                    "assistants" => Offline::Assistants,
                    other => return Err(format!("unknown offline source {other}")),
                }
            }
            "--transport" => {
                args.net = match value()?.as_str() {
                    "memory" => Net::Memory,
                    "tcp" => Net::Tcp,
                    "tls" => Net::Tls(None),
                    "lan" => Net::Tls(Some(Shape::LAN)),
                    "wan" => Net::Tls(Some(Shape::WAN)),
                    other => return Err(format!("unknown transport {other}")),
                }
            }
            "--sign-bits" => {
                let v = value()?;
                match v.parse() {
                    Ok(b @ 2..=64) => args.sign_bits = Some(b),
                    _ => return Err(format!("--sign-bits must be 2 to 64, not {v}")),
                }
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The inputs in plaintext: `(x, y)` (y only for products), shaped for the op.
struct Inputs {
    rows: usize,
    cols: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    y_rows: usize,
    y_cols: usize,
}

fn inputs(args: &Args) -> Inputs {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = |lo: f64, hi: f64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        lo + (hi - lo) * (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (rows, cols, y_rows, y_cols) = match args.op {
        Op::Matmul => {
            let (m, k, n) = args.shape;
            (m, k, k, n)
        }
        Op::Mul | Op::Eq => (args.n, 1, args.n, 1),
        Op::Max | Op::Argmax => (args.n.div_ceil(ROW), ROW, 0, 0),
        Op::Maxpool | Op::MaxpoolDerivative => {
            let per = POOL.channels * POOL.height * POOL.width;
            (args.n.div_ceil(per), per, 0, 0)
        }
        _ => (args.n, 1, 0, 0),
    };
    // On the fixed-point grid, so that the f64 reference sees the values the servers compute on.
    let fixed = FixedPoint::default();
    let mut on_grid = |_| fixed.decode(fixed.encode::<u64>(uniform(-8.0, 8.0)).unwrap_or(0));
    let x: Vec<f64> = (0..rows * cols).map(&mut on_grid).collect();
    let mut y: Vec<f64> = (0..y_rows * y_cols).map(&mut on_grid).collect();
    if args.op == Op::Eq {
        // Half the pairs equal.
        for i in (0..y.len()).step_by(2) {
            y[i] = x[i];
        }
    }
    Inputs {
        rows,
        cols,
        x,
        y,
        y_rows,
        y_cols,
    }
}

/// Operations per run: elements for elementwise ops, products for matmul, outputs for max.
fn ops_count(args: &Args, inp: &Inputs) -> usize {
    match args.op {
        Op::Matmul => args.shape.0 * args.shape.1 * args.shape.2,
        Op::Max | Op::Argmax => inp.rows,
        Op::Maxpool | Op::MaxpoolDerivative => inp.rows,
        _ => inp.rows * inp.cols,
    }
}

/// Shares of `v` (P0 holds `v - r`, P1 holds `r`, with `r` from a seed both know).
fn share(role: Role, fixed: FixedPoint, v: &[f64], rows: usize, cols: usize) -> Shares<u64> {
    let mut s = 0x2545_f491_4f6c_dd1du64 ^ (rows * cols) as u64;
    let data = v
        .iter()
        .map(|&x| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let e = fixed.encode::<u64>(x).expect("inputs are in range");
            match role {
                Role::P0 => e.wrapping_sub(s),
                Role::P1 => s,
            }
        })
        .collect();
    Shares::matrix(rows, cols, data).expect("shape")
}

type Source<T> = Preprocessed<OfflineSource<T>>;

/// The rows and columns of the op's tournament (max, argmax, max pooling).
fn tournament_shape(args: &Args, inp: &Inputs) -> Result<(usize, usize), Error> {
    Ok(match args.op {
        Op::Maxpool | Op::MaxpoolDerivative => {
            let (oh, ow) = POOL.output_size()?;
            (
                inp.rows * POOL.channels * oh * ow,
                POOL.window * POOL.window,
            )
        }
        _ => (inp.rows, inp.cols),
    })
}

/// Fetches what the op's online phase asks the source for, in the same order. With the helper,
/// that is the products' triples (its own steps are online).
async fn prefetch<T: Transport>(
    p: &mut Party<T, Source<T>, u64>,
    args: &Args,
    inp: &Inputs,
    fss: bool,
) -> Result<(), Error> {
    if p.context_mut().topology() == Topology::FourServers {
        // The assistants need no correlations; the primaries' OT serves only circuits.
        return Ok(());
    }
    let bits = p.config().fixed.frac_bits();
    let sign_bits = p.config().sign_bits.unwrap_or(64);
    let sign = |product| Gate::Sign {
        product,
        bits: sign_bits,
    };
    let helper =
        p.correlations().helps_online() && matches!(args.backend, Backend::Auto | Backend::Helper);
    let (links, src) = p.context_mut().split();
    let n = inp.rows * inp.cols;
    match args.op {
        Op::Mul => src.prefetch_triples::<u64, T>(links, n).await,
        Op::Matmul => {
            let (m, k, nn) = args.shape;
            src.prefetch_matrix_triple::<u64, T>(links, m, k, nn).await
        }
        Op::Relu if helper => src.prefetch_triples::<u64, T>(links, n).await,
        Op::Max | Op::Argmax | Op::Maxpool if helper => {
            let (rows, cols) = tournament_shape(args, inp)?;
            let mut width = cols;
            while width > 1 {
                let pairs = rows * (width / 2);
                let products = if args.op == Op::Argmax {
                    2 * pairs
                } else {
                    pairs
                };
                src.prefetch_triples::<u64, T>(links, products).await?;
                width = width.div_ceil(2);
            }
            Ok(())
        }
        _ if !fss => Ok(()),
        // The equality tests of the one-hot vectors come after the tournament: fetched online.
        Op::MaxpoolDerivative => Ok(()),
        Op::Relu => src.prefetch_gate_keys::<u64, T>(links, sign(true), n).await,
        Op::Drelu | Op::Gt0 => {
            src.prefetch_gate_keys::<u64, T>(links, sign(false), n)
                .await
        }
        Op::Eq => {
            src.prefetch_gate_keys::<u64, T>(links, Gate::Equal, n)
                .await
        }
        Op::Trunc => Ok(()),
        Op::Sigmoid | Op::SigmoidAccurate => {
            src.prefetch_gate_keys::<u64, T>(links, Gate::Compare { product: true }, n)
                .await
        }
        Op::TruncExact => {
            src.prefetch_gate_keys::<u64, T>(links, Gate::Shift { bits }, n)
                .await
        }
        Op::Max | Op::Argmax | Op::Maxpool => {
            let (rows, cols) = tournament_shape(args, inp)?;
            // The tournament's levels: one ReLU key per pair (and a triple per index product).
            let mut width = cols;
            while width > 1 {
                let pairs = rows * (width / 2);
                src.prefetch_gate_keys::<u64, T>(links, sign(true), pairs)
                    .await?;
                if args.op == Op::Argmax {
                    src.prefetch_triples::<u64, T>(links, pairs).await?;
                }
                width = width.div_ceil(2);
            }
            Ok(())
        }
    }
}

/// Runs the op and returns the opened result.
async fn run_op<T: Transport>(
    p: &mut Party<T, Source<T>, u64>,
    args: &Args,
    x: &Shares<u64>,
    y: &Shares<u64>,
) -> Result<Shares<u64>, Error> {
    match args.op {
        Op::Mul => p.mul(x, y).await,
        Op::Matmul => p.matmul(x, y).await,
        Op::Relu => p.relu(x).await,
        Op::Drelu | Op::Gt0 => p.drelu(x).await,
        Op::Eq => p.equal(x, y).await,
        Op::Trunc => {
            let bits = p.config().fixed.frac_bits();
            p.truncate(x, bits).await
        }
        Op::Sigmoid => p.sigmoid_piecewise(x).await,
        Op::SigmoidAccurate => p.sigmoid(x).await,
        Op::TruncExact => {
            let bits = p.config().fixed.frac_bits();
            p.truncate_exact(x, bits).await
        }
        Op::Max => p.max(x).await,
        Op::Argmax => Ok(p.argmax(x).await?.1),
        Op::Maxpool => p.max_pool(x, POOL).await,
        Op::MaxpoolDerivative => Ok(p.max_pool_with_derivative(x, POOL).await?.1),
    }
}

/// The op in plaintext `f64` (the reference for the error) and its own running time.
fn plaintext(args: &Args, inp: &Inputs, fixed: FixedPoint) -> (Vec<f64>, Duration) {
    let t = Instant::now();
    let out: Vec<f64> = match args.op {
        Op::Mul => inp.x.iter().zip(&inp.y).map(|(a, b)| a * b).collect(),
        Op::Matmul => {
            let (m, k, n) = args.shape;
            let mut c = vec![0.0; m * n];
            for i in 0..m {
                for l in 0..k {
                    let a = inp.x[i * k + l];
                    for j in 0..n {
                        c[i * n + j] += a * inp.y[l * n + j];
                    }
                }
            }
            c
        }
        Op::Relu => inp.x.iter().map(|&v| v.max(0.0)).collect(),
        Op::Drelu | Op::Gt0 => inp
            .x
            .iter()
            .map(|&v| f64::from(u8::from(v >= 0.0)))
            .collect(),
        Op::Sigmoid => inp.x.iter().map(|&v| (v + 0.5).clamp(0.0, 1.0)).collect(),
        Op::SigmoidAccurate => inp.x.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect(),
        Op::Eq => inp
            .x
            .iter()
            .zip(&inp.y)
            .map(|(a, b)| f64::from(u8::from(a == b)))
            .collect(),
        // The shift of the encoded value, as an integer.
        Op::Trunc | Op::TruncExact => inp
            .x
            .iter()
            .map(|&v| (fixed.encode::<u64>(v).unwrap_or(0) as i64 >> fixed.frac_bits()) as f64)
            .collect(),
        Op::Max | Op::Argmax => inp
            .x
            .chunks(inp.cols)
            .map(|r| {
                let (i, m) = r
                    .iter()
                    .enumerate()
                    .fold((0, f64::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
                if args.op == Op::Max { m } else { i as f64 }
            })
            .collect(),
        Op::MaxpoolDerivative => {
            let (oh, ow) = POOL.output_size().expect("valid pool");
            let (h, w, k, s) = (POOL.height, POOL.width, POOL.window, POOL.stride);
            let mut mask = vec![0.0; inp.x.len()];
            for (i, img) in inp.x.chunks(inp.cols).enumerate() {
                for c in 0..POOL.channels {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let at =
                                |dy: usize, dx: usize| c * h * w + (oy * s + dy) * w + ox * s + dx;
                            let mut best = at(0, 0);
                            for dy in 0..k {
                                for dx in 0..k {
                                    if img[at(dy, dx)] > img[best] {
                                        best = at(dy, dx);
                                    }
                                }
                            }
                            mask[i * inp.cols + best] += 1.0;
                        }
                    }
                }
            }
            mask
        }
        Op::Maxpool => {
            let (oh, ow) = POOL.output_size().expect("valid pool");
            let (h, w, k, s) = (POOL.height, POOL.width, POOL.window, POOL.stride);
            let mut out = Vec::new();
            for img in inp.x.chunks(inp.cols) {
                for c in 0..POOL.channels {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut m = f64::MIN;
                            for dy in 0..k {
                                for dx in 0..k {
                                    m = m.max(img[c * h * w + (oy * s + dy) * w + ox * s + dx]);
                                }
                            }
                            out.push(m);
                        }
                    }
                }
            }
            out
        }
    };
    (black_box(out), t.elapsed())
}

/// What one server measured.
struct Report {
    opened: Vec<u64>,
    online: Duration,
    offline: Duration,
    online_bytes: u64,
    offline_bytes: u64,
    /// Bytes this server sent during the op, and bytes the helper or the assistants sent it.
    op_bytes_sent: u64,
    from_helper: u64,
    rounds: u64,
}

async fn server<T: Transport>(
    role: Role,
    peer: T,
    mut third: Vec<T>,
    args: Args,
    config: Config,
) -> Result<Report, Error> {
    let t = Instant::now();
    let mut link = Link::with_max_frame(peer, config.max_frame);
    let (to_b, to_a) = (third.pop(), third.pop());
    let mut p = match (args.offline, to_a, to_b) {
        (Offline::Assistants, Some(sa), Some(sb)) => {
            let ot = OtCorrelations::setup(role, &mut link, os_seed()).await?;
            let mut links = Links::new(PartyId::of(role));
            links.insert(PartyId::of(role.peer()), link)?;
            links.insert(assist::SA, Link::new(sa))?;
            links.insert(assist::SB, Link::new(sb))?;
            let source = Preprocessed::new(OfflineSource::Ot(Box::new(ot)));
            let ctx = assist::primary(role, links, source, os_seed(), config).await?;
            Party::from_context(ctx)?
        }
        (Offline::Helper, None, Some(helper)) => {
            let me = PartyId::of(role);
            let mut links = Links::new(me);
            links.insert(PartyId::of(role.peer()), link)?;
            links.insert(PartyId(2), Link::new(helper))?;
            let source =
                OfflineSource::Dealer(DealerClient::through_helper(role, &mut links).await?);
            let ctx = Context::new(
                Topology::ThreeServers,
                me,
                links,
                Preprocessed::new(source),
                os_seed(),
                config,
            )?;
            Party::from_context(ctx)?
        }
        (_, None, Some(d)) => {
            let source = OfflineSource::Dealer(DealerClient::connect(role, d).await?);
            Party::on_link(role, link, Preprocessed::new(source), os_seed(), config)
        }
        _ => {
            let ot = OtCorrelations::setup(role, &mut link, os_seed()).await?;
            let source = OfflineSource::Ot(Box::new(ot));
            Party::on_link(role, link, Preprocessed::new(source), os_seed(), config)
        }
    };
    let fss = match args.backend {
        Backend::Auto => p.correlations().deals_gate_keys() && !p.correlations().helps_online(),
        b => b == Backend::Fss,
    };
    let inp = inputs(&args);
    let x = share(role, config.fixed, &inp.x, inp.rows, inp.cols);
    let y = share(role, config.fixed, &inp.y, inp.y_rows, inp.y_cols);
    prefetch(&mut p, &args, &inp, fss).await?;
    let offline = t.elapsed();
    let helper_received = |p: &mut Party<T, Source<T>, u64>| {
        p.context_mut()
            .links()
            .iter()
            .filter(|(id, _)| id.0 >= 2)
            .map(|(_, l)| l.stats().bytes_received)
            .sum::<u64>()
    };
    let (before, all_before, helper_before) =
        (p.online_stats(), p.stats(), helper_received(&mut p));
    let t = Instant::now();
    let z = run_op(&mut p, &args, &x, &y).await?;
    let online = t.elapsed();
    let (after, all_after, helper_after) = (p.online_stats(), p.stats(), helper_received(&mut p));
    let opened = p.open(&z).await?;
    Ok(Report {
        opened,
        online,
        offline,
        online_bytes: after.bytes_sent - before.bytes_sent,
        offline_bytes: p.offline_stats().bytes_sent + p.offline_stats().bytes_received,
        op_bytes_sent: all_after.bytes_sent - all_before.bytes_sent,
        from_helper: helper_after - helper_before,
        rounds: after.rounds - before.rounds,
    })
}

/// Runs the servers (and the dealer, helper or assistants) over connections in memory or over
/// TCP loopback; returns both servers' reports and the bytes the assistants sent (four servers).
fn run(args: Args, config: Config) -> Result<([Report; 2], u64), String> {
    match args.net {
        Net::Tcp => {
            let tcp_pair = || -> Result<[TcpTransport; 2], String> {
                let io = |e: std::io::Error| format!("tcp: {e}");
                let l = TcpListener::bind("127.0.0.1:0").map_err(io)?;
                let addr = l.local_addr().map_err(io)?.to_string();
                let a =
                    thread::spawn(move || TcpTransport::connect(&addr, 1, Duration::from_secs(10)));
                let mut b = TcpTransport::accept(&l, &[1]).map_err(io)?;
                let a = a.join().expect("connect thread panicked").map_err(io)?;
                Ok([a, b.remove(0)])
            };
            go(args, config, tcp_pair)
        }
        Net::Tls(None) => go(args, config, || tls_pair().map(<[_; 2]>::from)),
        Net::Tls(Some(shape)) => go(args, config, || {
            let (a, b) = tls_pair()?;
            Ok([Shaped::new(a, shape), Shaped::new(b, shape)])
        }),
        Net::Memory => go(args, config, || {
            let (a, b) = duplex();
            Ok::<_, String>([a, b])
        }),
    }
}

/// [`run`] over connections from `pair`.
fn go<T: Transport + Send + 'static>(
    args: Args,
    config: Config,
    mut pair: impl FnMut() -> Result<[T; 2], String>,
) -> Result<([Report; 2], u64), String> {
    type Third = thread::JoinHandle<Result<u64, Error>>;
    let [p0, p1] = pair()?;
    let (mut third0, mut third1, mut others): (Vec<T>, Vec<T>, Vec<Third>) = Default::default();
    match args.offline {
        Offline::Ot => {}
        Offline::Dealer | Offline::Helper => {
            let ([c0, d0], [c1, d1]) = (pair()?, pair()?);
            let seed = os_seed();
            others.push(thread::spawn(move || {
                block_on_thread(Dealer::new(seed, d0, d1).serve()).map(|_| 0)
            }));
            (third0, third1) = (vec![c0], vec![c1]);
        }
        Offline::Assistants => {
            let ([s1a, a1], [s1b, b1], [s2a, a2], [s2b, b2]) = (pair()?, pair()?, pair()?, pair()?);
            let [ab, ba] = pair()?;
            for (me, s1, s2, other) in [(assist::SA, a1, a2, ab), (assist::SB, b1, b2, ba)] {
                let seed = os_seed();
                others.push(thread::spawn(move || {
                    let a = assist::Assistant::new(me, s1, s2, other, seed)?;
                    Ok(block_on_thread(a.serve())?.bytes_sent)
                }));
            }
            (third0, third1) = (vec![s1a, s1b], vec![s2a, s2b]);
        }
    }
    let s0 = thread::spawn(move || block_on_thread(server(Role::P0, p0, third0, args, config)));
    let s1 = thread::spawn(move || block_on_thread(server(Role::P1, p1, third1, args, config)));
    let r0 = s0.join().expect("server 0 panicked");
    let r1 = s1.join().expect("server 1 panicked");
    let mut third_sent = 0;
    for h in others {
        third_sent += h
            .join()
            .expect("third party panicked")
            .map_err(|e| e.to_string())?;
    }
    Ok((
        [
            r0.map_err(|e| e.to_string())?,
            r1.map_err(|e| e.to_string())?,
        ],
        third_sent,
    ))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        backend: args.backend,
        sign_bits: args.sign_bits,
        ..Config::default()
    };
    let inp = inputs(&args);
    let ops = ops_count(&args, &inp);
    let (reference, plain_time) = plaintext(&args, &inp, config.fixed);
    let (reports, assistants_sent) = match run(args, config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fixed = config.fixed;
    let max_err = reports[0]
        .opened
        .iter()
        .zip(&reference)
        .map(|(&v, &want)| {
            let got = match args.op {
                // trunc-exact's output is an integer, not a fixed-point value.
                Op::Trunc | Op::TruncExact => v as i64 as f64,
                _ => fixed.decode(v),
            };
            (got - want).abs()
        })
        .fold(0.0, f64::max);
    let online = reports[0].online.max(reports[1].online).as_secs_f64();
    let offline = reports[0].offline.max(reports[1].offline).as_secs_f64();
    let per_party = (reports[0].online_bytes + reports[1].online_bytes) as f64 / 2.0;
    let offline_bytes = reports[0].offline_bytes + reports[1].offline_bytes;
    println!("op: {:?}", args.op);
    println!("ops: {ops}");
    println!("backend: {:?}", args.backend);
    println!("offline_source: {:?}", args.offline);
    let net = match args.net {
        Net::Memory => "memory",
        Net::Tcp => "tcp",
        Net::Tls(None) => "tls",
        Net::Tls(Some(s)) if s == Shape::LAN => "tls, LAN shaping",
        Net::Tls(Some(_)) => "tls, WAN shaping",
    };
    println!("transport: {net}");
    println!("ops_per_second: {:.4e}", ops as f64 / online);
    println!("online_seconds: {online:.6}");
    println!("offline_seconds: {offline:.6}");
    println!(
        "online_bytes_per_op_per_party: {:.2}",
        per_party / ops as f64
    );
    println!(
        "offline_bytes_per_op: {:.2}",
        offline_bytes as f64 / ops as f64
    );
    let total: u64 = if args.offline == Offline::Assistants {
        reports.iter().map(|r| r.op_bytes_sent).sum::<u64>() + assistants_sent
    } else {
        reports
            .iter()
            .map(|r| r.op_bytes_sent + r.from_helper)
            .sum()
    };
    println!("total_bytes_per_op: {:.2}", total as f64 / ops as f64);
    println!("rounds: {}", reports[0].rounds);
    println!("max_abs_error: {max_err:.3e}");
    println!(
        "plaintext_ops_per_second: {:.4e}",
        ops as f64 / plain_time.as_secs_f64().max(1e-9)
    );
    println!(
        "plaintext_ratio: {:.4}",
        plain_time.as_secs_f64() / online.max(1e-12)
    );
    ExitCode::SUCCESS
}
