// Protocol v1: building client requests and parsing server messages (pure).

export const SERVER_TYPES = new Set([
  'welcome', 'users', 'history', 'message', 'presence', 'error', 'renamed',
  'system', 'joined', 'left', 'rooms', 'ack', 'occupancy', 'roomsChanged',
]);

/** Largest page size a `users` request may ask for. */
export const USERS_PAGE_MAX = 200;

export const ROOM_NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;
export const USER_NAME_MAX = 24;

/** Room identity is case-insensitive; display keeps the original case. */
export function roomKey(name) {
  return String(name ?? '').toLowerCase();
}

export function isValidRoomName(name) {
  return typeof name === 'string' && ROOM_NAME_RE.test(name);
}

/** Client-side pre-check of a user name (the server has the final say). */
export function isValidUserName(name) {
  if (typeof name !== 'string') return false;
  const t = name.trim();
  return t.length >= 1 && t.length <= USER_NAME_MAX && /^[\p{L}\p{N}_.\- ]+$/u.test(t);
}

function user(u) {
  if (!u || typeof u !== 'object') return null;
  return { id: String(u.id ?? ''), name: String(u.name ?? '') };
}

function roomSummary(r) {
  if (typeof r === 'string') return { name: r, users: null };
  const n = Number(r?.users);
  return { name: String(r?.name ?? ''), users: r?.users !== null && Number.isFinite(n) ? n : null };
}

/** One change of a `presence`: join, leave or rename (with oldName). */
function presenceChange(c) {
  if (!c || typeof c !== 'object' || typeof c.event !== 'string') return null;
  return {
    event: c.event,
    user: user(c.user) ?? { id: '', name: '?' },
    oldName: typeof c.oldName === 'string' ? c.oldName : null,
  };
}

function message(m, fallbackRoom) {
  if (!m || typeof m !== 'object') return null;
  const seq = Number(m.seq);
  return {
    type: 'message',
    room: String(m.room ?? fallbackRoom ?? ''),
    seq: Number.isFinite(seq) ? seq : null,
    ts: typeof m.ts === 'string' ? m.ts : null,
    from: user(m.from) ?? { id: '', name: '?' },
    text: typeof m.text === 'string' ? m.text : String(m.text ?? ''),
    action: m.action === true,
  };
}

/**
 * Parse one text frame from the server. Returns a normalised object,
 * or null when the frame is not JSON or not a known message type.
 * @param {string} raw
 */
export function parseServerMessage(raw) {
  let m;
  try { m = typeof raw === 'string' ? JSON.parse(raw) : raw; } catch { return null; }
  if (!m || typeof m !== 'object' || typeof m.type !== 'string') return null;
  if (!SERVER_TYPES.has(m.type)) return null;
  switch (m.type) {
    case 'welcome': {
      const rooms = Array.isArray(m.rooms) ? m.rooms.map(String) : [];
      const room = typeof m.room === 'string' ? m.room : (rooms[0] ?? 'lobby');
      if (!rooms.some((r) => roomKey(r) === roomKey(room))) rooms.unshift(room);
      let serverName = null;
      if (typeof m.server === 'string') serverName = m.server;
      else if (m.server && typeof m.server.name === 'string') serverName = m.server.name;
      else if (typeof m.serverName === 'string') serverName = m.serverName;
      const max = Number(m.limits?.maxMessageBytes);
      return {
        type: 'welcome',
        user: user(m.user),
        room,
        rooms,
        token: typeof m.token === 'string' ? m.token : null,
        resumed: m.resumed === true,
        limits: { maxMessageBytes: Number.isFinite(max) && max > 0 ? max : null },
        serverName,
      };
    }
    case 'users': {
      const users = Array.isArray(m.users) ? m.users.map(user).filter(Boolean) : [];
      const count = Number(m.count);
      return {
        type: 'users',
        room: String(m.room ?? ''),
        // 'full': everyone (kept current by presence); 'count': a large room, `users` is a page
        mode: m.mode === 'count' ? 'count' : 'full',
        count: Number.isFinite(count) && count >= 0 ? count : users.length,
        users,
        next: typeof m.next === 'string' ? m.next : null,
        name: typeof m.name === 'string' ? m.name : null,   // present in the reply to a lookup
        re: m.re,
      };
    }
    case 'history': {
      const lastSeq = Number(m.lastSeq);
      return {
        type: 'history',
        room: String(m.room ?? ''),
        // the seq of the room's latest message, kept or not (null from an older server)
        lastSeq: Number.isFinite(lastSeq) ? lastSeq : null,
        messages: Array.isArray(m.messages)
          ? m.messages.map((x) => message(x, m.room)).filter(Boolean) : [],
      };
    }
    case 'message':
      return message(m);
    case 'presence':
      return {
        type: 'presence',
        room: String(m.room ?? ''),
        changes: Array.isArray(m.changes) ? m.changes.map(presenceChange).filter(Boolean) : [],
      };
    case 'occupancy': {
      const count = Number(m.count);
      return {
        type: 'occupancy',
        room: String(m.room ?? ''),
        count: Number.isFinite(count) && count >= 0 ? count : 0,
        recent: Array.isArray(m.recent) ? m.recent.map(user).filter(Boolean) : [],
      };
    }
    case 'roomsChanged':
      return {
        type: 'roomsChanged',
        rooms: Array.isArray(m.rooms) ? m.rooms.map(roomSummary).filter((r) => r.name) : [],
        removed: Array.isArray(m.removed) ? m.removed.filter((r) => typeof r === 'string') : [],
      };
    case 'error':
      return {
        type: 'error',
        code: String(m.code ?? 'error'),
        message: String(m.message ?? m.code ?? 'error'),
        re: m.re,
        retryAfterMs: Number.isFinite(Number(m.retryAfterMs)) ? Number(m.retryAfterMs) : null,
      };
    case 'renamed':
      return { type: 'renamed', user: user(m.user), oldName: String(m.oldName ?? ''), re: m.re };
    case 'system':
      return { type: 'system', text: String(m.text ?? ''), room: typeof m.room === 'string' ? m.room : null, re: m.re };
    case 'joined':
      return { type: 'joined', room: String(m.room ?? ''), re: m.re };
    case 'left':
      return { type: 'left', room: String(m.room ?? ''), current: typeof m.current === 'string' ? m.current : null, re: m.re };
    case 'rooms':
      return {
        type: 'rooms',
        rooms: Array.isArray(m.rooms)
          ? m.rooms.map(roomSummary).filter((r) => r.name)
          : [],
        re: m.re,
      };
    case 'ack':
      return { type: 'ack', re: m.re, room: String(m.room ?? ''), seq: Number(m.seq) };
    default:
      return null;
  }
}

function withId(obj, id) {
  if (id !== undefined && id !== null) obj.id = id;
  return obj;
}

/** `send` request; `room` is optional (server uses the current room). */
export function buildSend(text, { room, id } = {}) {
  const req = { type: 'send', text: String(text) };
  if (room) req.room = room;
  return JSON.stringify(withId(req, id));
}
export function buildJoin(room, id) {
  return JSON.stringify(withId({ type: 'join', room: String(room) }, id));
}
export function buildLeave(room, id) {
  const req = { type: 'leave' };
  if (room) req.room = String(room);
  return JSON.stringify(withId(req, id));
}
export function buildName(name, id) {
  return JSON.stringify(withId({ type: 'name', name: String(name) }, id));
}
/** `rooms`; `{watch:true}` also subscribes to `roomsChanged` (per connection). */
export function buildRooms(id, { watch } = {}) {
  const req = { type: 'rooms' };
  if (watch !== undefined) req.watch = !!watch;
  return JSON.stringify(withId(req, id));
}
/**
 * `users` of a room: everyone (small room) or the first page (large room);
 * with `cursor`/`limit` a page; with `name` a lookup of one user.
 */
export function buildUsers(room, id, { cursor, limit, name } = {}) {
  const req = { type: 'users' };
  if (room) req.room = String(room);
  if (typeof name === 'string') {
    req.name = name;
  } else {
    if (cursor !== undefined && cursor !== null) req.cursor = String(cursor);
    if (limit !== undefined && limit !== null) {
      req.limit = Math.max(1, Math.min(USERS_PAGE_MAX, Math.floor(Number(limit)) || 1));
    }
  }
  return JSON.stringify(withId(req, id));
}

/**
 * The WebSocket URL for the server's endpoint `path` (as the server names it, e.g. /ws),
 * resolved against the page's own address: behind a proxy that serves Confab under a
 * prefix, the page at https://example.com/chat/ reaches /ws as wss://example.com/chat/ws.
 * ?resume=TOKEN when resuming; ?name=NAME for the name to use in a new session (also
 * beside a token: the server only looks at it when the resume is refused); ?token=JWT
 * for an account.
 * @param {{page:string, path?:string, token?:string|null, name?:string|null, jwt?:string|null}} o
 */
export function buildWsUrl({ page, path = '/ws', token = null, name = null, jwt = null }) {
  const p = typeof path === 'string' && path.startsWith('/') && !path.startsWith('//') ? path : '/ws';
  const url = new URL(`./${p.slice(1)}`, page);  // './': a path like /a:b is not a scheme
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  const params = new URLSearchParams();
  if (token) params.set('resume', token);
  if (name && name.trim()) params.set('name', name.trim());
  // an account's signed token: a browser cannot set Authorization on a WebSocket
  if (jwt) params.set('token', jwt);
  url.search = params.toString();
  return url.href;
}
