//! SNT: trainers and an honest-but-curious server that stores the sealed weights.
//!
//! Both sides are here as steps over a [`Link`]; the `std` crate `fixshare-snt` supplies the
//! durable [`Board`] (files, fsync, threads) and the TCP listener.
//!
//! The wire: each request is one frame tagged [`tag::REQUEST`] of [`REQUEST_LEN`] bytes, and
//! each answer one frame tagged [`tag::REPLY`] of [`REPLY_LEN`] bytes, both little-endian:
//!
//! | request bytes | field |
//! |---|---|
//! | 0..4 | kind: 1 fetch, 2 upload |
//! | 4..8 | the trainer's index |
//! | 8..24 | model id |
//! | 24..32 | version (fetch: the one wanted; upload: the one uploaded) |
//! | 32..40 | upload: length of the sealed weights that follow in [`tag::SEALED`] frames; else 0 |
//! | 40..48 | reserved, 0 |
//!
//! | reply bytes | field |
//! |---|---|
//! | 0..4 | status: 0 done, 1 not yet (fetch: that version is not there yet), 2 refused |
//! | 4..8 | refused: the [`Rejection`] code; else 0 |
//! | 8..16 | the stored version, `u64::MAX` if none |
//! | 16..24 | fetch done: length of the sealed weights that follow; else 0 |
//!
//! An upload is a compare-and-swap: the server stores it only if it is the successor of what it
//! holds ([`check_successor`]: same model and number of trainers, exactly the next version,
//! sealed by the trainer whose turn that is, who is also the one uploading). Anything else is
//! refused and the stored state is unchanged: a stale or out-of-order upload is never lost
//! silently nor allowed to overwrite a newer one. The server checks the public header only; it
//! cannot open the weights, and the next trainer's [`super::open`] checks the rest.

use super::seal::{HEADER_LEN, Header, ModelId, TAG_LEN};
use super::trainer::Trainer;
use super::{Rejection, tag};
use crate::error::{Error, ErrorKind};
use crate::ml::float::Model;
use crate::transport::{Link, Sub, Transport};
use alloc::vec::Vec;

/// Length of a request frame.
pub const REQUEST_LEN: usize = 48;
/// Length of a reply frame.
pub const REPLY_LEN: usize = 24;

const OP: &str = "weights.snt";

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The sealed weights of one version.
    Fetch = 1,
    /// Store these sealed weights as the next version.
    Upload = 2,
}

/// A trainer's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Fetch or upload.
    pub kind: Kind,
    /// The trainer's index.
    pub trainer: u32,
    /// The model.
    pub model: ModelId,
    /// The version wanted or uploaded.
    pub version: u64,
    /// Upload: the sealed length.
    pub len: u64,
}

impl Request {
    /// The request's bytes.
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0u8; REQUEST_LEN];
        b[0..4].copy_from_slice(&(self.kind as u32).to_le_bytes());
        b[4..8].copy_from_slice(&self.trainer.to_le_bytes());
        b[8..24].copy_from_slice(&self.model.0);
        b[24..32].copy_from_slice(&self.version.to_le_bytes());
        b[32..40].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// Reads a request; an unknown kind or a nonzero reserved field is malformed.
    pub fn decode(b: &[u8; REQUEST_LEN]) -> Result<Request, Error> {
        let kind = match u32_at(b, 0) {
            1 => Kind::Fetch,
            2 => Kind::Upload,
            _ => return Err(Error::new(OP, ErrorKind::Malformed("unknown request kind"))),
        };
        if u64_at(b, 40) != 0 || (kind == Kind::Fetch && u64_at(b, 32) != 0) {
            return Err(Error::new(
                OP,
                ErrorKind::Malformed("nonzero reserved field"),
            ));
        }
        let mut model = [0u8; 16];
        model.copy_from_slice(&b[8..24]);
        Ok(Request {
            kind,
            trainer: u32_at(b, 4),
            model: ModelId(model),
            version: u64_at(b, 24),
            len: u64_at(b, 32),
        })
    }
}

/// The outcome a reply reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Fetched (the weights follow) or stored.
    Done,
    /// Fetch: the version is not there yet; ask again.
    NotYet,
    /// Refused, and why.
    Refused(Rejection),
}

/// The server's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The outcome.
    pub status: Status,
    /// The version the server holds, if any.
    pub current: Option<u64>,
    /// Fetch done: the sealed length that follows.
    pub len: u64,
}

impl Reply {
    /// The reply's bytes.
    pub fn encode(&self) -> [u8; REPLY_LEN] {
        let (status, code) = match self.status {
            Status::Done => (0u32, 0u32),
            Status::NotYet => (1, 0),
            Status::Refused(r) => (2, r.code()),
        };
        let mut b = [0u8; REPLY_LEN];
        b[0..4].copy_from_slice(&status.to_le_bytes());
        b[4..8].copy_from_slice(&code.to_le_bytes());
        b[8..16].copy_from_slice(&self.current.unwrap_or(u64::MAX).to_le_bytes());
        b[16..24].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// Reads a reply.
    pub fn decode(b: &[u8; REPLY_LEN]) -> Result<Reply, Error> {
        let bad = || Error::new(OP, ErrorKind::Malformed("bad reply from the server"));
        let status = match (u32_at(b, 0), u32_at(b, 4)) {
            (0, 0) => Status::Done,
            (1, 0) => Status::NotYet,
            (2, code) => Status::Refused(Rejection::from_code(code).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let current = Some(u64_at(b, 8)).filter(|&v| v != u64::MAX);
        Ok(Reply {
            status,
            current,
            len: u64_at(b, 16),
        })
    }
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Whether `new` may replace `current` (the stored header of the same model, `None` if the model
/// has none yet): the compare-and-swap rule every server applies under its lock.
pub fn check_successor(current: Option<&Header>, new: &Header) -> Result<(), Rejection> {
    let expected = match current {
        None => 0,
        Some(cur) => {
            if new.model != cur.model {
                return Err(Rejection::WrongModel);
            }
            if new.trainers != cur.trainers {
                return Err(Rejection::WrongTrainers);
            }
            cur.version + 1
        }
    };
    if new.version < expected {
        return Err(Rejection::Replayed);
    }
    if new.version > expected {
        return Err(Rejection::Ahead);
    }
    if new.trainer != new.round.trainer {
        return Err(Rejection::OutOfOrder);
    }
    Ok(())
}

/// The server's store: what [`serve`] needs from the host.
pub trait Board {
    /// A stored copy of sealed weights.
    type Sealed: AsRef<[u8]>;

    /// The stored version of `model` and its sealed weights, `None` if it has none. If the stored
    /// version is older than `want`, the board may first wait a bounded time for it to arrive.
    fn fetch(&self, model: &ModelId, want: u64) -> Option<(u64, Self::Sealed)>;

    /// The stored version of `model`, `None` if it has none (never waits).
    fn current(&self, model: &ModelId) -> Option<u64>;

    /// Stores `sealed` (whose checked header is `header`) if [`check_successor`] allows it,
    /// durably before returning `Ok`; otherwise leaves the stored state as it was and returns
    /// why, with the stored version.
    fn store(&self, header: &Header, sealed: &[u8]) -> Result<(), (Rejection, Option<u64>)>;
}

/// Serves one trainer's connection until it closes: answers fetches and uploads from `board`.
/// Uploads longer than `max_sealed` are refused before their bytes are read, and the connection
/// ends (its remaining frames cannot be skipped safely).
pub async fn serve<T: Transport, B: Board>(
    link: &mut Link<T>,
    board: &B,
    max_sealed: u64,
) -> Result<(), Error> {
    loop {
        let mut raw = [0u8; REQUEST_LEN];
        match link
            .channel(Sub::Online)
            .recv_frame(OP, tag::REQUEST, &mut raw)
            .await
        {
            Err(e) if e.kind() == &ErrorKind::Closed => return Ok(()),
            r => r?,
        }
        let req = Request::decode(&raw)?;
        match req.kind {
            Kind::Fetch => {
                let got = board.fetch(&req.model, req.version);
                let current = got.as_ref().map(|g| g.0);
                let mut ch = link.channel(Sub::Online);
                match got {
                    Some((v, sealed)) if v == req.version => {
                        let sealed = sealed.as_ref();
                        let reply = Reply {
                            status: Status::Done,
                            current,
                            len: sealed.len() as u64,
                        };
                        ch.send_frame(OP, tag::REPLY, &reply.encode()).await?;
                        super::send_sealed(&mut ch, OP, sealed).await?;
                    }
                    Some((v, _)) if v > req.version => {
                        let reply = Reply {
                            status: Status::Refused(Rejection::Replayed),
                            current,
                            len: 0,
                        };
                        ch.send_frame(OP, tag::REPLY, &reply.encode()).await?;
                    }
                    _ => {
                        let reply = Reply {
                            status: Status::NotYet,
                            current,
                            len: 0,
                        };
                        ch.send_frame(OP, tag::REPLY, &reply.encode()).await?;
                    }
                }
            }
            Kind::Upload => {
                let refuse = |why, current| Reply {
                    status: Status::Refused(why),
                    current,
                    len: 0,
                };
                if req.len > max_sealed || req.len < (HEADER_LEN + TAG_LEN) as u64 {
                    let why = if req.len > max_sealed {
                        Rejection::TooLarge
                    } else {
                        Rejection::Malformed
                    };
                    let current = board.current(&req.model);
                    link.channel(Sub::Online)
                        .send_frame(OP, tag::REPLY, &refuse(why, current).encode())
                        .await?;
                    link.flush_pending(OP).await?;
                    return Err(why.error(OP));
                }
                let sealed =
                    super::recv_sealed(&mut link.channel(Sub::Online), OP, req.len as usize)
                        .await?;
                let outcome = match Header::decode(&sealed) {
                    Err(_) => Err((Rejection::Malformed, None)),
                    Ok(h) if h.model != req.model || h.version != req.version => {
                        Err((Rejection::Malformed, None))
                    }
                    Ok(h) if h.trainer != req.trainer => Err((Rejection::OutOfOrder, None)),
                    Ok(h) => board.store(&h, &sealed),
                };
                let reply = match outcome {
                    Ok(()) => Reply {
                        status: Status::Done,
                        current: Some(req.version),
                        len: 0,
                    },
                    Err((why, current)) => {
                        let current = current.or_else(|| board.current(&req.model));
                        refuse(why, current)
                    }
                };
                link.channel(Sub::Online)
                    .send_frame(OP, tag::REPLY, &reply.encode())
                    .await?;
            }
        }
        link.flush_pending(OP).await?;
    }
}

async fn request<T: Transport>(
    link: &mut Link<T>,
    req: &Request,
    sealed: &[u8],
) -> Result<Reply, Error> {
    let mut ch = link.channel(Sub::Online);
    ch.send_frame(OP, tag::REQUEST, &req.encode()).await?;
    if req.kind == Kind::Upload {
        super::send_sealed(&mut ch, OP, sealed).await?;
    }
    let mut raw = [0u8; REPLY_LEN];
    ch.recv_frame(OP, tag::REPLY, &mut raw).await?;
    Reply::decode(&raw)
}

/// What a fetch found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The sealed weights of the version asked for.
    Ready(Vec<u8>),
    /// That version is not there yet; the server holds this one.
    NotYet(Option<u64>),
    /// The server has moved past that version.
    Gone(u64),
}

/// Asks for version `version` of `model` once; accepts sealed weights of exactly `expected`
/// bytes.
pub async fn fetch<T: Transport>(
    link: &mut Link<T>,
    model: ModelId,
    trainer: u32,
    version: u64,
    expected: usize,
) -> Result<Fetched, Error> {
    let req = Request {
        kind: Kind::Fetch,
        trainer,
        model,
        version,
        len: 0,
    };
    let reply = request(link, &req, &[]).await?;
    match reply.status {
        Status::Done => {
            if reply.len != expected as u64 {
                return Err(Error::new(
                    OP,
                    ErrorKind::UnexpectedLength {
                        expected,
                        got: usize::try_from(reply.len).unwrap_or(usize::MAX),
                    },
                ));
            }
            let sealed = super::recv_sealed(&mut link.channel(Sub::Online), OP, expected).await?;
            Ok(Fetched::Ready(sealed))
        }
        Status::NotYet => Ok(Fetched::NotYet(reply.current)),
        Status::Refused(_) => Ok(Fetched::Gone(reply.current.unwrap_or(u64::MAX))),
    }
}

/// Uploads `sealed` (whose header says which version it is) as trainer `trainer`; returns the
/// server's reply.
pub async fn upload<T: Transport>(
    link: &mut Link<T>,
    trainer: u32,
    sealed: &[u8],
) -> Result<Reply, Error> {
    let h = Header::decode(sealed).map_err(|e| e.in_op(OP))?;
    let req = Request {
        kind: Kind::Upload,
        trainer,
        model: h.model,
        version: h.version,
        len: sealed.len() as u64,
    };
    request(link, &req, sealed).await
}

/// Uploads `sealed` until it is known to be stored: stored now; or refused as stale because an
/// earlier attempt of the same upload landed (the server holds exactly these bytes at that version,
/// or has moved past it, which only a stored upload of it allows). Safe to repeat after a lost
/// connection.
pub async fn deliver<T: Transport>(
    link: &mut Link<T>,
    trainer: u32,
    sealed: &[u8],
) -> Result<(), Error> {
    let h = Header::decode(sealed).map_err(|e| e.in_op(OP))?;
    let reply = upload(link, trainer, sealed).await?;
    match reply.status {
        Status::Done => Ok(()),
        Status::Refused(Rejection::Replayed) if reply.current > Some(h.version) => Ok(()),
        Status::Refused(Rejection::Replayed) if reply.current == Some(h.version) => {
            match fetch(link, h.model, trainer, h.version, sealed.len()).await? {
                Fetched::Ready(stored) if stored == sealed => Ok(()),
                Fetched::Gone(_) => Ok(()),
                _ => Err(Rejection::Replayed.error(OP)),
            }
        }
        Status::Refused(why) => Err(why.error(OP)),
        Status::NotYet => Err(Error::new(
            OP,
            ErrorKind::Malformed("bad reply from the server"),
        )),
    }
}

/// Fetches version `version`, asking again while it is not there yet (the server paces the
/// asking by waiting before it answers "not yet").
pub async fn wait_for<T: Transport>(
    link: &mut Link<T>,
    model: ModelId,
    trainer: u32,
    version: u64,
    expected: usize,
) -> Result<Vec<u8>, Error> {
    loop {
        match fetch(link, model, trainer, version, expected).await? {
            Fetched::Ready(s) => return Ok(s),
            Fetched::NotYet(_) => continue,
            Fetched::Gone(_) => return Err(Rejection::Ahead.error(OP)),
        }
    }
}

/// Where an SNT trainer is, so that a host can reconnect and call [`run`] again after a lost
/// connection: nothing is trained twice and an upload is repeated until it is known stored.
#[derive(Default)]
pub struct Progress {
    started: bool,
    next_epoch: u32,
    /// Trainer 0's fresh weights, for its first step.
    own: Option<Model>,
    /// Sealed weights not yet known to be stored.
    pending: Option<Vec<u8>>,
}

impl Progress {
    /// A trainer that has not started.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Central epochs this trainer has taken its turn in (trained, maybe not yet delivered).
    pub fn epochs_done(&self) -> u32 {
        self.next_epoch
    }
}

/// Runs (or resumes) an SNT trainer over `link` to the end and returns the final model: trainer
/// 0 uploads the initial weights; at each of its turns a trainer waits for the version its turn
/// opens, trains and uploads the next; at the end every trainer fetches the final version.
pub async fn run<T: Transport>(
    trainer: &mut Trainer<'_>,
    link: &mut Link<T>,
    progress: &mut Progress,
) -> Result<Model, Error> {
    let plan = *trainer.plan();
    let i = trainer.index();
    let len = trainer.sealed_len();
    if !progress.started {
        if i == 0 {
            let (model, sealed) = trainer.initial()?;
            progress.own = Some(model);
            progress.pending = Some(sealed);
        }
        progress.started = true;
    }
    loop {
        if let Some(sealed) = &progress.pending {
            deliver(link, i, sealed).await?;
            progress.pending = None;
        }
        if progress.next_epoch == plan.central_epochs {
            break;
        }
        let step = u64::from(progress.next_epoch) * u64::from(plan.trainers) + u64::from(i);
        let mut model = match progress.own.take() {
            Some(m) => m,
            None => {
                let sealed = wait_for(link, plan.model, i, step, len).await?;
                trainer.open(&sealed, step)?
            }
        };
        progress.pending = Some(trainer.step(&mut model, step)?);
        progress.next_epoch += 1;
    }
    let sealed = wait_for(link, plan.model, i, plan.final_version(), len).await?;
    trainer.open(&sealed, plan.final_version())
}
