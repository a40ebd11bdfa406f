//! The precision guard: an opt-in check that stops an operation before fixed-point arithmetic on
//! shares silently produces a wrong number.
//!
//! Fixed-point shares go wrong in two ways: a value reaches `2^(k-1)` in magnitude and wraps
//! around the ring Z_2^k, and a truncation fails — SecureML's local truncation of a product `z`
//! with probability about `|z| / 2^(k-1)`, PrivPy's products with `|x| / 2^k` per operand. Neither
//! shows: the result is shares of some other number. With
//! [`crate::Config::precision_guard`] `= Some(h)`, each step that could go wrong is checked
//! before it runs: every value about to be truncated (each product before its division by the
//! scale, each value passed to `truncate`) must be below `2^(k-1-h)`, where a truncation fails
//! with probability at most `2^-h`; the operands of a fixed-point product must be small enough
//! that the product cannot wrap the ring (see `arith::online`; with four servers also PrivPy's
//! Theorem 2 bound). Out of range, the operation fails with [`ErrorKind::PrecisionGuard`] under
//! its own name.
//!
//! The check runs on the shares: two sign tests per element on the session's backend, whose
//! failures are counted, and one more sign test says whether the count is zero; only that bit is
//! opened. It costs about as much as a ReLU per checked element and one round more.

use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Fails with [`ErrorKind::PrecisionGuard`] (under `op`) unless every `|v| < 2^bits`, when the
/// guard is on; does nothing when it is off. `bits` must be below `k - 1`.
pub(crate) async fn check<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    v: &[R],
    bits: u32,
) -> Result<(), Error> {
    let Some(headroom) = ctx.config().precision_guard else {
        return Ok(());
    };
    if v.is_empty() {
        return Ok(());
    }
    let p0 = ctx.role()? == Role::P0;
    let bound = R::ONE.shl(bits.min(R::BITS - 2));
    let public = |c: R| if p0 { c } else { R::ZERO };
    // [v + 2^bits >= 0] and [2^bits - 1 - v >= 0]: both hold exactly when v is in range, and at
    // most one fails otherwise (the two ranges where they fail are disjoint, and neither
    // difference can wrap for a value in range).
    let mut both: Vec<R> = v.iter().map(|x| x.add(public(bound))).collect();
    both.extend(v.iter().map(|x| public(bound.sub(R::ONE)).sub(*x)));
    // Boxed: the sign tests may multiply, and products call this check (never with a truncation
    // in between, so it does not recurse at run time; the box breaks the cycle of types).
    let signs = Box::pin(crate::nonlinear::sign_bits(ctx, &Shares::vector(both))).await?;
    // failures = 2n - (sum of the signs); [failures >= 1] opened.
    let total = R::from_u64(2 * v.len() as u64);
    let sum = signs.as_slice().iter().fold(R::ZERO, |a, b| a.add(*b));
    let failures = public(total.sub(R::ONE)).sub(sum);
    let any = Box::pin(crate::nonlinear::sign_bits(
        ctx,
        &Shares::vector(alloc::vec![failures]),
    ))
    .await?;
    let opened = online::open(ctx, &any).await?;
    if opened.first() == Some(&R::ONE) {
        return Err(Error::new(op, ErrorKind::PrecisionGuard { headroom }));
    }
    Ok(())
}

/// The guard's bound for a value about to be truncated in ring `R`: `k - 1 - headroom` bits (0
/// when the guard is off).
pub(crate) fn truncation_bits<T, C, R: Ring>(ctx: &Context<T, C>) -> u32 {
    let h = ctx.config().precision_guard.unwrap_or(0);
    (R::BITS - 1).saturating_sub(h).max(1)
}
