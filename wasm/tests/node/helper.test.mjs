// SecureNN's three servers from JS: P0 and P1 are `Party.withHelper`, the helper P2 is
// `Dealer.serve` (no program of its own), all three in this thread over MessageChannels. ReLU,
// DReLU, comparisons, max/argmax, max pooling and its derivative, division and the softmax
// replacement against plaintext in every ring; a helper that leaves half-way through a ReLU
// (both parties reject naming the transport, and a party that closes after its failure ends its
// peer's wait: nothing hangs); options refused before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, pair, session, numbers } from './helpers.mjs';

/** Fixed point with `f` fractional bits: encoding (BigInt) and decoding. */
const fixed = (f) => ({
  enc: (v) => BigInt(Math.round(v * 2 ** f)),
  dec: (e) => Number(e) / 2 ** f,
});

/** The window maxima and the derivative mask (1 at each window's first maximum, summed). */
function poolRef(img, rows, h, w, k, st) {
  const oh = Math.floor((h - k) / st) + 1;
  const ow = Math.floor((w - k) / st) + 1;
  const max = [];
  const mask = new Array(rows * h * w).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let at = -1;
        for (let dy = 0; dy < k; dy++) {
          for (let dx = 0; dx < k; dx++) {
            const p = r * h * w + (oy * st + dy) * w + ox * st + dx;
            if (at < 0 || img[p] > img[at]) at = p;
          }
        }
        max.push(img[at]);
        mask[at] += 1;
      }
    }
  }
  return { max, mask };
}

for (const [ringBits, fracBits, backend] of [[64, 16, 'auto'], [32, 8, 'helper'], [128, 30, 'helper']]) {
  test(`three servers: ReLU, DReLU, comparison, max, pooling and its derivative, division (Z_2^${ringBits}, ${backend})`, async () => {
    const s = await session({ source: 'helper', options: { ringBits, fracBits, backend } });
    const { enc, dec } = fixed(fracBits);
    const ulp = 2 ** -fracBits;
    const round = (v) => dec(enc(v)); // the encoded inputs
    const x = [...numbers(24, 8, 31)].map(round);
    x.splice(0, 4, 0, ulp, -ulp, 0); // the edges: 0 and one unit either side
    const y = [...numbers(24, 8, 32)].map(round);
    y[3] = 0; // x == y: not less
    // Division: 0 <= a <= b, b > 0 (and a == b once).
    const a = x.map((v) => Math.abs(v));
    const b = x.map((v, i) => Math.abs(v) + (i === 5 ? 0 : Math.abs(y[i])) + ulp);
    a[5] = b[5];
    // Images: 4 rows of 1 x 4 x 6, with ties.
    const img = [...numbers(96, 4, 33)].map((v) => round(Math.trunc(v * 2) / 2));

    const out = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const own = async (values, owner, rows, cols) =>
          p.role === owner ? p.shareInput(values, rows, cols) : p.receiveInput(rows, cols);
        const xs = await own(x, 0, 4, 6);
        const ys = await own(y, 1, 4, 6);
        const as = await own(a, 0, 24, 1);
        const bs = await own(b, 1, 24, 1);
        const is = await own(img, 1, 4, 24);
        const open = async (v) => [...(await p.reveal(v))];
        const [r, d] = await p.reluWithDerivative(xs);
        const [mx, idx] = await p.argmax(xs);
        const [pm, mask] = await p.maxPoolWithDerivative(is, 1, 4, 6, 2, 2);
        const [pm1, mask1] = await p.maxPoolWithDerivative(is, 1, 4, 6, 3, 1);
        return {
          relu: await open(await p.relu(xs)),
          drelu: await open(await p.drelu(xs)),
          r: await open(r),
          d: await open(d),
          lt: await open(await p.lessThan(xs, ys)),
          max: await open(await p.max(xs)),
          mx: await open(mx),
          idx: await open(idx),
          pool: await open(await p.maxPool(is, 1, 4, 6, 2, 2)),
          pm: await open(pm),
          mask: await open(mask),
          pm1: await open(pm1),
          mask1: await open(mask1),
          div: await open(await p.divide(as, bs)),
          sm: await open(await p.reluSoftmax(xs)),
          stats: p.stats(),
        };
      }),
    );
    const served = await s.close();
    const [o] = out;
    assert.deepEqual(out[0].relu, out[1].relu);
    assert.deepEqual(out[0].div, out[1].div);
    // Exact: ReLU, DReLU, the comparison, max and argmax, the pooling and its mask.
    assert.deepEqual(o.relu, x.map((v) => Math.max(v, 0)));
    assert.deepEqual(o.r, o.relu);
    assert.deepEqual(o.drelu, x.map((v) => (v >= 0 ? 1 : 0)));
    assert.deepEqual(o.d, o.drelu);
    assert.deepEqual(o.lt, x.map((v, i) => (v < y[i] ? 1 : 0)));
    for (let row = 0; row < 4; row++) {
      const r = x.slice(row * 6, row * 6 + 6);
      const m = Math.max(...r);
      assert.equal(o.max[row], m, `max of row ${row}`);
      assert.equal(o.mx[row], m, `argmax: max of row ${row}`);
      assert.equal(o.idx[row], r.indexOf(m), `argmax of row ${row}`);
    }
    const p22 = poolRef(img, 4, 4, 6, 2, 2);
    assert.deepEqual(o.pool, p22.max, 'max pool 2x2/2');
    assert.deepEqual(o.pm, p22.max, 'max pool with derivative 2x2/2: maxima');
    assert.deepEqual(o.mask, p22.mask, 'max pool with derivative 2x2/2: mask');
    const p31 = poolRef(img, 4, 4, 6, 3, 1);
    assert.deepEqual(o.pm1, p31.max, 'max pool with derivative 3x3/1: maxima');
    assert.deepEqual(o.mask1, p31.mask, 'max pool with derivative 3x3/1: mask (overlaps add up)');
    // Division: exactly floor(a 2^f / b), within one unit of a / b; 1 where a == b.
    assert.deepEqual(o.div, a.map((v, i) => dec((enc(v) << BigInt(fracBits)) / enc(b[i]))));
    o.div.forEach((q, i) => assert.ok(Math.abs(q - a[i] / b[i]) <= ulp, `divide at ${i}`));
    assert.equal(o.div[5], 1);
    // The softmax replacement: relu(x_i) / sum_j relu(x_j) per row, or 1 / 6 without a positive value.
    for (let row = 0; row < 4; row++) {
      const r = x.slice(row * 6, row * 6 + 6).map((v) => Math.max(v, 0));
      const sum = r.reduce((acc, v) => acc + v, 0);
      r.forEach((v, j) => {
        const want = sum > 0 ? v / sum : 1 / 6;
        assert.ok(Math.abs(o.sm[row * 6 + j] - want) <= 2 * ulp, `reluSoftmax at ${row}, ${j}`);
      });
    }
    // Traffic: online steps with the peer and the helper, dealing from the helper.
    for (const { stats } of out) {
      assert.ok(stats.bytesSent > 0 && stats.rounds > 0 && stats.offlineBytesReceived > 0);
    }
    assert.ok(served.bytesToParty0 > 0 && served.bytesToParty1 > 0);
  });
}

/** A transport that ends its connection once it has sent `budget` bytes (`null`: never). */
function cutting(t, budget, counter) {
  return {
    async send(bytes) {
      counter.sent += bytes.length;
      if (budget !== null && counter.sent > budget) {
        t.close();
        throw new Error('the helper left');
      }
      return t.send(bytes);
    },
    recv: (n) => t.recv(n),
    close: () => t.close(),
  };
}

/** Shares 64 values and runs `relus` ReLUs with the helper's link to P1 cut after `budget`
 * bytes: the helper's bytes to P1, and each party's first error (or null). */
async function reluRun(relus, budget) {
  const counter = { sent: 0 };
  const held = [];
  const s = await session({
    source: 'helper',
    wrapHelper: (role, t) => {
      held.push(t);
      return role === 1 ? cutting(t, budget, counter) : t;
    },
  });
  // A helper that stopped leaves: its connection to P0 ends too.
  const helperDone = s.served.then(
    () => null,
    (e) => {
      held.forEach((t) => t.close());
      return e;
    },
  );
  const x = numbers(64, 4, 41);
  const errors = await Promise.all(
    [s.p0, s.p1].map(async (p) => {
      const xs = p.role === 0 ? await p.shareInput(x, 64, 1) : await p.receiveInput(64, 1);
      try {
        for (let i = 0; i < relus; i++) await p.relu(xs);
        return null;
      } catch (e) {
        // Poisoned afterwards, naming the first failure; closing it ends its peer's wait.
        await assert.rejects(p.divide(xs, xs), /divide: the session failed earlier and is poisoned/);
        await p.close();
        return e.message;
      }
    }),
  );
  await Promise.allSettled([s.p0.close(), s.p1.close()]);
  return { sent: counter.sent, errors, helper: await helperDone };
}

test('three servers: a helper that leaves half-way through a ReLU', async () => {
  const before = await reluRun(0, null);
  const after = await reluRun(1, null);
  assert.deepEqual(before.errors, [null, null]);
  assert.equal(before.helper, null);
  assert.ok(after.sent > before.sent);
  const cut = await reluRun(3, Math.floor((before.sent + after.sent) / 2));
  // Both parties fail the ReLU, naming the transport that ended; the helper names its own.
  assert.match(cut.errors[1], /^relu: the peer closed the connection \(helper transport: .*\)$/);
  assert.match(cut.errors[0], /^relu: the peer closed the connection \((helper|peer) transport: .*\)$/);
  assert.ok(cut.helper instanceof Error);
  assert.match(cut.helper.message, /party 1 transport: send rejected: .*the helper left/);
});

test('three servers: options and transports refused before anything is sent', async () => {
  const silent = () => {
    const [t] = pair();
    return {
      sent: 0,
      send(bytes) {
        this.sent += bytes.length;
        return t.send(bytes);
      },
      recv: (n) => t.recv(n),
      close: () => t.close(),
    };
  };
  const peer = silent();
  const dealer = silent();
  await assert.rejects(
    fx.Party.withDealer(0, peer, dealer, { backend: 'helper' }),
    /^Error: Party.withDealer: session config: invalid argument: the helper backend needs a third server \(three or four servers\)$/,
  );
  await assert.rejects(fx.Party.withOt(1, peer, { backend: 'helper' }), /the helper backend needs a third server \(three or four servers\)/);
  await assert.rejects(fx.Party.withHelper(0, peer, dealer, { backend: 'circuits' }),
    /option backend must be "auto", "gc", "fss" or "helper"/);
  await assert.rejects(fx.Party.withHelper(2, peer, dealer), /role must be 0 or 1, got 2/);
  await assert.rejects(fx.Party.withHelper(0, peer, { send: () => {} }), /Party.withHelper: .*recv/);
  await assert.rejects(fx.Party.withHelper(0, peer, dealer, { ringBits: 48 }), /the ring width must be 32, 64 or 128 bits/);
  assert.equal(peer.sent + dealer.sent, 0, 'nothing was sent');
  peer.close();
  dealer.close();
  // A helper that hangs up before sending the seed.
  const [p, q] = pair();
  const [h, g] = pair();
  g.close();
  await assert.rejects(fx.Party.withHelper(0, p, h), /dealer.seed: the peer closed the connection \(helper transport: .*\)/);
  p.close();
  q.close();
});
