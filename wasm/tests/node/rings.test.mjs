// Rings Z_2^32 and Z_2^128 (`ringBits` in the options): arithmetic and ReLU against plaintext
// fixed-point references computed here, the words layout of `toBigUint64Array` / `fromRaw` /
// `open`, data owners per ring, and shares of another ring refused before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, session, pair, numbers } from './helpers.mjs';

// Z_2^32 holds products of 8-bit fractions only (and local truncation would fail too often
// there): exact truncation. Z_2^128 takes 40 fractional bits with room to spare.
const RINGS = {
  32: { ringBits: 32, fracBits: 8, truncation: 'exact' },
  128: { ringBits: 128, fracBits: 40 },
};

/** Encoding, ring reduction and decoding of fixed-point numbers in Z_2^bits with `f` bits. */
function ring(bits, f) {
  const mod = 1n << BigInt(bits);
  const enc = (x) => BigInt(Math.round(x * 2 ** f));
  const reduce = (v) => ((v % mod) + mod) % mod;
  const signed = (v) => (reduce(v) >= mod / 2n ? reduce(v) - mod : reduce(v));
  /** The ring elements of `words` (toBigUint64Array's layout). */
  const elements = (words) => {
    const w = [...words];
    if (bits !== 128) return w;
    const out = [];
    for (let i = 0; i < w.length; i += 2) out.push(w[i] | (w[i + 1] << 64n));
    return out;
  };
  /** |got - expected| in ulps, for a decoded `got` and an expected encoding. */
  const ulps = (got, expected) => {
    const g = BigInt(Math.round(got * 2 ** f));
    const d = g - expected;
    return Number(d < 0n ? -d : d);
  };
  return { mod, enc, reduce, signed, elements, ulps, f };
}

for (const bits of [32, 128]) {
  for (const source of ['dealer', 'ot']) {
    test(`Z_2^${bits}: products, matrix products, truncation, local operations, ReLU (${source})`, async () => {
      const options = RINGS[bits];
      const R = ring(bits, options.fracBits);
      const s = await session({ source, options });
      assert.equal(s.p0.ringBits, bits);
      const x = numbers(12, 4, 31 + bits); // party 0's, 3 x 4
      const y = numbers(12, 4, 32 + bits); // party 1's, 3 x 4
      x[0] = 0;
      const out = await Promise.all(
        [s.p0, s.p1].map(async (p) => {
          const xs = p.role === 0 ? await p.shareInput(x, 3, 4) : await p.receiveInput(3, 4);
          const ys = p.role === 1 ? await p.shareInput(y, 3, 4) : await p.receiveInput(3, 4);
          const words = xs.toBigUint64Array();
          const again = fx.Shares.fromRaw(3, 4, words, bits);
          const local = p.sub(p.add(p.mulPublicInteger(xs, 3), ys), p.neg(p.addPublic(again, 0.5)));
          const open = async (v) => [...(await p.reveal(v))];
          return {
            xs, words, ringBits: xs.ringBits,
            mul: await open(await p.mul(xs, ys)),
            mm: await open(await p.matmul(xs, ys.transpose())),
            dot: await open(await p.dot(xs.reshape(12, 1), ys.reshape(12, 1))),
            sq: await open(await p.square(xs)),
            tr: await open(await p.truncate(xs, 3)),
            relu: await open(await p.relu(xs)),
            local: await open(local),
            raw: await p.open(xs),
            x: await open(xs),
          };
        }),
      );
      const [a, b] = out;
      assert.equal(a.ringBits, bits);
      assert.deepEqual(a.mul, b.mul, 'both parties open the same values');
      // The words layout: one word per element (two, low first, in Z_2^128); the parties'
      // shares add up to the encoding modulo 2^bits, and open() gives the same elements.
      assert.equal(a.words.length, 12 * (bits === 128 ? 2 : 1));
      const ea = R.elements(a.words);
      const eb = R.elements(b.words);
      const raw = R.elements(a.raw);
      x.forEach((v, i) => {
        assert.equal(R.reduce(ea[i] + eb[i]), R.reduce(R.enc(v)), `shares of x[${i}]`);
        assert.equal(raw[i], R.reduce(R.enc(v)), `open(x)[${i}]`);
        if (bits === 32) assert.ok(a.words[i] < 1n << 32n, 'Z_2^32 words are zero-extended');
      });
      assert.deepEqual(a.x, Array.from(x, (v) => Number(R.enc(v)) / 2 ** R.f), 'reveal decodes the encoding');
      const F = BigInt(R.f);
      for (let i = 0; i < 12; i++) {
        const [ex, ey] = [R.enc(x[i]), R.enc(y[i])];
        assert.ok(R.ulps(a.mul[i], (ex * ey) >> F) <= 1, `x*y at ${i}: ${a.mul[i]} vs ${x[i] * y[i]}`);
        assert.ok(R.ulps(a.sq[i], (ex * ex) >> F) <= 1, `x*x at ${i}`);
        assert.ok(R.ulps(a.tr[i], ex >> 3n) <= 1, `x/8 at ${i}`);
        assert.equal(a.relu[i], Math.max(a.x[i], 0), `ReLU at ${i}`);
        // 3x + y + (x + 1/2), exact.
        assert.equal(R.ulps(a.local[i], 3n * ex + ey + ex + R.enc(0.5)), 0, `local at ${i}`);
      }
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0n;
          for (let k = 0; k < 4; k++) acc += R.enc(x[r * 4 + k]) * R.enc(y[c * 4 + k]);
          assert.ok(R.ulps(a.mm[r * 3 + c], acc >> F) <= 1, `x y^T at ${r},${c}`);
        }
      }
      const dref = x.reduce((acc, v, i) => acc + R.enc(v) * R.enc(y[i]), 0n) >> F;
      assert.ok(R.ulps(a.dot[0], dref) <= 1, `dot ${a.dot[0]}`);
      const st = s.p0.stats();
      assert.ok(st.bytesSent > 0 && st.offlineBytesReceived > 0);
      await s.close();
    });
  }

  test(`Z_2^${bits}: shares of another ring are refused before anything is sent; data owners`, async () => {
    const options = RINGS[bits];
    const R = ring(bits, options.fracBits);
    const s = await session({ options });
    const [x0, x1] = await Promise.all([s.p0.shareInput([1.5, -2, 3], 3, 1), s.p1.receiveInput(3, 1)]);
    const other = fx.Shares.fromRaw(3, 1, new BigUint64Array(3)); // Z_2^64
    assert.equal(other.ringBits, 64);
    // Party 0 alone makes the bad calls: refused before anything is sent, so it stays in step.
    const mismatch = new RegExp(`shares of Z_2\\^64 passed to a session over Z_2\\^${bits}`);
    await assert.rejects(s.p0.mul(x0, other), mismatch);
    await assert.rejects(s.p0.relu(other), mismatch);
    await assert.rejects(s.p0.trainGlm(other, other, { model: 'linear' }), mismatch);
    assert.throws(() => s.p0.add(x0, other), /add: shares of Z_2\^64 passed to a session over/);
    assert.throws(() => s.p0.neg(other), mismatch);
    assert.throws(() => s.p0.mulPublicInteger(other, 2), mismatch);
    assert.throws(() => s.p0.addPublic(other, 1), mismatch);
    const [y0, y1] = await Promise.all([s.p0.square(x0), s.p1.square(x1)]);
    const [v] = await Promise.all([s.p0.reveal(y0), s.p1.reveal(y1)]);
    assert.deepEqual([...v], [2.25, 4, 9]);

    // A data owner of the same ring shares to both servers and reconstructs their product.
    const [o0, l0] = pair();
    const [o1, l1] = pair();
    const owner = new fx.DataOwner(o0, o1, options);
    const links = [new fx.OwnerLink(l0), new fx.OwnerLink(l1)];
    const values = numbers(10, 3, 40 + bits);
    const servers = [s.p0, s.p1].map(async (p) => {
      const xs = await p.receiveOwnerInput(links[p.role], 10, 1);
      assert.equal(xs.ringBits, bits);
      await p.sendOwnerOutput(links[p.role], await p.mul(xs, xs));
    });
    // A value out of range is refused before anything is sent; the owner stays usable.
    await assert.rejects(owner.share([1, 2 ** (bits - options.fracBits)]), /share: value .* is outside the fixed-point range/);
    await owner.share(values);
    const sq = await owner.reconstruct(10);
    await Promise.all(servers);
    values.forEach((v, i) => assert.ok(R.ulps(sq[i], (R.enc(v) * R.enc(v)) >> BigInt(R.f)) <= 1, `owner's x*x at ${i}`));
    await owner.close();
    await Promise.all(links.map((l) => l.close()));
    await s.close();
  });
}
