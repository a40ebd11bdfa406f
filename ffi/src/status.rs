//! Status codes, and the failures behind them.

use crate::api::{Error, ErrorKind};
use core::fmt;

/// The result of every fallible `fxs_*` function.
///
/// The numbers are stable: a code keeps its value forever, new codes are only added. They come in
/// ranges, so a caller can test the class of a failure without knowing every code:
///
/// - 0: success.
/// - 100-199: the caller's arguments were rejected before anything was sent or received (NULL
///   pointers, short buffers, bad shapes, shifts, sizes or configuration). The object stays
///   usable: fix the arguments and call again. Sizes are checked with overflow-free arithmetic
///   against a maximum of 2^28 elements per operation (operands, results and their correlated
///   randomness) before anything is allocated: a larger or overflowing shape is
///   `FXS_STATUS_CAPACITY`, and the message names the operation and both sizes.
/// - 200-299: the object cannot be used any more (an earlier failure poisoned it, an earlier
///   call was abandoned half-way, or the precision guard stopped this call).
/// - 300-399: a transport callback failed or the connection closed; with the TLS connections of
///   `fxs_tls_*`, also a peer that could not be reached, did not answer in time, failed the TLS
///   handshake or refused the hello, and a daemon's job that failed after it started.
/// - 400-499: the peer sent something the protocol did not expect (parties out of step, a
///   corrupted or malicious message).
/// - 900-999: a bug inside fixshare (a panic caught at the boundary).
///
/// After any status other than `FXS_STATUS_OK`, `fxs_last_error_message()` explains it.
#[repr(u32)]
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fxs_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullPointer = 100,
    /// An argument or configuration field is invalid (see the message).
    InvalidArgument = 101,
    /// An output buffer is shorter than the result.
    BufferTooSmall = 102,
    /// Operand shapes do not fit the operation.
    DimensionMismatch = 103,
    /// A value is not finite or does not fit the fixed-point range of the ring.
    OutOfRange = 104,
    /// The feature exists in the API but not (yet) in this build, e.g. another offline source.
    Unsupported = 105,
    /// Shares of one ring width were used with a party of another.
    RingMismatch = 106,
    /// A size is over a limit: an operation's operands or result exceed the maximum number of
    /// elements per operation (or their size overflows), or a fixed-capacity buffer inside
    /// fixshare is too small. Refused before anything is allocated or sent.
    Capacity = 107,
    /// An object in caller-provided storage was not initialised (or was cleared).
    NotInitialized = 108,
    /// A boolean circuit is malformed (the message gives the line of a Bristol Fashion file).
    BadCircuit = 109,
    /// A configuration or key file was refused: unreadable, not TOML, an unknown field, a peer
    /// that is not pinned, a seed, a key that is not the certificate's (the message names the
    /// file and the reason). Nothing was started.
    BadConfig = 110,
    /// An earlier call failed after communicating: the session is out of step with its peer and
    /// must be freed. Also returned by the failing call itself when its error, found only after
    /// communicating, would otherwise be an argument error (100-199).
    Poisoned = 200,
    /// An earlier call was abandoned half-way (it panicked inside fixshare), or a transport
    /// callback re-entered the object while a call on it was running.
    Unusable = 201,
    /// The precision guard (`fxs_party_config.precision_guard`) stopped the operation: a value
    /// came within the guard's headroom of where truncation fails or the ring wraps, so the
    /// result would have been wrong. Both parties see it (the guard opens one bit); the party is
    /// poisoned, like after any failure that communicated (rescale the inputs, or use a wider
    /// ring, in a new session).
    PrecisionGuard = 202,
    /// The connection closed before the expected bytes arrived (a callback returned
    /// `FXS_IO_CLOSED`).
    Closed = 300,
    /// A transport callback returned an error code (the message carries the code).
    Transport = 301,
    /// A transport could not complete at once; the C ABI needs blocking callbacks.
    WouldBlock = 302,
    /// A TLS connection timed out: the peer did not complete the handshake and hello in time,
    /// or no expected party connected to a listener in time (the message says which wait).
    Timeout = 303,
    /// A TLS handshake failed: the peer's key is not the pinned one, the peer does not pin this
    /// side's key (it refused the session with an alert), or the peer does not speak TLS 1.3.
    Tls = 304,
    /// The hello after the handshake was refused, by this side or the peer: another session
    /// id, protocol version or party (the message says which, and who refused).
    Hello = 305,
    /// The peer could not be reached: nothing accepted a connection at its address for the
    /// whole connect timeout (refused, unroutable, or a name that does not resolve).
    Unreachable = 306,
    /// A daemon role's job (`fxs_daemon_run`) failed after it started: a peer that left, timed
    /// out or was refused, or data that did not fit; the message says which step and which
    /// peer, as `fixshare-party` does.
    JobFailed = 307,
    /// The peer sent a frame of another operation (or of another phase sharing the connection,
    /// e.g. an offline frame where an online one was expected): the parties are out of step.
    UnexpectedTag = 400,
    /// A frame was lost, repeated or reordered.
    BadSequence = 401,
    /// A frame had another length than the protocol step requires.
    UnexpectedLength = 402,
    /// A frame exceeds the configured maximum size.
    FrameTooLarge = 403,
    /// A well-framed message with invalid content (sealed weights: truncated, padded, a bad
    /// header, or another network's size).
    Malformed = 404,
    /// Sealed weights fail authentication: the wrong key, or the header or ciphertext was
    /// modified.
    WeightsAuthentication = 410,
    /// Sealed weights of another model.
    WeightsWrongModel = 411,
    /// Sealed weights for another number of trainers.
    WeightsWrongTrainers = 412,
    /// Sealed weights of an older version than expected: a replay or a rollback (or, from the
    /// server, an upload that is stale).
    WeightsReplayed = 413,
    /// Sealed weights of a later version than expected: a round was skipped (or the server has
    /// moved past the version fetched).
    WeightsAhead = 414,
    /// Sealed weights from a trainer whose turn it was not.
    WeightsOutOfOrder = 415,
    /// Sealed weights longer than the server accepts.
    WeightsTooLarge = 416,
    /// A panic inside fixshare was caught at the boundary (a bug: please report it).
    Panic = 900,
    /// An error that this version of the C ABI does not classify more precisely.
    Internal = 901,
}

impl fxs_status {
    /// The status for a core error.
    pub(crate) fn of_kind(kind: &ErrorKind) -> fxs_status {
        match kind {
            ErrorKind::Closed => fxs_status::Closed,
            ErrorKind::Transport(_) => fxs_status::Transport,
            ErrorKind::WouldBlock => fxs_status::WouldBlock,
            // A frame of another operation, or of another sub-channel of the link: either way
            // the parties are out of step.
            ErrorKind::UnexpectedTag { .. } | ErrorKind::UnexpectedChannel { .. } => {
                fxs_status::UnexpectedTag
            }
            ErrorKind::BadSequence { .. } => fxs_status::BadSequence,
            ErrorKind::UnexpectedLength { .. } => fxs_status::UnexpectedLength,
            ErrorKind::FrameTooLarge { .. } => fxs_status::FrameTooLarge,
            ErrorKind::Malformed(_) => fxs_status::of_rejection(kind),
            ErrorKind::DimensionMismatch { .. } => fxs_status::DimensionMismatch,
            ErrorKind::OutOfRange { .. } => fxs_status::OutOfRange,
            ErrorKind::Capacity { .. } | ErrorKind::TooLarge { .. } => fxs_status::Capacity,
            ErrorKind::InvalidArgument(_) => fxs_status::InvalidArgument,
            ErrorKind::Poisoned => fxs_status::Poisoned,
            ErrorKind::Busy | ErrorKind::SessionClosed => fxs_status::Unusable,
            ErrorKind::PrecisionGuard { .. } => fxs_status::PrecisionGuard,
            ErrorKind::BadCircuit { .. } => fxs_status::BadCircuit,
            ErrorKind::RingMismatch { .. } => fxs_status::RingMismatch,
            ErrorKind::Unsupported(_) => fxs_status::Unsupported,
            // A peer's group element that is not a valid point: invalid content of a message.
            ErrorKind::InvalidPoint(_) => fxs_status::Malformed,
            _ => fxs_status::Internal,
        }
    }

    /// The status of a refusal of sealed weights (the core's `Rejection`, recognised by its
    /// message), `FXS_STATUS_MALFORMED` for any other malformed message.
    fn of_rejection(kind: &ErrorKind) -> fxs_status {
        #[cfg(feature = "std")]
        {
            use fixshare::session::weights::Rejection;
            let e = crate::api::Error::new("", kind.clone());
            match Rejection::of(&e) {
                Some(Rejection::Authentication) => return fxs_status::WeightsAuthentication,
                Some(Rejection::WrongModel) => return fxs_status::WeightsWrongModel,
                Some(Rejection::WrongTrainers) => return fxs_status::WeightsWrongTrainers,
                Some(Rejection::Replayed) => return fxs_status::WeightsReplayed,
                Some(Rejection::Ahead) => return fxs_status::WeightsAhead,
                Some(Rejection::OutOfOrder) => return fxs_status::WeightsOutOfOrder,
                Some(Rejection::TooLarge) => return fxs_status::WeightsTooLarge,
                _ => {}
            }
        }
        let _ = kind;
        fxs_status::Malformed
    }

    /// Every status, for tests.
    #[cfg(test)]
    pub(crate) const ALL: [fxs_status; 37] = [
        fxs_status::Ok,
        fxs_status::NullPointer,
        fxs_status::InvalidArgument,
        fxs_status::BufferTooSmall,
        fxs_status::DimensionMismatch,
        fxs_status::OutOfRange,
        fxs_status::Unsupported,
        fxs_status::RingMismatch,
        fxs_status::Capacity,
        fxs_status::NotInitialized,
        fxs_status::BadCircuit,
        fxs_status::BadConfig,
        fxs_status::Poisoned,
        fxs_status::Unusable,
        fxs_status::PrecisionGuard,
        fxs_status::Closed,
        fxs_status::Transport,
        fxs_status::WouldBlock,
        fxs_status::Timeout,
        fxs_status::Tls,
        fxs_status::Hello,
        fxs_status::Unreachable,
        fxs_status::JobFailed,
        fxs_status::UnexpectedTag,
        fxs_status::BadSequence,
        fxs_status::UnexpectedLength,
        fxs_status::FrameTooLarge,
        fxs_status::Malformed,
        fxs_status::WeightsAuthentication,
        fxs_status::WeightsWrongModel,
        fxs_status::WeightsWrongTrainers,
        fxs_status::WeightsReplayed,
        fxs_status::WeightsAhead,
        fxs_status::WeightsOutOfOrder,
        fxs_status::WeightsTooLarge,
        fxs_status::Panic,
        fxs_status::Internal,
    ];
}

/// Why a call failed; needs no allocation (the data-owner part runs without one).
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// An error from the core, which names its operation.
    Core(Error),
    /// A transport error from the core, on the connection named (the core's message says "the
    /// peer" whichever connection failed).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Io(Error, &'static str),
    /// An argument rejected at the boundary.
    Arg(fxs_status, &'static str),
    /// The object failed earlier with this error.
    Poisoned(Error),
    /// An error that would be an argument error (100-199), found after the call communicated:
    /// it poisoned the object, so it is reported as such.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Poisoning(Error),
    /// An earlier call was abandoned half-way (a panic), or a callback re-entered the object.
    Unusable,
    /// A panic was caught in this call.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Panic,
    /// A failure outside the core (a TLS connection, a daemon's configuration or job), with
    /// its status and message.
    #[cfg(feature = "std")]
    Message(fxs_status, alloc::string::String),
}

impl Failure {
    pub(crate) fn status(&self) -> fxs_status {
        match self {
            Failure::Core(e) | Failure::Io(e, _) => fxs_status::of_kind(e.kind()),
            #[cfg(feature = "std")]
            Failure::Message(s, _) => *s,
            Failure::Arg(s, _) => *s,
            Failure::Poisoned(_) | Failure::Poisoning(_) => fxs_status::Poisoned,
            Failure::Unusable => fxs_status::Unusable,
            Failure::Panic => fxs_status::Panic,
        }
    }

    /// This failure of a call that poisoned its object: statuses 100-199 promise a usable
    /// object, so an error of that class becomes [`Failure::Poisoning`].
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn poisoned_now(self) -> Failure {
        match self {
            Failure::Core(e) if (100..200).contains(&(fxs_status::of_kind(e.kind()) as u32)) => {
                Failure::Poisoning(e)
            }
            f => f,
        }
    }

    /// This failure, naming the connection `what` if it is a transport error from the core.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn on(self, what: Option<&'static str>) -> Failure {
        match (self, what) {
            (Failure::Core(e), Some(what))
                if matches!(e.kind(), ErrorKind::Closed | ErrorKind::Transport(_)) =>
            {
                Failure::Io(e, what)
            }
            (f, _) => f,
        }
    }

    /// A NULL pointer for the argument described by `what`.
    pub(crate) const fn null(what: &'static str) -> Failure {
        Failure::Arg(fxs_status::NullPointer, what)
    }

    /// An invalid argument.
    pub(crate) const fn invalid(what: &'static str) -> Failure {
        Failure::Arg(fxs_status::InvalidArgument, what)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(e) => write!(f, "{e}"),
            Failure::Io(e, what) => write!(f, "{e} ({what})"),
            Failure::Arg(_, what) => f.write_str(what),
            Failure::Poisoned(e) => write!(
                f,
                "the object failed earlier and can no longer be used; free it (first failure: {e})"
            ),
            Failure::Poisoning(e) => write!(
                f,
                "{e}; found after communicating, so the object can no longer be used; free it"
            ),
            Failure::Unusable => f.write_str(
                "the object is unusable: an earlier call was abandoned half-way (it panicked), \
                 or a transport callback re-entered it; free it",
            ),
            Failure::Panic => f.write_str(
                "internal panic inside fixshare (a bug; please report it); an object whose \
                 operation was interrupted is unusable, free it",
            ),
            #[cfg(feature = "std")]
            Failure::Message(_, m) => f.write_str(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_states_and_channels_map_to_their_statuses() {
        let unexpected = ErrorKind::UnexpectedChannel {
            expected: 0,
            got: 1,
        };
        assert_eq!(fxs_status::of_kind(&unexpected), fxs_status::UnexpectedTag);
        assert_eq!(fxs_status::of_kind(&ErrorKind::Busy), fxs_status::Unusable);
        assert_eq!(
            fxs_status::of_kind(&ErrorKind::SessionClosed),
            fxs_status::Unusable
        );
        assert_eq!(
            fxs_status::of_kind(&ErrorKind::Poisoned),
            fxs_status::Poisoned
        );
        let guard = Failure::Core(Error::new(
            "mul",
            ErrorKind::PrecisionGuard { headroom: 20 },
        ));
        // Found after communicating, it stays itself (not a 100-199 class turned POISONED).
        assert_eq!(guard.poisoned_now().status(), fxs_status::PrecisionGuard);
    }

    #[test]
    fn argument_errors_after_communicating_are_reported_as_poisoning() {
        let shape = Failure::Core(Error::dimension("mul", 5, 6));
        assert_eq!(shape.status(), fxs_status::DimensionMismatch);
        let now = shape.poisoned_now();
        assert_eq!(now.status(), fxs_status::Poisoned);
        // Other classes keep their status.
        let closed = Failure::Core(Error::new("mul", ErrorKind::Closed)).poisoned_now();
        assert_eq!(closed.status(), fxs_status::Closed);
    }
}
