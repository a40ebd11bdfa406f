//! Sealing and opening weights (Phong–Phuong, `fixshare::weights`) beside baselines measured in
//! the same run.
//!
//! Run with `cargo bench -p fixshare-examples --bench weights` (`-- --runs N` for N timings of
//! each, default 200). For Phong's MNIST model, 784-500-10 (397,510 parameters; SGD, 3.18 MB
//! sealed) and the same with Adam's moments (9.54 MB), it prints the best and median time of:
//!
//! - `memcpy`: copying the sealed length (the floor for anything that touches every byte);
//! - `aes256gcm_encrypt` / `_decrypt`: the raw AEAD of the sealed cipher over the same bytes
//!   (RustCrypto `aes-gcm`, in place / out of place), and `xchacha20poly1305_*`, the cipher of
//!   format version 1, for comparison;
//! - `seal`: `Sealer::seal` (header, encoding, encryption; a fresh buffer) and `seal_into` (into
//!   a buffer the host keeps, as the C ABI does);
//! - `open`: `weights::open` (checks, decryption into fresh memory for the parameters) and
//!   `LocalModel::open` (into the memory of the weights it replaces, as the C ABI and WASM do);
//!
//! each with its throughput and its ratio to the raw AEAD and to `memcpy`, and the speed-ups over
//! the paper's 0.12 s to seal and 0.06 s to open, against the target of 50x (seal <= 2.4 ms,
//! open <= 1.2 ms) for the 784-500-10 model.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use fixshare::Seed;
use fixshare::ml::float::{Activation, Loss, Model, Optimizer, Spec};
use fixshare::weights::{Expect, LocalModel, ModelId, Sealer, WeightKey, format, open};
use std::hint::black_box;
use std::time::Instant;

/// The paper's figures (Phong and Phuong, MNIST, 5.78 MB of ciphertext).
const PAPER_SEAL_S: f64 = 0.12;
const PAPER_OPEN_S: f64 = 0.06;
/// The target: at least 50 times as fast.
const TARGET_FACTOR: f64 = 50.0;

/// Best and median seconds of `runs` calls of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f(); // warm the caches and the allocator
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[0], t[t.len() / 2])
}

struct Row<'a> {
    name: &'a str,
    best: f64,
    median: f64,
}

fn print(rows: &[Row<'_>], bytes: usize, aead: f64, memcpy: f64) {
    println!(
        "  {:<26} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "operation", "best_ms", "median_ms", "GB/s", "x_aead", "x_memcpy"
    );
    for r in rows {
        println!(
            "  {:<26} {:>9.3} {:>9.3} {:>8.2} {:>9.2} {:>9.1}",
            r.name,
            r.best * 1e3,
            r.median * 1e3,
            bytes as f64 / r.best / 1e9,
            r.best / aead,
            r.best / memcpy
        );
    }
}

fn spec(optimizer: Optimizer) -> Spec {
    Spec {
        sizes: vec![784, 500, 10],
        activation: Activation::Relu,
        dropout: vec![],
        loss: Loss::SoftmaxCrossEntropy,
        optimizer,
        batch: 10,
        local_epochs: 1,
    }
}

fn bench(name: &str, optimizer: Optimizer, runs: usize) {
    let spec = spec(optimizer);
    let seed = Seed::from_bytes([7; 32]);
    let mut local =
        LocalModel::new(spec.clone(), &seed, &Seed::from_bytes([8; 32])).expect("model");
    // Weights that look trained (not the initial zeros of the biases and moments).
    let params: Vec<f64> = (0..spec.param_count())
        .map(|i| ((i as f64) * 0.618).sin() * 0.1)
        .collect();
    local.set_params(&params).expect("params");
    let model: Model = local.model().clone();
    let key = WeightKey::from_bytes([0x42; 32]);
    let id = ModelId(*b"bench weights 16");
    let (trainers, trainer, version) = (5, 0, 1);
    let expect = Expect {
        model: id,
        trainers,
        version,
    };
    let mut sealer = Sealer::new(&Seed::from_bytes([9; 32]), 0);
    let sealed = sealer
        .seal(&key, id, trainers, trainer, version, &model)
        .expect("seal");
    let bytes = sealed.len();
    println!(
        "== {name}: 784-500-10, {} parameters, {} bytes sealed ({:.2} MB)",
        spec.param_count(),
        bytes,
        bytes as f64 / 1e6
    );

    // Baselines over the same number of bytes.
    let payload = format::encode(&model);
    let mut dst = vec![0u8; bytes];
    let (memcpy, memcpy_med) = time(runs, || {
        dst.copy_from_slice(black_box(&sealed));
        black_box(&dst);
    });
    let gcm = Aes256Gcm::new(&[0x42; 32].into());
    let nonce = aes_gcm::Nonce::from([1; 12]);
    let mut buf = payload.clone();
    let (gcm_enc, gcm_enc_med) = time(runs, || {
        black_box(
            gcm.encrypt_inout_detached(&nonce, b"header", buf.as_mut_slice().into())
                .expect("encrypt"),
        );
    });
    let mut ct = payload.clone();
    let tag = gcm
        .encrypt_inout_detached(&nonce, b"header", ct.as_mut_slice().into())
        .expect("encrypt");
    let (gcm_dec, gcm_dec_med) = time(runs, || {
        let io = InOutBuf::new(&ct, &mut buf).expect("lengths");
        gcm.decrypt_inout_detached(&nonce, b"header", io, &tag)
            .expect("decrypt");
    });
    let xc = XChaCha20Poly1305::new(&[0x42; 32].into());
    let xnonce = chacha20poly1305::XNonce::from([1; 24]);
    let (xc_enc, xc_enc_med) = time(runs, || {
        black_box(
            xc.encrypt_inout_detached(&xnonce, b"header", buf.as_mut_slice().into())
                .expect("encrypt"),
        );
    });
    let mut xct = payload.clone();
    let xtag = xc
        .encrypt_inout_detached(&xnonce, b"header", xct.as_mut_slice().into())
        .expect("encrypt");
    let (xc_dec, xc_dec_med) = time(runs, || {
        let io = InOutBuf::new(&xct, &mut buf).expect("lengths");
        xc.decrypt_inout_detached(&xnonce, b"header", io, &xtag)
            .expect("decrypt");
    });

    // Sealing and opening.
    let (seal, seal_med) = time(runs, || {
        black_box(
            sealer
                .seal(&key, id, trainers, trainer, version, black_box(&model))
                .expect("seal"),
        );
    });
    let mut out = vec![0u8; bytes];
    let (seal_into, seal_into_med) = time(runs, || {
        sealer
            .seal_into(&key, id, trainers, trainer, version, &model, &mut out)
            .expect("seal");
    });
    let (open_new, open_new_med) = time(runs, || {
        black_box(open(&key, &expect, black_box(&sealed)).expect("open"));
    });
    let (open_local, open_local_med) = time(runs, || {
        local.open(&key, &expect, black_box(&sealed)).expect("open");
    });
    assert_eq!(local.model(), &model, "the weights survive sealing");

    let row = |name, (best, median)| Row { name, best, median };
    print(
        &[
            row("memcpy (baseline)", (memcpy, memcpy_med)),
            row("aes256gcm_encrypt (raw)", (gcm_enc, gcm_enc_med)),
            row("aes256gcm_decrypt (raw)", (gcm_dec, gcm_dec_med)),
            row("xchacha20poly1305_encrypt", (xc_enc, xc_enc_med)),
            row("xchacha20poly1305_decrypt", (xc_dec, xc_dec_med)),
            row("seal (fresh buffer)", (seal, seal_med)),
            row("seal_into (host buffer)", (seal_into, seal_into_med)),
            row("open (fresh memory)", (open_new, open_new_med)),
            row("LocalModel::open (reused)", (open_local, open_local_med)),
        ],
        bytes,
        gcm_enc,
        memcpy,
    );
    println!("seal_ms: {:.3}", seal * 1e3);
    println!("seal_into_ms: {:.3}", seal_into * 1e3);
    println!("open_ms: {:.3}", open_new * 1e3);
    println!("local_open_ms: {:.3}", open_local * 1e3);
    println!(
        "seal_over_aead: {:.2}  open_over_aead: {:.2}  aes256gcm_over_xchacha20poly1305: {:.2} (encrypt), {:.2} (decrypt)",
        seal / gcm_enc,
        open_new / gcm_dec,
        gcm_enc / xc_enc,
        gcm_dec / xc_dec
    );
    if optimizer == (Optimizer::Sgd { lr: 0.05 }) {
        let (s_x, o_x) = (PAPER_SEAL_S / seal, PAPER_OPEN_S / open_new);
        println!(
            "speedup_over_paper: seal {s_x:.0}x, open {o_x:.0}x (target {TARGET_FACTOR:.0}x: seal <= {:.1} ms {}, open <= {:.1} ms {})",
            PAPER_SEAL_S / TARGET_FACTOR * 1e3,
            if s_x >= TARGET_FACTOR {
                "met"
            } else {
                "NOT met"
            },
            PAPER_OPEN_S / TARGET_FACTOR * 1e3,
            if o_x >= TARGET_FACTOR {
                "met"
            } else {
                "NOT met"
            },
        );
    }
}

fn main() {
    let mut runs = 200;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(runs);
    }
    bench("SGD", Optimizer::Sgd { lr: 0.05 }, runs);
    bench("Adam", Optimizer::adam(0.001), runs.div_ceil(3));
}
