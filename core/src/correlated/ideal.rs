//! [`IdealCorrelations`]: the ideal offline functionality, in process, for tests.
//!
//! Both parties hold the same `seed`; for request number `i` each expands the whole correlation
//! (both parties' shares) from `seed` and keeps its own share. No messages, no dealer thread —
//! and no security: either party can compute the other's share. Use it where a test or a
//! benchmark is about the online phase; the real sources are [`super::dealer`] and [`super::ot`].

use super::{
    Correlations, DataMask, MaskSide, MaskTriple, MatrixTriple, RandomOtReceiver, RandomOtSender,
    SquarePairs, Triples, TruncationPairs, batch_rows, check_truncation_shift,
};
use crate::arith::matmul::matmul;
use crate::error::{Error, ErrorKind};
use crate::fss::{Gate, GateKeys, KeyStreams, OwnPart, deal};
use crate::hash::FixedKeyAes;
use crate::prg::{Domain, Prg, Seed};
use crate::ring::{Ring, fill_random};
use crate::role::Role;
use crate::share::Shares;
use crate::topology::Links;
use alloc::vec;
use alloc::vec::Vec;

/// The seed domain of the ideal source's requests.
const IDEAL: Domain = Domain::user(0x1dea);

/// Largest number of elements one request may ask for (2^28).
const MAX_ELEMENTS: usize = 1 << 28;

/// The ideal correlation source of party `role` (see the module docs). Insecure: tests only.
pub struct IdealCorrelations {
    role: Role,
    seed: Seed,
    requests: u64,
}

impl IdealCorrelations {
    /// Party `role`'s source; both parties must pass the same `seed`.
    pub fn new(role: Role, seed: Seed) -> Self {
        IdealCorrelations {
            role,
            seed,
            requests: 0,
        }
    }

    /// The generator of the next request, after checking its size.
    fn next(&mut self, op: &'static str, elements: Option<usize>) -> Result<Prg, Error> {
        if elements.is_none_or(|n| n > MAX_ELEMENTS) {
            return Err(Error::new(
                op,
                ErrorKind::InvalidArgument("request too large"),
            ));
        }
        self.requests += 1;
        Ok(self.seed.prg(IDEAL, self.requests))
    }

    /// `n` random ring elements.
    fn vec<R: Ring>(g: &mut Prg, n: usize) -> Vec<R> {
        let mut v = vec![R::ZERO; n];
        fill_random(g, &mut v);
        v
    }

    /// Batch `b` of data mask `id` (`len` elements): the value of `U` and party 0's share.
    fn mask_batch<R: Ring>(&self, id: u64, b: usize, len: usize) -> (Vec<R>, Vec<R>) {
        let mut g = self.seed.derive(IDEAL, id).prg(IDEAL, b as u64);
        (Self::vec(&mut g, len), Self::vec(&mut g, len))
    }

    /// This party's share of `value`, given party 0's share `s0`.
    fn mine<R: Ring>(&self, value: &[R], s0: Vec<R>) -> Vec<R> {
        match self.role {
            Role::P0 => s0,
            Role::P1 => value.iter().zip(&s0).map(|(v, s)| v.sub(*s)).collect(),
        }
    }
}

impl<T> Correlations<T> for IdealCorrelations {
    async fn triples<R: Ring>(&mut self, _: &mut Links<T>, n: usize) -> Result<Triples<R>, Error> {
        let mut g = self.next("ideal.triples", Some(n))?;
        let (a, b) = (Self::vec::<R>(&mut g, n), Self::vec::<R>(&mut g, n));
        let c: Vec<R> = a.iter().zip(&b).map(|(x, y)| x.mul(*y)).collect();
        let (a0, b0, c0) = (
            Self::vec(&mut g, n),
            Self::vec(&mut g, n),
            Self::vec(&mut g, n),
        );
        Ok(Triples {
            a: self.mine(&a, a0),
            b: self.mine(&b, b0),
            c: self.mine(&c, c0),
        })
    }

    async fn square_pairs<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        n: usize,
    ) -> Result<SquarePairs<R>, Error> {
        let mut g = self.next("ideal.square_pairs", Some(n))?;
        let a = Self::vec::<R>(&mut g, n);
        let s: Vec<R> = a.iter().map(|x| x.mul(*x)).collect();
        let (a0, s0) = (Self::vec(&mut g, n), Self::vec(&mut g, n));
        Ok(SquarePairs {
            a: self.mine(&a, a0),
            s: self.mine(&s, s0),
        })
    }

    async fn matrix_triple<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<MatrixTriple<R>, Error> {
        let size = m
            .checked_mul(k)
            .zip(k.checked_mul(n))
            .zip(m.checked_mul(n))
            .and_then(|((a, b), c)| a.checked_add(b)?.checked_add(c));
        let mut g = self.next("ideal.matrix_triple", size)?;
        let (a, b) = (Self::vec::<R>(&mut g, m * k), Self::vec::<R>(&mut g, k * n));
        let c = matmul(&a, &b, m, k, n);
        let (a0, b0, c0) = (
            Self::vec(&mut g, m * k),
            Self::vec(&mut g, k * n),
            Self::vec(&mut g, m * n),
        );
        Ok(MatrixTriple {
            a: Shares::matrix(m, k, self.mine(&a, a0))?,
            b: Shares::matrix(k, n, self.mine(&b, b0))?,
            c: Shares::matrix(m, n, self.mine(&c, c0))?,
        })
    }

    async fn data_mask<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<DataMask<R>, Error> {
        super::check_mask("ideal.data_mask", rows, cols, batch)?;
        self.next("ideal.data_mask", rows.checked_mul(cols))?;
        let id = self.requests;
        let mut u = Vec::with_capacity(rows * cols);
        for b in 0..rows.div_ceil(batch) {
            let r = batch_rows(rows, batch, b).map_or(0, |r| r.len());
            let (value, s0) = self.mask_batch::<R>(id, b, r * cols);
            u.extend(self.mine(&value, s0));
        }
        DataMask::new(Shares::matrix(rows, cols, u)?, batch, id)
    }

    async fn mask_triple<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        mask: &DataMask<R>,
        batch: usize,
        side: MaskSide,
        n: usize,
    ) -> Result<MaskTriple<R>, Error> {
        let (m, k) = super::check_mask_triple("ideal.mask_triple", mask, batch, side, n)?;
        let mut g = self.next("ideal.mask_triple", m.checked_mul(n))?;
        let cols = mask.share().cols();
        let (r, _) = mask.factor_shape(batch, MaskSide::Rows)?;
        let (value, _) = self.mask_batch::<R>(mask.id(), batch, r * cols);
        let a = match side {
            MaskSide::Rows => value,
            MaskSide::Transposed => Shares::matrix(r, cols, value)?
                .transpose()
                .as_slice()
                .to_vec(),
        };
        let b = Self::vec::<R>(&mut g, k * n);
        let c = matmul(&a, &b, m, k, n);
        let (b0, c0) = (Self::vec(&mut g, k * n), Self::vec(&mut g, m * n));
        Ok(MaskTriple {
            b: Shares::matrix(k, n, self.mine(&b, b0))?,
            c: Shares::matrix(m, n, self.mine(&c, c0))?,
        })
    }

    async fn truncation_pairs<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        n: usize,
        shift: u32,
    ) -> Result<TruncationPairs<R>, Error> {
        check_truncation_shift::<R>("ideal.truncation_pairs", shift)?;
        let mut g = self.next("ideal.truncation_pairs", Some(n))?;
        let r = Self::vec::<R>(&mut g, n);
        let shifted: Vec<R> = r.iter().map(|x| x.shr(shift)).collect();
        let msb: Vec<R> = r.iter().map(|x| R::from_u64(x.msb() as u64)).collect();
        let (r0, s0, m0) = (
            Self::vec(&mut g, n),
            Self::vec(&mut g, n),
            Self::vec(&mut g, n),
        );
        Ok(TruncationPairs {
            r: self.mine(&r, r0),
            r_shifted: self.mine(&shifted, s0),
            r_msb: self.mine(&msb, m0),
        })
    }

    async fn random_ot_sender(
        &mut self,
        _: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtSender, Error> {
        let mut g = self.next("ideal.random_ot", n.checked_mul(3))?;
        let messages = Self::vec::<u128>(&mut g, 2 * n);
        Ok(RandomOtSender {
            messages: messages.chunks_exact(2).map(|m| [m[0], m[1]]).collect(),
        })
    }

    async fn random_ot_receiver(
        &mut self,
        _: &mut Links<T>,
        n: usize,
    ) -> Result<RandomOtReceiver, Error> {
        let mut g = self.next("ideal.random_ot", n.checked_mul(3))?;
        let messages = Self::vec::<u128>(&mut g, 2 * n);
        let bits = Self::vec::<u32>(&mut g, n);
        let choices: Vec<bool> = bits.iter().map(|b| b & 1 == 1).collect();
        let chosen = choices
            .iter()
            .enumerate()
            .map(|(i, &c)| messages[2 * i + usize::from(c)])
            .collect();
        Ok(RandomOtReceiver {
            choices,
            messages: chosen,
        })
    }

    fn helps_online(&self) -> bool {
        false
    }

    fn deals_gate_keys(&self) -> bool {
        true
    }

    async fn gate_keys<R: Ring>(
        &mut self,
        _: &mut Links<T>,
        gate: Gate,
        n: usize,
    ) -> Result<GateKeys<R>, Error> {
        gate.check::<R>()?;
        crate::fss::check_gates("ideal.gate_keys", n)?;
        self.next("ideal.gate_keys", Some(n))?;
        let request = self.seed.derive(IDEAL, self.requests);
        let part = |role: Role| {
            let party = request.derive(IDEAL, role.index() as u64);
            let mut streams = KeyStreams {
                mask: party.prg(IDEAL, 0),
                roots: [party.prg(IDEAL, 1), party.prg(IDEAL, 2)],
                constants: party.prg(IDEAL, 3),
            };
            OwnPart::<R>::derive(gate, role, n, &mut streams)
        };
        let parts = [part(Role::P0), part(Role::P1)];
        let (words, constants) = deal(gate, &FixedKeyAes::new(), [&parts[0], &parts[1]]);
        let [p0, p1] = parts;
        Ok(match self.role {
            Role::P0 => GateKeys::assemble(gate, Role::P0, p0, words, None),
            Role::P1 => GateKeys::assemble(gate, Role::P1, p1, words, Some(constants)),
        })
    }
}
