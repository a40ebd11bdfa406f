//! Additive shares: one party's share of a secret matrix (a vector is a matrix with one column).
//!
//! A secret `x` in Z_2^k is held as `x0` by party 0 and `x1` by party 1 with `x = x0 + x1`.
//! Each share alone is uniformly random. Shares are zeroized on drop and never printed.

use crate::error::Error;
use crate::ring::Ring;
use alloc::vec::Vec;
use core::fmt;
use zeroize::Zeroize;

/// This party's share of a secret `rows x cols` matrix, row-major.
#[derive(Clone, PartialEq, Eq)]
pub struct Shares<R: Ring> {
    rows: usize,
    cols: usize,
    data: Vec<R>,
}

impl<R: Ring> Drop for Shares<R> {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl<R: Ring> fmt::Debug for Shares<R> {
    /// Prints the shape only: share values are not for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shares({}x{}, ..)", self.rows, self.cols)
    }
}

impl<R: Ring> Shares<R> {
    /// A column vector of shares.
    pub fn vector(data: Vec<R>) -> Self {
        Shares {
            rows: data.len(),
            cols: 1,
            data,
        }
    }

    /// A `rows x cols` matrix of shares given row-major.
    pub fn matrix(rows: usize, cols: usize, data: Vec<R>) -> Result<Self, Error> {
        let n = crate::limits::product("shares", rows, cols)?;
        if n != data.len() {
            return Err(Error::dimension("shares", n, data.len()));
        }
        Ok(Shares { rows, cols, data })
    }

    /// Shares of zero (each party holds zeros) of the given shape; fails with
    /// [`crate::ErrorKind::TooLarge`] if `rows * cols` overflows (in every build). Sizes from
    /// outside should be checked against a configured maximum first
    /// ([`crate::Config::elements`]).
    pub fn zeros(rows: usize, cols: usize) -> Result<Self, Error> {
        let n = crate::limits::product("shares", rows, cols)?;
        Ok(Shares {
            rows,
            cols,
            data: alloc::vec![R::ZERO; n],
        })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The share values, row-major.
    pub fn as_slice(&self) -> &[R] {
        &self.data
    }

    /// The share values, row-major, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [R] {
        &mut self.data
    }

    /// The share values, row-major, taking the matrix apart (the caller zeroizes them).
    pub(crate) fn into_vec(mut self) -> Vec<R> {
        core::mem::take(&mut self.data)
    }

    /// The same elements viewed as a `rows x cols` matrix.
    pub fn reshape(mut self, rows: usize, cols: usize) -> Result<Self, Error> {
        if rows.checked_mul(cols) != Some(self.data.len()) {
            return Err(Error::dimension(
                "reshape",
                self.data.len(),
                rows.saturating_mul(cols),
            ));
        }
        self.rows = rows;
        self.cols = cols;
        Ok(self)
    }

    /// The transpose (a local operation).
    pub fn transpose(&self) -> Self {
        Shares {
            rows: self.cols,
            cols: self.rows,
            data: crate::arith::matmul::transpose(&self.data, self.rows, self.cols),
        }
    }

    /// Rows `start..end` as a new matrix (a mini-batch of a dataset).
    pub fn row_range(&self, start: usize, end: usize) -> Result<Self, Error> {
        let data = self.row_values(start..end)?.to_vec();
        Ok(Shares {
            rows: end - start,
            cols: self.cols,
            data,
        })
    }

    /// The values of rows `rows`, row-major, in place.
    pub fn row_values(&self, rows: core::ops::Range<usize>) -> Result<&[R], Error> {
        if rows.start > rows.end || rows.end > self.rows {
            return Err(Error::dimension("row_range", self.rows, rows.end));
        }
        Ok(&self.data[rows.start * self.cols..rows.end * self.cols])
    }

    /// `self + other`, elementwise (local: shares of the sum).
    pub fn add(&self, other: &Self) -> Result<Self, Error> {
        self.zip_with(other, "add", R::add)
    }

    /// `self - other`, elementwise (local).
    pub fn sub(&self, other: &Self) -> Result<Self, Error> {
        self.zip_with(other, "sub", R::sub)
    }

    /// `-self`, elementwise (local).
    pub fn neg(&self) -> Self {
        self.map(R::neg)
    }

    /// `self * c` for a public integer `c`: exact, no truncation (local).
    pub fn mul_integer(&self, c: i64) -> Self {
        let c = R::from_i128(c as i128);
        self.map(|v| v.mul(c))
    }

    /// A share of this one's shape holding `data` (which must have as many elements).
    pub(crate) fn with_data(&self, data: Vec<R>) -> Result<Self, Error> {
        Shares::matrix(self.rows, self.cols, data)
    }

    /// Elementwise map of this share into a new one of the same shape.
    pub(crate) fn map(&self, f: impl Fn(R) -> R) -> Self {
        Shares {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// Elementwise combination with another share of the same shape.
    pub(crate) fn zip_with(
        &self,
        other: &Self,
        op: &'static str,
        f: impl Fn(R, R) -> R,
    ) -> Result<Self, Error> {
        self.check_same_shape(other, op)?;
        Ok(Shares {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        })
    }

    pub(crate) fn check_same_shape(&self, other: &Self, op: &'static str) -> Result<(), Error> {
        if self.shape() != other.shape() {
            let got = if self.rows != other.rows {
                other.rows
            } else {
                other.cols
            };
            let expected = if self.rows != other.rows {
                self.rows
            } else {
                self.cols
            };
            return Err(Error::dimension(op, expected, got));
        }
        Ok(())
    }
}
