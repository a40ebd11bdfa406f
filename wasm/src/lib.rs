//! # fixshare-wasm
//!
//! WebAssembly bindings for [`fixshare`]: two-party computation on fixed-point secret shares in
//! browsers, Web Workers and Node, with an async API (every communicating method returns a
//! Promise) over JS transports.
//!
//! - [`party::Party`]: a computing party (`withDealer`, or `withOt` over the one peer
//!   connection), with [`party::Shares`];
//!   products, matrix products, truncation, ReLU, sigmoids, max/argmax, max pooling, and
//!   [`circuit::Circuit`]s run by garbling.
//! - [`dealer::Dealer`]: the third party supplying correlated randomness.
//! - [`owner::DataOwner`], [`owner::OwnerLink`]: data owners sharing numbers to the servers.
//! - [`port::MessagePortTransport`]: a transport over a `MessagePort`.
//!
//! A transport is any JS object with `send(bytes: Uint8Array)` and `recv(n: number)` returning
//! Promises (see [`transport`]). One transport joins the two parties: the online phase, the OT
//! offline phase and garbled circuits share it. Errors are rejected Promises (or thrown `Error`s
//! for the synchronous methods) carrying the core's message; nothing panics on bad input. A
//! party's state (usable after a rejected argument, poisoned after a failure that followed
//! communication, closed) is the core's. Seeds come from `crypto.getRandomValues`.
//!
//! ## Security
//! Semi-honest security; the two parties must not collude, nor the dealer with either of them.
//! Not audited.

mod convert;
mod entropy;
mod error;
mod transport;

pub mod circuit;
pub mod dealer;
pub mod owner;
pub mod party;
pub mod port;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A reliable, ordered byte stream to one peer (a MessagePort, a WebSocket, ...). */
export interface Transport {
  /** Hands all of `bytes` to the connection; the array may be reused once this settles. */
  send(bytes: Uint8Array): Promise<void> | void;
  /** Resolves to exactly `n` bytes, or to `null` when the connection has ended. */
  recv(n: number): Promise<Uint8Array | null>;
  /** Closes the connection (called by `close()` of the object that uses the transport). */
  close?(): void | Promise<void>;
}

/** Session settings; both parties must pass the same. */
export interface PartyOptions {
  /** Fractional bits of the fixed-point format (default 16). */
  fracBits?: number;
  /** Truncation after products: "local" (SecureML, default), "pairs" (truncation pairs) or
   * "exact" (in a garbled circuit). */
  truncation?: "local" | "pairs" | "exact";
  /** Largest frame payload in bytes sent to or accepted from the peer (default 64 MiB). */
  maxFrame?: number;
}

/** Traffic of a party so far (frame headers included). */
export interface PartyStats {
  /** Online phase with the peer: inputs, openings, products, garbled circuits. */
  bytesSent: number;
  bytesReceived: number;
  framesSent: number;
  /** Times this party waited for the peer after sending, in the online phase. */
  rounds: number;
  /** Offline phase: with the dealer, or OT with the peer (over the peer transport). */
  offlineBytesSent: number;
  offlineBytesReceived: number;
}
"#;
