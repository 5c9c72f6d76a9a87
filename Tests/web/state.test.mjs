import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMessage } from '../../web/protocol.js';
import {
  createState, applyServerMessage, setCurrent, currentRoom, getRoom, sortedUsers, roomList,
  isGroupedWith, MAX_ITEMS_PER_ROOM,
} from '../../web/state.js';

const P = (o) => parseServerMessage(JSON.stringify(o));
const me = { id: 'me', name: 'Me' };
const alice = { id: 'a', name: 'Alice' };
const bob = { id: 'b', name: 'Bob' };

function welcome(extra = {}) {
  return P({ type: 'welcome', user: me, room: 'lobby', rooms: ['lobby'], token: 't1', limits: { maxMessageBytes: 100 }, ...extra });
}
function msg(room, seq, from = alice, text = `m${seq}`, extra = {}) {
  return P({ type: 'message', room, seq, ts: '2026-11-22T10:30:00.000Z', from, text, ...extra });
}
function started() {
  const s = createState();
  applyServerMessage(s, welcome());
  applyServerMessage(s, P({ type: 'users', room: 'lobby', users: [me, alice] }));
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

test('users list follows presence join / leave / rename', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'join', user: bob }));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Alice', 'Bob']);
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'join', user: bob }));
  assert.equal(getRoom(s, 'lobby').users.length, 3, 'join is idempotent');
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'rename', user: { id: 'a', name: 'Zed' }, oldName: 'Alice' }));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Bob', 'Zed']);
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'leave', user: bob }));
  assert.deepEqual(sortedUsers(s, 'lobby').map((u) => u.name), ['Me', 'Zed']);
  const lines = currentRoom(s).items.filter((i) => i.kind === 'presence').map((i) => i.text);
  assert.deepEqual(lines, ['Bob joined', 'Bob joined', 'Alice is now Zed', 'Bob left']);
});

test('rename presence updates the user in every shared room', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, P({ type: 'users', room: 'dev', users: [me, alice] }));
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'rename', user: { id: 'a', name: 'Ann' }, oldName: 'Alice' }));
  assert.deepEqual(getRoom(s, 'dev').users.map((u) => u.name), ['Me', 'Ann']);
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
  applyServerMessage(s, P({ type: 'users', room: 'elsewhere', users: [bob] }));
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

test('resumed welcome keeps state; refused resume starts fresh and says so', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'joined', room: 'dev' }));
  applyServerMessage(s, msg('dev', 1));
  // resumed: same rooms kept, duplicates dropped
  const r1 = applyServerMessage(s, welcome({ resumed: true, room: 'dev', rooms: ['lobby', 'dev'] }), { resumeAttempted: true });
  assert.equal(r1.welcome.restarted, false);
  applyServerMessage(s, P({ type: 'history', room: 'dev', messages: [msg('dev', 1)] }));
  assert.deepEqual(seqs(s, 'dev'), [1]);
  assert.equal(s.current, 'dev');
  // refused
  const r2 = applyServerMessage(s, welcome({ user: { id: 'new', name: 'other-name' } }), { resumeAttempted: true });
  assert.equal(r2.welcome.restarted, true);
  assert.deepEqual([...s.rooms.keys()], ['lobby']);
  assert.equal(s.me.id, 'new');
  const items = currentRoom(s).items;
  assert.equal(items.length, 1);
  assert.equal(items[0].text, 'the server restarted: new session');
  // the old seq 1 in a new session is a new message again
  applyServerMessage(s, P({ type: 'history', room: 'lobby', messages: [msg('lobby', 1)] }));
  assert.deepEqual(seqs(s, 'lobby'), [1]);
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

test('presence lines take the server ts, else the receipt time given by the caller', () => {
  const s = started();
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'join', user: bob }), { now: '2026-11-22T11:00:00.000Z' });
  assert.equal(currentRoom(s).items.at(-1).ts, '2026-11-22T11:00:00.000Z');
  applyServerMessage(s, P({ type: 'presence', room: 'lobby', event: 'leave', user: bob, ts: '2026-11-22T12:00:00.000Z' }), { now: 'x' });
  assert.equal(currentRoom(s).items.at(-1).ts, '2026-11-22T12:00:00.000Z');
});
