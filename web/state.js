// Client state: rooms, users, messages, unread counts, current room (pure, no DOM).
import { roomKey } from './protocol.js';
import { presenceText } from './format.js';

export const MAX_ITEMS_PER_ROOM = 500;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

/**
 * @typedef {{id:string, name:string}} User
 * @typedef {{kind:'message', key:string, seq:number|null, ts:string|null, from:User, text:string, action:boolean, own:boolean}
 *          |{kind:'presence', key:string, event:string, text:string, ts:string|null}
 *          |{kind:'system', key:string, text:string, ts:string|null, error?:boolean}} Item
 * @typedef {{name:string, users:User[], items:Item[], seqs:Set<number>, maxSeq:number, unread:number, rev:number}} Room
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
  };
}

function newRoom(name) {
  // synced: this room's history has been received once (later histories are catch-ups)
  return { name, users: [], items: [], seqs: new Set(), maxSeq: -Infinity, unread: 0, rev: 0, synced: false };
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
  if (seq !== null && room.seqs.has(seq)) return false;
  const own = !!(state.me && msg.from && msg.from.id === state.me.id);
  const item = {
    kind: 'message', key: '', seq, ts: msg.ts ?? null,
    from: { id: msg.from?.id ?? '', name: msg.from?.name ?? '?' },
    text: msg.text ?? '', action: !!msg.action, own,
  };
  item.key = `i${state.nextKey++}`;
  if (seq !== null) {
    room.seqs.add(seq);
    if (seq < room.maxSeq) {
      // older than what we have: insert in seq order among messages
      let idx = room.items.length;
      for (let i = room.items.length - 1; i >= 0; i--) {
        const it = room.items[i];
        if (it.kind === 'message' && it.seq !== null && it.seq < seq) break;
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

/** Replace a room's user list. */
export function setUsers(state, roomName, users) {
  const room = getRoom(state, roomName);
  if (!room) return false;
  room.users = dedupUsers(users);
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

function renameEverywhere(state, id, name) {
  for (const r of state.rooms.values()) {
    for (const u of r.users) if (u.id === id) u.name = name;
  }
}

/** Apply a presence event to the room's user list and add a quiet line. */
export function applyPresence(state, p, now = null) {
  const room = getRoom(state, p.room);
  if (!room) return false;
  const u = p.user;
  if (p.event === 'join') {
    if (!room.users.some((x) => x.id === u.id)) room.users.push({ id: u.id, name: u.name });
  } else if (p.event === 'leave') {
    room.users = room.users.filter((x) => x.id !== u.id);
  } else if (p.event === 'rename') {
    renameEverywhere(state, u.id, u.name);
    if (!room.users.some((x) => x.id === u.id)) room.users.push({ id: u.id, name: u.name });
  }
  pushItem(state, room, {
    kind: 'presence', event: p.event, ts: p.ts ?? now,
    text: presenceText(p.event, u.name, p.oldName),
  });
  return true;
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

/**
 * Apply a welcome. With `resumed` the known rooms are kept (and synced to the
 * welcome's list); otherwise state starts over.
 * @returns {{restarted:boolean}} restarted when a resume was attempted but refused
 */
export function applyWelcome(state, w, { resumeAttempted = false } = {}) {
  const restarted = resumeAttempted && !w.resumed;
  if (!w.resumed) resetState(state);
  state.me = w.user ? { ...w.user } : state.me;
  if (w.serverName) state.serverName = w.serverName;
  if (w.limits?.maxMessageBytes) state.maxMessageBytes = w.limits.maxMessageBytes;
  const keep = new Set(w.rooms.map(roomKey));
  for (const k of [...state.rooms.keys()]) if (!keep.has(k)) state.rooms.delete(k);
  for (const r of w.rooms) ensureRoom(state, r).name = r;
  setCurrent(state, w.room);
  if (restarted) addSystem(state, 'the server restarted: new session', null, { restart: true });
  flushPending(state);
  return { restarted };
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
      if (getRoom(state, msg.room)) {
        setUsers(state, msg.room, msg.users);
        if (msg.re !== undefined && ctx.requested) {
          addSystem(state, `users in ${getRoom(state, msg.room).name}: ${msg.users.map((u) => u.name).join(', ')}`);
        }
      } else {
        addSystem(state, `users in ${msg.room}: ${msg.users.map((u) => u.name).join(', ') || '(none)'}`);
      }
      return { room: msg.room };
    case 'history': {
      const room = ensureRoom(state, msg.room);
      // A room's first history is the past: not unread. A later one (after a
      // resume) may hold messages missed while disconnected: those newer than
      // anything we had count as unread, as they would have live.
      const catchUp = room.synced;
      const known = room.maxSeq;
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
      addSystem(state, `you left ${msg.room}`);
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
      const list = msg.rooms.map((r) => (r.users === null ? r.name : `${r.name} (${r.users})`)).join(', ');
      addSystem(state, `rooms: ${list || '(none)'}`);
      return {};
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
