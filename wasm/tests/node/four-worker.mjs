// One server of a four-server session (PrivPy) in a Node worker thread, for four.test.mjs: a
// primary (`role` 0 = S1 or 1 = S2, `Party.withAssistants`) running `scenario`, or an assistant
// (`role` "Sa" or "Sb", `Assistant.serve`). Its MessagePorts arrive in workerData; what it
// computed (or its error, with the error's code) goes back to the main thread.
//
// workerData: { role, ports, scenario, options, timeoutMs, cut, relus, big }
// - ports: { peer, sa, sb } for a primary, { s1, s2, other } for an assistant;
// - cut (assistant Sa only): Sa's connection to S2 ends once Sa has sent this many bytes to S2
//   (the bytes it sent are reported either way);
// - scenario "all": products and comparisons, then every numerical function;
//   "guard": an ordinary product, then one the precision guard must stop;
//   "relus": `relus` ReLUs of 64 values, posting { step } after the first one and waiting for a
//   { go } before the next when `pause` is set.
import { parentPort, workerData } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { fx } from './helpers.mjs';
import { runNumerics, runProducts } from './numeric-common.mjs';

const { role, ports, scenario, options, timeoutMs, cut, relus, pause, big } = workerData;
const transport = (port) => new fx.MessagePortTransport(port, timeoutMs ? { timeoutMs } : undefined);
const post = (m) => parentPort.postMessage(m);
const failure = (e) => ({ error: e.message, code: e.code });

/** A transport that ends its connection once it has sent `budget` bytes. */
function cutting(t, budget, counter) {
  return {
    async send(bytes) {
      counter.sent += bytes.length;
      if (budget !== undefined && counter.sent > budget) {
        t.close();
        throw new Error('assistant Sa left');
      }
      return t.send(bytes);
    },
    recv: (n) => t.recv(n),
    close: () => t.close(),
  };
}

/** The values of the ReLU scenario (as the C test's). */
const reluX = Array.from({ length: 64 }, (_, i) => (i % 7) - 3.5 + i / 64);

async function primary() {
  let party;
  try {
    party = await fx.Party.withAssistants(role, transport(ports.peer), transport(ports.sa), transport(ports.sb), options);
    const f = party.ringBits === 128 ? 32 : 16;
    if (scenario === 'all') {
      const products = await runProducts(party, big);
      const numerics = await runNumerics(party, options?.fracBits ?? f);
      post({ result: { products, numerics, ringBits: party.ringBits } });
    } else if (scenario === 'guard') {
      const own = (values, owner) =>
        party.role === owner ? party.shareInput(values, values.length, 1) : party.receiveInput(values.length, 1);
      const a = await own([1.5, -2], 0);
      const b = await own([big, 1], 1);
      const ok = [...(await party.reveal(await party.mul(a, a)))];
      const err = await party.mul(b, b).then(() => null, failure);
      // Poisoned afterwards, naming the guard.
      const after = await party.mul(a, a).then(() => null, failure);
      post({ result: { ok, err, after } });
    } else if (scenario === 'relus') {
      const x = party.role === 0 ? await party.shareInput(reluX, 64, 1) : await party.receiveInput(64, 1);
      let done = 0;
      try {
        for (; done < relus; done++) {
          const r = [...(await party.reveal(await party.relu(x)))];
          assert.deepEqual(r, reluX.map((v) => Math.max(v, 0)));
          if (done === 0 && pause) {
            const go = new Promise((resolve) => parentPort.once('message', resolve));
            post({ step: true });
            await go;
          }
        }
        post({ result: { done } });
      } catch (e) {
        // The first failure, then the session is poisoned; closing it ends the peer's wait.
        const later = await party.exp(x).then(() => null, failure);
        post({ result: { done, err: failure(e), later } });
      }
    } else {
      throw new Error(`unknown scenario ${scenario}`);
    }
  } catch (e) {
    post(failure(e));
  } finally {
    await party?.close();
  }
}

async function assistant() {
  const counter = { sent: 0 };
  const held = [transport(ports.s1), transport(ports.s2), transport(ports.other)];
  const toS2 = role === 'Sa' ? cutting(held[1], cut, counter) : held[1];
  try {
    const served = await new fx.Assistant(role).serve(held[0], toS2, held[2]);
    post({ served, sentToS2: counter.sent });
  } catch (e) {
    // An assistant that stopped leaves: every connection of it ends.
    held.forEach((t) => t.close());
    post({ ...failure(e), sentToS2: counter.sent });
  }
}

await (role === 'Sa' || role === 'Sb' ? assistant() : primary());
