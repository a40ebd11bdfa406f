// The weight-sharing tests' data, settings and trainer schedule, without Node APIs: used by the
// Node test (through weights-common.mjs) and loaded as is by the Chromium page
// (../browser/weights.mjs). The schedule is the core's fnt::run and snt::run, written against the
// package's FloatModel and WeightLink.

export const FEATURES = 5;
export const CLASSES = 3;
export const ROWS = 150;

/** Three noisy classes in five dimensions (deterministic; not key material). */
export function dataset() {
  const x = new Float64Array(ROWS * FEATURES);
  const y = new Float64Array(ROWS);
  let s = 0x9e3779b97f4a7c15n;
  for (let r = 0; r < ROWS; r++) {
    const c = (r * 7 + Math.floor(r / 5)) % CLASSES;
    for (let f = 0; f < FEATURES; f++) {
      s ^= (s << 13n) & 0xffffffffffffffffn;
      s ^= s >> 7n;
      s ^= (s << 17n) & 0xffffffffffffffffn;
      const noise = Number(s >> 11n) / 2 ** 53 - 0.5;
      x[r * FEATURES + f] = (f % CLASSES === c ? 1.0 : -0.5) + noise;
    }
    y[r] = c;
  }
  return { x, y };
}

/** Trainer i's rows of l: consecutive ranges differing in size by at most one, the first
 * ROWS % l one longer (as fixshare-snt partitions the file). */
export function part(data, i, l) {
  const base = Math.floor(ROWS / l);
  const extra = ROWS % l;
  const start = i * base + Math.min(i, extra);
  const len = base + (i < extra ? 1 : 0);
  return {
    x: data.x.subarray(start * FEATURES, (start + len) * FEATURES),
    y: data.y.subarray(start, start + len),
  };
}

/** Trainer i's 32-byte training seed. */
export function seedOf(i) {
  return Uint8Array.from({ length: 32 }, (_, j) => (0xa5 ^ (i * 29 + j * 13)) & 0xff);
}

export const KEY = Uint8Array.from({ length: 32 }, (_, j) => (j * 73 + 11) & 0xff);
export const MODEL_ID = 'wasm trainer';

/** Whether two byte arrays are equal. */
export const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The FloatSpec of a configuration. */
export function specOf(c) {
  return {
    sizes: c.sizes,
    activation: c.activation,
    dropout: c.dropout > 0 ? [c.dropout] : undefined,
    loss: 'softmax',
    optimizer: c.optimizer,
    learningRate: c.lr,
    batch: c.batch,
    localEpochs: c.localEpochs,
  };
}

/** Centralized training on the union of the data in the agreed order, with the package. */
export function centralized(fx, c, data) {
  const m = new fx.FloatModel(specOf(c), seedOf(0));
  for (let e = 0; e < c.epochs; e++) {
    for (let t = 0; t < c.trainers; t++) {
      const p = part(data, t, c.trainers);
      m.train(p.x, p.y, seedOf(t), e);
    }
  }
  return m;
}

const round = (c, version) => ({ modelId: MODEL_ID, trainers: c.trainers, version });

/** The JS trainer of an FNT ring, as the core's fnt::run: `prev` and `next` are WeightLinks. */
export async function fntTrainer(c, m, data, prev, next) {
  const [l, i] = [c.trainers, c.index];
  const len = m.sealedLength;
  const p = part(data, i, l);
  for (let e = 0; e < c.epochs; e++) {
    const step = e * l + i;
    if (step > 0) m.open(KEY, round(c, step), await prev.receive(len));
    m.train(p.x, p.y, seedOf(i), Math.floor(step / l));
    await next.pass(m.seal(KEY, round(c, step + 1), i));
  }
  if (i !== l - 1) {
    const last = await prev.receive(len);
    m.open(KEY, round(c, c.epochs * l), last);
    if (i + 1 < l - 1) await next.pass(last);
  }
}

/** The JS trainer of an SNT round, as the core's snt::run: `link` goes to the server. */
export async function sntTrainer(c, m, data, link) {
  const [l, i] = [c.trainers, c.index];
  const len = m.sealedLength;
  const p = part(data, i, l);
  if (i === 0) await link.upload(0, m.seal(KEY, round(c, 0), 0));
  for (let e = 0; e < c.epochs; e++) {
    const step = e * l + i;
    if (step > 0) m.open(KEY, round(c, step), await link.fetch(round(c, step), i, len));
    m.train(p.x, p.y, seedOf(i), Math.floor(step / l));
    await link.upload(i, m.seal(KEY, round(c, step + 1), i));
  }
  const last = await link.fetch(round(c, c.epochs * l), i, len);
  m.open(KEY, round(c, c.epochs * l), last);
}

/** The configurations both tests run: rings and server rounds, both optimizers, several
 * activations, dropout, the JS trainer first, in the middle or last. */
export const CONFIGS = [
  { name: 'FNT ring, SGD, ReLU, JS trainer in the middle', system: 'fnt', trainers: 4, index: 1, epochs: 3,
    sizes: [FEATURES, 8, CLASSES], activation: 'relu', optimizer: 'sgd', lr: 0.1, dropout: 0, batch: 8, localEpochs: 2 },
  { name: 'SNT round, Adam, tanh, dropout, JS trainer first', system: 'snt', trainers: 3, index: 0, epochs: 2,
    sizes: [FEATURES, 6, CLASSES], activation: 'tanh', optimizer: 'adam', lr: 0.02, dropout: 0.2, batch: 16, localEpochs: 1 },
  { name: 'SNT round, SGD, softplus, JS trainer last', system: 'snt', trainers: 3, index: 2, epochs: 2,
    sizes: [FEATURES, 7, CLASSES], activation: 'softplus', optimizer: 'sgd', lr: 0.1, dropout: 0, batch: 10, localEpochs: 2 },
];

