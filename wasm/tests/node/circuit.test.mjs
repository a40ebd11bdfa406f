// Bristol Fashion circuits run between the two parties (party 0 garbles, party 1 evaluates),
// checked against FIPS-197 and against the plaintext evaluator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fx, session } from './helpers.mjs';

const circuits = new URL('../../../core/circuits/', import.meta.url);
const load = (name) => fx.Circuit.parse(readFileSync(new URL(name, circuits), 'utf8'));

/** A big-endian hex integer as `width` bits, least significant first. */
function hexToBits(hex, width) {
  let v = BigInt('0x' + hex);
  const bits = new Uint8Array(width);
  for (let i = 0; i < width; i++, v >>= 1n) bits[i] = Number(v & 1n);
  return bits;
}
/** Bits, least significant first, as zero-padded big-endian hex. */
function bitsToHex(bits) {
  let v = 0n;
  for (let i = bits.length - 1; i >= 0; i--) v = (v << 1n) | BigInt(bits[i]);
  return v.toString(16).padStart(Math.ceil(bits.length / 4), '0');
}

for (const source of ['dealer', 'ot']) {
  test(`AES-128 (FIPS-197 C.1) garbled between the parties (${source})`, async () => {
    const aes = load('aes_128.txt');
    assert.deepEqual([...aes.inputWidths], [128, 128]);
    const key = hexToBits('000102030405060708090a0b0c0d0e0f', 128);
    const pt = hexToBits('00112233445566778899aabbccddeeff', 128);
    const s = await session({ source });
    const [g, e] = await Promise.all([
      s.p0.runCircuit(aes, [0, 1], key, 'both'),
      s.p1.runCircuit(aes, [0, 1], pt, 'both'),
    ]);
    assert.equal(bitsToHex(g), '69c4e0d86a7b0430d8cdb78070b4c55a');
    assert.deepEqual(g, e);
    assert.deepEqual(g, aes.eval(new Uint8Array([...key, ...pt])));
    await s.close();
  });
}

test('64-bit adder and multiplier with outputs shared, then to one party', async () => {
  const add = load('adder64.txt');
  const mul = load('mult64.txt');
  const s = await session();
  const a = 0xfedcba9876543210n;
  const b = 0x0123456789abcdefn;
  const bits = (v) => hexToBits(v.toString(16), 64);
  const [sum0, sum1] = await Promise.all([
    s.p0.runCircuit(add, [0, 1], bits(a), 'shared'),
    s.p1.runCircuit(add, [0, 1], bits(b), 'shared'),
  ]);
  const sum = sum0.map((x, i) => x ^ sum1[i]);
  assert.equal(BigInt('0x' + bitsToHex(sum)), (a + b) & 0xffffffffffffffffn);
  const [p0, p1] = await Promise.all([
    s.p0.runCircuit(mul, [0, 1], bits(a), 'evaluator'),
    s.p1.runCircuit(mul, [0, 1], bits(b), 'evaluator'),
  ]);
  assert.equal(p0.length, 0, 'the garbler learns nothing');
  assert.equal(BigInt('0x' + bitsToHex(p1)), (a * b) & 0xffffffffffffffffn);
  // Arithmetic on the same session afterwards: the circuit frames did not disturb it.
  const [x0, x1] = await Promise.all([s.p0.shareInput([1.5, 2], 2, 1), s.p1.receiveInput(2, 1)]);
  const [y0, y1] = await Promise.all([s.p0.receiveInput(2, 1), s.p1.shareInput([4, -0.25], 2, 1)]);
  const z = await Promise.all([s.p0.mul(x0, y0), s.p1.mul(x1, y1)]);
  const [r0] = await Promise.all([s.p0.reveal(z[0]), s.p1.reveal(z[1])]);
  assert.deepEqual([...r0], [6, -0.5]);
  await s.close();
});

test('malformed circuits and inputs are rejected with the reason', async () => {
  assert.throws(() => fx.Circuit.parse('1 3\n2 1 1\n1 1\n\n2 1 0 9 2 XOR\n'), /bad circuit at line 5/);
  assert.throws(() => fx.Circuit.parse('not a circuit'), /bad circuit at line 1/);
  const add = load('adder64.txt');
  assert.throws(() => add.eval(new Uint8Array(3)), /dimension|expected 128/);
  const s = await session();
  await assert.rejects(s.p0.runCircuit(add, [0, 1], new Uint8Array(64), 'everyone'), /reveal must be/);
  await assert.rejects(s.p0.runCircuit(add, [0, 2], new Uint8Array(64), 'both'), /owners\[1\] is 2/);
  await assert.rejects(s.p0.runCircuit(add, [0, 1], new Uint8Array(64).fill(7), 'both'), /inputs\[0\] is 7/);
  await s.close();
});
