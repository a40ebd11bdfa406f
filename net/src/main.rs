//! `fixshare-net`: makes a party's key pair and prints pins.
//!
//! ```text
//! fixshare-net keygen --name server0 [--out DIR]   writes DIR/server0.key and DIR/server0.crt, prints the pin
//! fixshare-net pin FILE.crt                        prints the pin of the key in a certificate
//! fixshare-net device-keys --name device1 [--out DIR]
//!                                                  writes a device's keys for server 0 and server 1
//! ```

use fixshare_net::Identity;
use std::process::ExitCode;

const USAGE: &str = "usage: fixshare-net keygen --name NAME [--out DIR]
       fixshare-net pin FILE.crt
       fixshare-net device-keys --name NAME [--out DIR]

keygen writes NAME.key (the private key, readable by its owner only) and NAME.crt (the
certificate to hand to the other parties) into DIR (default: the current directory), refusing
to overwrite either, and prints the key's pin. Give each peer's operator the pin (or the .crt,
from which `pin` recomputes it); keep the .key on this machine.

device-keys writes a device's two keys, NAME.server0.key and NAME.server1.key (64 hex digits
each, readable by their owner only), refusing to overwrite either: server 0 gets the first and
server 1 the second, and nothing else; the device gets both; its gateway neither.";

/// The `--name NAME [--out DIR]` of `command` (DIR is `.` by default).
fn name_and_out(args: &[String], command: &str) -> Result<(String, String), String> {
    let (mut name, mut out) = (None, String::from("."));
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--name" => name = Some(value()?),
            "--out" => out = value()?,
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    let name = name.ok_or(format!("{command} needs --name\n{USAGE}"))?;
    Ok((name, out))
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("keygen") => {
            let (name, out) = name_and_out(args, "keygen")?;
            let id = Identity::generate(&name).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&out).map_err(|e| format!("create {out}: {e}"))?;
            let (crt, key) = id.write_pem_files(&out, &name).map_err(|e| e.to_string())?;
            println!("key: {}", key.display());
            println!("certificate: {}", crt.display());
            println!("pin: {}", id.pin());
            Ok(())
        }
        Some("device-keys") => {
            let (name, out) = name_and_out(args, "device-keys")?;
            std::fs::create_dir_all(&out).map_err(|e| format!("create {out}: {e}"))?;
            let [k0, k1] =
                fixshare_net::device::write_key_files(&out, &name).map_err(|e| e.to_string())?;
            println!("server0: {}", k0.display());
            println!("server1: {}", k1.display());
            Ok(())
        }
        Some("pin") => {
            let [_, file] = args else {
                return Err(USAGE.into());
            };
            let pin = fixshare_net::pin_of_certificate_file(file).map_err(|e| e.to_string())?;
            println!("{pin}");
            Ok(())
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixshare-net: {e}");
            ExitCode::from(2)
        }
    }
}
