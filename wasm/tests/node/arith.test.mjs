// Two parties in this Node process, over MessageChannels, checked against plaintext
// fixed-point references computed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, session, pair, numbers, enc, mulRef, ulps, matmulRef } from './helpers.mjs';

for (const source of ['dealer', 'ot']) {
  test(`multiplication, matrix product, dot product (${source})`, async () => {
    // Counts what party 0 hands its peer transport: with OT the offline phase travels there too.
    let handed = 0;
    const wrap = (role, t) =>
      role === 0
        ? { send: (b) => ((handed += b.length), t.send(b)), recv: (n) => t.recv(n), close: () => t.close() }
        : t;
    const s = await session({ source, wrap });
    const x = numbers(257, 100, 1); // party 0's input
    const y = numbers(257, 100, 2); // party 1's input
    const [r0, r1] = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const xs = p.role === 0 ? await p.shareInput(x, 257, 1) : await p.receiveInput(257, 1);
        const ys = p.role === 1 ? await p.shareInput(y, 257, 1) : await p.receiveInput(257, 1);
        const z = await p.mul(xs, ys);
        // A 3 x 4 matrix of x's first values times a 4 x 2 matrix of y's.
        const m = await p.matmul(firstMatrix(xs, 3, 4), firstMatrix(ys, 4, 2));
        const d = await p.dot(xs, ys);
        return { z: await p.reveal(z), m: await p.reveal(m), d: await p.reveal(d) };
      }),
    );
    assert.deepEqual(r0.z, r1.z, 'both parties open the same values');
    for (let i = 0; i < x.length; i++) {
      assert.ok(ulps(r0.z[i], mulRef(x[i], y[i])) <= 1, `x*y at ${i}: ${r0.z[i]} vs ${x[i] * y[i]}`);
    }
    const mref = matmulRef(x.slice(0, 12), y.slice(0, 8), 3, 4, 2);
    assert.equal(r0.m.length, 6);
    mref.forEach((e, i) => assert.ok(ulps(r0.m[i], e) <= 1, `matmul at ${i}: ${r0.m[i]}`));
    const dref = matmulRef(x, y, 1, 257, 1)[0];
    assert.ok(ulps(r0.d[0], dref) <= 1, `dot: ${r0.d[0]} vs ${Number(dref) / 65536}`);
    const st = s.p0.stats();
    assert.ok(st.bytesSent > 0 && st.rounds > 0 && st.offlineBytesReceived > 0 && st.offlineBytesSent > 0);
    assert.equal(handed, st.bytesSent + (source === 'ot' ? st.offlineBytesSent : 0), 'bytes over the peer transport');
    await s.close();
  });
}

/** The first rows*cols elements of a shared vector as a rows x cols matrix (a local step:
 * each party takes the same elements of its share). */
function firstMatrix(v, rows, cols) {
  return fx.Shares.fromRaw(rows, cols, v.toBigUint64Array().slice(0, rows * cols));
}

test('square, public constants, truncation pairs, reveal to one party', async () => {
  const s = await session({ options: { truncation: 'pairs', fracBits: 20 } });
  const x = numbers(33, 50, 3);
  const F = 2 ** 20;
  const e = (v) => BigInt(Math.round(v * F));
  const [o0, o1] = await Promise.all(
    [s.p0, s.p1].map(async (p) => {
      const xs = p.role === 0 ? await p.shareInput(x, 3, 11) : await p.receiveInput(3, 11);
      const sq = await p.square(xs);
      const lin = p.addPublic(p.mulPublicInteger(xs, -3), 0.5); // -3x + 0.5, exact
      const scaled = await p.mulPublic(xs, 0.25);
      const diff = p.sub(p.add(sq, lin), p.neg(lin)); // x^2 + 2(-3x + 0.5)
      return {
        sq: await p.revealTo(sq, 1),
        lin: await p.reveal(lin),
        scaled: await p.reveal(scaled),
        diff: await p.reveal(diff),
      };
    }),
  );
  assert.equal(o0.sq, undefined, 'party 0 learns nothing from revealTo(.., 1)');
  for (let i = 0; i < x.length; i++) {
    const sqRef = (e(x[i]) * e(x[i])) >> 20n;
    assert.ok(Math.abs(Math.round(o1.sq[i] * F) - Number(sqRef)) <= 1, `square at ${i}`);
    assert.equal(Math.round(o1.lin[i] * F), Number(-3n * e(x[i]) + e(0.5)), `-3x+0.5 at ${i}`);
    assert.ok(Math.abs(o1.scaled[i] - x[i] / 4) <= 2 / F, `x*0.25 at ${i}`);
    const combRef = sqRef + 2n * (-3n * e(x[i]) + e(0.5));
    assert.ok(Math.abs(Math.round(o1.diff[i] * F) - Number(combRef)) <= 1, `combination at ${i}`);
  }
  assert.deepEqual(o0.lin, o1.lin);
  const stats = s.p0.stats();
  assert.ok(stats.bytesSent > 0 && stats.rounds > 0 && stats.offlineBytesReceived > 0);
  const dealer = await s.close();
  assert.ok(dealer.bytesToParty1 > 0, 'the dealer served party 1');
});

test('a data owner shares to both servers and reconstructs their result', async () => {
  const [o0, l0] = pair();
  const [o1, l1] = pair();
  const owner = new fx.DataOwner(o0, o1);
  const links = [new fx.OwnerLink(l0), new fx.OwnerLink(l1)];
  const s = await session();
  const readings = numbers(40, 20, 4);
  const weights = numbers(40, 2, 5); // party 0's model
  const servers = [s.p0, s.p1].map(async (p) => {
    const x = await p.receiveOwnerInput(links[p.role], 40, 1);
    const w = p.role === 0 ? await p.shareInput(weights, 40, 1) : await p.receiveInput(40, 1);
    const score = await p.dot(w, x);
    const sq = await p.square(x);
    const out = fx.Shares.fromRaw(41, 1, new BigUint64Array([...score.toBigUint64Array(), ...sq.toBigUint64Array()]));
    await p.sendOwnerOutput(links[p.role], out);
  });
  await owner.share(readings);
  const result = await owner.reconstruct(41);
  await Promise.all(servers);
  const dref = matmulRef(weights, readings, 1, 40, 1)[0];
  assert.ok(ulps(result[0], dref) <= 1, `score ${result[0]}`);
  for (let i = 0; i < 40; i++) {
    assert.ok(ulps(result[1 + i], mulRef(readings[i], readings[i])) <= 1, `square at ${i}`);
  }
  await owner.close();
  await Promise.all(links.map((l) => l.close()));
  await s.close();
});
