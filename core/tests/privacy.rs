//! One party's view is independent of the other's secret: a two-sample chi-square test on the
//! bytes party 1 receives cannot tell two different secret inputs of party 0 apart, while the
//! same test does tell them apart when applied to the unmasked encodings (so it can fail).

mod common;

use common::{CRITICAL, Tap, chi_square, seed};
use fixshare::{Config, Dealer, DealerClient, FixedPoint, Party, Role, block_on_thread, duplex};
use std::sync::{Arc, Mutex};
use std::thread;

/// Party 0 shares its secret vector `x`, party 1 shares `y = 1`, they multiply, square and take
/// a matrix product; returns everything party 1 received from party 0 (its whole view).
fn view_of_party1(x: f64, run: u64) -> Vec<u8> {
    let n = 4096;
    let (a, b) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tap = Tap {
        inner: b,
        seen: seen.clone(),
    };
    let dealer =
        thread::spawn(move || block_on_thread(Dealer::new(seed(100 + run), d0, d1).serve()));
    let p0 = thread::spawn(move || {
        block_on_thread(async move {
            let src = DealerClient::connect(Role::P0, c0).await?;
            let mut p: Party<_, _> =
                Party::new(Role::P0, a, src, seed(200 + run), Config::default());
            let xs = p.share_input(&vec![x; n], n, 1).await?;
            let ys = p.receive_input(n, 1).await?;
            p.mul(&xs, &ys).await?;
            p.square(&xs).await?;
            p.matmul(&xs.clone().reshape(64, 64)?, &ys.clone().reshape(64, 64)?)
                .await?;
            Ok::<_, fixshare::Error>(())
        })
    });
    let p1 = thread::spawn(move || {
        block_on_thread(async move {
            let src = DealerClient::connect(Role::P1, c1).await?;
            let mut p: Party<_, _> =
                Party::new(Role::P1, tap, src, seed(300 + run), Config::default());
            let xs = p.receive_input(n, 1).await?;
            let ys = p.share_input(&vec![1.0; n], n, 1).await?;
            p.mul(&xs, &ys).await?;
            p.square(&xs).await?;
            p.matmul(&xs.clone().reshape(64, 64)?, &ys.clone().reshape(64, 64)?)
                .await?;
            Ok::<_, fixshare::Error>(())
        })
    });
    p0.join().unwrap().unwrap();
    p1.join().unwrap().unwrap();
    dealer.join().unwrap().unwrap();
    Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
}

#[test]
fn party1_view_does_not_depend_on_party0_secret() {
    let zero = view_of_party1(0.0, 1);
    let big = view_of_party1(12345.678, 2);
    assert_eq!(
        zero.len(),
        big.len(),
        "the view's length does not depend on the secret"
    );
    let stat = chi_square(&zero, &big);
    println!(
        "chi-square between views for x = 0 and x = 12345.678: {stat:.1} (critical {CRITICAL})"
    );
    assert!(stat < CRITICAL, "views distinguishable: chi-square {stat}");

    // Control: the unmasked encodings of the same two secrets are told apart at once.
    let fp = FixedPoint::default();
    let enc = |x: f64| -> Vec<u8> {
        (0..zero.len() / 8)
            .flat_map(|_| fp.encode::<u64>(x).unwrap().to_le_bytes())
            .collect()
    };
    let control = chi_square(
        &enc(0.0)[..zero.len() / 8 * 8],
        &enc(12345.678)[..zero.len() / 8 * 8],
    );
    assert!(
        control > CRITICAL,
        "the test must detect an unmasked secret: {control}"
    );
}
