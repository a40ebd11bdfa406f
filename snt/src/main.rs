//! `fixshare-snt`: the SNT server, and one trainer process of SNT or FNT.

use fixshare::Seed;
use fixshare::ml::Dataset;
use fixshare::weights::{ModelId, Plan, Sealer, Trainer, WeightKey, format};
use fixshare_snt::{FileBoard, Pause, SETTINGS_HELP, Server, Settings};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "\
fixshare-snt serve --dir DIR --listen ADDR [--port-file FILE]
    The SNT server: stores sealed weights in DIR (never a key), serves trainers on ADDR
    (127.0.0.1:0 picks a port; --port-file writes it). Test hook: FIXSHARE_SNT_PAUSE=received:V
    or stored:V stops dead at that point of the upload of version V (FIXSHARE_SNT_PAUSE_FILE is
    created there).

fixshare-snt train --system snt|fnt --index I --data CSV --key-file FILE --out FILE [settings]
    One trainer: trains on its part (the I-th of L consecutive parts of CSV; a header row,
    numeric cells, the target last) and writes the final model (the weights payload format)
    to --out.
    snt: --server ADDR
    fnt: --listen ADDR --port-file FILE (its own port) and --next ADDR or --next-port-file FILE
    --model-id TEXT (up to 16 bytes; default fixshare-weights)
    --seed-file FILE: this trainer's training seed, 64 hex digits (default: derived from --seed
    and the index); trainer 0's also makes the initial weights
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("train") => train(&args[1..]),
        _ => {
            println!("{HELP}\nsettings:\n{SETTINGS_HELP}");
            return ExitCode::SUCCESS;
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixshare-snt: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs; settings go to `settings`, the rest into the map.
fn options(
    args: &[String],
    mut settings: Option<&mut Settings>,
) -> Result<HashMap<String, String>, String> {
    let mut map = HashMap::new();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let value = it.next().ok_or_else(|| format!("{name} needs a value"))?;
        if let Some(s) = settings.as_deref_mut()
            && s.set(name, value)?
        {
            continue;
        }
        map.insert(name.clone(), value.clone());
    }
    Ok(map)
}

fn need<'a>(o: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    o.get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("{name} is required"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let o = options(args, None)?;
    let dir = PathBuf::from(need(&o, "--dir")?);
    let marker = std::env::var("FIXSHARE_SNT_PAUSE_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("paused"));
    let board = FileBoard::open(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .with_pause(Pause::from_env(), marker);
    let listener = TcpListener::bind(need(&o, "--listen")?).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    if let Some(f) = o.get("--port-file") {
        write_atomically(Path::new(f), port.to_string().as_bytes())?;
    }
    Server::new(board)
        .serve(&listener)
        .map_err(|e| e.to_string())
}

/// Writes `bytes` to `path` so that a reader never sees half of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Waits for a port file and returns `127.0.0.1:PORT`.
fn port_from(path: &Path) -> Result<String, String> {
    for _ in 0..600 {
        if let Ok(p) = std::fs::read_to_string(path)
            && let Ok(p) = p.trim().parse::<u16>()
        {
            return Ok(format!("127.0.0.1:{p}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{}: no port after 30 s", path.display()))
}

fn train(args: &[String]) -> Result<(), String> {
    let mut settings = Settings::default();
    let o = options(args, Some(&mut settings))?;
    let settings = settings.finish()?;
    let index: u32 = need(&o, "--index")?
        .parse()
        .map_err(|_| "--index: not a number".to_string())?;
    let path = need(&o, "--data")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let data = Dataset::from_csv(&text).map_err(|e| format!("{path}: {e}"))?;
    if index >= settings.trainers {
        return Err("--index must be below --trainers".into());
    }
    let rows = fixshare_snt::part(&data, settings.trainers as usize, index as usize);
    let mut key_bytes = fixshare_snt::read_key(Path::new(need(&o, "--key-file")?))?;
    let key = WeightKey::from_bytes(key_bytes);
    key_bytes.fill(0);
    let mut id = [0u8; 16];
    let name = o
        .get("--model-id")
        .map_or("fixshare-weights", String::as_str);
    let n = name.len().min(16);
    id[..n].copy_from_slice(&name.as_bytes()[..n]);
    let plan = Plan {
        model: ModelId(id),
        trainers: settings.trainers,
        central_epochs: settings.central_epochs,
    };
    let seed = match o.get("--seed-file") {
        Some(f) => {
            let mut b = fixshare_snt::read_key(Path::new(f))?;
            let seed = Seed::from_bytes(b);
            b.fill(0);
            seed
        }
        None => fixshare_snt::trainer_seed(settings.seed, index),
    };
    let nonce_seed = Seed::from_bytes(fixshare_snt::os_entropy().map_err(|e| e.to_string())?);
    let sealer = Sealer::new(&nonce_seed, 0);
    let mut trainer = Trainer::new(
        plan,
        index,
        &settings.spec,
        rows,
        &key,
        &seed,
        sealer,
        &|| 0.0,
    )
    .map_err(|e| e.to_string())?;
    let patience = Duration::from_secs(60);
    let model = match need(&o, "--system")? {
        "snt" => fixshare_snt::run_snt_trainer(&mut trainer, need(&o, "--server")?, patience),
        "fnt" => {
            let listener = TcpListener::bind(need(&o, "--listen")?).map_err(|e| e.to_string())?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            if let Some(f) = o.get("--port-file") {
                write_atomically(Path::new(f), port.to_string().as_bytes())?;
            }
            let next = match (o.get("--next"), o.get("--next-port-file")) {
                (Some(a), _) => a.clone(),
                (None, Some(f)) => port_from(Path::new(f))?,
                (None, None) => return Err("fnt needs --next or --next-port-file".into()),
            };
            fixshare_snt::run_fnt_trainer(&mut trainer, &listener, &next, patience)
        }
        other => return Err(format!("--system: unknown {other}")),
    }
    .map_err(|e| e.to_string())?;
    let out = need(&o, "--out")?;
    write_atomically(Path::new(out), &format::encode(&model))
}
