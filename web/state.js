// Client state: rooms, users, messages, unread counts, current room (pure, no DOM).
import { roomKey } from './protocol.js';
import { presenceText, formatCount } from './format.js';

export const MAX_ITEMS_PER_ROOM = 500;
/** Recent arrivals kept for a large room's member panel (newest first). */
export const RECENT_MAX = 10;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

/**
 * @typedef {{id:string, name:string}} User
 * @typedef {{kind:'message', key:string, seq:number|null, ts:string|null, from:User, text:string, action:boolean, own:boolean}
 *          |{kind:'presence', key:string, event:string, text:string, ts:string|null}
 *          |{kind:'system', key:string, text:string, ts:string|null, error?:boolean}} Item
 * @typedef {{name:string, users:User[], items:Item[], seqs:Set<number>, maxSeq:number, lastSeq:number|null, unread:number, rev:number,
 *            mode:'full'|'count', count:number, next:string|null, recent:User[], pageLoading:boolean,
 *            lookup:null|{name:string, pending:boolean, found:User|null}}} Room
 *
 * Who is in a room (docs/PROTOCOL.md, "Presence and crowds"):
 *  - mode 'full' (a small room): `users` is everyone, kept current by presence;
 *  - mode 'count' (a large room): `count` is kept current by occupancy, `users`
 *    holds the pages loaded so far (join order), `next` the cursor of the
 *    following page, `recent` the latest arrivals, `lookup` the last name looked up.
 */

export function createState() {
  return {
    me: null,                 // {id, name}
    serverName: null,
    maxMessageBytes: null,
    rooms: new Map(),         // roomKey -> Room
    current: null,            // roomKey
    pendingSystem: [],        // system lines that arrived before any room existed
    nextKey: 1,
    directory: new Map(),     // roomKey -> {name, users}: every room on the server (rooms watch)
    directoryKnown: false,    // a rooms snapshot arrived on this connection
  };
}

function newRoom(name) {
  // synced: this room's history has been received once (later histories are catch-ups)
  // epoch: counts the sessions the room's items come from (a new one after a refused
  //   resume: a restarted server numbers its seqs anew, so they order only within one)
  // past: `seq|ts` of messages from earlier epochs, so a replay of them is not shown twice
  return {
    name, users: [], items: [], seqs: new Set(), maxSeq: -Infinity, lastSeq: null, unread: 0, rev: 0, synced: false,
    mode: 'full', count: 0, next: null, recent: [], pageLoading: false, lookup: null, epoch: 0, past: new Set(),
  };
}

const messageKey = (seq, ts) => `${seq}|${ts}`;

/** A new session's seqs start a new epoch in every room (see newRoom). */
function newEpoch(room) {
  for (const it of room.items) if (it.kind === 'message' && it.seq !== null) room.past.add(messageKey(it.seq, it.ts));
  room.seqs = new Set();
  room.maxSeq = -Infinity;
  room.lastSeq = null;  // no gap can be told across two numberings
  room.epoch++;
}

/** Get or create the room entry for `name`. */
export function ensureRoom(state, name) {
  const k = roomKey(name);
  let r = state.rooms.get(k);
  if (!r) {
    r = newRoom(name);
    state.rooms.set(k, r);
  }
  return r;
}

export function getRoom(state, name) {
  return name == null ? undefined : state.rooms.get(roomKey(name));
}

export function currentRoom(state) {
  return state.current ? state.rooms.get(state.current) : undefined;
}

/** Forget everything about the session (fresh start). */
export function resetState(state) {
  state.me = null;
  state.rooms = new Map();
  state.current = null;
  state.pendingSystem = [];
  state.directory = new Map();
  state.directoryKnown = false;
}

/**
 * Nobody is "online" for us any more (offline): forget who is in each room and
 * the room directory rather than show stale lists.
 */
export function clearPresence(state) {
  for (const r of state.rooms.values()) resetMembers(r);
  state.directory = new Map();
  state.directoryKnown = false;
}

function resetMembers(room) {
  room.mode = 'full';
  room.users = [];
  room.count = 0;
  room.next = null;
  room.recent = [];
  room.pageLoading = false;
  room.lookup = null;
}

/** Make `name` the current room (if joined) and clear its unread count. */
export function setCurrent(state, name) {
  const r = getRoom(state, name);
  if (!r) return false;
  state.current = roomKey(name);
  r.unread = 0;
  return true;
}

function trim(room) {
  const extra = room.items.length - MAX_ITEMS_PER_ROOM;
  if (extra > 0) {
    room.items.splice(0, extra);
    room.rev++;
  }
}

function pushItem(state, room, item) {
  item.key = `i${state.nextKey++}`;
  room.items.push(item);
  trim(room);
  return item;
}

/**
 * Add a chat message to its room unless its seq is already known.
 * @returns {boolean} true when the message was new
 */
export function addMessage(state, msg, { live = true } = {}) {
  const room = ensureRoom(state, msg.room);
  const seq = Number.isFinite(msg.seq) ? msg.seq : null;
  if (seq !== null && (room.seqs.has(seq) || room.past.has(messageKey(seq, msg.ts ?? null)))) return false;
  const own = !!(state.me && msg.from && msg.from.id === state.me.id);
  const item = {
    kind: 'message', key: '', seq, ts: msg.ts ?? null, epoch: room.epoch,
    from: { id: msg.from?.id ?? '', name: msg.from?.name ?? '?' },
    text: msg.text ?? '', action: !!msg.action, own,
  };
  item.key = `i${state.nextKey++}`;
  if (seq !== null) {
    room.seqs.add(seq);
    if (seq < room.maxSeq) {
      // older than what we have: insert in seq order among this epoch's messages
      let idx = room.items.length;
      for (let i = room.items.length - 1; i >= 0; i--) {
        const it = room.items[i];
        if (it.kind === 'message' && (it.epoch !== room.epoch || (it.seq !== null && it.seq < seq))) break;
        idx = i;
      }
      room.items.splice(idx, 0, item);
      room.rev++;
    } else {
      room.maxSeq = seq;
      room.items.push(item);
    }
  } else {
    room.items.push(item);
  }
  trim(room);
  if (live && !own && roomKey(msg.room) !== state.current) room.unread++;
  return true;
}

/** Replace a room's user list (a full list: the room is small). */
export function setUsers(state, roomName, users) {
  const room = getRoom(state, roomName);
  if (!room) return false;
  room.mode = 'full';
  room.users = dedupUsers(users);
  room.count = room.users.length;
  room.next = null;
  room.recent = [];
  room.pageLoading = false;
  return true;
}

function dedupUsers(users) {
  const seen = new Set();
  const out = [];
  for (const u of users) {
    if (!u || seen.has(u.id)) continue;
    seen.add(u.id);
    out.push({ id: u.id, name: u.name });
  }
  return out;
}

/** Sorted copy of a room's users for display: me first, then by name. */
export function sortedUsers(state, roomName) {
  const room = getRoom(state, roomName);
  if (!room) return [];
  const meId = state.me?.id;
  return [...room.users].sort((a, b) => {
    if (a.id === meId) return -1;
    if (b.id === meId) return 1;
    return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
  });
}

function renameIn(list, id, name) {
  for (const u of list) if (u.id === id) u.name = name;
}

/** A user's new name everywhere we show them (own rename, or a large room that gets no presence). */
function renameEverywhere(state, id, name, { onlyLarge = false } = {}) {
  for (const r of state.rooms.values()) {
    if (onlyLarge && r.mode !== 'count') continue;
    renameIn(r.users, id, name);
    renameIn(r.recent, id, name);
    if (r.lookup?.found?.id === id) r.lookup.found.name = name;
  }
}

function userNames(users) {
  return users.map((u) => u.name).join(', ');
}

/**
 * Apply a `users` message.
 *  - with `name`: the reply to a lookup (the search box, or /find when ctx.requested);
 *  - ctx.page: the reply to our page request (ctx.cursor: the cursor asked, null for the first page);
 *  - ctx.requested: the reply to /users typed by the user (a system line);
 *  - otherwise a snapshot: everyone (mode full) or the first page and the count (mode count).
 */
export function applyUsers(state, msg, ctx = {}) {
  const room = getRoom(state, msg.room);
  const label = room ? room.name : msg.room;
  if (msg.name !== null) {
    const found = msg.users[0] ?? null;
    if (room && msg.mode === 'count' && room.mode === 'count') room.count = msg.count;
    if (ctx.requested || !room) {
      addSystem(state, found ? `${found.name} is in ${label}` : `no one named ${msg.name} in ${label}`);
    } else {
      room.lookup = { name: msg.name, pending: false, found: found ? { ...found } : null };
    }
    return { room: msg.room };
  }
  if (ctx.requested || !room) {
    const names = userNames(msg.users) || '(none)';
    const text = msg.mode === 'count'
      ? `users in ${label} (${formatCount(msg.count)} online, ${msg.next === null ? 'all' : `first ${formatCount(msg.users.length)}`} shown): ${names}`
      : `users in ${label}: ${names}`;
    if (room && msg.mode === 'full' && room.mode === 'full') setUsers(state, msg.room, msg.users);
    else if (room && msg.mode === 'count' && room.mode === 'count') room.count = msg.count;
    addSystem(state, text);
    return { room: msg.room };
  }
  if (ctx.page && ctx.cursor !== null && ctx.cursor !== undefined) {
    room.pageLoading = false;
    // a later page: only onto the pages it follows, and only while the room is large
    if (msg.mode !== 'count' || room.mode !== 'count' || room.next !== ctx.cursor) return { room: msg.room };
    room.users = dedupUsers([...room.users, ...msg.users]);
    room.count = msg.count;
    room.next = msg.next;
    return { room: msg.room };
  }
  if (msg.mode === 'full') {
    setUsers(state, msg.room, msg.users);
  } else {
    if (room.mode !== 'count') room.recent = [];
    room.mode = 'count';
    room.users = dedupUsers(msg.users);
    room.count = msg.count;
    room.next = msg.next;
    room.pageLoading = false;
  }
  return { room: msg.room };
}

/**
 * Apply a `presence` (a small room): its changes in order, idempotently, each
 * real change with a quiet line. A large room gets no presence; one that
 * arrives anyway is ignored (the next `users` with mode full restarts the list).
 */
export function applyPresence(state, p, now = null) {
  const room = getRoom(state, p.room);
  if (!room || room.mode !== 'full') return false;
  let changed = false;
  for (const c of p.changes) {
    const u = c.user;
    const listed = room.users.find((x) => x.id === u.id);
    let oldName = c.oldName;
    if (c.event === 'join') {
      if (listed) continue;
      room.users.push({ id: u.id, name: u.name });
    } else if (c.event === 'leave') {
      if (!listed) continue;
      room.users = room.users.filter((x) => x.id !== u.id);
    } else if (c.event === 'rename') {
      if (listed && listed.name === u.name) continue;
      if (listed) {
        oldName = oldName ?? listed.name;
        listed.name = u.name;
      } else {
        room.users.push({ id: u.id, name: u.name });
      }
      // large rooms get no presence: keep their pages and lookups current here
      renameEverywhere(state, u.id, u.name, { onlyLarge: true });
    } else {
      continue;
    }
    room.count = room.users.length;
    changed = true;
    pushItem(state, room, {
      kind: 'presence', event: c.event, ts: now,
      text: presenceText(c.event, u.name, oldName),
    });
  }
  return changed;
}

/**
 * Apply an `occupancy` (a large room): the count and recent arrivals. The first
 * one for a room we list in full means it became large: the list is dropped and
 * `needFirstPage` asks the caller to fetch the first page.
 */
export function applyOccupancy(state, o) {
  const room = getRoom(state, o.room);
  if (!room) return { room: o.room, needFirstPage: false };
  const became = room.mode !== 'count';
  if (became) {
    room.mode = 'count';
    room.users = [];
    room.next = null;
    room.recent = [];
  }
  room.count = o.count;
  let recent = room.recent;
  for (const u of o.recent) recent = [{ id: u.id, name: u.name }, ...recent.filter((x) => x.id !== u.id)];
  room.recent = recent.slice(0, RECENT_MAX);
  return { room: o.room, needFirstPage: became };
}

/** A page request is on its way (the "more" button waits for it). */
export function setPageLoading(state, roomName, loading) {
  const room = getRoom(state, roomName);
  if (room) room.pageLoading = !!loading;
}

/** A lookup is on its way (name) or cleared (null). */
export function setLookup(state, roomName, name) {
  const room = getRoom(state, roomName);
  if (!room) return;
  room.lookup = name === null || name === undefined ? null : { name: String(name), pending: true, found: null };
}

/**
 * What the member panel shows for a room.
 *  full:  {mode:'full', count, users (me first, then by name)}
 *  count: {mode:'count', count, me, recent, members (pages, join order), more, stale, loading, lookup}
 */
export function memberPanel(state, roomName) {
  const room = getRoom(state, roomName);
  if (!room) return { mode: 'full', count: 0, users: [] };
  if (room.mode !== 'count') {
    return { mode: 'full', count: room.users.length, users: sortedUsers(state, room.name) };
  }
  const meId = state.me?.id;
  const members = room.users.filter((u) => u.id !== meId);
  const shown = members.length + (state.me ? 1 : 0);
  return {
    mode: 'count',
    count: room.count,
    me: state.me ? { id: state.me.id, name: state.me.name } : null,
    recent: room.recent.filter((u) => u.id !== meId),
    members,
    more: room.next !== null,
    // the last page was reached but the count moved on: only a fresh first page can show who came
    stale: room.next === null && room.count !== shown,
    loading: room.pageLoading,
    lookup: room.lookup,
  };
}

// ---------- the room directory (rooms watch + roomsChanged) ----------

/** Replace the directory with a `rooms` snapshot. */
export function setDirectory(state, rooms) {
  state.directory = new Map();
  for (const r of rooms) state.directory.set(roomKey(r.name), { name: r.name, users: r.users });
  state.directoryKnown = true;
}

/** Apply a `roomsChanged`: changed counts (new rooms included), then removed rooms. */
export function applyRoomsChanged(state, msg) {
  for (const r of msg.rooms) state.directory.set(roomKey(r.name), { name: r.name, users: r.users });
  for (const name of msg.removed) state.directory.delete(roomKey(name));
}

/** Every room on the server, sorted case-insensitively, with whether we are in it. */
export function directoryList(state) {
  return [...state.directory.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, r]) => ({
      key, name: r.name, users: r.users, joined: state.rooms.has(key), current: key === state.current,
    }));
}

/** Add a system line to `roomName`, or to the current room. */
export function addSystem(state, text, roomName = null, extra = {}) {
  const room = (roomName && getRoom(state, roomName)) || currentRoom(state);
  const item = { kind: 'system', text: String(text), ts: null, ...extra };
  if (!room) {
    state.pendingSystem.push(item);
    return null;
  }
  return pushItem(state, room, item);
}

function flushPending(state) {
  const room = currentRoom(state);
  if (!room || state.pendingSystem.length === 0) return;
  for (const item of state.pendingSystem) pushItem(state, room, item);
  state.pendingSystem = [];
}

/** Drop a room we are not in after all (a rejoin the server refused). */
export function forgetRoom(state, name) {
  const k = roomKey(name);
  if (!state.rooms.delete(k) || state.current !== k) return;
  const first = state.rooms.keys().next();
  state.current = first.done ? null : first.value;
}

/**
 * Apply a welcome. With `resumed` the known rooms are kept (and synced to the
 * welcome's list). A refused resume (the server restarted, or the session expired)
 * is a new session in the home room: the rooms and what they showed are kept, and
 * the caller is told how to get back (`rejoin` these rooms, return to `current`,
 * `leave` those it was not in). A welcome without a resume attempt starts over.
 * @returns {{restarted:boolean, rejoin:string[], leave:string[], current:string|null}}
 */
export function applyWelcome(state, w, { resumeAttempted = false } = {}) {
  const restarted = resumeAttempted && !w.resumed;
  const back = { rejoin: [], leave: [], current: null };
  if (restarted) {
    const before = [...state.rooms.values()].map((r) => r.name);
    const was = new Set(before.map(roomKey));
    const now = new Set(w.rooms.map(roomKey));
    back.rejoin = before.filter((name) => !now.has(roomKey(name)));
    back.leave = before.length ? w.rooms.filter((name) => !was.has(roomKey(name))) : [];
    const current = currentRoom(state)?.name ?? null;
    // each join makes its room current: go back to the old current room last
    if (current && roomKey(current) !== roomKey(back.rejoin.at(-1) ?? w.room)) back.current = current;
    for (const r of state.rooms.values()) {
      newEpoch(r);
      resetMembers(r);
    }
    state.pendingSystem = [];
    state.directory = new Map();
    state.directoryKnown = false;
  } else if (!w.resumed) {
    resetState(state);
  }
  state.me = w.user ? { ...w.user } : state.me;
  if (w.serverName) state.serverName = w.serverName;
  if (w.limits?.maxMessageBytes) state.maxMessageBytes = w.limits.maxMessageBytes;
  const keep = new Set([...w.rooms, ...back.rejoin].map(roomKey));
  for (const k of [...state.rooms.keys()]) if (!keep.has(k)) state.rooms.delete(k);
  // requests of the previous connection get no reply: nothing is loading any more
  for (const r of state.rooms.values()) {
    r.pageLoading = false;
    if (r.lookup?.pending) r.lookup = null;
  }
  for (const r of w.rooms) ensureRoom(state, r).name = r;
  // after a restart the old current room stays in view while it is joined again
  setCurrent(state, back.current ?? (restarted ? currentRoom(state)?.name : null) ?? w.room);
  if (restarted) addSystem(state, 'the server restarted: new session, back in your rooms', null, { restart: true });
  flushPending(state);
  return { restarted, ...back };
}

/**
 * Apply one parsed server message.
 * Returns what the UI should know: {room, added, error, clearError, notice}.
 */
export function applyServerMessage(state, msg, ctx = {}) {
  switch (msg.type) {
    case 'welcome':
      return { welcome: applyWelcome(state, msg, ctx) };
    case 'users':
      return applyUsers(state, msg, ctx);
    case 'history': {
      const room = ensureRoom(state, msg.room);
      // A room's first history is the past: not unread. A later one (after a
      // resume) may hold messages missed while disconnected: those newer than
      // anything we had count as unread, as they would have live.
      const catchUp = room.synced;
      const known = room.maxSeq;
      // Messages after the last one seen that the history no longer holds: say so, in
      // place (docs/PROTOCOL.md, Session resume), rather than lose them silently.
      const seen = Math.max(known, room.lastSeq ?? -Infinity);
      const firstKept = msg.messages[0]?.seq ?? (msg.lastSeq === null ? null : msg.lastSeq + 1);
      const gone = catchUp && Number.isFinite(seen) && firstKept !== null ? firstKept - seen - 1 : 0;
      if (gone > 0) {
        addSystem(state, `${formatCount(gone)} message${gone === 1 ? '' : 's'} you missed in ${room.name} ${gone === 1 ? 'is' : 'are'} no longer available`,
          msg.room);
      }
      if (msg.lastSeq !== null) room.lastSeq = msg.lastSeq;
      let added = 0;
      for (const m of msg.messages) {
        const live = catchUp && m.seq !== null && m.seq > known;
        if (addMessage(state, { ...m, room: msg.room }, { live })) added++;
      }
      room.synced = true;
      return { room: msg.room, added };
    }
    case 'message': {
      // a late message for a room already left must not bring it back
      if (!getRoom(state, msg.room)) return { room: msg.room, added: false };
      const added = addMessage(state, msg, { live: true });
      const own = !!(state.me && msg.from.id === state.me.id);
      return { room: msg.room, added, own, clearError: own };
    }
    case 'presence':
      applyPresence(state, msg, ctx.now ?? null);
      return { room: msg.room };
    case 'occupancy':
      return applyOccupancy(state, msg);
    case 'roomsChanged':
      applyRoomsChanged(state, msg);
      return { directory: true };
    case 'joined':
      ensureRoom(state, msg.room).name = msg.room;
      if (!ctx.keepCurrent) setCurrent(state, msg.room);
      return { room: msg.room, switched: !ctx.keepCurrent, clearError: true };
    case 'left': {
      state.rooms.delete(roomKey(msg.room));
      if (msg.current && getRoom(state, msg.current)) setCurrent(state, msg.current);
      else if (!getRoom(state, state.current)) {
        const first = state.rooms.keys().next();
        state.current = first.done ? null : first.value;
        if (state.current) state.rooms.get(state.current).unread = 0;
      }
      if (!ctx.quiet) addSystem(state, `you left ${msg.room}`);
      return { room: msg.room, switched: true };
    }
    case 'renamed': {
      if (msg.user) {
        state.me = { ...(state.me ?? {}), ...msg.user };
        renameEverywhere(state, msg.user.id, msg.user.name);
        addSystem(state, `you are now ${msg.user.name}`);
      }
      return { renamed: msg.user?.name ?? null, clearError: true };
    }
    case 'system':
      addSystem(state, msg.text, msg.room);
      return {};
    case 'rooms': {
      // every reply is a whole snapshot; only a typed /rooms is also said in the chat
      if (msg.rooms.every((r) => r.users !== null)) setDirectory(state, msg.rooms);
      if (!ctx.watch) {
        const list = msg.rooms.map((r) => (r.users === null ? r.name : `${r.name} (${formatCount(r.users)})`)).join(', ');
        addSystem(state, `rooms: ${list || '(none)'}`);
      }
      return { directory: true };
    }
    case 'ack':
      return { clearError: true };
    case 'error':
      return { error: msg };
    default:
      return {};
  }
}

/**
 * Whether item b is a continuation of item a (same sender, plain messages,
 * within a few minutes) and can be shown grouped under a's header.
 */
export function isGroupedWith(a, b) {
  if (!a || !b || a.kind !== 'message' || b.kind !== 'message') return false;
  if (a.action || b.action) return false;
  if (a.from.id !== b.from.id || a.from.name !== b.from.name) return false;
  if (a.ts && b.ts) {
    const dt = Date.parse(b.ts) - Date.parse(a.ts);
    if (Number.isFinite(dt) && (dt < 0 || dt > GROUP_WINDOW_MS)) return false;
  }
  return true;
}

/** Rooms for the sidebar, in join order. */
export function roomList(state) {
  return [...state.rooms.entries()].map(([key, r]) => ({
    key, name: r.name, unread: r.unread, current: key === state.current,
  }));
}
