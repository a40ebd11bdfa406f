//! The `train` example's `--data` with gzipped CSV files (the examples' one loader,
//! `ml::load_csv`) and its `--model mlp --layers ...`: SecureML's network trained from the main
//! example on mnist10k.

mod common;

use common::{example_binary, value};
use fixshare_examples::ml;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh temporary directory for one test.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fixshare-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn run_train(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(example_binary("train"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_loader_reads_gzip_like_plain_text_and_names_every_failure() {
    let dir = temp_dir("loader");
    let csv = include_bytes!("../data/breast_cancer.csv");
    let plain = write(&dir, "bc.csv", csv);
    // Whatever the name: gzip is recognised by its magic bytes.
    let gz = write(&dir, "bc.data", &gzip(csv));
    assert_eq!(ml::load_csv(&plain).unwrap(), ml::load_csv(&gz).unwrap());
    // A bad cell inside the gzip stream is named by line and column, and by the file.
    let bad = write(&dir, "bad.csv.gz", &gzip(b"a,b,label\n1,2,0\n3,oops,1\n"));
    let e = ml::load_csv(&bad).unwrap_err();
    assert!(
        e.contains("bad.csv.gz") && e.contains("line 3, column 2 (b): not a number"),
        "{e}"
    );
    // A cut or corrupted stream, a file that is not there.
    let full = gzip(csv);
    let cut = write(&dir, "cut.csv.gz", &full[..full.len() / 2]);
    let e = ml::load_csv(&cut).unwrap_err();
    assert!(e.contains("cut.csv.gz") && e.contains("gzip"), "{e}");
    let mut flipped = full.clone();
    flipped[20] ^= 0xff;
    let flipped = write(&dir, "flipped.csv.gz", &flipped);
    assert!(
        ml::load_csv(&flipped)
            .unwrap_err()
            .contains("flipped.csv.gz")
    );
    let e = ml::load_csv("/no/such/file.csv.gz").unwrap_err();
    assert!(e.contains("/no/such/file.csv.gz"), "{e}");
    // Over the limit: refused, plain or inflated (a small limit stands for the real one).
    let limit = csv.len() as u64 - 1;
    for path in [&plain, &gz] {
        let e = ml::read_text(path, limit).unwrap_err();
        assert!(e.contains("refused") && e.contains(path.as_str()), "{e}");
        assert_eq!(ml::read_text(path, limit + 1).unwrap(), csv);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_takes_a_gzipped_csv() {
    let dir = temp_dir("train-gz");
    let csv = include_bytes!("../data/breast_cancer.csv");
    let plain = write(&dir, "bc.csv", csv);
    let gz = write(&dir, "bc.csv.gz", &gzip(csv));
    let run = |path: &str| {
        let (ok, out, err) = run_train(&["--data", path, "--epochs", "2", "--seed", "5"]);
        assert!(ok, "{out}\n{err}");
        out
    };
    let (a, b) = (run(&plain), run(&gz));
    for name in ["secure_accuracy", "plaintext_accuracy", "weights_rel_rmse"] {
        assert_eq!(value(&a, name), value(&b, name), "{name}");
    }
    assert!(value(&b, "secure_accuracy") > 0.9, "{b}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mlp_options_are_checked_before_anything_runs() {
    let dir = temp_dir("train-mlp-args");
    let three = write(
        &dir,
        "three.csv",
        b"a,b,label\n1,2,0\n3,4,1\n5,6,2\n7,8,0\n9,1,1\n",
    );
    for (args, want) in [
        (vec!["--layers", "784,10"], "--layers needs --model mlp"),
        (
            vec!["--model", "mlp", "--layers", "784"],
            "at least one layer",
        ),
        (
            vec!["--model", "mlp", "--layers", "784,0,10"],
            "not a width",
        ),
        (vec!["--model", "mlp", "--layers", "784,x"], "not a width"),
        (
            vec!["--model", "mlp", "--sigmoid", "accurate"],
            "--sigmoid is a regression option",
        ),
        (
            vec!["--model", "mlp", "--truncation", "exact"],
            "--truncation is a regression option",
        ),
        (vec!["--model", "mlp", "--party", "0"], "one process"),
        // The data must fit the network: its width, and labels 0..k.
        (
            vec!["--model", "mlp", "--data", &three, "--layers", "3,2"],
            "2 features, but the network's input is 3 wide",
        ),
        (
            vec!["--model", "mlp", "--data", &three, "--layers", "2,2"],
            "line 4",
        ),
    ] {
        let (ok, out, err) = run_train(&args);
        assert!(!ok, "{args:?} was accepted: {out}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!out.contains("accuracy"), "{args:?}: {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SecureML's network (784-128-128-10, ReLU, squared loss on one-hot targets) trained on shares
/// from the main example on mnist10k (`--data` the gzipped CSV): at least 90% on the test rows,
/// within one point of its plaintext twin.
#[test]
fn secureml_network_trains_from_the_main_example() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz");
    let (ok, out, err) = run_train(&[
        "--model",
        "mlp",
        "--layers",
        "784,128,128,10",
        "--data",
        data,
        "--epochs",
        "2",
        "--seed",
        "7",
    ]);
    assert!(ok, "{out}\n{err}");
    println!("{out}");
    let (secure, plain) = (
        value(&out, "secure_accuracy"),
        value(&out, "plaintext_accuracy"),
    );
    assert!(secure >= 0.90, "secure accuracy {secure}");
    assert!((secure - plain).abs() <= 0.01, "{secure} vs {plain}");
    for name in ["online_seconds", "offline_seconds", "bytes_sent", "rounds"] {
        assert!(value(&out, name) > 0.0, "{name}");
    }
}
