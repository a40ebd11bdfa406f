//! SecureNN's three servers ([`fixshare::helper`]): P0 and P1 hold the shares, P2 deals and helps
//! online. The sign test against the plaintext at the edges of every ring with shares that wrap
//! around the ring in every way; each server's view independent of the data (a chi-square test
//! per server, with a control that shows the test can fail); a server that leaves mid-step gives
//! `Closed` at the other two.

mod common;

use common::{CRITICAL, TestRng, View, Wire, chi_square, seed};
use fixshare::{
    Config, Context, Dealer, DealerClient, Error, ErrorKind, FixedPoint, Link, Links, Party,
    PartyId, Ring, Role, Shares, Topology, block_on_thread, duplex,
};
use std::future::Future;
use std::thread;

type ThreeParty<R> = Party<Wire, DealerClient<Wire>, R>;

struct Run<V> {
    p0: Result<V, Error>,
    p1: Result<V, Error>,
    helper: Result<(), Error>,
    /// What P0, P1 and P2 received.
    views: [Vec<u8>; 3],
}

/// Runs `body` as P0 and P1 with the helper P2, on three threads; `cut` makes P2 leave after
/// sending that many bytes to P1.
fn three<R, V, F, Fut>(config: Config, tag: u64, cut: Option<usize>, body: F) -> Run<V>
where
    R: Ring + Send + 'static,
    V: Send + 'static,
    F: Fn(ThreeParty<R>) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = Result<V, Error>>,
{
    let views: [View; 3] = Default::default();
    let wire = |inner, i: usize, cut| Wire {
        inner,
        view: views[i].clone(),
        cut,
    };
    let (a01, a10) = duplex();
    let (a20, a02) = duplex();
    let (a21, a12) = duplex();
    let (p2_0, p2_1) = (wire(a20, 2, None), wire(a21, 2, cut));
    let helper = thread::spawn(move || {
        block_on_thread(Dealer::new(seed(3000 + tag), p2_0, p2_1).serve()).map(|_| ())
    });
    let spawn = |role: Role, peer: Wire, to_helper: Wire| {
        let body = body.clone();
        thread::spawn(move || {
            block_on_thread(async move {
                let me = PartyId::of(role);
                let mut links = Links::new(me);
                links.insert(PartyId::of(role.peer()), Link::new(peer))?;
                links.insert(PartyId(2), Link::new(to_helper))?;
                let source = DealerClient::through_helper(role, &mut links).await?;
                let seed = seed(40 * tag + role.index() as u64);
                let ctx = Context::new(Topology::ThreeServers, me, links, source, seed, config)?;
                body(Party::from_context(ctx)?).await
            })
        })
    };
    let h0 = spawn(Role::P0, wire(a01, 0, None), wire(a02, 0, None));
    let h1 = spawn(Role::P1, wire(a10, 1, None), wire(a12, 1, None));
    let p0 = h0.join().expect("P0 panicked");
    let p1 = h1.join().expect("P1 panicked");
    let helper = helper.join().expect("P2 panicked");
    let views = views.map(|v| std::mem::take(&mut *v.lock().unwrap()));
    Run {
        p0,
        p1,
        helper,
        views,
    }
}

/// The shares of `x` with P1 holding `r`: P0 holds `x - r`.
fn share<R: Ring>(role: Role, x: &[R], r: &[R]) -> Shares<R> {
    let data = x
        .iter()
        .zip(r)
        .map(|(&x, &r)| match role {
            Role::P0 => x.sub(r),
            Role::P1 => r,
        })
        .collect();
    Shares::vector(data)
}

/// Values at the edges of ring `R` and random ones, each paired with P1 shares that make the
/// sharing wrap around the ring in every way (0, +-1, the ends of the ring, `x`, `-x`, random).
fn edge_cases<R: Ring>(tag: u64) -> (Vec<R>, Vec<R>) {
    let k = R::BITS;
    let half = R::ONE.shl(k - 1);
    let mut rng = TestRng(tag);
    let mut random = || {
        R::from_u64(rng.next_u64())
            .shl(k.saturating_sub(64))
            .add(R::from_u64(rng.next_u64()))
    };
    let mut values = vec![
        R::ZERO,
        R::ONE,
        R::ONE.neg(),
        R::from_u64(2),
        R::from_u64(2).neg(),
        half,
        half.sub(R::ONE),
        half.add(R::ONE),
        R::ONE.shl(k - 2),
        R::ONE.shl(k - 2).neg(),
        R::ONE.shl(k - 2).sub(R::ONE),
    ];
    values.extend((0..40).map(|_| random()));
    let (mut xs, mut rs) = (Vec::new(), Vec::new());
    for &x in &values {
        for r in [
            R::ZERO,
            R::ONE,
            R::ONE.neg(),
            half,
            half.sub(R::ONE),
            x,
            x.neg(),
            random(),
        ] {
            xs.push(x);
            rs.push(r);
        }
    }
    (xs, rs)
}

/// DReLU and ReLU on the edge cases of ring `R`: exact.
fn sign_at_the_edges<R: Ring + Send + 'static>(tag: u64) {
    let config = Config {
        fixed: FixedPoint::new(8).unwrap(),
        ..Config::default()
    };
    let (x, r) = edge_cases::<R>(tag);
    let (xs, rs) = (x.clone(), r.clone());
    let run = three::<R, _, _, _>(config, tag, None, move |mut p| {
        let (x, r) = (xs.clone(), rs.clone());
        async move {
            let s = share(p.role(), &x, &r);
            let d = p.drelu(&s).await?;
            let relu = p.relu(&s).await?;
            Ok((p.open(&d).await?, p.open(&relu).await?))
        }
    });
    let (d, relu) = run.p0.unwrap();
    assert_eq!(run.p1.unwrap(), (d.clone(), relu.clone()));
    run.helper.unwrap();
    for (i, &v) in x.iter().enumerate() {
        let positive = !v.msb();
        let want_d = if positive { R::ONE.shl(8) } else { R::ZERO };
        let want_relu = if positive { v } else { R::ZERO };
        assert!(d[i] == want_d, "Z_2^{}: drelu of element {i}", R::BITS);
        assert!(relu[i] == want_relu, "Z_2^{}: relu of element {i}", R::BITS);
    }
}

#[test]
fn sign_is_exact_at_the_edges_of_every_ring() {
    sign_at_the_edges::<u32>(1);
    sign_at_the_edges::<u64>(2);
    sign_at_the_edges::<u128>(3);
}

/// Everything each server receives while P0 and P1 run ReLU, max pooling with its derivative,
/// and a division on `x` (P1's shares fixed, so only the data differs between two runs).
fn views(x: f64, tag: u64) -> [Vec<u8>; 3] {
    let n = 1 << 12;
    let run = three::<u64, _, _, _>(Config::default(), tag, None, move |mut p| async move {
        let fp = FixedPoint::default();
        let v: Vec<u64> = (0..n)
            .map(|i| fp.encode(x * (1.0 + (i % 7) as f64)).unwrap())
            .collect();
        let r: Vec<u64> = (0..n as u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let s = share(p.role(), &v, &r);
        p.relu(&s).await?;
        let pool = fixshare::Pool2d {
            channels: 1,
            height: 64,
            width: 64,
            window: 2,
            stride: 2,
        };
        p.max_pool_with_derivative(&s.clone().reshape(1, n)?, pool)
            .await?;
        let y = s.add(&s)?;
        p.divide(&s, &y).await?;
        Ok(())
    });
    run.p0.unwrap();
    run.p1.unwrap();
    run.helper.unwrap();
    run.views
}

#[test]
fn each_server_view_is_independent_of_the_data() {
    let zero = views(0.0, 11);
    let big = views(1234.5, 12);
    for (i, name) in ["P0", "P1", "P2"].iter().enumerate() {
        assert_eq!(zero[i].len(), big[i].len(), "{name}'s view length");
        let stat = chi_square(&zero[i], &big[i]);
        println!(
            "{name}: chi-square between views for x = 0 and x = 1234.5: {stat:.1} (critical {CRITICAL})"
        );
        assert!(
            stat < CRITICAL,
            "{name}'s views are distinguishable: {stat}"
        );
    }
    // Control: the same test tells the unmasked encodings of the two inputs apart at once.
    let fp = FixedPoint::default();
    let enc = |x: f64| -> Vec<u8> {
        (0..zero[2].len() / 8)
            .flat_map(|i| {
                fp.encode::<u64>(x * (1.0 + (i % 7) as f64))
                    .unwrap()
                    .to_le_bytes()
            })
            .collect()
    };
    let stat = chi_square(&enc(0.0), &enc(1234.5));
    assert!(
        stat > CRITICAL,
        "the control must be distinguishable: {stat}"
    );
}

/// P1 leaves before a ReLU: P0 and the helper get `Closed`, nothing hangs.
#[test]
fn a_party_leaving_mid_step_closes_the_others() {
    let run = three::<u64, _, _, _>(Config::default(), 21, None, |mut p| async move {
        let x = share(p.role(), &[5u64; 3000], &[7u64; 3000]);
        if p.role() == Role::P1 {
            return Ok(None);
        }
        Ok(Some(p.relu(&x).await.unwrap_err()))
    });
    assert!(run.p1.unwrap().is_none());
    let e = run.p0.unwrap().unwrap();
    assert_eq!(*e.kind(), ErrorKind::Closed, "P0: {e}");
    let e = run.helper.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Closed, "P2: {e}");
}

/// The helper leaves in the middle of a sign step (after part of its message to P1): both
/// parties get `Closed`.
#[test]
fn the_helper_leaving_mid_step_closes_both_parties() {
    for cut in [100, 5_000, 200_000] {
        let run = three::<u64, _, _, _>(Config::default(), 22, Some(cut), |mut p| async move {
            let x = share(p.role(), &[5u64; 3000], &[7u64; 3000]);
            p.relu(&x).await.map(|_| ())
        });
        for (name, r) in [("P0", run.p0), ("P1", run.p1), ("P2", run.helper)] {
            let e = r.expect_err(name);
            assert_eq!(*e.kind(), ErrorKind::Closed, "cut {cut}, {name}: {e}");
        }
    }
}
