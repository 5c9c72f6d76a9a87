import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDocument } from './fake-dom.mjs';
import {
  renderItem, renderRooms, renderUsers, renderDirectory, renderStatus, renderError, renderCounter,
} from '../../web/render.js';
import { parseServerMessage } from '../../web/protocol.js';
import { createState, applyServerMessage, setCurrent, setLookup, setPageLoading } from '../../web/state.js';
import { formatCount, onlineLabel } from '../../web/format.js';
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

/** The member panel's nodes, as app.js passes them. */
function makePanel(doc) {
  const n = (tag) => doc.createElement(tag);
  const panel = {
    list: n('ul'), count: n('span'), search: n('form'), result: n('p'), recent: n('ul'),
    recentHeading: n('h3'), membersHeading: n('h3'), more: n('button'),
  };
  for (const k of ['search', 'result', 'recent', 'recentHeading', 'membersHeading', 'more']) panel[k].hidden = true;
  return panel;
}
const names = (ul) => ul.children.map((li) => li.querySelector('.user-name').textContent);
const many = (n, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `u${from + i}`, name: `user-${from + i}` }));

function largeLobby() {
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby'], token: 't' }));
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 10234, users: [{ id: 'me', name: 'Me' }, ...many(49)], next: '50' }));
  return s;
}

test('users list with the online count (a small room: everyone, nothing of the large-room panel)', () => {
  const doc = createDocument();
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby'], token: 't' }));
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [{ id: 'b', name: XSS }, { id: 'me', name: 'Me' }] }));
  const panel = makePanel(doc);
  renderUsers(doc, panel, s);
  assert.deepEqual(names(panel.list), ['Me', XSS]);
  assert.equal(panel.list.children[0].className, 'user me');
  assert.equal(panel.list.querySelectorAll('img').length, 0);
  assert.equal(panel.count.textContent, '2 online');
  for (const k of ['search', 'result', 'recent', 'recentHeading', 'membersHeading', 'more']) assert.equal(panel[k].hidden, true, k);
  // only list and count are needed
  const ul = doc.createElement('ul');
  const count = doc.createElement('span');
  renderUsers(doc, { list: ul, count }, s);
  assert.equal(ul.children.length, 2);
});

test('a large room: "10,234 online", me, a page, "Show more", the search box; never everyone', () => {
  const doc = createDocument();
  const s = largeLobby();
  const panel = makePanel(doc);
  renderUsers(doc, panel, s);
  assert.equal(panel.count.textContent, '10,234 online');
  assert.equal(panel.list.children.length, 50);
  assert.deepEqual(names(panel.list).slice(0, 3), ['Me', 'user-0', 'user-1']);
  assert.equal(panel.list.children[0].className, 'user me');
  assert.equal(panel.search.hidden, false);
  assert.equal(panel.more.hidden, false);
  assert.equal(panel.more.getAttribute('aria-disabled'), null);
  assert.equal(panel.more.textContent, 'Show more');
  assert.equal(panel.membersHeading.hidden, false);
  assert.equal(panel.membersHeading.textContent, 'Members (50 of 10,234 shown)');
  assert.equal(panel.recent.hidden, true, 'no arrivals yet');
  assert.equal(panel.result.hidden, true);
  // loading the next page
  setPageLoading(s, 'lobby', true);
  renderUsers(doc, panel, s);
  assert.equal(panel.more.getAttribute('aria-disabled'), 'true');
  assert.equal(panel.more.textContent, 'Loading…');
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 10240, users: many(50, 49), next: '100' }), { page: true, cursor: '50' });
  applyServerMessage(s, P({ type: 'occupancy', room: 'lobby', count: 10241, recent: [{ id: 'n1', name: XSS }, { id: 'n2', name: 'Newest' }] }));
  renderUsers(doc, panel, s);
  assert.equal(panel.list.children.length, 100);
  assert.equal(panel.count.textContent, '10,241 online');
  assert.equal(panel.more.getAttribute('aria-disabled'), null);
  assert.equal(panel.recent.hidden, false);
  assert.equal(panel.recentHeading.hidden, false);
  assert.deepEqual(names(panel.recent), ['Newest', XSS]);
  assert.equal(panel.recent.querySelectorAll('img').length, 0);
  assert.equal(panel.more.dataset.action, 'more');
  // the last page, but the count says more came: "Reload list" (the first page again)
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 10241, users: many(3, 99) }), { page: true, cursor: '100' });
  renderUsers(doc, panel, s);
  assert.equal(panel.more.hidden, false);
  assert.equal(panel.more.dataset.action, 'reload');
  assert.equal(panel.more.textContent, 'Reload list');
  assert.equal(panel.membersHeading.textContent, 'Members');
  // the last page and everyone counted is listed: no button
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 4, users: many(3) }), { page: true, cursor: null });
  renderUsers(doc, panel, s);
  assert.equal(panel.more.hidden, true);
  assert.deepEqual(names(panel.list), ['Me', 'user-0', 'user-1', 'user-2']);
  // small again: back to the plain list
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'full', count: 2, users: [{ id: 'me', name: 'Me' }, { id: 'a', name: 'Al' }] }));
  renderUsers(doc, panel, s);
  assert.deepEqual(names(panel.list), ['Me', 'Al']);
  assert.equal(panel.count.textContent, '2 online');
  for (const k of ['search', 'recent', 'recentHeading', 'membersHeading', 'more']) assert.equal(panel[k].hidden, true, k);
});

test('the lookup result: looking, found, nobody; as text', () => {
  const doc = createDocument();
  const s = largeLobby();
  const panel = makePanel(doc);
  setLookup(s, 'lobby', XSS);
  renderUsers(doc, panel, s);
  assert.equal(panel.result.hidden, false);
  assert.equal(panel.result.dataset.state, 'pending');
  assert.equal(panel.result.textContent, `Looking for ${XSS}…`);
  assert.equal(panel.result.querySelectorAll('img').length, 0);
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 10234, name: 'ann', users: [{ id: 'x', name: 'Ann' }], re: 1 }));
  renderUsers(doc, panel, s);
  assert.equal(panel.result.dataset.state, 'found');
  assert.equal(panel.result.className, 'lookup found');
  assert.equal(panel.result.querySelector('.user-name').textContent, 'Ann');
  assert.equal(panel.result.textContent, 'Ann is in #lobby');
  applyServerMessage(s, P({ type: 'users', room: 'lobby', mode: 'count', count: 10234, name: 'zed', users: [], re: 2 }));
  renderUsers(doc, panel, s);
  assert.equal(panel.result.dataset.state, 'missing');
  assert.equal(panel.result.textContent, 'No one named zed in #lobby');
  setLookup(s, 'lobby', null);
  renderUsers(doc, panel, s);
  assert.equal(panel.result.hidden, true);
  assert.equal(panel.result.textContent, '');
});

test('directory: every room with its count, joined and current marked, updated in place', () => {
  const doc = createDocument();
  const s = createState();
  applyServerMessage(s, P({ type: 'welcome', user: { id: 'me', name: 'Me' }, room: 'lobby', rooms: ['lobby'], token: 't' }));
  const ul = doc.createElement('ul');
  renderDirectory(doc, ul, s);
  assert.equal(ul.children.length, 0);
  applyServerMessage(s, P({ type: 'rooms', rooms: [{ name: 'dev', users: 3 }, { name: 'lobby', users: 10234 }], re: 1 }), { watch: true });
  renderDirectory(doc, ul, s);
  const rows = () => ul.children.map((li) => [li.dataset.room, li.className, li.querySelector('.room-name').textContent, li.querySelector('.dir-count').textContent]);
  assert.deepEqual(rows(), [['dev', 'dir-room', '#dev', '3'], ['lobby', 'dir-room joined current', '#lobby', '10,234']]);
  const devLi = ul.children[0];
  const devBtn = devLi.querySelector('button.dir-btn');
  assert.equal(devBtn.dataset.room, 'dev');
  assert.equal(devBtn.getAttribute('aria-label'), '#dev, 3 online');
  assert.equal(devBtn.title, 'Join #dev');
  assert.equal(ul.children[1].querySelector('button').getAttribute('aria-label'), '#lobby, 10,234 online, current room');
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [{ name: 'dev', users: 4 }, { name: 'Art', users: 1 }], removed: [] }));
  setCurrent(s, 'lobby');
  renderDirectory(doc, ul, s);
  assert.deepEqual(rows(), [
    ['Art', 'dir-room', '#Art', '1'], ['dev', 'dir-room joined', '#dev', '4'], ['lobby', 'dir-room joined current', '#lobby', '10,234'],
  ]);
  assert.equal(ul.children[1], devLi, 'same element kept');
  assert.equal(devBtn.title, 'Go to #dev');
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [], removed: ['art'] }));
  renderDirectory(doc, ul, s);
  assert.deepEqual(ul.children.map((li) => li.dataset.room), ['dev', 'lobby']);
  // a room name is text
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [{ name: XSS, users: 1 }], removed: [] }));
  renderDirectory(doc, ul, s);
  assert.equal(ul.querySelectorAll('img').length, 0);
});

test('counts have thousands separators', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1000), '1,000');
  assert.equal(formatCount(10234), '10,234');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount('x'), '0');
  assert.equal(onlineLabel(1), '1 online');
  assert.equal(onlineLabel(10234), '10,234 online');
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
