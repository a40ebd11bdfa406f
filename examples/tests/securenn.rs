//! The `securenn` example: network A trained on shares by three servers (P2 helping online) on
//! the 8,000 MNIST training images reaches at least 90% on the 2,000 test images, within one
//! point of its plaintext twin; network B (a CNN) trained on a slice classifies like its twin;
//! and bad input is refused with a message.

mod common;

use common::{example_binary, value};
use std::process::Command;

#[test]
fn network_a_trains_to_90_percent_like_its_plaintext_twin() {
    let out = Command::new(example_binary("securenn"))
        .args(["--network", "A", "--epochs", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (secure, plain) = (
        value(&text, "secure_accuracy"),
        value(&text, "plaintext_accuracy"),
    );
    println!("secure {secure}, plaintext {plain}");
    assert!(secure >= 0.90, "secure accuracy {secure}");
    assert!(
        (secure - plain).abs() <= 0.01,
        "secure {secure} vs plaintext {plain}"
    );
    assert!(value(&text, "bytes_sent") > 0.0 && value(&text, "rounds") > 0.0);
}

/// Network B (MiniONN's CNN: convolutions, ReLU, max pooling and its derivative) on a slice of
/// MNIST: the securely trained weights classify the test images as the plaintext twin's do.
#[test]
fn network_b_trains_like_its_plaintext_twin() {
    let out = Command::new(example_binary("securenn"))
        .args([
            "--network",
            "B",
            "--epochs",
            "1",
            "--train-rows",
            "256",
            "--lr",
            "0.05",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (secure, plain) = (
        value(&text, "secure_accuracy"),
        value(&text, "plaintext_accuracy"),
    );
    println!("secure {secure}, plaintext {plain}");
    assert!(
        (secure - plain).abs() <= 0.01,
        "secure {secure} vs plaintext {plain}"
    );
}

#[test]
fn bad_arguments_and_data_are_refused() {
    let bin = example_binary("securenn");
    let dir = std::env::temp_dir().join(format!("securenn-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let short = dir.join("short.csv");
    std::fs::write(&short, "a,b,label\n1,2,3\n").unwrap();
    let label = dir.join("label.csv");
    let header: Vec<String> = (0..784).map(|i| format!("p{i}")).collect();
    let row = vec!["0"; 784].join(",");
    std::fs::write(&label, format!("{},digit\n{row},12\n", header.join(","))).unwrap();
    for (args, want) in [
        (vec!["--network", "Z"], "unknown network"),
        (vec!["--epochs", "0"], "positive integer"),
        (vec!["--data", short.to_str().unwrap()], "784 pixel columns"),
        (vec!["--data", label.to_str().unwrap()], "not one of 0..9"),
        (vec!["--data", "/no/such/file.csv"], "/no/such/file.csv"),
    ] {
        let out = Command::new(&bin).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
