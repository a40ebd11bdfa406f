//! # fixshare-snt
//!
//! The `std` side of Phong and Phuong's weight sharing ([`fixshare::weights`]):
//!
//! - [`FileBoard`] and [`Server`]: the SNT server. It stores each model's latest sealed weights
//!   durably (temporary file, fsync, rename, fsync of the directory; it survives a restart and a
//!   `kill -9` at any point), applies uploads by versioned compare-and-swap, serves many trainers
//!   at once (a thread per connection) and never holds the key.
//! - [`run_snt_trainer`]: a trainer against a server over TCP, reconnecting after a lost
//!   connection (a restarted server) without training twice or losing an upload.
//! - [`run_fnt_trainer`]: a trainer in an FNT ring over TCP.
//! - [`Settings`]: the command-line settings shared by the `fixshare-snt` binary and the
//!   `weights` example (network, optimizer, epochs, seeds).
//!
//! The binary: `fixshare-snt serve --dir DIR --listen ADDR [--port-file FILE]` runs the server;
//! `fixshare-snt train ...` runs one trainer process (`fixshare-snt help`).
//!
//! Connections are plain TCP for now: deploy behind TLS (the deployment crate's transports when
//! they land). The server is honest-but-curious by assumption; trainers check everything it
//! serves ([`fixshare::weights::open`]).

pub mod board;
pub mod tcp;

pub use board::{FileBoard, Pause};
pub use tcp::TcpTransport;

use fixshare::ml::Dataset;
use fixshare::ml::float::{self, Activation, Loss, Model, Optimizer, Rows, Spec};
use fixshare::weights::snt::{self, Progress};
use fixshare::weights::{Trainer, fnt};
use fixshare::{Domain, Error, ErrorKind, Link, Seed, block_on_thread};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The longest sealed weights the server accepts by default (1 GiB).
pub const DEFAULT_MAX_SEALED: u64 = 1 << 30;

/// The SNT server: a board and the largest upload it takes.
pub struct Server {
    board: Arc<FileBoard>,
    max_sealed: u64,
}

impl Server {
    /// A server over `board`.
    pub fn new(board: FileBoard) -> Server {
        Server {
            board: Arc::new(board),
            max_sealed: DEFAULT_MAX_SEALED,
        }
    }

    /// The board.
    pub fn board(&self) -> &Arc<FileBoard> {
        &self.board
    }

    /// Accepts connections on `listener` for ever, serving each on its own thread. A failed
    /// connection is logged and dropped; the server keeps serving.
    pub fn serve(&self, listener: &TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept()?;
            let board = self.board.clone();
            let max = self.max_sealed;
            std::thread::spawn(move || {
                let run = || -> Result<(), String> {
                    let t = TcpTransport::new(stream).map_err(|e| e.to_string())?;
                    let mut link = Link::new(t);
                    block_on_thread(snt::serve(&mut link, &*board, max)).map_err(|e| e.to_string())
                };
                if let Err(e) = run() {
                    eprintln!("fixshare-snt: connection from {peer}: {e}");
                }
            });
        }
    }
}

/// Whether an error is a lost or failed connection (worth reconnecting after).
fn is_connection(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Closed | ErrorKind::Transport(_) | ErrorKind::WouldBlock
    )
}

/// Runs an SNT trainer against the server at `addr` to the end. A lost connection (a server
/// restart) is retried until `patience` passes without one succeeding; the trainer resumes
/// where it was ([`Progress`]).
pub fn run_snt_trainer(
    trainer: &mut Trainer<'_>,
    addr: &str,
    patience: Duration,
) -> Result<Model, Error> {
    let mut progress = Progress::new();
    loop {
        let t = TcpTransport::connect(addr, patience)
            .map_err(|_| Error::new("snt.connect", ErrorKind::Closed))?;
        let mut link = Link::new(t);
        match block_on_thread(snt::run(trainer, &mut link, &mut progress)) {
            Err(e) if is_connection(&e) => std::thread::sleep(Duration::from_millis(50)),
            r => return r,
        }
    }
}

/// Runs trainer `i` of an FNT ring over TCP: accepts its predecessor on `listener` and connects
/// to its successor at `next`.
pub fn run_fnt_trainer(
    trainer: &mut Trainer<'_>,
    listener: &TcpListener,
    next: &str,
    patience: Duration,
) -> Result<Model, Error> {
    let to_next = TcpTransport::connect(next, patience)
        .map_err(|_| Error::new("fnt.connect", ErrorKind::Closed))?;
    let (stream, _) = listener
        .accept()
        .map_err(|_| Error::new("fnt.accept", ErrorKind::Closed))?;
    let from_prev =
        TcpTransport::new(stream).map_err(|_| Error::new("fnt.accept", ErrorKind::Closed))?;
    let (mut prev, mut next) = (Link::new(from_prev), Link::new(to_next));
    block_on_thread(fnt::run(trainer, &mut prev, &mut next))
}

/// Trainer `i`'s training seed when the host asks for a reproducible run with `base` (tests and
/// benchmarks; real trainers draw theirs from the operating system).
pub fn trainer_seed(base: u64, i: u32) -> Seed {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&base.to_le_bytes());
    Seed::from_bytes(b).derive(Domain::user(16), u64::from(i))
}

/// 32 bytes from the operating system (`/dev/urandom`).
pub fn os_entropy() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// Reads a key or seed file: 64 hex digits (surrounding whitespace ignored).
pub fn read_key(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let hex = text.trim();
    if hex.len() != 64 {
        return Err(format!("{}: expected 64 hex digits", path.display()));
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("{}: not hex", path.display()))?;
    }
    Ok(key)
}

/// The rows of trainer `index` of `trainers`: the `index`-th of [`float::partition`]'s
/// consecutive ranges.
pub fn part(data: &Dataset, trainers: usize, index: usize) -> Rows<'_> {
    let r = float::partition(data.rows(), trainers)[index].clone();
    let d = data.features();
    Rows {
        x: &data.x[r.start * d..r.end * d],
        y: &data.y[r],
        features: d,
    }
}

/// The training settings given on a command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The network and its training.
    pub spec: Spec,
    /// The number of trainers.
    pub trainers: u32,
    /// Central epochs.
    pub central_epochs: u32,
    /// The base of reproducible training seeds ([`trainer_seed`]).
    pub seed: u64,
    /// Whether `--loss` was given (otherwise it follows the output width).
    loss_given: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            spec: Spec {
                sizes: vec![30, 16, 1],
                activation: Activation::Relu,
                dropout: vec![],
                loss: Loss::BinaryCrossEntropy,
                optimizer: Optimizer::Sgd { lr: 0.05 },
                batch: 32,
                local_epochs: 1,
            },
            trainers: 5,
            central_epochs: 5,
            seed: 1,
            loss_given: false,
        }
    }
}

/// The options [`Settings::set`] understands, for help texts.
pub const SETTINGS_HELP: &str = "\
  --model SIZES          layer widths, inputs first, e.g. 30,16,1 (the input width must match the data)
  --activation NAME      hidden activation: relu, sigmoid, tanh, leaky-relu, softplus, identity
  --dropout RATES        one rate per hidden layer, e.g. 0.2,0.1
  --loss bce|softmax|squared   (default: bce for one output, softmax for more)
  --optimizer sgd|adam   --lr X   --batch N
  --local-epochs N       --central-epochs N   --trainers L   --seed N";

impl Settings {
    /// Applies option `--name value`; `Ok(false)` if the option is not a setting.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, String> {
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        let int = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{name}: not a count: {v}"))
        };
        let list = |v: &str| -> Result<Vec<f64>, String> { v.split(',').map(num).collect() };
        match name {
            "--model" => {
                self.spec.sizes = value
                    .split(',')
                    .map(|w| w.parse().map_err(|_| format!("--model: bad width {w}")))
                    .collect::<Result<_, _>>()?;
            }
            "--activation" => {
                self.spec.activation = Activation::parse(value)
                    .ok_or_else(|| format!("--activation: unknown {value}"))?;
            }
            "--dropout" => self.spec.dropout = list(value)?,
            "--loss" => {
                self.spec.loss = match value {
                    "bce" | "binary" => Loss::BinaryCrossEntropy,
                    "softmax" | "ce" => Loss::SoftmaxCrossEntropy,
                    "squared" | "mse" => Loss::Squared,
                    _ => return Err(format!("--loss: unknown {value}")),
                };
                self.loss_given = true;
            }
            "--optimizer" => {
                let lr = self.lr();
                self.spec.optimizer = match value {
                    "sgd" => Optimizer::Sgd { lr },
                    "adam" => Optimizer::adam(lr),
                    _ => return Err(format!("--optimizer: unknown {value}")),
                };
            }
            "--lr" => {
                let lr = num(value)?;
                match &mut self.spec.optimizer {
                    Optimizer::Sgd { lr: l } | Optimizer::Adam { lr: l, .. } => *l = lr,
                }
            }
            "--batch" => self.spec.batch = int(value)? as usize,
            "--local-epochs" => self.spec.local_epochs = int(value)? as usize,
            "--central-epochs" => self.central_epochs = int(value)?,
            "--trainers" => self.trainers = int(value)?,
            "--seed" => {
                self.seed = value
                    .parse()
                    .map_err(|_| format!("--seed: not a number: {value}"))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn lr(&self) -> f64 {
        match self.spec.optimizer {
            Optimizer::Sgd { lr } | Optimizer::Adam { lr, .. } => lr,
        }
    }

    /// Finishes the settings: the default loss for the output width, then every check.
    pub fn finish(mut self) -> Result<Settings, String> {
        if !self.loss_given {
            let out = self.spec.sizes.last().copied().unwrap_or(0);
            self.spec.loss = if out == 1 {
                Loss::BinaryCrossEntropy
            } else {
                Loss::SoftmaxCrossEntropy
            };
        }
        self.spec.validate().map_err(|e| e.to_string())?;
        if self.trainers == 0 || self.central_epochs == 0 {
            return Err("--trainers and --central-epochs must be at least 1".into());
        }
        Ok(self)
    }
}
