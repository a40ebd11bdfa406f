//! Transposing 128 x 128 bit matrices held as 128 `u128` words (bit `i` of word `j` is entry
//! `(j, i)`), in place, by Eklundh's recursive block swap: seven levels, each swapping the
//! off-diagonal quarter-blocks of every sub-matrix with word-wide shifts and masks, with no table
//! and no branch.
//!
//! The words are split into their low and high 64-bit halves. The first level (blocks of 64) only
//! exchanges halves; the six others never move a bit across a half, so each runs on two
//! independent 64 x 64 matrices of `u64` with constant shifts. In that form the compiler keeps
//! everything in registers and vectorises the inner loops with the baseline SIMD of the target
//! (SSE2 on x86-64) — no intrinsics, no `unsafe`.

/// One level on a 64 x 64 matrix of `u64`: for every pair of rows `(j, j + W)` in a block of
/// `2 W`, swaps the bits `i` with `i & W != 0` of row `j` with the bits `i` with `i & W == 0` of
/// row `j + W`. `MASK` selects the bits with `i & W == 0`.
#[inline(always)]
fn level<const W: usize>(m: &mut [u64; 64], mask: u64) {
    for block in m.chunks_exact_mut(2 * W) {
        let (lo, hi) = block.split_at_mut(W);
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let t = ((*a >> W) ^ *b) & mask;
            *a ^= t << W;
            *b ^= t;
        }
    }
}

/// Transposes a 64 x 64 bit matrix of `u64` rows in place (levels 32 down to 1).
#[inline(always)]
fn transpose64(m: &mut [u64; 64]) {
    level::<32>(m, 0x0000_0000_ffff_ffff);
    level::<16>(m, 0x0000_ffff_0000_ffff);
    level::<8>(m, 0x00ff_00ff_00ff_00ff);
    level::<4>(m, 0x0f0f_0f0f_0f0f_0f0f);
    level::<2>(m, 0x3333_3333_3333_3333);
    level::<1>(m, 0x5555_5555_5555_5555);
}

/// Transposes the 128 x 128 bit matrix `m` in place: afterwards bit `j` of `m[i]` is what bit `i`
/// of `m[j]` was.
#[inline]
pub fn transpose128(m: &mut [u128; 128]) {
    // Quadrants as four 64 x 64 matrices: rows 0..64 and 64..128, low and high halves.
    let mut q: [[u64; 64]; 4] = [[0; 64]; 4];
    for j in 0..64 {
        q[0][j] = m[j] as u64;
        q[1][j] = (m[j] >> 64) as u64;
        q[2][j] = m[j + 64] as u64;
        q[3][j] = (m[j + 64] >> 64) as u64;
    }
    for quadrant in &mut q {
        transpose64(quadrant);
    }
    // The top-level swap exchanges the off-diagonal quadrants (1 and 2).
    for j in 0..64 {
        m[j] = u128::from(q[0][j]) | (u128::from(q[2][j]) << 64);
        m[j + 64] = u128::from(q[1][j]) | (u128::from(q[3][j]) << 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn matches_the_naive_transpose() {
        let mut m = [0u128; 128];
        let mut x = 0x1234_5678_9abc_def0_u128;
        for w in &mut m {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            *w = x;
        }
        let orig = m;
        transpose128(&mut m);
        for i in 0..128 {
            for j in 0..128 {
                assert_eq!((m[i] >> j) & 1, (orig[j] >> i) & 1, "({i}, {j})");
            }
        }
        transpose128(&mut m);
        assert_eq!(m, orig);
    }
}
