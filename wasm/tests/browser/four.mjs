// PrivPy's four servers in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): a page starts four module Web Workers joined by six MessageChannels, the
// primaries S1 and S2 (`Party.withAssistants`, Z_2^128 with 32 fractional bits) and the
// assistants Sa and Sb (`Assistant.serve`), each with its own instance of the web build. S1
// shares x, S2 shares y; both compute the product x * y, the logistic function of x and the
// ReLU of x, and reveal them; every result of both primaries is checked here against plaintext
// (the product within PrivPy's 4.5 ulp, the logistic function within its documented 3 ulp, the
// ReLU exactly), and both assistants must have served. Screenshot: target/wasm-browser/four.png.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, openPage, root, serve } from './harness.mjs';

const shots = path.join(root, 'target', 'wasm-browser');
await mkdir(shots, { recursive: true });

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fixshare: four servers</title>
<h1>PrivPy: S1, S2 and the assistants Sa and Sb in four Web Workers</h1>
<p id="status">ready</p>
<pre id="out"></pre>
<script type="module">
  const status = document.getElementById('status');
  window.runFour = async (data) => {
    status.textContent = 'running';
    const ch = {};
    for (const name of ['peer', 's1sa', 's1sb', 's2sa', 's2sb', 'sasb']) ch[name] = new MessageChannel();
    const ports = {
      s1: { role: 0, peer: ch.peer.port1, sa: ch.s1sa.port1, sb: ch.s1sb.port1 },
      s2: { role: 1, peer: ch.peer.port2, sa: ch.s2sa.port1, sb: ch.s2sb.port1 },
      sa: { role: 'Sa', s1: ch.s1sa.port2, s2: ch.s2sa.port2, other: ch.sasb.port1 },
      sb: { role: 'Sb', s1: ch.s1sb.port2, s2: ch.s2sb.port2, other: ch.sasb.port2 },
    };
    const out = {};
    await Promise.all(Object.entries(ports).map(([name, msg]) => new Promise((resolve) => {
      const w = new Worker('/worker.js', { type: 'module', name });
      w.onmessage = ({ data }) => { out[name] = data; w.terminate(); resolve(); };
      w.onerror = (e) => { out[name] = { error: 'worker error: ' + e.message }; resolve(); };
      const transfer = Object.values(msg).filter((v) => v instanceof MessagePort);
      w.postMessage({ ...msg, data }, transfer);
    })));
    status.textContent = 'done';
    document.getElementById('out').textContent = JSON.stringify(out, null, 1);
    return out;
  };
</script>`;

const WORKER = `import init, { Assistant, MessagePortTransport, Party } from '/pkg/fixshare_wasm.js';
self.onmessage = async ({ data: msg }) => {
  await init();
  const t = (port) => new MessagePortTransport(port, { timeoutMs: 20000 });
  if (msg.role === 'Sa' || msg.role === 'Sb') {
    try {
      self.postMessage({ served: await new Assistant(msg.role).serve(t(msg.s1), t(msg.s2), t(msg.other)) });
    } catch (e) {
      self.postMessage({ error: e.message });
    }
    return;
  }
  let party;
  try {
    party = await Party.withAssistants(msg.role, t(msg.peer), t(msg.sa), t(msg.sb));
    const { x, y } = msg.data;
    const xs = msg.role === 0 ? await party.shareInput(x, x.length, 1) : await party.receiveInput(x.length, 1);
    const ys = msg.role === 1 ? await party.shareInput(y, y.length, 1) : await party.receiveInput(y.length, 1);
    const open = async (v) => [...(await party.reveal(v))];
    self.postMessage({
      ringBits: party.ringBits,
      mul: await open(await party.mul(xs, ys)),
      logistic: await open(await party.logistic(xs)),
      relu: await open(await party.relu(xs)),
    });
  } catch (e) {
    self.postMessage({ error: e.message });
  } finally {
    await party?.close();
  }
};`;

const F = 32;
const ulp = 2 ** -F;
const data = {
  x: [1.5, -2, 0, 3.25, -0.375, 100.5, -7.75, 0.0625, 12, -30],
  y: [0.5, 1, -7, 2, -8.5, 3.125, 1, -0.25, -0.125, 4],
};

const server = await serve({
  '/': ['text/html; charset=utf-8', PAGE],
  '/worker.js': ['text/javascript', WORKER],
});

const browser = await launchChromium();
try {
  const { page, errors } = await openPage(browser, server);

  const t0 = Date.now();
  const run = await page.evaluate(([d]) => window.runFour(d), [data]);
  for (const name of ['sa', 'sb']) {
    assert.equal(run[name].error, undefined, `${name}: ${run[name].error}`);
    assert.ok(run[name].served.bytesSent > 0 && run[name].served.bytesReceived > 0, `${name} served`);
  }
  for (const name of ['s1', 's2']) {
    const got = run[name];
    assert.equal(got.error, undefined, `${name}: ${got.error}`);
    assert.equal(got.ringBits, 128);
    data.x.forEach((x, i) => {
      const want = x * data.y[i];
      assert.ok(Math.abs(got.mul[i] - want) <= 4.5 * ulp, `${name}: mul[${i}] = ${got.mul[i]}, want ${want}`);
      const l = 1 / (1 + Math.exp(-x));
      assert.ok(Math.abs(got.logistic[i] - l) <= 3 * ulp, `${name}: logistic(${x}) = ${got.logistic[i]}, want ${l}`);
    });
    assert.deepEqual(got.relu, data.x.map((v) => Math.max(v, 0)), `${name}: relu`);
  }
  assert.deepEqual(run.s1, run.s2, 'both primaries reveal the same');
  await page.screenshot({ path: path.join(shots, 'four.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no errors on the page');
  console.log(`four Web Workers (S1, S2, Sa, Sb): product, logistic function and ReLU equal the plaintext within their bounds (${Date.now() - t0} ms)`);
  console.log('four servers in headless Chromium: ok');
} finally {
  await browser.close();
  server.close();
}
