//! Two-party evaluation of any Bristol Fashion circuit, both parties (and the dealer supplying
//! the random OTs) in one process over the in-memory transport.
//!
//! ```text
//! cargo run --release --example bristol -- CIRCUIT.txt --input g:HEX --input e:HEX ...
//! ```
//!
//! One `--input` per input value of the circuit, in the circuit's order: `g:` if the garbler (P0)
//! supplies it, `e:` if the evaluator (P1) does. HEX is the value as a big-endian hexadecimal
//! integer, assigned to the value's wires least significant bit first. Each output value is printed
//! on its own line as lowercase hex, zero-padded to the value's width. For example, FIPS-197 C.1:
//!
//! ```text
//! cargo run --release --example bristol -- core/circuits/aes_128.txt \
//!     --input g:000102030405060708090a0b0c0d0e0f --input e:00112233445566778899aabbccddeeff
//! 69c4e0d86a7b0430d8cdb78070b4c55a
//! ```
//!
//! The only file read is CIRCUIT.txt. Seeds come from the standard library's per-process random
//! hash keys (OS entropy); a real deployment would use the OS generator directly.

use fixshare::gc::{self, Circuit, Job, Reveal, bristol};
use fixshare::hash::FixedKeyAes;
use fixshare::{
    Dealer, DealerClient, Domain, Error, Link, Links, Role, Seed, block_on_thread, duplex,
};
use std::hash::{BuildHasher, Hasher};
use std::process::ExitCode;
use std::thread;

/// 32 bytes from the standard library's randomly keyed hasher.
fn entropy() -> Seed {
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    Seed::from_bytes(out)
}

/// The bits of big-endian hex `hex`, least significant first, in `width` bits.
fn parse_hex(hex: &str, width: usize, index: usize) -> Result<Vec<bool>, String> {
    let digits = hex.strip_prefix("0x").unwrap_or(hex);
    if digits.is_empty() {
        return Err(format!("input {index}: empty hex value"));
    }
    let mut bits = vec![false; width];
    for (k, c) in digits.chars().rev().enumerate() {
        let v = c
            .to_digit(16)
            .ok_or_else(|| format!("input {index}: {c:?} is not a hex digit"))?;
        for j in 0..4 {
            if (v >> j) & 1 == 1 {
                let pos = 4 * k + j;
                if pos >= width {
                    return Err(format!(
                        "input {index}: value 0x{digits} is too wide for its {width} wires"
                    ));
                }
                bits[pos] = true;
            }
        }
    }
    Ok(bits)
}

/// `bits` (least significant first) as lowercase hex, zero-padded to the width.
fn to_hex(bits: &[bool]) -> String {
    let digits = bits.len().div_ceil(4).max(1);
    (0..digits)
        .rev()
        .map(|d| {
            let v = (0..4).fold(0u32, |acc, j| {
                acc | (u32::from(bits.get(4 * d + j).copied().unwrap_or(false)) << j)
            });
            char::from_digit(v, 16).unwrap_or('0')
        })
        .collect()
}

fn run(
    circuit: Circuit,
    owners: Vec<Role>,
    g_bits: Vec<bool>,
    e_bits: Vec<bool>,
) -> Result<Vec<bool>, Error> {
    let (p0_peer, p1_peer) = duplex();
    let (d0, p0_dealer) = duplex();
    let (d1, p1_dealer) = duplex();
    let dealer = thread::spawn(move || block_on_thread(Dealer::new(entropy(), d0, d1).serve()));
    let circuit = std::sync::Arc::new(circuit);
    let owners = std::sync::Arc::new(owners);
    let spawn = |role: Role, peer, dealer, bits: Vec<bool>| {
        let (circuit, owners) = (circuit.clone(), owners.clone());
        thread::spawn(move || {
            block_on_thread(async move {
                let mut source = DealerClient::connect(role, dealer).await?;
                let mut ch = Links::pair(role, Link::new(peer));
                let mut rng = entropy().prg(Domain::GARBLING, 0);
                let job = Job {
                    circuit: &circuit,
                    owners: &owners,
                    inputs: &bits,
                    reveal: Reveal::Evaluator,
                };
                gc::execute(
                    role,
                    &mut ch,
                    &mut source,
                    &FixedKeyAes::new(),
                    &mut rng,
                    job,
                )
                .await
            })
        })
    };
    let g = spawn(Role::P0, p0_peer, p0_dealer, g_bits);
    let e = spawn(Role::P1, p1_peer, p1_dealer, e_bits);
    let rg = g.join().map_err(|_| {
        Error::new(
            "bristol",
            fixshare::ErrorKind::InvalidArgument("garbler panicked"),
        )
    })?;
    let re = e.join().map_err(|_| {
        Error::new(
            "bristol",
            fixshare::ErrorKind::InvalidArgument("evaluator panicked"),
        )
    })?;
    let _ = dealer.join();
    rg?;
    re
}

fn main_inner() -> Result<Vec<String>, String> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut inputs = Vec::new();
    while let Some(a) = args.next() {
        if a == "--input" {
            inputs.push(
                args.next()
                    .ok_or("--input needs a value like g:HEX or e:HEX")?,
            );
        } else if let Some(v) = a.strip_prefix("--input=") {
            inputs.push(v.to_string());
        } else if a.starts_with("--") {
            return Err(format!("unknown option {a}"));
        } else if path.replace(a).is_some() {
            return Err("more than one circuit file given".into());
        }
    }
    let path = path.ok_or("usage: bristol CIRCUIT.txt --input g:HEX --input e:HEX ...")?;
    let text = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let circuit = bristol::parse_bytes(&text).map_err(|e| format!("{path}: {e}"))?;
    let widths = circuit.input_widths().to_vec();
    if inputs.len() != widths.len() {
        return Err(format!(
            "the circuit has {} input values, {} --input given",
            widths.len(),
            inputs.len()
        ));
    }
    let (mut owners, mut g_bits, mut e_bits) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (spec, &w)) in inputs.iter().zip(&widths).enumerate() {
        let (who, hex) = spec
            .split_once(':')
            .ok_or_else(|| format!("input {i}: expected g:HEX or e:HEX, got {spec:?}"))?;
        let bits = parse_hex(hex, w, i)?;
        match who {
            "g" => {
                owners.push(Role::P0);
                g_bits.extend(bits);
            }
            "e" => {
                owners.push(Role::P1);
                e_bits.extend(bits);
            }
            _ => return Err(format!("input {i}: the party must be g or e, got {who:?}")),
        }
    }
    let out_widths = circuit.output_widths().to_vec();
    let bits = run(circuit, owners, g_bits, e_bits).map_err(|e| e.to_string())?;
    let mut at = 0;
    Ok(out_widths
        .iter()
        .map(|&w| {
            let s = to_hex(&bits[at..at + w]);
            at += w;
            s
        })
        .collect())
}

fn main() -> ExitCode {
    match main_inner() {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
