// Machine learning on shares from JS: linear and logistic regression (trainGlm), perceptrons
// (trainMlp), and inference over dense, convolution, ReLU, square, mean- and max-pooling layers
// (forward, classify), each against a plaintext reference computed here in f64; argument errors
// leave the party usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, session, numbers } from './helpers.mjs';

// ----- plaintext references (the same computations as the core's, in f64) -----

/** The 34-segment logistic function: linear interpolation on knots every 1/2 from -8 to 8,
 * constant outside. */
const accurateSigmoid = (() => {
  const k = Array.from({ length: 33 }, (_, i) => (i - 16) * 0.5);
  const v = k.map((t) => 1 / (1 + Math.exp(-t)));
  return (x) => {
    if (x < k[0]) return v[0];
    if (x >= k[32]) return v[32];
    const i = Math.min(Math.floor((x - k[0]) / 0.5), 31);
    const a = (v[i + 1] - v[i]) / (k[i + 1] - k[i]);
    return a * x + (v[i] - a * k[i]);
  };
})();

/** Mini-batch SGD for linear or logistic regression from zero weights (bias last). */
function glmPlain(x, y, d, p) {
  const n = y.length;
  const w = new Float64Array(d + 1);
  const f =
    p.model === 'linear'
      ? (s) => s
      : p.sigmoid === 'accurate'
        ? accurateSigmoid
        : (s) => Math.min(Math.max(s + 0.5, 0), 1);
  for (let e = 0; e < p.epochs; e++) {
    for (let start = 0; start < n; start += p.batch) {
      const end = Math.min(start + p.batch, n);
      const grad = new Float64Array(d + 1);
      for (let r = start; r < end; r++) {
        let s = w[d];
        for (let c = 0; c < d; c++) s += x[r * d + c] * w[c];
        const err = f(s) - y[r];
        for (let c = 0; c < d; c++) grad[c] += x[r * d + c] * err;
        grad[d] += err;
      }
      for (let c = 0; c <= d; c++) w[c] -= (p.learningRate / (end - start)) * grad[c];
    }
  }
  return w;
}

/** `[a | 1] W` for `rows` rows of width `i`, W `(i + 1) x o`. */
function dense(a, rows, i, w, o) {
  const z = new Float64Array(rows * o);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k <= i; k++) {
      const v = k < i ? a[r * i + k] : 1;
      for (let j = 0; j < o; j++) z[r * o + j] += v * w[k * o + j];
    }
  }
  return z;
}

/** A perceptron's SGD (squared loss or SecureML's relu-softmax), as the core's Mlp::train. */
function mlpPlain(init, sizes, x, labels, p) {
  const layers = init.map((l) => Float64Array.from(l));
  const n = labels.length;
  const nl = layers.length;
  const k = sizes[nl];
  for (let e = 0; e < p.epochs; e++) {
    for (let start = 0; start < n; start += p.batch) {
      const end = Math.min(start + p.batch, n);
      const b = end - start;
      const xb = x.subarray(start * sizes[0], end * sizes[0]);
      const zs = [];
      let a = xb;
      layers.forEach((w, l) => {
        const z = dense(a, b, sizes[l], w, sizes[l + 1]);
        zs.push(z);
        a = l + 1 < nl ? z.map((v) => Math.max(v, 0)) : z;
      });
      let delta = Float64Array.from(zs[nl - 1]);
      if (p.loss === 'reluSoftmax') {
        for (let r = 0; r < b; r++) {
          const row = delta.subarray(r * k, (r + 1) * k);
          const s = row.reduce((acc, v) => acc + Math.max(v, 0), 0);
          row.forEach((v, j) => (row[j] = s > 0 ? Math.max(v, 0) / s : 1 / k));
        }
      }
      for (let r = 0; r < b; r++) delta[r * k + labels[start + r]] -= 1;
      const c = p.learningRate / b;
      for (let l = nl - 1; l >= 0; l--) {
        const [i, o] = [sizes[l], sizes[l + 1]];
        const input = l === 0 ? xb : zs[l - 1].map((v) => Math.max(v, 0));
        let below = null;
        if (l > 0) {
          below = new Float64Array(b * i);
          for (let r = 0; r < b; r++) {
            for (let q = 0; q < i; q++) {
              let s = 0;
              for (let j = 0; j < o; j++) s += delta[r * o + j] * layers[l][q * o + j];
              below[r * i + q] = zs[l - 1][r * i + q] >= 0 ? s : 0;
            }
          }
        }
        for (let q = 0; q <= i; q++) {
          for (let j = 0; j < o; j++) {
            let g = 0;
            for (let r = 0; r < b; r++) g += (q < i ? input[r * i + q] : 1) * delta[r * o + j];
            layers[l][q * o + j] -= c * g;
          }
        }
        if (below) delta = below;
      }
    }
  }
  return layers;
}

/** A network's output in f64 (the core's forward_plain): the layers of `net` on `rows` rows. */
function forwardPlain(net, weights, input, rows) {
  let a = Float64Array.from(input);
  let width = net.input;
  let wi = 0;
  const side = (s, k, st, p) => Math.floor((s + 2 * p - k) / st) + 1;
  for (const l of net.layers) {
    if (l.type === 'dense') {
      a = dense(a, rows, l.inputs, weights[wi++], l.outputs);
      width = l.outputs;
    } else if (l.type === 'conv') {
      const { channels: C, height: H, width: W } = l.input;
      const [oh, ow] = [side(H, l.kernel, l.stride, l.padding), side(W, l.kernel, l.stride, l.padding)];
      const w = weights[wi++];
      const K = C * l.kernel * l.kernel;
      const out = new Float64Array(rows * l.filters * oh * ow);
      for (let n = 0; n < rows; n++) {
        for (let f = 0; f < l.filters; f++) {
          for (let oy = 0; oy < oh; oy++) {
            for (let ox = 0; ox < ow; ox++) {
              let s = w[K * l.filters + f]; // the bias row
              for (let c = 0; c < C; c++) {
                for (let ky = 0; ky < l.kernel; ky++) {
                  for (let kx = 0; kx < l.kernel; kx++) {
                    const y = oy * l.stride + ky - l.padding;
                    const x = ox * l.stride + kx - l.padding;
                    if (y < 0 || x < 0 || y >= H || x >= W) continue;
                    s += a[n * width + (c * H + y) * W + x] * w[((c * l.kernel + ky) * l.kernel + kx) * l.filters + f];
                  }
                }
              }
              out[n * l.filters * oh * ow + (f * oh + oy) * ow + ox] = s;
            }
          }
        }
      }
      a = out;
      width = l.filters * oh * ow;
    } else if (l.type === 'relu') {
      a = a.map((v) => Math.max(v, 0));
    } else if (l.type === 'square') {
      a = a.map((v) => v * v);
    } else {
      const { channels: C, height: H, width: W } = l.input;
      const st = l.type === 'meanPool' ? l.window : l.stride;
      const [oh, ow] = [side(H, l.window, st, 0), side(W, l.window, st, 0)];
      const out = new Float64Array(rows * C * oh * ow);
      for (let n = 0; n < rows; n++) {
        for (let c = 0; c < C; c++) {
          for (let oy = 0; oy < oh; oy++) {
            for (let ox = 0; ox < ow; ox++) {
              const vals = [];
              for (let dy = 0; dy < l.window; dy++) {
                for (let dx = 0; dx < l.window; dx++) vals.push(a[n * width + (c * H + oy * st + dy) * W + ox * st + dx]);
              }
              out[n * C * oh * ow + (c * oh + oy) * ow + ox] =
                l.type === 'meanPool' ? vals.reduce((s, v) => s + v, 0) / (l.window * l.window) : Math.max(...vals);
            }
          }
        }
      }
      a = out;
      width = C * oh * ow;
    }
  }
  return a;
}

const argmaxRow = (v) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/** Both parties' calls: party 0 shares `x`, party 1 shares `y`. */
async function inputs(p, x, [xr, xc], y, [yr, yc]) {
  const xs = p.role === 0 ? await p.shareInput(x, xr, xc) : await p.receiveInput(xr, xc);
  const ys = p.role === 1 ? await p.shareInput(y, yr, yc) : await p.receiveInput(yr, yc);
  return [xs, ys];
}

/** Largest |a[i] - b[i]|. */
const maxDiff = (a, b) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

// ----- the tests -----

const N = 50;
const D = 3;
const X = numbers(N * D, 1, 51); // features in [-1, 1)
const TRUE_W = [0.8, -0.5, 0.3, 0.2];
const score = (r) => TRUE_W[D] + TRUE_W.slice(0, D).reduce((s, w, c) => s + w * X[r * D + c], 0);
const NOISE = numbers(N, 0.05, 52);
const Y_LINEAR = Float64Array.from({ length: N }, (_, r) => score(r) + NOISE[r]);
const Y_LOGISTIC = Float64Array.from({ length: N }, (_, r) => (score(r) > 0 ? 1 : 0));

const GLM_CASES = [
  { name: 'linear regression, Z_2^64', ringBits: 64, y: Y_LINEAR, p: { model: 'linear', epochs: 4, batch: 16, learningRate: 0.2 } },
  { name: 'linear regression, Z_2^128', ringBits: 128, source: 'ot', y: Y_LINEAR, p: { model: 'linear', epochs: 4, batch: 16, learningRate: 0.2 } },
  { name: 'logistic regression, piecewise sigmoid', ringBits: 64, y: Y_LOGISTIC, p: { model: 'logistic', epochs: 3, batch: 10, learningRate: 0.5 } },
  { name: 'logistic regression, accurate sigmoid', ringBits: 64, source: 'ot', y: Y_LOGISTIC, p: { model: 'logistic', sigmoid: 'accurate', epochs: 3, batch: 10, learningRate: 0.5 } },
];

for (const c of GLM_CASES) {
  test(`trainGlm: ${c.name} against plaintext SGD`, async () => {
    const s = await session({ source: c.source ?? 'dealer', options: { ringBits: c.ringBits } });
    const progress = [];
    const out = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const [xs, ys] = await inputs(p, X, [N, D], c.y, [N, 1]);
        const w = await p.trainGlm(xs, ys, c.p, (epoch, pr) => p.role === 0 && progress.push([epoch, pr]));
        assert.equal(w.ringBits, c.ringBits);
        assert.deepEqual([w.rows, w.cols], [D + 1, 1]);
        return [...(await p.reveal(w))];
      }),
    );
    assert.deepEqual(out[0], out[1]);
    const ref = glmPlain(X, c.y, D, { sigmoid: 'piecewise', ...c.p });
    const diff = maxDiff(out[0], ref);
    assert.ok(diff < 5e-3, `weights ${out[0]} vs plaintext ${[...ref]} (max diff ${diff})`);
    // onEpoch: once per epoch, with the traffic so far.
    assert.deepEqual(progress.map(([e]) => e), [...Array(c.p.epochs).keys()].map((e) => e + 1));
    for (const [e, pr] of progress) {
      assert.equal(pr.epoch, e);
      assert.equal(pr.epochs, c.p.epochs);
      assert.ok(pr.bytesSent > 0 && pr.rounds > 0);
    }
    assert.ok(progress.at(-1)[1].bytesSent > progress[0][1].bytesSent);
    await s.close();
  });
}

test('trainMlp from a seed and from public initial weights, squared and relu-softmax loss, against plaintext', async () => {
  const sizes = [3, 5, 2];
  const n = 40;
  const x = numbers(n * 3, 1, 61);
  const labels = Array.from({ length: n }, (_, r) => (x[r * 3] + 0.5 * x[r * 3 + 1] > 0 ? 1 : 0));
  const y = Float64Array.from({ length: n * 2 }, (_, i) => (labels[i >> 1] === (i & 1) ? 1 : 0));
  const init = fx.mlpInit(sizes, 7);
  assert.equal(init.length, 2);
  assert.deepEqual(init.map((l) => l.length), [4 * 5, 6 * 2]);
  assert.deepEqual(fx.mlpInit(sizes, 7n), init, 'a seed as a number or a bigint');
  assert.equal(init[0][3 * 5], 0, 'biases start at 0');
  const sgd = { epochs: 3, batch: 10, learningRate: 0.1 };
  const s = await session();
  const out = await Promise.all(
    [s.p0, s.p1].map(async (p) => {
      const [xs, ys] = await inputs(p, x, [n, 3], y, [n, 2]);
      const epochs = [];
      const fromSeed = await p.trainMlp(xs, ys, { sizes, seed: 7, ...sgd }, (e) => epochs.push(e));
      const fromWeights = await p.trainMlp(xs, ys, { sizes, weights: init, ...sgd });
      const softmax = await p.trainMlp(xs, ys, { sizes, weights: init, loss: 'reluSoftmax', ...sgd });
      const open = async (ws) => {
        const out = [];
        for (const w of ws) out.push([...(await p.reveal(w))]); // one call at a time
        return out;
      };
      return { epochs, seed: await open(fromSeed), weights: await open(fromWeights), softmax: await open(softmax), shapes: fromSeed.map((w) => [w.rows, w.cols]) };
    }),
  );
  const [a] = out;
  assert.deepEqual(a.epochs, [1, 2, 3]);
  assert.deepEqual(a.shapes, [[4, 5], [6, 2]]);
  const ref = mlpPlain(init, sizes, x, labels, sgd);
  const refSoftmax = mlpPlain(init, sizes, x, labels, { ...sgd, loss: 'reluSoftmax' });
  for (let l = 0; l < 2; l++) {
    for (const [what, got, want, tol] of [
      ['from the seed', a.seed[l], ref[l], 5e-3],
      ['from the weights', a.weights[l], ref[l], 5e-3],
      ['relu-softmax', a.softmax[l], refSoftmax[l], 2e-2],
    ]) {
      const diff = maxDiff(got, want);
      assert.ok(diff < tol, `layer ${l} ${what}: max diff ${diff} from plaintext`);
    }
  }
  await s.close();
});

// A small convolutional network over 1 x 6 x 6 images: every layer kind of `Layer`.
const NET = {
  input: 36,
  layers: [
    { type: 'conv', input: { channels: 1, height: 6, width: 6 }, filters: 2, kernel: 3, stride: 1, padding: 1 },
    { type: 'relu' },
    { type: 'meanPool', input: { channels: 2, height: 6, width: 6 }, window: 2 },
    { type: 'maxPool', input: { channels: 2, height: 3, width: 3 }, window: 2, stride: 1 },
    { type: 'square' },
    { type: 'dense', inputs: 8, outputs: 3 },
  ],
};

for (const source of ['dealer', 'ot']) {
  test(`forward and classify: convolution, ReLU, mean and max pooling, square, dense against plaintext (${source})`, async () => {
    const rows = 4;
    const weights = [numbers(10 * 2, 0.5, 71), numbers(9 * 3, 0.5, 72)]; // party 0's model
    const input = numbers(rows * 36, 2, 73); // party 1's images
    const s = await session({ source });
    const out = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const own = p.role === 0 ? { weights } : { input };
        const z = await p.forward(NET, 0, rows, own);
        const classes = await p.classify(NET, 0, rows, own);
        return { z: [...(await p.reveal(z))], shape: [z.rows, z.cols], classes };
      }),
    );
    const ref = forwardPlain(NET, weights, input, rows);
    assert.deepEqual(out[0].shape, [rows, 3]);
    const diff = maxDiff(out[0].z, ref);
    assert.ok(diff < 1e-2, `outputs ${out[0].z} vs plaintext ${[...ref]} (max diff ${diff})`);
    // Only the client (party 1) learns the classes.
    assert.equal(out[0].classes, undefined);
    assert.ok(out[1].classes instanceof Uint32Array);
    for (let r = 0; r < rows; r++) {
      const row = ref.subarray(r * 3, r * 3 + 3);
      const got = out[1].classes[r];
      assert.ok(row[got] >= row[argmaxRow(row)] - 1e-2, `row ${r}: class ${got} vs plaintext ${argmaxRow(row)} (${[...row]})`);
    }
    await s.close();
  });
}

test('ML argument errors are refused before anything is sent and leave the party usable', async () => {
  const s = await session();
  const [x0, x1] = await Promise.all([s.p0.shareInput(X, N, D), s.p1.receiveInput(N, D)]);
  const [y0, y1] = await Promise.all([s.p0.shareInput(Y_LINEAR, N, 1), s.p1.receiveInput(N, 1)]);
  const p = s.p0; // party 0 alone makes the bad calls: party 1 never sees them
  await assert.rejects(p.trainGlm(x0, y0, { model: 'quadratic' }), /^Error: trainGlm: model must be "linear" or "logistic"$/);
  await assert.rejects(p.trainGlm(x0, y0, {}), /trainGlm: model is missing/);
  await assert.rejects(p.trainGlm(x0, y0, { model: 'logistic', sigmoid: 'tanh' }), /sigmoid must be "piecewise" or "accurate"/);
  await assert.rejects(p.trainGlm(x0, y0, { model: 'linear', epochs: -1 }), /epochs must be a non-negative integer/);
  await assert.rejects(p.trainGlm(x0, y0, { model: 'linear', batch: 0 }), /^Error: ml.train: invalid argument: the batch size must be positive$/);
  await assert.rejects(p.trainGlm(x0, y0, { model: 'linear', learningRate: -1 }), /the learning rate must be positive and finite/);
  await assert.rejects(p.trainGlm(x0, x0, { model: 'linear' }), /^Error: ml.train_glm: dimension mismatch/);
  await assert.rejects(p.trainMlp(x0, y0, { sizes: [D, 1] }), /trainMlp: give either weights or seed/);
  await assert.rejects(p.trainMlp(x0, y0, { sizes: [D, 1], seed: -1 }), /seed must be a non-negative safe integer or a bigint/);
  await assert.rejects(p.trainMlp(x0, y0, { sizes: [D + 1, 1], seed: 1 }), /ml.train_mlp: dimension mismatch/);
  await assert.rejects(p.trainMlp(x0, y0, { sizes: [D, 1], weights: [[1, 2]] }), /ml.train_mlp: dimension mismatch: expected 4, got 2/);
  await assert.rejects(p.trainMlp(x0, y0, { sizes: [D, 1 << 20, 1 << 20], seed: 1 }), /trainMlp: the weights has more than the 67108864 elements/);
  assert.throws(() => fx.mlpInit([1 << 30, 1 << 30], 1), /mlpInit: the weights has more than/);
  const w = [numbers(4 * 2, 1, 81)];
  const net = { input: 3, layers: [{ type: 'dense', inputs: 3, outputs: 2 }] };
  await assert.rejects(p.forward({ input: 3, layers: [{ type: 'pool' }] }, 0, 1, { weights: w }), /forward: layers\[0\]: type must be "dense" or "conv"/);
  await assert.rejects(p.forward({ input: 3, layers: [{ type: 'dense', inputs: 3 }] }, 0, 1, { weights: w }), /forward: layers\[0\]: outputs is missing/);
  await assert.rejects(p.forward({ input: 4, layers: net.layers }, 0, 1, { weights: w }), /^Error: ml.network: invalid argument: layer shapes do not chain$/);
  await assert.rejects(p.forward(net, 0, 1, { weights: [w[0], w[0]] }), /^Error: ml.network: dimension mismatch: expected 1, got 2$/);
  await assert.rejects(p.forward(net, 0, 1, { weights: [w[0].slice(1)] }), /ml.network: dimension mismatch: expected 8, got 7/);
  await assert.rejects(p.forward(net, 0, 1, { input: [1, 2, 3] }), /the model owner passes the weights only, the client the input only/);
  await assert.rejects(p.forward(net, 2, 1, { weights: w }), /forward: role must be 0 or 1, got 2/);
  await assert.rejects(p.classify(net, 1, 2, { input: [1, 2, 3] }), /ml.inference: dimension mismatch: expected 6, got 3/);
  await assert.rejects(p.forward(net, 0, 1, 'weights'), /must be \{ weights \} \(model owner\) or \{ input \} \(client\)/);
  const huge = { input: 1 << 12, layers: [{ type: 'conv', input: { channels: 1, height: 64, width: 64 }, filters: 64, kernel: 9, stride: 1, padding: 4 }] };
  await assert.rejects(p.forward(huge, 0, 256, { weights: [] }), /forward: layer 0 has more than the 67108864 elements/);
  // Still in step: both train and infer.
  const [w0, w1] = await Promise.all([
    s.p0.trainGlm(x0, y0, { model: 'linear', epochs: 1, batch: 25 }),
    s.p1.trainGlm(x1, y1, { model: 'linear', epochs: 1, batch: 25 }),
  ]);
  const [got] = await Promise.all([s.p0.reveal(w0), s.p1.reveal(w1)]);
  const ref = glmPlain(X, Y_LINEAR, D, { model: 'linear', epochs: 1, batch: 25, learningRate: 0.1 });
  assert.ok(maxDiff(got, ref) < 5e-3);
  const [, classes] = await Promise.all([s.p0.classify(net, 0, 1, { weights: w }), s.p1.classify(net, 0, 1, { input: [1, -1, 0.5] })]);
  const z = forwardPlain(net, w, [1, -1, 0.5], 1);
  assert.deepEqual([...classes], [argmaxRow(z)]);
  await s.close();
});
