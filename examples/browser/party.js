// A computing party in a Web Worker. The page sends it its role and MessagePorts: to the other
// party, to the data owner (the page), and, with a dealer, to the dealer (the page). With
// oblivious transfer the offline phase runs over the port to the other party.
import init, { MessagePortTransport, OwnerLink, Party } from './pkg/fixshare_wasm.js';

self.onmessage = async ({ data }) => {
  const { role, n, source, peer, owner, dealer } = data;
  let party;
  let link;
  try {
    await init();
    link = new OwnerLink(new MessagePortTransport(owner));
    const toPeer = new MessagePortTransport(peer);
    party = source === 'ot'
      ? await Party.withOt(role, toPeer)
      : await Party.withDealer(role, toPeer, new MessagePortTransport(dealer));
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
