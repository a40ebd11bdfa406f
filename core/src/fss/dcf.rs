//! Distributed comparison functions: two keys whose evaluations at any public `x` are additive
//! shares of `beta * [x < alpha]`, for a secret `n`-bit threshold `alpha` and a secret payload
//! `beta` of `width` ring elements.
//!
//! The construction is the DCF of Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar and Rathee
//! (Eurocrypt 2021, section 3): a binary tree over the bits of `x`, most significant first. Each
//! party walks the path of `x` from its root seed, expanding a node's seed with a PRG into two child
//! seeds, their control bits and a value share for each child. Off the path of `alpha` the two
//! parties' seeds agree, so their value shares cancel; one correction word per level, common to
//! both keys, keeps them agreeing and adds `beta` where `x` leaves the path of `alpha` to the left
//! (where `x < alpha` is decided).
//!
//! ## PRG and encoding
//! The PRG is fixed-key AES in Matyas–Meyer–Oseas form, block `j` of `G(s)` being
//! `pi(s ^ j) ^ s ^ j`: block 0 gives the left child's seed, block 1 the right child's, the next
//! `v` blocks the left child's value share and the `v` after them the right child's (`v` blocks
//! hold `width` ring elements); the final output converts the last seed by `v` more blocks. A
//! child's control bit is bit 0 of its seed block; seeds keep 126 bits (the two low bits are
//! cleared), so a level's correction word is one block — the seed correction with the left and
//! right control-bit corrections in its two low bits — and `width` ring elements. An evaluation
//! costs `1 + v` AES blocks per level (one child's seed and values, never both) plus `v` at the
//! end; evaluations run in batches so that the AES pipeline stays full.
//!
//! ## Key sizes
//! Per key: the root seed (derived from the dealer's seed for the party, never sent) and, sent to
//! both parties, `n` correction words of `16 + width * k/8` bytes plus `width` final elements:
//! 2,032 bytes for a 63-bit comparison with two 64-bit payload elements.

// Keys and points are processed in lockstep over parallel arrays (seeds, control bits, values),
// indexed by key or point and by party: index loops say that more plainly than zipped iterators.
#![allow(clippy::needless_range_loop)]

use crate::hash::{Block, FixedKeyAes};
use crate::ring::Ring;
use alloc::vec;
use alloc::vec::Vec;
use zeroize::Zeroize;

/// Clears the two low bits of a seed: bit 0 carries a control bit in expanded blocks, bits 0 and
/// 1 carry the control-bit corrections in correction words.
const SEED_BITS: u128 = !3;

/// Points evaluated together: `POINTS * (1 + v)` blocks per AES batch.
const POINTS: usize = 64;

/// Keys per group of the correction words' layout (see [`slot`]): a batch of keys sent or
/// stored separately must hold a multiple of it, except the last batch.
pub(crate) const GROUP: usize = POINTS;

/// Keys generated together (a divisor of [`POINTS`]).
const KEYS: usize = 16;

/// Points per key from which [`DcfKeys::evaluate_grouped`] walks each key's tree once.
const GROUPED_FROM: usize = 8;

/// Where level `level` of key `key` sits in the correction words of `count` keys: keys in
/// groups of [`POINTS`], each group stored level by level, so that evaluating a group's points
/// (the common case: one point per key) streams through memory instead of jumping between keys.
#[inline(always)]
fn slot(count: usize, bits: usize, key: usize, level: usize) -> usize {
    let group = key / POINTS * POINTS;
    let len = POINTS.min(count - group);
    group * bits + level * len + (key - group)
}

/// Blocks holding `width` elements of `R`.
fn value_blocks<R: Ring>(width: usize) -> usize {
    (width * R::BITS as usize).div_ceil(128).max(1)
}

/// Adds the `width` elements encoded in `blocks` (little-endian, packed) to `acc`.
#[inline(always)]
fn add_converted<R: Ring>(blocks: &[Block], acc: &mut [R]) {
    let k = R::BITS as usize;
    for (j, a) in acc.iter_mut().enumerate() {
        let bit = j * k;
        let v = blocks[bit / 128] >> (bit % 128);
        *a = a.add(R::from_i128(v as i128));
    }
}

/// Block `j` of the PRG input for child `side` of a node with seed `s`: its seed block (`j = 0`,
/// tweak `side`), then its `lv` value blocks (tweaks `2 + side * lv ..`).
#[inline(always)]
fn child_block(s: Block, side: usize, lv: usize, j: usize) -> Block {
    if j == 0 {
        s ^ side as u128
    } else {
        s ^ (2 + side * lv + j - 1) as u128
    }
}

/// Block `j` of the PRG input that converts a leaf's seed `s` into `vb` blocks of output.
#[inline(always)]
fn leaf_block(s: Block, vb: usize, j: usize) -> Block {
    s ^ (2 + 2 * vb + j) as u128
}

/// The function a batch of keys shares: `beta [x < alpha]` (a distributed comparison function)
/// or `beta [x == alpha]` (the distributed point function it generalizes: the same tree without
/// value corrections on the levels, and `beta` added at the leaf of `alpha`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// `beta [x < alpha]`.
    LessThan,
    /// `beta [x == alpha]`.
    Equal,
}

impl Function {
    /// Value blocks per level: none for a point function.
    fn level_blocks<R: Ring>(self, width: usize) -> usize {
        match self {
            Function::LessThan => value_blocks::<R>(width),
            Function::Equal => 0,
        }
    }
}

/// The correction words of a batch of keys, common to both parties' keys. Both parties see them,
/// and without a root seed they are pseudorandom, so they are not zeroized (the roots are).
pub struct CorrectionWords<R: Ring> {
    /// Per key and level: the seed correction, with the left (bit 0) and right (bit 1)
    /// control-bit corrections in the low bits.
    pub(crate) seeds: Vec<Block>,
    /// Per key and level: `width` value corrections.
    pub(crate) values: Vec<R>,
    /// Per key: `width` corrections of the final output.
    pub(crate) last: Vec<R>,
}

impl<R: Ring> CorrectionWords<R> {
    /// Correction words of `count` keys for `function` as zeros, to be received into.
    pub(crate) fn zeros(function: Function, count: usize, bits: u32, width: usize) -> Self {
        let levels = count * bits as usize;
        let per_level = match function {
            Function::LessThan => width,
            Function::Equal => 0,
        };
        CorrectionWords {
            seeds: vec![0; levels],
            values: vec![R::ZERO; levels * per_level],
            last: vec![R::ZERO; count * width],
        }
    }
}

/// One party's keys for a batch of DCFs of the same input length and payload width.
pub struct DcfKeys<R: Ring> {
    function: Function,
    bits: u32,
    width: usize,
    party: u8,
    roots: Vec<Block>,
    cw: CorrectionWords<R>,
}

impl<R: Ring> Drop for DcfKeys<R> {
    fn drop(&mut self) {
        self.roots.zeroize();
    }
}

impl<R: Ring> DcfKeys<R> {
    /// Party `party`'s keys from its root seeds and the correction words of the same keys.
    pub(crate) fn new(
        function: Function,
        bits: u32,
        width: usize,
        party: u8,
        mut roots: Vec<Block>,
        cw: CorrectionWords<R>,
    ) -> Self {
        for r in roots.iter_mut() {
            *r &= SEED_BITS;
        }
        DcfKeys {
            function,
            bits,
            width,
            party,
            roots,
            cw,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Input length in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Ring elements per output.
    pub fn width(&self) -> usize {
        self.width
    }

    /// One step from a node with control bit `t` down to its child `side` at correction-word
    /// slot `at`, given the child's expanded blocks `blk` (seed, then value blocks): adds the
    /// child's value share and, under `t`, the level's value correction to `acc`; returns the
    /// child's seed and control bit. Branch-free in `t`.
    /// `w` and `lv` are the width and the value blocks per level (`lv = blk.len() - 1`), given
    /// so that a caller passing constants gets code specialized to them.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn descend(
        &self,
        at: usize,
        side: u32,
        t: u8,
        blk: &[Block],
        acc: &mut [R],
        w: usize,
        lv: usize,
    ) -> (Block, u8) {
        let cw = self.cw.seeds[at] & 0u128.wrapping_sub(u128::from(t));
        if lv > 0 {
            add_converted(&blk[1..=lv], &mut acc[..w]);
            let tr = R::from_u64(u64::from(t));
            for (a, c) in acc[..w]
                .iter_mut()
                .zip(&self.cw.values[at * w..(at + 1) * w])
            {
                *a = a.add(c.mul(tr));
            }
        }
        (
            (blk[0] ^ cw) & SEED_BITS,
            ((blk[0] as u64 ^ ((cw as u64) >> side)) & 1) as u8,
        )
    }

    /// Key `key`'s leaf with control bit `t`: adds the converted last seed `blk`, the last
    /// correction under `t`, and applies this party's sign, to `acc`.
    #[inline(always)]
    fn finish(&self, key: usize, t: u8, blk: &[Block], acc: &mut [R]) {
        let w = self.width;
        add_converted(blk, acc);
        let tr = R::from_u64(u64::from(t));
        for (a, c) in acc.iter_mut().zip(&self.cw.last[key * w..(key + 1) * w]) {
            *a = a.add(c.mul(tr));
            if self.party == 1 {
                *a = a.neg();
            }
        }
    }

    /// Evaluates key `key_of(p)` at `points[p]` (its low `bits` bits) for every `p`, writing this
    /// party's `width` output shares for point `p` to `out[p * width..]`.
    pub fn evaluate(
        &self,
        aes: &FixedKeyAes,
        points: &[u128],
        key_of: impl Fn(usize) -> usize,
        out: &mut [R],
    ) {
        let (w, lv) = (self.width, self.function.level_blocks::<R>(self.width));
        // The common shapes with constant widths, so that each gets its own unrolled code.
        match (lv, w) {
            (1, 1) => self.evaluate_shaped(aes, points, &key_of, out, 1, 1),
            (1, 2) => self.evaluate_shaped(aes, points, &key_of, out, 1, 2),
            (0, 1) => self.evaluate_shaped(aes, points, &key_of, out, 0, 1),
            _ => self.evaluate_shaped(aes, points, &key_of, out, lv, w),
        }
    }

    /// [`DcfKeys::evaluate`] for `lv` value blocks per level and width `w`.
    #[inline(always)]
    fn evaluate_shaped(
        &self,
        aes: &FixedKeyAes,
        points: &[u128],
        key_of: &impl Fn(usize) -> usize,
        out: &mut [R],
        lv: usize,
        w: usize,
    ) {
        let bits = self.bits as usize;
        let count = self.roots.len();
        let vb = value_blocks::<R>(w);
        let per = 1 + lv;
        let mut blocks = vec![0u128; POINTS * per.max(vb)];
        let mut s = [0u128; POINTS];
        let mut t = [0u8; POINTS];
        // Each point's bit at the current level (points of at most 64 bits shift as `u64`).
        let mut sides = [0u8; POINTS];
        for (chunk, (pts, outs)) in points
            .chunks(POINTS)
            .zip(out.chunks_mut(POINTS * w))
            .enumerate()
        {
            let base = chunk * POINTS;
            let n = pts.len();
            outs.fill(R::ZERO);
            for p in 0..n {
                s[p] = self.roots[key_of(base + p)];
                t[p] = self.party;
            }
            for level in 0..bits {
                let shift = bits - 1 - level;
                for p in 0..n {
                    sides[p] = if bits <= 64 {
                        ((pts[p] as u64) >> shift) as u8 & 1
                    } else {
                        (pts[p] >> shift) as u8 & 1
                    };
                }
                for (p, blk) in blocks.chunks_exact_mut(per).take(n).enumerate() {
                    let side = usize::from(sides[p]);
                    for (j, b) in blk.iter_mut().enumerate() {
                        *b = child_block(s[p], side, lv, j);
                    }
                }
                aes.mmo_in_place(&mut blocks[..n * per]);
                // Branch-free in the control bit t: corrections apply under a mask of t.
                for (p, (blk, acc)) in blocks
                    .chunks_exact(per)
                    .zip(outs.chunks_exact_mut(w))
                    .take(n)
                    .enumerate()
                {
                    let side = u32::from(sides[p]);
                    let at = slot(count, bits, key_of(base + p), level);
                    (s[p], t[p]) = self.descend(at, side, t[p], blk, acc, w, lv);
                }
            }
            // The final output: the last seed converted, plus the last correction if t = 1.
            for p in 0..n {
                for j in 0..vb {
                    blocks[p * vb + j] = leaf_block(s[p], vb, j);
                }
            }
            aes.mmo_in_place(&mut blocks[..n * vb]);
            for p in 0..n {
                let blk = &blocks[p * vb..(p + 1) * vb];
                self.finish(key_of(base + p), t[p], blk, &mut outs[p * w..(p + 1) * w]);
            }
        }
        s.zeroize();
        blocks.zeroize();
    }

    /// Evaluates key `k` at each of `points[k * per..(k + 1) * per]` for every key `k` (`per`
    /// points per key), writing this party's `width` output shares for point `p` to
    /// `out[p * width..]`: the same results as [`DcfKeys::evaluate`], but points of one key that
    /// share their leading bits walk that part of the tree once. Splines evaluate one key at a
    /// breakpoint-shifted copy of `x^` per breakpoint; when the breakpoints are close together
    /// those copies differ only in their low bits. Below [`GROUPED_FROM`] points per key it
    /// evaluates key by key, which is faster there.
    pub fn evaluate_grouped(&self, aes: &FixedKeyAes, points: &[u128], per: usize, out: &mut [R]) {
        match per {
            0 => return,
            // With few points per key the walk's bookkeeping costs more than the AES calls it
            // saves: key by key takes 0.6x the walk's time at 2 or 3 points per key, the same at
            // 8 and 1.26x at 34 (64-bit keys, points spread like a spline's breakpoints).
            1..GROUPED_FROM => return self.evaluate(aes, points, |p| p / per, out),
            _ => {}
        }
        let (w, bits) = (self.width, self.bits as usize);
        let count = self.roots.len();
        let vb = value_blocks::<R>(w);
        let lv = self.function.level_blocks::<R>(w);
        let per_child = 1 + lv;
        let low = |v: u128| {
            if bits >= 128 {
                v
            } else {
                v & ((1u128 << bits) - 1)
            }
        };
        // Nodes of the walk: (key, seed, control bit, range of the key's sorted points), and
        // their accumulated outputs (`w` per node).
        let mut nodes: Vec<(usize, u128, u8, usize, usize)> = Vec::new();
        let mut next: Vec<(usize, u128, u8, usize, usize)> = Vec::new();
        let mut acc: Vec<R> = Vec::new();
        let mut next_acc: Vec<R> = Vec::new();
        let mut blocks: Vec<u128> = Vec::new();
        // Each key's points (value, index), sorted by value.
        let mut order: Vec<(u128, usize)> = Vec::with_capacity(KEYS * per);
        for first in (0..count).step_by(KEYS) {
            let keys = first..count.min(first + KEYS);
            // Each key's points, sorted, so that a node's points with a given next bit are
            // contiguous.
            order.clear();
            nodes.clear();
            acc.clear();
            for k in keys.clone() {
                let start = order.len();
                order.extend((k * per..(k + 1) * per).map(|p| (low(points[p]), p)));
                order[start..].sort_unstable_by_key(|&(v, _)| v);
                nodes.push((k, self.roots[k], self.party, start, order.len()));
                acc.extend(core::iter::repeat_n(R::ZERO, w));
            }
            for level in 0..bits {
                let shift = bits - 1 - level;
                let bit = |v: u128| (v >> shift) as usize & 1;
                // The children each node needs, and their PRG blocks.
                next.clear();
                blocks.clear();
                for &(k, s, t, lo, hi) in &nodes {
                    let mid = lo + order[lo..hi].partition_point(|&(v, _)| bit(v) == 0);
                    for (side, a, b) in [(0, lo, mid), (1, mid, hi)] {
                        if a < b {
                            next.push((k, s, t, a, b));
                            blocks.extend((0..per_child).map(|j| child_block(s, side, lv, j)));
                        }
                    }
                }
                aes.mmo_in_place(&mut blocks);
                next_acc.clear();
                let mut parent = 0;
                for (c, node) in next.iter_mut().enumerate() {
                    let (k, _, t, lo, _) = *node;
                    // Children come in order of their parents.
                    while !(nodes[parent].0 == k && nodes[parent].3 <= lo && lo < nodes[parent].4) {
                        parent += 1;
                    }
                    let side = bit(order[lo].0) as u32;
                    let blk = &blocks[c * per_child..(c + 1) * per_child];
                    let at = slot(count, bits, k, level);
                    let start = next_acc.len();
                    next_acc.extend_from_slice(&acc[parent * w..(parent + 1) * w]);
                    (node.1, node.2) =
                        self.descend(at, side, t, blk, &mut next_acc[start..], w, lv);
                }
                core::mem::swap(&mut nodes, &mut next);
                core::mem::swap(&mut acc, &mut next_acc);
            }
            // The leaves: the last seed converted, the last correction, this party's sign.
            blocks.clear();
            for &(_, s, ..) in &nodes {
                blocks.extend((0..vb).map(|j| leaf_block(s, vb, j)));
            }
            aes.mmo_in_place(&mut blocks);
            for (n, &(k, _, t, lo, hi)) in nodes.iter().enumerate() {
                let leaf = &mut acc[n * w..(n + 1) * w];
                self.finish(k, t, &blocks[n * vb..(n + 1) * vb], leaf);
                for &(_, p) in &order[lo..hi] {
                    out[p * w..(p + 1) * w].copy_from_slice(leaf);
                }
            }
        }
        for node in nodes.iter_mut().chain(next.iter_mut()) {
            node.1 = 0;
        }
        acc.zeroize();
        next_acc.zeroize();
        blocks.zeroize();
        order.iter_mut().for_each(|o| o.0 = 0);
    }
}

/// Generates the correction words of keys for `beta[key * width..] * [x < alpha[key]]` (or
/// `== alpha[key]`, by `function`) over `bits`-bit inputs, from each party's root seeds
/// (`roots[b][key]`).
pub(crate) fn generate<R: Ring>(
    aes: &FixedKeyAes,
    function: Function,
    bits: u32,
    width: usize,
    alpha: &[u128],
    beta: &[R],
    roots: [&[Block]; 2],
) -> CorrectionWords<R> {
    let bits_us = bits as usize;
    let count = alpha.len();
    let mut out = CorrectionWords::zeros(function, count, bits, width);
    out.last.clear();
    let vb = value_blocks::<R>(width);
    let lv = function.level_blocks::<R>(width);
    let per = 2 + 2 * lv;
    let mut blocks = vec![0u128; 2 * KEYS * per.max(vb)];
    let mut values = vec![R::ZERO; 4 * width];
    let mut v_alpha = vec![R::ZERO; KEYS * width];
    for (chunk, alphas) in alpha.chunks(KEYS).enumerate() {
        let n = alphas.len();
        let base = chunk * KEYS;
        let mut s = [[0u128; KEYS]; 2];
        let mut t = [[0u8; KEYS]; 2];
        for k in 0..n {
            for b in 0..2 {
                s[b][k] = roots[b][base + k] & SEED_BITS;
                t[b][k] = b as u8;
            }
        }
        v_alpha[..n * width].fill(R::ZERO);
        for level in 0..bits_us {
            let shift = bits_us - 1 - level;
            for k in 0..n {
                for b in 0..2 {
                    let at = (k * 2 + b) * per;
                    for j in 0..per {
                        blocks[at + j] = s[b][k] ^ j as u128;
                    }
                }
            }
            aes.mmo_in_place(&mut blocks[..2 * n * per]);
            for k in 0..n {
                let a = (alphas[k] >> shift) as usize & 1;
                let (keep, lose) = (a, 1 - a);
                let node = |b: usize| &blocks[(k * 2 + b) * per..(k * 2 + b + 1) * per];
                // values[(b * 2 + side) * width..]: party b's value share of child `side`.
                let t1 = t[1][k];
                let at = slot(count, bits_us, base + k, level);
                if lv > 0 {
                    values.fill(R::ZERO);
                    for b in 0..2 {
                        for side in 0..2 {
                            let v = &node(b)[2 + side * lv..2 + (side + 1) * lv];
                            add_converted(v, &mut values[(b * 2 + side) * width..][..width]);
                        }
                    }
                    let val = |b: usize, side: usize, j: usize| values[(b * 2 + side) * width + j];
                    // (-1)^t1, without a branch on the control bit.
                    let sign_t1 = R::ONE.sub(R::from_u64(2 * u64::from(t1)));
                    let sign = |v: R| v.mul(sign_t1);
                    let va = &mut v_alpha[k * width..(k + 1) * width];
                    for j in 0..width {
                        let mut cw = val(1, lose, j).sub(val(0, lose, j)).sub(va[j]);
                        if lose == 0 {
                            cw = cw.add(beta[(base + k) * width + j]);
                        }
                        let cw = sign(cw);
                        out.values[at * width + j] = cw;
                        va[j] = va[j]
                            .sub(val(1, keep, j))
                            .add(val(0, keep, j))
                            .add(sign(cw));
                    }
                }
                let seed = |b: usize, side: usize| node(b)[side] & SEED_BITS;
                let ctl = |b: usize, side: usize| (node(b)[side] & 1) as u8;
                let s_cw = seed(0, lose) ^ seed(1, lose);
                let t_cw = [
                    ctl(0, 0) ^ ctl(1, 0) ^ a as u8 ^ 1,
                    ctl(0, 1) ^ ctl(1, 1) ^ a as u8,
                ];
                out.seeds[at] = s_cw | u128::from(t_cw[0]) | u128::from(t_cw[1]) << 1;
                for b in 0..2 {
                    let tb = t[b][k];
                    s[b][k] = seed(b, keep) ^ (s_cw & 0u128.wrapping_sub(u128::from(tb)));
                    t[b][k] = ctl(b, keep) ^ (tb & t_cw[keep]);
                }
            }
        }
        // The final correction: on alpha's path, cancels the converted last seeds and V_alpha
        // (and adds beta, for a point function).
        for k in 0..n {
            for b in 0..2 {
                for j in 0..vb {
                    blocks[(k * 2 + b) * vb + j] = leaf_block(s[b][k], vb, j);
                }
            }
        }
        aes.mmo_in_place(&mut blocks[..2 * n * vb]);
        for k in 0..n {
            values.fill(R::ZERO);
            for b in 0..2 {
                let at = (k * 2 + b) * vb;
                add_converted(
                    &blocks[at..at + vb],
                    &mut values[b * width..(b + 1) * width],
                );
            }
            for j in 0..width {
                // A point function adds beta at alpha's leaf; a comparison adds nothing there.
                let target = match function {
                    Function::LessThan => R::ZERO,
                    Function::Equal => beta[(base + k) * width + j],
                };
                let cw = values[width + j]
                    .sub(values[j])
                    .sub(v_alpha[k * width + j])
                    .add(target);
                let sign_t1 = R::ONE.sub(R::from_u64(2 * u64::from(t[1][k])));
                out.last.push(cw.mul(sign_t1));
            }
        }
        s.zeroize();
    }
    blocks.zeroize();
    values.zeroize();
    v_alpha.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prg::{Domain, Seed};
    use crate::ring::fill_random;

    fn keys<R: Ring>(
        function: Function,
        bits: u32,
        width: usize,
        alpha: &[u128],
        beta: &[R],
        seed: u8,
    ) -> [DcfKeys<R>; 2] {
        let aes = FixedKeyAes::new();
        let n = alpha.len();
        let mut g = Seed::from_bytes([seed; 32]).prg(Domain::user(1), 0);
        let mut roots = [vec![0u128; n], vec![0u128; n]];
        fill_random(&mut g, &mut roots[0]);
        fill_random(&mut g, &mut roots[1]);
        let cw = generate(
            &aes,
            function,
            bits,
            width,
            alpha,
            beta,
            [&roots[0], &roots[1]],
        );
        let copy = CorrectionWords {
            seeds: cw.seeds.clone(),
            values: cw.values.clone(),
            last: cw.last.clone(),
        };
        let [r0, r1] = roots;
        [
            DcfKeys::new(function, bits, width, 0, r0, cw),
            DcfKeys::new(function, bits, width, 1, r1, copy),
        ]
    }

    /// Reconstructs every key's output at every point `points[p]` for key `p % keys`.
    fn reconstruct<R: Ring>(k: &[DcfKeys<R>; 2], points: &[u128]) -> Vec<R> {
        let aes = FixedKeyAes::new();
        let w = k[0].width();
        let count = k[0].len();
        let mut o0 = vec![R::ZERO; points.len() * w];
        let mut o1 = vec![R::ZERO; points.len() * w];
        k[0].evaluate(&aes, points, |p| p % count, &mut o0);
        k[1].evaluate(&aes, points, |p| p % count, &mut o1);
        o0.iter().zip(&o1).map(|(a, b)| a.add(*b)).collect()
    }

    #[test]
    fn exhaustive_for_small_inputs() {
        for function in [Function::LessThan, Function::Equal] {
            for bits in 1..=10u32 {
                let all = 1u128 << bits;
                // Thresholds: both ends, the middle, and a few more.
                let alphas: Vec<u128> = [0, 1, all / 2, all - 1, (all * 2) / 3]
                    .iter()
                    .map(|a| a % all)
                    .collect();
                let beta: Vec<u64> = (0..alphas.len() * 2)
                    .map(|i| 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1))
                    .collect();
                let k = keys::<u64>(function, bits, 2, &alphas, &beta, bits as u8);
                for (key, &alpha) in alphas.iter().enumerate() {
                    let points: Vec<u128> = (0..all).collect();
                    let one = [0, 1].map(|b| {
                        let roots = vec![k[b].roots[key]];
                        DcfKeys::new(function, bits, 2, b as u8, roots, words(&k[b], key))
                    });
                    let got = reconstruct(&one, &points);
                    for x in 0..all {
                        let holds = match function {
                            Function::LessThan => x < alpha,
                            Function::Equal => x == alpha,
                        };
                        for j in 0..2 {
                            let want = if holds { beta[key * 2 + j] } else { 0 };
                            let at = x as usize * 2 + j;
                            assert_eq!(got[at], want, "{function:?} {bits} bits, {alpha} at {x}");
                        }
                    }
                }
            }
        }
    }

    fn words<R: Ring>(k: &DcfKeys<R>, key: usize) -> CorrectionWords<R> {
        let (b, w) = (k.bits as usize, k.width);
        let lw = k.cw.values.len() / (k.len() * b);
        let count = k.len();
        let at = |level| slot(count, b, key, level);
        CorrectionWords {
            seeds: (0..b).map(|l| k.cw.seeds[at(l)]).collect(),
            values: (0..b)
                .flat_map(|l| k.cw.values[at(l) * lw..(at(l) + 1) * lw].to_vec())
                .collect(),
            last: k.cw.last[key * w..(key + 1) * w].to_vec(),
        }
    }

    fn check_wide<R: Ring>(function: Function, bits: u32, width: usize) {
        let mask = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        let mut g = Seed::from_bytes([7; 32]).prg(Domain::user(2), bits as u64);
        let mut alphas = vec![0u128; 40];
        fill_random(&mut g, &mut alphas);
        alphas[0] = 0;
        alphas[1] = mask;
        alphas[2] = 1;
        alphas[3] = mask >> 1;
        for a in alphas.iter_mut() {
            *a &= mask;
        }
        let mut beta = vec![R::ZERO; alphas.len() * width];
        fill_random(&mut g, &mut beta);
        let k = keys::<R>(function, bits, width, &alphas, &beta, 3);
        // Points per key: 0, the maximum, alpha and its neighbours, and a random point.
        let mut points = Vec::new();
        for round in 0..6 {
            for &a in &alphas {
                let mut r = [0u128];
                fill_random(&mut g, &mut r);
                points.push(match round {
                    0 => 0,
                    1 => mask,
                    2 => a,
                    3 => a.wrapping_sub(1) & mask,
                    4 => a.wrapping_add(1) & mask,
                    _ => r[0] & mask,
                });
            }
        }
        let got = reconstruct(&k, &points);
        for (p, &x) in points.iter().enumerate() {
            let key = p % alphas.len();
            for j in 0..width {
                let holds = match function {
                    Function::LessThan => x < alphas[key],
                    Function::Equal => x == alphas[key],
                };
                let want = if holds {
                    beta[key * width + j]
                } else {
                    R::ZERO
                };
                assert_eq!(got[p * width + j], want, "bits {bits} key {key} x {x:#x}");
            }
        }
    }

    #[test]
    fn grouped_evaluation_equals_pointwise_evaluation() {
        let aes = FixedKeyAes::new();
        for function in [Function::LessThan, Function::Equal] {
            for (bits, width) in [(64u32, 2usize), (63, 1), (12, 2)] {
                let mask = (1u128 << bits) - 1;
                let mut g = Seed::from_bytes([9; 32]).prg(Domain::user(3), u64::from(bits));
                let n = 70;
                let mut alphas = vec![0u128; n];
                fill_random(&mut g, &mut alphas);
                alphas.iter_mut().for_each(|a| *a &= mask);
                let mut beta = vec![0u64; n * width];
                fill_random(&mut g, &mut beta);
                let k = keys::<u64>(function, bits, width, &alphas, &beta, 4);
                // Per key: a cluster around alpha (duplicates included), a far point, 0.
                let per = 9;
                let mut points = Vec::new();
                for &a in &alphas {
                    let mut r = [0u128];
                    fill_random(&mut g, &mut r);
                    for d in [0i128, 1, -1, 5, -300, 1 << 9, 0] {
                        points.push((a as i128 + d) as u128 & mask);
                    }
                    points.push(r[0] & mask);
                    points.push(0);
                }
                for party in 0..2 {
                    let mut one = vec![0u64; points.len() * width];
                    let mut grouped = vec![0u64; points.len() * width];
                    k[party].evaluate(&aes, &points, |p| p / per, &mut one);
                    k[party].evaluate_grouped(&aes, &points, per, &mut grouped);
                    assert_eq!(one, grouped, "{function:?}, {bits} bits, party {party}");
                }
            }
        }
    }

    #[test]
    fn wide_inputs_at_the_edges() {
        for f in [Function::LessThan, Function::Equal] {
            check_wide::<u64>(f, 63, 2);
            check_wide::<u64>(f, 64, 1);
            check_wide::<u32>(f, 31, 3);
            check_wide::<u32>(f, 32, 2);
            check_wide::<u128>(f, 127, 2);
            check_wide::<u128>(f, 128, 1);
            check_wide::<u64>(f, 16, 1);
        }
    }

    /// Chi-square statistic between the byte histograms of two equally long samples.
    fn chi_square(a: &[u8], b: &[u8]) -> f64 {
        let hist = |bytes: &[u8]| {
            let mut h = [0f64; 256];
            for &x in bytes {
                h[x as usize] += 1.0;
            }
            h
        };
        let (ha, hb) = (hist(a), hist(b));
        (0..256)
            .filter(|&i| ha[i] + hb[i] > 0.0)
            .map(|i| (ha[i] - hb[i]).powi(2) / (ha[i] + hb[i]))
            .sum()
    }

    /// A key holder sees its root seed and the correction words: for two different thresholds
    /// (and payloads) their bytes are distributed alike, while the thresholds' own bytes are told
    /// apart by the same test.
    #[test]
    fn keys_for_different_thresholds_look_alike() {
        let n = 2000;
        let view = |alpha: u128, beta: u64, seed: u8| -> Vec<u8> {
            let k = keys::<u64>(
                Function::LessThan,
                63,
                2,
                &vec![alpha; n],
                &vec![beta; 2 * n],
                seed,
            );
            let mut bytes = Vec::new();
            for key in [&k[0], &k[1]] {
                bytes.extend(key.roots.iter().flat_map(|r| r.to_le_bytes()));
            }
            // The control bits in the two low bits of each seed correction are uniform too.
            bytes.extend(k[0].cw.seeds.iter().flat_map(|r| r.to_le_bytes()));
            bytes.extend(k[0].cw.values.iter().flat_map(|r| r.to_le_bytes()));
            bytes.extend(k[0].cw.last.iter().flat_map(|r| r.to_le_bytes()));
            bytes
        };
        let a = view(0, 1, 11);
        let b = view((1 << 62) + 12345, u64::MAX - 7, 12);
        assert_eq!(a.len(), b.len());
        // The 0.1% critical value of chi-square with 255 degrees of freedom.
        let critical = 330.5;
        let stat = chi_square(&a, &b);
        assert!(
            stat < critical,
            "keys depend on the threshold: chi-square {stat}"
        );
        let raw =
            |v: u128| -> Vec<u8> { (0..a.len() / 16).flat_map(|_| v.to_le_bytes()).collect() };
        assert!(chi_square(&raw(0), &raw((1 << 62) + 12345)) > critical);
    }
}
