// WebSocket lifecycle: connect, resume with a token, reconnect with backoff.
// No browser globals at module top level: everything is injected, so it can
// be tested in Node with a fake WebSocket and fake timers.
import { buildWsUrl, parseServerMessage } from './protocol.js';
import { tokenExpired } from './auth.js';

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 15000;
export const BACKOFF_JITTER = 0.3;
export const TOKEN_KEY = 'confab.token';
export const NAME_KEY = 'confab.name';
/** Give up on an attempt that has not produced a welcome after this long. */
export const CONNECT_TIMEOUT_MS = 10000;
/**
 * After close 1012 (service restart) the first attempt waits a random time in this
 * range: long enough for the new process to listen, spread so that all of a restarted
 * server's pages do not come back in the same moment.
 */
export const RESTART_DELAY_MS = [250, 2500];

/**
 * Server close codes that end the session for good: retrying would not resume
 * it, so the client goes offline and says why instead of reconnecting.
 *  1008: too many rate-limited requests in a row (the session was ended)
 *  4000: another connection (e.g. a duplicated tab) resumed this session
 */
export const FINAL_CLOSE_CODES = new Map([
  [1008, 'Disconnected by the server: too many requests too fast'],
  [4000, 'This session was taken over by another tab or window'],
]);

/** Shown when the account token is past its expiry: only the embedding app can renew it. */
export const EXPIRED_MESSAGE = 'Your sign-in has expired: open the chat again from your app';

/**
 * Delay before reconnect attempt number `attempt` (0-based):
 * 0.5 s doubling up to 15 s, then ±30 % jitter.
 * @param {number} attempt
 * @param {() => number} random  returns [0, 1)
 */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  const jitter = (random() * 2 - 1) * BACKOFF_JITTER;
  return Math.max(0, Math.round(base * (1 + jitter)));
}

function safeGet(storage, key) {
  try { return storage?.getItem(key) ?? null; } catch { return null; }
}
function safeSet(storage, key, value) {
  try {
    if (value === null || value === undefined) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch { /* storage disabled: ignore */ }
}

/** The wait before reconnecting after a 1012, from `random` in [0, 1). */
export function restartDelay(random = Math.random) {
  const [lo, hi] = RESTART_DELAY_MS;
  return Math.round(lo + (hi - lo) * Math.min(Math.max(random(), 0), 1));
}

/**
 * Status callback receives one of:
 *  {status:'connecting'} | {status:'online'} |
 *  {status:'reconnecting', delayMs, retryAt} |
 *  {status:'offline', code?, reason?, message?}  (message: why the server ended the session)
 */
export class Connection {
  /**
   * @param {object} o
   * @param {string} o.page      location.href: the WebSocket URL is relative to the page
   * @param {string} [o.path]    the server's WebSocket path, default /ws
   * @param {Function} o.WebSocket  WebSocket constructor
   * @param {Storage} [o.session]  sessionStorage (resume token)
   * @param {Storage} [o.local]    localStorage (remembered name)
   * @param {(msg:object, ctx:{resumeAttempted:boolean}) => void} o.onMessage
   * @param {(s:object) => void} [o.onStatus]
   * @param {Function} [o.setTimeout]
   * @param {Function} [o.clearTimeout]
   * @param {() => number} [o.random]
   * @param {() => number} [o.now]
   * @param {() => string|null} [o.jwt]  the account token (JWT) to sign in with, if any
   */
  constructor(o) {
    this.o = o;
    this.path = o.path || '/ws';
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.connectTimer = null;
    this.stopped = true;
    this.resumeAttempted = false;
    /** The current session's name: asked for again if a resume is refused. */
    this.sessionName = null;
    this.status = 'offline';
    this._setTimeout = o.setTimeout ?? ((f, ms) => setTimeout(f, ms));
    this._clearTimeout = o.clearTimeout ?? ((t) => clearTimeout(t));
    this._random = o.random ?? Math.random;
    this._now = o.now ?? (() => Date.now());
  }

  get token() { return safeGet(this.o.session, TOKEN_KEY); }
  set token(v) { safeSet(this.o.session, TOKEN_KEY, v); }
  get rememberedName() { return safeGet(this.o.local, NAME_KEY); }
  rememberName(name) { safeSet(this.o.local, NAME_KEY, name); }

  _status(s) {
    this.status = s.status;
    this.o.onStatus?.(s);
  }

  /**
   * URL for the next attempt: ?resume= when a token is known, and ?name= (the session's
   * name, else the remembered one) for a new session if the resume is refused.
   */
  url() {
    return buildWsUrl({
      page: this.o.page, path: this.path, token: this.token, name: this.sessionName ?? this.rememberedName,
      jwt: this.o.jwt?.() ?? null,
    });
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this._connect(false);
  }

  _connect(isRetry) {
    if (this.stopped) return;
    this._clearTimer();
    this.resumeAttempted = !!this.token;
    const jwt = this.o.jwt?.();
    if (jwt && tokenExpired(jwt, this._now())) {
      // the server would refuse it with a 401 the browser cannot see: stop here and say why
      this.stopped = true;
      this._status({ status: 'offline', code: 401, reason: 'token_expired', message: EXPIRED_MESSAGE });
      return;
    }
    if (!isRetry) this._status({ status: 'connecting' });
    let ws;
    try {
      ws = new this.o.WebSocket(this.url());
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this._onMessage(ws, ev);
    ws.onclose = (ev) => this._onClose(ws, ev);
    // a close event normally follows an error; do not depend on it
    ws.onerror = () => { if (ws.readyState === 3) this._onClose(ws, { code: 1006, reason: 'error' }); };
    this.connectTimer = this._setTimeout(() => {
      this.connectTimer = null;
      if (ws !== this.ws || this.status === 'online') return;
      try { ws.close(); } catch { /* ignore */ }
      this._onClose(ws, { code: 1006, reason: 'timeout' });
    }, CONNECT_TIMEOUT_MS);
  }

  _clearConnectTimer() {
    if (this.connectTimer !== null) {
      this._clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }

  _onMessage(ws, ev) {
    if (ws !== this.ws) return;
    const msg = parseServerMessage(typeof ev.data === 'string' ? ev.data : '');
    if (!msg) return;
    const ctx = { resumeAttempted: this.resumeAttempted };
    if ((msg.type === 'welcome' || msg.type === 'renamed') && msg.user?.name) this.sessionName = msg.user.name;
    if (msg.type === 'welcome') {
      this._clearConnectTimer();
      if (msg.token) this.token = msg.token;
      this.attempt = 0;
      this.resumeAttempted = false;
      this._status({ status: 'online' });
    }
    this.o.onMessage(msg, ctx);
  }

  _onClose(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    this._clearConnectTimer();
    if (this.stopped) {
      this._status({ status: 'offline' });
      return;
    }
    this.lastClose = { code: ev?.code, reason: ev?.reason };
    const why = FINAL_CLOSE_CODES.get(ev?.code);
    if (why) {
      // the session is over on the server: no retry, no resume
      this.stopped = true;
      this._clearTimer();
      this.token = null;
      this.sessionName = null;
      this._status({ status: 'offline', code: ev.code, reason: ev.reason ?? '', message: why });
      return;
    }
    this._scheduleReconnect(ev?.code === 1012 ? restartDelay(this._random) : null);
  }

  _scheduleReconnect(delay = null) {
    this._clearTimer();
    const delayMs = delay ?? backoffDelay(this.attempt, this._random);
    this.attempt++;
    this._status({ status: 'reconnecting', delayMs, retryAt: this._now() + delayMs });
    this.timer = this._setTimeout(() => {
      this.timer = null;
      this._connect(true);
    }, delayMs);
  }

  _clearTimer() {
    if (this.timer !== null) {
      this._clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Try again now (e.g. the browser came back online, or the user asked). */
  retryNow() {
    if (this.stopped || this.ws) return;
    this._connect(true);
  }

  /** Send a request string; false when not connected. */
  send(data) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(data);
    return true;
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === 1 && this.status === 'online';
  }

  /**
   * The user leaves through the UI: close with 1000 (ends the session at
   * once on the server) and forget the resume token.
   */
  leave() {
    this.stopped = true;
    this._clearTimer();
    this._clearConnectTimer();
    this.token = null;
    this.sessionName = null;
    const ws = this.ws;
    if (ws) {
      try { ws.close(1000, 'bye'); } catch { /* ignore */ }
      // the close event sets 'offline'; do not wait for it
      this.ws = null;
    }
    this._status({ status: 'offline' });
  }

  /** For tests and teardown: drop the socket (as a network failure would). */
  simulateDrop() {
    const ws = this.ws;
    if (ws) this._onClose(ws, { code: 1006, reason: '' });
  }
}
