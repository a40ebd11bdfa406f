// Weight sharing (Phong-Phuong, issue 16) with a WASM trainer: the package's FloatModel and
// WeightLink in Node, as one trainer of FNT rings and SNT rounds beside Rust trainer processes
// and the Rust server (`fixshare-snt`, named by FIXSHARE_SNT_BIN), over TCP on 127.0.0.1. Every
// trainer's final weights, the WASM one's and the Rust ones', must equal centralized training on
// the union of the data in the same order, computed in this test with the same package. Then
// the refusals: a wrong key, truncated or modified weights, another round, model, number of
// trainers or sealing trainer, bad arguments; a refused call leaves the weights unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, pair } from './helpers.mjs';
import {
  CLASSES, CONFIGS, FEATURES, KEY, MODEL_ID, ROWS, SocketTransport, centralized, connect, dataset,
  fntTrainer, sameBytes, seedOf, sntTrainer, specOf, withRustTrainers,
} from './weights-common.mjs';

const BIN = process.env.FIXSHARE_SNT_BIN;
const data = dataset();

/** The JS trainer over TCP: a WeightLink per connection. */
async function nodeTrainer(c, { server, listen, next }) {
  const m = new fx.FloatModel(specOf(c), seedOf(c.index));
  if (c.system === 'snt') {
    const link = new fx.WeightLink(new SocketTransport(await connect(server)));
    await sntTrainer(c, m, data, link);
    await link.close();
  } else {
    const to = new fx.WeightLink(new SocketTransport(await connect(next)));
    const from = new fx.WeightLink(new SocketTransport(await listen.accepted));
    await fntTrainer(c, m, data, from, to);
    await Promise.all([to.close(), from.close()]);
  }
  return m;
}

for (const c of CONFIGS) {
  test(`${c.name}: every trainer's weights equal centralized training`, { timeout: 300_000 }, async () => {
    assert.ok(BIN, 'FIXSHARE_SNT_BIN must name the fixshare-snt binary (cargo build --release -p fixshare-snt)');
    let model;
    const { mine, rust, codes } = await withRustTrainers(BIN, c, data, async (cc, net) => {
      model = await nodeTrainer(cc, net);
      return model.exportWeights();
    });
    assert.deepEqual(codes, codes.map(() => 0), 'the Rust trainers exit 0');
    const reference = centralized(fx, c, data).exportWeights();
    assert.ok(sameBytes(mine, reference), 'the WASM trainer ends with the centralized weights, bit for bit');
    for (const r of rust) assert.ok(r && sameBytes(r, reference), 'each Rust trainer too');
    // And the weights learned: most training rows are classified right.
    const out = model.predict(data.x);
    let right = 0;
    for (let r = 0; r < ROWS; r++) {
      const row = out.subarray(r * CLASSES, (r + 1) * CLASSES);
      right += row.indexOf(Math.max(...row)) === data.y[r] ? 1 : 0;
    }
    assert.ok(right > (ROWS * 2) / 3, `accuracy ${right / ROWS}`);
  });
}

const SMALL = { sizes: [FEATURES, 4, CLASSES], optimizer: 'adam', learningRate: 0.01, batch: 8 };
const round = (trainers, version, modelId = MODEL_ID) => ({ modelId, trainers, version });

/** `f()` throws an Error whose `rejection` is `why`. */
function refused(f, why) {
  assert.throws(f, (e) => e instanceof Error && e.rejection === why, `expected a "${why}" refusal`);
}

test('refused opens name why and leave the weights unchanged', () => {
  const a = new fx.FloatModel(SMALL, new Uint8Array(32).fill(1));
  const b = new fx.FloatModel(SMALL, new Uint8Array(32).fill(2));
  const before = b.exportWeights();
  const r = round(3, 4); // step 3: trainer 0's turn
  const sealed = a.seal(KEY, r, 0);
  assert.equal(sealed.length, a.sealedLength);
  refused(() => b.open(new Uint8Array(32).fill(9), r, sealed), 'authentication');
  assert.match((() => { try { b.open(new Uint8Array(32), r, sealed); } catch (e) { return e.message; } })(), /wrong key/);
  refused(() => b.open(KEY, r, sealed.subarray(0, sealed.length - 1)), 'malformed');
  refused(() => b.open(KEY, r, sealed.subarray(0, 40)), 'malformed');
  refused(() => b.open(KEY, r, new Uint8Array(0)), 'malformed');
  const flipped = sealed.slice();
  flipped[flipped.length >> 1] ^= 0x20;
  refused(() => b.open(KEY, r, flipped), 'authentication');
  refused(() => b.open(KEY, round(3, 5), sealed), 'replayed');
  refused(() => b.open(KEY, round(3, 3), sealed), 'ahead');
  refused(() => b.open(KEY, round(4, 4), sealed), 'wrongTrainers');
  refused(() => b.open(KEY, round(3, 4, 'another model'), sealed), 'wrongModel');
  refused(() => b.open(KEY, r, a.seal(KEY, r, 2)), 'outOfOrder');
  // Another network's authentic weights.
  const wide = new fx.FloatModel({ ...SMALL, sizes: [FEATURES, 5, CLASSES] }, new Uint8Array(32));
  assert.throws(() => b.open(KEY, r, wide.seal(KEY, r, 0)), /another network/);
  // Bad arguments.
  assert.throws(() => b.open(KEY.subarray(0, 31), r, sealed), /key must be 32 bytes/);
  assert.throws(() => b.open(KEY, { trainers: 3, version: 4 }, sealed), /modelId/);
  assert.throws(() => b.open(KEY, round(3, -1), sealed), /version/);
  assert.throws(() => b.open(KEY, round(3, 4, new Uint8Array(15)), sealed), /16 bytes/);
  assert.ok(sameBytes(b.exportWeights(), before), 'nothing changed');
  b.open(KEY, r, sealed);
  assert.ok(sameBytes(b.exportWeights(), a.exportWeights()), 'the right weights open');
  // A bigint version works as a number does.
  b.open(KEY, { ...r, version: 4n }, sealed);
});

test('bad specs, training data and weights are refused before anything changes', () => {
  assert.throws(() => new fx.FloatModel({ sizes: [3] }), /at least two layers/);
  assert.throws(() => new fx.FloatModel({ sizes: [3, 2], activation: 'swish' }), /activation/);
  assert.throws(() => new fx.FloatModel({ sizes: [3, 2], optimizer: 'rmsprop' }), /optimizer/);
  assert.throws(() => new fx.FloatModel({ sizes: [3, 2], batch: 0 }), /batch/);
  assert.throws(() => new fx.FloatModel({ sizes: [3, 4, 2], dropout: [1.5] }), /dropout/);
  assert.throws(() => new fx.FloatModel({ sizes: [3, 2] }, new Uint8Array(31)), /initSeed must be 32 bytes/);
  assert.throws(() => new fx.FloatModel(null), /spec/);
  const m = new fx.FloatModel(SMALL, new Uint8Array(32).fill(3));
  const before = m.exportWeights();
  const seed = new Uint8Array(32);
  const x = data.x.subarray(0, 2 * FEATURES);
  assert.throws(() => m.train(x, [0, 3], seed, 0), /target/); // class 3 of 3
  assert.throws(() => m.train(x.subarray(1), [0, 1], seed, 0), /dimension|expected/i);
  assert.throws(() => m.train(x, [0, 1], seed.subarray(1), 0), /seed must be 32 bytes/);
  assert.throws(() => m.train(x, [0, 1], seed, -1), /centralEpoch/);
  assert.throws(() => m.train(Float64Array.from(x).fill(NaN, 0, 1), [0, 1], seed, 0), /not finite/);
  assert.throws(() => m.setParams(new Float64Array(m.paramCount - 1)), /dimension|expected/i);
  assert.throws(() => m.setParams(new Float64Array(m.paramCount).fill(Infinity)), /not finite/);
  assert.throws(() => m.importWeights(before.subarray(8)), /malformed|truncated|trailer/);
  assert.throws(() => m.seal(KEY, round(3, 1), 3), /trainer|range/);
  assert.throws(() => m.seal(KEY, round(0, 1), 0), /trainer|range/);
  assert.throws(() => m.predict(data.x.subarray(0, 7)), /dimension|expected/i);
  assert.ok(sameBytes(m.exportWeights(), before), 'nothing changed');
  m.train(x, [0, 1], seed, 0);
  assert.ok(!sameBytes(m.exportWeights(), before), 'training changes the weights');
  m.importWeights(before);
  assert.ok(sameBytes(m.exportWeights(), before), 'an export imports back');
  assert.equal(m.params().length, m.paramCount);
});

test('a ring pass of another length is refused, and the link is unusable after it', async () => {
  const [ta, tb] = pair();
  const [a, b] = [new fx.WeightLink(ta), new fx.WeightLink(tb)];
  const sent = a.pass(new Uint8Array(120));
  await assert.rejects(b.receive(100), /expected 100|length/i);
  await sent;
  await assert.rejects(b.receive(100), /failed earlier/);
  // The right length goes through on a fresh pair.
  const [tc, td] = pair();
  const [c, d] = [new fx.WeightLink(tc), new fx.WeightLink(td)];
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const [, got] = await Promise.all([c.pass(bytes), d.receive(300)]);
  assert.ok(sameBytes(got, bytes));
  assert.throws(() => new fx.WeightLink({}), /send/);
  await Promise.all([a.close(), b.close(), c.close(), d.close()]);
});
