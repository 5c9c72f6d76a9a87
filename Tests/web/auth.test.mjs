import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenFromFragment, tokenExpiry, tokenExpired } from '../../web/auth.js';

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const jwt = (claims) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.c2ln`;

test('the token comes out of the fragment, the rest stays', () => {
  assert.deepEqual(tokenFromFragment('#token=a.b.c'), { token: 'a.b.c', rest: '' });
  assert.deepEqual(tokenFromFragment('#room=dev&token=a.b.c'), { token: 'a.b.c', rest: '#room=dev' });
  assert.deepEqual(tokenFromFragment('#token=a.b.c&x=1&y'), { token: 'a.b.c', rest: '#x=1&y' });
  assert.deepEqual(tokenFromFragment('#token=a%2Eb.c'), { token: 'a.b.c', rest: '' });
  assert.deepEqual(tokenFromFragment('#token=%E0%A4%A'), { token: '%E0%A4%A', rest: '' });
});

test('no token: nothing taken, the fragment untouched', () => {
  assert.deepEqual(tokenFromFragment(''), { token: null, rest: '' });
  assert.deepEqual(tokenFromFragment(undefined), { token: null, rest: '' });
  assert.deepEqual(tokenFromFragment('#section'), { token: null, rest: '#section' });
  assert.deepEqual(tokenFromFragment('#mytoken=x'), { token: null, rest: '#mytoken=x' });
  // an empty token is removed from the address bar but is no token
  assert.deepEqual(tokenFromFragment('#token='), { token: null, rest: '' });
});

test('expiry is read from the payload without trusting it for more', () => {
  assert.equal(tokenExpiry(jwt({ sub: 'a', exp: 1700000000 })), 1700000000000);
  assert.equal(tokenExpiry(jwt({ sub: 'a' })), null);
  assert.equal(tokenExpiry(jwt({ sub: 'a', exp: '1700000000' })), null);
  assert.equal(tokenExpiry('not a token'), null);
  assert.equal(tokenExpiry('a.%%%.c'), null);
  assert.equal(tokenExpiry(null), null);
  // base64url characters and missing padding
  const name = '\u00ff\u00fe>>??';
  assert.equal(tokenExpiry(jwt({ sub: 'a', name, exp: 5 })), 5000);
  assert.equal(tokenExpired(jwt({ exp: 10 }), 10000), true);
  assert.equal(tokenExpired(jwt({ exp: 10 }), 9999), false);
  assert.equal(tokenExpired('garbage', Date.now()), false);
});
