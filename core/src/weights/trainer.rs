//! One trainer's part, apart from any I/O: open the weights of its turn, train on its rows, seal.

use super::seal::{Expect, HEADER_LEN, ModelId, Round, Sealer, TAG_LEN, WeightKey, open};
use super::{Rejection, format};
use crate::error::{Error, ErrorKind};
use crate::ml::float::{self, Model, Rows, Spec};
use crate::prg::Seed;
use alloc::vec::Vec;

/// What the trainers agree on before they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The model's id (bound into every seal).
    pub model: ModelId,
    /// The number of trainers `L`; the agreed order is `0..L`.
    pub trainers: u32,
    /// Passes over all the trainers.
    pub central_epochs: u32,
}

impl Plan {
    /// The version of the final weights: `central_epochs * trainers`.
    pub fn final_version(&self) -> u64 {
        u64::from(self.central_epochs) * u64::from(self.trainers)
    }

    /// The steps trainer `index` takes, in order (the versions it opens).
    pub fn steps(&self, index: u32) -> impl Iterator<Item = u64> + use<> {
        let l = u64::from(self.trainers);
        (0..u64::from(self.central_epochs)).map(move |e| e * l + u64::from(index))
    }
}

/// Time and bytes spent on sealing, opening and training.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrainerStats {
    /// Seals made.
    pub seals: u64,
    /// Sealed weights opened.
    pub opens: u64,
    /// Seconds spent sealing (by the host's clock).
    pub seal_seconds: f64,
    /// Seconds spent opening.
    pub open_seconds: f64,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Bytes of the last sealed weights.
    pub sealed_len: u64,
}

/// A progress callback: the version just sealed and the statistics so far.
pub type Observer<'a> = &'a dyn Fn(u64, &TrainerStats);

/// One trainer: its place in the plan, its rows, the key and its seeds. The drivers in
/// [`super::snt`] and [`super::fnt`] move its sealed weights.
pub struct Trainer<'a> {
    plan: Plan,
    index: u32,
    spec: &'a Spec,
    rows: Rows<'a>,
    key: &'a WeightKey,
    seed: &'a Seed,
    sealer: Sealer,
    clock: &'a dyn Fn() -> f64,
    observer: Option<Observer<'a>>,
    stats: TrainerStats,
}

impl<'a> Trainer<'a> {
    /// Trainer `index` of `plan`, training `spec` on `rows` with randomness from `seed`, sealing
    /// under `key` with nonces from `sealer`. `clock` gives seconds for the statistics (`&|| 0.0`
    /// without one). Checks the plan and the spec.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: Plan,
        index: u32,
        spec: &'a Spec,
        rows: Rows<'a>,
        key: &'a WeightKey,
        seed: &'a Seed,
        sealer: Sealer,
        clock: &'a dyn Fn() -> f64,
    ) -> Result<Trainer<'a>, Error> {
        if plan.trainers == 0
            || plan.trainers > super::seal::MAX_TRAINERS
            || index >= plan.trainers
            || plan.central_epochs == 0
        {
            return Err(Error::new(
                "weights.trainer",
                ErrorKind::InvalidArgument("the trainer's index or the plan is out of range"),
            ));
        }
        spec.validate()?;
        Ok(Trainer {
            plan,
            index,
            spec,
            rows,
            key,
            seed,
            sealer,
            clock,
            observer: None,
            stats: TrainerStats::default(),
        })
    }

    /// Calls `observer(version, stats)` after each seal (for progress reports: a version that
    /// is a multiple of the number of trainers ends a central epoch).
    pub fn with_observer(mut self, observer: Observer<'a>) -> Trainer<'a> {
        self.observer = Some(observer);
        self
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// This trainer's place in the order.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The statistics so far.
    pub fn stats(&self) -> TrainerStats {
        self.stats
    }

    /// The exact length of this plan's sealed weights (what a receiver expects).
    pub fn sealed_len(&self) -> usize {
        let adam = matches!(self.spec.optimizer, float::Optimizer::Adam { .. });
        // The spec was validated: its parameter count is within MAX_PARAMS.
        HEADER_LEN + format::payload_len(&self.spec.sizes, adam).unwrap_or(0) + TAG_LEN
    }

    /// The initial weights (trainer 0 only), and their seal as version 0.
    pub fn initial(&mut self) -> Result<(Model, Vec<u8>), Error> {
        if self.index != 0 {
            return Err(Rejection::OutOfOrder.error("weights.initial"));
        }
        let model = Model::init(self.spec, self.seed)?;
        let sealed = self.seal(&model, 0)?;
        Ok((model, sealed))
    }

    /// Opens `sealed`, which must be `version` of this plan.
    pub fn open(&mut self, sealed: &[u8], version: u64) -> Result<Model, Error> {
        let expect = Expect {
            model: self.plan.model,
            trainers: self.plan.trainers,
            version,
        };
        let t = (self.clock)();
        let model = open(self.key, &expect, sealed)?;
        model.check(self.spec)?;
        self.stats.open_seconds += (self.clock)() - t;
        self.stats.opens += 1;
        Ok(model)
    }

    /// This trainer's turn at `step` (version `step` in, `step + 1` out): trains `model` in place
    /// and returns its seal.
    pub fn step(&mut self, model: &mut Model, step: u64) -> Result<Vec<u8>, Error> {
        let round = Round::of(step + 1, self.plan.trainers)
            .filter(|r| r.trainer == self.index && step < self.plan.final_version())
            .ok_or(Rejection::OutOfOrder.error("weights.step"))?;
        let t = (self.clock)();
        float::local_round(
            model,
            self.spec,
            self.rows,
            self.seed,
            u64::from(round.epoch),
        )?;
        self.stats.train_seconds += (self.clock)() - t;
        self.seal(model, step + 1)
    }

    fn seal(&mut self, model: &Model, version: u64) -> Result<Vec<u8>, Error> {
        let t = (self.clock)();
        let sealed = self.sealer.seal(
            self.key,
            self.plan.model,
            self.plan.trainers,
            self.index,
            version,
            model,
        )?;
        self.stats.seal_seconds += (self.clock)() - t;
        self.stats.seals += 1;
        self.stats.sealed_len = sealed.len() as u64;
        if let Some(f) = self.observer {
            f(version, &self.stats);
        }
        Ok(sealed)
    }
}
