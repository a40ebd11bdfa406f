// A computing party in a Web Worker. The page sends it its role and three MessagePorts: to the
// other party, to the data owner (the page), and to the dealer (the page) or, for oblivious
// transfer, a second port to the other party.
import init, { MessagePortTransport, OwnerLink, Party } from './pkg/fixshare_wasm.js';

self.onmessage = async ({ data }) => {
  const { role, n, source, peer, owner, offline } = data;
  let party;
  let link;
  try {
    await init();
    link = new OwnerLink(new MessagePortTransport(owner));
    const toPeer = new MessagePortTransport(peer);
    const toOffline = new MessagePortTransport(offline);
    party = source === 'ot'
      ? await Party.withOt(role, toPeer, toOffline)
      : await Party.withDealer(role, toPeer, toOffline);
    // The data owner shares x, then y; this party receives its share of each.
    const x = await party.receiveOwnerInput(link, n, 1);
    const y = await party.receiveOwnerInput(link, n, 1);
    const dot = await party.dot(x, y);
    const relu = await party.relu(x);
    // Only the data owner learns the results: each party sends it its shares.
    await party.sendOwnerOutput(link, dot);
    await party.sendOwnerOutput(link, relu);
    self.postMessage({ ok: true, stats: party.stats() });
  } catch (e) {
    self.postMessage({ error: e instanceof Error ? e.message : String(e) });
  } finally {
    await party?.close();
    await link?.close();
  }
};
