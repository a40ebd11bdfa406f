// The data owner's page: shares x and y to two workers, runs the dealer if chosen, and shows
// the reconstructed results beside the plaintext.
import init, { DataOwner, Dealer, MessagePortTransport } from './pkg/fixshare_wasm.js';

const ready = init();
const $ = (id) => document.getElementById(id);

function parse(id) {
  const text = $(id).value.trim();
  if (!text) throw new Error(`${id} is empty`);
  return text.split(',').map((s, i) => {
    const v = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(v)) throw new Error(`${id}[${i}] "${s.trim()}" is not a number`);
    return v;
  });
}

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function show(id, values) {
  $(id).textContent = values.map((v) => +v.toFixed(6)).join(', ');
  $(id).dataset.values = JSON.stringify(values);
}

/** Settles with the worker's report (or its crash). */
function report(worker) {
  return new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.onerror = (e) => resolve({ error: e.message || 'the worker failed' });
  });
}

async function run() {
  for (const id of ['dot-secure', 'dot-plain', 'relu-secure', 'relu-plain']) show(id, []);
  const x = parse('x');
  const y = parse('y');
  if (x.length !== y.length) throw new Error(`x has ${x.length} numbers, y has ${y.length}`);
  const n = x.length;
  const source = $('source').value;
  await ready;
  status('computing on secret shares ...');

  const peer = new MessageChannel();
  const owner = [new MessageChannel(), new MessageChannel()];
  // The dealer's connections; with OT the parties need none but the one between them.
  const offline = source === 'ot' ? [] : [new MessageChannel(), new MessageChannel()];
  const workers = [0, 1].map(() => new Worker(new URL('./party.js', import.meta.url), { type: 'module' }));
  const reports = workers.map(report);
  workers.forEach((w, role) => {
    const ports = { peer: role === 0 ? peer.port1 : peer.port2, owner: owner[role].port2 };
    if (source !== 'ot') ports.dealer = offline[role].port2;
    w.postMessage({ role, n, source, ...ports }, Object.values(ports));
  });
  const dealer = source === 'ot'
    ? Promise.resolve(null)
    : new Dealer().serve(new MessagePortTransport(offline[0].port1), new MessagePortTransport(offline[1].port1));

  const me = new DataOwner(new MessagePortTransport(owner[0].port1), new MessagePortTransport(owner[1].port1));
  let dot;
  let relu;
  try {
    await me.share(new Float64Array(x));
    await me.share(new Float64Array(y));
    dot = await me.reconstruct(1);
    relu = await me.reconstruct(n);
  } finally {
    // On failure this ends the workers' waits: they report and close their sessions.
    await me.close();
    const done = await Promise.all(reports);
    await Promise.allSettled([dealer]);
    workers.forEach((w) => w.terminate());
    const failed = done.find((r) => r.error);
    if (failed && dot === undefined) console.warn('worker:', failed.error);
    if (failed && dot !== undefined) throw new Error(`a worker failed: ${failed.error}`);
    if (!failed) console.log('party 0 traffic', done[0].stats);
  }
  show('dot-secure', [...dot]);
  show('dot-plain', [x.reduce((acc, v, i) => acc + v * y[i], 0)]);
  show('relu-secure', [...relu]);
  show('relu-plain', x.map((v) => Math.max(v, 0)));
  status(`done (${source}): x · y and ReLU(x) computed on shares by two workers`, 'done');
}

$('run').addEventListener('click', async () => {
  $('run').disabled = true;
  try {
    await run();
  } catch (e) {
    status(`error: ${e instanceof Error ? e.message : e}`, 'error');
  } finally {
    $('run').disabled = false;
  }
});
