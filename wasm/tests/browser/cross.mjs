// One training job across Rust, C and the browser (issue 17, item 4), every connection TLS 1.3
// with pinned keys on 127.0.0.1:
// - the dealer and server 0 are `fixshare-party run` processes (Rust);
// - server 1 is a C program hosting the role through the C ABI (`test_hosts server1`, which calls
//   fxs_daemon_config_load and fxs_daemon_run);
// - owner 0 is `fixshare-party owner` (it gets the model and checks it);
// - owner 1 is a page in headless Chromium (the WASM package's `JobOwner` over wss://, a
//   WebCrypto key);
// - owner 2 is a C program (`test_hosts owner`: fxs_owner_data_prepare, fxs_tls_connect,
//   fxs_daemon_config_connect, fxs_data_owner_share_part);
// - owner 3 is the Cortex-M4 device: its firmware ran under QEMU before this script (60-cross.sh)
//   and printed its part sealed for each server under the key it shares with that server;
//   `fixshare-party gateway`, with a key of its own, relays the two messages, which it cannot
//   read, and each server opens its own.
// The job is logistic regression on breast_cancer.csv, its training rows split between the four
// owners. Checked: every process ends well; the model owner 0 gets matches the plaintext SGD on
// all four owners' rows (weights_rel_rmse < 1e-2, accuracy within a point and above 90%); both
// servers, the C-hosted one included, trained on all 456 rows of 4 owners; the server logs show
// each owner's kind of connection.
// Needs FIXSHARE_PARTY_BIN, FIXSHARE_NET_BIN, FIXSHARE_C_HOSTS_BIN (the test_hosts binary of
// tests/c/test_hosts.c) and FIXSHARE_CROSS_DEVICE (a directory with the device's keys
// device3.server0.key and device3.server1.key, the gateway's key gateway.crt and gateway.key,
// and the device's output sealed.txt); scripts/test.d/60-cross.sh sets them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Processes, launchChromium, openPage, ownerPage, port, root, servePage } from './harness.mjs';

const PARTY = process.env.FIXSHARE_PARTY_BIN;
const KEYGEN = process.env.FIXSHARE_NET_BIN;
const C_HOSTS = process.env.FIXSHARE_C_HOSTS_BIN;
const DEVICE = process.env.FIXSHARE_CROSS_DEVICE;
assert.ok(PARTY && KEYGEN && C_HOSTS && DEVICE,
  'set FIXSHARE_PARTY_BIN, FIXSHARE_NET_BIN, FIXSHARE_C_HOSTS_BIN and FIXSHARE_CROSS_DEVICE '
  + '(scripts/test.d/60-cross.sh does)');
const CSV = path.join(root, 'examples/data/breast_cancer.csv');
const OWNERS = 4;

const procs = new Processes();
const dir = await mkdtemp(path.join(os.tmpdir(), 'fixshare-cross-'));
const keys = path.join(dir, 'keys');
for (const name of ['server0', 'server1', 'dealer', 'owner0', 'owner2']) {
  execFileSync(KEYGEN, ['keygen', '--name', name, '--out', keys], { stdio: 'ignore' });
}
// The device's keys were made when its firmware was built: the servers get one each, the
// gateway neither.
for (const file of ['device3.server0.key', 'device3.server1.key', 'gateway.crt', 'gateway.key']) {
  await copyFile(path.join(DEVICE, file), path.join(keys, file));
}
const pinOf = (name) => execFileSync(KEYGEN, ['pin', path.join(keys, `${name}.crt`)]).toString().trim();
const [aDealer, a0, a1, w0, w1] = await Promise.all([port(), port(), port(), port(), port()]);

const server = await servePage(ownerPage(), CSV);
const browser = await launchChromium([path.join(keys, 'server0.crt'), path.join(keys, 'server1.crt')]);
try {
  const { page, errors } = await openPage(browser, server);
  const browserPin = await page.evaluate(() => window.makeKey());

  // The files: the same [job] everywhere (the device's firmware was built for it too); owner 1's
  // key is the page's; owner 3 is the device behind its gateway.
  const session = 'session = "cross-language-test"\n[keys]\ndir = "keys"\n';
  const timeouts = '[timeouts]\nconnect_seconds = 60\nwait_seconds = 180\nread_seconds = 180\n';
  const job = `[job]\nkind = "train_glm"\nmodel = "logistic"\nsigmoid = "piecewise"\nowners = ${OWNERS}\n`
    + 'epochs = 3\nbatch = 32\nlearning_rate = 0.1\n';
  const owners = `[owners]\npins = ["${pinOf('owner0')}", "${browserPin}", "${pinOf('owner2')}"]\n`;
  const dealerPeer = `[peers.dealer]\naddress = "127.0.0.1:${aDealer}"\n`;
  const servers = `[peers.server0]\naddress = "127.0.0.1:${a0}"\n[peers.server1]\naddress = "127.0.0.1:${a1}"\n`;
  const file = (name) => path.join(dir, `${name}.toml`);
  await writeFile(file('dealer'), `role = "dealer"\nlisten = "127.0.0.1:${aDealer}"\n${session}${timeouts}`);
  const device = (s) => `[[devices]]\nindex = 3\ngateway_certificate = "keys/gateway.crt"\nkey = "keys/device3.server${s}.key"\n`;
  await writeFile(file('server0'),
    `role = "server0"\nlisten = "127.0.0.1:${a0}"\nlisten_websocket = "127.0.0.1:${w0}"\n${session}${dealerPeer}${owners}${timeouts}${job}${device(0)}`);
  await writeFile(file('server1'),
    `role = "server1"\nlisten = "127.0.0.1:${a1}"\nlisten_websocket = "127.0.0.1:${w1}"\n${session}[peers.server0]\naddress = "127.0.0.1:${a0}"\n${dealerPeer}${owners}${timeouts}${job}${device(1)}`);
  await writeFile(file('gateway'), `role = "gateway"\nindex = 3\n${session}${servers}${timeouts}${job}`);
  await writeFile(file('owner0'), `role = "owner"\nindex = 0\n${session}${servers}${timeouts}[results]\nmodel = "model.toml"\n${job}`);
  await writeFile(file('owner2'), `role = "owner"\nindex = 2\n${session}${servers}${timeouts}${job}`);
  const pageConfig = `session = "cross-language-test"\nindex = 1\n`
    + `[peers.server0]\naddress = "wss://127.0.0.1:${w0}"\npin = "${pinOf('server0')}"\n`
    + `[peers.server1]\naddress = "wss://127.0.0.1:${w1}"\npin = "${pinOf('server1')}"\n${job}`;

  const t0 = Date.now();
  const dealer = procs.start('dealer', PARTY, ['run', '--config', file('dealer')]);
  const s0 = procs.start('server0', PARTY, ['run', '--config', file('server0')]);
  const s1 = procs.start('server1 (C)', C_HOSTS, ['server1', file('server1')]);
  const o0 = procs.start('owner0', PARTY, ['owner', '--config', file('owner0'), '--data', CSV]);
  const o2 = procs.start('owner2 (C)', C_HOSTS, ['owner', file('owner2'), CSV, `127.0.0.1:${a0}`, keys, 'owner2']);
  const gateway = procs.start('gateway', PARTY, ['gateway', '--config', file('gateway'), '--sealed', path.join(DEVICE, 'sealed.txt')]);
  await procs.waitForLog(s0, 'for data owners over WebSocket');
  await procs.waitForLog(s1, 'for data owners over WebSocket');
  const shared = await page.evaluate((c) => window.submit(c, false), pageConfig);
  assert.equal(shared.error, undefined, `the page's submit: ${shared.error}`);
  assert.equal(shared.summary.status, 'ok');

  const owner0 = await procs.finish(o0);
  const owner2 = await procs.finish(o2);
  await procs.finish(gateway);
  const server0 = await procs.finish(s0);
  const server1 = await procs.finish(s1);
  await procs.finish(dealer);
  const seconds = (Date.now() - t0) / 1000;

  const secure = Number(owner0('secure_accuracy'));
  const plain = Number(owner0('plaintext_accuracy'));
  const rel = Number(owner0('weights_rel_rmse'));
  assert.ok(rel < 1e-2, `weights_rel_rmse ${rel}`);
  assert.ok(Math.abs(secure - plain) <= 0.01, `${secure} vs ${plain}`);
  assert.ok(secure > 0.9, `secure_accuracy ${secure}`);
  // The device's rows: what the servers took beyond the other three owners'.
  const rows = [owner0('rows_shared'), shared.summary.rows_shared, owner2('rows_shared')].map(Number);
  const deviceRows = 456 - rows.reduce((a, b) => a + b);
  assert.ok(deviceRows > 0 && deviceRows < 456 / 2, `rows shared: ${rows}`);
  assert.equal(owner2('fxs_status'), 'FXS_STATUS_OK');
  const model = (await readFile(path.join(dir, 'model.toml'))).toString();
  assert.equal(model.match(/^weights = \[(.*)\]$/m)?.[1].split(',').length, 31, model);
  assert.equal(server1('role'), 'server1');
  assert.equal(server1('fxs_status'), 'FXS_STATUS_OK');
  for (const [name, s, d] of [['server0', server0, s0], ['server1', server1, s1]]) {
    assert.equal(s('rows'), '456', name);
    assert.equal(s('owners'), String(OWNERS), name);
    assert.match(d.err, /owner 1: WebSocket over TLS13_/, name);
    assert.match(d.err, /owner 2: TLS13_/, name);
    assert.match(d.err, /owner 3: a sealed message of .* relayed by the gateway/, name);
  }
  assert.match(s1.err, /Z server1: epoch 3\/3/);
  assert.deepEqual(errors, [], 'no errors on the page');
  console.log(`one job across Rust (dealer, server 0, owner 0), C (server 1, owner 2), a page in `
    + `headless Chromium (owner 1) and a Cortex-M4 under QEMU through a gateway (owner 3), over TLS: `
    + `rows ${rows.join(' + ')} + ${deviceRows}; secure_accuracy ${secure}, `
    + `plaintext_accuracy ${plain}, weights_rel_rmse ${rel} (${seconds.toFixed(1)} s)`);
} finally {
  procs.killAll();
  await browser.close();
  server.close();
  await rm(dir, { recursive: true, force: true });
}
