// The breast-cancer task of the Rust example `cargo run --release --example train` (its
// defaults, examples/train.rs) in plain JS, for the browser page and the Node test alike: the
// owners' data preparation, the settings, the plaintext SGD reference and the test accuracy.
//
// The preparation is the Rust one (fixshare::ml::pipeline::prepare) step for step, in the same
// floating-point operations, so the standardized rows are the same numbers:
// - the CSV: a header, then one row per line, the last column the 0/1 target;
// - every 5th row (0-based rows 4, 9, 14, ...) is a test row, the others training rows;
// - the training rows are split between two data owners in two contiguous blocks (rows
//   [0, n/2) and [n/2, n)); each owner sums count, sum and sum of squares per column over its
//   own rows; the sums are added (owner 0's + owner 1's), and every feature is standardized
//   with the mean and population standard deviation they give (a constant column keeps
//   scale 1), the test rows with the training statistics.

/** The Rust example's defaults: logistic regression with SecureML's piecewise sigmoid. */
export const TRAINING = Object.freeze({
  model: 'logistic',
  sigmoid: 'piecewise',
  epochs: 10,
  batch: 32,
  learningRate: 0.1,
});

/** The Rust example's session: Z_2^64, 16 fractional bits, local truncation, a dealer. */
export const SESSION = Object.freeze({ ringBits: 64, fracBits: 16, truncation: 'local' });

/** Every TEST_EVERY-th row is a test row. */
export const TEST_EVERY = 5;
/** Data owners the training rows are split between. */
export const OWNERS = 2;

/** `{ names, d, x, y }` from CSV text (features row-major in `x`, targets in `y`). */
export function parseCsv(text) {
  const lines = text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.trim() !== '');
  const names = lines[0].split(',').map((s) => s.trim());
  const d = names.length - 1;
  const x = [];
  const y = [];
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map((s) => s.trim());
    if (cells.length !== d + 1) throw new Error(`row ${i + 1}: ${cells.length} cells, expected ${d + 1}`);
    const v = cells.map((c) => (c === '' ? NaN : Number(c)));
    if (!v.every(Number.isFinite)) throw new Error(`row ${i + 1}: a cell is not a number`);
    x.push(...v.slice(0, d));
    y.push(v[d]);
  });
  return { names, d, x: Float64Array.from(x), y: Float64Array.from(y) };
}

/** Per-column count, sums and sums of squares of `rows` rows of `x` from row `from`. */
function stats(x, d, from, to) {
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  for (let r = from; r < to; r++) {
    for (let c = 0; c < d; c++) {
      const v = x[r * d + c];
      sum[c] += v;
      sumSq[c] += v * v;
    }
  }
  return { count: to - from, sum, sumSq };
}

/** The owners' preparation: `{ train, test }`, each `{ x, y, rows, d }`, standardized. */
export function prepare(data) {
  const { d } = data;
  const n = data.y.length;
  const pick = (keep) => {
    const idx = [...Array(n).keys()].filter(keep);
    const x = new Float64Array(idx.length * d);
    idx.forEach((r, i) => x.set(data.x.subarray(r * d, (r + 1) * d), i * d));
    return { x, y: Float64Array.from(idx, (r) => data.y[r]), rows: idx.length, d };
  };
  const train = pick((i) => i % TEST_EVERY !== TEST_EVERY - 1);
  const test = pick((i) => i % TEST_EVERY === TEST_EVERY - 1);
  // Each owner's sums over its block of training rows, then the sums added.
  const blocks = [...Array(OWNERS).keys()].map((k) =>
    stats(train.x, d, Math.floor((k * train.rows) / OWNERS), Math.floor(((k + 1) * train.rows) / OWNERS)),
  );
  const all = blocks.reduce((a, b) => ({
    count: a.count + b.count,
    sum: a.sum.map((v, c) => v + b.sum[c]),
    sumSq: a.sumSq.map((v, c) => v + b.sumSq[c]),
  }));
  const count = Math.max(all.count, 1);
  const mean = all.sum.map((s) => s / count);
  const std = all.sumSq.map((q, c) => {
    const v = q / count - mean[c] * mean[c];
    return v > 1e-24 ? Math.sqrt(v) : 1;
  });
  for (const t of [train, test]) {
    for (let i = 0; i < t.x.length; i++) t.x[i] = (t.x[i] - mean[i % d]) / std[i % d];
  }
  return { train, test };
}

/** `X w + b` for each row (the weights, then the bias). */
export function scores(x, d, w) {
  const out = new Float64Array(x.length / d);
  for (let r = 0; r < out.length; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[r * d + c] * w[c];
    out[r] = s + w[d];
  }
  return out;
}

/** Rows whose score has the sign of the label (a score >= 0 predicts 1), and their fraction. */
export function accuracy(t, w) {
  const s = scores(t.x, t.d, w);
  let right = 0;
  s.forEach((v, r) => (right += v >= 0 === t.y[r] >= 0.5 ? 1 : 0));
  return { right, rows: t.rows, accuracy: right / Math.max(t.rows, 1) };
}

/** The same mini-batch SGD in plaintext f64 (fixshare::ml::plain::train_glm), from zero weights:
 * consecutive batches, `w -= learningRate / batch * X_b^T (f(X_b w) - y_b)`, `f` SecureML's
 * piecewise sigmoid `clamp(x + 1/2, 0, 1)` for logistic regression, the identity for linear. */
export function trainPlain(t, p) {
  const { d, rows: n } = t;
  const w = new Float64Array(d + 1);
  const f = p.model === 'linear' ? (v) => v : (v) => Math.min(Math.max(v + 0.5, 0), 1);
  for (let epoch = 0; epoch < p.epochs; epoch++) {
    for (let start = 0; start < n; start += p.batch) {
      const end = Math.min(start + p.batch, n);
      const xb = t.x.subarray(start * d, end * d);
      const s = scores(xb, d, w);
      const grad = new Float64Array(d + 1);
      for (let i = 0; i < end - start; i++) {
        const e = f(s[i]) - t.y[start + i];
        for (let c = 0; c < d; c++) grad[c] += xb[i * d + c] * e;
        grad[d] += 1 * e;
      }
      const c = p.learningRate / (end - start);
      for (let k = 0; k <= d; k++) w[k] -= c * grad[k];
    }
  }
  return w;
}
