// Bad input and failing transports: every call settles, rejecting with a message that says
// what went wrong; nothing panics and no Promise is left pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { fx, session, pair, enc, mulRef, ulps } from './helpers.mjs';

/** Fails if `p` has not settled within `ms`; otherwise returns its outcome. */
async function settles(p, ms = 5000) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p.then((v) => ({ ok: v }), (e) => ({ err: e })), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Both parties' shares of [1, 2, 3] (party 0's input). */
async function shared(s, values = [1, 2, 3]) {
  return Promise.all([s.p0.shareInput(values, values.length, 1), s.p1.receiveInput(values.length, 1)]);
}

test('wrong array lengths and shapes', async () => {
  const s = await session();
  await assert.rejects(s.p0.shareInput([1, 2, 3], 2, 2), {
    message: 'shareInput: values has 3 values, but a 2 x 2 matrix needs 4',
  });
  await assert.rejects(s.p0.shareInput('abc', 1, 3), /values must be a Float64Array or an array of numbers/);
  await assert.rejects(s.p0.shareInput([1, 'x'], 2, 1), /values\[1\] is not a number/);
  assert.throws(() => fx.Shares.fromRaw(2, 2, new BigUint64Array(3)), /^Error: shares from words: dimension mismatch: expected 4, got 3$/);
  // Z_2^128 takes two words per element; Z_2^32 words must fit 32 bits.
  assert.throws(() => fx.Shares.fromRaw(2, 1, new BigUint64Array(2), 128), /shares from words: dimension mismatch: expected 4, got 2/);
  assert.throws(() => fx.Shares.fromRaw(1, 1, new BigUint64Array([1n << 40n]), 32), /shares from words: invalid argument: word over 32 bits/);
  assert.throws(() => fx.Shares.fromRaw(1, 1, new BigUint64Array(1), 48), /the ring width must be 32, 64 or 128 bits/);
  // The session is still usable: the checks ran before anything was sent.
  const [x0, x1] = await shared(s);
  const [y0, y1] = await Promise.all([s.p0.shareInput([1, 2], 2, 1), s.p1.receiveInput(2, 1)]);
  assert.throws(() => s.p0.add(x0, y0), /^Error: add: dimension mismatch: expected 3, got 2$/);
  assert.throws(() => s.p0.sub(x0, y0), /^Error: sub: dimension mismatch: expected 3, got 2$/);
  assert.throws(() => x0.reshape(2, 2), /^Error: reshape: dimension mismatch: expected 3, got 4$/);
  const r = await Promise.all([settles(s.p0.dot(x0, y0)), settles(s.p1.dot(x1, y1))]);
  for (const { err } of r) assert.match(err.message, /^dot: dimension mismatch: expected 3, got 2$/);
  // Found before anything was sent: the parties are still in step.
  const [d0, d1] = await Promise.all([s.p0.dot(x0, x0), s.p1.dot(x1, x1)]);
  const [v0] = await Promise.all([s.p0.reveal(d0), s.p1.reveal(d1)]);
  assert.ok(ulps(v0[0], enc(14)) <= 1, `x.x = ${v0[0]}`);
  await s.close();
});

test('out-of-range values, bad options, bad roles, bad transports', async () => {
  await assert.rejects(fx.Party.withDealer(2, {}, {}), /role must be 0 or 1, got 2/);
  await assert.rejects(fx.Party.withDealer(0, {}, {}), /the peer transport must be an object with send\(Uint8Array\) and recv\(n\) methods/);
  const [t0, t1] = pair();
  await assert.rejects(fx.Party.withDealer(0, t0, t1, { truncation: 'exact-ish' }), /option truncation must be "local", "pairs" or "exact"/);
  await assert.rejects(fx.Party.withDealer(0, t0, t1, { backend: 'cuda' }), /option backend must be "auto", "gc", "fss" or "helper"/);
  await assert.rejects(fx.Party.withOt(0, t0, { backend: 'fss' }), /the FSS backend needs the dealer as offline source/);
  await assert.rejects(fx.Party.withOt(0, t0, { fracBits: 99 }), /^Error: Party.withOt: session config: invalid argument: fractional bits must be at most the ring width minus 2$/);
  await assert.rejects(fx.Party.withOt(0, t0, { ringBits: 48 }), /^Error: Party.withOt: session config: invalid argument: the ring width must be 32, 64 or 128 bits$/);
  await assert.rejects(fx.Party.withDealer(0, t0, t1, { ringBits: 32, fracBits: 31 }), /fractional bits must be at most the ring width minus 2/);
  await assert.rejects(fx.Party.withOt(0, t0, { ringBits: '64' }), /Party.withOt: option ringBits must be a non-negative integer/);
  assert.throws(() => new fx.DataOwner(t0, t1, { ringBits: 16 }), /^Error: DataOwner: session config: invalid argument: the ring width must be 32, 64 or 128 bits$/);
  // The former withOt(role, peer, ot, options): the second transport is refused, not mistaken
  // for the options.
  await assert.rejects(fx.Party.withOt(0, t0, t1, { fracBits: 20 }), /Party.withOt: options is a transport: the OT offline phase runs over the peer transport/);
  await assert.rejects(fx.Party.withDealer(0, t0, t1, { maxFrame: -1 }), /option maxFrame must be a non-negative integer/);
  t0.close();
  t1.close();
  const [o0, l0] = pair();
  const [o1, l1] = pair();
  const owner = new fx.DataOwner(o0, o1);
  await assert.rejects(owner.share([1, NaN]), /share: value NaN is outside the fixed-point range/);
  await assert.rejects(owner.share(new Float64Array([1e300])), /outside the fixed-point range/);
  // Nothing was sent: the link sees only the close.
  await owner.close();
  const link = new fx.OwnerLink(l0);
  const s = await session();
  const got = await settles(s.p0.receiveOwnerInput(link, 2, 1));
  assert.match(got.err.message, /receive_shares: the peer closed the connection/);
  await s.close();
  l1.close();
});

test('a transport whose Promise rejects', async () => {
  let fail = false;
  const wrap = (role, t) =>
    role === 0
      ? {
          send: (b) => (fail ? Promise.reject(new Error('link down')) : t.send(b)),
          recv: (n) => t.recv(n),
          close: () => t.close(),
        }
      : t;
  const s = await session({ wrap });
  const [x0, x1] = await shared(s);
  fail = true;
  const p1 = s.p1.mul(x1, x1);
  const r0 = await settles(s.p0.mul(x0, x0));
  assert.equal(r0.err.message, 'mul: transport failed with code -1 (peer transport: send rejected: link down)');
  // Party 0 gives up and closes; party 1, waiting for its message, learns that the peer left.
  await s.p0.close();
  const r1 = await settles(p1);
  assert.match(r1.err.message, /^mul: the peer closed the connection \(peer transport: recv\(\d+\): the connection ended\)$/);
  await assert.rejects(s.p0.mul(x0, x0), /^Error: mul: the session is closed$/);
  await assert.rejects(s.p1.reveal(x1), /reveal: the session failed earlier and is poisoned/);
  await s.close();
});

test('recv that rejects, throws or resolves to the wrong length', async () => {
  const cases = [
    [(t) => ({ send: (b) => t.send(b), recv: () => Promise.reject('gone'), close: () => t.close() }),
      /open: transport failed with code -2 \(peer transport: recv rejected: gone\)/],
    [(t) => ({ send: (b) => t.send(b), recv: () => { throw new TypeError('no recv'); }, close: () => t.close() }),
      /open: transport failed with code -2 \(peer transport: recv threw: no recv\)/],
    [(t) => ({ send: (b) => t.send(b), recv: (n) => t.recv(n).then(() => new Uint8Array(n + 1)), close: () => t.close() }),
      /open: transport failed with code -2 \(peer transport: recv\(10\) resolved to 11 bytes\)/],
    [(t) => ({ send: (b) => t.send(b), recv: async () => 'hello', close: () => t.close() }),
      /open: transport failed with code -2 \(peer transport: recv\(10\) resolved to hello, not a Uint8Array\)/],
  ];
  for (const [bad, message] of cases) {
    let broken = false;
    const wrap = (role, t) => {
      if (role !== 1) return t;
      const b = bad(t);
      return { send: b.send, recv: (n) => (broken ? b.recv(n) : t.recv(n)), close: b.close };
    };
    const s = await session({ wrap });
    try {
      const [x0, x1] = await shared(s);
      broken = true;
      const r0 = settles(s.p0.open(x0));
      const r1 = await settles(s.p1.open(x1));
      assert.match(r1.err.message, message);
      await s.p1.close();
      // Party 0 opened its own share and may have finished; either way its call settled.
      await r0;
    } finally {
      // Also on failure: open ports would keep the test process alive.
      await s.close();
    }
  }
});

test('a closed port', async () => {
  const s = await session();
  const [x0, x1] = await shared(s);
  s.transports[1].close(); // party 1's end of the peer connection
  const [r0, r1] = await Promise.all([settles(s.p0.reveal(x0)), settles(s.p1.reveal(x1))]);
  assert.match(r0.err.message, /^open: the peer closed the connection \(peer transport: recv\(\d+\): the connection ended\)$/);
  assert.equal(r1.err.message, 'open: transport failed with code -1 (peer transport: send rejected: send: the port is closed)');
  await s.close();
  // A raw port closed without the end-of-stream message (Node's 'close' event).
  const { port1, port2 } = new MessageChannel();
  const t = new fx.MessagePortTransport(port1);
  const pending = t.recv(4);
  port2.close();
  assert.equal((await settles(pending)).ok, null);
  await assert.rejects(t.recv(0).then(() => t.recv(1)).then((v) => { if (v === null) throw new Error('ended'); }), /ended/);
  t.close();
  await assert.rejects(t.send(new Uint8Array(1)), /send: the port is closed/);
});

test('a peer that sends nothing, a busy party, a second recv', async () => {
  const [a, b] = pair({ timeoutMs: 200 });
  const [d0, p0] = pair();
  const [d1, p1] = pair();
  const dealer = new fx.Dealer().serve(d0, d1);
  const [q0, q1] = await Promise.all([fx.Party.withDealer(0, a, p0), fx.Party.withDealer(1, b, p1)]);
  const [x0, x1] = await Promise.all([q0.shareInput([1, 2], 2, 1), q1.receiveInput(2, 1)]);
  const first = q0.mul(x0, x0);
  await assert.rejects(q0.mul(x0, x0), /mul: an operation of the session is running or was abandoned half-way \(await each call before the next\)/);
  const r = await settles(first);
  assert.match(r.err.message, /mul: transport failed with code -2 \(peer transport: recv rejected: recv timed out after 200 ms/);
  await assert.rejects(dealer.constructor.name === 'Promise' ? new fx.Dealer().serve({}, d1) : null, /party 0 transport must be an object/);
  const [c, d] = pair();
  const r1 = c.recv(1);
  await assert.rejects(c.recv(1), /another recv on this port is still pending/);
  await assert.rejects(c.recv(-1), /n must be a non-negative integer/);
  c.close();
  await assert.rejects(r1, /closed on this side/);
  d.close();
  await Promise.allSettled([q0.close(), q1.close()]);
  // Party 0 had asked the dealer for its triples when party 1 left: the dealer reports it.
  await assert.rejects(dealer, /dealer.request: the peer closed the connection/);
});

test('sizes beyond the per-operation limit are refused before allocating', async () => {
  const s = await session();
  await assert.rejects(s.p1.receiveInput(1 << 20, 1 << 10), /receiveInput: 1048576 x 1024 is more than the 67108864 elements allowed/);
  const [o0, l0] = pair();
  const [o1, l1] = pair();
  const owner = new fx.DataOwner(o0, o1);
  await assert.rejects(owner.reconstruct(0xffffffff), /reconstruct: 4294967295 x 1 is more than/);
  await assert.rejects(s.p0.receiveOwnerInput(new fx.OwnerLink(l0), 1 << 16, 1 << 16), /receiveOwnerInput: 65536 x 65536/);
  // An outer product whose result would not fit.
  const v = fx.Shares.fromRaw(1 << 14, 1, new BigUint64Array(1 << 14));
  await assert.rejects(s.p0.matmul(v, v.transpose()), /matmul: 16384 x 16384 is more than/);
  // Max pooling whose window buffer would not fit (129^2 windows of 128^2 values for one 256 x 256
  // image), and windows whose count overflows with no channels and no images (issue 18).
  const img = fx.Shares.fromRaw(1, 1 << 16, new BigUint64Array(1 << 16));
  await assert.rejects(s.p0.maxPool(img, 1, 256, 256, 128, 1), /maxPool: 1 x 272646144 is more than/);
  const none = fx.Shares.fromRaw(0, 0, new BigUint64Array(0));
  await assert.rejects(s.p0.maxPool(none, 0, 0xffffffff, 0xffffffff, 1, 1), /maxPool: 4294967295 x 4294967295 is more than/);
  // None of these touched the session.
  const [x0, x1] = await Promise.all([s.p0.shareInput([3], 1, 1), s.p1.receiveInput(1, 1)]);
  const [r0] = await Promise.all([s.p0.reveal(x0), s.p1.reveal(x1)]);
  assert.deepEqual([...r0], [3]);
  await owner.close();
  l0.close();
  l1.close();
  await s.close();
});

for (const source of ['dealer', 'ot']) {
  test(`an argument error leaves the party usable (${source})`, async () => {
    const s = await session({ source });
    const x = [1.5, -2.25, 3];
    const [x0, x1] = await shared(s, x);
    const [y0] = await shared(s, [4, 5]);
    // Party 0 alone makes the bad calls: each is refused before anything is sent, so party 1,
    // which never sees them, is still in step with it.
    await assert.rejects(s.p0.mul(x0, y0), /^Error: mul: dimension mismatch: expected 3, got 2$/);
    await assert.rejects(s.p0.truncate(x0, 200), /^Error: truncate: invalid argument: shift too large for the ring$/);
    await assert.rejects(s.p0.matmul(x0, x0), /^Error: matmul: dimension mismatch: expected 1, got 3$/);
    // A call made while another is pending is refused too, and the pending one goes on.
    const pending = s.p0.mul(x0, x0);
    await assert.rejects(s.p0.truncate(x0, 1), /truncate: an operation of the session is running/);
    const [z0, z1] = await Promise.all([pending, s.p1.mul(x1, x1)]);
    const [r0, r1] = await Promise.all([s.p0.reveal(z0), s.p1.reveal(z1)]);
    assert.deepEqual(r0, r1);
    x.forEach((v, i) => assert.ok(ulps(r0[i], mulRef(v, v)) <= 1, `x*x at ${i}: ${r0[i]}`));
    const [t0, t1] = await Promise.all([s.p0.truncate(x0, 1), s.p1.truncate(x1, 1)]);
    const [h] = await Promise.all([s.p0.reveal(t0), s.p1.reveal(t1)]);
    x.forEach((v, i) => assert.ok(ulps(h[i], enc(v) >> 1n) <= 1, `x/2 at ${i}: ${h[i]}`));
    await s.close();
  });
}

test('a failure after communicating poisons the party', async () => {
  // Party 0's peer transport reports each recv; the test closes party 1's end of the connection
  // once party 0 has sent its part of a product and waits for party 1's.
  let onRecv = null;
  const wrap = (role, t) =>
    role === 0
      ? {
          send: (b) => t.send(b),
          recv: (n) => {
            onRecv?.();
            return t.recv(n);
          },
          close: () => t.close(),
        }
      : t;
  const s = await session({ wrap });
  const [x0] = await shared(s);
  const waiting = new Promise((resolve) => (onRecv = resolve));
  const mul = settles(s.p0.mul(x0, x0));
  await waiting;
  s.transports[1].close();
  assert.match((await mul).err.message, /^mul: the peer closed the connection \(peer transport: recv\(\d+\): the connection ended\)$/);
  // Every later call rejects, naming the poisoning and its cause, before touching the transport.
  await assert.rejects(s.p0.reveal(x0), /^Error: reveal: the session failed earlier and is poisoned \(mul: the peer closed the connection\)$/);
  await assert.rejects(s.p0.truncate(x0, 200), /truncate: the session failed earlier and is poisoned/);
  // Its traffic can still be read, and it closes.
  assert.ok(s.p0.stats().bytesSent > 0);
  await s.p0.close();
  await assert.rejects(s.p0.reveal(x0), /^Error: reveal: the session is closed$/);
  // Party 0 had asked the dealer for its triples when party 1 left: the dealer reports it.
  await assert.rejects(s.close(), /dealer.request: the peer closed the connection/);
});
