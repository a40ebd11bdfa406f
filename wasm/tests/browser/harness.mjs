// What the browser tests share: a page and the WASM package served over HTTP, headless Chromium
// (trusting exactly the servers' keys where a test connects to some), and for the deployment
// tests (owner.mjs, cross.mjs) free ports, processes whose output is collected and whose exit is
// awaited, and the page of a data owner.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository's root. */
export const root = path.resolve(fileURLToPath(import.meta.url), '../../../..');

/** How long a process may take before the test fails. */
export const LIMIT_MS = 240_000;

/** A free port on 127.0.0.1. */
export const port = () => new Promise((ok, fail) => {
  const s = net.createServer();
  s.on('error', fail);
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});

/** The base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo: what Chromium's
 * --ignore-certificate-errors-spki-list takes. */
export const spkiHash = async (crt) => {
  const spki = new X509Certificate(await readFile(crt)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
};

/** The processes a test starts: each one's output collected, its exit awaited, every one still
 * running killed by `killAll`. */
export class Processes {
  constructor() { this.all = []; }

  /** Starts `program` with `args` (and `options.env` added to the environment). */
  start(name, program, args, options = {}) {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const d = { name, child, out: '', err: '' };
    child.stdout.on('data', (b) => { d.out += b; });
    child.stderr.on('data', (b) => {
      d.err += b;
      if (process.env.FIXSHARE_PARTY_TEST_LOG) process.stderr.write(`[${name}] ${b}`);
    });
    // 'close', not 'exit': a process can exit before its output has all been read.
    d.exit = new Promise((ok) => child.on('close', (code) => ok(code)));
    this.all.push(d);
    return d;
  }

  /** Waits for `d` to exit with 0 and print `status: ok`; returns a getter of its `name: value`
   * lines. */
  async finish(d) {
    let timer;
    const code = await Promise.race([d.exit, new Promise((ok) => { timer = setTimeout(() => ok('hung'), LIMIT_MS); })]);
    clearTimeout(timer);
    assert.equal(code, 0, `${d.name} ended with ${code}:\n${d.out}\n${d.err}`);
    const value = (name) => d.out.split('\n').find((l) => l.startsWith(name + ': '))?.slice(name.length + 2);
    assert.equal(value('status'), 'ok', `${d.name}: ${d.out}`);
    return value;
  }

  /** Waits (up to a minute) until `d`'s standard error contains `needle`. */
  async waitForLog(d, needle) {
    const t = Date.now();
    while (!d.err.includes(needle)) {
      assert.ok(Date.now() - t < 60_000, `${d.name}: no ${JSON.stringify(needle)} in ${d.err}`);
      await new Promise((ok) => setTimeout(ok, 20));
    }
  }

  /** Kills every process still running. */
  killAll() {
    for (const d of this.all) if (d.child.exitCode === null) d.child.kill();
  }
}

/** The page of a data owner: `window.submit(config, freshKey)` shares `/data.csv` with the
 * WASM package's `JobOwner` under `window.key` (made by `window.makeKey()`, which returns its
 * pin) or a fresh key, and returns `{ summary, rows }` or `{ error, code }`. `extra` is more
 * script for the page. */
export const ownerPage = (extra = '') => `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>fixshare: a data owner in the browser</title>
<h1>A data owner of a fixshare-party job</h1>
<p id="status">loading</p>
<pre id="out"></pre>
<script type="module">
  import init, { JobOwner, OwnerKey, WebSocketTransport } from '/pkg/fixshare_wasm.js';
  await init();
  const status = document.getElementById('status');
  const out = document.getElementById('out');
  const csv = async () => (await fetch('/data.csv')).text();
  window.makeKey = async () => { window.key = await OwnerKey.generate(); return window.key.pin; };
  window.submit = async (config, freshKey) => {
    const owner = new JobOwner(config, await csv());
    const key = freshKey ? await OwnerKey.generate() : window.key;
    status.textContent = 'sharing ' + owner.rowsShared + ' rows';
    try {
      const summary = await owner.submit(key);
      status.textContent = 'done';
      out.textContent += Object.entries(summary).map(([k, v]) => k + ': ' + v).join('\\n') + '\\n';
      return { summary, rows: owner.rowsShared };
    } catch (e) {
      out.textContent += 'refused: ' + e.message + '\\n';
      return { error: e.message, code: e.code };
    }
  };
  ${extra}
  status.textContent = 'ready';
</script>`;

/** Serves on 127.0.0.1 what a test page needs: `routes` maps a path to `[content type, text]`,
 * `dirs` a path prefix to a directory whose files are served under it (the WASM package's web
 * build is always at `/pkg/`). Resolves to the listening server. */
export async function serve(routes, dirs = {}) {
  const all = { '/pkg/': path.join(root, 'wasm/pkg/web'), ...dirs };
  const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const route = routes[url.pathname];
    if (route) {
      res.writeHead(200, { 'content-type': route[0] });
      return res.end(route[1]);
    }
    const entry = Object.entries(all).find(([p]) => url.pathname.startsWith(p));
    const file = entry && path.resolve(entry[1], url.pathname.slice(entry[0].length));
    if (!file || !file.startsWith(entry[1] + path.sep)) {
      res.writeHead(404);
      return res.end();
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

/** Serves `page` at `/` and the CSV file `csv` at `/data.csv` (see `serve`). */
export async function servePage(page, csv) {
  return serve({
    '/': ['text/html; charset=utf-8', page],
    '/data.csv': ['text/csv', await readFile(csv)],
  });
}

/** Headless Chromium that trusts the TLS keys whose certificates are `crts` by their pins, and
 * nothing else. */
export async function launchChromium(crts = []) {
  const spkis = await Promise.all(crts.map(spkiHash));
  const trust = spkis.length ? [`--ignore-certificate-errors-spki-list=${spkis.join(',')}`] : [];
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', ...trust],
  });
}

/** Opens `server`'s page in `browser`, waits (up to `timeout` ms) until its `#status` says
 * `ready`, and collects its errors into the returned `errors`. */
export async function openPage(browser, server, timeout = 30_000) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout });
  return { page, errors };
}
