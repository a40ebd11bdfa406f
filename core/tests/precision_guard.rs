//! The precision guard (`Config::precision_guard`): it stops a product whose value nears the
//! point where local truncation fails or the ring wraps, before a wrong number comes out; the
//! same products without it give wrong numbers; it stays silent on ordinary values and on the
//! breast_cancer logistic regression; with the dealer (FSS signs), three and four servers.

mod common;

use common::{run_four, run_pair, run_three};
use fixshare::{Config, ErrorKind, FixedPoint, Role, Shares};

fn config(guard: Option<u32>) -> Config {
    Config {
        precision_guard: guard,
        ..Config::default()
    }
}

/// Shares of fixed-point `values` (Z_2^64, 16 fractional bits), P1 holding a fixed mask.
fn share(role: Role, values: &[f64]) -> Shares<u64> {
    let fp = FixedPoint::default();
    Shares::vector(
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let r = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                match role {
                    Role::P0 => fp.encode::<u64>(v).unwrap().wrapping_sub(r),
                    Role::P1 => r,
                }
            })
            .collect(),
    )
}

/// 10^4 products of `a * b` with the dealer: the opened results, or the error.
fn products(a: f64, b: f64, guard: Option<u32>, tag: u64) -> Result<Vec<f64>, fixshare::Error> {
    let (r0, r1) = run_pair(config(guard), tag, move |mut p| async move {
        let (x, y) = (share(p.role(), &[a; 10_000]), share(p.role(), &[b; 10_000]));
        let z = p.mul(&x, &y).await?;
        p.reveal(&z).await
    });
    assert_eq!(r0.is_ok(), r1.is_ok());
    r0
}

#[test]
fn the_guard_fires_before_local_truncation_fails_and_the_ring_wraps() {
    // 2^13 * 2^13 = 2^26 is a fixed-point product of 2^58 before truncation: local truncation
    // fails with probability about 2^58 / 2^64 = 1/64 per element.
    let wrong = products(8192.0, 8192.0, None, 1).unwrap();
    let bad = wrong
        .iter()
        .filter(|&&v| (v - 67_108_864.0).abs() > 1e-3)
        .count();
    assert!(bad > 20, "{bad} failures among 10^4 unguarded products");
    println!("unguarded: {bad} of 10^4 products wrong");
    let e = products(8192.0, 8192.0, Some(20), 2).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::PrecisionGuard { headroom: 20 }, "{e}");
    assert_eq!(e.op(), "mul");
    // 2^20 * 2^20 wraps the ring outright: every unguarded product is wrong.
    let wrapped = products(1048576.0, 1048576.0, None, 3).unwrap();
    assert!(wrapped.iter().all(|&v| (v - 2f64.powi(40)).abs() > 1.0));
    let e = products(1048576.0, 1048576.0, Some(1), 3).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::PrecisionGuard { headroom: 1 });
    // Ordinary values: silent, and the products right.
    let ok = products(-3.25, 4.5, Some(20), 4).unwrap();
    assert!(ok.iter().all(|&v| (v - -3.25 * 4.5).abs() < 1e-3));
}

#[test]
fn the_guard_fires_with_three_and_four_servers() {
    let body = |a: f64, b: f64| {
        move |mut p: common::TestParty| async move {
            let (x, y) = (share(p.role(), &[a; 64]), share(p.role(), &[b; 64]));
            let z = p.mul(&x, &y).await?;
            p.reveal(&z).await
        }
    };
    let (r0, _) = run_three(config(Some(20)), 5, body(4096.0, 4096.0));
    assert_eq!(
        *r0.unwrap_err().kind(),
        ErrorKind::PrecisionGuard { headroom: 20 }
    );
    let (r0, _) = run_three(config(Some(20)), 6, body(3.5, -2.0));
    assert!(r0.unwrap().iter().all(|&v| (v + 7.0).abs() < 1e-3));
    let four = |a: f64, b: f64, tag| {
        run_four::<u64, _, _, _>(config(Some(20)), tag, move |mut p| async move {
            let (x, y) = (share(p.role(), &[a; 64]), share(p.role(), &[b; 64]));
            let z = p.mul(&x, &y).await?;
            p.reveal(&z).await
        })
        .0
    };
    // Four servers divide inside exact products (no local truncation to fail), so 2^12 * 2^12
    // is safe there; 2^24 * 2^24 wraps the ring.
    assert!(
        four(4096.0, 4096.0, 7)
            .unwrap()
            .iter()
            .all(|&v| (v - 16_777_216.0).abs() < 1e-3)
    );
    let e = four(16_777_216.0, 16_777_216.0, 7).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::PrecisionGuard { headroom: 20 });
    assert!(
        four(3.5, -2.0, 8)
            .unwrap()
            .iter()
            .all(|&v| (v + 7.0).abs() < 1e-3)
    );
}

/// The shipped example's training (breast_cancer logistic regression, standardized, 16
/// fractional bits over Z_2^64) runs under the guard without a false alarm.
#[test]
fn the_guard_stays_silent_on_the_breast_cancer_regression() {
    use fixshare::ml::{Dataset, GlmModel, SgdParams, Sigmoid, plain};
    let text = std::fs::read("../examples/data/breast_cancer.csv").unwrap();
    let data = Dataset::from_csv_bytes(&text).unwrap();
    let d = data.features();
    let n = data.rows() as f64;
    let mut x = data.x.clone();
    for j in 0..d {
        let col: Vec<f64> = data.x.iter().skip(j).step_by(d).copied().collect();
        let mean = col.iter().sum::<f64>() / n;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        for v in x.iter_mut().skip(j).step_by(d) {
            *v = (*v - mean) / sd.max(1e-12);
        }
    }
    let (rows, y) = (data.rows(), data.y.clone());
    let params = SgdParams {
        epochs: 2,
        batch: 32,
        learning_rate: 0.5,
    };
    let model = GlmModel::Logistic(Sigmoid::Piecewise);
    let twin = plain::train_glm(&x, &y, d, model, &params);
    let (r0, _) = run_pair(config(Some(20)), 9, move |mut p| {
        let (x, y) = (x.clone(), y.clone());
        async move {
            let (xs, ys) = match p.role() {
                Role::P0 => (
                    p.share_input(&x, rows, d).await?,
                    p.share_input(&y, rows, 1).await?,
                ),
                Role::P1 => (
                    p.receive_input(rows, d).await?,
                    p.receive_input(rows, 1).await?,
                ),
            };
            let w = p.train_glm(&xs, &ys, model, &params, |_| {}).await?;
            p.reveal(&w).await
        }
    });
    let w = r0.unwrap();
    assert!(plain::rel_rmse(&w, &twin) < 1e-2);
}
