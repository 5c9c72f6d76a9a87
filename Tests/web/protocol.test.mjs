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
});

test('presence, users, error, renamed, joined, left, rooms, ack, system', () => {
  assert.deepEqual(parseServerMessage('{"type":"presence","room":"lobby","event":"rename","user":{"id":"u","name":"B"},"oldName":"A"}'),
    { type: 'presence', room: 'lobby', event: 'rename', user: { id: 'u', name: 'B' }, oldName: 'A', ts: null });
  assert.deepEqual(parseServerMessage('{"type":"users","room":"lobby","users":[{"id":"a","name":"A"}]}').users, [{ id: 'a', name: 'A' }]);
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

test('WebSocket URL: resume wins over name; wss on https', () => {
  assert.equal(buildWsUrl({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/ws');
  assert.equal(buildWsUrl({ protocol: 'https:', host: 'chat.example', path: '/chat' }), 'wss://chat.example/chat');
  assert.equal(buildWsUrl({ protocol: 'http:', host: 'h', name: 'Bob Smith' }), 'ws://h/ws?name=Bob+Smith');
  assert.equal(buildWsUrl({ protocol: 'http:', host: 'h', token: 'a/b+c', name: 'Bob' }), 'ws://h/ws?resume=a%2Fb%2Bc');
  assert.equal(buildWsUrl({ protocol: 'http:', host: 'h', path: 'bad' }), 'ws://h/ws');
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
