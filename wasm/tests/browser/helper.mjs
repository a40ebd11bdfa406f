// SecureNN's three servers in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): a page starts three module Web Workers joined by MessageChannels, P0 and P1
// (`Party.withHelper`) and the helper P2 (`Dealer.serve`, the dealer's entry point), each with its
// own instance of the web build. P0 shares x and a, P1 shares y, b and two images; both compute
// ReLU, DReLU, the comparison, argmax, max pooling and its derivative and the division, and
// reveal them; every result of both parties is checked here against a plaintext reference, and
// the helper's traffic must be non-zero. Then the page terminates the helper's worker in the
// middle of the session: the parties' next ReLU rejects (every Promise settles: a terminated
// worker does not close its ports, so the parties' helper transports time out after 5 s of
// silence, and a party that failed closes its peer transport), naming the helper's transport.
// Screenshot: target/wasm-browser/helper.png.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, openPage, root, serve } from './harness.mjs';

const shots = path.join(root, 'target', 'wasm-browser');
await mkdir(shots, { recursive: true });

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fixshare: three servers</title>
<h1>SecureNN: P0, P1 and the helper P2 in three Web Workers</h1>
<p id="status">ready</p>
<pre id="out"></pre>
<script type="module">
  const status = document.getElementById('status');
  const start = (name) => new Worker('/worker.js', { type: 'module', name });
  /** Runs the three roles; with \`leave\`, terminates the helper after the first ReLU. */
  window.runThree = async (data, leave) => {
    status.textContent = 'running';
    const peer = new MessageChannel(), h0 = new MessageChannel(), h1 = new MessageChannel();
    const workers = { p0: start('p0'), p1: start('p1'), helper: start('helper') };
    const done = (w) => new Promise((resolve) => {
      w.onmessage = ({ data }) => data.step ? onStep(data) : resolve(data);
      w.onerror = (e) => resolve({ error: 'worker error: ' + e.message });
    });
    let stepped = 0;
    const onStep = () => {
      // Both parties finished the first ReLU: the helper goes away.
      if (++stepped === 2) {
        workers.helper.terminate();
        for (const role of ['p0', 'p1']) workers[role].postMessage({ go: true });
      }
    };
    const results = Promise.all([done(workers.p0), done(workers.p1), leave ? null : done(workers.helper)]);
    workers.helper.postMessage({ role: 'helper', p0: h0.port1, p1: h1.port1 }, [h0.port1, h1.port1]);
    workers.p0.postMessage({ role: 0, data, leave, peer: peer.port1, helper: h0.port2 }, [peer.port1, h0.port2]);
    workers.p1.postMessage({ role: 1, data, leave, peer: peer.port2, helper: h1.port2 }, [peer.port2, h1.port2]);
    const [p0, p1, helper] = await results;
    for (const w of Object.values(workers)) w.terminate();
    status.textContent = leave ? 'done: the helper left' : 'done';
    document.getElementById('out').textContent +=
      (leave ? 'helper left: ' + JSON.stringify([p0.error, p1.error]) : JSON.stringify({ relu: p0.relu, divide: p0.divide, helper }))
      + '\\n';
    return { p0, p1, helper };
  };
</script>`;

const WORKER = `import init, { Dealer, MessagePortTransport, Party } from '/pkg/fixshare_wasm.js';
self.onmessage = async ({ data: msg }) => {
  if (msg.go) return self.dispatchEvent(new Event('go'));
  await init();
  if (msg.role === 'helper') {
    try {
      const served = await new Dealer().serve(new MessagePortTransport(msg.p0), new MessagePortTransport(msg.p1));
      self.postMessage({ served });
    } catch (e) {
      self.postMessage({ error: e.message });
    }
    return;
  }
  const { role, data, leave } = msg;
  let party;
  try {
    // A terminated worker does not close its ports: the helper's transport gives up after 5 s
    // of silence (the documented remedy for peers that may vanish), and a party that fails
    // closes its peer transport, which ends the other party's wait.
    const helper = new MessagePortTransport(msg.helper, { timeoutMs: 5000 });
    party = await Party.withHelper(role, new MessagePortTransport(msg.peer), helper);
    const own = (values, owner, rows, cols) =>
      role === owner ? party.shareInput(values, rows, cols) : party.receiveInput(rows, cols);
    const open = async (v) => [...(await party.reveal(v))];
    const x = await own(data.x, 0, data.x.length, 1);
    if (leave) {
      await party.relu(x);
      const go = new Promise((resolve) => self.addEventListener('go', resolve, { once: true }));
      self.postMessage({ step: true });
      await go;
      await party.relu(x); // the helper is gone: this rejects
      self.postMessage({ error: null });
      return;
    }
    const y = await own(data.y, 1, data.y.length, 1);
    const a = await own(data.a, 0, data.a.length, 1);
    const b = await own(data.b, 1, data.b.length, 1);
    const img = await own(data.img, 1, 2, 16);
    const [max, index] = await party.argmax(await own(data.m, 0, 2, 4));
    const [pooled, mask] = await party.maxPoolWithDerivative(img, 1, 4, 4, 2, 2);
    self.postMessage({
      relu: await open(await party.relu(x)),
      drelu: await open(await party.drelu(x)),
      lessThan: await open(await party.lessThan(x, y)),
      max: await open(max),
      index: await open(index),
      maxPool: await open(await party.maxPool(img, 1, 4, 4, 2, 2)),
      pooled: await open(pooled),
      mask: await open(mask),
      divide: await open(await party.divide(a, b)),
      stats: party.stats(),
    });
  } catch (e) {
    self.postMessage({ error: e.message });
  } finally {
    await party?.close();
  }
};`;

const F = 16;
const enc = (v) => BigInt(Math.round(v * 2 ** F));
const dec = (e) => Number(e) / 2 ** F;
const ulp = 2 ** -F;
const data = {
  x: [0, ulp, -ulp, 1.5, -2.25, 3, -7.5, 0.375, 2 ** 40, -(2 ** 40)],
  y: [0, 0, -ulp, 1.5, -2, 2, -8, 0.5, -(2 ** 40), 2 ** 40],
  a: [0, 1, 0.5, 1.25, 0, 3, 2.5, 6],
  b: [1, 1, 2, 3.75, 0.25, 7, 2.5, 6.5],
  m: [0.5, -1, 2.25, 2, -3, -0.5, -2, -0.5],
  img: [1, 2, 0, -1, 5, -3, 2, 2, 0, 0, -1, -2, 4, 1, -6, 3, -1, -1, 7, 0, -1, -1, 0, 7, 2.5, 0.5, 0, 0, 0.5, 2.5, 0, -4],
};

/** The plaintext reference of every result. */
function reference() {
  const pooled = [];
  const mask = new Array(32).fill(0);
  for (let i = 0; i < 2; i++) {
    for (let oy = 0; oy < 2; oy++) {
      for (let ox = 0; ox < 2; ox++) {
        let at = -1;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const p = i * 16 + (oy * 2 + dy) * 4 + ox * 2 + dx;
            if (at < 0 || data.img[p] > data.img[at]) at = p;
          }
        }
        pooled.push(data.img[at]);
        mask[at] += 1;
      }
    }
  }
  const rows = [data.m.slice(0, 4), data.m.slice(4)];
  return {
    relu: data.x.map((v) => Math.max(v, 0)),
    drelu: data.x.map((v) => (v >= 0 ? 1 : 0)),
    lessThan: data.x.map((v, i) => (v < data.y[i] ? 1 : 0)),
    max: rows.map((r) => Math.max(...r)),
    index: rows.map((r) => r.indexOf(Math.max(...r))),
    maxPool: pooled,
    pooled,
    mask,
    // floor(a 2^f / b) on the encodings.
    divide: data.a.map((v, i) => dec((enc(v) << BigInt(F)) / enc(data.b[i]))),
  };
}

const server = await serve({
  '/': ['text/html; charset=utf-8', PAGE],
  '/worker.js': ['text/javascript', WORKER],
});

const browser = await launchChromium();
try {
  const { page, errors } = await openPage(browser, server);

  const t0 = Date.now();
  const run = await page.evaluate(([d]) => window.runThree(d, false), [data]);
  const want = reference();
  for (const [name, got] of [['P0', run.p0], ['P1', run.p1]]) {
    assert.equal(got.error, undefined, `${name}: ${got.error}`);
    for (const key of Object.keys(want)) assert.deepEqual(got[key], want[key], `${name}: ${key}`);
    assert.ok(got.stats.bytesSent > 0 && got.stats.offlineBytesReceived > 0, `${name}: traffic`);
  }
  assert.equal(run.helper.error, undefined, `helper: ${run.helper.error}`);
  assert.ok(run.helper.served.bytesToParty0 > 0 && run.helper.served.bytesToParty1 > 0, 'the helper served both');
  console.log(`three Web Workers (P0, P1, helper): ReLU, DReLU, comparison, argmax, max pooling and its derivative, division equal the plaintext (${Date.now() - t0} ms)`);

  // The helper's worker is terminated half-way: both parties' next ReLU rejects.
  const t1 = Date.now();
  const left = await page.evaluate(([d]) => window.runThree(d, true), [data]);
  for (const [name, got] of [['P0', left.p0], ['P1', left.p1]]) {
    assert.ok(got.error, `${name}: the ReLU without the helper must reject`);
    assert.match(got.error, /^relu: /, `${name}: ${got.error}`);
  }
  assert.ok([left.p0.error, left.p1.error].some((e) => /helper transport/.test(e)), `the helper is named: ${JSON.stringify(left)}`);
  console.log(`the helper's worker terminated: P0 "${left.p0.error}", P1 "${left.p1.error}" (${Date.now() - t1} ms)`);
  await page.screenshot({ path: path.join(shots, 'helper.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no errors on the page');
  console.log('three servers in headless Chromium: ok');
} finally {
  await browser.close();
  server.close();
}
