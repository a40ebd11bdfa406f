//! The numerical library on fixed-point shares (`alloc`): reciprocal and division, `exp`, `log`,
//! square root and its inverse, the logistic function (by `exp` and a reciprocal, and by PrivPy's
//! Euler method), `tanh`, selection by a shared bit, equality, minimum and its index, reductions
//! (sum, mean, variance) along rows, columns or everything, and broadcasting of row and column
//! vectors.
//!
//! Every function here is a protocol over a [`Context`] composed only of the products and
//! truncations of [`crate::arith::online`] and the comparisons, splines and exact shifts of
//! [`crate::nonlinear`], so it runs unchanged in every topology and with every non-linear backend:
//! two servers with a dealer (FSS), two servers with OT (garbled circuits), SecureNN's three
//! servers (the helper), PrivPy's four. Costs are therefore counted in those primitives (a spline
//! with `m` breakpoints, a comparison, a product round) in each function's documentation.
//!
//! ## Numbers
//! The functions work in the session's fixed-point format (`f` fractional bits, one ulp is
//! `2^-f`) over Z_2^64 or Z_2^128, with `8 <= f` and `2 f + 24 <= k` (so `f <= 20` in Z_2^64,
//! `f <= 52` in Z_2^128); Z_2^32 has no room for the intermediate products and is refused with
//! [`ErrorKind::Unsupported`], other formats with [`ErrorKind::InvalidArgument`], before anything
//! is sent. Where a polynomial is evaluated, the work runs with up to 8 guard bits below the ulp
//! (`min(f + 8, (k - 26) / 2)` fractional bits) and is rounded back at the end.
//!
//! Each function documents its input range, its iteration or polynomial counts and an error
//! bound of the form `|y - f(x)| <= r |f(x)| + a ulp`, checked by `core/tests/numeric.rs` against
//! `f64` on up to 10^5 points per topology including the ends of the range. The bounds hold
//! except when a product's local truncation fails ([`crate::arith::truncation`]: probability
//! about `|z| 2^(2f+1-k)` for a product of magnitude `|z|`, 2^-31 for values near 1 in Z_2^64 with
//! `f = 16`, negligible in Z_2^128); then the result is wrong by a large amount.
//!
//! Inputs outside a function's range cannot be refused: the servers do not see them. What happens
//! there is documented per function (a clamp, a bounded underestimate, or a meaningless value).
//! Public arguments (ranges, step counts, shapes, axes) are checked before anything is sent and
//! refused with [`ErrorKind::InvalidArgument`] or [`ErrorKind::DimensionMismatch`].
//!
//! The functions are methods of [`crate::Party`] and [`crate::Session`] too:
//!
//! ```
//! # #[cfg(not(feature = "std"))] fn main() {}
//! # #[cfg(feature = "std")] fn main() -> Result<(), fixshare::Error> {
//! use fixshare::numeric::Axis;
//! use fixshare::{Config, Dealer, DealerClient, Party, Role, Seed, block_on_thread, duplex};
//!
//! let (p0_peer, p1_peer) = duplex();
//! let (d0, p0_dealer) = duplex();
//! let (d1, p1_dealer) = duplex();
//! let dealer = std::thread::spawn(move || {
//!     block_on_thread(Dealer::new(Seed::from_bytes([9; 32]), d0, d1).serve())
//! });
//! let party = |role, peer, dealer, seed| {
//!     std::thread::spawn(move || {
//!         block_on_thread(async move {
//!             let source = DealerClient::connect(role, dealer).await?;
//!             let mut p: Party<_, _> =
//!                 Party::new(role, peer, source, Seed::from_bytes(seed), Config::default());
//!             let x = match role {
//!                 Role::P0 => p.share_input(&[0.5, 2.0, 3.5], 1, 3).await?,
//!                 Role::P1 => p.receive_input(1, 3).await?,
//!             };
//!             let e = p.exp(&x).await?; // 1.6487, 7.3891, 33.115
//!             let m = p.mean(&x, Axis::PerRow).await?; // 2
//!             let v = p.sum(&x, Axis::All)?; // 6, locally
//!             Ok::<_, fixshare::Error>((p.reveal(&e).await?, p.reveal(&m).await?, p.reveal(&v).await?))
//!         })
//!     })
//! };
//! let a = party(Role::P0, p0_peer, p0_dealer, [1; 32]);
//! let b = party(Role::P1, p1_peer, p1_dealer, [2; 32]);
//! let ((e, m, v), _) = (a.join().unwrap()?, b.join().unwrap()?);
//! assert!((e[1] - 2f64.exp()).abs() < 1e-3 && (m[0] - 2.0).abs() < 1e-4 && v[0] == 6.0);
//! dealer.join().unwrap()?;
//! # Ok(())
//! # }
//! ```

mod broadcast;
mod exp;
mod log;
mod logistic;
mod poly;
mod reciprocal;
mod reduce;
mod roots;
mod select;

pub use broadcast::{Broadcast, broadcast, expand};
pub use exp::{exp, exp_range};
pub use log::{log, log_in};
pub use logistic::{EULER_MAX_STEPS, logistic, logistic_euler, tanh};
pub use reciprocal::{div, div_in, reciprocal, reciprocal_in};
pub use reduce::{Axis, mean, sum, variance};
pub use roots::{inv_sqrt, inv_sqrt_in, sqrt, sqrt_in};
pub use select::{argmin, equal, min, select};

use crate::arith::add_public;
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::fixed::FixedPoint;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec::Vec;

/// The inputs `[2^lo, 2^hi]` of the functions that find a value's power-of-two scale
/// (reciprocal, division, `log`, square root and its inverse): their first spline has one
/// breakpoint per power of two in between, `hi - lo + 1` in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Octaves {
    /// The exponent of the smallest input.
    pub lo: i32,
    /// The exponent of the largest input.
    pub hi: i32,
}

impl Octaves {
    /// The default range for `f` fractional bits: `[2^-floor(f/2), 2^floor(f/2)]`, where the
    /// reciprocals and square roots still carry at least `f/2` significant bits (17 breakpoints
    /// with `f = 16`, 33 with `f = 32`).
    pub fn default_for(fixed: FixedPoint) -> Self {
        let h = (fixed.frac_bits() / 2) as i32;
        Octaves { lo: -h, hi: h }
    }

    /// Checks the range for ring `R` and format `fixed` before anything is sent: `-f <= lo < hi
    /// <= f`, at most 64 octaves, and `-lo <= k - 2f - 24` (so that the largest results, near
    /// `2^-lo` for the reciprocal, keep their products far from the ring's end).
    pub fn check<R: Ring>(&self, op: &'static str, fixed: FixedPoint) -> Result<(), Error> {
        let f = fixed.frac_bits() as i32;
        let bad = |why| Err(Error::new(op, ErrorKind::InvalidArgument(why)));
        if self.lo >= self.hi {
            return bad("the octave range needs lo < hi");
        }
        if self.lo < -f || self.hi > f {
            return bad("the octave range must lie within [2^-f, 2^f]");
        }
        if self.hi - self.lo > 64 {
            return bad("the octave range spans at most 64 octaves");
        }
        if -self.lo > headroom::<R>(fixed) {
            return bad("the octave range starts too low for the ring: -lo <= k - 2f - 24");
        }
        Ok(())
    }

    /// The breakpoints `2^lo, ..., 2^hi`.
    fn knots(&self) -> Vec<f64> {
        (self.lo..=self.hi).map(|e| libm::ldexp(1.0, e)).collect()
    }
}

/// `k - 2f - 24`: the largest power-of-two exponent of a value whose products keep a failure
/// probability of local truncation below 2^-21 in ring `R`.
fn headroom<R: Ring>(fixed: FixedPoint) -> i32 {
    R::BITS as i32 - 2 * fixed.frac_bits() as i32 - 24
}

/// [`products`] of exactly `N` pairs, as an array.
async fn products_n<T: Transport, C: Correlations<T>, R: Ring, const N: usize>(
    ctx: &mut Context<T, C>,
    pairs: [(&Shares<R>, &Shares<R>); N],
    shift: u32,
) -> Result<[Shares<R>; N], Error> {
    products(ctx, &pairs, shift)
        .await?
        .try_into()
        .map_err(|_| Error::new("product", ErrorKind::Malformed("product count")))
}

/// The fixed-point format as the numeric functions use it.
#[derive(Clone, Copy, Debug)]
struct Format {
    /// Fractional bits of the session.
    f: u32,
    /// Fractional bits of the guarded intermediate results.
    guarded: u32,
}

/// Checks that ring `R` and the context's format suit the numeric functions (see the module
/// docs), before anything is sent.
fn format<T, C, R: Ring>(ctx: &Context<T, C>, op: &'static str) -> Result<Format, Error> {
    let f = ctx.fixed().frac_bits();
    ctx.config().check(R::BITS).map_err(|e| e.in_op(op))?;
    if R::BITS < 64 {
        return Err(Error::new(
            op,
            ErrorKind::Unsupported("the numeric functions need Z_2^64 or Z_2^128"),
        ));
    }
    if f < 8 || 2 * f + 24 > R::BITS {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument(
                "the numeric functions need 8 <= f and 2 f + 24 <= k fractional bits",
            ),
        ));
    }
    Ok(Format {
        f,
        guarded: (f + 8).min((R::BITS - 26) / 2),
    })
}

/// Attributes an error from the steps of operation `op` to `op`; the steps run boxed.
async fn named<V>(op: &'static str, f: impl Future<Output = Result<V, Error>>) -> Result<V, Error> {
    boxed(f).await.map_err(|e| e.in_op(op))
}

/// Runs `f` from the heap: the protocols' futures nest deeply, and an unoptimized build would
/// otherwise hold a copy of each level's future in each level's stack frame (more than a thread's
/// 2 MiB stack for the functions here).
async fn boxed<V>(f: impl Future<Output = V>) -> V {
    alloc::boxed::Box::pin(f).await
}

/// `round(v 2^scale)` in the ring (for public constants of the protocols here, all small).
fn encode<R: Ring>(v: f64, scale: u32) -> R {
    R::from_i128(libm::round(libm::ldexp(v, scale as i32)) as i128)
}

/// This party's share of a public ring constant: P0 holds it, P1 holds zero.
fn constant<R: Ring>(role: Role, c: R) -> R {
    add_public(role, R::ZERO, c)
}

/// `x * 2^bits` (local, exact while it fits).
fn shl<R: Ring>(x: &Shares<R>, bits: u32) -> Shares<R> {
    x.map(|v| v.shl(bits))
}

/// Moves shares from `from` to `to` fractional bits: exact upwards, truncated downwards.
async fn rescale<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: Shares<R>,
    from: u32,
    to: u32,
) -> Result<Shares<R>, Error> {
    if to >= from {
        Ok(shl(&x, to - from))
    } else {
        boxed(online::truncate(ctx, x, from - to)).await
    }
}

/// The elementwise products `x_i y_i / 2^shift` of several pairs in one round: the ring products,
/// then one truncation by `shift` as the session truncates.
async fn products<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    pairs: &[(&Shares<R>, &Shares<R>)],
    shift: u32,
) -> Result<Vec<Shares<R>>, Error> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (x, y) in pairs {
        x.check_same_shape(y, "product")?;
        a.extend_from_slice(x.as_slice());
        b.extend_from_slice(y.as_slice());
    }
    let z = boxed(online::mul_integer(
        ctx,
        &Shares::vector(a),
        &Shares::vector(b),
    ))
    .await?;
    let z = boxed(online::truncate(ctx, z, shift)).await?.into_vec();
    let mut out = Vec::with_capacity(pairs.len());
    let mut at = 0;
    for (x, _) in pairs {
        out.push(x.with_data(z[at..at + x.len()].to_vec())?);
        at += x.len();
    }
    Ok(out)
}

/// The fixed-point product `x y` as the ring product and one truncation by `f`: within one ulp
/// (floor or one more), and exact when the ring product is a multiple of `2^f` (a product with a
/// 0/1 bit), in every topology. (Four servers' own fixed-point products round each of their four
/// cross terms down, up to 4 ulp below the floor.)
async fn mul<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    let [z] = products_n(ctx, [(x, y)], f).await?;
    Ok(z)
}

/// The fewest steps `n` after which `e_(n) <= 2^-(f + 1)` for `e_(i+1) = step(e_i)` from `e0`.
fn iterations(e0: f64, f: u32, step: impl Fn(f64) -> f64) -> u32 {
    let target = libm::ldexp(1.0, -(f as i32) - 1);
    let mut e = e0;
    let mut n = 0;
    while e > target && n < 16 {
        e = step(e);
        n += 1;
    }
    n
}
