//! Back-propagation through convolution, ReLU, max-pooling and dense layers on shares, against
//! the plaintext twin (the same code on `f64`, same order, same initial weights): with three
//! servers (the helper's protocols, SecureNN) and with two servers and the dealer (FSS). Also
//! mean pooling and the square activation, and the refusal of overlapping max-pool windows.

mod common;

use common::{TestRng, run_pair, run_three};
use fixshare::ml::inference::{Image, Layer, Network};
use fixshare::ml::train::{init_weights, securenn_network, train_network_plain};
use fixshare::ml::{MlpLoss, SgdParams};
use fixshare::{Config, ErrorKind, FixedPoint, Role, Shares};

/// 8x8 one-channel images; the label is the quadrant with the brightest mean.
fn images(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = TestRng(seed);
    let mut x = Vec::with_capacity(n * 64);
    let mut y = vec![0.0; n * 4];
    for i in 0..n {
        let hot = (rng.next_u64() % 4) as usize;
        for r in 0..8 {
            for c in 0..8 {
                let q = (r / 4) * 2 + c / 4;
                let base = if q == hot { 0.8 } else { 0.1 };
                x.push(base + rng.uniform(0.0, 0.3));
            }
        }
        y[i * 4 + hot] = 1.0;
    }
    (x, y)
}

fn small_cnn(pool: Layer) -> Network {
    let image = |channels, side| Image {
        channels,
        height: side,
        width: side,
    };
    Network {
        input: 64,
        layers: vec![
            Layer::Conv {
                input: image(1, 8),
                filters: 3,
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            Layer::Relu,
            pool,
            Layer::Dense {
                inputs: 48,
                outputs: 8,
            },
            Layer::Square,
            Layer::Dense {
                inputs: 8,
                outputs: 4,
            },
        ],
    }
}

fn max_pool() -> Layer {
    Layer::MaxPool {
        input: Image {
            channels: 3,
            height: 8,
            width: 8,
        },
        window: 2,
        stride: 2,
    }
}

const PARAMS: SgdParams = SgdParams {
    epochs: 2,
    batch: 16,
    learning_rate: 0.05,
};

/// Trains `net` on shares (data shared by the test: P0 holds `v - r`, P1 `r`) and opens the
/// weights.
fn secure(three: bool, net: Network, tag: u64) -> Vec<Vec<f64>> {
    let (x, y) = images(64, 7);
    let w0 = init_weights(&net, 3);
    let body = move |mut p: common::TestParty| {
        let (x, y, w0, net) = (x.clone(), y.clone(), w0.clone(), net.clone());
        async move {
            let fp = FixedPoint::default();
            let share = |v: &[f64], rows, cols, salt: u64| {
                let mut rng = TestRng(salt);
                let data = v
                    .iter()
                    .map(|&a| {
                        let r = rng.next_u64();
                        let e: u64 = fp.encode(a).unwrap();
                        if p.role() == Role::P0 {
                            e.wrapping_sub(r)
                        } else {
                            r
                        }
                    })
                    .collect();
                Shares::matrix(rows, cols, data).unwrap()
            };
            let (xs, ys) = (share(&x, 64, 64, 1), share(&y, 64, 4, 2));
            let w = p
                .train_network(&net, &xs, &ys, &w0, &PARAMS, MlpLoss::Squared, |_| {})
                .await?;
            let mut out = Vec::new();
            for m in &w {
                out.push(p.reveal(m).await?);
            }
            Ok(out)
        }
    };
    let (a, b) = if three {
        run_three(Config::default(), tag, body)
    } else {
        run_pair(Config::default(), tag, body)
    };
    let a = a.unwrap();
    assert_eq!(a, b.unwrap());
    a
}

fn compare(secure: &[Vec<f64>], plain: &[Vec<f64>], what: &str) {
    let mut worst = 0.0f64;
    for (s, p) in secure.iter().zip(plain) {
        for (a, b) in s.iter().zip(p) {
            worst = worst.max((a - b).abs());
        }
    }
    println!("{what}: largest weight difference from the plaintext twin {worst:.2e}");
    assert!(worst < 5e-3, "{what}: {worst}");
}

#[test]
fn a_cnn_trains_on_shares_like_its_plaintext_twin() {
    let net = small_cnn(max_pool());
    let (x, y) = images(64, 7);
    let plain = train_network_plain(
        &net,
        &x,
        &y,
        &init_weights(&net, 3),
        &PARAMS,
        MlpLoss::Squared,
    )
    .unwrap();
    // The twin learns: the weights moved.
    let moved: f64 = plain
        .iter()
        .flatten()
        .zip(init_weights(&net, 3).iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(moved > 0.1, "the plaintext twin did not train: {moved}");
    compare(
        &secure(true, net.clone(), 61),
        &plain,
        "three servers (helper)",
    );
    compare(
        &secure(false, net, 62),
        &plain,
        "two servers and a dealer (FSS)",
    );
}

#[test]
fn mean_pooling_trains_on_shares_like_its_plaintext_twin() {
    let pool = Layer::MeanPool {
        input: Image {
            channels: 3,
            height: 8,
            width: 8,
        },
        window: 2,
    };
    let net = small_cnn(pool);
    let (x, y) = images(64, 7);
    let plain = train_network_plain(
        &net,
        &x,
        &y,
        &init_weights(&net, 3),
        &PARAMS,
        MlpLoss::Squared,
    )
    .unwrap();
    compare(
        &secure(true, net, 63),
        &plain,
        "mean pooling, three servers",
    );
}

#[test]
fn overlapping_max_pool_windows_and_bad_shapes_are_refused() {
    let mut net = small_cnn(Layer::MaxPool {
        input: Image {
            channels: 3,
            height: 8,
            width: 8,
        },
        window: 3,
        stride: 1,
    });
    let (x, y) = images(4, 1);
    let w = init_weights(&net, 1);
    let params = SgdParams {
        epochs: 1,
        batch: 4,
        learning_rate: 0.1,
    };
    let e = train_network_plain(&net, &x, &y, &w, &params, MlpLoss::Squared).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Unsupported(_) | ErrorKind::InvalidArgument(_)
        ),
        "{e}"
    );
    net.layers[2] = max_pool();
    let e = train_network_plain(&net, &x[..60], &y, &w, &params, MlpLoss::Squared).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::DimensionMismatch { .. }),
        "{e}"
    );
    assert!(train_network_plain(&net, &x, &y, &w[..1], &params, MlpLoss::Squared).is_err());
}

#[test]
fn securenn_networks_chain() {
    for (name, weights) in [('A', 118_282), ('B', 33_542), ('C', 431_080), ('D', 99_240)] {
        let net = securenn_network(name).unwrap();
        assert_eq!(net.check().unwrap(), 10, "network {name}");
        let count: usize = init_weights(&net, 1).iter().map(Vec::len).sum();
        assert_eq!(count, weights, "network {name}'s weights");
    }
    assert!(securenn_network('E').is_none());
}
