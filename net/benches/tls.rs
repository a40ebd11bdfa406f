//! What TLS costs: 10^6 Beaver multiplications (with local truncation) between two servers on
//! 127.0.0.1, over plain TCP (the baseline, measured in the same run) and over this crate's
//! mutually authenticated TLS 1.3, then over TLS under the shaping transport at SecureNN's LAN
//! and WAN settings; the in-memory duplex for reference.
//!
//! Run with `cargo bench -p fixshare-net --bench tls`. Each party (two servers, the dealer) runs
//! on its own thread. The dealer's triples are fetched before the clock starts, so the online
//! time is the multiplication alone: one round, two ring elements per multiplication each way.
//! Prints, per transport, the online time, multiplications per second, the ratio to plain TCP,
//! bytes per multiplication per party, rounds, and the offline (dealer) time. Plain TCP and TLS
//! are the best of three runs; the shaped runs are one each.
//!
//! Reading the WAN row: the 16 MB each server sends in the multiplication's round cost about
//! 0.4 s at 40 MB/s plus one latency. The TLS transport's sending thread lets both peers send
//! the whole message before reading (its send window is 16 MiB); before it, the core's exchange
//! waited for the peer after every 32 KiB (`transport::INTERLEAVE`, what a plain blocking socket
//! is sure to buffer), one latency each, and the row took about 15 s.

use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, Links, MemoryTransport, Party, PartyId, Preprocessed,
    Ring, Role, Seed, Shares, Transport, TransportError, block_on_thread, duplex,
};
use fixshare_net::{Endpoint, Identity, Pin, SessionId, Shape, Shaped, TlsTransport};
use std::io::{BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const N: usize = 1_000_000;

/// Plain TCP: the baseline. Buffered like the TLS transport (writes gathered, flushed before
/// each wait).
struct PlainTcp {
    reader: TcpStream,
    writer: BufWriter<TcpStream>,
}

impl PlainTcp {
    fn new(s: TcpStream) -> PlainTcp {
        s.set_nodelay(true).unwrap();
        PlainTcp {
            writer: BufWriter::with_capacity(64 << 10, s.try_clone().unwrap()),
            reader: s,
        }
    }

    fn pair() -> (PlainTcp, PlainTcp) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (PlainTcp::new(a), PlainTcp::new(b))
    }
}

fn failed(_: std::io::Error) -> TransportError {
    TransportError::Closed
}

impl Transport for PlainTcp {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.writer.write_all(buf).map_err(failed)
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.writer.flush().map_err(failed)?;
        self.reader.read_exact(buf).map_err(failed)
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        self.writer.flush().map_err(failed)
    }
}

/// Connected TLS pairs between three parties: (server 0 - server 1), (server 0 - dealer),
/// (server 1 - dealer), each returned as (one end, the other end).
struct TlsPairs {
    ends: Vec<Endpoint>,
    pins: Vec<Pin>,
}

impl TlsPairs {
    fn new(session: &str) -> TlsPairs {
        let session = SessionId::derive(session);
        let mut ends = Vec::new();
        let mut pins = Vec::new();
        for i in 0..3u8 {
            let id = Identity::generate(&format!("bench{i}")).unwrap();
            pins.push(id.pin());
            ends.push(Endpoint::new(Arc::new(id), PartyId(i), session));
        }
        TlsPairs { ends, pins }
    }

    /// (party `a`'s end, party `b`'s end), `a` listening.
    fn pair(&self, a: usize, b: usize) -> (TlsTransport, TlsTransport) {
        let l = self.ends[a]
            .listen("127.0.0.1:0", &[(PartyId(b as u8), self.pins[b])])
            .unwrap();
        l.set_logger(Arc::new(|_: &fixshare_net::ListenerEvent<'_>| {}));
        let addr = l.local_addr().to_string();
        let (e, pin) = (self.ends[b].clone(), self.pins[a]);
        let c = thread::spawn(move || e.connect(&addr, PartyId(a as u8), pin).unwrap());
        let s = l.accept(Duration::from_secs(30)).unwrap();
        (s, c.join().unwrap())
    }
}

struct Report {
    online: Duration,
    offline: Duration,
    bytes_sent: u64,
    rounds: u64,
    check: u64,
}

type BenchParty<T> = Party<T, Preprocessed<DealerClient<T>>, u64>;

fn preprocessed<T: Transport>(
    p: &mut BenchParty<T>,
) -> (&mut Links<T>, &mut Preprocessed<DealerClient<T>>) {
    p.context_mut().split()
}

/// Both servers and the dealer on threads over the given connections.
fn measure<T: Transport + Send + 'static>(
    peers: (T, T),
    dealer0: (T, T),
    dealer1: (T, T),
    xs: Arc<Vec<f64>>,
    ys: Arc<Vec<f64>>,
) -> [Report; 2] {
    let (p0, p1) = peers;
    let (c0, d0) = dealer0;
    let (c1, d1) = dealer1;
    let dealer = thread::spawn(move || {
        block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), d0, d1).serve())
    });
    let barrier = Arc::new(Barrier::new(2));
    let run = |role: Role, peer: T, to_dealer: T| {
        let (xs, ys, barrier) = (xs.clone(), ys.clone(), barrier.clone());
        thread::spawn(move || {
            block_on_thread(async move {
                let src = Preprocessed::new(DealerClient::connect(role, to_dealer).await.unwrap());
                let seed = Seed::from_bytes([role.index() as u8 + 1; 32]);
                let mut p: BenchParty<T> = Party::new(role, peer, src, seed, Config::default());
                let x = match role {
                    Role::P0 => p.share_input(&xs, N, 1).await.unwrap(),
                    Role::P1 => p.receive_input(N, 1).await.unwrap(),
                };
                let y = match role {
                    Role::P1 => p.share_input(&ys, N, 1).await.unwrap(),
                    Role::P0 => p.receive_input(N, 1).await.unwrap(),
                };
                let t = Instant::now();
                let (links, src) = preprocessed(&mut p);
                src.prefetch_triples::<u64, _>(links, N).await.unwrap();
                let offline = t.elapsed();
                barrier.wait();
                let before = p.stats();
                let t = Instant::now();
                let z: Shares<u64> = p.mul(&x, &y).await.unwrap();
                let online = t.elapsed();
                let after = p.stats();
                let opened = p
                    .open(&Shares::vector(vec![z.as_slice()[0]]))
                    .await
                    .unwrap();
                Report {
                    online,
                    offline,
                    bytes_sent: after.bytes_sent - before.bytes_sent,
                    rounds: after.rounds - before.rounds,
                    check: opened[0],
                }
            })
        })
    };
    let s0 = run(Role::P0, p0, c0);
    let s1 = run(Role::P1, p1, c1);
    let r = [s0.join().unwrap(), s1.join().unwrap()];
    dealer.join().unwrap().unwrap();
    r
}

fn main() {
    let fp = FixedPoint::default();
    let mut prg = Seed::from_bytes([3; 32]).prg(fixshare::Domain::user(0), 0);
    let mut sample = || (u64::random(&mut prg) >> 40) as f64 / 1e6 - 8.0;
    let xs: Arc<Vec<f64>> = Arc::new((0..N).map(|_| sample()).collect());
    let ys: Arc<Vec<f64>> = Arc::new((0..N).map(|_| sample()).collect());
    let want = fp.mul_reference::<u64>(fp.encode(xs[0]).unwrap(), fp.encode(ys[0]).unwrap());

    println!(
        "== {N} Beaver multiplications (local truncation), two servers and a dealer on 127.0.0.1"
    );
    let mut baseline = None;
    let mut line = |name: &str, r: [Report; 2]| {
        let online = r[0].online.max(r[1].online).as_secs_f64();
        let offline = r[0].offline.max(r[1].offline).as_secs_f64();
        let base = *baseline.get_or_insert(online);
        let diff = r[0].check.wrapping_sub(want) as i64;
        assert!(diff.abs() <= 1, "{name}: wrong product ({diff} ulps off)");
        println!(
            "{name:>12}: online {online:.4} s, {:.3e} mul/s, {:.2}x plain TCP's time, \
             {:.2} bytes/mul/party, rounds {}, offline (dealer) {offline:.3} s",
            N as f64 / online,
            online / base,
            (r[0].bytes_sent + r[1].bytes_sent) as f64 / 2.0 / N as f64,
            r[0].rounds,
        );
    };

    let r = measure(
        PlainTcp::pair(),
        PlainTcp::pair(),
        PlainTcp::pair(),
        xs.clone(),
        ys.clone(),
    );
    line("plain TCP", r);

    let tls = TlsPairs::new("bench");
    let (a, b) = tls.pair(0, 1);
    println!("  (TLS: {})", a.negotiated());
    let r = measure(
        (a, b),
        tls.pair(2, 0),
        tls.pair(2, 1),
        xs.clone(),
        ys.clone(),
    );
    line("TLS 1.3", r);

    for (name, shape) in [("TLS + LAN", Shape::LAN), ("TLS + WAN", Shape::WAN)] {
        let w =
            |(a, b): (TlsTransport, TlsTransport)| (Shaped::new(a, shape), Shaped::new(b, shape));
        let r = measure(
            w(tls.pair(0, 1)),
            w(tls.pair(2, 0)),
            w(tls.pair(2, 1)),
            xs.clone(),
            ys.clone(),
        );
        line(name, r);
    }
    println!(
        "  (LAN: {} MB/s, {:?} each way; WAN: {} MB/s, {:?} each way; SecureNN's settings)",
        Shape::LAN.bandwidth.unwrap_or(0) / 1_000_000,
        Shape::LAN.latency,
        Shape::WAN.bandwidth.unwrap_or(0) / 1_000_000,
        Shape::WAN.latency
    );

    let (a, b): (MemoryTransport, MemoryTransport) = duplex();
    let r = measure((a, b), duplex(), duplex(), xs, ys);
    line("memory", r);
}
