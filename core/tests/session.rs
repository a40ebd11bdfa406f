//! The session, the API bindings stand on: every ring width with both offline sources (OT over
//! the one connection between the parties), checked against plaintext; argument errors leave it
//! usable; a failure after communicating poisons it; closing it; bad configurations.

mod common;

use common::seed;
use fixshare::session::{
    AnyShares, Backend, Dealer, ErrorKind, Offline, OwnerLink, Role, Session, SessionConfig, State,
    Topology, Truncation,
};
use fixshare::{MemoryTransport, PartyId, block_on_thread, duplex};
use std::thread;

type S = Session<MemoryTransport>;

/// Runs `body` on both parties of a session over `ring_bits` with `offline`, each on a thread
/// (and the dealer on a third), and returns both results.
fn pair<V: Send + 'static>(
    ring_bits: u32,
    offline: Offline,
    body: impl AsyncFn(&mut S) -> Result<V, fixshare::Error> + Send + Sync + Clone + 'static,
) -> (Result<V, fixshare::Error>, Result<V, fixshare::Error>) {
    let (a, b) = duplex();
    let mut dealers = [None, None];
    let mut dealer = None;
    if offline == Offline::Dealer {
        let (d0, c0) = duplex();
        let (d1, c1) = duplex();
        dealers = [Some(c0), Some(c1)];
        dealer = Some(thread::spawn(move || {
            block_on_thread(Dealer::new(seed(3), d0, d1).serve())
        }));
    }
    let [c0, c1] = dealers;
    let spawn = |role: Role, peer: MemoryTransport, dealer: Option<MemoryTransport>| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let mut config = SessionConfig::two_servers(role, offline);
                config.ring_bits = ring_bits;
                if ring_bits == 32 {
                    // Products of 16-bit fractions would not fit Z_2^32; local truncation would
                    // fail too often there.
                    config.frac_bits = 8;
                    config.truncation = Truncation::Exact;
                }
                let mut s =
                    Session::connect(config, seed(40 + role.index() as u64), peer, dealer).await?;
                body(&mut s).await
            })
        })
    };
    let h0 = spawn(Role::P0, a, c0);
    let h1 = spawn(Role::P1, b, c1);
    let r = (h0.join().unwrap(), h1.join().unwrap());
    if let Some(d) = dealer {
        let _ = d.join().unwrap();
    }
    r
}

async fn input(
    s: &mut S,
    owner: Role,
    v: &[f64],
    rows: usize,
    cols: usize,
) -> Result<AnyShares, fixshare::Error> {
    if s.role() == owner {
        s.share_input(v, rows, cols).await
    } else {
        s.receive_input(rows, cols).await
    }
}

#[test]
fn every_ring_and_offline_source_matches_plaintext() {
    let x = [1.5, -2.25, 3.0, 0.5];
    let y = [2.0, 4.0, -1.5, 0.25];
    for ring_bits in [32, 64, 128] {
        for offline in [Offline::Dealer, Offline::Ot] {
            let (r0, r1) = pair(ring_bits, offline, async move |s: &mut S| {
                let xs = input(s, Role::P0, &x, 2, 2).await?;
                let ys = input(s, Role::P1, &y, 2, 2).await?;
                assert_eq!(xs.ring_bits(), ring_bits);
                let prod = s.mul(&xs, &ys).await?;
                let mm = s.matmul(&xs, &ys).await?;
                let sum = s.add(&xs, &ys)?;
                let r = s.relu(&xs).await?;
                Ok((
                    s.reveal(&prod).await?,
                    s.reveal(&mm).await?,
                    s.reveal(&sum).await?,
                    s.reveal(&r).await?,
                    s.online_stats().bytes_sent,
                    s.offline_stats().bytes_sent + s.offline_stats().bytes_received,
                ))
            });
            let (a, b) = (r0.unwrap(), r1.unwrap());
            let what = format!("Z_2^{ring_bits} {offline:?}");
            assert_eq!(a.0, b.0, "{what}");
            // Local truncation may leave one ulp (2^-16) of error.
            let close = |got: &[f64], want: &[f64], op: &str| {
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() <= 1.0 / 65536.0, "{what}: {op}: {got:?}");
                }
            };
            close(&a.0, &[3.0, -9.0, -4.5, 0.125], "mul");
            close(&a.1, &[6.375, 5.4375, 5.25, 12.125], "matmul");
            assert_eq!(a.2, [3.5, 1.75, 1.5, 0.75], "{what}: add");
            assert_eq!(a.3, [1.5, 0.0, 3.0, 0.5], "{what}: relu");
            assert!(a.4 > 0 && a.5 > 0, "{what}: traffic is counted");
        }
    }
}

#[test]
fn argument_errors_leave_the_session_usable_and_failures_after_sending_poison_it() {
    let (r0, r1) = pair(64, Offline::Ot, async |s: &mut S| {
        let x = input(s, Role::P0, &[1.0, 2.0, 3.0], 3, 1).await?;
        let y = input(s, Role::P1, &[1.0, 2.0], 2, 1).await?;
        let shape = s.mul(&x, &y).await.err().unwrap();
        let shift = s.truncate(&x, 200).await.err().unwrap();
        let other_ring = AnyShares::from_words(32, 3, 1, &[1, 2, 3])?;
        let ring = s.relu(&other_ring).await.err().unwrap();
        let range = s.add_public(&x, 1e300).err().unwrap();
        // A data owner's shape beyond the size rule: refused before the buffer exists.
        let (owner, _other_end) = duplex();
        let mut owner = OwnerLink::new(owner);
        let big = s.receive_owner_input(&mut owner, 1 << 20, 1 << 20).await;
        assert!(matches!(
            big.err().unwrap().kind(),
            ErrorKind::TooLarge { .. }
        ));
        assert_eq!(*s.state(), State::Ready);
        let sq = s.square(&x).await?;
        Ok((shape, shift, ring, range, s.reveal(&sq).await?))
    });
    for r in [r0, r1] {
        let (shape, shift, ring, range, sq) = r.unwrap();
        assert!(
            matches!(shape.kind(), ErrorKind::DimensionMismatch { .. }),
            "{shape}"
        );
        assert!(
            matches!(shift.kind(), ErrorKind::InvalidArgument(_)),
            "{shift}"
        );
        assert_eq!(
            *ring.kind(),
            ErrorKind::RingMismatch {
                expected: 64,
                got: 32
            }
        );
        assert!(
            matches!(range.kind(), ErrorKind::OutOfRange { .. }),
            "{range}"
        );
        assert_eq!(sq, [1.0, 4.0, 9.0]);
    }
    // P1 leaves in the middle of a product: P0's product fails and poisons its session.
    let (r0, _) = pair(64, Offline::Dealer, async |s: &mut S| {
        let x = input(s, Role::P0, &[1.0, 2.0], 2, 1).await?;
        if s.role() == Role::P1 {
            return Ok(None);
        }
        let e = s.mul(&x, &x).await.err().unwrap();
        let again = s.reveal(&x).await.err().unwrap();
        Ok(Some((e, again, s.failure().cloned())))
    });
    let (e, again, failure) = r0.unwrap().unwrap();
    assert_eq!(*e.kind(), ErrorKind::Closed, "{e}");
    assert_eq!(*again.kind(), ErrorKind::Poisoned);
    assert_eq!(failure, Some(e));
}

#[test]
fn a_closed_session_refuses_operations() {
    let (r0, r1) = pair(32, Offline::Dealer, async |s: &mut S| {
        let x = input(s, Role::P0, &[1.0], 1, 1).await?;
        s.close();
        // Local operations refuse a closed session too.
        let local = s.add(&x, &x).err().unwrap();
        Ok((s.reveal(&x).await.unwrap_err(), local))
    });
    for (a, b) in [r0.unwrap(), r1.unwrap()] {
        assert_eq!(*a.kind(), ErrorKind::SessionClosed);
        assert_eq!(*b.kind(), ErrorKind::SessionClosed);
    }
}

#[test]
fn bad_configurations_are_refused_before_connecting() {
    let base = SessionConfig::two_servers(Role::P0, Offline::Dealer);
    let cases = [
        SessionConfig {
            ring_bits: 48,
            ..base
        },
        SessionConfig {
            frac_bits: 63,
            ring_bits: 64,
            ..base
        },
        SessionConfig {
            frac_bits: 31,
            ring_bits: 32,
            ..base
        },
        SessionConfig {
            topology: Topology::TwoServers,
            ..base
        },
        SessionConfig {
            party: PartyId(2),
            ..base
        },
        // Function secret sharing needs the dealer.
        SessionConfig {
            backend: Backend::Fss,
            ..SessionConfig::two_servers(Role::P0, Offline::Ot)
        },
    ];
    for c in cases {
        assert!(c.check().is_err(), "{c:?}");
        let (a, _b) = duplex();
        let r = block_on_thread(Session::connect(c, seed(1), a, None));
        assert!(r.is_err(), "{c:?}");
    }
    // Four servers: OT between the primaries, the assistants' comparisons (Sa as the helper, or
    // Protocol 2's garbled circuit; no keys), local division.
    let four = SessionConfig::four_servers(Role::P1);
    for backend in [Backend::Auto, Backend::Helper, Backend::GarbledCircuits] {
        assert!(SessionConfig { backend, ..four }.check().is_ok());
    }
    for bad in [
        SessionConfig {
            topology: Topology::FourServers,
            ..base
        },
        SessionConfig {
            backend: Backend::Fss,
            ..four
        },
        SessionConfig {
            truncation: fixshare::Truncation::Exact,
            ..four
        },
        SessionConfig {
            party: PartyId(3),
            ..four
        },
        SessionConfig {
            precision_guard: Some(126),
            ..four
        },
    ] {
        assert!(matches!(
            bad.check().unwrap_err().kind(),
            ErrorKind::InvalidArgument(_)
        ));
    }
    let (a, _b) = duplex();
    let r = block_on_thread(Session::connect(four, seed(1), a, None));
    assert!(matches!(
        r.err().unwrap().kind(),
        ErrorKind::InvalidArgument(_)
    ));
    // Three servers: the helper is the dealer, and its backend needs them.
    let three = SessionConfig::three_servers(Role::P0);
    assert!(three.check().is_ok());
    for bad in [
        SessionConfig {
            offline: Offline::Ot,
            ..three
        },
        SessionConfig {
            party: PartyId(2),
            ..three
        },
        SessionConfig {
            backend: Backend::Helper,
            ..base
        },
    ] {
        assert!(
            matches!(
                bad.check().unwrap_err().kind(),
                ErrorKind::InvalidArgument(_)
            ),
            "{bad:?}"
        );
    }
    let (a, _b) = duplex();
    assert!(block_on_thread(Session::connect(three, seed(1), a, None)).is_err());
    // A dealer session without the dealer's connection, and an OT session with one.
    let (a, _b) = duplex();
    assert!(block_on_thread(Session::connect(base, seed(1), a, None)).is_err());
    let ot = SessionConfig::two_servers(Role::P0, Offline::Ot);
    let ((a, _b), (d, _e)) = (duplex(), duplex());
    assert!(block_on_thread(Session::connect(ot, seed(1), a, Some(d))).is_err());
}

#[test]
fn shares_cross_the_boundary_as_words() {
    let s = AnyShares::from_words(128, 1, 2, &[1, 2, 3, 4]).unwrap();
    assert_eq!(s.shape(), (1, 2));
    assert_eq!(s.to_words(), [1, 2, 3, 4]);
    assert!(AnyShares::from_words(128, 1, 2, &[1, 2, 3]).is_err());
    assert!(AnyShares::from_words(32, 1, 1, &[1 << 40]).is_err());
    assert!(AnyShares::from_words(16, 1, 1, &[1]).is_err());
    assert!(AnyShares::from_words(64, usize::MAX, 2, &[1]).is_err());
    let t = AnyShares::from_words(64, 2, 3, &[1, 2, 3, 4, 5, 6])
        .unwrap()
        .transpose();
    assert_eq!(t.to_words(), [1, 4, 2, 5, 3, 6]);
}

/// A three-server session (SecureNN): P0 and P1 hold sessions, P2 serves as their helper; the
/// helper backend's ReLU, division and max pooling with its derivative match plaintext.
#[test]
fn three_server_sessions_match_plaintext() {
    let (a, b) = duplex();
    let (h0, c0) = duplex();
    let (h1, c1) = duplex();
    let helper = thread::spawn(move || block_on_thread(Dealer::new(seed(5), h0, h1).serve()));
    let spawn = |role: Role, peer: MemoryTransport, helper: MemoryTransport| {
        thread::spawn(move || {
            block_on_thread(async move {
                let config = SessionConfig::three_servers(role);
                let mut s =
                    Session::connect(config, seed(60 + role.index() as u64), peer, Some(helper))
                        .await?;
                let x = input(&mut s, Role::P0, &[1.5, -2.0, 0.0, 3.25], 1, 4).await?;
                let r = s.relu(&x).await?;
                let num = input(&mut s, Role::P1, &[0.5, 1.0, 0.0, 2.0], 1, 4).await?;
                let den = input(&mut s, Role::P1, &[2.0, 1.0, 3.0, 8.0], 1, 4).await?;
                let q = s.divide(&num, &den).await?;
                let img = x.clone().reshape(1, 4)?;
                let pool = fixshare::Pool2d {
                    channels: 1,
                    height: 2,
                    width: 2,
                    window: 2,
                    stride: 2,
                };
                let (m, mask) = s.max_pool_with_derivative(&img, pool).await?;
                let mut out = Vec::new();
                for v in [&r, &q, &m, &mask] {
                    out.push(s.reveal(v).await?);
                }
                Ok::<_, fixshare::Error>(out)
            })
        })
    };
    let p0 = spawn(Role::P0, a, c0);
    let p1 = spawn(Role::P1, b, c1);
    let (r0, r1) = (p0.join().unwrap().unwrap(), p1.join().unwrap().unwrap());
    helper.join().unwrap().unwrap();
    assert_eq!(r0, r1);
    assert_eq!(r0[0], [1.5, 0.0, 0.0, 3.25]);
    assert_eq!(r0[1], [0.25, 1.0, 0.0, 0.25]);
    assert_eq!(r0[2], [3.25]);
    assert_eq!(r0[3], [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn four_server_sessions_match_plaintext() {
    use fixshare::assist::{Assistant, SA, SB};
    let (s1_s2, s2_s1) = duplex();
    let (s1_a, a_s1) = duplex();
    let (s1_b, b_s1) = duplex();
    let (s2_a, a_s2) = duplex();
    let (s2_b, b_s2) = duplex();
    let (a_b, b_a) = duplex();
    let assistants =
        [(SA, a_s1, a_s2, a_b, 7), (SB, b_s1, b_s2, b_a, 8)].map(|(me, s1, s2, other, n)| {
            thread::spawn(move || {
                block_on_thread(Assistant::new(me, s1, s2, other, seed(n))?.serve())
            })
        });
    let spawn = |role: Role, peer: MemoryTransport, sa: MemoryTransport, sb: MemoryTransport| {
        thread::spawn(move || {
            block_on_thread(async move {
                let config = SessionConfig::four_servers(role);
                let s = seed(70 + role.index() as u64);
                let mut s = Session::connect_with_assistants(config, s, peer, sa, sb).await?;
                let x = input(&mut s, Role::P0, &[1.5, -2.0, 0.0, 3.25], 1, 4).await?;
                let y = input(&mut s, Role::P1, &[0.5, 1.0, -7.0, 2.0], 1, 4).await?;
                let z = s.mul(&x, &y).await?;
                let r = s.relu(&x).await?;
                let lt = s.less_than(&x, &y).await?;
                let mut out = Vec::new();
                for v in [&z, &r, &lt] {
                    out.push(s.reveal(v).await?);
                }
                Ok::<_, fixshare::Error>(out)
            })
        })
    };
    let p0 = spawn(Role::P0, s1_s2, s1_a, s1_b);
    let p1 = spawn(Role::P1, s2_s1, s2_a, s2_b);
    let (r0, r1) = (p0.join().unwrap().unwrap(), p1.join().unwrap().unwrap());
    for a in assistants {
        a.join().unwrap().unwrap();
    }
    assert_eq!(r0, r1);
    for (got, want) in r0[0].iter().zip([0.75, -2.0, 0.0, 6.5]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
    assert_eq!(r0[1], [1.5, 0.0, 0.0, 3.25]);
    assert_eq!(r0[2], [0.0, 1.0, 0.0, 0.0]);
}
