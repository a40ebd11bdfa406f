//! # fixshare
//!
//! Fixed-point arithmetic on additive secret shares for privacy-preserving machine learning:
//! two servers compute on data that data owners have split between them, and neither server
//! alone learns anything about it.
//!
//! The crate is `#![no_std]` and never touches a socket, a file or an entropy source: the host
//! supplies a [`Transport`] per peer and a [`Seed`] of fresh entropy. Protocols are `async fn`s
//! generic over the transport; [`block_on`] runs them for hosts whose I/O completes at once.
//!
//! - [`session`] (`alloc`): the top floor — a [`Session`] built from one [`SessionConfig`], with
//!   the ring chosen at run time; what the C ABI and the WASM package translate. [`Party`] is the
//!   same for Rust users who fix the ring at compile time.
//! - [`limits`]: the one rule for sizes (checked products against a configured maximum of
//!   elements per operation, before anything is allocated).
//! - [`ring`], [`fixed`]: Z_2^k for k = 32, 64, 128 and fixed-point encoding.
//! - [`prg`]: seeds, domain-separated ChaCha streams.
//! - [`transport`]: the transport trait, links multiplexed into sub-channels with checked framing
//!   and counters, the tag registry, an in-memory duplex (`std`).
//! - [`state`]: the one state machine (ready, busy, poisoned, closed).
//! - [`data_owner`]: seed-compressed sharing from devices without an allocator.
//! - [`sealed`]: a data owner's messages sealed (AES-256-GCM) for one server each, for devices
//!   that reach the servers through a relay that must not read them.
//! - [`correlated`] (`alloc`): the offline phase: triples, matrix triples, truncation pairs, random OTs,
//!   from a [`Dealer`].
//! - [`topology`], [`context`] (`alloc`): who takes part, and a party's [`Context`] (links to its
//!   peers, correlation source, PRG streams, number format, state guard) that protocols run on.
//! - [`arith`] (`alloc`): the online protocols, as pure steps and as functions of a context.
//! - [`gc`], [`ot`] (`alloc`): garbled circuits (half-gates, Bristol Fashion) and oblivious
//!   transfer (Chou-Orlandi base OT, IKNP extension).
//! - [`nonlinear`] (`alloc`): ReLU, comparisons, sigmoids, max/argmax, max pooling and exact
//!   truncation on shares, by garbled circuits.
//! - [`ml`] (`alloc`): training and inference on shares, the owners' and servers' pipeline.
//! - [`weights`] (`alloc`): Phong–Phuong training by sharing sealed weights (SNT server, FNT ring).
//!
//! ## Security
//! Semi-honest security against one corrupted server (the servers must not collude). With the
//! dealer, the dealer must not collude with either server. [`IdealCorrelations`] is for tests
//! only: either party can compute the other's correlations. Fixed-point truncation is
//! probabilistic: see [`arith::truncation`] for the bounds. Not audited; do not rely on it for
//! real secrets yet.
//!
//! ## Features
//! - `alloc` (default): share vectors, the dealer, the online protocols, [`Session`], [`Party`].
//! - `std`: the in-memory duplex transport and `block_on_thread`.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod data_owner;
pub mod error;
pub mod executor;
pub mod fixed;
pub mod hash;
pub mod limits;
pub mod prg;
pub mod ring;
pub mod role;
pub mod sealed;
pub mod session;
pub mod state;
pub mod transport;

#[cfg(feature = "alloc")]
pub mod arith;
#[cfg(feature = "alloc")]
pub mod assist;
#[cfg(feature = "alloc")]
pub mod context;
#[cfg(feature = "alloc")]
pub mod correlated;
#[cfg(feature = "alloc")]
pub mod fss;
#[cfg(feature = "alloc")]
pub mod gc;
#[cfg(feature = "alloc")]
pub mod guard;
#[cfg(feature = "alloc")]
pub mod helper;
#[cfg(feature = "alloc")]
pub mod ml;
#[cfg(feature = "alloc")]
pub mod nonlinear;
#[cfg(feature = "alloc")]
pub mod numeric;
#[cfg(feature = "alloc")]
pub mod ot;
#[cfg(feature = "alloc")]
pub mod party;
#[cfg(feature = "alloc")]
pub mod share;
#[cfg(feature = "alloc")]
pub mod topology;
#[cfg(feature = "alloc")]
pub mod weights;

pub use data_owner::DataOwner;
pub use error::{Error, ErrorKind};
pub use executor::block_on;
#[cfg(feature = "std")]
pub use executor::block_on_thread;
pub use fixed::FixedPoint;
pub use prg::{Domain, Prg, Seed};
pub use ring::Ring;
pub use role::Role;
pub use state::State;
#[cfg(feature = "std")]
pub use transport::memory::{MemoryTransport, duplex};
pub use transport::{Channel, Link, Stats, Sub, Transport, TransportError};

#[cfg(feature = "alloc")]
pub use context::{Backend, Config, Context, Truncation};
#[cfg(feature = "alloc")]
pub use correlated::Correlations;
#[cfg(feature = "alloc")]
pub use correlated::dealer::{Dealer, DealerClient};
#[cfg(feature = "alloc")]
pub use correlated::ideal::IdealCorrelations;
#[cfg(feature = "alloc")]
pub use correlated::ot::OtCorrelations;
#[cfg(feature = "alloc")]
pub use correlated::preprocessed::Preprocessed;
#[cfg(feature = "alloc")]
pub use correlated::source::OfflineSource;
#[cfg(feature = "alloc")]
pub use nonlinear::{PiecewiseLinear, Pool2d};
#[cfg(feature = "alloc")]
pub use party::Party;
#[cfg(feature = "alloc")]
pub use session::{AnyShares, Session, SessionConfig};
#[cfg(feature = "alloc")]
pub use share::Shares;
#[cfg(feature = "alloc")]
pub use topology::{Duty, Links, PartyId, Topology};
