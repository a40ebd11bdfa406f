//! Data owners: devices that secret-share their readings to the two servers and read results back.
//!
//! Works without an allocator, and so does [`share_part`], a dataset part (a shape frame, then
//! the features and targets). Sharing a batch of `n` values costs 40 bytes to server 0 (a fresh
//! 32-byte seed and the count: its share is the seed's expansion) and `n` ring elements to
//! server 1 (the values minus that expansion). Every value is encoded (and range-checked) before
//! anything is sent, so a bad value loses nothing.
//!
//! Each server alone sees a seed or uniformly masked values: nothing about the readings, as long
//! as the two servers do not collude.

use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::Ring;
use crate::role::Role;
use crate::state::{Guard, State};
use crate::transport::{Link, Sub, Transport, tag};

/// Length of the frame a data owner sends to server 0: seed (32) and count (u64).
pub const SEED_FRAME_LEN: usize = 40;

/// A data owner's sharing session: its seed, number format, a batch counter, and the state
/// machine of [`crate::state`] (a value out of range leaves it ready; a failure after anything
/// was sent or received poisons it).
pub struct DataOwner {
    seed: Seed,
    fixed: FixedPoint,
    batches: u64,
    guard: Guard,
}

impl DataOwner {
    /// A data owner with secret `seed` (fresh device entropy; never reuse a seed across sessions:
    /// batch seeds are derived from it with a counter).
    pub fn new(seed: Seed, fixed: FixedPoint) -> Self {
        DataOwner {
            seed,
            fixed,
            batches: 0,
            guard: Guard::new(),
        }
    }

    /// The state: ready, busy (an operation was abandoned half-way) or poisoned.
    pub fn state(&self) -> &State {
        self.guard.state()
    }

    /// The number format.
    pub fn fixed(&self) -> FixedPoint {
        self.fixed
    }

    /// Poisons the owner with `e`: a step that sent or received on its behalf beside
    /// [`DataOwner::share`] failed (a dataset part's shape frame, [`share_part`]),
    /// so its servers are out of step with it.
    pub(crate) fn poison(&mut self, e: Error) {
        let _ = self.guard.leave::<()>(Err(e), true);
    }

    /// Encodes and secret-shares `values`, sending server 0 its seed and server 1 the masked
    /// values. Fails with [`ErrorKind::OutOfRange`] before sending anything if a value does not fit.
    pub async fn share<R: Ring, T0: Transport, T1: Transport>(
        &mut self,
        values: &[f64],
        server0: &mut Link<T0>,
        server1: &mut Link<T1>,
    ) -> Result<(), Error> {
        self.guard.enter("share")?;
        let before = server0.activity() + server1.activity();
        let r = self
            .share_inner::<R, T0, T1>(values, server0, server1)
            .await;
        let communicated = server0.activity() + server1.activity() != before;
        self.guard.leave(r, communicated)
    }

    async fn share_inner<R: Ring, T0: Transport, T1: Transport>(
        &mut self,
        values: &[f64],
        server0: &mut Link<T0>,
        server1: &mut Link<T1>,
    ) -> Result<(), Error> {
        for &v in values {
            self.fixed.encode::<R>(v).map_err(|e| e.in_op("share"))?;
        }
        let batch_seed = self.seed.derive(Domain::DATA_OWNER_BATCH, self.batches);
        self.batches += 1;
        let mut frame = [0u8; SEED_FRAME_LEN];
        frame[..32].copy_from_slice(batch_seed.as_bytes());
        frame[32..].copy_from_slice(&(values.len() as u64).to_le_bytes());
        let mut mask = Prg::new(batch_seed);
        let fixed = self.fixed;
        let (mut server0, mut server1) =
            (server0.channel(Sub::Online), server1.channel(Sub::Online));
        server1
            .send_ring_from("share", tag::OWNER_MASKED, values.len(), |i| {
                // Already range-checked above.
                let x: R = fixed.encode(values[i]).unwrap_or(R::ZERO);
                x.sub(R::random(&mut mask))
            })
            .await?;
        server1.flush("share").await?;
        server0.send_frame("share", tag::OWNER_SEED, &frame).await?;
        zeroize::Zeroize::zeroize(&mut frame);
        server0.flush("share").await
    }

    /// Receives both servers' shares of `out.len()` outputs and writes the reconstructed values.
    pub async fn reconstruct<R: Ring, T0: Transport, T1: Transport>(
        &mut self,
        server0: &mut Link<T0>,
        server1: &mut Link<T1>,
        out: &mut [f64],
    ) -> Result<(), Error> {
        self.guard.enter("reconstruct")?;
        let before = server0.activity() + server1.activity();
        let r = self
            .reconstruct_inner::<R, T0, T1>(server0, server1, out)
            .await;
        let communicated = server0.activity() + server1.activity() != before;
        self.guard.leave(r, communicated)
    }

    async fn reconstruct_inner<R: Ring, T0: Transport, T1: Transport>(
        &self,
        server0: &mut Link<T0>,
        server1: &mut Link<T1>,
        out: &mut [f64],
    ) -> Result<(), Error> {
        let fixed = self.fixed;
        let (mut server0, mut server1) =
            (server0.channel(Sub::Online), server1.channel(Sub::Online));
        // Outputs travel in pieces of OUTPUT_PIECE, so one small scratch array holds the ring sums.
        let mut acc = [R::ZERO; OUTPUT_PIECE];
        let n = out.len();
        let mut start = 0;
        while start < n {
            let len = acc.len().min(n - start);
            server0
                .recv_ring("reconstruct", tag::OWNER_OUTPUT, &mut acc[..len])
                .await?;
            let acc_ref = &mut acc;
            server1
                .recv_ring_with("reconstruct", tag::OWNER_OUTPUT, len, |i, x| {
                    acc_ref[i] = acc_ref[i].add(x);
                })
                .await?;
            for (o, &v) in out[start..start + len].iter_mut().zip(acc.iter()) {
                *o = fixed.decode(v);
            }
            start += len;
        }
        Ok(())
    }

    /// Like [`DataOwner::reconstruct`] into a fixed-capacity vector of `n <= N` values.
    pub async fn reconstruct_vec<R: Ring, T0: Transport, T1: Transport, const N: usize>(
        &mut self,
        server0: &mut Link<T0>,
        server1: &mut Link<T1>,
        n: usize,
    ) -> Result<heapless::Vec<f64, N>, Error> {
        let mut out = heapless::Vec::new();
        out.resize(n, 0.0).map_err(|_| {
            Error::new(
                "reconstruct",
                ErrorKind::Capacity {
                    needed: n,
                    capacity: N,
                },
            )
        })?;
        self.reconstruct::<R, T0, T1>(server0, server1, &mut out)
            .await?;
        Ok(out)
    }
}

/// Frame tag of a dataset part's shape (the `0x06xx` range of ML data submissions).
pub const TAG_SHAPE: u16 = 0x0601;

/// The shape of a shared part: `rows x cols` features and, if `targets`, one target per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartShape {
    /// Rows.
    pub rows: usize,
    /// Feature columns.
    pub cols: usize,
    /// Whether a target per row follows the features.
    pub targets: bool,
}

impl PartShape {
    fn encode(self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&(self.rows as u64).to_le_bytes());
        b[8..16].copy_from_slice(&(self.cols as u64).to_le_bytes());
        b[16] = u8::from(self.targets);
        b
    }
}

/// Owner side of a dataset part (the servers' side is `crate::ml::share`, which needs an
/// allocator): shares `rows x cols` features `x` (row-major) and optionally `rows` targets `y`
/// with both servers: a shape frame, then [`DataOwner::share`] of the features and of the
/// targets. Needs no allocator. Fails before sending anything if the owner is not ready (see
/// [`DataOwner::state`]), a value is out of range or a length is wrong; a failure after the
/// first frame poisons the owner.
pub async fn share_part<R: Ring, T0: Transport, T1: Transport>(
    owner: &mut DataOwner,
    x: &[f64],
    cols: usize,
    y: Option<&[f64]>,
    server0: &mut Link<T0>,
    server1: &mut Link<T1>,
) -> Result<(), Error> {
    let op = "ml.share_part";
    owner.state().check(op)?;
    let rows = x.len().checked_div(cols).unwrap_or(0);
    if rows * cols != x.len() {
        return Err(Error::dimension(op, rows * cols, x.len()));
    }
    if let Some(y) = y
        && y.len() != rows
    {
        return Err(Error::dimension(op, rows, y.len()));
    }
    let fixed = owner.fixed();
    for &v in x.iter().chain(y.unwrap_or(&[])) {
        fixed.encode::<R>(v).map_err(|e| e.in_op(op))?;
    }
    let shape = PartShape {
        rows,
        cols,
        targets: y.is_some(),
    }
    .encode();
    let sent = async {
        server0
            .channel(Sub::Online)
            .send_frame(op, TAG_SHAPE, &shape)
            .await?;
        server1
            .channel(Sub::Online)
            .send_frame(op, TAG_SHAPE, &shape)
            .await
    };
    if let Err(e) = sent.await {
        owner.poison(e.clone());
        return Err(e);
    }
    owner.share::<R, T0, T1>(x, server0, server1).await?;
    if let Some(y) = y {
        owner.share::<R, T0, T1>(y, server0, server1).await?;
    }
    Ok(())
}

/// Pieces in which outputs travel back to a data owner (see [`DataOwner::reconstruct`]).
pub const OUTPUT_PIECE: usize = 16;

/// Server side: receives this server's shares of a batch of `out.len()` values from a data owner.
/// Server 0 expands the seed it receives; server 1 receives the masked values.
pub async fn receive_shares<R: Ring, T: Transport>(
    role: Role,
    owner: &mut Link<T>,
    out: &mut [R],
) -> Result<(), Error> {
    let mut owner = owner.channel(Sub::Online);
    match role {
        Role::P0 => {
            let mut frame = [0u8; SEED_FRAME_LEN];
            owner
                .recv_frame("receive_shares", tag::OWNER_SEED, &mut frame)
                .await?;
            let mut count = [0u8; 8];
            count.copy_from_slice(&frame[32..]);
            let count = u64::from_le_bytes(count);
            if count != out.len() as u64 {
                return Err(Error::new(
                    "receive_shares",
                    ErrorKind::UnexpectedLength {
                        expected: out.len(),
                        got: count.min(usize::MAX as u64) as usize,
                    },
                ));
            }
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&frame[..32]);
            let mut prg = Prg::new(Seed::from_bytes(seed));
            for v in out.iter_mut() {
                *v = R::random(&mut prg);
            }
            Ok(())
        }
        Role::P1 => {
            owner
                .recv_ring("receive_shares", tag::OWNER_MASKED, out)
                .await
        }
    }
}

/// Server side: sends this server's shares of outputs back to a data owner, in the pieces
/// [`DataOwner::reconstruct`] expects.
pub async fn send_output<R: Ring, T: Transport>(
    owner: &mut Link<T>,
    shares: &[R],
) -> Result<(), Error> {
    let mut owner = owner.channel(Sub::Online);
    for piece in shares.chunks(OUTPUT_PIECE) {
        owner
            .send_ring("send_output", tag::OWNER_OUTPUT, piece)
            .await?;
    }
    owner.flush("send_output").await
}
