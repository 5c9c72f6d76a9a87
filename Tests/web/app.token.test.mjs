// The page opened as /#token=JWT by an embedding app: the token goes to the server in
// ?token=, leaves the address bar, and survives in sessionStorage for reloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemStorage, pageDocument } from './fake-dom.mjs';

const doc = pageDocument();
const sockets = [];
class FakeWS {
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
  send(d) { this.sent.push(JSON.parse(d)); }
  close(code) { this.readyState = 3; this.onclose?.({ code, reason: '' }); }
  recv(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code, reason: '' }); }
}
const listeners = {};
const replaced = [];
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const far = Math.floor(Date.now() / 1000) + 3600;
const token = `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'acct-1', exp: far })}.sig`;
const location = {
  protocol: 'https:', host: 'chat.example.com', pathname: '/', search: '', hash: `#token=${token}`,
  get href() { return `${this.protocol}//${this.host}${this.pathname}${this.search}${this.hash}`; },
};

Object.assign(globalThis, {
  document: doc,
  window: { addEventListener(type, f) { listeners[type] = f; }, matchMedia: () => ({ matches: false }) },
  location,
  history: { state: null, replaceState(state, title, url) { replaced.push(url); location.hash = ''; } },
  sessionStorage: new MemStorage(),
  localStorage: new MemStorage(),
  WebSocket: FakeWS,
  requestAnimationFrame: (f) => setTimeout(f, 0),
});

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('a token in the fragment signs the page in', async () => {
  await import('../../web/app.js');
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].url, `wss://chat.example.com/ws?token=${token}`);
  assert.deepEqual(replaced, ['/']);
  assert.equal(sessionStorage.getItem('confab.jwt'), token);

  // a reconnect resumes and still shows the token
  sockets[0].recv({ type: 'welcome', user: { id: 'acct-1', name: 'Alice' }, room: 'lobby', rooms: ['lobby'], token: 'r1', resumed: false });
  sockets[0].drop();
  await tick(1200);
  assert.equal(sockets.length, 2);
  assert.equal(sockets[1].url, `wss://chat.example.com/ws?resume=r1&name=Alice&token=${token}`);

  // the embedding app hands over a new token: the next connection uses it
  const renewed = `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'acct-1', exp: far + 60 })}.sig2`;
  location.hash = `#token=${renewed}`;
  listeners.hashchange();
  assert.equal(sessionStorage.getItem('confab.jwt'), renewed);
  sockets[1].recv({ type: 'welcome', user: { id: 'acct-1', name: 'Alice' }, room: 'lobby', rooms: ['lobby'], token: 'r2', resumed: true });
  sockets[1].drop();
  await tick(1200);
  assert.equal(sockets.length, 3);
  assert.ok(sockets[2].url.endsWith(`&token=${renewed}`), sockets[2].url);
});

test('an expired token stops the page instead of retrying for ever', async () => {
  const expired = `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'acct-1', exp: 1000 })}.sig`;
  location.hash = `#token=${expired}`;
  listeners.hashchange();
  sockets.at(-1).recv({ type: 'welcome', user: { id: 'acct-1', name: 'Alice' }, room: 'lobby', rooms: ['lobby'], token: 'r3', resumed: true });
  sockets.at(-1).drop();
  await tick(1200);
  const before = sockets.length;
  await tick(1200);
  assert.equal(sockets.length, before);
  assert.equal(doc.getElementById('status').dataset.status, 'offline');
  assert.match(doc.getElementById('error').textContent, /sign-in has expired/);
});
