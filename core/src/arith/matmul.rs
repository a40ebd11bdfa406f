//! SecureML's matrix product with one matrix triple.
//!
//! For `X` (m x k) and `Y` (k x n) and a triple `C = A B`, the parties open `E = X - A` and
//! `F = Y - B` (one round, `m k + k n` elements per party) and set `Z = C + E B + A F + E F`,
//! the last term added by party 0 only. Cost does not depend on `m k n`, unlike `m k n` scalar triples.

use crate::correlated::MatrixTriple;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use alloc::vec;
use alloc::vec::Vec;
use zeroize::Zeroize;

/// Columns of `B` and of the output in one block: two output rows of a block (4 KiB of `u64`)
/// stay in L1 while the four rows of `B` they are multiplied with stream past.
const BLOCK_COLS: usize = 256;
/// Rows of `B` (the inner dimension) in one block: a block of `B`, `BLOCK_DEPTH x BLOCK_COLS`
/// (256 KiB of `u64`), stays in L2 while every row pair of the output goes over it.
const BLOCK_DEPTH: usize = 128;

/// The plaintext product of `a` (m x k) and `b` (k x n) in the ring, added into `out` (m x n).
///
/// Blocked for the caches: the columns are cut into blocks of at most [`BLOCK_COLS`] and the inner
/// dimension into blocks of at most [`BLOCK_DEPTH`] (of even sizes), and each pair of output rows
/// takes four rows of `B` per pass over its columns (eight products per element loaded and
/// stored), in a loop over contiguous columns that LLVM vectorizes where the CPU has a vector
/// multiply of the ring's width (`u32` from SSE2 on, `u64` with AVX-512DQ, picked at run time;
/// `u128` stays scalar). A single column (`n = 1`) is a dot product per row. The arithmetic wraps,
/// so the result does not depend on the order of the sums: bit for bit the plain `i-k-j` product.
///
/// With the `parallel` feature (std), products of at least [`PARALLEL_WORK`] multiplications are
/// cut into bands of output rows, one per thread of rayon's pool.
pub fn matmul_add_into<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize, out: &mut [R]) {
    debug_assert!(a.len() == m * k && b.len() == k * n && out.len() == m * n);
    #[cfg(feature = "parallel")]
    {
        let threads = rayon::current_num_threads();
        if threads > 1 && m >= 4 && m.saturating_mul(k).saturating_mul(n) >= PARALLEL_WORK {
            use rayon::prelude::*;
            // Bands of an even number of rows, so that each keeps the kernel's row pairs.
            let rows = m.div_ceil(threads).div_ceil(2) * 2;
            out[..m * n]
                .par_chunks_mut(rows * n)
                .zip(a[..m * k].par_chunks(rows * k))
                .for_each(|(o, a)| band(a, b, o.len() / n, k, n, o));
            return;
        }
    }
    band(a, b, m, k, n, out);
}

/// The smallest product, in multiplications, that the `parallel` feature spreads over threads.
pub const PARALLEL_WORK: usize = 1 << 22;

/// [`matmul_add_into`] on one thread, compiled for the widest vector unit the CPU has (AVX-512 or
/// AVX2 on x86-64, NEON on AArch64), picked at run time by `pulp`: binaries stay portable, and the
/// core needs no `unsafe` for the dispatch.
fn band<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize, out: &mut [R]) {
    pulp::Arch::new().dispatch(Band { a, b, m, k, n, out });
}

/// [`band`]'s arguments, as the operation `pulp` compiles once per instruction set. (A closure
/// would not do: its body is not inlined into the dispatched function, so it would stay scalar.)
struct Band<'a, R> {
    a: &'a [R],
    b: &'a [R],
    m: usize,
    k: usize,
    n: usize,
    out: &'a mut [R],
}

impl<R: Ring> pulp::WithSimd for Band<'_, R> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Band { a, b, m, k, n, out } = self;
        band_kernel(a, b, m, k, n, out);
    }
}

/// The blocked product itself, inlined into each of [`Band`]'s compilations.
#[inline(always)]
fn band_kernel<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize, out: &mut [R]) {
    if m == 0 || k == 0 || n == 0 {
        return;
    }
    if n == 1 {
        for (o, row) in out[..m].iter_mut().zip(a[..m * k].chunks_exact(k)) {
            *o = o.add(dot(row, &b[..k]));
        }
        return;
    }
    let depth = even_block(k, BLOCK_DEPTH, 4);
    let cols = even_block(n, BLOCK_COLS, 1);
    for j0 in (0..n).step_by(cols) {
        let w = cols.min(n - j0);
        for p0 in (0..k).step_by(depth) {
            let d = depth.min(k - p0);
            // This block of B: rows p0..p0 + d, columns j0..j0 + w.
            let b = &b[p0 * n + j0..(p0 + d - 1) * n + j0 + w];
            let mut rows = out[..m * n].chunks_exact_mut(n).zip(a.chunks_exact(k));
            while let Some((c0, a0)) = rows.next() {
                let (c0, a0) = (&mut c0[j0..j0 + w], &a0[p0..p0 + d]);
                match rows.next() {
                    Some((c1, a1)) => two_rows(c0, &mut c1[j0..j0 + w], a0, &a1[p0..p0 + d], b, n),
                    None => one_row(c0, a0, b, n),
                }
            }
        }
    }
}

/// The size of the blocks that cut `len` into as few blocks of at most `max` as possible, all of
/// about the same size, rounded up to a multiple of `unit`.
fn even_block(len: usize, max: usize, unit: usize) -> usize {
    let blocks = len.div_ceil(max);
    len.div_ceil(blocks).div_ceil(unit) * unit
}

/// `c0 += a0 B` and `c1 += a1 B` for one block: `a0`, `a1` of length d, `b` the block's d rows of
/// `c0.len()` columns, `stride` apart (the last row may end after its columns).
#[inline(always)]
fn two_rows<R: Ring>(c0: &mut [R], c1: &mut [R], a0: &[R], a1: &[R], b: &[R], stride: usize) {
    let w = c0.len();
    let row = |p: usize| &b[p * stride..p * stride + w];
    let (x4, x) = a0.as_chunks::<4>();
    let (y4, y) = a1.as_chunks::<4>();
    for (q, (x, y)) in x4.iter().zip(y4).enumerate() {
        let (b0, b1, b2, b3) = (row(4 * q), row(4 * q + 1), row(4 * q + 2), row(4 * q + 3));
        let cs = c0.iter_mut().zip(c1.iter_mut());
        for (((((c0, c1), &v0), &v1), &v2), &v3) in cs.zip(b0).zip(b1).zip(b2).zip(b3) {
            let s0 = x[0]
                .mul(v0)
                .add(x[1].mul(v1))
                .add(x[2].mul(v2).add(x[3].mul(v3)));
            let s1 = y[0]
                .mul(v0)
                .add(y[1].mul(v1))
                .add(y[2].mul(v2).add(y[3].mul(v3)));
            *c0 = c0.add(s0);
            *c1 = c1.add(s1);
        }
    }
    for (p, (&x, &y)) in x.iter().zip(y).enumerate() {
        for ((c0, c1), &v) in c0.iter_mut().zip(c1.iter_mut()).zip(row(4 * x4.len() + p)) {
            *c0 = c0.add(x.mul(v));
            *c1 = c1.add(y.mul(v));
        }
    }
}

/// `c0 += a0 B` for one block (the last row of an odd number of rows).
#[inline(always)]
fn one_row<R: Ring>(c0: &mut [R], a0: &[R], b: &[R], stride: usize) {
    let w = c0.len();
    let row = |p: usize| &b[p * stride..p * stride + w];
    let (x4, x) = a0.as_chunks::<4>();
    for (q, x) in x4.iter().enumerate() {
        let (b0, b1, b2, b3) = (row(4 * q), row(4 * q + 1), row(4 * q + 2), row(4 * q + 3));
        for ((((c0, &v0), &v1), &v2), &v3) in c0.iter_mut().zip(b0).zip(b1).zip(b2).zip(b3) {
            *c0 = c0.add(
                x[0].mul(v0)
                    .add(x[1].mul(v1))
                    .add(x[2].mul(v2).add(x[3].mul(v3))),
            );
        }
    }
    for (p, &x) in x.iter().enumerate() {
        for (c0, &v) in c0.iter_mut().zip(row(4 * x4.len() + p)) {
            *c0 = c0.add(x.mul(v));
        }
    }
}

/// The dot product of `x` and `y` (of equal lengths), in four independent sums.
#[inline(always)]
fn dot<R: Ring>(x: &[R], y: &[R]) -> R {
    let (x4, xr) = x.as_chunks::<4>();
    let (y4, yr) = y.as_chunks::<4>();
    let mut s = [R::ZERO; 4];
    for (x, y) in x4.iter().zip(y4) {
        for i in 0..4 {
            s[i] = s[i].add(x[i].mul(y[i]));
        }
    }
    let tail = xr
        .iter()
        .zip(yr)
        .fold(R::ZERO, |t, (&x, &y)| t.add(x.mul(y)));
    s[0].add(s[1]).add(s[2].add(s[3])).add(tail)
}

/// The plaintext product of `a` (m x k) and `b` (k x n) in the ring.
pub fn matmul<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize) -> Vec<R> {
    let mut out = vec![R::ZERO; m * n];
    matmul_add_into(a, b, m, k, n, &mut out);
    out
}

/// The transpose of `a` (`rows x cols`, row-major): `cols x rows`, row-major.
pub(crate) fn transpose<R: Ring>(a: &[R], rows: usize, cols: usize) -> Vec<R> {
    let mut t = Vec::with_capacity(a.len());
    for c in 0..cols {
        t.extend((0..rows).map(|r| a[r * cols + c]));
    }
    t
}

/// This party's share of `X Y` from the opened `(E, F)`, in the triple's `C` (no copy). `E`'s
/// buffer holds `A + E` for party 0's second product and is zeroized after it.
pub fn combine<R: Ring>(role: Role, mut opened: Vec<R>, t: MatrixTriple<R>) -> Shares<R> {
    let MatrixTriple { a, b, c: mut z } = t;
    let (m, k) = a.shape();
    let n = b.cols();
    let (e, f) = opened.split_at_mut(m * k);
    // Z = C + E B + A F (+ E F for party 0) = C + E B + (A + E) F for party 0.
    matmul_add_into(e, b.as_slice(), m, k, n, z.as_mut_slice());
    match role {
        Role::P0 => {
            for (e, &a) in e.iter_mut().zip(a.as_slice()) {
                *e = e.add(a);
            }
            matmul_add_into(e, f, m, k, n, z.as_mut_slice());
            e.iter_mut().for_each(Zeroize::zeroize);
        }
        Role::P1 => matmul_add_into(a.as_slice(), f, m, k, n, z.as_mut_slice()),
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Domain, Seed};
    use crate::ring::fill_random;

    /// The plain i-k-j product the blocked one must reproduce bit for bit.
    fn naive<R: Ring>(a: &[R], b: &[R], m: usize, k: usize, n: usize, out: &mut [R]) {
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    out[i * n + j] = out[i * n + j].add(a[i * k + p].mul(b[p * n + j]));
                }
            }
        }
    }

    fn blocked_is_naive<R: Ring>() {
        let mut prg = Seed::from_bytes([7; 32]).prg(Domain::user(0), u64::from(R::BITS));
        let shapes = [
            (1, 1, 1),
            (3, 17, 5),
            (129, 257, 65),
            // An empty inner dimension adds nothing; empty outputs.
            (4, 0, 3),
            (0, 5, 3),
            (3, 5, 0),
            // One column (dot products), one row, and blocks cut in several in both dimensions
            // with remainders of the four-row step.
            (7, 9, 1),
            (1, 300, 1),
            (1, 9, 7),
            (2, 131, 600),
            (5, 258, 257),
        ];
        for (m, k, n) in shapes {
            let random = |prg: &mut crate::prg::Prg, len: usize| {
                let mut v = alloc::vec![R::ZERO; len];
                fill_random(prg, &mut v);
                v
            };
            let (a, b, mut out) = (
                random(&mut prg, m * k),
                random(&mut prg, k * n),
                random(&mut prg, m * n),
            );
            let mut want = out.clone();
            naive(&a, &b, m, k, n, &mut want);
            matmul_add_into(&a, &b, m, k, n, &mut out);
            assert!(out == want, "{} bits, {m}x{k}x{n}", R::BITS);
            // Extreme values: every product and sum wraps.
            let (a, b) = (
                alloc::vec![R::ZERO.sub(R::ONE); m * k],
                alloc::vec![R::ZERO.sub(R::ONE); k * n],
            );
            let mut want = out.clone();
            naive(&a, &b, m, k, n, &mut want);
            matmul_add_into(&a, &b, m, k, n, &mut out);
            assert!(out == want, "{} bits, {m}x{k}x{n}, all ones", R::BITS);
        }
        assert_eq!(matmul::<R>(&[], &[], 2, 0, 2), alloc::vec![R::ZERO; 4]);
    }

    #[test]
    fn blocked_product_is_the_naive_one_u32() {
        blocked_is_naive::<u32>();
    }

    #[test]
    fn blocked_product_is_the_naive_one_u64() {
        blocked_is_naive::<u64>();
    }

    #[test]
    fn blocked_product_is_the_naive_one_u128() {
        blocked_is_naive::<u128>();
    }

    /// Large enough for the `parallel` feature's bands (when it is on), with an odd row count.
    #[test]
    fn products_over_the_parallel_threshold_are_the_naive_ones() {
        let (m, k, n) = (129, 257, 130);
        assert!(m * k * n >= PARALLEL_WORK);
        let mut prg = Seed::from_bytes([3; 32]).prg(Domain::user(9), 0);
        let a: Vec<u64> = (0..m * k).map(|_| u64::random(&mut prg)).collect();
        let b: Vec<u64> = (0..k * n).map(|_| u64::random(&mut prg)).collect();
        let (mut want, mut got) = (vec![7u64; m * n], vec![7u64; m * n]);
        naive(&a, &b, m, k, n, &mut want);
        matmul_add_into(&a, &b, m, k, n, &mut got);
        assert!(want == got);
    }
}
