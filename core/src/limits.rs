//! One rule for sizes: every size that comes from a caller, a peer, a dealer request or a file is
//! multiplied with checked arithmetic and compared against a configured maximum of elements per
//! operation **before** anything is allocated or sent.
//!
//! A refused size is an [`ErrorKind::TooLarge`] error naming the operation and both sizes, for
//! example `matmul: 1 x 1099511627776 = 1099511627776 elements exceed the maximum of 268435456
//! per operation`. Debug and release builds behave the same: nothing here can overflow, panic or
//! wrap.
//!
//! The maximum is [`crate::Config::max_elements`] for the protocols of a party (default
//! [`DEFAULT_MAX_ELEMENTS`]); a component without a `Config` (a dealer, a parser) takes its own
//! maximum and passes it to [`elements`] the same way.
//!
//! ```
//! use fixshare::limits::{self, DEFAULT_MAX_ELEMENTS};
//! use fixshare::ErrorKind;
//!
//! assert_eq!(limits::elements("matmul", 1000, 1000, DEFAULT_MAX_ELEMENTS), Ok(1_000_000));
//! let e = limits::elements("matmul", 1, 1 << 40, DEFAULT_MAX_ELEMENTS).unwrap_err();
//! assert!(matches!(e.kind(), ErrorKind::TooLarge { rows: 1, .. }));
//! assert_eq!(e.op(), "matmul");
//! // A product that overflows usize is refused the same way, in every build.
//! assert!(limits::elements("receive_input", usize::MAX, 2, usize::MAX).is_err());
//! ```

use crate::error::{Error, ErrorKind};

/// The default maximum number of elements one operation may hold in one buffer: 2^28 (2 GiB of
/// Z_2^64 elements, 4 GiB of Z_2^128 ones).
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 28;

/// `rows * cols`, checked: fails with [`ErrorKind::TooLarge`] (naming `op`, `rows`, `cols` and
/// `max`) when the product overflows `usize` or exceeds `max`.
pub const fn elements(
    op: &'static str,
    rows: usize,
    cols: usize,
    max: usize,
) -> Result<usize, Error> {
    match rows.checked_mul(cols) {
        Some(n) if n <= max => Ok(n),
        _ => Err(Error::new(op, ErrorKind::TooLarge { rows, cols, max })),
    }
}

/// `rows * cols` checked for overflow only (for the shape of data that is already in memory, or
/// where no maximum applies): fails with [`ErrorKind::TooLarge`] with `max` = `usize::MAX`.
pub const fn product(op: &'static str, rows: usize, cols: usize) -> Result<usize, Error> {
    elements(op, rows, cols, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_overflow_and_excess_alike() {
        assert_eq!(elements("op", 0, usize::MAX, 10), Ok(0));
        assert_eq!(elements("op", 2, 5, 10), Ok(10));
        let e = elements("op", 2, 6, 10).unwrap_err();
        assert_eq!(
            *e.kind(),
            ErrorKind::TooLarge {
                rows: 2,
                cols: 6,
                max: 10
            }
        );
        assert_eq!(
            alloc_free_display(&e),
            "op: 2 x 6 = 12 elements exceed the maximum of 10 per operation"
        );
        let e = product("op", 1 << 33, 1 << 33).unwrap_err();
        assert!(alloc_free_display(&e).contains("overflow"));
    }

    /// The error's message, formatted into a fixed buffer (the crate may build without alloc).
    fn alloc_free_display(e: &Error) -> heapless::String<256> {
        use core::fmt::Write;
        let mut s = heapless::String::new();
        let _ = write!(s, "{e}");
        s
    }
}
