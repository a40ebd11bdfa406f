//! PrivPy's four servers: products without triples (Protocol 1) and sign tests with the
//! assistants (Sa as SecureNN's helper, and Protocol 2's garbled circuit between them), run by
//! four concurrently executing parties and checked against the plaintext fixed-point reference;
//! Theorem 2's failure rate measured; a primary that leaves.

mod common;

use common::{TestRng, run_four};
use fixshare::{Backend, Config, ErrorKind, Ring, Role, Shares};

/// Shares of raw ring values `x`, P1 holding the deterministic mask `r`.
fn share<R: Ring>(role: Role, x: &[R], tag: u64) -> Shares<R> {
    let mut rng = TestRng(0x9e37_79b9 ^ tag);
    let data = x
        .iter()
        .map(|&v| {
            let r = R::from_u64(rng.next_u64()).add(R::from_u64(rng.next_u64()).shl(64 % R::BITS));
            match role {
                Role::P0 => v.sub(r),
                Role::P1 => r,
            }
        })
        .collect();
    Shares::vector(data)
}

fn config(frac_bits: u32) -> Config {
    Config {
        fixed: fixshare::FixedPoint::new(frac_bits).unwrap(),
        ..Config::default()
    }
}

/// The two ways four servers compare: Sa as the helper (the default) and Protocol 2.
const SIGN_BACKENDS: [Backend; 2] = [Backend::Auto, Backend::GarbledCircuits];

/// Raw fixed-point test values: edges and random values of magnitude below `2^bits`.
fn values(n: usize, bits: u32, tag: u64) -> Vec<i128> {
    let top = (1i128 << bits) - 1;
    let mut v = vec![
        0,
        1,
        -1,
        2,
        -2,
        top,
        -top,
        1 << (bits / 2),
        -(1 << (bits / 2)),
    ];
    let mut rng = TestRng(tag);
    while v.len() < n {
        let r = (rng.next_u64() as i128) % (top + 1);
        v.push(if rng.next_u64() & 1 == 0 { r } else { -r });
    }
    v
}

/// Products over ring `R` with `f` fractional bits and operands below `2^bits`: elementwise,
/// integer, square and matrix products against the exact integer reference.
fn check_products<R: Ring>(f: u32, bits: u32, tag: u64) {
    let n = 200;
    let (xs, ys) = (values(n, bits, tag), values(n, bits, tag + 1));
    let to_ring = |v: &[i128]| v.iter().map(|&x| R::from_i128(x)).collect::<Vec<R>>();
    let (xr, yr) = (to_ring(&xs), to_ring(&ys));
    // A 4 x 5 by 5 x 3 matrix product from the first values.
    let (a, b) = (xr[..20].to_vec(), yr[..15].to_vec());
    let (r0, r1) = run_four::<R, _, _, _>(config(f), tag, move |mut p| {
        let (xr, yr, a, b) = (xr.clone(), yr.clone(), a.clone(), b.clone());
        async move {
            let role = p.role();
            let (x, y) = (share(role, &xr, 1), share(role, &yr, 2));
            let a = share(role, &a, 3).reshape(4, 5)?;
            let b = share(role, &b, 4).reshape(5, 3)?;
            let z = p.mul(&x, &y).await?;
            let zi = p.mul_integer(&x, &y).await?;
            let sq = p.square(&x).await?;
            let mm = p.matmul(&a, &b).await?;
            let mut out = Vec::new();
            for s in [&z, &zi, &sq, &mm] {
                out.push(p.open(s).await?);
            }
            Ok(out)
        }
    });
    let (o0, o1) = (r0.unwrap(), r1.unwrap());
    assert_eq!(o0, o1);
    let signed = |v: R| v.to_signed();
    // Within [-3, 0] units in the last place of floor(x y / 2^f): four terms rounded down.
    let near = |got: R, exact: i128, what: &str| {
        let d = signed(got) - (exact >> f);
        assert!(
            (-3..=0).contains(&d),
            "{what}: got {got:?}, want {}",
            exact >> f
        );
    };
    for i in 0..n {
        near(o0[0][i], xs[i] * ys[i], "mul");
        assert_eq!(
            o0[1][i],
            R::from_i128(xs[i].wrapping_mul(ys[i])),
            "mul_integer"
        );
        near(o0[2][i], xs[i] * xs[i], "square");
    }
    for i in 0..4 {
        for j in 0..3 {
            let exact: i128 = (0..5).map(|t| xs[i * 5 + t] * ys[t * 3 + j]).sum();
            near(o0[3][i * 3 + j], exact, "matmul");
        }
    }
}

#[test]
fn products_without_triples_equal_the_fixed_point_reference() {
    check_products::<u64>(16, 31, 1);
    check_products::<u128>(32, 60, 2);
    check_products::<u32>(8, 15, 3);
}

#[test]
fn comparisons_relu_and_max_are_exact_on_the_whole_ring() {
    fn run<R: Ring>(backend: Backend, tag: u64) {
        let f = 16;
        let mut xs: Vec<i128> = values(300, R::BITS - 2, tag);
        let half = 1i128 << (R::BITS - 1);
        xs.extend([half - 1, -half, -half + 1, half - 2]);
        let xr: Vec<R> = xs.iter().map(|&v| R::from_i128(v)).collect();
        let config = Config {
            backend,
            ..config(f)
        };
        let (r0, r1) = run_four::<R, _, _, _>(config, 10 + tag, move |mut p| {
            let xr = xr.clone();
            async move {
                let role = p.role();
                let x = share(role, &xr, 5);
                let d = p.drelu(&x).await?;
                let (relu, dr) = p.relu_with_derivative(&x).await?;
                let rows = x.clone().reshape(xr.len() / 4, 4)?;
                let (m, i) = p.argmax(&rows).await?;
                let mut out = Vec::new();
                for s in [&d, &relu, &dr, &m, &i] {
                    out.push(p.open(s).await?);
                }
                Ok(out)
            }
        });
        let (o0, o1) = (r0.unwrap(), r1.unwrap());
        assert_eq!(o0, o1);
        let one = R::ONE.shl(f);
        for (k, &x) in xs.iter().enumerate() {
            let ge = if x >= 0 { one } else { R::ZERO };
            assert_eq!(o0[0][k], ge, "{backend:?}: drelu({x})");
            assert_eq!(o0[1][k], R::from_i128(x.max(0)), "relu({x})");
            assert_eq!(o0[2][k], ge, "relu derivative({x})");
        }
        // argmax of rows of 4 whose differences stay inside the ring's half: only the first
        // rows (values below 2^(k-2)).
        for (r, row) in xs.chunks(4).enumerate().take(70) {
            let best = row.iter().copied().max().unwrap();
            let at = row.iter().position(|&v| v == best).unwrap();
            assert_eq!(o0[3][r], R::from_i128(best), "max of row {r}");
            assert_eq!(
                o0[4][r],
                R::from_i128((at as i128) << f),
                "argmax of row {r}"
            );
        }
    }
    for backend in SIGN_BACKENDS {
        run::<u64>(backend, 1);
        run::<u128>(backend, 2);
    }
}

/// PrivPy's Theorem 2: a product fails when the re-randomized shares of an operand wrap, with
/// probability `|x| / 2^k`. Over Z_2^32 with `x = 2^22` that is 2^-10; with `y = 0.75` at 8
/// fractional bits a failure moves the product by `2^24 * 192 mod 2^32`, so each one shows.
#[test]
fn theorem_2_failure_rate_is_as_predicted() {
    let n = 100_000;
    let (x, y) = (1u32 << 22, 192u32);
    let (r0, _) = run_four::<u32, _, _, _>(config(8), 20, move |mut p| async move {
        let role = p.role();
        let xs = share(role, &vec![x; n], 6);
        let ys = share(role, &vec![y; n], 7);
        let z = p.mul(&xs, &ys).await?;
        p.open(&z).await
    });
    let want = ((x as i128 * y as i128) >> 8) as i64;
    let failures = r0
        .unwrap()
        .iter()
        .filter(|&&z| !(-3..=0).contains(&(z as i32 as i64 - want)))
        .count();
    let p = x as f64 / 2f64.powi(32) + y as f64 / 2f64.powi(32);
    let (mean, sd) = (p * n as f64, (p * (1.0 - p) * n as f64).sqrt());
    println!("failures {failures} of {n}; predicted {mean:.1} +- {sd:.1}");
    assert!(
        (failures as f64 - mean).abs() <= 5.0 * sd,
        "{failures} failures, predicted {mean:.1}"
    );
}

#[test]
fn a_primary_that_leaves_ends_the_other_with_closed() {
    let (r0, r1) = run_four::<u64, _, _, _>(config(16), 30, move |mut p| async move {
        if p.role() == Role::P1 {
            return Ok(());
        }
        let x = share(p.role(), &[1u64, 2, 3], 8);
        p.mul(&x, &x).await.map(|_| ())
    });
    assert!(r1.is_ok());
    let e = r0.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Closed, "{e}");
}

/// PrivPy's experiment on a real dataset: logistic regression on breast_cancer (UCI; standardized
/// with the training rows' means and deviations) by the four servers over Z_2^128 with 32
/// fractional bits, with the logistic function itself (exp and a reciprocal on the shares, as
/// PrivPy), against plaintext f64 SGD with the exact function in the same order.
#[test]
fn four_servers_train_breast_cancer_like_plaintext_f64() {
    use fixshare::ml::{Dataset, GlmModel, SgdParams, Sigmoid, plain};
    let text = std::fs::read("../examples/data/breast_cancer.csv").unwrap();
    let data = Dataset::from_csv_bytes(&text).unwrap();
    let (train, test) = data.split_every(5);
    let d = train.features();
    let standardize = |x: &[f64]| -> Vec<f64> {
        let n = train.rows() as f64;
        let mut out = x.to_vec();
        for j in 0..d {
            let col = train.x.iter().skip(j).step_by(d);
            let mean = col.clone().sum::<f64>() / n;
            let sd = (col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            for v in out.iter_mut().skip(j).step_by(d) {
                *v = (*v - mean) / sd.max(1e-12);
            }
        }
        out
    };
    let (x, tx) = (standardize(&train.x), standardize(&test.x));
    let params = SgdParams {
        epochs: 10,
        batch: 32,
        learning_rate: 0.5,
    };
    let model = GlmModel::Logistic(Sigmoid::Logistic);
    let twin = plain::train_glm(&x, &train.y, d, model, &params);
    let (rows, y) = (train.rows(), train.y.clone());
    let (r0, r1) = run_four::<u128, _, _, _>(config(32), 40, move |mut p| {
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
    let (w0, w1) = (r0.unwrap(), r1.unwrap());
    assert_eq!(w0, w1);
    let rel = plain::rel_rmse(&w0, &twin);
    let (acc, twin_acc) = (
        plain::accuracy(&tx, &test.y, d, &w0),
        plain::accuracy(&tx, &test.y, d, &twin),
    );
    println!("weights_rel_rmse {rel:.3e}; accuracy {acc} (plaintext {twin_acc})");
    assert!(rel <= 1e-6, "weights_rel_rmse {rel}");
    assert_eq!(acc, twin_acc);
}

/// Everything each of the four servers receives while the primaries multiply, multiply matrices
/// and run ReLU on `x` with `backend` (S2's shares fixed, so only the data differs between two
/// runs).
fn views(x: f64, backend: Backend, tag: u64) -> [Vec<u8>; 4] {
    use common::{View, Wire, run_four_over};
    let views: [View; 4] = Default::default();
    let n = 1 << 12;
    let recorded = views.clone();
    let wrap = move |i: usize, inner| Wire {
        inner,
        view: recorded[i].clone(),
        cut: None,
    };
    let config = Config {
        backend,
        ..config(16)
    };
    let (r0, r1) = run_four_over::<u64, _, _, _, _>(config, tag, wrap, move |mut p| async move {
        let fp = fixshare::FixedPoint::new(16)?;
        let v: Vec<u64> = (0..n)
            .map(|i| fp.encode(x * (1.0 + (i % 7) as f64)))
            .collect::<Result<_, _>>()?;
        let s = share(p.role(), &v, 9);
        p.mul(&s, &s).await?;
        let m = s.clone().reshape(64, 64)?;
        p.matmul(&m, &m).await?;
        p.relu(&s).await?;
        Ok(())
    });
    r0.unwrap();
    r1.unwrap();
    views.map(|v| std::mem::take(&mut *v.lock().unwrap()))
}

/// Each server's view is independent of the data: a chi-square test over the bytes each one
/// receives for x = 0 and x = 1234.5, with a control that shows the test can fail.
#[test]
fn each_of_the_four_views_is_independent_of_the_data() {
    use common::{CRITICAL, chi_square};
    // The control's length: Sa's view with the default backend.
    let mut control_len = 0;
    for backend in SIGN_BACKENDS {
        let zero = views(0.0, backend, 50);
        if backend == Backend::Auto {
            control_len = zero[2].len();
        }
        let big = views(1234.5, backend, 51);
        for (i, name) in ["S1", "S2", "Sa", "Sb"].iter().enumerate() {
            assert_eq!(
                zero[i].len(),
                big[i].len(),
                "{backend:?}: {name}'s view length"
            );
            let stat = chi_square(&zero[i], &big[i]);
            println!(
                "{backend:?}: {name}: chi-square {stat:.1} over {} bytes (critical {CRITICAL})",
                zero[i].len()
            );
            assert!(
                stat < CRITICAL,
                "{backend:?}: {name}'s views are distinguishable: {stat}"
            );
        }
    }
    let fp = fixshare::FixedPoint::new(16).unwrap();
    let enc = |x: f64| -> Vec<u8> {
        (0..control_len / 8)
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
