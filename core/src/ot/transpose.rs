//! Transposing 128 x 128 bit matrices held as 128 `u128` words (bit `i` of word `j` is entry
//! `(j, i)`), in place, by Eklundh's recursive block swap: seven levels, each swapping the
//! off-diagonal quarter-blocks of every sub-matrix with word-wide shifts and masks. About 450
//! `u128` operations per 16 Kibit, with no table and no branch.

/// Masks selecting the bits `i` with `i & w == 0`, for `w = 64, 32, ..., 1`.
const MASKS: [(usize, u128); 7] = [
    (64, 0x0000_0000_0000_0000_ffff_ffff_ffff_ffff),
    (32, 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff),
    (16, 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff),
    (8, 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff),
    (4, 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f),
    (2, 0x3333_3333_3333_3333_3333_3333_3333_3333),
    (1, 0x5555_5555_5555_5555_5555_5555_5555_5555),
];

/// Transposes the 128 x 128 bit matrix `m` in place: afterwards bit `j` of `m[i]` is what bit `i`
/// of `m[j]` was.
#[inline]
pub fn transpose128(m: &mut [u128; 128]) {
    for &(w, mask) in &MASKS {
        let mut base = 0;
        while base < 128 {
            for j in base..base + w {
                let (a, b) = (m[j], m[j + w]);
                m[j] = (a & mask) | ((b & mask) << w);
                m[j + w] = ((a >> w) & mask) | (b & !mask);
            }
            base += 2 * w;
        }
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
