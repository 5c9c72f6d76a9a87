// A throwaway stand-in for the Confab server, to look at the page in a
// browser before the Swift server is ready:   node Tests/web/dev-server.mjs [port]
// Serves web/ like the real server (GET /, GET /static/<file>, same CSP) and
// speaks a small subset of protocol v1 on /ws. Not used by the unit tests.
// Rooms of more than FULL_LIST_MAX members (env, default 3 here so that a few
// tabs show a large room) are large: users pages, occupancy, no presence.
import http from 'node:http';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(new URL('../../web', import.meta.url).pathname);
const port = Number(process.argv[2] ?? 8080);
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const MAX = 2000;
const FULL_LIST_MAX = Number(process.env.FULL_LIST_MAX ?? 3);
const SMALL_BELOW = FULL_LIST_MAX - Math.floor(FULL_LIST_MAX / 4);
const PAGE = 50;
const INTERVAL_MS = 1000;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = null;
  if (url.pathname === '/') file = 'index.html';
  else if (url.pathname.startsWith('/static/')) file = url.pathname.slice(8);
  const full = file && path.resolve(root, file);
  if (!full || !full.startsWith(root + path.sep)) { res.writeHead(404).end('not found'); return; }
  try {
    const body = await readFile(full);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(full)] ?? 'application/octet-stream', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' });
    res.end(body);
  } catch { res.writeHead(404).end('not found'); }
});

// ---- minimal RFC 6455 ----
function frame(text, opcode = 1) {
  const data = Buffer.from(text);
  const len = data.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len])
    : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  return Buffer.concat([head, data]);
}
function* frames(state) {
  for (;;) {
    const b = state.buf;
    if (b.length < 2) return;
    const op = b[0] & 15;
    let len = b[1] & 127;
    let off = 2;
    if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
    const masked = b[1] & 128;
    if (b.length < off + (masked ? 4 : 0) + len) return;
    const mask = masked ? b.subarray(off, off + 4) : null;
    off += masked ? 4 : 0;
    const payload = Buffer.from(b.subarray(off, off + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    state.buf = b.subarray(off + len);
    yield { op, payload };
  }
}

// ---- chat ----
const newRoom = (name) => ({ name, seq: 0, history: [], members: new Set(), large: false, recent: [], changed: false });
const rooms = new Map([['lobby', newRoom('lobby')]]);
const watchers = new Set();
const sessions = new Map(); // token -> user
let ids = 0;
const animals = ['otter', 'fox', 'heron', 'lynx', 'wren'];
const send = (u, obj) => { if (u.sock && !u.sock.destroyed) u.sock.write(frame(JSON.stringify(obj))); };
const users = (r) => [...r.members].map((u) => ({ id: u.id, name: u.name }));
const bcast = (r, obj, except) => { for (const m of r.members) if (m !== except) send(m, obj); };
const key = (n) => n.toLowerCase();
const summary = (r) => ({ name: r.name, users: r.members.size });

// users: everyone in a small room; a page (cursor = index) in a large one; or one name
function usersReply(r, { cursor, limit, name } = {}, re) {
  const base = { type: 'users', room: r.name, mode: r.large ? 'count' : 'full', count: r.members.size };
  if (typeof name === 'string') {
    const found = [...r.members].find((u) => key(u.name) === key(name.trim()));
    return { ...base, name, users: found ? [pub(found)] : [], re };
  }
  if (!r.large && cursor === undefined && limit === undefined) return { ...base, users: users(r), re };
  const from = Number(cursor ?? 0);
  const all = users(r);
  const page = all.slice(from, from + Math.min(200, Number(limit ?? PAGE)));
  const next = from + page.length < all.length ? String(from + page.length) : undefined;
  return { ...base, users: page, ...(next ? { next } : {}), re };
}

// a change in who is in r: presence while small, occupancy (each interval) while large
function changed(r, change, except) {
  dirChanged.add(key(r.name));
  if (!r.large && r.members.size > FULL_LIST_MAX) { r.large = true; r.changed = true; }
  else if (r.large && r.members.size < SMALL_BELOW) { r.large = false; r.recent = []; bcast(r, usersReply(r)); return; }
  if (r.large) {
    if (change.event !== 'rename') r.changed = true;
    if (change.event === 'join') r.recent = [...r.recent, change.user].slice(-5);
  } else {
    bcast(r, { type: 'presence', room: r.name, changes: [change] }, except);
  }
}
const dirChanged = new Set();
const dirRemoved = new Set();
setInterval(() => {
  for (const r of rooms.values()) {
    if (!r.large || !r.changed) continue;
    r.changed = false;
    bcast(r, { type: 'occupancy', room: r.name, count: r.members.size, recent: r.recent });
    r.recent = [];
  }
  if (dirChanged.size || dirRemoved.size) {
    const msg = { type: 'roomsChanged', rooms: [...dirChanged].map((k) => rooms.get(k)).filter(Boolean).map(summary), removed: [...dirRemoved] };
    dirChanged.clear(); dirRemoved.clear();
    for (const w of watchers) send(w, msg);
  }
}, INTERVAL_MS).unref();

function join(u, name, re) {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) return send(u, { type: 'error', code: 'invalid_room', message: 'invalid room name', re });
  let r = rooms.get(key(name));
  if (!r) rooms.set(key(name), r = newRoom(name));
  if (!r.members.has(u)) { r.members.add(u); u.rooms.add(r); changed(r, { event: 'join', user: pub(u) }, u); }
  u.current = r;
  send(u, { type: 'joined', room: r.name, re });
  send(u, usersReply(r));
  send(u, { type: 'history', room: r.name, messages: r.history });
}
function leave(u, name, re) {
  const r = name ? rooms.get(key(name)) : u.current;
  if (!r || !u.rooms.has(r)) return send(u, { type: 'error', code: 'not_in_room', message: 'you are not in that room', re });
  if (u.rooms.size === 1) return send(u, { type: 'error', code: 'last_room', message: 'you cannot leave your last room', re });
  r.members.delete(u); u.rooms.delete(r);
  removeIfEmpty(r) || changed(r, { event: 'leave', user: pub(u) });
  if (u.current === r) u.current = [...u.rooms][0];
  send(u, { type: 'left', room: r.name, current: u.current.name, re });
}
function rename(u, name, re) {
  name = String(name ?? '').trim();
  if (!/^[\p{L}\p{N}_.\- ]{1,24}$/u.test(name)) return send(u, { type: 'error', code: 'invalid_name', message: 'invalid name', re });
  for (const s of sessions.values()) if (s !== u && key(s.name) === key(name)) return send(u, { type: 'error', code: 'name_taken', message: `${name} is taken`, re });
  const oldName = u.name; u.name = name;
  send(u, { type: 'renamed', user: pub(u), oldName, re });
  for (const r of u.rooms) changed(r, { event: 'rename', user: pub(u), oldName }, u);
}
function removeIfEmpty(r) {
  if (r.members.size > 0 || key(r.name) === 'lobby') return false;
  rooms.delete(key(r.name));
  dirChanged.delete(key(r.name));
  dirRemoved.add(r.name);
  return true;
}
const pub = (u) => ({ id: u.id, name: u.name });

function onRequest(u, req) {
  const re = req.id;
  if (req.type === 'join') return join(u, String(req.room ?? ''), re);
  if (req.type === 'leave') return leave(u, req.room, re);
  if (req.type === 'name') return rename(u, req.name, re);
  if (req.type === 'rooms') {
    if (req.watch === true) watchers.add(u); else if (req.watch === false) watchers.delete(u);
    return send(u, { type: 'rooms', rooms: [...rooms.values()].sort((a, b) => (key(a.name) < key(b.name) ? -1 : 1)).map(summary), re });
  }
  if (req.type === 'users') {
    const r = req.room ? rooms.get(key(req.room)) : u.current;
    if (!r) return send(u, { type: 'error', code: 'no_such_room', message: 'no such room', re });
    return send(u, usersReply(r, req, re));
  }
  if (req.type !== 'send') return send(u, { type: 'error', code: 'unknown_type', message: 'unknown type', re });
  let text = String(req.text ?? '');
  let action = false;
  if (text.startsWith('/')) {
    const [, cmd, arg = ''] = /^\/(\S+)\s*([\s\S]*)$/.exec(text) ?? [];
    const c = (cmd ?? '').toLowerCase();
    if (c === 'join') return join(u, arg.trim(), re);
    if (c === 'leave') return leave(u, arg.trim() || null, re);
    if (c === 'name') return rename(u, arg, re);
    if (c === 'rooms') return onRequest(u, { type: 'rooms', id: re });
    if (c === 'users') return onRequest(u, { type: 'users', room: arg.trim() || undefined, id: re });
    if (c === 'find') return onRequest(u, { type: 'users', name: arg, id: re });
    if (c === 'help') return send(u, { type: 'system', text: 'Commands:\n/join ROOM\n/leave [ROOM]\n/rooms\n/users [ROOM]\n/find NAME\n/name NEW\n/me ACTION\n/help', re });
    if (c !== 'me') return send(u, { type: 'error', code: 'unknown_command', message: `unknown command /${cmd}; try /help`, re });
    text = arg; action = true;
  }
  if (!text.trim()) return send(u, { type: 'error', code: 'empty_message', message: 'empty message', re });
  if (Buffer.byteLength(text) > MAX) return send(u, { type: 'error', code: 'message_too_long', message: `message longer than ${MAX} bytes`, re });
  const r = req.room ? rooms.get(key(req.room)) : u.current;
  if (!r || !u.rooms.has(r)) return send(u, { type: 'error', code: 'not_in_room', message: 'not in that room', re });
  const m = { type: 'message', room: r.name, seq: ++r.seq, ts: new Date().toISOString(), from: pub(u), text, ...(action ? { action: true } : {}) };
  r.history.push(m); if (r.history.length > 50) r.history.shift();
  if (re !== undefined) send(u, { type: 'ack', re, room: r.name, seq: m.seq });
  bcast(r, m);
}

function endSession(u) {
  sessions.delete(u.token);
  watchers.delete(u);
  for (const r of u.rooms) { r.members.delete(u); removeIfEmpty(r) || changed(r, { event: 'leave', user: pub(u) }); }
}

server.on('upgrade', (req, sock) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/ws') { sock.end('HTTP/1.1 404 Not Found\r\n\r\n'); return; }
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const old = sessions.get(url.searchParams.get('resume') ?? '');
  let u;
  if (old) {
    clearTimeout(old.grace); sessions.delete(old.token); u = old;
  } else {
    u = { id: `u${++ids}`, name: `${animals[ids % animals.length]}-${ids}`, rooms: new Set(), current: null };
  }
  u.sock = sock;
  u.token = crypto.randomBytes(18).toString('base64url');
  sessions.set(u.token, u);
  const wanted = !old && url.searchParams.get('name');
  if (!old) { const lobby = rooms.get('lobby'); lobby.members.add(u); u.rooms.add(lobby); u.current = lobby; changed(lobby, { event: 'join', user: pub(u) }, u); }
  send(u, { type: 'welcome', user: pub(u), room: u.current.name, rooms: [...u.rooms].map((r) => r.name), token: u.token, resumed: !!old, limits: { maxMessageBytes: MAX } });
  for (const r of u.rooms) { send(u, usersReply(r)); send(u, { type: 'history', room: r.name, messages: r.history }); }
  if (wanted) rename(u, wanted);
  const st = { buf: Buffer.alloc(0) };
  let goodbye = false;
  sock.on('data', (chunk) => {
    st.buf = Buffer.concat([st.buf, chunk]);
    for (const { op, payload } of frames(st)) {
      if (op === 8) { goodbye = payload.length >= 2 && payload.readUInt16BE(0) === 1000; sock.end(frame(payload, 8)); return; }
      if (op === 9) { sock.write(frame(payload, 10)); continue; }
      if (op !== 1) continue;
      let req; try { req = JSON.parse(payload.toString()); } catch { send(u, { type: 'error', code: 'invalid_json', message: 'invalid JSON' }); continue; }
      onRequest(u, req);
    }
  });
  sock.on('close', () => {
    if (u.sock !== sock) return;
    u.sock = null;
    watchers.delete(u);   // the subscription belongs to the connection
    if (goodbye) endSession(u);
    else u.grace = setTimeout(() => endSession(u), 30000);
  });
  sock.on('error', () => {});
});

server.listen(port, '127.0.0.1', () => console.log(`dev server on http://127.0.0.1:${port}/ (WebSocket at /ws)`));
