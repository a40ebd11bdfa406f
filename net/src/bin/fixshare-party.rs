//! `fixshare-party`: hosts one party of a training job from a TOML configuration file.
//!
//! ```text
//! fixshare-party run --config server0.toml [--jobs N]           a server, the dealer, the helper or an assistant
//! fixshare-party owner --config owner0.toml --data rows.csv     a data owner (owner 0 gets the model)
//! fixshare-party check --config FILE                            checks a file and says what it would run
//! fixshare-party gateway --config gateway.toml --sealed FILE    relays a device's sealed messages (FILE or -)
//! fixshare-party device --config device.toml --data rows.csv [--firmware OUT.rs] [--sealed OUT]
//!                                                               a device owner's firmware data, or the device on the host
//! ```
//!
//! Progress goes to standard error, one timestamped line per event (each epoch at the servers);
//! the last word is a `name: value` summary on standard output (`status: ok`, or `status:
//! failed` and `error: ...`). With `--jobs N` a server, dealer, helper or assistant serves N jobs one after
//! the other (0: until it is stopped), a failed job included, each ending with its summary
//! (`run: K` first). Exit status: 0 when every job is done, 1 when one failed (a peer
//! disappeared, bad data, ...), 2 when the configuration or the command line was refused
//! (nothing was started). See `net/README.md` for the configuration file.

use fixshare_net::daemon::{self, Config, DeviceConfig, Log, Summary};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: fixshare-party run --config FILE [--jobs N]
       fixshare-party owner --config FILE --data CSV [--model PATH]
       fixshare-party check --config FILE
       fixshare-party gateway --config FILE --sealed FILE
       fixshare-party device --config FILE --data CSV [--firmware OUT.rs] [--sealed OUT]

run hosts the server (server0, server1), the dealer, the helper or an assistant (assistant_a,
assistant_b) of a training job, as its configuration file says; owner is a data owner sharing the rows of CSV (owner 0 gets the model
and writes it to PATH, or to the file's [results] model); check reads a configuration, refuses
it as run would, and prints what it would run. run --jobs N serves N jobs one after the
other, whether each succeeds or fails (0: until stopped). gateway relays a device's sealed
messages (its SEALED0 and SEALED1 lines, from FILE or, for -, standard input) to the two
servers, which it cannot read. device takes a device owner's file (role = \"device\"): it
writes the Rust source its firmware includes (its part of CSV) to OUT.rs, and/or shares and
seals that part on the host as the device would, writing the two lines to OUT. The configuration is described in
net/README.md of the fixshare repository.";

struct Args {
    command: String,
    config: PathBuf,
    data: Option<PathBuf>,
    model: Option<PathBuf>,
    /// The gateway's input, or the device's sealed output.
    sealed: Option<PathBuf>,
    /// Where `device` writes the firmware's source.
    firmware: Option<PathBuf>,
    /// How many jobs `run` serves (0: until stopped).
    jobs: u64,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let Some(command) = args.first() else {
        return Err(USAGE.into());
    };
    if matches!(command.as_str(), "--help" | "-h" | "help") {
        return Err(String::new());
    }
    if !matches!(
        command.as_str(),
        "run" | "owner" | "check" | "gateway" | "device"
    ) {
        return Err(format!("unknown command {command:?}\n{USAGE}"));
    }
    let (mut config, mut data, mut model, mut jobs) = (None, None, None, 1);
    let (mut sealed, mut firmware) = (None, None);
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .map(PathBuf::from)
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--config" => config = Some(value()?),
            "--data" if command == "owner" || command == "device" => data = Some(value()?),
            "--sealed" if command == "gateway" || command == "device" => sealed = Some(value()?),
            "--firmware" if command == "device" => firmware = Some(value()?),
            "--model" if command == "owner" => model = Some(value()?),
            "--jobs" if command == "run" => {
                let v = value()?;
                jobs = v.to_str().and_then(|v| v.parse().ok()).ok_or(format!(
                    "--jobs {}: not a number of jobs (0: until stopped)",
                    v.display()
                ))?;
            }
            "--seed" => {
                return Err(
                    "--seed: a seed makes every secret of the job a function of a public \
                     number; fixshare-party takes its seeds from the operating system"
                        .into(),
                );
            }
            _ => return Err(format!("unknown argument {flag:?}\n{USAGE}")),
        }
    }
    let config = config.ok_or(format!("{command} needs --config FILE\n{USAGE}"))?;
    if (command == "owner" || command == "device") && data.is_none() {
        return Err(format!("{command} needs --data CSV\n{USAGE}"));
    }
    if command == "gateway" && sealed.is_none() {
        return Err(format!(
            "gateway needs --sealed FILE (the device's output; - for standard input)\n{USAGE}"
        ));
    }
    if command == "device" && sealed.is_none() && firmware.is_none() {
        return Err(format!(
            "device needs --firmware OUT.rs, --sealed OUT or both\n{USAGE}"
        ));
    }
    Ok(Args {
        command: command.clone(),
        config,
        data,
        model,
        sealed,
        firmware,
        jobs,
    })
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fixshare-party: {e}");
            return ExitCode::from(2);
        }
    };
    if args.command == "device" {
        return device(&args);
    }
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fixshare-party: refused: {e}");
            eprintln!("fixshare-party: nothing was started");
            return ExitCode::from(2);
        }
    };
    let log = Log::new(config.log_name());
    match args.command.as_str() {
        "check" => {
            print!("{}", check_summary(&config));
            ExitCode::SUCCESS
        }
        "owner" => match &args.data {
            Some(data) => report(
                &config,
                &log,
                None,
                daemon::run_owner(&config, data, args.model.as_deref(), &log),
            ),
            None => report(&config, &log, None, Err("owner needs --data CSV".into())),
        },
        "gateway" => {
            let sealed = args.sealed.as_deref().unwrap_or(std::path::Path::new("-"));
            let result = read_sealed(sealed)
                .and_then(|(text, name)| daemon::run_gateway(&config, &text, &name, &log));
            report(&config, &log, None, result)
        }
        _ if args.model.is_some() => {
            report(&config, &log, None, Err("--model is for owners".into()))
        }
        _ => serve(&config, &log, args.jobs),
    }
}

/// The gateway's input: the file `path`, or standard input for `-`; with its name.
fn read_sealed(path: &std::path::Path) -> Result<(String, String), String> {
    // A device's two lines of hex: far below this, which bounds what is read.
    const LIMIT: u64 = 2 * (daemon_limit() as u64) + 4096;
    const fn daemon_limit() -> usize {
        fixshare_net::device::MAX_SEALED_PLAINTEXT + fixshare::sealed::OVERHEAD
    }
    let mut text = String::new();
    let (name, read) = if path == std::path::Path::new("-") {
        let stdin = std::io::stdin().lock();
        (
            "standard input".to_string(),
            std::io::Read::take(stdin, LIMIT).read_to_string(&mut text),
        )
    } else {
        let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        (
            path.display().to_string(),
            std::io::Read::take(f, LIMIT).read_to_string(&mut text),
        )
    };
    read.map_err(|e| format!("{name}: {e}"))?;
    if text.len() as u64 >= LIMIT {
        return Err(format!("{name}: longer than any device's sealed messages"));
    }
    Ok((text, name))
}

/// `fixshare-party device`: a device owner's firmware source and/or its sealed messages.
fn device(args: &Args) -> ExitCode {
    let config = match DeviceConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fixshare-party: refused: {e}");
            return ExitCode::from(2);
        }
    };
    let data = args.data.as_deref().unwrap_or(std::path::Path::new(""));
    match daemon::run_device(
        &config,
        data,
        args.firmware.as_deref(),
        args.sealed.as_deref(),
    ) {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fixshare-party: device owner {}: {e}", config.index);
            println!(
                "role: device owner {}\nstatus: failed\nerror: {}",
                config.index,
                e.replace('\n', " ")
            );
            ExitCode::FAILURE
        }
    }
}

/// Runs `jobs` jobs of a server, the dealer, the helper or an assistant one after the other (0: until
/// stopped), each reported as it ends; fails if any failed.
fn serve(config: &Config, log: &Log, jobs: u64) -> ExitCode {
    let mut failed = false;
    let mut k = 0;
    while jobs == 0 || k < jobs {
        k += 1;
        let several = (jobs != 1).then_some(k);
        if several.is_some() && k > 1 {
            log.line(format_args!("serving the next job (run {k})"));
        }
        let code = report(config, log, several, daemon::run(config, log));
        failed |= code != ExitCode::SUCCESS;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the summary of one run (`run: K` first when the daemon serves several) and gives its
/// exit status.
fn report(
    config: &Config,
    log: &Log,
    run: Option<u64>,
    result: Result<Summary, String>,
) -> ExitCode {
    let mut s = Summary::default();
    if let Some(k) = run {
        s.push("run", k);
    }
    let code = match result {
        Ok(summary) => {
            for (name, value) in summary.lines() {
                s.push(name, value);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            log.line(format_args!("failed: {e}"));
            for (name, value) in Summary::failed(config, &e).lines() {
                s.push(name, value);
            }
            ExitCode::FAILURE
        }
    };
    print!("{s}");
    // Each run's summary reaches a reader (a test, a supervisor) as the run ends.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}

/// What `check` prints: the checked settings, one `name: value` per line.
fn check_summary(config: &Config) -> Summary {
    let mut s = Summary::default();
    s.push("config", config.source.display());
    s.push("role", config.log_name());
    s.push("session", &config.session);
    s.push("pin", config.identity.pin());
    if let Some(l) = &config.listen {
        s.push("listen", l);
    }
    if let Some(l) = &config.listen_websocket {
        s.push("listen_websocket", l);
        if let Some(id) = &config.websocket_identity {
            s.push("websocket_certificate_pin", id.pin());
        }
    }
    for p in &config.peers {
        match &p.address {
            Some(a) => s.push(&format!("peer {}", p.role), format_args!("{a} {}", p.pin)),
            None => s.push(&format!("peer {}", p.role), p.pin),
        }
    }
    for (k, pin) in config.owners.iter().enumerate() {
        match config.device(k) {
            Some(_) => s.push(
                &format!("owner {k}"),
                format_args!("a device, through the gateway {pin}"),
            ),
            None => s.push(&format!("owner {k}"), pin),
        }
    }
    if let Some(job) = &config.job {
        s.push("job", job.describe());
        // What the hello carries; a data owner in a web page derives the same from its
        // configuration (the WASM package's JobOwner.sessionId).
        s.push("session_id", daemon::job_session(&config.session, job));
    }
    let t = config.timeouts;
    s.push(
        "timeouts",
        format_args!(
            "connect {}s, handshake {}s, read {}s, write {}s, wait {}s, result {}s",
            t.net.connect.as_secs(),
            t.net.handshake.as_secs(),
            t.net.read.as_secs(),
            t.net.write.as_secs(),
            t.wait.as_secs(),
            t.result.as_secs()
        ),
    );
    s.push("status", "ok");
    s
}
