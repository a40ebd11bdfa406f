//! Puts memory.x on the linker path and bakes the device seed into the firmware.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    // The seed arrives at build time as 64 hex digits (a real device reads its hardware TRNG).
    println!("cargo:rerun-if-env-changed=FIXSHARE_DEVICE_SEED");
    let hex = env::var("FIXSHARE_DEVICE_SEED").unwrap_or_default();
    let seed: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    if hex.len() != 64 || seed.len() != 32 {
        panic!(
            "set FIXSHARE_DEVICE_SEED to 64 hex digits of fresh entropy (for example from /dev/urandom)"
        );
    }
    fs::write(
        out.join("seed.rs"),
        format!("const DEVICE_SEED: [u8; 32] = {seed:?};\n"),
    )
    .unwrap();
}
