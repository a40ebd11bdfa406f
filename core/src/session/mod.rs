//! [`Session`]: the top floor of the core, what users and bindings hold.
//!
//! One [`SessionConfig`] says everything the parties agree on — topology, ring width (32, 64 or
//! 128 bits, chosen at run time), fixed-point format, truncation, offline source, non-linear
//! backend — and [`Session::connect`] builds the party from it: it derives every seed from the
//! one the host supplies, connects the offline source (a dealer's seed, or the base OTs with the
//! peer over the same connection), and keeps the one state machine (ready, busy, poisoned,
//! closed; see [`State`]). Shares travel as [`AnyShares`], whose ring is checked against the
//! session's, so hosts need no generics: the C ABI and the WASM package translate this API and
//! nothing else.
//!
//! Error rule: an argument error found before anything is sent (a bad shape, size or shift, a
//! value out of range, shares of another ring) returns its error and leaves the session usable; a
//! failure after anything was sent or received poisons it, and every later operation, local ones
//! included, fails.
//!
//! The module also re-exports the plain data types a host needs beside the session, so that a
//! binding imports `fixshare::session` alone; without `alloc` it holds the data owner's API.

pub use crate::data_owner::{DataOwner, share_part};
pub use crate::error::{Error, ErrorKind};
pub use crate::executor::block_on;
pub use crate::fixed::FixedPoint;
pub use crate::limits;
pub use crate::prg::Seed;
pub use crate::role::Role;
pub use crate::state::State;
pub use crate::transport::{
    DEFAULT_MAX_FRAME, Link as OwnerLink, Stats, Transport, TransportError,
};

#[cfg(feature = "alloc")]
pub use crate::context::{Backend, Truncation};
#[cfg(feature = "alloc")]
pub use crate::correlated::dealer::Dealer;
#[cfg(feature = "alloc")]
pub use crate::gc::{Circuit, Reveal, bristol};
#[cfg(feature = "alloc")]
pub use crate::ml::inference::{Image, Layer, Network};
#[cfg(feature = "alloc")]
pub use crate::ml::pipeline::Progress;
#[cfg(feature = "alloc")]
pub use crate::ml::plain::Mlp;
#[cfg(feature = "alloc")]
pub use crate::ml::{GlmModel, MlpLoss, MlpParams, SgdParams, Sigmoid};
#[cfg(feature = "alloc")]
pub use crate::nonlinear::{PiecewiseLinear, Pool2d};
#[cfg(feature = "alloc")]
pub use crate::share::Shares;
#[cfg(feature = "alloc")]
pub use crate::topology::{PartyId, Topology};

#[cfg(feature = "alloc")]
mod live;
#[cfg(feature = "alloc")]
pub use live::{AnyShares, Offline, Session, SessionConfig, SessionRing};

/// Training by sharing sealed weights (Phong–Phuong, [`crate::weights`]): what a host trainer
/// needs, for the bindings (a [`weights::LocalModel`] per trainer, and the FNT and SNT steps
/// that move sealed weights over a link).
#[cfg(feature = "alloc")]
pub mod weights {
    pub use crate::ml::float::{Activation, Loss, Optimizer, Rows, Spec};
    pub use crate::weights::fnt::{pass, receive};
    pub use crate::weights::seal::{KEY_LEN, NONCE_LEN};
    pub use crate::weights::snt::{deliver, wait_for};
    pub use crate::weights::{Expect, LocalModel, ModelId, Rejection, WeightKey};
}
