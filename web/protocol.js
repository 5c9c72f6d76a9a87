// Protocol v1: building client requests and parsing server messages (pure).

export const SERVER_TYPES = new Set([
  'welcome', 'users', 'history', 'message', 'presence', 'error', 'renamed',
  'system', 'joined', 'left', 'rooms', 'ack',
]);

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
    case 'users':
      return {
        type: 'users',
        room: String(m.room ?? ''),
        users: Array.isArray(m.users) ? m.users.map(user).filter(Boolean) : [],
        re: m.re,
      };
    case 'history':
      return {
        type: 'history',
        room: String(m.room ?? ''),
        messages: Array.isArray(m.messages)
          ? m.messages.map((x) => message(x, m.room)).filter(Boolean) : [],
      };
    case 'message':
      return message(m);
    case 'presence':
      return {
        type: 'presence',
        room: String(m.room ?? ''),
        event: String(m.event ?? ''),
        user: user(m.user) ?? { id: '', name: '?' },
        oldName: typeof m.oldName === 'string' ? m.oldName : null,
        ts: typeof m.ts === 'string' ? m.ts : null,
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
          ? m.rooms.map((r) => (typeof r === 'string' ? { name: r, users: null } : { name: String(r?.name ?? ''), users: Number.isFinite(Number(r?.users)) ? Number(r.users) : null }))
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
export function buildRooms(id) {
  return JSON.stringify(withId({ type: 'rooms' }, id));
}
export function buildUsers(room, id) {
  const req = { type: 'users' };
  if (room) req.room = String(room);
  return JSON.stringify(withId(req, id));
}

/**
 * WebSocket URL: ws(s)://host/path with ?resume=TOKEN when resuming,
 * otherwise ?name=NAME when a name is remembered.
 * @param {{protocol:string, host:string, path?:string, token?:string|null, name?:string|null}} o
 */
export function buildWsUrl({ protocol, host, path = '/ws', token = null, name = null }) {
  const scheme = protocol === 'https:' ? 'wss:' : 'ws:';
  let p = typeof path === 'string' && path.startsWith('/') ? path : '/ws';
  const params = new URLSearchParams();
  if (token) params.set('resume', token);
  else if (name && name.trim()) params.set('name', name.trim());
  const q = params.toString();
  return `${scheme}//${host}${p}${q ? `?${q}` : ''}`;
}
