// A party in a Node worker thread (used by workers.test.mjs): ports to the peer and the dealer
// arrive in workerData; the results go back to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { fx } from './helpers.mjs';

const { role, peer, dealer, x, y, k } = workerData;
let party;
try {
  party = await fx.Party.withDealer(role, new fx.MessagePortTransport(peer), new fx.MessagePortTransport(dealer));
  const n = x.length;
  const xs = role === 0 ? await party.shareInput(x, n / k, k) : await party.receiveInput(n / k, k);
  const ys = role === 1 ? await party.shareInput(y, k, n / k) : await party.receiveInput(k, n / k);
  const prod = await party.matmul(xs, ys);
  const relu = await party.relu(prod);
  const sq = await party.mul(xs, xs);
  parentPort.postMessage({
    prod: await party.reveal(prod),
    relu: await party.reveal(relu),
    sq: await party.reveal(sq),
  });
} catch (e) {
  parentPort.postMessage({ error: e.message });
} finally {
  await party?.close();
}
