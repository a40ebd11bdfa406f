//! [`LocalModel`]: one trainer's model as a host holds it, step by step. The C ABI and the WASM
//! package translate this type; the host moves the sealed bytes itself (over its own
//! connections, or with [`super::fnt::pass`] / [`super::fnt::receive`] and
//! [`super::snt::deliver`] / [`super::snt::wait_for`] over a [`crate::Link`]).
//!
//! A trainer's turn at step `s` of an `L`-trainer plan (`s mod L` is its position, `s / L` the
//! central epoch): [`LocalModel::open`] the sealed version `s` (trainer 0 starts from its own
//! fresh weights at step 0), [`LocalModel::train`] with central epoch `s / L`, then
//! [`LocalModel::seal_into`] version `s + 1`. Done in that order by every trainer, the weights
//! are bit-identical to [`crate::ml::float::centralized`] on the union of their rows.

use super::format;
use super::seal::{self, Expect, ModelId, Sealer, WeightKey};
use crate::error::{Error, ErrorKind};
use crate::ml::float::{self, Model, Rows, Spec};
use crate::prg::Seed;
use alloc::vec::Vec;

/// A network, its weights and a sealer: a trainer of the weight-sharing systems without I/O.
///
/// Every method checks its arguments before it changes anything: a failed call leaves the model
/// as it was (training refuses bad rows before the first update; opening refuses weights of
/// another model, round, size or key before it replaces any weight).
pub struct LocalModel {
    spec: Spec,
    model: Model,
    sealer: Sealer,
    /// The memory of the parameters an open replaced, reused by the next open.
    spare: Vec<f64>,
}

impl LocalModel {
    /// Fresh weights for `spec` from `init_seed` (as [`Model::init`]: the first trainer's
    /// training seed, for a run that must equal [`float::centralized`]), sealing with nonces
    /// from `nonce_seed` (fresh host entropy, never reused under the same key).
    pub fn new(spec: Spec, init_seed: &Seed, nonce_seed: &Seed) -> Result<LocalModel, Error> {
        let model = Model::init(&spec, init_seed)?;
        Ok(LocalModel {
            spec,
            model,
            sealer: Sealer::new(nonce_seed, 0),
            spare: Vec::new(),
        })
    }

    /// The network and its training settings.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The weights and the optimizer's state.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The weights and biases (layout: [`Model`]).
    pub fn params(&self) -> &[f64] {
        &self.model.params
    }

    /// Replaces the weights and biases (exactly [`Spec::param_count`] finite values); the
    /// optimizer's state is kept.
    pub fn set_params(&mut self, params: &[f64]) -> Result<(), Error> {
        const OP: &str = "weights.set_params";
        if params.len() != self.model.params.len() {
            return Err(Error::dimension(OP, self.model.params.len(), params.len()));
        }
        if params.iter().any(|p| !p.is_finite()) {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("a weight is not finite"),
            ));
        }
        self.model.params.copy_from_slice(params);
        Ok(())
    }

    /// One turn of local training: `spec.local_epochs` passes over `rows` in central epoch
    /// `central_epoch`, shuffles and dropout from `seed` ([`float::local_round`]).
    pub fn train(&mut self, rows: Rows<'_>, seed: &Seed, central_epoch: u64) -> Result<(), Error> {
        float::local_round(&mut self.model, &self.spec, rows, seed, central_epoch)
    }

    /// The network's outputs for the rows of `x` (row-major, `spec.sizes[0]` values per row).
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>, Error> {
        let inputs = self.spec.sizes[0];
        if !x.len().is_multiple_of(inputs) {
            return Err(Error::dimension(
                "weights.predict",
                x.len().div_ceil(inputs) * inputs,
                x.len(),
            ));
        }
        Ok(self.model.predict(&self.spec, x))
    }

    /// The length of these weights sealed.
    pub fn sealed_len(&self) -> usize {
        seal::sealed_len(&self.model)
    }

    /// Seals the weights as `version` of `model_id` for `trainers` trainers, as trainer
    /// `trainer`, into the first [`LocalModel::sealed_len`] bytes of `out`; returns that length
    /// ([`Sealer::seal_into`]).
    #[allow(clippy::too_many_arguments)]
    pub fn seal_into(
        &mut self,
        key: &WeightKey,
        model_id: ModelId,
        trainers: u32,
        trainer: u32,
        version: u64,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        self.sealer
            .seal_into(key, model_id, trainers, trainer, version, &self.model, out)
    }

    /// [`LocalModel::seal_into`] a new buffer.
    pub fn seal(
        &mut self,
        key: &WeightKey,
        model_id: ModelId,
        trainers: u32,
        trainer: u32,
        version: u64,
    ) -> Result<Vec<u8>, Error> {
        self.sealer
            .seal(key, model_id, trainers, trainer, version, &self.model)
    }

    /// Opens `sealed`, which must be the version `expect` names, sealed under `key` by the
    /// trainer whose turn produced it, for a network of this one's shape, and replaces the
    /// weights (and optimizer state) with it. On any failure ([`super::Rejection::of`] says which) the
    /// weights are unchanged.
    pub fn open(&mut self, key: &WeightKey, expect: &Expect, sealed: &[u8]) -> Result<(), Error> {
        const OP: &str = "weights.open";
        // Another length is another network (or a truncated or padded upload): refused before
        // anything is decrypted.
        if sealed.len() != self.sealed_len() {
            let e = match seal::Header::decode(sealed) {
                Err(e) => e.in_op(OP),
                Ok(h) => match expect.check(&h) {
                    Err(r) => r.error(OP),
                    Ok(()) => Error::new(
                        OP,
                        ErrorKind::Malformed("sealed weights of another network's size"),
                    ),
                },
            };
            return Err(e);
        }
        let buffer = core::mem::take(&mut self.spare);
        match seal::open_reusing(key, expect, sealed, buffer) {
            Ok(model) => {
                if model.check(&self.spec).is_err() {
                    // Authentic weights of another shape with the same length.
                    self.spare = model.params;
                    return Err(Error::new(
                        OP,
                        ErrorKind::Malformed("sealed weights of another network's shape"),
                    ));
                }
                self.spare = core::mem::replace(&mut self.model, model).params;
                Ok(())
            }
            Err((e, buffer)) => {
                self.spare = buffer;
                Err(e)
            }
        }
    }

    /// The weights and optimizer state in the payload format ([`format`]; what `fixshare-snt
    /// train --out` writes).
    pub fn export(&self) -> Vec<u8> {
        format::encode(&self.model)
    }

    /// The length of [`LocalModel::export`].
    pub fn export_len(&self) -> usize {
        format::encoded_len(&self.model)
    }

    /// Replaces the weights and optimizer state with an export of a model of this spec.
    pub fn import(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let model = format::decode(bytes)?;
        model.check(&self.spec)?;
        self.model = model;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::float::{Activation, Loss, Optimizer};
    use crate::weights::Rejection;
    use alloc::vec;

    fn spec(optimizer: Optimizer) -> Spec {
        Spec {
            sizes: vec![3, 5, 2],
            activation: Activation::Tanh,
            dropout: vec![0.2],
            loss: Loss::SoftmaxCrossEntropy,
            optimizer,
            batch: 4,
            local_epochs: 2,
        }
    }

    fn rows(n: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
        let x = (0..3 * n)
            .map(|i| libm::sin(i as f64 * 0.37 + k as f64))
            .collect();
        let y = (0..n).map(|i| ((i + k) % 2) as f64).collect();
        (x, y)
    }

    /// Three trainers turn by turn through `LocalModel`s, each sealing for the next: the result
    /// is [`float::centralized`] bit for bit.
    #[test]
    fn step_by_step_turns_equal_centralized_training() {
        for opt in [Optimizer::Sgd { lr: 0.1 }, Optimizer::adam(0.01)] {
            let s = spec(opt);
            let data: Vec<_> = (0..3).map(|k| rows(10 + k, k)).collect();
            let parts: Vec<Rows<'_>> = data
                .iter()
                .map(|(x, y)| Rows { x, y, features: 3 })
                .collect();
            let seeds: Vec<Seed> = (0..3).map(|k| Seed::from_bytes([k + 1; 32])).collect();
            let key = WeightKey::from_bytes([9; 32]);
            let id = ModelId(*b"local model test");
            let mut trainers: Vec<LocalModel> = (0..3)
                .map(|k| {
                    LocalModel::new(s.clone(), &seeds[0], &Seed::from_bytes([50 + k; 32])).unwrap()
                })
                .collect();
            let epochs = 2u64;
            let mut sealed = Vec::new();
            for step in 0..epochs * 3 {
                let i = (step % 3) as usize;
                if step > 0 {
                    let expect = Expect {
                        model: id,
                        trainers: 3,
                        version: step,
                    };
                    trainers[i].open(&key, &expect, &sealed).unwrap();
                }
                trainers[i].train(parts[i], &seeds[i], step / 3).unwrap();
                sealed = vec![0; trainers[i].sealed_len() + 5];
                let n = trainers[i]
                    .seal_into(&key, id, 3, i as u32, step + 1, &mut sealed)
                    .unwrap();
                sealed.truncate(n);
            }
            let reference = float::centralized(&s, &parts, &seeds, epochs).unwrap();
            assert_eq!(trainers[2].model(), &reference);
            // Trainer 0 opens the final weights.
            let expect = Expect {
                model: id,
                trainers: 3,
                version: epochs * 3,
            };
            trainers[0].open(&key, &expect, &sealed).unwrap();
            assert_eq!(trainers[0].model(), &reference);
            // Export and import.
            let mut copy =
                LocalModel::new(s.clone(), &seeds[1], &Seed::from_bytes([7; 32])).unwrap();
            assert_eq!(copy.export_len(), trainers[0].export().len());
            copy.import(&trainers[0].export()).unwrap();
            assert_eq!(copy.model(), &reference);
        }
    }

    #[test]
    fn refused_opens_leave_the_weights_unchanged() {
        let s = spec(Optimizer::Sgd { lr: 0.1 });
        let key = WeightKey::from_bytes([9; 32]);
        let id = ModelId(*b"local model test");
        let mut a = LocalModel::new(
            s.clone(),
            &Seed::from_bytes([1; 32]),
            &Seed::from_bytes([2; 32]),
        )
        .unwrap();
        let mut b = LocalModel::new(
            s.clone(),
            &Seed::from_bytes([3; 32]),
            &Seed::from_bytes([4; 32]),
        )
        .unwrap();
        let before = b.model().clone();
        let sealed = a.seal(&key, id, 2, 0, 1).unwrap();
        let expect = Expect {
            model: id,
            trainers: 2,
            version: 1,
        };
        let rejected = |b: &mut LocalModel, key: &WeightKey, e: &Expect, sealed: &[u8]| {
            Rejection::of(&b.open(key, e, sealed).unwrap_err())
        };
        let wrong_key = WeightKey::from_bytes([8; 32]);
        assert_eq!(
            rejected(&mut b, &wrong_key, &expect, &sealed),
            Some(Rejection::Authentication)
        );
        let later = Expect {
            version: 2,
            ..expect
        };
        assert_eq!(
            rejected(&mut b, &key, &later, &sealed),
            Some(Rejection::Replayed)
        );
        let other = Expect {
            model: ModelId([0; 16]),
            ..expect
        };
        assert_eq!(
            rejected(&mut b, &key, &other, &sealed),
            Some(Rejection::WrongModel)
        );
        for cut in [0, 79, 80, sealed.len() - 1] {
            assert_eq!(
                rejected(&mut b, &key, &expect, &sealed[..cut]),
                Some(Rejection::Malformed)
            );
        }
        let mut flipped = sealed.clone();
        flipped[100] ^= 4;
        assert_eq!(
            rejected(&mut b, &key, &expect, &flipped),
            Some(Rejection::Authentication)
        );
        // Authentic weights of a network of another size.
        let mut wide = LocalModel::new(
            Spec {
                sizes: vec![3, 6, 2],
                ..s.clone()
            },
            &Seed::from_bytes([1; 32]),
            &Seed::from_bytes([5; 32]),
        )
        .unwrap();
        let other_size = wide.seal(&key, id, 2, 0, 1).unwrap();
        assert!(b.open(&key, &expect, &other_size).is_err());
        assert_eq!(b.model(), &before);
        // Seal arguments: a short buffer, a trainer outside the plan.
        let mut short = vec![0u8; b.sealed_len() - 1];
        assert!(b.seal_into(&key, id, 2, 0, 1, &mut short).is_err());
        assert!(b.seal(&key, id, 2, 2, 1).is_err());
        assert!(b.set_params(&[0.0; 3]).is_err());
        assert!(b.set_params(&vec![f64::NAN; before.params.len()]).is_err());
        assert!(b.predict(&[0.0; 4]).is_err());
        assert_eq!(b.model(), &before);
        // And the right weights open.
        b.open(&key, &expect, &sealed).unwrap();
        assert_eq!(b.model(), a.model());
    }
}
