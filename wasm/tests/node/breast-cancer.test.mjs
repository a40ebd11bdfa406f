// The must-show of the bindings' parity: two WASM parties train logistic regression on the
// breast-cancer data with the Rust example's defaults (examples/train.rs: 10 epochs, batches of
// 32, learning rate 0.1, 16 fractional bits in Z_2^64, local truncation, SecureML's piecewise
// sigmoid, a dealer), and the secure test accuracy equals the Rust run's.
//
// The data owner prepares the rows exactly as the Rust owners do (examples/browser/
// breast-cancer.mjs: the split, the two owners' summed statistics, the standardization) and
// secret-shares the training rows with the two parties, which run in two worker threads (each
// its own instance of the module) and send their shares of the weights back; the owner alone
// reconstructs them and scores the test rows.
//
// The Rust figures come from the Rust run itself: scripts/test.d/30-wasm.sh runs
// `cargo run --release --example train -- --seed N` and passes its `secure_accuracy` and
// `plaintext_accuracy` in the JSON file named by FIXSHARE_RUST_TRAIN. Without it the test is
// skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker, MessageChannel } from 'node:worker_threads';
import { fx } from './helpers.mjs';
import { parseCsv, prepare, trainPlain, accuracy, TRAINING, SESSION } from '../../../examples/browser/breast-cancer.mjs';

const rustFile = process.env.FIXSHARE_RUST_TRAIN;
const csv = new URL('../../../examples/data/breast_cancer.csv', import.meta.url);

test('logistic regression on breast_cancer in two worker threads matches the Rust run', { skip: !rustFile && 'FIXSHARE_RUST_TRAIN is not set (scripts/test.d/30-wasm.sh sets it)' }, async () => {
  const rust = JSON.parse(readFileSync(rustFile, 'utf8'));
  const { train, test: held } = prepare(parseCsv(readFileSync(csv, 'utf8')));
  assert.equal(train.rows, 456);
  assert.equal(held.rows, 113);

  // The plaintext reference, in JS: the same numbers as the Rust run's plaintext SGD.
  const plain = accuracy(held, trainPlain(train, TRAINING));
  const rows = held.rows;
  const asRows = (a) => Math.round(a * rows);
  assert.equal(plain.accuracy.toFixed(4), rust.plaintext_accuracy, 'the JS preparation and SGD are the Rust ones');

  // The owner, the dealer (this thread) and the two parties (worker threads).
  const peer = new MessageChannel();
  const dealerPorts = [new MessageChannel(), new MessageChannel()];
  const ownerPorts = [new MessageChannel(), new MessageChannel()];
  const served = new fx.Dealer().serve(
    new fx.MessagePortTransport(dealerPorts[0].port1),
    new fx.MessagePortTransport(dealerPorts[1].port1),
  );
  const epochs = [[], []];
  const t0 = Date.now();
  const parties = [0, 1].map((role) => {
    const ports = { peer: role === 0 ? peer.port1 : peer.port2, dealer: dealerPorts[role].port2, owner: ownerPorts[role].port2 };
    const w = new Worker(new URL('./train-worker.mjs', import.meta.url), {
      workerData: { role, rows: train.rows, d: train.d, session: SESSION, training: TRAINING, ...ports },
      transferList: Object.values(ports),
    });
    return new Promise((resolve, reject) => {
      w.on('message', (m) => {
        if (m.epoch) epochs[role].push(m.epoch);
        else if (m.error) reject(new Error(m.error));
        else resolve(m);
      });
      w.once('error', reject);
    }).finally(() => w.terminate());
  });
  const owner = new fx.DataOwner(
    new fx.MessagePortTransport(ownerPorts[0].port1),
    new fx.MessagePortTransport(ownerPorts[1].port1),
    SESSION,
  );
  let weights;
  try {
    await owner.share(train.x);
    await owner.share(train.y);
    weights = await owner.reconstruct(train.d + 1);
  } finally {
    await owner.close();
  }
  const reports = await Promise.all(parties);
  await served;
  const secure = accuracy(held, weights);
  const ms = Date.now() - t0;
  console.log(
    `breast_cancer: secure accuracy ${secure.accuracy.toFixed(4)} (${secure.right}/${rows}) in ${ms} ms; ` +
      `Rust: secure ${rust.secure_accuracy}, plaintext ${rust.plaintext_accuracy}; JS plaintext ${plain.accuracy.toFixed(4)}; ` +
      `party 0 sent ${reports[0].stats.bytesSent} bytes in ${reports[0].stats.rounds} rounds`,
  );
  assert.deepEqual(epochs, [[...Array(TRAINING.epochs).keys()].map((e) => e + 1), [...Array(TRAINING.epochs).keys()].map((e) => e + 1)]);
  assert.equal(secure.accuracy.toFixed(4), rust.secure_accuracy, `secure test accuracy ${secure.right}/${rows} vs the Rust run's ${rust.secure_accuracy} (${asRows(Number(rust.secure_accuracy))}/${rows})`);
});
