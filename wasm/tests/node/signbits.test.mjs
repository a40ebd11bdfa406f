// The option signBits (the width the FSS sign tests may assume of their inputs) from JS, with a
// dealer and backend "fss" in Z_2^64 (16 fractional bits): ReLU, DReLU and lessThan on values
// (and differences) inside [-2^31, 2^31), its ends included, equal plaintext exactly with
// signBits 32 as on the whole ring, and the dealer sends fewer bytes for them; widths outside 2
// to ringBits and values that are not integers are refused before anything is sent, naming the
// option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, refused, session } from './helpers.mjs';

const LO = -(2 ** 31);
const HI = 2 ** 31 - 1;
/** Ring elements (x * 2^16) inside [LO, HI]: its ends, 0, +-1 ulp, +-1.0 and values between. */
const X = [LO, HI, 0, 1, -1, 65536, -65536, LO + 1, HI - 1, 123456789, -987654321, 2 ** 30, -(2 ** 30) - 1, 40000, -40001, 7];
/** Pairs for lessThan (party 0's x, party 1's y) whose difference x - y lies in [LO, HI]. */
const LX = [-(2 ** 30), 2 ** 30, 5, 6, 5, LO, HI, LO, 0, 0, -65536, 65536, 123456789, -987654321, 1, 0];
const LY = [2 ** 30, -(2 ** 30) + 1, 5, 5, 6, LO, HI - 1, LO + 1, HI, -HI, 65536, -65536, 123456790, -987654322, 0, 1];
/** The fixed-point value of ring element v (exact in a double). */
const real = (v) => v / 2 ** 16;

/** ReLU, DReLU and lessThan with `options` on both parties; returns the revealed results (as
 * party 0 sees them, after checking both agree) and the bytes the dealer sent. */
async function signTests(options) {
  const s = await session({ options });
  let out, traffic;
  try {
    out = await Promise.all(
      [s.p0, s.p1].map(async (p) => {
        const n = X.length;
        const x = p.role === 0 ? await p.shareInput(X.map(real), n, 1) : await p.receiveInput(n, 1);
        const lx = p.role === 0 ? await p.shareInput(LX.map(real), n, 1) : await p.receiveInput(n, 1);
        const ly = p.role === 1 ? await p.shareInput(LY.map(real), n, 1) : await p.receiveInput(n, 1);
        const open = async (v) => [...(await p.reveal(v))];
        return {
          relu: await open(await p.relu(x)),
          drelu: await open(await p.drelu(x)),
          lt: await open(await p.lessThan(lx, ly)),
        };
      }),
    );
  } finally {
    traffic = await s.close();
  }
  assert.deepEqual(out[0], out[1]);
  return { ...out[0], dealerBytes: traffic.bytesToParty0 + traffic.bytesToParty1 };
}

test('signBits 32: ReLU, DReLU and lessThan on values within 2^31 equal plaintext, from fewer dealer bytes', async () => {
  const narrow = await signTests({ backend: 'fss', signBits: 32 });
  const whole = await signTests({ backend: 'fss' });
  for (const [name, o] of [['signBits 32', narrow], ['the whole ring', whole]]) {
    assert.deepEqual(o.relu, X.map((v) => (v > 0 ? real(v) : 0)), `relu, ${name}`);
    assert.deepEqual(o.drelu, X.map((v) => (v >= 0 ? 1 : 0)), `drelu, ${name}`);
    assert.deepEqual(o.lt, LX.map((v, i) => (v < LY[i] ? 1 : 0)), `lessThan, ${name}`);
  }
  assert.ok(narrow.dealerBytes > 0 && narrow.dealerBytes < whole.dealerBytes,
    `dealer bytes: ${narrow.dealerBytes} with signBits 32, ${whole.dealerBytes} on the whole ring`);
});

test('signBits outside 2 to ringBits, or not an integer, is refused before anything is sent', async () => {
  const t = { send: () => assert.fail('nothing is sent'), recv: () => assert.fail('nothing is received') };
  for (const signBits of [1, 65, 0]) {
    await refused(() => fx.Party.withDealer(0, t, t, { backend: 'fss', signBits }), 'invalidArgument',
      /^Party\.withDealer: .*sign_bits must be 2 to the ring width/);
  }
  for (const signBits of [2 ** 40, 1.5, -3, '32', true, NaN]) {
    await refused(() => fx.Party.withDealer(1, t, t, { signBits }), 'invalidArgument',
      /^Party\.withDealer: option signBits must be an integer from 2 to ringBits \(64\)$/);
  }
  await refused(() => fx.Party.withOt(0, t, { ringBits: 32, fracBits: 8, signBits: 33 }), 'invalidArgument',
    /^Party\.withOt: .*sign_bits must be 2 to the ring width/);
  await refused(() => fx.Party.withHelper(0, t, t, { signBits: 65 }), 'invalidArgument',
    /^Party\.withHelper: .*sign_bits must be 2 to the ring width/);
  await refused(() => fx.Party.withAssistants(0, t, t, t, { signBits: 129 }), 'invalidArgument',
    /^Party\.withAssistants: .*sign_bits must be 2 to the ring width/);
  // Another bad setting beside a good width is reported as itself.
  await refused(() => fx.Party.withDealer(0, t, t, { fracBits: 63, signBits: 32 }), 'invalidArgument',
    /fractional bits/);
});
