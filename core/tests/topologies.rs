//! Topologies beyond two parties, on in-memory links: every party of a three-server and a
//! four-server topology shares an input among all, the parties add the shares locally and open
//! the sum to everyone. In three servers parties 0 and 1 also multiply with the two-party
//! protocols inside the larger topology (four servers' products need the assistants, which
//! `tests/four_servers.rs` runs). Checked against the plaintext sum and product in the same test.

mod common;

use common::seed;
use fixshare::arith::{nparty, online};
use fixshare::{
    Config, Context, Duty, ErrorKind, FixedPoint, IdealCorrelations, Link, Links, MemoryTransport,
    PartyId, Role, Shares, Topology, block_on_thread, duplex,
};
use std::thread;

type Ctx = Context<MemoryTransport, IdealCorrelations>;

/// Every party's links for `topology`: one in-memory duplex per linked pair.
fn links(topology: Topology) -> Vec<Links<MemoryTransport>> {
    let n = topology.parties();
    let mut all: Vec<Links<MemoryTransport>> =
        (0..n).map(|i| Links::new(PartyId(i as u8))).collect();
    for a in 0..n {
        for b in topology.peers(PartyId(a as u8)).filter(|b| b.index() > a) {
            let (x, y) = duplex();
            all[a].insert(b, Link::new(x)).unwrap();
            all[b.index()]
                .insert(PartyId(a as u8), Link::new(y))
                .unwrap();
        }
    }
    all
}

/// The context of each party; parties 0 and 1 share an ideal correlation source.
fn contexts(topology: Topology) -> Vec<Ctx> {
    links(topology)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let me = PartyId(i as u8);
            let source = IdealCorrelations::new(me.role().unwrap_or(Role::P0), seed(77));
            Context::new(topology, me, l, source, seed(i as u64), Config::default()).unwrap()
        })
        .collect()
}

/// Party `i`'s private input.
fn input(i: usize) -> Vec<f64> {
    (0..5).map(|j| (i as f64 + 1.0) * 1.25 - j as f64).collect()
}

async fn all_parties(ctx: &mut Ctx) -> Result<(Vec<f64>, Option<Vec<f64>>), fixshare::Error> {
    let fixed = ctx.fixed();
    let n = ctx.topology().parties();
    let me = ctx.me();
    // Each party shares its input among all; everyone adds the shares it holds.
    let mut sum: Shares<u64> = Shares::zeros(5, 1)?;
    for owner in 0..n {
        let x = if owner == me.index() {
            let mut v = vec![0u64; 5];
            fixed.encode_slice(&input(owner), &mut v)?;
            nparty::share_to_all(ctx, Shares::matrix(5, 1, v)?).await?
        } else {
            nparty::receive_from(ctx, PartyId(owner as u8), 5, 1).await?
        };
        sum = sum.add(&x)?;
    }
    let opened = nparty::open_to_all(ctx, &sum).await?;
    let sum = opened.iter().map(|&v| fixed.decode(v)).collect();
    // The share holders multiply with the two-party protocol inside three servers; four servers
    // multiply through their assistants (Protocol 1), so a context without them must refuse.
    let product = match ctx.duty() {
        Some(Duty::Server(_)) if ctx.topology() == Topology::FourServers => {
            let x = Shares::<u64>::zeros(5, 1)?;
            let refused = online::mul(ctx, &x, &x).await.err();
            assert!(
                matches!(
                    refused.as_ref().map(|e| e.kind()),
                    Some(ErrorKind::Unsupported(_))
                ),
                "four servers without assistants must refuse a product: {refused:?}"
            );
            None
        }
        Some(Duty::Server(role)) => {
            let x = match role {
                Role::P0 => online::share_input(ctx, &input(0), 5, 1).await?,
                Role::P1 => online::receive_input(ctx, 5, 1).await?,
            };
            let y = match role {
                Role::P1 => online::share_input(ctx, &input(1), 5, 1).await?,
                Role::P0 => online::receive_input(ctx, 5, 1).await?,
            };
            let z: Shares<u64> = online::mul(ctx, &x, &y).await?;
            Some(online::reveal(ctx, &z).await?)
        }
        _ => None,
    };
    Ok((sum, product))
}

fn run(topology: Topology) {
    let handles: Vec<_> = contexts(topology)
        .into_iter()
        .map(|mut ctx| thread::spawn(move || block_on_thread(all_parties(&mut ctx))))
        .collect();
    let n = topology.parties();
    let fixed = FixedPoint::default();
    let want: Vec<f64> = (0..5)
        .map(|j| (0..n).map(|i| input(i)[j]).sum::<f64>())
        .collect();
    let want_product: Vec<f64> = (0..5).map(|j| input(0)[j] * input(1)[j]).collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (sum, product) = h.join().expect("party panicked").unwrap();
        assert_eq!(sum, want, "{topology:?}: party {i}'s sum");
        match product {
            Some(p) => {
                for (g, w) in p.iter().zip(&want_product) {
                    let ulp = 2f64.powi(-(fixed.frac_bits() as i32));
                    assert!((g - w).abs() <= 2.0 * ulp, "{topology:?}: {g} vs {w}");
                }
            }
            None => assert!(
                i >= 2 || topology == Topology::FourServers,
                "{topology:?}: party {i} holds shares"
            ),
        }
    }
}

#[test]
fn three_servers_share_add_and_open() {
    run(Topology::ThreeServers);
}

#[test]
fn four_servers_share_add_and_open() {
    run(Topology::FourServers);
}

#[test]
fn topologies_name_their_parties() {
    let t = Topology::FourServers;
    let names: Vec<_> = (0..4).map(|i| t.name(PartyId(i))).collect();
    assert_eq!(names, ["S1", "S2", "Sa", "Sb"]);
    assert_eq!(t.duty(PartyId(3)), Some(Duty::Assistant));
    assert_eq!(Topology::ThreeServers.duty(PartyId(2)), Some(Duty::Helper));
    assert_eq!(Topology::ThreeServers.duty(PartyId(3)), None);
    // With a dealer, the servers' session links lead only to each other.
    let d = Topology::TwoServersDealer;
    assert_eq!(d.duty(PartyId(2)), Some(Duty::Dealer));
    assert_eq!(d.peers(PartyId(0)).collect::<Vec<_>>(), [PartyId(1)]);
}

#[test]
fn a_context_needs_exactly_the_topologys_links() {
    let mut all = links(Topology::ThreeServers);
    let mut l0 = all.remove(0);
    // A link to P2 is missing.
    let mut partial = Links::new(PartyId(0));
    partial.insert(PartyId(1), Link::new(duplex().0)).unwrap();
    let source = IdealCorrelations::new(Role::P0, seed(1));
    let e = Context::new(
        Topology::ThreeServers,
        PartyId(0),
        partial,
        source,
        seed(2),
        Config::default(),
    )
    .err()
    .expect("a missing link is refused");
    assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
    // A link to a party outside the topology.
    l0.insert(PartyId(5), Link::new(duplex().0)).unwrap();
    let source = IdealCorrelations::new(Role::P0, seed(1));
    assert!(
        Context::new(
            Topology::ThreeServers,
            PartyId(0),
            l0,
            source,
            seed(2),
            Config::default()
        )
        .is_err()
    );
    // A party has no link to itself.
    let mut l = Links::<MemoryTransport>::new(PartyId(1));
    assert!(l.insert(PartyId(1), Link::new(duplex().0)).is_err());
}
