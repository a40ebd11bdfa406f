//! The crate's one error type: what went wrong ([`ErrorKind`]) and in which operation.

use core::fmt;

/// An error from a fixshare operation: the operation's name and what went wrong.
///
/// A session whose operation failed after communicating is poisoned: every later call fails with
/// [`ErrorKind::Poisoned`], because the parties can no longer be in step.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    op: &'static str,
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The peer closed the transport (or it ended) before the expected bytes arrived.
    Closed,
    /// The host's transport reported a failure, with the host's code.
    Transport(i32),
    /// A transport that must complete at once (see [`crate::block_on`]) was not ready.
    WouldBlock,
    /// A frame from the peer carried another operation's tag: the parties are out of step.
    UnexpectedTag {
        /// The tag this side expected.
        expected: u16,
        /// The tag that arrived.
        got: u16,
    },
    /// A frame from the peer arrived on another sub-channel of the link than the one being read:
    /// the parties are out of step.
    UnexpectedChannel {
        /// The sub-channel this side was reading.
        expected: u8,
        /// The sub-channel the frame was sent on.
        got: u8,
    },
    /// A frame from the peer carried the wrong sequence number: a frame was lost or replayed.
    BadSequence {
        /// The sequence number this side expected.
        expected: u16,
        /// The one that arrived.
        got: u16,
    },
    /// A frame from the peer had another length than the protocol step requires.
    UnexpectedLength {
        /// The payload length this side expected.
        expected: usize,
        /// The payload length announced by the peer.
        got: usize,
    },
    /// A frame from the peer (or one about to be sent) is longer than the configured maximum.
    FrameTooLarge {
        /// The announced or requested payload length.
        len: usize,
        /// The maximum frame payload.
        max: usize,
    },
    /// A peer's message is well framed but its content is invalid.
    Malformed(&'static str),
    /// Operand shapes do not fit the operation.
    DimensionMismatch {
        /// The size the operation requires.
        expected: usize,
        /// The size it was given.
        got: usize,
    },
    /// A value does not fit the fixed-point range of the ring (or is not finite).
    OutOfRange {
        /// The offending value.
        value: f64,
    },
    /// A fixed-capacity buffer is too small.
    Capacity {
        /// The capacity needed.
        needed: usize,
        /// The capacity available.
        capacity: usize,
    },
    /// An operation would hold a `rows x cols` buffer whose element count overflows `usize` or
    /// exceeds the configured maximum ([`crate::limits`], `Config::max_elements`): refused before
    /// anything is allocated or sent.
    TooLarge {
        /// The rows (or the first size) of the refused buffer.
        rows: usize,
        /// The columns (or the second size) of the refused buffer.
        cols: usize,
        /// The maximum number of elements per operation.
        max: usize,
    },
    /// An argument or configuration is invalid.
    InvalidArgument(&'static str),
    /// The session failed earlier and can no longer be used.
    Poisoned,
    /// An operation of the session is running, or was abandoned half-way (its future dropped, a
    /// panic): the parties may be out of step, so the session can no longer be used.
    Busy,
    /// The session was closed by its owner.
    SessionClosed,
    /// Shares of one ring width were passed to a session over another.
    RingMismatch {
        /// The session's ring width in bits.
        expected: u32,
        /// The shares' ring width in bits.
        got: u32,
    },
    /// The operation or configuration is not supported (yet): what it is.
    Unsupported(&'static str),
    /// The precision guard ([`crate::guard`]) found a value within `headroom` bits of where
    /// truncation fails or the ring wraps, before the operation could compute a wrong number.
    PrecisionGuard {
        /// The guard's headroom in bits.
        headroom: u32,
    },
    /// A group element from the peer is not a valid point (non-canonical encoding, or the identity).
    InvalidPoint(&'static str),
    /// A boolean circuit is malformed: `line` is the 1-based line of a Bristol Fashion file
    /// where the problem shows (0 when the circuit does not come from a file).
    BadCircuit {
        /// The line number, or 0.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Error {
    /// An error of `kind` in operation `op`.
    pub const fn new(op: &'static str, kind: ErrorKind) -> Self {
        Error { op, kind }
    }

    /// A dimension mismatch in `op`.
    pub const fn dimension(op: &'static str, expected: usize, got: usize) -> Self {
        Error::new(op, ErrorKind::DimensionMismatch { expected, got })
    }

    /// The operation that failed, for example `"mul"` or `"dealer.triples"`.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The same error attributed to operation `op` (used where a low-level step fails inside a protocol).
    pub fn in_op(mut self, op: &'static str) -> Self {
        self.op = op;
        self
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Closed => write!(f, "the peer closed the connection"),
            ErrorKind::Transport(code) => write!(f, "transport failed with code {code}"),
            ErrorKind::WouldBlock => write!(
                f,
                "the transport was not ready (I/O must complete at once here)"
            ),
            ErrorKind::UnexpectedTag { expected, got } => {
                write!(
                    f,
                    "peer sent a frame for operation {got:#06x}, expected {expected:#06x}"
                )
            }
            ErrorKind::UnexpectedChannel { expected, got } => {
                write!(
                    f,
                    "peer sent a frame on sub-channel {got}, expected sub-channel {expected}"
                )
            }
            ErrorKind::BadSequence { expected, got } => {
                write!(f, "peer sent frame number {got}, expected {expected}")
            }
            ErrorKind::UnexpectedLength { expected, got } => {
                write!(
                    f,
                    "peer sent a {got}-byte payload, expected {expected} bytes"
                )
            }
            ErrorKind::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            ErrorKind::Malformed(what) => write!(f, "malformed message: {what}"),
            ErrorKind::DimensionMismatch { expected, got } => {
                write!(f, "dimension mismatch: expected {expected}, got {got}")
            }
            ErrorKind::OutOfRange { value } => {
                write!(f, "value {value} is outside the fixed-point range")
            }
            ErrorKind::Capacity { needed, capacity } => {
                write!(f, "needs capacity {needed}, have {capacity}")
            }
            ErrorKind::TooLarge { rows, cols, max } => match rows.checked_mul(*cols) {
                Some(n) => write!(
                    f,
                    "{rows} x {cols} = {n} elements exceed the maximum of {max} per operation"
                ),
                None => write!(
                    f,
                    "{rows} x {cols} elements overflow the address space (the maximum is {max} per operation)"
                ),
            },
            ErrorKind::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            ErrorKind::Poisoned => write!(f, "the session failed earlier and is poisoned"),
            ErrorKind::Busy => write!(
                f,
                "an operation of the session is running or was abandoned half-way"
            ),
            ErrorKind::SessionClosed => write!(f, "the session is closed"),
            ErrorKind::RingMismatch { expected, got } => write!(
                f,
                "shares of Z_2^{got} passed to a session over Z_2^{expected}"
            ),
            ErrorKind::Unsupported(what) => write!(f, "not supported: {what}"),
            ErrorKind::PrecisionGuard { headroom } => write!(
                f,
                "the precision guard stopped the operation: a value came within {headroom} bits \
                 of where truncation fails or the ring wraps (rescale the inputs or raise the \
                 ring width)"
            ),
            ErrorKind::InvalidPoint(what) => write!(f, "invalid group element: {what}"),
            ErrorKind::BadCircuit { line: 0, reason } => write!(f, "bad circuit: {reason}"),
            ErrorKind::BadCircuit { line, reason } => {
                write!(f, "bad circuit at line {line}: {reason}")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.kind)
    }
}

impl core::error::Error for Error {}
