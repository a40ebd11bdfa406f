//! The SNT server and the trainers as real processes over TCP on 127.0.0.1 (issue 16): SNT and
//! FNT runs equal to centralized training, a server killed with SIGKILL between receiving and
//! acknowledging an upload and restarted, and ten trainers at once.

use fixshare::ml::Dataset;
use fixshare::ml::float::{self, Model};
use fixshare::weights::snt::{self, Status};
use fixshare::weights::{Header, ModelId, Plan, Rejection, Sealer, Trainer, WeightKey, format};
use fixshare::{Link, Seed, block_on_thread};
use fixshare_snt::{Settings, TcpTransport};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fixshare-snt");
const KEY: [u8; 32] = [0x5a; 32];
const MODEL_NAME: &str = "process-tests";

fn model_id() -> ModelId {
    let mut id = [0u8; 16];
    id[..MODEL_NAME.len()].copy_from_slice(MODEL_NAME.as_bytes());
    ModelId(id)
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fixshare-snt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A CSV of `n` rows: five features, three classes, deterministic.
fn write_data(dir: &Path, n: usize) -> PathBuf {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut text = String::from("a,b,c,d,e,class\n");
    for i in 0..n {
        let c = i % 3;
        for f in 0..5 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let centre = if f % 3 == c { 1.0 } else { -0.5 };
            text.push_str(&format!("{},", centre + noise));
        }
        text.push_str(&format!("{c}\n"));
    }
    let path = dir.join("data.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn write_key(dir: &Path) -> PathBuf {
    let hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join("key.hex");
    std::fs::write(&path, hex).unwrap();
    path
}

/// Settings as command-line words, and parsed.
fn settings(words: &[&str]) -> (Vec<String>, Settings) {
    let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    let mut s = Settings::default();
    for pair in words.chunks(2) {
        assert!(s.set(&pair[0], &pair[1]).unwrap(), "{}", pair[0]);
    }
    (words, s.finish().unwrap())
}

/// Centralized training on the union of the parts, in the same order, with the same seeds.
fn centralized(data: &Path, s: &Settings) -> Model {
    let data = Dataset::from_csv(&std::fs::read_to_string(data).unwrap()).unwrap();
    let parts: Vec<_> = (0..s.trainers as usize)
        .map(|i| fixshare_snt::part(&data, s.trainers as usize, i))
        .collect();
    let seeds: Vec<Seed> = (0..s.trainers)
        .map(|i| fixshare_snt::trainer_seed(s.seed, i))
        .collect();
    float::centralized(&s.spec, &parts, &seeds, u64::from(s.central_epochs)).unwrap()
}

/// A child process killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_marker(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server never paused"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the server on `listen` with optional pause; returns it and its address.
fn server(dir: &Path, listen: &str, pause: Option<&str>) -> (Proc, String) {
    let port_file = dir.join("port");
    let _ = std::fs::remove_file(&port_file);
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--dir"]).arg(dir.join("store"));
    cmd.args(["--listen", listen, "--port-file"])
        .arg(&port_file);
    cmd.env_remove("FIXSHARE_SNT_PAUSE");
    if let Some(p) = pause {
        cmd.env("FIXSHARE_SNT_PAUSE", p);
        cmd.env("FIXSHARE_SNT_PAUSE_FILE", dir.join("paused"));
    }
    let child = Proc(cmd.spawn().unwrap());
    let port = wait_for_file(&port_file);
    (child, format!("127.0.0.1:{}", port.trim()))
}

fn trainer_process(dir: &Path, data: &Path, words: &[String], i: u32, extra: &[String]) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.arg("train").args(words);
    cmd.args(["--index", &i.to_string(), "--data"]).arg(data);
    cmd.arg("--key-file").arg(dir.join("key.hex"));
    cmd.args(["--model-id", MODEL_NAME, "--out"])
        .arg(dir.join(format!("out{i}")));
    cmd.args(extra);
    Proc(cmd.spawn().unwrap())
}

fn finish(mut p: Proc) {
    let status = p.0.wait().unwrap();
    assert!(status.success(), "trainer process failed: {status}");
}

fn read_model(dir: &Path, i: u32) -> Model {
    format::decode(&std::fs::read(dir.join(format!("out{i}"))).unwrap()).unwrap()
}

/// The stored version and bytes of the model in the server's directory (checking the file is
/// whole: its header decodes and its length is what the header says).
fn stored(dir: &Path) -> (u64, Vec<u8>) {
    let hex = model_id().hex();
    let path = dir
        .join("store")
        .join(format!("{}.sealed", String::from_utf8_lossy(&hex)));
    let bytes = std::fs::read(path).unwrap();
    let h = Header::decode(&bytes).expect("the stored file is whole");
    (h.version, bytes)
}

#[test]
fn snt_and_fnt_trainer_processes_equal_centralized_training() {
    let dir = scratch("systems");
    let data = write_data(&dir, 90);
    for (n, words) in [
        [
            "--model",
            "5,8,3",
            "--activation",
            "tanh",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--dropout",
            "0.1",
        ],
        [
            "--model",
            "5,6,1",
            "--activation",
            "sigmoid",
            "--optimizer",
            "sgd",
            "--lr",
            "0.2",
            "--loss",
            "squared",
        ],
    ]
    .iter()
    .enumerate()
    {
        let mut all = words.to_vec();
        all.extend([
            "--trainers",
            "3",
            "--central-epochs",
            "3",
            "--local-epochs",
            "2",
            "--batch",
            "8",
        ]);
        let (words, s) = settings(&all);
        let reference = centralized(&data, &s);
        // (The one-output case regresses on the class number with the squared loss.)

        // SNT: a server process and three trainer processes.
        let (srv, addr) = server(&dir.join(format!("snt{n}")), "127.0.0.1:0", None);
        let snt_dir = dir.join(format!("snt{n}"));
        write_key(&snt_dir);
        let procs: Vec<_> = (0..3)
            .map(|i| {
                trainer_process(
                    &snt_dir,
                    &data,
                    &words,
                    i,
                    &[
                        "--system".into(),
                        "snt".into(),
                        "--server".into(),
                        addr.clone(),
                    ],
                )
            })
            .collect();
        procs.into_iter().for_each(finish);
        for i in 0..3 {
            assert!(
                read_model(&snt_dir, i) == reference,
                "snt trainer {i}, case {n}"
            );
        }
        assert_eq!(stored(&snt_dir).0, 9);
        drop(srv);

        // FNT: three trainer processes in a ring, each finding its successor's port.
        let fnt_dir = dir.join(format!("fnt{n}"));
        std::fs::create_dir_all(&fnt_dir).unwrap();
        write_key(&fnt_dir);
        let port = |i: u32| fnt_dir.join(format!("port{}", i % 3)).display().to_string();
        let procs: Vec<_> = (0..3)
            .map(|i| {
                let extra: Vec<String> = [
                    "--system",
                    "fnt",
                    "--listen",
                    "127.0.0.1:0",
                    "--port-file",
                    &port(i),
                    "--next-port-file",
                    &port(i + 1),
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                trainer_process(&fnt_dir, &data, &words, i, &extra)
            })
            .collect();
        procs.into_iter().for_each(finish);
        for i in 0..3 {
            assert!(
                read_model(&fnt_dir, i) == reference,
                "fnt trainer {i}, case {n}"
            );
        }
    }
}

/// Trainers as threads of this process against the server at `addr` (which may be restarted).
fn snt_threads(s: &Settings, data: &Path, addr: &str) -> Vec<Model> {
    let data = Dataset::from_csv(&std::fs::read_to_string(data).unwrap()).unwrap();
    let key = WeightKey::from_bytes(KEY);
    let plan = Plan {
        model: model_id(),
        trainers: s.trainers,
        central_epochs: s.central_epochs,
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..s.trainers)
            .map(|i| {
                let (data, key) = (&data, &key);
                scope.spawn(move || {
                    let rows = fixshare_snt::part(data, plan.trainers as usize, i as usize);
                    let seed = fixshare_snt::trainer_seed(s.seed, i);
                    let sealer = Sealer::new(&Seed::from_bytes([i as u8; 32]), 7);
                    let mut t =
                        Trainer::new(plan, i, &s.spec, rows, key, &seed, sealer, &|| 0.0).unwrap();
                    fixshare_snt::run_snt_trainer(&mut t, addr, Duration::from_secs(60))
                        .unwrap_or_else(|e| panic!("trainer {i}: {e}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_server_killed_between_receive_and_acknowledge_restarts_whole() {
    let dir = scratch("durability");
    let data = write_data(&dir, 60);
    let (_, s) = settings(&[
        "--model",
        "5,6,3",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--trainers",
        "3",
        "--central-epochs",
        "2",
        "--batch",
        "8",
    ]);
    let reference = centralized(&data, &s);
    for (point, before_kill) in [("received", 3), ("stored", 4)] {
        let run = dir.join(point);
        std::fs::create_dir_all(&run).unwrap();
        let (mut srv, addr) = server(&run, "127.0.0.1:0", Some(&format!("{point}:4")));
        let results = std::thread::scope(|scope| {
            let trainers = scope.spawn(|| snt_threads(&s, &data, &addr));
            // The server stops dead inside the upload of version 4; kill it there.
            wait_for_marker(&run.join("paused"));
            srv.0.kill().unwrap();
            srv.0.wait().unwrap();
            // The file holds the old or the new version, whole; no temporary file is left behind
            // once the server restarts.
            let (version, _) = stored(&run);
            assert_eq!(version, before_kill, "killed at {point}");
            let port = addr.rsplit(':').next().unwrap().to_string();
            let (restarted, _) = server(&run, &format!("127.0.0.1:{port}"), None);
            let models = trainers.join().unwrap();
            let left: Vec<_> = std::fs::read_dir(run.join("store"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.ends_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "{left:?}");
            drop(restarted);
            models
        });
        for (i, m) in results.iter().enumerate() {
            assert!(*m == reference, "trainer {i} after a kill at {point}");
        }
        assert_eq!(stored(&run).0, 6);
    }
}

#[test]
fn ten_trainers_at_once_every_update_applied_once_in_order() {
    let dir = scratch("ten");
    let data = write_data(&dir, 100);
    let (_, s) = settings(&[
        "--model",
        "5,6,3",
        "--activation",
        "leaky-relu",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--trainers",
        "10",
        "--central-epochs",
        "2",
        "--batch",
        "4",
    ]);
    let reference = centralized(&data, &s);
    let (_srv, addr) = server(&dir, "127.0.0.1:0", None);
    // Ten trainers, each on its own connection, all waiting on the server at once: a lost or
    // repeated update would change the weights.
    for (i, m) in snt_threads(&s, &data, &addr).iter().enumerate() {
        assert!(*m == reference, "trainer {i}");
    }
    assert_eq!(stored(&dir).0, 20);

    // Ten connections race to upload the same next version of a new model: exactly one wins,
    // the others are refused as stale and the stored file is the winner's.
    let race = ModelId(*b"the race model!!");
    let key = WeightKey::from_bytes(KEY);
    let m = reference;
    let v0 = Sealer::new(&Seed::from_bytes([1; 32]), 0)
        .seal(&key, race, 10, 0, 0, &m)
        .unwrap();
    let mut link = Link::new(TcpTransport::connect(&addr, Duration::from_secs(10)).unwrap());
    assert_eq!(
        block_on_thread(snt::upload(&mut link, 0, &v0))
            .unwrap()
            .status,
        Status::Done
    );
    let candidates: Vec<Vec<u8>> = (0..10)
        .map(|i| {
            Sealer::new(&Seed::from_bytes([i + 10; 32]), 0)
                .seal(&key, race, 10, 0, 1, &m)
                .unwrap()
        })
        .collect();
    let barrier = std::sync::Barrier::new(10);
    let outcomes: Vec<Status> = std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .iter()
            .map(|c| {
                let (addr, barrier) = (&addr, &barrier);
                scope.spawn(move || {
                    let t = TcpTransport::connect(addr, Duration::from_secs(10)).unwrap();
                    let mut link = Link::new(t);
                    barrier.wait();
                    block_on_thread(snt::upload(&mut link, 0, c))
                        .unwrap()
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = (0..10).filter(|&i| outcomes[i] == Status::Done).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (i, o) in outcomes.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(*o, Status::Refused(Rejection::Replayed));
        }
    }
    let hex = race.hex();
    let file = dir
        .join("store")
        .join(format!("{}.sealed", String::from_utf8_lossy(&hex)));
    assert_eq!(std::fs::read(file).unwrap(), candidates[winners[0]]);
}

#[test]
fn the_stored_bytes_are_ciphertext() {
    let dir = scratch("ciphertext");
    let data = write_data(&dir, 30);
    let (_, s) = settings(&[
        "--model",
        "5,32,3",
        "--optimizer",
        "adam",
        "--trainers",
        "2",
        "--central-epochs",
        "1",
    ]);
    let (_srv, addr) = server(&dir, "127.0.0.1:0", None);
    let models = snt_threads(&s, &data, &addr);
    let (version, bytes) = stored(&dir);
    assert_eq!(version, 2);
    let expect = fixshare::weights::Expect {
        model: model_id(),
        trainers: 2,
        version: 2,
    };
    // The trainers' key opens it; any other key does not.
    assert!(
        fixshare::weights::open(&WeightKey::from_bytes(KEY), &expect, &bytes).unwrap() == models[0]
    );
    let e =
        fixshare::weights::open(&WeightKey::from_bytes([0x5b; 32]), &expect, &bytes).unwrap_err();
    assert_eq!(Rejection::of(&e), Some(Rejection::Authentication));
    // No weight's bytes appear in the file.
    for w in models[0].params.iter().take(50) {
        assert!(!bytes.windows(8).any(|x| x == w.to_le_bytes()));
    }
}
