//! The one state machine of everything that runs a protocol with peers — a [`crate::Context`]
//! (and so every session) and a [`crate::DataOwner`]: ready, busy, poisoned, closed.
//!
//! An operation enters the [`Guard`] and leaves it with its result and whether it communicated.
//! An error found before anything was sent or received (a bad shape, size or shift, a value out of
//! range) leaves the state ready; an error after communicating poisons it, because the peers can no
//! longer be in step; an operation abandoned half-way (its future dropped, a panic) leaves it busy,
//! which refuses every later operation too. Works without an allocator.

use crate::error::{Error, ErrorKind};

/// Where a party is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// Ready for the next operation.
    Ready,
    /// An operation is running, or was abandoned half-way (its future dropped, or a panic): the
    /// parties may be out of step, so nothing more can run.
    Busy,
    /// An operation failed after something was sent or received: the parties are out of step.
    Poisoned(Error),
    /// Closed by its owner.
    Closed,
}

impl State {
    /// Fails with [`ErrorKind::Busy`], [`ErrorKind::Poisoned`] or [`ErrorKind::SessionClosed`]
    /// unless the state is ready.
    pub fn check(&self, op: &'static str) -> Result<(), Error> {
        match self {
            State::Ready => Ok(()),
            State::Busy => Err(Error::new(op, ErrorKind::Busy)),
            State::Poisoned(_) => Err(Error::new(op, ErrorKind::Poisoned)),
            State::Closed => Err(Error::new(op, ErrorKind::SessionClosed)),
        }
    }
}

/// The state machine: see the module docs.
#[derive(Clone, Debug)]
pub struct Guard {
    state: State,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new()
    }
}

impl Guard {
    /// A guard in the ready state.
    pub const fn new() -> Self {
        Guard {
            state: State::Ready,
        }
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The error that poisoned the party, if any.
    pub fn failure(&self) -> Option<&Error> {
        match &self.state {
            State::Poisoned(e) => Some(e),
            _ => None,
        }
    }

    /// Fails with [`ErrorKind::Busy`], [`ErrorKind::Poisoned`] or [`ErrorKind::SessionClosed`]
    /// unless the state is ready.
    pub fn check(&self, op: &'static str) -> Result<(), Error> {
        self.state.check(op)
    }

    /// Starts operation `op` (see [`Guard::check`]): the state is busy until [`Guard::leave`].
    pub fn enter(&mut self, op: &'static str) -> Result<(), Error> {
        self.check(op)?;
        self.state = State::Busy;
        Ok(())
    }

    /// Ends the running operation with its result `r`; `communicated` says whether any transport
    /// call was made during it. Passes `r` on.
    pub fn leave<V>(&mut self, r: Result<V, Error>, communicated: bool) -> Result<V, Error> {
        self.state = match &r {
            Err(e) if communicated => State::Poisoned(e.clone()),
            _ => State::Ready,
        };
        r
    }

    /// Closes: every later operation fails with [`ErrorKind::SessionClosed`].
    pub fn close(&mut self) {
        self.state = State::Closed;
    }
}
