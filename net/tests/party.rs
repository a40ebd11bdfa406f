//! `fixshare-party` as real processes over TLS on 127.0.0.1: a dealer, two servers and two data
//! owners train a logistic regression on the breast-cancer data like the plaintext reference
//! while server 0 refuses a stray;
//! SecureNN's three servers (the helper) train network A on 400 MNIST images like its plaintext
//! twin; PrivPy's four (two servers and two assistants) train the logistic regression like the
//! plaintext reference; a server that disappears mid-training ends every other process with an error naming
//! it, and the dealer and server 0 (`--jobs 2`) then train the next job with a new server 1;
//! 1,000 data owners (threads of the test) submit concurrently, every training row arrives once,
//! the model matches plaintext and the servers' peak memory stays under 512 MB; a data owner on
//! a device (its part sealed for each server on the host by the firmware's code) reaches the
//! servers through an untrusted gateway and trains with a Rust owner like the plaintext
//! reference, while a gateway that tampers, a wrong device key and lines for another session
//! or server are refused with their reason; and each configuration that would weaken security
//! is refused before anything listens.

use fixshare::ml::pipeline::{self, GlmPlan, Partition};
use fixshare::ml::{Dataset, GlmModel, SgdParams, Sigmoid, plain};
mod common;

use fixshare_net::Identity;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod ws_owner;

const BIN: &str = env!("CARGO_BIN_EXE_fixshare-party");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data")
        .join(name)
}

/// A free port on 127.0.0.1 (bound, then released).
fn port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// A fresh directory with keys for `names`.
fn workdir(tag: &str, names: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fixshare-party-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    for name in names {
        Identity::generate(name)
            .unwrap()
            .write_pem_files(dir.join("keys"), name)
            .unwrap();
    }
    dir
}

/// One daemon process: its standard error is collected line by line as it comes (so a test can
/// wait for a log line), standard output at the end. Killed if the test ends first.
struct Daemon {
    name: String,
    child: Child,
    err: Arc<Mutex<Vec<String>>>,
    err_reader: Option<JoinHandle<()>>,
    out_reader: Option<JoinHandle<String>>,
}

/// What a daemon left behind.
struct Exit {
    status: ExitStatus,
    out: String,
    err: String,
}

impl Exit {
    fn value(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}: ");
        self.out
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::to_string)
    }

    fn number(&self, name: &str) -> f64 {
        self.value(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no number {name}:\n{}\n{}", self.out, self.err))
    }
}

impl Daemon {
    fn start(name: &str, args: &[&str]) -> Daemon {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fixshare-party");
        let err = Arc::new(Mutex::new(Vec::new()));
        let sink = err.clone();
        let stderr = child.stderr.take().unwrap();
        let tag = name.to_string();
        let err_reader = std::thread::spawn(move || {
            let print = std::env::var_os("FIXSHARE_PARTY_TEST_LOG").is_some();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if print {
                    eprintln!("[{tag}] {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        let mut stdout = child.stdout.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        Daemon {
            name: name.to_string(),
            child,
            err,
            err_reader: Some(err_reader),
            out_reader: Some(out_reader),
        }
    }

    /// Waits until a line of standard error contains `needle`.
    fn wait_for_log(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.err.lock().unwrap().iter().any(|l| l.contains(needle)) {
            assert!(
                start.elapsed() < limit,
                "{}: no log line with {needle:?} within {limit:?}: {:#?}",
                self.name,
                self.err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its standard error so far.
    fn log(&self) -> String {
        self.err.lock().unwrap().join("\n")
    }

    /// Waits for the process to end (failing the test after `limit`: a hang).
    fn finish(mut self, limit: Duration) -> Exit {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} hung: still running after {limit:?}; log: {:#?}",
                    self.name,
                    self.err.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(r) = self.err_reader.take() {
            let _ = r.join();
        }
        let out = self
            .out_reader
            .take()
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default();
        let err = self.err.lock().unwrap().join("\n");
        Exit { status, out, err }
    }

    fn finish_ok(self, limit: Duration) -> Exit {
        let name = self.name.clone();
        let e = self.finish(limit);
        assert!(
            e.status.success(),
            "{name} failed ({}):\n{}\n{}",
            e.status,
            e.out,
            e.err
        );
        assert_eq!(
            e.value("status").as_deref(),
            Some("ok"),
            "{name}: {}",
            e.out
        );
        e
    }

    /// Kills the process (this test's own child).
    fn kill(&mut self) {
        let _ = self.child.kill();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The configuration files of one job: the dealer's (or the helper's, or the assistants'), the
/// servers' and the owners', every key from `keys/` and every peer pinned by its certificate
/// there.
struct Files {
    dir: PathBuf,
    /// The parties that serve the servers: the dealer, the helper, or both assistants.
    serving: Vec<&'static str>,
    owners: usize,
    /// Where server 0 listens.
    server0: String,
    /// Where server 0 and server 1 take data owners over WebSocket, once
    /// [`Files::with_websocket`] added it.
    websocket: Option<[String; 2]>,
}

impl Files {
    /// Writes the files of a job whose `[job]` section is `job`, with `owners` data owners and
    /// `third` ("dealer", "helper", "assistants" for assistant A and B, or none for OT) serving
    /// the servers.
    fn write(dir: &Path, job: &str, owners: usize, third: Option<&'static str>) -> Files {
        let (a0, a1) = (port(), port());
        let session = "session = \"fixshare-party-test\"\n[keys]\ndir = \"keys\"\n";
        let timeouts = "[timeouts]\nconnect_seconds = 60\nwait_seconds = 120\nread_seconds = 120\n";
        let serving: Vec<&'static str> = match third {
            Some("assistants") => vec!["assistant_a", "assistant_b"],
            Some(t) => vec![t],
            None => Vec::new(),
        };
        let addresses: Vec<String> = serving.iter().map(|_| port()).collect();
        let third_peer: String = serving
            .iter()
            .zip(&addresses)
            .map(|(t, a)| format!("[peers.{t}]\naddress = \"{a}\"\n"))
            .collect();
        for (t, a) in serving.iter().zip(&addresses) {
            // Assistant B connects to assistant A.
            let other = match *t {
                "assistant_b" => format!("[peers.assistant_a]\naddress = \"{}\"\n", addresses[0]),
                _ => String::new(),
            };
            std::fs::write(
                dir.join(format!("{t}.toml")),
                format!("role = \"{t}\"\nlisten = \"{a}\"\n{session}{other}{timeouts}"),
            )
            .unwrap();
        }
        std::fs::write(
            dir.join("server0.toml"),
            format!("role = \"server0\"\nlisten = \"{a0}\"\n{session}{third_peer}{timeouts}{job}"),
        )
        .unwrap();
        std::fs::write(
            dir.join("server1.toml"),
            format!(
                "role = \"server1\"\nlisten = \"{a1}\"\n{session}[peers.server0]\naddress = \
                 \"{a0}\"\n{third_peer}{timeouts}{job}"
            ),
        )
        .unwrap();
        for k in 0..owners {
            let results = if k == 0 {
                "[results]\nmodel = \"model.toml\"\n"
            } else {
                ""
            };
            std::fs::write(
                dir.join(format!("owner{k}.toml")),
                format!(
                    "role = \"owner\"\nindex = {k}\n{session}[peers.server0]\naddress = \
                     \"{a0}\"\n[peers.server1]\naddress = \"{a1}\"\n{timeouts}{results}{job}"
                ),
            )
            .unwrap();
        }
        Files {
            dir: dir.to_path_buf(),
            serving,
            owners,
            server0: a0,
            websocket: None,
        }
    }

    /// Adds `listen_websocket` to both servers' files, and a handshake timeout of 10 s.
    fn with_websocket(mut self) -> Files {
        let ws = [port(), port()];
        for (i, addr) in ws.iter().enumerate() {
            let path = self.dir.join(format!("server{i}.toml"));
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replacen(
                "listen = ",
                &format!("listen_websocket = \"{addr}\"\nlisten = "),
                1,
            );
            let text = text.replace("[timeouts]\n", "[timeouts]\nhandshake_seconds = 10\n");
            std::fs::write(&path, text).unwrap();
        }
        self.websocket = Some(ws);
        self
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// Starts `fixshare-party run` with `NAME.toml` and `extra` arguments.
    fn run(&self, name: &str, extra: &[&str]) -> Daemon {
        let cfg = self.path(&format!("{name}.toml"));
        let mut args = vec!["run", "--config", &cfg];
        args.extend_from_slice(extra);
        Daemon::start(name, &args)
    }

    /// Starts owner `k` on `csv`.
    fn owner(&self, k: usize, csv: &Path) -> Daemon {
        let cfg = self.path(&format!("owner{k}.toml"));
        Daemon::start(
            &format!("owner{k}"),
            &["owner", "--config", &cfg, "--data", csv.to_str().unwrap()],
        )
    }

    /// Starts every daemon: the parties that serve the servers, the servers, and the owners on
    /// `csv`.
    fn start(&self, csv: &Path) -> (Vec<Daemon>, Daemon, Daemon, Vec<Daemon>) {
        let third = self.serving.iter().map(|t| self.run(t, &[])).collect();
        let s0 = self.run("server0", &[]);
        let s1 = self.run("server1", &[]);
        let owners = (0..self.owners).map(|k| self.owner(k, csv)).collect();
        (third, s0, s1, owners)
    }
}

/// Reads the `[f64]` array `name` of a model file.
fn model_array(path: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    table[name]
        .as_array()
        .unwrap_or_else(|| panic!("no array {name} in {text}"))
        .iter()
        .map(|v| v.as_float().unwrap())
        .collect()
}

const LIMIT: Duration = Duration::from_secs(300);

const GLM_JOB: &str = "[job]
kind = \"train_glm\"
model = \"logistic\"
sigmoid = \"piecewise\"
owners = 2
epochs = 3
batch = 32
learning_rate = 0.1
";

#[test]
fn dealer_two_servers_and_two_owners_train_a_logistic_regression() {
    let dir = workdir("glm", &["server0", "server1", "dealer", "owner0", "owner1"]);
    let files = Files::write(&dir, GLM_JOB, 2, Some("dealer"));
    let csv = data("breast_cancer.csv");
    // Server 0 gives a connection 10 s for its handshake and hello, so the silent strays below
    // are refused soon, yet a stray's handshake on a loaded machine (the suite's other tests run
    // beside this one) is not cut short before its real reason is logged.
    let s0_path = dir.join("server0.toml");
    let text = std::fs::read_to_string(&s0_path).unwrap();
    std::fs::write(
        &s0_path,
        text.replace("[timeouts]\n", "[timeouts]\nhandshake_seconds = 10\n"),
    )
    .unwrap();
    let dealer = files.run("dealer", &[]);
    let s0 = files.run("server0", &[]);
    let s1 = files.run("server1", &[]);
    s0.wait_for_log("accepted party 1", LIMIT);

    // Every kind of stray, while server 0 waits for the owners: each is refused with its
    // reason in server 0's log, and the job then runs as if none had come.
    let addr: std::net::SocketAddr = files.server0.parse().unwrap();
    let server0_pin = fixshare_net::pin_of_certificate_file(dir.join("keys/server0.crt")).unwrap();
    let endpoint = |key: &str, id: u8, session: &str| {
        let identity = match key {
            "stray" => Identity::generate("stray").unwrap(),
            name => Identity::from_pem_files(
                dir.join(format!("keys/{name}.crt")),
                dir.join(format!("keys/{name}.key")),
            )
            .unwrap(),
        };
        fixshare_net::Endpoint::new(
            Arc::new(identity),
            fixshare::PartyId(id),
            fixshare_net::SessionId::derive(session),
        )
    };
    // A key server 0 does not pin.
    let refused = endpoint("stray", 1, "fixshare-party-test").connect(
        &files.server0,
        fixshare::PartyId(0),
        server0_pin,
    );
    assert!(refused.is_err(), "a stray got through");
    // A pinned key whose hello names another session (the job is not in it).
    let wrong = endpoint("owner1", 16, "another session").connect(
        &files.server0,
        fixshare::PartyId(0),
        server0_pin,
    );
    assert!(wrong.is_err(), "a wrong hello got through");
    // Server 1's key again while server 1 is connected: a duplicate.
    let s1_session = format!(
        "fixshare-party-test\njob: {}",
        fixshare_net::daemon::Config::load(dir.join("server1.toml"))
            .unwrap()
            .job
            .unwrap()
            .describe()
    );
    let twice = endpoint("server1", 1, &s1_session).connect(
        &files.server0,
        fixshare::PartyId(0),
        server0_pin,
    );
    assert!(twice.is_err(), "a duplicate got through");
    // A TLS client with no certificate.
    assert!(common::anonymous_tls_client(addr).is_err());
    // A connection that never speaks, and one that stops half-way through its first message.
    let _silent = std::net::TcpStream::connect(addr).unwrap();
    let mut halfway = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut halfway, &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
    for reason in [
        "is not pinned",
        "session id mismatch",
        "is connected already",
        "no certificates",
    ] {
        s0.wait_for_log(reason, LIMIT);
    }
    common::wait_for_count(&s0.err, "complete the handshake and hello", 2, LIMIT);

    let owners = [files.owner(0, &csv), files.owner(1, &csv)];
    let [o0, o1] = owners;
    let o0 = o0.finish_ok(LIMIT);
    let o1 = o1.finish_ok(LIMIT);
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    let dealer = dealer.finish_ok(LIMIT);
    assert!(
        s0.err
            .contains("listener: rejected a connection from 127.0.0.1:"),
        "{}",
        s0.err
    );

    let secure = check_glm_model(&dir, &csv);
    // Owner 0's own report says the same.
    assert!((o0.number("secure_accuracy") - secure).abs() < 1e-4);
    assert!(o0.number("weights_rel_rmse") < 1e-2);
    assert_eq!(o0.number("rows_shared") + o1.number("rows_shared"), 456.0);
    assert!(o1.value("secure_accuracy").is_none(), "owner 1 got a model");

    // The servers trained on both owners' rows, logged each epoch with a timestamp, and report.
    for s in [&s0, &s1] {
        assert_eq!(s.number("rows"), 456.0);
        assert_eq!(s.number("owners"), 2.0);
        assert!(s.number("online_bytes_sent") > 0.0 && s.number("rounds") > 0.0);
        for e in 1..=3 {
            let line = s
                .err
                .lines()
                .find(|l| l.contains(&format!("epoch {e}/3")))
                .unwrap_or_else(|| panic!("no epoch {e} in {}", s.err));
            // 2026-05-01T12:00:00.123Z server0: epoch 1/3: ...
            assert!(
                line.len() > 25 && &line[10..11] == "T" && &line[23..24] == "Z",
                "{line}"
            );
        }
        assert!(s.err.contains("(TLS13_"), "{}", s.err);
    }
    assert!(dealer.number("bytes_sent") > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Checks the model owner 0 wrote to `dir/model.toml` against the same SGD in plaintext on the
/// rows of `csv` (the job of [`GLM_JOB`]); returns the secure test accuracy.
fn check_glm_model(dir: &Path, csv: &Path) -> f64 {
    let table = Dataset::from_csv_bytes(&std::fs::read(csv).unwrap()).unwrap();
    let model = GlmModel::Logistic(Sigmoid::Piecewise);
    let sgd = SgdParams {
        epochs: 3,
        batch: 32,
        learning_rate: 0.1,
    };
    let plan = GlmPlan {
        model,
        sgd,
        partition: Partition::Rows,
        owners: 2,
    };
    let prepared = pipeline::prepare::<u64>(&table, &plan, Default::default()).unwrap();
    let d = prepared.train.features();
    let reference = plain::train_glm(&prepared.train.x, &prepared.train.y, d, model, &sgd);
    let weights = model_array(&dir.join("model.toml"), "weights");
    assert_eq!(weights.len(), d + 1);
    let rel = plain::rel_rmse(&weights, &reference);
    let secure = pipeline::metric(model, &prepared.test, &weights);
    let plaintext = pipeline::metric(model, &prepared.test, &reference);
    println!("weights_rel_rmse {rel:.3e}, accuracy {secure:.4} (plaintext {plaintext:.4})");
    assert!(rel < 1e-2, "weights_rel_rmse {rel}");
    assert!(
        (secure - plaintext).abs() <= 0.01,
        "{secure} vs {plaintext}"
    );
    assert!(secure > 0.9, "{secure}");
    secure
}

/// Owner 1 of [`GLM_JOB`] as a web page would be: over WebSocket to both servers, whose TLS
/// keys are `tls` (what the browser trusts), with its key proof, sharing its part of `csv`
/// prepared by `fixshare_job` (the code `fixshare-party owner` runs).
fn websocket_owner(
    files: &Files,
    csv: &Path,
    key: &ws_owner::OwnerKey,
    tls: [fixshare_net::Pin; 2],
) -> Result<(), String> {
    use fixshare::{Link, Seed, block_on_thread};
    use fixshare_job::{OwnerConfig, OwnerData, proof::owner_setup};
    let ws = files
        .websocket
        .as_ref()
        .expect("servers with listen_websocket");
    let pin = |i: usize| {
        fixshare_net::pin_of_certificate_file(files.dir.join(format!("keys/server{i}.crt")))
            .unwrap()
    };
    let job = GLM_JOB.trim_start_matches("[job]\n");
    let config = OwnerConfig::parse(&format!(
        "session = \"fixshare-party-test\"\nindex = 1\n[peers.server0]\naddress = \"wss://{}\"\n\
         pin = \"{}\"\n[peers.server1]\naddress = \"wss://{}\"\npin = \"{}\"\n[job]\n{job}",
        ws[0],
        pin(0),
        ws[1],
        pin(1)
    ))
    .map_err(|e| e.to_string())?;
    let data = OwnerData::from_csv_bytes(&config.job, &std::fs::read(csv).unwrap(), 1)?;
    let mut links = Vec::new();
    for (i, addr) in ws.iter().enumerate() {
        let mut c = ws_owner::WsClient::owner(addr, tls[i])?;
        block_on_thread(owner_setup(&mut c, config.hello(i as u8), &pin(i), key))
            .map_err(|e| format!("server {i}: {e}"))?;
        links.push(Link::new(c));
    }
    let (mut to1, mut to0) = (links.pop().unwrap(), links.pop().unwrap());
    let model =
        block_on_thread(data.share(Seed::from_bytes(ws_owner::random32()), &mut to0, &mut to1))
            .map_err(|e| e.to_string())?;
    assert!(model.is_none(), "owner 1 got a model");
    Ok(())
}

/// Sets up a stray WebSocket owner at `addr` (server 0 of the job, whose key is `pin`) with
/// `key` and `hello`; returns what the setup said.
fn stray(
    addr: &str,
    pin: fixshare_net::Pin,
    hello: fixshare_job::Hello,
    key: &ws_owner::OwnerKey,
) -> String {
    match ws_owner::WsClient::owner(addr, pin) {
        Ok(mut c) => match fixshare::block_on_thread(fixshare_job::proof::owner_setup(
            &mut c, hello, &pin, key,
        )) {
            Ok(()) => "accepted".into(),
            Err(e) => e.to_string(),
        },
        Err(e) => e,
    }
}

#[test]
fn a_data_owner_over_websocket_trains_with_one_over_tls_while_strays_are_refused() {
    use fixshare_job::{Hello, SessionId};
    use std::io::Write;
    let dir = workdir(
        "websocket",
        &["server0", "server1", "dealer", "owner0", "owner1"],
    );
    let files = Files::write(&dir, GLM_JOB, 2, Some("dealer")).with_websocket();
    // Server 1's WebSocket listener presents a certificate of its own (as one issued for its
    // name would be); server 0's its fixshare-party key's.
    let web = Identity::generate("server1.example").unwrap();
    web.write_pem_files(dir.join("keys"), "server1-web")
        .unwrap();
    let s1_file = dir.join("server1.toml");
    let text = std::fs::read_to_string(&s1_file).unwrap().replacen(
        "listen = ",
        "websocket_certificate = \"keys/server1-web.crt\"\nwebsocket_key = \
         \"keys/server1-web.key\"\nlisten = ",
        1,
    );
    std::fs::write(&s1_file, text).unwrap();
    let csv = data("breast_cancer.csv");
    let ws = files.websocket.clone().unwrap();
    let dealer = Daemon::start("dealer", &["run", "--config", &files.path("dealer.toml")]);
    let s0 = Daemon::start("server0", &["run", "--config", &files.path("server0.toml")]);
    let s1 = Daemon::start("server1", &["run", "--config", &files.path("server1.toml")]);
    let o0 = Daemon::start(
        "owner0",
        &[
            "owner",
            "--config",
            &files.path("owner0.toml"),
            "--data",
            csv.to_str().unwrap(),
        ],
    );
    s0.wait_for_log("for data owners over WebSocket", LIMIT);
    s1.wait_for_log("for data owners over WebSocket", LIMIT);
    // Owner 0 is in (over TLS) before the strays come, so that a second owner 0 is a duplicate.
    s0.wait_for_log("accepted party 16", LIMIT);
    let pin0 = fixshare_net::pin_of_certificate_file(dir.join("keys/server0.crt")).unwrap();
    let owner0_key = ws_owner::OwnerKey::from_pem_file(&dir.join("keys/owner0.key"));
    let owner1_key = ws_owner::OwnerKey::from_pem_file(&dir.join("keys/owner1.key"));
    let session = fixshare_net::daemon::job_session(
        "fixshare-party-test",
        &fixshare_net::daemon::Config::load(dir.join("server0.toml"))
            .unwrap()
            .job
            .unwrap(),
    );
    let hello = |from: u8| Hello {
        version: fixshare_job::PROTOCOL_VERSION,
        session,
        from: fixshare::PartyId(from),
        to: fixshare::PartyId(0),
    };
    // Each stray at server 0's WebSocket listener, and the reason its log must give.
    let mut expected: Vec<(&str, &str)> = Vec::new();
    // Not TLS at all.
    let mut raw = std::net::TcpStream::connect(&ws[0]).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    expected.push(("not TLS", "TLS handshake failed"));
    // TLS, then HTTP that is not a WebSocket upgrade.
    let mut https = ws_owner::tls(&ws[0], pin0).unwrap();
    https
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    https.flush().unwrap();
    expected.push(("not a WebSocket", "not a WebSocket upgrade"));
    // A WebSocket of another application (no subprotocol).
    let other = ws_owner::WsClient::connect(&ws[0], pin0, None);
    assert!(
        other.is_err(),
        "a WebSocket without the subprotocol was upgraded"
    );
    expected.push((
        "no subprotocol",
        "does not ask for the subprotocol fixshare-owner.v1",
    ));
    // A WebSocket that sends no hello: cut after the 10 s handshake timeout.
    let silent = ws_owner::WsClient::owner(&ws[0], pin0).unwrap();
    expected.push(("no hello", "waiting to complete the handshake and hello"));
    // A message over the limit (1 MiB), refused on its frame header.
    let mut big = ws_owner::WsClient::owner(&ws[0], pin0).unwrap();
    let _ = fixshare::block_on_thread(fixshare::Transport::send(&mut big, &vec![0u8; 2 << 20]));
    expected.push(("too large a message", "Message too long"));
    // Another session.
    let mut other_session = hello(16);
    other_session.session = SessionId::derive("another job");
    let why = stray(&ws[0], pin0, other_session, &owner1_key);
    assert!(why.contains("session id mismatch"), "{why}");
    expected.push(("wrong session", "session id mismatch"));
    // A key no server pins.
    let why = stray(&ws[0], pin0, hello(16), &ws_owner::OwnerKey::generate());
    assert!(why.contains("not pinned here"), "{why}");
    expected.push(("unpinned key", "is not pinned for a data owner here"));
    // Owner 1's key, but a signature over another message.
    let mut forger = ws_owner::OwnerKey::from_pem_file(&dir.join("keys/owner1.key"));
    forger.tamper = true;
    let why = stray(&ws[0], pin0, hello(16), &forger);
    assert!(why.contains("key proof does not verify"), "{why}");
    expected.push((
        "bad signature",
        "does not verify (signed for another challenge",
    ));
    // Owner 0 again, over WebSocket, while its TLS connection holds its place.
    let why = stray(&ws[0], pin0, hello(16), &owner0_key);
    assert!(why.contains("duplicate connection"), "{why}");
    expected.push(("duplicate owner", "duplicate connection for this party"));
    for (case, needle) in &expected {
        s0.wait_for_log(needle, Duration::from_secs(30));
        println!("refused: {case}");
    }
    drop((raw, https, silent, big));

    // Owner 1, over WebSocket: the job completes with both owners' rows.
    // A page that took server 1's own key for its TLS key would not get through TLS.
    let pin1 = fixshare_net::pin_of_certificate_file(dir.join("keys/server1.crt")).unwrap();
    assert!(ws_owner::WsClient::owner(&ws[1], pin1).is_err());
    websocket_owner(&files, &csv, &owner1_key, [pin0, web.pin()]).expect("owner 1 over WebSocket");
    let o0 = o0.finish_ok(LIMIT);
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    dealer.finish_ok(LIMIT);
    let secure = check_glm_model(&dir, &csv);
    assert!((o0.number("secure_accuracy") - secure).abs() < 1e-4);
    assert!(o0.number("weights_rel_rmse") < 1e-2);
    for s in [&s0, &s1] {
        assert_eq!(s.number("rows"), 456.0);
        assert_eq!(s.number("owners"), 2.0);
        assert!(
            s.err.contains("owner 1: WebSocket over TLS13_"),
            "{}",
            s.err
        );
    }
    assert!(
        s0.err.contains("with this server's own certificate"),
        "{}",
        s0.err
    );
    let with_web = format!("with the certificate of key {}", web.pin());
    assert!(s1.err.contains(&with_web), "{}", s1.err);
    // Every refusal was logged as the listener's, with its reason.
    for (case, needle) in &expected {
        assert!(
            s0.err
                .lines()
                .any(|l| l.contains("listener: rejected a connection") && l.contains(needle)),
            "{case}: no refusal with {needle:?} in {}",
            s0.err
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

const NETWORK_JOB: &str = "[job]
kind = \"train_network\"
network = \"A\"
offline = \"helper\"
prepare = \"pixels\"
epochs = 1
batch = 32
learning_rate = 0.1
";

#[test]
fn four_servers_train_a_logistic_regression_like_plaintext() {
    // PrivPy's topology: the two servers, assistants A and B (their own processes, B connected
    // to A), two data owners; the assistants compute the products and comparisons online.
    let dir = workdir(
        "four",
        &[
            "server0",
            "server1",
            "assistant_a",
            "assistant_b",
            "owner0",
            "owner1",
        ],
    );
    let job = GLM_JOB.replace("[job]\n", "[job]\noffline = \"assistants\"\n");
    let files = Files::write(&dir, &job, 2, Some("assistants"));
    let csv = data("breast_cancer.csv");
    let (assistants, s0, s1, owners) = files.start(&csv);
    let mut owners = owners.into_iter();
    let o0 = owners.next().unwrap().finish_ok(LIMIT);
    owners.next().unwrap().finish_ok(LIMIT);
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    let assistants: Vec<Exit> = assistants.into_iter().map(|a| a.finish_ok(LIMIT)).collect();
    let secure = check_glm_model(&dir, &csv);
    assert!((o0.number("secure_accuracy") - secure).abs() < 1e-4);
    for s in [&s0, &s1] {
        assert_eq!(s.number("rows"), 456.0);
        assert!(
            s.err.contains("OT, with the assistants online"),
            "{}",
            s.err
        );
        assert!(s.err.contains("connected to assistant_a at"), "{}", s.err);
    }
    for a in &assistants {
        assert!(a.number("bytes_sent") > 0.0, "{}", a.out);
        assert!(a.err.contains("listening at"), "{}", a.err);
    }
    assert!(assistants[1].err.contains("connected to assistant_a at"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn three_servers_train_securenn_network_a_like_its_plaintext_twin() {
    use fixshare::ml::train::{init_weights, securenn_network, train_network_plain};
    use fixshare::ml::{MlpLoss, inference::forward_plain};
    let dir = workdir("securenn", &["server0", "server1", "helper", "owner0"]);
    // The first 400 MNIST images: 320 train (every 5th row tests), 80 test.
    let mut text = String::new();
    let gz = std::fs::File::open(data("mnist10k.csv.gz")).unwrap();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .unwrap();
    let slice: Vec<&str> = text.lines().take(401).collect();
    let csv = dir.join("mnist400.csv");
    std::fs::write(&csv, slice.join("\n") + "\n").unwrap();
    let files = Files::write(&dir, NETWORK_JOB, 1, Some("helper"));
    let (helper, s0, s1, owners) = files.start(&csv);
    let owner = owners.into_iter().next().unwrap().finish_ok(LIMIT);
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    let helper = helper.into_iter().next().unwrap().finish_ok(LIMIT);

    // The plaintext twin: the same network, initial weights, rows and order, in f64.
    let table = Dataset::from_csv_bytes(slice.join("\n").as_bytes()).unwrap();
    let (train, test) = table.split_every(pipeline::TEST_EVERY);
    let net = securenn_network('A').unwrap();
    let init = init_weights(&net, 1);
    let x: Vec<f64> = train.x.iter().map(|v| v / 255.0).collect();
    let labels: Vec<usize> = train.y.iter().map(|&v| v as usize).collect();
    let y = pipeline::one_hot(&labels, 10);
    let sgd = SgdParams {
        epochs: 1,
        batch: 32,
        learning_rate: 0.1,
    };
    let twin = train_network_plain(&net, &x, &y, &init, &sgd, MlpLoss::Squared).unwrap();
    let model: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("model.toml")).unwrap()).unwrap();
    let layers: Vec<Vec<f64>> = model["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_float().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        layers.iter().map(Vec::len).collect::<Vec<_>>(),
        twin.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let rel = plain::rel_rmse(&layers.concat(), &twin.concat());
    // The secure network's outputs on the test images stay within fixed-point error (0.1) of
    // the twin's, so wherever the twin's top two outputs are 0.2 apart both pick the same
    // class. (After one short epoch most images are near a tie, where truncation error may
    // flip the class either way: the run's random shares decide.)
    let tx: Vec<f64> = test.x.iter().map(|v| v / 255.0).collect();
    let outputs = |w: &[Vec<f64>]| forward_plain(&net, w, &tx, test.rows()).unwrap();
    let (ours, theirs) = (outputs(&layers), outputs(&twin));
    let out_diff = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let mut decisive = 0;
    let mut same = 0;
    for (a, b) in ours.chunks_exact(10).zip(theirs.chunks_exact(10)) {
        let mut sorted = b.to_vec();
        sorted.sort_by(|p, q| q.total_cmp(p));
        if sorted[0] - sorted[1] >= 0.2 {
            decisive += 1;
            same += usize::from(plain::argmax(a) == plain::argmax(b));
        }
    }
    println!(
        "weights_rel_rmse {rel:.3e}; outputs_max_abs_diff {out_diff:.3e}; {same} of {decisive} \
         decisive test images classified alike; owner: secure {} plaintext {}",
        owner.number("secure_accuracy"),
        owner.number("plaintext_accuracy")
    );
    assert!(rel < 1e-2, "weights_rel_rmse {rel}");
    assert!(out_diff < 0.1, "outputs_max_abs_diff {out_diff}");
    assert!(decisive >= 10, "{decisive} decisive images");
    assert_eq!(same, decisive);
    assert!(owner.number("weights_rel_rmse") < 1e-2);
    for s in [&s0, &s1] {
        assert_eq!(s.number("rows"), 320.0);
        assert!(s.err.contains("connected to helper at"), "{}", s.err);
        assert!(s.err.contains("epoch 1/1"), "{}", s.err);
    }
    assert_eq!(helper.value("role").as_deref(), Some("helper"));
    assert!(helper.number("bytes_sent") > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_server_that_disappears_ends_every_other_party_with_its_name_and_the_next_job_runs() {
    let dir = workdir("gone", &["server0", "server1", "dealer", "owner0"]);
    let job = GLM_JOB
        .replace("owners = 2", "owners = 1")
        .replace("epochs = 3", "epochs = 200");
    let files = Files::write(&dir, &job, 1, Some("dealer"));
    // The dealer and server 0 serve two jobs: the first loses server 1 mid-training.
    let two = ["--jobs", "2"];
    let dealer = files.run("dealer", &two);
    let s0 = files.run("server0", &two);
    let mut s1 = files.run("server1", &[]);
    let owner = files.owner(0, &data("breast_cancer.csv"));
    s0.wait_for_log("epoch 1/200", LIMIT);
    s1.kill();
    let limit = Duration::from_secs(60);
    let owner = owner.finish(limit);
    for (name, d) in [("server0", &s0), ("dealer", &dealer)] {
        d.wait_for_log("serving the next job (run 2)", limit);
        assert!(d.log().contains("failed: "), "{name}: {}", d.log());
    }
    assert_eq!(owner.status.code(), Some(1), "{}\n{}", owner.out, owner.err);
    assert_eq!(owner.value("status").as_deref(), Some("failed"));
    assert!(owner.err.contains("failed: "), "{}", owner.err);

    // Server 1 is back (a new process) and the owner submits again: the second job, the same
    // as the first, trains to the end.
    let s1 = files.run("server1", &[]);
    let owner2 = files.owner(0, &data("breast_cancer.csv"));
    let owner2 = owner2.finish_ok(LIMIT);
    s1.finish_ok(LIMIT);
    let (s0, dealer) = (s0.finish(limit), dealer.finish(limit));
    assert!(owner2.number("secure_accuracy") > 0.9, "{}", owner2.out);
    for (name, e) in [("server0", &s0), ("dealer", &dealer)] {
        // One job failed, so the exit status is 1; each run reported as it ended.
        assert_eq!(e.status.code(), Some(1), "{name}: {}\n{}", e.out, e.err);
        let runs: Vec<&str> = e.out.split("run: ").skip(1).collect();
        assert_eq!(runs.len(), 2, "{name}: {}", e.out);
        assert!(runs[0].contains("status: failed"), "{name}: {}", e.out);
        assert!(runs[1].contains("status: ok"), "{name}: {}", e.out);
    }
    for (name, e) in [("server0", &s0), ("dealer", &dealer), ("owner 0", &owner)] {
        println!("{name}: {}", e.value("error").unwrap_or_default());
    }
    // Each names the peer whose connection ended without an orderly close (no close_notify, or a
    // reset): server 1 itself,
    // or a party that cut its connections because server 1 went away (which one a process
    // sees first depends on whom it was waiting for).
    let names = |e: &Exit, peers: &[&str]| {
        let why = e.value("error").unwrap();
        assert!(
            peers
                .iter()
                .any(|p| why.contains(&format!("{p} at 127.0.0.1:"))),
            "{peers:?}: {why}"
        );
        assert!(
            why.contains("ended without a TLS close_notify") || why.contains("was reset"),
            "{why}"
        );
    };
    names(&s0, &["server1", "dealer"]);
    names(&dealer, &["server1", "server0"]);
    names(&owner, &["server0", "server1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn servers_whose_jobs_differ_refuse_each_other_at_the_hello() {
    let dir = workdir(
        "mismatch",
        &["server0", "server1", "dealer", "owner0", "owner1"],
    );
    let files = Files::write(&dir, GLM_JOB, 2, Some("dealer"));
    let s1_path = dir.join("server1.toml");
    let text = std::fs::read_to_string(&s1_path).unwrap();
    std::fs::write(&s1_path, text.replace("epochs = 3", "epochs = 4")).unwrap();
    let s0 = Daemon::start("server0", &["run", "--config", &files.path("server0.toml")]);
    let s1 = Daemon::start("server1", &["run", "--config", &files.path("server1.toml")]);
    let e = s1.finish(Duration::from_secs(60));
    assert_eq!(e.status.code(), Some(1), "{}\n{}", e.out, e.err);
    let why = e.value("error").unwrap();
    assert!(why.contains("session id mismatch"), "{why}");
    assert!(why.contains("the [job] section differ"), "{why}");
    // Server 0 logged the refusal and keeps waiting for the right parties.
    s0.wait_for_log("session id mismatch", Duration::from_secs(30));
    drop(s0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A server's `[[devices]]` entry: owner `index`, through the gateway of pin `gateway`, with
/// the device key file `key`.
fn device(index: usize, gateway: &str, key: &str) -> String {
    format!("[[devices]]\nindex = {index}\ngateway_pin = \"{gateway}\"\nkey = \"{key}\"\n")
}

/// A valid configuration of server 1 (listening at `{A}`, connecting to server 0 at `{B}` and the
/// dealer at `{C}`) that the refusal cases change one thing in.
const SERVER1: &str = "role = \"server1\"
session = \"refusals\"
listen = \"{A}\"
[keys]
dir = \"keys\"
[peers.server0]
address = \"{B}\"
[peers.dealer]
address = \"{C}\"
[job]
kind = \"train_glm\"
epochs = 1
";

#[test]
fn configurations_that_weaken_security_are_refused_before_anything_listens() {
    let dir = workdir(
        "refusals",
        &[
            "server0",
            "server1",
            "dealer",
            "owner0",
            "gateway",
            "assistant_a",
            "assistant_b",
        ],
    );
    fixshare_net::device::write_key_files(dir.join("keys"), "dev").unwrap();
    let pin = |name: &str| {
        fixshare_net::pin_of_certificate_file(dir.join(format!("keys/{name}.crt")))
            .unwrap()
            .to_string()
    };
    // Every address the daemon could listen at or connect to is held here: a daemon that got
    // as far as listening would fail on "address in use", and a connection would show.
    let held: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    for l in &held {
        l.set_nonblocking(true).unwrap();
    }
    let addr = |i: usize| held[i].local_addr().unwrap().to_string();
    let base = SERVER1
        .replace("{A}", &addr(0))
        .replace("{B}", &addr(1))
        .replace("{C}", &addr(2));
    let explicit = "[keys]\ncertificate = \"keys/server1.crt\"\nkey = \"keys/server1.key\"";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "no keys",
            base.replace("[keys]\ndir = \"keys\"\n", ""),
            "no [keys]: every party authenticates with its own key",
        ),
        (
            "a key file that is not there",
            base.replace("dir = \"keys\"", "dir = \"elsewhere\""),
            "this party's key",
        ),
        (
            "TLS turned off",
            format!("tls = false\n{base}"),
            "TLS cannot be turned off",
        ),
        (
            "a seed",
            format!("seed = 42\n{base}"),
            "`seed`: a seed in the configuration would make every secret",
        ),
        (
            "a seed in the job",
            format!("{base}dealer_seed = 7\n"),
            "`job.dealer_seed`: a seed in the configuration",
        ),
        (
            "a peer without a pin",
            base.replace("[keys]\ndir = \"keys\"", explicit),
            "[peers.server0]: the server0 is not pinned",
        ),
        (
            "the dealer without a pin",
            base.replace("[keys]\ndir = \"keys\"", explicit).replace(
                "[peers.server0]\n",
                &format!("[peers.server0]\npin = \"{}\"\n", pin("server0")),
            ),
            "[peers.dealer]: the dealer is not pinned",
        ),
        (
            "a data owner without a pin",
            base.replace("[keys]\ndir = \"keys\"", explicit)
                .replace(
                    "[peers.server0]\n",
                    &format!("[peers.server0]\npin = \"{}\"\n", pin("server0")),
                )
                .replace(
                    "[peers.dealer]\n",
                    &format!("[peers.dealer]\npin = \"{}\"\n", pin("dealer")),
                ),
            "[owners] owner 0: the owner0 is not pinned",
        ),
        (
            "an unknown field",
            base.replace("listen =", "listen_address ="),
            "unknown field `listen_address`",
        ),
        (
            "an unknown field in the job",
            base.replace("epochs = 1", "epoch = 1"),
            "unknown field `epoch`",
        ),
        (
            "a WebSocket certificate without the WebSocket listener",
            format!(
                "websocket_certificate = \"keys/server1.crt\"\nwebsocket_key = \
                 \"keys/server1.key\"\n{base}"
            ),
            "are for the WebSocket listener",
        ),
        (
            "the WebSocket listener at the TLS listener's address",
            format!("listen_websocket = \"{}\"\n{base}", addr(0)),
            "needs an address of its own",
        ),
        (
            "a device as owner 0 (who receives the model)",
            format!(
                "{base}owners = 2\n{}",
                device(0, &pin("gateway"), "keys/dev.server1.key")
            ),
            "[[devices]] index = 0: owner 0 receives the model",
        ),
        (
            "a device beyond the job's owners",
            format!(
                "{base}owners = 2\n{}",
                device(2, &pin("gateway"), "keys/dev.server1.key")
            ),
            "the job has 2 data owner(s)",
        ),
        (
            "a device key that is not one",
            format!(
                "{base}owners = 2\n{}",
                device(1, &pin("gateway"), "keys/server1.crt")
            ),
            "a device key is 64 hexadecimal digits",
        ),
        (
            "two devices through one gateway key",
            format!(
                "{base}owners = 3\n{}{}",
                device(1, &pin("gateway"), "keys/dev.server1.key"),
                device(2, &pin("gateway"), "keys/dev.server1.key")
            ),
            "give each device's gateway a key of its own",
        ),
        (
            "devices at a dealer",
            format!(
                "role = \"dealer\"\nsession = \"s\"\nlisten = \"{}\"\n[keys]\ndir = \"keys\"\n{}",
                addr(0),
                device(1, &pin("gateway"), "keys/dev.server1.key")
            ),
            "[[devices]] is for the servers",
        ),
        (
            "a gateway for owner 0",
            format!(
                "role = \"gateway\"\nsession = \"s\"\nindex = 0\n[keys]\ndir = \"keys\"\n\
                 [peers.server0]\naddress = \"{}\"\n[peers.server1]\naddress = \"{}\"\n\
                 [job]\nkind = \"train_glm\"\nowners = 2\n",
                addr(1),
                addr(0)
            ),
            "index = 0: owner 0 receives the model",
        ),
        (
            "an assistant with a job",
            format!(
                "role = \"assistant_a\"\nsession = \"s\"\nlisten = \"{}\"\n[keys]\ndir = \"keys\"\n\
                 [job]\nkind = \"train_glm\"\n",
                addr(0)
            ),
            "the assistant_a runs no job of its own",
        ),
        (
            "assistant B not told where assistant A listens",
            format!(
                "role = \"assistant_b\"\nsession = \"s\"\nlisten = \"{}\"\n[keys]\ndir = \"keys\"\n",
                addr(0)
            ),
            "[peers.assistant_a] needs `address`: the assistant_b connects to the assistant_a",
        ),
        (
            "a dealer for a job whose assistants serve the servers",
            base.replace("epochs = 1", "epochs = 1\noffline = \"assistants\""),
            "[peers.dealer]: the server1 does not talk to the dealer with this job's offline phase",
        ),
        (
            "a malformed pin",
            base.replace(
                "[peers.server0]\n",
                "[peers.server0]\npin = \"sha256:1234\"\n",
            ),
            "not a pin",
        ),
    ];
    // The base itself is fine, and so is it with a device, so each refusal below is its
    // case's alone.
    let with_device = format!(
        "{base}owners = 2\n{}",
        device(1, &pin("gateway"), "keys/dev.server1.key")
    );
    std::fs::write(dir.join("device.toml"), &with_device).unwrap();
    let out = Command::new(BIN)
        .args([
            "check",
            "--config",
            dir.join("device.toml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base_file = dir.join("base.toml");
    std::fs::write(&base_file, &base).unwrap();
    let out = Command::new(BIN)
        .args(["check", "--config", base_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, (case, text, reason)) in cases.iter().enumerate() {
        let file = dir.join(format!("case{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let start = Instant::now();
        let out = Command::new(BIN)
            .args(["run", "--config", file.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: {err}");
        assert!(err.contains(reason), "{case}: expected {reason:?} in {err}");
        assert!(err.contains("nothing was started"), "{case}: {err}");
        assert!(!err.contains("listening"), "{case}: {err}");
        assert!(out.stdout.is_empty(), "{case}");
        assert!(start.elapsed() < Duration::from_secs(10), "{case}");
    }
    // A seed on the command line, too.
    let out = Command::new(BIN)
        .args([
            "run",
            "--config",
            base_file.to_str().unwrap(),
            "--seed",
            "5",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--seed: a seed makes every secret"), "{err}");
    // Nobody connected to the held addresses.
    for l in &held {
        assert!(
            matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a refused configuration connected somewhere"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

const OWNERS: usize = 1000;

#[test]
fn a_thousand_data_owners_submit_concurrently_and_every_row_arrives_once() {
    use fixshare_net::daemon::{self, Config, Log};
    // Keys for the dealer, both servers and 1,000 owners; the servers pin every owner's key.
    let mut names = vec!["server0".to_string(), "server1".into(), "dealer".into()];
    names.extend((0..OWNERS).map(|k| format!("owner{k}")));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = workdir("thousand", &names);
    let job = format!(
        "[job]\nkind = \"train_mlp\"\nsizes = [64, 10]\nloss = \"relu_softmax\"\nprepare = \"standardize\"\nowners = \
         {OWNERS}\nepochs = 3\nbatch = 32\nlearning_rate = 0.1\n"
    );
    let files = Files::write(&dir, &job, OWNERS, Some("dealer"));
    // Two thousand handshakes at once: each connection may wait its turn in a server's backlog.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace("[timeouts]\n", "[timeouts]\nhandshake_seconds = 120\n");
            std::fs::write(&path, text).unwrap();
        }
    }
    let csv = data("digits.csv");
    let table = fixshare::ml::Dataset::from_csv(&std::fs::read_to_string(&csv).unwrap()).unwrap();
    let training_rows = table.split_every(pipeline::TEST_EVERY).0.rows();

    let dealer = files.run("dealer", &[]);
    let s0 = files.run("server0", &[]);
    let s1 = files.run("server1", &[]);
    // Every owner in this process, on a thread of its own, started together.
    let start = Arc::new(std::sync::Barrier::new(OWNERS));
    let owners: Vec<_> = (0..OWNERS)
        .map(|k| {
            let cfg = Config::load(dir.join(format!("owner{k}.toml"))).unwrap();
            let (csv, start) = (csv.clone(), start.clone());
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    start.wait();
                    daemon::run_owner(&cfg, &csv, None, &Log::quiet())
                })
                .unwrap()
        })
        .collect();
    let results: Vec<_> = owners.into_iter().map(|h| h.join().unwrap()).collect();
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    dealer.finish_ok(LIMIT);
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} owners failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    // Every training row arrived once: the owners' blocks add up to the table's training rows.
    let shared: usize = results
        .iter()
        .map(|r| {
            r.as_ref()
                .unwrap()
                .get("rows_shared")
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(shared, training_rows);
    for s in [&s0, &s1] {
        assert_eq!(s.number("owners") as usize, OWNERS, "{}", s.out);
        assert_eq!(s.number("rows") as usize, training_rows, "{}", s.out);
    }
    // The model equals the same training in plaintext on the same rows (owner 0 checks it).
    let owner0 = results[0].as_ref().unwrap();
    let number = |name: &str| owner0.get(name).unwrap().parse::<f64>().unwrap();
    println!("{owner0}");
    assert!(number("weights_rel_rmse") < 1e-2, "{owner0}");
    assert!(
        (number("secure_accuracy") - number("plaintext_accuracy")).abs() <= 0.01,
        "{owner0}"
    );
    assert!(number("plaintext_accuracy") > 0.85, "{owner0}");
    // Memory stays bounded: a server holding 1,000 owners' connections and rows.
    for s in [&s0, &s1] {
        let peak = s.number("peak_memory_bytes");
        println!("server peak memory: {:.1} MB", peak / 1e6);
        assert!(peak < 512e6, "{}", s.out);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_two_machine_templates_train_when_run_on_one() {
    // net/deploy's files, with the two machines' addresses rewritten to 127.0.0.1: the guide's
    // configuration trains as it says (OT between the servers, no dealer).
    let dir = workdir(
        "deploy",
        &["server0", "server1", "dealer", "owner0", "owner1"],
    );
    let (a0, a1) = (port(), port());
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    for name in ["server0", "server1", "owner0", "owner1", "dealer"] {
        let text = std::fs::read_to_string(templates.join(format!("{name}.toml"))).unwrap();
        let text = text
            .replace("0.0.0.0:7101", &a0)
            .replace("a.example:7101", &a0)
            .replace("0.0.0.0:7102", &a1)
            .replace("b.example:7102", &a1);
        std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
    }
    let path = |name: &str| {
        dir.join(format!("{name}.toml"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let check = Daemon::start("check", &["check", "--config", &path("dealer")]);
    check.finish_ok(LIMIT);
    let s0 = Daemon::start("server0", &["run", "--config", &path("server0")]);
    let s1 = Daemon::start("server1", &["run", "--config", &path("server1")]);
    let csv = data("breast_cancer.csv");
    let owner = |k: usize| {
        Daemon::start(
            &format!("owner{k}"),
            &[
                "owner",
                "--config",
                &path(&format!("owner{k}")),
                "--data",
                csv.to_str().unwrap(),
            ],
        )
    };
    let (o0, o1) = (owner(0), owner(1));
    o1.finish_ok(LIMIT);
    let o0 = o0.finish_ok(LIMIT);
    s0.finish_ok(LIMIT);
    s1.finish_ok(LIMIT);
    assert!(o0.number("weights_rel_rmse") < 1e-2, "{}", o0.out);
    assert!(
        (o0.number("secure_accuracy") - o0.number("plaintext_accuracy")).abs() <= 0.01,
        "{}",
        o0.out
    );
    assert!(dir.join("model.toml").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The files of [`GLM_JOB`] with owner 1 a device behind a gateway: the device's keys
/// (`keys/device1.server{0,1}.key`), the servers' `[[devices]]` naming it (server 0 with the key
/// file `server0_key`), the gateway's file (owner 1's, as the gateway) and the device's.
fn device_files(tag: &str, server0_key: &str) -> (PathBuf, Files) {
    let dir = workdir(tag, &["server0", "server1", "dealer", "owner0", "gateway"]);
    fixshare_net::device::write_key_files(dir.join("keys"), "device1").unwrap();
    fixshare_net::device::write_key_files(dir.join("keys"), "other").unwrap();
    let files = Files::write(&dir, GLM_JOB, 2, Some("dealer"));
    for s in 0..2 {
        let path = dir.join(format!("server{s}.toml"));
        let key = if s == 0 {
            server0_key.to_string()
        } else {
            "keys/device1.server1.key".into()
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let devices = format!(
            "[[devices]]\nindex = 1\ngateway_certificate = \"keys/gateway.crt\"\nkey = \"{key}\"\n"
        );
        std::fs::write(&path, text + &devices).unwrap();
    }
    let owner1 = std::fs::read_to_string(dir.join("owner1.toml")).unwrap();
    std::fs::write(
        dir.join("gateway.toml"),
        owner1.replace("role = \"owner\"", "role = \"gateway\""),
    )
    .unwrap();
    std::fs::remove_file(dir.join("owner1.toml")).unwrap();
    std::fs::write(
        dir.join("device1.toml"),
        format!(
            "role = \"device\"\nsession = \"fixshare-party-test\"\nindex = 1\n[keys]\nserver0 = \
             \"keys/device1.server0.key\"\nserver1 = \"keys/device1.server1.key\"\n{GLM_JOB}"
        ),
    )
    .unwrap();
    (dir, files)
}

/// The device of [`device_files`] run on the host: its part of `csv` shared, captured and
/// sealed by the firmware's code, written as its `SEALED0`/`SEALED1` lines to `out`.
fn seal_on_host(files: &Files, csv: &Path, out: &str) -> Exit {
    let cfg = files.path("device1.toml");
    let out = files.path(out);
    let device = Daemon::start(
        "device1",
        &[
            "device",
            "--config",
            &cfg,
            "--data",
            csv.to_str().unwrap(),
            "--sealed",
            &out,
        ],
    );
    device.finish_ok(LIMIT)
}

/// Starts the gateway on the sealed lines in `sealed`.
fn gateway(files: &Files, sealed: &str) -> Daemon {
    let cfg = files.path("gateway.toml");
    let input = files.path(sealed);
    Daemon::start(
        "gateway",
        &["gateway", "--config", &cfg, "--sealed", &input],
    )
}

#[test]
fn a_device_owner_through_an_untrusted_gateway_trains_with_one_over_tls() {
    let (dir, files) = device_files("device", "keys/device1.server0.key");
    let csv = data("breast_cancer.csv");
    let device = seal_on_host(&files, &csv, "sealed.txt");
    let sealed = std::fs::read_to_string(dir.join("sealed.txt")).unwrap();
    // What the gateway relays: two sealed messages, owner 1's part (228 rows of 30 features and
    // a target, 8 bytes each) under AES-256-GCM; none of owner 1's values in the clear.
    let [m0, m1] = fixshare_net::device::parse_sealed_lines(&sealed, 1 << 20).unwrap();
    assert_eq!(device.number("bytes_server1"), m1.len() as f64);
    assert!(
        m1.len() > 228 * 31 * 8 && m0.len() < 256,
        "{} {}",
        m0.len(),
        m1.len()
    );
    let check = Daemon::start("check", &["check", "--config", &files.path("server0.toml")]);
    let check = check.finish_ok(LIMIT);
    assert!(
        check
            .value("owner 1")
            .is_some_and(|v| v.starts_with("a device, through the gateway sha256:")),
        "{}",
        check.out
    );

    let dealer = files.run("dealer", &[]);
    let s0 = files.run("server0", &[]);
    let s1 = files.run("server1", &[]);
    let o0 = files.owner(0, &csv);
    let gw = gateway(&files, "sealed.txt");
    let gw = gw.finish_ok(LIMIT);
    let o0 = o0.finish_ok(LIMIT);
    let s0 = s0.finish_ok(LIMIT);
    let s1 = s1.finish_ok(LIMIT);
    dealer.finish_ok(LIMIT);
    assert_eq!(gw.number("bytes_server1"), m1.len() as f64);
    assert!(
        gw.err.contains("server0 took the sealed message"),
        "{}",
        gw.err
    );
    assert!(
        gw.err.contains("server1 took the sealed message"),
        "{}",
        gw.err
    );

    // The model is the plaintext SGD's on both owners' rows: the device's arrived whole.
    let secure = check_glm_model(&dir, &csv);
    assert!((o0.number("secure_accuracy") - secure).abs() < 1e-4);
    assert!(o0.number("weights_rel_rmse") < 1e-2, "{}", o0.out);
    for s in [&s0, &s1] {
        assert_eq!(s.number("rows"), 456.0, "{}", s.out);
        assert_eq!(s.number("owners"), 2.0);
        assert!(
            s.err.contains("owner 1: a sealed message of")
                && s.err.contains("relayed by the gateway over TLS13_"),
            "{}",
            s.err
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Flips one hex digit of the ciphertext in the `SEALED{server}` line of `text`.
fn tamper(text: &str, server: usize) -> String {
    text.lines()
        .map(|l| match l.strip_prefix(&format!("SEALED{server} ")) {
            Some(hex) => {
                // Past the 64-byte header: the ciphertext.
                let i = 2 * 64 + 10;
                let flipped = if &hex[i..i + 1] == "0" { "1" } else { "0" };
                format!("SEALED{server} {}{flipped}{}\n", &hex[..i], &hex[i + 1..])
            }
            None => format!("{l}\n"),
        })
        .collect()
}

/// Starts the job of `files` with the gateway on `sealed`; waits for the server that refuses
/// the device's message, `refusing`, to fail with `reason`, and for the gateway to fail naming
/// it; the other server takes its message.
fn refused(files: &Files, sealed: &str, refusing: usize, reason: &str) {
    let csv = data("breast_cancer.csv");
    let _dealer = files.run("dealer", &[]);
    let s0 = files.run("server0", &[]);
    let s1 = files.run("server1", &[]);
    let _o0 = files.owner(0, &csv);
    let gw = gateway(files, sealed);
    let (bad, good) = if refusing == 0 { (s0, s1) } else { (s1, s0) };
    good.wait_for_log("owner 1: a sealed message of", LIMIT);
    let e = bad.finish(LIMIT);
    assert_eq!(e.status.code(), Some(1), "{}\n{}", e.out, e.err);
    let why = e.value("error").unwrap();
    assert!(
        why.contains("owner 1 (a device, through its gateway at 127.0.0.1:")
            && why.contains(reason),
        "{why}"
    );
    assert!(e.err.contains(reason), "the reason is logged: {}", e.err);
    let g = gw.finish(LIMIT);
    assert_eq!(g.status.code(), Some(1), "{}\n{}", g.out, g.err);
    let gwhy = g.value("error").unwrap();
    assert!(
        gwhy.contains(&format!("server{refusing} did not take the sealed message")),
        "{gwhy}"
    );
}

#[test]
fn a_tampering_gateway_and_a_wrong_device_key_are_refused_with_their_reason() {
    let csv = data("breast_cancer.csv");
    let auth = "fails authentication: wrong key, or header or ciphertext modified";
    // A gateway that changes one hex digit of server 1's ciphertext.
    let (dir, files) = device_files("device-tamper", "keys/device1.server0.key");
    seal_on_host(&files, &csv, "sealed.txt");
    let text = std::fs::read_to_string(dir.join("sealed.txt")).unwrap();
    std::fs::write(dir.join("tampered.txt"), tamper(&text, 1)).unwrap();
    refused(&files, "tampered.txt", 1, auth);
    // Server 0 holding another device's key.
    let (dir2, files2) = device_files("device-key", "keys/other.server0.key");
    seal_on_host(&files2, &csv, "sealed.txt");
    refused(&files2, "sealed.txt", 0, auth);
    // The gateway itself refuses lines for another session, another owner or swapped servers,
    // before it connects to anyone (nothing listens at the servers' addresses here).
    let other = dir.join("device1.toml");
    let t = std::fs::read_to_string(&other).unwrap();
    std::fs::write(&other, t.replace("fixshare-party-test", "another")).unwrap();
    seal_on_host(&files, &csv, "another.txt");
    let swapped: String = text
        .replace("SEALED0 ", "SEALED2 ")
        .replace("SEALED1 ", "SEALED0 ")
        .replace("SEALED2 ", "SEALED1 ");
    std::fs::write(dir.join("swapped.txt"), swapped).unwrap();
    std::fs::write(dir.join("one.txt"), text.lines().next().unwrap()).unwrap();
    for (input, reason) in [
        ("another.txt", "is for another session"),
        ("swapped.txt", "is for the other server"),
        ("one.txt", "no SEALED1 line"),
    ] {
        let e = gateway(&files, input).finish(LIMIT);
        assert_eq!(e.status.code(), Some(1), "{input}: {}\n{}", e.out, e.err);
        let why = e.value("error").unwrap();
        assert!(why.contains(reason), "{input}: {why}");
        assert!(!e.err.contains("connected to"), "{}", e.err);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}
