// A server in a Node worker thread (used by breast-cancer.test.mjs): receives its shares of the
// training rows from the data owner, trains with the peer, sends its shares of the weights to
// the owner. Progress and the result go back to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { fx } from './helpers.mjs';

const { role, rows, d, session, training, peer, dealer, owner } = workerData;
let party;
let link;
try {
  link = new fx.OwnerLink(new fx.MessagePortTransport(owner));
  party = await fx.Party.withDealer(role, new fx.MessagePortTransport(peer), new fx.MessagePortTransport(dealer), session);
  const x = await party.receiveOwnerInput(link, rows, d);
  const y = await party.receiveOwnerInput(link, rows, 1);
  const w = await party.trainGlm(x, y, training, (epoch) => parentPort.postMessage({ epoch }));
  await party.sendOwnerOutput(link, w);
  parentPort.postMessage({ stats: party.stats() });
} catch (e) {
  parentPort.postMessage({ error: e.message });
} finally {
  await party?.close();
  await link?.close();
}
