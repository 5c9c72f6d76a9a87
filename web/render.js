// DOM rendering. User text only ever goes through textContent / text nodes
// (and appendLinkified, which does the same).
import { appendLinkified } from './linkify.js';
import { formatTime, formatFull, formatCount, onlineLabel } from './format.js';
import { isGroupedWith, roomList, currentRoom, memberPanel, directoryList } from './state.js';

const STATUS_TEXT = {
  connecting: 'connecting',
  online: 'online',
  reconnecting: 'reconnecting',
  offline: 'offline',
};

function el(doc, tag, className, text) {
  const e = doc.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

/** Connection indicator: data-status plus readable text. */
export function renderStatus(node, status, secondsLeft = null) {
  node.dataset.status = status;
  let text = STATUS_TEXT[status] ?? status;
  if (status === 'reconnecting' && secondsLeft !== null) text = `reconnecting in ${secondsLeft}s`;
  if (node.textContent !== text) node.textContent = text;
}

export function renderHeader(els, state, defaultTitle) {
  const serverName = state.serverName || defaultTitle;
  if (els.serverName.textContent !== serverName) els.serverName.textContent = serverName;
  const name = state.me?.name ?? '…';
  if (els.me.textContent !== name) els.me.textContent = name;
  els.me.setAttribute('aria-label', `Your name: ${name}. Click to change it`);
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  const title = unread > 0 ? `(${unread}) ${serverName}` : serverName;
  if (els.doc.title !== title) els.doc.title = title;
}

/**
 * Sidebar room list: li[data-room] > button.room-btn (+ span.unread) + button.leave.
 * Existing rows are updated in place (keyed by room) so a click or the
 * keyboard focus is never lost to a re-render.
 */
export function renderRooms(doc, ul, state) {
  syncKeyedRows(doc, ul, roomList(state), (r) => roomRow(doc, r), (li, r) => updateRoomRow(doc, li, r));
}

/**
 * Makes `ul`'s rows match `wanted` (items with a `key`), in order: rows of items that went are
 * removed (focus moves to the list's first button if it was in one), new ones are made, and
 * every row is updated in place, so a click or the keyboard focus is never lost.
 */
function syncKeyedRows(doc, ul, wanted, make, update) {
  const rows = new Map();
  for (const li of [...ul.children]) rows.set(li.dataset.key, li);
  const keep = new Set(wanted.map((r) => r.key));
  for (const [key, li] of rows) {
    if (!keep.has(key)) {
      const hadFocus = li.contains(doc.activeElement);
      li.remove();
      rows.delete(key);
      if (hadFocus) ul.querySelector('button')?.focus();
    }
  }
  wanted.forEach((r, i) => {
    const li = rows.get(r.key) ?? make(r);
    update(li, r);
    if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] ?? null);
  });
}

function roomRow(doc, r) {
  const li = el(doc, 'li', 'room');
  li.dataset.key = r.key;
  const btn = el(doc, 'button', 'room-btn');
  btn.type = 'button';
  btn.appendChild(el(doc, 'span', 'room-name'));
  const leave = el(doc, 'button', 'leave', '×');
  leave.type = 'button';
  li.append(btn, leave);
  return li;
}

function updateRoomRow(doc, li, r) {
  const btn = li.querySelector('button.room-btn');
  const leave = li.querySelector('button.leave');
  const cls = r.current ? 'room current' : 'room';
  if (li.className !== cls) li.className = cls;
  li.dataset.room = r.name;
  btn.dataset.room = r.name;
  leave.dataset.room = r.name;
  if (r.current) btn.setAttribute('aria-current', 'true'); else btn.removeAttribute('aria-current');
  const nameEl = btn.querySelector('.room-name');
  if (nameEl.textContent !== `#${r.name}`) nameEl.textContent = `#${r.name}`;
  leave.title = `Leave ${r.name}`;
  leave.setAttribute('aria-label', `Leave room ${r.name}`);
  let badge = btn.querySelector('.unread');
  if (r.unread > 0) {
    if (!badge) {
      badge = el(doc, 'span', 'unread');
      btn.appendChild(badge);
    }
    const text = r.unread > 99 ? '99+' : String(r.unread);
    if (badge.textContent !== text) badge.textContent = text;
    badge.setAttribute('aria-label', `${r.unread} unread`);
  } else if (badge) {
    btn.removeChild(badge);
  }
}

function setHidden(node, hidden) {
  if (node && node.hidden !== hidden) node.hidden = hidden;
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

function userRow(doc, u, meId) {
  const mine = u.id === meId;
  const li = el(doc, 'li', mine ? 'user me' : 'user');
  li.dataset.id = u.id;
  li.appendChild(el(doc, 'span', 'user-name', u.name));
  if (mine) li.appendChild(el(doc, 'span', 'you', ' (you)'));
  return li;
}

function fillUsers(doc, ul, users, meId) {
  const frag = doc.createDocumentFragment();
  for (const u of users) frag.appendChild(userRow(doc, u, meId));
  ul.replaceChildren(frag);
}

/**
 * The member panel of the current room.
 * panel: {list, count} and, for large rooms, {search, result, recent,
 * recentHeading, membersHeading, more} (each optional).
 *  - a small room: everyone in `list` (me first, then by name) and "N online";
 *  - a large room: "10,234 online", me, the recent arrivals, the pages loaded so
 *    far (join order) with a "Show more" button while there is a next page (or
 *    "Reload list" when the last page was reached but the count changed), a
 *    search box and the result of the last lookup. Never every member.
 */
export function renderUsers(doc, panel, state) {
  const room = currentRoom(state);
  const view = memberPanel(state, room?.name);
  const meId = state.me?.id;
  const large = view.mode === 'count';
  setText(panel.count, onlineLabel(view.count));
  if (!large) {
    fillUsers(doc, panel.list, view.users, meId);
  } else {
    fillUsers(doc, panel.list, view.me ? [view.me, ...view.members] : view.members, meId);
  }
  setHidden(panel.search, !large);
  if (panel.recent) {
    const show = large && view.recent.length > 0;
    if (show) fillUsers(doc, panel.recent, view.recent, meId); else panel.recent.replaceChildren();
    setHidden(panel.recent, !show);
    setHidden(panel.recentHeading, !show);
  }
  if (panel.membersHeading) {
    setHidden(panel.membersHeading, !large);
    if (large) {
      const shown = view.members.length + (view.me ? 1 : 0);
      setText(panel.membersHeading, view.more ? `Members (${formatCount(shown)} of ${formatCount(view.count)} shown)` : 'Members');
    }
  }
  if (panel.more) {
    // "Show more": the next page by cursor; "Reload list": the list ended but the count moved on
    setHidden(panel.more, !(large && (view.more || view.stale)));
    // not `disabled`: that would drop the keyboard focus; clicks are ignored while loading
    const busy = !!(large && view.loading);
    if (busy) panel.more.setAttribute('aria-disabled', 'true'); else panel.more.removeAttribute('aria-disabled');
    const action = large && !view.more && view.stale ? 'reload' : 'more';
    panel.more.dataset.action = action;
    setText(panel.more, large && view.loading ? 'Loading…' : action === 'reload' ? 'Reload list' : 'Show more');
  }
  if (panel.result) renderLookup(doc, panel.result, large ? view.lookup : null, room?.name ?? '');
}

/** The answer to the search box: the user found, nobody, or still looking. */
function renderLookup(doc, node, lookup, roomName) {
  if (!lookup) {
    setHidden(node, true);
    if (node.textContent !== '') node.replaceChildren();
    delete node.dataset.state;
    return;
  }
  const st = lookup.pending ? 'pending' : lookup.found ? 'found' : 'missing';
  const frag = doc.createDocumentFragment();
  if (st === 'pending') {
    frag.appendChild(doc.createTextNode(`Looking for ${lookup.name}…`));
  } else if (st === 'found') {
    frag.appendChild(el(doc, 'span', 'user-name', lookup.found.name));
    frag.appendChild(doc.createTextNode(` is in #${roomName}`));
  } else {
    frag.appendChild(doc.createTextNode(`No one named ${lookup.name} in #${roomName}`));
  }
  node.replaceChildren(frag);
  node.dataset.state = st;
  node.className = `lookup ${st}`;
  setHidden(node, false);
}

/**
 * Every room on the server with how many are in it (rooms watch): li[data-room] >
 * button.dir-btn (room name, count). Rooms we are in are marked `joined`, the
 * current one `current`. Rows are updated in place, keyed by room.
 */
export function renderDirectory(doc, ul, state) {
  syncKeyedRows(doc, ul, directoryList(state), (r) => directoryRow(doc, r), updateDirectoryRow);
}

function directoryRow(doc, r) {
  const li = el(doc, 'li', 'dir-room');
  li.dataset.key = r.key;
  const btn = el(doc, 'button', 'dir-btn');
  btn.type = 'button';
  btn.append(el(doc, 'span', 'room-name'), el(doc, 'span', 'dir-count'));
  li.appendChild(btn);
  return li;
}

function updateDirectoryRow(li, r) {
  const btn = li.querySelector('button.dir-btn');
  const cls = ['dir-room'];
  if (r.joined) cls.push('joined');
  if (r.current) cls.push('current');
  if (li.className !== cls.join(' ')) li.className = cls.join(' ');
  li.dataset.room = r.name;
  btn.dataset.room = r.name;
  setText(btn.querySelector('.room-name'), `#${r.name}`);
  const n = r.users === null ? '' : formatCount(r.users);
  setText(btn.querySelector('.dir-count'), n);
  const where = r.current ? ', current room' : r.joined ? ', joined' : '';
  const label = `#${r.name}${r.users === null ? '' : `, ${onlineLabel(r.users)}`}${where}`;
  if (btn.getAttribute('aria-label') !== label) btn.setAttribute('aria-label', label);
  btn.title = r.joined ? `Go to #${r.name}` : `Join #${r.name}`;
}

/** One <li> for a state item. `prev` decides grouping. */
export function renderItem(doc, item, prev) {
  if (item.kind === 'presence') {
    const li = el(doc, 'li', `presence presence-${item.event}`);
    li.appendChild(el(doc, 'span', 'text', item.text));
    if (item.ts) li.appendChild(timeEl(doc, item.ts));
    return li;
  }
  if (item.kind === 'system') {
    const li = el(doc, 'li', item.restart ? 'msg system restart' : 'msg system');
    const text = el(doc, 'span', 'text');
    appendLinkified(doc, text, item.text);
    li.appendChild(text);
    return li;
  }
  const classes = ['msg'];
  if (item.own) classes.push('own');
  if (item.action) classes.push('action');
  const grouped = isGroupedWith(prev, item);
  if (grouped) classes.push('grouped');
  const li = el(doc, 'li', classes.join(' '));
  if (item.seq !== null) li.dataset.seq = String(item.seq);
  li.dataset.from = item.from.id;
  if (item.action) {
    li.appendChild(timeEl(doc, item.ts));
    const text = el(doc, 'span', 'text');
    text.appendChild(el(doc, 'span', 'star', '* '));
    text.appendChild(el(doc, 'span', 'name', item.from.name));
    text.appendChild(doc.createTextNode(' '));
    appendLinkified(doc, text, item.text);
    li.appendChild(text);
    return li;
  }
  const meta = el(doc, 'div', 'meta');
  meta.appendChild(el(doc, 'span', grouped ? 'name visually-hidden' : 'name', item.from.name));
  meta.appendChild(timeEl(doc, item.ts));
  const text = el(doc, 'div', 'text');
  appendLinkified(doc, text, item.text);
  li.append(meta, text);
  return li;
}

function timeEl(doc, ts) {
  const t = el(doc, 'time', 'time', ts ? formatTime(ts) : '');
  if (ts) {
    t.dateTime = ts;
    t.title = formatFull(ts);
  }
  return t;
}

const BOTTOM_SLACK_PX = 48;

/**
 * The message list of the current room: appends new items incrementally,
 * re-renders on room switch or reordering; auto-scrolls only at the bottom.
 */
export class MessageView {
  constructor(doc, list, newButton) {
    this.doc = doc;
    this.list = list;
    this.newButton = newButton;
    this.room = null;
    this.rev = -1;
    this.count = 0;
    this.firstKey = null;
    list.addEventListener('scroll', () => {
      if (this.atBottom()) this.hideNew();
    });
    newButton.addEventListener('click', () => {
      this.scrollToBottom();
      this.hideNew();
      list.focus({ preventScroll: true });
    });
  }

  atBottom() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight <= BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  hideNew() { this.newButton.hidden = true; }

  /** Bring the DOM in line with `room` (a state room or undefined). */
  sync(room) {
    if (!room) {
      this.list.replaceChildren();
      this.room = null;
      this.count = 0;
      this.hideNew();
      return;
    }
    const items = room.items;
    const switched = room !== this.room;
    const full = switched || room.rev !== this.rev || items.length < this.count ||
      (items.length > 0 && items[0].key !== this.firstKey);
    const wasAtBottom = switched || this.atBottom();
    let ownAdded = false;
    if (full) {
      const frag = this.doc.createDocumentFragment();
      items.forEach((it, i) => frag.appendChild(renderItem(this.doc, it, items[i - 1])));
      const keepTop = this.list.scrollTop;
      this.list.replaceChildren(frag);
      if (!wasAtBottom) this.list.scrollTop = keepTop;
    } else if (items.length > this.count) {
      const frag = this.doc.createDocumentFragment();
      for (let i = this.count; i < items.length; i++) {
        frag.appendChild(renderItem(this.doc, items[i], items[i - 1]));
        if (items[i].own) ownAdded = true;
      }
      this.list.appendChild(frag);
    } else {
      return;
    }
    const added = !switched && items.length > this.count;
    this.room = room;
    this.rev = room.rev;
    this.count = items.length;
    this.firstKey = items[0]?.key ?? null;
    if (wasAtBottom || ownAdded) {
      this.scrollToBottom();
      this.hideNew();
    } else if (added) {
      this.newButton.hidden = false;
    }
    if (switched) this.hideNew();
  }
}

/** Error line next to the input (role="alert"). Empty text clears it. */
export function renderError(node, text) {
  const t = text || '';
  if (node.textContent !== t) node.textContent = t;
}

/** Character counter near the byte limit. */
export function renderCounter(node, c) {
  node.hidden = !c.visible;
  node.textContent = c.visible ? c.label : '';
  node.classList.toggle('over', c.over);
}
