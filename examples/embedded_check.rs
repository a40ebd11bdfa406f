//! Host side of the embedded example: reads what the firmware wrote under QEMU (`S0 <hex>` and
//! `S1 <hex>` lines), feeds each server's bytes to a fixshare server, checks that the servers
//! reconstruct exactly the readings the firmware shared, and computes their mean securely on the
//! shares as received.
//!
//! Run with `cargo run --release --example embedded_check -- QEMU_OUTPUT COUNT`.

use fixshare::data_owner::receive_shares;
use fixshare::sealed::Replay;
use fixshare::{
    Config, Dealer, DealerClient, FixedPoint, Link, Party, Role, Seed, Shares, block_on_thread,
    duplex,
};
use std::process::ExitCode;
use std::thread;

/// The firmware's readings, computed independently (same LFSR and scaling).
fn expected_readings(n: usize) -> Vec<f64> {
    let mut lfsr: u16 = 0xace1;
    (0..n)
        .map(|_| {
            let bit = (lfsr ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1;
            lfsr = (lfsr >> 1) | (bit << 15);
            f64::from(lfsr & 0x0fff) / 16.0 - 40.0
        })
        .collect()
}

fn parse(text: &str) -> Result<[Vec<u8>; 2], String> {
    let mut streams = [Vec::new(), Vec::new()];
    for (no, line) in text.lines().enumerate() {
        let (server, hex) = match line.split_once(' ') {
            Some(("S0", hex)) => (0, hex),
            Some(("S1", hex)) => (1, hex),
            _ => continue,
        };
        if hex.len() % 2 != 0 {
            return Err(format!("line {}: odd number of hex digits", no + 1));
        }
        for i in (0..hex.len()).step_by(2) {
            let byte = u8::from_str_radix(&hex[i..i + 2], 16)
                .map_err(|e| format!("line {}: {e}", no + 1))?;
            streams[server].push(byte);
        }
    }
    Ok(streams)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(count)) = (
        args.get(1),
        args.get(2).and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: embedded_check QEMU_OUTPUT COUNT");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let [s0, s1] = match parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fp = FixedPoint::default();
    let readings = expected_readings(count);
    let (mut passed, mut failed) = (0, 0);
    let mut check = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if ok { passed += 1 } else { failed += 1 }
    };
    println!(
        "captured {} bytes for server 0 and {} bytes for server 1",
        s0.len(),
        s1.len()
    );

    // Two servers and a dealer: each server takes its share from the captured frames, they open
    // the readings (to check them here) and compute the mean on the shares as received.
    let (p0, p1) = duplex();
    let (d0, c0) = duplex();
    let (d1, c1) = duplex();
    let dealer = thread::spawn(move || {
        block_on_thread(Dealer::new(Seed::from_bytes([7; 32]), d0, d1).serve())
    });
    let server = |role: Role, captured: Vec<u8>, peer, link| {
        thread::spawn(move || {
            block_on_thread(async move {
                // The captured bytes, replayed: the servers only receive from the device here.
                let mut device = Link::new(Replay::new(captured));
                let mut share = vec![0u64; count];
                receive_shares(role, &mut device, &mut share).await?;
                let src = DealerClient::connect(role, link).await?;
                let seed = Seed::from_bytes([role.index() as u8 + 1; 32]);
                let mut p: Party<_, _> = Party::new(role, peer, src, seed, Config::default());
                let x = Shares::vector(share);
                let opened = p.open(&x).await?;
                let sum = x.as_slice().iter().fold(0u64, |a, &b| a.wrapping_add(b));
                let mean = p
                    .mul_public(&Shares::vector(vec![sum]), 1.0 / count as f64)
                    .await?;
                Ok::<_, fixshare::Error>((opened, p.reveal(&mean).await?[0]))
            })
        })
    };
    let h0 = server(Role::P0, s0, p0, c0);
    let h1 = server(Role::P1, s1, p1, c1);
    let (r0, r1) = (
        h0.join().expect("server 0 panicked"),
        h1.join().expect("server 1 panicked"),
    );
    let _ = dealer.join();
    let ((opened, mean), _) = match (r0, r1) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            check(false, format!("servers accept the device's frames: {e}"));
            println!("{passed} passed, {failed} failed");
            return ExitCode::FAILURE;
        }
    };
    check(
        true,
        "servers accept the device's frames (tags, sequence numbers, lengths)".into(),
    );
    let encoded: Vec<u64> = readings.iter().map(|&r| fp.encode(r).unwrap()).collect();
    check(
        opened == encoded,
        format!("servers reconstruct exactly the {count} readings shared"),
    );
    let sum = encoded.iter().fold(0u64, |a, &b| a.wrapping_add(b));
    let reference = fp.decode(fp.mul_reference(sum, fp.encode::<u64>(1.0 / count as f64).unwrap()));
    let plain = readings.iter().sum::<f64>() / count as f64;
    check(
        (mean - reference).abs() <= fp.ulp(),
        format!(
            "secure mean {mean:.5} matches the fixed-point reference {reference:.5} (plaintext {plain:.5})"
        ),
    );
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
