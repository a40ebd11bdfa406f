//! Secret-shared datasets: a data owner shares its part of a table (some rows under horizontal
//! partitioning, some columns under vertical partitioning) with the two servers, which hold the
//! features and targets as shares.
//!
//! On the wire, a part is a shape frame (rows, columns, whether targets follow; 24 bytes to each
//! server), then the features and, if present, the targets, each shared as in
//! [`crate::data_owner`] (a seed to server 0, masked values to server 1). Every value is encoded and
//! range-checked before the first frame leaves the owner. A server refuses a shape larger than its
//! own limit before allocating anything.

use crate::data_owner;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::{Link, Sub, Transport};
use alloc::vec;

// The owner's side needs no allocator (a microcontroller shares its part with it), so it lives
// in `crate::data_owner`; it is re-exported here beside the server's side.
pub use crate::data_owner::{PartShape, TAG_SHAPE, share_part};

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
