//! The hello both ends exchange right after the handshake, before any protocol frame: protocol
//! version, session id, who is talking to whom, and each side's verdict. Its encoding and checks
//! are `fixshare_job::hello`'s (one implementation, which the WASM package's data owners use
//! too); this module re-exports them.

pub use fixshare_job::hello::*;
