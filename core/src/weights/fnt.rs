//! FNT: the trainers pass the sealed weights around a ring, `0 -> 1 -> ... -> L-1 -> 0`, over
//! [`Link`]s (at least two trainers). Trainer `i` receives on the link from trainer `i - 1` and
//! sends on the link to trainer `i + 1`; each link carries one direction.
//!
//! Trainer 0 initializes the weights and takes step 0; each trainer opens what its predecessor
//! sends (checking model, round and sender), trains, seals and sends on. After the last step
//! (trainer `L - 1`'s turn in the last central epoch) the final weights go once more around the
//! ring, from trainer 0 up to trainer `L - 2`, so every trainer ends with them.
//!
//! A pass is one frame tagged [`tag::PASS`] holding the length (u64), which the receiver checks
//! equals the plan's sealed length before anything is allocated, then the sealed bytes.

use super::tag;
use super::trainer::Trainer;
use crate::error::{Error, ErrorKind};
use crate::ml::float::Model;
use crate::transport::{Link, Sub, Transport};
use alloc::vec::Vec;

const OP: &str = "weights.fnt";

/// Runs trainer `trainer` of an FNT ring to the end and returns the final model.
pub async fn run<T: Transport, U: Transport>(
    trainer: &mut Trainer<'_>,
    from_prev: &mut Link<T>,
    to_next: &mut Link<U>,
) -> Result<Model, Error> {
    let plan = *trainer.plan();
    let (i, l) = (trainer.index(), plan.trainers);
    if l < 2 {
        return Err(Error::new(
            OP,
            ErrorKind::InvalidArgument("a ring needs at least two trainers"),
        ));
    }
    let mut last = None;
    for step in plan.steps(i) {
        let mut model = if step == 0 {
            trainer.initial()?.0
        } else {
            let sealed = receive(from_prev, trainer.sealed_len()).await?;
            trainer.open(&sealed, step)?
        };
        let sealed = trainer.step(&mut model, step)?;
        pass(to_next, &sealed).await?;
        last = Some(model);
    }
    if i == l - 1 {
        // This trainer took the last step: its model is the final one.
        return last.ok_or(Error::new(OP, ErrorKind::InvalidArgument("no step")));
    }
    let sealed = receive(from_prev, trainer.sealed_len()).await?;
    let model = trainer.open(&sealed, plan.final_version())?;
    if i + 1 < l - 1 {
        pass(to_next, &sealed).await?;
    }
    to_next.flush_pending(OP).await?;
    Ok(model)
}

/// Sends sealed weights to the next trainer (a length frame, then the bytes; flushed).
pub async fn pass<T: Transport>(link: &mut Link<T>, sealed: &[u8]) -> Result<(), Error> {
    let mut ch = link.channel(Sub::Online);
    ch.send_frame(OP, tag::PASS, &(sealed.len() as u64).to_le_bytes())
        .await?;
    super::send_sealed(&mut ch, OP, sealed).await?;
    link.flush_pending(OP).await
}

/// Receives sealed weights of exactly `expected` bytes from the previous trainer; another
/// announced length is an [`ErrorKind::UnexpectedLength`] error before anything is allocated.
pub async fn receive<T: Transport>(link: &mut Link<T>, expected: usize) -> Result<Vec<u8>, Error> {
    let mut ch = link.channel(Sub::Online);
    let mut len = [0u8; 8];
    ch.recv_frame(OP, tag::PASS, &mut len).await?;
    let len = u64::from_le_bytes(len);
    if len != expected as u64 {
        return Err(Error::new(
            OP,
            ErrorKind::UnexpectedLength {
                expected,
                got: usize::try_from(len).unwrap_or(usize::MAX),
            },
        ));
    }
    super::recv_sealed(&mut ch, OP, expected).await
}
