// A browser tab as a trainer of Phong-Phuong weight sharing, in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core): the page loads the web build of the package and
// runs one trainer (FloatModel and WeightLink) of an SNT round and of an FNT ring beside Rust
// trainer processes and the Rust server (`fixshare-snt`, named by FIXSHARE_SNT_BIN). A page
// cannot open TCP connections, so its transports are relayed to TCP sockets by this script
// (page.exposeFunction), as a WebSocket relay would in a deployment; every byte the page's
// trainer sends or receives is the core's wire format. The tab's final weights, and every Rust
// trainer's, must equal centralized training on the union of the data in the same order
// (computed here with the Node build of the same package). Screenshot: target/wasm-browser/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchChromium, root, serve } from './harness.mjs';
import {
  CONFIGS, SocketTransport, centralized, connect, dataset, sameBytes, withRustTrainers,
} from '../node/weights-common.mjs';

const shots = path.join(root, 'target', 'wasm-browser');
await mkdir(shots, { recursive: true });
const fx = createRequire(import.meta.url)('../../pkg/node/fixshare_wasm.js');
const BIN = process.env.FIXSHARE_SNT_BIN;
assert.ok(BIN, 'FIXSHARE_SNT_BIN must name the fixshare-snt binary');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fixshare: a browser trainer</title>
<h1>Weight sharing: this tab is a trainer</h1>
<p id="status">loading</p>
<script type="module">
  import init, { FloatModel, WeightLink } from '/pkg/fixshare_wasm.js';
  import { dataset, fntTrainer, sntTrainer, specOf, seedOf } from '/tests/weights-schedule.mjs';
  const b64 = (bytes) => { let s = ''; for (const b of bytes) s += String.fromCharCode(b); return btoa(s); };
  const unb64 = (t) => Uint8Array.from(atob(t), (ch) => ch.charCodeAt(0));
  /** A transport relayed by the test script to TCP socket \`id\`. */
  const relayed = (id) => ({
    send: (bytes) => window.relaySend(id, b64(bytes)),
    recv: async (n) => { const t = await window.relayRecv(id, n); return t === null ? null : unb64(t); },
    close: () => window.relayClose(id),
  });
  await init();
  const status = document.getElementById('status');
  window.runTrainer = async (c, ids) => {
    status.textContent = 'training: ' + c.name;
    const data = dataset();
    const m = new FloatModel(specOf(c), seedOf(c.index));
    const t0 = performance.now();
    if (c.system === 'snt') {
      const link = new WeightLink(relayed(ids.server));
      await sntTrainer(c, m, data, link);
      await link.close();
    } else {
      const [from, to] = [new WeightLink(relayed(ids.prev)), new WeightLink(relayed(ids.next))];
      await fntTrainer(c, m, data, from, to);
      await Promise.all([from.close(), to.close()]);
    }
    const w = m.exportWeights();
    status.textContent = 'done: ' + c.name + ' in ' + Math.round(performance.now() - t0) + ' ms, ' +
      m.paramCount + ' weights, ' + m.sealedLength + ' bytes sealed';
    return b64(w);
  };
  status.textContent = 'ready';
</script>`;

const server = await serve(
  { '/': ['text/html; charset=utf-8', PAGE] },
  { '/tests/': path.join(root, 'wasm/tests/node') },
);

const browser = await launchChromium();
const sockets = new Map();
let nextId = 0;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.exposeFunction('relaySend', (id, text) => sockets.get(id).send(Buffer.from(text, 'base64')));
  await page.exposeFunction('relayRecv', async (id, n) => {
    const b = await sockets.get(id).recv(n);
    return b === null ? null : Buffer.from(b).toString('base64');
  });
  await page.exposeFunction('relayClose', (id) => sockets.get(id)?.close());
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, {
    timeout: 60_000,
  });
  const data = dataset();
  const register = (socket) => {
    const id = nextId++;
    sockets.set(id, new SocketTransport(socket));
    return id;
  };
  // A ring with the tab in the middle, and a server round with the tab first.
  for (const c of CONFIGS.slice(0, 2)) {
    const t0 = Date.now();
    const { mine, rust, codes } = await withRustTrainers(BIN, c, data, async (cc, net) => {
      let ids;
      if (cc.system === 'snt') {
        ids = { server: register(await connect(net.server)) };
      } else {
        const next = register(await connect(net.next));
        ids = { prev: register(await net.listen.accepted), next };
      }
      const { name, system, trainers, index, epochs, sizes, activation, optimizer, lr, dropout, batch, localEpochs } = cc;
      const weights = await page.evaluate(
        ([conf, ids]) => window.runTrainer(conf, ids),
        [{ name, system, trainers, index, epochs, sizes, activation, optimizer, lr, dropout, batch, localEpochs }, ids],
      );
      return Buffer.from(weights, 'base64');
    });
    assert.deepEqual(codes, codes.map(() => 0), `${c.name}: the Rust trainers exit 0`);
    const reference = centralized(fx, c, data).exportWeights();
    assert.ok(sameBytes(mine, reference), `${c.name}: the browser trainer ends with the centralized weights, bit for bit`);
    for (const r of rust) assert.ok(r && sameBytes(r, reference), `${c.name}: each Rust trainer too`);
    const status = await page.textContent('#status');
    assert.match(status, /^done/, status);
    await page.screenshot({ path: path.join(shots, `weights-${c.system}.png`) });
    console.log(`ok - Chromium trainer, ${c.name}: weights equal centralized training (${Date.now() - t0} ms; ${status})`);
  }
  assert.deepEqual(errors, [], 'no errors on the page');
} finally {
  for (const s of sockets.values()) s.close();
  await browser.close();
  server.close();
}
