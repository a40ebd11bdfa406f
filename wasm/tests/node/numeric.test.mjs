// The numerical library from JS with two servers and a dealer (both parties and the dealer in
// this thread, over MessageChannels): every numerical function against JS Math within its
// documented bound (numeric-common.mjs) in Z_2^64 with 16 fractional bits and Z_2^128 with 32;
// argument errors (octave ranges, axis names, broadcast operations, Euler steps, shapes, an
// empty axis, exp, logistic and the reciprocal in Z_2^32) refused before anything is sent, with their codes, the parties usable
// afterwards; the precision guard stopping a product that would wrap at both parties (code
// "precisionGuard"), the session poisoned afterwards, and its option checked.
// (Four servers: four.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, refused, session } from './helpers.mjs';
import { runNumerics, checkNumerics, M } from './numeric-common.mjs';

/** Runs `fn` on both parties of `s`; a party whose run fails closes, which ends its peer's
 * pending call (so a failed assertion does not leave the other party waiting). */
const both = (s, fn) =>
  Promise.all(
    [s.p0, s.p1].map(async (p) => {
      try {
        return await fn(p);
      } catch (e) {
        await p.close().catch(() => {});
        throw e;
      }
    }),
  );

for (const [ringBits, fracBits] of [[64, 16], [128, 32]]) {
  test(`numerical functions with a dealer against JS Math (Z_2^${ringBits}, f = ${fracBits})`, async () => {
    const s = await session({ options: { ringBits, fracBits } });
    try {
      const [o0, o1] = await both(s, (p) => runNumerics(p, fracBits));
      assert.deepEqual(o0, o1, 'both parties reveal the same');
      checkNumerics(o0, fracBits, `dealer, Z_2^${ringBits}`);
    } finally {
      await s.close();
    }
  });
}

test('numerical functions: bad arguments refused before anything is sent, the parties usable', async () => {
  const s = await session();
  try {
    await both(s, async (p) => {
        const own = (values, rows, cols) => (p.role === 0 ? p.shareInput(values, rows, cols) : p.receiveInput(rows, cols));
        const x = await own(M, 2, 4);
        const col = await own(M, 8, 1);
        const empty = await own([], 2, 0);
        const before = p.stats();
        await refused(() => p.reciprocal(x, { lo: 3, hi: -2 }), 'invalidArgument',
          /^reciprocal: invalid argument: the octave range needs lo < hi$/);
        await refused(() => p.sqrt(x, { lo: -60, hi: 4 }), 'invalidArgument', /^sqrt: invalid argument: the octave range must lie within/);
        await refused(() => p.invSqrt(x, { lo: -4, hi: 62 }), 'invalidArgument', /^inv_sqrt: invalid argument: the octave range/);
        await refused(() => p.log(x, { lo: 1.5, hi: 3 }), 'invalidArgument', /^log: range.lo must be an integer/);
        await refused(() => p.log(x, { lo: -1 }), 'invalidArgument', /^log: range.hi must be an integer/);
        await refused(() => p.div(x, x, 4), 'invalidArgument', /^div: range must be an object \{ lo, hi \}/);
        await refused(() => p.div(x, col), 'dimensionMismatch', /^div: dimension mismatch/);
        await refused(() => p.mean(x, 'rows'), 'invalidArgument', /^mean: axis must be "perRow", "perColumn" or "all"$/);
        await refused(() => p.argmin(x, 1), 'invalidArgument', /^argmin: axis must be/);
        await refused(() => p.sum(x, 'columns'), 'invalidArgument', /^sum: axis must be/);
        await refused(() => p.min(empty), 'invalidArgument', /nothing to reduce/);
        await refused(() => p.variance(empty, 'all'), 'invalidArgument', /nothing to reduce/);
        await refused(() => p.broadcast(x, col, 'add'), 'invalidArgument', /^broadcast: /);
        await refused(() => p.broadcast(x, x, 'pow'), 'invalidArgument', /^broadcast: op must be "add", "sub" or "mul"$/);
        await refused(() => p.logisticEuler(x, 0), 'invalidArgument', /^logisticEuler: steps must be a positive integer$/);
        await refused(() => p.logisticEuler(x, 2.5), 'invalidArgument', /steps must be a positive integer/);
        await refused(() => p.logisticEuler(x, 10001), 'invalidArgument', /the number of Euler steps must be 1 to 10000/);
        await refused(() => p.select(x, x, col), 'dimensionMismatch', /^select: dimension mismatch/);
        await refused(() => p.equal(x, col), 'dimensionMismatch', /^equal: dimension mismatch/);
        assert.deepEqual(p.stats(), before, 'nothing was sent');
        // Usable afterwards.
        return [...(await p.reveal(await p.broadcast(x, x, 'add')))];
      }).then((out) => out.forEach((o) => assert.deepEqual(o, M.map((v) => 2 * v))));
  } finally {
    await s.close();
  }
  // Z_2^32 has no room for the functions that work with guard bits (exp, log, the reciprocal
  // and roots, the logistic function and tanh).
  const z = await session({ options: { ringBits: 32, fracBits: 8, truncation: 'exact' } });
  try {
    await both(z, async (p) => {
        const x = p.role === 0 ? await p.shareInput([1, 2], 2, 1) : await p.receiveInput(2, 1);
        await refused(() => p.exp(x), 'unsupported', /^exp: not supported: the numeric functions need Z_2\^64 or Z_2\^128$/);
        await refused(() => p.logistic(x), 'unsupported', /^logistic: not supported/);
        await refused(() => p.reciprocal(x, { lo: -2, hi: 2 }), 'unsupported', /^reciprocal: not supported/);
        assert.deepEqual([...(await p.reveal(await p.mul(x, x)))], [1, 4]);
      });
  } finally {
    await z.close();
  }
});

test('the precision guard stops a product that would wrap, at both parties (dealer, Z_2^64)', async () => {
  // Two servers: a product before its truncation must stay below 2^(k - 1 - h), so |x y| below
  // 2^(63 - 20 - 32) = 2^11 here; 128 * 128 = 2^14 is not.
  const s = await session({ options: { precisionGuard: 20 } });
  let errors;
  try {
    errors = await both(s, async (p) => {
        const own = (values, owner) => (p.role === owner ? p.shareInput(values, values.length, 1) : p.receiveInput(values.length, 1));
        const a = await own([1.5, -2], 0);
        const b = await own([128, 1], 1);
        // Ordinary values pass the guard (and the numerical functions under it).
        assert.deepEqual([...(await p.reveal(await p.mul(a, a)))], [2.25, 4]);
        const e = [...(await p.reveal(await p.exp(a)))];
        e.forEach((v, i) => assert.ok(Math.abs(v - Math.exp([1.5, -2][i])) < 1e-3, `exp under the guard: ${v}`));
        const err = await p.mul(b, b).then(() => null, (e) => e);
        // Poisoned afterwards, naming the guard.
        await assert.rejects(p.mul(a, a), (e) => e.code === 'poisoned' && /^mul: the session failed earlier and is poisoned \(mul: the precision guard stopped/.test(e.message));
        return err;
      });
  } finally {
    await s.close();
  }
  for (const err of errors) {
    assert.ok(err instanceof Error, 'the guard must stop the product');
    assert.match(err.message, /^mul: the precision guard stopped the operation: a value came within 20 bits of where truncation fails or the ring wraps/);
    assert.equal(err.code, 'precisionGuard');
    assert.equal(err.headroom, 20);
  }
  // The option itself: a headroom the ring cannot hold, and not a number.
  const [t] = [{ send: () => assert.fail('nothing is sent'), recv: () => assert.fail('nothing is received') }];
  await refused(() => fx.Party.withDealer(0, t, t, { precisionGuard: 62 }), 'invalidArgument',
    /^Party.withDealer: session config: invalid argument: the precision guard's headroom must be below the ring width minus 2$/);
  await refused(() => fx.Party.withOt(0, t, { precisionGuard: -1 }), 'invalidArgument',
    /^Party.withOt: option precisionGuard must be a non-negative integer$/);
  await refused(() => fx.Party.withHelper(0, t, t, { precisionGuard: 'on' }), 'invalidArgument', /option precisionGuard must be/);
});
