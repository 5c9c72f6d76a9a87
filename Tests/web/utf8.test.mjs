import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8Length, counterState } from '../../web/utf8.js';

test('utf8Length matches Buffer.byteLength', () => {
  const samples = ['', 'a', 'hello', 'é', 'ß€', '日本語', '😀', 'a😀b', '👩‍👩‍👧', '\u07ff\u0800', '\uffff', 'x'.repeat(1000)];
  for (const s of samples) assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
});

test('lone surrogates count as U+FFFD (3 bytes) like TextEncoder', () => {
  for (const s of ['\ud800', '\udc00', 'a\ud83d', '\ud83db']) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
});

test('utf8Length of non-strings', () => {
  assert.equal(utf8Length(null), 0);
  assert.equal(utf8Length(undefined), 0);
  assert.equal(utf8Length(12), 2);
});

test('counter appears near the limit and turns over past it', () => {
  assert.equal(counterState('abc', 100).visible, false);
  const near = counterState('x'.repeat(80), 100);
  assert.equal(near.visible, true);
  assert.equal(near.over, false);
  assert.equal(near.label, '80 / 100 bytes');
  const multi = counterState('€'.repeat(34), 100); // 102 bytes, 34 chars
  assert.equal(multi.bytes, 102);
  assert.equal(multi.over, true);
  assert.equal(multi.remaining, -2);
  assert.equal(counterState('x'.repeat(100), 100).over, false);
});

test('no limit known: no counter', () => {
  const c = counterState('x'.repeat(10000), undefined);
  assert.equal(c.visible, false);
  assert.equal(c.over, false);
});
