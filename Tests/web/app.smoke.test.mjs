// Drives web/app.js against a fake DOM built from web/index.html and a fake
// WebSocket: catches wiring mistakes without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemStorage, pageDocument } from './fake-dom.mjs';
import { BACKOFF_MAX_MS, BACKOFF_JITTER, CONNECT_TIMEOUT_MS } from '../../web/connection.js';

const doc = pageDocument();
const sockets = [];
class FakeWS {
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; this.closed = null; sockets.push(this); }
  send(d) { this.sent.push(JSON.parse(d)); }
  close(code) { this.closed = code; this.readyState = 3; }
  open() { this.readyState = 1; }
  recv(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code, reason: '' }); }
}

// A fake clock for every timer of the page (reconnect backoff, connect timeout, countdown,
// animation frames) and Date.now: the test moves time itself, so what it checks does not
// depend on how busy this machine is.
const realSetTimeout = globalThis.setTimeout;
const clock = { now: Date.parse('2026-11-22T10:30:00Z'), timers: new Map(), nextId: 1 };
function schedule(f, ms, repeat, args) {
  const id = clock.nextId++;
  const every = repeat ? Math.max(1, Number(ms) || 0) : null;
  clock.timers.set(id, { at: clock.now + Math.max(0, Number(ms) || 0), every, run: () => f(...args) });
  return id;
}
const unschedule = (id) => { clock.timers.delete(id); };
/** Lets the page's promise callbacks and event handlers run (real time, not the clock). */
const settle = () => new Promise((r) => realSetTimeout(r, 0));
/** Moves the fake clock `ms` ahead, running the timers that fall due, in order. */
async function tick(ms = 5) {
  const end = clock.now + ms;
  for (let i = 0; i < 100_000; i++) {
    await settle();
    let next = null;
    for (const [id, t] of clock.timers) if (t.at <= end && (next === null || t.at < next[1].at)) next = [id, t];
    if (next === null) break;
    const [id, t] = next;
    clock.now = Math.max(clock.now, t.at);
    if (t.every === null) clock.timers.delete(id); else t.at += t.every;
    t.run();
  }
  clock.now = end;
  await settle();
}
/** Longer than any reconnect the page could still be waiting for: the longest backoff with its
 * jitter, plus a connect timeout. "No reconnect" is checked over all of it. */
const WHOLE_BACKOFF_MS = BACKOFF_MAX_MS * (1 + BACKOFF_JITTER) + CONNECT_TIMEOUT_MS;

Object.assign(globalThis, {
  setTimeout: (f, ms, ...args) => schedule(f, ms, false, args),
  clearTimeout: unschedule,
  setInterval: (f, ms, ...args) => schedule(f, ms, true, args),
  clearInterval: unschedule,
  document: doc,
  window: { addEventListener() {}, matchMedia: () => ({ matches: false }) },
  location: { protocol: 'http:', host: '127.0.0.1:8080', href: 'http://127.0.0.1:8080/' },
  sessionStorage: new MemStorage(),
  localStorage: new MemStorage(),
  WebSocket: FakeWS,
  requestAnimationFrame: (f) => setTimeout(f, 0),
});

Date.now = () => clock.now;
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
  ws.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [me, al] });
  ws.recv({ type: 'history', room: 'lobby', messages: [m('lobby', 1, al, 'hello'), m('lobby', 2, al, '<img src=x onerror=alert(1)>')] });
  await tick();
  // the room directory is asked for (and watched) after every welcome
  assert.deepEqual(ws.sent, [{ type: 'rooms', watch: true, id: 1 }]);
  ws.recv({ type: 'rooms', rooms: [{ name: 'lobby', users: 2 }], re: 1 });
  await tick();
  assert.deepEqual($('directory').children.map((li) => li.dataset.room), ['lobby']);
  assert.equal($('directory').children[0].className, 'dir-room joined current');
  // a small room: no search box, no "more", no page headings
  for (const id of ['user-search', 'user-search-result', 'users-more', 'users-recent', 'recent-heading', 'members-heading']) {
    assert.equal($(id).hidden, true, id);
  }
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
  assert.equal(ws.sent.length, 1);
  $('input').value = 'hi all';
  $('input').dispatch('keydown', { key: 'Enter' });
  assert.deepEqual(lastSent(), { type: 'send', text: 'hi all', room: 'lobby', id: 2 });
  assert.equal($('input').value, '');
  // ↑ recalls it
  const up = $('input').dispatch('keydown', { key: 'ArrowUp' });
  assert.equal(up.defaultPrevented, true);
  assert.equal($('input').value, 'hi all');
  $('input').value = '';

  // --- server error shown next to the input, cleared by the next successful send
  $('input').value = '/bogus';
  $('input').dispatch('keydown', { key: 'Enter' });
  assert.deepEqual(lastSent(), { type: 'send', text: '/bogus', id: 3 });
  ws.recv({ type: 'error', code: 'unknown_command', message: 'unknown command /bogus, try /help', re: 3 });
  await tick();
  assert.equal($('error').textContent, 'unknown command /bogus, try /help');
  assert.equal($('error').dataset.code, 'unknown_command');
  ws.recv({ type: 'ack', re: 2, room: 'lobby', seq: 3 });
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
  assert.deepEqual(lastSent(), { type: 'join', room: 'dev', id: 4 });
  ws.recv({ type: 'joined', room: 'dev', re: 4 });
  ws.recv({ type: 'users', room: 'dev', mode: 'full', count: 1, users: [me] });
  ws.recv({ type: 'history', room: 'dev', messages: [] });
  ws.recv(m('lobby', 4, al, 'while you are away'));
  await tick();
  assert.equal($('join-room').value, '');
  assert.deepEqual($('rooms').children.map((li) => [li.dataset.room, li.className]), [['lobby', 'room'], ['dev', 'room current']]);
  assert.equal($('rooms').children[0].querySelector('.unread').textContent, '1');
  assert.equal($('user-count').textContent, '1 online');
  assert.deepEqual(seqsShown(), []);
  // presence in dev
  ws.recv({ type: 'presence', room: 'dev', changes: [{ event: 'join', user: al }] });
  await tick();
  assert.equal($('messages').children.at(-1).className, 'presence presence-join');
  assert.equal($('messages').children.at(-1).querySelector('.text').textContent, 'Alice joined');
  assert.equal($('users').children.length, 2);
  // several changes at once: in order, a line each
  ws.recv({ type: 'presence', room: 'dev', changes: [{ event: 'join', user: { id: 'z', name: 'Zoe' } }, { event: 'leave', user: al }] });
  await tick();
  assert.deepEqual($('messages').querySelectorAll('.presence').map((li) => li.querySelector('.text').textContent), ['Alice joined', 'Zoe joined', 'Alice left']);
  assert.deepEqual($('users').children.map((li) => li.querySelector('.user-name').textContent), [me.name, 'Zoe']);

  // --- switch back by clicking the room
  $('rooms').children[0].querySelector('button.room-btn').dispatch('click');
  assert.deepEqual(lastSent(), { type: 'join', room: 'lobby', id: 5 });
  await tick();
  assert.equal($('rooms').children[0].className, 'room current');
  assert.equal($('rooms').children[0].querySelector('.unread'), null);
  assert.deepEqual(seqsShown(), [1, 2, 3, 4]);
  ws.recv({ type: 'joined', room: 'lobby', re: 5 });
  ws.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [me, al] });
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
  assert.equal(ws2.url, 'ws://127.0.0.1:8080/ws?resume=tok1&name=quiet-otter-42');
  ws2.open();
  ws2.recv({ type: 'welcome', user: me, room: 'lobby', rooms: ['lobby', 'dev'], token: 'tok2', resumed: true, limits: { maxMessageBytes: 20 } });
  ws2.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [me, al] });
  ws2.recv({ type: 'history', room: 'lobby', messages: [3, 4, 5].map((s) => m('lobby', s, al, 'x')) });
  ws2.recv({ type: 'users', room: 'dev', mode: 'full', count: 2, users: [me, al] });
  ws2.recv({ type: 'history', room: 'dev', messages: [] });
  await tick();
  assert.equal($('status').dataset.status, 'online');
  assert.equal($('retry').hidden, true);
  assert.deepEqual(seqsShown(), [1, 2, 3, 4, 5]);
  assert.equal(sessionStorage.getItem('confab.token'), 'tok2');
  // the watch is asked for again on the new connection; its reply replaces the directory
  const watch2 = ws2.sent.find((x) => x.type === 'rooms');
  assert.deepEqual(watch2, { type: 'rooms', watch: true, id: watch2.id });
  ws2.recv({ type: 'rooms', rooms: [{ name: 'dev', users: 2 }, { name: 'lobby', users: 2 }], re: watch2.id });
  await tick();
  assert.deepEqual($('directory').children.map((li) => [li.dataset.room, li.className]), [['dev', 'dir-room joined'], ['lobby', 'dir-room joined current']]);

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

  // --- the directory follows roomsChanged; a click joins a room we are not in
  ws2.recv({ type: 'roomsChanged', rooms: [{ name: 'big', users: 10233 }], removed: [] });
  await tick();
  assert.deepEqual($('directory').children.map((li) => [li.dataset.room, li.querySelector('.dir-count').textContent]),
    [['big', '10,233'], ['dev', '2'], ['lobby', '2']]);
  $('directory').children[0].querySelector('button.dir-btn').dispatch('click');
  const joinBig = lastSent();
  assert.deepEqual(joinBig, { type: 'join', room: 'big', id: joinBig.id });
  ws2.recv({ type: 'joined', room: 'big', re: joinBig.id });
  const crowd = Array.from({ length: 49 }, (_, i) => ({ id: `c${i}`, name: `crowd-${i}` }));
  ws2.recv({ type: 'users', room: 'big', mode: 'count', count: 10234, users: crowd.concat([{ id: 'me', name: 'Bob' }]), next: '50' });
  ws2.recv({ type: 'history', room: 'big', messages: [] });
  await tick();
  assert.equal($('rooms').children.at(-1).dataset.room, 'big');
  assert.equal($('rooms').children.at(-1).className, 'room current');
  // a large room: the count, me and one page; "more" and the search box
  assert.equal($('user-count').textContent, '10,234 online');
  assert.equal($('users').children.length, 50);
  assert.equal($('users').children[0].className, 'user me');
  assert.equal($('users-more').hidden, false);
  assert.equal($('user-search').hidden, false);
  assert.equal($('members-heading').textContent, 'Members (50 of 10,234 shown)');
  // more: the next page by cursor
  $('users-more').dispatch('click');
  const more = lastSent();
  assert.deepEqual(more, { type: 'users', room: 'big', cursor: '50', limit: 50, id: more.id });
  await tick();
  assert.equal($('users-more').getAttribute('aria-disabled'), 'true');
  $('users-more').dispatch('click');
  assert.equal(lastSent(), more, 'one page request at a time');
  ws2.recv({ type: 'users', room: 'big', mode: 'count', count: 10234, users: [{ id: 'd1', name: 'Dee' }], next: '51', re: more.id });
  await tick();
  assert.equal($('users').children.length, 51);
  assert.equal($('users').children.at(-1).textContent, 'Dee');
  assert.equal($('users-more').getAttribute('aria-disabled'), null);
  // search: one exact name
  $('user-search-input').value = ' Ann ';
  $('user-search').dispatch('submit');
  const find = lastSent();
  assert.deepEqual(find, { type: 'users', room: 'big', name: 'Ann', id: find.id });
  await tick();
  assert.equal($('user-search-result').textContent, 'Looking for Ann…');
  ws2.recv({ type: 'users', room: 'big', mode: 'count', count: 10234, name: 'Ann', users: [{ id: 'x', name: 'Ann' }], re: find.id });
  await tick();
  assert.equal($('user-search-result').hidden, false);
  assert.equal($('user-search-result').textContent, 'Ann is in #big');
  assert.equal($('users').children.length, 51, 'the lookup does not replace the list');
  $('user-search-input').value = 'Nobody';
  $('user-search').dispatch('submit');
  ws2.recv({ type: 'users', room: 'big', mode: 'count', count: 10234, name: 'Nobody', users: [], re: lastSent().id });
  await tick();
  assert.equal($('user-search-result').textContent, 'No one named Nobody in #big');
  // occupancy: the count and the recent arrivals; no join lines in the chat
  ws2.recv({ type: 'occupancy', room: 'big', count: 10236, recent: [{ id: 'n1', name: 'Newcomer' }, { id: 'n2', name: 'Latest' }] });
  await tick();
  assert.equal($('user-count').textContent, '10,236 online');
  assert.equal($('users-recent').hidden, false);
  assert.deepEqual($('users-recent').children.map((li) => li.textContent), ['Latest', 'Newcomer']);
  assert.equal($('messages').querySelectorAll('.presence').length, 0);
  // the small lobby becomes large: the page asks for its first page on its own
  ws2.recv({ type: 'occupancy', room: 'lobby', count: 4, recent: [{ id: 'n3', name: 'Fourth' }] });
  await tick();
  const first = lastSent();
  assert.deepEqual(first, { type: 'users', room: 'lobby', id: first.id });
  ws2.recv({ type: 'users', room: 'lobby', mode: 'count', count: 4, users: [al, { id: 'me', name: 'Bob' }, { id: 'z', name: 'Zoe' }, { id: 'n3', name: 'Fourth' }], re: first.id });
  $('rooms').children[0].querySelector('button.room-btn').dispatch('click');
  await tick();
  assert.equal($('user-count').textContent, '4 online');
  assert.deepEqual($('users').children.map((li) => li.querySelector('.user-name').textContent), ['Bob', 'Alice', 'Zoe', 'Fourth']);
  assert.equal($('users-more').hidden, true);
  // one more arrives after the last page: the list can only be reloaded from the start
  ws2.recv({ type: 'occupancy', room: 'lobby', count: 5, recent: [{ id: 'n5', name: 'Fifth' }] });
  await tick();
  assert.equal($('users-more').hidden, false);
  assert.equal($('users-more').textContent, 'Reload list');
  $('users-more').dispatch('click');
  const reload = lastSent();
  assert.deepEqual(reload, { type: 'users', room: 'lobby', id: reload.id });
  ws2.recv({ type: 'users', room: 'lobby', mode: 'count', count: 5, users: [al, { id: 'me', name: 'Bob' }, { id: 'z', name: 'Zoe' }, { id: 'n3', name: 'Fourth' }, { id: 'n5', name: 'Fifth' }], re: reload.id });
  await tick();
  assert.equal($('users').children.length, 5);
  assert.equal($('users-more').hidden, true);
  // ...and small again: the full list, the plain panel, presence lines again
  ws2.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [{ id: 'me', name: 'Bob' }, al] });
  ws2.recv({ type: 'presence', room: 'lobby', changes: [{ event: 'leave', user: al }] });
  await tick();
  assert.equal($('user-count').textContent, '1 online');
  assert.equal($('user-search').hidden, true);
  assert.equal($('messages').querySelectorAll('.presence').at(-1).querySelector('.text').textContent, 'Alice left');
  assert.equal($('error').textContent, '');

  // --- server restarted (close 1012): resume refused, a new session, back in every room
  ws2.drop(1012);
  await tick();
  assert.equal($('status').dataset.status, 'reconnecting');
  await tick(2600);
  const ws3 = sockets[2];
  assert.equal(ws3.url, 'ws://127.0.0.1:8080/ws?resume=tok2&name=Bob');
  ws3.open();
  ws3.recv({ type: 'welcome', user: { id: 'n', name: 'brave-fox-1' }, room: 'lobby', rooms: ['lobby'], token: 'tok3', resumed: false });
  await tick();
  // the name (taken meanwhile, say), dev and big again, back to the lobby (big's join moved
  // the server's current room), then the directory
  assert.deepEqual(ws3.sent.map((x) => [x.type, x.room ?? x.name ?? x.watch]),
    [['name', 'Bob'], ['join', 'dev'], ['join', 'big'], ['join', 'lobby'], ['rooms', true]]);
  assert.deepEqual($('directory').children.length, 0, 'a new session: the old directory is gone');
  ws3.recv({ type: 'rooms', rooms: [{ name: 'lobby', users: 2 }], re: ws3.sent[4].id });
  assert.deepEqual($('rooms').children.map((li) => li.dataset.room), ['lobby', 'dev', 'big'], 'the rooms stay in the sidebar');
  await tick();
  assert.deepEqual(seqsShown(), [1, 2, 3, 4, 5], 'what was shown stays');
  assert.equal($('messages').children.at(-1).textContent, 'the server restarted: new session, back in your rooms');
  ws3.recv({ type: 'joined', room: 'dev', re: ws3.sent[1].id });
  ws3.recv({ type: 'history', room: 'dev', messages: [] });
  ws3.recv({ type: 'error', code: 'room_limit', message: 'too many rooms', re: ws3.sent[2].id });
  ws3.recv({ type: 'joined', room: 'lobby', re: ws3.sent[3].id });
  // the new process numbers from 1 again; its messages come after the old ones
  ws3.recv({ type: 'history', room: 'lobby', messages: [m('lobby', 1, al, 'new world', { ts: '2026-11-22T11:00:00.000Z' })] });
  await tick();
  assert.deepEqual($('rooms').children.map((li) => li.dataset.room), ['lobby', 'dev'], 'a refused rejoin drops the room');
  assert.equal($('rooms').children[0].className, 'room current');
  assert.deepEqual(seqsShown(), [1, 2, 3, 4, 5, 1]);
  assert.equal($('messages').querySelectorAll('.msg').at(-1).querySelector('.text').textContent, 'new world');

  ws3.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [{ id: 'n', name: 'brave-fox-1' }, al] });
  await tick();
  assert.equal($('users').children.length, 2);

  // --- leaving through the UI: close 1000, token forgotten, offline
  $('disconnect').dispatch('click');
  await tick();
  // the user list is not left showing people as online
  assert.equal($('users').children.length, 0);
  assert.equal($('user-count').textContent, '0 online');
  assert.equal($('directory').children.length, 0, 'no stale room counts either');
  assert.equal(ws3.closed, 1000);
  assert.equal($('status').dataset.status, 'offline');
  assert.equal($('status').textContent, 'offline');
  assert.equal(sessionStorage.getItem('confab.token'), null);
  assert.equal($('disconnect').textContent, 'Connect');
  await tick(WHOLE_BACKOFF_MS);
  assert.equal(sockets.length, 3, 'no reconnect after leaving');

  // --- Connect again, then the server ends the session for flooding (close 1008)
  $('disconnect').dispatch('click');
  await tick();
  const ws4 = sockets[3];
  assert.equal(ws4.url, 'ws://127.0.0.1:8080/ws?name=Bob');
  ws4.open();
  ws4.recv({ type: 'welcome', user: { id: 'b2', name: 'Bob' }, room: 'lobby', rooms: ['lobby'], token: 'tok4', resumed: false });
  ws4.recv({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [{ id: 'b2', name: 'Bob' }, al] });
  await tick();
  assert.equal($('status').dataset.status, 'online');
  ws4.drop(1008);
  await tick(WHOLE_BACKOFF_MS);
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
