// Drives web/app.js against a fake DOM built from web/index.html and a fake
// WebSocket: catches wiring mistakes without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { documentFromHtml } from './fake-dom.mjs';

const html = readFileSync(new URL('../../web/index.html', import.meta.url), 'utf8');
const doc = documentFromHtml(html);

class MemStorage {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}
const sockets = [];
class FakeWS {
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; this.closed = null; sockets.push(this); }
  send(d) { this.sent.push(JSON.parse(d)); }
  close(code) { this.closed = code; this.readyState = 3; }
  open() { this.readyState = 1; }
  recv(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code, reason: '' }); }
}

Object.assign(globalThis, {
  document: doc,
  window: { addEventListener() {}, matchMedia: () => ({ matches: false }) },
  location: { protocol: 'http:', host: '127.0.0.1:8080' },
  sessionStorage: new MemStorage(),
  localStorage: new MemStorage(),
  WebSocket: FakeWS,
  requestAnimationFrame: (f) => setTimeout(f, 0),
});

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const $ = (id) => doc.getElementById(id);
const me = { id: 'me', name: 'quiet-otter-42' };
const al = { id: 'a', name: 'Alice' };
const ts = '2026-11-22T10:30:00.000Z';
const m = (room, seq, from, text, extra = {}) => ({ type: 'message', room, seq, ts, from, text, ...extra });
const seqsShown = () => $('messages').querySelectorAll('.msg').filter((x) => x.dataset.seq).map((x) => Number(x.dataset.seq));
const lastSent = () => sockets.at(-1).sent.at(-1);

test('the page end to end against a fake server', async () => {
  await import('../../web/app.js');
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].url, 'ws://127.0.0.1:8080/ws');
  assert.equal($('status').dataset.status, 'connecting');

  // --- connect
  const ws = sockets[0];
  ws.open();
  ws.recv({ type: 'welcome', user: me, room: 'lobby', rooms: ['lobby'], token: 'tok1', limits: { maxMessageBytes: 20 } });
  ws.recv({ type: 'users', room: 'lobby', users: [me, al] });
  ws.recv({ type: 'history', room: 'lobby', messages: [m('lobby', 1, al, 'hello'), m('lobby', 2, al, '<img src=x onerror=alert(1)>')] });
  await tick();
  assert.equal($('status').dataset.status, 'online');
  assert.equal($('status').textContent, 'online');
  // short placeholder: one line on a 390px phone (the keys are in the hint line)
  assert.equal($('input').placeholder, 'Message #lobby');
  assert.equal($('me').textContent, me.name);
  assert.equal($('server-name').textContent, 'Confab');
  assert.deepEqual($('rooms').children.map((li) => li.dataset.room), ['lobby']);
  assert.equal($('users').children.length, 2);
  assert.equal($('user-count').textContent, '2 online');
  assert.deepEqual(seqsShown(), [1, 2]);
  assert.equal($('messages').querySelectorAll('img').length, 0);
  assert.equal($('messages').children[1].querySelector('.text').textContent, '<img src=x onerror=alert(1)>');
  assert.equal($('messages').children[1].className, 'msg grouped');

  // --- send with Enter; Shift+Enter does not send
  $('input').value = 'line';
  const shift = $('input').dispatch('keydown', { key: 'Enter', shiftKey: true });
  assert.equal(shift.defaultPrevented, false);
  assert.equal(ws.sent.length, 0);
  $('input').value = 'hi all';
  $('input').dispatch('keydown', { key: 'Enter' });
  assert.deepEqual(lastSent(), { type: 'send', text: 'hi all', room: 'lobby', id: 1 });
  assert.equal($('input').value, '');
  // ↑ recalls it
  const up = $('input').dispatch('keydown', { key: 'ArrowUp' });
  assert.equal(up.defaultPrevented, true);
  assert.equal($('input').value, 'hi all');
  $('input').value = '';

  // --- server error shown next to the input, cleared by the next successful send
  $('input').value = '/bogus';
  $('input').dispatch('keydown', { key: 'Enter' });
  assert.deepEqual(lastSent(), { type: 'send', text: '/bogus', id: 2 });
  ws.recv({ type: 'error', code: 'unknown_command', message: 'unknown command /bogus, try /help', re: 2 });
  await tick();
  assert.equal($('error').textContent, 'unknown command /bogus, try /help');
  assert.equal($('error').dataset.code, 'unknown_command');
  ws.recv({ type: 'ack', re: 1, room: 'lobby', seq: 3 });
  ws.recv(m('lobby', 3, me, 'hi all'));
  await tick();
  assert.equal($('error').textContent, '');
  assert.equal($('messages').children.at(-1).className, 'msg own');

  // --- local byte limit: counter and refusal
  $('input').value = '€€€€€€€€'; // 24 bytes > 20
  $('input').dispatch('input');
  assert.equal($('counter').hidden, false);
  assert.equal($('counter').textContent, '24 / 20 bytes');
  const before = ws.sent.length;
  $('input').dispatch('keydown', { key: 'Enter' });
  assert.equal(ws.sent.length, before);
  assert.match($('error').textContent, /too long/);
  $('input').value = '';
  $('input').dispatch('input');
  assert.equal($('counter').hidden, true);

  // --- /help output from the server
  ws.recv({ type: 'system', text: '/join ROOM, /leave [ROOM], /help' });
  await tick();
  assert.equal($('messages').children.at(-1).className, 'msg system');

  // --- join a room, unread counts in the other
  $('join-room').value = 'dev';
  $('join-form').dispatch('submit');
  assert.deepEqual(lastSent(), { type: 'join', room: 'dev', id: 3 });
  ws.recv({ type: 'joined', room: 'dev', re: 3 });
  ws.recv({ type: 'users', room: 'dev', users: [me] });
  ws.recv({ type: 'history', room: 'dev', messages: [] });
  ws.recv(m('lobby', 4, al, 'while you are away'));
  await tick();
  assert.equal($('join-room').value, '');
  assert.deepEqual($('rooms').children.map((li) => [li.dataset.room, li.className]), [['lobby', 'room'], ['dev', 'room current']]);
  assert.equal($('rooms').children[0].querySelector('.unread').textContent, '1');
  assert.equal($('user-count').textContent, '1 online');
  assert.deepEqual(seqsShown(), []);
  // presence in dev
  ws.recv({ type: 'presence', room: 'dev', event: 'join', user: al });
  await tick();
  assert.equal($('messages').children.at(-1).className, 'presence presence-join');
  assert.equal($('users').children.length, 2);

  // --- switch back by clicking the room
  $('rooms').children[0].querySelector('button.room-btn').dispatch('click');
  assert.deepEqual(lastSent(), { type: 'join', room: 'lobby', id: 4 });
  await tick();
  assert.equal($('rooms').children[0].className, 'room current');
  assert.equal($('rooms').children[0].querySelector('.unread'), null);
  assert.deepEqual(seqsShown(), [1, 2, 3, 4]);
  ws.recv({ type: 'joined', room: 'lobby', re: 4 });
  ws.recv({ type: 'users', room: 'lobby', users: [me, al] });
  ws.recv({ type: 'history', room: 'lobby', messages: [1, 2, 3, 4].map((s) => m('lobby', s, s === 3 ? me : al, 'x')) });
  await tick();
  assert.deepEqual(seqsShown(), [1, 2, 3, 4]);

  // --- unplanned drop: reconnecting, resume, no duplicates
  ws.drop(1006);
  await tick();
  assert.equal($('status').dataset.status, 'reconnecting');
  assert.match($('status').textContent, /^reconnecting in [01]s$/);
  assert.equal($('retry').hidden, false);
  await tick(800);
  assert.equal(sockets.length, 2);
  const ws2 = sockets[1];
  assert.equal(ws2.url, 'ws://127.0.0.1:8080/ws?resume=tok1');
  ws2.open();
  ws2.recv({ type: 'welcome', user: me, room: 'lobby', rooms: ['lobby', 'dev'], token: 'tok2', resumed: true, limits: { maxMessageBytes: 20 } });
  ws2.recv({ type: 'users', room: 'lobby', users: [me, al] });
  ws2.recv({ type: 'history', room: 'lobby', messages: [3, 4, 5].map((s) => m('lobby', s, al, 'x')) });
  ws2.recv({ type: 'users', room: 'dev', users: [me, al] });
  ws2.recv({ type: 'history', room: 'dev', messages: [] });
  await tick();
  assert.equal($('status').dataset.status, 'online');
  assert.equal($('retry').hidden, true);
  assert.deepEqual(seqsShown(), [1, 2, 3, 4, 5]);
  assert.equal(sessionStorage.getItem('confab.token'), 'tok2');

  // --- rename through the header
  $('me').dispatch('click');
  assert.equal($('rename-form').hidden, false);
  assert.equal($('rename-input').value, me.name);
  $('rename-input').value = 'Bob';
  $('rename-form').dispatch('submit');
  const nameReq = lastSent();
  assert.deepEqual(nameReq, { type: 'name', name: 'Bob', id: nameReq.id });
  ws2.recv({ type: 'renamed', user: { id: 'me', name: 'Bob' }, oldName: me.name, re: nameReq.id });
  await tick();
  assert.equal($('me').textContent, 'Bob');
  assert.equal($('rename-form').hidden, true);
  assert.equal(localStorage.getItem('confab.name'), 'Bob');

  // --- server restarted: resume refused, fresh session, said so, name restored
  ws2.drop(1006);
  await tick(800);
  const ws3 = sockets[2];
  assert.equal(ws3.url, 'ws://127.0.0.1:8080/ws?resume=tok2');
  ws3.open();
  ws3.recv({ type: 'welcome', user: { id: 'n', name: 'brave-fox-1' }, room: 'lobby', rooms: ['lobby'], token: 'tok3', resumed: false });
  await tick();
  assert.deepEqual(lastSent(), { type: 'name', name: 'Bob', id: lastSent().id });
  assert.deepEqual($('rooms').children.map((li) => li.dataset.room), ['lobby']);
  assert.deepEqual(seqsShown(), []);
  assert.equal($('messages').children[0].textContent, 'the server restarted: new session');
  ws3.recv({ type: 'history', room: 'lobby', messages: [m('lobby', 1, al, 'new world')] });
  await tick();
  assert.deepEqual(seqsShown(), [1]);

  ws3.recv({ type: 'users', room: 'lobby', users: [{ id: 'n', name: 'brave-fox-1' }, al] });
  await tick();
  assert.equal($('users').children.length, 2);

  // --- leaving through the UI: close 1000, token forgotten, offline
  $('disconnect').dispatch('click');
  await tick();
  // the user list is not left showing people as online
  assert.equal($('users').children.length, 0);
  assert.equal($('user-count').textContent, '0 online');
  assert.equal(ws3.closed, 1000);
  assert.equal($('status').dataset.status, 'offline');
  assert.equal($('status').textContent, 'offline');
  assert.equal(sessionStorage.getItem('confab.token'), null);
  assert.equal($('disconnect').textContent, 'Connect');
  await tick(800);
  assert.equal(sockets.length, 3, 'no reconnect after leaving');

  // --- Connect again, then the server ends the session for flooding (close 1008)
  $('disconnect').dispatch('click');
  await tick();
  const ws4 = sockets[3];
  assert.equal(ws4.url, 'ws://127.0.0.1:8080/ws?name=Bob');
  ws4.open();
  ws4.recv({ type: 'welcome', user: { id: 'b2', name: 'Bob' }, room: 'lobby', rooms: ['lobby'], token: 'tok4', resumed: false });
  ws4.recv({ type: 'users', room: 'lobby', users: [{ id: 'b2', name: 'Bob' }, al] });
  await tick();
  assert.equal($('status').dataset.status, 'online');
  ws4.drop(1008);
  await tick(800);
  assert.equal(sockets.length, 4, 'no reconnect after a policy close');
  assert.equal($('status').dataset.status, 'offline');
  assert.equal($('error').dataset.code, 'close_1008');
  assert.match($('error').textContent, /too many requests/);
  assert.match($('messages').children.at(-1).textContent, /too many requests.*Connect/);
  assert.doesNotMatch($('messages').textContent, /server restarted: new session.*server restarted/s);
  assert.equal($('users').children.length, 0);
  assert.equal($('disconnect').textContent, 'Connect');
  assert.equal(sessionStorage.getItem('confab.token'), null);
});
