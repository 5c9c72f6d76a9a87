// A very small DOM stand-in for testing render.js / linkify.js in Node.
// It models only what those modules use; innerHTML deliberately throws so a
// test fails if any code path tries to use it.

import { readFileSync } from 'node:fs';

class Node {
  constructor(doc) { this.ownerDocument = doc; this.childNodes = []; this.parentNode = null; }
  appendChild(child) {
    if (child.isFragment) {
      for (const c of [...child.childNodes]) this.appendChild(c);
      child.childNodes = [];
      return child;
    }
    if (child.parentNode) child.parentNode.childNodes = child.parentNode.childNodes.filter((c) => c !== child);
    child.parentNode = this;
    this.childNodes.push(child);
    return child;
  }
  insertBefore(node, ref) {
    if (!ref) return this.appendChild(node);
    if (node.parentNode) node.parentNode.childNodes = node.parentNode.childNodes.filter((c) => c !== node);
    node.parentNode = this;
    this.childNodes.splice(this.childNodes.indexOf(ref), 0, node);
    return node;
  }
  removeChild(node) {
    this.childNodes = this.childNodes.filter((c) => c !== node);
    node.parentNode = null;
    return node;
  }
  remove() { this.parentNode?.removeChild(this); }
  append(...nodes) { for (const n of nodes) this.appendChild(typeof n === 'string' ? this.ownerDocument.createTextNode(n) : n); }
  replaceChildren(...nodes) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = [];
    this.append(...nodes);
  }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(''); }
  set textContent(v) {
    this.childNodes = [];
    if (v !== '' && v !== null && v !== undefined) this.appendChild(this.ownerDocument.createTextNode(String(v)));
  }
}

class Text extends Node {
  constructor(doc, data) { super(doc); this.data = String(data); this.nodeType = 3; }
  get textContent() { return this.data; }
  set textContent(v) { this.data = String(v); }
}

class Element extends Node {
  constructor(doc, tag) {
    super(doc);
    this.tagName = tag.toUpperCase();
    this.nodeType = 1;
    this.attributes = new Map();
    this.dataset = {};
    this.className = '';
    this.hidden = false;
    const self = this;
    this.classList = {
      contains: (c) => self.className.split(/\s+/).includes(c),
      toggle: (c, force) => {
        const set = new Set(self.className.split(/\s+/).filter(Boolean));
        const on = force === undefined ? !set.has(c) : !!force;
        if (on) set.add(c); else set.delete(c);
        self.className = [...set].join(' ');
        return on;
      },
      add: (c) => self.classList.toggle(c, true),
      remove: (c) => self.classList.toggle(c, false),
    };
  }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  removeAttribute(k) { this.attributes.delete(k); }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  get innerHTML() { throw new Error('innerHTML used'); }
  set innerHTML(_v) { throw new Error('innerHTML used'); }
  insertAdjacentHTML() { throw new Error('insertAdjacentHTML used'); }
  get children() { return this.childNodes.filter((c) => c instanceof Element); }
  /** all descendant elements, depth first */
  descendants() {
    const out = [];
    const walk = (n) => { for (const c of n.childNodes) if (c instanceof Element) { out.push(c); walk(c); } };
    walk(this);
    return out;
  }
  /** supports "tag", ".cls", "tag.cls" */
  querySelectorAll(sel) {
    return this.descendants().filter((e) => e.matches(sel));
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] ?? null; }
  addEventListener(type, fn) {
    (this.listeners ??= new Map());
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }
  /** dispatch a fake event to this element and its ancestors (bubbling) */
  dispatch(type, props = {}) {
    let stopped = false;
    const ev = {
      type, target: this, defaultPrevented: false, ...props,
      preventDefault() { this.defaultPrevented = true; },
      stopPropagation() { stopped = true; },
    };
    for (let n = this; n && !stopped; n = n.parentNode) {
      for (const fn of n.listeners?.get(type) ?? []) fn(ev);
    }
    for (const fn of this.ownerDocument.listeners?.get(type) ?? []) if (!stopped) fn(ev);
    return ev;
  }
  matches(sel) {
    return sel.split(',').map((x) => x.trim()).some((one) => {
      if (one.startsWith('#')) return this.id === one.slice(1);
      const m = /^([a-z0-9]*)((?:\.[\w-]+)*)$/i.exec(one);
      if (!m) throw new Error(`unsupported selector ${one}`);
      const tag = m[1].toUpperCase();
      return (!tag || this.tagName === tag) && m[2].split('.').filter(Boolean).every((c) => this.classList.contains(c));
    });
  }
  contains(node) {
    for (let n = node; n; n = n.parentNode) if (n === this) return true;
    return false;
  }
  focus() { this.ownerDocument.activeElement = this; }
  select() {}
  setSelectionRange() {}
  closest(sel) {
    for (let n = this; n && n instanceof Element; n = n.parentNode) if (n.matches(sel)) return n;
    return null;
  }
}

class Fragment extends Node {
  constructor(doc) { super(doc); this.isFragment = true; }
}

export function createDocument() {
  const doc = {
    title: '',
    activeElement: null,
    createElement: (tag) => new Element(doc, tag),
    createTextNode: (t) => new Text(doc, t),
    createDocumentFragment: () => new Fragment(doc),
    addEventListener(type, fn) {
      (doc.listeners ??= new Map());
      if (!doc.listeners.has(type)) doc.listeners.set(type, []);
      doc.listeners.get(type).push(fn);
    },
  };
  doc.body = new Element(doc, 'body');
  doc.getElementById = (id) => doc.body.descendants().find((e) => e.id === id) ?? null;
  doc.querySelector = (sel) => doc.metas?.[sel] ?? null;
  return doc;
}

/**
 * A document with one element per id="" found in an HTML file, all direct
 * children of body, plus nested structure for forms (enough for app.js).
 */
export function documentFromHtml(html) {
  const doc = createDocument();
  const re = /<([a-z0-9]+)\b([^>]*)\bid="([^"]+)"([^>]*)>/gi;
  let m;
  while ((m = re.exec(html)) !== null) {
    const e = doc.createElement(m[1]);
    e.id = m[3];
    const attrs = m[2] + m[4];
    if (/\bhidden\b/.test(attrs)) e.hidden = true;
    e.value = '';
    e.scrollTop = 0;
    e.scrollHeight = 0;
    e.clientHeight = 0;
    doc.body.appendChild(e);
  }
  const meta = /<meta name="confab-ws-path" content="([^"]*)"/.exec(html);
  doc.metas = { 'meta[name="confab-ws-path"]': { getAttribute: () => (meta ? meta[1] : null) } };
  const title = /<title>([^<]*)<\/title>/.exec(html);
  doc.title = title ? title[1] : '';
  return doc;
}

/** web/index.html as a fake document, for tests that load web/app.js. */
export function pageDocument() {
  return documentFromHtml(readFileSync(new URL('../../web/index.html', import.meta.url), 'utf8'));
}

/** sessionStorage / localStorage in memory. */
export class MemStorage {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}
