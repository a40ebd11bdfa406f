//! Turns and epochs: a trainer's local round, the centralized reference, partitions, accuracy.

use super::net::{Loss, Model, Spec};
use crate::error::{Error, ErrorKind};
use crate::prg::{Domain, Prg, Seed};
use alloc::vec::Vec;
use core::ops::Range;
use rand_core::Rng;

/// One trainer's rows: features row-major (`len() x features`) and one target per row.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    /// Feature values, row-major.
    pub x: &'a [f64],
    /// Targets: 0/1 for binary cross-entropy, class numbers for softmax (and squared loss with
    /// several outputs), values for squared loss with one output.
    pub y: &'a [f64],
    /// Features per row.
    pub features: usize,
}

impl Rows<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Checks the shapes against `spec` and every target against its loss.
    fn check(&self, spec: &Spec) -> Result<(), Error> {
        const OP: &str = "float.rows";
        if self.features != spec.sizes[0] {
            return Err(Error::dimension(OP, spec.sizes[0], self.features));
        }
        if Some(self.x.len()) != self.y.len().checked_mul(self.features) {
            return Err(Error::dimension(
                OP,
                self.y.len() * self.features,
                self.x.len(),
            ));
        }
        if self.x.iter().any(|v| !v.is_finite()) {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("a feature is not finite"),
            ));
        }
        let k = spec.sizes[spec.sizes.len() - 1];
        let class = |y: f64| y >= 0.0 && y < k as f64 && y == libm::floor(y);
        let ok = match (spec.loss, k) {
            (Loss::BinaryCrossEntropy, _) => self.y.iter().all(|&y| (0.0..=1.0).contains(&y)),
            (Loss::Squared, 1) => self.y.iter().all(|y| y.is_finite()),
            _ => self.y.iter().all(|&y| class(y)),
        };
        if !ok {
            return Err(Error::new(
                OP,
                ErrorKind::InvalidArgument("a target does not fit the loss"),
            ));
        }
        Ok(())
    }
}

/// A uniform integer in `0..n` (`n >= 1`), by rejection (no modulo bias).
fn below(prg: &mut Prg, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let r = prg.next_u64();
        if r < zone {
            return (r % n) as usize;
        }
    }
}

/// One trainer's turn in central epoch `central_epoch`: `spec.local_epochs` passes over `rows`,
/// each in a fresh order (Fisher-Yates) with fresh dropout masks, drawn from
/// `seed` with the [`Domain::LOCAL_TRAINING`] domain at index
/// `central_epoch * local_epochs + local_epoch`.
pub fn local_round(
    model: &mut Model,
    spec: &Spec,
    rows: Rows<'_>,
    seed: &Seed,
    central_epoch: u64,
) -> Result<(), Error> {
    spec.validate()?;
    model.check(spec)?;
    rows.check(spec)?;
    if rows.is_empty() {
        return Ok(());
    }
    let epochs = spec.local_epochs as u64;
    let first = central_epoch.checked_mul(epochs).ok_or(Error::new(
        "float.train",
        ErrorKind::InvalidArgument("central epoch too large"),
    ))?;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for e in 0..epochs {
        let mut prg = seed.prg(Domain::LOCAL_TRAINING, first + e);
        order.sort_unstable();
        for i in (1..order.len()).rev() {
            order.swap(i, below(&mut prg, i + 1));
        }
        model.epoch(spec, rows.x, rows.y, &order, &mut prg);
    }
    Ok(())
}

/// The reference the weight-sharing systems must equal: fresh weights from `seeds[0]` (the first
/// trainer initializes), then for each of `central_epochs` epochs, each trainer's
/// [`local_round`] in the agreed order `0..parts.len()`, all in one place.
pub fn centralized(
    spec: &Spec,
    parts: &[Rows<'_>],
    seeds: &[Seed],
    central_epochs: u64,
) -> Result<Model, Error> {
    if parts.is_empty() || parts.len() != seeds.len() {
        return Err(Error::new(
            "float.centralized",
            ErrorKind::InvalidArgument("one seed per trainer, at least one trainer"),
        ));
    }
    let mut model = Model::init(spec, &seeds[0])?;
    for e in 0..central_epochs {
        for (rows, seed) in parts.iter().zip(seeds) {
            local_round(&mut model, spec, *rows, seed, e)?;
        }
    }
    Ok(model)
}

/// `rows` rows split into `parts` consecutive ranges whose sizes differ by at most one (the
/// first `rows % parts` ranges are one longer).
pub fn partition(rows: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    let (base, extra) = (rows / parts, rows % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// The fraction of `rows` the model classifies right: the output above 1/2 against a 0/1 target
/// (one output), the largest output against a class number (several outputs).
pub fn accuracy(spec: &Spec, model: &Model, rows: Rows<'_>) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    let k = model.sizes[model.sizes.len() - 1];
    let out = model.predict(spec, rows.x);
    let right = out
        .chunks_exact(k)
        .zip(rows.y)
        .filter(|(o, y)| {
            if k == 1 {
                (o[0] > 0.5) == (**y > 0.5)
            } else {
                let best = (0..k).fold(0, |b, j| if o[j] > o[b] { j } else { b });
                best as f64 == **y
            }
        })
        .count();
    right as f64 / rows.len() as f64
}

#[cfg(test)]
mod tests {
    use super::super::net::{Activation, Optimizer};
    use super::*;
    use alloc::vec;

    /// Two interleaved spirals' worth of points: a task a linear model cannot solve.
    fn blobs(n: usize, seed: u8) -> (Vec<f64>, Vec<f64>) {
        let mut prg = Seed::from_bytes([seed; 32]).prg(Domain::user(1), 0);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let c = i % 3;
            let angle = c as f64 * 2.1;
            let u = super::super::net::unit(&mut prg) - 0.5;
            let v = super::super::net::unit(&mut prg) - 0.5;
            x.push(libm::cos(angle) * 2.0 + u);
            x.push(libm::sin(angle) * 2.0 + v);
            y.push(c as f64);
        }
        (x, y)
    }

    fn spec(activation: Activation, optimizer: Optimizer) -> Spec {
        Spec {
            sizes: vec![2, 8, 3],
            activation,
            dropout: vec![0.1],
            loss: Loss::SoftmaxCrossEntropy,
            optimizer,
            batch: 16,
            local_epochs: 2,
        }
    }

    #[test]
    fn training_learns_and_is_deterministic() {
        let (x, y) = blobs(300, 1);
        let rows = Rows {
            x: &x,
            y: &y,
            features: 2,
        };
        for opt in [Optimizer::Sgd { lr: 0.2 }, Optimizer::adam(0.02)] {
            let s = spec(Activation::Tanh, opt);
            let seeds = [Seed::from_bytes([5; 32])];
            let a = centralized(&s, &[rows], &seeds, 5).unwrap();
            let b = centralized(&s, &[rows], &seeds, 5).unwrap();
            assert_eq!(a, b);
            let acc = accuracy(&s, &a, rows);
            assert!(acc > 0.95, "{opt:?}: {acc}");
            let untrained = Model::init(&s, &seeds[0]).unwrap();
            assert_ne!(untrained.params, a.params);
        }
    }

    #[test]
    fn partitions_cover_every_row_once() {
        let p = partition(10, 3);
        assert_eq!(p, vec![0..4, 4..7, 7..10]);
        assert_eq!(partition(2, 3), vec![0..1, 1..2, 2..2]);
    }

    #[test]
    fn bad_rows_are_refused() {
        let s = spec(Activation::Relu, Optimizer::Sgd { lr: 0.1 });
        let mut m = Model::init(&s, &Seed::from_bytes([1; 32])).unwrap();
        let seed = Seed::from_bytes([2; 32]);
        let bad_class = Rows {
            x: &[0.0, 1.0],
            y: &[3.0],
            features: 2,
        };
        assert!(local_round(&mut m, &s, bad_class, &seed, 0).is_err());
        let ragged = Rows {
            x: &[0.0, 1.0, 2.0],
            y: &[1.0],
            features: 2,
        };
        assert!(local_round(&mut m, &s, ragged, &seed, 0).is_err());
        let wrong = spec(Activation::Relu, Optimizer::adam(0.1));
        let rows = Rows {
            x: &[0.0, 1.0],
            y: &[1.0],
            features: 2,
        };
        assert!(local_round(&mut m, &wrong, rows, &seed, 0).is_err());
    }
}
