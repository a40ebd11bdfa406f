//! The offline source of a party: the dealer or OT between the two parties, behind one type.

use crate::transport::CTransport;

/// Correlated randomness from a dealer (`FXS_OFFLINE_DEALER`) or generated with the peer by
/// oblivious transfer over the peer link (`FXS_OFFLINE_OT`).
pub(crate) type Source = fixshare::OfflineSource<CTransport>;
