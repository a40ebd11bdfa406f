//! Helpers shared by the integration tests: run the dealer and two parties concurrently.
#![allow(dead_code, unreachable_pub)]

use fixshare::{
    Config, Context, Dealer, DealerClient, Error, Link, Links, MemoryTransport, Party, PartyId,
    Role, Seed, Topology, Transport, TransportError, block_on_thread, duplex,
};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread;

/// The session type the tests use: in-memory transports, the dealer, Z_2^64.
pub type TestParty = Party<MemoryTransport, DealerClient<MemoryTransport>, u64>;

/// A deterministic 32-byte seed from a small number.
pub fn seed(n: u64) -> Seed {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b[31] = 0xa5;
    Seed::from_bytes(b)
}

/// Runs `body` as party 0 and party 1 on two threads, with a dealer on a third, and returns
/// both parties' results. `tag` varies the seeds between tests.
pub fn run_pair<T, F, Fut>(
    config: Config,
    tag: u64,
    body: F,
) -> (Result<T, Error>, Result<T, Error>)
where
    T: Send + 'static,
    F: Fn(TestParty) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, Error>>,
{
    let (p0_peer, p1_peer) = duplex();
    let (d0, p0_dealer) = duplex();
    let (d1, p1_dealer) = duplex();
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(1000 + tag), d0, d1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, dealer: MemoryTransport| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let source = DealerClient::connect(role, dealer).await?;
                let party = Party::new(
                    role,
                    peer,
                    source,
                    seed(10 * tag + role.index() as u64),
                    config,
                );
                body(party).await
            })
        })
    };
    let a = spawn(Role::P0, p0_peer, p0_dealer);
    let b = spawn(Role::P1, p1_peer, p1_dealer);
    let ra = a.join().expect("party 0 panicked");
    let rb = b.join().expect("party 1 panicked");
    // The dealer ends when both parties have dropped their connections.
    let _ = dealer.join().expect("dealer panicked");
    (ra, rb)
}

/// Runs `body` as P0 and P1 of a three-server session on two threads, with the helper P2 (their
/// dealer, online too) on a third, and returns both parties' results.
pub fn run_three<T, F, Fut>(
    config: Config,
    tag: u64,
    body: F,
) -> (Result<T, Error>, Result<T, Error>)
where
    T: Send + 'static,
    F: Fn(TestParty) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, Error>>,
{
    let (p0_p1, p1_p0) = duplex();
    let (p2_p0, p0_p2) = duplex();
    let (p2_p1, p1_p2) = duplex();
    let helper =
        thread::spawn(move || block_on_thread(Dealer::new(seed(2000 + tag), p2_p0, p2_p1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, helper: MemoryTransport| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let me = PartyId::of(role);
                let mut links = Links::new(me);
                links.insert(PartyId::of(role.peer()), Link::new(peer))?;
                links.insert(PartyId(2), Link::new(helper))?;
                let source = DealerClient::through_helper(role, &mut links).await?;
                let ctx = Context::new(
                    Topology::ThreeServers,
                    me,
                    links,
                    source,
                    seed(20 * tag + role.index() as u64),
                    config,
                )?;
                body(Party::from_context(ctx)?).await
            })
        })
    };
    let a = spawn(Role::P0, p0_p1, p0_p2);
    let b = spawn(Role::P1, p1_p0, p1_p2);
    let ra = a.join().expect("party 0 panicked");
    let rb = b.join().expect("party 1 panicked");
    let _ = helper.join().expect("helper panicked");
    (ra, rb)
}

/// A primary of a four-server session in the tests: transports `W`, OT between the primaries,
/// ring `R`.
pub type FourParty<R, W = MemoryTransport> = Party<W, fixshare::OtCorrelations, R>;

/// Runs `body` as the primaries S1 and S2 of a four-server session (PrivPy) on two threads, with
/// the assistants Sa and Sb on two more, and returns both primaries' results; panics if an
/// assistant fails while both primaries succeed.
pub fn run_four<R, T, F, Fut>(
    config: Config,
    tag: u64,
    body: F,
) -> (Result<T, Error>, Result<T, Error>)
where
    R: fixshare::Ring,
    T: Send + 'static,
    F: Fn(FourParty<R>) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, Error>>,
{
    run_four_over(config, tag, |_, t| t, body)
}

/// [`run_four`] with each party's ends of its connections wrapped by `wrap(party, transport)`
/// (parties 0..4: S1, S2, Sa, Sb).
pub fn run_four_over<R, W, T, F, Fut>(
    config: Config,
    tag: u64,
    wrap: impl Fn(usize, MemoryTransport) -> W,
    body: F,
) -> (Result<T, Error>, Result<T, Error>)
where
    R: fixshare::Ring,
    W: Transport + Send + 'static,
    T: Send + 'static,
    F: Fn(FourParty<R, W>) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<T, Error>>,
{
    use fixshare::assist::{Assistant, SA, SB, primary};
    // Party i's end of its connection to party j, at (i, j).
    let mut ends = std::collections::HashMap::new();
    for (i, j) in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)] {
        let (a, b) = duplex();
        ends.insert((i, j), wrap(i, a));
        ends.insert((j, i), wrap(j, b));
    }
    let mut take = |i: usize, j: usize| ends.remove(&(i, j)).expect("each end once");
    let assistant = |me: PartyId, s1: W, s2: W, other: W, n: u64| {
        thread::spawn(move || {
            block_on_thread(Assistant::new(me, s1, s2, other, seed(n))?.serve()).map(|_| ())
        })
    };
    let a = assistant(SA, take(2, 0), take(2, 1), take(2, 3), 4000 + tag);
    let b = assistant(SB, take(3, 0), take(3, 1), take(3, 2), 5000 + tag);
    let spawn = |role: Role, peer: W, to_a: W, to_b: W| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut link = Link::new(peer);
                let ot_seed = seed(60 * tag + 7 + role.index() as u64);
                let source = fixshare::OtCorrelations::setup(role, &mut link, ot_seed).await?;
                let mut links = Links::new(PartyId::of(role));
                links.insert(PartyId::of(role.peer()), link)?;
                links.insert(SA, Link::new(to_a))?;
                links.insert(SB, Link::new(to_b))?;
                let s = seed(60 * tag + role.index() as u64);
                let ctx = primary(role, links, source, s, config).await?;
                body(Party::from_context(ctx)?).await
            })
        })
    };
    let p0 = spawn(Role::P0, take(0, 1), take(0, 2), take(0, 3));
    let p1 = spawn(Role::P1, take(1, 0), take(1, 2), take(1, 3));
    let r0 = p0.join().expect("S1 panicked");
    let r1 = p1.join().expect("S2 panicked");
    let ra = a.join().expect("Sa panicked");
    let rb = b.join().expect("Sb panicked");
    if r0.is_ok() && r1.is_ok() {
        ra.expect("Sa failed");
        rb.expect("Sb failed");
    }
    (r0, r1)
}

/// Bytes one server received, from everyone.
pub type View = Arc<Mutex<Vec<u8>>>;

/// A transport that records what it receives into a view, and with `cut` fails (closing) once
/// it has sent that many bytes.
pub struct Wire {
    /// The connection.
    pub inner: MemoryTransport,
    /// Where received bytes go.
    pub view: View,
    /// Bytes to send before the connection fails, if any.
    pub cut: Option<usize>,
}

impl Transport for Wire {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        if let Some(left) = self.cut.as_mut() {
            if *left < buf.len() {
                self.inner.close();
                return Err(TransportError::Closed);
            }
            *left -= buf.len();
        }
        self.inner.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.inner.recv(buf).await?;
        self.view.lock().unwrap().extend_from_slice(buf);
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Shares `values` owned by party 0 (rows x cols) inside a session.
pub async fn input_from_p0(
    p: &mut TestParty,
    values: &[f64],
    rows: usize,
    cols: usize,
) -> Result<fixshare::Shares<u64>, Error> {
    match p.role() {
        Role::P0 => p.share_input(values, rows, cols).await,
        Role::P1 => p.receive_input(rows, cols).await,
    }
}

/// Shares `values` owned by party 1 (rows x cols) inside a session.
pub async fn input_from_p1(
    p: &mut TestParty,
    values: &[f64],
    rows: usize,
    cols: usize,
) -> Result<fixshare::Shares<u64>, Error> {
    match p.role() {
        Role::P1 => p.share_input(values, rows, cols).await,
        Role::P0 => p.receive_input(rows, cols).await,
    }
}

/// A small deterministic generator for test data (xorshift64*).
pub struct TestRng(pub u64);

impl TestRng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// A transport that records every byte it receives: a party's view, for privacy tests.
pub struct Tap {
    pub inner: MemoryTransport,
    pub seen: Arc<Mutex<Vec<u8>>>,
}

impl Transport for Tap {
    async fn send(&mut self, buf: &[u8]) -> Result<(), TransportError> {
        self.inner.send(buf).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> Result<(), TransportError> {
        self.inner.recv(buf).await?;
        self.seen.lock().unwrap().extend_from_slice(buf);
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// Two-sample chi-square statistic over byte values (equal sample sizes), 255 degrees of freedom.
pub fn chi_square(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let hist = |bytes: &[u8]| {
        let mut h = [0f64; 256];
        for &x in bytes {
            h[x as usize] += 1.0;
        }
        h
    };
    let (ha, hb) = (hist(a), hist(b));
    (0..256)
        .filter(|&i| ha[i] + hb[i] > 0.0)
        .map(|i| (ha[i] - hb[i]).powi(2) / (ha[i] + hb[i]))
        .sum()
}

/// The 0.1% critical value of chi-square with 255 degrees of freedom.
pub const CRITICAL: f64 = 330.5;
