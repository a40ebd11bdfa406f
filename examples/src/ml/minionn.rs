//! MiniONN's MNIST models (Liu et al., CCS 2017, Section 6.1: Figures 10, 11 and 12) and the
//! project's MNIST file, for the `minionn` example and its test.
//!
//! - Figure 10, SecureML's perceptron with the square activation: 784-128-128-10, `x^2` after
//!   each hidden layer.
//! - Figure 11, CryptoNets' CNN: a 5x5 convolution of 5 channels with stride 2 (13 x 13
//!   outputs, `R^{5 x 169}`), square, CryptoNets' mean pooling merged with the next linear layer
//!   into one dense layer 845-100, square, dense 100-10. CryptoNets pads the 28 x 28 image to
//!   29 x 29; here the convolution has one pixel of zero padding on every side, which reads the
//!   windows of a 29 x 29 image padded at the top and left (the 13th window in each direction
//!   ends at pixel 27, so the padding at the far side is never read).
//! - Figure 12: two 5x5 convolutions of 16 channels (stride 1), each with ReLU and 2x2 max
//!   pooling, then 256-100-10 with ReLU: SecureNN's network B
//!   ([`fixshare::ml::train::securenn_network`]`('B')`).

use super::network_accuracy;
use fixshare::ml::Dataset;
use fixshare::ml::inference::{Image, Layer, Network};
use fixshare::ml::pipeline::{self, Classes};
use fixshare::ml::train::{init_weights, securenn_network, train_network_plain};
use fixshare::ml::{MlpLoss, SgdParams};

/// Pixels per MNIST image.
pub const PIXELS: usize = 784;

/// One of MiniONN's three MNIST models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Figure 10: the square-activation perceptron 784-128-128-10.
    Fig10,
    /// Figure 11: the CryptoNets-style CNN with square activations.
    Fig11,
    /// Figure 12: the CNN with ReLU and max pooling.
    Fig12,
}

impl Model {
    /// All three, in figure order.
    pub const ALL: [Model; 3] = [Model::Fig10, Model::Fig11, Model::Fig12];

    /// The model named `fig10`, `fig11` or `fig12`.
    pub fn parse(name: &str) -> Option<Model> {
        match name.to_ascii_lowercase().as_str() {
            "fig10" => Some(Model::Fig10),
            "fig11" => Some(Model::Fig11),
            "fig12" => Some(Model::Fig12),
            _ => None,
        }
    }

    /// The name [`Model::parse`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Model::Fig10 => "fig10",
            Model::Fig11 => "fig11",
            Model::Fig12 => "fig12",
        }
    }

    /// The network (input: 784 pixels of a 28 x 28 image).
    pub fn network(self) -> Network {
        let dense = |inputs, outputs| Layer::Dense { inputs, outputs };
        let layers = match self {
            Model::Fig10 => vec![
                dense(PIXELS, 128),
                Layer::Square,
                dense(128, 128),
                Layer::Square,
                dense(128, 10),
            ],
            Model::Fig11 => vec![
                Layer::Conv {
                    input: Image {
                        channels: 1,
                        height: 28,
                        width: 28,
                    },
                    filters: 5,
                    kernel: 5,
                    stride: 2,
                    padding: 1,
                },
                Layer::Square,
                dense(5 * 13 * 13, 100),
                Layer::Square,
                dense(100, 10),
            ],
            Model::Fig12 => match securenn_network('B') {
                Some(net) => return net,
                None => Vec::new(),
            },
        };
        Network {
            input: PIXELS,
            layers,
        }
    }

    /// The initial weights of the project's training: [`init_weights`] with seed 1, halved.
    /// (At full scale the square networks diverge, and the squared loss on one-hot targets
    /// trains Figure 12 slowly: 90% after three epochs against 97% at half scale.)
    pub fn init_weights(self) -> Vec<Vec<f64>> {
        init_weights(&self.network(), 1)
            .into_iter()
            .map(|w| w.into_iter().map(|v| v * 0.5).collect())
            .collect()
    }

    /// The project's plaintext training for this model: mini-batch SGD on the squared loss of
    /// one-hot targets (batch 32, rows in file order) from [`Model::init_weights`].
    pub fn sgd(self) -> SgdParams {
        let (epochs, learning_rate) = match self {
            Model::Fig10 => (10, 0.2),
            Model::Fig11 => (8, 0.15),
            Model::Fig12 => (3, 0.15),
        };
        SgdParams {
            epochs,
            batch: 32,
            learning_rate,
        }
    }

    /// The loss the model trains with.
    pub fn loss(self) -> MlpLoss {
        MlpLoss::Squared
    }
}

/// Trains `model` in plaintext (`f64`) from [`Model::init_weights`], one epoch at a time (the
/// same steps as one call of [`train_network_plain`] over all epochs: rows in order, weights
/// carried over), calling `on_epoch(epoch, test_accuracy)` after each. Stops with an error if
/// the weights stop being finite (a learning rate too large).
pub fn train_plain(
    model: Model,
    sgd: &SgdParams,
    train: &Classes,
    test: &Classes,
    mut on_epoch: impl FnMut(usize, f64),
) -> Result<Vec<Vec<f64>>, String> {
    let net = model.network();
    let y = pipeline::one_hot(&train.labels, 10);
    let mut weights = model.init_weights();
    let one = SgdParams { epochs: 1, ..*sgd };
    for epoch in 1..=sgd.epochs {
        weights = train_network_plain(&net, &train.x, &y, &weights, &one, model.loss())
            .map_err(|e| e.to_string())?;
        if weights.iter().flatten().any(|w| !w.is_finite()) {
            return Err(format!(
                "training diverged in epoch {epoch} (learning rate {})",
                sgd.learning_rate
            ));
        }
        on_epoch(
            epoch,
            network_accuracy(&net, &weights, test).map_err(|e| e.to_string())?,
        );
    }
    Ok(weights)
}

/// The MNIST table at `path` (read by [`super::load_csv`], gunzipped if it is gzip data) as
/// [`mnist_classes`] checks and scales it; every failure names the file.
pub fn load_mnist(path: &str) -> Result<Classes, String> {
    let data = super::load_csv(path)?;
    mnist_classes(&data).map_err(|e| format!("{path}: {e}"))
}

/// Images and labels of an MNIST table (784 pixel columns of 0..255, a last column 0..9):
/// pixels scaled to [0, 1]. Refuses any other shape, pixel or label with a message.
pub fn mnist_classes(data: &Dataset) -> Result<Classes, String> {
    if data.features() != PIXELS {
        return Err(format!(
            "expected {PIXELS} pixel columns, found {}",
            data.features()
        ));
    }
    if let Some(bad) = data.x.iter().find(|v| !(0.0..=255.0).contains(*v)) {
        return Err(format!("a pixel value {bad} is outside 0..255"));
    }
    let labels = data
        .y
        .iter()
        .map(|&v| {
            (v.fract() == 0.0 && (0.0..10.0).contains(&v))
                .then_some(v as usize)
                .ok_or(format!("a label {v} is not one of 0..9"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Classes {
        x: data.x.iter().map(|v| v / 255.0).collect(),
        features: PIXELS,
        labels,
    })
}

/// The training rows (the first four fifths: 8,000 of the project's 10,000 images) and the test
/// rows (the last fifth). Refuses a table without both.
pub fn mnist_split(all: &Classes) -> Result<(Classes, Classes), String> {
    let cut = all.rows() * 4 / 5;
    if cut == 0 || cut == all.rows() {
        return Err(format!(
            "the data has too few rows ({}) for a training and a test set",
            all.rows()
        ));
    }
    Ok((all.select(0..cut), all.select(cut..all.rows())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_chain_to_ten_classes() {
        for m in Model::ALL {
            assert_eq!(m.network().check().unwrap(), 10, "{m:?}");
            assert_eq!(Model::parse(m.name()), Some(m));
        }
        // Figure 11's convolution: R^{5 x 169} <- R^{5 x 25} R^{25 x 169}, then 845 -> 100.
        let fig11 = Model::Fig11.network();
        assert_eq!(fig11.layers[0].output_width(PIXELS), Some(845));
        assert_eq!(fig11.layers[0].weight_shape(), Some((26, 5)));
        assert_eq!(Model::parse("fig13"), None);
    }
}
