import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseServerMessage, buildSend, buildJoin, buildLeave, buildName, buildRooms, buildUsers,
  buildWsUrl, isValidRoomName, isValidUserName, roomKey,
} from '../../web/protocol.js';

test('invalid frames parse to null', () => {
  assert.equal(parseServerMessage('not json'), null);
  assert.equal(parseServerMessage('[]'), null);
  assert.equal(parseServerMessage('{"type":"nope"}'), null);
  assert.equal(parseServerMessage('{"text":"x"}'), null);
  assert.equal(parseServerMessage('null'), null);
});

test('welcome', () => {
  const w = parseServerMessage(JSON.stringify({
    type: 'welcome', user: { id: 'u1', name: 'quiet-otter-42' }, room: 'lobby', rooms: ['lobby', 'Dev'],
    token: 'T', limits: { maxMessageBytes: 4096 },
  }));
  assert.deepEqual(w, {
    type: 'welcome', user: { id: 'u1', name: 'quiet-otter-42' }, room: 'lobby', rooms: ['lobby', 'Dev'],
    token: 'T', resumed: false, limits: { maxMessageBytes: 4096 }, serverName: null,
  });
  const r = parseServerMessage('{"type":"welcome","user":{"id":"u1","name":"a"},"room":"dev","rooms":["lobby"],"token":"T2","resumed":true,"server":{"name":"My Confab"}}');
  assert.equal(r.resumed, true);
  assert.deepEqual(r.rooms, ['dev', 'lobby']);
  assert.equal(r.serverName, 'My Confab');
  assert.equal(r.limits.maxMessageBytes, null);
});

test('message, history, action', () => {
  const m = parseServerMessage('{"type":"message","room":"lobby","seq":42,"ts":"2026-11-22T10:30:00.123Z","from":{"id":"u","name":"Al"},"text":"hi <b>"}');
  assert.deepEqual(m, {
    type: 'message', room: 'lobby', seq: 42, ts: '2026-11-22T10:30:00.123Z',
    from: { id: 'u', name: 'Al' }, text: 'hi <b>', action: false,
  });
  const h = parseServerMessage('{"type":"history","room":"dev","messages":[{"seq":1,"from":{"id":"u","name":"Al"},"text":"waves","action":true}]}');
  assert.equal(h.messages.length, 1);
  assert.equal(h.messages[0].room, 'dev');
  assert.equal(h.messages[0].action, true);
  assert.equal(h.lastSeq, null, 'no lastSeq from the server: unknown, not 0');
  assert.equal(parseServerMessage('{"type":"history","room":"dev","lastSeq":41,"messages":[]}').lastSeq, 41);
});

test('presence, users, error, renamed, joined, left, rooms, ack, system', () => {
  assert.deepEqual(parseServerMessage('{"type":"presence","room":"lobby","changes":[{"event":"rename","user":{"id":"u","name":"B"},"oldName":"A"}]}'),
    { type: 'presence', room: 'lobby', changes: [{ event: 'rename', user: { id: 'u', name: 'B' }, oldName: 'A' }] });
  assert.deepEqual(parseServerMessage('{"type":"users","room":"lobby","mode":"full","count":1,"users":[{"id":"a","name":"A"}]}').users, [{ id: 'a', name: 'A' }]);
  const e = parseServerMessage('{"type":"error","code":"rate_limited","message":"slow down","re":7,"retryAfterMs":1200}');
  assert.equal(e.code, 'rate_limited');
  assert.equal(e.re, 7);
  assert.equal(e.retryAfterMs, 1200);
  assert.equal(parseServerMessage('{"type":"renamed","user":{"id":"u","name":"Bob"},"oldName":"x"}').user.name, 'Bob');
  assert.deepEqual(parseServerMessage('{"type":"joined","room":"dev","re":3}'), { type: 'joined', room: 'dev', re: 3 });
  assert.deepEqual(parseServerMessage('{"type":"left","room":"dev","current":"lobby"}'), { type: 'left', room: 'dev', current: 'lobby', re: undefined });
  assert.deepEqual(parseServerMessage('{"type":"rooms","rooms":[{"name":"lobby","users":3}]}').rooms, [{ name: 'lobby', users: 3 }]);
  assert.deepEqual(parseServerMessage('{"type":"ack","re":5,"room":"lobby","seq":9}'), { type: 'ack', re: 5, room: 'lobby', seq: 9 });
  assert.equal(parseServerMessage('{"type":"system","text":"/join ROOM"}').text, '/join ROOM');
});

test('builders', () => {
  assert.deepEqual(JSON.parse(buildSend('hi')), { type: 'send', text: 'hi' });
  assert.deepEqual(JSON.parse(buildSend('hi', { room: 'dev', id: 4 })), { type: 'send', text: 'hi', room: 'dev', id: 4 });
  assert.deepEqual(JSON.parse(buildSend('/me waves', { id: 0 })), { type: 'send', text: '/me waves', id: 0 });
  assert.deepEqual(JSON.parse(buildJoin('dev', 1)), { type: 'join', room: 'dev', id: 1 });
  assert.deepEqual(JSON.parse(buildLeave('dev', 2)), { type: 'leave', room: 'dev', id: 2 });
  assert.deepEqual(JSON.parse(buildLeave()), { type: 'leave' });
  assert.deepEqual(JSON.parse(buildName('Bob', 3)), { type: 'name', name: 'Bob', id: 3 });
  assert.deepEqual(JSON.parse(buildRooms()), { type: 'rooms' });
  assert.deepEqual(JSON.parse(buildUsers('dev')), { type: 'users', room: 'dev' });
});

test('WebSocket URL: relative to the page, wss on https, resume with the name for a new session', () => {
  assert.equal(buildWsUrl({ page: 'http://127.0.0.1:8080/' }), 'ws://127.0.0.1:8080/ws');
  assert.equal(buildWsUrl({ page: 'https://chat.example/', path: '/chat' }), 'wss://chat.example/chat');
  assert.equal(buildWsUrl({ page: 'http://h/', name: 'Bob Smith' }), 'ws://h/ws?name=Bob+Smith');
  assert.equal(buildWsUrl({ page: 'http://h/', token: 'a/b+c', name: 'Bob' }), 'ws://h/ws?resume=a%2Fb%2Bc&name=Bob');
  assert.equal(buildWsUrl({ page: 'http://h/', token: 'abc' }), 'ws://h/ws?resume=abc');
  assert.equal(buildWsUrl({ page: 'http://h/', path: 'bad' }), 'ws://h/ws');
  assert.equal(buildWsUrl({ page: 'http://h/', path: '//elsewhere.example/x' }), 'ws://h/ws', 'never another host');
  // behind a proxy that serves Confab under a prefix
  assert.equal(buildWsUrl({ page: 'https://example.com/chat/' }), 'wss://example.com/chat/ws');
  assert.equal(buildWsUrl({ page: 'https://example.com/chat/index.html?x=1#top', path: '/live/socket' }),
    'wss://example.com/chat/live/socket');
  assert.equal(buildWsUrl({ page: 'http://h/p/', path: '/a:b' }), 'ws://h/p/a:b', 'a colon is not a scheme');
  assert.equal(buildWsUrl({ page: 'http://h/', token: 'r', jwt: 'x.y.z' }), 'ws://h/ws?resume=r&token=x.y.z');
});

test('name and room validation', () => {
  assert.equal(isValidRoomName('dev_1-x'), true);
  assert.equal(isValidRoomName('a'.repeat(32)), true);
  assert.equal(isValidRoomName('a'.repeat(33)), false);
  assert.equal(isValidRoomName('with space'), false);
  assert.equal(isValidRoomName(''), false);
  assert.equal(isValidUserName(' Bob Smith '), true);
  assert.equal(isValidUserName('Zoë.x_y-1'), true);
  assert.equal(isValidUserName('<script>'), false);
  assert.equal(isValidUserName('x'.repeat(25)), false);
  assert.equal(roomKey('DeV'), 'dev');
});

test('presence: the changes of one moment, in order; junk entries dropped', () => {
  const p = parseServerMessage(JSON.stringify({
    type: 'presence', room: 'lobby', changes: [
      { event: 'leave', user: { id: 'b', name: 'Bob' } },
      { event: 'join', user: { id: 'c', name: 'Cy' } },
      { event: 'rename', user: { id: 'a', name: 'Al' }, oldName: 'Alice' },
      null, 'x', { user: { id: 'z', name: 'Z' } },
    ],
  }));
  assert.deepEqual(p, {
    type: 'presence', room: 'lobby', changes: [
      { event: 'leave', user: { id: 'b', name: 'Bob' }, oldName: null },
      { event: 'join', user: { id: 'c', name: 'Cy' }, oldName: null },
      { event: 'rename', user: { id: 'a', name: 'Al' }, oldName: 'Alice' },
    ],
  });
  assert.deepEqual(parseServerMessage('{"type":"presence","room":"lobby"}').changes, []);
});

test('users: mode full and count, count, next, name', () => {
  const fullList = parseServerMessage('{"type":"users","room":"lobby","mode":"full","count":2,"users":[{"id":"u1","name":"Alice"},{"id":"u2","name":"Bob"}]}');
  assert.deepEqual(fullList, {
    type: 'users', room: 'lobby', mode: 'full', count: 2,
    users: [{ id: 'u1', name: 'Alice' }, { id: 'u2', name: 'Bob' }], next: null, name: null, re: undefined,
  });
  const pageOne = parseServerMessage('{"type":"users","room":"lobby","mode":"count","count":10234,"users":[{"id":"u1","name":"Alice"}],"next":"57"}');
  assert.equal(pageOne.mode, 'count');
  assert.equal(pageOne.count, 10234);
  assert.equal(pageOne.next, '57');
  assert.equal(pageOne.name, null);
  const lookup = parseServerMessage('{"type":"users","room":"lobby","mode":"count","count":10234,"name":"ann","users":[{"id":"x","name":"Ann"}],"re":6}');
  assert.equal(lookup.name, 'ann');
  assert.equal(lookup.re, 6);
  assert.deepEqual(lookup.users, [{ id: 'x', name: 'Ann' }]);
  // an older server without mode/count: a full list counted from its users
  const old = parseServerMessage('{"type":"users","room":"lobby","users":[{"id":"a","name":"A"}]}');
  assert.equal(old.mode, 'full');
  assert.equal(old.count, 1);
});

test('occupancy and roomsChanged', () => {
  assert.deepEqual(parseServerMessage('{"type":"occupancy","room":"lobby","count":10234,"recent":[{"id":"c","name":"Cy"}]}'),
    { type: 'occupancy', room: 'lobby', count: 10234, recent: [{ id: 'c', name: 'Cy' }] });
  assert.deepEqual(parseServerMessage('{"type":"occupancy","room":"lobby","count":"x"}'),
    { type: 'occupancy', room: 'lobby', count: 0, recent: [] });
  assert.deepEqual(parseServerMessage('{"type":"roomsChanged","rooms":[{"name":"lobby","users":10234},{"name":"dev","users":3}],"removed":["tmp"]}'),
    { type: 'roomsChanged', rooms: [{ name: 'lobby', users: 10234 }, { name: 'dev', users: 3 }], removed: ['tmp'] });
  assert.deepEqual(parseServerMessage('{"type":"roomsChanged","rooms":[{"users":1}],"removed":[5]}'),
    { type: 'roomsChanged', rooms: [], removed: [] });
});

test('builders: rooms watch, users pages and lookup', () => {
  assert.deepEqual(JSON.parse(buildRooms(4, { watch: true })), { type: 'rooms', watch: true, id: 4 });
  assert.deepEqual(JSON.parse(buildRooms(undefined, { watch: false })), { type: 'rooms', watch: false });
  assert.deepEqual(JSON.parse(buildUsers('lobby', 5)), { type: 'users', room: 'lobby', id: 5 });
  assert.deepEqual(JSON.parse(buildUsers('lobby', 6, { cursor: '1234', limit: 100 })),
    { type: 'users', room: 'lobby', cursor: '1234', limit: 100, id: 6 });
  assert.deepEqual(JSON.parse(buildUsers('lobby', 7, { cursor: '9', limit: 5000 })).limit, 200);
  assert.deepEqual(JSON.parse(buildUsers('lobby', 7, { cursor: '9', limit: 0 })).limit, 1);
  assert.deepEqual(JSON.parse(buildUsers('lobby', 8, { name: 'Ann' })), { type: 'users', room: 'lobby', name: 'Ann', id: 8 });
});
