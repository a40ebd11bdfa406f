//! # fixshare-wasm
//!
//! WebAssembly bindings for the session API of `fixshare` (`fixshare::session`, and nothing
//! else of the core): two-party computation on fixed-point secret shares in browsers, Web
//! Workers and Node, with an async API (every communicating method returns a Promise) over JS
//! transports.
//!
//! - [`party::Party`]: a computing party, a `Session` of the core (`withDealer`, `withOt` over
//!   the one peer connection, `withHelper` for SecureNN's three servers, or `withAssistants`
//!   for a primary of PrivPy's four), over Z_2^32, Z_2^64 or Z_2^128 (`ringBits`), with
//!   [`party::Shares`]: products, matrix products, truncation, ReLU, sigmoids, max/argmax, max
//!   pooling and its derivative, division, [`circuit::Circuit`]s run by garbling; the numerical
//!   library ([`numeric`]: reciprocal, division, exp, log, square roots, the logistic function,
//!   tanh, selection, equality, min/argmin, sum/mean/variance along an axis, broadcasting);
//!   training of linear and logistic regression and of perceptrons, and oblivious inference
//!   over dense, convolution, ReLU, square and pooling layers ([`ml`]); the precision guard
//!   (`precisionGuard` option); FSS sign tests on inputs of a promised width (`signBits`).
//! - [`dealer::Dealer`]: the third party supplying correlated randomness, and the helper P2 of a
//!   three-server session.
//! - [`assistant::Assistant`]: the assistants Sa and Sb of a four-server session.
//! - [`owner::DataOwner`], [`owner::OwnerLink`]: data owners sharing numbers to the servers.
//! - [`job_owner::JobOwner`], [`job_owner::OwnerKey`]: a data owner of a `fixshare-party` job
//!   in a web page, sharing its rows with both servers over `wss://` with a WebCrypto key
//!   (`fixshare_job`'s code: the same preparation, session id, hello and key proof as the
//!   daemon's).
//! - [`port::MessagePortTransport`]: a transport over a `MessagePort`;
//!   [`websocket::WebSocketTransport`] over a `WebSocket` (binary messages).
//! - [`weights::FloatModel`], [`weights::WeightLink`]: a trainer of Phong–Phuong weight sharing
//!   (train on its own rows, seal the weights for the next trainer, open the previous one's;
//!   FNT ring passes and SNT uploads and fetches beside Rust and C trainers).
//!
//! A transport is any JS object with `send(bytes: Uint8Array)` and `recv(n: number)` returning
//! Promises (see [`transport`]). One transport joins the two parties: the online phase, the OT
//! offline phase and garbled circuits share it. Errors are rejected Promises (or thrown `Error`s
//! for the synchronous methods) carrying the core's message and a stable `code` (`"closed"`,
//! `"poisoned"`, `"precisionGuard"`, `"invalidArgument"`, ...); nothing panics on bad input. A
//! party's seeds, ring checks and state (usable after a rejected argument, poisoned after a
//! failure that followed communication, closed) are the session's; the one seed a session
//! needs comes from `crypto.getRandomValues`.
//!
//! ## Security
//! Semi-honest security; the two parties must not collude, nor the dealer (or helper) with
//! either of them; with four servers no two of S1, S2, Sa and Sb may collude.
//! Not audited.

mod convert;
mod entropy;
mod error;
mod inbox;
mod transport;

pub mod assistant;
pub mod circuit;
pub mod dealer;
pub mod job_owner;
pub mod ml;
pub mod numeric;
pub mod owner;
pub mod party;
pub mod port;
pub mod websocket;
pub mod weights;

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
  /** Ring width in bits: 32, 64 (default) or 128. */
  ringBits?: 32 | 64 | 128;
  /** Fractional bits of the fixed-point format (default 16; at most ringBits - 2 and 62). */
  fracBits?: number;
  /** Truncation after products: "local" (SecureML, default), "pairs" (truncation pairs) or
   * "exact" (exact, by the backend). */
  truncation?: "local" | "pairs" | "exact";
  /** What computes comparisons, ReLU, sigmoids, max and exact truncation: "auto" (default: the
   * helper's protocols with three servers, FSS with a dealer, garbled circuits with OT), "gc"
   * (garbled circuits), "fss" (the dealer's function-secret-sharing keys: one round, one ring
   * element per party; needs a dealer or helper) or "helper" (SecureNN's protocols with the
   * helper online; needs `Party.withHelper`). Four servers (`Party.withAssistants`) take
   * "auto" only (the assistants compare). */
  backend?: "auto" | "gc" | "fss" | "helper";
  /** The precision guard: a headroom in bits (below ringBits - 2). Each value about to be
   * truncated must stay below 2^(ringBits - 1 - headroom) and the operands of each product small
   * enough that it cannot wrap, checked on the shares (two sign tests per element, one opened
   * bit); otherwise the operation rejects with `code: "precisionGuard"` instead of computing a
   * wrong number. Off when absent (the default). */
  precisionGuard?: number;
  /** The width b the sign tests may assume of their inputs: an integer from 2 to ringBits;
   * absent (the default), the whole ring. It promises that every value whose sign is tested
   * (the inputs of relu and drelu, x - y of lessThan, the differences compared by max, argmax
   * and maxPool) lies in [-2^(b-1), 2^(b-1)) as a ring element (x * 2^fracBits); backend
   * "fss" then compares over b - 1 bits (smaller dealer keys, faster), and a value outside the
   * range gives a wrong result, which the parties cannot detect. Other backends ignore it. */
  signBits?: number;
  /** Largest frame payload in bytes sent to or accepted from the peer (default 64 MiB). */
  maxFrame?: number;
}

/** The inputs [2^lo, 2^hi] of reciprocal, div, log, sqrt and invSqrt (integers). */
export interface Octaves {
  lo: number;
  hi: number;
}

/** What a reduction runs along: each row (a rows x 1 result), each column (1 x cols) or every
 * element (1 x 1). */
export type Axis = "perRow" | "perColumn" | "all";

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

/** Mini-batch SGD settings (defaults: 10 epochs, batches of 32 rows, learning rate 0.1). */
export interface SgdOptions {
  epochs?: number;
  batch?: number;
  learningRate?: number;
}

/** What `onEpoch` of `Party.trainGlm` and `Party.trainMlp` gets after each epoch: the epoch
 * (from 1), the number of epochs, and the session's traffic so far (as `Party.stats()`). */
export interface TrainingProgress extends PartyStats {
  epoch: number;
  epochs: number;
}

/** `Party.trainGlm`: linear or logistic regression. */
export interface GlmOptions extends SgdOptions {
  model: "linear" | "logistic";
  /** The sigmoid of logistic regression: SecureML's "piecewise" (default) or "accurate"
   * (34 linear segments). */
  sigmoid?: "piecewise" | "accurate";
}

/** `Party.trainMlp`: a perceptron with layer widths `sizes`, from public initial `weights` or
 * from those `mlpInit(sizes, seed)` makes. */
export interface MlpOptions extends SgdOptions {
  sizes: number[];
  weights?: (Float64Array | number[])[];
  seed?: number | bigint;
  /** "squared" (default: squared loss on the linear outputs) or "reluSoftmax" (SecureML's). */
  loss?: "squared" | "reluSoftmax";
}

/** An image shape; a row holds `channels * height * width` values, channel-major. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** One layer of a network (its public shape). */
export type Layer =
  | { type: "dense"; inputs: number; outputs: number }
  | { type: "conv"; input: ImageShape; filters: number; kernel: number; stride: number; padding: number }
  | { type: "relu" }
  | { type: "square" }
  | { type: "meanPool"; input: ImageShape; window: number }
  | { type: "maxPool"; input: ImageShape; window: number; stride: number };

/** A network: values per input row, and the layers in order. */
export interface Network {
  input: number;
  layers: Layer[];
}
"#;
