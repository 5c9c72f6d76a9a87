import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputHistory } from '../../web/input-history.js';

test('↑ in an empty input recalls the last sent message, then older ones', () => {
  const h = new InputHistory();
  assert.equal(h.up(''), null);
  h.push('one');
  h.push('two');
  assert.equal(h.up('typing'), null, 'not when the input has text');
  assert.equal(h.up(''), 'two');
  assert.equal(h.up('two'), 'one');
  assert.equal(h.up('one'), 'one');
  assert.equal(h.down('one'), 'two');
  assert.equal(h.down('two'), '');
  assert.equal(h.down(''), null);
});

test('editing a recalled entry stops browsing', () => {
  const h = new InputHistory();
  h.push('one');
  assert.equal(h.up(''), 'one');
  assert.equal(h.up('one!'), null);
});

test('duplicates in a row are stored once; limit kept', () => {
  const h = new InputHistory(3);
  for (const t of ['a', 'a', 'b', 'c', 'd']) h.push(t);
  assert.deepEqual(h.entries, ['b', 'c', 'd']);
});
