//! Oblivious inference in the MiniONN setting: a server holds the model, a client holds the
//! input; neither learns the other's, and only the client learns the predicted class.
//!
//! Both parties know the architecture ([`Network`]: layer kinds and shapes, public); the model
//! owner secret-shares the weights, the client its input (a batch of rows, each an image in
//! channel-major order or a feature vector). Then, on shares:
//!
//! - dense layers `[a | 1] W` and convolutions, each with **one** matrix triple: a convolution is
//!   an im2col rearrangement of the shares (local) followed by one matrix product with the
//!   `(C k k + 1) x F` kernel matrix (bias last);
//! - ReLU and max pooling by the non-linear layer; the square activation with square pairs;
//!   mean pooling as local sums and a public scaling;
//! - the argmax of the last layer, opened to the client only.
//!
//! [`forward_plain`] is the same network in `f64`, the reference.

use super::ops::{append_ones, scale};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::nonlinear;
use crate::nonlinear::Pool2d;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;

/// An image shape: channels, height, width (a row holds `c * h * w` values, channel-major).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl Image {
    /// Values per image (saturating at `usize::MAX`; see [`Image::checked_len`]).
    pub fn len(self) -> usize {
        self.checked_len().unwrap_or(usize::MAX)
    }

    /// Values per image, or `None` if the product overflows.
    pub fn checked_len(self) -> Option<usize> {
        product3(self.channels, self.height, self.width)
    }

    /// Whether the image has no values.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// One layer of a network (its public shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// `[a | 1] W` with `W` of `(inputs + 1) x outputs` (bias last row).
    Dense {
        /// Input width.
        inputs: usize,
        /// Output width.
        outputs: usize,
    },
    /// A 2-D convolution of `input` with `filters` kernels of `kernel x kernel`, `stride`, zero
    /// `padding`; weights `(C k k + 1) x filters`, row `(c k + ky) k + kx`, bias last.
    Conv {
        /// The input image shape.
        input: Image,
        /// Output channels.
        filters: usize,
        /// Kernel side.
        kernel: usize,
        /// Stride.
        stride: usize,
        /// Zero padding on each side.
        padding: usize,
    },
    /// `max(x, 0)`.
    Relu,
    /// `x^2` (CryptoNets, MiniONN).
    Square,
    /// Mean over `window x window` blocks with stride `window`.
    MeanPool {
        /// The input image shape.
        input: Image,
        /// Window side (and stride).
        window: usize,
    },
    /// Maximum over `window x window` blocks with `stride`.
    MaxPool {
        /// The input image shape.
        input: Image,
        /// Window side.
        window: usize,
        /// Stride.
        stride: usize,
    },
}

pub(super) fn out_side(side: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = padding.checked_mul(2)?.checked_add(side)?;
    (kernel >= 1 && stride >= 1 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// `a * b * c`, or `None` on overflow.
fn product3(a: usize, b: usize, c: usize) -> Option<usize> {
    a.checked_mul(b)?.checked_mul(c)
}

impl Layer {
    /// Width of the layer's output for an input row of `width` values, or `None` if the shapes
    /// do not fit.
    pub fn output_width(&self, width: usize) -> Option<usize> {
        match *self {
            Layer::Dense { inputs, outputs } => (width == inputs).then_some(outputs),
            Layer::Conv {
                input,
                filters,
                kernel,
                stride,
                padding,
            } => {
                let oh = out_side(input.height, kernel, stride, padding)?;
                let ow = out_side(input.width, kernel, stride, padding)?;
                (Some(width) == input.checked_len()).then(|| product3(filters, oh, ow))?
            }
            Layer::Relu | Layer::Square => Some(width),
            Layer::MeanPool { input, window } => {
                let oh = out_side(input.height, window, window, 0)?;
                let ow = out_side(input.width, window, window, 0)?;
                (Some(width) == input.checked_len()).then(|| product3(input.channels, oh, ow))?
            }
            Layer::MaxPool {
                input,
                window,
                stride,
            } => {
                let oh = out_side(input.height, window, stride, 0)?;
                let ow = out_side(input.width, window, stride, 0)?;
                (Some(width) == input.checked_len()).then(|| product3(input.channels, oh, ow))?
            }
        }
    }

    /// Number of weights (bias included) the layer has, and their matrix shape.
    pub fn weight_shape(&self) -> Option<(usize, usize)> {
        match *self {
            Layer::Dense { inputs, outputs } => Some((inputs.checked_add(1)?, outputs)),
            Layer::Conv {
                input,
                filters,
                kernel,
                ..
            } => Some((
                product3(input.channels, kernel, kernel)?.checked_add(1)?,
                filters,
            )),
            _ => None,
        }
    }
}

/// A network: the input width and the layers in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// Values per input row.
    pub input: usize,
    /// The layers.
    pub layers: Vec<Layer>,
}

impl Network {
    /// Checks that the layers' shapes chain; returns the output width.
    pub fn check(&self) -> Result<usize, Error> {
        let mut w = self.input;
        for l in &self.layers {
            w = l.output_width(w).ok_or(Error::new(
                "ml.network",
                ErrorKind::InvalidArgument("layer shapes do not chain"),
            ))?;
        }
        Ok(w)
    }

    /// Checks that `weights` has one matrix of the right size per dense or convolution layer
    /// (and that the layers' weight shapes do not overflow).
    pub fn check_weights(&self, weights: &[Vec<f64>]) -> Result<(), Error> {
        let overflow = || Error::new("ml.network", ErrorKind::InvalidArgument("shape overflow"));
        let mut shapes = Vec::new();
        for l in &self.layers {
            if matches!(l, Layer::Dense { .. } | Layer::Conv { .. }) {
                shapes.push(l.weight_shape().ok_or_else(overflow)?);
            }
        }
        if shapes.len() != weights.len() {
            return Err(Error::dimension("ml.network", shapes.len(), weights.len()));
        }
        for ((r, c), w) in shapes.iter().zip(weights) {
            let n = r.checked_mul(*c).unwrap_or(usize::MAX);
            if n != w.len() {
                return Err(Error::dimension("ml.network", n, w.len()));
            }
        }
        Ok(())
    }
}

/// The max pooling of a [`Layer::MaxPool`].
pub(super) fn pool2d(input: Image, window: usize, stride: usize) -> Pool2d {
    Pool2d {
        channels: input.channels,
        height: input.height,
        width: input.width,
        window,
        stride,
    }
}

/// The im2col matrix of `rows` images: one row per (image, output position), `C k k + 1`
/// columns (the last the bias input). `zero` fills the padding and `one` the bias column.
pub(super) fn im2col<V: Copy>(
    x: &[V],
    rows: usize,
    input: Image,
    (kernel, stride, padding): (usize, usize, usize),
    (zero, one): (V, V),
) -> (Vec<V>, usize, usize) {
    let oh = out_side(input.height, kernel, stride, padding).unwrap_or(0);
    let ow = out_side(input.width, kernel, stride, padding).unwrap_or(0);
    let cols = input.channels * kernel * kernel + 1;
    let mut out = Vec::with_capacity(rows * oh * ow * cols);
    for n in 0..rows {
        let img = &x[n * input.len()..(n + 1) * input.len()];
        for oy in 0..oh {
            for ox in 0..ow {
                for c in 0..input.channels {
                    for ky in 0..kernel {
                        for kx in 0..kernel {
                            let y = (oy * stride + ky) as isize - padding as isize;
                            let xx = (ox * stride + kx) as isize - padding as isize;
                            let inside = y >= 0
                                && xx >= 0
                                && (y as usize) < input.height
                                && (xx as usize) < input.width;
                            out.push(if inside {
                                img[(c * input.height + y as usize) * input.width + xx as usize]
                            } else {
                                zero
                            });
                        }
                    }
                }
                out.push(one);
            }
        }
    }
    (out, oh * ow, cols)
}

/// Rearranges `(rows * positions) x filters` (position-major) into `rows x (filters * positions)`
/// (channel-major images).
pub(super) fn to_channel_major<V: Copy>(
    z: &[V],
    rows: usize,
    positions: usize,
    filters: usize,
) -> Vec<V> {
    let mut out = Vec::with_capacity(z.len());
    for n in 0..rows {
        for f in 0..filters {
            for q in 0..positions {
                out.push(z[(n * positions + q) * filters + f]);
            }
        }
    }
    out
}

/// Sums over `window x window` blocks of each channel (stride `window`).
pub(super) fn block_sums<V: Copy>(
    x: &[V],
    rows: usize,
    input: Image,
    window: usize,
    zero: V,
    add: impl Fn(V, V) -> V,
) -> Vec<V> {
    let oh = input.height / window;
    let ow = input.width / window;
    let mut out = Vec::with_capacity(rows * input.channels * oh * ow);
    for n in 0..rows {
        let img = &x[n * input.len()..(n + 1) * input.len()];
        for c in 0..input.channels {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = zero;
                    for dy in 0..window {
                        for dx in 0..window {
                            let (y, xx) = (oy * window + dy, ox * window + dx);
                            s = add(s, img[(c * input.height + y) * input.width + xx]);
                        }
                    }
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The network's output for `rows` inputs in `f64` (the reference).
pub fn forward_plain(
    net: &Network,
    weights: &[Vec<f64>],
    input: &[f64],
    rows: usize,
) -> Result<Vec<f64>, Error> {
    net.check()?;
    net.check_weights(weights)?;
    if input.len() != rows * net.input {
        return Err(Error::dimension(
            "ml.forward_plain",
            rows * net.input,
            input.len(),
        ));
    }
    let mut a = input.to_vec();
    let mut width = net.input;
    let mut ws = weights.iter();
    let matmul = |x: &[f64], m: usize, k: usize, w: &[f64], n: usize| {
        let mut z = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..k {
                let v = x[i * k + j];
                for c in 0..n {
                    z[i * n + c] += v * w[j * n + c];
                }
            }
        }
        z
    };
    for layer in &net.layers {
        let out = layer.output_width(width).unwrap_or(0);
        a = match *layer {
            Layer::Dense { inputs, outputs } => {
                let mut x1 = Vec::with_capacity(rows * (inputs + 1));
                for r in 0..rows {
                    x1.extend_from_slice(&a[r * inputs..(r + 1) * inputs]);
                    x1.push(1.0);
                }
                matmul(
                    &x1,
                    rows,
                    inputs + 1,
                    ws.next().map_or(&[][..], |v| v),
                    outputs,
                )
            }
            Layer::Conv {
                input,
                filters,
                kernel,
                stride,
                padding,
            } => {
                let (cols, positions, k) =
                    im2col(&a, rows, input, (kernel, stride, padding), (0.0, 1.0));
                let w = ws.next().map_or(&[][..], |v| v);
                let z = matmul(&cols, rows * positions, k, w, filters);
                to_channel_major(&z, rows, positions, filters)
            }
            Layer::Relu => a.iter().map(|&v| v.max(0.0)).collect(),
            Layer::Square => a.iter().map(|&v| v * v).collect(),
            Layer::MeanPool { input, window } => {
                let s = block_sums(&a, rows, input, window, 0.0, |x, y| x + y);
                let c = 1.0 / (window * window) as f64;
                s.into_iter().map(|v| v * c).collect()
            }
            Layer::MaxPool {
                input,
                window,
                stride,
            } => {
                let oh = out_side(input.height, window, stride, 0).unwrap_or(0);
                let ow = out_side(input.width, window, stride, 0).unwrap_or(0);
                let mut out = Vec::with_capacity(rows * input.channels * oh * ow);
                for n in 0..rows {
                    let img = &a[n * input.len()..(n + 1) * input.len()];
                    for c in 0..input.channels {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let mut m = f64::NEG_INFINITY;
                                for dy in 0..window {
                                    for dx in 0..window {
                                        let (y, x) = (oy * stride + dy, ox * stride + dx);
                                        m = m.max(img[(c * input.height + y) * input.width + x]);
                                    }
                                }
                                out.push(m);
                            }
                        }
                    }
                }
                out
            }
        };
        width = out;
    }
    Ok(a)
}

/// Runs the network on shares: `model_owner` passes `Some(weights)` (one matrix per dense or
/// convolution layer, as [`Layer::weight_shape`]), the client passes `Some(input)` (`rows` input
/// rows); each passes `None` for the other's. Returns this party's share of the output
/// (`rows x` output width).
pub async fn forward<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    net: &Network,
    model_owner: Role,
    weights: Option<&[Vec<f64>]>,
    input: Option<&[f64]>,
    rows: usize,
) -> Result<Shares<R>, Error> {
    let op = "ml.inference";
    net.check()?;
    let owner = ctx.role()? == model_owner;
    // Each party checks its own private argument (shapes, and every value in the fixed-point
    // range) before anything is sent.
    let fixed = ctx.fixed();
    let encodable = |v: &[f64]| -> Result<(), Error> {
        v.iter()
            .try_for_each(|&x| fixed.encode::<R>(x).map(drop))
            .map_err(|e| e.in_op(op))
    };
    let n_in = rows
        .checked_mul(net.input)
        .ok_or(Error::dimension(op, usize::MAX, rows))?;
    match (owner, weights, input) {
        (true, Some(w), None) => {
            net.check_weights(w)?;
            w.iter().try_for_each(|m| encodable(m))?;
        }
        (false, None, Some(x)) if x.len() == n_in => encodable(x)?,
        (false, None, Some(x)) => return Err(Error::dimension(op, n_in, x.len())),
        _ => {
            return Err(Error::new(
                op,
                ErrorKind::InvalidArgument(
                    "the model owner passes the weights only, the client the input only",
                ),
            ));
        }
    }
    // The model owner shares its weights, then the client its input.
    let mut shared = Vec::new();
    for (l, shape) in net
        .layers
        .iter()
        .filter_map(Layer::weight_shape)
        .enumerate()
    {
        let w = match weights {
            Some(w) => online::share_input(ctx, &w[l], shape.0, shape.1).await?,
            None => online::receive_input(ctx, shape.0, shape.1).await?,
        };
        shared.push(w);
    }
    let mut a = match input {
        Some(x) => online::share_input(ctx, x, rows, net.input).await?,
        None => online::receive_input(ctx, rows, net.input).await?,
    };
    let mut ws = shared.into_iter();
    let no_weights = || Error::new(op, ErrorKind::InvalidArgument("missing layer weights"));
    let mut width = net.input;
    for layer in &net.layers {
        let out = layer.output_width(width).unwrap_or(0);
        a = match *layer {
            Layer::Dense { .. } => {
                let w = ws.next().ok_or_else(no_weights)?;
                online::matmul(ctx, &append_ones(ctx, &a)?, &w).await?
            }
            Layer::Conv {
                input,
                filters,
                kernel,
                stride,
                padding,
            } => {
                let w = ws.next().ok_or_else(no_weights)?;
                let one: R = ctx.config().fixed.encode(1.0)?;
                let one = if ctx.role()? == Role::P0 {
                    one
                } else {
                    R::ZERO
                };
                let (cols, positions, k) = im2col(
                    a.as_slice(),
                    rows,
                    input,
                    (kernel, stride, padding),
                    (R::ZERO, one),
                );
                let cols = Shares::matrix(rows * positions, k, cols)?;
                let z = online::matmul(ctx, &cols, &w).await?;
                Shares::matrix(
                    rows,
                    out,
                    to_channel_major(z.as_slice(), rows, positions, filters),
                )?
            }
            Layer::Relu => nonlinear::relu(ctx, &a).await?,
            Layer::Square => online::square(ctx, &a).await?,
            Layer::MeanPool { input, window } => {
                let s = block_sums(a.as_slice(), rows, input, window, R::ZERO, R::add);
                let s = Shares::matrix(rows, out, s)?;
                scale(ctx, &s, 1.0 / (window * window) as f64).await?
            }
            Layer::MaxPool {
                input,
                window,
                stride,
            } => nonlinear::max_pool(ctx, &a, pool2d(input, window, stride)).await?,
        };
        width = out;
    }
    Ok(a)
}

/// [`forward`], then the argmax of each output row, opened to the client only: the client gets
/// `Some(classes)`, the model owner `None`.
pub async fn classify<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    net: &Network,
    model_owner: Role,
    weights: Option<&[Vec<f64>]>,
    input: Option<&[f64]>,
    rows: usize,
) -> Result<Option<Vec<usize>>, Error> {
    let out: Shares<R> = forward(ctx, net, model_owner, weights, input, rows).await?;
    let (_, idx) = nonlinear::argmax(ctx, &out).await?;
    let client = model_owner.peer();
    Ok(online::reveal_to(ctx, &idx, client).await?.map(|v| {
        v.into_iter()
            .map(|c| libm::round(c).max(0.0) as usize)
            .collect()
    }))
}
