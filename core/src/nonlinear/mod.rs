//! The non-linear layer: comparisons, ReLU, sigmoids, max, argmax, max pooling and exact
//! truncation on fixed-point shares, each a small garbled circuit per element (`alloc`).
//!
//! Every operation here is a function of a [`Context`], vectorized over a [`Shares`] matrix and
//! run in one garbled-circuit round trip for the whole matrix (max and argmax take one per halving of the
//! row). P0 garbles, P1 evaluates with its input labels by random OT from the offline source, and
//! the results come back as fresh arithmetic shares (by adding a mask of P0's inside the circuit). Results are exact: they
//! reconstruct to the plaintext fixed-point reference bit for bit, except [`sigmoid`] and
//! [`piecewise_linear`], whose final product is truncated like [`online::mul`].
//!
//! Comparisons read the sign of a difference, so they are exact while `|x - y| < 2^(k-1)`, which
//! holds for every pair of values in the fixed-point range.
//!
//! ## Costs
//! AND gates per element over Z_2^64 (32 bytes each on the wire), checked by a unit test: ReLU
//! 190 (237 with its derivative), sign and comparison 110, exact truncation 126, the piecewise
//! sigmoid 412, the 34-segment [`PiecewiseLinear::sigmoid`] 1,695; max and argmax take `n - 1`
//! pairwise steps of 190 and 380. Input labels add 16 bytes per bit of P0's shares and masks and
//! 32 bytes per bit of P1's shares (its random-OT corrections): 4 KiB per element for one word
//! in and one out.
//!
//! ## Security
//! Semi-honest, as [`crate::gc`]: P1 sees garbled labels and its outputs masked by P0's fresh
//! uniform masks; P0 sees P1's input bits masked by random OT choices.

mod fss;
mod functions;
mod gadget;
mod sign_steps;

use gadget::run_gadget;

use crate::arith::online;
use crate::context::{Backend, Context};
use crate::correlated::Correlations;
use crate::error::{Error, ErrorKind};
use crate::gc::{Circuit, Job, Reveal, execute};
use crate::hash::FixedKeyAes;
use crate::prg::Domain;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Shares;
use crate::transport::Transport;
use alloc::vec;
use alloc::vec::Vec;

/// A square max-pooling window over images stored one per row, channel-major
/// (`channels x height x width`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    /// Channels per image.
    pub channels: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// The window's side.
    pub window: usize,
    /// The step between windows.
    pub stride: usize,
}

impl Pool2d {
    /// The output's height and width: `(side - window) / stride + 1` each.
    pub fn output_size(&self) -> Result<(usize, usize), Error> {
        let bad = |why| Error::new("max_pool", ErrorKind::InvalidArgument(why));
        if self.window == 0 || self.stride == 0 {
            return Err(bad("window and stride must be positive"));
        }
        if self.window > self.height || self.window > self.width {
            return Err(bad("window larger than the image"));
        }
        Ok((
            (self.height - self.window) / self.stride + 1,
            (self.width - self.window) / self.stride + 1,
        ))
    }
}

/// A piecewise-linear function with public breakpoints `t_1 < ... < t_S`: on the segment
/// `[t_i, t_(i+1))` (with `t_0 = -inf`, `t_(S+1) = +inf`) it is `slope_i x + intercept_i`.
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseLinear {
    breakpoints: Vec<f64>,
    slopes: Vec<f64>,
    intercepts: Vec<f64>,
}

impl PiecewiseLinear {
    /// The linear interpolation of `f` between the sorted `knots`, constant (`f` at the first or
    /// last knot) outside them. Fails unless there are at least two finite, strictly increasing
    /// knots and `f` is finite on them.
    pub fn interpolate(knots: &[f64], f: impl Fn(f64) -> f64) -> Result<Self, Error> {
        let bad = |why| Error::new("piecewise_linear", ErrorKind::InvalidArgument(why));
        if knots.len() < 2 {
            return Err(bad("at least two knots are needed"));
        }
        if knots.iter().any(|t| !t.is_finite()) || knots.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("knots must be finite and strictly increasing"));
        }
        let ys: Vec<f64> = knots.iter().map(|&t| f(t)).collect();
        if ys.iter().any(|y| !y.is_finite()) {
            return Err(bad("the function is not finite at a knot"));
        }
        let mut slopes = vec![0.0];
        let mut intercepts = vec![ys[0]];
        for i in 0..knots.len() - 1 {
            let a = (ys[i + 1] - ys[i]) / (knots[i + 1] - knots[i]);
            slopes.push(a);
            intercepts.push(ys[i] - a * knots[i]);
        }
        slopes.push(0.0);
        intercepts.push(ys[ys.len() - 1]);
        Ok(PiecewiseLinear {
            breakpoints: knots.to_vec(),
            slopes,
            intercepts,
        })
    }

    /// The logistic function `1 / (1 + e^-x)` interpolated on knots every 1/2 from -8 to 8
    /// (34 segments; largest error about 0.0025, near |x| = 1.5, and 0.0003 beyond |x| = 8).
    pub fn sigmoid() -> Self {
        let knots: Vec<f64> = (-16..=16).map(|i| f64::from(i) * 0.5).collect();
        Self::interpolate(&knots, |x| 1.0 / (1.0 + libm::exp(-x)))
            .expect("the sigmoid knots are valid")
    }

    /// The breakpoints `t_1 < ... < t_S`.
    pub fn breakpoints(&self) -> &[f64] {
        &self.breakpoints
    }

    /// The breakpoints, slopes and intercepts encoded in ring `R` with `fixed`, and whether every
    /// slope is an integer: then the slopes are returned unscaled, so that the product with `x`
    /// needs no truncation and is exact. Fails if a coefficient is outside the fixed-point range.
    #[allow(clippy::type_complexity)]
    pub(crate) fn coefficients<R: Ring>(
        &self,
        fixed: crate::fixed::FixedPoint,
    ) -> Result<(Vec<R>, Vec<R>, Vec<R>, bool), Error> {
        let frac = fixed.frac_bits();
        let enc = |v: &[f64]| -> Result<Vec<R>, Error> {
            v.iter().map(|&c| fixed.encode::<R>(c)).collect()
        };
        let (t, a, b) = (
            enc(&self.breakpoints)?,
            enc(&self.slopes)?,
            enc(&self.intercepts)?,
        );
        let integer = a.iter().all(|s| s.sar(frac).shl(frac) == *s);
        let a = if integer {
            a.iter().map(|s| s.sar(frac)).collect()
        } else {
            a
        };
        Ok((t, a, b, integer))
    }

    /// The function in plaintext `f64`.
    pub fn eval(&self, x: f64) -> f64 {
        let i = self.breakpoints.iter().take_while(|&&t| x >= t).count();
        self.slopes[i] * x + self.intercepts[i]
    }
}

/// Attributes an error from the steps of operation `op` to `op`.
async fn named<V>(op: &'static str, f: impl Future<Output = Result<V, Error>>) -> Result<V, Error> {
    f.await.map_err(|e| e.in_op(op))
}

fn width<R: Ring>() -> usize {
    R::BITS as usize
}

/// The protocols a context's backend setting resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    /// Garbled circuits between P0 and P1.
    Circuits,
    /// Function secret sharing with keys from the dealer.
    Fss,
    /// Sign steps of a third party online: SecureNN's helper (three servers) or PrivPy's
    /// assistants (four servers), and what composes from them.
    SignSteps,
}

/// The engine of the context's [`Backend`]: with four servers always the assistants' sign steps
/// (Sa as the helper, or with [`Backend::GarbledCircuits`] PrivPy's Protocol 2);
/// otherwise [`Backend::Auto`] picks the helper when the source is a helper (three servers), FSS
/// when it deals keys, else garbled circuits.
fn engine<T, C: Correlations<T>>(ctx: &Context<T, C>) -> Result<Engine, Error> {
    let source = ctx.source();
    let (helps, deals) = (source.helps_online(), source.deals_gate_keys());
    let unsupported = |why| Err(Error::new("backend", ErrorKind::Unsupported(why)));
    if ctx.topology() == crate::topology::Topology::FourServers {
        return match ctx.config().backend {
            Backend::Fss => unsupported("four servers compare at their assistants, without keys"),
            _ => Ok(Engine::SignSteps),
        };
    }
    match ctx.config().backend {
        Backend::Auto if helps => Ok(Engine::SignSteps),
        Backend::Auto if deals => Ok(Engine::Fss),
        Backend::Auto | Backend::GarbledCircuits => Ok(Engine::Circuits),
        Backend::Fss if deals => Ok(Engine::Fss),
        Backend::Fss => unsupported("the FSS backend needs a dealer as the offline source"),
        Backend::Helper if helps => Ok(Engine::SignSteps),
        Backend::Helper => {
            unsupported("the helper backend needs a third server (three or four servers)")
        }
    }
}

/// `v << at` for each element: 0/1 shares as fixed-point 0.0/1.0 (for `at` = fractional bits).
fn scaled<R: Ring>(v: Vec<R>, at: u32) -> Vec<R> {
    v.into_iter().map(|d| d.shl(at)).collect()
}

/// `max(x, 0)` elementwise.
pub async fn relu<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("relu", async {
        let relu = match engine(ctx)? {
            Engine::Fss => fss::sign(ctx, x.as_slice(), true).await?.1,
            Engine::SignSteps => sign_steps::sign(ctx, x.as_slice(), true).await?.1,
            Engine::Circuits => None,
        };
        if let Some(relu) = relu {
            return x.with_data(relu);
        }
        let g = functions::relu(width::<R>(), None)?;
        let mut out = run_gadget(ctx, "relu", &g, &[x.as_slice()]).await?;
        x.with_data(out.swap_remove(0))
    })
    .await
}

/// `max(x, 0)` and its derivative (1.0 where `x >= 0`, else 0.0) elementwise, in one round trip:
/// what a network's forward pass keeps for its backward pass.
pub async fn relu_with_derivative<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<(Shares<R>, Shares<R>), Error> {
    let at = ctx.fixed().frac_bits();
    named("relu_with_derivative", async {
        let engine = engine(ctx)?;
        if engine != Engine::Circuits {
            let (d, relu) = match engine {
                Engine::SignSteps => sign_steps::sign(ctx, x.as_slice(), true).await?,
                _ => fss::sign(ctx, x.as_slice(), true).await?,
            };
            return Ok((
                x.with_data(relu.unwrap_or_default())?,
                x.with_data(scaled(d, at))?,
            ));
        }
        let g = functions::relu(width::<R>(), Some(at))?;
        let mut out = run_gadget(ctx, "relu", &g, &[x.as_slice()]).await?;
        let d = x.with_data(out.pop().unwrap_or_default())?;
        Ok((x.with_data(out.pop().unwrap_or_default())?, d))
    })
    .await
}

/// The sign test DReLU: 1.0 where `x >= 0`, else 0.0, elementwise.
pub async fn drelu<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let at = ctx.fixed().frac_bits();
    named("drelu", sign_word(ctx, x, at, false)).await
}

/// The comparison `x < y`: 1.0 where it holds, else 0.0, elementwise.
pub async fn less_than<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let at = ctx.fixed().frac_bits();
    named("less_than", async {
        let d = x.zip_with(y, "less_than", R::sub)?;
        sign_word(ctx, &d, at, true).await
    })
    .await
}

/// The equality test `x == y`: 1.0 where it holds, else 0.0, elementwise (with FSS one point
/// function per element at the dealer's mask).
pub async fn equal<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let at = ctx.fixed().frac_bits();
    named("equal", async {
        let d = x.zip_with(y, "equal", R::sub)?;
        let e = match engine(ctx)? {
            Engine::Fss => Some(fss::equal_zero(ctx, d.as_slice()).await?),
            Engine::SignSteps => Some(sign_steps::equal_zero(ctx, d.as_slice()).await?),
            Engine::Circuits => None,
        };
        if let Some(e) = e {
            return d.with_data(scaled(e, at));
        }
        let g = functions::is_zero(width::<R>(), at)?;
        let mut out = run_gadget(ctx, "equal", &g, &[d.as_slice()]).await?;
        d.with_data(out.swap_remove(0))
    })
    .await
}

/// Shares of `[x >= 0]` as the integers 0 and 1 (not fixed point), on any backend.
pub(crate) async fn sign_bits<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    sign_word(ctx, x, 0, false).await
}

/// `2^at` where `x < 0` (if `negative`) or `x >= 0` (if not), else 0.
async fn sign_word<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    at: u32,
    negative: bool,
) -> Result<Shares<R>, Error> {
    let d = match engine(ctx)? {
        Engine::Fss => Some(fss::sign(ctx, x.as_slice(), false).await?.0),
        Engine::SignSteps => Some(sign_steps::sign(ctx, x.as_slice(), false).await?.0),
        Engine::Circuits => None,
    };
    if let Some(d) = d {
        let one = if ctx.role()? == Role::P0 {
            R::ONE
        } else {
            R::ZERO
        };
        let d = if negative {
            d.into_iter().map(|v| one.sub(v)).collect()
        } else {
            d
        };
        return x.with_data(scaled(d, at));
    }
    let g = functions::sign(width::<R>(), at, negative)?;
    let mut out = run_gadget(ctx, "sign", &g, &[x.as_slice()]).await?;
    x.with_data(out.swap_remove(0))
}

/// SecureML's piecewise sigmoid: 0 below -1/2, `x + 1/2` between, 1 above 1/2, elementwise.
/// The comparisons are on `x` itself, so values near the ends of the range are right too.
pub async fn sigmoid_piecewise<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    named("sigmoid_piecewise", async {
        let engine = engine(ctx)?;
        if engine != Engine::Circuits {
            let clipped = PiecewiseLinear::interpolate(&[-0.5, 0.5], |x| x + 0.5)?;
            return match engine {
                Engine::SignSteps => sign_steps::spline(ctx, x, &clipped).await,
                _ => fss::spline(ctx, x, &clipped).await,
            };
        }
        let g = functions::sigmoid_piecewise(width::<R>(), f)?;
        let mut out = run_gadget(ctx, "sigmoid", &g, &[x.as_slice()]).await?;
        x.with_data(out.swap_remove(0))
    })
    .await
}

/// The logistic function by [`PiecewiseLinear::sigmoid`] (error below 0.003 plus one ulp): one
/// garbled-circuit round trip and one product.
pub async fn sigmoid<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named(
        "sigmoid",
        piecewise_linear(ctx, x, &PiecewiseLinear::sigmoid()),
    )
    .await
}

/// Any [`PiecewiseLinear`] function, elementwise: the circuit compares `x` with every breakpoint
/// and returns the segment's slope and intercept as shares; then one product. Fails before
/// communicating if a coefficient is outside the fixed-point range.
pub async fn piecewise_linear<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    f: &PiecewiseLinear,
) -> Result<Shares<R>, Error> {
    let fixed = ctx.fixed();
    let enc = |v: &[f64]| -> Result<Vec<u128>, Error> {
        v.iter()
            .map(|&c| fixed.encode::<R>(c).map(|r| r.to_signed() as u128))
            .collect()
    };
    named("piecewise_linear", async {
        match engine(ctx)? {
            Engine::Fss => return fss::spline(ctx, x, f).await,
            Engine::SignSteps => return sign_steps::spline(ctx, x, f).await,
            Engine::Circuits => {}
        }
        let (t, a, c) = (enc(&f.breakpoints)?, enc(&f.slopes)?, enc(&f.intercepts)?);
        let g = functions::piecewise_linear(width::<R>(), &t, &a, &c)?;
        let mut out = run_gadget(ctx, "piecewise", &g, &[x.as_slice()]).await?;
        let intercept = x.with_data(out.pop().unwrap_or_default())?;
        let slope = x.with_data(out.pop().unwrap_or_default())?;
        let y = online::mul(ctx, &slope, x).await?;
        y.zip_with(&intercept, "piecewise_linear", R::add)
    })
    .await
}

/// `floor(x / 2^bits)` exactly (MiniONN's truncation): the circuit reconstructs `x`, shifts it and
/// re-shares it under a fresh mask. No error at all, at 126 AND gates per element.
pub async fn truncate_exact<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    bits: u32,
) -> Result<Shares<R>, Error> {
    if bits >= R::BITS {
        return Err(Error::new(
            "truncate_exact",
            ErrorKind::InvalidArgument("shift too large for the ring"),
        ));
    }
    named("truncate_exact", async {
        // The helper deals FSS keys too: its backend truncates with them (PrivPy's primaries,
        // with OT between them, run the circuit).
        if engine(ctx)? != Engine::Circuits && ctx.source().deals_gate_keys() {
            return fss::shift(ctx, x, bits).await;
        }
        let g = functions::shift(width::<R>(), bits)?;
        let mut out = run_gadget(ctx, "truncate_exact", &g, &[x.as_slice()]).await?;
        x.with_data(out.swap_remove(0))
    })
    .await
}

/// The largest value of each row: a `rows x 1` result, by a tournament of `ceil(log2 cols)` rounds
/// of pairwise `max(a, b) = b + relu(a - b)`.
pub async fn max<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    named("max", async { Ok(tournament(ctx, x, false).await?.0) }).await
}

/// The largest value of each row and its column index (the first one on ties), both `rows x 1`;
/// indices are fixed-point integers (0.0, 1.0, ...).
pub async fn argmax<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<(Shares<R>, Shares<R>), Error> {
    named("argmax", async {
        let (m, i) = tournament(ctx, x, true).await?;
        Ok((m, i.map_or_else(|| Shares::zeros(0, 0), Ok)?))
    })
    .await
}

async fn tournament<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    with_index: bool,
) -> Result<(Shares<R>, Option<Shares<R>>), Error> {
    let (rows, cols) = x.shape();
    if cols == 0 {
        return Err(Error::new(
            "max",
            ErrorKind::InvalidArgument("rows are empty"),
        ));
    }
    let words = 1 + usize::from(with_index);
    let engine = engine(ctx)?;
    let g = match engine {
        Engine::Circuits => Some(functions::max_step(width::<R>(), with_index)?),
        Engine::Fss | Engine::SignSteps => None,
    };
    // The candidates, row-major: `width` per row. Indices are public: P0 holds them as its
    // shares, P1 holds zero.
    let mut vals = x.as_slice().to_vec();
    let f = ctx.fixed().frac_bits();
    let mut idx: Vec<R> = match (with_index, ctx.role()?) {
        (false, _) => Vec::new(),
        (true, Role::P0) => (0..rows * cols)
            .map(|i| R::from_u64((i % cols) as u64).shl(f))
            .collect(),
        (true, Role::P1) => vec![R::ZERO; rows * cols],
    };
    let mut width = cols;
    while width > 1 {
        let (pairs, next) = (width / 2, width.div_ceil(2));
        let left = |v: &[R], r: usize, j: usize| v[r * width + 2 * j];
        let right = |v: &[R], r: usize, j: usize| v[r * width + 2 * j + 1];
        let diff = |v: &[R]| -> Vec<R> {
            if v.is_empty() {
                return Vec::new();
            }
            (0..rows * pairs)
                .map(|k| left(v, k / pairs, k % pairs).sub(right(v, k / pairs, k % pairs)))
                .collect()
        };
        let (d, e) = (diff(&vals), diff(&idx));
        let out = match engine {
            Engine::Fss => {
                // relu(a - b), and [a >= b] (a - b) for the indices by one product.
                let (ge, relu) = fss::sign(ctx, &d, true).await?;
                let mut out = vec![relu.unwrap_or_default()];
                if with_index {
                    let (ge, e) = (Shares::vector(ge), Shares::vector(e));
                    let picked = online::mul_integer(ctx, &ge, &e).await?;
                    out.push(picked.into_vec());
                }
                out
            }
            Engine::SignSteps => {
                // [a >= b] times (a - b) and the indices' difference, in one product.
                let ge = sign_steps::step(ctx, &d).await?;
                let n = ge.len();
                let mut select = ge.clone();
                let mut what = d;
                if with_index {
                    select.extend_from_slice(&ge);
                    what.extend_from_slice(&e);
                }
                let mut picked =
                    online::mul_integer(ctx, &Shares::vector(select), &Shares::vector(what))
                        .await?
                        .into_vec();
                let index = picked.split_off(n);
                if with_index {
                    vec![picked, index]
                } else {
                    vec![picked]
                }
            }
            Engine::Circuits => {
                let inputs: [&[R]; 2] = [&d, &e];
                let g = g
                    .as_ref()
                    .ok_or(Error::new("max", ErrorKind::Malformed("no circuit")))?;
                run_gadget(ctx, "max", g, &inputs[..words]).await?
            }
        };
        // Winner = right + gadget output; an odd last candidate passes through.
        let advance = |v: &[R], o: &[R]| -> Vec<R> {
            let mut n = Vec::with_capacity(rows * next);
            for r in 0..rows {
                n.extend((0..pairs).map(|j| right(v, r, j).add(o[r * pairs + j])));
                if width % 2 == 1 {
                    n.push(v[r * width + width - 1]);
                }
            }
            n
        };
        vals = advance(&vals, &out[0]);
        if with_index {
            idx = advance(&idx, &out[1]);
        }
        width = next;
    }
    let m = Shares::matrix(rows, 1, vals)?;
    let i = with_index
        .then(|| Shares::matrix(rows, 1, idx))
        .transpose()?;
    Ok((m, i))
}

/// `x / y` elementwise for `0 <= x <= y` and `0 < y < 2^(k-2)` (SecureNN's Algorithm 8, the
/// division of normalizations): exactly `floor(x 2^f / y)`, by long division one quotient bit per
/// step, `f + 1` steps of one sign test and one product each. Outside that range the result is
/// not meaningful.
pub async fn divide<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    y: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    named("divide", async {
        x.check_same_shape(y, "divide")?;
        let mut rem = x.clone();
        let mut quotient = Shares::zeros(x.rows(), x.cols())?;
        for i in 0..=f {
            // The quotient bit of weight 2^(f - i): [rem >= y].
            let bit = sign_word(ctx, &rem.sub(y)?, 0, false).await?;
            let taken = online::mul_integer(ctx, &bit, y).await?;
            rem = rem.sub(&taken)?;
            quotient = quotient.add(&bit.map(|b| b.shl(f - i)))?;
            if i < f {
                rem = rem.mul_integer(2);
            }
        }
        Ok(quotient)
    })
    .await
}

/// SecureML's softmax replacement, per row: `relu(x_i) / sum_j relu(x_j)` (floor, with the
/// session's fractional bits), and `1 / cols` across a row whose values are all `<= 0`. One
/// garbled-circuit round trip; the circuit divides in `2 k (f + 1)` AND gates per value. With the
/// helper: ReLU, an equality test of each row's sum and SecureNN's division ([`divide`]).
pub async fn relu_softmax<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
) -> Result<Shares<R>, Error> {
    let f = ctx.fixed().frac_bits();
    named("relu_softmax", async {
        let (rows, cols) = x.shape();
        if cols == 0 {
            return Err(Error::new(
                "relu_softmax",
                ErrorKind::InvalidArgument("rows are empty"),
            ));
        }
        if engine(ctx)? == Engine::SignSteps {
            return sign_steps::relu_softmax(ctx, x).await;
        }
        let g = functions::relu_softmax(width::<R>(), f, cols)?;
        // One element per row: the row's values are the gadget's input words.
        let columns: Vec<Vec<R>> = (0..cols)
            .map(|j| (0..rows).map(|r| x.as_slice()[r * cols + j]).collect())
            .collect();
        let inputs: Vec<&[R]> = columns.iter().map(|c| c.as_slice()).collect();
        let out = run_gadget(ctx, "relu_softmax", &g, &inputs).await?;
        let data = (0..rows * cols).map(|i| out[i % cols][i / cols]).collect();
        x.with_data(data)
    })
    .await
}

/// Max pooling: each row of `x` is an image (`channels x height x width`, channel-major); the
/// result has one row per image of `channels x out_h x out_w` window maxima.
pub async fn max_pool<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    pool: Pool2d,
) -> Result<Shares<R>, Error> {
    named("max_pool", async {
        let (windows, per_out) = pool_windows(ctx, x, pool)?;
        let (m, _) = tournament(ctx, &windows, false).await?;
        m.reshape(x.rows(), per_out)
    })
    .await
}

/// Max pooling and its derivative: the window maxima as [`max_pool`] returns them, and a mask
/// shaped like `x` holding 1.0 at each window's maximum (its first position on ties) and 0.0
/// elsewhere, summed where windows overlap, which is what back-propagation through the pooling
/// multiplies the incoming gradient by. The one-hot vectors come from the window's argmax: with
/// the helper, by SecureNN's unit-vector step when the window has a power-of-two size
/// (Algorithm 10), else by one equality test per window position.
pub async fn max_pool_with_derivative<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    x: &Shares<R>,
    pool: Pool2d,
) -> Result<(Shares<R>, Shares<R>), Error> {
    named("max_pool_with_derivative", async {
        let (windows, per_out) = pool_windows(ctx, x, pool)?;
        let (m, index) = tournament(ctx, &windows, true).await?;
        let index = index.ok_or(Error::new("max_pool", ErrorKind::Malformed("no index")))?;
        let len = windows.cols();
        let hot = one_hot(ctx, index.as_slice(), len).await?;
        // Scatter each window's one-hot vector back onto the image positions it covers.
        let (oh, ow) = pool.output_size()?;
        let (c, h, w, k, s) = (
            pool.channels,
            pool.height,
            pool.width,
            pool.window,
            pool.stride,
        );
        let mut mask: Shares<R> = Shares::zeros(x.rows(), x.cols())?;
        let out = mask.as_mut_slice();
        let mut vectors = hot.chunks_exact(len);
        for img in 0..x.rows() {
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let v = vectors.next().unwrap_or_default();
                        for (t, &e) in v.iter().enumerate() {
                            let (dy, dx) = (t / k, t % k);
                            let at = img * c * h * w + ch * h * w + (oy * s + dy) * w + ox * s + dx;
                            out[at] = out[at].add(e);
                        }
                    }
                }
            }
        }
        Ok((m.reshape(x.rows(), per_out)?, mask))
    })
    .await
}

/// The windows of `pool` over the images in `x`, one row each (`k * k` values, row by row), and
/// the number of windows per image.
fn pool_windows<T, C, R: Ring>(
    ctx: &Context<T, C>,
    x: &Shares<R>,
    pool: Pool2d,
) -> Result<(Shares<R>, usize), Error> {
    let (oh, ow) = pool.output_size()?;
    let (c, h, w, k, s) = (
        pool.channels,
        pool.height,
        pool.width,
        pool.window,
        pool.stride,
    );
    let per_image = c
        .checked_mul(h)
        .and_then(|v| v.checked_mul(w))
        .ok_or_else(|| Error::new("max_pool", ErrorKind::InvalidArgument("shape overflow")))?;
    if x.cols() != per_image {
        return Err(Error::dimension("max_pool", per_image, x.cols()));
    }
    // The window buffer: checked against the session's maximum before it is allocated.
    let per_channel = crate::limits::product("max_pool", oh, ow)?;
    let per_out = crate::limits::product("max_pool", c, per_channel)?;
    let outputs = crate::limits::product("max_pool", x.rows(), per_out)?;
    let window = crate::limits::product("max_pool", k, k)?;
    let cells = ctx.config().elements("max_pool", outputs, window)?;
    let mut windows = Vec::with_capacity(cells);
    for img in x.as_slice().chunks_exact(per_image.max(1)).take(x.rows()) {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    for dy in 0..k {
                        let row = ch * h * w + (oy * s + dy) * w + ox * s;
                        windows.extend_from_slice(&img[row..row + k]);
                    }
                }
            }
        }
    }
    Ok((Shares::matrix(outputs, window, windows)?, per_out))
}

/// Shares of the one-hot vectors (`len` each, 1.0 at the fixed point) of shared indices given as
/// fixed-point integers.
async fn one_hot<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    index: &[R],
    len: usize,
) -> Result<Vec<R>, Error> {
    let engine = engine(ctx)?;
    let f = ctx.fixed().frac_bits();
    if engine == Engine::SignSteps
        && ctx.topology() == crate::topology::Topology::ThreeServers
        && len.is_power_of_two()
        && (len as u128) < 1u128 << (R::BITS - f).min(127)
    {
        return crate::helper::unit_vectors(ctx, index, len).await;
    }
    // index - t for every position t; the vector is [index - t == 0].
    let one = if ctx.role()? == Role::P0 {
        R::ONE
    } else {
        R::ZERO
    };
    let n = ctx.config().elements("one_hot", index.len(), len)?;
    let mut d = Vec::with_capacity(n);
    for &i in index {
        d.extend((0..len).map(|t| i.sub(R::from_u64(t as u64).shl(f).mul(one))));
    }
    let e = match engine {
        Engine::Fss => fss::equal_zero(ctx, &d).await?,
        Engine::SignSteps => sign_steps::equal_zero(ctx, &d).await?,
        Engine::Circuits => {
            let g = functions::is_zero(width::<R>(), f)?;
            return Ok(run_gadget(ctx, "one_hot", &g, &[&d]).await?.swap_remove(0));
        }
    };
    Ok(scaled(e, f))
}

/// Runs any circuit (for example one read by [`crate::gc::bristol`]) between P0 and P1: P0
/// garbles, P1 evaluates. `owners` says which party supplies each input value, `inputs` holds this
/// party's values in the circuit's order, concatenated, least significant bit first; `reveal` says
/// who learns the output bits (see [`crate::gc::execute`]).
pub async fn run_circuit<T: Transport, C: Correlations<T>>(
    ctx: &mut Context<T, C>,
    circuit: &Circuit,
    owners: &[Role],
    inputs: &[bool],
    reveal: Reveal,
) -> Result<Vec<bool>, Error> {
    let role = ctx.role()?;
    let mut rng = ctx.fresh_prg(Domain::GARBLING);
    let job = Job {
        circuit,
        owners,
        inputs,
        reveal,
    };
    let hash = FixedKeyAes::new();
    let (links, source) = ctx.split();
    named(
        "run_circuit",
        execute(role, links, source, &hash, &mut rng, job),
    )
    .await
}

/// Converts XOR-shared bits (this party's shares, e.g. from [`Reveal::Shared`]) into arithmetic
/// shares of the same bits as integers 0 or 1: `b = b0 + b1 - 2 b0 b1`, with the product by one
/// Beaver triple per bit (one round).
pub async fn bits_to_arithmetic<T: Transport, C: Correlations<T>, R: Ring>(
    ctx: &mut Context<T, C>,
    bits: &[bool],
) -> Result<Shares<R>, Error> {
    named("bits_to_arithmetic", async {
        let mine: Vec<R> = bits.iter().map(|&b| R::from_u64(u64::from(b))).collect();
        let zero = vec![R::ZERO; bits.len()];
        // Each party's bits as a sharing whose other share is zero.
        let (b0, b1) = match ctx.role()? {
            Role::P0 => (mine, zero),
            Role::P1 => (zero, mine),
        };
        let (b0, b1) = (Shares::vector(b0), Shares::vector(b1));
        let prod = online::mul_integer(ctx, &b0, &b1).await?;
        let sum = b0.zip_with(&b1, "bits_to_arithmetic", R::add)?;
        sum.zip_with(&prod, "bits_to_arithmetic", |s, q| s.sub(q.add(q)))
    })
    .await
}
