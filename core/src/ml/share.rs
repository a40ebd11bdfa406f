//! Secret-shared datasets: a data owner shares its part of a table (some rows under horizontal
//! partitioning, some columns under vertical partitioning) with the two servers, which hold the
//! features and targets as shares.
//!
//! On the wire, a part is a shape frame (rows, columns, whether targets follow; 24 bytes to each
//! server), then the features and, if present, the targets, each shared as in
//! [`crate::data_owner`] (a seed to server 0, masked values to server 1). Every value is encoded and
//! range-checked before the first frame leaves the owner. A server refuses a shape larger than its
//! own limit before allocating anything.

use crate::data_owner::{self, DataOwner};
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::{Link, Sub, Transport};
use alloc::vec;

/// Frame tag of a dataset part's shape.
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

/// Owner side: shares `rows x cols` features `x` (row-major) and optionally `rows` targets `y`
/// with both servers. Fails before sending anything if the owner is not ready (see
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

/// Server side: receives this server's shares of one owner's part: `(features, targets)`, the
/// features `rows x cols` and the targets `rows x 1` if the owner sent them. A part of more than
/// `max_elements` values is refused before any allocation.
pub async fn receive_part<R: Ring, T: Transport>(
    role: Role,
    owner: &mut Link<T>,
    max_elements: usize,
) -> Result<(Shares<R>, Option<Shares<R>>), Error> {
    let op = "ml.receive_part";
    let mut b = [0u8; 24];
    owner
        .channel(Sub::Online)
        .recv_frame(op, TAG_SHAPE, &mut b)
        .await?;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[8 * i..8 * i + 8]);
        u64::from_le_bytes(w)
    };
    let (rows, cols, targets) = (word(0), word(1), b[16]);
    if targets > 1 || b[17..].iter().any(|&z| z != 0) {
        return Err(Error::new(
            op,
            ErrorKind::Malformed("bad dataset shape frame"),
        ));
    }
    let total = rows
        .saturating_mul(cols)
        .saturating_add(if targets == 1 { rows } else { 0 });
    if total > max_elements as u64 {
        return Err(Error::new(
            op,
            ErrorKind::Capacity {
                needed: total.min(usize::MAX as u64) as usize,
                capacity: max_elements,
            },
        ));
    }
    let (rows, cols) = (rows as usize, cols as usize);
    let mut x = vec![R::ZERO; rows * cols];
    data_owner::receive_shares(role, owner, &mut x).await?;
    let x = Shares::matrix(rows, cols, x)?;
    let y = if targets == 1 {
        let mut y = vec![R::ZERO; rows];
        data_owner::receive_shares(role, owner, &mut y).await?;
        Some(Shares::vector(y))
    } else {
        None
    };
    Ok((x, y))
}
