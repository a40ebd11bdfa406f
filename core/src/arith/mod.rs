//! Online arithmetic on shares, as pure steps apart from I/O.
//!
//! Each protocol is split into the message a party computes from its shares and a correlation
//! (`mask`), and the local step that finishes once the opened values are known (`combine`).
//! [`online`] runs the exchange between the two over a [`crate::Context`]. Local operations
//! (add, sub, neg, integer constants) need no communication and live on [`crate::Shares`].

pub mod beaver;
pub mod matmul;
pub mod nparty;
pub mod online;
pub mod truncation;

use crate::ring::Ring;
use crate::role::Role;

/// Adds the public value `c` to a shared value: party 0 adds it, party 1 does nothing.
#[inline]
pub fn add_public<R: Ring>(role: Role, share: R, c: R) -> R {
    match role {
        Role::P0 => share.add(c),
        Role::P1 => share,
    }
}
