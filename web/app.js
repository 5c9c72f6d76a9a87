// Wiring: DOM events, connection and state. The only module that touches
// browser globals at the top level.
import {
  buildSend, buildJoin, buildLeave, buildName, buildRooms, buildUsers, isValidRoomName, isValidUserName, roomKey,
} from './protocol.js';
import { Connection } from './connection.js';
import {
  createState, resetState, applyServerMessage, setCurrent, currentRoom, getRoom, addSystem,
  clearPresence, setPageLoading, setLookup, forgetRoom,
} from './state.js';
import {
  renderStatus, renderHeader, renderRooms, renderUsers, renderDirectory, renderError, renderCounter, MessageView,
} from './render.js';
import { counterState } from './utf8.js';
import { InputHistory } from './input-history.js';
import { JWT_KEY, tokenFromFragment } from './auth.js';

const doc = document;
const $ = (id) => doc.getElementById(id);

const els = {
  doc,
  serverName: $('server-name'),
  me: $('me'),
  status: $('status'),
  retry: $('retry'),
  disconnect: $('disconnect'),
  renameForm: $('rename-form'),
  renameInput: $('rename-input'),
  renameCancel: $('rename-cancel'),
  sidebar: $('sidebar'),
  sidebarToggle: $('sidebar-toggle'),
  rooms: $('rooms'),
  users: $('users'),
  userCount: $('user-count'),
  userSearch: $('user-search'),
  userSearchInput: $('user-search-input'),
  userSearchResult: $('user-search-result'),
  usersRecent: $('users-recent'),
  recentHeading: $('recent-heading'),
  membersHeading: $('members-heading'),
  usersMore: $('users-more'),
  directory: $('directory'),
  joinForm: $('join-form'),
  joinRoom: $('join-room'),
  roomTitle: $('room-title'),
  messages: $('messages'),
  newMessages: $('new-messages'),
  composer: $('composer'),
  input: $('input'),
  send: $('send'),
  error: $('error'),
  counter: $('counter'),
};

const defaultTitle = doc.title || 'Confab';
// The server writes its server.wsPath here when it serves the page; the URL is built
// relative to the page's own address, so a proxy may serve Confab under any prefix.
const wsPath = doc.querySelector('meta[name="confab-ws-path"]')?.getAttribute('content') || '/ws';

const state = createState();
/** Members asked for per "Show more" in a large room. */
const USERS_PAGE = 50;
const panel = {
  list: els.users,
  count: els.userCount,
  search: els.userSearch,
  result: els.userSearchResult,
  recent: els.usersRecent,
  recentHeading: els.recentHeading,
  membersHeading: els.membersHeading,
  more: els.usersMore,
};
const view = new MessageView(doc, els.messages, els.newMessages);
const inputHistory = new InputHistory();

let nextId = 1;
/** id -> {kind, text?, room?} for requests awaiting a direct reply */
const pending = new Map();
let lastSwitchId = null;
/** Requests the page makes on its own: their replies do not clear an error being shown. */
const BACKGROUND = new Set(['watch', 'page']);

function request(kind, build, extra = {}) {
  const id = nextId++;
  if (!conn.send(build(id))) return null;
  pending.set(id, { kind, ...extra });
  if (pending.size > 200) pending.delete(pending.keys().next().value);
  return id;
}

// ---------- rendering ----------

let statusInfo = { status: 'connecting' };
let countdown = null;

function paintStatus() {
  let secs = null;
  if (statusInfo.status === 'reconnecting') {
    secs = Math.max(0, Math.ceil((statusInfo.retryAt - Date.now()) / 1000));
  }
  renderStatus(els.status, statusInfo.status, secs);
  els.disconnect.textContent = statusInfo.status === 'offline' ? 'Connect' : 'Leave chat';
  els.retry.hidden = statusInfo.status !== 'reconnecting';
  const online = statusInfo.status === 'online';
  els.send.disabled = !online;
  doc.body.dataset.status = statusInfo.status;
}

function onStatus(s) {
  statusInfo = s;
  if (countdown) { clearInterval(countdown); countdown = null; }
  if (s.status === 'reconnecting') countdown = setInterval(paintStatus, 250);
  paintStatus();
  if (s.status === 'offline' && s.message) {
    // the server ended the session (e.g. close 1008): say why, offer Connect
    clearUsers();
    addSystem(state, `${s.message}. Use Connect to start a new session.`);
    showError(`${s.message}.`);
    els.error.dataset.code = `close_${s.code}`;
    render();
  }
}

/** Nobody is "online" for us any more: do not keep showing stale user lists or room counts. */
function clearUsers() {
  clearPresence(state);
}

let frame = 0;
function render() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderNow();
  });
}

function renderNow() {
  renderHeader(els, state, defaultTitle);
  renderRooms(doc, els.rooms, state);
  renderDirectory(doc, els.directory, state);
  renderUsers(doc, panel, state);
  const room = currentRoom(state);
  els.roomTitle.textContent = room ? `#${room.name}` : '';
  // short, so it fits one line on a phone; the keys are explained in the hint below
  els.input.placeholder = room ? `Message #${room.name}` : 'Not connected';
  view.sync(room);
  updateCounter();
}

let errorText = '';
function showError(text) {
  errorText = text || '';
  renderError(els.error, errorText);
  if (!errorText) delete els.error.dataset.code;
}

function updateCounter() {
  const c = counterState(els.input.value, state.maxMessageBytes ?? NaN);
  renderCounter(els.counter, c);
  els.input.setAttribute('aria-invalid', c.over ? 'true' : 'false');
}

// ---------- server messages ----------

function onMessage(msg, ctx) {
  const p = msg.re !== undefined ? pending.get(msg.re) : undefined;
  if (p) pending.delete(msg.re);
  const ctx2 = { ...ctx, now: new Date().toISOString() };
  if (msg.type === 'users' && p && p.kind === 'send') ctx2.requested = true;
  if (msg.type === 'users' && p && p.kind === 'page') Object.assign(ctx2, { page: true, cursor: p.cursor });
  if (msg.type === 'rooms' && p && p.kind === 'watch') ctx2.watch = true;
  if (msg.type === 'error' && p && p.kind === 'page') setPageLoading(state, p.room, false);
  if (msg.type === 'error' && p && p.kind === 'lookup') setLookup(state, p.room, null);
  if (msg.type === 'joined' && p && (p.kind === 'switch' || p.kind === 'join') && msg.re !== lastSwitchId) ctx2.keepCurrent = true;
  if (p && p.kind === 'rejoin') Object.assign(ctx2, { keepCurrent: true, quiet: true });
  if (msg.type === 'error' && p && p.kind === 'rejoin' && p.join) forgetRoom(state, p.room);
  if (msg.type === 'welcome') pending.clear();

  const out = applyServerMessage(state, msg, ctx2);

  if (msg.type === 'welcome') {
    const remembered = conn.rememberedName;
    // after a refused resume no ?name= was sent: ask for the remembered name
    if (out.welcome?.restarted && remembered && state.me && remembered !== state.me.name) {
      request('name', (id) => buildName(remembered, id));
    }
    if (out.welcome?.restarted) rejoin(out.welcome);
    // the room directory: a snapshot now, roomsChanged after (the subscription is per connection)
    request('watch', (id) => buildRooms(id, { watch: true }));
  }
  // a room we listed in full became large: its list is gone, fetch the first page
  if (out.needFirstPage) requestPage(out.room, null);
  if (out.error) {
    let text = out.error.message;
    if (out.error.code === 'rate_limited' && out.error.retryAfterMs) {
      text += ` (try again in ${Math.ceil(out.error.retryAfterMs / 1000)}s)`;
    }
    showError(text);
    els.error.dataset.code = out.error.code;
  } else if (out.clearError || (p && msg.type !== 'error' && !BACKGROUND.has(p.kind))) {
    showError('');
  }
  if (out.renamed && p && (p.kind === 'name' || p.kind === 'send')) {
    conn.rememberName(out.renamed);
    hideRename();
  }
  if (msg.type === 'joined' && p && p.kind === 'join') els.joinRoom.value = '';
  render();
}

// ---------- account token (#token=JWT) ----------

let jwt = null;
try { jwt = sessionStorage.getItem(JWT_KEY); } catch { /* storage disabled */ }

/** Take a token from the fragment (on load, and when the embedding app sets a new one). */
function takeToken() {
  const { token, rest } = tokenFromFragment(location.hash);
  if (token === null) return;
  jwt = token;
  try { sessionStorage.setItem(JWT_KEY, token); } catch { /* kept in memory only */ }
  // out of the address bar, history and bookmarks
  try { history.replaceState(history.state, '', `${location.pathname ?? ''}${location.search ?? ''}${rest}`); } catch { /* ignore */ }
}
takeToken();
window.addEventListener('hashchange', takeToken);

/**
 * Back into the rooms of a session the server no longer knew (it restarted): join them
 * again, return to the room that was current, leave rooms that were left. Requests go
 * in order, before anything typed later.
 */
function rejoin({ rejoin: rooms, current, leave }) {
  for (const room of rooms) request('rejoin', (id) => buildJoin(room, id), { room, join: true });
  if (current) lastSwitchId = request('switch', (id) => buildJoin(current, id), { room: current });
  for (const room of leave) request('rejoin', (id) => buildLeave(room, id), { room });
}

const conn = new Connection({
  page: location.href,
  path: wsPath,
  WebSocket,
  session: sessionStorage,
  local: localStorage,
  onMessage,
  onStatus,
  jwt: () => jwt,
});

// ---------- input ----------

function submitMessage() {
  const text = els.input.value;
  if (text.trim() === '') return;
  const c = counterState(text, state.maxMessageBytes ?? NaN);
  if (c.over) {
    showError(`Message too long: ${c.bytes} of ${c.max} bytes.`);
    return;
  }
  const isCommand = text.startsWith('/');
  const room = currentRoom(state);
  const id = request('send', (rid) => buildSend(text, { room: isCommand ? undefined : room?.name, id: rid }), { text });
  if (id === null) {
    showError('Not connected: your message was not sent.');
    return;
  }
  inputHistory.push(text);
  els.input.value = '';
  autosize();
  updateCounter();
}

function autosize() {
  els.input.rows = Math.min(6, Math.max(1, els.input.value.split('\n').length));
}

els.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  submitMessage();
  els.input.focus();
});

els.input.addEventListener('keydown', (ev) => {
  if (ev.isComposing || ev.keyCode === 229) return;
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    submitMessage();
  } else if (ev.key === 'ArrowUp' && !ev.shiftKey) {
    const t = inputHistory.up(els.input.value);
    if (t !== null) {
      ev.preventDefault();
      els.input.value = t;
      autosize();
      updateCounter();
      els.input.setSelectionRange(t.length, t.length);
    }
  } else if (ev.key === 'ArrowDown' && !ev.shiftKey) {
    const t = inputHistory.down(els.input.value);
    if (t !== null) {
      ev.preventDefault();
      els.input.value = t;
      autosize();
      updateCounter();
    }
  } else if (ev.key === 'Escape' && errorText) {
    showError('');
  }
});

els.input.addEventListener('input', () => {
  autosize();
  updateCounter();
});

// ---------- rooms ----------

els.rooms.addEventListener('click', (ev) => {
  const btn = ev.target.closest('button');
  if (!btn || !els.rooms.contains(btn)) return;
  const room = btn.dataset.room;
  if (btn.classList.contains('leave')) {
    if (request('leave', (id) => buildLeave(room, id), { room }) === null) showError('Not connected.');
    return;
  }
  // keep the server's current room in step (join is idempotent)
  goToRoom(room);
  closeSidebarOnSmallScreens();
  els.input.focus();
});

els.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const room = els.joinRoom.value.trim().replace(/^#/, '');
  if (!isValidRoomName(room)) {
    showError('Room names are 1 to 32 letters, digits, "-" or "_".');
    els.joinRoom.focus();
    return;
  }
  const existing = getRoom(state, room);
  if (existing) {
    setCurrent(state, existing.name);
    els.joinRoom.value = '';
    render();
  }
  lastSwitchId = request('join', (id) => buildJoin(room, id), { room });
  if (lastSwitchId === null) showError('Not connected.');
  closeSidebarOnSmallScreens();
});

// ---------- all rooms (directory) ----------

/** Go to a room: switch to it when joined, else join it (it becomes current). */
function goToRoom(room) {
  const existing = getRoom(state, room);
  if (existing) {
    if (roomKey(room) !== state.current) {
      setCurrent(state, existing.name);
      lastSwitchId = request('switch', (id) => buildJoin(existing.name, id), { room: existing.name });
      render();
    }
    return true;
  }
  lastSwitchId = request('switch', (id) => buildJoin(room, id), { room });
  if (lastSwitchId === null) {
    showError('Not connected.');
    return false;
  }
  return true;
}

els.directory.addEventListener('click', (ev) => {
  const btn = ev.target.closest('button');
  if (!btn || !els.directory.contains(btn)) return;
  if (goToRoom(btn.dataset.room)) {
    closeSidebarOnSmallScreens();
    els.input.focus();
  }
});

// ---------- members of a large room: pages and lookup ----------

/** Ask for a page of `roomName`'s members: the first (cursor null) or the one after `cursor`. */
function requestPage(roomName, cursor) {
  const room = getRoom(state, roomName);
  if (!room || room.pageLoading) return;
  const opts = cursor === null ? {} : { cursor, limit: USERS_PAGE };
  const id = request('page', (rid) => buildUsers(room.name, rid, opts), { room: room.name, cursor });
  if (id !== null) setPageLoading(state, room.name, true);
}

els.usersMore.addEventListener('click', () => {
  const room = currentRoom(state);
  if (!room || room.mode !== 'count') return;
  // the next page; past the last one, the first page again (who came since)
  requestPage(room.name, room.next);
  render();
});

els.userSearch.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const room = currentRoom(state);
  if (!room) return;
  const name = els.userSearchInput.value.trim();
  if (name === '') {
    setLookup(state, room.name, null);
    render();
    return;
  }
  const id = request('lookup', (rid) => buildUsers(room.name, rid, { name }), { room: room.name, name });
  if (id === null) {
    showError('Not connected.');
    return;
  }
  setLookup(state, room.name, name);
  render();
});

// ---------- rename ----------

function showRename() {
  els.renameForm.hidden = false;
  els.me.setAttribute('aria-expanded', 'true');
  els.renameInput.value = state.me?.name ?? '';
  els.renameInput.focus();
  els.renameInput.select();
}
function hideRename(focusMe = false) {
  if (els.renameForm.hidden) return;
  els.renameForm.hidden = true;
  els.me.setAttribute('aria-expanded', 'false');
  if (focusMe) els.me.focus();
}

els.me.addEventListener('click', () => {
  if (els.renameForm.hidden) showRename(); else hideRename(true);
});
els.renameCancel.addEventListener('click', () => hideRename(true));
els.renameForm.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') hideRename(true);
});
els.renameForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = els.renameInput.value.trim();
  if (name === state.me?.name) { hideRename(true); return; }
  if (!isValidUserName(name)) {
    showError('Names are 1 to 24 letters, digits, spaces, ".", "-" or "_".');
    return;
  }
  if (request('name', (id) => buildName(name, id), { name }) === null) showError('Not connected.');
});

// ---------- connection controls ----------

els.disconnect.addEventListener('click', () => {
  if (statusInfo.status === 'offline') {
    resetState(state);
    pending.clear();
    view.sync(undefined);
    conn.start();
  } else {
    conn.leave();
    clearUsers();
    addSystem(state, 'you left the chat');
  }
  render();
});

els.retry.addEventListener('click', () => conn.retryNow());
window.addEventListener('online', () => conn.retryNow());

// ---------- sidebar (phones) ----------

const small = window.matchMedia('(max-width: 720px)');
function setSidebar(open) {
  doc.body.classList.toggle('sidebar-open', open);
  els.sidebarToggle.setAttribute('aria-expanded', String(open));
}
function closeSidebarOnSmallScreens() {
  if (small.matches) setSidebar(false);
}
els.sidebarToggle.addEventListener('click', () => {
  const open = !doc.body.classList.contains('sidebar-open');
  setSidebar(open);
  if (open) els.sidebar.querySelector('button, input')?.focus();
});
doc.querySelector('main')?.addEventListener('click', () => {
  if (doc.body.classList.contains('sidebar-open')) closeSidebarOnSmallScreens();
});
doc.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && doc.body.classList.contains('sidebar-open') && small.matches) {
    setSidebar(false);
    els.sidebarToggle.focus();
  }
});

// ---------- start ----------

paintStatus();
renderNow();
conn.start();
