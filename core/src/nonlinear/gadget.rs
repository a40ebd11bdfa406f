//! Arithmetic shares in, arithmetic shares out, a garbled circuit in between.
//!
//! A [`Gadget`] wraps a function of `m` ring words that returns `p` ring words in the circuit both
//! parties run for every element:
//!
//! - P0 (the garbler) supplies its shares `x0_1..x0_m` and fresh random masks `m_1..m_p`;
//! - P1 (the evaluator) supplies its shares `x1_1..x1_m` (its labels come by random OT);
//! - the circuit adds the shares (`x_j = x0_j + x1_j mod 2^k`), applies the function and outputs
//!   `y_j + m_j`, which only P1 learns.
//!
//! P0's new share of `y_j` is `-m_j` and P1's is the output: a fresh, uniformly masked re-sharing
//! (the conversion of SecureML and MiniONN). One round trip for any number of elements: up to
//! [`LANE_ANDS`] AND gates' worth of elements share one circuit ([`Circuit::replicate`]), so
//! their gates of equal depth are hashed together, and the copies of that circuit run in one
//! [`crate::gc::execute_batch`].

use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::gc::{Builder, Circuit, Job, Reveal, Wire, execute_batch};
use crate::hash::FixedKeyAes;
use crate::prg::Domain;
use crate::ring::Ring;
use crate::role::Role;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;

/// AND gates per replicated circuit that the elements of one call share, at most (unless one
/// element needs more).
pub(crate) const LANE_ANDS: usize = 1 << 14;

/// A per-element circuit over ring words, masked for re-sharing (see the module docs).
pub(crate) struct Gadget {
    circuit: Circuit,
    owners: Vec<Role>,
    inputs: usize,
    outputs: usize,
    width: usize,
}

impl Gadget {
    /// Builds the circuit for words of `width` bits: `f` receives the `inputs` reconstructed words
    /// (least significant bit first) and must return `outputs` words of `width` bits.
    pub(crate) fn new(
        width: usize,
        inputs: usize,
        outputs: usize,
        f: impl FnOnce(&mut Builder, &[Vec<Wire>]) -> Vec<Vec<Wire>>,
    ) -> Result<Gadget, Error> {
        // Values: P0's shares, P0's masks, P1's shares.
        let values = 2 * inputs + outputs;
        let mut b = Builder::new(&vec![width; values]);
        let word = |b: &Builder, i: usize| b.input(i).unwrap_or_default();
        let mut xs = Vec::with_capacity(inputs);
        for j in 0..inputs {
            let (x0, x1) = (word(&b, j), word(&b, inputs + outputs + j));
            xs.push(b.add(&x0, &x1));
        }
        let ys = f(&mut b, &xs);
        if ys.len() != outputs || ys.iter().any(|y| y.len() != width) {
            return Err(Error::new(
                "gadget",
                ErrorKind::InvalidArgument("the function returned the wrong words"),
            ));
        }
        for (j, y) in ys.iter().enumerate() {
            // Adding (not subtracting) the mask lets constant low bits of `y` fold away.
            let m = word(&b, inputs + j);
            let masked = b.add(y, &m);
            b.output(&masked);
        }
        let mut owners = vec![Role::P0; inputs + outputs];
        owners.extend(core::iter::repeat_n(Role::P1, inputs));
        Ok(Gadget {
            circuit: b.finish()?,
            owners,
            inputs,
            outputs,
            width,
        })
    }

    /// AND gates per element.
    #[cfg(test)]
    pub(crate) fn and_count(&self) -> usize {
        self.circuit.and_count()
    }

    /// The plaintext function on one element's words (the reference for tests).
    #[cfg(test)]
    pub(crate) fn eval_plain(&self, words: &[u128]) -> Vec<u128> {
        let w = self.width;
        let mut bits = Vec::new();
        for v in words.iter().chain(&vec![0; self.outputs]) {
            bits.extend(crate::gc::to_bits(*v, w));
        }
        bits.extend(core::iter::repeat_n(false, w * self.inputs));
        let out = self.circuit.eval(&bits).unwrap_or_default();
        out.chunks(w).map(crate::gc::from_bits).collect()
    }
}

/// The low `width` bits of a ring element, least significant first, appended to `out`.
fn push_bits<R: Ring>(out: &mut Vec<bool>, v: R, width: usize) {
    let u = v.to_signed() as u128;
    out.extend((0..width).map(|i| (u >> i) & 1 == 1));
}

fn from_bits<R: Ring>(bits: &[bool]) -> R {
    R::from_i128(crate::gc::from_bits(bits) as i128)
}

/// Runs `g` on every element of the input share vectors (all of one length `n`) and returns this
/// party's shares of the `p` output vectors.
pub(crate) async fn run_gadget<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    op: &'static str,
    g: &Gadget,
    inputs: &[&[R]],
) -> Result<Vec<Vec<R>>, Error> {
    let n = inputs.first().map_or(0, |x| x.len());
    if inputs.len() != g.inputs || g.width != R::BITS as usize {
        return Err(Error::new(op, ErrorKind::InvalidArgument("gadget shape")));
    }
    if let Some(x) = inputs.iter().find(|x| x.len() != n) {
        return Err(Error::dimension(op, n, x.len()));
    }
    if n == 0 {
        return Ok(vec![Vec::new(); g.outputs]);
    }
    let (w, p) = (g.width, g.outputs);
    // Elements per circuit; the last circuit is padded with zero shares.
    let lanes = (LANE_ANDS / g.circuit.and_count().max(1)).clamp(1, n);
    let copies = n.div_ceil(lanes);
    let padded = copies * lanes;
    let circuit = g.circuit.replicate(lanes)?;
    let owners: Vec<Role> = g
        .owners
        .iter()
        .copied()
        .cycle()
        .take(lanes * g.owners.len())
        .collect();
    let role = ctx.role()?;
    let masks: Vec<R> = match role {
        Role::P0 => online::random_ring(ctx, padded * p),
        Role::P1 => Vec::new(),
    };
    let mut bits = Vec::with_capacity(padded * w * (g.inputs + p));
    for i in 0..padded {
        for x in inputs {
            push_bits(&mut bits, x.get(i).copied().unwrap_or(R::ZERO), w);
        }
        for &r in masks.iter().skip(i * p).take(p) {
            push_bits(&mut bits, r, w);
        }
    }
    let mut rng = ctx.fresh_prg(Domain::GARBLING);
    let job = Job {
        circuit: &circuit,
        owners: &owners,
        inputs: &bits,
        reveal: Reveal::Evaluator,
    };
    let hash = FixedKeyAes::new();
    let (links, source) = ctx.split();
    let out = execute_batch(role, links, source, &hash, &mut rng, job, copies)
        .await
        .map_err(|e| e.in_op(op))?;
    bits.fill(false);
    let mut result = vec![Vec::with_capacity(n); p];
    match role {
        Role::P0 => {
            for (i, &m) in masks.iter().take(n * p).enumerate() {
                result[i % p].push(m.neg());
            }
        }
        Role::P1 => {
            if out.len() != padded * p * w {
                return Err(Error::dimension(op, padded * p * w, out.len()));
            }
            for (i, word) in out.chunks_exact(w).take(n * p).enumerate() {
                result[i % p].push(from_bits(word));
            }
        }
    }
    Ok(result)
}
