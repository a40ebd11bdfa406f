//! Secure training on the real datasets against plaintext SGD in the same run: logistic
//! regression on breast_cancer, a multilayer perceptron on digits.

use fixshare_examples::ml;

use fixshare::Truncation;
use fixshare::ml::pipeline;
use fixshare::ml::{Dataset, GlmModel, MlpParams, SgdParams, Sigmoid};
use ml::{GlmTask, MlpTask, Offline};

fn breast_cancer() -> Dataset {
    Dataset::from_csv(include_str!("../data/breast_cancer.csv")).unwrap()
}

fn check_logistic(task: &GlmTask) {
    let s = ml::run_glm_local(&breast_cancer(), task, |_| {}).unwrap();
    println!(
        "{:?} {:?} {:?}:\n{s}",
        task.model, task.offline, task.truncation
    );
    assert!(
        (s.secure_metric - s.plain_metric).abs() <= 0.01,
        "accuracy differs by more than 1 point:\n{s}"
    );
    assert!(s.weights_rel_rmse() < 1e-2, "{s}");
    assert!(s.plain_metric > 0.9, "{s}");
}

#[test]
fn breast_cancer_logistic_regression_matches_plaintext() {
    let mut task = GlmTask::new(GlmModel::Logistic(Sigmoid::Piecewise));
    task.seed = Some(30);
    check_logistic(&task);
}

#[test]
fn breast_cancer_accurate_sigmoid_with_ot_and_exact_truncation() {
    let mut task = GlmTask::new(GlmModel::Logistic(Sigmoid::Accurate));
    task.offline = Offline::Ot;
    task.truncation = Truncation::Exact;
    task.sgd.epochs = 3;
    task.seed = Some(31);
    check_logistic(&task);
}

/// The same regression with every topology the `train` example offers (`--topology three|four`):
/// SecureNN's helper, and PrivPy's assistants with the logistic function itself.
#[test]
fn breast_cancer_with_three_and_four_servers() {
    let mut task = GlmTask::new(GlmModel::Logistic(Sigmoid::Piecewise));
    task.offline = Offline::Helper;
    task.sgd.epochs = 3;
    task.seed = Some(32);
    check_logistic(&task);
    let mut task = GlmTask::new(GlmModel::Logistic(Sigmoid::Logistic));
    task.offline = Offline::Assistants;
    task.sgd.epochs = 3;
    task.seed = Some(33);
    check_logistic(&task);
}

#[test]
fn digits_secure_mlp_training_reaches_90_percent() {
    let data = Dataset::from_csv(include_str!("../data/digits.csv")).unwrap();
    let (train, test, _) =
        pipeline::prepare_classes::<u64>(&data, 10, fixshare::FixedPoint::default()).unwrap();
    let task = MlpTask {
        sizes: vec![64, 16, 10],
        params: MlpParams {
            sgd: SgdParams {
                epochs: 4,
                batch: 16,
                learning_rate: 0.15,
            },
            init_seed: 1,
            loss: fixshare::ml::MlpLoss::Squared,
        },
        offline: Offline::Dealer,
        owners: 2,
        seed: Some(32),
    };
    let s = ml::run_mlp_local(&train, &test, &task, |_| {}).unwrap();
    println!("{s}");
    assert!(s.secure_accuracy >= 0.90, "{s}");
    assert!((s.secure_accuracy - s.plain_accuracy).abs() < 0.02, "{s}");
}

/// SecureML's softmax replacement as the output function: the secure training follows the
/// plaintext one (the same SGD with `relu(z_i) / sum_j relu(z_j)`) and learns the digits.
#[test]
fn digits_secure_mlp_with_relu_softmax() {
    let data = Dataset::from_csv(include_str!("../data/digits.csv")).unwrap();
    let (train, test, _) =
        pipeline::prepare_classes::<u64>(&data, 10, fixshare::FixedPoint::default()).unwrap();
    let task = MlpTask {
        sizes: vec![64, 16, 10],
        params: MlpParams {
            sgd: SgdParams {
                epochs: 2,
                batch: 16,
                learning_rate: 0.3,
            },
            init_seed: 1,
            loss: fixshare::ml::MlpLoss::ReluSoftmax,
        },
        offline: Offline::Dealer,
        owners: 2,
        seed: Some(33),
    };
    let s = ml::run_mlp_local(&train, &test, &task, |_| {}).unwrap();
    println!("{s}");
    assert!(s.secure_accuracy >= 0.80, "{s}");
    assert!((s.secure_accuracy - s.plain_accuracy).abs() < 0.03, "{s}");
}

#[test]
fn the_same_seeds_train_the_same_weights_over_tls_and_a_shaped_link() {
    // With seeds fixed, the transport must not change a single bit of the result: TLS 1.3 and
    // the shaping transport (with its sending thread and window) carry the same protocol as the
    // in-memory links. Garbled circuits for the sigmoid, so long messages cross the links.
    let mut task = GlmTask::new(GlmModel::Logistic(Sigmoid::Piecewise));
    task.seed = Some(31);
    task.sgd.epochs = 2;
    task.backend = fixshare::Backend::GarbledCircuits;
    let data = breast_cancer();
    let memory = ml::run_glm_local(&data, &task, |_| {}).unwrap();
    let tls = ml::run_glm_over(&data, &task, ml::tcp::tls_pair, |_| {}).unwrap();
    let shape = fixshare_net::Shape {
        latency: std::time::Duration::from_micros(200),
        bandwidth: Some(200_000_000),
    };
    let shaped = || {
        ml::tcp::tls_pair().map(|(a, b)| {
            (
                fixshare_net::Shaped::new(a, shape),
                fixshare_net::Shaped::new(b, shape),
            )
        })
    };
    let lan = ml::run_glm_over(&data, &task, shaped, |_| {}).unwrap();
    assert_eq!(memory.weights, tls.weights);
    assert_eq!(memory.weights, lan.weights);
    assert_eq!(memory.bytes_sent, tls.bytes_sent);
    assert!(memory.secure_metric > 0.9, "{memory}");
}
