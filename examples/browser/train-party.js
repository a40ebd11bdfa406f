// A server of the training example in a Web Worker. The page sends it its role, the sizes, the
// settings and MessagePorts: to the other server, to the data owner (the page) and to the
// dealer (the page).
import init, { MessagePortTransport, OwnerLink, Party } from './pkg/fixshare_wasm.js';

self.onmessage = async ({ data }) => {
  const { role, rows, d, session, training, peer, owner, dealer } = data;
  let party;
  let link;
  try {
    await init();
    link = new OwnerLink(new MessagePortTransport(owner));
    party = await Party.withDealer(role, new MessagePortTransport(peer), new MessagePortTransport(dealer), session);
    // The data owner shares the features, then the labels; this server receives its shares.
    const x = await party.receiveOwnerInput(link, rows, d);
    const y = await party.receiveOwnerInput(link, rows, 1);
    const w = await party.trainGlm(x, y, training, (epoch) => self.postMessage({ role, epoch }));
    // Only the data owner learns the model: each server sends it its shares.
    await party.sendOwnerOutput(link, w);
    self.postMessage({ ok: true, stats: party.stats() });
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) });
  } finally {
    await party?.close();
    await link?.close();
  }
};
