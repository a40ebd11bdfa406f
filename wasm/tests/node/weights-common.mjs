// Shared by the weight-sharing tests (Node: weights.test.mjs; Chromium: ../browser/weights.mjs):
// the data, the settings, Rust trainer and server processes (`fixshare-snt`, named by
// FIXSHARE_SNT_BIN), TCP sockets as transports, and the trainer's schedule as the core's
// fnt::run and snt::run drive it, written against the package's FloatModel and WeightLink.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FEATURES, KEY, MODEL_ID, ROWS, seedOf } from './weights-schedule.mjs';

export * from './weights-schedule.mjs';

const hex = (b) => Buffer.from(b).toString('hex');

/** A temporary directory with the data as CSV, the key and every trainer's seed. */
export async function workspace(c, data) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fxs-wasm-weights-'));
  const lines = [[...Array(FEATURES).keys()].map((j) => `f${j}`).concat('class').join(',')];
  for (let r = 0; r < ROWS; r++) {
    // Number's shortest round-trip text: Rust parses back the same doubles.
    lines.push([...data.x.subarray(r * FEATURES, (r + 1) * FEATURES), data.y[r]].join(','));
  }
  await writeFile(path.join(dir, 'data.csv'), lines.join('\n') + '\n');
  await writeFile(path.join(dir, 'key'), hex(KEY) + '\n');
  for (let t = 0; t < c.trainers; t++) await writeFile(path.join(dir, `seed${t}`), hex(seedOf(t)) + '\n');
  return dir;
}

export const removeWorkspace = (dir) => rm(dir, { recursive: true, force: true });

/** Writes a port file atomically. */
export async function writePort(file, port) {
  await writeFile(file + '.tmp', `${port}\n`);
  await rename(file + '.tmp', file);
}

/** Waits for a port file (up to 60 s). */
export async function waitPort(file) {
  for (let i = 0; i < 1200; i++) {
    try {
      const p = Number((await readFile(file, 'utf8')).trim());
      if (p > 0) return p;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file}: no port after 60 s`);
}

/** A child process; `done` resolves to its exit code (killed after `seconds`). */
export function run(bin, args, seconds = 120) {
  const child = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const done = new Promise((ok) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      ok(code ?? signal);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      ok(`spawn failed: ${e.message}`);
    });
  });
  return { child, done };
}

/** The command line of Rust trainer t. */
export function trainerArgs(c, dir, t, extra) {
  const args = ['train', '--system', c.system, '--index', `${t}`, '--data', path.join(dir, 'data.csv')];
  args.push('--key-file', path.join(dir, 'key'), '--out', path.join(dir, `out${t}`));
  args.push('--seed-file', path.join(dir, `seed${t}`), '--model-id', MODEL_ID);
  args.push('--model', c.sizes.join(','), '--activation', c.activation, '--optimizer', c.optimizer);
  args.push('--lr', `${c.lr}`, '--batch', `${c.batch}`, '--local-epochs', `${c.localEpochs}`);
  args.push('--central-epochs', `${c.epochs}`, '--trainers', `${c.trainers}`);
  if (c.dropout > 0) args.push('--dropout', `${c.dropout}`);
  return args.concat(extra);
}

/** A connected TCP socket as a package transport: send(bytes) and recv(n) return Promises,
 * recv resolves to null once the connection has ended. */
export class SocketTransport {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.have = 0;
    this.ended = false;
    this.waiter = null;
    socket.setNoDelay(true);
    socket.on('data', (b) => {
      this.chunks.push(b);
      this.have += b.length;
      this.wake();
    });
    for (const ev of ['end', 'close', 'error']) {
      socket.on(ev, () => {
        this.ended = true;
        this.wake();
      });
    }
  }
  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }
  send(bytes) {
    return new Promise((ok, fail) => this.socket.write(Buffer.from(bytes), (e) => (e ? fail(e) : ok())));
  }
  async recv(n) {
    while (this.have < n) {
      if (this.ended) return null;
      await new Promise((r) => (this.waiter = r));
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.have -= n;
    return new Uint8Array(all.subarray(0, n));
  }
  close() {
    this.socket.end();
  }
}

/** Connects to 127.0.0.1:port, retrying for up to 30 s. */
export async function connect(port) {
  for (let i = 0; i < 600; i++) {
    try {
      return await new Promise((ok, fail) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => ok(s));
        s.once('error', fail);
      });
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

/**
 * Runs configuration `c` with Rust trainer processes (and the Rust server for SNT) beside one
 * JS trainer, which `jsTrainer(c, { server, listen, next })` runs and which resolves to its final
 * weights (exportWeights). `server`: the SNT server's port; `listen`/`next`: for FNT, a
 * net.Server already listening (whose port is published; `listen.accepted` resolves to the
 * predecessor's socket) and the next trainer's port.
 * Resolves to { mine, rust: [exports], codes: [exit codes] }.
 */
export async function withRustTrainers(bin, c, data, jsTrainer) {
  const dir = await workspace(c, data);
  const procs = [];
  let server = null;
  try {
    let serverPort = 0;
    if (c.system === 'snt') {
      const pf = path.join(dir, 'server-port');
      server = run(bin, ['serve', '--dir', path.join(dir, 'store'), '--listen', '127.0.0.1:0', '--port-file', pf], 300);
      serverPort = await waitPort(pf);
    }
    let listen = null;
    if (c.system === 'fnt') {
      listen = net.createServer();
      // The predecessor may connect before the JS trainer starts: keep its socket (paused, so
      // nothing it sends is lost) for the trainer.
      listen.accepted = new Promise((ok) => listen.once('connection', ok));
      await new Promise((ok) => listen.listen(0, '127.0.0.1', ok));
      await writePort(path.join(dir, `port${c.index}`), listen.address().port);
    }
    for (let t = 0; t < c.trainers; t++) {
      if (t === c.index) continue;
      const extra =
        c.system === 'snt'
          ? ['--server', `127.0.0.1:${serverPort}`]
          : ['--listen', '127.0.0.1:0', '--port-file', path.join(dir, `port${t}`),
             '--next-port-file', path.join(dir, `port${(t + 1) % c.trainers}`)];
      procs.push({ t, p: run(bin, trainerArgs(c, dir, t, extra)) });
    }
    const next = c.system === 'fnt' ? await waitPort(path.join(dir, `port${(c.index + 1) % c.trainers}`)) : 0;
    let mine;
    try {
      mine = await jsTrainer(c, { server: serverPort, listen, next });
    } finally {
      if (listen) listen.close();
    }
    const codes = await Promise.all(procs.map(({ p }) => p.done));
    if (server) {
      server.child.kill('SIGTERM');
      await server.done;
    }
    const rust = [];
    for (const { t } of procs) rust.push(await readFile(path.join(dir, `out${t}`)).catch(() => null));
    return { mine, rust, codes };
  } finally {
    for (const { p } of procs) p.child.kill('SIGKILL');
    if (server) server.child.kill('SIGKILL');
    await removeWorkspace(dir);
  }
}
