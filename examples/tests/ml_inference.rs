//! Oblivious inference (MiniONN setting) on the digits data: the server's model and the client's
//! images stay private, and the results match the same network in plaintext.

use fixshare_examples::ml;

use fixshare::ml::Dataset;
use fixshare::ml::inference::{self, Image, Layer, Network};
use fixshare::ml::pipeline;
use fixshare::{Config, Role};
use ml::Offline;

/// Digits scaled to [0, 1] (pixels / 16) and labels; `(train, test)` by the every-5th-row split.
type Images = (Vec<f64>, Vec<usize>);

fn digits() -> (Images, Images) {
    let data = Dataset::from_csv(include_str!("../data/digits.csv")).unwrap();
    let (train, test) = data.split_every(5);
    let prep = |d: &Dataset| {
        (
            d.x.iter().map(|v| v / 16.0).collect::<Vec<_>>(),
            d.y.iter().map(|&v| v as usize).collect::<Vec<_>>(),
        )
    };
    (prep(&train), prep(&test))
}

/// Deterministic public test weights in [-a, a].
fn weights(n: usize, a: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * a
        })
        .collect()
}

/// Runs `forward` with party 0 as the model owner and party 1 as the client, and reveals the
/// output to the client only; returns it.
fn secure_forward(
    net: &Network,
    w: &[Vec<f64>],
    x: &[f64],
    rows: usize,
    offline: Offline,
) -> Vec<f64> {
    let (net, w, x) = (net.clone(), w.to_vec(), x.to_vec());
    let (r0, r1) = ml::run_pair(offline, Config::default(), Some(21), move |mut p| {
        let (net, w, x) = (net.clone(), w.clone(), x.clone());
        async move {
            let owner = p.role() == Role::P0;
            let out = p
                .forward(
                    &net,
                    Role::P0,
                    owner.then_some(&w[..]),
                    (!owner).then_some(&x[..]),
                    rows,
                )
                .await?;
            p.reveal_to(&out, Role::P1).await
        }
    });
    assert_eq!(r0.unwrap(), None, "the model owner learns nothing");
    r1.unwrap().expect("the client gets the output")
}

#[test]
fn cryptonets_style_cnn_matches_plaintext() {
    // conv 3x3 (pad 1) -> square -> mean pool 2 -> dense, on 8x8 digits, with the OT offline phase.
    let ((_, _), (x, _)) = digits();
    let rows = 40;
    let x = &x[..rows * 64];
    let img = Image {
        channels: 1,
        height: 8,
        width: 8,
    };
    let net = Network {
        input: 64,
        layers: vec![
            Layer::Conv {
                input: img,
                filters: 4,
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            Layer::Square,
            Layer::MeanPool {
                input: Image { channels: 4, ..img },
                window: 2,
            },
            Layer::Dense {
                inputs: 64,
                outputs: 10,
            },
        ],
    };
    let w = vec![weights(10 * 4, 0.5, 1), weights(65 * 10, 0.3, 2)];
    let plain = inference::forward_plain(&net, &w, x, rows).unwrap();
    let secure = secure_forward(&net, &w, x, rows, Offline::Ot);
    assert_eq!(secure.len(), rows * 10);
    let worst = plain
        .iter()
        .zip(&secure)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-2, "largest deviation {worst}");
    for (p, s) in plain.chunks(10).zip(secure.chunks(10)) {
        assert_eq!(
            fixshare::ml::plain::argmax(p),
            fixshare::ml::plain::argmax(s)
        );
    }
}

#[test]
fn strided_conv_and_dense_stack_matches_plaintext() {
    // Two channels, stride 2, no padding, then dense layers with a square activation.
    let rows = 7;
    let img = Image {
        channels: 2,
        height: 6,
        width: 5,
    };
    let x = weights(rows * img.len(), 2.0, 3);
    let net = Network {
        input: img.len(),
        layers: vec![
            Layer::Conv {
                input: img,
                filters: 3,
                kernel: 3,
                stride: 2,
                padding: 0,
            },
            Layer::Square,
            Layer::Dense {
                inputs: 3 * 2 * 2,
                outputs: 5,
            },
            Layer::Square,
            Layer::Dense {
                inputs: 5,
                outputs: 3,
            },
        ],
    };
    assert_eq!(net.check().unwrap(), 3);
    let w = vec![
        weights(19 * 3, 0.5, 4),
        weights(13 * 5, 0.5, 5),
        weights(6 * 3, 0.5, 6),
    ];
    let plain = inference::forward_plain(&net, &w, &x, rows).unwrap();
    let secure = secure_forward(&net, &w, &x, rows, Offline::Dealer);
    for (a, b) in plain.iter().zip(&secure) {
        assert!((a - b).abs() < 1e-2 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

#[test]
fn mismatched_shapes_and_arguments_fail_before_sending() {
    let net = Network {
        input: 4,
        layers: vec![Layer::Dense {
            inputs: 5,
            outputs: 2,
        }],
    };
    assert!(net.check().is_err());
    let good = Network {
        input: 4,
        layers: vec![Layer::Dense {
            inputs: 4,
            outputs: 2,
        }],
    };
    assert!(good.check_weights(&[vec![0.0; 9]]).is_err());
    // The client passes a short input: both fail, the client before sending anything.
    let (r0, r1) = ml::run_pair(
        Offline::Dealer,
        Config::default(),
        Some(22),
        move |mut p| {
            let good = good.clone();
            async move {
                let w = [vec![0.5; 10]];
                let x = [1.0; 7];
                let owner = p.role() == Role::P0;
                let r = p
                    .forward(
                        &good,
                        Role::P0,
                        owner.then_some(&w[..]),
                        (!owner).then_some(&x[..]),
                        2,
                    )
                    .await;
                if !owner {
                    assert_eq!(p.stats().bytes_sent, 0);
                }
                r.map(|_| ())
            }
        },
    );
    assert!(r1.is_err());
    assert!(r0.is_err(), "the model owner sees the client go away");
}

#[test]
fn relu_cnn_with_max_pooling_classifies_like_plaintext() {
    // conv 3x3 -> ReLU -> max pool 2 (stride 2) -> dense -> argmax opened to the client only.
    let ((_, _), (x, _)) = digits();
    let rows = 12;
    let x = x[..rows * 64].to_vec();
    let img = Image {
        channels: 1,
        height: 8,
        width: 8,
    };
    let net = Network {
        input: 64,
        layers: vec![
            Layer::Conv {
                input: img,
                filters: 3,
                kernel: 3,
                stride: 1,
                padding: 0,
            },
            Layer::Relu,
            Layer::MaxPool {
                input: Image {
                    channels: 3,
                    height: 6,
                    width: 6,
                },
                window: 2,
                stride: 2,
            },
            Layer::Dense {
                inputs: 27,
                outputs: 10,
            },
        ],
    };
    let w = vec![weights(10 * 3, 0.6, 7), weights(28 * 10, 0.5, 8)];
    let plain = inference::forward_plain(&net, &w, &x, rows).unwrap();
    let expected: Vec<usize> = plain.chunks(10).map(fixshare::ml::plain::argmax).collect();
    let (net2, w2, x2) = (net.clone(), w.clone(), x.clone());
    let (r0, r1) = ml::run_pair(
        Offline::Dealer,
        Config::default(),
        Some(23),
        move |mut p| {
            let (net, w, x) = (net2.clone(), w2.clone(), x2.clone());
            async move {
                let owner = p.role() == Role::P0;
                p.classify(
                    &net,
                    Role::P0,
                    owner.then_some(&w[..]),
                    (!owner).then_some(&x[..]),
                    rows,
                )
                .await
            }
        },
    );
    assert_eq!(r0.unwrap(), None);
    let got = r1.unwrap().unwrap();
    // Ties between nearly equal outputs could differ by an ulp; these weights have none.
    assert_eq!(got, expected);
    let secure = secure_forward(&net, &w, &x, rows, Offline::Dealer);
    for (a, b) in plain.iter().zip(&secure) {
        assert!((a - b).abs() < 1e-2, "{a} vs {b}");
    }
}

#[test]
fn digits_mlp_oblivious_inference_predicts_like_plaintext() {
    // A 64-32-10 ReLU network trained in plaintext by the server; the client's raw images.
    let data = Dataset::from_csv(include_str!("../data/digits.csv")).unwrap();
    let (train, test, s) =
        pipeline::prepare_classes::<u64>(&data, 10, fixshare::FixedPoint::default()).unwrap();
    let mut mlp = fixshare::ml::plain::Mlp::init(&[64, 32, 10], 5);
    let params = fixshare::ml::MlpParams {
        sgd: fixshare::ml::SgdParams {
            epochs: 20,
            batch: 32,
            learning_rate: 0.05,
        },
        init_seed: 5,
        loss: fixshare::ml::MlpLoss::Squared,
    };
    mlp.train(&train.x, &train.labels, &params).unwrap();
    let plain_accuracy = pipeline::mlp_accuracy(&mlp, &test);
    assert!(plain_accuracy > 0.9, "plaintext accuracy {plain_accuracy}");
    let plain_pred = mlp.predict(&test.x, test.labels.len());
    let (net, w) = pipeline::mlp_for_inference(&mlp, &s).unwrap();
    let (_, raw_test) = data.split_every(5);
    let rows = raw_test.rows();
    let raw = raw_test.x.clone();
    let (r0, r1) = ml::run_pair(Offline::Ot, Config::default(), Some(24), move |mut p| {
        let (net, w, raw) = (net.clone(), w.clone(), raw.clone());
        async move {
            let owner = p.role() == Role::P0;
            p.classify(
                &net,
                Role::P0,
                owner.then_some(&w[..]),
                (!owner).then_some(&raw[..]),
                rows,
            )
            .await
        }
    });
    assert_eq!(r0.unwrap(), None, "the server learns no prediction");
    let got = r1.unwrap().unwrap();
    let same = got.iter().zip(&plain_pred).filter(|(a, b)| a == b).count();
    let agreement = same as f64 / rows as f64;
    let right = got.iter().zip(&test.labels).filter(|(a, b)| a == b).count();
    println!(
        "oblivious inference on {rows} test images: agreement {agreement:.4}, accuracy {:.4} (plaintext {plain_accuracy:.4})",
        right as f64 / rows as f64
    );
    assert!(agreement >= 0.99, "agreement {agreement}");
}
