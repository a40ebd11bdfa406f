// The numerical functions' scenario, shared by numeric.test.mjs (two servers and a dealer, in
// this thread) and four.test.mjs (four servers in worker threads): `runNumerics` runs every
// numerical function of a Party on fixed inputs and reveals the results (both parties call it
// with the same arguments); `checkNumerics` compares them with JS Math (or exact plaintext
// results) within each function's documented bound (wasm/src/numeric.rs, from the core's
// docs). `runProducts` and `checkProducts` do the same for products, the matrix product, ReLU,
// the comparison and argmax.
import assert from 'node:assert/strict';

export const PA = [1.5, -2.0, 0.0, 3.25, -0.375, 100.5, -7.75, 0.0625];
export const PB = [0.5, 1.0, -7.0, 2.0, -8.5, 3.125, 1.0, -0.25];
/** Equal to PA at 0, 3, 4 and 6. */
export const PE = [1.5, 1.0, 0.25, 3.25, -0.375, 3.125, -7.75, -0.25];
/** Two rows of four: maxima 2.25 (column 2) and -0.5 (column 1, tied with column 3). */
export const M = [0.5, -1.0, 2.25, 2.0, -3.0, -0.5, -2.0, -0.5];
/** A 3 x 4 matrix for the reductions and broadcasting (ties for argmin in row 1). */
export const R = [1.5, -2.25, 3.0, 0.5, -1.0, 4.75, -1.0, 2.0, 0.25, 0.0, -6.5, 1.25];
const ROW = [1.0, -0.5, 2.0, 0.25];
const COL = [3.0, -1.5, 0.5];
const ONE = [-2.0];
/** Inputs of the functions over the range [2^-2, 2^4] (both ends included). */
const RANGE = { lo: -2, hi: 4 };
const RX = [0.25, 0.75, 3.0, 9.5, 16.0];
const RDIV = [1.0, -2.5, 0.375, 3.0, -10.0];
const EULER_STEPS = 50;

/** The inputs for `f` fractional bits, as the parties share them (rounded to the format). */
export function inputs(f) {
  const q = (v) => Math.round(v * 2 ** f) / 2 ** f;
  const h = Math.floor(f / 2);
  const lo = 2 ** -h;
  const hi = 2 ** h;
  return {
    q,
    // The default octaves [2^-h, 2^h], both ends included.
    pos: [lo, 1.5 * lo, 0.375, 1, 1.75, 7.5, 0.75 * hi, hi].map(q),
    wide: [-40, -16.5, -3, -0.25, 0, 0.5, 2, 7.75, 16, 40],
    euler: [-10, -3, -0.5, 0, 1, 4, 10],
    divX: [1.0, -2.5, 0.375, 3.0, 10.0, -7.25, 0.0, 1.0],
  };
}

/** Shares `values` (owned by party `owner`) as a rows x cols matrix. */
const own = (p, values, owner, rows = values.length, cols = 1) =>
  p.role === owner ? p.shareInput(values, rows, cols) : p.receiveInput(rows, cols);

/** Reveals `s` with its shape. */
const open = async (p, s) => ({ values: [...(await p.reveal(s))], rows: s.rows, cols: s.cols });

/** Every numerical function on the inputs for `f` fractional bits; the revealed results. */
export async function runNumerics(p, f) {
  const I = inputs(f);
  const out = {};
  const pos = await own(p, I.pos, 0);
  out.reciprocal = await open(p, await p.reciprocal(pos));
  out.sqrt = await open(p, await p.sqrt(pos));
  out.invSqrt = await open(p, await p.invSqrt(pos));
  out.log = await open(p, await p.log(pos));
  const wide = await own(p, I.wide, 0);
  out.logistic = await open(p, await p.logistic(wide));
  out.tanh = await open(p, await p.tanh(wide));

  // exp over its documented range, both ends included.
  out.expRange = p.expRange();
  const [elo, ehi] = out.expRange;
  const ehiQ = Math.floor(ehi * 2 ** f) / 2 ** f;
  out.expX = [elo, elo / 2, -3, -1, 0, 0.5, 1, 2, ehiQ / 2, ehiQ].map(I.q);
  out.exp = await open(p, await p.exp(await own(p, out.expX, 0)));

  // The functions over a range of their own.
  const rx = await own(p, RX, 1);
  out.reciprocalIn = await open(p, await p.reciprocal(rx, RANGE));
  out.sqrtIn = await open(p, await p.sqrt(rx, RANGE));
  out.invSqrtIn = await open(p, await p.invSqrt(rx, RANGE));
  out.logIn = await open(p, await p.log(rx, RANGE));
  out.divIn = await open(p, await p.div(await own(p, RDIV, 0), rx, RANGE));

  // Division by y over the default octaves.
  const dx = await own(p, I.divX, 0);
  const dy = await own(p, I.pos, 1);
  out.div = await open(p, await p.div(dx, dy));

  out.logisticEuler = await open(p, await p.logisticEuler(await own(p, I.euler, 0), EULER_STEPS));

  // Selection by a comparison's bit, and equality.
  const a = await own(p, PA, 0);
  const b = await own(p, PB, 1);
  out.select = await open(p, await p.select(await p.lessThan(a, b), a, b));
  out.equal = await open(p, await p.equal(a, await own(p, PE, 1)));

  // Reductions along each axis, and the default axis (per row).
  const r = await own(p, R, 1, 3, 4);
  for (const axis of ['perRow', 'perColumn', 'all']) {
    out[`sum ${axis}`] = await open(p, p.sum(r, axis));
    out[`mean ${axis}`] = await open(p, await p.mean(r, axis));
    out[`variance ${axis}`] = await open(p, await p.variance(r, axis));
    out[`min ${axis}`] = await open(p, await p.min(r, axis));
    const [m, i] = await p.argmin(r, axis);
    out[`argmin ${axis}`] = [await open(p, m), await open(p, i)];
  }
  out.minDefault = await open(p, await p.min(r));
  out.meanDefault = await open(p, await p.mean(r));

  // Broadcasting a row, a column and a scalar against R.
  const vr = await own(p, ROW, 0, 1, 4);
  const vc = await own(p, COL, 0, 3, 1);
  const v1 = await own(p, ONE, 0, 1, 1);
  out.addRow = await open(p, await p.broadcast(r, vr, 'add'));
  out.subCol = await open(p, await p.broadcast(r, vc, 'sub'));
  out.mulRow = await open(p, await p.broadcast(r, vr, 'mul'));
  out.mulOne = await open(p, await p.broadcast(r, v1, 'mul'));
  return out;
}

const logistic = (x) => 1 / (1 + Math.exp(-x));

/** Sum, mean, variance, min and argmin of R along `axis`, with the largest deviation from the
 * mean of each reduction, and the result's shape. */
function reducePlain(axis) {
  const [nr, nc] = [3, 4];
  const outs = axis === 'perRow' ? nr : axis === 'perColumn' ? nc : 1;
  const cnt = axis === 'perRow' ? nc : axis === 'perColumn' ? nr : nr * nc;
  const at = (o, k) => (axis === 'perRow' ? o * nc + k : axis === 'perColumn' ? k * nc + o : k);
  const res = { sum: [], mean: [], variance: [], min: [], index: [], dev: [] };
  for (let o = 0; o < outs; o++) {
    const v = Array.from({ length: cnt }, (_, k) => R[at(o, k)]);
    const sum = v.reduce((s, x) => s + x, 0);
    const mean = sum / cnt;
    const mn = Math.min(...v);
    res.sum.push(sum);
    res.mean.push(mean);
    res.variance.push(v.reduce((s, x) => s + (x - mean) ** 2, 0) / cnt);
    res.min.push(mn);
    res.index.push(v.indexOf(mn));
    res.dev.push(Math.max(...v.map((x) => Math.abs(x - mean))));
  }
  res.shape = axis === 'perRow' ? [nr, 1] : axis === 'perColumn' ? [1, nc] : [1, 1];
  return res;
}

/** Checks `o` (from `runNumerics` with `f` fractional bits) against plaintext; `label` names
 * the run in failures. */
export function checkNumerics(o, f, label) {
  const ulp = 2 ** -f;
  const I = inputs(f);
  const s = f <= 20 ? 4 : f <= 44 ? 5 : 6; // exp's squarings
  const within = (name, got, xs, exact, tol) => {
    assert.equal(got.values.length, xs.length, `${label}: ${name}: length`);
    xs.forEach((x, i) => {
      const want = exact(x, i);
      const t = tol(x, want, i);
      const err = Math.abs(got.values[i] - want);
      assert.ok(err <= t, `${label}: ${name}(${x}) = ${got.values[i]}, want ${want} within ${t} (off by ${err})`);
    });
  };
  const shape = (name, got, rows, cols) =>
    assert.deepEqual([got.rows, got.cols], [rows, cols], `${label}: ${name}: shape`);
  const exactly = (name, got, want) => assert.deepEqual(got.values, want, `${label}: ${name}`);

  const recipTol = (x) => 2 ** -(f + 2) / x + 3 * ulp;
  const invSqrtTol = (x) => 2 ** -(f - 1) / Math.sqrt(x) + 3 * ulp;
  const divTol = (x, want) => 2 ** -(f + 2) * Math.abs(want) + (3 * Math.abs(x) + 1) * ulp;
  within('reciprocal', o.reciprocal, I.pos, (x) => 1 / x, recipTol);
  within('sqrt', o.sqrt, I.pos, Math.sqrt, () => 2 * ulp);
  within('invSqrt', o.invSqrt, I.pos, (x) => 1 / Math.sqrt(x), invSqrtTol);
  within('log', o.log, I.pos, Math.log, () => 4 * ulp);
  within('logistic', o.logistic, I.wide, logistic, () => 3 * ulp);
  within('tanh', o.tanh, I.wide, Math.tanh, () => 6 * ulp);

  assert.equal(o.expRange[0], -(2 ** s), `${label}: expRange lo`);
  assert.ok(o.expRange[1] > 5.5 && o.expRange[1] <= 2 ** s, `${label}: expRange hi ${o.expRange[1]}`);
  within('exp', o.exp, o.expX, Math.exp, (x, want) => 2 ** (s - f - 1) * want + 6 * ulp);

  within('reciprocal over [2^-2, 2^4]', o.reciprocalIn, RX, (x) => 1 / x, recipTol);
  within('sqrt over [2^-2, 2^4]', o.sqrtIn, RX, Math.sqrt, () => 2 * ulp);
  within('invSqrt over [2^-2, 2^4]', o.invSqrtIn, RX, (x) => 1 / Math.sqrt(x), invSqrtTol);
  within('log over [2^-2, 2^4]', o.logIn, RX, Math.log, () => 4 * ulp);
  within('div over [2^-2, 2^4]', o.divIn, RDIV, (x, i) => x / RX[i], divTol);
  within('div', o.div, I.divX, (x, i) => x / I.pos[i], divTol);
  within('logisticEuler', o.logisticEuler, I.euler, logistic, () => 0.12 / EULER_STEPS + 4 * ulp);

  exactly('select (the smaller of a and b)', o.select, PA.map((a, i) => (a < PB[i] ? a : PB[i])));
  exactly('equal', o.equal, PA.map((a, i) => (a === PE[i] ? 1 : 0)));

  for (const axis of ['perRow', 'perColumn', 'all']) {
    const want = reducePlain(axis);
    const [rows, cols] = want.shape;
    for (const name of ['sum', 'mean', 'variance', 'min']) shape(`${name} ${axis}`, o[`${name} ${axis}`], rows, cols);
    exactly(`sum ${axis}`, o[`sum ${axis}`], want.sum);
    within(`mean ${axis}`, o[`mean ${axis}`], want.mean, (m) => m, () => 2 * ulp);
    within(`variance ${axis}`, o[`variance ${axis}`], want.variance, (v) => v, (_v, _w, i) => (4 * want.dev[i] + 5) * ulp);
    exactly(`min ${axis}`, o[`min ${axis}`], want.min);
    const [m, idx] = o[`argmin ${axis}`];
    shape(`argmin ${axis}: min`, m, rows, cols);
    shape(`argmin ${axis}: index`, idx, rows, cols);
    exactly(`argmin ${axis}: min`, m, want.min);
    exactly(`argmin ${axis}: index`, idx, want.index);
  }
  assert.deepEqual(o.minDefault, o['min perRow'], `${label}: min's default axis is perRow`);
  assert.deepEqual(o.meanDefault, o['mean perRow'], `${label}: mean's default axis is perRow`);

  exactly('broadcast add (row)', o.addRow, R.map((v, i) => v + ROW[i % 4]));
  exactly('broadcast sub (column)', o.subCol, R.map((v, i) => v - COL[Math.floor(i / 4)]));
  within('broadcast mul (row)', o.mulRow, R, (v, i) => v * ROW[i % 4], () => ulp);
  within('broadcast mul (scalar)', o.mulOne, R, (v) => v * ONE[0], () => ulp);
  for (const name of ['addRow', 'subCol', 'mulRow', 'mulOne']) shape(name, o[name], 3, 4);
}

/** Products, a matrix product, ReLU (with values far out in the ring), the comparison and
 * argmax; `big` is a value far out in the ring. */
export async function runProducts(p, big) {
  const out = {};
  const a = await own(p, PA, 0);
  const b = await own(p, PB, 1);
  out.mul = await open(p, await p.mul(a, b));
  const m = await own(p, M, 0, 2, 4);
  out.matmul = await open(p, await p.matmul(m, m.transpose()));
  // A larger product: 6 x 5 times 5 x 6.
  const x = await own(p, X65, 0, 6, 5);
  const y = await own(p, Y56, 1, 5, 6);
  out.matmul65 = await open(p, await p.matmul(x, y));
  const xs = await own(p, [...PA, big, -big], 1);
  out.relu = await open(p, await p.relu(xs));
  out.lessThan = await open(p, await p.lessThan(a, b));
  const [mx, idx] = await p.argmax(m);
  out.max = await open(p, mx);
  out.argmax = await open(p, idx);
  out.stats = p.stats();
  return out;
}

// Deterministic operands of the larger matrix product (multiples of 1/8 in [-4, 4]).
const X65 = Array.from({ length: 30 }, (_, i) => (((i * 37 + 11) % 65) - 32) / 8);
const Y56 = Array.from({ length: 30 }, (_, i) => (((i * 53 + 7) % 61) - 30) / 8);

/** a (m x k) times b (k x n) in plaintext. */
function matmulPlain(a, b, m, k, n) {
  const out = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += a[i * k + t] * b[t * n + j];
      out.push(acc);
    }
  }
  return out;
}

/** Checks `o` from `runProducts`: products within `tolUlps` ulp, the rest exact. */
export function checkProducts(o, f, big, tolUlps, label) {
  const ulp = 2 ** -f;
  const near = (name, got, want) => {
    assert.equal(got.values.length, want.length, `${label}: ${name}: length`);
    want.forEach((w, i) =>
      assert.ok(Math.abs(got.values[i] - w) <= tolUlps * ulp, `${label}: ${name}[${i}] = ${got.values[i]}, want ${w}`),
    );
  };
  near('mul', o.mul, PA.map((a, i) => a * PB[i]));
  assert.deepEqual([o.matmul.rows, o.matmul.cols], [2, 2], `${label}: matmul shape`);
  near('matmul', o.matmul, matmulPlain(M, [0, 4, 1, 5, 2, 6, 3, 7].map((i) => M[i]), 2, 4, 2));
  assert.deepEqual([o.matmul65.rows, o.matmul65.cols], [6, 6], `${label}: matmul 6x5x6 shape`);
  near('matmul 6x5x6', o.matmul65, matmulPlain(X65, Y56, 6, 5, 6));
  assert.deepEqual(o.relu.values, [...PA, big, -big].map((v) => Math.max(v, 0)), `${label}: relu`);
  assert.deepEqual(o.lessThan.values, PA.map((a, i) => (a < PB[i] ? 1 : 0)), `${label}: lessThan`);
  assert.deepEqual(o.max.values, [2.25, -0.5], `${label}: argmax: max`);
  assert.deepEqual(o.argmax.values, [2, 1], `${label}: argmax: index`);
}
