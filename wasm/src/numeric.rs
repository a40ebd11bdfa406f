//! The numerical library on shares (the core's `numeric` module, through the session), as
//! methods of [`Party`]: reciprocal and division, `exp`, `log`, square root and its inverse, the
//! logistic function (by `exp` and a reciprocal, and by PrivPy's Euler method), `tanh`, selection
//! by a shared bit, equality, minimum and its index, sum, mean and variance along an axis, and
//! broadcasting. Each is composed of products, truncations and comparisons, so it runs in every
//! topology (two servers with a dealer or OT, three, four) and with every backend.
//!
//! This module translates the JS arguments (octave ranges, axis names, broadcast operations,
//! step counts) and nothing else. The session reduces along rows; other axes are laid out as
//! rows first (a transpose or a reshape, both local) and the results shaped back, as the C ABI
//! does.
//!
//! Numbers: the functions that work with guard bits below the ulp (reciprocal, div, exp, log,
//! sqrt, invSqrt, logistic, logisticEuler, tanh) need Z_2^64 or Z_2^128 with `8 <= fracBits`
//! and `2 fracBits + 24 <= ringBits`: Z_2^32 is refused (`code: "unsupported"`), another format
//! with `code: "invalidArgument"`, before anything is sent. One ulp is `2^-fracBits`.

use crate::convert::field;
use crate::error::invalid;
use crate::party::{Party, Res, Shares, op};
use fixshare::session::AnyShares;
use std::borrow::Cow;
use wasm_bindgen::prelude::*;

/// What a reduction runs along.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// Each row: a `rows x 1` result.
    PerRow,
    /// Each column: a `1 x cols` result.
    PerColumn,
    /// Every element: a `1 x 1` result.
    All,
}

/// The axis a JS argument names: `"perRow"` (also when absent), `"perColumn"` or `"all"`.
fn axis(op: &str, v: &JsValue) -> Res<Axis> {
    if v.is_undefined() || v.is_null() {
        return Ok(Axis::PerRow);
    }
    match v.as_string().as_deref() {
        Some("perRow") => Ok(Axis::PerRow),
        Some("perColumn") => Ok(Axis::PerColumn),
        Some("all") => Ok(Axis::All),
        _ => Err(invalid(
            op,
            "axis must be \"perRow\", \"perColumn\" or \"all\"",
        )),
    }
}

/// `x` with one reduction per row along `axis` (local).
fn lay_out(x: &AnyShares, axis: Axis) -> Res<Cow<'_, AnyShares>> {
    Ok(match axis {
        Axis::PerRow => Cow::Borrowed(x),
        Axis::PerColumn => Cow::Owned(x.transpose()),
        Axis::All => {
            let (r, c) = x.shape();
            // r * c elements already exist: the product cannot overflow.
            let all = x
                .clone()
                .reshape(1, r * c)
                .map_err(|e| crate::error::coded(&e.to_string(), e.kind()))?;
            Cow::Owned(all)
        }
    })
}

/// A per-row result shaped back for `axis`: `1 x cols` for columns.
fn shape_back(r: AnyShares, axis: Axis) -> Shares {
    Shares(if axis == Axis::PerColumn {
        r.transpose()
    } else {
        r
    })
}

/// An optional octave range `{ lo, hi }` (the inputs `[2^lo, 2^hi]`): integers, whose meaning
/// the session checks.
fn octaves(op: &str, v: &JsValue) -> Res<Option<(i32, i32)>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if !v.is_object() {
        return Err(invalid(
            op,
            "range must be an object { lo, hi } (the inputs [2^lo, 2^hi])",
        ));
    }
    let end = |name: &str| {
        let x = field(v, name);
        match x.as_f64() {
            Some(e) if e.fract() == 0.0 && e.abs() <= i32::MAX as f64 => Ok(e as i32),
            _ => Err(invalid(
                op,
                &format!("range.{name} must be an integer (a power of two's exponent)"),
            )),
        }
    };
    Ok(Some((end("lo")?, end("hi")?)))
}

/// Euler steps as a positive integer (the session checks the maximum).
fn steps(op: &str, v: f64) -> Res<u32> {
    if v >= 1.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
        Ok(v as u32)
    } else {
        Err(invalid(op, "steps must be a positive integer"))
    }
}

/// Two results as a JS array `[a, b]`.
fn pair(a: Shares, b: Shares) -> js_sys::Array {
    js_sys::Array::of2(&a.into(), &b.into())
}

#[wasm_bindgen]
impl Party {
    /// `1 / x` elementwise for `x` in `[2^lo, 2^hi]` (`range`; default `[2^-floor(f/2),
    /// 2^floor(f/2)]`, `[2^-8, 2^8]` with 16 fractional bits, `[2^-16, 2^16]` with 32): a spline
    /// with a breakpoint per power of two as first guess, then Newton–Raphson.
    ///
    /// Error: `|y - 1/x| <= 2^-(f+2) / x + 3` ulp. Below `2^lo` the result lies between `2^-lo`
    /// and `1/x`; above `2^hi` it is right while `x < 2^(hi+1)`; at `x <= 0` meaningless (the
    /// parties cannot see such inputs, so cannot refuse them). A range needs integers
    /// `-f <= lo < hi <= f`, at most 64 octaves and `-lo <= ringBits - 2 f - 24`, refused before
    /// anything is sent otherwise.
    pub async fn reciprocal(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Octaves")] range: JsValue,
    ) -> Res<Shares> {
        match octaves("reciprocal", &range)? {
            None => op!(self, "reciprocal", |s| s.reciprocal(&x.0)),
            Some((lo, hi)) => op!(self, "reciprocal", |s| s.reciprocal_in(&x.0, lo, hi)),
        }
        .map(Shares)
    }

    /// `x / y` elementwise for `y` in `[2^lo, 2^hi]` (`range`, as for `reciprocal`) and any `x`
    /// whose quotient fits the fixed-point range: `x` times the reciprocal of `y`. Not SecureNN's
    /// `divide` (exact, but only for `0 <= x <= y`, and slower).
    ///
    /// Error: `|q - x/y| <= 2^-(f+2) |x/y| + (3 |x| + 1)` ulp. Shapes must be equal.
    pub async fn div(
        &self,
        x: &Shares,
        y: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Octaves")] range: JsValue,
    ) -> Res<Shares> {
        match octaves("div", &range)? {
            None => op!(self, "div", |s| s.div(&x.0, &y.0)),
            Some((lo, hi)) => op!(self, "div", |s| s.div_in(&x.0, &y.0, lo, hi)),
        }
        .map(Shares)
    }

    /// `e^x` elementwise for `x` in `expRange()` (`[-16, 5.55]` in Z_2^64 with 16 fractional
    /// bits, `[-32, 27.7]` in Z_2^128 with 32): a Chebyshev series of `e^(x/2^s)`, then `s`
    /// squarings (4 for `f <= 20`, 5 for `f <= 44`); products only, no comparison.
    ///
    /// Error: `|y - e^x| <= 2^(s-f-1) e^x + 6` ulp (`2^-13 e^x` with `f = 16`, `2^-28 e^x` with
    /// `f = 32`). Above the range the result stays right until a truncation fails or `e^x` leaves
    /// the fixed-point range; beyond `2^s` in either direction it is meaningless.
    pub async fn exp(&self, x: &Shares) -> Res<Shares> {
        op!(self, "exp", |s| s.exp(&x.0)).map(Shares)
    }

    /// The documented input range `[lo, hi]` of `exp` for this session's ring and format (local).
    #[wasm_bindgen(js_name = expRange, unchecked_return_type = "[number, number]")]
    pub fn exp_range(&self) -> Res<Vec<f64>> {
        let (lo, hi) = self.with("exp_range", |s| Ok(s.exp_range()))?;
        Ok(vec![lo, hi])
    }

    /// `ln x` elementwise for `x` in `[2^lo, 2^hi]` (`range`, as for `reciprocal`): a spline and
    /// one exact shift split `x` into `2^j (1 + m)`, then a Chebyshev series of `ln(1 + m)`.
    ///
    /// Error: `|y - ln x| <= 4` ulp. Outside the range the result is clamped to `lo ln 2` or
    /// `hi ln 2` (also at `x <= 0`).
    pub async fn log(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Octaves")] range: JsValue,
    ) -> Res<Shares> {
        match octaves("log", &range)? {
            None => op!(self, "log", |s| s.log(&x.0)),
            Some((lo, hi)) => op!(self, "log", |s| s.log_in(&x.0, lo, hi)),
        }
        .map(Shares)
    }

    /// `sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` (`range`, as for `reciprocal`; also
    /// `hi <= ringBits - 2 f - 24`): the inverse square root, a product, and one exact-residual
    /// correction.
    ///
    /// Error: `|y - sqrt(x)| <= 2` ulp. Below `2^lo` the result is too small; at `x = 0` a few
    /// ulp; at `x < 0` meaningless.
    pub async fn sqrt(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Octaves")] range: JsValue,
    ) -> Res<Shares> {
        match octaves("sqrt", &range)? {
            None => op!(self, "sqrt", |s| s.sqrt(&x.0)),
            Some((lo, hi)) => op!(self, "sqrt", |s| s.sqrt_in(&x.0, lo, hi)),
        }
        .map(Shares)
    }

    /// `1 / sqrt(x)` elementwise for `x` in `[2^lo, 2^hi]` (`range`, as for `reciprocal`): a
    /// spline first guess, then Newton–Raphson.
    ///
    /// Error: `|y - x^-1/2| <= 2^-(f-1) x^-1/2 + 3` ulp. Below `2^lo` the result lies between
    /// `2^(-lo/2)` and `x^-1/2`; above `2^hi` it is right while `x < 2^(hi+1)`; at `x <= 0`
    /// meaningless.
    #[wasm_bindgen(js_name = invSqrt)]
    pub async fn inv_sqrt(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Octaves")] range: JsValue,
    ) -> Res<Shares> {
        match octaves("invSqrt", &range)? {
            None => op!(self, "inv_sqrt", |s| s.inv_sqrt(&x.0)),
            Some((lo, hi)) => op!(self, "inv_sqrt", |s| s.inv_sqrt_in(&x.0, lo, hi)),
        }
        .map(Shares)
    }

    /// The logistic function `1 / (1 + e^-x)` elementwise, for every `x`, by `e^-|x|`, a
    /// Newton–Raphson reciprocal and the sign (PrivPy's route; more accurate than the 34-segment
    /// `sigmoid`).
    ///
    /// Error: `|y - 1/(1 + e^-x)| <= 3` ulp.
    pub async fn logistic(&self, x: &Shares) -> Res<Shares> {
        op!(self, "logistic", |s| s.logistic(&x.0)).map(Shares)
    }

    /// The logistic function by PrivPy's Euler method: `steps` steps `y <- y + h y (1 - y)` from
    /// `y = 1/2`, `h = x / steps` (two product rounds each), for `|x| <= steps`.
    ///
    /// Error: about `0.12 / steps + 4` ulp over `|x| <= 10`; beyond `|x| = steps` meaningless.
    /// `steps` must be an integer from 1 to 10000, refused before anything is sent otherwise.
    #[wasm_bindgen(js_name = logisticEuler)]
    pub async fn logistic_euler(&self, x: &Shares, steps: f64) -> Res<Shares> {
        let n = self::steps("logisticEuler", steps)?;
        op!(self, "logistic_euler", |s| s.logistic_euler(&x.0, n)).map(Shares)
    }

    /// `tanh x` elementwise, for every `x`, as `2 logistic(2x) - 1`.
    ///
    /// Error: `|y - tanh x| <= 6` ulp.
    pub async fn tanh(&self, x: &Shares) -> Res<Shares> {
        op!(self, "tanh", |s| s.tanh(&x.0)).map(Shares)
    }

    /// `x` where the shared bit `c` is 1.0, `y` where it is 0.0, elementwise, as `y + c (x - y)`
    /// (one product; exact for a bit, as `lessThan`, `drelu` and `equal` return it). The three
    /// shapes must be equal.
    pub async fn select(&self, c: &Shares, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "select", |s| s.select(&c.0, &x.0, &y.0)).map(Shares)
    }

    /// 1.0 where `x == y`, else 0.0, elementwise (exact). Shapes must be equal.
    pub async fn equal(&self, x: &Shares, y: &Shares) -> Res<Shares> {
        op!(self, "equal", |s| s.equal(&x.0, &y.0)).map(Shares)
    }

    /// The smallest value along `axis` (exact): `"perRow"` (the default) a `rows x 1` result,
    /// `"perColumn"` `1 x cols`, `"all"` `1 x 1`; by a tournament of comparisons (`ceil(log2 n)`
    /// rounds for `n` values). An empty axis or another name is refused before anything is sent.
    pub async fn min(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Axis")] axis: JsValue,
    ) -> Res<Shares> {
        let a = self::axis("min", &axis)?;
        let rows = lay_out(&x.0, a)?;
        op!(self, "min", |s| s.min(&rows)).map(|r| shape_back(r, a))
    }

    /// `[min, index]` along `axis`, both shaped as `min` returns them; the index of the first
    /// smallest value as a fixed-point integer (0.0, 1.0, ...) counted along the axis (row-major
    /// for `"all"`).
    #[wasm_bindgen(unchecked_return_type = "[Shares, Shares]")]
    pub async fn argmin(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Axis")] axis: JsValue,
    ) -> Res<js_sys::Array> {
        let a = self::axis("argmin", &axis)?;
        let rows = lay_out(&x.0, a)?;
        let (m, i) = op!(self, "argmin", |s| s.argmin(&rows))?;
        Ok(pair(shape_back(m, a), shape_back(i, a)))
    }

    /// The sum along `axis` (local, exact), shaped as `min` says.
    pub fn sum(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Axis")] axis: JsValue,
    ) -> Res<Shares> {
        let a = self::axis("sum", &axis)?;
        let rows = lay_out(&x.0, a)?;
        self.with("sum", |s| s.row_sum(&rows))
            .map(|r| shape_back(r, a))
    }

    /// The mean along `axis`, shaped as `min` says: the sum times `1/n` with guard bits.
    ///
    /// Error: `|m - mean| <= 2` ulp (for `|mean| < 2^(ringBits - 2 f - 24)`).
    pub async fn mean(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Axis")] axis: JsValue,
    ) -> Res<Shares> {
        let a = self::axis("mean", &axis)?;
        let rows = lay_out(&x.0, a)?;
        op!(self, "mean", |s| s.row_mean(&rows)).map(|r| shape_back(r, a))
    }

    /// The population variance along `axis` (NumPy's default, `ddof = 0`), shaped as `min` says:
    /// the mean of the squared deviations from the mean (one product round).
    ///
    /// Error: `|v - var| <= (4 m + 5)` ulp for `m` the largest deviation `|x - mean|`.
    pub async fn variance(
        &self,
        x: &Shares,
        #[wasm_bindgen(unchecked_optional_param_type = "Axis")] axis: JsValue,
    ) -> Res<Shares> {
        let a = self::axis("variance", &axis)?;
        let rows = lay_out(&x.0, a)?;
        op!(self, "variance", |s| s.row_variance(&rows)).map(|r| shape_back(r, a))
    }

    /// `x op v` (`op`: `"add"`, `"sub"` — local, exact — or `"mul"`, the fixed-point product,
    /// one round, within one ulp) with `v` broadcast to the shape of `x`: a `1 x cols` row against
    /// every row, a `rows x 1` column against every column, a `1 x 1` scalar everywhere (or `v`
    /// of the shape of `x`). Another shape or operation is refused before anything is sent.
    pub async fn broadcast(
        &self,
        x: &Shares,
        v: &Shares,
        #[wasm_bindgen(unchecked_param_type = "\"add\" | \"sub\" | \"mul\"")] op: JsValue,
    ) -> Res<Shares> {
        match op.as_string().as_deref() {
            Some("add") => op!(self, "broadcast", |s| s.broadcast_add(&x.0, &v.0)),
            Some("sub") => op!(self, "broadcast", |s| s.broadcast_sub(&x.0, &v.0)),
            Some("mul") => op!(self, "broadcast", |s| s.broadcast_mul(&x.0, &v.0)),
            _ => {
                return Err(invalid(
                    "broadcast",
                    "op must be \"add\", \"sub\" or \"mul\"",
                ));
            }
        }
        .map(Shares)
    }
}
