//! SecureML's matrix product with one matrix triple.
//!
//! For `X` (m x k) and `Y` (k x n) and a triple `C = A B`, the parties open `E = X - A` and
//! `F = Y - B` (one round, `m k + k n` elements per party) and set `Z = C + E B + A F + E F`,
//! the last term added by party 0 only. Cost does not depend on `m k n`, unlike `m k n` scalar triples.

use crate::correlated::MatrixTriple;
use crate::ring::Ring;
use crate::role::Role;
use alloc::vec;
use alloc::vec::Vec;

/// The plaintext product of `a` (m x k) and `b` (k x n) in the ring, added into `out` (m x n).
pub fn matmul_add_into<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize, out: &mut [R]) {
    debug_assert!(a.len() == m * k && b.len() == k * n && out.len() == m * n);
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for (j, &aij) in a[i * k..(i + 1) * k].iter().enumerate() {
            for (o, &bv) in row.iter_mut().zip(&b[j * n..(j + 1) * n]) {
                *o = o.add(aij.mul(bv));
            }
        }
    }
}

/// The plaintext product of `a` (m x k) and `b` (k x n) in the ring.
pub fn matmul<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize) -> Vec<R> {
    let mut out = vec![R::ZERO; m * n];
    matmul_add_into(a, b, m, k, n, &mut out);
    out
}

/// This party's share of `(E, F) = (X - A, Y - B)`, laid out as `E` then `F`.
pub fn mask<R: Ring>(x: &[R], y: &[R], t: &MatrixTriple<R>) -> Vec<R> {
    let mut out = Vec::with_capacity(x.len() + y.len());
    out.extend(x.iter().zip(t.a.as_slice()).map(|(&x, &a)| x.sub(a)));
    out.extend(y.iter().zip(t.b.as_slice()).map(|(&y, &b)| y.sub(b)));
    out
}

/// This party's share of `X Y` from the opened `(E, F)`.
pub fn combine<R: Ring>(role: Role, opened: &[R], t: &MatrixTriple<R>) -> Vec<R> {
    let (m, k) = t.a.shape();
    let n = t.b.cols();
    let (e, f) = opened.split_at(m * k);
    let mut z = t.c.as_slice().to_vec();
    // Z = C + E B + A F (+ E F for party 0) = C + E B + (A + E) F for party 0.
    matmul_add_into(e, t.b.as_slice(), m, k, n, &mut z);
    match role {
        Role::P0 => {
            let ae: Vec<R> =
                t.a.as_slice()
                    .iter()
                    .zip(e)
                    .map(|(&a, &e)| a.add(e))
                    .collect();
            matmul_add_into(&ae, f, m, k, n, &mut z);
        }
        Role::P1 => matmul_add_into(t.a.as_slice(), f, m, k, n, &mut z),
    }
    z
}
