//! Training any sequential [`Network`] of dense, convolution, ReLU, max-pooling, mean-pooling
//! and square layers by mini-batch SGD with back-propagation: on shares, and in `f64` by the
//! same code (the plaintext twin runs the same steps in the same order).
//!
//! The code is written once over [`Algebra`]: the matrix products, the elementwise product, ReLU
//! and max pooling with their derivatives, and public scaling, which [`OnShares`] runs as
//! protocols of a context and [`Plain`] runs in `f64`. Everything else (im2col, the bias column,
//! transposes, scattering gradients back onto images) is a local rearrangement, the same for
//! shares and for plain values.
//!
//! Per batch and layer, with the squared loss on one-hot targets (`delta = out - y`, see
//! [`super::nn`]):
//! - dense `z = [a | 1] W`: forward one product; backward `[a | 1]^T delta` for the weights and
//!   `delta W^T` (without the bias row) for the layer below;
//! - convolution: the same on the im2col matrix (one row per image position), the input gradient
//!   scattered back onto the image (col2im, local);
//! - ReLU: its derivative kept from the forward pass, one elementwise product backward;
//! - max pooling (windows that do not overlap): the mask of each window's maximum kept from the
//!   forward pass ([`crate::nonlinear::max_pool_with_derivative`]; SecureNN's Algorithm 10 with
//!   the helper), the gradient copied to each window's positions and multiplied by the mask;
//!   a ReLU just before max pooling is applied after it, to the window maxima only (the two
//!   commute), with its derivative kept at the maxima;
//! - mean pooling: the gradient copied to each window's positions, scaled by `1 / window^2`;
//! - square: `2 x delta`.
//!
//! No gradient is computed for the input of the first layer.
//!
//! **Mask reuse.** When the first layer is dense, its two products with the training inputs go
//! through [`Algebra::prepare_inputs`], [`Algebra::input_product`] and
//! [`Algebra::input_gradient`]: on shares ([`OnShares`], by default) `[x | 1] - U` is opened once,
//! a batch's rows with its first product, and each batch's products open only the weights' and
//! the errors' side (SecureML's mask reuse, [`InputMasking`]); in `f64` they are the plain
//! products.

use super::glm::{InputMasking, MaskedInputs};
use super::inference::{Layer, Network, block_sums, im2col, out_side, pool2d, to_channel_major};
use super::ops;
use super::{MlpLoss, SgdParams};
use crate::arith::online;
use crate::context::Context;
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::nonlinear::{self, Pool2d};
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;

const OP: &str = "ml.train_network";

/// A row-major matrix of plain values.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The values, row-major.
    pub data: Vec<f64>,
}

/// The arithmetic a network trains on: shares through a context ([`OnShares`]) or `f64`
/// ([`Plain`]).
#[allow(async_fn_in_trait)]
pub trait Algebra {
    /// One value: a share, or a number.
    type Value: Copy;
    /// A row-major matrix of values.
    type Matrix;

    /// A `rows x cols` matrix of `data`.
    fn matrix(
        &self,
        rows: usize,
        cols: usize,
        data: Vec<Self::Value>,
    ) -> Result<Self::Matrix, Error>;
    /// A matrix's values, row-major.
    fn values<'a>(&self, m: &'a Self::Matrix) -> &'a [Self::Value];
    /// A matrix's `(rows, cols)`.
    fn shape(&self, m: &Self::Matrix) -> (usize, usize);
    /// The public constant `v` as this party's value (for shares: P0 holds it, P1 zero).
    fn constant(&self, v: f64) -> Result<Self::Value, Error>;
    /// `a + b`.
    fn add(&self, a: Self::Value, b: Self::Value) -> Self::Value;
    /// `a - b`.
    fn sub(&self, a: Self::Value, b: Self::Value) -> Self::Value;
    /// The matrix product.
    async fn matmul(&mut self, a: &Self::Matrix, b: &Self::Matrix) -> Result<Self::Matrix, Error>;
    /// The elementwise product.
    async fn mul(&mut self, a: &Self::Matrix, b: &Self::Matrix) -> Result<Self::Matrix, Error>;
    /// `max(a, 0)` and its derivative (1.0 where `a >= 0`).
    async fn relu_with_derivative(
        &mut self,
        a: &Self::Matrix,
    ) -> Result<(Self::Matrix, Self::Matrix), Error>;
    /// Max pooling and the mask of each window's first maximum (shaped like `a`).
    async fn max_pool_with_derivative(
        &mut self,
        a: &Self::Matrix,
        pool: Pool2d,
    ) -> Result<(Self::Matrix, Self::Matrix), Error>;
    /// `a * c` for a public `c`.
    async fn scale(&mut self, a: &Self::Matrix, c: f64) -> Result<Self::Matrix, Error>;
    /// SecureML's softmax replacement per row (see [`crate::nonlinear::relu_softmax`]).
    async fn relu_softmax(&mut self, a: &Self::Matrix) -> Result<Self::Matrix, Error>;
    /// Prepares the products of a first dense layer with the training inputs `x`, taken in
    /// batches of `batch` rows for `epochs` epochs ([`OnShares`]: masks them once). The default
    /// does nothing.
    async fn prepare_inputs(
        &mut self,
        x: &Self::Matrix,
        (batch, epochs): (usize, usize),
    ) -> Result<(), Error> {
        let _ = (x, batch, epochs);
        Ok(())
    }
    /// `a1 w` for batch `b`, where `a1 = [x_b | 1]` is that batch of the prepared inputs with
    /// the bias column. The default is [`Algebra::matmul`].
    async fn input_product(
        &mut self,
        b: usize,
        a1: &Self::Matrix,
        w: &Self::Matrix,
    ) -> Result<Self::Matrix, Error> {
        let _ = b;
        self.matmul(a1, w).await
    }
    /// `a1^T delta` for batch `b` (as [`Algebra::input_product`]). The default transposes `a1`
    /// and calls [`Algebra::matmul`].
    async fn input_gradient(
        &mut self,
        b: usize,
        a1: &Self::Matrix,
        delta: &Self::Matrix,
    ) -> Result<Self::Matrix, Error>
    where
        Self: Sized,
    {
        let _ = b;
        let t = transpose(self, a1)?;
        self.matmul(&t, delta).await
    }
}

/// Training on shares, by the protocols of a context (ring `R`).
pub struct OnShares<'a, T, C, R: Ring> {
    ctx: &'a mut Context<T, C>,
    masking: InputMasking,
    /// The inputs of the first dense layer, masked once ([`Algebra::prepare_inputs`]).
    inputs: Option<MaskedInputs<R>>,
    ring: PhantomData<R>,
}

impl<'a, T, C, R: Ring> OnShares<'a, T, C, R> {
    /// The context's protocols over ring `R`, with mask reuse for a first dense layer.
    pub fn new(ctx: &'a mut Context<T, C>) -> Self {
        OnShares {
            ctx,
            masking: InputMasking::default(),
            inputs: None,
            ring: PhantomData,
        }
    }

    /// How the inputs enter the products of a first dense layer (the same weights either way,
    /// within the truncation's last unit per product; [`super::glm`] says what mask reuse
    /// saves).
    pub fn with_input_masking(mut self, masking: InputMasking) -> Self {
        self.masking = masking;
        self
    }

    /// The context.
    pub fn context(&self) -> &Context<T, C> {
        self.ctx
    }
}

impl<T: Transport, C: Correlations<T>, R: Ring> Algebra for OnShares<'_, T, C, R> {
    type Value = R;
    type Matrix = Shares<R>;

    fn matrix(&self, rows: usize, cols: usize, data: Vec<R>) -> Result<Shares<R>, Error> {
        Shares::matrix(rows, cols, data)
    }
    fn values<'b>(&self, m: &'b Shares<R>) -> &'b [R] {
        m.as_slice()
    }
    fn shape(&self, m: &Shares<R>) -> (usize, usize) {
        m.shape()
    }
    fn constant(&self, v: f64) -> Result<R, Error> {
        let v: R = self.ctx.fixed().encode(v)?;
        Ok(match self.ctx.role()? {
            Role::P0 => v,
            Role::P1 => R::ZERO,
        })
    }
    fn add(&self, a: R, b: R) -> R {
        a.add(b)
    }
    fn sub(&self, a: R, b: R) -> R {
        a.sub(b)
    }
    async fn matmul(&mut self, a: &Shares<R>, b: &Shares<R>) -> Result<Shares<R>, Error> {
        online::matmul(self.ctx, a, b).await
    }
    async fn mul(&mut self, a: &Shares<R>, b: &Shares<R>) -> Result<Shares<R>, Error> {
        online::mul(self.ctx, a, b).await
    }
    async fn relu_with_derivative(
        &mut self,
        a: &Shares<R>,
    ) -> Result<(Shares<R>, Shares<R>), Error> {
        nonlinear::relu_with_derivative(self.ctx, a).await
    }
    async fn max_pool_with_derivative(
        &mut self,
        a: &Shares<R>,
        pool: Pool2d,
    ) -> Result<(Shares<R>, Shares<R>), Error> {
        nonlinear::max_pool_with_derivative(self.ctx, a, pool).await
    }
    async fn scale(&mut self, a: &Shares<R>, c: f64) -> Result<Shares<R>, Error> {
        ops::scale(self.ctx, a, c).await
    }
    async fn relu_softmax(&mut self, a: &Shares<R>) -> Result<Shares<R>, Error> {
        nonlinear::relu_softmax(self.ctx, a).await
    }
    async fn prepare_inputs(
        &mut self,
        x: &Shares<R>,
        use_for: (usize, usize),
    ) -> Result<(), Error> {
        self.inputs = if MaskedInputs::<R>::applies(self.ctx, self.masking) {
            Some(MaskedInputs::prepare(self.ctx, x, true, use_for).await?)
        } else {
            None
        };
        Ok(())
    }
    async fn input_product(
        &mut self,
        b: usize,
        a1: &Shares<R>,
        w: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match &mut self.inputs {
            Some(m) => m.times(self.ctx, b, a1.as_slice(), w).await,
            None => online::matmul(self.ctx, a1, w).await,
        }
    }
    async fn input_gradient(
        &mut self,
        b: usize,
        a1: &Shares<R>,
        delta: &Shares<R>,
    ) -> Result<Shares<R>, Error> {
        match &mut self.inputs {
            Some(m) => m.transposed_times(self.ctx, b, a1.as_slice(), delta).await,
            None => online::matmul(self.ctx, &a1.transpose(), delta).await,
        }
    }
}

/// Training in `f64`: the plaintext twin.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plain;

impl Algebra for Plain {
    type Value = f64;
    type Matrix = Matrix;

    fn matrix(&self, rows: usize, cols: usize, data: Vec<f64>) -> Result<Matrix, Error> {
        if crate::limits::product(OP, rows, cols)? != data.len() {
            return Err(Error::dimension(OP, rows * cols, data.len()));
        }
        Ok(Matrix { rows, cols, data })
    }
    fn values<'b>(&self, m: &'b Matrix) -> &'b [f64] {
        &m.data
    }
    fn shape(&self, m: &Matrix) -> (usize, usize) {
        (m.rows, m.cols)
    }
    fn constant(&self, v: f64) -> Result<f64, Error> {
        Ok(v)
    }
    fn add(&self, a: f64, b: f64) -> f64 {
        a + b
    }
    fn sub(&self, a: f64, b: f64) -> f64 {
        a - b
    }
    async fn matmul(&mut self, a: &Matrix, b: &Matrix) -> Result<Matrix, Error> {
        if a.cols != b.rows {
            return Err(Error::dimension(OP, a.cols, b.rows));
        }
        let mut z = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for k in 0..a.cols {
                let v = a.data[i * a.cols + k];
                let row = &b.data[k * b.cols..(k + 1) * b.cols];
                for (o, &w) in z[i * b.cols..(i + 1) * b.cols].iter_mut().zip(row) {
                    *o += v * w;
                }
            }
        }
        self.matrix(a.rows, b.cols, z)
    }
    async fn mul(&mut self, a: &Matrix, b: &Matrix) -> Result<Matrix, Error> {
        if a.data.len() != b.data.len() {
            return Err(Error::dimension(OP, a.data.len(), b.data.len()));
        }
        let data = a.data.iter().zip(&b.data).map(|(x, y)| x * y).collect();
        self.matrix(a.rows, a.cols, data)
    }
    async fn relu_with_derivative(&mut self, a: &Matrix) -> Result<(Matrix, Matrix), Error> {
        let r = a.data.iter().map(|&v| v.max(0.0)).collect();
        let d = a
            .data
            .iter()
            .map(|&v| f64::from(u8::from(v >= 0.0)))
            .collect();
        Ok((
            self.matrix(a.rows, a.cols, r)?,
            self.matrix(a.rows, a.cols, d)?,
        ))
    }
    async fn max_pool_with_derivative(
        &mut self,
        a: &Matrix,
        pool: Pool2d,
    ) -> Result<(Matrix, Matrix), Error> {
        let (oh, ow) = pool.output_size()?;
        let (c, h, w, k, s) = (
            pool.channels,
            pool.height,
            pool.width,
            pool.window,
            pool.stride,
        );
        let mut out = Vec::with_capacity(a.rows * c * oh * ow);
        let mut mask = vec![0.0; a.data.len()];
        for (n, img) in a.data.chunks_exact(a.cols.max(1)).enumerate() {
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at =
                            |dy: usize, dx: usize| ch * h * w + (oy * s + dy) * w + ox * s + dx;
                        let mut best = at(0, 0);
                        for dy in 0..k {
                            for dx in 0..k {
                                if img[at(dy, dx)] > img[best] {
                                    best = at(dy, dx);
                                }
                            }
                        }
                        out.push(img[best]);
                        mask[n * a.cols + best] += 1.0;
                    }
                }
            }
        }
        Ok((
            self.matrix(a.rows, c * oh * ow, out)?,
            self.matrix(a.rows, a.cols, mask)?,
        ))
    }
    async fn scale(&mut self, a: &Matrix, c: f64) -> Result<Matrix, Error> {
        self.matrix(a.rows, a.cols, a.data.iter().map(|v| v * c).collect())
    }
    async fn relu_softmax(&mut self, a: &Matrix) -> Result<Matrix, Error> {
        let mut out = a.clone();
        out.data
            .chunks_mut(a.cols.max(1))
            .for_each(super::plain::relu_softmax);
        Ok(out)
    }
}

/// What the forward pass keeps of a layer for the backward pass.
enum Kept<M> {
    /// `[a | 1]` of a dense layer, or the im2col matrix of a convolution.
    Inputs(M),
    /// ReLU's derivative, or max pooling's mask.
    Factor(M),
    /// The input of a square layer.
    Squared(M),
    /// Nothing (mean pooling).
    Nothing,
    /// A ReLU followed by max pooling: applied after the pooling, where the pooled layer keeps
    /// its derivative ([`Kept::PooledRelu`]).
    Deferred,
    /// Max pooling of a ReLU's input, then the ReLU of the window maxima: the pooling's mask
    /// and the ReLU's derivative at the maxima.
    PooledRelu {
        /// The mask of each window's maximum, shaped like the pooling's input.
        mask: M,
        /// ReLU's derivative at each window's maximum.
        derivative: M,
    },
}

/// Whether layer `l` is a ReLU followed by max pooling. ReLU is monotone, so the two commute:
/// `max(relu(a), relu(b)) = relu(max(a, b))`, and training pools first and applies ReLU to the
/// window maxima only, a quarter as many values for 2x2 windows (one comparison per window
/// instead of one per position; SecureNN's networks B and C pool every convolution's ReLU).
/// The gradient is the same: it reaches a window's maximum when that maximum is not negative.
/// (Only when a window's maximum is exactly 0 and its first position is negative do the orders
/// differ: ReLU first passes no gradient, pooling first passes it to the first zero; both are
/// subgradients, ReLU's derivative at 0 being any value in [0, 1].)
fn relu_before_max_pool(net: &Network, l: usize) -> bool {
    matches!(net.layers.get(l), Some(Layer::Relu))
        && matches!(net.layers.get(l + 1), Some(Layer::MaxPool { .. }))
}

/// Checks that `net` can be trained: its shapes chain, every max pooling has windows that do
/// not overlap, and the weights match. Returns the output width.
pub fn check_trainable(net: &Network, weights: &[Vec<f64>]) -> Result<usize, Error> {
    let out = net.check()?;
    net.check_weights(weights)?;
    for layer in &net.layers {
        if let Layer::MaxPool { window, stride, .. } = *layer
            && window != stride
        {
            return Err(Error::new(
                OP,
                ErrorKind::Unsupported(
                    "training through max pooling needs windows that do not overlap (stride = \
                     window)",
                ),
            ));
        }
    }
    Ok(out)
}

/// Trains `net` from the public initial `weights` (one matrix per dense or convolution layer,
/// as [`Layer::weight_shape`]) on inputs `x` (`n x net.input`) and one-hot targets `y`, by
/// mini-batch SGD in the order of the rows, the output gradient `f(out) - y` with `f` the
/// identity ([`MlpLoss::Squared`]) or SecureML's softmax replacement ([`MlpLoss::ReluSoftmax`]);
/// calls `after_epoch` after each epoch. Returns the trained weights.
#[allow(clippy::too_many_arguments)]
pub async fn train_network<A: Algebra>(
    alg: &mut A,
    net: &Network,
    x: &A::Matrix,
    y: &A::Matrix,
    weights: &[Vec<f64>],
    params: &SgdParams,
    loss: MlpLoss,
    mut after_epoch: impl FnMut(&A, usize),
) -> Result<Vec<A::Matrix>, Error> {
    let classes = check_trainable(net, weights)?;
    super::glm::check_params(params, alg.shape(x).0)?;
    let (n, d) = alg.shape(x);
    if d != net.input {
        return Err(Error::dimension(OP, net.input, d));
    }
    if alg.shape(y) != (n, classes) {
        return Err(Error::dimension(OP, n * classes, alg.values(y).len()));
    }
    let (zero, one) = (alg.constant(0.0)?, alg.constant(1.0)?);
    // The initial weights first: a value out of range is refused before anything is sent.
    let mut w = Vec::with_capacity(weights.len());
    for (layer, values) in net
        .layers
        .iter()
        .filter_map(Layer::weight_shape)
        .zip(weights)
    {
        let data = values
            .iter()
            .map(|&v| alg.constant(v))
            .collect::<Result<_, _>>()?;
        w.push(alg.matrix(layer.0, layer.1, data)?);
    }
    // A first dense layer's products with the inputs go through the prepared inputs.
    let dense_inputs = matches!(net.layers.first(), Some(Layer::Dense { .. }));
    if dense_inputs && params.epochs > 0 {
        alg.prepare_inputs(x, (params.batch, params.epochs)).await?;
    }
    for epoch in 1..=params.epochs {
        let (mut start, mut batch) = (0, 0);
        while start < n {
            let end = (start + params.batch).min(n);
            let rows = end - start;
            let xb = alg.matrix(rows, d, alg.values(x)[start * d..end * d].to_vec())?;
            let yb = alg.values(y)[start * classes..end * classes].to_vec();
            let mut kept = Vec::with_capacity(net.layers.len());
            let mut a = xb;
            let mut ws = w.iter();
            for (l, layer) in net.layers.iter().enumerate() {
                if relu_before_max_pool(net, l) {
                    // Applied after the pooling that follows (see `Kept::Deferred`).
                    kept.push(Kept::Deferred);
                    continue;
                }
                let (next, keep) = match *layer {
                    Layer::MaxPool {
                        input,
                        window,
                        stride,
                    } if l > 0 && relu_before_max_pool(net, l - 1) => {
                        let pool = pool2d(input, window, stride);
                        let (m, mask) = alg.max_pool_with_derivative(&a, pool).await?;
                        let (r, derivative) = alg.relu_with_derivative(&m).await?;
                        (r, Kept::PooledRelu { mask, derivative })
                    }
                    _ => {
                        let input = (l == 0 && dense_inputs).then_some(batch);
                        forward_layer(alg, layer, &a, rows, &mut ws, (zero, one), input).await?
                    }
                };
                kept.push(keep);
                a = next;
            }
            if loss == MlpLoss::ReluSoftmax {
                a = alg.relu_softmax(&a).await?;
            }
            // delta = f(out) - y
            let delta: Vec<A::Value> = alg
                .values(&a)
                .iter()
                .zip(&yb)
                .map(|(&o, &t)| alg.sub(o, t))
                .collect();
            let mut delta = alg.matrix(rows, classes, delta)?;
            let c = params.learning_rate / rows as f64;
            let mut wi = w.len();
            for (l, (layer, keep)) in net.layers.iter().zip(kept).enumerate().rev() {
                let first = l == 0;
                delta = match (layer, keep) {
                    (Layer::Dense { inputs, .. }, Kept::Inputs(a1)) => {
                        wi -= 1;
                        let grad = if first && dense_inputs {
                            alg.input_gradient(batch, &a1, &delta).await?
                        } else {
                            alg.matmul(&transpose(alg, &a1)?, &delta).await?
                        };
                        let below = if first {
                            None
                        } else {
                            let wt = transpose(alg, &top_rows(alg, &w[wi], *inputs)?)?;
                            Some(alg.matmul(&delta, &wt).await?)
                        };
                        w[wi] = step(alg, &w[wi], &grad, c).await?;
                        match below {
                            Some(b) => b,
                            None => break,
                        }
                    }
                    (
                        Layer::Conv {
                            input,
                            filters,
                            kernel,
                            stride,
                            padding,
                        },
                        Kept::Inputs(cols),
                    ) => {
                        wi -= 1;
                        let positions = alg.shape(&cols).0 / rows.max(1);
                        let pm = from_channel_major(alg.values(&delta), rows, positions, *filters);
                        let pm = alg.matrix(rows * positions, *filters, pm)?;
                        let grad = alg.matmul(&transpose(alg, &cols)?, &pm).await?;
                        let below = if first {
                            None
                        } else {
                            let ckk = input.channels * kernel * kernel;
                            let wt = transpose(alg, &top_rows(alg, &w[wi], ckk)?)?;
                            let dcols = alg.matmul(&pm, &wt).await?;
                            let img = col2im(
                                alg,
                                alg.values(&dcols),
                                rows,
                                *input,
                                (*kernel, *stride, *padding),
                                zero,
                            );
                            Some(alg.matrix(rows, input.len(), img)?)
                        };
                        w[wi] = step(alg, &w[wi], &grad, c).await?;
                        match below {
                            Some(b) => b,
                            None => break,
                        }
                    }
                    (Layer::Relu, Kept::Factor(derivative)) => alg.mul(&delta, &derivative).await?,
                    (Layer::MaxPool { input, window, .. }, Kept::Factor(mask)) => {
                        let up = upsample(alg.values(&delta), rows, *input, *window, zero);
                        let up = alg.matrix(rows, input.len(), up)?;
                        alg.mul(&up, &mask).await?
                    }
                    (
                        Layer::MaxPool { input, window, .. },
                        Kept::PooledRelu { mask, derivative },
                    ) => {
                        let d = alg.mul(&delta, &derivative).await?;
                        let up = upsample(alg.values(&d), rows, *input, *window, zero);
                        let up = alg.matrix(rows, input.len(), up)?;
                        alg.mul(&up, &mask).await?
                    }
                    (Layer::Relu, Kept::Deferred) => delta,
                    (Layer::MeanPool { input, window }, Kept::Nothing) => {
                        let up = upsample(alg.values(&delta), rows, *input, *window, zero);
                        let up = alg.matrix(rows, input.len(), up)?;
                        alg.scale(&up, 1.0 / (window * window) as f64).await?
                    }
                    (Layer::Square, Kept::Squared(x)) => {
                        let p = alg.mul(&delta, &x).await?;
                        let twice = alg.values(&p).iter().map(|&v| alg.add(v, v)).collect();
                        alg.matrix(rows, alg.shape(&p).1, twice)?
                    }
                    _ => return Err(Error::new(OP, ErrorKind::Malformed("layer cache"))),
                };
            }
            start = end;
            batch += 1;
        }
        after_epoch(alg, epoch);
    }
    Ok(w)
}

/// One layer forward: its output and what the backward pass needs. `input` is the batch number
/// when `a` is that batch of the prepared inputs of a first dense layer.
async fn forward_layer<A: Algebra>(
    alg: &mut A,
    layer: &Layer,
    a: &A::Matrix,
    rows: usize,
    ws: &mut core::slice::Iter<'_, A::Matrix>,
    (zero, one): (A::Value, A::Value),
    input: Option<usize>,
) -> Result<(A::Matrix, Kept<A::Matrix>), Error> {
    let missing = || Error::new(OP, ErrorKind::InvalidArgument("missing layer weights"));
    Ok(match *layer {
        Layer::Dense { inputs, .. } => {
            let mut a1 = Vec::with_capacity(rows * (inputs + 1));
            for row in alg.values(a).chunks_exact(inputs.max(1)).take(rows) {
                a1.extend_from_slice(row);
                a1.push(one);
            }
            let a1 = alg.matrix(rows, inputs + 1, a1)?;
            let w = ws.next().ok_or_else(missing)?;
            let z = match input {
                Some(b) => alg.input_product(b, &a1, w).await?,
                None => alg.matmul(&a1, w).await?,
            };
            (z, Kept::Inputs(a1))
        }
        Layer::Conv {
            input,
            filters,
            kernel,
            stride,
            padding,
        } => {
            let (cols, positions, k) = im2col(
                alg.values(a),
                rows,
                input,
                (kernel, stride, padding),
                (zero, one),
            );
            let cols = alg.matrix(rows * positions, k, cols)?;
            let z = alg.matmul(&cols, ws.next().ok_or_else(missing)?).await?;
            let z = to_channel_major(alg.values(&z), rows, positions, filters);
            (
                alg.matrix(rows, filters * positions, z)?,
                Kept::Inputs(cols),
            )
        }
        Layer::Relu => {
            let (r, d) = alg.relu_with_derivative(a).await?;
            (r, Kept::Factor(d))
        }
        Layer::MaxPool {
            input,
            window,
            stride,
        } => {
            let (m, mask) = alg
                .max_pool_with_derivative(a, pool2d(input, window, stride))
                .await?;
            (m, Kept::Factor(mask))
        }
        Layer::MeanPool { input, window } => {
            let sums = block_sums(alg.values(a), rows, input, window, zero, |x, y| {
                alg.add(x, y)
            });
            let cols = sums.len() / rows.max(1);
            let sums = alg.matrix(rows, cols, sums)?;
            (
                alg.scale(&sums, 1.0 / (window * window) as f64).await?,
                Kept::Nothing,
            )
        }
        Layer::Square => {
            let s = alg.mul(a, a).await?;
            let (r, c) = alg.shape(a);
            (s, Kept::Squared(alg.matrix(r, c, alg.values(a).to_vec())?))
        }
    })
}

/// `w - c * grad`.
async fn step<A: Algebra>(
    alg: &mut A,
    w: &A::Matrix,
    grad: &A::Matrix,
    c: f64,
) -> Result<A::Matrix, Error> {
    let s = alg.scale(grad, c).await?;
    let (r, k) = alg.shape(w);
    let data = alg
        .values(w)
        .iter()
        .zip(alg.values(&s))
        .map(|(&a, &b)| alg.sub(a, b))
        .collect();
    alg.matrix(r, k, data)
}

fn transpose<A: Algebra>(alg: &A, m: &A::Matrix) -> Result<A::Matrix, Error> {
    let (r, c) = alg.shape(m);
    let v = alg.values(m);
    let mut data = Vec::with_capacity(v.len());
    for j in 0..c {
        data.extend((0..r).map(|i| v[i * c + j]));
    }
    alg.matrix(c, r, data)
}

/// The first `rows` rows (the weights without the bias row).
fn top_rows<A: Algebra>(alg: &A, m: &A::Matrix, rows: usize) -> Result<A::Matrix, Error> {
    let (_, c) = alg.shape(m);
    alg.matrix(rows, c, alg.values(m)[..rows * c].to_vec())
}

/// The inverse of [`to_channel_major`]: `rows x (filters * positions)` into
/// `(rows * positions) x filters`.
fn from_channel_major<V: Copy>(z: &[V], rows: usize, positions: usize, filters: usize) -> Vec<V> {
    let mut out = Vec::with_capacity(z.len());
    for n in 0..rows {
        for q in 0..positions {
            out.extend((0..filters).map(|f| z[(n * filters + f) * positions + q]));
        }
    }
    out
}

/// The adjoint of im2col: each column entry's gradient added back onto the image position it
/// was read from (padding and the bias column dropped).
fn col2im<A: Algebra>(
    alg: &A,
    cols: &[A::Value],
    rows: usize,
    input: super::inference::Image,
    (kernel, stride, padding): (usize, usize, usize),
    zero: A::Value,
) -> Vec<A::Value> {
    let oh = out_side(input.height, kernel, stride, padding).unwrap_or(0);
    let ow = out_side(input.width, kernel, stride, padding).unwrap_or(0);
    let width = input.channels * kernel * kernel;
    let mut img = vec![zero; rows * input.len()];
    let mut entries = cols.chunks_exact(width.max(1));
    for n in 0..rows {
        let out = &mut img[n * input.len()..(n + 1) * input.len()];
        for oy in 0..oh {
            for ox in 0..ow {
                let Some(row) = entries.next() else {
                    return img;
                };
                let mut at = 0;
                for c in 0..input.channels {
                    for ky in 0..kernel {
                        for kx in 0..kernel {
                            let y = (oy * stride + ky) as isize - padding as isize;
                            let x = (ox * stride + kx) as isize - padding as isize;
                            if y >= 0
                                && x >= 0
                                && (y as usize) < input.height
                                && (x as usize) < input.width
                            {
                                let i = (c * input.height + y as usize) * input.width + x as usize;
                                out[i] = alg.add(out[i], row[at]);
                            }
                            at += 1;
                        }
                    }
                }
            }
        }
    }
    img
}

/// Each window's value copied to the window's positions of an image of shape `input` (windows
/// of side `window` that do not overlap; positions outside every window get zero).
fn upsample<V: Copy>(
    pooled: &[V],
    rows: usize,
    input: super::inference::Image,
    window: usize,
    zero: V,
) -> Vec<V> {
    let oh = input.height / window.max(1);
    let ow = input.width / window.max(1);
    let mut out = vec![zero; rows * input.len()];
    let mut values = pooled.iter();
    for n in 0..rows {
        for c in 0..input.channels {
            for oy in 0..oh {
                for ox in 0..ow {
                    let Some(&v) = values.next() else { return out };
                    for dy in 0..window {
                        for dx in 0..window {
                            let at = (c * input.height + oy * window + dy) * input.width
                                + ox * window
                                + dx;
                            out[n * input.len() + at] = v;
                        }
                    }
                }
            }
        }
    }
    out
}

/// [`train_network`] in `f64`: the plaintext twin of a secure training run.
pub fn train_network_plain(
    net: &Network,
    x: &[f64],
    y: &[f64],
    weights: &[Vec<f64>],
    params: &SgdParams,
    loss: MlpLoss,
) -> Result<Vec<Vec<f64>>, Error> {
    let mut alg = Plain;
    let classes = net.check()?;
    let rows = x.len() / net.input.max(1);
    let x = alg.matrix(rows, net.input, x.to_vec())?;
    let y = alg.matrix(rows, classes, y.to_vec())?;
    let w = crate::executor::block_on(train_network(
        &mut alg,
        net,
        &x,
        &y,
        weights,
        params,
        loss,
        |_, _| {},
    ))?;
    Ok(w.into_iter().map(|m| m.data).collect())
}

/// Initial weights for `net`, deterministic in `seed`: uniform in `+-sqrt(6 / fan_in)` (fan-in
/// = the weight matrix's rows without the bias), biases zero. Public, like
/// [`super::plain::Mlp::init`].
pub fn init_weights(net: &Network, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // splitmix64: public initial weights only, never secrets.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    net.layers
        .iter()
        .filter_map(Layer::weight_shape)
        .map(|(rows, cols)| {
            let fan_in = rows.saturating_sub(1).max(1);
            let a = libm::sqrt(6.0 / fan_in as f64);
            let mut w: Vec<f64> = (0..fan_in * cols)
                .map(|_| (2.0 * next() - 1.0) * a)
                .collect();
            w.extend(core::iter::repeat_n(0.0, cols));
            w
        })
        .collect()
}

/// SecureNN's networks for 28 x 28 MNIST images (its Appendix C): `'A'` the 784-128-128-10
/// perceptron, `'B'` MiniONN's CNN (two 5x5 convolutions of 16 channels, each with ReLU and 2x2
/// max pooling, then 256-100-10), `'C'` LeNet (20 and 50 channels, then 800-500-10), `'D'`
/// Chameleon's (one 5x5 convolution of 5 channels with stride 2 and padding 2, then
/// 980-100-10). ReLU after every layer but the last.
pub fn securenn_network(name: char) -> Option<Network> {
    use super::inference::Image;
    let image = |channels, side| Image {
        channels,
        height: side,
        width: side,
    };
    let dense = |inputs, outputs| Layer::Dense { inputs, outputs };
    let conv = |input, filters, stride, padding| Layer::Conv {
        input,
        filters,
        kernel: 5,
        stride,
        padding,
    };
    let pool = |input| Layer::MaxPool {
        input,
        window: 2,
        stride: 2,
    };
    let cnn = |a: usize, b: usize, hidden: usize| {
        vec![
            conv(image(1, 28), a, 1, 0),
            Layer::Relu,
            pool(image(a, 24)),
            conv(image(a, 12), b, 1, 0),
            Layer::Relu,
            pool(image(b, 8)),
            dense(b * 16, hidden),
            Layer::Relu,
            dense(hidden, 10),
        ]
    };
    let layers = match name {
        'A' => vec![
            dense(784, 128),
            Layer::Relu,
            dense(128, 128),
            Layer::Relu,
            dense(128, 10),
        ],
        'B' => cnn(16, 16, 100),
        'C' => cnn(20, 50, 500),
        'D' => vec![
            conv(image(1, 28), 5, 2, 2),
            Layer::Relu,
            dense(980, 100),
            Layer::Relu,
            dense(100, 10),
        ],
        _ => return None,
    };
    Some(Network { input: 784, layers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::inference::Image;

    /// A ReLU before max pooling, applied after the pooling to the window maxima, trains the
    /// same weights as the network with the two layers swapped (which pools, then applies ReLU
    /// as two layers of their own): the fused bookkeeping loses or misplaces no gradient.
    #[test]
    fn relu_then_max_pool_trains_like_max_pool_then_relu() {
        let image = |channels, side| Image {
            channels,
            height: side,
            width: side,
        };
        let net = |relu_first: bool| {
            let (relu, pool) = (
                Layer::Relu,
                Layer::MaxPool {
                    input: image(3, 8),
                    window: 2,
                    stride: 2,
                },
            );
            let (a, b) = if relu_first {
                (relu, pool)
            } else {
                (pool, relu)
            };
            Network {
                input: 64,
                layers: vec![
                    Layer::Conv {
                        input: image(1, 8),
                        filters: 3,
                        kernel: 3,
                        stride: 1,
                        padding: 1,
                    },
                    a,
                    b,
                    Layer::Dense {
                        inputs: 48,
                        outputs: 4,
                    },
                ],
            }
        };
        // Images of uniform noise; the label is the brightest quadrant.
        let mut state = 7u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 32;
        let x: Vec<f64> = (0..n * 64).map(|_| uniform()).collect();
        let mut y = vec![0.0; n * 4];
        for (i, img) in x.chunks_exact(64).enumerate() {
            let quadrant = |q: usize| -> f64 {
                (0..64)
                    .filter(|p| (p / 8 / 4) * 2 + p % 8 / 4 == q)
                    .map(|p| img[p])
                    .sum()
            };
            let best = (0..4).fold(0, |b, q| if quadrant(q) > quadrant(b) { q } else { b });
            y[i * 4 + best] = 1.0;
        }
        let (fused, swapped) = (net(true), net(false));
        let w0 = init_weights(&fused, 5);
        let params = SgdParams {
            epochs: 2,
            batch: 8,
            learning_rate: 0.1,
        };
        let a = train_network_plain(&fused, &x, &y, &w0, &params, MlpLoss::Squared).unwrap();
        let b = train_network_plain(&swapped, &x, &y, &w0, &params, MlpLoss::Squared).unwrap();
        assert_ne!(a, w0, "the weights did not move");
        assert_eq!(a, b);
    }
}
