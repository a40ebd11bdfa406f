//! The online arithmetic between the two share-holding parties, as functions of a [`Context`]:
//! inputs, openings, products and truncation. Each runs the exchange of one protocol step of
//! [`super::beaver`], [`super::matmul`] or [`super::truncation`] over the
//! [`Sub::Online`] sub-channel of the link between P0 and P1.
//!
//! With four servers (PrivPy), products go to the assistants instead ([`crate::assist`]): no
//! triples, and the division by the scale happens inside the protocol.
//!
//! These functions apply no state guard of their own, so protocols compose them freely; users call
//! them through [`crate::Party`] or [`crate::Session`], which guard every operation.

use super::{add_public, beaver, matmul as mm, truncation as tr};
use crate::assist;
use crate::context::{Context, Truncation};
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::share::Shares;
use crate::topology::Topology;
use crate::transport::{Sub, Transport, tag};
use alloc::vec;
use alloc::vec::Vec;

/// Checks, before anything is allocated or sent, that the number format fits ring `R` and that
/// a `rows x cols` buffer is within [`crate::Config::max_elements`]; returns its element count.
fn admit<T, C, R: Ring>(
    ctx: &Context<T, C>,
    op: &'static str,
    rows: usize,
    cols: usize,
) -> Result<usize, Error> {
    let config = ctx.config();
    config.check(R::BITS).map_err(|e| e.in_op(op))?;
    config.elements(op, rows, cols)
}

/// Secret-shares this party's own values (a `rows x cols` matrix, row-major) with the peer, which
/// calls [`receive_input`]. The peer receives only a 32-byte seed from which its share expands;
/// this party keeps `x - share`. Fails before sending if a value is out of range, if `values`
/// does not hold `rows * cols` values, or if the shape exceeds [`crate::Config::max_elements`].
pub async fn share_input<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    values: &[f64],
    rows: usize,
    cols: usize,
) -> Result<Shares<R>, Error> {
    let n = admit::<T, C, R>(ctx, "share_input", rows, cols)?;
    if n != values.len() {
        return Err(Error::dimension("share_input", n, values.len()));
    }
    let mut encoded = vec![R::ZERO; n];
    ctx.fixed()
        .encode_slice(values, &mut encoded)
        .map_err(|e| e.in_op("share_input"))?;
    let x = Shares::matrix(rows, cols, encoded).map_err(|e| e.in_op("share_input"))?;
    share_ring_input(ctx, x).await
}

/// [`share_input`] of values already in the ring.
pub async fn share_ring_input<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    mut x: Shares<R>,
) -> Result<Shares<R>, Error> {
    let seed = ctx.fresh_seed(Domain::INPUT_SHARING);
    ctx.peer(Sub::Online)?
        .send_frame("share_input", tag::INPUT, seed.as_bytes())
        .await?;
    let mut prg = Prg::new(seed);
    for v in x.as_mut_slice() {
        *v = v.sub(R::random(&mut prg));
    }
    Ok(x)
}

/// Receives this party's share of a `rows x cols` matrix that the peer shares with
/// [`share_input`]. A shape whose size overflows or exceeds [`crate::Config::max_elements`] fails
/// with [`ErrorKind::TooLarge`] before anything is received.
pub async fn receive_input<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    rows: usize,
    cols: usize,
) -> Result<Shares<R>, Error> {
    let n = admit::<T, C, R>(ctx, "receive_input", rows, cols)?;
    let mut seed = [0u8; 32];
    ctx.peer(Sub::Online)?
        .recv_frame("receive_input", tag::INPUT, &mut seed)
        .await?;
    let mut prg = Prg::new(Seed::from_bytes(seed));
    let share = (0..n).map(|_| R::random(&mut prg)).collect();
    Shares::matrix(rows, cols, share)
}

/// Opens shared values to both parties as ring elements (one round).
pub async fn open<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Vec<R>, Error> {
    open_slice(ctx, "open", tag::OPEN, x.as_slice()).await
}

/// Opens shared values to both parties and decodes them as fixed-point numbers (one round).
pub async fn reveal<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Vec<f64>, Error> {
    let v = open(ctx, x).await?;
    let fixed = ctx.fixed();
    Ok(v.into_iter().map(|v| fixed.decode(v)).collect())
}

/// Opens shared values to `to` only: `to` gets `Some(values)`, the other party `None`.
pub async fn reveal_to<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    to: Role,
) -> Result<Option<Vec<f64>>, Error> {
    let fixed = ctx.fixed();
    let me = ctx.role()?;
    let mut peer = ctx.peer(Sub::Online)?;
    if to != me {
        peer.send_ring("reveal_to", tag::REVEAL_TO, x.as_slice())
            .await?;
        peer.flush("reveal_to").await?;
        return Ok(None);
    }
    let mut theirs = vec![R::ZERO; x.len()];
    peer.recv_ring("reveal_to", tag::REVEAL_TO, &mut theirs)
        .await?;
    Ok(Some(
        x.as_slice()
            .iter()
            .zip(&theirs)
            .map(|(&a, &b)| fixed.decode(a.add(b)))
            .collect(),
    ))
}

/// Exchanges shares with the peer and returns their sum: the opened values (one round).
pub async fn open_slice<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    tag: u16,
    mine: &[R],
) -> Result<Vec<R>, Error> {
    open_computed(ctx, op, tag, mine.len(), |start, out: &mut [R]| {
        out.copy_from_slice(&mine[start..start + out.len()]);
    })
    .await
}

/// Opens `n` values whose shares this party computes as it goes, a piece at a time:
/// `mine(start, out)` writes the shares of elements `start..start + out.len()`, once to send them
/// and once more to add them to the peer's. No buffer holds the shares. One round.
pub(crate) async fn open_computed<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    tag: u16,
    n: usize,
    mine: impl Fn(usize, &mut [R]),
) -> Result<Vec<R>, Error> {
    let mut opened = vec![R::ZERO; n];
    ctx.peer(Sub::Online)?
        .exchange_shares(op, tag, n, mine, |start, theirs, mine| {
            let out = &mut opened[start..start + theirs.len()];
            for ((o, &t), &m) in out.iter_mut().zip(theirs).zip(mine) {
                *o = t.add(m);
            }
        })
        .await?;
    Ok(opened)
}

/// `x + c` for a public fixed-point constant `c` (local).
pub fn add_constant<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &Context<T, C>,
    x: &Shares<R>,
    c: f64,
) -> Result<Shares<R>, Error> {
    admit::<T, C, R>(ctx, "add_public", x.rows(), x.cols())?;
    let c: R = ctx.fixed().encode(c).map_err(|e| e.in_op("add_public"))?;
    let role = ctx.role()?;
    Ok(x.map(|v| add_public(role, v, c)))
}

/// `x * c` for a public fixed-point constant `c`, truncated as configured.
pub async fn mul_public<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    c: f64,
) -> Result<Shares<R>, Error> {
    admit::<T, C, R>(ctx, "mul_public", x.rows(), x.cols())?;
    let c: R = ctx.fixed().encode(c).map_err(|e| e.in_op("mul_public"))?;
    let product = x.map(|v| v.mul(c));
    let f = ctx.fixed().frac_bits();
    truncate_in(ctx, "mul_public", product, f).await
}

/// The fixed-point elementwise product `x * y` (Beaver triples, then truncation): one round.
pub async fn mul<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    mul_with(ctx, x, y, true).await
}

/// The ring elementwise product `x * y` without truncation: exact.
pub async fn mul_integer<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    mul_with(ctx, x, y, false).await
}

/// The elementwise product, truncated by the fractional bits if `fixed_point` (fused into the
/// product's last pass when truncation is local).
async fn mul_with<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    fixed_point: bool,
) -> Result<Shares<R>, Error> {
    x.check_same_shape(y, "mul")?;
    admit::<T, C, R>(ctx, "mul", x.rows(), x.cols())?;
    if fixed_point {
        guard_operands(ctx, "mul", &[x, y]).await?;
    }
    if let Some(shift) = four_servers_shift(ctx, fixed_point) {
        let z = assist::mul(ctx, x.as_slice(), y.as_slice(), shift).await?;
        return Shares::matrix(x.rows(), x.cols(), z);
    }
    let role = ctx.role()?;
    let (links, source) = ctx.split();
    let t = source.triples::<R>(links, x.len()).await?;
    let local = local_truncation::<R, T, C>(ctx, fixed_point);
    let finish = |z: R| local.map_or(z, |d| tr::local(role, z, d));
    let (xs, ys, n) = (x.as_slice(), y.as_slice(), x.len());
    // Fused: the masked operands go out as they are computed, and each product is finished as
    // its f arrives (its e waits in z): about two passes over memory, no buffer but z.
    let mine = |start, out: &mut [R]| super::masked_piece(xs, &t.a, ys, &t.b, start, out);
    let mut z = vec![R::ZERO; n];
    ctx.peer(Sub::Online)?
        .exchange_shares("mul", tag::BEAVER, 2 * n, mine, |start, theirs, mine| {
            // A piece holds e values, then f values (either part may be empty).
            let (split, first_f) = super::split_piece(start, theirs.len(), n);
            let (theirs_e, theirs_f) = theirs.split_at(split);
            let (mine_e, mine_f) = mine.split_at(split);
            let z_e = z.get_mut(start..).unwrap_or_default();
            for ((z, &a), &b) in z_e.iter_mut().zip(theirs_e).zip(mine_e) {
                *z = a.add(b);
            }
            for (j, (&a, &b)) in (first_f..).zip(theirs_f.iter().zip(mine_f)) {
                z[j] = finish(beaver::product_at(role, &t, j, z[j], a.add(b)));
            }
        })
        .await?;
    finish_product(
        ctx,
        "mul",
        Shares::matrix(x.rows(), x.cols(), z)?,
        fixed_point,
        local,
    )
    .await
}

/// The fixed-point square `x * x` (square pairs, then truncation): one round, one ring element per
/// value per party.
pub async fn square<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    admit::<T, C, R>(ctx, "square", x.rows(), x.cols())?;
    guard_operands(ctx, "square", &[x]).await?;
    if let Some(shift) = four_servers_shift(ctx, true) {
        let z = assist::mul(ctx, x.as_slice(), x.as_slice(), shift).await?;
        return Shares::matrix(x.rows(), x.cols(), z);
    }
    let role = ctx.role()?;
    let (links, source) = ctx.split();
    let p = source.square_pairs::<R>(links, x.len()).await?;
    let local = local_truncation::<R, T, C>(ctx, true);
    let finish = |z: R| local.map_or(z, |d| tr::local(role, z, d));
    let (xs, n) = (x.as_slice(), x.len());
    let mine = |start, out: &mut [R]| super::masked_piece(xs, &p.a, &[], &[], start, out);
    let mut z = vec![R::ZERO; n];
    ctx.peer(Sub::Online)?
        .exchange_shares("square", tag::SQUARE, n, mine, |start, theirs, mine| {
            for (i, (&t, &m)) in (start..).zip(theirs.iter().zip(mine)) {
                z[i] = finish(beaver::square_at(role, &p, i, t.add(m)));
            }
        })
        .await?;
    finish_product(
        ctx,
        "square",
        Shares::matrix(x.rows(), x.cols(), z)?,
        true,
        local,
    )
    .await
}

/// The fixed-point matrix product `x y` (`m x k` by `k x n`) with one matrix triple: one round,
/// `m k + k n` ring elements per party, then truncation.
pub async fn matmul<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    matmul_with(ctx, x, y, true).await
}

/// The ring matrix product `x y` without truncation: exact.
pub async fn matmul_integer<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    matmul_with(ctx, x, y, false).await
}

async fn matmul_with<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
    fixed_point: bool,
) -> Result<Shares<R>, Error> {
    let (m, k) = x.shape();
    if y.rows() != k {
        return Err(Error::dimension("matmul", k, y.rows()));
    }
    let n = y.cols();
    // Every buffer of the product and its matrix triple: A (m x k), B (k x n), C and Z (m x n).
    admit::<T, C, R>(ctx, "matmul", m, k)?;
    admit::<T, C, R>(ctx, "matmul", k, n)?;
    admit::<T, C, R>(ctx, "matmul", m, n)?;
    if fixed_point {
        guard_operands(ctx, "matmul", &[x, y]).await?;
    }
    if let Some(shift) = four_servers_shift(ctx, fixed_point) {
        let z = assist::matmul(ctx, x.as_slice(), y.as_slice(), (m, k, n), shift).await?;
        return Shares::matrix(m, n, z);
    }
    let role = ctx.role()?;
    let (links, source) = ctx.split();
    let t = source.matrix_triple::<R>(links, m, k, n).await?;
    let (xs, ys) = (x.as_slice(), y.as_slice());
    let (a, b) = (t.a.as_slice(), t.b.as_slice());
    let masked = |start, out: &mut [R]| super::masked_piece(xs, a, ys, b, start, out);
    let opened = open_computed(ctx, "matmul", tag::MATMUL, m * k + k * n, masked).await?;
    let z = mm::combine(role, opened, t);
    finish_product(ctx, "matmul", z, fixed_point, None).await
}

/// The fixed-point dot product of two vectors of equal length, as a 1 x 1 share.
pub async fn dot<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    if x.len() != y.len() {
        return Err(Error::dimension("dot", x.len(), y.len()));
    }
    let row = x.clone().reshape(1, x.len())?;
    let col = y.clone().reshape(y.len(), 1)?;
    matmul(ctx, &row, &col).await.map_err(|e| e.in_op("dot"))
}

/// With four servers, products go to the assistants (PrivPy's Protocol 1, [`assist`]), which
/// divide by the scale inside: the shift for a fixed-point product, 0 for an integer one.
fn four_servers_shift<T, C>(ctx: &Context<T, C>, fixed_point: bool) -> Option<u32> {
    (ctx.topology() == Topology::FourServers).then(|| {
        if fixed_point {
            ctx.fixed().frac_bits()
        } else {
            0
        }
    })
}

/// The shift to fuse into a product's last pass, when truncation is local (and the precision
/// guard, which checks the product before its truncation, is off).
fn local_truncation<R: Ring, T, C>(ctx: &Context<T, C>, fixed_point: bool) -> Option<u32> {
    let d = ctx.fixed().frac_bits();
    let config = ctx.config();
    (fixed_point
        && config.truncation == Truncation::Local
        && config.precision_guard.is_none()
        && d > 0
        && d < R::BITS - 2)
        .then_some(d)
}

/// The precision guard on the operands of a fixed-point product, so that the product cannot wrap
/// the ring: each below `2^((k - 1) / 2)` where the product is formed in the ring before its
/// truncation (conservative: a large operand times a small one is refused too); with four
/// servers, whose products are exact in double width, below `2^((k - 1 + f) / 2)` and
/// `2^(k - 1 - headroom)` (PrivPy's Theorem 2: an operand fails with probability `|x| / 2^k`).
/// The product itself is checked before its truncation.
async fn guard_operands<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    operands: &[&Shares<R>],
) -> Result<(), Error> {
    if ctx.config().precision_guard.is_none() {
        return Ok(());
    }
    let f = ctx.fixed().frac_bits();
    let bits = if ctx.topology() == Topology::FourServers {
        ((R::BITS - 1 + f) / 2).min(crate::guard::truncation_bits::<T, C, R>(ctx))
    } else {
        (R::BITS - 1) / 2
    };
    for x in operands {
        crate::guard::check(ctx, op, x.as_slice(), bits).await?;
    }
    Ok(())
}

/// Truncates a product unless its last pass already did (`fused`).
async fn finish_product<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    z: Shares<R>,
    fixed_point: bool,
    fused: Option<u32>,
) -> Result<Shares<R>, Error> {
    if fixed_point && fused.is_none() {
        let f = ctx.fixed().frac_bits();
        truncate_in(ctx, op, z, f).await
    } else {
        Ok(z)
    }
}

/// Checks a truncation by `bits` against the ring before anything is sent.
pub fn check_shift<R: Ring>(op: &'static str, bits: u32) -> Result<(), Error> {
    if bits >= R::BITS - 2 {
        return Err(Error::new(
            op,
            ErrorKind::InvalidArgument("shift too large for the ring"),
        ));
    }
    Ok(())
}

/// Divides shared values by `2^bits` with the configured method (see [`Truncation`]).
pub async fn truncate<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: Shares<R>,
    bits: u32,
) -> Result<Shares<R>, Error> {
    truncate_in(ctx, "truncate", x, bits).await
}

/// [`truncate`] on behalf of operation `op`: the precision guard, when on, checks `x` first and
/// names `op` if it fires.
async fn truncate_in<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    x: Shares<R>,
    bits: u32,
) -> Result<Shares<R>, Error> {
    if bits == 0 {
        return Ok(x);
    }
    check_shift::<R>("truncate", bits)?;
    admit::<T, C, R>(ctx, "truncate", x.rows(), x.cols())?;
    let limit = crate::guard::truncation_bits::<T, C, R>(ctx);
    crate::guard::check(ctx, op, x.as_slice(), limit).await?;
    let role = ctx.role()?;
    match ctx.config().truncation {
        Truncation::Local => Ok(x.map(|v| tr::local(role, v, bits))),
        Truncation::Pairs => {
            let (links, source) = ctx.split();
            let p = source.truncation_pairs::<R>(links, x.len(), bits).await?;
            let masked = tr::mask(role, x.as_slice(), &p);
            let c = open_slice(ctx, "truncate", tag::TRUNC_PAIR, &masked).await?;
            Shares::matrix(x.rows(), x.cols(), tr::combine(role, &c, &p, bits))
        }
        Truncation::Exact => crate::nonlinear::truncate_exact(ctx, &x, bits).await,
    }
}

/// Fresh uniformly random ring elements from this party's own stream (for masks in protocols).
pub fn random_ring<T, C, R: Ring>(ctx: &mut Context<T, C>, n: usize) -> Vec<R> {
    let mut prg = ctx.fresh_prg(Domain::PROTOCOL_MASK);
    let mut v = vec![R::ZERO; n];
    fill_random(&mut prg, &mut v);
    v
}
