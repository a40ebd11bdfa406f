//! Plaintext datasets as data owners hold them: CSV parsing with row and column errors, range
//! checks against the fixed-point format, feature statistics and standardization, the
//! deterministic train/test split.
//!
//! Everything here runs at the data owners, before any share is sent: a bad cell is reported
//! with its line and column and nothing leaves the owner.

use crate::fixed::FixedPoint;
use crate::ring::Ring;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A numeric table: `rows x features` feature values (row-major) and one target per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Column names of the features (from the CSV header).
    pub feature_names: Vec<String>,
    /// Name of the target column.
    pub target_name: String,
    /// Feature values, row-major, `rows * features`.
    pub x: Vec<f64>,
    /// Targets, one per row.
    pub y: Vec<f64>,
    /// For each row, its 1-based line in the source file (for error messages); empty if unknown.
    pub lines: Vec<usize>,
}

/// What is wrong with a cell or a file.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// The file has no header row.
    Empty,
    /// The header has no column, or only one (at least one feature and the target are needed).
    TooFewColumns,
    /// The file has a header but no data row.
    NoRows,
    /// The row has another number of cells than the header.
    Ragged {
        /// Cells in the header.
        expected: usize,
        /// Cells in this row.
        got: usize,
    },
    /// The cell is empty.
    Missing,
    /// The cell is not a finite decimal number (the cell's text, cut to [`QUOTE_MAX`]
    /// characters and an ellipsis).
    NotNumeric(String),
    /// The cell is a nonzero number too small for a normal `f64` (for example `1e-400`, which
    /// would read as 0, or the subnormal `1e-310`): refused rather than silently changed.
    Underflow(String),
    /// The line is not valid UTF-8; `byte` is the 1-based offset in the line of the first bad
    /// byte (the column is the cell it falls in).
    InvalidUtf8 {
        /// The 1-based byte offset within the line.
        byte: usize,
    },
    /// Two header cells have the same name (the column of the error is the second).
    DuplicateColumn {
        /// The name, cut to [`QUOTE_MAX`] characters.
        name: String,
        /// The 1-based column of its first occurrence.
        first: usize,
    },
    /// The deterministic split (every `every`-th row a test row) leaves no test row: metrics on
    /// an empty test set would mean nothing.
    EmptyTestSplit {
        /// Rows in the file.
        rows: usize,
        /// One row in `every` is a test row.
        every: usize,
    },
    /// The value does not fit the fixed-point range of the ring.
    OutOfRange {
        /// The value.
        value: f64,
        /// The exclusive bound on its magnitude.
        limit: f64,
    },
    /// The target is not 0 or 1 where a binary label is required.
    NotBinary(f64),
    /// The target is not a class number `0..classes` where a class label is required.
    NotClass {
        /// The value.
        value: f64,
        /// The number of classes.
        classes: usize,
    },
}

/// The most characters of a cell or a name an error message quotes (longer text is cut and
/// ends with an ellipsis), so that a huge bad cell does not flood a log.
pub const QUOTE_MAX: usize = 40;

/// `text` cut to [`QUOTE_MAX`] characters, with an ellipsis if it was longer.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX) {
        Some((at, _)) => alloc::format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// An error in a dataset, located by line (1-based, the header is line 1) and column (1-based),
/// with the column's name where known. `line` and `column` are 0 when they do not apply.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    /// The 1-based line of the file, or 0.
    pub line: usize,
    /// The 1-based column, or 0.
    pub column: usize,
    /// The column's name from the header, or empty.
    pub column_name: String,
    /// What is wrong.
    pub kind: DataErrorKind,
}

impl DataError {
    /// An error about the whole file (no line or column).
    pub fn file(kind: DataErrorKind) -> Self {
        DataError {
            line: 0,
            column: 0,
            column_name: String::new(),
            kind,
        }
    }
}

impl fmt::Display for DataErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataErrorKind::Empty => write!(f, "the file is empty (no header row)"),
            DataErrorKind::TooFewColumns => {
                write!(
                    f,
                    "at least one feature column and a target column are needed"
                )
            }
            DataErrorKind::NoRows => write!(f, "no data rows after the header"),
            DataErrorKind::Ragged { expected, got } => {
                write!(f, "the row has {got} cells, the header has {expected}")
            }
            DataErrorKind::Missing => write!(f, "missing value"),
            DataErrorKind::NotNumeric(s) => write!(f, "not a number: {s:?}"),
            DataErrorKind::Underflow(s) => write!(
                f,
                "{s:?} is too small for a normal double (it would read as 0 or lose precision)"
            ),
            DataErrorKind::InvalidUtf8 { byte } => {
                write!(f, "invalid UTF-8 at byte {byte} of the line")
            }
            DataErrorKind::DuplicateColumn { name, first } => {
                write!(f, "duplicate column name {name:?} (also column {first})")
            }
            DataErrorKind::EmptyTestSplit { rows, every } => write!(
                f,
                "{rows} rows leave no test row (every {every}th row is one): at least {every} \
                 rows are needed for test metrics"
            ),
            DataErrorKind::OutOfRange { value, limit } => write!(
                f,
                "value {value} is outside the fixed-point range (magnitude below {limit})"
            ),
            DataErrorKind::NotBinary(v) => write!(f, "target {v} is not 0 or 1"),
            DataErrorKind::NotClass { value, classes } => {
                write!(f, "target {value} is not a class number 0..{classes}")
            }
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, 0) => write!(f, "{}", self.kind),
            (l, 0) => write!(f, "line {l}: {}", self.kind),
            (l, c) if self.column_name.is_empty() => {
                write!(f, "line {l}, column {c}: {}", self.kind)
            }
            (l, c) => write!(
                f,
                "line {l}, column {c} ({}): {}",
                self.column_name, self.kind
            ),
        }
    }
}

impl core::error::Error for DataError {}

impl Dataset {
    /// Parses a CSV text: a header row, then rows of numeric cells separated by commas, the last
    /// column the target. See [`Dataset::from_csv_bytes`].
    pub fn from_csv(text: &str) -> Result<Dataset, DataError> {
        Dataset::from_csv_bytes(text.as_bytes())
    }

    /// Parses CSV bytes: a header row of distinct names, then rows of numeric cells separated by
    /// commas, the last column the target. Lines end with LF, CRLF or CR; a UTF-8 byte-order mark
    /// at the start is skipped; blank lines are skipped; cells may be surrounded by spaces. The
    /// first problem fails the whole file, naming its line and column: invalid UTF-8, a
    /// duplicate header name, a missing or non-numeric cell (quoted up to [`QUOTE_MAX`]
    /// characters), a number that underflows a normal `f64`, a ragged row.
    pub fn from_csv_bytes(bytes: &[u8]) -> Result<Dataset, DataError> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut lines = Lines {
            rest: bytes,
            line: 0,
        }
        .filter(|(_, l)| match l {
            Ok(l) => !l.trim().is_empty(),
            Err(_) => true,
        });
        let (_, header) = lines.next().ok_or(DataError::file(DataErrorKind::Empty))?;
        let header = header?;
        let mut names: Vec<String> = Vec::new();
        for (c, name) in header.split(',').enumerate() {
            let name = name.trim();
            if let Some(first) = names.iter().position(|n| n == name) {
                return Err(DataError {
                    line: 1,
                    column: c + 1,
                    column_name: quote(name),
                    kind: DataErrorKind::DuplicateColumn {
                        name: quote(name),
                        first: first + 1,
                    },
                });
            }
            names.push(name.to_string());
        }
        if names.len() < 2 {
            return Err(DataError {
                line: 1,
                column: 0,
                column_name: String::new(),
                kind: DataErrorKind::TooFewColumns,
            });
        }
        let d = names.len() - 1;
        let (mut x, mut y, mut at) = (Vec::new(), Vec::new(), Vec::new());
        for (line, row) in lines {
            let row = row?;
            let mut count = 0;
            for (c, cell) in row.split(',').enumerate() {
                count += 1;
                if c > d {
                    continue;
                }
                let err = |kind| DataError {
                    line,
                    column: c + 1,
                    column_name: quote(&names[c]),
                    kind,
                };
                let v = number(cell.trim()).map_err(err)?;
                if c < d { x.push(v) } else { y.push(v) }
            }
            if count != d + 1 {
                return Err(DataError {
                    line,
                    column: 0,
                    column_name: String::new(),
                    kind: DataErrorKind::Ragged {
                        expected: d + 1,
                        got: count,
                    },
                });
            }
            at.push(line);
        }
        if y.is_empty() {
            return Err(DataError::file(DataErrorKind::NoRows));
        }
        let target_name = names[d].clone();
        let mut feature_names = names;
        feature_names.truncate(d);
        Ok(Dataset {
            feature_names,
            target_name,
            x,
            y,
            lines: at,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.feature_names.len()
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f64] {
        let d = self.features();
        &self.x[i * d..(i + 1) * d]
    }

    fn locate(&self, row: usize, column: usize, kind: DataErrorKind) -> DataError {
        let d = self.features();
        DataError {
            line: self.lines.get(row).copied().unwrap_or(0),
            column: column + 1,
            column_name: if column < d {
                self.feature_names[column].clone()
            } else {
                self.target_name.clone()
            },
            kind,
        }
    }

    /// Checks that every feature and target encodes in ring `R` with format `fixed`, naming the
    /// first cell that does not.
    pub fn check_range<R: Ring>(&self, fixed: FixedPoint) -> Result<(), DataError> {
        let limit = fixed.max_abs::<R>();
        let d = self.features();
        for i in 0..self.rows() {
            for (c, &v) in self.row(i).iter().chain([&self.y[i]]).enumerate() {
                if fixed.encode::<R>(v).is_err() {
                    return Err(self.locate(
                        i,
                        c.min(d),
                        DataErrorKind::OutOfRange { value: v, limit },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that every target is a class number `0..classes` (an integer, as a float).
    pub fn check_class_target(&self, classes: usize) -> Result<(), DataError> {
        for (i, &v) in self.y.iter().enumerate() {
            if libm::trunc(v) != v || v < 0.0 || v >= classes as f64 {
                let kind = DataErrorKind::NotClass { value: v, classes };
                return Err(self.locate(i, self.features(), kind));
            }
        }
        Ok(())
    }

    /// Checks that every target is 0 or 1 (binary classification).
    pub fn check_binary_target(&self) -> Result<(), DataError> {
        for (i, &v) in self.y.iter().enumerate() {
            if v != 0.0 && v != 1.0 {
                return Err(self.locate(i, self.features(), DataErrorKind::NotBinary(v)));
            }
        }
        Ok(())
    }

    /// The rows for which `keep(index)` holds, in order.
    pub fn select(&self, keep: impl Fn(usize) -> bool) -> Dataset {
        let mut out = Dataset {
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            x: Vec::new(),
            y: Vec::new(),
            lines: Vec::new(),
        };
        for i in (0..self.rows()).filter(|&i| keep(i)) {
            out.x.extend_from_slice(self.row(i));
            out.y.push(self.y[i]);
            if let Some(&l) = self.lines.get(i) {
                out.lines.push(l);
            }
        }
        out
    }

    /// The deterministic split the examples use: every `k`-th row (rows `k-1, 2k-1, ..`,
    /// 0-based) is a test row, the others are training rows. Returns `(train, test)`.
    pub fn split_every(&self, k: usize) -> (Dataset, Dataset) {
        let k = k.max(2);
        (
            self.select(|i| i % k != k - 1),
            self.select(|i| i % k == k - 1),
        )
    }

    /// The columns `cols` (feature indices) of every row, row-major: a data owner's part under
    /// vertical partitioning.
    pub fn columns(&self, cols: core::ops::Range<usize>) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.rows() * cols.len());
        for i in 0..self.rows() {
            out.extend_from_slice(&self.row(i)[cols.clone()]);
        }
        out
    }
}

/// The lines of a CSV file: `(1-based number, text)`, split at LF, CRLF or a lone CR; a line
/// that is not UTF-8 is an error naming the line, its cell and the byte.
struct Lines<'a> {
    rest: &'a [u8],
    line: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, Result<&'a str, DataError>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(self.rest.len());
        let (text, mut rest) = self.rest.split_at(end);
        if rest.starts_with(b"\r\n") {
            rest = &rest[2..];
        } else if !rest.is_empty() {
            rest = &rest[1..];
        }
        self.rest = rest;
        let line = self.line;
        Some((
            line,
            core::str::from_utf8(text).map_err(|e| {
                let bad = e.valid_up_to();
                DataError {
                    line,
                    column: text[..bad].iter().filter(|&&b| b == b',').count() + 1,
                    column_name: String::new(),
                    kind: DataErrorKind::InvalidUtf8 { byte: bad + 1 },
                }
            }),
        ))
    }
}

/// A cell's number: finite, and not a nonzero value that underflows a normal `f64`.
fn number(cell: &str) -> Result<f64, DataErrorKind> {
    if cell.is_empty() {
        return Err(DataErrorKind::Missing);
    }
    let v: f64 = cell
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| DataErrorKind::NotNumeric(quote(cell)))?;
    // The digits before the exponent: a nonzero digit there with a zero or subnormal result
    // means the value underflowed.
    let mantissa = cell.split(['e', 'E']).next().unwrap_or("");
    let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if v.is_subnormal() || (v == 0.0 && nonzero) {
        return Err(DataErrorKind::Underflow(quote(cell)));
    }
    Ok(v)
}

/// Per-feature sums a data owner computes over its own rows: what it contributes to the shared
/// standardization statistics (count, sum and sum of squares per column, nothing per row).
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureStats {
    /// Rows counted.
    pub count: usize,
    /// Sum of each column.
    pub sum: Vec<f64>,
    /// Sum of squares of each column.
    pub sum_sq: Vec<f64>,
}

impl FeatureStats {
    /// The sums over `rows x cols` values (row-major).
    pub fn from_rows(values: &[f64], cols: usize) -> FeatureStats {
        let mut s = FeatureStats {
            count: 0,
            sum: alloc::vec![0.0; cols],
            sum_sq: alloc::vec![0.0; cols],
        };
        if cols == 0 {
            return s;
        }
        for row in values.chunks_exact(cols) {
            s.count += 1;
            for (c, &v) in row.iter().enumerate() {
                s.sum[c] += v;
                s.sum_sq[c] += v * v;
            }
        }
        s
    }

    /// The sums over the rows of both (horizontal partitioning: owners add their sums).
    pub fn merge(&self, other: &FeatureStats) -> FeatureStats {
        FeatureStats {
            count: self.count + other.count,
            sum: self
                .sum
                .iter()
                .zip(&other.sum)
                .map(|(a, b)| a + b)
                .collect(),
            sum_sq: self
                .sum_sq
                .iter()
                .zip(&other.sum_sq)
                .map(|(a, b)| a + b)
                .collect(),
        }
    }

    /// The columns of both side by side (vertical partitioning: each owner has whole columns).
    pub fn concat(&self, other: &FeatureStats) -> FeatureStats {
        let mut s = self.clone();
        s.sum.extend_from_slice(&other.sum);
        s.sum_sq.extend_from_slice(&other.sum_sq);
        s
    }
}

/// Standardization `x' = (x - mean) / std` per column (population standard deviation; a
/// constant column keeps scale 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Mean of each column.
    pub mean: Vec<f64>,
    /// Standard deviation of each column (1 where it is 0).
    pub std: Vec<f64>,
}

impl Standardizer {
    /// From the owners' combined sums.
    pub fn from_stats(s: &FeatureStats) -> Standardizer {
        let n = s.count.max(1) as f64;
        let mean: Vec<f64> = s.sum.iter().map(|v| v / n).collect();
        let std = s
            .sum_sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = q / n - m * m;
                if var > 1e-24 { libm::sqrt(var) } else { 1.0 }
            })
            .collect();
        Standardizer { mean, std }
    }

    /// Standardizes `rows x cols` values in place (`cols` = this standardizer's width).
    pub fn apply(&self, values: &mut [f64]) {
        let d = self.mean.len();
        if d == 0 {
            return;
        }
        for row in values.chunks_exact_mut(d) {
            for (c, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[c]) / self.std[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crlf_spaces_and_blank_lines() {
        let d = Dataset::from_csv("a, b ,y\r\n1, 2.5,0\r\n\r\n -3,4e-1 , 1\r\n").unwrap();
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.target_name, "y");
        assert_eq!(d.x, [1.0, 2.5, -3.0, 0.4]);
        assert_eq!(d.y, [0.0, 1.0]);
        assert_eq!(d.lines, [2, 4]);
        assert_eq!(
            Dataset::from_csv("y\n1\n").unwrap_err().kind,
            DataErrorKind::TooFewColumns
        );
        let e = Dataset::from_csv("a,y\n1,inf\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
    }

    #[test]
    fn line_endings_bom_and_encoding() {
        let want = Dataset::from_csv("a,y\n1,0\n2,1\n").unwrap();
        for text in [
            "a,y\r1,0\r2,1\r",
            "a,y\r\n1,0\r\n2,1",
            "\u{feff}a,y\n1,0\r\n\r\n2,1\r",
        ] {
            let d = Dataset::from_csv(text).unwrap();
            assert_eq!(
                (&d.feature_names, &d.x, &d.y),
                (&want.feature_names, &want.x, &want.y)
            );
        }
        // CR-only lines are numbered like any others.
        let e = Dataset::from_csv("a,y\r1,0\rq,1\r").unwrap_err();
        assert_eq!((e.line, e.column), (3, 1));
        let e = Dataset::from_csv_bytes(b"a,y\n1,0\n2,\xff1\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 2));
        assert_eq!(e.kind, DataErrorKind::InvalidUtf8 { byte: 3 });
        assert_eq!(
            e.to_string(),
            "line 3, column 2: invalid UTF-8 at byte 3 of the line"
        );
        let e = Dataset::from_csv_bytes(b"a,\xc3y\n1,0\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 2));
    }

    #[test]
    fn duplicate_names_long_cells_and_underflow() {
        let e = Dataset::from_csv("a, b ,a,y\n1,2,3,4\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
        assert_eq!(
            e.kind,
            DataErrorKind::DuplicateColumn {
                name: "a".into(),
                first: 1
            }
        );
        let cell = "x".repeat(1 << 20);
        let e = Dataset::from_csv(&alloc::format!("a,y\n{cell},1\n")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.len() < 120, "{} bytes", msg.len());
        assert!(
            msg.contains(&alloc::format!("\"{}…\"", "x".repeat(QUOTE_MAX))),
            "{msg}"
        );
        for tiny in ["1e-400", "-2.5e-320", "0.000001e-310"] {
            let e = Dataset::from_csv(&alloc::format!("a,y\n{tiny},1\n")).unwrap_err();
            assert_eq!(e.kind, DataErrorKind::Underflow(tiny.into()), "{tiny}");
            assert_eq!((e.line, e.column), (2, 1));
        }
        for fine in ["0", "-0.0", "0e-400", "1e-300", "2.2250738585072014e-308"] {
            assert!(
                Dataset::from_csv(&alloc::format!("a,y\n{fine},1\n")).is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn split_and_statistics() {
        let text: String = core::iter::once("a,b,y\n".to_string())
            .chain((0..10).map(|i| alloc::format!("{i},{},{}\n", 2 * i + 1, i % 2)))
            .collect();
        let d = Dataset::from_csv(&text).unwrap();
        let (train, test) = d.split_every(5);
        assert_eq!(test.y.len(), 2);
        assert_eq!(test.x, [4.0, 9.0, 9.0, 19.0]);
        assert_eq!(train.rows(), 8);
        // Owners' sums merged (rows) or side by side (columns) give the global statistics.
        let all = FeatureStats::from_rows(&train.x, 2);
        let top = FeatureStats::from_rows(&train.x[..6], 2);
        let bottom = FeatureStats::from_rows(&train.x[6..], 2);
        assert_eq!(top.merge(&bottom), all);
        let left = FeatureStats::from_rows(&train.columns(0..1), 1);
        let right = FeatureStats::from_rows(&train.columns(1..2), 1);
        assert_eq!(left.concat(&right), all);
        let s = Standardizer::from_stats(&all);
        let mut x = train.x.clone();
        s.apply(&mut x);
        let mean0: f64 = x.iter().step_by(2).sum::<f64>() / 8.0;
        let var0: f64 = x.iter().step_by(2).map(|v| v * v).sum::<f64>() / 8.0;
        assert!(mean0.abs() < 1e-12 && (var0 - 1.0).abs() < 1e-12);
        // A constant column keeps scale 1.
        let c = Standardizer::from_stats(&FeatureStats::from_rows(&[3.0, 3.0], 1));
        assert_eq!(c.std, [1.0]);
    }
}
