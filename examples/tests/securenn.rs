//! The `securenn` example: network A trained on shares by three servers (P2 helping online) on
//! the 8,000 MNIST training images reaches at least 90% on the 2,000 test images, within one
//! point of its plaintext twin; so does network B (a CNN) in one epoch, reaching at least 95%;
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

/// Network B (MiniONN's CNN: two 5x5 convolutions of 16 channels, each with ReLU and 2x2 max
/// pooling, then 256-100-10; SecureNN's Appendix C) trained on shares by the three servers for
/// one epoch of the 8,000 training images (batch 8, rate 0.15, initial weights scaled by 0.35)
/// classifies at least 95% of the 2,000 test images, within a point of its plaintext twin.
/// The twin reaches 96.35% (96.15-96.8% in nine plaintext runs with init seeds 1-5 and rates
/// 0.1-0.2, so the bound has more than a point of margin; a point is 20 test images); on
/// shares 96.1-96.3% in three runs. Measured on the project's 2-core machine: 182 s for this
/// test alone at load 5 to 5.5 and 188 s at load 1.5 to 3.7 (this run included); the whole
/// file 173-211 s with it, 26 s without it.
#[test]
fn network_b_trains_to_95_percent_like_its_plaintext_twin() {
    let out = Command::new(example_binary("securenn"))
        .args([
            "--network",
            "B",
            "--epochs",
            "1",
            "--batch",
            "8",
            "--lr",
            "0.15",
            "--init-scale",
            "0.35",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("8000 training and 2000 test images"),
        "{text}"
    );
    let (secure, plain) = (
        value(&text, "secure_accuracy"),
        value(&text, "plaintext_accuracy"),
    );
    println!("secure {secure}, plaintext {plain}");
    assert!(secure >= 0.95, "secure accuracy {secure}");
    assert!(
        (secure - plain).abs() <= 0.01,
        "secure {secure} vs plaintext {plain}"
    );
    assert!(value(&text, "bytes_sent") > 0.0 && value(&text, "rounds") > 0.0);
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

/// The three servers and the data owner as four processes over TLS on 127.0.0.1: network A on a
/// slice of MNIST, the owner's reconstructed weights classifying like the plaintext twin's. The
/// slice is 3,000 rows: after one epoch of 1,000 the network sat at 64%, still learning fast, and
/// the random truncation errors of the shares moved the secure accuracy up to 1.7 points from the
/// twin's (2 failures in 6 runs); at 3,000 rows (81-82%) three runs differed by at most 0.4.
#[test]
fn four_processes_over_tls() {
    use std::net::TcpListener;
    use std::process::Stdio;
    let bin = example_binary("securenn");
    let port = || {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let (h, a0, a1) = (port(), port(), port());
    let dir = std::env::temp_dir().join(format!("securenn-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["helper", "server0", "server1", "owner"] {
        fixshare_net::Identity::generate(name)
            .unwrap()
            .write_pem_files(&dir, name)
            .unwrap();
    }
    let common = [
        "--network",
        "A",
        "--epochs",
        "1",
        "--train-rows",
        "3000",
        "--keys",
        dir.to_str().unwrap(),
    ];
    let spawn = |extra: &[&str]| {
        Command::new(&bin)
            .args(common.iter().chain(extra))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let servers = format!("{a0},{a1}");
    let helper = spawn(&["--party", "helper", "--listen", &h]);
    let p0 = spawn(&["--party", "0", "--listen", &a0, "--helper", &h]);
    let p1 = spawn(&[
        "--party",
        "1",
        "--listen",
        &a1,
        "--connect",
        &a0,
        "--helper",
        &h,
    ]);
    let owner = spawn(&["--party", "owner", "--servers", &servers]);
    let mut outs = Vec::new();
    for (name, c) in [("owner", owner), ("P0", p0), ("P1", p1), ("helper", helper)] {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{name}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outs.push(text);
    }
    let (secure, plain) = (
        value(&outs[0], "secure_accuracy"),
        value(&outs[0], "plaintext_accuracy"),
    );
    println!("secure {secure}, plaintext {plain}");
    assert!(plain > 0.75, "the plaintext twin did not learn: {plain}");
    assert!(
        (secure - plain).abs() <= 0.015,
        "secure {secure} vs plaintext {plain}"
    );
    assert!(value(&outs[1], "bytes_sent") > 0.0 && value(&outs[2], "rounds") > 0.0);
    assert!(value(&outs[3], "helper_bytes_sent") > 0.0);
    // Without keys a process refuses to start.
    let out = Command::new(&bin)
        .args(["--party", "0", "--listen", &a0])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--party needs --keys DIR"));
    std::fs::remove_dir_all(&dir).unwrap();
}
