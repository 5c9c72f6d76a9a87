import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Connection, backoffDelay, restartDelay, TOKEN_KEY, NAME_KEY, CONNECT_TIMEOUT_MS, FINAL_CLOSE_CODES, EXPIRED_MESSAGE,
} from '../../web/connection.js';
import { MemStorage } from './fake-dom.mjs';

function harness({ token = null, name = null, random = () => 0.5, jwt = null } = {}) {
  const sockets = [];
  class FakeWS {
    constructor(url) { this.url = url; this.readyState = 0; this.sent = []; this.closed = null; sockets.push(this); }
    send(d) { this.sent.push(d); }
    close(code, reason) { this.closed = { code, reason }; this.readyState = 3; }
    open() { this.readyState = 1; this.onopen?.({}); }
    recv(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
    drop(code = 1006) { this.readyState = 3; this.onclose({ code, reason: '' }); }
  }
  const timers = [];
  let now = 1000;
  const session = new MemStorage();
  const local = new MemStorage();
  if (token) session.setItem(TOKEN_KEY, token);
  if (name) local.setItem(NAME_KEY, name);
  const messages = [];
  const statuses = [];
  const conn = new Connection({
    page: 'http://h:1/', path: '/ws', WebSocket: FakeWS, session, local, random,
    onMessage: (m, ctx) => messages.push([m, ctx]),
    onStatus: (s) => statuses.push(s),
    setTimeout: (f, ms) => { timers.push({ f, ms, done: false }); return timers.length - 1; },
    clearTimeout: (t) => { if (timers[t]) timers[t].done = true; },
    now: () => now,
    jwt: () => jwt,
  });
  const fire = () => {
    const t = timers.find((x) => !x.done);
    assert.ok(t, 'a timer is pending');
    t.done = true;
    now += t.ms;
    t.f();
    return t.ms;
  };
  const pendingTimers = () => timers.filter((x) => !x.done);
  return { conn, sockets, session, local, messages, statuses, fire, pendingTimers };
}

const W = (extra = {}) => ({ type: 'welcome', user: { id: 'u', name: 'n' }, room: 'lobby', rooms: ['lobby'], token: 'tok1', ...extra });

test('backoff: 0.5 s doubling to 15 s with ±30 % jitter', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, mid)), [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.equal(backoffDelay(0, () => 0), 350);
  assert.equal(backoffDelay(0, () => 0.999999), 650);
  assert.equal(backoffDelay(20, () => 0), 10500);
  assert.equal(backoffDelay(20, () => 0.999999), 19500);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, Math.random);
    assert.ok(d >= 2800 && d <= 5200, String(d));
  }
});

test('fresh session sends ?name=, stores the token, goes online', () => {
  const h = harness({ name: 'Bob' });
  h.conn.start();
  assert.equal(h.statuses[0].status, 'connecting');
  assert.equal(h.sockets[0].url, 'ws://h:1/ws?name=Bob');
  h.sockets[0].open();
  h.sockets[0].recv(W());
  assert.equal(h.statuses.at(-1).status, 'online');
  assert.equal(h.session.getItem(TOKEN_KEY), 'tok1');
  assert.equal(h.messages[0][0].type, 'welcome');
  assert.equal(h.messages[0][1].resumeAttempted, false);
});

test('a stored token (page reload) resumes, with the remembered name for a new session', () => {
  const h = harness({ token: 'abc', name: 'Bob' });
  h.conn.start();
  assert.equal(h.sockets[0].url, 'ws://h:1/ws?resume=abc&name=Bob');
  h.sockets[0].open();
  h.sockets[0].recv(W({ resumed: true, token: 'tok2' }));
  assert.equal(h.messages[0][1].resumeAttempted, true);
  assert.equal(h.session.getItem(TOKEN_KEY), 'tok2', 'single-use token replaced');
});

test('unplanned drop: reconnecting with backoff, then resume with the token', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].open();
  h.sockets[0].recv(W());
  h.sockets[0].drop(1006);
  const st = h.statuses.at(-1);
  assert.equal(st.status, 'reconnecting');
  assert.equal(st.delayMs, 500);
  assert.equal(st.retryAt, 1500);
  assert.equal(h.fire(), 500);
  // the session's name goes along: a server that no longer knows the token keeps it
  assert.equal(h.sockets[1].url, 'ws://h:1/ws?resume=tok1&name=n');
  // the attempt fails: next delay doubles
  h.sockets[1].drop(1006);
  assert.equal(h.statuses.at(-1).delayMs, 1000);
  h.fire();
  h.sockets[2].drop(1006);
  assert.equal(h.statuses.at(-1).delayMs, 2000);
  h.fire();
  h.sockets[3].open();
  h.sockets[3].recv(W({ resumed: true, token: 'tok3' }));
  assert.equal(h.statuses.at(-1).status, 'online');
  // after success the backoff starts over
  h.sockets[3].drop(1001);
  assert.equal(h.statuses.at(-1).delayMs, 500);
});

test('leaving through the UI closes with 1000, forgets the token, stays offline', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].open();
  h.sockets[0].recv(W());
  h.conn.leave();
  assert.deepEqual(h.sockets[0].closed, { code: 1000, reason: 'bye' });
  assert.equal(h.session.getItem(TOKEN_KEY), null);
  assert.equal(h.statuses.at(-1).status, 'offline');
  h.sockets[0].onclose?.({ code: 1000 });
  assert.equal(h.pendingTimers().length, 0, 'no reconnect');
  assert.equal(h.sockets.length, 1);
  // connecting again is a fresh session
  h.conn.start();
  assert.equal(h.sockets[1].url, 'ws://h:1/ws');
});

for (const code of [1008, 4000]) {
  test(`server close ${code} ends the session: offline with the reason, token forgotten, no retry`, () => {
    const h = harness();
    h.conn.start();
    h.sockets[0].open();
    h.sockets[0].recv(W());
    h.sockets[0].drop(code);
    const st = h.statuses.at(-1);
    assert.equal(st.status, 'offline');
    assert.equal(st.code, code);
    assert.equal(st.message, FINAL_CLOSE_CODES.get(code));
    assert.equal(h.session.getItem(TOKEN_KEY), null);
    assert.equal(h.pendingTimers().length, 0, 'no reconnect scheduled');
    assert.equal(h.sockets.length, 1);
    // Connect (start) is a fresh session, not a resume
    h.conn.start();
    assert.equal(h.sockets[1].url, 'ws://h:1/ws');
  });
}

test('other server closes (1001 shutdown, 1012 restart, 1011, 1009) still reconnect and resume', () => {
  for (const code of [1001, 1012, 1011, 1009]) {
    const h = harness();
    h.conn.start();
    h.sockets[0].open();
    h.sockets[0].recv(W());
    h.sockets[0].drop(code);
    assert.equal(h.statuses.at(-1).status, 'reconnecting', String(code));
    h.fire();
    assert.equal(h.sockets[1].url, 'ws://h:1/ws?resume=tok1&name=n');
  }
});

test('leave during the backoff wait cancels the retry', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].drop();
  assert.equal(h.pendingTimers().length, 1);
  h.conn.leave();
  assert.equal(h.pendingTimers().length, 0);
  assert.equal(h.statuses.at(-1).status, 'offline');
});

test('send only while open; garbage frames ignored; stale sockets ignored', () => {
  const h = harness();
  h.conn.start();
  assert.equal(h.conn.send('x'), false);
  h.sockets[0].open();
  assert.equal(h.conn.send('x'), true);
  assert.deepEqual(h.sockets[0].sent, ['x']);
  h.sockets[0].onmessage({ data: 'not json' });
  assert.equal(h.messages.length, 0);
  const old = h.sockets[0];
  old.drop();
  h.fire();
  old.onmessage({ data: JSON.stringify(W()) });
  assert.equal(h.messages.length, 0, 'old socket is ignored');
});

test('retryNow skips the wait', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].drop();
  h.conn.retryNow();
  assert.equal(h.sockets.length, 2);
  assert.deepEqual(h.pendingTimers().map((t) => t.ms), [CONNECT_TIMEOUT_MS], 'only the connect timeout');
});

test('an error without a close event still leads to a retry', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].readyState = 3;
  h.sockets[0].onerror({});
  assert.equal(h.statuses.at(-1).status, 'reconnecting');
  h.sockets[0].onclose({ code: 1006 }); // a late close is ignored
  assert.equal(h.pendingTimers().length, 1);
  h.fire();
  assert.equal(h.sockets.length, 2);
});

test('an attempt with no welcome in time is abandoned and retried', () => {
  const h = harness();
  h.conn.start();
  h.sockets[0].open();
  assert.equal(h.fire(), CONNECT_TIMEOUT_MS);
  assert.equal(h.sockets[0].readyState, 3);
  assert.equal(h.statuses.at(-1).status, 'reconnecting');
  h.fire();
  h.sockets[1].open();
  h.sockets[1].recv(W());
  assert.equal(h.pendingTimers().length, 0, 'connect timeout cleared by the welcome');
});

test('rememberName stores the chosen name for the next fresh session', () => {
  const h = harness();
  h.conn.rememberName('Carol');
  assert.equal(h.local.getItem(NAME_KEY), 'Carol');
  h.conn.start();
  assert.equal(h.sockets[0].url, 'ws://h:1/ws?name=Carol');
});

test('close 1012 (service restart): back after a random 0.25-2.5 s, then the usual backoff', () => {
  assert.equal(restartDelay(() => 0), 250);
  assert.equal(restartDelay(() => 0.5), 1375);
  assert.equal(restartDelay(() => 0.999999), 2500);
  for (const [random, expected] of [[() => 0, 250], [() => 0.999999, 2500]]) {
    const h = harness({ random });
    h.conn.start();
    h.sockets[0].open();
    h.sockets[0].recv(W());
    h.sockets[0].drop(1012);
    assert.equal(h.statuses.at(-1).status, 'reconnecting');
    assert.equal(h.fire(), expected);
    assert.equal(h.sockets[1].url, 'ws://h:1/ws?resume=tok1&name=n');
    // the new process is not up yet: the backoff takes over, the restart wait its first step
    h.sockets[1].drop(1006);
    assert.equal(h.statuses.at(-1).delayMs, backoffDelay(1, random));
  }
});

test('a rename is the name asked for if a resume is refused', () => {
  const h = harness({ name: 'Bob' });
  h.conn.start();
  h.sockets[0].open();
  h.sockets[0].recv(W({ user: { id: 'u', name: 'Bob' } }));
  h.sockets[0].recv({ type: 'renamed', user: { id: 'u', name: 'Robert' }, oldName: 'Bob' });
  h.sockets[0].drop(1006);
  h.fire();
  assert.equal(h.sockets[1].url, 'ws://h:1/ws?resume=tok1&name=Robert');
});

test('an account token goes along on every attempt, resume or not', () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'HS256' })}.${b64({ sub: 'a', exp: 10 })}.s`;  // exp 10 s; the clock starts at 1 s
  const h = harness({ jwt, name: 'Ann' });
  h.conn.start();
  assert.equal(h.sockets[0].url, `ws://h:1/ws?name=Ann&token=${jwt}`);
  h.sockets[0].recv(W());
  h.sockets[0].drop();
  h.fire();
  assert.equal(h.sockets[1].url, `ws://h:1/ws?resume=tok1&name=n&token=${jwt}`);
});

test('an expired account token ends the connection attempts with a reason', () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'HS256' })}.${b64({ sub: 'a', exp: 1 })}.s`;  // exp 1 s = the harness's clock
  const h = harness({ jwt });
  h.conn.start();
  assert.equal(h.sockets.length, 0);
  assert.deepEqual(h.statuses.at(-1), { status: 'offline', code: 401, reason: 'token_expired', message: EXPIRED_MESSAGE });
  assert.equal(h.pendingTimers().length, 0);
});
