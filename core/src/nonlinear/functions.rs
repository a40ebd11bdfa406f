//! The per-element circuits of the non-linear layer, as [`Gadget`]s over words of `width` bits
//! (pure: no I/O). Fixed-point results put 1.0 at bit `f`.

use super::gadget::Gadget;
use crate::error::Error;
use crate::gc::{Builder, Wire};
use alloc::vec;
use alloc::vec::Vec;

/// A word of `width` bits that is `bit` at position `at` and zero elsewhere.
fn bit_word(b: &mut Builder, bit: Wire, at: u32, width: usize) -> Vec<Wire> {
    let zero = b.constant(false);
    (0..width)
        .map(|i| if i == at as usize { bit } else { zero })
        .collect()
}

/// `x >= 0` as a wire.
fn non_negative(b: &mut Builder, x: &[Wire]) -> Wire {
    let neg = b.msb(x);
    b.not(neg)
}

/// `max(x, 0)`, and with `derivative_at = Some(f)` also `2^f` where `x >= 0`.
pub(crate) fn relu(width: usize, derivative_at: Option<u32>) -> Result<Gadget, Error> {
    let outputs = 1 + usize::from(derivative_at.is_some());
    Gadget::new(width, 1, outputs, |b, x| {
        let pos = non_negative(b, &x[0]);
        let mut out = vec![b.and_bit_word(pos, &x[0])];
        if let Some(at) = derivative_at {
            out.push(bit_word(b, pos, at, width));
        }
        out
    })
}

/// `2^at` where `x < 0` (`negative`) or `x >= 0` (not `negative`), else 0.
pub(crate) fn sign(width: usize, at: u32, negative: bool) -> Result<Gadget, Error> {
    Gadget::new(width, 1, 1, |b, x| {
        let neg = b.msb(&x[0]);
        let bit = if negative { neg } else { b.not(neg) };
        vec![bit_word(b, bit, at, width)]
    })
}

/// `2^at` where `x == 0`, else 0.
pub(crate) fn is_zero(width: usize, at: u32) -> Result<Gadget, Error> {
    Gadget::new(width, 1, 1, |b, x| {
        let zero = b.constant_word(0, width);
        let bit = b.eq(&x[0], &zero);
        vec![bit_word(b, bit, at, width)]
    })
}

/// SecureML's piecewise sigmoid with `f` fractional bits: 0 below -1/2, `x + 1/2` up to 1/2, then 1.
/// The comparisons read `x`, so no value wraps around.
pub(crate) fn sigmoid_piecewise(width: usize, f: u32) -> Result<Gadget, Error> {
    let mask = if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    let one = 1u128 << f;
    let half = one >> 1;
    Gadget::new(width, 1, 1, |b, x| {
        let x = &x[0];
        let one = b.constant_word(one, width);
        let half_w = b.constant_word(half, width);
        let minus_half = b.constant_word(half.wrapping_neg() & mask, width);
        let below = b.lt_signed(x, &minus_half);
        let above = b.lt_signed(&half_w, x);
        let mid = b.add(x, &half_w);
        let capped = b.mux(above, &mid, &one);
        let keep = b.not(below);
        vec![b.and_bit_word(keep, &capped)]
    })
}

/// The slope and intercept (encoded words `a`, `c`, one more than the breakpoints `t`) of the
/// segment holding `x`.
pub(crate) fn piecewise_linear(
    width: usize,
    t: &[u128],
    a: &[u128],
    c: &[u128],
) -> Result<Gadget, Error> {
    Gadget::new(width, 1, 2, |b, x| {
        let x = &x[0];
        // at_least[i]: x >= t_i; over increasing i a thermometer code.
        let at_least: Vec<Wire> = t
            .iter()
            .map(|&ti| {
                let tw = b.constant_word(ti, width);
                let lt = b.lt_signed(x, &tw);
                b.not(lt)
            })
            .collect();
        // One-hot segment bits are free XORs of neighbours. Exactly one is set, so the XOR of
        // the set segments' constants selects the segment's slope and intercept, for free.
        let mut seg = Vec::with_capacity(t.len() + 1);
        let mut prev = b.constant(true);
        for &g in &at_least {
            seg.push(b.xor(prev, g));
            prev = g;
        }
        seg.push(prev);
        let mut select = |consts: &[u128]| -> Vec<Wire> {
            (0..width)
                .map(|j| {
                    let mut acc = b.constant(false);
                    for (&s, &k) in seg.iter().zip(consts) {
                        if j < 128 && (k >> j) & 1 == 1 {
                            acc = b.xor(acc, s);
                        }
                    }
                    acc
                })
                .collect()
        };
        let slope = select(a);
        let intercept = select(c);
        vec![slope, intercept]
    })
}

/// `x >> bits`, arithmetic: `floor(x / 2^bits)`.
pub(crate) fn shift(width: usize, bits: u32) -> Result<Gadget, Error> {
    Gadget::new(width, 1, 1, |b, x| vec![b.sar(&x[0], bits as usize)])
}

/// One tournament step on a pair's differences: `relu(d)` for `d = a - b`, and with
/// `with_index` also `(d >= 0) * e` for the index difference `e`.
pub(crate) fn max_step(width: usize, with_index: bool) -> Result<Gadget, Error> {
    let words = 1 + usize::from(with_index);
    Gadget::new(width, words, words, |b, v| {
        let pos = non_negative(b, &v[0]);
        v.iter().map(|w| b.and_bit_word(pos, w)).collect()
    })
}

/// `floor(a 2^f / s)` for words with `0 <= a <= s < 2^(width-1)` and `s > 0`: restoring long
/// division for the f + 1 quotient bits only (the quotient is at most `2^f`), `2 width` ANDs
/// per bit.
fn divide_fraction(b: &mut Builder, a: &[Wire], s: &[Wire], f: u32) -> Vec<Wire> {
    let width = a.len();
    let zero = b.constant(false);
    let mut q = vec![zero; width];
    let mut r = a.to_vec();
    for j in (0..=f as usize).rev() {
        if j < f as usize {
            // r < s < 2^(width-1), so 2r does not overflow.
            r = b.shl(&r, 1);
        }
        let (diff, ge) = b.sub_with_ge(&r, s);
        if j < width {
            q[j] = ge;
        }
        r = b.mux(ge, &r, &diff);
    }
    q
}

/// SecureML's softmax replacement on one row of `classes` words: `relu(u_i) / sum_j relu(u_j)`
/// with `f` fractional bits (floor), and `1 / classes` everywhere when every `u_i <= 0`.
pub(crate) fn relu_softmax(width: usize, f: u32, classes: usize) -> Result<Gadget, Error> {
    Gadget::new(width, classes, classes, |b, u| {
        let r: Vec<Vec<Wire>> = u
            .iter()
            .map(|x| {
                let pos = non_negative(b, x);
                b.and_bit_word(pos, x)
            })
            .collect();
        let mut sum = b.constant_word(0, width);
        for x in &r {
            sum = b.add(&sum, x);
        }
        let zero = b.constant_word(0, width);
        let empty = b.eq(&sum, &zero);
        let uniform = b.constant_word((1u128 << f) / classes.max(1) as u128, width);
        r.iter()
            .map(|x| {
                let q = divide_fraction(b, x, &sum, f);
                b.mux(empty, &q, &uniform)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u32 = 16;

    fn edges() -> Vec<u128> {
        let mut v = vec![
            0u64,
            1,
            u64::MAX,
            1 << 15,
            (1 << 15) + 1,
            (1 << 15) - 1,
            1 << 16,
        ];
        v.extend([
            i64::MAX as u64,
            i64::MIN as u64,
            (1u64 << 15).wrapping_neg(),
        ]);
        v.push(((1u64 << 15) + 1).wrapping_neg());
        v.into_iter().map(u128::from).collect()
    }

    fn s(v: u128) -> i64 {
        v as u64 as i64
    }

    /// The AND counts the module docs quote, over Z_2^64.
    #[test]
    fn and_counts() {
        let fp = crate::FixedPoint::new(F).unwrap();
        let sig = super::super::PiecewiseLinear::sigmoid();
        let enc = |v: &[f64]| -> Vec<u128> {
            v.iter()
                .map(|&c| fp.encode::<u64>(c).unwrap() as u128)
                .collect()
        };
        let (t, a, c) = (
            enc(&sig.breakpoints),
            enc(&sig.slopes),
            enc(&sig.intercepts),
        );
        let g = piecewise_linear(64, &t, &a, &c).unwrap();
        assert_eq!(g.and_count(), 1_695);
        assert_eq!(relu(64, None).unwrap().and_count(), 190);
        assert_eq!(relu(64, Some(F)).unwrap().and_count(), 237);
        assert_eq!(sign(64, F, false).unwrap().and_count(), 110);
        assert_eq!(shift(64, F).unwrap().and_count(), 126);
        assert_eq!(sigmoid_piecewise(64, F).unwrap().and_count(), 412);
        assert_eq!(max_step(64, false).unwrap().and_count(), 190);
        assert_eq!(max_step(64, true).unwrap().and_count(), 380);
    }

    #[test]
    fn relu_softmax_matches_integer_division() {
        let g = relu_softmax(64, F, 3).unwrap();
        let cases: [[i64; 3]; 5] = [
            [1 << 16, 1 << 16, 2 << 16],
            [-5, 0, -7],
            [3 << 16, -(1 << 20), 1],
            [12345, 67890, 1 << 30],
            [1, 0, 0],
        ];
        for u in cases {
            let r: Vec<i128> = u.iter().map(|&v| i128::from(v.max(0))).collect();
            let s: i128 = r.iter().sum();
            let want: Vec<u128> = r
                .iter()
                .map(|&v| {
                    if s == 0 {
                        (1u128 << F) / 3
                    } else {
                        ((v << F) / s) as u128
                    }
                })
                .collect();
            let words: Vec<u128> = u.iter().map(|&v| v as u64 as u128).collect();
            assert_eq!(g.eval_plain(&words), want, "{u:?}");
        }
    }

    #[test]
    fn circuits_match_plaintext_on_edges() {
        let one = 1u128 << F;
        for x in edges() {
            let xs = s(x);
            let relu_want = if xs < 0 { 0 } else { x };
            let d = if xs < 0 { 0 } else { one };
            assert_eq!(relu(64, Some(F)).unwrap().eval_plain(&[x]), [relu_want, d]);
            assert_eq!(sign(64, F, true).unwrap().eval_plain(&[x]), [one - d]);
            let sh = (xs >> 5) as u64 as u128;
            assert_eq!(shift(64, 5).unwrap().eval_plain(&[x]), [sh]);
            let h = 1i64 << 15;
            let sp = if xs < -h {
                0
            } else if xs > h {
                one
            } else {
                (xs + h) as u128
            };
            assert_eq!(
                sigmoid_piecewise(64, F).unwrap().eval_plain(&[x]),
                [sp],
                "{xs}"
            );
        }
    }
}
