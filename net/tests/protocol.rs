//! Two servers and a dealer run fixshare protocols over real TLS connections on 127.0.0.1, each
//! party on its own thread: Beaver multiplication and ReLU (FSS keys from the dealer), checked
//! against the plaintext fixed-point reference; then the same under the shaping transport, which
//! must add at least the configured latency to every round.

mod common;

use common::{p, parties, within};
use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, Party, Role, Seed, Stats, Transport, block_on_thread,
};
use fixshare_net::{Shape, Shaped, TlsTransport};
use std::time::{Duration, Instant};

const N: usize = 5000;

fn inputs() -> (Vec<f64>, Vec<f64>) {
    let xs = (0..N)
        .map(|i| ((i * 7919) % 2000) as f64 / 100.0 - 10.0)
        .collect();
    let ys = (0..N)
        .map(|i| ((i * 104_729) % 3000) as f64 / 200.0 - 7.5)
        .collect();
    (xs, ys)
}

struct Outcome {
    product: Vec<u64>,
    relu: Vec<u64>,
    stats: Stats,
}

async fn server<T: Transport>(
    role: Role,
    peer: T,
    dealer: T,
    xs: Vec<f64>,
    ys: Vec<f64>,
) -> Result<Outcome, fixshare::Error> {
    let source = DealerClient::connect(role, dealer).await?;
    let seed = Seed::from_bytes([role.index() as u8 + 1; 32]);
    let mut party: Party<_, _> = Party::new(role, peer, source, seed, Config::default());
    let x = match role {
        Role::P0 => party.share_input(&xs, N, 1).await?,
        Role::P1 => party.receive_input(N, 1).await?,
    };
    let y = match role {
        Role::P1 => party.share_input(&ys, N, 1).await?,
        Role::P0 => party.receive_input(N, 1).await?,
    };
    let z = party.mul(&x, &y).await?;
    let product = party.open(&z).await?;
    let r = party.relu(&x).await?;
    let relu = party.open(&r).await?;
    Ok(Outcome {
        product,
        relu,
        stats: party.stats(),
    })
}

/// Runs both servers and the dealer over TLS, each connection wrapped by `wrap`. Returns both
/// servers' outcomes and the wall time of the slower one.
fn run<T: Transport + Send + 'static>(
    session: &str,
    wrap: fn(TlsTransport) -> T,
) -> ([Outcome; 2], Duration) {
    let (ends, pins) = parties::<3>(session);
    let long = Duration::from_secs(20);
    // The dealer (party 2) listens for both servers; server 0 listens for server 1.
    let dealer_listener = ends[2]
        .listen("127.0.0.1:0", &[(p(0), pins[0]), (p(1), pins[1])])
        .unwrap();
    let dealer_addr = dealer_listener.local_addr().to_string();
    let p0_listener = ends[0].listen("127.0.0.1:0", &[(p(1), pins[1])]).unwrap();
    let p0_addr = p0_listener.local_addr().to_string();
    let (xs, ys) = inputs();

    let dealer = std::thread::spawn(move || {
        let [to0, to1]: [TlsTransport; 2] = dealer_listener
            .accept_all(long)
            .unwrap()
            .try_into()
            .unwrap();
        block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), wrap(to0), wrap(to1)).serve())
    });
    let (e1, a0, a_d, pin0, pin2) = (
        ends[1].clone(),
        p0_addr.clone(),
        dealer_addr.clone(),
        pins[0],
        pins[2],
    );
    let (xs1, ys1) = (xs.clone(), ys.clone());
    let s1 = std::thread::spawn(move || {
        let peer = e1.connect(&a0, p(0), pin0).unwrap();
        let dealer = e1.connect(&a_d, p(2), pin2).unwrap();
        let t = Instant::now();
        let out = block_on_thread(server(Role::P1, wrap(peer), wrap(dealer), xs1, ys1));
        (out, t.elapsed())
    });
    let e0 = ends[0].clone();
    let s0 = std::thread::spawn(move || {
        let dealer = e0.connect(&dealer_addr, p(2), pin2).unwrap();
        let peer = p0_listener.accept(long).unwrap();
        assert_eq!(peer.peer(), p(1));
        let negotiated = peer.negotiated();
        assert!(
            negotiated.starts_with("TLS13_") && negotiated.contains("X25519MLKEM768"),
            "{negotiated}"
        );
        let t = Instant::now();
        let out = block_on_thread(server(Role::P0, wrap(peer), wrap(dealer), xs, ys));
        (out, t.elapsed())
    });
    let (r0, t0) = s0.join().unwrap();
    let (r1, t1) = s1.join().unwrap();
    dealer.join().unwrap().unwrap();
    ([r0.unwrap(), r1.unwrap()], t0.max(t1))
}

fn check(outcomes: &[Outcome; 2]) {
    let fp = FixedPoint::default();
    let (xs, ys) = inputs();
    assert_eq!(outcomes[0].product, outcomes[1].product);
    assert_eq!(outcomes[0].relu, outcomes[1].relu);
    for i in 0..N {
        let (x, y): (u64, u64) = (fp.encode(xs[i]).unwrap(), fp.encode(ys[i]).unwrap());
        // Local truncation: at most one unit in the last place off the reference.
        let want = fp.mul_reference(x, y);
        let diff = outcomes[0].product[i].wrapping_sub(want) as i64;
        assert!(diff.abs() <= 1, "x*y at {i}: {diff} ulps off");
        let relu = if (x as i64) > 0 { x } else { 0 };
        assert_eq!(outcomes[0].relu[i], relu, "relu at {i}");
    }
}

#[test]
fn beaver_multiplication_and_relu_over_tls_match_the_plaintext() {
    let (outcomes, _) = within(Duration::from_secs(120), || {
        run("protocol over tls", |t: TlsTransport| t)
    });
    check(&outcomes);
    assert!(outcomes[0].stats.bytes_sent >= (N * 16) as u64);
}

#[test]
fn shaping_adds_the_configured_latency_to_every_round() {
    const LATENCY: Duration = Duration::from_millis(15);
    fn shaped(t: TlsTransport) -> Shaped<TlsTransport> {
        Shaped::new(
            t,
            Shape {
                latency: LATENCY,
                bandwidth: Some(200_000_000),
            },
        )
    }
    let (outcomes, elapsed) = within(Duration::from_secs(120), || {
        run("protocol over shaped tls", shaped)
    });
    check(&outcomes);
    // Every round between the servers is a message each way, each held for the latency: a lower
    // bound that sleeping can only exceed.
    let rounds = outcomes[0].stats.rounds;
    assert!(rounds >= 4, "rounds: {rounds}");
    let floor = LATENCY * 2 * rounds as u32;
    assert!(
        elapsed >= floor,
        "{rounds} rounds took {elapsed:?}, less than {floor:?}"
    );
    // Loose: the work itself takes well under a second here; the dealer's rounds add some more
    // latency.
    assert!(
        elapsed < floor * 4 + Duration::from_secs(10),
        "{rounds} rounds took {elapsed:?}"
    );
}
