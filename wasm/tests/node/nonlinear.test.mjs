// The non-linear layer from JS, against plaintext: with the dealer by FSS (its default) and by
// garbled circuits, with OT by garbled circuits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { session, numbers, enc } from './helpers.mjs';

const dec = (v) => Number(v) / 65536;

for (const [source, backend] of [['dealer', 'auto'], ['dealer', 'gc'], ['ot', 'auto']]) {
  test(`ReLU, DReLU, comparison, sigmoid, max/argmax, pooling, exact truncation (${source}, ${backend})`, async () => {
    const s = await session({ source, options: { backend } });
    const x = numbers(24, 8, 11);
    x[0] = 0; // the boundary: drelu(0) = 1
    const y = numbers(24, 8, 12);
    const out = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const xs = p.role === 0 ? await p.shareInput(x, 4, 6) : await p.receiveInput(4, 6);
        const ys = p.role === 1 ? await p.shareInput(y, 4, 6) : await p.receiveInput(4, 6);
        const [r, d] = await p.reluWithDerivative(xs);
        const relu = await p.relu(xs);
        const lt = await p.lessThan(xs, ys);
        const sig = await p.sigmoidPiecewise(xs);
        const [mx, idx] = await p.argmax(xs);
        const pool = await p.maxPool(xs, 1, 2, 3, 2, 1); // each row a 1 x 2 x 3 image
        const tr = await p.truncateExact(xs, 3);
        const open = async (v) => [...(await p.reveal(v))];
        return {
          r: await open(r), d: await open(d), relu: await open(relu), lt: await open(lt),
          sig: await open(sig), mx: await open(mx), idx: await open(idx), pool: await open(pool), tr: await open(tr),
        };
      }),
    );
    const [o] = out;
    assert.deepEqual(out[0], out[1]);
    const ex = [...x].map((v) => dec(enc(v))); // the encoded inputs
    const ey = [...y].map((v) => dec(enc(v)));
    assert.deepEqual(o.relu, ex.map((v) => Math.max(v, 0)));
    assert.deepEqual(o.r, o.relu);
    assert.deepEqual(o.d, ex.map((v) => (v >= 0 ? 1 : 0)));
    assert.deepEqual(o.lt, ex.map((v, i) => (v < ey[i] ? 1 : 0)));
    assert.deepEqual(o.sig, ex.map((v) => (v < -0.5 ? 0 : v > 0.5 ? 1 : v + 0.5)));
    for (let row = 0; row < 4; row++) {
      const r = ex.slice(row * 6, row * 6 + 6);
      const m = Math.max(...r);
      assert.equal(o.mx[row], m, `max of row ${row}`);
      assert.equal(o.idx[row], r.indexOf(m), `argmax of row ${row}`);
      // 2 x 3 image, 2 x 2 window, stride 1: a 1 x 2 output.
      assert.deepEqual(o.pool.slice(row * 2, row * 2 + 2), [
        Math.max(r[0], r[1], r[3], r[4]),
        Math.max(r[1], r[2], r[4], r[5]),
      ]);
    }
    assert.deepEqual(o.tr, [...x].map((v) => dec(enc(v) >> 3n)));
    await s.close();
  });
}
