import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMessage } from '../../web/protocol.js';
import {
  createState, applyServerMessage, setCurrent, currentRoom, getRoom, sortedUsers, roomList,
  isGroupedWith, MAX_ITEMS_PER_ROOM, RECENT_MAX, memberPanel, directoryList, clearPresence,
  setPageLoading, setLookup, forgetRoom,
} from '../../web/state.js';

const P = (o) => parseServerMessage(JSON.stringify(o));
const me = { id: 'me', name: 'Me' };
const alice = { id: 'a', name: 'Alice' };
const bob = { id: 'b', name: 'Bob' };
const cy = { id: 'c', name: 'Cy' };
/** users of a small room (everyone) */
const full = (room, users) => P({ type: 'users', room, mode: 'full', count: users.length, users });
/** users of a large room: a page and the count */
const page = (room, users, count, next, extra = {}) => P({ type: 'users', room, mode: 'count', count, users, ...(next ? { next } : {}), ...extra });
const presence = (room, ...changes) => P({ type: 'presence', room, changes });
const join = (user) => ({ event: 'join', user });
const leave = (user) => ({ event: 'leave', user });
const rename = (user, oldName) => ({ event: 'rename', user, oldName });
const occupancy = (room, count, recent = []) => P({ type: 'occupancy', room, count, recent });
const many = (n, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `u${from + i}`, name: `user-${from + i}` }));
const presenceLines = (s, room) => getRoom(s, room).items.filter((i) => i.kind === 'presence').map((i) => i.text);

function welcome(extra = {}) {
  return P({ type: 'welcome', user: me, room: 'lobby', rooms: ['lobby'], token: 't1', limits: { maxMessageBytes: 100 }, ...extra });
}
function msg(room, seq, from = alice, text = `m${seq}`, extra = {}) {
  return P({ type: 'message', room, seq, ts: '2026-11-22T10:30:00.000Z', from, text, ...extra });
}
function started() {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, full('lobby', [me, alice]));
  return s;
}
const seqs = (s, room) => getRoom(s, room).items.filter((i) => i.kind === 'message').map((i) => i.seq);

test('welcome sets me, rooms, current room and limits', () => {
  const s = started();
  assert.deepEqual(s.me, me);
  assert.equal(s.current, 'lobby');
  assert.equal(s.maxMessageBytes, 100);
  assert.deepEqual(roomList(s), [{ key: 'lobby', name: 'lobby', unread: 0, current: true }]);
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Alice']);
});

test('dedup by room+seq: history replay shows nothing twice', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 1), msg('lobby', 2)] }));
  applyServerMessage(s, msg('lobby', 3));
  const r = applyServerMessage(s, msg('lobby', 3));
  assert.equal(r.added, false);
  // resume: history replays 1..3 and brings 4
  const h = applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 1), msg('lobby', 2), msg('lobby', 3), msg('lobby', 4)] }));
  assert.equal(h.added, 1);
  assert.deepEqual(seqs(s, 'lobby'), [1, 2, 3, 4]);
});

const items = (s, room) => getRoom(s, room).items.map((i) => (i.kind === 'message' ? i.seq : i.text));
const history = (room, lastSeq, seqList) => P({ type: 'history', room, lastSeq, messages: seqList.map((n) => msg(room, n)) });

test('a catch-up that missed more than the history holds says how many are gone, in place', () => {
  const s = started();
  applyServerMessage(s, history('lobby', 2, [1, 2]));
  applyServerMessage(s, msg('lobby', 3));
  // resumed after 57 more messages; the history keeps the last 50 (11..60)
  const kept = Array.from({ length: 50 }, (_, i) => 11 + i);
  applyServerMessage(s, history('lobby', 60, kept));
  assert.deepEqual(items(s, 'lobby'), [1, 2, 3, '7 messages you missed in lobby are no longer available', ...kept]);
  // with nothing kept at all (historySize 0), lastSeq alone tells
  applyServerMessage(s, history('lobby', 61, []));
  assert.deepEqual(items(s, 'lobby').slice(-1), ['1 message you missed in lobby is no longer available']);
  applyServerMessage(s, msg('lobby', 62));
  applyServerMessage(s, history('lobby', 64, []));
  assert.deepEqual(items(s, 'lobby').slice(-2), [62, '2 messages you missed in lobby are no longer available']);
});

test('no gap notice when nothing was lost, on a first history, or from a server without lastSeq', () => {
  const s = started();
  applyServerMessage(s, history('lobby', 40, [39, 40]));       // the past: not a gap
  applyServerMessage(s, history('lobby', 42, [40, 41, 42]));   // a catch-up that holds all that was missed
  applyServerMessage(s, history('lobby', 42, []));             // historySize 0, nothing new
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [] }));
  assert.deepEqual(items(s, 'lobby'), [39, 40, 41, 42]);
});

test('same seq in different rooms are different messages', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, msg('lobby', 1));
  applyServerMessage(s, msg('dev', 1));
  assert.deepEqual(seqs(s, 'lobby'), [1]);
  assert.deepEqual(seqs(s, 'dev'), [1]);
});

test('an older missing message is inserted in seq order', () => {
  const s = started();
  applyServerMessage(s, msg('lobby', 1));
  applyServerMessage(s, msg('lobby', 3));
  const rev = getRoom(s, 'lobby').rev;
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 2), msg('lobby', 3)] }));
  assert.deepEqual(seqs(s, 'lobby'), [1, 2, 3]);
  assert.ok(getRoom(s, 'lobby').rev > rev);
});

test('own messages are marked and do not count as unread', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  setCurrent(s, 'lobby');
  const r = applyServerMessage(s, msg('dev', 1, me));
  assert.equal(r.own, true);
  assert.equal(r.clearError, true);
  assert.equal(getRoom(s, 'dev').items[0].own, true);
  assert.equal(getRoom(s, 'dev').unread, 0);
});

test('unread counts: only live messages in other rooms; cleared on switch', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  assert.equal(s.current, 'dev');
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1)] }));
  applyServerMessage(s, msg('lobby', 1));
  applyServerMessage(s, msg('lobby', 2));
  applyServerMessage(s, msg('lobby', 2)); // duplicate: not counted
  applyServerMessage(s, msg('dev', 2));
  assert.equal(getRoom(s, 'lobby').unread, 2);
  assert.equal(getRoom(s, 'dev').unread, 0);
  // history for a non-current room is not unread
  applyServerMessage(s, P({ type: 'joined', room: 'ops' }, ));
  setCurrent(s, 'dev');
  applyServerMessage(s, P({ type: 'history', room: 'ops', messages: [msg('ops', 1), msg('ops', 2)] }));
  assert.equal(getRoom(s, 'ops').unread, 0);
  setCurrent(s, 'LOBBY');
  assert.equal(s.current, 'lobby');
  assert.equal(getRoom(s, 'lobby').unread, 0);
  assert.deepEqual(roomList(s).map((r) => [r.name, r.unread, r.current]), [
    ['lobby', 0, true], ['dev', 0, false], ['ops', 0, false],
  ]);
});

test('room switching: joined makes current, keepCurrent does not; unknown room refused', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'Dev' }));
  assert.equal(currentRoom(s).name, 'Dev');
  applyServerMessage(s, P({ type: 'joined', room: 'lobby' }), { keepCurrent: true });
  assert.equal(currentRoom(s).name, 'Dev');
  assert.equal(setCurrent(s, 'nope'), false);
  assert.equal(currentRoom(s).name, 'Dev');
});

test('left removes the room and follows the server current room', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'left', room: 'dev', current: 'lobby' }));
  assert.equal(getRoom(s, 'dev'), undefined);
  assert.equal(s.current, 'lobby');
  assert.match(currentRoom(s).items.at(-1).text, /you left dev/);
});

test('users list follows presence join / leave / rename, applied in order and idempotently', () => {
  const s = started();
  applyServerMessage(s, presence('lobby', join(bob)));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Alice', 'Bob']);
  applyServerMessage(s, presence('lobby', join(bob)));
  assert.equal(getRoom(s, 'lobby').users.length, 3, 'join is idempotent');
  applyServerMessage(s, presence('lobby', rename({ id: 'a', name: 'Zed' }, 'Alice')));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Bob', 'Zed']);
  applyServerMessage(s, presence('lobby', leave(bob)));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Zed']);
  applyServerMessage(s, presence('lobby', leave(bob)));
  // the repeated join and leave change nothing and say nothing
  assert.deepEqual(presenceLines(s, 'lobby'), ['Bob joined', 'Alice is now Zed', 'Bob left']);
  assert.equal(memberPanel(s, 'lobby').count, 2);
});

test('one presence with several changes: each applied in order, one line each', () => {
  const s = started();
  applyServerMessage(s, presence('lobby', join(bob), leave(alice), join(cy), rename({ id: 'c', name: 'Cyd' }, 'Cy'), leave(bob)));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Cyd']);
  assert.deepEqual(presenceLines(s, 'lobby'), ['Bob joined', 'Alice left', 'Cy joined', 'Cy is now Cyd', 'Bob left']);
  // replayed (e.g. after a users snapshot that already had them): nothing changes
  applyServerMessage(s, full('lobby', [me, { id: 'c', name: 'Cyd' }]));
  applyServerMessage(s, presence('lobby', join({ id: 'c', name: 'Cyd' }), rename({ id: 'c', name: 'Cyd' }, 'Cy'), leave(alice)));
  assert.equal(presenceLines(s, 'lobby').length, 5);
  // unknown events are skipped, the rest applies
  applyServerMessage(s, presence('lobby', { event: 'wave', user: bob }, join(bob)));
  assert.deepEqual(presenceLines(s, 'lobby').at(-1), 'Bob joined');
});

test('a rename reaches every shared room through its own presence, and large rooms at once', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, full('dev', [me, alice]));
  applyServerMessage(s, P({ type: 'joined', room: 'big' }));
  applyServerMessage(s, page('big', [alice, bob], 5000, '2'));
  applyServerMessage(s, presence('lobby', rename({ id: 'a', name: 'Ann' }, 'Alice')));
  applyServerMessage(s, presence('dev', rename({ id: 'a', name: 'Ann' }, 'Alice')));
  assert.deepEqual(getRoom(s, 'lobby').users.map((u) => u.name), ['Me', 'Ann']);
  assert.deepEqual(getRoom(s, 'dev').users.map((u) => u.name), ['Me', 'Ann']);
  // each small room says so once
  assert.deepEqual(presenceLines(s, 'lobby'), ['Alice is now Ann']);
  assert.deepEqual(presenceLines(s, 'dev'), ['Alice is now Ann']);
  // the large room gets no presence: its page follows anyway, without a line
  assert.deepEqual(getRoom(s, 'big').users.map((u) => u.name), ['Ann', 'Bob']);
  assert.deepEqual(presenceLines(s, 'big'), []);
});

test('a small room: full users replaces the list; the panel lists everyone', () => {
  const s = started();
  const r = applyServerMessage(s, full('lobby', [me, alice, bob, alice]));
  assert.equal(r.room, 'lobby');
  const room = getRoom(s, 'lobby');
  assert.equal(room.mode, 'full');
  assert.deepEqual(room.users.map((u) => u.id), ['me', 'a', 'b'], 'deduplicated');
  assert.deepEqual(memberPanel(s, 'lobby'), { mode: 'full', count: 3, users: [me, alice, bob] });
});

test('a large room: users is a page and the count; no presence lines; occupancy keeps the count', () => {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, page('lobby', many(50), 10234, '57'));
  const room = getRoom(s, 'lobby');
  assert.equal(room.mode, 'count');
  assert.equal(room.count, 10234);
  assert.equal(room.next, '57');
  let v = memberPanel(s, 'lobby');
  assert.equal(v.mode, 'count');
  assert.equal(v.count, 10234);
  assert.deepEqual(v.me, me);
  assert.equal(v.members.length, 50);
  assert.equal(v.more, true);
  assert.deepEqual(v.recent, []);
  // occupancy: count and recent arrivals, newest first, no per-member line
  let out = applyServerMessage(s, occupancy('lobby', 10236, [bob, cy]));
  assert.equal(out.needFirstPage, false);
  v = memberPanel(s, 'lobby');
  assert.equal(v.count, 10236);
  assert.deepEqual(v.recent.map((u) => u.name), ['Cy', 'Bob']);
  out = applyServerMessage(s, occupancy('lobby', 10235, [alice, bob]));
  assert.deepEqual(memberPanel(s, 'lobby').recent.map((u) => u.name), ['Bob', 'Alice', 'Cy'], 'moved up, not repeated');
  applyServerMessage(s, occupancy('lobby', 10300, many(30, 100)));
  assert.equal(memberPanel(s, 'lobby').recent.length, RECENT_MAX);
  assert.equal(memberPanel(s, 'lobby').recent[0].name, 'user-129');
  // me is shown once, apart from the recent arrivals and the pages
  applyServerMessage(s, occupancy('lobby', 10301, [me]));
  assert.ok(!memberPanel(s, 'lobby').recent.some((u) => u.id === 'me'));
  // a presence that arrives anyway (it should not) changes nothing
  applyServerMessage(s, presence('lobby', join({ id: 'zz', name: 'Zz' })));
  assert.deepEqual(presenceLines(s, 'lobby'), []);
  assert.equal(room.users.length, 50);
});

test('paging a large room: next pages append in order; stale or repeated replies are dropped', () => {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, page('lobby', many(50), 120, '50'));
  setPageLoading(s, 'lobby', true);
  assert.equal(memberPanel(s, 'lobby').loading, true);
  applyServerMessage(s, page('lobby', many(50, 50), 121, '100', { re: 3 }), { page: true, cursor: '50' });
  let v = memberPanel(s, 'lobby');
  assert.equal(v.loading, false);
  assert.equal(v.members.length, 100);
  assert.equal(v.members[99].name, 'user-99');
  assert.equal(v.count, 121);
  assert.equal(getRoom(s, 'lobby').next, '100');
  // the same page again (a double click): not appended twice
  applyServerMessage(s, page('lobby', many(50, 50), 121, '100'), { page: true, cursor: '50' });
  assert.equal(memberPanel(s, 'lobby').members.length, 100);
  // the last page: no next, no more button; overlapping members listed once
  applyServerMessage(s, page('lobby', many(22, 99), 121), { page: true, cursor: '100' });
  v = memberPanel(s, 'lobby');
  assert.equal(v.members.length, 121);
  assert.equal(v.more, false);
  assert.equal(getRoom(s, 'lobby').next, null);
});

test('a small room becoming large, and large becoming small again', () => {
  const s = started();
  applyServerMessage(s, presence('lobby', join(bob)));
  // the first occupancy says the room is large now: the full list is stale, fetch a page
  const out = applyServerMessage(s, occupancy('lobby', 4, [cy]));
  assert.equal(out.needFirstPage, true);
  assert.equal(out.room, 'lobby');
  let v = memberPanel(s, 'lobby');
  assert.equal(v.mode, 'count');
  assert.equal(v.count, 4);
  assert.deepEqual(v.members, []);
  assert.deepEqual(v.recent, [cy]);
  // the first page (reply to the page request without a cursor)
  applyServerMessage(s, page('lobby', [me, alice, bob, cy], 4, null, { re: 9 }), { page: true, cursor: null });
  v = memberPanel(s, 'lobby');
  assert.deepEqual(v.members.map((u) => u.name), ['Alice', 'Bob', 'Cy']);
  assert.deepEqual(v.recent, [cy], 'recent arrivals kept');
  assert.equal(v.more, false);
  assert.equal(v.stale, false, 'everyone counted is listed');
  applyServerMessage(s, occupancy('lobby', 5, [{ id: 'd', name: 'Di' }]));
  assert.equal(memberPanel(s, 'lobby').stale, true, 'the list ended before the newcomer: reload it');
  // small again: the server sends everyone, presence resumes
  applyServerMessage(s, full('lobby', [me, alice]));
  v = memberPanel(s, 'lobby');
  assert.deepEqual(v, { mode: 'full', count: 2, users: [me, alice] });
  assert.deepEqual(getRoom(s, 'lobby').recent, []);
  applyServerMessage(s, presence('lobby', join(bob)));
  assert.equal(memberPanel(s, 'lobby').count, 3);
  assert.deepEqual(presenceLines(s, 'lobby'), ['Bob joined', 'Bob joined']);
  // a late page reply after the room turned small is dropped
  applyServerMessage(s, page('lobby', [cy], 3, '9'), { page: true, cursor: '4' });
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Alice', 'Bob']);
  // ...but a first-page reply that turns out full is the list
  applyServerMessage(s, full('lobby', [me, bob]), { page: true, cursor: null });
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Bob']);
});

test('lookup of one name: the result is kept per room and never replaces the list', () => {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, page('lobby', many(50), 10234, '50'));
  setLookup(s, 'lobby', 'ann');
  assert.deepEqual(memberPanel(s, 'lobby').lookup, { name: 'ann', pending: true, found: null });
  applyServerMessage(s, page('lobby', [{ id: 'x', name: 'Ann' }], 10240, null, { name: 'ann', re: 4 }));
  let v = memberPanel(s, 'lobby');
  assert.deepEqual(v.lookup, { name: 'ann', pending: false, found: { id: 'x', name: 'Ann' } });
  assert.equal(v.members.length, 50, 'the pages are untouched');
  assert.equal(v.count, 10240);
  applyServerMessage(s, page('lobby', [], 10240, null, { name: 'Nobody' }));
  assert.deepEqual(memberPanel(s, 'lobby').lookup, { name: 'Nobody', pending: false, found: null });
  setLookup(s, 'lobby', null);
  assert.equal(memberPanel(s, 'lobby').lookup, null);
  // in a small room a lookup reply (mode full, one user) does not replace everyone either
  const t = started();
  applyServerMessage(t, P({ type: 'users', room: 'lobby', mode: 'full', count: 2, name: 'alice', users: [alice] }));
  assert.deepEqual(sortedUsers(t, 'lobby').map((u) => u.name), ['Me', 'Alice']);
});

test('/users and /find typed by the user answer with system lines', () => {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, page('lobby', [alice, bob], 10234, '2'));
  applyServerMessage(s, page('lobby', [alice, bob], 10235, '2', { re: 1 }), { requested: true });
  assert.equal(currentRoom(s).items.at(-1).text, 'users in lobby (10,235 online, first 2 shown): Alice, Bob');
  assert.equal(getRoom(s, 'lobby').count, 10235);
  applyServerMessage(s, page('lobby', [bob], 10235, null, { name: 'bob', re: 2 }), { requested: true });
  assert.equal(currentRoom(s).items.at(-1).text, 'Bob is in lobby');
  applyServerMessage(s, page('lobby', [], 10235, null, { name: 'zed', re: 3 }), { requested: true });
  assert.equal(currentRoom(s).items.at(-1).text, 'no one named zed in lobby');
  assert.equal(getRoom(s, 'lobby').lookup, null, 'the search box result is not touched');
  const t = started();
  applyServerMessage(t, full('lobby', [me, alice, bob]), { requested: true });
  assert.equal(currentRoom(t).items.at(-1).text, 'users in lobby: Me, Alice, Bob');
  assert.equal(getRoom(t, 'lobby').users.length, 3);
});

test('room directory: rooms snapshot, then roomsChanged (changed and removed), sorted, joined marked', () => {
  const s = started();
  assert.deepEqual(directoryList(s), []);
  const r = applyServerMessage(s, P({ type: 'rooms', rooms: [{ name: 'dev', users: 3 }, { name: 'lobby', users: 12 }], re: 2 }), { watch: true });
  assert.equal(r.directory, true);
  assert.equal(s.directoryKnown, true);
  // the watch reply is not said in the chat
  assert.equal(currentRoom(s).items.length, 0);
  assert.deepEqual(directoryList(s), [
    { key: 'dev', name: 'dev', users: 3, joined: false, current: false },
    { key: 'lobby', name: 'lobby', users: 12, joined: true, current: true },
  ]);
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [{ name: 'lobby', users: 10234 }, { name: 'Apps', users: 1 }], removed: ['dev'] }));
  assert.deepEqual(directoryList(s).map((x) => [x.name, x.users]), [['Apps', 1], ['lobby', 10234]]);
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [], removed: ['nope', 'APPS'] }));
  assert.deepEqual(directoryList(s).map((x) => x.name), ['lobby']);
  applyServerMessage(s, P({ type: 'joined', room: 'zoo' }));
  applyServerMessage(s, P({ type: 'roomsChanged', rooms: [{ name: 'zoo', users: 1 }], removed: [] }));
  assert.deepEqual(directoryList(s).map((x) => [x.name, x.joined, x.current]), [['lobby', true, false], ['zoo', true, true]]);
  // a typed /rooms is said in the chat, with separators, and is a snapshot too
  applyServerMessage(s, P({ type: 'rooms', rooms: [{ name: 'lobby', users: 10234 }] }));
  assert.equal(currentRoom(s).items.at(-1).text, 'rooms: lobby (10,234)');
  assert.deepEqual(directoryList(s).map((x) => x.name), ['lobby']);
});

test('offline: no stale member lists, counts or directory; a resume keeps them until the snapshots', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'rooms', rooms: [{ name: 'lobby', users: 2 }] }), { watch: true });
  applyServerMessage(s, P({ type: 'joined', room: 'big' }));
  applyServerMessage(s, page('big', many(50), 900, '50'));
  setPageLoading(s, 'big', true);
  setLookup(s, 'big', 'ann');
  // resumed: nothing is loading any more (the replies went with the old connection)
  applyServerMessage(s, welcome({ resumed: true, room: 'big', rooms: ['lobby', 'big'] }), { resumeAttempted: true });
  const v = memberPanel(s, 'big');
  assert.equal(v.loading, false);
  assert.equal(v.lookup, null);
  assert.equal(v.count, 900);
  assert.equal(directoryList(s).length, 1);
  clearPresence(s);
  assert.deepEqual(memberPanel(s, 'big'), { mode: 'full', count: 0, users: [] });
  assert.deepEqual(memberPanel(s, 'lobby'), { mode: 'full', count: 0, users: [] });
  assert.deepEqual(directoryList(s), []);
  assert.equal(s.directoryKnown, false);
});

test('renamed updates me everywhere', () => {
  const s = started();
  const r = applyServerMessage(s, P({ type: 'renamed', user: { id: 'me', name: 'Bob2' }, oldName: 'Me' }));
  assert.equal(r.renamed, 'Bob2');
  assert.equal(s.me.name, 'Bob2');
  assert.equal(getRoom(s, 'lobby').users.find((u) => u.id === 'me').name, 'Bob2');
});

test('users reply for a room not joined becomes a system line', () => {
  const s = started();
  applyServerMessage(s, full('elsewhere', [bob]));
  assert.equal(getRoom(s, 'elsewhere'), undefined);
  assert.equal(currentRoom(s).items.at(-1).text, 'users in elsewhere: Bob');
});

test('system, rooms and error messages', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'system', text: 'Commands: /join ROOM' }));
  applyServerMessage(s, P({ type: 'rooms', rooms: [{ name: 'lobby', users: 2 }, { name: 'dev', users: 1 }] }));
  const items = currentRoom(s).items;
  assert.equal(items.at(-2).kind, 'system');
  assert.equal(items.at(-2).text, 'Commands: /join ROOM');
  assert.equal(items.at(-1).text, 'rooms: lobby (2), dev (1)');
  const e = applyServerMessage(s, P({ type: 'error', code: 'name_taken', message: 'taken' }));
  assert.equal(e.error.code, 'name_taken');
});

test('resumed welcome keeps state; a refused resume keeps the rooms to rejoin and says so', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, msg('dev', 1));
  // resumed: same rooms kept, duplicates dropped
  const r1 = applyServerMessage(s, welcome({ resumed: true, room: 'dev', rooms: ['lobby', 'dev'] }), { resumeAttempted: true });
  assert.equal(r1.welcome.restarted, false);
  assert.deepEqual(r1.welcome.rejoin, []);
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1)] }));
  assert.deepEqual(seqs(s, 'dev'), [1]);
  assert.equal(s.current, 'dev');
  // refused (the server restarted): a new session in the lobby; dev is kept, to be joined again
  const r2 = applyServerMessage(s, welcome({ user: { id: 'new', name: 'other-name' } }), { resumeAttempted: true });
  assert.equal(r2.welcome.restarted, true);
  assert.deepEqual(r2.welcome.rejoin, ['dev']);
  assert.deepEqual(r2.welcome.leave, []);
  assert.equal(r2.welcome.current, null, 'joining dev again makes it current');
  assert.deepEqual([...s.rooms.keys()], ['lobby', 'dev']);
  assert.equal(s.current, 'dev', 'the room in view stays in view');
  assert.equal(s.me.id, 'new');
  assert.deepEqual(getRoom(s, 'dev').users, [], 'the old member list is gone');
  const items = currentRoom(s).items;
  assert.equal(items.at(-1).text, 'the server restarted: new session, back in your rooms');
  assert.deepEqual(seqs(s, 'dev'), [1], 'what was shown stays');
  // the new process counts from 1 again: a later seq 1 is a new message, after the old ones
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }), { keepCurrent: true, quiet: true });
  const later = (seq) => msg('dev', seq, alice, `new ${seq}`, { ts: '2026-11-22T11:00:00.000Z' });
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [later(1)] }));
  applyServerMessage(s, later(2));
  assert.deepEqual(getRoom(s, 'dev').items.filter((i) => i.kind === 'message').map((i) => i.text), ['m1', 'new 1', 'new 2']);
  // the same process replaying the old message (the session had only expired): not twice
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1), later(1), later(2)] }));
  assert.equal(getRoom(s, 'dev').items.filter((i) => i.kind === 'message').length, 3);
});

test('after a refused resume: back to the current room last, out of rooms that were left', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'joined', room: 'ops' }));
  applyServerMessage(s, P({ type: 'left', room: 'lobby', current: 'ops' }));
  setCurrent(s, 'dev');
  const r = applyServerMessage(s, welcome(), { resumeAttempted: true });
  assert.deepEqual(r.welcome.rejoin, ['dev', 'ops']);
  assert.equal(r.welcome.current, 'dev', 'ops is joined last: dev must be made current again');
  assert.deepEqual(r.welcome.leave, ['lobby']);
  assert.equal(s.current, 'dev');
  // a rejoin the server refuses: the room goes
  forgetRoom(s, 'ops');
  assert.deepEqual([...s.rooms.keys()], ['dev', 'lobby']);
  forgetRoom(s, 'dev');
  assert.equal(s.current, 'lobby');
});

test('a refused resume before any room is known rejoins nothing', () => {
  const s = createState();
  const r = applyServerMessage(s, welcome(), { resumeAttempted: true });
  assert.equal(r.welcome.restarted, true);
  assert.deepEqual([r.welcome.rejoin, r.welcome.leave, r.welcome.current], [[], [], null]);
  assert.equal(s.current, 'lobby');
});

test('after a resume, messages missed in other rooms count as unread; known ones do not', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 1)] }));
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1), msg('dev', 2)] }));
  applyServerMessage(s, P({ type: 'joined', room: 'empty' }));
  applyServerMessage(s, P({ type: 'history', room: 'empty', messages: [] }));
  setCurrent(s, 'lobby');
  assert.deepEqual(roomList(s).map((r) => r.unread), [0, 0, 0]);
  // a switch (idempotent join) replays known history: nothing new, nothing unread
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1), msg('dev', 2)] }));
  assert.equal(getRoom(s, 'dev').unread, 0);
  // dropped and resumed: the histories hold what was missed meanwhile
  applyServerMessage(s, welcome({ resumed: true, room: 'lobby', rooms: ['lobby', 'dev', 'empty'] }), { resumeAttempted: true });
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 1), msg('lobby', 2)] }));
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1), msg('dev', 2), msg('dev', 3), msg('dev', 4, me)] }));
  applyServerMessage(s, P({ type: 'history', room: 'empty', messages: [msg('empty', 1)] }));
  assert.deepEqual(seqs(s, 'dev'), [1, 2, 3, 4]);
  assert.deepEqual(roomList(s).map((r) => [r.name, r.unread]), [['lobby', 0], ['dev', 1], ['empty', 1]]);
  // a room joined for the first time: its history is the past, not unread
  applyServerMessage(s, P({ type: 'joined', room: 'ops' }), { keepCurrent: true });
  applyServerMessage(s, P({ type: 'history', room: 'ops', messages: [msg('ops', 1), msg('ops', 2)] }));
  assert.equal(getRoom(s, 'ops').unread, 0);
});

test('a fresh welcome without a resume attempt says nothing', () => {
  const s = createState();
  const r = applyServerMessage(s, welcome(), { resumeAttempted: false });
  assert.equal(r.welcome.restarted, false);
  assert.equal(currentRoom(s).items.length, 0);
});

test('items per room are capped', () => {
  const s = started();
  for (let i = 1; i <= MAX_ITEMS_PER_ROOM + 10; i++) applyServerMessage(s, msg('lobby', i));
  const r = getRoom(s, 'lobby');
  assert.equal(r.items.length, MAX_ITEMS_PER_ROOM);
  assert.equal(r.items[0].seq, 11);
  applyServerMessage(s, msg('lobby', 5));
  assert.equal(r.items.filter((i) => i.seq === 5).length, 0, 'trimmed seqs stay known');
});

test('grouping of consecutive messages', () => {
  const a1 = { kind: 'message', from: alice, action: false, ts: '2026-11-22T10:30:00Z' };
  const a2 = { kind: 'message', from: alice, action: false, ts: '2026-11-22T10:31:00Z' };
  const a3 = { kind: 'message', from: alice, action: false, ts: '2026-11-22T10:45:00Z' };
  const b = { kind: 'message', from: bob, action: false, ts: '2026-11-22T10:31:00Z' };
  const act = { ...a2, action: true };
  assert.equal(isGroupedWith(a1, a2), true);
  assert.equal(isGroupedWith(a1, b), false);
  assert.equal(isGroupedWith(a2, a3), false, 'long gap');
  assert.equal(isGroupedWith(a1, act), false);
  assert.equal(isGroupedWith({ kind: 'presence' }, a2), false);
  assert.equal(isGroupedWith(undefined, a2), false);
});

test('a late message for a room already left is ignored', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'left', room: 'dev', current: 'lobby' }));
  const r = applyServerMessage(s, msg('dev', 9));
  assert.equal(r.added, false);
  assert.equal(getRoom(s, 'dev'), undefined);
});

test('presence lines carry the receipt time given by the caller', () => {
  const s = started();
  applyServerMessage(s, presence('lobby', join(bob)), { now: '2026-11-22T11:00:00.000Z' });
  assert.equal(currentRoom(s).items.at(-1).ts, '2026-11-22T11:00:00.000Z');
  applyServerMessage(s, presence('lobby', leave(bob)));
  assert.equal(currentRoom(s).items.at(-1).ts, null);
});
