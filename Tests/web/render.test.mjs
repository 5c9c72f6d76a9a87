import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDocument } from './fake-dom.mjs';
import { renderItem, renderRooms, renderUsers, renderStatus, renderError, renderCounter } from '../../web/render.js';
import { parseServerMessage } from '../../web/protocol.js';
import { createState, applyServerMessage } from '../../web/state.js';
import { counterState } from '../../web/utf8.js';

const P = (o) => parseServerMessage(JSON.stringify(o));
const XSS = '<img src=x onerror=alert(1)>';

function item(extra = {}) {
  return {
    kind: 'message', key: 'k', seq: 7, ts: '2026-11-22T10:30:00.000Z',
    from: { id: 'a', name: 'Alice' }, text: 'hi', action: false, own: false, ...extra,
  };
}

test('a message renders as text with data-seq, name and HH:MM time', () => {
  const doc = createDocument();
  const li = renderItem(doc, item({ text: XSS, from: { id: 'a', name: '<b>Al</b>' } }));
  assert.equal(li.tagName, 'LI');
  assert.equal(li.className, 'msg');
  assert.equal(li.dataset.seq, '7');
  assert.equal(li.querySelector('.name').textContent, '<b>Al</b>');
  assert.equal(li.querySelector('.text').textContent, XSS);
  assert.equal(li.querySelectorAll('img').length, 0);
  assert.equal(li.querySelectorAll('b').length, 0);
  assert.match(li.querySelector('time').textContent, /^\d\d:\d\d$/);
});

test('own, action, grouped, system and presence items get their classes', () => {
  const doc = createDocument();
  assert.equal(renderItem(doc, item({ own: true })).className, 'msg own');
  const action = renderItem(doc, item({ action: true, text: 'waves' }));
  assert.equal(action.className, 'msg action');
  assert.equal(action.querySelector('.text').textContent, '* Alice waves');
  const prev = item({ seq: 6 });
  assert.equal(renderItem(doc, item(), prev).className, 'msg grouped');
  const sys = renderItem(doc, { kind: 'system', text: 'Commands: /help' });
  assert.equal(sys.className, 'msg system');
  const pres = renderItem(doc, { kind: 'presence', event: 'join', text: 'Bob joined' });
  assert.equal(pres.className, 'presence presence-join');
  assert.equal(pres.textContent, 'Bob joined');
});

test('links in messages are anchors with rel/target; javascript: is not', () => {
  const doc = createDocument();
  const li = renderItem(doc, item({ text: 'a https://example.com b javascript:alert(1)' }));
  const links = li.querySelectorAll('a');
  assert.equal(links.length, 1);
  assert.equal(links[0].rel, 'noopener noreferrer');
  assert.equal(links[0].target, '_blank');
});

test('rooms sidebar: li[data-room], current, unread badge, leave button', () => {
  const doc = createDocument();
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby', 'dev'], token: 't' }));
  applyServerMessage(s, P({ type: 'message', room: 'dev', seq: 1, from: { id: 'a', name: 'A' }, text: 'x' }));
  const ul = doc.createElement('ul');
  renderRooms(doc, ul, s);
  const lis = ul.children;
  assert.deepEqual(lis.map((li) => li.dataset.room), ['lobby', 'dev']);
  assert.equal(lis[0].className, 'room current');
  assert.equal(lis[0].querySelector('.unread'), null);
  assert.equal(lis[1].querySelector('.unread').textContent, '1');
  assert.equal(lis[1].querySelector('button.leave').dataset.room, 'dev');
});

test('users list with the online count', () => {
  const doc = createDocument();
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby'], token: 't' }));
  applyServerMessage(s, P({ type: 'users', room: 'lobby', users: [{ id: 'b', name: XSS }, { id: 'me', name: 'Me' }] }));
  const ul = doc.createElement('ul');
  const count = doc.createElement('span');
  renderUsers(doc, ul, count, s);
  assert.deepEqual(ul.children.map((li) => li.querySelector('.user-name').textContent), ['Me', XSS]);
  assert.equal(ul.children[0].className, 'user me');
  assert.equal(count.textContent, '2 online');
});

test('status, error and counter', () => {
  const doc = createDocument();
  const st = doc.createElement('span');
  renderStatus(st, 'reconnecting', 3);
  assert.equal(st.dataset.status, 'reconnecting');
  assert.equal(st.textContent, 'reconnecting in 3s');
  renderStatus(st, 'online');
  assert.equal(st.textContent, 'online');
  const err = doc.createElement('p');
  renderError(err, XSS);
  assert.equal(err.textContent, XSS);
  assert.equal(err.children.length, 0);
  renderError(err, '');
  assert.equal(err.textContent, '');
  const c = doc.createElement('span');
  renderCounter(c, counterState('€'.repeat(40), 100));
  assert.equal(c.hidden, false);
  assert.equal(c.textContent, '120 / 100 bytes');
  assert.equal(c.classList.contains('over'), true);
  renderCounter(c, counterState('hi', 100));
  assert.equal(c.hidden, true);
});

test('room rows are updated in place, reordered and removed', async () => {
  const { setCurrent } = await import('../../web/state.js');
  const doc = createDocument();
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby', 'dev'], token: 't' }));
  applyServerMessage(s, P({ type: 'message', room: 'dev', seq: 1, from: { id: 'a', name: 'A' }, text: 'x' }));
  const ul = doc.createElement('ul');
  renderRooms(doc, ul, s);
  const [lobbyLi, devLi] = ul.children;
  const devBtn = devLi.querySelector('button.room-btn');
  assert.equal(devLi.querySelector('.unread').textContent, '1');
  setCurrent(s, 'dev');
  renderRooms(doc, ul, s);
  assert.equal(ul.children[1], devLi, 'same element kept');
  assert.equal(devLi.querySelector('button.room-btn'), devBtn);
  assert.equal(devLi.className, 'room current');
  assert.equal(lobbyLi.className, 'room');
  assert.equal(devLi.querySelector('.unread'), null, 'badge removed');
  assert.equal(devBtn.getAttribute('aria-current'), 'true');
  assert.equal(lobbyLi.querySelector('button.room-btn').getAttribute('aria-current'), null);
  applyServerMessage(s, P({ type: 'left', room: 'lobby', current: 'dev' }));
  applyServerMessage(s, P({ type: 'joined', room: 'ops' }));
  renderRooms(doc, ul, s);
  assert.deepEqual(ul.children.map((li) => li.dataset.room), ['dev', 'ops']);
  assert.equal(ul.children[0], devLi);
});
