//! Phong–Phuong training by sharing sealed weights, in one process: L trainers (threads) each
//! holding a part of the training rows pass the weights around, sealed with AES-256-GCM,
//! through the durable SNT server (a temporary directory) or directly around an FNT ring. Beside
//! it, the same training on the union of the data in the same order, in plain, in the same run.
//!
//! ```text
//! cargo run --release --example weights                      # SNT, breast_cancer, L = 20
//! cargo run --release --example weights -- --system fnt --trainers 5 --data examples/data/mnist10k.csv.gz \
//!     --model 784,500,10 --activation relu --optimizer sgd --lr 0.05 --batch 10 --local-epochs 1 --central-epochs 3
//! ```
//!
//! Options: `--system snt|fnt`, `--data PATH` (CSV, or `.csv.gz`), `--scale standardize|max`
//! (default: `max` for the image sets digits and mnist, pixels divided by the largest value;
//! otherwise features standardized with statistics pooled from the trainers' sums), and the
//! training settings of `fixshare-snt` (`--model`, `--activation`, `--dropout`, `--loss`,
//! `--optimizer`, `--lr`, `--batch`, `--local-epochs`, `--central-epochs`, `--trainers`,
//! `--seed`). Split: mnist's last 2000 rows are the test set; other files test on every 5th row.
//! Ends with `name: value` lines: `accuracy`, `centralized_accuracy`, `weights_max_abs_diff`,
//! `seconds`, `centralized_seconds`, `slowdown`, `bytes_sent`, `bytes_per_central_epoch`,
//! `seal_seconds` (all seals), `seal_ms_per_upload`, `open_ms_per_download`, `sealed_bytes`,
//! `seal_ms_alone`, `open_ms_alone` (the final weights sealed and opened ten times, the fastest).

use fixshare::ml::float::{self, Model, Rows};
use fixshare::ml::{FeatureStats, Standardizer};
use fixshare::weights::snt::{self, Progress};
use fixshare::weights::{ModelId, Plan, Sealer, Trainer, TrainerStats, WeightKey, fnt};
use fixshare::{Link, Seed, Stats, block_on_thread, duplex};
use fixshare_snt::{FileBoard, Settings};
use std::sync::Mutex;
use std::time::Instant;

struct Args {
    system: String,
    data: String,
    scale: Option<String>,
    settings: Settings,
    model_given: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        system: "snt".into(),
        data: "examples/data/breast_cancer.csv".into(),
        scale: None,
        settings: Settings::default(),
        model_given: false,
    };
    // Defaults: the paper's breast-cancer setting (L = 20, Adam), scaled to this data.
    for (n, v) in [
        ("--trainers", "20"),
        ("--optimizer", "adam"),
        ("--lr", "0.002"),
        ("--batch", "16"),
        ("--local-epochs", "4"),
        ("--central-epochs", "5"),
    ] {
        a.settings.set(n, v)?;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        if name == "--help" || name == "-h" {
            println!(
                "cargo run --release --example weights -- [--system snt|fnt] [--data PATH] [--scale standardize|max]\n{}",
                fixshare_snt::SETTINGS_HELP
            );
            std::process::exit(0);
        }
        let value = it.next().ok_or_else(|| format!("{name} needs a value"))?;
        match name.as_str() {
            "--system" => a.system = value.clone(),
            "--data" => a.data = value.clone(),
            "--scale" => a.scale = Some(value.clone()),
            _ => {
                a.model_given |= name == "--model";
                if !a.settings.set(name, value)? {
                    return Err(format!("unknown option {name}"));
                }
            }
        }
    }
    if a.system != "snt" && a.system != "fnt" {
        return Err("--system is snt or fnt".into());
    }
    Ok(a)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("weights: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut a = parse()?;
    let data = fixshare_examples::ml::load_csv(&a.data)?;
    let mnist = a.data.contains("mnist");
    let (mut train, mut test) = if mnist {
        let cut = data.rows() * 4 / 5;
        (data.select(|i| i < cut), data.select(|i| i >= cut))
    } else {
        data.split_every(5)
    };
    let l = a.settings.trainers as usize;
    let d = train.features();
    let images = mnist || a.data.contains("digits");
    match a
        .scale
        .as_deref()
        .unwrap_or(if images { "max" } else { "standardize" })
    {
        "max" => {
            let max = train
                .x
                .iter()
                .fold(0.0f64, |m, &v| m.max(v.abs()))
                .max(1e-12);
            train.x.iter_mut().for_each(|v| *v /= max);
            test.x.iter_mut().for_each(|v| *v /= max);
        }
        "standardize" => {
            // Each trainer contributes its column sums; the pooled statistics scale everyone.
            let mut pooled: Option<FeatureStats> = None;
            for r in float::partition(train.rows(), l) {
                let s = FeatureStats::from_rows(&train.x[r.start * d..r.end * d], d);
                pooled = Some(match pooled {
                    None => s,
                    Some(p) => p.merge(&s),
                });
            }
            let st = Standardizer::from_stats(&pooled.ok_or("no training rows")?);
            st.apply(&mut train.x);
            st.apply(&mut test.x);
        }
        other => return Err(format!("--scale: unknown {other}")),
    }
    let binary = train.y.iter().all(|&y| y == 0.0 || y == 1.0);
    let classes = train.y.iter().fold(0.0f64, |m, &y| m.max(y)) as usize + 1;
    if !a.model_given {
        let out = if binary { 1 } else { classes };
        a.settings.set("--model", &format!("{d},16,{out}"))?;
    }
    let s = a.settings.finish()?;
    let spec = &s.spec;
    if spec.sizes[0] != d {
        return Err(format!(
            "--model: the data has {d} features, the model {}",
            spec.sizes[0]
        ));
    }
    let parts: Vec<Rows<'_>> = (0..l).map(|i| fixshare_snt::part(&train, l, i)).collect();
    let test_rows = Rows {
        x: &test.x,
        y: &test.y,
        features: d,
    };
    let seeds: Vec<Seed> = (0..s.trainers)
        .map(|i| fixshare_snt::trainer_seed(s.seed, i))
        .collect();
    println!(
        "{}: {} trainers, {} training rows ({}..{} each), {} test rows; model {:?} ({} parameters), {:?}, {:?}, dropout {:?}, batch {}, {} local x {} central epochs",
        a.system.to_uppercase(),
        l,
        train.rows(),
        parts.iter().map(Rows::len).min().unwrap_or(0),
        parts.iter().map(Rows::len).max().unwrap_or(0),
        test.rows(),
        spec.sizes,
        spec.param_count(),
        spec.activation,
        spec.optimizer,
        spec.dropout,
        spec.batch,
        spec.local_epochs,
        s.central_epochs
    );

    // The weight-sharing system.
    let key = WeightKey::from_bytes(fixshare_snt::os_entropy().map_err(|e| e.to_string())?);
    let plan = Plan {
        model: ModelId(*b"weights example!"),
        trainers: s.trainers,
        central_epochs: s.central_epochs,
    };
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64();
    let last = l as u32 - 1;
    let report = |version: u64, st: &TrainerStats| {
        if version.is_multiple_of(u64::from(s.trainers)) && version > 0 {
            println!(
                "  central epoch {}/{}: {:.2} s, sealed {} bytes",
                version / u64::from(s.trainers),
                s.central_epochs,
                start.elapsed().as_secs_f64(),
                st.sealed_len
            );
        }
    };
    let dir = std::env::temp_dir().join(format!("fixshare-weights-{}", std::process::id()));
    let board = FileBoard::open(&dir).map_err(|e| e.to_string())?;
    let traffic = Mutex::new(Stats::default());
    let all_stats = Mutex::new(Vec::new());
    let results: Vec<Result<Model, fixshare::Error>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        let mut rings: Vec<_> = (0..l).map(|_| duplex()).collect();
        let (mut sends, mut recvs): (Vec<_>, Vec<_>) = rings.drain(..).unzip();
        recvs.rotate_right(1);
        for (i, (rows, seed)) in parts.iter().zip(&seeds).enumerate() {
            let nonce_seed = Seed::from_bytes(fixshare_snt::os_entropy().expect("entropy"));
            let (key, clock, report, board, traffic, all_stats) =
                (&key, &clock, &report, &board, &traffic, &all_stats);
            let system = a.system.clone();
            let (to_next, from_prev) = (sends.remove(0), recvs.remove(0));
            let (server_end, trainer_end) = duplex();
            if system == "snt" {
                scope.spawn(move || {
                    let mut link = Link::new(server_end);
                    let _ = block_on_thread(snt::serve(&mut link, board, 1 << 30));
                    let mut total = traffic.lock().unwrap();
                    *total = *total + link.stats();
                });
            }
            handles.push(scope.spawn(move || {
                let sealer = Sealer::new(&nonce_seed, 0);
                let mut t = Trainer::new(plan, i as u32, spec, *rows, key, seed, sealer, clock)?;
                if i as u32 == last {
                    t = t.with_observer(report);
                }
                let (model, stats) = if system == "snt" {
                    let mut link = Link::new(trainer_end);
                    let m = block_on_thread(snt::run(&mut t, &mut link, &mut Progress::new()));
                    (m, link.stats())
                } else {
                    let (mut prev, mut next) = (Link::new(from_prev), Link::new(to_next));
                    let m = block_on_thread(fnt::run(&mut t, &mut prev, &mut next));
                    (m, prev.stats() + next.stats())
                };
                {
                    let mut total = traffic.lock().unwrap();
                    *total = *total + stats;
                }
                all_stats.lock().unwrap().push(t.stats());
                model
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let models: Vec<Model> = results
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;

    // The same training on the union of the data in the same order, in plain.
    println!("centralized (plain, same order):");
    let c0 = Instant::now();
    let mut reference = Model::init(spec, &seeds[0]).map_err(|e| e.to_string())?;
    let mut train_secs = 0.0;
    for e in 0..u64::from(s.central_epochs) {
        let t = Instant::now();
        for (rows, seed) in parts.iter().zip(&seeds) {
            float::local_round(&mut reference, spec, *rows, seed, e).map_err(|e| e.to_string())?;
        }
        train_secs += t.elapsed().as_secs_f64();
        println!(
            "  central epoch {}/{}: {:.2} s, test accuracy {:.4}",
            e + 1,
            s.central_epochs,
            train_secs,
            float::accuracy(spec, &reference, test_rows)
        );
    }
    let _ = c0;

    let accuracy = float::accuracy(spec, &models[0], test_rows);
    let centralized_accuracy = float::accuracy(spec, &reference, test_rows);
    let max_diff = models
        .iter()
        .flat_map(|m| m.params.iter().zip(&reference.params))
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    let identical = models.iter().all(|m| *m == reference);
    let stats = all_stats.into_inner().unwrap();
    let seals: u64 = stats.iter().map(|s| s.seals).sum();
    let opens: u64 = stats.iter().map(|s| s.opens).sum();
    let seal_seconds: f64 = stats.iter().map(|s| s.seal_seconds).sum();
    let open_seconds: f64 = stats.iter().map(|s| s.open_seconds).sum();
    let traffic = traffic.into_inner().unwrap();
    println!("weights_identical: {identical}");
    println!("accuracy: {accuracy:.4}");
    println!("centralized_accuracy: {centralized_accuracy:.4}");
    println!("weights_max_abs_diff: {max_diff:e}");
    println!("seconds: {seconds:.3}");
    println!("centralized_seconds: {train_secs:.3}");
    println!("slowdown: {:.3}", seconds / train_secs);
    println!("bytes_sent: {}", traffic.bytes_sent);
    println!(
        "bytes_per_central_epoch: {}",
        traffic.bytes_sent / u64::from(s.central_epochs)
    );
    println!("seal_seconds: {seal_seconds:.4}");
    println!(
        "seal_ms_per_upload: {:.3}",
        1e3 * seal_seconds / seals.max(1) as f64
    );
    println!(
        "open_ms_per_download: {:.3}",
        1e3 * open_seconds / opens.max(1) as f64
    );
    println!(
        "sealed_bytes: {}",
        stats.first().map_or(0, |s| s.sealed_len)
    );
    // Sealing and opening the final weights alone, ten times each (the fastest of ten): the
    // cost per upload without other threads around.
    let nonce_seed = Seed::from_bytes(fixshare_snt::os_entropy().map_err(|e| e.to_string())?);
    let mut sealer = Sealer::new(&nonce_seed, 0);
    let (mut seal_best, mut open_best) = (f64::INFINITY, f64::INFINITY);
    let expect = fixshare::weights::Expect {
        model: plan.model,
        trainers: plan.trainers,
        version: plan.final_version(),
    };
    for _ in 0..10 {
        let t = Instant::now();
        let sealed = sealer
            .seal(
                &key,
                plan.model,
                plan.trainers,
                last,
                plan.final_version(),
                &reference,
            )
            .map_err(|e| e.to_string())?;
        seal_best = seal_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let opened = fixshare::weights::open(&key, &expect, &sealed).map_err(|e| e.to_string())?;
        open_best = open_best.min(t.elapsed().as_secs_f64());
        if opened != reference {
            return Err("the final weights did not survive sealing".into());
        }
    }
    println!("seal_ms_alone: {:.3}", 1e3 * seal_best);
    println!("open_ms_alone: {:.3}", 1e3 * open_best);
    Ok(())
}
