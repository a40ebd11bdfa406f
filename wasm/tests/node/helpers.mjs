// Shared helpers of the Node tests: the package (CommonJS build), transports over
// MessageChannel, sessions of two parties with a dealer or OT (over the one peer connection),
// and the plaintext references.
import { createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
export const fx = require('../../pkg/node/fixshare_wasm.js');

/** Two connected MessagePortTransports. */
export function pair(options) {
  const { port1, port2 } = new MessageChannel();
  return [new fx.MessagePortTransport(port1, options), new fx.MessagePortTransport(port2, options)];
}

/**
 * Two parties (and a dealer for `source === 'dealer'`, the helper P2 of three servers for
 * `source === 'helper'`, both `Dealer.serve`), all running concurrently in this thread over
 * MessageChannels. `wrap(role, transport)` may replace a party's peer transport, and
 * `wrapHelper(role, transport)` the helper's transport to party `role`.
 */
export async function session({ source = 'dealer', options, wrap = (_r, t) => t, wrapHelper = (_r, t) => t } = {}) {
  const [a, b] = pair();
  const peers = [wrap(0, a), wrap(1, b)];
  let served = Promise.resolve(null);
  let parties;
  if (source === 'dealer' || source === 'helper') {
    const [d0, p0] = pair();
    const [d1, p1] = pair();
    served = new fx.Dealer().serve(wrapHelper(0, d0), wrapHelper(1, d1));
    const connect = source === 'helper' ? fx.Party.withHelper : fx.Party.withDealer;
    parties = await Promise.all([connect(0, peers[0], p0, options), connect(1, peers[1], p1, options)]);
  } else {
    // The OT offline phase runs over the peer transports too.
    parties = await Promise.all([fx.Party.withOt(0, peers[0], options), fx.Party.withOt(1, peers[1], options)]);
  }
  const [p0, p1] = parties;
  return {
    p0,
    p1,
    transports: [a, b],
    /** The dealer's (or helper's) `serve`: resolves to its traffic, or rejects. */
    served,
    /** Closes both parties; resolves to the dealer's traffic (or null). */
    async close() {
      await Promise.allSettled([p0.close(), p1.close()]);
      return served;
    },
  };
}

/** Deterministic pseudo-random numbers in [-range, range) (the test data, not key material). */
export function numbers(n, range, seed) {
  let s = BigInt(seed) | 1n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    out[i] = (Number(s >> 11n) / 2 ** 53) * 2 * range - range;
  }
  return out;
}

const F = 16;
/** Fixed-point encoding with 16 fractional bits, as a BigInt. */
export const enc = (x) => BigInt(Math.round(x * 2 ** F));
/** The fixed-point product of encodings, truncated (floor) as the protocol does. */
export const mulRef = (a, b) => (enc(a) * enc(b)) >> BigInt(F);
/** |got - expected| in units in the last place, for an expected encoding. */
export const ulps = (got, expected) => Math.abs(Math.round(got * 2 ** F) - Number(expected));

/** `a` (m x k) times `b` (k x n), each product term summed before one truncation. */
export function matmulRef(a, b, m, k, n) {
  const out = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0n;
      for (let t = 0; t < k; t++) acc += enc(a[i * k + t]) * enc(b[t * n + j]);
      out.push(acc >> BigInt(F));
    }
  }
  return out;
}

/** Asserts that `f()` (a Promise or a synchronous call) fails with `code` and a message
 * matching `re`. */
export async function refused(f, code, re) {
  let err;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, `expected a rejection matching ${re}`);
  assert.match(err.message, re);
  assert.equal(err.code, code, `code of "${err.message}"`);
}
