// The data owner's page of the training example: prepares the breast-cancer rows as the Rust
// example does, shares the training rows with two workers, runs the dealer, reconstructs the
// weights and shows the test accuracy beside the plaintext SGD's.
import init, { DataOwner, Dealer, MessagePortTransport } from './pkg/fixshare_wasm.js';
import { parseCsv, prepare, trainPlain, accuracy, TRAINING, SESSION } from './breast-cancer.mjs';

const ready = init();
const $ = (id) => document.getElementById(id);

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function show(kind, r) {
  $(`${kind}-accuracy`).textContent = r ? r.accuracy.toFixed(4) : '';
  $(`${kind}-accuracy`).dataset.value = r ? r.accuracy.toFixed(4) : '';
  $(`${kind}-right`).textContent = r ? `${r.right} / ${r.rows}` : '';
}

/** Settles with the worker's report (or its crash); progress messages update the bar. */
function report(worker) {
  return new Promise((resolve) => {
    worker.onmessage = ({ data }) => {
      if (data.epoch) {
        if (data.role === 0) $('progress').value = data.epoch;
      } else {
        resolve(data);
      }
    };
    worker.onerror = (e) => resolve({ error: e.message || 'the worker failed' });
  });
}

async function run() {
  show('secure', null);
  show('plain', null);
  $('traffic').textContent = '';
  $('progress').value = 0;
  $('progress').max = TRAINING.epochs;
  status('loading the data ...');
  const res = await fetch('./data/breast_cancer.csv');
  if (!res.ok) throw new Error(`data/breast_cancer.csv: HTTP ${res.status}`);
  const { train, test } = prepare(parseCsv(await res.text()));
  const plain = accuracy(test, trainPlain(train, TRAINING));
  show('plain', plain);
  await ready;
  status(`training on secret shares (${train.rows} rows x ${train.d} features) ...`);
  const t0 = performance.now();

  const peer = new MessageChannel();
  const owner = [new MessageChannel(), new MessageChannel()];
  const dealerPorts = [new MessageChannel(), new MessageChannel()];
  const workers = [0, 1].map(() => new Worker(new URL('./train-party.js', import.meta.url), { type: 'module' }));
  const reports = workers.map(report);
  workers.forEach((w, role) => {
    const ports = { peer: role === 0 ? peer.port1 : peer.port2, owner: owner[role].port2, dealer: dealerPorts[role].port2 };
    w.postMessage({ role, rows: train.rows, d: train.d, session: SESSION, training: TRAINING, ...ports }, Object.values(ports));
  });
  const dealer = new Dealer().serve(new MessagePortTransport(dealerPorts[0].port1), new MessagePortTransport(dealerPorts[1].port1));
  const me = new DataOwner(new MessagePortTransport(owner[0].port1), new MessagePortTransport(owner[1].port1), SESSION);
  let weights;
  try {
    await me.share(train.x);
    await me.share(train.y);
    weights = await me.reconstruct(train.d + 1);
  } finally {
    // On failure this ends the workers' waits: they report and close their sessions.
    await me.close();
    const done = await Promise.all(reports);
    await Promise.allSettled([dealer]);
    workers.forEach((w) => w.terminate());
    const failed = done.find((r) => r.error);
    if (failed && weights === undefined) console.warn('worker:', failed.error);
    if (failed && weights !== undefined) throw new Error(`a worker failed: ${failed.error}`);
    if (!failed) {
      const s = done[0].stats;
      $('traffic').textContent = `server 0 sent ${(s.bytesSent / 1e6).toFixed(1)} MB to server 1 in ${s.rounds} rounds; ` +
        `${((s.offlineBytesSent + s.offlineBytesReceived) / 1e3).toFixed(1)} kB with the dealer (seeds: server 1 gets the corrections)`;
    }
  }
  const secure = accuracy(test, weights);
  show('secure', secure);
  $('secure-accuracy').dataset.weights = JSON.stringify([...weights]);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  status(`done: trained on shares by two workers in ${secs} s`, 'done');
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
