//! Chebyshev series on shares: the polynomial stage of `exp`, `log` and the logistic function.
//!
//! A smooth function on `[-1, 1]` is interpolated at the Chebyshev nodes (coefficients computed
//! here in `f64`, identically by both parties), and the series `sum_k c_k T_k(w)` is evaluated on
//! shares of `w`: the `T_k` by `T_(m+n) = 2 T_m T_n - T_(m-n)`, every `T_k` with
//! `2^(r-1) < k <= 2^r` in round `r` (one batched product), so degree `d` takes `ceil(log2 d)`
//! product rounds and `d - 1` products per element; the sum with public coefficients is one ring
//! combination and one truncation. `|T_k| <= 1` keeps every product small, and the coefficients
//! decay, so the rounding errors of the high `T_k` hardly matter.

use super::boxed;
use super::{constant, encode, products};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::Error;
use crate::ring::Ring;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;

/// The coefficients `c_0..c_d` of the degree-`d` interpolant of `f` at the Chebyshev nodes of
/// `[-1, 1]`.
pub(super) fn coefficients(f: impl Fn(f64) -> f64, d: usize) -> Vec<f64> {
    let n = d + 1;
    let nodes: Vec<(f64, f64)> = (0..n)
        .map(|j| {
            let t = core::f64::consts::PI * (j as f64 + 0.5) / n as f64;
            (t, f(libm::cos(t)))
        })
        .collect();
    (0..n)
        .map(|k| {
            let s: f64 = nodes
                .iter()
                .map(|&(t, y)| y * libm::cos(k as f64 * t))
                .sum();
            let c = 2.0 * s / n as f64;
            if k == 0 { c / 2.0 } else { c }
        })
        .collect()
}

/// The series at `w` in `f64` (Clenshaw), for choosing the degree.
fn eval(c: &[f64], w: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ck in c.iter().skip(1).rev() {
        let b = ck + 2.0 * w * b1 - b2;
        b2 = b1;
        b1 = b;
    }
    c[0] + w * b1 - b2
}

/// The coefficients of the lowest degree (at most 24) whose interpolant of `f` stays within
/// `tolerance` of it on 1025 points of `[-1, 1]`.
pub(super) fn fit(f: impl Fn(f64) -> f64, tolerance: f64) -> Vec<f64> {
    let mut c = Vec::new();
    for d in 1..=24 {
        c = coefficients(&f, d);
        let worst = (0..=1024)
            .map(|i| {
                let w = -1.0 + i as f64 / 512.0;
                libm::fabs(eval(&c, w) - f(w))
            })
            .fold(0.0, f64::max);
        if worst <= tolerance {
            break;
        }
    }
    c
}

/// `sum_k c_k T_k(w)` for shares of `w` with `scale` fractional bits and `|w| <= 1`; the result
/// has `scale` fractional bits.
pub(super) async fn chebyshev<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    w: &Shares<R>,
    scale: u32,
    c: &[f64],
) -> Result<Shares<R>, Error> {
    let role = ctx.role()?;
    let d = c.len().saturating_sub(1);
    let one = constant(role, encode::<R>(1.0, scale));
    // t[k] holds T_k; T_0 = 1 is public.
    let mut t: Vec<Shares<R>> = vec![w.map(|_| one), w.clone()];
    let mut top = 1;
    while top < d {
        let next = (2 * top).min(d);
        let pairs: Vec<(&Shares<R>, &Shares<R>)> =
            (top + 1..=next).map(|k| (&t[top], &t[k - top])).collect();
        // 2 T_m T_n at `scale` bits: the product shifted by one bit less.
        let doubled = products(ctx, &pairs, scale - 1).await?;
        for (i, p) in doubled.into_iter().enumerate() {
            let k = top + 1 + i;
            let below = &t[2 * top - k];
            t.push(p.sub(below)?);
        }
        top = next;
    }
    // sum_k c_k T_k: coefficients at `scale` bits, one truncation.
    let mut acc = t[0].map(|_| constant(role, encode::<R>(c[0], 2 * scale)));
    for (k, &ck) in c.iter().enumerate().skip(1) {
        let ck = encode::<R>(ck, scale);
        acc = acc.zip_with(&t[k], "chebyshev", |a, v| a.add(v.mul(ck)))?;
    }
    boxed(online::truncate(ctx, acc, scale)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_polynomials_exactly_and_fits_within_tolerance() {
        // A cubic is its own degree-3 interpolant: T_3 = 4w^3 - 3w, so w^3 = (3 T_1 + T_3) / 4.
        let c = coefficients(|w| w * w * w, 3);
        let want = [0.0, 0.75, 0.0, 0.25];
        assert!(
            c.iter().zip(want).all(|(a, b)| libm::fabs(a - b) < 1e-15),
            "{c:?}"
        );
        for (f, tol) in [
            (libm::exp as fn(f64) -> f64, libm::ldexp(1.0, -21)),
            (libm::exp, libm::ldexp(1.0, -40)),
            (|u| libm::log((u + 3.0) / 2.0), libm::ldexp(1.0, -21)),
            (|u| libm::log((u + 3.0) / 2.0), libm::ldexp(1.0, -42)),
        ] {
            let c = fit(f, tol);
            let worst = (0..=4000)
                .map(|i| -1.0 + i as f64 / 2000.0)
                .map(|w| libm::fabs(eval(&c, w) - f(w)))
                .fold(0.0, f64::max);
            assert!(worst <= tol, "degree {}: {worst:e} > {tol:e}", c.len() - 1);
        }
    }
}
