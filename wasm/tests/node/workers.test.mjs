// The two parties in two Node worker threads (each with its own instance of the module), the
// dealer on the main thread, all joined by MessageChannels: a matrix product, its ReLU and
// squares, against plaintext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, MessageChannel } from 'node:worker_threads';
import { fx, numbers, mulRef, ulps, matmulRef } from './helpers.mjs';

test('parties in two worker threads', async () => {
  const k = 5;
  const x = numbers(30, 10, 21); // 6 x 5, party 0's
  const y = numbers(30, 10, 22); // 5 x 6, party 1's
  const peer = new MessageChannel();
  const d = [new MessageChannel(), new MessageChannel()];
  const served = new fx.Dealer().serve(new fx.MessagePortTransport(d[0].port1), new fx.MessagePortTransport(d[1].port1));
  const results = [0, 1].map((role) => {
    const ports = { peer: role === 0 ? peer.port1 : peer.port2, dealer: d[role].port2 };
    const w = new Worker(new URL('./party-worker.mjs', import.meta.url), {
      workerData: { role, x, y, k, ...ports },
      transferList: Object.values(ports),
    });
    return new Promise((resolve, reject) => {
      w.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
      w.once('error', reject);
    }).finally(() => w.terminate());
  });
  const [r0, r1] = await Promise.all(results);
  await served;
  assert.deepEqual(r0, r1);
  const pref = matmulRef(x, y, 6, k, 6);
  pref.forEach((e, i) => {
    assert.ok(ulps(r0.prod[i], e) <= 1, `product at ${i}`);
    assert.equal(r0.relu[i], Math.max(r0.prod[i], 0), `ReLU at ${i}`);
  });
  x.forEach((v, i) => assert.ok(ulps(r0.sq[i], mulRef(v, v)) <= 1, `square at ${i}`));
});
