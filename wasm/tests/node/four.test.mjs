// PrivPy's four servers from JS: the primaries S1 and S2 (`Party.withAssistants`) and the
// assistants Sa and Sb (`Assistant.serve`) in four Node worker threads (each with its own
// instance of the module), joined by six MessageChannels (four-worker.mjs runs each role).
// - Z_2^128 with 32 fractional bits (the defaults) and Z_2^64 with 16: products and matrix
//   products (PrivPy's Protocol 1: within 4.5 ulp), ReLU with values far out in the ring, the
//   comparison and argmax (exact), then every numerical function against JS Math within its
//   documented bound (numeric-common.mjs); both primaries reveal the same; both assistants
//   served.
// - The precision guard: an ordinary product passes, one whose operands break PrivPy's
//   Theorem 2 bound is stopped at both primaries (code "precisionGuard"), which are poisoned.
// - An assistant that leaves half-way through a ReLU (Sa's connection to S2 cut after half the
//   bytes a ReLU costs it, measured in the same test): both primaries' ReLU rejects with code
//   "closed", one naming an assistant's transport, later calls reject as poisoned; every worker
//   ends.
// - An assistant's worker terminated between two ReLUs: the next ReLU rejects at both
//   primaries (Node closes a terminated worker's ports).
// - Refused settings and arguments, before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, MessageChannel } from 'node:worker_threads';
import { fx, pair } from './helpers.mjs';
import { checkNumerics, checkProducts } from './numeric-common.mjs';

/** Starts S1, S2, Sa and Sb as workers. `data` goes to every worker (see four-worker.mjs),
 * `sa` to Sa only. Resolves `done` to { s1, s2, sa, sb }: the message each worker ended with.
 * `onStep(role, workers)` sees the primaries' { step } messages. */
function fourServers(data, { sa = {}, onStep = () => {} } = {}) {
  const ch = {};
  for (const name of ['peer', 's1sa', 's1sb', 's2sa', 's2sb', 'sasb']) ch[name] = new MessageChannel();
  const ports = {
    s1: { peer: ch.peer.port1, sa: ch.s1sa.port1, sb: ch.s1sb.port1 },
    s2: { peer: ch.peer.port2, sa: ch.s2sa.port1, sb: ch.s2sb.port1 },
    sa: { s1: ch.s1sa.port2, s2: ch.s2sa.port2, other: ch.sasb.port1 },
    sb: { s1: ch.s1sb.port2, s2: ch.s2sb.port2, other: ch.sasb.port2 },
  };
  const roles = { s1: 0, s2: 1, sa: 'Sa', sb: 'Sb' };
  const workers = {};
  const ended = Object.keys(roles).map((name) => {
    const w = new Worker(new URL('./four-worker.mjs', import.meta.url), {
      workerData: { ...data, ...(name === 'sa' ? sa : {}), role: roles[name], ports: ports[name] },
      transferList: Object.values(ports[name]),
    });
    workers[name] = w;
    return new Promise((resolve) => {
      w.on('message', (m) => (m.step ? onStep(name, workers) : resolve([name, m])));
      w.once('error', (e) => resolve([name, { error: `worker error: ${e.message}` }]));
      w.once('exit', (code) => resolve([name, { exited: code }]));
    });
  });
  const done = Promise.all(ended).then(async (all) => {
    await Promise.all(Object.values(workers).map((w) => w.terminate()));
    return Object.fromEntries(all);
  });
  return { workers, done };
}

const BIG = { 128: 2 ** (128 - 32 - 6), 64: 2 ** (64 - 16 - 6) };

for (const [ringBits, fracBits, options] of [[128, 32, undefined], [64, 16, { ringBits: 64, fracBits: 16 }]]) {
  test(`four servers in four worker threads: products, ReLU, comparison, argmax and every numerical function against plaintext (Z_2^${ringBits}, f = ${fracBits})`, async () => {
    const big = BIG[ringBits];
    const { done } = fourServers({ scenario: 'all', options, big });
    const r = await done;
    for (const name of ['s1', 's2']) assert.equal(r[name].error, undefined, `${name}: ${r[name].error}`);
    for (const name of ['sa', 'sb']) {
      assert.equal(r[name].error, undefined, `${name}: ${r[name].error}`);
      assert.ok(r[name].served.bytesSent > 0 && r[name].served.bytesReceived > 0 && r[name].served.rounds > 0, `${name} served`);
    }
    const [a, b] = [r.s1.result, r.s2.result];
    assert.equal(a.ringBits, ringBits);
    const strip = ({ stats, ...rest }) => rest;
    assert.deepEqual(strip(a.products), strip(b.products), 'both primaries reveal the same products');
    assert.deepEqual(a.numerics, b.numerics, 'both primaries reveal the same numerical results');
    const label = `four servers, Z_2^${ringBits}`;
    checkProducts(a.products, fracBits, big, 4.5, label);
    checkNumerics(a.numerics, fracBits, label);
    // No dealer: the primaries' offline traffic is their OT; the products went through the
    // assistants.
    assert.ok(a.products.stats.bytesSent > 0 && a.products.stats.offlineBytesSent > 0);
  });
}

test('four servers: the precision guard stops a product at both primaries', async () => {
  // Four servers form products exactly in double width; their operands must stay below
  // 2^((k - 1 + f) / 2) (PrivPy's Theorem 2): 2^79 in fixed point here, so 2^48 squared is
  // stopped.
  const big = 2 ** ((127 + 32 - 1) / 2 - 32 + 1);
  const { done } = fourServers({ scenario: 'guard', options: { precisionGuard: 40 }, big });
  const r = await done;
  for (const name of ['s1', 's2']) {
    assert.equal(r[name].error, undefined, `${name}: ${r[name].error}`);
    const { ok, err, after } = r[name].result;
    ok.forEach((v, i) => assert.ok(Math.abs(v - [2.25, 4][i]) <= 5 * 2 ** -32, `${name}: product under the guard`));
    assert.ok(err, `${name}: the guard must stop the product`);
    assert.equal(err.code, 'precisionGuard', `${name}: ${err.error}`);
    assert.match(err.error, /^mul: the precision guard stopped the operation: a value came within 40 bits/);
    assert.equal(after.code, 'poisoned');
    assert.match(after.error, /^mul: the session failed earlier and is poisoned \(mul: the precision guard stopped/);
  }
  for (const name of ['sa', 'sb']) assert.equal(r[name].error, undefined, `${name}: ${r[name].error}`);
});

/** Runs `relus` ReLUs on four servers with Sa's connection to S2 cut after `cut` bytes. */
const reluRun = (relus, cut) => fourServers({ scenario: 'relus', relus }, { sa: { cut } }).done;

test('four servers: an assistant that leaves half-way through a ReLU ends both primaries, nothing hangs', async () => {
  const before = await reluRun(0);
  const after = await reluRun(1);
  for (const r of [before, after]) {
    for (const name of ['sa', 'sb']) assert.equal(r[name].error, undefined, `${name}: ${r[name].error}`);
    for (const name of ['s1', 's2']) assert.equal(r[name].result.err, undefined, `${name}: ${JSON.stringify(r[name])}`);
  }
  assert.equal(after.s1.result.done, 1);
  // Sa, the helper of the sign step, sends S2 its shares of the mask's bits and of the compared
  // bit, and a cross term of the product.
  assert.ok(after.sa.sentToS2 > before.sa.sentToS2, 'a ReLU costs Sa bytes to S2');
  const cut = await reluRun(3, Math.floor((before.sa.sentToS2 + after.sa.sentToS2) / 2));
  for (const name of ['s1', 's2']) {
    const { done, err, later } = cut[name].result;
    assert.equal(done, 0, `${name}: the first ReLU must fail`);
    assert.equal(err.code, 'closed', `${name}: ${err.error}`);
    assert.match(err.error, /^relu: the peer closed the connection \((peer|assistant Sa|assistant Sb) transport: .*\)$/);
    assert.equal(later.code, 'poisoned');
    assert.match(later.error, /^exp: the session failed earlier and is poisoned \(relu: the peer closed the connection/);
  }
  // A primary lost an assistant (the other may see its peer leave first).
  assert.ok(/assistant S[ab] transport/.test(cut.s1.result.err.error) || /assistant S[ab] transport/.test(cut.s2.result.err.error));
  // Sa names its own failure.
  assert.match(cut.sa.error, /S2 transport: send rejected: .*assistant Sa left/);
  assert.ok(cut.sb.error || cut.sb.served, 'Sb ended');
});

test("four servers: an assistant's worker terminated between two ReLUs", async () => {
  const t0 = Date.now();
  const { done } = fourServers(
    { scenario: 'relus', relus: 3, pause: true },
    {
      onStep: (() => {
        let steps = 0;
        return (_name, workers) => {
          // Both primaries finished the first ReLU: Sb goes away, then they go on.
          if (++steps === 2) {
            workers.sb.terminate().then(() => {
              workers.s1.postMessage({ go: true });
              workers.s2.postMessage({ go: true });
            });
          }
        };
      })(),
    },
  );
  const r = await done;
  for (const name of ['s1', 's2']) {
    const { done: n, err } = r[name].result;
    assert.equal(n, 1, `${name}: one ReLU before Sb left`);
    assert.equal(err.code, 'closed', `${name}: ${err.error}`);
    // The sign step needs only Sa (the helper), the product one cross term from each assistant:
    // the primary whose term comes from Sa may finish the ReLU and fail in the reveal after it,
    // on its peer.
    assert.match(err.error, /^(relu|open): the peer closed the connection \(/);
  }
  assert.ok([r.s1, r.s2].some((x) => /assistant Sb transport/.test(x.result.err.error)), 'Sb is named');
  assert.ok(Date.now() - t0 < 60_000, 'no wait for a timeout');
});

test('four servers: settings and arguments refused before anything is sent', async () => {
  const silent = () => {
    const [t] = pair();
    return {
      sent: 0,
      send(bytes) {
        this.sent += bytes.length;
        return t.send(bytes);
      },
      recv: (n) => t.recv(n),
      close: () => t.close(),
    };
  };
  const [peer, sa, sb] = [silent(), silent(), silent()];
  const refused = async (p, code, re) => {
    const e = await p.then(() => null, (e) => e);
    assert.ok(e instanceof Error, `expected a rejection matching ${re}`);
    assert.match(e.message, re);
    assert.equal(e.code, code, e.message);
  };
  const w = fx.Party.withAssistants;
  await refused(w(0, peer, sa, sb, { backend: 'fss' }), 'invalidArgument',
    /^Party.withAssistants: four servers compare at their assistants, without keys: option backend must be "auto", "helper" or "gc"$/);
  await refused(w(0, peer, sa, sb, { truncation: 'exact' }), 'invalidArgument',
    /^Party.withAssistants: four servers divide by the scale inside their products: option truncation must be "local"$/);
  await refused(w(0, peer, sa, sb, sb), 'invalidArgument',
    /^Party.withAssistants: options is a transport: four servers take no dealer/);
  await refused(w(2, peer, sa, sb), 'invalidArgument', /role must be 0 or 1, got 2/);
  await refused(w(0, peer, sa, { send: () => {} }), 'invalidArgument', /^Party.withAssistants: the assistant Sb transport must be an object with send/);
  await refused(w(0, peer, sa), 'invalidArgument', /assistant Sb transport must be/);
  await refused(w(0, peer, sa, sb, { precisionGuard: 126 }), 'invalidArgument', /the precision guard's headroom must be below the ring width minus 2/);
  await refused(w(0, peer, sa, sb, { ringBits: 48 }), 'invalidArgument', /the ring width must be 32, 64 or 128 bits/);
  // The other constructors do not make four-server sessions, and the assistants' roles.
  assert.throws(() => new fx.Assistant('Sc'), (e) => e.code === 'invalidArgument' && /^Assistant: role must be "Sa" or "Sb"$/.test(e.message));
  assert.throws(() => new fx.Assistant(2), /role must be "Sa" or "Sb"/);
  assert.equal(new fx.Assistant('Sb').role, 'Sb');
  await refused(new fx.Assistant('Sa').serve(peer, sa, 7), 'invalidArgument', /^Assistant.serve: the other assistant transport must be an object/);
  assert.equal(peer.sent + sa.sent + sb.sent, 0, 'nothing was sent');
  [peer, sa, sb].forEach((t) => t.close());
  // A primary whose peer hung up before the session started.
  const [p, q] = pair();
  const [a1, a2] = pair();
  const [b1, b2] = pair();
  q.close();
  await refused(w(0, p, a1, b1), 'closed', /the peer closed the connection \(peer transport: recv\(\d+\): the connection ended\)$/);
  [p, a1, a2, b1, b2].forEach((t) => t.close());
});
